/* Fuzz target: object keys and vault names as they arrive in a path —
 * percent-decoded by the gateway (gateway/path.c) from
 * /api/v1/vaults/{}/objects/{+}, then checked by the vault service
 * (services/vault/rules.c). Built only when services/vault/rules.c is in
 * the tree (branch vault). The UTF-8 check is compared with jansson's. */
#include <string.h>

#include <jansson.h>

#include "gateway/path.h"
#include "services/vault/store.h"
#include "tests/fuzz/fuzz.h"

struct gw gw; /* the gateway's global, defined by gateway/main.c */

static void
check_key(const char *key, size_t len)
{
	json_t *j = json_stringn(key, len); /* NULL unless valid UTF-8 */
	int utf8 = vault_utf8_valid(key, len);

	FUZZ_CHECK(utf8 == (j != NULL));
	json_decref(j);
	if (vault_key_valid(key, len)) {
		FUZZ_CHECK(utf8 && len >= 1 && len <= VAULT_KEY_MAX);
		FUZZ_CHECK(memchr(key, '\0', len) == NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_req r;
	char *path, url[8192];
	int n;

	/* The raw bytes as a key (the service gets them from the RPC). */
	check_key((const char *)data, size);
	if ((path = fuzz_cstr(data, size)) == NULL)
		return (0);
	/* And as the rest of a request path. */
	n = snprintf(url, sizeof(url), "/api/v1/vaults/%s", path);
	if (n > 0 && (size_t)n < sizeof(url)) {
		memset(&r, 0, sizeof(r));
		if (gw_route_match("/api/v1/vaults/{}/objects/{+}", url, &r) == 1) {
			FUZZ_CHECK(r.nparams == 2);
			check_key(r.params[1], r.param_len[1]);
			if (vault_name_valid(r.params[0])) {
				FUZZ_CHECK(strspn(r.params[0],
				               "abcdefghijklmnopqrstuvwxyz0123456789-") ==
				    r.param_len[0]);
				FUZZ_CHECK(r.param_len[0] >= VAULT_NAME_MIN &&
				    r.param_len[0] <= VAULT_NAME_MAX);
			}
		}
	}
	free(path);
	return (0);
}
