/* Fuzz target: request path decoding and route matching (gateway/path.c).
 * The input is a request path as libmicrohttpd hands it over (raw, not
 * decoded). */
#include <string.h>

#include "gateway/path.h"
#include "gateway/rest/rest.h"
#include "tests/fuzz/fuzz.h"

struct gw gw; /* the gateway's global, defined by gateway/main.c */

/* API.md's routes, plus those on main's tables (below). */
static const char *const fuzz_patterns[] = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/v1/ca/certificate",
    "/api/v1/ca/crl",
    "/api/v1/accounts",
    "/api/v1/accounts/{}",
    "/api/v1/accounts/{}/password",
    "/api/v1/accounts/{}/disable",
    "/api/v1/accounts/{}/enable",
    "/api/v1/accounts/{}/certificates",
    "/api/v1/accounts/{}/certificates/renew",
    "/api/v1/accounts/{}/certificates/rotate",
    "/api/v1/accounts/{}/events",
    "/api/v1/accounts/{}/events/stream",
    "/api/v1/audit",
    "/api/v1/devices",
    "/api/v1/vault-templates",
    "/api/v1/vaults",
    "/api/v1/vaults/{}",
    "/api/v1/vaults/{}/objects",
    "/api/v1/vaults/{}/objects/{+}",
    "/{}/{}/{}/{}/{}",
    "/{+}",
    NULL,
};

static const struct gw_route *const *
fuzz_tables(void)
{
	static const struct gw_route *const t[] = {
	    gw_routes_health,
	    gw_routes_accounts,
	    gw_routes_certs,
	    gw_routes_vaults,
	    gw_routes_events,
	    gw_routes_console,
	    NULL,
	};

	return (t);
}

static void
check_match(const char *pattern, const char *path, struct gw_req *r)
{
	int m;

	memset(r->params, 0x55, sizeof(r->params));
	r->nparams = -1;
	m = gw_route_match(pattern, path, r);
	FUZZ_CHECK(m >= -1 && m <= 1);
	if (m != 1)
		return;
	FUZZ_CHECK(r->nparams >= 0 && r->nparams <= GW_PARAMS_MAX);
	for (int i = 0; i < r->nparams; i++) {
		/* Decoded, NUL-free, bounded, never empty. */
		FUZZ_CHECK(r->param_len[i] >= 1 && r->param_len[i] < GW_PARAM_MAX);
		FUZZ_CHECK(strlen(r->params[i]) == r->param_len[i]);
	}
}

/* Decoding what we encode gives it back. */
static void
check_roundtrip(const char *dec, size_t n)
{
	static const char hx[] = "0123456789ABCDEF";
	char enc[3 * 256 + 1], back[256 + 1];
	size_t o = 0, blen;

	if (n > 256)
		return;
	for (size_t i = 0; i < n; i++) {
		enc[o++] = '%';
		enc[o++] = hx[(unsigned char)dec[i] >> 4];
		enc[o++] = hx[(unsigned char)dec[i] & 15];
	}
	FUZZ_CHECK(gw_pct_decode(enc, o, 0, back, sizeof(back), &blen) == MGR_OK);
	FUZZ_CHECK(blen == n && memcmp(back, dec, n) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_req r;
	char *path, out[GW_PARAM_MAX];
	size_t olen = 0;

	if ((path = fuzz_cstr(data, size)) == NULL)
		return (0);
	memset(&r, 0, sizeof(r));
	for (const char *const *p = fuzz_patterns; *p != NULL; p++)
		check_match(*p, path, &r);
	for (const struct gw_route *const *t = fuzz_tables(); *t != NULL; t++)
		for (const struct gw_route *rt = *t; rt->method != NULL; rt++)
			check_match(rt->pattern, path, &r);

	/* The decoder on its own: both modes, and small outputs. */
	for (int plus = 0; plus <= 1; plus++) {
		size_t lens[] = {1, 2, 16, sizeof(out)};

		for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			olen = (size_t)-1;
			memset(out, 0x55, sizeof(out));
			if (gw_pct_decode((const char *)data, size, plus, out, lens[k],
			        &olen) != MGR_OK) {
				FUZZ_CHECK(olen == (size_t)-1);
				/* Invalid, or valid but too long for out. */
				if (lens[k] == sizeof(out) && size < sizeof(out))
					FUZZ_CHECK(!gw_pct_valid((const char *)data, size,
					    plus));
				continue;
			}
			FUZZ_CHECK(gw_pct_valid((const char *)data, size, plus));
			FUZZ_CHECK(olen < lens[k] && olen <= size);
			FUZZ_CHECK(out[olen] == '\0' && strlen(out) == olen);
			check_roundtrip(out, olen);
		}
	}
	free(path);
	return (0);
}
