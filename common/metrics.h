/* What every Manager process counts about itself, in Prometheus text: the
 * RPCs it served (count by method and code, latency by method), Redis
 * errors, the process (CPU seconds, resident memory, open files, start
 * time), and its service's domain metrics through a hook. A service answers
 * the built-in "metrics" RPC with this text (rpc_server.c); the gateway
 * gathers every replica's into its /metrics (gateway/metrics.c). Every
 * sample carries the labels given to the render functions (service="ca"). */
#ifndef MGR_COMMON_METRICS_H
#define MGR_COMMON_METRICS_H

#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

/* Methods counted apart; any further one (and unknown names) counts as
 * method="other", so that the label stays bounded. */
#define MGR_METRICS_METHODS_MAX 96

/* Latency buckets (seconds) of every histogram. */
extern const double mgr_metrics_buckets[];
#define MGR_METRICS_NBUCKETS 13

/* Counts one served RPC. method: a name of the service's method table (a
 * static string) or NULL for an unknown one. */
void mgr_metrics_rpc(const char *method, mgr_err rv, int64_t elapsed_us);

/* The hook that appends a service's domain metrics (gauges read from Redis,
 * counters of its own) with labels; set once before serving. */
typedef void (*mgr_metrics_domain_fn)(void *state, struct mgr_buf *b, const char *labels);
void mgr_metrics_set_domain(mgr_metrics_domain_fn fn, void *state);

/* Appends "# HELP" and "# TYPE" of one family. */
void mgr_metrics_family(struct mgr_buf *b, const char *name, const char *type,
    const char *help);

/* This process's metrics (RPCs served, Redis errors, process, domain),
 * every sample with labels (e.g. `service="account"`). */
void mgr_metrics_render(struct mgr_buf *b, const char *labels);

#endif
