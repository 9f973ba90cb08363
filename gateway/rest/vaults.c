/* Vault templates (admin), locked vaults (app owner; admin metadata only) and
 * object I/O (owner only): Range (206/416) and conditional requests
 * (If-Match, If-None-Match, If-Range; PUT If-Match / If-None-Match: *).
 * Object data streams through gateway/objio.c in bounded memory.
 * Permissions are decided (and audited) by vault-svc. */
#include "gateway/gw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/log.h"
#include "common/page.h"
#include "common/util.h"
#include "gateway/objio.h"
#include "gateway/range.h"
#include "proto/vault.pb-c.h"

#define TPL_NAME_MAX 128
#define LIST_DEFAULT 100
#define LIST_MAX 1000

/* ---- JSON shapes -------------------------------------------------------- */

static json_t *
template_json(const Mgr__Vault__Template *t)
{
	return (json_pack("{s:s, s:s, s:s, s:o, s:b}", "id", t->id, "name", t->name,
	    "kind", t->kind, "quota_bytes",
	    t->quota_bytes > 0 ? json_integer(t->quota_bytes) : json_null(), "default",
	    t->is_default));
}

static json_t *
vault_json(const Mgr__Vault__Vault *v)
{
	return (json_pack("{s:s, s:s, s:b, s:s, s:s, s:o, s:o, s:I, s:I}", "id", v->id,
	    "name", v->name, "locked", 1, "owner_account_id", v->owner_account_id,
	    "vault_template_id", v->vault_template_id, "mirror_template_id",
	    *v->mirror_template_id != '\0' ? json_string(v->mirror_template_id)
	                                   : json_null(),
	    "created_at", gw_json_time_value(v->created_at), "object_count",
	    (json_int_t)v->object_count, "bytes_used", (json_int_t)v->bytes_used));
}

static void
etag_header(const char *hex, char out[80])
{
	snprintf(out, 80, "\"%s\"", hex);
}

/* ---- templates ---------------------------------------------------------- */

static mgr_err
h_tpl_create(struct gw_req *r)
{
	static const char *const allowed[] = {"name", "kind", "quota_bytes", "default",
	    NULL};
	Mgr__Vault__CreateTemplateRequest in = MGR__VAULT__CREATE_TEMPLATE_REQUEST__INIT;
	Mgr__Vault__Template *out = NULL;
	const char *name, *kind;
	json_t *q, *d;
	mgr_err rv;

	if ((rv = gw_json_only(r, allowed)) != MGR_OK ||
	    (rv = gw_json_str(r, "name", 1, TPL_NAME_MAX, &name)) != MGR_OK ||
	    (rv = gw_json_str(r, "kind", 1, 16, &kind)) != MGR_OK)
		return (rv);
	if (strcmp(kind, "vault") != 0 && strcmp(kind, "mirror") != 0)
		return (
		    gw_fail(r, MGR_EINVAL, "\"kind\" must be \"vault\" or \"mirror\""));
	q = json_object_get(r->json, "quota_bytes");
	if (q != NULL && !json_is_null(q)) {
		if (!json_is_integer(q) || json_integer_value(q) <= 0)
			return (gw_fail(r, MGR_EINVAL,
			    "\"quota_bytes\" must be a positive integer"));
		in.quota_bytes = json_integer_value(q);
	}
	d = json_object_get(r->json, "default");
	if (d != NULL && !json_is_null(d)) {
		if (!json_is_boolean(d))
			return (
			    gw_fail(r, MGR_EINVAL, "\"default\" must be true or false"));
		in.is_default = json_is_true(d);
	}
	in.name = (char *)name;
	in.kind = (char *)kind;
	if ((rv = gw_rpc(r, gw.vault, "vault.CreateTemplate", &in.base,
	         &mgr__vault__template__descriptor, (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	rv = gw_reply_json(r, 201, template_json(out));
	mgr__vault__template__free_unpacked(out, NULL);
	return (rv);
}

/* PATCH /api/v1/vault-templates/{id} {"default": true|false}: (v2) true
 * makes it the default (and the former default no longer is), false stops
 * it being the default. */
static mgr_err
h_tpl_update(struct gw_req *r)
{
	static const char *const allowed[] = {"default", NULL};
	Mgr__Vault__UpdateTemplateRequest in = MGR__VAULT__UPDATE_TEMPLATE_REQUEST__INIT;
	Mgr__Vault__Template *out = NULL;
	json_t *d;
	mgr_err rv;

	if ((rv = gw_json_only(r, allowed)) != MGR_OK)
		return (rv);
	d = json_object_get(r->json, "default");
	if (d == NULL || !json_is_boolean(d))
		return (
		    gw_fail(r, MGR_EINVAL, "\"default\" (true or false) is required"));
	in.id = r->params[0];
	in.is_default = json_is_true(d);
	if ((rv = gw_rpc(r, gw.vault, "vault.UpdateTemplate", &in.base,
	         &mgr__vault__template__descriptor, (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	rv = gw_reply_json(r, 200, template_json(out));
	mgr__vault__template__free_unpacked(out, NULL);
	return (rv);
}

/* GET /api/v1/vault-templates?after=CURSOR&limit=N: oldest first, paged
 * like the vaults. */
static mgr_err
h_tpl_list(struct gw_req *r)
{
	Mgr__Vault__PageRequest in = MGR__VAULT__PAGE_REQUEST__INIT;
	Mgr__Vault__TemplateList *out = NULL;
	const char *after = "";
	json_t *arr, *next;
	mgr_err rv;

	if ((rv = gw_page_query(r, MGR_PAGE_MAX, &after, &in.limit)) != MGR_OK)
		return (rv);
	in.after = (char *)after;
	if ((rv = gw_rpc(r, gw.vault, "vault.ListTemplates", &in.base,
	         &mgr__vault__template_list__descriptor, (ProtobufCMessage **)&out)) !=
	    MGR_OK)
		return (rv);
	arr = json_array();
	for (size_t i = 0; i < out->n_templates; i++)
		json_array_append_new(arr, template_json(out->templates[i]));
	next = gw_next_after(out->next_after);
	mgr__vault__template_list__free_unpacked(out, NULL);
	return (gw_reply_json(r, 200,
	    json_pack("{s:o,s:o}", "templates", arr, "next_after", next)));
}

/* ---- vaults ------------------------------------------------------------- */

static mgr_err
h_vault_create(struct gw_req *r)
{
	static const char *const allowed[] = {"name", "vault_template_id",
	    "mirror_template_id", NULL};
	Mgr__Vault__CreateVaultRequest in = MGR__VAULT__CREATE_VAULT_REQUEST__INIT;
	Mgr__Vault__Vault *out = NULL;
	const char *name = NULL, *vt = NULL, *mt = NULL;
	mgr_err rv;

	/* Only an app may create one: anyone else is refused (and audited) by
	 * vault-svc whatever the body says. */
	if (r->caller.kind == MGR__CALLER__KIND__APP) {
		if ((rv = gw_json_only(r, allowed)) != MGR_OK ||
		    (rv = gw_json_str(r, "name", 1, 256, &name)) != MGR_OK ||
		    (rv = gw_json_str(r, "vault_template_id", 1, MGR_ID_MAX, &vt)) !=
		        MGR_OK ||
		    (rv = gw_json_str(r, "mirror_template_id", 0, MGR_ID_MAX, &mt)) !=
		        MGR_OK)
			return (rv);
		in.name = (char *)name;
		in.vault_template_id = (char *)vt;
		if (mt != NULL)
			in.mirror_template_id = (char *)mt;
	}
	if ((rv = gw_rpc(r, gw.vault, "vault.Create", &in.base,
	         &mgr__vault__vault__descriptor, (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	rv = gw_reply_created(r, vault_json(out), "/api/v1/vaults/%s", out->name);
	mgr__vault__vault__free_unpacked(out, NULL);
	return (rv);
}

/* GET /api/v1/vaults?after=CURSOR&limit=N: oldest first; next_after is the
 * cursor of the next page, null after the last. */
static mgr_err
h_vault_list(struct gw_req *r)
{
	Mgr__Vault__PageRequest in = MGR__VAULT__PAGE_REQUEST__INIT;
	Mgr__Vault__VaultList *out = NULL;
	const char *after = "";
	json_t *arr, *next;
	mgr_err rv;

	if ((rv = gw_page_query(r, MGR_PAGE_MAX, &after, &in.limit)) != MGR_OK)
		return (rv);
	in.after = (char *)after;
	if ((rv = gw_rpc(r, gw.vault, "vault.List", &in.base,
	         &mgr__vault__vault_list__descriptor, (ProtobufCMessage **)&out)) !=
	    MGR_OK)
		return (rv);
	arr = json_array();
	for (size_t i = 0; i < out->n_vaults; i++)
		json_array_append_new(arr, vault_json(out->vaults[i]));
	next = gw_next_after(out->next_after);
	mgr__vault__vault_list__free_unpacked(out, NULL);
	return (gw_reply_json(r, 200,
	    json_pack("{s:o,s:o}", "vaults", arr, "next_after", next)));
}

static mgr_err
h_vault_get(struct gw_req *r)
{
	Mgr__Vault__VaultRef in = MGR__VAULT__VAULT_REF__INIT;
	Mgr__Vault__Vault *out = NULL;
	mgr_err rv;

	in.name = r->params[0];
	if ((rv = gw_rpc(r, gw.vault, "vault.Get", &in.base,
	         &mgr__vault__vault__descriptor, (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	rv = gw_reply_json(r, 200, vault_json(out));
	mgr__vault__vault__free_unpacked(out, NULL);
	return (rv);
}

static mgr_err
h_vault_delete(struct gw_req *r)
{
	Mgr__Vault__VaultRef in = MGR__VAULT__VAULT_REF__INIT;
	mgr_err rv;

	in.name = r->params[0];
	if ((rv = gw_rpc(r, gw.vault, "vault.Delete", &in.base, NULL, NULL)) != MGR_OK)
		return (rv);
	return (gw_reply_empty(r, 204));
}

/* PATCH/PUT of a vault: a locked vault is never renamed or re-owned. The
 * service refuses (403 administrator, 409 owner) and audits the attempt. */
static mgr_err
h_vault_update(struct gw_req *r)
{
	Mgr__Vault__UpdateVaultRequest in = MGR__VAULT__UPDATE_VAULT_REQUEST__INIT;
	char *fields[16];
	const char *key;
	json_t *v;
	size_t n = 0;

	json_object_foreach(r->json, key, v)
	{
		(void)v;
		if (n < sizeof(fields) / sizeof(fields[0]))
			fields[n++] = (char *)key;
	}
	in.name = r->params[0];
	in.fields = fields;
	in.n_fields = n;
	return (gw_rpc(r, gw.vault, "vault.Update", &in.base, NULL, NULL));
}

/* ---- objects: conditions ------------------------------------------------ */

static const char *
header(struct gw_req *r, const char *name)
{
	return (MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name));
}

/* One tag of a PUT's If-Match: "*" or an etag, quoted or bare (a tag that
 * is no etag of ours never matches: 412). */
static mgr_err
put_if_match(struct gw_req *r, const char *v, char out[80])
{
	size_t n;

	while (*v == ' ')
		v++;
	if (strncmp(v, "W/", 2) == 0)
		v += 2;
	if (*v == '"')
		v++;
	n = strcspn(v, "\", ");
	if (n == 0 || n > 64 || strchr(v + n, ',') != NULL)
		return (gw_fail(r, MGR_EINVAL, "If-Match takes \"*\" or one etag"));
	memcpy(out, v, n);
	out[n] = '\0';
	return (MGR_OK);
}

/* ---- objects: PUT ------------------------------------------------------- */

static mgr_err
up_object_put(struct gw_req *r, const char *data, size_t len)
{
	Mgr__Vault__PutBeginRequest in = MGR__VAULT__PUT_BEGIN_REQUEST__INIT;
	struct gw_obj_put *p = NULL;
	char im[80] = "";
	const char *cl, *h;
	int64_t declared = -1;
	mgr_err rv;

	if (data != NULL)
		return (gw_obj_put_data(r, r->state, data, len));
	cl = header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && (mgr_parse_i64(cl, &declared) != MGR_OK || declared < 0))
		return (gw_fail(r, MGR_EINVAL, "bad Content-Length"));
	if ((h = header(r, MHD_HTTP_HEADER_IF_MATCH)) != NULL &&
	    (rv = put_if_match(r, h, im)) != MGR_OK)
		return (rv);
	if ((h = header(r, MHD_HTTP_HEADER_IF_NONE_MATCH)) != NULL) {
		while (*h == ' ')
			h++;
		if (strcmp(h, "*") != 0)
			return (
			    gw_fail(r, MGR_EINVAL, "a PUT takes If-None-Match: * only"));
		in.if_none_match = 1;
	}
	in.vault = r->params[0];
	in.key = r->params[1];
	in.size = declared;
	in.if_match = im;
	/* The service says 403 / 404 / 400 (key) / 412 / 413 (size, quota)
	 * first. */
	rv = gw_obj_put_begin(r, &in, &p);
	r->state = p;
	return (rv);
}

static mgr_err
h_object_put(struct gw_req *r)
{
	Mgr__Vault__PutCommitReply *out = NULL;
	struct MHD_Response *resp;
	char etag[80], *body;
	json_t *j;
	int status;
	mgr_err rv;

	if (r->state == NULL)
		return (MGR_EINTERNAL);
	if ((rv = gw_obj_put_commit(r, r->state, &out)) != MGR_OK)
		return (rv);
	j = json_pack("{s:s, s:I, s:s}", "key", out->object->key, "size",
	    (json_int_t)out->object->size, "etag", out->object->etag);
	etag_header(out->object->etag, etag);
	status = out->created ? 201 : 200;
	mgr__vault__put_commit_reply__free_unpacked(out, NULL);
	if (j == NULL || (body = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		return (MGR_ENOMEM);
	}
	json_decref(j);
	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return (MGR_ENOMEM);
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	return (gw_reply_response(r, status, resp));
}

static void
cleanup_object_put(struct gw_req *r)
{
	gw_obj_put_free(r, r->state);
	r->state = NULL;
}

/* ---- objects: GET / HEAD ------------------------------------------------ */

/* 416 with the contract's error body and Content-Range: bytes * / size. */
static mgr_err
reply_416(struct gw_req *r, int64_t size)
{
	struct MHD_Response *resp;
	char cr[64], *s;
	json_t *body;

	body = json_pack("{s:{s:s, s:s, s:s}}", "error", "code", mgr_err_code(MGR_ERANGE),
	    "message", "the range is not satisfiable", "request_id", r->request_id);
	if (body == NULL || (s = json_dumps(body, JSON_COMPACT)) == NULL) {
		json_decref(body);
		return (MGR_ENOMEM);
	}
	json_decref(body);
	if ((resp = MHD_create_response_from_buffer(strlen(s), s,
	         MHD_RESPMEM_MUST_FREE)) == NULL) {
		free(s);
		return (MGR_ENOMEM);
	}
	snprintf(cr, sizeof(cr), "bytes */%lld", (long long)size);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Content-Range", cr);
	return (gw_reply_response(r, 416, resp));
}

static void
object_headers(struct MHD_Response *resp, const char *etag, const char *lm)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, lm);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
}

static mgr_err
h_object_get(struct gw_req *r)
{
	Mgr__Vault__ObjectRef in = MGR__VAULT__OBJECT_REF__INIT;
	Mgr__Vault__HeadReply *out = NULL;
	struct MHD_Response *resp = NULL;
	const char *im, *inm, *ir;
	char etag[80], lm[64], cr[96];
	int64_t start = 0, last = 0, len, size;
	int ranged = 0, status = 200;
	struct tm tm;
	time_t t;
	mgr_err rv;

	in.vault = r->params[0];
	in.key = r->params[1];
	/* GET: a one-chunk object comes back in the same call. */
	in.with_data = strcmp(r->method, "HEAD") != 0;
	if ((rv = gw_rpc(r, gw.vault, "vault.HeadObject", &in.base,
	         &mgr__vault__head_reply__descriptor, (ProtobufCMessage **)&out)) !=
	    MGR_OK)
		return (rv);
	etag_header(out->object->etag, etag);
	t = (time_t)out->object->modified_at;
	gmtime_r(&t, &tm);
	strftime(lm, sizeof(lm), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	size = out->object->size;
	len = size;
	/* RFC 9110 13.2.2: If-Match, then If-None-Match (304 for GET and
	 * HEAD), then Range (If-Range: only while it names the etag). */
	im = header(r, MHD_HTTP_HEADER_IF_MATCH);
	inm = header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
	ir = header(r, MHD_HTTP_HEADER_IF_RANGE);
	if (im != NULL && !gw_etag_listed(im, out->object->etag)) {
		mgr__vault__head_reply__free_unpacked(out, NULL);
		return (gw_fail(r, MGR_EPRECOND, "the object does not match If-Match"));
	}
	if (inm != NULL && gw_etag_listed(inm, out->object->etag)) {
		resp = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
		mgr__vault__head_reply__free_unpacked(out, NULL);
		if (resp == NULL)
			return (MGR_ENOMEM);
		object_headers(resp, etag, lm);
		return (gw_reply_response(r, 304, resp));
	}
	if (ir == NULL || gw_etag_listed(ir, out->object->etag))
		ranged = gw_range(header(r, MHD_HTTP_HEADER_RANGE), size, &start, &last);
	if (ranged > 0)
		len = last - start + 1;
	if (ranged < 0) {
		mgr__vault__head_reply__free_unpacked(out, NULL);
		return (reply_416(r, size));
	}
	if (ranged > 0) {
		status = 206;
		snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long)start,
		    (long long)(start + len - 1), (long long)size);
	}
	rv = gw_obj_body(r, out, start, len, in.with_data, &resp);
	mgr__vault__head_reply__free_unpacked(out, NULL);
	if (rv != MGR_OK)
		return (rv);
	MHD_add_response_header(resp, "Content-Type", "application/octet-stream");
	object_headers(resp, etag, lm);
	if (ranged > 0)
		MHD_add_response_header(resp, "Content-Range", cr);
	return (gw_reply_response(r, status, resp));
}

static mgr_err
h_object_delete(struct gw_req *r)
{
	Mgr__Vault__ObjectRef in = MGR__VAULT__OBJECT_REF__INIT;
	mgr_err rv;

	in.vault = r->params[0];
	in.key = r->params[1];
	if ((rv = gw_rpc(r, gw.vault, "vault.DeleteObject", &in.base, NULL, NULL)) !=
	    MGR_OK)
		return (rv);
	return (gw_reply_empty(r, 204));
}

/* A query parameter: *out NULL when absent; 400 when present but badly
 * encoded (e.g. %00). */
static mgr_err
query_param(struct gw_req *r, const char *key, const char **out)
{
	const char *raw = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    key);

	*out = NULL;
	if (raw == NULL)
		return (MGR_OK);
	if ((*out = gw_query(r, key)) == NULL)
		return (gw_fail(r, MGR_EINVAL, "query parameter \"%s\" is badly encoded",
		    key));
	return (MGR_OK);
}

static mgr_err
h_object_list(struct gw_req *r)
{
	Mgr__Vault__ListObjectsRequest in = MGR__VAULT__LIST_OBJECTS_REQUEST__INIT;
	Mgr__Vault__ListObjectsReply *out = NULL;
	const char *prefix, *after, *limit;
	int64_t lim = LIST_DEFAULT;
	json_t *arr;
	mgr_err rv;

	if ((rv = query_param(r, "prefix", &prefix)) != MGR_OK ||
	    (rv = query_param(r, "after", &after)) != MGR_OK ||
	    (rv = query_param(r, "limit", &limit)) != MGR_OK)
		return (rv);
	/* An empty "limit=" (as API.md writes the query) is the default. */
	if (limit != NULL && *limit != '\0' &&
	    (mgr_parse_i64(limit, &lim) != MGR_OK || lim < 1 || lim > LIST_MAX))
		return (gw_fail(r, MGR_EINVAL, "\"limit\" must be 1 to %d", LIST_MAX));
	in.vault = r->params[0];
	if (prefix != NULL)
		in.prefix = (char *)prefix;
	if (after != NULL)
		in.after = (char *)after;
	in.limit = (uint32_t)lim;
	if ((rv = gw_rpc(r, gw.vault, "vault.ListObjects", &in.base,
	         &mgr__vault__list_objects_reply__descriptor,
	         (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	arr = json_array();
	for (size_t i = 0; i < out->n_objects; i++) {
		const Mgr__Vault__Object *o = out->objects[i];

		json_array_append_new(arr,
		    json_pack("{s:s, s:I, s:s, s:o}", "key", o->key, "size",
		        (json_int_t)o->size, "etag", o->etag, "modified_at",
		        gw_json_time_value(o->modified_at)));
	}
	rv = gw_reply_json(r, 200,
	    json_pack("{s:o, s:o}", "objects", arr, "next_after",
	        *out->next_after != '\0' ? json_string(out->next_after) : json_null()));
	mgr__vault__list_objects_reply__free_unpacked(out, NULL);
	return (rv);
}

#define APP_OR_ADMIN (GW_AUTH_APP | GW_AUTH_ADMIN)

const struct gw_route gw_routes_vaults[] = {
    {"POST", "/api/v1/vault-templates", GW_AUTH_ADMIN, GW_BODY_JSON, h_tpl_create, NULL,
        NULL, NULL},
    {"GET", "/api/v1/vault-templates", GW_AUTH_ADMIN, GW_BODY_NONE, h_tpl_list, NULL,
        NULL, NULL},
    {"PATCH", "/api/v1/vault-templates/{}", GW_AUTH_ADMIN, GW_BODY_JSON, h_tpl_update,
        NULL, NULL, NULL},
    {"POST", "/api/v1/vaults", APP_OR_ADMIN, GW_BODY_JSON, h_vault_create, NULL, NULL,
        NULL},
    {"GET", "/api/v1/vaults", APP_OR_ADMIN, GW_BODY_NONE, h_vault_list, NULL, NULL, NULL},
    {"GET", "/api/v1/vaults/{}", APP_OR_ADMIN, GW_BODY_NONE, h_vault_get, NULL, NULL,
        NULL},
    {"DELETE", "/api/v1/vaults/{}", APP_OR_ADMIN, GW_BODY_NONE, h_vault_delete, NULL,
        NULL, NULL},
    {"PATCH", "/api/v1/vaults/{}", APP_OR_ADMIN, GW_BODY_JSON, h_vault_update, NULL, NULL,
        NULL},
    {"PUT", "/api/v1/vaults/{}", APP_OR_ADMIN, GW_BODY_JSON, h_vault_update, NULL, NULL,
        NULL},
    {"GET", "/api/v1/vaults/{}/objects", APP_OR_ADMIN, GW_BODY_NONE, h_object_list, NULL,
        NULL, NULL},
    {"PUT", "/api/v1/vaults/{}/objects/{+}", APP_OR_ADMIN, GW_BODY_STREAM, h_object_put,
        up_object_put, cleanup_object_put, NULL},
    {"GET", "/api/v1/vaults/{}/objects/{+}", APP_OR_ADMIN, GW_BODY_NONE, h_object_get,
        NULL, NULL, NULL},
    {"HEAD", "/api/v1/vaults/{}/objects/{+}", APP_OR_ADMIN, GW_BODY_NONE, h_object_get,
        NULL, NULL, NULL},
    {"DELETE", "/api/v1/vaults/{}/objects/{+}", APP_OR_ADMIN, GW_BODY_NONE,
        h_object_delete, NULL, NULL, NULL},
    {NULL},
};
