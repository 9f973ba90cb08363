/* Request paths: percent-decoding and route pattern matching. */
#include "gateway/path.h"

#include <string.h>

#include "common/util.h"

mgr_err
gw_pct_decode(const char *s, size_t n, int plus_space, char *out, size_t outlen,
    size_t *olen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n || (h = mgr_hex_digit(s[i + 1])) < 0 ||
			    (l = mgr_hex_digit(s[i + 2])) < 0)
				return (MGR_EINVAL);
			c = h * 16 + l;
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == 0 || o + 1 >= outlen)
			return (MGR_EINVAL);
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*olen = o;
	return (MGR_OK);
}

int
gw_pct_valid(const char *s, size_t n, int plus_space)
{
	(void)plus_space; /* '+' is a space or itself: either is fine */
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0')
			return (0);
		if (s[i] != '%')
			continue;
		if (i + 2 >= n || mgr_hex_digit(s[i + 1]) < 0 ||
		    mgr_hex_digit(s[i + 2]) < 0 ||
		    mgr_hex_digit(s[i + 1]) * 16 + mgr_hex_digit(s[i + 2]) == 0)
			return (0);
		i += 2;
	}
	return (1);
}

int
gw_route_match(const char *pattern, const char *path, struct gw_req *r)
{
	const char *p = pattern, *u = path;
	int np = 0;

	while (*p != '\0') {
		if (p[0] == '{' && p[1] == '+' && p[2] == '}') {
			size_t n = strlen(u);

			if (n == 0 || np >= GW_PARAMS_MAX)
				return (0);
			if (gw_pct_decode(u, n, 0, r->params[np], GW_PARAM_MAX,
			        &r->param_len[np]) != MGR_OK)
				return (-1);
			np++;
			u += n;
			p += 3;
			continue;
		}
		if (p[0] == '{' && p[1] == '}') {
			size_t n = strcspn(u, "/");

			if (n == 0 || np >= GW_PARAMS_MAX)
				return (0);
			if (gw_pct_decode(u, n, 0, r->params[np], GW_PARAM_MAX,
			        &r->param_len[np]) != MGR_OK)
				return (-1);
			np++;
			u += n;
			p += 2;
			continue;
		}
		if (*p != *u)
			return (0);
		p++;
		u++;
	}
	if (*u != '\0')
		return (0);
	r->nparams = np;
	return (1);
}
