/* Per-TLS-connection state: the client certificate, chain-checked once. */
#ifndef MGR_GATEWAY_CONN_H
#define MGR_GATEWAY_CONN_H

#include <stdint.h>
#include <microhttpd.h>

struct gw_conn {
	int checked;           /* the chain was looked at */
	int ok;                /* it chains to the Manager CA for clientAuth */
	char serial[64];
	char fingerprint[65];  /* hex SHA-256 of the DER */
	int64_t not_before;
	int64_t not_after;
};

/* The connection's state (set up by the daemon's connection callback). */
struct gw_conn *gw_conn_of(struct MHD_Connection *c);
void gw_conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe);

#endif
