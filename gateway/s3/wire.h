/* The S3 wire, apart from any connection: request classification, AWS
 * signature access keys, aws-chunked bodies, checksums and S3 XML. Nothing
 * here does I/O, so tests/gateway drives every piece from tables. */
#ifndef MGR_GATEWAY_S3_WIRE_H
#define MGR_GATEWAY_S3_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/err.h"

/* ---- errors ------------------------------------------------------------- */

/* An S3 error: the HTTP status and S3's code string. */
struct s3_error {
	int status;
	const char *code;
	const char *message; /* the default message */
};

/* S3's error of that code ("NoSuchKey"), or InternalError for an unknown one. */
const struct s3_error *s3_error_by_code(const char *code);
/* The S3 error for one of the project's errors, in the context of an
 * operation on an object (key) or a bucket. */
const struct s3_error *s3_error_of(mgr_err e, int on_object);

/* ---- routing ------------------------------------------------------------ */

enum s3_op {
	S3_OP_NONE = 0,
	S3_OP_LIST_BUCKETS,
	S3_OP_CREATE_BUCKET,
	S3_OP_HEAD_BUCKET,
	S3_OP_DELETE_BUCKET,
	S3_OP_GET_LOCATION,
	S3_OP_GET_VERSIONING,
	S3_OP_LIST_OBJECTS,
	S3_OP_LIST_OBJECTS_V2,
	S3_OP_LIST_UPLOADS,
	S3_OP_DELETE_OBJECTS,
	S3_OP_PUT_OBJECT,
	S3_OP_COPY_OBJECT,
	S3_OP_GET_OBJECT,
	S3_OP_HEAD_OBJECT,
	S3_OP_DELETE_OBJECT,
	S3_OP_CREATE_UPLOAD,
	S3_OP_UPLOAD_PART,
	S3_OP_UPLOAD_PART_COPY,
	S3_OP_COMPLETE_UPLOAD,
	S3_OP_ABORT_UPLOAD,
	S3_OP_LIST_PARTS,
	S3_OP_NOT_IMPLEMENTED, /* an S3 operation this gateway does not do */
	S3_OP_BAD_METHOD,      /* no S3 operation at all: 405 MethodNotAllowed */
	S3_OP_COUNT
};

/* The operation's name as S3 documents it ("PutObject"). */
const char *s3_op_name(enum s3_op op);

/* Classifies a request: method, whether the path names a bucket and a key,
 * its query parameters (nq names and their values, a value NULL when the
 * parameter has none) and whether it has an x-amz-copy-source header. Any
 * sub-resource this gateway does not serve (acl, policy, tagging, ...) is
 * NOT_IMPLEMENTED; parameters S3 does not know are ignored, as S3 does. */
enum s3_op s3_route(const char *method, int has_bucket, int has_key,
    const char *const *qkeys, const char *const *qvals, size_t nq, int copy_source);

/* Splits a request into bucket and key. host is the Host header (may be
 * NULL), domain MANAGER_S3_DOMAIN (NULL or "" for path style only), path
 * the raw request path (percent-encoded). A Host of "{bucket}.{domain}"
 * (any port) names the bucket and the whole path is the key; otherwise the
 * first path segment is the bucket and the rest the key. bucket and key
 * are decoded (NUL-terminated, key of *keylen bytes; "" when absent).
 * MGR_EINVAL for a bad escape or a part too long. */
#define S3_BUCKET_MAX 63
#define S3_KEY_MAX 1024
mgr_err s3_split(const char *host, const char *domain, const char *path,
    char bucket[S3_BUCKET_MAX + 1], char key[S3_KEY_MAX + 1], size_t *keylen);

/* ---- signatures --------------------------------------------------------- */

/* The access key ID a request's AWS signature names, from the
 * Authorization header (V4 "AWS4-HMAC-SHA256 Credential=AKID/…", V2
 * "AWS AKID:signature"), else from a presigned URL's X-Amz-Credential or
 * AWSAccessKeyId (NULL when absent). 1: found (out set), 0: no signature
 * at all, -1: an Authorization header that is no AWS signature (HTTP Basic
 * included) or a malformed one. */
#define S3_AKID_MAX 128
int s3_access_key(const char *authorization, const char *q_credential, const char *q_akid,
    char out[S3_AKID_MAX + 1]);

/* ---- aws-chunked -------------------------------------------------------- */

#define S3_CHUNK_LINE_MAX 512 /* size line with its signature, a trailer */
#define S3_TRAILERS_MAX 4
#define S3_TRAILER_NAME_MAX 64
#define S3_TRAILER_VALUE_MAX 256

/* Decoder of Content-Encoding: aws-chunked bodies (signed or unsigned
 * streaming payloads, with or without trailing headers):
 *   hex-size[;chunk-signature=…] CRLF data CRLF … 0[;…] CRLF
 *   [name:value CRLF]… CRLF */
struct s3_chunked {
	int state;
	char line[S3_CHUNK_LINE_MAX];
	size_t linelen;
	uint64_t remain;  /* data bytes left in the current chunk */
	uint64_t decoded; /* data bytes so far */
	uint64_t max;     /* most data bytes allowed */
	int ntrailers;
	char tname[S3_TRAILERS_MAX][S3_TRAILER_NAME_MAX];
	char tvalue[S3_TRAILERS_MAX][S3_TRAILER_VALUE_MAX];
};

typedef mgr_err (*s3_sink)(void *arg, const char *data, size_t len);

void s3_chunked_init(struct s3_chunked *c, uint64_t max);
/* Decodes len more body bytes, handing the data to sink. MGR_EINVAL for a
 * malformed body, MGR_ETOOBIG past max, else the sink's error. */
mgr_err s3_chunked_feed(struct s3_chunked *c, const char *data, size_t len, s3_sink sink,
    void *arg);
/* At the end of the body: MGR_OK when the last chunk (and its trailer)
 * came, MGR_EINVAL otherwise. */
mgr_err s3_chunked_finish(const struct s3_chunked *c);
/* A trailing header's value (name case-insensitive), or NULL. */
const char *s3_chunked_trailer(const struct s3_chunked *c, const char *name);

/* ---- checksums ---------------------------------------------------------- */

enum s3_sum_alg {
	S3_SUM_NONE = 0,
	S3_SUM_CRC32,
	S3_SUM_CRC32C,
	S3_SUM_SHA1,
	S3_SUM_SHA256,
	S3_SUM_COUNT
};

#define S3_SUM_B64_MAX 48 /* base64 of a SHA-256 with its NUL */

struct s3_sum {
	enum s3_sum_alg alg;
	uint32_t crc;
	EVP_MD_CTX *md;
};

/* "crc32", "CRC32C", "x-amz-checksum-sha256", ... → the algorithm; NONE for
 * anything else. */
enum s3_sum_alg s3_sum_alg_of(const char *name);
/* "x-amz-checksum-crc32" etc. */
const char *s3_sum_header(enum s3_sum_alg alg);
/* "CRC32" etc., as x-amz-checksum-algorithm writes it. */
const char *s3_sum_name(enum s3_sum_alg alg);
mgr_err s3_sum_init(struct s3_sum *s, enum s3_sum_alg alg);
mgr_err s3_sum_update(struct s3_sum *s, const void *data, size_t len);
/* The base64 of the checksum, as S3 sends it. Ends the computation. */
mgr_err s3_sum_final(struct s3_sum *s, char out[S3_SUM_B64_MAX]);
void s3_sum_free(struct s3_sum *s);
/* Raw CRC32C (Castagnoli), for tests and s3_sum. */
uint32_t s3_crc32c(uint32_t crc, const void *data, size_t len);

/* Content-MD5: the base64 of 16 bytes into md5 (1), or 0 when malformed. */
int s3_content_md5(const char *b64, unsigned char md5[16]);

/* ---- XML ---------------------------------------------------------------- */

#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define S3_XML_IN_MAX (2u * 1024 * 1024) /* request bodies of XML */
#define S3_XML_DEPTH_MAX 8
#define S3_PARTS_MAX 10000
#define S3_DELETE_MAX 1000

/* A response document being written (libxml2's text writer). */
struct s3_xml;

/* Starts a document whose root element is root (with S3's namespace). */
mgr_err s3_xml_new(struct s3_xml **out, const char *root);
/* Opens / closes an element. */
void s3_xml_open(struct s3_xml *x, const char *name);
void s3_xml_close(struct s3_xml *x);
/* <name>text</name>; text of len bytes (len (size_t)-1: strlen). */
void s3_xml_text(struct s3_xml *x, const char *name, const char *text, size_t len);
void s3_xml_printf(struct s3_xml *x, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends the document: *out (caller frees with free()) holds *len bytes.
 * Frees x in every case. MGR_ENOMEM when anything failed on the way. */
mgr_err s3_xml_finish(struct s3_xml *x, char **out, size_t *len);
void s3_xml_free(struct s3_xml *x);

/* The body of an S3 error. */
mgr_err s3_xml_error(const char *code, const char *message, const char *resource,
    const char *request_id, char **out, size_t *len);

/* Request bodies: each refuses (MGR_EINVAL, "MalformedXML") input over
 * S3_XML_IN_MAX, with a DTD or entity declaration, deeper than
 * S3_XML_DEPTH_MAX, not well-formed, or of the wrong root element. */
struct s3_part_ref {
	uint32_t number;
	char etag[72]; /* without quotes */
};
/* CompleteMultipartUpload: the parts in document order (1..S3_PARTS_MAX;
 * caller frees *parts). PartNumber outside 1..10000 is MGR_EINVAL too. */
mgr_err s3_xml_parse_complete(const char *data, size_t len, struct s3_part_ref **parts,
    size_t *n);
/* Delete: the keys (each malloc'd, *keys too; free with s3_keys_free),
 * 1..S3_DELETE_MAX, and Quiet. */
mgr_err s3_xml_parse_delete(const char *data, size_t len, char ***keys, size_t **keylens,
    size_t *n, int *quiet);
void s3_keys_free(char **keys, size_t *keylens, size_t n);
/* CreateBucketConfiguration: LocationConstraint into out ("" when the
 * body is empty or names none). */
mgr_err s3_xml_parse_location(const char *data, size_t len, char *out, size_t outlen);

/* Dates: "2027-11-27T13:00:00.000Z" (listings) and RFC 7231
 * "Sat, 27 Nov 2027 13:00:00 GMT" (headers); parse accepts RFC 7231, RFC 850
 * and asctime forms (-1 when none fits). */
void s3_time_iso(int64_t t, char out[32]);
void s3_time_http(int64_t t, char out[40]);
int64_t s3_time_parse_http(const char *s);

/* Range: gw_range (gateway/range.h), shared with the REST front. */

/* URL-encoding of a key for encoding-type=url (RFC 3986 unreserved kept,
 * '/' kept). out must hold 3 * len + 1 bytes. */
void s3_url_encode(const char *s, size_t len, char *out);

#endif
