/* Fuzz target: the hand-over bundle parser of mgr enroll (cli/bundle.c),
 * on any bytes. A bundle it accepts has every field in the form enroll
 * relies on; one it refuses says why; it never crashes. */
#include <string.h>

#include "cli/bundle.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle b;
	char why[300];

	why[0] = '\0';
	if (bundle_parse((const char *)data, size, &b, why, sizeof(why)) != 0) {
		FUZZ_CHECK(why[0] != '\0');
		return (0);
	}
	FUZZ_CHECK(strncmp(b.url, "https://", 8) == 0);
	FUZZ_CHECK(b.s3_url[0] == '\0' || strncmp(b.s3_url, "https://", 8) == 0);
	FUZZ_CHECK(bundle_id_ok(b.account_id));
	FUZZ_CHECK(bundle_username_ok(b.username) && bundle_password_ok(b.password));
	FUZZ_CHECK(b.ca_pem != NULL && strstr(b.ca_pem, "-----BEGIN") != NULL);
	bundle_clear(&b);
	FUZZ_CHECK(b.ca_pem == NULL);
	return (0);
}
