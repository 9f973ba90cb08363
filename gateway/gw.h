/* The gateway's core: the only interface a front (gateway/rest/, gateway/s3/,
 * gateway/adm/) uses. The core owns the connections and their TLS, the
 * authentication of the caller (and its cache), the RPCs to the services,
 * replies and error mapping, metrics, and path/query/JSON helpers; a front
 * only translates its wire onto it.
 *
 * A front with routes (REST, .adm) is a struct gw_front: tables of struct
 * gw_route, served by the core's request handler (gw_route_handler), which
 * finds the route, authenticates the caller the route accepts, reads the
 * body as the route says and calls route->handle. A front with its own
 * dispatch (S3) gives gw_listen its own libmicrohttpd callbacks and uses the
 * same pieces by hand:
 *   the request   gw_req_init / gw_req_fini around a struct gw_req it owns;
 *   the caller    gw_auth_app (client certificate) or gw_authenticate
 *                 (r->route set): r->caller, r->caller_id, r->caller_role;
 *   an RPC        gw_rpc(r, gw.vault, "vault.Get", &in.base, &desc, &out):
 *                 the request's id, caller and deadline; r->errmsg on error;
 *   an error      mgr_err_http(e) / mgr_err_code(e) (common/err.h) give the
 *                 status and the code word; gw_reply_error writes API.md's
 *                 body, or the front's (gw_front.reply_error);
 *   a body in     GW_BODY_STREAM routes get route->upload per piece; an own
 *                 dispatch reads libmicrohttpd's upload_data itself;
 *   a body out    gw_reply_response with any MHD response, e.g. one of
 *                 MHD_create_response_from_callback for a stream. */
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

#define GW_JSON_MAX (64u * 1024) /* API.md: bodies at most 64 KiB */
/* A request refused before its body is read gets its answer after the body
 * when the body is at most this long (read and thrown away), so that the
 * client, still sending, reads the answer instead of a reset. Larger
 * bodies, and those the client holds back for "Expect: 100-continue"
 * (curl does above 1 MiB), are answered at once and the connection closed. */
#define GW_DRAIN_MAX (4u * 1024 * 1024)
#define GW_PARAMS_MAX 4
#define GW_PARAM_MAX 1100 /* an object key is up to 1024 bytes */
#define GW_QUERY_MAX 16   /* S3 listings take up to ten */

/* Routes and fronts. */

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
	GW_BODY_RAW = 3,    /* any content type, <= 64 KiB, collected in r->body */
};

struct gw_req;
struct gw_front;

struct gw_route {
	const char *method;  /* "GET", "POST", ... */
	const char *pattern; /* "/api/v1/accounts/{}/password"; {} is one segment,
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

/* A front served by the core's request handler. */
struct gw_front {
	const char *name; /* "rest", "adm" */
	/* The paths it owns: those starting with prefix (the longest prefix of
	 * a listener's fronts wins); NULL: every path no other front owns. */
	const char *prefix;
	const struct gw_route *const *tables; /* NULL-terminated; each ends in {NULL} */
	/* Optional: writes an error (refusals of the core included: 404, 401,
	 * 405, 413, ...) in the front's own format; default API.md's JSON. */
	mgr_err (*reply_error)(struct gw_req *r, mgr_err e, const char *msg);
};

/* One request, from its header to its completion. */
struct gw_req {
	struct MHD_Connection *conn;
	const struct gw_front *front; /* NULL for a front with its own dispatch */
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
	Mgr__Caller caller; /* kind, id, cert_serial, cred_version */
	char caller_id[128];
	char caller_serial[64];
	char caller_role[32];
	struct mgr_buf body;
	json_t *json;              /* GW_BODY_JSON: the parsed object */
	char errmsg[256];          /* message for an error reply */
	unsigned allow;            /* a 405's Allow: the path's methods (bits) */
	void *state;               /* route-owned */
	char *query[GW_QUERY_MAX]; /* decoded query values, freed with r */
	int nquery;
	int status;    /* the status queued, for metrics */
	int64_t bytes; /* the body size of the response queued, -1
	                                if not known (access log) */
	int responded;
	int failed;       /* the mgr_err that ended the request, 0 if none */
	uint64_t drained; /* body bytes thrown away after failed */
	int drain_capped; /* past GW_DRAIN_MAX of them (else past
	                                MANAGER_MAX_OBJECT_BYTES): drop the connection */
	int64_t start_us;
};

struct gw {
	struct mgr_config cfg;
	struct rpc_client *account;
	struct rpc_client *ca;
	struct rpc_client *vault;
	X509_STORE *trust; /* the Manager CA, for client certificates */
	X509 *ca_cert;
	char *ca_pem;
};

extern struct gw gw;

/* Listeners (server.c). Every listener has the same TLS identity, asks for
 * client certificates of the Manager CA, and has the same limits
 * (MANAGER_MAX_CONNECTIONS each, thread stacks, timeouts, the watchdog of
 * conn.h); query arguments reach handlers raw (gw_query decodes them). */
struct gw_handler {
	MHD_AccessHandlerCallback request;
	MHD_RequestCompletedCallback completed;
	void *cls; /* given to both */
};
struct gw_listener;
/* Once, before any listener: the TLS identity (not copied: both PEMs stay
 * valid until the last gw_listen), connection limits, the watchdog. */
mgr_err gw_server_init(const char *cert_pem, const char *key_pem);
void gw_server_fini(void);
/* An HTTPS listener on MANAGER_BIND:port; name is for logs. */
mgr_err gw_listen(const char *name, int port, const struct gw_handler *h,
    struct gw_listener **out);
void gw_listener_stop(struct gw_listener *l); /* NULL is fine */
/* The core's request handler for FRONTS (NULL-terminated; they outlive the
 * listener): route, headers, authentication, body, route->handle, metrics. */
void gw_route_handler(const struct gw_front *const *fronts, struct gw_handler *out);
/* For a front with its own dispatch: sets up R (zeroed by the caller) --
 * request id (X-Request-Id), an empty caller, a 64 KiB body buffer, the
 * connection marked busy for the watchdog -- and frees what it holds. */
void gw_req_init(struct gw_req *r, struct MHD_Connection *conn, const char *method,
    const char *url);
void gw_req_fini(struct gw_req *r);
/* The checks of every request before anything else looks at it: header
 * names are tokens, values hold no control character but HTAB, query
 * arguments are well percent-encoded (MGR_EINVAL with r->errmsg). */
mgr_err gw_request_wellformed(struct gw_req *r);
int64_t gw_now_us(void); /* monotonic */

/* Replies (reply.c). Each queues exactly one response; the first one wins. */
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
/* Queues a prepared MHD response (the core adds X-Request-Id, and
 * Cache-Control: no-store unless resp has a Cache-Control of its own). */
mgr_err gw_reply_response(struct gw_req *r, int status, struct MHD_Response *resp);
/* Sets r->errmsg and returns e, for `return gw_fail(r, MGR_EINVAL, ...)`. */
mgr_err gw_fail(struct gw_req *r, mgr_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The bit of a method in r->allow (a 405's Allow header); 0 if unknown. */
unsigned gw_method_bit(const char *method);

/* An RPC with the request's id and caller (call.c); errors set r->errmsg
 * and count in /metrics. See rpc_call for out_desc/out. */
mgr_err gw_rpc(struct gw_req *r, struct rpc_client *c, const char *method,
    const ProtobufCMessage *in, const ProtobufCMessageDescriptor *out_desc,
    ProtobufCMessage **out);

/* JSON body helpers (json.c). Each returns MGR_EINVAL with r->errmsg set. */
/* Refuses any member not named in allowed (NULL-terminated). */
mgr_err gw_json_only(struct gw_req *r, const char *const *allowed);
/* A string member of 1..maxlen bytes of valid UTF-8 (jansson checks it).
 * Absent: MGR_EINVAL if required, else MGR_OK with *out = NULL. */
mgr_err gw_json_str(struct gw_req *r, const char *key, int required, size_t maxlen,
    const char **out);
/* A time member (RFC 3339 or YYYY-MM-DD); absent: *present = 0. */
mgr_err gw_json_time(struct gw_req *r, const char *key, int64_t *out, int *present);
/* query.c. Decoded query parameter, or NULL (absent or badly encoded). */
const char *gw_query(struct gw_req *r, const char *key);
mgr_err gw_page_query(struct gw_req *r, uint32_t max, const char **after,
    uint32_t *limit);
/* A listing's "next_after": the service's cursor, or null after the last
 * page (""). */
json_t *gw_next_after(const char *cursor);
/* "2027-11-27T13:00:00Z" as a JSON string, or JSON null for t == 0. */
json_t *gw_json_time_value(int64_t t);

/* The caller (auth.c). Fills r->caller for r->route's accepted kinds, or
 * fails (401/403/429); an administrator's role is checked against the one
 * role table (gateway/roles.h: 403), which other fronts ask directly. */
mgr_err gw_authenticate(struct gw_req *r);
/* The peer's address for login throttling (sent to account.AuthBasic):
 * dotted IPv4 (also for a v4-mapped IPv6 peer), an IPv6 peer's /64 prefix,
 * or "unknown". */
void gw_peer_address(struct MHD_Connection *conn, char *out, size_t outlen);
/* The app caller of the connection's client certificate (every rule of API.md's
 * `app`: this CA, dates, revocation and account state through the cache that
 * Redis pub/sub invalidates), into r->caller; MGR_EUNAUTH otherwise. For
 * fronts that take no other kind of caller (S3). */
mgr_err gw_auth_app(struct gw_req *r);

/* metrics.c */
void gw_metrics_request(int route_index, const char *route, int status,
    int64_t elapsed_us);
void gw_metrics_rpc_error(const char *method, mgr_err e);
/* The gateway's text and every service replica's (see metrics.c); caller
 * frees. */
char *gw_metrics_render(void);
/* One client per service replica for the scrapes; stop destroys them. */
mgr_err gw_metrics_start(void);
void gw_metrics_stop(void);

#endif
