/* The request headers of object reads and conditional writes, for the REST
 * and the S3 fronts: Range (RFC 9110 14.2, one byte range) and the
 * entity-tag lists of If-Match / If-None-Match. No I/O, so that tests drive
 * them from tables. */
#ifndef MGR_GATEWAY_RANGE_H
#define MGR_GATEWAY_RANGE_H

#include <stdint.h>

/* "bytes=a-b", "bytes=a-", "bytes=-n" (spaces around the parts tolerated)
 * against an object of size bytes. 1: a satisfiable range [*first, *last]
 * (b past the end is cut to it); 0: no usable Range (absent, another unit,
 * several ranges, b before a, malformed: the whole object, as RFC 9110
 * says); -1: unsatisfiable (416: a at or past the end, a suffix of 0, or
 * any range of an empty object). */
int gw_range(const char *hdr, int64_t size, int64_t *first, int64_t *last);

/* Does the entity-tag list of an If-Match / If-None-Match header name etag
 * (hex)? "*" matches any existing object; W/ prefixes are ignored (weak
 * comparison: these are strong tags anyway). */
int gw_etag_listed(const char *list, const char *etag);

#endif
