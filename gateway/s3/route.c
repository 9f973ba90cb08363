/* S3 errors, request classification, bucket/key split, signature access
 * keys, dates, ranges and key encoding (gateway/s3/wire.h). */
#include "gateway/s3/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/util.h"
#include "gateway/path.h"

/* ---- errors ------------------------------------------------------------- */

static const struct s3_error s3_errors[] = {
    {403, "AccessDenied", "Access Denied"},
    {400, "BadDigest",
        "The Content-MD5 or checksum you specified did not match what we received."},
    {409, "BucketAlreadyExists", "The requested bucket name is not available."},
    {409, "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it."},
    {409, "BucketNotEmpty", "The bucket you tried to delete is not empty."},
    {400, "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed object size."},
    {400, "EntityTooSmall",
        "Your proposed upload is smaller than the minimum allowed object size."},
    {400, "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header."},
    {500, "InternalError", "We encountered an internal error. Please try again."},
    {400, "InvalidArgument", "Invalid Argument"},
    {400, "InvalidBucketName", "The specified bucket is not valid."},
    {400, "InvalidDigest", "The Content-MD5 you specified is not valid."},
    {400, "InvalidLocationConstraint", "The specified location constraint is not valid."},
    {400, "InvalidPart", "One or more of the specified parts could not be found."},
    {400, "InvalidPartOrder", "The list of parts was not in ascending order."},
    {416, "InvalidRange", "The requested range is not satisfiable"},
    {400, "InvalidRequest", "Invalid Request"},
    {400, "InvalidURI", "Couldn't parse the specified URI."},
    {400, "KeyTooLongError", "Your key is too long."},
    {400, "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema."},
    {400, "MetadataTooLarge",
        "Your metadata headers exceed the maximum allowed metadata size."},
    {405, "MethodNotAllowed",
        "The specified method is not allowed against this resource."},
    {411, "MissingContentLength", "You must provide the Content-Length HTTP header."},
    {404, "NoSuchBucket", "The specified bucket does not exist"},
    {404, "NoSuchKey", "The specified key does not exist."},
    {404, "NoSuchUpload", "The specified multipart upload does not exist."},
    {501, "NotImplemented",
        "A header or query you provided implies functionality that is not implemented."},
    {412, "PreconditionFailed",
        "At least one of the preconditions you specified did not hold."},
    {403, "QuotaExceeded", "The bucket's quota does not allow this write."},
    {503, "ServiceUnavailable", "Please reduce your request rate."},
    {503, "SlowDown", "Please reduce your request rate."},
    {400, "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed."},
    {409, "OperationAborted",
        "A conflicting conditional operation is currently in progress against this resource."},
    {400, "TooManyParts", "You have attempted to upload more than 10,000 parts."},
};

const struct s3_error *
s3_error_by_code(const char *code)
{
	for (size_t i = 0; i < sizeof(s3_errors) / sizeof(s3_errors[0]); i++)
		if (strcmp(s3_errors[i].code, code) == 0)
			return (&s3_errors[i]);
	return (s3_error_by_code("InternalError"));
}

const struct s3_error *
s3_error_of(mgr_err e, int on_object)
{
	switch (e) {
	case MGR_EINVAL:
	case MGR_EMEDIA:
		return (s3_error_by_code("InvalidArgument"));
	case MGR_EUNAUTH:
	case MGR_EPERM:
		return (s3_error_by_code("AccessDenied"));
	case MGR_ENOTFOUND:
		return (s3_error_by_code(on_object ? "NoSuchKey" : "NoSuchBucket"));
	case MGR_ECONFLICT:
		return (s3_error_by_code("OperationAborted"));
	case MGR_ETOOBIG:
		return (s3_error_by_code("EntityTooLarge"));
	case MGR_ERATE:
		return (s3_error_by_code("SlowDown"));
	case MGR_EUNAVAIL:
		return (s3_error_by_code("ServiceUnavailable"));
	case MGR_EMETHOD:
		return (s3_error_by_code("MethodNotAllowed"));
	default:
		return (s3_error_by_code("InternalError"));
	}
}

/* ---- routing ------------------------------------------------------------ */

static const char *const s3_op_names[S3_OP_COUNT] = {
    [S3_OP_NONE] = "None",
    [S3_OP_LIST_BUCKETS] = "ListBuckets",
    [S3_OP_CREATE_BUCKET] = "CreateBucket",
    [S3_OP_HEAD_BUCKET] = "HeadBucket",
    [S3_OP_DELETE_BUCKET] = "DeleteBucket",
    [S3_OP_GET_LOCATION] = "GetBucketLocation",
    [S3_OP_GET_VERSIONING] = "GetBucketVersioning",
    [S3_OP_LIST_OBJECTS] = "ListObjects",
    [S3_OP_LIST_OBJECTS_V2] = "ListObjectsV2",
    [S3_OP_LIST_UPLOADS] = "ListMultipartUploads",
    [S3_OP_DELETE_OBJECTS] = "DeleteObjects",
    [S3_OP_PUT_OBJECT] = "PutObject",
    [S3_OP_COPY_OBJECT] = "CopyObject",
    [S3_OP_GET_OBJECT] = "GetObject",
    [S3_OP_HEAD_OBJECT] = "HeadObject",
    [S3_OP_DELETE_OBJECT] = "DeleteObject",
    [S3_OP_CREATE_UPLOAD] = "CreateMultipartUpload",
    [S3_OP_UPLOAD_PART] = "UploadPart",
    [S3_OP_UPLOAD_PART_COPY] = "UploadPartCopy",
    [S3_OP_COMPLETE_UPLOAD] = "CompleteMultipartUpload",
    [S3_OP_ABORT_UPLOAD] = "AbortMultipartUpload",
    [S3_OP_LIST_PARTS] = "ListParts",
    [S3_OP_NOT_IMPLEMENTED] = "NotImplemented",
    [S3_OP_BAD_METHOD] = "MethodNotAllowed",
};

const char *
s3_op_name(enum s3_op op)
{
	return (op >= 0 && op < S3_OP_COUNT && s3_op_names[op] != NULL ? s3_op_names[op]
	                                                               : "None");
}

/* Sub-resources of S3 this gateway does not serve: any request naming one
 * is NotImplemented (and changes nothing). */
static const char *const s3_unserved[] = {
    "accelerate",
    "acl",
    "analytics",
    "attributes",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metadataTable",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "select-type",
    "session",
    "tagging",
    "torrent",
    "versionId",
    "versions",
    "website",
    "renameObject",
};

static int
has(const char *const *keys, size_t n, const char *name, const char **val)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i], name) == 0) {
			if (val != NULL)
				*val = NULL;
			return (1);
		}
	return (0);
}

enum s3_op
s3_route(const char *method, int has_bucket, int has_key, const char *const *qk,
    const char *const *qv, size_t nq, int copy_source)
{
	int get = strcmp(method, "GET") == 0, head = strcmp(method, "HEAD") == 0;
	int put = strcmp(method, "PUT") == 0, post = strcmp(method, "POST") == 0;
	int del = strcmp(method, "DELETE") == 0;
	const char *lt = NULL;

	if (!get && !head && !put && !post && !del)
		return (S3_OP_BAD_METHOD);
	if (!has_bucket)
		return (get ? S3_OP_LIST_BUCKETS : S3_OP_BAD_METHOD);
	for (size_t i = 0; i < nq; i++)
		for (size_t j = 0; j < sizeof(s3_unserved) / sizeof(s3_unserved[0]); j++)
			if (strcmp(qk[i], s3_unserved[j]) == 0)
				return (S3_OP_NOT_IMPLEMENTED);
	if (has_key) {
		int upload = has(qk, nq, "uploadId", NULL);

		if (get)
			return (upload ? S3_OP_LIST_PARTS : S3_OP_GET_OBJECT);
		if (head)
			return (S3_OP_HEAD_OBJECT);
		if (put) {
			if (upload || has(qk, nq, "partNumber", NULL))
				return (copy_source ? S3_OP_UPLOAD_PART_COPY
				                    : S3_OP_UPLOAD_PART);
			return (copy_source ? S3_OP_COPY_OBJECT : S3_OP_PUT_OBJECT);
		}
		if (post) {
			if (has(qk, nq, "uploads", NULL))
				return (S3_OP_CREATE_UPLOAD);
			if (upload)
				return (S3_OP_COMPLETE_UPLOAD);
			return (S3_OP_NOT_IMPLEMENTED);
		}
		return (upload ? S3_OP_ABORT_UPLOAD : S3_OP_DELETE_OBJECT);
	}
	if (get) {
		if (has(qk, nq, "location", NULL))
			return (S3_OP_GET_LOCATION);
		if (has(qk, nq, "versioning", NULL))
			return (S3_OP_GET_VERSIONING);
		if (has(qk, nq, "uploads", NULL))
			return (S3_OP_LIST_UPLOADS);
		for (size_t i = 0; i < nq; i++)
			if (strcmp(qk[i], "list-type") == 0)
				lt = qv[i] != NULL ? qv[i] : "";
		if (lt != NULL)
			return (strcmp(lt, "2") == 0 ? S3_OP_LIST_OBJECTS_V2
			                             : S3_OP_NOT_IMPLEMENTED);
		return (S3_OP_LIST_OBJECTS);
	}
	if (head)
		return (S3_OP_HEAD_BUCKET);
	if (put) {
		/* PUT ?versioning (even to suspend it), ?uploads, ... change
		 * something this gateway does not keep. */
		for (size_t i = 0; i < nq; i++)
			if (strcmp(qk[i], "versioning") == 0 ||
			    strcmp(qk[i], "uploads") == 0 ||
			    strcmp(qk[i], "location") == 0 ||
			    strcmp(qk[i], "delete") == 0)
				return (S3_OP_NOT_IMPLEMENTED);
		return (S3_OP_CREATE_BUCKET);
	}
	if (post)
		return (has(qk, nq, "delete", NULL) ? S3_OP_DELETE_OBJECTS
		                                    : S3_OP_NOT_IMPLEMENTED);
	return (S3_OP_DELETE_BUCKET);
}

/* ---- bucket and key ----------------------------------------------------- */

/* The host part of a Host header: without the port, lowercase compare. */
static int
host_is_sub(const char *host, const char *domain, char *bucket)
{
	size_t hl, dl = strlen(domain), bl;
	const char *colon;

	if (host[0] == '[')
		return (0); /* an IPv6 literal */
	colon = strrchr(host, ':');
	hl = colon != NULL ? (size_t)(colon - host) : strlen(host);
	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (hl <= dl + 1 || host[hl - dl - 1] != '.' ||
	    strncasecmp(host + hl - dl, domain, dl) != 0)
		return (0);
	bl = hl - dl - 1;
	if (bl > S3_BUCKET_MAX)
		return (-1);
	for (size_t i = 0; i < bl; i++)
		bucket[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ? host[i] + 32
		                                                    : host[i]);
	bucket[bl] = '\0';
	return (1);
}

mgr_err
s3_split(const char *host, const char *domain, const char *path,
    char bucket[S3_BUCKET_MAX + 1], char key[S3_KEY_MAX + 1], size_t *keylen)
{
	const char *p = path, *slash;
	size_t blen, klen = 0;
	int vh = 0;

	bucket[0] = key[0] = '\0';
	if (*p != '/')
		return (MGR_EINVAL);
	p++;
	if (host != NULL && domain != NULL && domain[0] != '\0' &&
	    (vh = host_is_sub(host, domain, bucket)) < 0)
		return (MGR_EINVAL);
	if (!vh) {
		slash = strchr(p, '/');
		blen = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (gw_pct_decode(p, blen, 0, bucket, S3_BUCKET_MAX + 1, &blen) != MGR_OK)
			return (MGR_EINVAL);
		p = slash != NULL ? slash + 1 : p + strlen(p);
	}
	if (*p != '\0' &&
	    gw_pct_decode(p, strlen(p), 0, key, S3_KEY_MAX + 1, &klen) != MGR_OK)
		return (MGR_EINVAL);
	key[klen] = '\0';
	*keylen = klen;
	return (MGR_OK);
}

/* ---- signatures --------------------------------------------------------- */

static int
copy_akid(const char *s, size_t n, char out[S3_AKID_MAX + 1])
{
	if (n == 0 || n > S3_AKID_MAX)
		return (-1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return (-1);
	memcpy(out, s, n);
	out[n] = '\0';
	return (1);
}

int
s3_access_key(const char *authz, const char *q_cred, const char *q_akid,
    char out[S3_AKID_MAX + 1])
{
	const char *p, *end;

	if (authz != NULL) {
		if (strncmp(authz, "AWS4-HMAC-SHA256 ", 17) == 0 ||
		    strncmp(authz, "AWS4-ECDSA-P256-SHA256 ", 23) == 0) {
			/* Credential=AKID/date/region/s3/aws4_request, ... */
			if ((p = strstr(authz, "Credential=")) == NULL)
				return (-1);
			p += 11;
			if ((end = strchr(p, '/')) == NULL)
				return (-1);
			return (copy_akid(p, (size_t)(end - p), out));
		}
		if (strncmp(authz, "AWS ", 4) == 0) {
			p = authz + 4;
			if ((end = strrchr(p, ':')) == NULL)
				return (-1);
			return (copy_akid(p, (size_t)(end - p), out));
		}
		return (-1);
	}
	if (q_cred != NULL) {
		if ((end = strchr(q_cred, '/')) == NULL)
			return (-1);
		return (copy_akid(q_cred, (size_t)(end - q_cred), out));
	}
	if (q_akid != NULL)
		return (copy_akid(q_akid, strlen(q_akid), out));
	return (0);
}

/* ---- dates -------------------------------------------------------------- */

void
s3_time_iso(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

void
s3_time_http(int64_t t, char out[40])
{
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;

	/* Not strftime: %a and %b follow the locale. */
	gmtime_r(&tt, &tm);
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[tm.tm_wday % 7],
	    tm.tm_mday, mo[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
}

int64_t
s3_time_parse_http(const char *s)
{
	static const char *const forms[] = {
	    "%a, %d %b %Y %H:%M:%S GMT", /* RFC 7231 */
	    "%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 */
	    "%a %b %e %H:%M:%S %Y",      /* asctime */
	};
	struct tm tm;
	const char *end;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, forms[i], &tm);
		if (end != NULL && *end == '\0')
			return ((int64_t)timegm(&tm));
	}
	return (-1);
}

/* ---- key encoding ------------------------------------------------------- */

void
s3_url_encode(const char *s, size_t len, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		    c == '~' || c == '/') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}
