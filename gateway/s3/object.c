/* Objects: PutObject (streamed through gateway/objio.c), GetObject and
 * HeadObject (Range, conditions, response-* overrides, the kept headers),
 * DeleteObject, DeleteObjects and CopyObject. The bytes are the REST API's:
 * the same vault-svc calls, the same objects. */
#include "gateway/s3/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "gateway/objio.h"
#include "gateway/path.h"
#include "gateway/range.h"

/* ---- conditions ------------------------------------------------------------ */

/* The S3 ETag's hex (no quotes) of an object. */
static const char *
etag_hex(const Mgr__Vault__Object *o)
{
	return (o->md5 != NULL && *o->md5 != '\0' ? o->md5 : o->etag);
}

/* RFC 9110 13.2.2 with S3's pairings: If-Match, else If-Unmodified-Since
 * (412); If-None-Match, else If-Modified-Since (304). 0: go on. */
static int
preconditions(struct s3_req *q, const char *prefix, const Mgr__Vault__Object *o)
{
	char name[64];
	const char *im, *ius, *inm, *ims;
	int64_t t;

	snprintf(name, sizeof(name), "%sIf-Match", prefix);
	im = s3_header(q, name);
	snprintf(name, sizeof(name), "%sIf-Unmodified-Since", prefix);
	ius = s3_header(q, name);
	snprintf(name, sizeof(name), "%sIf-None-Match", prefix);
	inm = s3_header(q, name);
	snprintf(name, sizeof(name), "%sIf-Modified-Since", prefix);
	ims = s3_header(q, name);
	if (im != NULL) {
		if (!gw_etag_listed(im, etag_hex(o)))
			return (412);
	} else if (ius != NULL && (t = s3_time_parse_http(ius)) >= 0 &&
	    o->modified_at > t) {
		return (412);
	}
	if (inm != NULL) {
		if (gw_etag_listed(inm, etag_hex(o)))
			return (304);
	} else if (ims != NULL && (t = s3_time_parse_http(ims)) >= 0 &&
	    o->modified_at <= t) {
		return (304);
	}
	return (0);
}

/* ---- PutObject --------------------------------------------------------------- */

/* PUT's own conditions: If-None-Match: * (must not exist) and If-Match
 * (one etag: the current one, S3's MD5 or the SHA-256). */
static mgr_err
put_conditions(struct s3_req *q, Mgr__Vault__PutBeginRequest *in, char *im, size_t imlen,
    const char *vault, const char *key)
{
	Mgr__Vault__ObjectRef ref = MGR__VAULT__OBJECT_REF__INIT;
	Mgr__Vault__HeadReply *h = NULL;
	const char *v;
	mgr_err rv;

	if ((v = s3_header(q, MHD_HTTP_HEADER_IF_NONE_MATCH)) != NULL) {
		while (*v == ' ')
			v++;
		if (strcmp(v, "*") != 0)
			return (s3_fail(q, "NotImplemented",
			    "a PUT takes If-None-Match: * "
			    "only"));
		in->if_none_match = 1;
	}
	if ((v = s3_header(q, MHD_HTTP_HEADER_IF_MATCH)) == NULL)
		return (MGR_OK);
	/* The service compares SHA-256 etags: find the current object's. */
	ref.vault = (char *)vault;
	ref.key = (char *)key;
	rv = gw_rpc(&q->r, gw.vault, "vault.HeadObject", &ref.base,
	    &mgr__vault__head_reply__descriptor, (ProtobufCMessage **)&h);
	if (rv == MGR_ENOTFOUND && strcmp(q->r.errmsg, "no such vault") != 0)
		return (s3_fail(q, "NoSuchKey", "no such key"));
	if (rv != MGR_OK)
		return (rv);
	if (!gw_etag_listed(v, etag_hex(h->object)) &&
	    !gw_etag_listed(v, h->object->etag))
		rv = s3_fail(q, "PreconditionFailed",
		    "the object does not match "
		    "If-Match");
	else
		snprintf(im, imlen, "%s", h->object->etag);
	mgr__vault__head_reply__free_unpacked(h, NULL);
	return (rv);
}

static mgr_err
put_begin(struct s3_req *q)
{
	Mgr__Vault__PutBeginRequest in = MGR__VAULT__PUT_BEGIN_REQUEST__INIT;
	struct gw_obj_put *p = NULL;
	struct s3_meta m;
	char im[80] = "";
	mgr_err rv;

	if ((rv = s3_meta_of_request(q, &m)) != MGR_OK ||
	    (rv = put_conditions(q, &in, im, sizeof(im), q->bucket, q->key)) != MGR_OK)
		return (rv);
	in.vault = q->bucket;
	in.key = q->key;
	in.size = q->declared;
	in.metadata = m.p;
	in.n_metadata = m.n;
	in.if_match = im;
	rv = gw_obj_put_begin(&q->r, &in, &p);
	q->state = p;
	return (rv);
}

static mgr_err
put_data(struct s3_req *q, const char *data, size_t len)
{
	return (gw_obj_put_data(&q->r, q->state, data, len));
}

mgr_err
s3_put_end(struct s3_req *q)
{
	Mgr__Vault__PutCommitReply *out = NULL;
	struct MHD_Response *resp;
	char etag[80];
	mgr_err rv;

	if (q->state == NULL)
		return (MGR_EINTERNAL);
	if ((rv = gw_obj_put_commit(&q->r, q->state, &out)) != MGR_OK)
		return (rv);
	s3_etag(out->object, etag);
	mgr__vault__put_commit_reply__free_unpacked(out, NULL);
	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return (MGR_ENOMEM);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	if (q->sum_got[0] != '\0')
		MHD_add_response_header(resp, s3_sum_header(q->sum.alg), q->sum_got);
	q->r.bytes = 0;
	return (s3_reply(q, 200, resp));
}

void
s3_put_cleanup(struct s3_req *q)
{
	gw_obj_put_free(&q->r, q->state);
	q->state = NULL;
}

/* ---- GetObject / HeadObject ------------------------------------------------- */

static const struct {
	const char *param, *header;
} overrides[] = {
    {"response-content-type", "Content-Type"},
    {"response-content-language", "Content-Language"},
    {"response-expires", "Expires"},
    {"response-cache-control", "Cache-Control"},
    {"response-content-disposition", "Content-Disposition"},
    {"response-content-encoding", "Content-Encoding"},
};
#define NOVERRIDES (sizeof(overrides) / sizeof(overrides[0]))

static void
object_headers(struct s3_req *q, struct MHD_Response *resp,
    const Mgr__Vault__HeadReply *h, int full)
{
	const Mgr__Vault__Object *o = h->object;
	const char *ov[NOVERRIDES];
	char etag[80], lm[40];
	int has_ct = 0;

	s3_etag(o, etag);
	s3_time_http(o->modified_at, lm);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, lm);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	for (size_t i = 0; i < NOVERRIDES; i++)
		ov[i] = s3_query(q, overrides[i].param);
	for (size_t i = 0; i < o->n_metadata; i++) {
		const Mgr__Vault__Header *m = o->metadata[i];
		int skip = 0;

		if (strncasecmp(m->name, "x-amz-checksum-", 15) == 0 && !full)
			continue;
		for (size_t k = 0; k < NOVERRIDES; k++)
			if (ov[k] != NULL &&
			    strcasecmp(m->name, overrides[k].header) == 0)
				skip = 1;
		if (strcasecmp(m->name, "Content-Type") == 0)
			has_ct = 1;
		if (!skip)
			MHD_add_response_header(resp, m->name, m->value);
	}
	for (size_t k = 0; k < NOVERRIDES; k++) {
		if (ov[k] == NULL)
			continue;
		MHD_add_response_header(resp, overrides[k].header, ov[k]);
		if (k == 0)
			has_ct = 1;
	}
	if (!has_ct)
		MHD_add_response_header(resp, "Content-Type", "binary/octet-stream");
}

static mgr_err
head_object(struct s3_req *q, int with_data, Mgr__Vault__HeadReply **out)
{
	Mgr__Vault__ObjectRef in = MGR__VAULT__OBJECT_REF__INIT;

	in.vault = q->bucket;
	in.key = q->key;
	in.with_data = with_data;
	return (gw_rpc(&q->r, gw.vault, "vault.HeadObject", &in.base,
	    &mgr__vault__head_reply__descriptor, (ProtobufCMessage **)out));
}

static mgr_err
get_or_head(struct s3_req *q, int fetch)
{
	Mgr__Vault__HeadReply *h = NULL;
	struct MHD_Response *resp = NULL;
	int64_t first = 0, last = -1, size;
	char cr[96];
	int ranged, cond, status = 200;
	mgr_err rv;

	if ((rv = head_object(q, fetch, &h)) != MGR_OK)
		return (rv);
	size = h->object->size;
	if ((cond = preconditions(q, "", h->object)) == 412) {
		rv = s3_fail(q, "PreconditionFailed",
		    "At least one of the "
		    "preconditions you specified did not hold");
		goto out;
	}
	if (cond == 304) {
		resp = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
		if (resp == NULL) {
			rv = MGR_ENOMEM;
			goto out;
		}
		object_headers(q, resp, h, 0);
		q->r.bytes = 0;
		rv = s3_reply(q, 304, resp);
		goto out;
	}
	ranged = gw_range(s3_header(q, MHD_HTTP_HEADER_RANGE), size, &first, &last);
	if (ranged < 0) {
		rv = s3_fail(q, "InvalidRange",
		    "The requested range is not "
		    "satisfiable");
		goto out;
	}
	if (ranged == 0) {
		first = 0;
		last = size - 1;
	}
	if ((rv = gw_obj_body(&q->r, h, first, last - first + 1, fetch, &resp)) != MGR_OK)
		goto out;
	object_headers(q, resp, h, ranged == 0);
	if (ranged > 0) {
		status = 206;
		snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long)first,
		    (long long)last, (long long)size);
		MHD_add_response_header(resp, "Content-Range", cr);
	}
	rv = s3_reply(q, status, resp);
out:
	mgr__vault__head_reply__free_unpacked(h, NULL);
	return (rv);
}

static mgr_err
get_object(struct s3_req *q)
{
	return (get_or_head(q, 1));
}

static mgr_err
head_object_op(struct s3_req *q)
{
	return (get_or_head(q, 0));
}

/* ---- DeleteObject(s) -------------------------------------------------------- */

/* One key: OK also when it was not there (S3 answers 204 then). */
static mgr_err
delete_key(struct s3_req *q, const char *key)
{
	Mgr__Vault__ObjectRef in = MGR__VAULT__OBJECT_REF__INIT;
	mgr_err rv;

	in.vault = q->bucket;
	in.key = (char *)key;
	rv = gw_rpc(&q->r, gw.vault, "vault.DeleteObject", &in.base, NULL, NULL);
	if (rv == MGR_ENOTFOUND && strcmp(q->r.errmsg, "no such vault") != 0) {
		q->r.errmsg[0] = '\0';
		return (MGR_OK);
	}
	return (rv);
}

static mgr_err
delete_object(struct s3_req *q)
{
	mgr_err rv;

	if ((rv = delete_key(q, q->key)) != MGR_OK)
		return (rv);
	return (s3_reply_empty(q, 204));
}

static mgr_err
delete_objects(struct s3_req *q)
{
	Mgr__Vault__VaultRef ref = MGR__VAULT__VAULT_REF__INIT;
	Mgr__Vault__Vault *v = NULL;
	char **keys = NULL;
	size_t *lens = NULL, n = 0;
	struct s3_xml *x = NULL;
	int quiet = 0;
	mgr_err rv;

	if (s3_xml_parse_delete(q->r.body.data, q->r.body.len, &keys, &lens, &n,
	        &quiet) != MGR_OK)
		return (s3_fail(q, "MalformedXML", "bad Delete document"));
	/* The bucket first: not one of the caller's is one error, not one
	 * per key. */
	ref.name = q->bucket;
	if ((rv = gw_rpc(&q->r, gw.vault, "vault.Get", &ref.base,
	         &mgr__vault__vault__descriptor, (ProtobufCMessage **)&v)) != MGR_OK) {
		if (rv == MGR_ENOTFOUND)
			rv = s3_fail(q, "NoSuchBucket", "no such bucket");
		goto out;
	}
	mgr__vault__vault__free_unpacked(v, NULL);
	if ((rv = s3_xml_new(&x, "DeleteResult")) != MGR_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		mgr_err e = MGR_OK;

		if (strlen(keys[i]) != lens[i] || lens[i] == 0 || lens[i] > S3_KEY_MAX)
			e = gw_fail(&q->r, MGR_EINVAL, "bad key");
		else
			e = delete_key(q, keys[i]);
		if (e == MGR_OK) {
			if (!quiet) {
				s3_xml_open(x, "Deleted");
				s3_xml_text(x, "Key", keys[i], lens[i]);
				s3_xml_close(x);
			}
			continue;
		}
		s3_xml_open(x, "Error");
		s3_xml_text(x, "Key", keys[i], lens[i]);
		s3_xml_text(x, "Code", s3_error_of(e, 1)->code, (size_t)-1);
		s3_xml_text(x, "Message", q->r.errmsg, (size_t)-1);
		s3_xml_close(x);
		q->r.errmsg[0] = '\0';
	}
	rv = s3_reply_xml(q, 200, x);
	x = NULL;
out:
	s3_xml_free(x);
	s3_keys_free(keys, lens, n);
	return (rv);
}

/* ---- CopyObject -------------------------------------------------------------- */

/* x-amz-copy-source: "[/]bucket/key" percent-encoded; a versionId is a
 * version this gateway does not keep. */
static mgr_err
copy_source(struct s3_req *q, char *bucket, size_t blen, char *key, size_t klen)
{
	const char *src = s3_header(q, "x-amz-copy-source");
	const char *slash, *qm;
	size_t n, dn;

	if (src == NULL)
		return (s3_fail(q, "InvalidArgument", "no x-amz-copy-source"));
	if (*src == '/')
		src++;
	if ((qm = strchr(src, '?')) != NULL) {
		if (strncmp(qm, "?versionId=", 11) != 0 || strcmp(qm + 11, "null") != 0)
			return (s3_fail(q, "NotImplemented", "versions are not kept"));
	}
	n = qm != NULL ? (size_t)(qm - src) : strlen(src);
	if ((slash = memchr(src, '/', n)) == NULL || slash == src)
		return (s3_fail(q, "InvalidArgument",
		    "x-amz-copy-source is "
		    "bucket/key"));
	if (gw_pct_decode(src, (size_t)(slash - src), 0, bucket, blen, &dn) != MGR_OK ||
	    strlen(bucket) != dn ||
	    gw_pct_decode(slash + 1, n - (size_t)(slash - src) - 1, 0, key, klen, &dn) !=
	        MGR_OK ||
	    strlen(key) != dn || dn == 0)
		return (s3_fail(q, "InvalidArgument", "bad x-amz-copy-source"));
	return (MGR_OK);
}

static mgr_err
copy_object(struct s3_req *q)
{
	Mgr__Vault__ObjectRef ref = MGR__VAULT__OBJECT_REF__INIT;
	Mgr__Vault__PutBeginRequest in = MGR__VAULT__PUT_BEGIN_REQUEST__INIT;
	Mgr__Vault__HeadReply *h = NULL;
	Mgr__Vault__PutCommitReply *out = NULL;
	struct gw_obj_put *p = NULL;
	const char *dir = s3_header(q, "x-amz-metadata-directive");
	char sb[S3_BUCKET_MAX + 1], sk[S3_KEY_MAX + 1], im[80] = "";
	char etag[80], lm[32];
	struct s3_meta m;
	struct s3_xml *x = NULL;
	int replace = 0, cond;
	mgr_err rv;

	if (dir != NULL && strcmp(dir, "REPLACE") == 0)
		replace = 1;
	else if (dir != NULL && strcmp(dir, "COPY") != 0)
		return (s3_fail(q, "InvalidArgument",
		    "x-amz-metadata-directive is "
		    "COPY or REPLACE"));
	if ((rv = copy_source(q, sb, sizeof(sb), sk, sizeof(sk))) != MGR_OK)
		return (rv);
	if (!replace && strcmp(sb, q->bucket) == 0 && strcmp(sk, q->key) == 0)
		return (s3_fail(q, "InvalidRequest",
		    "This copy request is illegal "
		    "because it is trying to copy an object to itself without "
		    "changing the object's metadata"));
	ref.vault = sb;
	ref.key = sk;
	if ((rv = gw_rpc(&q->r, gw.vault, "vault.HeadObject", &ref.base,
	         &mgr__vault__head_reply__descriptor, (ProtobufCMessage **)&h)) !=
	    MGR_OK) {
		if (rv == MGR_ENOTFOUND)
			rv = s3_fail(q,
			    strcmp(q->r.errmsg, "no such vault") == 0 ? "NoSuchBucket"
			                                              : "NoSuchKey",
			    "no such copy source");
		return (rv);
	}
	if ((cond = preconditions(q, "x-amz-copy-source-", h->object)) != 0) {
		rv = s3_fail(q, "PreconditionFailed",
		    "At least one of the "
		    "preconditions you specified did not hold");
		goto out;
	}
	if (replace) {
		if ((rv = s3_meta_of_request(q, &m)) != MGR_OK)
			goto out;
		in.metadata = m.p;
		in.n_metadata = m.n;
	} else {
		in.metadata = h->object->metadata;
		in.n_metadata = h->object->n_metadata;
	}
	if ((rv = put_conditions(q, &in, im, sizeof(im), q->bucket, q->key)) != MGR_OK)
		goto out;
	in.vault = q->bucket;
	in.key = q->key;
	in.size = h->object->size;
	in.if_match = im;
	if ((rv = gw_obj_put_begin(&q->r, &in, &p)) != MGR_OK ||
	    (rv = gw_obj_copy(&q->r, h, 0, h->object->size, p)) != MGR_OK ||
	    (rv = gw_obj_put_commit(&q->r, p, &out)) != MGR_OK)
		goto out;
	s3_etag(out->object, etag);
	s3_time_iso(out->object->modified_at, lm);
	mgr__vault__put_commit_reply__free_unpacked(out, NULL);
	if ((rv = s3_xml_new(&x, "CopyObjectResult")) != MGR_OK)
		goto out;
	s3_xml_text(x, "LastModified", lm, (size_t)-1);
	s3_xml_text(x, "ETag", etag, (size_t)-1);
	rv = s3_reply_xml(q, 200, x);
out:
	gw_obj_put_free(&q->r, p);
	mgr__vault__head_reply__free_unpacked(h, NULL);
	return (rv);
}

/* For UploadPartCopy (multipart.c): the same source and conditions. */
int
s3_preconditions(struct s3_req *q, const char *prefix, const Mgr__Vault__Object *o)
{
	return (preconditions(q, prefix, o));
}

mgr_err
s3_copy_source(struct s3_req *q, char *bucket, size_t blen, char *key, size_t klen)
{
	return (copy_source(q, bucket, blen, key, klen));
}

const struct s3_opdef s3_op_put_object = {S3_BODY_STREAM, 1, put_begin, put_data,
    s3_put_end, s3_put_cleanup};
const struct s3_opdef s3_op_get_object = {S3_BODY_NONE, 1, NULL, NULL, get_object, NULL};
const struct s3_opdef s3_op_head_object = {S3_BODY_NONE, 1, NULL, NULL, head_object_op,
    NULL};
const struct s3_opdef s3_op_delete_object = {S3_BODY_NONE, 1, NULL, NULL, delete_object,
    NULL};
const struct s3_opdef s3_op_delete_objects = {S3_BODY_XML, 0, NULL, NULL, delete_objects,
    NULL};
const struct s3_opdef s3_op_copy_object = {S3_BODY_NONE, 1, NULL, NULL, copy_object,
    NULL};
