/* Query arguments: decoded on demand (the server keeps them raw), and the
 * ?after=&limit= of paged listings. */
#include "gateway/gw.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "gateway/path.h"

const char *
gw_query(struct gw_req *r, const char *key)
{
	const char *raw;
	char *dec;
	size_t n, dlen;

	raw = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
	if (raw == NULL || r->nquery >= GW_QUERY_MAX)
		return (NULL);
	/* Values come raw (keep_raw below): decode them here, '+' as space. */
	n = strlen(raw);
	if ((dec = malloc(n + 1)) == NULL)
		return (NULL);
	if (gw_pct_decode(raw, n, 1, dec, n + 1, &dlen) != MGR_OK) {
		free(dec);
		return (NULL);
	}
	r->query[r->nquery++] = dec;
	return (dec);
}

/* ?after=CURSOR&limit=N of a paged listing (common/page.h): a bad or badly
 * encoded value, or a limit outside 1..max, is 400. *limit 0: the service's
 * default (also for an empty "limit=", as API.md writes the query). */
mgr_err
gw_page_query(struct gw_req *r, uint32_t max, const char **after, uint32_t *limit)
{
	const char *a = gw_query(r, "after"), *l = gw_query(r, "limit");
	int64_t n = 0;

	if ((a == NULL &&
	        MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "after") !=
	            NULL) ||
	    (a != NULL && strlen(a) > 128))
		return (
		    gw_fail(r, MGR_EINVAL, "\"after\" is not a cursor of this listing"));
	if ((l == NULL &&
	        MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "limit") !=
	            NULL) ||
	    (l != NULL && *l != '\0' &&
	        (mgr_parse_i64(l, &n) != MGR_OK || n < 1 || n > (int64_t)max)))
		return (gw_fail(r, MGR_EINVAL, "\"limit\" must be 1 to %u", max));
	*after = a != NULL ? a : "";
	*limit = (uint32_t)n;
	return (MGR_OK);
}

json_t *
gw_next_after(const char *cursor)
{
	return (cursor != NULL && cursor[0] != '\0' ? json_string(cursor) : json_null());
}
