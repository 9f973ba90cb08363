#include "common/svc.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cmdline.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/metrics.h"

static volatile int svc_stopping;

static void
on_signal(int sig)
{
	(void)sig;
	svc_stopping = 1;
}

void
svc_sleep(volatile int *stop, int ms)
{
	while (ms > 0 && !*stop) {
		int step = ms < 100 ? ms : 100;
		struct timespec ts = {0, (long)step * 1000000L};

		nanosleep(&ts, NULL);
		ms -= step;
	}
}

struct bg_args {
	const struct svc_def *def;
	void *state;
};

static void *
bg_main(void *arg)
{
	struct bg_args *a = arg;

	a->def->background(a->state, &svc_stopping);
	kv_thread_done();
	return (NULL);
}

int
svc_main(const struct svc_def *def, int argc, char **argv)
{
	struct mgr_config cfg;
	struct rpc_server *srv = NULL;
	struct sigaction sa;
	struct bg_args bga;
	pthread_t bg;
	int have_bg = 0;
	void *state = NULL;
	char listen[1024];
	const char *addrs, *env;
	char prog[32];
	int rc;

	snprintf(prog, sizeof(prog), "mgr-%s", def->name);
	if ((rc = mgr_cmdline(argc, argv, prog, def->summary)) >= 0)
		return (rc);
	mgr_log_init(def->name, MGR_LOG_INFO);
	if (mgr_config_load(&cfg) != MGR_OK)
		return (2);
	if (kv_init(cfg.redis_url) != MGR_OK)
		return (2);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	addrs = strcmp(def->name, "account") == 0 ? cfg.account_addr
	    : strcmp(def->name, "ca") == 0        ? cfg.ca_addr
	                                          : cfg.vault_addr;
	env = getenv("MANAGER_LISTEN_ADDR");
	snprintf(listen, sizeof(listen), "%s", env != NULL && *env ? env : addrs);
	listen[strcspn(listen, ", ")] = '\0';

	if (def->start != NULL) {
		mgr_err rv;
		int wait_ms = 500;

		/* Redis down or refusing the password at start: wait for it
		 * (back-off up to 10 s) rather than exit; any other refusal
		 * (a missing key, a bad directory) ends the process. */
		while ((rv = def->start(&cfg, &state)) == MGR_EUNAVAIL && !svc_stopping) {
			if (wait_ms == 500)
				log_warn(NULL,
				    "%s: Redis unreachable at start; "
				    "retrying",
				    def->name);
			svc_sleep(&svc_stopping, wait_ms);
			if (wait_ms < 10000)
				wait_ms *= 2;
		}
		if (rv != MGR_OK) {
			log_error(NULL, "%s: start failed", def->name);
			return (1);
		}
	}
	snprintf(prog, sizeof(prog), "service=\"%s\"", def->name);
	rpc_set_metrics_labels(prog);
	if (def->metrics != NULL)
		mgr_metrics_set_domain(def->metrics, state);
	if (rpc_server_create(&srv, listen, def->methods, state, cfg.rpc_workers) !=
	    MGR_OK) {
		if (def->stop != NULL)
			def->stop(state);
		return (1);
	}
	if (def->background != NULL) {
		bga.def = def;
		bga.state = state;
		have_bg = pthread_create(&bg, NULL, bg_main, &bga) == 0;
	}
	log_info(NULL, "%s service listening on %s", def->name, listen);
	while (!svc_stopping)
		svc_sleep(&svc_stopping, 1000);
	log_info(NULL, "%s service stopping", def->name);
	rpc_server_destroy(srv);
	if (have_bg)
		pthread_join(bg, NULL);
	if (def->stop != NULL)
		def->stop(state);
	return (0);
}
