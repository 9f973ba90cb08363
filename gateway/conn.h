/* Per-TLS-connection state: the client certificate, chain-checked once, and
 * the watchdog that closes connections too slow to send a request header. */
#ifndef MGR_GATEWAY_CONN_H
#define MGR_GATEWAY_CONN_H

#include <stdint.h>
#include <microhttpd.h>

#include "common/err.h"

struct gw_conn {
	int checked; /* the chain was looked at */
	int ok;      /* it chains to the Manager CA for clientAuth */
	char serial[64];
	char fingerprint[65]; /* hex SHA-256 of the DER */
	int64_t not_before;
	int64_t not_after;
	/* Watchdog (conn.c), under its lock. */
	struct MHD_Connection *mhd;
	int64_t waiting_since_ms; /* start of the wait for the next request header */
	int busy;                 /* a request's header is in, until it completes */
	struct gw_conn *prev, *next;
};

/* The connection's state (set up by the daemon's connection callback). */
struct gw_conn *gw_conn_of(struct MHD_Connection *c);
void gw_conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe);

/* A request's header is in (busy 1) or the request is done (busy 0). */
void gw_conn_busy(struct MHD_Connection *c, int busy);

/* libmicrohttpd's connection timeout counts from the last byte received, so
 * a client that sends one header byte a second keeps a connection (and its
 * thread) for ever. The watchdog shuts down every connection that has waited
 * longer than timeout_s for a complete request header (TLS handshake
 * included); libmicrohttpd then closes it as usual. */
mgr_err gw_conn_watchdog_start(int timeout_s);
void gw_conn_watchdog_stop(void);

#endif
