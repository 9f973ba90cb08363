/* vault-svc: wires config and the RPC handlers together. */
#include "common/svc.h"
#include "services/vault/handlers.h"

int
main(void)
{
	static const struct svc_def def = {
		.name = "vault",
		.methods = vault_methods,
	};

	return (svc_main(&def));
}
