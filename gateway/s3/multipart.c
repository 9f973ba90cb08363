/* Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
 * CompleteMultipartUpload, AbortMultipartUpload, ListParts and
 * ListMultipartUploads on vault-svc's multipart calls (proto/vault.proto).
 * A part is an upload of its own (vault.PutBegin with the upload's id and
 * the part number) streamed through gateway/objio.c like a PutObject, so
 * the front verifies its Content-MD5, x-amz-checksum-* and aws-chunked
 * body as for any object; CompleteMultipartUpload composes the object of
 * the parts without copying their data. vault-svc's refusals name their S3
 * code (NoSuchUpload, InvalidPart, InvalidPartOrder, EntityTooSmall, ...)
 * as the first word of their message, which the front turns into the
 * error; the checks here are the ones of the wire (part numbers, markers,
 * the copy source and range). */
#include "gateway/s3/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "gateway/objio.h"

#define MP_LIST_MAX 1000 /* max-parts, max-uploads */
#define MP_UPLOAD_ID_MAX 64
#define MP_PART_BYTES_MAX (INT64_C(5) << 30) /* S3: a part is at most 5 GiB */

/* ---- the wire ------------------------------------------------------------ */

/* uploadId: present, and short enough to be one (vault-svc decides). */
static mgr_err
upload_id_of(struct s3_req *q, const char **out)
{
	const char *id = s3_query(q, "uploadId");

	if (id == NULL || *id == '\0' || strlen(id) > MP_UPLOAD_ID_MAX)
		return (s3_fail(q, "NoSuchUpload",
		    "The specified upload does not "
		    "exist. The upload ID may be invalid, or the upload may have "
		    "been aborted or completed."));
	*out = id;
	return (MGR_OK);
}

/* partNumber: 1 to 10000 (S3's InvalidArgument otherwise). */
static mgr_err
part_number_of(struct s3_req *q, uint32_t *out)
{
	const char *s = s3_query(q, "partNumber");
	int64_t n;

	if (s == NULL || mgr_parse_i64(s, &n) != MGR_OK || n < 1 || n > S3_PARTS_MAX)
		return (s3_fail(q, "InvalidArgument",
		    "Part number must be an "
		    "integer between 1 and %d, inclusive",
		    S3_PARTS_MAX));
	*out = (uint32_t)n;
	return (MGR_OK);
}

/* A non-negative integer query parameter (absent: def), at most max. */
static mgr_err
query_count(struct s3_req *q, const char *name, int64_t def, int64_t max, int64_t *out)
{
	const char *s = s3_query(q, name);
	int64_t n = def;

	if (s != NULL && (mgr_parse_i64(s, &n) != MGR_OK || n < 0))
		return (s3_fail(q, "InvalidArgument",
		    "%s must be a non-negative "
		    "integer",
		    name));
	*out = n > max ? max : n;
	return (MGR_OK);
}

static void
xml_owner(struct s3_xml *x, const char *elem, const char *id)
{
	s3_xml_open(x, elem);
	s3_xml_text(x, "ID", id, (size_t)-1);
	s3_xml_text(x, "DisplayName", id, (size_t)-1);
	s3_xml_close(x);
}

/* ---- CreateMultipartUpload ------------------------------------------------ */

static mgr_err
create_upload(struct s3_req *q)
{
	Mgr__Vault__CreateMultipartRequest in = MGR__VAULT__CREATE_MULTIPART_REQUEST__INIT;
	Mgr__Vault__CreateMultipartReply *out = NULL;
	const char *alg = s3_header(q, "x-amz-checksum-algorithm");
	struct s3_xml *x = NULL;
	struct MHD_Response *resp;
	struct s3_meta m;
	char *doc = NULL;
	size_t len = 0;
	mgr_err rv;

	if (alg != NULL && s3_sum_alg_of(alg) == S3_SUM_NONE)
		return (s3_fail(q, "InvalidArgument",
		    "x-amz-checksum-algorithm is "
		    "CRC32, CRC32C, SHA1 or SHA256"));
	if ((rv = s3_meta_of_request(q, &m)) != MGR_OK)
		return (rv);
	in.vault = q->bucket;
	in.key = q->key;
	in.metadata = m.p;
	in.n_metadata = m.n;
	if ((rv = gw_rpc(&q->r, gw.vault, "vault.CreateMultipart", &in.base,
	         &mgr__vault__create_multipart_reply__descriptor,
	         (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	if ((rv = s3_xml_new(&x, "InitiateMultipartUploadResult")) != MGR_OK)
		goto out;
	s3_xml_text(x, "Bucket", q->bucket, (size_t)-1);
	s3_xml_text(x, "Key", q->key, q->keylen);
	s3_xml_text(x, "UploadId", out->upload_id, (size_t)-1);
	if ((rv = s3_xml_finish(x, &doc, &len)) != MGR_OK)
		goto out;
	resp = MHD_create_response_from_buffer(len, doc, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(doc);
		rv = MGR_ENOMEM;
		goto out;
	}
	MHD_add_response_header(resp, "Content-Type", "application/xml");
	if (alg != NULL)
		MHD_add_response_header(resp, "x-amz-checksum-algorithm",
		    s3_sum_name(s3_sum_alg_of(alg)));
	q->r.bytes = (int64_t)len;
	rv = s3_reply(q, 200, resp);
out:
	mgr__vault__create_multipart_reply__free_unpacked(out, NULL);
	return (rv);
}

/* ---- UploadPart ------------------------------------------------------------ */

/* Before any body byte: the part number, then vault.PutBegin for the part
 * (NoSuchUpload, AccessDenied, ... refuse the part before its data). */
static mgr_err
part_begin(struct s3_req *q)
{
	Mgr__Vault__PutBeginRequest in = MGR__VAULT__PUT_BEGIN_REQUEST__INIT;
	struct gw_obj_put *p = NULL;
	const char *id;
	uint32_t num;
	mgr_err rv;

	if ((rv = part_number_of(q, &num)) != MGR_OK ||
	    (rv = upload_id_of(q, &id)) != MGR_OK)
		return (rv);
	if (q->declared > MP_PART_BYTES_MAX)
		return (s3_fail(q, "EntityTooLarge", "a part is at most 5 GiB"));
	in.vault = q->bucket;
	in.key = q->key;
	in.size = q->declared;
	in.multipart_upload_id = (char *)id;
	in.part_number = num;
	rv = gw_obj_put_begin(&q->r, &in, &p);
	q->state = p;
	return (rv);
}

static mgr_err
part_data(struct s3_req *q, const char *data, size_t len)
{
	if (gw_obj_put_size(q->state) + (int64_t)len > MP_PART_BYTES_MAX)
		return (s3_fail(q, "EntityTooLarge", "a part is at most 5 GiB"));
	return (gw_obj_put_data(&q->r, q->state, data, len));
}

/* ---- UploadPartCopy ----------------------------------------------------------- */

/* x-amz-copy-source-range: "bytes=first-last" within the source (both
 * given, as S3 wants). 0: absent (the whole source). */
static mgr_err
copy_range(struct s3_req *q, int64_t size, int64_t *first, int64_t *len)
{
	const char *s = s3_header(q, "x-amz-copy-source-range");
	char a[24], b[24];
	const char *dash;
	int64_t f, l;

	*first = 0;
	*len = size;
	if (s == NULL)
		return (MGR_OK);
	if (strncmp(s, "bytes=", 6) != 0 || (dash = strchr(s + 6, '-')) == NULL ||
	    (size_t)(dash - (s + 6)) >= sizeof(a) || strlen(dash + 1) >= sizeof(b))
		return (s3_fail(q, "InvalidArgument",
		    "The x-amz-copy-source-range "
		    "value must be of the form bytes=first-last where first and last "
		    "are the zero-based offsets of the first and last bytes to copy"));
	memcpy(a, s + 6, (size_t)(dash - (s + 6)));
	a[dash - (s + 6)] = '\0';
	snprintf(b, sizeof(b), "%s", dash + 1);
	if (mgr_parse_i64(a, &f) != MGR_OK || mgr_parse_i64(b, &l) != MGR_OK || f < 0 ||
	    l < f)
		return (s3_fail(q, "InvalidArgument",
		    "The x-amz-copy-source-range "
		    "value must be of the form bytes=first-last where first and last "
		    "are the zero-based offsets of the first and last bytes to copy"));
	if (l >= size)
		return (s3_fail(q, "InvalidRange",
		    "Range specified is not valid for "
		    "source object of size: %lld",
		    (long long)size));
	*first = f;
	*len = l - f + 1;
	return (MGR_OK);
}

static mgr_err
part_copy(struct s3_req *q)
{
	Mgr__Vault__ObjectRef ref = MGR__VAULT__OBJECT_REF__INIT;
	Mgr__Vault__PutBeginRequest in = MGR__VAULT__PUT_BEGIN_REQUEST__INIT;
	Mgr__Vault__HeadReply *h = NULL;
	Mgr__Vault__PutCommitReply *out = NULL;
	struct gw_obj_put *p = NULL;
	char sb[S3_BUCKET_MAX + 1], sk[S3_KEY_MAX + 1], etag[80], lm[32];
	struct s3_xml *x = NULL;
	const char *id;
	int64_t first, len;
	uint32_t num;
	mgr_err rv;

	if ((rv = part_number_of(q, &num)) != MGR_OK ||
	    (rv = upload_id_of(q, &id)) != MGR_OK ||
	    (rv = s3_copy_source(q, sb, sizeof(sb), sk, sizeof(sk))) != MGR_OK)
		return (rv);
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
	if (s3_preconditions(q, "x-amz-copy-source-", h->object) != 0) {
		rv = s3_fail(q, "PreconditionFailed",
		    "At least one of the "
		    "preconditions you specified did not hold");
		goto out;
	}
	if ((rv = copy_range(q, h->object->size, &first, &len)) != MGR_OK)
		goto out;
	if (len > MP_PART_BYTES_MAX) {
		rv = s3_fail(q, "InvalidRequest",
		    "a part is at most 5 GiB: give "
		    "x-amz-copy-source-range");
		goto out;
	}
	in.vault = q->bucket;
	in.key = q->key;
	in.size = len;
	in.multipart_upload_id = (char *)id;
	in.part_number = num;
	if ((rv = gw_obj_put_begin(&q->r, &in, &p)) != MGR_OK ||
	    (rv = gw_obj_copy(&q->r, h, first, len, p)) != MGR_OK ||
	    (rv = gw_obj_put_commit(&q->r, p, &out)) != MGR_OK)
		goto out;
	s3_etag(out->object, etag);
	s3_time_iso(out->object->modified_at, lm);
	mgr__vault__put_commit_reply__free_unpacked(out, NULL);
	if ((rv = s3_xml_new(&x, "CopyPartResult")) != MGR_OK)
		goto out;
	s3_xml_text(x, "LastModified", lm, (size_t)-1);
	s3_xml_text(x, "ETag", etag, (size_t)-1);
	rv = s3_reply_xml(q, 200, x);
out:
	gw_obj_put_free(&q->r, p);
	mgr__vault__head_reply__free_unpacked(h, NULL);
	return (rv);
}

/* ---- CompleteMultipartUpload --------------------------------------------------- */

static mgr_err
complete_upload(struct s3_req *q)
{
	Mgr__Vault__CompleteMultipartRequest in =
	    MGR__VAULT__COMPLETE_MULTIPART_REQUEST__INIT;
	Mgr__Vault__CompleteMultipartReply *out = NULL;
	Mgr__Vault__CompletePart *cp = NULL, **cpp = NULL;
	const char *host = s3_header(q, MHD_HTTP_HEADER_HOST);
	const char *inm = s3_header(q, MHD_HTTP_HEADER_IF_NONE_MATCH);
	struct s3_part_ref *parts = NULL;
	struct s3_xml *x = NULL;
	char etag[80], *loc = NULL, *kenc = NULL;
	const char *id;
	size_t n = 0;
	mgr_err rv;

	if ((rv = upload_id_of(q, &id)) != MGR_OK)
		return (rv);
	if (inm != NULL) {
		while (*inm == ' ')
			inm++;
		if (strcmp(inm, "*") != 0)
			return (s3_fail(q, "NotImplemented",
			    "CompleteMultipartUpload "
			    "takes If-None-Match: * only"));
		in.if_none_match = 1;
	}
	if (s3_header(q, MHD_HTTP_HEADER_IF_MATCH) != NULL)
		return (s3_fail(q, "NotImplemented",
		    "CompleteMultipartUpload takes "
		    "no If-Match here"));
	rv = s3_xml_parse_complete(q->r.body.data != NULL ? q->r.body.data : "",
	    q->r.body.len, &parts, &n);
	if (rv == MGR_EINVAL)
		return (s3_fail(q, "MalformedXML",
		    "The XML you provided was not "
		    "well-formed or did not validate against our published schema"));
	if (rv != MGR_OK)
		return (rv);
	if ((cp = calloc(n, sizeof(*cp))) == NULL ||
	    (cpp = calloc(n, sizeof(*cpp))) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		mgr__vault__complete_part__init(&cp[i]);
		cp[i].part_number = parts[i].number;
		cp[i].etag = parts[i].etag;
		cpp[i] = &cp[i];
	}
	in.vault = q->bucket;
	in.key = q->key;
	in.upload_id = (char *)id;
	in.parts = cpp;
	in.n_parts = n;
	if ((rv = gw_rpc(&q->r, gw.vault, "vault.CompleteMultipart", &in.base,
	         &mgr__vault__complete_multipart_reply__descriptor,
	         (ProtobufCMessage **)&out)) != MGR_OK)
		goto out;
	s3_etag(out->object, etag);
	if ((kenc = malloc(3 * q->keylen + 1)) == NULL ||
	    (loc = malloc(3 * q->keylen + S3_BUCKET_MAX + 300)) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	s3_url_encode(q->key, q->keylen, kenc);
	snprintf(loc, 3 * q->keylen + S3_BUCKET_MAX + 300, "https://%.200s/%s/%s",
	    host != NULL ? host : "localhost", q->bucket, kenc);
	if ((rv = s3_xml_new(&x, "CompleteMultipartUploadResult")) != MGR_OK)
		goto out;
	s3_xml_text(x, "Location", loc, (size_t)-1);
	s3_xml_text(x, "Bucket", q->bucket, (size_t)-1);
	s3_xml_text(x, "Key", q->key, q->keylen);
	s3_xml_text(x, "ETag", etag, (size_t)-1);
	rv = s3_reply_xml(q, 200, x);
out:
	free(loc);
	free(kenc);
	free(cpp);
	free(cp);
	free(parts);
	mgr__vault__complete_multipart_reply__free_unpacked(out, NULL);
	return (rv);
}

/* ---- AbortMultipartUpload ------------------------------------------------------ */

static mgr_err
abort_upload(struct s3_req *q)
{
	Mgr__Vault__MultipartRef in = MGR__VAULT__MULTIPART_REF__INIT;
	const char *id;
	mgr_err rv;

	if ((rv = upload_id_of(q, &id)) != MGR_OK)
		return (rv);
	in.vault = q->bucket;
	in.key = q->key;
	in.upload_id = (char *)id;
	if ((rv = gw_rpc(&q->r, gw.vault, "vault.AbortMultipart", &in.base, NULL,
	         NULL)) != MGR_OK)
		return (rv);
	return (s3_reply_empty(q, 204));
}

/* ---- ListParts -------------------------------------------------------------------- */

static mgr_err
list_parts(struct s3_req *q)
{
	Mgr__Vault__ListPartsRequest in = MGR__VAULT__LIST_PARTS_REQUEST__INIT;
	Mgr__Vault__ListPartsReply *out = NULL;
	struct s3_xml *x = NULL;
	int64_t max, marker;
	const char *id;
	char t[32];
	mgr_err rv;

	if ((rv = upload_id_of(q, &id)) != MGR_OK ||
	    (rv = query_count(q, "max-parts", MP_LIST_MAX, MP_LIST_MAX, &max)) !=
	        MGR_OK ||
	    (rv = query_count(q, "part-number-marker", 0, S3_PARTS_MAX, &marker)) !=
	        MGR_OK)
		return (rv);
	in.vault = q->bucket;
	in.key = q->key;
	in.upload_id = (char *)id;
	in.after = (uint32_t)marker;
	/* max-parts=0 lists nothing; one part tells whether more are there. */
	in.limit = max == 0 ? 1 : (uint32_t)max;
	if ((rv = gw_rpc(&q->r, gw.vault, "vault.ListParts", &in.base,
	         &mgr__vault__list_parts_reply__descriptor, (ProtobufCMessage **)&out)) !=
	    MGR_OK)
		return (rv);
	if ((rv = s3_xml_new(&x, "ListPartsResult")) != MGR_OK)
		goto out;
	s3_xml_text(x, "Bucket", q->bucket, (size_t)-1);
	s3_xml_text(x, "Key", q->key, q->keylen);
	s3_xml_text(x, "UploadId", id, (size_t)-1);
	xml_owner(x, "Initiator", q->r.caller_id);
	xml_owner(x, "Owner", q->r.caller_id);
	s3_xml_text(x, "StorageClass", "STANDARD", (size_t)-1);
	s3_xml_printf(x, "PartNumberMarker", "%lld", (long long)marker);
	if (max == 0) {
		s3_xml_printf(x, "NextPartNumberMarker", "%lld", (long long)marker);
		s3_xml_text(x, "MaxParts", "0", (size_t)-1);
		s3_xml_text(x, "IsTruncated", out->n_parts > 0 ? "true" : "false",
		    (size_t)-1);
	} else {
		s3_xml_printf(x, "NextPartNumberMarker", "%u",
		    out->n_parts > 0 ? out->parts[out->n_parts - 1]->part_number : 0);
		s3_xml_printf(x, "MaxParts", "%lld", (long long)max);
		s3_xml_text(x, "IsTruncated", out->next_after != 0 ? "true" : "false",
		    (size_t)-1);
		for (size_t i = 0; i < out->n_parts; i++) {
			const Mgr__Vault__Part *p = out->parts[i];

			s3_xml_open(x, "Part");
			s3_xml_printf(x, "PartNumber", "%u", p->part_number);
			s3_time_iso(p->modified_at, t);
			s3_xml_text(x, "LastModified", t, (size_t)-1);
			s3_xml_printf(x, "ETag", "\"%s\"", p->md5);
			s3_xml_printf(x, "Size", "%lld", (long long)p->size);
			s3_xml_close(x);
		}
	}
	rv = s3_reply_xml(q, 200, x);
out:
	mgr__vault__list_parts_reply__free_unpacked(out, NULL);
	return (rv);
}

/* ---- ListMultipartUploads ----------------------------------------------------------- */

/* With a delimiter, a key that holds it after the prefix is rolled up into
 * its common prefix (prefix + up to the delimiter). */
static size_t
rolled_up(const char *key, size_t plen, const char *delim)
{
	const char *d;

	if (delim == NULL || strlen(key) < plen ||
	    (d = strstr(key + plen, delim)) == NULL)
		return (0);
	return ((size_t)(d - key) + strlen(delim));
}

static mgr_err
list_uploads(struct s3_req *q)
{
	Mgr__Vault__ListUploadsRequest in = MGR__VAULT__LIST_UPLOADS_REQUEST__INIT;
	Mgr__Vault__ListUploadsReply *out = NULL;
	const char *prefix = s3_query(q, "prefix");
	const char *delim = s3_query(q, "delimiter");
	const char *kmark = s3_query(q, "key-marker");
	const char *umark = s3_query(q, "upload-id-marker");
	const char *enc = s3_query(q, "encoding-type");
	char after_key[S3_KEY_MAX + 1], after_id[MP_UPLOAD_ID_MAX + 1];
	char cp[S3_KEY_MAX + 1] = "", nk[S3_KEY_MAX + 1] = "",
	                     nu[MP_UPLOAD_ID_MAX + 1] = "";
	char t[32];
	struct s3_xml *x = NULL;
	int64_t max, count = 0;
	size_t plen;
	int url, truncated = 0, more = 1;
	mgr_err rv;

	if (prefix == NULL)
		prefix = "";
	if (delim != NULL && *delim == '\0')
		delim = NULL;
	if (kmark == NULL)
		kmark = "";
	/* S3 ignores upload-id-marker without key-marker. */
	if (umark == NULL || *kmark == '\0')
		umark = "";
	if (enc != NULL && strcmp(enc, "url") != 0)
		return (s3_fail(q, "InvalidArgument", "encoding-type is url or none"));
	url = enc != NULL;
	plen = strlen(prefix);
	if (plen > S3_KEY_MAX || strlen(kmark) > S3_KEY_MAX ||
	    (delim != NULL && strlen(delim) > S3_KEY_MAX))
		return (s3_fail(q, "InvalidArgument",
		    "prefix, delimiter and "
		    "key-marker are at most %d bytes",
		    S3_KEY_MAX));
	if (strlen(umark) > MP_UPLOAD_ID_MAX)
		return (s3_fail(q, "InvalidArgument", "bad upload-id-marker"));
	if ((rv = query_count(q, "max-uploads", MP_LIST_MAX, MP_LIST_MAX, &max)) !=
	    MGR_OK)
		return (rv);
	if ((rv = s3_xml_new(&x, "ListMultipartUploadsResult")) != MGR_OK)
		return (rv);
	s3_xml_text(x, "Bucket", q->bucket, (size_t)-1);
	s3_xml_key(x, "KeyMarker", kmark, url);
	s3_xml_text(x, "UploadIdMarker", umark, (size_t)-1);
	s3_xml_key(x, "Prefix", prefix, url);
	if (delim != NULL)
		s3_xml_key(x, "Delimiter", delim, url);
	s3_xml_printf(x, "MaxUploads", "%lld", (long long)max);
	if (url)
		s3_xml_text(x, "EncodingType", "url", (size_t)-1);
	snprintf(after_key, sizeof(after_key), "%s", kmark);
	snprintf(after_id, sizeof(after_id), "%s", umark);
	/* A marker that is a common prefix (the last page ended on it): all
	 * of its keys were rolled up there already. */
	if (delim != NULL && rolled_up(kmark, plen, delim) == strlen(kmark) &&
	    strncmp(kmark, prefix, plen) == 0)
		snprintf(cp, sizeof(cp), "%s", kmark);
	/* Pages of vault-svc until max entries (uploads and common
	 * prefixes) are written or the uploads end. */
	while (more && !truncated) {
		in.vault = q->bucket;
		in.prefix = (char *)prefix;
		in.after_key = after_key;
		in.after_upload_id = after_id;
		in.limit = max == 0 ? 1 : (uint32_t)max;
		if ((rv = gw_rpc(&q->r, gw.vault, "vault.ListUploads", &in.base,
		         &mgr__vault__list_uploads_reply__descriptor,
		         (ProtobufCMessage **)&out)) != MGR_OK)
			goto fail;
		more = out->truncated && out->n_uploads > 0;
		for (size_t i = 0; i < out->n_uploads; i++) {
			const Mgr__Vault__Upload *u = out->uploads[i];
			size_t r = rolled_up(u->key, plen, delim);

			if (r > 0 && *cp != '\0' && strlen(cp) == r &&
			    strncmp(cp, u->key, r) == 0)
				continue; /* in the common prefix just written */
			if (count >= max) {
				truncated = 1;
				break;
			}
			count++;
			if (r > 0) {
				memcpy(cp, u->key, r);
				cp[r] = '\0';
				s3_xml_open(x, "CommonPrefixes");
				s3_xml_key(x, "Prefix", cp, url);
				s3_xml_close(x);
				snprintf(nk, sizeof(nk), "%s", cp);
				nu[0] = '\0';
				continue;
			}
			s3_xml_open(x, "Upload");
			s3_xml_key(x, "Key", u->key, url);
			s3_xml_text(x, "UploadId", u->upload_id, (size_t)-1);
			xml_owner(x, "Initiator", q->r.caller_id);
			xml_owner(x, "Owner", q->r.caller_id);
			s3_xml_text(x, "StorageClass", "STANDARD", (size_t)-1);
			s3_time_iso(u->initiated, t);
			s3_xml_text(x, "Initiated", t, (size_t)-1);
			s3_xml_close(x);
			snprintf(nk, sizeof(nk), "%s", u->key);
			snprintf(nu, sizeof(nu), "%s", u->upload_id);
		}
		if (out->n_uploads > 0) {
			const Mgr__Vault__Upload *l = out->uploads[out->n_uploads - 1];

			snprintf(after_key, sizeof(after_key), "%s", l->key);
			snprintf(after_id, sizeof(after_id), "%s", l->upload_id);
		}
		if (max == 0) {
			truncated = out->n_uploads > 0;
			more = 0;
		}
		mgr__vault__list_uploads_reply__free_unpacked(out, NULL);
		out = NULL;
	}
	if (truncated) {
		s3_xml_key(x, "NextKeyMarker", nk, url);
		s3_xml_text(x, "NextUploadIdMarker", nu, (size_t)-1);
	}
	s3_xml_text(x, "IsTruncated", truncated ? "true" : "false", (size_t)-1);
	return (s3_reply_xml(q, 200, x));
fail:
	s3_xml_free(x);
	return (rv);
}

/* Refused before any body byte: a part's body is not read for nothing. */
const struct s3_opdef s3_op_create_upload = {S3_BODY_NONE, 1, NULL, NULL, create_upload,
    NULL};
const struct s3_opdef s3_op_upload_part = {S3_BODY_STREAM, 1, part_begin, part_data,
    s3_put_end, s3_put_cleanup};
const struct s3_opdef s3_op_upload_part_copy = {S3_BODY_NONE, 1, NULL, NULL, part_copy,
    NULL};
const struct s3_opdef s3_op_complete_upload = {S3_BODY_XML, 1, NULL, NULL,
    complete_upload, NULL};
const struct s3_opdef s3_op_abort_upload = {S3_BODY_NONE, 1, NULL, NULL, abort_upload,
    NULL};
const struct s3_opdef s3_op_list_parts = {S3_BODY_NONE, 1, NULL, NULL, list_parts, NULL};
const struct s3_opdef s3_op_list_uploads = {S3_BODY_NONE, 0, NULL, NULL, list_uploads,
    NULL};
