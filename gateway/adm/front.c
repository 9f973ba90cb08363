/* The `.adm` front: routes, the form body, the envelope of every answer
 * (also of the refusals the core makes before a handler runs). */
#include "gateway/adm/adm.h"
#include "gateway/adm/front.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/kv.h"
#include "common/log.h"
#include "common/util.h"

#define ADM_ROUTES_MAX 40
#define ADM_PATTERN_MAX 96

static const struct adm_method *const adm_tables[] = {
    adm_methods_accounts,
    adm_methods_certs,
    adm_methods_vaults,
};

static struct gw_route adm_routes[ADM_ROUTES_MAX + 1]; /* gw_adm_init fills it */
static char adm_patterns[ADM_ROUTES_MAX][ADM_PATTERN_MAX];
static const struct gw_route *const adm_route_tables[] = {adm_routes, NULL};

/* IBM: 200 for success, 422 for what fails validation, 403 outside the
 * caller's domain; the rest as HTTP has them (api/ibm-compat.md). */
static int
adm_status(mgr_err e)
{
	switch (e) {
	case MGR_EINVAL:
	case MGR_ECONFLICT:
		return (422);
	default:
		return (mgr_err_http(e));
	}
}

static enum adm_flavour
url_flavour(const char *url)
{
	return (strncmp(url, ADM_PREFIX "xml/", strlen(ADM_PREFIX "xml/")) == 0
	        ? ADM_XML
	        : ADM_JSON);
}

static mgr_err
adm_send(struct gw_req *r, int status, int ok, const json_t *data, mgr_err e)
{
	struct adm_call *c = r->state;
	enum adm_flavour fl = c != NULL ? c->fl : url_flavour(r->url);
	struct MHD_Response *resp;
	char *body = NULL;
	size_t len = 0;
	mgr_err rv;

	if ((rv = adm_envelope(fl, ok, r->request_id, mgr_now_ms(), data, &body, &len)) !=
	    MGR_OK)
		return (rv);
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return (MGR_ENOMEM);
	}
	MHD_add_response_header(resp, "Content-Type", adm_content_type(fl));
	if (!ok && e == MGR_EUNAUTH)
		MHD_add_response_header(resp, "WWW-Authenticate",
		    "Basic realm=\"manager\", charset=\"UTF-8\"");
	if (!ok && e == MGR_ERATE)
		MHD_add_response_header(resp, "Retry-After", "60");
	if (!ok && e == MGR_EMETHOD)
		MHD_add_response_header(resp, "Allow", "POST");
	return (gw_reply_response(r, status, resp));
}

mgr_err
adm_reply_ok(struct gw_req *r, json_t *data)
{
	mgr_err rv = adm_send(r, 200, 1, data, MGR_OK);

	json_decref(data);
	return (rv);
}

/* The front's error writer (struct gw_front): every refusal under
 * /manager/api/, the core's included (401, 404, 405, 413, 415, ...). */
static mgr_err
adm_reply_error(struct gw_req *r, mgr_err e, const char *msg)
{
	struct adm_call *c = r->state;
	json_t *data;
	mgr_err rv;

	if (r->responded)
		return (MGR_OK);
	data = adm_errors(c != NULL ? c->field : "",
	    msg != NULL && *msg != '\0' ? msg : mgr_strerror(e), mgr_err_code(e));
	if (data == NULL)
		return (MGR_ENOMEM);
	rv = adm_send(r, adm_status(e), 0, data, e);
	json_decref(data);
	return (rv);
}

static mgr_err
param_fail(struct gw_req *r, struct adm_call *c, const char *key, const char *fmt,
    const char *what)
{
	snprintf(c->field, sizeof(c->field), "%s", key);
	return (gw_fail(r, MGR_EINVAL, fmt, key, what));
}

static int
listed(const char *const *list, const char *key)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
		size_t n = strlen(list[i]);

		/* "rolesMap[" names every rolesMap[...] parameter. */
		if (n > 0 && list[i][n - 1] == '[' ? strncmp(key, list[i], n) == 0
		                                   : strcmp(key, list[i]) == 0)
			return (1);
	}
	return (0);
}

mgr_err
adm_only(struct gw_req *r, struct adm_call *c, const char *const *known,
    const char *const *ignored)
{
	for (int i = 0; i < c->form.n; i++)
		if (!listed(known, c->form.p[i].key) &&
		    !listed(ignored, c->form.p[i].key))
			return (param_fail(r, c, c->form.p[i].key,
			    "unknown parameter \"%s\"%s", ""));
	return (MGR_OK);
}

mgr_err
adm_str(struct gw_req *r, struct adm_call *c, const char *key, int required,
    size_t maxlen, const char **out)
{
	mgr_err rv = adm_form_one(&c->form, key, out);

	if (rv == MGR_ENOTFOUND) {
		*out = NULL;
		return (required
		        ? param_fail(r, c, key, "parameter \"%s\" is required%s", "")
		        : MGR_OK);
	}
	if (rv != MGR_OK)
		return (param_fail(r, c, key, "parameter \"%s\" is given %s", "twice"));
	if (**out == '\0' || strlen(*out) > maxlen)
		return (param_fail(r, c, key, "parameter \"%s\" must be %s",
		    **out == '\0' ? "non-empty" : "shorter"));
	return (MGR_OK);
}

mgr_err
adm_ms(struct gw_req *r, struct adm_call *c, const char *key, int required,
    int64_t *out_s, int *present)
{
	const char *v;
	int64_t ms;
	mgr_err rv;

	*present = 0;
	if ((rv = adm_str(r, c, key, required, 20, &v)) != MGR_OK || v == NULL)
		return (rv);
	/* Digits only: no sign, no fraction, no date text. */
	if (strspn(v, "0123456789") != strlen(v) || mgr_parse_i64(v, &ms) != MGR_OK ||
	    ms <= 0)
		return (param_fail(r, c, key, "parameter \"%s\" must be %s",
		    "milliseconds since the epoch"));
	*out_s = ms / 1000;
	*present = 1;
	return (MGR_OK);
}

mgr_err
adm_id(struct gw_req *r, struct adm_call *c, const char *key, enum adm_kind kind,
    int required, char *out, size_t outlen, int *present)
{
	const char *v;
	mgr_err rv;

	*present = 0;
	if ((rv = adm_str(r, c, key, required, MGR_ID_MAX, &v)) != MGR_OK || v == NULL)
		return (rv);
	rv = adm_id_resolve(kind, v, out, outlen);
	if (rv == MGR_EINVAL)
		return (param_fail(r, c, key, "parameter \"%s\" is not %s", "an id"));
	if (rv == MGR_ENOTFOUND) {
		snprintf(c->field, sizeof(c->field), "%s", key);
		return (gw_fail(r, MGR_ENOTFOUND, "no such %s",
		    kind == ADM_ACCOUNT     ? "account"
		        : kind == ADM_VAULT ? "vault"
		                            : "vault template"));
	}
	if (rv != MGR_OK)
		return (gw_fail(r, rv, "id numbers unavailable"));
	*present = 1;
	return (MGR_OK);
}

mgr_err
adm_number(struct gw_req *r, enum adm_kind kind, const char *id, int64_t *out)
{
	mgr_err rv = adm_id_number(kind, id, out);

	if (rv != MGR_OK)
		log_warn(r->request_id, "no number for %s: %s", id, mgr_strerror(rv));
	return (rv);
}

static int
is_form_type(const char *ct)
{
	size_t n = strlen("application/x-www-form-urlencoded");

	return (ct != NULL &&
	    strncasecmp(ct, "application/x-www-form-urlencoded", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '));
}

/* The name of the method in the path: "rotateClientKey" of
 * ".../1.0/rotateClientKey.adm" (r->params[1] of the catch-all routes). */
static const struct adm_method *
method_named(const char *seg)
{
	size_t n = strlen(seg);

	if (n <= 4 || strcmp(seg + n - 4, ".adm") != 0)
		return (NULL);
	for (size_t t = 0; t < sizeof(adm_tables) / sizeof(adm_tables[0]); t++)
		for (const struct adm_method *m = adm_tables[t]; m->name != NULL; m++)
			if (strlen(m->name) == n - 4 && strncmp(m->name, seg, n - 4) == 0)
				return (m);
	return (NULL);
}

/* Begin (data NULL, after authentication): the flavour, the body's type
 * and size; then the body, bounded. */
static mgr_err
adm_upload(struct gw_req *r, const char *data, size_t len)
{
	struct adm_call *c = r->state;
	const char *cl, *te;
	int64_t n = 0;
	mgr_err rv;

	if (data == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return (MGR_ENOMEM);
		adm_form_init(&c->form);
		r->state = c;
		if (adm_flavour_parse(r->params[0], &c->fl) != MGR_OK)
			return (gw_fail(r, MGR_ENOTFOUND,
			    "no such response type: json or xml"));
		cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		te = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_TRANSFER_ENCODING);
		if (cl != NULL && mgr_parse_i64(cl, &n) == MGR_OK &&
		    n > (int64_t)ADM_FORM_MAX)
			return (
			    gw_fail(r, MGR_ETOOBIG, "form over %u bytes", ADM_FORM_MAX));
		if ((n > 0 || te != NULL) &&
		    !is_form_type(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		        MHD_HTTP_HEADER_CONTENT_TYPE)))
			return (gw_fail(r, MGR_EMEDIA,
			    "Content-Type must be application/x-www-form-urlencoded"));
		return (MGR_OK);
	}
	if ((rv = mgr_buf_add(&r->body, data, len)) == MGR_ETOOBIG)
		return (gw_fail(r, rv, "form over %u bytes", ADM_FORM_MAX));
	return (rv);
}

static void
adm_cleanup(struct gw_req *r)
{
	struct adm_call *c = r->state;

	/* Id numbers (ids.c) and audit records used this thread's Redis
	 * connection: MHD's threads are not ours, close it (rest/accounts.c). */
	kv_thread_done();
	if (c == NULL)
		return;
	adm_form_free(&c->form);
	free(c);
	r->state = NULL;
	if (r->body.data != NULL)
		memset(r->body.data, 0, r->body.len); /* may hold a password */
}

struct query_ctx {
	struct adm_form *form;
	char *err;
	size_t errlen;
	mgr_err rv;
};

static enum MHD_Result
query_pair(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query_ctx *q = cls;

	(void)kind;
	if ((q->rv = adm_form_add_encoded(q->form, key, value, q->err, q->errlen)) !=
	    MGR_OK)
		return (MHD_NO);
	return (MHD_YES);
}

/* The parameters: the query string's and the body's (a Java servlet's
 * request parameters, as IBM's Manager reads them), one table. */
static mgr_err
adm_params(struct gw_req *r, struct adm_call *c)
{
	struct query_ctx q = {&c->form, r->errmsg, sizeof(r->errmsg), MGR_OK};

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_pair, &q);
	if (q.rv != MGR_OK)
		return (q.rv);
	if (r->body.len > 0)
		return (adm_form_parse(&c->form, r->body.data, r->body.len, r->errmsg,
		    sizeof(r->errmsg)));
	return (MGR_OK);
}

static mgr_err
adm_handle(struct gw_req *r)
{
	struct adm_call *c = r->state;
	const struct adm_method *m;
	const char *seg = strrchr(r->url, '/');
	mgr_err rv;

	if (c == NULL || seg == NULL || (m = method_named(seg + 1)) == NULL)
		return (MGR_EINTERNAL);
	if ((rv = adm_params(r, c)) != MGR_OK)
		return (rv);
	if (adm_form_has(&c->form, "callback")) {
		snprintf(c->field, sizeof(c->field), "callback");
		return (gw_fail(r, MGR_EINVAL, "JSONP (callback) is not offered"));
	}
	return (m->handle(r, c));
}

/* Any other path under /manager/api/: no such method (404), or a known
 * one called with GET (405). */
static mgr_err
adm_unknown(struct gw_req *r)
{
	const char *seg = strrchr(r->url, '/');
	enum adm_flavour fl;

	if (r->nparams == 2 && adm_flavour_parse(r->params[0], &fl) == MGR_OK &&
	    seg != NULL && method_named(seg + 1) != NULL)
		return (gw_fail(r, MGR_EMETHOD, "%s takes POST", seg + 1));
	if (r->nparams >= 1 && adm_flavour_parse(r->params[0], &fl) != MGR_OK)
		return (gw_fail(r, MGR_ENOTFOUND, "no such response type: json or xml"));
	return (gw_fail(r, MGR_ENOTFOUND, "no such method"));
}

mgr_err
gw_adm_init(void)
{
	size_t k = 0;

	for (size_t t = 0; t < sizeof(adm_tables) / sizeof(adm_tables[0]); t++) {
		for (const struct adm_method *m = adm_tables[t]; m->name != NULL; m++) {
			if (k + 3 > ADM_ROUTES_MAX)
				return (MGR_EINTERNAL);
			snprintf(adm_patterns[k], ADM_PATTERN_MAX,
			    ADM_PREFIX "{}/1.0/%s.adm", m->name);
			adm_routes[k] = (struct gw_route){.method = "POST",
			    .pattern = adm_patterns[k],
			    .auth = m->auth,
			    .body = GW_BODY_STREAM,
			    .handle = adm_handle,
			    .upload = adm_upload,
			    .cleanup = adm_cleanup};
			k++;
		}
	}
	adm_routes[k++] = (struct gw_route){.method = "POST",
	    .pattern = ADM_PREFIX "{}/1.0/{}",
	    .auth = GW_AUTH_PUBLIC,
	    .body = GW_BODY_NONE,
	    .handle = adm_unknown};
	adm_routes[k++] = (struct gw_route){.method = "GET",
	    .pattern = ADM_PREFIX "{}/1.0/{}",
	    .auth = GW_AUTH_PUBLIC,
	    .body = GW_BODY_NONE,
	    .handle = adm_unknown};
	adm_routes[k] = (struct gw_route){.method = NULL};
	return (MGR_OK);
}

const struct gw_front gw_front_adm = {
    .name = "adm",
    .prefix = ADM_PREFIX,
    .tables = adm_route_tables,
    .reply_error = adm_reply_error,
};
