/* Prometheus text for /metrics: requests by route and status, a latency
 * histogram, RPC errors by method and code. */
#include "gateway/gw.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MET_ROUTES_MAX 128
#define MET_STATUS_MAX 24
#define MET_RPC_MAX 64

static const double met_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define MET_NBUCKETS (sizeof(met_buckets) / sizeof(met_buckets[0]))

struct met_route {
	const char *route;
	const char *method;
	int status[MET_STATUS_MAX];
	unsigned long long count[MET_STATUS_MAX];
	int nstatus;
};

static pthread_mutex_t met_lock = PTHREAD_MUTEX_INITIALIZER;
static struct met_route met_routes[MET_ROUTES_MAX];
static int met_nroutes;
static unsigned long long met_hist[MET_NBUCKETS + 1];
static double met_sum;
static unsigned long long met_total;
static struct {
	char method[48];
	mgr_err err;
	unsigned long long count;
} met_rpc[MET_RPC_MAX];
static int met_nrpc;

void
gw_metrics_request(int route_index, const char *route, int status,
    int64_t elapsed_us)
{
	double s = (double)elapsed_us / 1e6;
	struct met_route *m = NULL;
	size_t b;

	(void)route_index;
	pthread_mutex_lock(&met_lock);
	for (int i = 0; i < met_nroutes; i++)
		if (strcmp(met_routes[i].route, route) == 0) {
			m = &met_routes[i];
			break;
		}
	if (m == NULL && met_nroutes < MET_ROUTES_MAX) {
		m = &met_routes[met_nroutes++];
		m->route = route; /* route patterns are static strings */
	}
	if (m != NULL) {
		int i;

		for (i = 0; i < m->nstatus && m->status[i] != status; i++)
			;
		if (i == m->nstatus && m->nstatus < MET_STATUS_MAX)
			m->status[m->nstatus++] = status;
		if (i < MET_STATUS_MAX)
			m->count[i]++;
	}
	for (b = 0; b < MET_NBUCKETS && s > met_buckets[b]; b++)
		;
	met_hist[b]++;
	met_sum += s;
	met_total++;
	pthread_mutex_unlock(&met_lock);
}

void
gw_metrics_rpc_error(const char *method, mgr_err e)
{
	int i;

	pthread_mutex_lock(&met_lock);
	for (i = 0; i < met_nrpc; i++)
		if (met_rpc[i].err == e && strcmp(met_rpc[i].method, method) == 0)
			break;
	if (i == met_nrpc && met_nrpc < MET_RPC_MAX) {
		snprintf(met_rpc[i].method, sizeof(met_rpc[i].method), "%s", method);
		met_rpc[i].err = e;
		met_nrpc++;
	}
	if (i < MET_RPC_MAX)
		met_rpc[i].count++;
	pthread_mutex_unlock(&met_lock);
}

char *
gw_metrics_render(void)
{
	struct mgr_buf b;
	unsigned long long cum = 0;

	mgr_buf_init(&b, 1u << 20);
	pthread_mutex_lock(&met_lock);
	mgr_buf_printf(&b, "# HELP manager_http_requests_total HTTP requests by route and status.\n"
	                   "# TYPE manager_http_requests_total counter\n");
	for (int i = 0; i < met_nroutes; i++)
		for (int j = 0; j < met_routes[i].nstatus; j++)
			mgr_buf_printf(&b,
			    "manager_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
			    met_routes[i].route, met_routes[i].status[j],
			    met_routes[i].count[j]);
	mgr_buf_printf(&b, "# HELP manager_http_request_duration_seconds Request latency.\n"
	                   "# TYPE manager_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < MET_NBUCKETS; i++) {
		cum += met_hist[i];
		mgr_buf_printf(&b,
		    "manager_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
		    met_buckets[i], cum);
	}
	cum += met_hist[MET_NBUCKETS];
	mgr_buf_printf(&b,
	    "manager_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "manager_http_request_duration_seconds_sum %.6f\n"
	    "manager_http_request_duration_seconds_count %llu\n",
	    cum, met_sum, met_total);
	mgr_buf_printf(&b, "# HELP manager_rpc_errors_total Failed RPCs to the services.\n"
	                   "# TYPE manager_rpc_errors_total counter\n");
	for (int i = 0; i < met_nrpc; i++)
		mgr_buf_printf(&b, "manager_rpc_errors_total{method=\"%s\",code=\"%s\"} %llu\n",
		    met_rpc[i].method, mgr_err_code(met_rpc[i].err), met_rpc[i].count);
	pthread_mutex_unlock(&met_lock);
	return (mgr_buf_take(&b, NULL));
}
