/* The one error space of the Manager, with its HTTP and wire (gRPC) mappings. */
#ifndef MGR_COMMON_ERR_H
#define MGR_COMMON_ERR_H

typedef enum mgr_err {
	MGR_OK = 0,
	MGR_EINVAL,    /* 400 invalid_argument */
	MGR_EUNAUTH,   /* 401 unauthenticated */
	MGR_EPERM,     /* 403 permission_denied */
	MGR_ENOTFOUND, /* 404 not_found */
	MGR_ECONFLICT, /* 409 conflict */
	MGR_ETOOBIG,   /* 413 payload_too_large */
	MGR_EMEDIA,    /* 415 unsupported_media_type */
	MGR_ERATE,     /* 429 rate_limited */
	MGR_EUNAVAIL,  /* 503 unavailable: a backend or Redis is down */
	MGR_EINTERNAL, /* 500 internal */
	MGR_ENOMEM,    /* 500 internal */
	MGR_EMETHOD,   /* 405 method_not_allowed */
	MGR_EPRECOND,  /* 412 precondition_failed (If-Match, If-None-Match) */
	MGR_ERANGE,    /* 416 range_not_satisfiable */
	MGR_ERR_COUNT
} mgr_err;

const char *mgr_strerror(mgr_err e);
/* API.md's `code` string, e.g. "invalid_argument". */
const char *mgr_err_code(mgr_err e);
int mgr_err_http(mgr_err e);
/* gRPC status code carried in the envelope's Reply.status. */
int mgr_err_to_wire(mgr_err e);
mgr_err mgr_err_from_wire(int status);

#endif
