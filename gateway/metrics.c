/* Prometheus text for /metrics: the gateway's requests by route and status,
 * a latency histogram, RPC errors by method and code, its own process and
 * Redis metrics (common/metrics.h), and those of every replica of every
 * service, asked for with the built-in "metrics" RPC at each scrape and
 * labelled replica="<its address>" (the service puts service="..."). The
 * texts are merged family by family: the exposition format wants each
 * family's samples together, under one HELP and TYPE. */
#include "gateway/gw.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/metrics.h"

#define MET_ROUTES_MAX 128
#define MET_STATUS_MAX 24
#define MET_RPC_MAX 64

static const double met_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    0.5, 1, 2.5, 5, 10};
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
gw_metrics_request(int route_index, const char *route, int status, int64_t elapsed_us)
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

static void
render_gateway(struct mgr_buf *b)
{
	unsigned long long cum = 0;

	pthread_mutex_lock(&met_lock);
	mgr_buf_printf(b,
	    "# HELP manager_http_requests_total HTTP requests by route and status.\n"
	    "# TYPE manager_http_requests_total counter\n");
	for (int i = 0; i < met_nroutes; i++)
		for (int j = 0; j < met_routes[i].nstatus; j++)
			mgr_buf_printf(b,
			    "manager_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
			    met_routes[i].route, met_routes[i].status[j],
			    met_routes[i].count[j]);
	mgr_buf_printf(b,
	    "# HELP manager_http_request_duration_seconds Request latency.\n"
	    "# TYPE manager_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < MET_NBUCKETS; i++) {
		cum += met_hist[i];
		mgr_buf_printf(b,
		    "manager_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
		    met_buckets[i], cum);
	}
	cum += met_hist[MET_NBUCKETS];
	mgr_buf_printf(b,
	    "manager_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "manager_http_request_duration_seconds_sum %.6f\n"
	    "manager_http_request_duration_seconds_count %llu\n",
	    cum, met_sum, met_total);
	mgr_buf_printf(b,
	    "# HELP manager_rpc_errors_total Failed RPCs to the services.\n"
	    "# TYPE manager_rpc_errors_total counter\n");
	for (int i = 0; i < met_nrpc; i++)
		mgr_buf_printf(b,
		    "manager_rpc_errors_total{method=\"%s\",code=\"%s\"} %llu\n",
		    met_rpc[i].method, mgr_err_code(met_rpc[i].err), met_rpc[i].count);
	pthread_mutex_unlock(&met_lock);
	mgr_metrics_render(b, "service=\"gateway\"");
}

/* Every replica of every service, each with a client of its own: the
 * service's shared client spreads calls over replicas, and a scrape must
 * reach each one. */
#define MET_REPLICAS_MAX 32
#define MET_SCRAPE_MS 3000

static struct met_replica {
	const char *service;
	char addr[256];
	struct rpc_client *client;
} met_replicas[MET_REPLICAS_MAX];
static int met_nreplicas;

mgr_err
gw_metrics_start(void)
{
	const struct {
		const char *name, *addrs;
	} svcs[] = {{"account", gw.cfg.account_addr}, {"ca", gw.cfg.ca_addr},
	    {"vault", gw.cfg.vault_addr}};

	for (size_t i = 0; i < sizeof(svcs) / sizeof(svcs[0]); i++) {
		const char *p = svcs[i].addrs;

		while (*p != '\0') {
			size_t n = strcspn(p, ", ");
			struct met_replica *r;

			if (n > 0 && met_nreplicas < MET_REPLICAS_MAX &&
			    n < sizeof(r->addr)) {
				r = &met_replicas[met_nreplicas];
				memcpy(r->addr, p, n);
				r->addr[n] = '\0';
				r->service = svcs[i].name;
				if (rpc_client_create(&r->client, r->addr) != MGR_OK)
					return (MGR_EINVAL);
				met_nreplicas++;
			}
			p += n;
			p += strspn(p, ", ");
		}
	}
	return (MGR_OK);
}

void
gw_metrics_stop(void)
{
	for (int i = 0; i < met_nreplicas; i++)
		rpc_client_destroy(met_replicas[i].client);
	met_nreplicas = 0;
}

/* The merge: families in the order first seen, each with its HELP and TYPE
 * lines from the first text that has them and every text's samples. */
#define MET_FAMILIES_MAX 192

struct met_family {
	char name[128];
	char help[512], type[160];
	struct mgr_buf samples;
};

struct met_merge {
	struct met_family *f;
	int n;
};

static struct met_family *
merge_family(struct met_merge *m, const char *name, size_t len)
{
	struct met_family *f;

	if (len == 0 || len >= sizeof(m->f[0].name))
		return (NULL);
	for (int i = 0; i < m->n; i++)
		if (strlen(m->f[i].name) == len && memcmp(m->f[i].name, name, len) == 0)
			return (&m->f[i]);
	if (m->n == MET_FAMILIES_MAX)
		return (NULL);
	f = &m->f[m->n++];
	memcpy(f->name, name, len);
	f->name[len] = '\0';
	mgr_buf_init(&f->samples, 4u << 20);
	return (f);
}

/* Adds text; extra: a label put first in every sample ("" for none). */
static void
merge_text(struct met_merge *m, const char *text, size_t len, const char *extra)
{
	const char *p = text, *end = text + len;
	struct met_family *cur = NULL;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > 7 &&
		    (strncmp(p, "# HELP ", 7) == 0 || strncmp(p, "# TYPE ", 7) == 0)) {
			const char *name = p + 7;
			size_t nlen = strcspn(name, " \n");
			int help = p[2] == 'H';

			if ((cur = merge_family(m, name, nlen)) != NULL) {
				char *dst = help ? cur->help : cur->type;
				size_t cap = help ? sizeof(cur->help) : sizeof(cur->type);

				if (dst[0] == '\0' && n < cap) {
					memcpy(dst, p, n);
					dst[n] = '\0';
				}
			}
		} else if (n > 0 && p[0] != '#' && cur != NULL) {
			const char *brace = memchr(p, '{', n);

			if (extra[0] != '\0' && brace != NULL)
				mgr_buf_printf(&cur->samples, "%.*s{%s,%.*s\n",
				    (int)(brace - p), p, extra,
				    (int)(n - (size_t)(brace - p) - 1), brace + 1);
			else
				mgr_buf_printf(&cur->samples, "%.*s\n", (int)n, p);
		}
		p += n + 1;
	}
}

char *
gw_metrics_render(void)
{
	struct rpc_pending *pend[MET_REPLICAS_MAX];
	struct met_merge m = {NULL, 0};
	struct mgr_buf b, own, up;
	char extra[320];

	mgr_buf_init(&b, 16u << 20);
	mgr_buf_init(&own, 4u << 20);
	mgr_buf_init(&up, 64u << 10);
	if ((m.f = calloc(MET_FAMILIES_MAX, sizeof(*m.f))) == NULL)
		goto out;
	/* Ask every replica at once, then read the answers. */
	for (int i = 0; i < met_nreplicas; i++) {
		Mgr__Caller me = MGR__CALLER__INIT;

		me.kind = MGR__CALLER__KIND__SERVICE;
		if (rpc_call_start(met_replicas[i].client, "metrics", NULL, &me, NULL,
		        MET_SCRAPE_MS, &pend[i]) != MGR_OK)
			pend[i] = NULL;
	}
	render_gateway(&own);
	if (own.data != NULL)
		merge_text(&m, own.data, own.len, "");
	mgr_buf_printf(&up,
	    "# HELP manager_service_up 1 when the replica answered this scrape's "
	    "metrics call, else 0.\n# TYPE manager_service_up gauge\n");
	for (int i = 0; i < met_nreplicas; i++) {
		Mgr__Metrics *r = NULL;
		mgr_err rv = MGR_EUNAVAIL;

		if (pend[i] != NULL)
			rv = rpc_call_wait(pend[i], &mgr__metrics__descriptor,
			    (ProtobufCMessage **)&r, NULL, 0);
		snprintf(extra, sizeof(extra), "replica=\"%s\"", met_replicas[i].addr);
		mgr_buf_printf(&up, "manager_service_up{service=\"%s\",%s} %d\n",
		    met_replicas[i].service, extra, rv == MGR_OK);
		if (rv == MGR_OK)
			merge_text(&m, (const char *)r->text.data, r->text.len, extra);
		if (r != NULL)
			protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	if (up.data != NULL)
		merge_text(&m, up.data, up.len, "");
	for (int i = 0; i < m.n; i++) {
		const struct met_family *f = &m.f[i];

		/* A family without samples yet (no RPC has failed) is still
		 * declared, so that dashboards and alerts find its name. */
		if (f->help[0] != '\0')
			mgr_buf_printf(&b, "%s\n", f->help);
		if (f->type[0] != '\0')
			mgr_buf_printf(&b, "%s\n", f->type);
		if (f->samples.len > 0)
			mgr_buf_add(&b, f->samples.data, f->samples.len);
	}
out:
	if (m.f != NULL)
		for (int i = 0; i < m.n; i++)
			mgr_buf_free(&m.f[i].samples);
	free(m.f);
	mgr_buf_free(&own);
	mgr_buf_free(&up);
	if (b.data == NULL)
		mgr_buf_printf(&b, "%s", "");
	return (mgr_buf_take(&b, NULL));
}
