/* The gateway: the only process facing clients. REST/JSON over TLS in,
 * protobuf-c RPC out. This header is what every routes_*.c file uses. */
#ifndef MGR_GATEWAY_GW_H
#define MGR_GATEWAY_GW_H

#include <stdint.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/err.h"
#include "common/rpc.h"
#include "proto/envelope.pb-c.h"

#define GW_JSON_MAX (64u * 1024)  /* API.md: bodies at most 64 KiB */
/* A request refused before its body is read gets its answer after the body
 * when the body is at most this long (read and thrown away), so that the
 * client, still sending, reads the answer instead of a reset. Larger
 * bodies, and those the client holds back for "Expect: 100-continue"
 * (curl does above 1 MiB), are answered at once and the connection closed. */
#define GW_DRAIN_MAX (4u * 1024 * 1024)
#define GW_PARAMS_MAX 4
#define GW_PARAM_MAX 1100         /* an object key is up to 1024 bytes */
#define GW_QUERY_MAX 8

/* Which callers a route accepts; any other gets 401. */
enum {
	GW_AUTH_PUBLIC = 1u << 0,
	GW_AUTH_ADMIN = 1u << 1,
	GW_AUTH_TEMP = 1u << 2,
	GW_AUTH_APP = 1u << 3,
	/* With APP or TEMP: the path's first {} is an account id, and an app
	 * or temp caller of another account gets 403 before any body byte or
	 * query argument is looked at (API.md: "{id} of another → 403"). */
	GW_AUTH_OWN = 1u << 4,
};

/* How a route takes its body. */
enum {
	GW_BODY_NONE = 0,   /* a body, if any, is ignored */
	GW_BODY_JSON = 1,   /* application/json, <= 64 KiB, parsed into r->json
	                       (an empty body gives an empty object) */
	GW_BODY_STREAM = 2, /* raw bytes handed to route->upload as they come */
};

struct gw_req;

struct gw_route {
	const char *method;   /* "GET", "POST", ... */
	const char *pattern;  /* "/api/v1/accounts/{}/password"; {} is one segment,
	                         a trailing {+} the rest of the path */
	unsigned auth;
	unsigned body;
	/* Called once the whole body is in (JSON) or uploaded (STREAM). It must
	 * queue a response with gw_reply_*, or return an error which the core
	 * turns into API.md's error body (with r->errmsg if set). */
	mgr_err (*handle)(struct gw_req *r);
	/* STREAM only: called first with data == NULL (begin, after auth), then
	 * with each piece of the body. An error ends the request with it. */
	mgr_err (*upload)(struct gw_req *r, const char *data, size_t len);
	/* Optional: frees r->state when the request is done (also on abort). */
	void (*cleanup)(struct gw_req *r);
	/* Optional: the audit action of a call the core refuses before the
	 * handler runs (GW_AUTH_OWN), as the service would have audited it. */
	const char *audit;
};

struct gw_req {
	struct MHD_Connection *conn;
	const struct gw_route *route;
	int route_index;
	const char *method;
	const char *url;
	char params[GW_PARAMS_MAX][GW_PARAM_MAX]; /* decoded path segments */
	size_t param_len[GW_PARAMS_MAX];
	int nparams;
	char request_id[40];
	/* The envelope's request id: request_id when the gateway made it, else
	 * the client's X-Request-Id with a random suffix, so that it is unique
	 * per HTTP request (services key replays on it; common/replay.h). */
	char rpc_id[64];
	Mgr__Caller caller;          /* kind, id, cert_serial, cred_version */
	char caller_id[128];
	char caller_serial[64];
	char caller_role[32];
	struct mgr_buf body;
	json_t *json;                /* GW_BODY_JSON: the parsed object */
	char errmsg[256];            /* message for an error reply */
	unsigned allow;              /* a 405's Allow: the path's methods (bits) */
	void *state;                 /* route-owned */
	char *query[GW_QUERY_MAX];   /* decoded query values, freed with r */
	int nquery;
	int status;                  /* the status queued, for metrics */
	int responded;
	int failed;                  /* the mgr_err that ended the request, 0 if none */
	uint64_t drained;            /* body bytes thrown away after failed */
	int drain_capped;            /* past GW_DRAIN_MAX of them (else past
	                                MANAGER_MAX_OBJECT_BYTES): drop the connection */
	int64_t start_us;
};

struct gw {
	struct mgr_config cfg;
	struct rpc_client *account;
	struct rpc_client *ca;
	struct rpc_client *vault;
	X509_STORE *trust;           /* the Manager CA, for client certificates */
	X509 *ca_cert;
	char *ca_pem;
};

extern struct gw gw;

/* Routes: each routes_*.c file defines one table ending in {NULL}. */
extern const struct gw_route gw_routes_health[];
extern const struct gw_route gw_routes_accounts[];
extern const struct gw_route gw_routes_certs[];
extern const struct gw_route gw_routes_vaults[];
extern const struct gw_route gw_routes_events[];
extern const struct gw_route gw_routes_console[];
/* The IBM `.adm` front (gateway/adm/): its routes, made by gw_adm_init()
 * before the server starts; it writes the answer of every request under
 * its prefix, refusals of the core included. */
extern struct gw_route gw_routes_adm[];
mgr_err gw_adm_init(void);
int gw_adm_owns(const struct gw_req *r);
mgr_err gw_adm_reply_error(struct gw_req *r, mgr_err e, const char *msg);

/* Replies. Each queues exactly one response; the first one wins. */
mgr_err gw_reply_json(struct gw_req *r, int status, json_t *body); /* steals body */
/* 201 with BODY (stolen) and a Location header: the path of what was
 * created, from FMT (its parts must need no percent-encoding). */
#define GW_LOCATION_MAX 256
mgr_err gw_reply_created(struct gw_req *r, json_t *body, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
mgr_err gw_reply_error(struct gw_req *r, mgr_err e, const char *msg);
mgr_err gw_reply_empty(struct gw_req *r, int status);
mgr_err gw_reply_text(struct gw_req *r, int status, const char *content_type,
    const char *text);
/* Queues a prepared MHD response (the core adds X-Request-Id). */
mgr_err gw_reply_response(struct gw_req *r, int status, struct MHD_Response *resp);
/* Sets r->errmsg and returns e, for `return gw_fail(r, MGR_EINVAL, ...)`. */
mgr_err gw_fail(struct gw_req *r, mgr_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An RPC with the request's id and caller; errors set r->errmsg and count
 * in /metrics. See rpc_call for out_desc/out. */
mgr_err gw_rpc(struct gw_req *r, struct rpc_client *c, const char *method,
    const ProtobufCMessage *in, const ProtobufCMessageDescriptor *out_desc,
    ProtobufCMessage **out);

/* JSON body helpers (json.c). Each returns MGR_EINVAL with r->errmsg set. */
/* Refuses any member not named in allowed (NULL-terminated). */
mgr_err gw_json_only(struct gw_req *r, const char *const *allowed);
/* A string member of 1..maxlen bytes of valid UTF-8 (jansson checks it).
 * Absent: MGR_EINVAL if required, else MGR_OK with *out = NULL. */
mgr_err gw_json_str(struct gw_req *r, const char *key, int required,
    size_t maxlen, const char **out);
/* A time member (RFC 3339 or YYYY-MM-DD); absent: *present = 0. */
mgr_err gw_json_time(struct gw_req *r, const char *key, int64_t *out, int *present);
/* Decoded query parameter, or NULL (absent or badly encoded). */
const char *gw_query(struct gw_req *r, const char *key);
mgr_err gw_page_query(struct gw_req *r, uint32_t max, const char **after,
    uint32_t *limit);
/* A listing's "next_after": the service's cursor, or null after the last
 * page (""). */
json_t *gw_next_after(const char *cursor);
/* "2027-11-27T13:00:00Z" as a JSON string, or JSON null for t == 0. */
json_t *gw_json_time_value(int64_t t);

/* http.c: starts and stops the HTTPS server. */
mgr_err gw_http_start(const char *cert_pem, const char *key_pem);
void gw_http_stop(void);

/* auth.c: fills r->caller for the route's accepted kinds, or fails (401/429). */
mgr_err gw_authenticate(struct gw_req *r);

/* metrics.c */
void gw_metrics_request(int route_index, const char *route, int status,
    int64_t elapsed_us);
void gw_metrics_rpc_error(const char *method, mgr_err e);
char *gw_metrics_render(void); /* caller frees */

#endif
