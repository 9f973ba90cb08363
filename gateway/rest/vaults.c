/* Vault templates (admin), locked vaults (app owner; admin metadata only) and
 * object I/O (owner only). Object data streams through both ways in chunks
 * of the size the service names (at most RPC_CHUNK_BYTES),
 * GW_CHUNKS_IN_FLIGHT chunk RPCs at a time per request (a PUT sends chunk
 * i+1 while the service stores chunk i; a GET fetches the next chunks while
 * the client receives this one): at most that many chunks (plus the one
 * being filled or sent) per request are held here. Permissions are decided
 * (and audited) by vault-svc. */
#include "gateway/gw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/log.h"
#include "common/page.h"
#include "common/util.h"
#include "proto/vault.pb-c.h"

#define TPL_NAME_MAX 128
#define LIST_DEFAULT 100
#define LIST_MAX 1000
/* Chunk RPCs in flight per object request. The vault service stores chunks
 * in any order (it records which arrived and checks them all at commit). */
#define GW_CHUNKS_IN_FLIGHT 4

/* ---- JSON shapes -------------------------------------------------------- */

static json_t *
template_json(const Mgr__Vault__Template *t)
{
	return (json_pack("{s:s, s:s, s:s, s:o}", "id", t->id, "name", t->name,
	    "kind", t->kind, "quota_bytes",
	    t->quota_bytes > 0 ? json_integer(t->quota_bytes) : json_null()));
}

static json_t *
vault_json(const Mgr__Vault__Vault *v)
{
	return (json_pack("{s:s, s:s, s:b, s:s, s:s, s:o, s:o, s:I, s:I}",
	    "id", v->id, "name", v->name, "locked", 1,
	    "owner_account_id", v->owner_account_id,
	    "vault_template_id", v->vault_template_id,
	    "mirror_template_id",
	    *v->mirror_template_id != '\0' ? json_string(v->mirror_template_id)
	                                   : json_null(),
	    "created_at", gw_json_time_value(v->created_at),
	    "object_count", (json_int_t)v->object_count,
	    "bytes_used", (json_int_t)v->bytes_used));
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
	static const char *const allowed[] = {"name", "kind", "quota_bytes", NULL};
	Mgr__Vault__CreateTemplateRequest in = MGR__VAULT__CREATE_TEMPLATE_REQUEST__INIT;
	Mgr__Vault__Template *out = NULL;
	const char *name, *kind;
	json_t *q;
	mgr_err rv;

	if ((rv = gw_json_only(r, allowed)) != MGR_OK ||
	    (rv = gw_json_str(r, "name", 1, TPL_NAME_MAX, &name)) != MGR_OK ||
	    (rv = gw_json_str(r, "kind", 1, 16, &kind)) != MGR_OK)
		return (rv);
	if (strcmp(kind, "vault") != 0 && strcmp(kind, "mirror") != 0)
		return (gw_fail(r, MGR_EINVAL, "\"kind\" must be \"vault\" or \"mirror\""));
	q = json_object_get(r->json, "quota_bytes");
	if (q != NULL && !json_is_null(q)) {
		if (!json_is_integer(q) || json_integer_value(q) <= 0)
			return (gw_fail(r, MGR_EINVAL,
			    "\"quota_bytes\" must be a positive integer"));
		in.quota_bytes = json_integer_value(q);
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
	return (gw_reply_json(r, 200, json_pack("{s:o,s:o}", "templates", arr,
	    "next_after", next)));
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
	return (gw_reply_json(r, 200, json_pack("{s:o,s:o}", "vaults", arr,
	    "next_after", next)));
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

	json_object_foreach(r->json, key, v) {
		(void)v;
		if (n < sizeof(fields) / sizeof(fields[0]))
			fields[n++] = (char *)key;
	}
	in.name = r->params[0];
	in.fields = fields;
	in.n_fields = n;
	return (gw_rpc(r, gw.vault, "vault.Update", &in.base, NULL, NULL));
}

/* ---- objects: PUT ------------------------------------------------------- */

struct put_state {
	char vault_id[MGR_ID_MAX];
	char upload_id[40];
	uint8_t *buf;          /* the chunk being filled */
	size_t fill;
	size_t cap;
	size_t cs;             /* the upload's chunk size */
	uint32_t index;        /* of the chunk being filled */
	int64_t total;
	EVP_MD_CTX *md;
	/* PutChunk calls in flight, oldest first (a ring). */
	struct rpc_pending *sent[GW_CHUNKS_IN_FLIGHT];
	int first, nsent;
	int begun;
	int committed;
};

/* Waits for the oldest chunk in flight. */
static mgr_err
put_wait_one(struct gw_req *r, struct put_state *s)
{
	struct rpc_pending *p = s->sent[s->first];
	mgr_err rv;

	s->sent[s->first] = NULL;
	s->first = (s->first + 1) % GW_CHUNKS_IN_FLIGHT;
	s->nsent--;
	rv = rpc_call_wait(p, NULL, NULL, r->errmsg, sizeof(r->errmsg));
	if (rv == MGR_EUNAVAIL || rv == MGR_EINTERNAL || rv == MGR_ENOMEM)
		gw_metrics_rpc_error("vault.PutChunk", rv);
	if (rv == MGR_EUNAVAIL)
		log_warn(r->request_id, "vault.PutChunk: backing service unavailable");
	return (rv);
}

/* Waits for every chunk in flight; the first error wins. */
static mgr_err
put_wait_all(struct gw_req *r, struct put_state *s)
{
	mgr_err rv = MGR_OK, e;

	while (s->nsent > 0)
		if ((e = put_wait_one(r, s)) != MGR_OK && rv == MGR_OK)
			rv = e;
	return (rv);
}

/* Sends the chunk in s->buf (the call copies it: the buffer is free again
 * on return), first waiting for the oldest call when all slots are busy. */
static mgr_err
put_flush(struct gw_req *r, struct put_state *s)
{
	Mgr__Vault__PutChunkRequest in = MGR__VAULT__PUT_CHUNK_REQUEST__INIT;
	struct rpc_pending *p = NULL;
	mgr_err rv;

	if (s->nsent == GW_CHUNKS_IN_FLIGHT && (rv = put_wait_one(r, s)) != MGR_OK)
		return (rv);
	in.vault_id = s->vault_id;
	in.upload_id = s->upload_id;
	in.index = s->index;
	in.data.data = s->buf;
	in.data.len = s->fill;
	if ((rv = rpc_call_start(gw.vault, "vault.PutChunk", r->rpc_id, &r->caller,
	         &in.base, 0, &p)) != MGR_OK) {
		gw_metrics_rpc_error("vault.PutChunk", rv);
		return (gw_fail(r, rv, "%s", mgr_strerror(rv)));
	}
	s->sent[(s->first + s->nsent) % GW_CHUNKS_IN_FLIGHT] = p;
	s->nsent++;
	s->index++;
	s->fill = 0;
	return (MGR_OK);
}

static mgr_err
put_begin(struct gw_req *r)
{
	Mgr__Vault__PutBeginRequest in = MGR__VAULT__PUT_BEGIN_REQUEST__INIT;
	Mgr__Vault__PutBeginReply *out = NULL;
	struct put_state *s;
	const char *cl;
	int64_t declared = -1;
	mgr_err rv;

	cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && (mgr_parse_i64(cl, &declared) != MGR_OK || declared < 0))
		return (gw_fail(r, MGR_EINVAL, "bad Content-Length"));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (MGR_ENOMEM);
	r->state = s;
	in.vault = r->params[0];
	in.key = r->params[1];
	in.size = declared;
	/* The service says 403 / 404 / 400 (key) / 413 (size, quota) first. */
	if ((rv = gw_rpc(r, gw.vault, "vault.PutBegin", &in.base,
	         &mgr__vault__put_begin_reply__descriptor, (ProtobufCMessage **)&out)) !=
	    MGR_OK)
		return (rv);
	snprintf(s->vault_id, sizeof(s->vault_id), "%s", out->vault_id);
	snprintf(s->upload_id, sizeof(s->upload_id), "%s", out->upload_id);
	s->cs = out->chunk_bytes > 0 && out->chunk_bytes <= RPC_CHUNK_BYTES
	    ? out->chunk_bytes : RPC_CHUNK_BYTES;
	mgr__vault__put_begin_reply__free_unpacked(out, NULL);
	s->begun = 1;
	if (declared > gw.cfg.max_object_bytes)
		return (gw_fail(r, MGR_ETOOBIG, "an object is at most %lld bytes",
		    (long long)gw.cfg.max_object_bytes));
	s->cap = declared >= 0 && declared < (int64_t)s->cs ? (size_t)declared
	                                                     : s->cs;
	if ((s->buf = malloc(s->cap > 0 ? s->cap : 1)) == NULL ||
	    (s->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
		return (MGR_ENOMEM);
	return (MGR_OK);
}

static mgr_err
up_object_put(struct gw_req *r, const char *data, size_t len)
{
	struct put_state *s = r->state;
	mgr_err rv;

	if (data == NULL)
		return (put_begin(r));
	if ((int64_t)len > gw.cfg.max_object_bytes - s->total)
		return (gw_fail(r, MGR_ETOOBIG, "an object is at most %lld bytes",
		    (long long)gw.cfg.max_object_bytes));
	s->total += (int64_t)len;
	if (EVP_DigestUpdate(s->md, data, len) != 1)
		return (MGR_EINTERNAL);
	while (len > 0) {
		size_t n = s->cap - s->fill;

		if (n == 0) /* more than the declared Content-Length */
			return (gw_fail(r, MGR_EINVAL, "body longer than Content-Length"));
		if (n > len)
			n = len;
		memcpy(s->buf + s->fill, data, n);
		s->fill += n;
		data += n;
		len -= n;
		if (s->fill == s->cs && (rv = put_flush(r, s)) != MGR_OK)
			return (rv);
	}
	return (MGR_OK);
}

static mgr_err
h_object_put(struct gw_req *r)
{
	Mgr__Vault__PutCommitRequest in = MGR__VAULT__PUT_COMMIT_REQUEST__INIT;
	Mgr__Vault__PutCommitReply *out = NULL;
	struct put_state *s = r->state;
	struct MHD_Response *resp;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[65], etag[80], *body;
	json_t *j;
	int status;
	mgr_err rv;

	if (s == NULL || !s->begun)
		return (MGR_EINTERNAL);
	if (s->fill > 0 && (rv = put_flush(r, s)) != MGR_OK)
		return (rv);
	if ((rv = put_wait_all(r, s)) != MGR_OK)
		return (rv);
	if (EVP_DigestFinal_ex(s->md, md, &mdlen) != 1 || mdlen != 32)
		return (MGR_EINTERNAL);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	in.vault_id = s->vault_id;
	in.upload_id = s->upload_id;
	in.size = s->total;
	in.sha256 = hex;
	if ((rv = gw_rpc(r, gw.vault, "vault.PutCommit", &in.base,
	         &mgr__vault__put_commit_reply__descriptor, (ProtobufCMessage **)&out)) !=
	    MGR_OK)
		return (rv);
	s->committed = 1;
	j = json_pack("{s:s, s:I, s:s}", "key", out->object->key,
	    "size", (json_int_t)out->object->size, "etag", out->object->etag);
	etag_header(out->object->etag, etag);
	status = out->created ? 201 : 200;
	mgr__vault__put_commit_reply__free_unpacked(out, NULL);
	if (j == NULL || (body = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		return (MGR_ENOMEM);
	}
	json_decref(j);
	resp = MHD_create_response_from_buffer(strlen(body), body,
	    MHD_RESPMEM_MUST_FREE);
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
	struct put_state *s = r->state;

	if (s == NULL)
		return;
	/* Chunks still in flight are stored or refused before the abort, which
	 * then finds them all. */
	put_wait_all(r, s);
	if (s->begun && !s->committed) {
		Mgr__Vault__PutAbortRequest in = MGR__VAULT__PUT_ABORT_REQUEST__INIT;

		/* Staged chunks would expire anyway; free them now. */
		in.vault_id = s->vault_id;
		in.upload_id = s->upload_id;
		if (gw_rpc(r, gw.vault, "vault.PutAbort", &in.base, NULL, NULL) != MGR_OK)
			log_warn(r->request_id, "upload %s not aborted; it expires",
			    s->upload_id);
	}
	EVP_MD_CTX_free(s->md);
	free(s->buf);
	free(s);
	r->state = NULL;
}

/* ---- objects: GET / HEAD ------------------------------------------------ */

/* Lives as long as the MHD response, which may outlive the request. */
struct get_state {
	char request_id[40];
	char caller_id[128];
	char caller_serial[64];
	char caller_role[32];
	Mgr__Caller__Kind caller_kind;
	char vault_id[MGR_ID_MAX];
	char version[40];
	int64_t size;
	uint32_t cs;           /* the object's chunk size */
	uint32_t nchunks;
	Mgr__Vault__GetChunkReply *chunk;  /* the chunk in hand */
	uint32_t chunk_index;
	/* GetChunk calls in flight for chunks next, next + 1, ... (a ring). */
	struct rpc_pending *ahead[GW_CHUNKS_IN_FLIGHT];
	int first, nahead;
	uint32_t next;
};

/* Starts GetChunk calls until GW_CHUNKS_IN_FLIGHT are in flight or the last
 * chunk is asked for. */
static mgr_err
get_prefetch(struct get_state *s)
{
	Mgr__Vault__GetChunkRequest in = MGR__VAULT__GET_CHUNK_REQUEST__INIT;
	Mgr__Caller caller = MGR__CALLER__INIT;
	struct rpc_pending *p;
	mgr_err rv;

	caller.kind = s->caller_kind;
	caller.id = s->caller_id;
	caller.cert_serial = s->caller_serial;
	caller.role = s->caller_role;
	in.vault_id = s->vault_id;
	in.version = s->version;
	in.size = s->size;
	in.chunk_bytes = s->cs;
	while (s->nahead < GW_CHUNKS_IN_FLIGHT &&
	    s->next + (uint32_t)s->nahead < s->nchunks) {
		in.index = s->next + (uint32_t)s->nahead;
		if ((rv = rpc_call_start(gw.vault, "vault.GetChunk", s->request_id,
		         &caller, &in.base, 0, &p)) != MGR_OK)
			return (rv);
		s->ahead[(s->first + s->nahead) % GW_CHUNKS_IN_FLIGHT] = p;
		s->nahead++;
	}
	return (MGR_OK);
}

/* Ends the oldest call in flight (chunk s->next); *out its reply. */
static mgr_err
get_wait_one(struct get_state *s, Mgr__Vault__GetChunkReply **out, char *msg,
    size_t msglen)
{
	struct rpc_pending *p = s->ahead[s->first];

	s->ahead[s->first] = NULL;
	s->first = (s->first + 1) % GW_CHUNKS_IN_FLIGHT;
	s->nahead--;
	s->next++;
	return (rpc_call_wait(p,
	    out != NULL ? &mgr__vault__get_chunk_reply__descriptor : NULL,
	    (ProtobufCMessage **)out, msg, msglen));
}

static void
get_drain(struct get_state *s)
{
	while (s->nahead > 0)
		get_wait_one(s, NULL, NULL, 0);
}

static ssize_t
get_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct get_state *s = cls;
	uint32_t idx = (uint32_t)(pos / s->cs);
	size_t off = (size_t)(pos % s->cs), n;

	if ((int64_t)pos >= s->size)
		return (MHD_CONTENT_READER_END_OF_STREAM);
	if (s->chunk == NULL || s->chunk_index != idx) {
		char msg[256];
		mgr_err rv;

		if (s->chunk != NULL)
			mgr__vault__get_chunk_reply__free_unpacked(s->chunk, NULL);
		s->chunk = NULL;
		msg[0] = '\0';
		if (s->next != idx || s->nahead == 0) {
			/* Not the chunk fetched ahead (MHD reads in order, so
			 * this is not expected): start over from idx. */
			get_drain(s);
			s->next = idx;
		}
		if ((rv = get_prefetch(s)) == MGR_OK)
			rv = get_wait_one(s, &s->chunk, msg, sizeof(msg));
		/* The next chunks are on their way while this one is sent. */
		if (rv == MGR_OK)
			rv = get_prefetch(s);
		if (rv != MGR_OK) {
			/* Headers are out: all we can do is cut the stream short. */
			log_warn(s->request_id, "object read stopped at %llu: %s (%s)",
			    (unsigned long long)pos, mgr_err_code(rv), msg);
			gw_metrics_rpc_error("vault.GetChunk", rv);
			if (s->chunk != NULL)
				mgr__vault__get_chunk_reply__free_unpacked(s->chunk, NULL);
			s->chunk = NULL;
			return (MHD_CONTENT_READER_END_WITH_ERROR);
		}
		s->chunk_index = idx;
	}
	if (off >= s->chunk->data.len)
		return (MHD_CONTENT_READER_END_WITH_ERROR);
	n = s->chunk->data.len - off;
	if (n > max)
		n = max;
	memcpy(buf, s->chunk->data.data + off, n);
	return ((ssize_t)n);
}

static void
get_free(void *cls)
{
	struct get_state *s = cls;

	get_drain(s);
	if (s->chunk != NULL)
		mgr__vault__get_chunk_reply__free_unpacked(s->chunk, NULL);
	free(s);
}

static mgr_err
h_object_get(struct gw_req *r)
{
	Mgr__Vault__ObjectRef in = MGR__VAULT__OBJECT_REF__INIT;
	Mgr__Vault__HeadReply *out = NULL;
	struct MHD_Response *resp;
	struct get_state *s = NULL;
	char etag[80], lm[64];
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
	if (out->object->size == 0) {
		resp = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
	} else if (out->has_data &&
	    (int64_t)out->data.len == out->object->size) {
		resp = MHD_create_response_from_buffer(out->data.len,
		    out->data.data, MHD_RESPMEM_MUST_COPY);
	} else {
		if ((s = calloc(1, sizeof(*s))) == NULL) {
			mgr__vault__head_reply__free_unpacked(out, NULL);
			return (MGR_ENOMEM);
		}
		snprintf(s->request_id, sizeof(s->request_id), "%s", r->request_id);
		snprintf(s->caller_id, sizeof(s->caller_id), "%s", r->caller.id);
		snprintf(s->caller_serial, sizeof(s->caller_serial), "%s",
		    r->caller.cert_serial);
		snprintf(s->caller_role, sizeof(s->caller_role), "%s", r->caller.role);
		s->caller_kind = r->caller.kind;
		snprintf(s->vault_id, sizeof(s->vault_id), "%s", out->vault_id);
		snprintf(s->version, sizeof(s->version), "%s", out->object->version);
		s->size = out->object->size;
		s->cs = out->chunk_bytes > 0 && out->chunk_bytes <= RPC_CHUNK_BYTES
		    ? out->chunk_bytes : RPC_CHUNK_BYTES;
		s->nchunks = (uint32_t)((s->size + s->cs - 1) / s->cs);
		/* A GET asks for the first chunks now (a failure shows in
		 * get_read, which starts over); a HEAD reads nothing. */
		if (in.with_data)
			get_prefetch(s);
		resp = MHD_create_response_from_callback((uint64_t)s->size, 64 * 1024,
		    get_read, s, get_free);
		if (resp == NULL)
			get_free(s);
	}
	mgr__vault__head_reply__free_unpacked(out, NULL);
	if (resp == NULL)
		return (MGR_ENOMEM);
	MHD_add_response_header(resp, "Content-Type", "application/octet-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, lm);
	return (gw_reply_response(r, 200, resp));
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
	const char *raw = MHD_lookup_connection_value(r->conn,
	    MHD_GET_ARGUMENT_KIND, key);

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

		json_array_append_new(arr, json_pack("{s:s, s:I, s:s, s:o}",
		    "key", o->key, "size", (json_int_t)o->size, "etag", o->etag,
		    "modified_at", gw_json_time_value(o->modified_at)));
	}
	rv = gw_reply_json(r, 200, json_pack("{s:o, s:o}", "objects", arr,
	    "next_after", *out->next_after != '\0' ? json_string(out->next_after)
	                                          : json_null()));
	mgr__vault__list_objects_reply__free_unpacked(out, NULL);
	return (rv);
}

#define APP_OR_ADMIN (GW_AUTH_APP | GW_AUTH_ADMIN)

const struct gw_route gw_routes_vaults[] = {
	{"POST", "/api/v1/vault-templates", GW_AUTH_ADMIN, GW_BODY_JSON,
	    h_tpl_create, NULL, NULL, NULL},
	{"GET", "/api/v1/vault-templates", GW_AUTH_ADMIN, GW_BODY_NONE,
	    h_tpl_list, NULL, NULL, NULL},
	{"POST", "/api/v1/vaults", APP_OR_ADMIN, GW_BODY_JSON, h_vault_create,
	    NULL, NULL, NULL},
	{"GET", "/api/v1/vaults", APP_OR_ADMIN, GW_BODY_NONE, h_vault_list, NULL,
	    NULL, NULL},
	{"GET", "/api/v1/vaults/{}", APP_OR_ADMIN, GW_BODY_NONE, h_vault_get, NULL,
	    NULL, NULL},
	{"DELETE", "/api/v1/vaults/{}", APP_OR_ADMIN, GW_BODY_NONE, h_vault_delete,
	    NULL, NULL, NULL},
	{"PATCH", "/api/v1/vaults/{}", APP_OR_ADMIN, GW_BODY_JSON, h_vault_update,
	    NULL, NULL, NULL},
	{"PUT", "/api/v1/vaults/{}", APP_OR_ADMIN, GW_BODY_JSON, h_vault_update,
	    NULL, NULL, NULL},
	{"GET", "/api/v1/vaults/{}/objects", APP_OR_ADMIN, GW_BODY_NONE,
	    h_object_list, NULL, NULL, NULL},
	{"PUT", "/api/v1/vaults/{}/objects/{+}", APP_OR_ADMIN, GW_BODY_STREAM,
	    h_object_put, up_object_put, cleanup_object_put, NULL},
	{"GET", "/api/v1/vaults/{}/objects/{+}", APP_OR_ADMIN, GW_BODY_NONE,
	    h_object_get, NULL, NULL, NULL},
	{"HEAD", "/api/v1/vaults/{}/objects/{+}", APP_OR_ADMIN, GW_BODY_NONE,
	    h_object_get, NULL, NULL, NULL},
	{"DELETE", "/api/v1/vaults/{}/objects/{+}", APP_OR_ADMIN, GW_BODY_NONE,
	    h_object_delete, NULL, NULL, NULL},
	{NULL},
};
