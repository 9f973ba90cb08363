/* Fuzz target: mgr_time_parse (common/util.c), the input of every date in
 * a request body. */
#include <string.h>

#include "common/util.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, back[MGR_TIME_MAX];
	int64_t t = 7, t2 = 0;

	if ((s = fuzz_cstr(data, size)) == NULL)
		return (0);
	if (mgr_time_parse(s, &t) != MGR_OK) {
		FUZZ_CHECK(t == 7); /* out-parameter untouched on failure */
		goto out;
	}
	/* Years 1970..9999, offsets under a day. */
	FUZZ_CHECK(t > -86400 && t < 253402300800 + 86400);
	/* Within 1970..9999 UTC the canonical form parses to the same time. */
	if (t >= 0 && t < 253402300800) {
		mgr_time_format(t, back);
		FUZZ_CHECK(strlen(back) == 20);
		FUZZ_CHECK(mgr_time_parse(back, &t2) == MGR_OK && t2 == t);
	}
out:
	free(s);
	return (0);
}
