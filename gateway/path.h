/* Request paths: percent-decoding and matching against route patterns.
 * Kept apart from server.c so that tests/fuzz can drive them directly. */
#ifndef MGR_GATEWAY_PATH_H
#define MGR_GATEWAY_PATH_H

#include <stddef.h>

#include "common/err.h"
#include "gateway/gw.h"

/* Percent-decodes [s, s+n) into out (outlen bytes, NUL-terminated), '+' as
 * a space when plus_space. MGR_EINVAL on a bad or truncated escape, a NUL
 * byte (raw or %00), or a result that does not fit; *olen is the decoded
 * length, set only on success. */
mgr_err gw_pct_decode(const char *s, size_t n, int plus_space, char *out, size_t outlen,
    size_t *olen);

/* 1 when [s, s+n) is well percent-encoded: gw_pct_decode, given room
 * enough, accepts it. */
int gw_pct_valid(const char *s, size_t n, int plus_space);

/* 1 when path matches pattern ({} one segment, a trailing {+} the rest of
 * the path), with the segments decoded into r->params / r->param_len and
 * r->nparams set. 0 when it does not match. -1 when it matches but a
 * segment is badly encoded. */
int gw_route_match(const char *pattern, const char *path, struct gw_req *r);

#endif
