#ifndef MGR_GATEWAY_TLS_H
#define MGR_GATEWAY_TLS_H

#include "gateway/gw.h"

/* Fetches the Manager CA certificate from ca-svc (waiting up to wait_s) into
 * gw.ca_pem, gw.ca_cert and gw.trust. */
mgr_err gw_tls_fetch_ca(int wait_s);
/* A fresh key and a serverAuth certificate for localhost, 127.0.0.1, ::1,
 * MANAGER_BIND and MANAGER_TLS_SANS. Caller frees both PEMs (the key is
 * cleansed by the caller after the daemon has loaded it). */
mgr_err gw_tls_server_identity(char **cert_pem, char **key_pem);

#endif
