#include "common/err.h"

static const struct {
	const char *text;
	const char *code;
	int http;
	int wire;
} err_table[MGR_ERR_COUNT] = {
    [MGR_OK] = {"ok", "ok", 200, 0},
    [MGR_EINVAL] = {"invalid argument", "invalid_argument", 400, 3},
    [MGR_EUNAUTH] = {"unauthenticated", "unauthenticated", 401, 16},
    [MGR_EPERM] = {"permission denied", "permission_denied", 403, 7},
    [MGR_ENOTFOUND] = {"not found", "not_found", 404, 5},
    [MGR_ECONFLICT] = {"conflict", "conflict", 409, 6},
    [MGR_ETOOBIG] = {"payload too large", "payload_too_large", 413, 11},
    [MGR_EMEDIA] = {"unsupported media type", "unsupported_media_type", 415, 3},
    [MGR_ERATE] = {"rate limited", "rate_limited", 429, 8},
    [MGR_EUNAVAIL] = {"service unavailable", "unavailable", 503, 14},
    [MGR_EINTERNAL] = {"internal error", "internal", 500, 13},
    [MGR_ENOMEM] = {"out of memory", "internal", 500, 13},
    [MGR_EMETHOD] = {"method not allowed", "method_not_allowed", 405, 12},
    [MGR_EPRECOND] = {"precondition failed", "precondition_failed", 412, 9},
    [MGR_ERANGE] = {"range not satisfiable", "range_not_satisfiable", 416, 11},
};

static int
err_valid(mgr_err e)
{
	return ((int)e >= 0 && e < MGR_ERR_COUNT);
}

const char *
mgr_strerror(mgr_err e)
{
	return (err_valid(e) ? err_table[e].text : "unknown error");
}

const char *
mgr_err_code(mgr_err e)
{
	return (err_valid(e) ? err_table[e].code : "internal");
}

int
mgr_err_http(mgr_err e)
{
	return (err_valid(e) ? err_table[e].http : 500);
}

int
mgr_err_to_wire(mgr_err e)
{
	return (err_valid(e) ? err_table[e].wire : 13);
}

mgr_err
mgr_err_from_wire(int status)
{
	if (status == 9) /* FAILED_PRECONDITION */
		return (MGR_EPRECOND);
	if (status == 10) /* ABORTED */
		return (MGR_ECONFLICT);
	if (status == 4) /* DEADLINE_EXCEEDED */
		return (MGR_EUNAVAIL);
	/* First entry wins: EINVAL before EMEDIA, EINTERNAL before ENOMEM. */
	for (int e = 0; e < MGR_ERR_COUNT; e++)
		if (err_table[e].wire == status)
			return ((mgr_err)e);
	return (MGR_EINTERNAL);
}
