/* nng req/rep RPC carrying the protobuf-c envelope (proto/envelope.proto).
 * Server: N worker threads, each with its own nng context (so N requests are
 * in flight) and, through kv_ctx(), its own Redis connection.
 * Client: thread-safe; every call opens its own nng context with a deadline. */
#ifndef MGR_COMMON_RPC_H
#define MGR_COMMON_RPC_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "common/err.h"
#include "proto/envelope.pb-c.h"

/* Largest message either side accepts (NNG_OPT_RECVMAXSZ). Object data moves
 * in chunks of RPC_CHUNK_BYTES, well below it. */
#define RPC_MSG_MAX (8u << 20)
#define RPC_CHUNK_BYTES (1u << 20)

struct rpc_call {
	const Mgr__Request *req;
	const char *request_id;
	const Mgr__Caller *caller; /* never NULL */
	uint8_t *out;              /* reply payload, set by rpc_reply() */
	size_t out_len;
	char message[256]; /* reply message, set by rpc_fail() */
};

typedef mgr_err (*rpc_handler_fn)(struct rpc_call *call, void *arg);

struct rpc_method {
	const char *name;
	rpc_handler_fn fn;
};

struct rpc_server;

/* Listens on url and serves methods (table ends with {NULL, NULL}) with
 * `workers` threads. A tls+tcp:// url uses mutual TLS with the internal
 * identity (MANAGER_INTERNAL_TLS_CERT/KEY/CA, see config.h): a client must
 * present a certificate of the internal CA or the handshake fails. "ping" is answered by the server itself: OK when this
 * process reaches Redis, else UNAVAILABLE. */
mgr_err rpc_server_create(struct rpc_server **out, const char *url,
    const struct rpc_method *methods, void *arg, int workers);
/* "metrics" is answered by the server too: a Mgr__Metrics with this
 * process's Prometheus text (common/metrics.h), every sample with labels
 * (`service="ca"`; svc_main sets them). */
void rpc_set_metrics_labels(const char *labels);

/* Stops listening, lets workers finish, joins them. Accepts NULL. */
void rpc_server_destroy(struct rpc_server *s);

/* Packs msg as the reply payload of call. */
mgr_err rpc_reply(struct rpc_call *call, const ProtobufCMessage *msg);
/* Sets the reply message and returns e, for `return rpc_fail(...)`. */
mgr_err rpc_fail(struct rpc_call *call, mgr_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Unpacks the request payload with desc; NULL payload gives an empty message.
 * Free *out with protobuf_c_message_free_unpacked. */
mgr_err rpc_args(struct rpc_call *call, const ProtobufCMessageDescriptor *desc,
    ProtobufCMessage **out);

/* What a server worker does with one message, without nng (tests/fuzz
 * drives it): unpacks the Request envelope in [in, in+len), checks its
 * deadline, dispatches to methods (or answers "ping") and packs the Reply.
 * On MGR_OK *out (free() it) and *outlen hold the packed Reply; a malformed
 * envelope is a Reply with INVALID_ARGUMENT, not an error here. */
mgr_err rpc_serve_packed(const struct rpc_method *methods, void *arg, const uint8_t *in,
    size_t len, uint8_t **out, size_t *outlen);

struct rpc_client;

/* Dials every address of a comma separated list (replicas); requests are
 * spread over those that answer. Dials in the background: a service that is
 * down now is picked up when it comes. A request whose replica dies before
 * answering is resent at once to another replica (or, with none left, to the
 * first that comes back within the deadline). tls+tcp:// addresses use the
 * internal identity and check that the server's certificate chains to the
 * internal CA and names the host of the address. */
mgr_err rpc_client_create(struct rpc_client **out, const char *urls);
void rpc_client_destroy(struct rpc_client *c);

/* Calls method with `in` (may be NULL) as payload. On MGR_OK and out_desc
 * non-NULL, *out is the unpacked reply payload (free it with
 * protobuf_c_message_free_unpacked). On failure, msg (if non-NULL) gets the
 * service's message. A service that does not answer within timeout_ms (0:
 * the configured default) gives MGR_EUNAVAIL. */
mgr_err rpc_call(struct rpc_client *c, const char *method, const char *request_id,
    const Mgr__Caller *caller, const ProtobufCMessage *in,
    const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out, char *msg,
    size_t msglen, int timeout_ms);

/* A call started now and waited for later, so that one thread keeps several
 * in flight (object data: the gateway pipelines chunk RPCs). The request is
 * packed at once (the payload copied once, straight into the message), so
 * `in` and what it points to may be freed when rpc_call_start returns. */
struct rpc_pending;

/* Starts method with `in` (may be NULL) like rpc_call. On MGR_OK *out is the
 * call in flight: every started call must be ended by rpc_call_wait. */
mgr_err rpc_call_start(struct rpc_client *c, const char *method, const char *request_id,
    const Mgr__Caller *caller, const ProtobufCMessage *in, int timeout_ms,
    struct rpc_pending **out);
/* Waits for p's reply (at most until its deadline) and frees p. Results as
 * rpc_call's. */
mgr_err rpc_call_wait(struct rpc_pending *p, const ProtobufCMessageDescriptor *out_desc,
    ProtobufCMessage **out, char *msg, size_t msglen);

/* Default timeout for rpc_call with timeout_ms 0. */
void rpc_set_default_timeout(int ms);

#endif
