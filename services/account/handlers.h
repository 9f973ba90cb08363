/* account-svc RPC handlers. */
#ifndef MGR_ACCOUNT_HANDLERS_H
#define MGR_ACCOUNT_HANDLERS_H

#include "common/config.h"
#include "common/rpc.h"

extern const struct rpc_method account_methods[];

/* Start (admin bootstrap) and stop hooks for svc_def. */
mgr_err account_start(const struct mgr_config *cfg, void **state);
void account_stop(void *state);

#endif
