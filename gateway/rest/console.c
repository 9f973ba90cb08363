/* The admin console: static files embedded at build time (web/, see
 * gateway/console_assets.h). Public routes: the page holds no secrets; its
 * API calls carry the administrator's Basic credentials. */
#include "gateway/gw.h"

#include <stdio.h>
#include <string.h>

#include "gateway/console_assets.h"

/* Everything from this origin only (scripts, styles, images, API calls), no
 * inline code, no plug-ins, no framing, no form posts elsewhere. */
#define CONSOLE_CSP \
	"default-src 'self'; object-src 'none'; base-uri 'none'; " \
	"form-action 'none'; frame-ancestors 'none'"

static const struct gw_console_asset *
asset_find(const char *name)
{
	for (const struct gw_console_asset *a = gw_console_assets; a->name != NULL; a++)
		if (strcmp(a->name, name) == 0)
			return (a);
	return (NULL);
}

static mgr_err
reply_asset(struct gw_req *r, const char *name)
{
	const struct gw_console_asset *a = asset_find(name);
	struct MHD_Response *resp;

	if (a == NULL)
		return (gw_fail(r, MGR_ENOTFOUND, "no such console file"));
	resp = MHD_create_response_from_buffer(a->len, (void *)a->data,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return (MGR_ENOMEM);
	MHD_add_response_header(resp, "Content-Type", a->content_type);
	MHD_add_response_header(resp, "Content-Security-Policy", CONSOLE_CSP);
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	/* The S3 listener's port, for the vault pages and the hand-over
	 * bundle (the host is the one the browser reached). */
	if (gw.cfg.s3_port != 0) {
		char port[16];

		snprintf(port, sizeof(port), "%d", gw.cfg.s3_port);
		MHD_add_response_header(resp, "X-Manager-S3-Port", port);
	}
	return (gw_reply_response(r, 200, resp));
}

static mgr_err
h_index(struct gw_req *r)
{
	return (reply_asset(r, "index.html"));
}

static mgr_err
h_file(struct gw_req *r)
{
	return (reply_asset(r, r->params[0]));
}

const struct gw_route gw_routes_console[] = {
    {"GET", "/", GW_AUTH_PUBLIC, GW_BODY_NONE, h_index, NULL, NULL, NULL},
    {"GET", "/console/{}", GW_AUTH_PUBLIC, GW_BODY_NONE, h_file, NULL, NULL, NULL},
    {NULL},
};
