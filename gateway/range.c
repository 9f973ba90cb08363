/* Range and entity-tag list headers: see range.h. */
#include "gateway/range.h"

#include <string.h>

#include "common/util.h"

static const char *
skip_sp(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return (s);
}

/* The decimal [s, e) without its surrounding spaces: at most 18 digits. */
static int
parse_pos(const char *s, const char *e, int64_t *out)
{
	uint64_t v;

	s = skip_sp(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e - s > 18 || mgr_parse_digits(s, (size_t)(e - s), INT64_MAX, &v) != MGR_OK)
		return (0);
	*out = (int64_t)v;
	return (1);
}

int
gw_range(const char *hdr, int64_t size, int64_t *first, int64_t *last)
{
	const char *spec, *dash, *end;
	int64_t a, b;

	if (hdr == NULL)
		return (0);
	hdr = skip_sp(hdr);
	if (strncmp(hdr, "bytes=", 6) != 0)
		return (0);
	spec = skip_sp(hdr + 6);
	end = spec + strlen(spec);
	if (strchr(spec, ',') != NULL || (dash = strchr(spec, '-')) == NULL)
		return (0);
	if (dash == spec) { /* suffix: the last n bytes */
		if (!parse_pos(dash + 1, end, &b))
			return (0);
		if (b == 0 || size == 0)
			return (-1);
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return (1);
	}
	if (!parse_pos(spec, dash, &a))
		return (0);
	if (*skip_sp(dash + 1) == '\0') {
		b = size - 1;
	} else {
		if (!parse_pos(dash + 1, end, &b))
			return (0);
		if (b < a)
			return (0); /* RFC 9110: an invalid range is ignored */
		if (b >= size)
			b = size - 1;
	}
	if (a >= size)
		return (-1);
	*first = a;
	*last = b;
	return (1);
}

int
gw_etag_listed(const char *list, const char *etag)
{
	const char *p = list;
	size_t el = strlen(etag);

	while (*p != '\0') {
		const char *q;
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (*p == '*')
			return (1);
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p == '"')
			p++;
		q = p;
		while (*q != '\0' && *q != '"' && *q != ',')
			q++;
		n = (size_t)(q - p);
		if (n == el && strncmp(p, etag, n) == 0)
			return (1);
		p = q;
		if (*p == '"')
			p++;
	}
	return (0);
}
