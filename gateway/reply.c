/* Replies of the core, for every front: the first one queued wins, every one
 * carries X-Request-Id, and an error goes through the front's own writer
 * when it has one (struct gw_front), else API.md's JSON error body. */
#include "gateway/gw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The methods the routes use, in the order a 405's Allow header lists them. */
static const char *const gw_methods[] = {"GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"};

unsigned
gw_method_bit(const char *method)
{
	for (size_t i = 0; i < sizeof(gw_methods) / sizeof(gw_methods[0]); i++)
		if (strcmp(gw_methods[i], method) == 0)
			return (1u << i);
	return (0);
}

mgr_err
gw_fail(struct gw_req *r, mgr_err e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
	va_end(ap);
	return (e);
}

mgr_err
gw_reply_response(struct gw_req *r, int status, struct MHD_Response *resp)
{
	if (resp == NULL)
		return (MGR_ENOMEM);
	if (r->responded) {
		MHD_destroy_response(resp);
		return (MGR_OK);
	}
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	if (MHD_get_response_header(resp, "Cache-Control") == NULL)
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (MHD_queue_response(r->conn, (unsigned int)status, resp) != MHD_YES) {
		MHD_destroy_response(resp);
		return (MGR_EINTERNAL);
	}
	MHD_destroy_response(resp);
	r->responded = 1;
	r->status = status;
	return (MGR_OK);
}

/* gw_reply_response, noting the body's size for the access log. */
static mgr_err
reply_sized(struct gw_req *r, int status, struct MHD_Response *resp, int64_t len)
{
	int was = r->responded;
	mgr_err rv = gw_reply_response(r, status, resp);

	if (!was && r->responded)
		r->bytes = len;
	return (rv);
}

mgr_err
gw_reply_text(struct gw_req *r, int status, const char *content_type, const char *text)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_MUST_COPY);
	if (resp != NULL && content_type != NULL)
		MHD_add_response_header(resp, "Content-Type", content_type);
	return (reply_sized(r, status, resp, (int64_t)strlen(text)));
}

/* A JSON response of BODY (stolen), or NULL; *len its size. */
static struct MHD_Response *
json_response(json_t *body, int64_t *len)
{
	struct MHD_Response *resp;
	char *s;

	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (s == NULL)
		return (NULL);
	*len = (int64_t)strlen(s);
	resp = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(s);
		return (NULL);
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return (resp);
}

mgr_err
gw_reply_json(struct gw_req *r, int status, json_t *body)
{
	int64_t len = -1;
	struct MHD_Response *resp = json_response(body, &len);

	return (reply_sized(r, status, resp, len));
}

mgr_err
gw_reply_created(struct gw_req *r, json_t *body, const char *fmt, ...)
{
	int64_t len = -1;
	struct MHD_Response *resp = json_response(body, &len);
	char loc[GW_LOCATION_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(loc, sizeof(loc), fmt, ap);
	va_end(ap);
	if (resp != NULL && n > 0 && (size_t)n < sizeof(loc))
		MHD_add_response_header(resp, "Location", loc);
	return (reply_sized(r, 201, resp, len));
}

mgr_err
gw_reply_empty(struct gw_req *r, int status)
{
	return (reply_sized(r, status,
	    MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT), 0));
}

mgr_err
gw_reply_error(struct gw_req *r, mgr_err e, const char *msg)
{
	json_t *body;
	struct MHD_Response *resp;
	char *s;
	int status = mgr_err_http(e);
	int64_t len;

	if (r->responded)
		return (MGR_OK);
	if (r->front != NULL && r->front->reply_error != NULL)
		return (r->front->reply_error(r, e, msg));
	body = json_pack("{s:{s:s, s:s, s:s}}", "error", "code", mgr_err_code(e),
	    "message", msg != NULL && *msg != '\0' ? msg : mgr_strerror(e), "request_id",
	    r->request_id);
	if (body == NULL || (s = json_dumps(body, JSON_COMPACT)) == NULL) {
		json_decref(body);
		return (MGR_ENOMEM);
	}
	json_decref(body);
	len = (int64_t)strlen(s);
	resp = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(s);
		return (MGR_ENOMEM);
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	if (e == MGR_EUNAUTH)
		MHD_add_response_header(resp, "WWW-Authenticate",
		    "Basic realm=\"manager\", charset=\"UTF-8\"");
	if (e == MGR_ERATE)
		MHD_add_response_header(resp, "Retry-After", "60");
	if (e == MGR_EMETHOD && r->allow != 0) {
		char allow[64] = "";
		size_t len = 0;

		for (size_t i = 0; i < sizeof(gw_methods) / sizeof(gw_methods[0]); i++)
			if (r->allow & (1u << i))
				len += (size_t)snprintf(allow + len, sizeof(allow) - len,
				    "%s%s", len > 0 ? ", " : "", gw_methods[i]);
		MHD_add_response_header(resp, "Allow", allow);
	}
	return (reply_sized(r, status, resp, len));
}
