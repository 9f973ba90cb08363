/* gateway/s3/checksum.c: x-amz-checksum-* values and Content-MD5. */
#include <string.h>

#include "gateway/s3/wire.h"
#include "tests/lib/check.h"

static const struct {
	enum s3_sum_alg alg;
	const char *data;
	const char *b64;
} cases[] = {
    /* CRC-32 check value 0xcbf43926; CRC-32C check value 0xe3069283. */
    {S3_SUM_CRC32, "123456789", "y/Q5Jg=="},
    {S3_SUM_CRC32C, "123456789", "4waSgw=="},
    {S3_SUM_CRC32, "", "AAAAAA=="},
    {S3_SUM_CRC32C, "", "AAAAAA=="},
    {S3_SUM_SHA1, "", "2jmj7l5rSw0yVb/vlWAYkK/YBwk="},
    {S3_SUM_SHA256, "", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
    {S3_SUM_SHA256, "abc", "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="},
    {S3_SUM_SHA1, "abc", "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="},
};

int
main(void)
{
	unsigned char md5[16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct s3_sum s;
		char out[S3_SUM_B64_MAX];
		size_t n = strlen(cases[i].data);

		CHECK(s3_sum_init(&s, cases[i].alg) == MGR_OK, "init %zu", i);
		/* In two pieces: the state carries over. */
		CHECK(s3_sum_update(&s, cases[i].data, n / 2) == MGR_OK, "update %zu", i);
		CHECK(s3_sum_update(&s, cases[i].data + n / 2, n - n / 2) == MGR_OK,
		    "update %zu", i);
		CHECK(s3_sum_final(&s, out) == MGR_OK, "final %zu", i);
		CHECK(strcmp(out, cases[i].b64) == 0, "case %zu: %s, want %s", i, out,
		    cases[i].b64);
		s3_sum_free(&s);
	}
	CHECK(s3_sum_alg_of("CRC32") == S3_SUM_CRC32, "name");
	CHECK(s3_sum_alg_of("crc32c") == S3_SUM_CRC32C, "name, lower case");
	CHECK(s3_sum_alg_of("x-amz-checksum-sha256") == S3_SUM_SHA256, "header");
	CHECK(s3_sum_alg_of("x-amz-checksum-crc64nvme") == S3_SUM_NONE, "unknown");
	CHECK(s3_sum_alg_of(NULL) == S3_SUM_NONE, "NULL");
	CHECK(strcmp(s3_sum_header(S3_SUM_SHA1), "x-amz-checksum-sha1") == 0, "header");

	/* MD5("") = d41d8cd98f00b204e9800998ecf8427e */
	CHECK(s3_content_md5("1B2M2Y8AsgTpgAmY7PhCfg==", md5) == 1 && md5[0] == 0xd4 &&
	        md5[15] == 0x7e,
	    "Content-MD5");
	CHECK(s3_content_md5("1B2M2Y8AsgTpgAmY7PhCfg", md5) == 0, "unpadded");
	CHECK(s3_content_md5("not base64 at all!!!!!==", md5) == 0, "garbage");
	CHECK(s3_content_md5("", md5) == 0, "empty");
	CHECK(s3_content_md5("2jmj7l5rSw0yVb/vlWAYkK/YBwk=", md5) == 0, "20 bytes");
	return (fails != 0);
}
