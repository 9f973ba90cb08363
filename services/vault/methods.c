#include "services/vault/handlers.h"

const struct rpc_method vault_methods[] = {
	{NULL, NULL},
};
