/* common/util.c: the decimal parsers and hex. */
#include <stdint.h>
#include <string.h>

#include "common/util.h"
#include "tests/lib/check.h"

static void
test_digits(void)
{
	static const struct {
		const char *s;
		size_t n; /* 0: strlen */
		uint64_t max;
		mgr_err rv;
		uint64_t v;
	} cases[] = {
	    {"0", 0, 10, MGR_OK, 0},
	    {"42", 0, 100, MGR_OK, 42},
	    {"100", 0, 100, MGR_OK, 100},
	    {"101", 0, 100, MGR_EINVAL, 0},
	    {"007", 0, 10, MGR_OK, 7},
	    {"", 0, 10, MGR_EINVAL, 0},
	    {"-1", 0, 10, MGR_EINVAL, 0},
	    {"+1", 0, 10, MGR_EINVAL, 0},
	    {" 1", 0, 10, MGR_EINVAL, 0},
	    {"1 ", 0, 10, MGR_EINVAL, 0},
	    {"1x", 0, 10, MGR_EINVAL, 0},
	    {"12345", 3, 1000, MGR_OK, 123},
	    {"9", 0, 5, MGR_EINVAL, 0},
	    {"5", 0, 5, MGR_OK, 5},
	    {"18446744073709551615", 0, UINT64_MAX, MGR_OK, UINT64_MAX},
	    {"18446744073709551616", 0, UINT64_MAX, MGR_EINVAL, 0},
	    {"99999999999999999999", 0, UINT64_MAX, MGR_EINVAL, 0},
	    {"9223372036854775807", 0, INT64_MAX, MGR_OK, INT64_MAX},
	    {"9223372036854775808", 0, INT64_MAX, MGR_EINVAL, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = cases[i].n != 0 ? cases[i].n : strlen(cases[i].s);
		uint64_t v = 12345;
		mgr_err rv = mgr_parse_digits(cases[i].s, n, cases[i].max, &v);

		CHECK(rv == cases[i].rv, "\"%s\" max %llu: result %d", cases[i].s,
		    (unsigned long long)cases[i].max, (int)rv);
		CHECK(rv != MGR_OK || v == cases[i].v, "\"%s\": %llu", cases[i].s,
		    (unsigned long long)v);
		CHECK(rv == MGR_OK || v == 12345, "\"%s\": out set on failure",
		    cases[i].s);
	}
}

static void
test_i64(void)
{
	static const struct {
		const char *s;
		mgr_err rv;
		int64_t v;
	} cases[] = {
	    {"0", MGR_OK, 0},
	    {"-5", MGR_OK, -5},
	    {"123", MGR_OK, 123},
	    {"", MGR_EINVAL, 0},
	    {" 1", MGR_EINVAL, 0},
	    {"1 ", MGR_EINVAL, 0},
	    {"1e3", MGR_EINVAL, 0},
	    {"9223372036854775808", MGR_EINVAL, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 0;
		mgr_err rv = mgr_parse_i64(cases[i].s, &v);

		CHECK(rv == cases[i].rv, "\"%s\": result %d", cases[i].s, (int)rv);
		CHECK(rv != MGR_OK || v == cases[i].v, "\"%s\": %lld", cases[i].s,
		    (long long)v);
	}
}

static void
test_hex(void)
{
	static const unsigned char bytes[] = {0x00, 0x0f, 0xa5, 0xff, 0x10};
	unsigned char back[8];
	char hex[16];

	mgr_hex_encode(bytes, sizeof(bytes), hex);
	CHECK(strcmp(hex, "000fa5ff10") == 0, "encode: %s", hex);
	mgr_hex_encode(bytes, 0, hex);
	CHECK(hex[0] == '\0', "encode of nothing is empty");
	memset(back, 0x55, sizeof(back));
	CHECK(mgr_hex_decode("000FA5ff10", 5, back) == 1 && memcmp(back, bytes, 5) == 0,
	    "decode, either case");
	CHECK(back[5] == 0x55, "decode writes n bytes only");
	CHECK(mgr_hex_decode("0g", 1, back) == 0, "decode refuses g");
	CHECK(mgr_hex_decode("g0", 1, back) == 0, "decode refuses a bad high digit");
	CHECK(mgr_hex_decode("0", 1, back) == 0, "decode refuses a string cut short");
	CHECK(mgr_hex_digit('7') == 7 && mgr_hex_digit('b') == 11 &&
	        mgr_hex_digit('B') == 11 && mgr_hex_digit('/') == -1 &&
	        mgr_hex_digit(':') == -1 && mgr_hex_digit('@') == -1 &&
	        mgr_hex_digit('G') == -1 && mgr_hex_digit(0) == -1,
	    "digits");
}

int
main(void)
{
	test_digits();
	test_i64();
	test_hex();
	return (fails != 0);
}
