/* The S3 front's operations on its dispatch (front.c). front.c owns the
 * listener (MANAGER_S3_PORT), the caller (gw_auth_app: client certificate
 * only), the access key check, the body (decoding and verifying it) and the
 * error replies; bucket.c, object.c and multipart.c are the operations.
 *
 * Writing an operation: a const struct s3_opdef, named in front.c's table
 * for its enum s3_op. The front calls, in this order:
 *   begin(q)          optional; after the caller is known, before any body
 *                     byte (S3_BODY_STREAM: the place for vault.PutBegin);
 *   data(q, p, n)     S3_BODY_STREAM only: the body's bytes as they come,
 *                     already aws-chunked-decoded; q->declared is the
 *                     decoded length (-1 when unknown);
 *   end(q)            once the whole body is in: for S3_BODY_STREAM after
 *                     the front verified length, Content-MD5 and
 *                     x-amz-checksum-* (header or trailer) -- a mismatch
 *                     never reaches end, so end may commit; for S3_BODY_XML
 *                     the body is in q->r.body (.data/.len, at most
 *                     S3_XML_IN_MAX); end must queue the reply
 *                     (s3_reply_xml, s3_reply_empty, s3_reply);
 *   cleanup(q)        optional, always, also after an error or an abort:
 *                     frees q->state (an unfinished upload is aborted here).
 * Any of them fails by returning an error: the front answers S3's XML error
 * for it (the rest of the body is drained first). The S3 code is, in this
 * order: the one given with s3_fail; the first word of r.errmsg when it
 * names an S3 code and ends in ':' (vault-svc's "NoSuchUpload: ..."); else
 * the mgr_err's (s3_error_of, NoSuchBucket for "no such vault"). RPCs:
 * gw_rpc(&q->r, gw.vault, ...) as everywhere in the gateway. */
#ifndef MGR_GATEWAY_S3_S3_H
#define MGR_GATEWAY_S3_S3_H

#include <stdint.h>

#include <openssl/evp.h>

#include "gateway/gw.h"
#include "gateway/s3/wire.h"
#include "proto/vault.pb-c.h"

enum s3_body {
	S3_BODY_NONE = 0, /* a body is drained and ignored */
	S3_BODY_XML,      /* collected in q->r.body, at most S3_XML_IN_MAX */
	S3_BODY_STREAM,   /* decoded bytes handed to op->data */
};

struct s3_req;

struct s3_opdef {
	enum s3_body body;
	int on_object; /* a bare not-found is NoSuchKey (else NoSuchBucket) */
	mgr_err (*begin)(struct s3_req *q);
	mgr_err (*data)(struct s3_req *q, const char *data, size_t len);
	mgr_err (*end)(struct s3_req *q);
	void (*cleanup)(struct s3_req *q);
};

/* One S3 request. */
struct s3_req {
	struct gw_req r; /* the core's: caller, ids, errmsg, replies */
	enum s3_op op;
	const struct s3_opdef *def;
	char bucket[S3_BUCKET_MAX + 1];
	char key[S3_KEY_MAX + 1]; /* NUL-terminated; keylen bytes */
	size_t keylen;
	const char *s3code; /* set by s3_fail */
	void *state;        /* the operation's */
	/* The body (S3_BODY_STREAM), kept by the front. */
	int64_t declared;  /* decoded length, -1 unknown */
	uint64_t received; /* decoded bytes so far */
	int chunked;       /* aws-chunked */
	struct s3_chunked ch;
	EVP_MD_CTX *md5; /* with Content-MD5 */
	unsigned char md5_want[16];
	struct s3_sum sum;             /* with x-amz-checksum-* or its trailer */
	char sum_want[S3_SUM_B64_MAX]; /* "" : comes in the trailer */
	char sum_trailer[S3_TRAILER_NAME_MAX];
	char sum_got[S3_SUM_B64_MAX]; /* after verification: for the reply */
	/* The front's bookkeeping. */
	int failed; /* the error of the request, 0 if none */
	int begun;
	uint64_t drained;
	int drain_capped;
};

/* The multipart operations (multipart.c). */
extern const struct s3_opdef s3_op_create_upload, s3_op_upload_part,
    s3_op_upload_part_copy, s3_op_complete_upload, s3_op_abort_upload, s3_op_list_parts,
    s3_op_list_uploads;
/* The other operations (bucket.c, object.c). */
extern const struct s3_opdef s3_op_list_buckets, s3_op_create_bucket, s3_op_head_bucket,
    s3_op_delete_bucket, s3_op_get_location, s3_op_get_versioning, s3_op_list_objects,
    s3_op_list_objects_v2, s3_op_delete_objects, s3_op_put_object, s3_op_copy_object,
    s3_op_get_object, s3_op_head_object, s3_op_delete_object;

/* ---- for the operations (front.c) ---------------------------------------- */

/* The listener on MANAGER_S3_PORT (nothing when 0). */
mgr_err s3_front_start(struct gw_listener **out);

/* A request header, or NULL. */
const char *s3_header(struct s3_req *q, const char *name);
/* Whether the query has the parameter (with or without a value), and its
 * decoded value (NULL when absent or valueless). */
int s3_has_query(struct s3_req *q, const char *name);
const char *s3_query(struct s3_req *q, const char *name);
/* Sets the S3 code and message of the error; is MGR_EINVAL (any error:
 * the code decides the reply). A macro, so that the compiler sees the
 * constant: a helper that fails through it leaves its out-parameters
 * unset, and gcc -O3 would otherwise warn that its callers use them. */
void s3_fail_set(struct s3_req *q, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define s3_fail(...) (s3_fail_set(__VA_ARGS__), MGR_EINVAL)
/* Queues resp with S3's headers (x-amz-request-id). */
mgr_err s3_reply(struct s3_req *q, int status, struct MHD_Response *resp);
mgr_err s3_reply_empty(struct s3_req *q, int status);
/* Finishes x (freed in any case) and queues it as application/xml. */
mgr_err s3_reply_xml(struct s3_req *q, int status, struct s3_xml *x);

/* The object headers of a write (Content-Type, Content-Disposition,
 * Content-Encoding but aws-chunked, Cache-Control, Expires, x-amz-meta-*
 * (at most 2 KiB in all, else MetadataTooLarge), x-amz-checksum-* sent as
 * headers), pointing into the request's headers. */
#define S3_META_MAX 64
struct s3_meta {
	Mgr__Vault__Header h[S3_META_MAX];
	Mgr__Vault__Header *p[S3_META_MAX];
	size_t n;
};
mgr_err s3_meta_of_request(struct s3_req *q, struct s3_meta *m);
/* Adds an object's kept headers to resp; full: also x-amz-checksum-*
 * (which describe the whole object, not a range). */
void s3_meta_to_response(struct MHD_Response *resp, Mgr__Vault__Header **h, size_t n,
    int full);

/* "\"{md5}\"" or, for objects stored before MD5s were kept, the SHA-256. */
void s3_etag(const Mgr__Vault__Object *o, char out[80]);

/* RFC 9110 13.2.2 with S3's pairings, of the headers named prefix + If-Match,
 * If-Unmodified-Since (412), If-None-Match, If-Modified-Since (304) against
 * the object o; 0: go on (object.c; prefix "x-amz-copy-source-" for a
 * copy's source). */
int s3_preconditions(struct s3_req *q, const char *prefix, const Mgr__Vault__Object *o);
/* x-amz-copy-source ("[/]bucket/key", percent-encoded) into bucket and key;
 * S3's refusal otherwise (object.c). */
mgr_err s3_copy_source(struct s3_req *q, char *bucket, size_t blen, char *key,
    size_t klen);
/* The end of a streamed upload (PutObject, UploadPart) whose body the front
 * has verified (length, Content-MD5, checksums): commits it and answers 200
 * with its ETag (and checksum); the cleanup frees an upload not committed
 * (object.c). */
mgr_err s3_put_end(struct s3_req *q);
void s3_put_cleanup(struct s3_req *q);
/* <name>key</name>, url-encoded for encoding-type=url (bucket.c). */
void s3_xml_key(struct s3_xml *x, const char *name, const char *key, int url);

#endif
