/* vault-svc RPC handlers. */
#ifndef MGR_VAULT_HANDLERS_H
#define MGR_VAULT_HANDLERS_H

#include "common/rpc.h"

extern const struct rpc_method vault_methods[];

#endif
