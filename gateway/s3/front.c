/* The S3 front: its listener, dispatch, caller, bodies and errors (s3.h).
 * Every request: route (wire.h's s3_route), the caller of the client
 * certificate (every rule of `app`, checked again on each request, so a
 * revocation or a disable stops an open connection too), the access key
 * of an AWS signature (not a credential; one naming another account is
 * refused), then the operation. Errors are S3's XML. */
#include "gateway/s3/s3.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/audit.h"
#include "common/log.h"
#include "common/util.h"
#include "gateway/conn.h"

#define S3_QUERY_MAX 32

static const struct s3_opdef *const s3_ops[S3_OP_COUNT] = {
    [S3_OP_LIST_BUCKETS] = &s3_op_list_buckets,
    [S3_OP_CREATE_BUCKET] = &s3_op_create_bucket,
    [S3_OP_HEAD_BUCKET] = &s3_op_head_bucket,
    [S3_OP_DELETE_BUCKET] = &s3_op_delete_bucket,
    [S3_OP_GET_LOCATION] = &s3_op_get_location,
    [S3_OP_GET_VERSIONING] = &s3_op_get_versioning,
    [S3_OP_LIST_OBJECTS] = &s3_op_list_objects,
    [S3_OP_LIST_OBJECTS_V2] = &s3_op_list_objects_v2,
    [S3_OP_LIST_UPLOADS] = &s3_op_list_uploads,
    [S3_OP_DELETE_OBJECTS] = &s3_op_delete_objects,
    [S3_OP_PUT_OBJECT] = &s3_op_put_object,
    [S3_OP_COPY_OBJECT] = &s3_op_copy_object,
    [S3_OP_GET_OBJECT] = &s3_op_get_object,
    [S3_OP_HEAD_OBJECT] = &s3_op_head_object,
    [S3_OP_DELETE_OBJECT] = &s3_op_delete_object,
    [S3_OP_CREATE_UPLOAD] = &s3_op_create_upload,
    [S3_OP_UPLOAD_PART] = &s3_op_upload_part,
    [S3_OP_UPLOAD_PART_COPY] = &s3_op_upload_part_copy,
    [S3_OP_COMPLETE_UPLOAD] = &s3_op_complete_upload,
    [S3_OP_ABORT_UPLOAD] = &s3_op_abort_upload,
    [S3_OP_LIST_PARTS] = &s3_op_list_parts,
};

/* ---- helpers for the operations ----------------------------------------- */

const char *
s3_header(struct s3_req *q, const char *name)
{
	return (MHD_lookup_connection_value(q->r.conn, MHD_HEADER_KIND, name));
}

int
s3_has_query(struct s3_req *q, const char *name)
{
	const char *v = NULL;

	return (MHD_lookup_connection_value_n(q->r.conn, MHD_GET_ARGUMENT_KIND, name,
	            strlen(name), &v, NULL) == MHD_YES);
}

const char *
s3_query(struct s3_req *q, const char *name)
{
	return (gw_query(&q->r, name));
}

void
s3_fail_set(struct s3_req *q, const char *code, const char *fmt, ...)
{
	va_list ap;

	q->s3code = code;
	va_start(ap, fmt);
	vsnprintf(q->r.errmsg, sizeof(q->r.errmsg), fmt, ap);
	va_end(ap);
}

mgr_err
s3_reply(struct s3_req *q, int status, struct MHD_Response *resp)
{
	if (resp == NULL)
		return (MGR_ENOMEM);
	MHD_add_response_header(resp, "x-amz-request-id", q->r.request_id);
	MHD_add_response_header(resp, "Server", "Manager");
	return (gw_reply_response(&q->r, status, resp));
}

mgr_err
s3_reply_empty(struct s3_req *q, int status)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!q->r.responded)
		q->r.bytes = 0;
	return (s3_reply(q, status, resp));
}

mgr_err
s3_reply_xml(struct s3_req *q, int status, struct s3_xml *x)
{
	struct MHD_Response *resp;
	char *doc = NULL;
	size_t len = 0;
	mgr_err rv;

	if ((rv = s3_xml_finish(x, &doc, &len)) != MGR_OK)
		return (rv);
	resp = MHD_create_response_from_buffer(len, doc, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(doc);
		return (MGR_ENOMEM);
	}
	MHD_add_response_header(resp, "Content-Type", "application/xml");
	if (!q->r.responded)
		q->r.bytes = (int64_t)len;
	return (s3_reply(q, status, resp));
}

void
s3_etag(const Mgr__Vault__Object *o, char out[80])
{
	snprintf(out, 80, "\"%s\"", o->md5 != NULL && *o->md5 != '\0' ? o->md5 : o->etag);
}

/* ---- metadata ------------------------------------------------------------ */

static const char *const s3_kept[] = {"Content-Type", "Content-Disposition",
    "Content-Encoding", "Content-Language", "Cache-Control", "Expires", NULL};

struct meta_walk {
	struct s3_meta *m;
	size_t user_bytes;
	int over;
};

static enum MHD_Result
meta_collect(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
    const char *value, size_t value_size)
{
	struct meta_walk *w = cls;
	int keep = 0;

	(void)kind;
	if (value == NULL)
		return (MHD_YES);
	if (key_size > 11 && strncasecmp(key, "x-amz-meta-", 11) == 0) {
		w->user_bytes += key_size - 11 + value_size;
		keep = 1;
	} else if (strncasecmp(key, "x-amz-checksum-", 15) == 0 &&
	    s3_sum_alg_of(key) != S3_SUM_NONE) {
		keep = 1;
	} else {
		for (const char *const *k = s3_kept; *k != NULL; k++)
			if (strcasecmp(key, *k) == 0)
				keep = 1;
		/* aws-chunked is how the body came, not what it is. */
		if (keep && strcasecmp(key, "Content-Encoding") == 0 &&
		    strncasecmp(value, "aws-chunked", 11) == 0) {
			value += 11;
			while (*value == ',' || *value == ' ')
				value++;
			if (*value == '\0')
				keep = 0;
		}
	}
	if (!keep)
		return (MHD_YES);
	if (w->m->n == S3_META_MAX) {
		w->over = 1;
		return (MHD_NO);
	}
	mgr__vault__header__init(&w->m->h[w->m->n]);
	w->m->h[w->m->n].name = (char *)key;
	w->m->h[w->m->n].value = (char *)value;
	w->m->p[w->m->n] = &w->m->h[w->m->n];
	w->m->n++;
	return (MHD_YES);
}

mgr_err
s3_meta_of_request(struct s3_req *q, struct s3_meta *m)
{
	struct meta_walk w = {m, 0, 0};

	m->n = 0;
	MHD_get_connection_values_n(q->r.conn, MHD_HEADER_KIND, meta_collect, &w);
	if (w.over || w.user_bytes > 2048)
		return (s3_fail(q, "MetadataTooLarge",
		    "user metadata is at most "
		    "2 KiB"));
	return (MGR_OK);
}

void
s3_meta_to_response(struct MHD_Response *resp, Mgr__Vault__Header **h, size_t n, int full)
{
	for (size_t i = 0; i < n; i++) {
		if (strncasecmp(h[i]->name, "x-amz-checksum-", 15) == 0 && !full)
			continue;
		MHD_add_response_header(resp, h[i]->name, h[i]->value);
	}
}

/* ---- errors -------------------------------------------------------------- */

/* The S3 error of a failed request (s3.h: s3_fail, a code word in the
 * message, the error's). */
static const struct s3_error *
error_of(struct s3_req *q, mgr_err e)
{
	const struct s3_error *se;
	const char *msg = q->r.errmsg;
	size_t n;

	if (q->s3code != NULL)
		return (s3_error_by_code(q->s3code));
	n = strcspn(msg, ": ");
	if (n > 0 && n < 40 && msg[n] == ':') {
		char word[40];

		memcpy(word, msg, n);
		word[n] = '\0';
		se = s3_error_by_code(word);
		if (strcmp(se->code, word) == 0)
			return (se);
	}
	switch (e) {
	case MGR_ENOTFOUND:
		if (strcmp(msg, "no such vault") == 0)
			return (s3_error_by_code("NoSuchBucket"));
		break;
	case MGR_EPRECOND:
		return (s3_error_by_code("PreconditionFailed"));
	case MGR_ERANGE:
		return (s3_error_by_code("InvalidRange"));
	case MGR_ETOOBIG:
		if (strstr(msg, "quota") != NULL)
			return (s3_error_by_code("QuotaExceeded"));
		break;
	default:
		break;
	}
	return (s3_error_of(e, q->def != NULL ? q->def->on_object : q->keylen > 0));
}

static void
reply_error(struct s3_req *q, mgr_err e)
{
	const struct s3_error *se = error_of(q, e);
	struct MHD_Response *resp;
	const char *msg;
	char *doc = NULL;
	size_t len = 0;

	if (q->r.responded)
		return;
	/* Internal errors say nothing of what broke (the log does). */
	if (se->status >= 500 || q->r.errmsg[0] == '\0')
		msg = se->message;
	else
		msg = q->r.errmsg;
	if (se->status >= 500 && q->r.errmsg[0] != '\0')
		log_warn(q->r.request_id, "s3 %s: %s", s3_op_name(q->op), q->r.errmsg);
	if (s3_xml_error(se->code, msg, q->r.url, q->r.request_id, &doc, &len) !=
	    MGR_OK) {
		gw_reply_text(&q->r, se->status, "text/plain", se->code);
		return;
	}
	resp = MHD_create_response_from_buffer(len, doc, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(doc);
		return;
	}
	MHD_add_response_header(resp, "Content-Type", "application/xml");
	q->r.bytes = (int64_t)len;
	s3_reply(q, se->status, resp);
}

/* ---- the streamed body ---------------------------------------------------- */

static mgr_err
body_sink(void *arg, const char *data, size_t len)
{
	struct s3_req *q = arg;

	if (len == 0)
		return (MGR_OK);
	if (q->declared >= 0 && (int64_t)len > q->declared - (int64_t)q->received)
		return (s3_fail(q, "InvalidRequest",
		    "the body is longer than its "
		    "declared length"));
	q->received += len;
	if (q->md5 != NULL && EVP_DigestUpdate(q->md5, data, len) != 1)
		return (MGR_EINTERNAL);
	if (q->sum.alg != S3_SUM_NONE && s3_sum_update(&q->sum, data, len) != MGR_OK)
		return (MGR_EINTERNAL);
	return (q->def->data(q, data, len));
}

/* How the body comes and what to check it against: aws-chunked,
 * x-amz-decoded-content-length, Content-MD5, x-amz-checksum-*,
 * x-amz-trailer. */
static mgr_err
body_begin(struct s3_req *q)
{
	const char *ce = s3_header(q, "Content-Encoding");
	const char *sha = s3_header(q, "x-amz-content-sha256");
	const char *cl = s3_header(q, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *dl = s3_header(q, "x-amz-decoded-content-length");
	const char *md5 = s3_header(q, "Content-MD5");
	const char *tr = s3_header(q, "x-amz-trailer");
	enum s3_sum_alg alg = S3_SUM_NONE;
	const char *want = NULL;
	int64_t n;

	q->declared = -1;
	q->chunked = (ce != NULL && strncasecmp(ce, "aws-chunked", 11) == 0) ||
	    (sha != NULL && strncmp(sha, "STREAMING-", 10) == 0);
	if (q->chunked) {
		if (dl == NULL || mgr_parse_i64(dl, &n) != MGR_OK || n < 0)
			return (s3_fail(q, "MissingContentLength",
			    "an aws-chunked body "
			    "needs x-amz-decoded-content-length"));
		q->declared = n;
		s3_chunked_init(&q->ch, (uint64_t)n);
	} else if (cl != NULL) {
		if (mgr_parse_i64(cl, &n) != MGR_OK || n < 0)
			return (s3_fail(q, "InvalidArgument", "bad Content-Length"));
		q->declared = n;
	}
	if (q->declared > gw.cfg.max_object_bytes)
		return (s3_fail(q, "EntityTooLarge", "an object is at most %lld bytes",
		    (long long)gw.cfg.max_object_bytes));
	if (md5 != NULL) {
		if (!s3_content_md5(md5, q->md5_want))
			return (s3_fail(q, "InvalidDigest",
			    "Content-MD5 is not the "
			    "base64 of 16 bytes"));
		if ((q->md5 = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(q->md5, EVP_md5(), NULL) != 1)
			return (MGR_ENOMEM);
	}
	for (enum s3_sum_alg a = S3_SUM_CRC32; a < S3_SUM_COUNT; a++) {
		const char *v = s3_header(q, s3_sum_header(a));

		if (v == NULL)
			continue;
		if (alg != S3_SUM_NONE)
			return (s3_fail(q, "InvalidRequest", "more than one checksum"));
		alg = a;
		want = v;
	}
	if (tr != NULL) {
		enum s3_sum_alg ta = s3_sum_alg_of(tr);

		if (ta == S3_SUM_NONE || !q->chunked)
			return (s3_fail(q, "InvalidRequest",
			    "x-amz-trailer names no "
			    "checksum of an aws-chunked body"));
		if (alg != S3_SUM_NONE && alg != ta)
			return (s3_fail(q, "InvalidRequest", "more than one checksum"));
		alg = ta;
		snprintf(q->sum_trailer, sizeof(q->sum_trailer), "%s", s3_sum_header(ta));
	}
	if (alg != S3_SUM_NONE) {
		if (want != NULL) {
			if (strlen(want) >= sizeof(q->sum_want))
				return (s3_fail(q, "InvalidRequest", "bad %s",
				    s3_sum_header(alg)));
			snprintf(q->sum_want, sizeof(q->sum_want), "%s", want);
		}
		if (s3_sum_init(&q->sum, alg) != MGR_OK)
			return (MGR_ENOMEM);
	}
	return (MGR_OK);
}

/* After the last byte: the body is whole and what it was declared to be. */
static mgr_err
body_finish(struct s3_req *q)
{
	char got[S3_SUM_B64_MAX];

	if (q->chunked && s3_chunked_finish(&q->ch) != MGR_OK)
		return (s3_fail(q, "IncompleteBody",
		    "the aws-chunked body ended "
		    "early"));
	if (q->declared >= 0 && (int64_t)q->received != q->declared)
		return (s3_fail(q, "IncompleteBody", "%llu bytes of %lld",
		    (unsigned long long)q->received, (long long)q->declared));
	if (q->md5 != NULL) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;

		if (EVP_DigestFinal_ex(q->md5, md, &mdlen) != 1 || mdlen != 16)
			return (MGR_EINTERNAL);
		if (memcmp(md, q->md5_want, 16) != 0)
			return (s3_fail(q, "BadDigest",
			    "the Content-MD5 you specified "
			    "did not match what we received"));
	}
	if (q->sum.alg != S3_SUM_NONE) {
		const char *want = q->sum_want;

		if (q->sum_trailer[0] != '\0' && *want == '\0') {
			want = s3_chunked_trailer(&q->ch, q->sum_trailer);
			if (want == NULL)
				return (s3_fail(q, "InvalidRequest",
				    "the trailer %s did "
				    "not come",
				    q->sum_trailer));
		}
		if (s3_sum_final(&q->sum, got) != MGR_OK)
			return (MGR_EINTERNAL);
		if (strcmp(got, want) != 0)
			return (s3_fail(q, "BadDigest",
			    "the %s you specified did not "
			    "match the calculated checksum",
			    s3_sum_name(q->sum.alg)));
		snprintf(q->sum_got, sizeof(q->sum_got), "%s", got);
	}
	return (MGR_OK);
}

/* ---- dispatch ------------------------------------------------------------- */

struct qwalk {
	const char *keys[S3_QUERY_MAX];
	const char *vals[S3_QUERY_MAX];
	size_t n;
	int over;
};

static enum MHD_Result
query_collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct qwalk *w = cls;

	(void)kind;
	if (w->n == S3_QUERY_MAX) {
		w->over = 1;
		return (MHD_NO);
	}
	w->keys[w->n] = key;
	w->vals[w->n] = value;
	w->n++;
	return (MHD_YES);
}

/* The caller: a client certificate of an app, and no signature naming
 * another account. */
static mgr_err
caller_check(struct s3_req *q)
{
	const char *auth = s3_header(q, MHD_HTTP_HEADER_AUTHORIZATION);
	char akid[S3_AKID_MAX + 1];
	int k;
	mgr_err rv;

	if ((rv = gw_auth_app(&q->r)) != MGR_OK) {
		q->s3code = "AccessDenied";
		return (rv);
	}
	k = s3_access_key(auth, s3_query(q, "X-Amz-Credential"),
	    s3_query(q, "AWSAccessKeyId"), akid);
	if (k < 0)
		return (s3_fail(q, "AccessDenied",
		    "the Authorization header is no AWS "
		    "signature; the identity is the client certificate"));
	/* Any access key will do, or the account's own id; another
	 * account's id is a request meant for that account. */
	if (k > 0 && strncmp(akid, "acc_", 4) == 0 && strcmp(akid, q->r.caller_id) != 0)
		return (s3_fail(q, "AccessDenied",
		    "the access key names another "
		    "account than the client certificate"));
	return (MGR_OK);
}

/* Everything before the body: route, caller, the operation's begin. */
static mgr_err
request_begin(struct s3_req *q)
{
	struct qwalk w = {.n = 0};
	const char *host = s3_header(q, MHD_HTTP_HEADER_HOST);
	mgr_err rv;

	if (gw_request_wellformed(&q->r) != MGR_OK) {
		char why[sizeof(q->r.errmsg)];

		snprintf(why, sizeof(why), "%s", q->r.errmsg);
		if ((rv = caller_check(q)) != MGR_OK)
			return (rv);
		return (s3_fail(q, "InvalidArgument", "%s", why));
	}

	if (s3_split(host, gw.cfg.s3_domain, q->r.url, q->bucket, q->key, &q->keylen) !=
	    MGR_OK) {
		/* The caller first: a stranger learns nothing of the wire. */
		if ((rv = caller_check(q)) != MGR_OK)
			return (rv);
		return (s3_fail(q,
		    strlen(q->r.url) > S3_KEY_MAX ? "KeyTooLongError" : "InvalidURI",
		    "bad bucket or key in the path"));
	}
	if (strlen(q->key) != q->keylen) {
		if ((rv = caller_check(q)) != MGR_OK)
			return (rv);
		return (s3_fail(q, "InvalidArgument", "a key holds no NUL byte"));
	}
	MHD_get_connection_values(q->r.conn, MHD_GET_ARGUMENT_KIND, query_collect, &w);
	q->op = s3_route(q->r.method, q->bucket[0] != '\0', q->keylen > 0, w.keys, w.vals,
	    w.n, s3_header(q, "x-amz-copy-source") != NULL);
	if ((rv = caller_check(q)) != MGR_OK)
		return (rv);
	if (w.over)
		return (s3_fail(q, "InvalidArgument", "too many query parameters"));
	if (q->op == S3_OP_BAD_METHOD)
		return (s3_fail(q, "MethodNotAllowed", "%s is not allowed here",
		    q->r.method));
	if (q->op <= S3_OP_NONE || q->op >= S3_OP_COUNT || s3_ops[q->op] == NULL)
		return (s3_fail(q, "NotImplemented",
		    "this operation is not "
		    "implemented"));
	q->def = s3_ops[q->op];
	if (q->def->body == S3_BODY_XML) {
		mgr_buf_free(&q->r.body);
		mgr_buf_init(&q->r.body, S3_XML_IN_MAX);
	}
	if (q->def->body == S3_BODY_STREAM && (rv = body_begin(q)) != MGR_OK)
		return (rv);
	q->begun = 1;
	if (q->def->begin != NULL && (rv = q->def->begin(q)) != MGR_OK)
		return (rv);
	return (MGR_OK);
}

static mgr_err
request_body(struct s3_req *q, const char *data, size_t len)
{
	mgr_err rv;

	switch (q->def->body) {
	case S3_BODY_XML:
		if ((rv = mgr_buf_add(&q->r.body, data, len)) == MGR_ETOOBIG)
			return (s3_fail(q, "MalformedXML",
			    "the XML body is over %u bytes", S3_XML_IN_MAX));
		return (rv);
	case S3_BODY_STREAM:
		if (!q->chunked)
			return (body_sink(q, data, len));
		rv = s3_chunked_feed(&q->ch, data, len, body_sink, q);
		if (rv == MGR_EINVAL && q->s3code == NULL)
			return (
			    s3_fail(q, "InvalidRequest", "malformed aws-chunked body"));
		if (rv == MGR_ETOOBIG && q->s3code == NULL)
			return (s3_fail(q, "InvalidRequest",
			    "the body is longer than "
			    "x-amz-decoded-content-length"));
		return (rv);
	default:
		return (MGR_OK);
	}
}

/* An XML body against its Content-MD5 and x-amz-checksum-* headers. */
static mgr_err
xml_verify(struct s3_req *q)
{
	const char *md5 = s3_header(q, "Content-MD5");
	char got[S3_SUM_B64_MAX];
	struct s3_sum sum = {S3_SUM_NONE, 0, NULL};
	mgr_err rv = MGR_OK;

	if (md5 != NULL) {
		unsigned char want[16], md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;

		if (!s3_content_md5(md5, want))
			return (s3_fail(q, "InvalidDigest",
			    "Content-MD5 is not the "
			    "base64 of 16 bytes"));
		if (EVP_Digest(q->r.body.data != NULL ? q->r.body.data : "",
		        q->r.body.len, md, &mdlen, EVP_md5(), NULL) != 1)
			return (MGR_EINTERNAL);
		if (memcmp(md, want, 16) != 0)
			return (s3_fail(q, "BadDigest",
			    "the Content-MD5 you specified "
			    "did not match what we received"));
	}
	for (enum s3_sum_alg a = S3_SUM_CRC32; a < S3_SUM_COUNT && rv == MGR_OK; a++) {
		const char *v = s3_header(q, s3_sum_header(a));

		if (v == NULL)
			continue;
		if (s3_sum_init(&sum, a) != MGR_OK ||
		    s3_sum_update(&sum, q->r.body.data != NULL ? q->r.body.data : "",
		        q->r.body.len) != MGR_OK ||
		    s3_sum_final(&sum, got) != MGR_OK)
			rv = MGR_EINTERNAL;
		else if (strcmp(got, v) != 0)
			rv = s3_fail(q, "BadDigest",
			    "the %s you specified did not "
			    "match the calculated checksum",
			    s3_sum_name(a));
		s3_sum_free(&sum);
	}
	return (rv);
}

static mgr_err
request_end(struct s3_req *q)
{
	mgr_err rv;

	if (q->def->body == S3_BODY_STREAM && (rv = body_finish(q)) != MGR_OK)
		return (rv);
	if (q->def->body == S3_BODY_XML && (rv = xml_verify(q)) != MGR_OK)
		return (rv);
	return (q->def->end(q));
}

/* As the REST path (server.c): an error found before the body is answered
 * after a short body (the client, still sending, reads it), at once for a
 * long one or one held back for "100 Continue". */
static int
answer_after_body(struct s3_req *q)
{
	const char *cl = s3_header(q, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *expect = s3_header(q, MHD_HTTP_HEADER_EXPECT);
	int64_t n;

	if (expect != NULL && strcasecmp(expect, "100-continue") == 0)
		return (0);
	if (cl == NULL)
		return (1);
	return (mgr_parse_i64(cl, &n) == MGR_OK && n >= 0 && n <= (int64_t)GW_DRAIN_MAX);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size,
    void **con_cls)
{
	struct s3_req *q = *con_cls;
	mgr_err rv;

	(void)cls;
	(void)version;
	if (q == NULL) {
		if ((q = calloc(1, sizeof(*q))) == NULL)
			return (MHD_NO);
		*con_cls = q;
		gw_req_init(&q->r, conn, method, url);
		q->declared = -1;
		if ((rv = request_begin(q)) != MGR_OK) {
			q->failed = (int)rv;
			q->drain_capped = 1;
			if (!answer_after_body(q))
				reply_error(q, rv);
		}
		return (MHD_YES);
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (q->failed || q->r.responded) {
			q->drained += n;
			if (!q->r.responded &&
			    q->drained > (q->drain_capped
			                         ? (uint64_t)GW_DRAIN_MAX
			                         : (uint64_t)gw.cfg.max_object_bytes))
				return (MHD_NO);
			return (MHD_YES);
		}
		if (q->def->body == S3_BODY_NONE) {
			q->drained += n;
			return (q->drained > GW_DRAIN_MAX ? MHD_NO : MHD_YES);
		}
		/* No reply in the middle of a body (server.c): keep the error,
		 * drain, answer at the end. */
		if ((rv = request_body(q, upload_data, n)) != MGR_OK) {
			q->failed = (int)rv;
			q->drain_capped = q->def->body != S3_BODY_STREAM;
		}
		return (MHD_YES);
	}
	if (q->failed && !q->r.responded)
		reply_error(q, (mgr_err)q->failed);
	if (q->failed || q->r.responded)
		return (MHD_YES);
	rv = request_end(q);
	if (rv != MGR_OK || !q->r.responded) {
		if (rv == MGR_OK)
			rv = gw_fail(&q->r, MGR_EINTERNAL, "no response");
		q->failed = (int)rv;
		reply_error(q, rv);
	}
	return (MHD_YES);
}

/* The access-log line (server.c's fields; the operation for the route:
 * never the key or the query, which are the owner's data). */
static void
access_log(const struct s3_req *q, int status, int64_t dur_us)
{
	const struct gw_req *r = &q->r;
	struct mgr_log_field f[] = {
	    MGR_LF_S("method", r->method),
	    MGR_LF_S("route", s3_op_name(q->op)),
	    MGR_LF_S("front", "s3"),
	    MGR_LF_I("status", status),
	    MGR_LF_D("duration_ms", (double)dur_us / 1000.0),
	    MGR_LF_S("caller_kind", audit_caller_kind(&r->caller)),
	    MGR_LF_S("account_id",
	        r->caller.kind != MGR__CALLER__KIND__NONE && r->caller_id[0] != '\0'
	            ? r->caller_id
	            : NULL),
	    MGR_LF_I("bytes", r->bytes),
	};
	size_t nf = sizeof(f) / sizeof(f[0]);

	if (!mgr_log_enabled(MGR_LOG_INFO))
		return;
	if (r->bytes < 0)
		nf--;
	mgr_log_fields(MGR_LOG_INFO, r->request_id, f, nf, "access");
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct s3_req *q = *con_cls;
	int64_t dur_us;
	int status;

	(void)cls;
	(void)conn;
	(void)toe;
	if (q == NULL)
		return;
	dur_us = gw_now_us() - q->r.start_us;
	status = q->r.responded ? q->r.status : 499;
	gw_metrics_request(-1, s3_op_name(q->op), status, dur_us);
	access_log(q, status, dur_us);
	if (q->def != NULL && q->begun && q->def->cleanup != NULL)
		q->def->cleanup(q);
	EVP_MD_CTX_free(q->md5);
	s3_sum_free(&q->sum);
	gw_req_fini(&q->r);
	free(q);
	*con_cls = NULL;
}

mgr_err
s3_front_start(struct gw_listener **out)
{
	static struct gw_handler h = {on_request, on_completed, NULL};

	*out = NULL;
	if (gw.cfg.s3_port == 0)
		return (MGR_OK);
	if (gw.cfg.s3_port == gw.cfg.https_port) {
		log_error(NULL, "MANAGER_S3_PORT must differ from MANAGER_HTTPS_PORT");
		return (MGR_EINVAL);
	}
	return (gw_listen("s3", gw.cfg.s3_port, &h, out));
}
