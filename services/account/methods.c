#include "services/account/handlers.h"

const struct rpc_method account_methods[] = {
	{NULL, NULL},
};
