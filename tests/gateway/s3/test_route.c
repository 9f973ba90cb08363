/* gateway/s3/route.c: which S3 operation a request is, bucket and key of
 * both addressing styles, access keys of AWS signatures, ranges, dates. */
#include <string.h>

#include "gateway/range.h"
#include "gateway/s3/wire.h"
#include "tests/lib/check.h"

static const struct {
	const char *method;
	int bucket, key, copy;
	const char *query; /* "a=1&b" */
	enum s3_op want;
} routes[] = {
    {"GET", 0, 0, 0, "", S3_OP_LIST_BUCKETS},
    {"PUT", 0, 0, 0, "", S3_OP_BAD_METHOD},
    {"PATCH", 1, 1, 0, "", S3_OP_BAD_METHOD},
    {"PUT", 1, 0, 0, "", S3_OP_CREATE_BUCKET},
    {"HEAD", 1, 0, 0, "", S3_OP_HEAD_BUCKET},
    {"DELETE", 1, 0, 0, "", S3_OP_DELETE_BUCKET},
    {"GET", 1, 0, 0, "location", S3_OP_GET_LOCATION},
    {"GET", 1, 0, 0, "versioning", S3_OP_GET_VERSIONING},
    {"PUT", 1, 0, 0, "versioning", S3_OP_NOT_IMPLEMENTED},
    {"GET", 1, 0, 0, "", S3_OP_LIST_OBJECTS},
    {"GET", 1, 0, 0, "prefix=a&delimiter=/&marker=x&max-keys=3", S3_OP_LIST_OBJECTS},
    {"GET", 1, 0, 0, "list-type=2&prefix=a&continuation-token=x", S3_OP_LIST_OBJECTS_V2},
    {"GET", 1, 0, 0, "list-type=3", S3_OP_NOT_IMPLEMENTED},
    {"GET", 1, 0, 0, "uploads", S3_OP_LIST_UPLOADS},
    {"GET", 1, 0, 0, "versions", S3_OP_NOT_IMPLEMENTED},
    {"POST", 1, 0, 0, "delete", S3_OP_DELETE_OBJECTS},
    {"POST", 1, 0, 0, "", S3_OP_NOT_IMPLEMENTED},
    {"PUT", 1, 0, 0, "acl", S3_OP_NOT_IMPLEMENTED},
    {"PUT", 1, 0, 0, "policy", S3_OP_NOT_IMPLEMENTED},
    {"PUT", 1, 0, 0, "lifecycle", S3_OP_NOT_IMPLEMENTED},
    {"GET", 1, 0, 0, "cors", S3_OP_NOT_IMPLEMENTED},
    {"DELETE", 1, 0, 0, "website", S3_OP_NOT_IMPLEMENTED},
    {"PUT", 1, 0, 0, "object-lock", S3_OP_NOT_IMPLEMENTED},
    {"PUT", 1, 1, 0, "", S3_OP_PUT_OBJECT},
    {"PUT", 1, 1, 0, "x-id=PutObject", S3_OP_PUT_OBJECT},
    {"PUT", 1, 1, 1, "", S3_OP_COPY_OBJECT},
    {"GET", 1, 1, 0, "", S3_OP_GET_OBJECT},
    {"GET", 1, 1, 0, "response-content-type=text/plain", S3_OP_GET_OBJECT},
    {"HEAD", 1, 1, 0, "", S3_OP_HEAD_OBJECT},
    {"DELETE", 1, 1, 0, "", S3_OP_DELETE_OBJECT},
    {"POST", 1, 1, 0, "uploads", S3_OP_CREATE_UPLOAD},
    {"PUT", 1, 1, 0, "partNumber=1&uploadId=u", S3_OP_UPLOAD_PART},
    {"PUT", 1, 1, 1, "partNumber=1&uploadId=u", S3_OP_UPLOAD_PART_COPY},
    {"POST", 1, 1, 0, "uploadId=u", S3_OP_COMPLETE_UPLOAD},
    {"DELETE", 1, 1, 0, "uploadId=u", S3_OP_ABORT_UPLOAD},
    {"GET", 1, 1, 0, "uploadId=u&max-parts=5", S3_OP_LIST_PARTS},
    {"PUT", 1, 1, 0, "tagging", S3_OP_NOT_IMPLEMENTED},
    {"GET", 1, 1, 0, "acl", S3_OP_NOT_IMPLEMENTED},
    {"GET", 1, 1, 0, "versionId=abc", S3_OP_NOT_IMPLEMENTED},
    {"POST", 1, 1, 0, "restore", S3_OP_NOT_IMPLEMENTED},
    {"POST", 1, 1, 0, "select&select-type=2", S3_OP_NOT_IMPLEMENTED},
    {"PUT", 1, 1, 0, "retention", S3_OP_NOT_IMPLEMENTED},
    {"GET", 1, 1, 0, "unknown-parameter=1", S3_OP_GET_OBJECT},
};

static enum s3_op
route(size_t i)
{
	char q[256], *keys[16], *vals[16], *p, *amp, *eq;
	size_t n = 0;

	snprintf(q, sizeof(q), "%s", routes[i].query);
	for (p = q; *p != '\0' && n < 16; p = amp + 1) {
		amp = strchr(p, '&');
		if (amp != NULL)
			*amp = '\0';
		eq = strchr(p, '=');
		if (eq != NULL)
			*eq = '\0';
		keys[n] = p;
		vals[n++] = eq != NULL ? eq + 1 : NULL;
		if (amp == NULL)
			break;
	}
	return (s3_route(routes[i].method, routes[i].bucket, routes[i].key,
	    (const char *const *)keys, (const char *const *)vals, n, routes[i].copy));
}

static const struct {
	const char *host, *domain, *path;
	mgr_err rv;
	const char *bucket, *key;
} splits[] = {
    {"127.0.0.1:8444", NULL, "/", MGR_OK, "", ""},
    {"127.0.0.1:8444", NULL, "/photos", MGR_OK, "photos", ""},
    {"127.0.0.1:8444", NULL, "/photos/", MGR_OK, "photos", ""},
    {"127.0.0.1:8444", NULL, "/photos/a/b%20c.jpg", MGR_OK, "photos", "a/b c.jpg"},
    {"127.0.0.1:8444", NULL, "/photos/a+b", MGR_OK, "photos", "a+b"},
    {"127.0.0.1:8444", NULL, "/photos//double", MGR_OK, "photos", "/double"},
    {"photos.s3.example.com:8444", "s3.example.com", "/a/b", MGR_OK, "photos", "a/b"},
    {"Photos.S3.Example.com", "s3.example.com", "/", MGR_OK, "photos", ""},
    {"s3.example.com:8444", "s3.example.com", "/photos/k", MGR_OK, "photos", "k"},
    {"other.host", "s3.example.com", "/photos/k", MGR_OK, "photos", "k"},
    {"127.0.0.1:8444", NULL, "/photos/%zz", MGR_EINVAL, NULL, NULL},
    {"127.0.0.1:8444", NULL, "/photos/a%00b", MGR_EINVAL, NULL, NULL},
    {"127.0.0.1:8444", NULL,
        "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/k", MGR_EINVAL,
        NULL, NULL},
    {"127.0.0.1:8444", NULL, "no-slash", MGR_EINVAL, NULL, NULL},
};

static const struct {
	const char *authz, *cred, *akid;
	int rv;
	const char *want;
} keys[] = {
    {"AWS4-HMAC-SHA256 Credential=acc_abc/20261203/us-east-1/s3/aws4_request, "
     "SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
        NULL, NULL, 1, "acc_abc"},
    {"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
     "SignedHeaders=host,Signature=x",
        NULL, NULL, 1, "AKIAIOSFODNN7EXAMPLE"},
    {"AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", NULL, NULL, 1,
        "AKIAIOSFODNN7EXAMPLE"},
    {NULL, "acc_x/20261203/us-east-1/s3/aws4_request", NULL, 1, "acc_x"},
    {NULL, NULL, "AKID", 1, "AKID"},
    {NULL, NULL, NULL, 0, NULL},
    {"Basic YWRtaW46cGFzcw==", NULL, NULL, -1, NULL},
    {"Bearer token", NULL, NULL, -1, NULL},
    {"AWS4-HMAC-SHA256 Signature=x", NULL, NULL, -1, NULL},
    {"AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request", NULL, NULL, -1,
        NULL},
    {"AWS nocolon", NULL, NULL, -1, NULL},
    {NULL, "no-slash", NULL, -1, NULL},
};

static const struct {
	const char *hdr;
	int64_t size;
	int rv;
	int64_t first, last;
} ranges[] = {
    {"bytes=0-9", 100, 1, 0, 9},
    {"bytes=10-", 100, 1, 10, 99},
    {"bytes=-10", 100, 1, 90, 99},
    {"bytes=-1000", 100, 1, 0, 99},
    {"bytes=90-1000", 100, 1, 90, 99},
    {"bytes=99-99", 100, 1, 99, 99},
    {"bytes=100-", 100, -1, 0, 0},
    {"bytes=100-200", 100, -1, 0, 0},
    {"bytes=-0", 100, -1, 0, 0},
    {"bytes=0-", 0, -1, 0, 0},
    {"bytes=5-3", 100, 0, 0, 0},
    {"bytes=0-1,5-6", 100, 0, 0, 0},
    {"items=0-1", 100, 0, 0, 0},
    {"bytes=a-b", 100, 0, 0, 0},
    {NULL, 100, 0, 0, 0},
    /* spaces around the parts, as the REST front always took them */
    {" bytes= 0 - 9 ", 100, 1, 0, 9},
    {"bytes=10- ", 100, 1, 10, 99},
    {"bytes= -10", 100, 1, 90, 99},
    {"bytes=1 0-20", 100, 0, 0, 0},
    {"bytes=-", 100, 0, 0, 0},
    {"bytes=", 100, 0, 0, 0},
    {"bytes=-x", 100, 0, 0, 0},
    {"bytes=0-9x", 100, 0, 0, 0},
    {"bytes=9999999999999999999-", 100, 0, 0, 0},
    {"bytes=0--1", 100, 0, 0, 0},
};

int
main(void)
{
	char bucket[S3_BUCKET_MAX + 1], key[S3_KEY_MAX + 1], akid[S3_AKID_MAX + 1];
	char t[40], enc[64];
	size_t kl;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		enum s3_op op = route(i);

		CHECK(op == routes[i].want, "%s bucket %d key %d ?%s: %s, want %s",
		    routes[i].method, routes[i].bucket, routes[i].key, routes[i].query,
		    s3_op_name(op), s3_op_name(routes[i].want));
	}
	for (size_t i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
		mgr_err rv = s3_split(splits[i].host, splits[i].domain, splits[i].path,
		    bucket, key, &kl);

		CHECK(rv == splits[i].rv, "split %s %s: %d", splits[i].host,
		    splits[i].path, rv);
		if (rv == MGR_OK && splits[i].rv == MGR_OK) {
			CHECK(strcmp(bucket, splits[i].bucket) == 0,
			    "split %s: bucket %s", splits[i].path, bucket);
			CHECK(strcmp(key, splits[i].key) == 0 && kl == strlen(key),
			    "split %s: key %s", splits[i].path, key);
		}
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int rv = s3_access_key(keys[i].authz, keys[i].cred, keys[i].akid, akid);

		CHECK(rv == keys[i].rv, "access key case %zu: %d", i, rv);
		if (rv == 1 && keys[i].want != NULL)
			CHECK(strcmp(akid, keys[i].want) == 0, "access key case %zu: %s",
			    i, akid);
	}
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		int64_t a = -1, b = -1;
		int rv = gw_range(ranges[i].hdr, ranges[i].size, &a, &b);

		CHECK(rv == ranges[i].rv, "range %s of %lld: %d", ranges[i].hdr,
		    (long long)ranges[i].size, rv);
		if (rv == 1)
			CHECK(a == ranges[i].first && b == ranges[i].last,
			    "range %s: %lld-%lld", ranges[i].hdr, (long long)a,
			    (long long)b);
	}
	CHECK(gw_etag_listed("\"abc\"", "abc") &&
	        gw_etag_listed("W/\"x\", \"abc\"", "abc") && gw_etag_listed("*", "abc") &&
	        gw_etag_listed("abc", "abc"),
	    "etag lists that name abc");
	CHECK(!gw_etag_listed("\"abcd\"", "abc") && !gw_etag_listed("\"ab\"", "abc") &&
	        !gw_etag_listed("", "abc") && !gw_etag_listed(" , ", "abc"),
	    "etag lists that do not");
	s3_time_http(1827320400, t);
	CHECK(strcmp(t, "Sat, 27 Nov 2027 13:00:00 GMT") == 0, "http date %s", t);
	CHECK(s3_time_parse_http(t) == 1827320400, "http date parse");
	CHECK(s3_time_parse_http("Saturday, 27-Nov-27 13:00:00 GMT") == 1827320400,
	    "RFC 850");
	CHECK(s3_time_parse_http("Sat Nov 27 13:00:00 2027") == 1827320400, "asctime");
	CHECK(s3_time_parse_http("yesterday") == -1, "garbage date");
	s3_time_iso(1827320400, t);
	CHECK(strcmp(t, "2027-11-27T13:00:00.000Z") == 0, "iso date %s", t);
	s3_url_encode("a b/c+d\xc3\xa9", 9, enc);
	CHECK(strcmp(enc, "a%20b/c%2Bd%C3%A9") == 0, "url encode %s", enc);
	CHECK(strcmp(s3_error_by_code("NoSuchKey")->code, "NoSuchKey") == 0 &&
	        s3_error_by_code("NoSuchKey")->status == 404,
	    "error table");
	CHECK(s3_error_by_code("Nonsense")->status == 500, "unknown code");
	CHECK(s3_error_of(MGR_ENOTFOUND, 1)->status == 404 &&
	        strcmp(s3_error_of(MGR_ENOTFOUND, 0)->code, "NoSuchBucket") == 0,
	    "mapping");
	return (fails != 0);
}
