/* The run loop every service's main.c shares: config, logging, Redis, the
 * RPC server, and a clean stop on SIGINT/SIGTERM. */
#ifndef MGR_COMMON_SVC_H
#define MGR_COMMON_SVC_H

#include "common/buf.h"
#include "common/config.h"
#include "common/rpc.h"

struct svc_def {
	const char *name;    /* "account", "ca", "vault" */
	const char *summary; /* one line for --help */
	const struct rpc_method *methods;
	/* Called once after config and Redis are set up, before serving.
	 * *state is passed to every handler. */
	mgr_err (*start)(const struct mgr_config *cfg, void **state);
	/* Optional background loop run on its own thread until *stop is set. */
	void (*background)(void *state, volatile int *stop);
	void (*stop)(void *state);
	/* Optional: appends the service's domain metrics to what the
	 * "metrics" RPC answers (common/metrics.h). */
	void (*metrics)(void *state, struct mgr_buf *b, const char *labels);
};

/* Answers --version and --help (common/cmdline.h), then runs the service.
 * listen_addr: MANAGER_LISTEN_ADDR if set, else the first address of the
 * service's configured list. Returns the process exit code. */
int svc_main(const struct svc_def *def, int argc, char **argv);

/* Sleeps up to ms, waking early when *stop is set. */
void svc_sleep(volatile int *stop, int ms);

#endif
