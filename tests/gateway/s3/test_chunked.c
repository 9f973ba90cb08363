/* gateway/s3/chunked.c: aws-chunked bodies as SDKs send them, fed whole and
 * one byte at a time, and malformed ones. */
#include <string.h>

#include "common/buf.h"
#include "gateway/s3/wire.h"
#include "tests/lib/check.h"

#define SIG \
	"chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"

static const struct {
	const char *name;
	const char *body;
	mgr_err feed; /* of the whole body */
	mgr_err finish;
	const char *data;    /* decoded, when both are OK */
	const char *trailer; /* x-amz-checksum-crc32, or NULL */
} cases[] = {
    {"unsigned with a CRC32 trailer (botocore 1.36+)",
        "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", MGR_OK,
        MGR_OK, "hello world", "DUoRhQ=="},
    {"signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)",
        "b;" SIG "\r\nhello world\r\n0;" SIG "\r\n\r\n", MGR_OK, MGR_OK, "hello world",
        NULL},
    {"signed with a signed trailer",
        "b;" SIG "\r\nhello world\r\n0;" SIG "\r\nx-amz-checksum-crc32:DUoRhQ==\r\n"
        "x-amz-trailer-signature:63bddb248ad2590c92712055f51b8e78ab024eead08276b24f010b0efd74843f\r\n\r\n",
        MGR_OK, MGR_OK, "hello world", "DUoRhQ=="},
    {"upper-case hex, trailer with a space",
        "B\r\nhello world\r\n0\r\nx-amz-checksum-crc32: DUoRhQ==\r\n\r\n", MGR_OK, MGR_OK,
        "hello world", "DUoRhQ=="},
    {"empty object", "0\r\n\r\n", MGR_OK, MGR_OK, "", NULL},
    {"trailers without the final empty line",
        "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n", MGR_OK, MGR_OK, "hello",
        "NhCmhg=="},
    {"cut in the data", "b\r\nhello", MGR_OK, MGR_EINVAL, NULL, NULL},
    {"no last chunk", "5\r\nhello\r\n", MGR_OK, MGR_EINVAL, NULL, NULL},
    {"chunk longer than its size", "3\r\nhello\r\n0\r\n\r\n", MGR_EINVAL, MGR_OK, NULL,
        NULL},
    {"no CRLF after the data", "5\r\nhelloX\r\n0\r\n\r\n", MGR_EINVAL, MGR_OK, NULL,
        NULL},
    {"not hex", "zz\r\nhello\r\n", MGR_EINVAL, MGR_OK, NULL, NULL},
    {"empty size line", "\r\nhello\r\n", MGR_EINVAL, MGR_OK, NULL, NULL},
    {"bare LF", "5\nhello\r\n0\r\n\r\n", MGR_EINVAL, MGR_OK, NULL, NULL},
    {"bytes after the end", "0\r\n\r\nextra", MGR_EINVAL, MGR_OK, NULL, NULL},
    {"a huge size", "ffffffffffffffffff\r\n", MGR_EINVAL, MGR_OK, NULL, NULL},
    {"over the limit", "10001\r\n", MGR_ETOOBIG, MGR_OK, NULL, NULL},
    {"trailer without a colon", "0\r\nnocolon\r\n\r\n", MGR_EINVAL, MGR_OK, NULL, NULL},
    {"too many trailers", "0\r\na:1\r\nb:2\r\nc:3\r\nd:4\r\ne:5\r\n\r\n", MGR_EINVAL,
        MGR_OK, NULL, NULL},
};

static mgr_err
sink(void *arg, const char *data, size_t len)
{
	return (mgr_buf_add(arg, data, len));
}

static void
run(size_t i, int bytewise)
{
	struct s3_chunked c;
	struct mgr_buf out;
	const char *b = cases[i].body, *t;
	size_t n = strlen(b);
	mgr_err rv = MGR_OK;

	mgr_buf_init(&out, 1 << 20);
	s3_chunked_init(&c, 65536);
	if (bytewise) {
		for (size_t k = 0; k < n && rv == MGR_OK; k++)
			rv = s3_chunked_feed(&c, b + k, 1, sink, &out);
	} else {
		rv = s3_chunked_feed(&c, b, n, sink, &out);
	}
	CHECK(rv == cases[i].feed, "%s (bytewise %d): feed %d, want %d", cases[i].name,
	    bytewise, rv, cases[i].feed);
	if (rv != MGR_OK) {
		mgr_buf_free(&out);
		return;
	}
	CHECK(s3_chunked_finish(&c) == cases[i].finish, "%s (bytewise %d): finish",
	    cases[i].name, bytewise);
	if (cases[i].data != NULL) {
		CHECK(out.len == strlen(cases[i].data) &&
		        (out.len == 0 || memcmp(out.data, cases[i].data, out.len) == 0),
		    "%s: data", cases[i].name);
		CHECK(c.decoded == out.len, "%s: decoded count", cases[i].name);
		t = s3_chunked_trailer(&c, "X-Amz-Checksum-Crc32");
		CHECK(cases[i].trailer == NULL
		        ? t == NULL
		        : t != NULL && strcmp(t, cases[i].trailer) == 0,
		    "%s: trailer %s", cases[i].name, t != NULL ? t : "(none)");
	}
	mgr_buf_free(&out);
}

static mgr_err
refuse(void *arg, const char *data, size_t len)
{
	(void)arg;
	(void)data;
	(void)len;
	return (MGR_EUNAVAIL);
}

int
main(void)
{
	struct s3_chunked c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(i, 0);
		run(i, 1);
	}
	/* The sink's error ends decoding with it. */
	s3_chunked_init(&c, 100);
	CHECK(s3_chunked_feed(&c, "1\r\nx\r\n", 6, refuse, NULL) == MGR_EUNAVAIL,
	    "sink error");
	return (fails != 0);
}
