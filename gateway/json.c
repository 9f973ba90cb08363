/* Checks on JSON request bodies: unknown members, types, lengths, times. */
#include "gateway/gw.h"

#include <string.h>

#include "common/util.h"

mgr_err
gw_json_only(struct gw_req *r, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(r->json, key, v)
	{
		const char *const *a;

		(void)v;
		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (*a == NULL)
			return (gw_fail(r, MGR_EINVAL, "unknown field \"%.64s\"", key));
	}
	return (MGR_OK);
}

mgr_err
gw_json_str(struct gw_req *r, const char *key, int required, size_t maxlen,
    const char **out)
{
	json_t *v = json_object_get(r->json, key);
	size_t n;

	*out = NULL;
	if (v == NULL || (json_is_null(v) && !required)) {
		if (required)
			return (gw_fail(r, MGR_EINVAL, "\"%s\" is required", key));
		return (MGR_OK);
	}
	if (!json_is_string(v))
		return (gw_fail(r, MGR_EINVAL, "\"%s\" must be a string", key));
	n = json_string_length(v);
	if (n == 0 || n > maxlen)
		return (
		    gw_fail(r, MGR_EINVAL, "\"%s\" must be 1 to %zu bytes", key, maxlen));
	if (strlen(json_string_value(v)) != n)
		return (gw_fail(r, MGR_EINVAL, "\"%s\" holds a NUL character", key));
	*out = json_string_value(v);
	return (MGR_OK);
}

mgr_err
gw_json_time(struct gw_req *r, const char *key, int64_t *out, int *present)
{
	const char *s;
	mgr_err rv;

	*present = 0;
	if ((rv = gw_json_str(r, key, 0, 64, &s)) != MGR_OK)
		return (rv);
	if (s == NULL)
		return (MGR_OK);
	if (mgr_time_parse(s, out) != MGR_OK)
		return (gw_fail(r, MGR_EINVAL,
		    "\"%s\" must be an RFC 3339 time or YYYY-MM-DD", key));
	*present = 1;
	return (MGR_OK);
}

json_t *
gw_json_time_value(int64_t t)
{
	char buf[MGR_TIME_MAX];

	if (t == 0)
		return (json_null());
	mgr_time_format(t, buf);
	return (json_string(buf));
}
