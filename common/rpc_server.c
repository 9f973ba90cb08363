/* The RPC server: worker threads, each with its own nng context (so that
 * N requests are in flight) and its own Redis connection (kv_ctx), and the
 * handlers' side of a call (rpc_args, rpc_reply, rpc_fail). */
#include "common/rpc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "common/kv.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/rpc_int.h"
#include "common/util.h"

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* The labels of this process's metrics (`service="account"`), set by
 * rpc_set_metrics_labels. */
static char rpc_metrics_labels[128] = "service=\"unknown\"";

void
rpc_set_metrics_labels(const char *labels)
{
	snprintf(rpc_metrics_labels, sizeof(rpc_metrics_labels), "%s", labels);
}

static mgr_err
serve_metrics(struct rpc_call *call)
{
	Mgr__Metrics m = MGR__METRICS__INIT;
	struct mgr_buf b;
	mgr_err rv;

	mgr_buf_init(&b, RPC_MSG_MAX / 2);
	mgr_metrics_render(&b, rpc_metrics_labels);
	if (b.data == NULL) {
		mgr_buf_free(&b);
		return (rpc_fail(call, MGR_ENOMEM, "metrics"));
	}
	m.text.data = (uint8_t *)b.data;
	m.text.len = b.len;
	rv = rpc_reply(call, &m.base);
	mgr_buf_free(&b);
	return (rv);
}

struct rpc_worker {
	struct rpc_server *srv;
	nng_ctx ctx;
	nng_aio *aio;
	pthread_t thread;
};

struct rpc_server {
	nng_socket sock;
	const struct rpc_method *methods;
	void *arg;
	int nworkers; /* contexts made */
	int nthreads; /* of them, workers started */
	struct rpc_worker *workers;
};

mgr_err
rpc_reply(struct rpc_call *call, const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *b;

	if (n > RPC_MSG_MAX - 1024)
		return (MGR_ETOOBIG);
	if ((b = malloc(n ? n : 1)) == NULL)
		return (MGR_ENOMEM);
	protobuf_c_message_pack(msg, b);
	free(call->out);
	call->out = b;
	call->out_len = n;
	return (MGR_OK);
}

mgr_err
rpc_fail(struct rpc_call *call, mgr_err e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(call->message, sizeof(call->message), fmt, ap);
	va_end(ap);
	return (e);
}

mgr_err
rpc_args(struct rpc_call *call, const ProtobufCMessageDescriptor *desc,
    ProtobufCMessage **out)
{
	ProtobufCMessage *m;

	m = protobuf_c_message_unpack(desc, NULL, call->req->payload.len,
	    call->req->payload.data);
	if (m == NULL)
		return (rpc_fail(call, MGR_EINVAL, "malformed %s", desc->name));
	*out = m;
	return (MGR_OK);
}

static const struct rpc_method *
find_method(const struct rpc_method *t, const char *name)
{
	for (; t->name != NULL; t++)
		if (strcmp(t->name, name) == 0)
			return (t);
	return (NULL);
}

mgr_err
rpc_serve_packed(const struct rpc_method *methods, void *arg, const uint8_t *in,
    size_t len, uint8_t **out, size_t *outlen)
{
	static const Mgr__Caller nobody = MGR__CALLER__INIT;
	Mgr__Request *req;
	Mgr__Reply rep = MGR__REPLY__INIT;
	struct rpc_call call;
	const struct rpc_method *m = NULL;
	int64_t t0 = mono_us();
	uint8_t *b;
	mgr_err rv;
	size_t n;

	memset(&call, 0, sizeof(call));
	req = mgr__request__unpack(NULL, len, in);
	if (req == NULL) {
		rv = rpc_fail(&call, MGR_EINVAL, "malformed envelope");
		goto reply;
	}
	call.req = req;
	call.request_id = req->request_id;
	call.caller = req->caller != NULL ? req->caller : &nobody;
	if (req->deadline_ms != 0 && mgr_now_ms() > req->deadline_ms) {
		rv = rpc_fail(&call, MGR_EUNAVAIL, "deadline passed");
	} else if (strcmp(req->method, "ping") == 0) {
		rv = kv_ping();
		if (rv != MGR_OK)
			rpc_fail(&call, rv, "redis unreachable");
	} else if (strcmp(req->method, "metrics") == 0) {
		rv = serve_metrics(&call);
	} else if ((m = find_method(methods, req->method)) == NULL) {
		rv = rpc_fail(&call, MGR_EINVAL, "unknown method");
		mgr_metrics_rpc(NULL, rv, mono_us() - t0);
	} else {
		rv = m->fn(&call, arg);
		if (rv != MGR_OK && call.message[0] == '\0')
			snprintf(call.message, sizeof(call.message), "%s",
			    mgr_strerror(rv));
		if (rv != MGR_OK && rv != MGR_EUNAUTH && rv != MGR_ENOTFOUND)
			log_info(call.request_id, "%s: %s (%s)", req->method,
			    mgr_err_code(rv), call.message);
		mgr_metrics_rpc(m->name, rv, mono_us() - t0);
	}
reply:
	rep.status = mgr_err_to_wire(rv);
	rep.message = call.message;
	if (rv == MGR_OK && call.out != NULL) {
		rep.payload.data = call.out;
		rep.payload.len = call.out_len;
	}
	n = mgr__reply__get_packed_size(&rep);
	if ((b = malloc(n ? n : 1)) != NULL)
		mgr__reply__pack(&rep, b);
	free(call.out);
	if (req != NULL)
		mgr__request__free_unpacked(req, NULL);
	if (b == NULL)
		return (MGR_ENOMEM);
	*out = b;
	*outlen = n;
	return (MGR_OK);
}

static nng_msg *
serve_one(struct rpc_server *s, nng_msg *in)
{
	nng_msg *out = NULL;
	uint8_t *b;
	size_t n;

	if (rpc_serve_packed(s->methods, s->arg, nng_msg_body(in), nng_msg_len(in), &b,
	        &n) != MGR_OK)
		return (NULL);
	if (nng_msg_alloc(&out, n) == 0)
		memcpy(nng_msg_body(out), b, n);
	free(b);
	return (out);
}

/* A worker's context and aio are made before any thread starts (see
 * rpc_server_create) and freed after it ends, by rpc_server_destroy. */
static void *
worker_main(void *arg)
{
	struct rpc_worker *w = arg;
	struct rpc_server *s = w->srv;
	nng_aio *aio = w->aio;
	nng_ctx ctx = w->ctx;
	int rv;

	for (;;) {
		nng_msg *in, *out;

		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		if ((rv = nng_aio_result(aio)) != 0) {
			if (rv == NNG_ECLOSED)
				break;
			continue;
		}
		in = nng_aio_get_msg(aio);
		out = serve_one(s, in);
		nng_msg_free(in);
		if (out == NULL)
			continue;
		nng_aio_set_msg(aio, out);
		nng_ctx_send(ctx, aio);
		nng_aio_wait(aio);
		if ((rv = nng_aio_result(aio)) != 0) {
			nng_msg_free(out);
			if (rv == NNG_ECLOSED)
				break;
		}
	}
	kv_thread_done();
	return (NULL);
}

/* Every context is opened here, before the first worker runs: a context
 * opened while nng_close runs on another thread (a SIGTERM right after the
 * start) made nng_close of Debian's nng 1.5 wait forever. */
mgr_err
rpc_server_create(struct rpc_server **out, const char *url,
    const struct rpc_method *methods, void *arg, int workers)
{
	struct rpc_server *s;
	int rv;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (MGR_ENOMEM);
	s->methods = methods;
	s->arg = arg;
	if ((rv = nng_rep0_open(&s->sock)) != 0)
		goto fail;
	nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, RPC_MSG_MAX);
	if ((rv = rpc_listen_url(s->sock, url)) != 0) {
		log_error(NULL, "rpc: cannot listen on %s: %s", url, nng_strerror(rv));
		goto fail;
	}
	if ((s->workers = calloc((size_t)workers, sizeof(*s->workers))) == NULL) {
		rv = NNG_ENOMEM;
		goto fail;
	}
	for (; s->nworkers < workers; s->nworkers++) {
		struct rpc_worker *w = &s->workers[s->nworkers];

		w->srv = s;
		if ((rv = nng_aio_alloc(&w->aio, NULL, NULL)) != 0)
			goto fail;
		if ((rv = nng_ctx_open(&w->ctx, s->sock)) != 0) {
			nng_aio_free(w->aio);
			log_error(NULL, "rpc: cannot open a context: %s",
			    nng_strerror(rv));
			goto fail;
		}
	}
	for (; s->nthreads < workers; s->nthreads++)
		if (pthread_create(&s->workers[s->nthreads].thread, NULL, worker_main,
		        &s->workers[s->nthreads]) != 0) {
			log_error(NULL, "rpc: cannot start worker threads");
			rpc_server_destroy(s);
			return (MGR_EINTERNAL);
		}
	*out = s;
	return (MGR_OK);
fail:
	rpc_server_destroy(s);
	return (rpc_nng_err(rv) == MGR_EUNAVAIL ? MGR_EINTERNAL : rpc_nng_err(rv));
}

void
rpc_server_destroy(struct rpc_server *s)
{
	if (s == NULL)
		return;
	nng_close(s->sock);
	for (int i = 0; i < s->nthreads; i++)
		pthread_join(s->workers[i].thread, NULL);
	for (int i = 0; i < s->nworkers; i++) {
		nng_ctx_close(s->workers[i].ctx);
		nng_aio_free(s->workers[i].aio);
	}
	free(s->workers);
	free(s);
}
