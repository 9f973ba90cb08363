/* ca-svc RPC handlers; each takes the struct ca_state as arg. */
#ifndef MGR_CA_HANDLERS_H
#define MGR_CA_HANDLERS_H

#include "common/rpc.h"
#include "services/ca/ca.h"

extern const struct rpc_method ca_methods[];

mgr_err ca_h_get_ca(struct rpc_call *call, void *arg);
mgr_err ca_h_server_cert(struct rpc_call *call, void *arg);
mgr_err ca_h_auth_cert(struct rpc_call *call, void *arg);
mgr_err ca_h_register(struct rpc_call *call, void *arg);
mgr_err ca_h_renew(struct rpc_call *call, void *arg);
mgr_err ca_h_rotate(struct rpc_call *call, void *arg);
mgr_err ca_h_list_certs(struct rpc_call *call, void *arg);
mgr_err ca_h_crl(struct rpc_call *call, void *arg);
mgr_err ca_h_ocsp(struct rpc_call *call, void *arg);
mgr_err ca_h_create_device(struct rpc_call *call, void *arg);
mgr_err ca_h_list_devices(struct rpc_call *call, void *arg);
mgr_err ca_h_revoke_device(struct rpc_call *call, void *arg);
mgr_err ca_h_delete_device(struct rpc_call *call, void *arg);

/* expiry.c: the expiry scanner, run on its own thread until *stop. */
void ca_expiry_loop(void *state, volatile int *stop);

#endif
