/* The REST front: its route tables, in the order they are matched. */
#include "gateway/rest/rest.h"

static const struct gw_route *const rest_tables[] = {
    gw_routes_health,
    gw_routes_accounts,
    gw_routes_certs,
    gw_routes_vaults,
    gw_routes_events,
    gw_routes_console,
    gw_routes_pki,
    gw_routes_admins,
    NULL,
};

const struct gw_front gw_front_rest = {
    .name = "rest",
    .prefix = NULL,
    .tables = rest_tables,
    .reply_error = NULL,
};
