/* Fuzz target: JSON request bodies as the gateway takes them — json_loadb
 * with JSON_REJECT_DUPLICATES, then the checks routes use (gateway/json.c:
 * gw_json_only, gw_json_str, gw_json_time) on a minimal struct gw_req. */
#include <string.h>

#include "common/util.h"
#include "gateway/gw.h"
#include "tests/fuzz/fuzz.h"

struct gw gw; /* the gateway's global, defined by gateway/main.c */

/* Every field name API.md's bodies use. */
static const char *const fuzz_fields[] = {
    "name",
    "role",
    "username",
    "password",
    "csr",
    "expiration_date",
    "revoke",
    "kind",
    "quota_bytes",
    "vault_template_id",
    "mirror_template_id",
    NULL,
};

static void
check_str(struct gw_req *r, const char *key, int required, size_t maxlen)
{
	const char *s = (const char *)1;
	mgr_err rv;

	r->errmsg[0] = '\0';
	rv = gw_json_str(r, key, required, maxlen, &s);
	if (rv != MGR_OK) {
		FUZZ_CHECK(rv == MGR_EINVAL && s == NULL && r->errmsg[0] != '\0');
		return;
	}
	if (s == NULL) {
		json_t *v = json_object_get(r->json, key);

		FUZZ_CHECK(!required && (v == NULL || json_is_null(v)));
		return;
	}
	/* 1..maxlen bytes, no NUL inside, the member's own bytes. */
	FUZZ_CHECK(strlen(s) >= 1 && strlen(s) <= maxlen);
	FUZZ_CHECK(strlen(s) == json_string_length(json_object_get(r->json, key)));
}

static void
check_time(struct gw_req *r, const char *key)
{
	int64_t t = 0;
	int present = -1;
	mgr_err rv;

	rv = gw_json_time(r, key, &t, &present);
	FUZZ_CHECK(rv == MGR_OK || rv == MGR_EINVAL);
	FUZZ_CHECK(present == (rv == MGR_OK ? present : 0));
	if (rv == MGR_OK && present) {
		/* 1970..9999 with an offset of under a day either way. */
		FUZZ_CHECK(t > -86400 && t < 253402300800 + 86400);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_req r;
	json_error_t jerr;
	const char *key;
	json_t *v;

	if (size > GW_JSON_MAX)
		return (0); /* the gateway answers 413 before parsing */
	memset(&r, 0, sizeof(r));
	r.json = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (r.json == NULL)
		return (0);
	if (!json_is_object(r.json))
		goto out;
	if (gw_json_only(&r, fuzz_fields) != MGR_OK)
		FUZZ_CHECK(r.errmsg[0] != '\0');
	for (const char *const *f = fuzz_fields; *f != NULL; f++) {
		check_str(&r, *f, 1, 128);
		check_str(&r, *f, 0, 16384);
		check_time(&r, *f);
	}
	/* And whatever members the input brought. */
	json_object_foreach(r.json, key, v)
	{
		(void)v;
		check_str(&r, key, 0, 1024);
		check_time(&r, key);
	}
	/* What the replies do with it: dump it back. */
	free(json_dumps(r.json, JSON_COMPACT));
out:
	json_decref(r.json);
	return (0);
}
