/* ca-svc: wires config, the CA and the RPC handlers together. */
#include "common/svc.h"
#include "services/ca/dnmigrate.h"
#include "services/ca/handlers.h"

static mgr_err
ca_start(const struct mgr_config *cfg, void **state)
{
	mgr_err rv;

	if ((rv = ca_open(cfg, (struct ca_state **)state)) != MGR_OK)
		return (rv);
	if ((rv = ca_dn_migrate()) != MGR_OK) {
		ca_close(*state);
		*state = NULL;
	}
	return (rv);
}

static void
ca_stop(void *state)
{
	ca_close(state);
}

int
main(void)
{
	static const struct svc_def def = {
		.name = "ca",
		.methods = ca_methods,
		.start = ca_start,
		.background = ca_expiry_loop,
		.stop = ca_stop,
	};

	return (svc_main(&def));
}
