/* This process's own metrics (common/metrics.h). */
#include "common/metrics.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/kv.h"

const double mgr_metrics_buckets[MGR_METRICS_NBUCKETS] = {0.001, 0.0025, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

/* Codes a method's count is split by: mgr_err values are small. */
#define MET_CODES 32

struct met_method {
	const char *name;
	unsigned long long code[MET_CODES];
	unsigned long long hist[MGR_METRICS_NBUCKETS + 1];
	double sum;
	unsigned long long count;
};

static pthread_mutex_t met_lock = PTHREAD_MUTEX_INITIALIZER;
static struct met_method met_methods[MGR_METRICS_METHODS_MAX + 1];
static int met_nmethods;
static mgr_metrics_domain_fn met_domain;
static void *met_domain_state;

void
mgr_metrics_rpc(const char *method, mgr_err rv, int64_t elapsed_us)
{
	double s = (double)elapsed_us / 1e6;
	struct met_method *m = NULL;
	size_t b;
	int i;

	if (method == NULL)
		method = "other";
	pthread_mutex_lock(&met_lock);
	for (i = 0; i < met_nmethods; i++)
		if (strcmp(met_methods[i].name, method) == 0)
			break;
	if (i == met_nmethods) {
		if (met_nmethods < MGR_METRICS_METHODS_MAX)
			met_methods[met_nmethods++].name = method;
		else
			i = MGR_METRICS_METHODS_MAX; /* the "other" slot */
	}
	m = &met_methods[i];
	if (m->name == NULL)
		m->name = "other";
	m->code[(unsigned)rv < MET_CODES ? (unsigned)rv : MET_CODES - 1]++;
	for (b = 0; b < MGR_METRICS_NBUCKETS && s > mgr_metrics_buckets[b]; b++)
		;
	m->hist[b]++;
	m->sum += s;
	m->count++;
	pthread_mutex_unlock(&met_lock);
}

void
mgr_metrics_set_domain(mgr_metrics_domain_fn fn, void *state)
{
	pthread_mutex_lock(&met_lock);
	met_domain = fn;
	met_domain_state = state;
	pthread_mutex_unlock(&met_lock);
}

void
mgr_metrics_family(struct mgr_buf *b, const char *name, const char *type,
    const char *help)
{
	mgr_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
render_rpc(struct mgr_buf *b, const char *labels)
{
	mgr_metrics_family(b, "manager_rpc_server_requests_total", "counter",
	    "RPCs this process served, by method and result code.");
	for (int i = 0; i <= MGR_METRICS_METHODS_MAX; i++) {
		const struct met_method *m = &met_methods[i];

		if (m->name == NULL)
			continue;
		for (int c = 0; c < MET_CODES; c++)
			if (m->code[c] != 0)
				mgr_buf_printf(b,
				    "manager_rpc_server_requests_total{%s,method=\"%s\","
				    "code=\"%s\"} %llu\n",
				    labels, m->name, mgr_err_code((mgr_err)c),
				    m->code[c]);
	}
	mgr_metrics_family(b, "manager_rpc_server_duration_seconds", "histogram",
	    "Time this process took to serve an RPC, by method.");
	for (int i = 0; i <= MGR_METRICS_METHODS_MAX; i++) {
		const struct met_method *m = &met_methods[i];
		unsigned long long cum = 0;

		if (m->name == NULL)
			continue;
		for (size_t k = 0; k < MGR_METRICS_NBUCKETS; k++) {
			cum += m->hist[k];
			mgr_buf_printf(b,
			    "manager_rpc_server_duration_seconds_bucket{%s,method=\"%s\","
			    "le=\"%g\"} %llu\n",
			    labels, m->name, mgr_metrics_buckets[k], cum);
		}
		cum += m->hist[MGR_METRICS_NBUCKETS];
		mgr_buf_printf(b,
		    "manager_rpc_server_duration_seconds_bucket{%s,method=\"%s\","
		    "le=\"+Inf\"} %llu\n"
		    "manager_rpc_server_duration_seconds_sum{%s,method=\"%s\"} %.6f\n"
		    "manager_rpc_server_duration_seconds_count{%s,method=\"%s\"} %llu\n",
		    labels, m->name, cum, labels, m->name, m->sum, labels, m->name,
		    m->count);
	}
}

/* utime, stime and starttime (fields 14, 15, 22, in clock ticks) of
 * /proc/self/stat, counted after the command's closing parenthesis. */
static int
proc_stat_fields(unsigned long long *utime, unsigned long long *stime,
    unsigned long long *start)
{
	char line[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	int n = 0;

	if (f == NULL)
		return (-1);
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (p == NULL || (p = strrchr(line, ')')) == NULL)
		return (-1);
	/* After ")": field 3 (state) onwards; utime 14, stime 15, start 22. */
	for (int field = 3; field <= 22 && p != NULL; field++) {
		p = strchr(p + 1, ' ');
		if (p == NULL)
			break;
		if (field == 14)
			n += sscanf(p + 1, "%llu", utime);
		else if (field == 15)
			n += sscanf(p + 1, "%llu", stime);
		else if (field == 22)
			n += sscanf(p + 1, "%llu", start);
	}
	return (n == 3 ? 0 : -1);
}

static long long
proc_boot_time(void)
{
	char line[256];
	long long btime = -1;
	FILE *f = fopen("/proc/stat", "r");

	if (f == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %lld", &btime) == 1)
			break;
	fclose(f);
	return (btime);
}

static long long
proc_status_kb(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, n) == 0 && line[n] == ':') {
			if (sscanf(line + n + 1, "%lld", &kb) != 1)
				kb = -1;
			break;
		}
	fclose(f);
	return (kb);
}

static long
proc_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return (-1);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return (n - 1); /* the directory's own descriptor */
}

static void
render_process(struct mgr_buf *b, const char *labels)
{
	unsigned long long ut = 0, st = 0, start = 0;
	long tck = sysconf(_SC_CLK_TCK);
	long long rss = proc_status_kb("VmRSS"), hwm = proc_status_kb("VmHWM");
	long long vsz = proc_status_kb("VmSize"), btime = proc_boot_time();
	long fds = proc_open_fds(), maxfds = sysconf(_SC_OPEN_MAX);
	int have_stat = proc_stat_fields(&ut, &st, &start) == 0 && tck > 0;

	if (have_stat) {
		mgr_metrics_family(b, "process_cpu_seconds_total", "counter",
		    "User and system CPU time spent, in seconds.");
		mgr_buf_printf(b, "process_cpu_seconds_total{%s} %.2f\n", labels,
		    (double)(ut + st) / (double)tck);
	}
	if (rss >= 0) {
		mgr_metrics_family(b, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.");
		mgr_buf_printf(b, "process_resident_memory_bytes{%s} %lld\n", labels,
		    rss * 1024);
	}
	if (hwm >= 0) {
		mgr_metrics_family(b, "process_resident_memory_max_bytes", "gauge",
		    "Peak resident memory size in bytes since the start.");
		mgr_buf_printf(b, "process_resident_memory_max_bytes{%s} %lld\n", labels,
		    hwm * 1024);
	}
	if (vsz >= 0) {
		mgr_metrics_family(b, "process_virtual_memory_bytes", "gauge",
		    "Virtual memory size in bytes.");
		mgr_buf_printf(b, "process_virtual_memory_bytes{%s} %lld\n", labels,
		    vsz * 1024);
	}
	if (fds >= 0) {
		mgr_metrics_family(b, "process_open_fds", "gauge",
		    "Open file descriptors.");
		mgr_buf_printf(b, "process_open_fds{%s} %ld\n", labels, fds);
	}
	if (maxfds > 0) {
		mgr_metrics_family(b, "process_max_fds", "gauge",
		    "The open file descriptors limit.");
		mgr_buf_printf(b, "process_max_fds{%s} %ld\n", labels, maxfds);
	}
	if (have_stat && btime > 0) {
		mgr_metrics_family(b, "process_start_time_seconds", "gauge",
		    "Start time of the process since the Unix epoch, in seconds.");
		mgr_buf_printf(b, "process_start_time_seconds{%s} %.2f\n", labels,
		    (double)btime + (double)start / (double)tck);
	}
}

void
mgr_metrics_render(struct mgr_buf *b, const char *labels)
{
	struct kv_error_counts ke;
	mgr_metrics_domain_fn fn;
	void *state;

	pthread_mutex_lock(&met_lock);
	if (met_nmethods > 0)
		render_rpc(b, labels);
	fn = met_domain;
	state = met_domain_state;
	pthread_mutex_unlock(&met_lock);
	kv_errors(&ke);
	mgr_metrics_family(b, "manager_redis_errors_total", "counter",
	    "Redis commands that failed in this process: kind=\"io\" a broken or "
	    "refused connection, kind=\"reply\" an error reply that is not a "
	    "refusal of the Manager's own scripts.");
	mgr_buf_printf(b,
	    "manager_redis_errors_total{%s,kind=\"io\"} %llu\n"
	    "manager_redis_errors_total{%s,kind=\"reply\"} %llu\n",
	    labels, ke.io, labels, ke.reply);
	render_process(b, labels);
	if (fn != NULL)
		fn(state, b, labels);
}
