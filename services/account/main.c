/* account-svc: wires config and the RPC handlers together. */
#include "common/svc.h"
#include "services/account/handlers.h"

int
main(void)
{
	static const struct svc_def def = {
		.name = "account",
		.methods = account_methods,
		.start = account_start,
		.stop = account_stop,
	};

	return (svc_main(&def));
}
