/* IBM's response envelope of the Manager REST API, JSON or XML:
 *   {"responseStatus": "ok"|"fail",
 *    "responseHeader": {"status": "ok"|"fail", "now": ms, "requestId": "…"},
 *    "responseData": {…}}
 * A failure's responseData is {"errors": [{"field", "message", "code"}]}.
 * The XML form is the same tree under <response> (api/ibm-compat.md). */
#ifndef MGR_GATEWAY_ADM_ENVELOPE_H
#define MGR_GATEWAY_ADM_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "common/err.h"

enum adm_flavour { ADM_JSON = 0, ADM_XML = 1 };

/* "json" or "xml" (the path segment) into *out; MGR_ENOTFOUND otherwise. */
mgr_err adm_flavour_parse(const char *s, enum adm_flavour *out);
const char *adm_content_type(enum adm_flavour fl);

/* The envelope around DATA (an object, borrowed; NULL: {}): ok when ok,
 * else fail. On success *out is a NUL-terminated malloc'd body of *len
 * bytes. MGR_EINVAL when DATA holds what XML cannot name (a key that is
 * not an XML name). */
mgr_err adm_envelope(enum adm_flavour fl, int ok, const char *request_id, int64_t now_ms,
    const json_t *data, char **out, size_t *len);

/* responseData of a failure: one error (field may be NULL or ""). */
json_t *adm_errors(const char *field, const char *message, const char *code);

#endif
