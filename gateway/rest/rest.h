/* The REST front (API.md's /api/v1 and the probes, the console, /pki/):
 * one route table per file, served by the core's request handler. */
#ifndef MGR_GATEWAY_REST_REST_H
#define MGR_GATEWAY_REST_REST_H

#include "gateway/gw.h"

extern const struct gw_route gw_routes_health[];
extern const struct gw_route gw_routes_accounts[];
extern const struct gw_route gw_routes_certs[];
extern const struct gw_route gw_routes_vaults[];
extern const struct gw_route gw_routes_events[];
extern const struct gw_route gw_routes_console[];
extern const struct gw_route gw_routes_pki[];
extern const struct gw_route gw_routes_admins[];

/* Every path no other front of the listener owns. */
extern const struct gw_front gw_front_rest;

#endif
