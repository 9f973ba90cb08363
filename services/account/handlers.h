/* account-svc RPC handlers. */
#ifndef MGR_ACCOUNT_HANDLERS_H
#define MGR_ACCOUNT_HANDLERS_H

#include "common/rpc.h"

extern const struct rpc_method account_methods[];

#endif
