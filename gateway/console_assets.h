/* The admin console's static files (web/), embedded at build time by
 * web/embed.cmake into a generated C file in the build tree. */
#ifndef MGR_GATEWAY_CONSOLE_ASSETS_H
#define MGR_GATEWAY_CONSOLE_ASSETS_H

#include <stddef.h>

struct gw_console_asset {
	const char *name; /* file name, e.g. "app.js" */
	const char *content_type;
	const unsigned char *data;
	size_t len;
};

/* Ends with an entry whose name is NULL. */
extern const struct gw_console_asset gw_console_assets[];

#endif
