#include "gateway/gw.h"

const struct gw_route gw_routes_certs[] = {
	{NULL},
};
