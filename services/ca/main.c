/* ca-svc: wires config, the CA and the RPC handlers together. */
#include "common/log.h"
#include "common/svc.h"
#include "services/ca/dnmigrate.h"
#include "services/ca/handlers.h"
#include "services/ca/metrics.h"

static mgr_err
ca_start(const struct mgr_config *cfg, void **state)
{
	mgr_err rv;

	if ((rv = ca_open(cfg, (struct ca_state **)state)) != MGR_OK)
		return (rv);
	/* Usually done here, before the service answers; with Redis
	 * unreachable the background thread retries it. */
	if (ca_dn_migrate() == MGR_OK)
		ca_dn_set_ready();
	return (MGR_OK);
}

/* The background thread: first the DN registry migration, retried while
 * Redis is unreachable (with a back-off up to 5 s), then the expiry
 * scanner. */
static void
ca_background(void *state, volatile int *stop)
{
	mgr_err rv, last = MGR_OK;
	int wait_ms = 500;

	while (!*stop && !ca_dn_ready() && (rv = ca_dn_migrate()) != MGR_OK) {
		if (rv != last)
			log_warn(NULL,
			    "Subject DN registry check failed: %s; "
			    "registration, renewal, rotation and devices wait for it "
			    "(retrying)",
			    mgr_strerror(rv));
		last = rv;
		svc_sleep(stop, wait_ms);
		if (wait_ms < 5000)
			wait_ms *= 2;
	}
	if (*stop)
		return;
	if (!ca_dn_ready()) {
		log_info(NULL, "Subject DN registry ready");
		ca_dn_set_ready();
	}
	ca_expiry_loop(state, stop);
}

static void
ca_stop(void *state)
{
	ca_close(state);
}

int
main(int argc, char **argv)
{
	static const struct svc_def def = {
	    .name = "ca",
	    .summary = "The certificate authority service of the Manager: "
	               "issues, renews and revokes certificates, over nng RPC.",
	    .methods = ca_methods,
	    .start = ca_start,
	    .background = ca_background,
	    .stop = ca_stop,
	    .metrics = ca_metrics,
	};

	return (svc_main(&def, argc, argv));
}
