/* What common/rpc_server.c, rpc_client.c and rpc_tls.c share; not for use
 * outside common/. */
#ifndef MGR_COMMON_RPC_INT_H
#define MGR_COMMON_RPC_INT_H

#include <nng/nng.h>

#include "common/err.h"

/* An nng error as ours. */
mgr_err rpc_nng_err(int rv);

/* rpc_tls.c: the transports a service address may use (ipc://,
 * inproc://, tls+tcp://; plain ones only with
 * MANAGER_RPC_ALLOW_PLAINTEXT=1), and tls+tcp:// with the internal
 * identity (MANAGER_INTERNAL_TLS_*): mutual TLS, the server's certificate
 * checked against the internal CA and the URL's host. nng errors. */
int rpc_listen_url(nng_socket sock, const char *url);
int rpc_dial_url(nng_socket sock, const char *url);

#endif
