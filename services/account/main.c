/* account-svc: wires config and the RPC handlers together. */
#include "common/svc.h"
#include "services/account/handlers.h"
#include "services/account/metrics.h"

int
main(int argc, char **argv)
{
	static const struct svc_def def = {
	    .name = "account",
	    .summary = "The account service of the Manager: "
	               "accounts, administrators, passwords and sessions, over nng RPC.",
	    .methods = account_methods,
	    .start = account_start,
	    .stop = account_stop,
	    .metrics = account_metrics,
	};

	return (svc_main(&def, argc, argv));
}
