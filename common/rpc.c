#include "common/rpc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "common/kv.h"
#include "common/log.h"
#include "common/util.h"

struct rpc_server {
	nng_socket sock;
	const struct rpc_method *methods;
	void *arg;
	int nworkers;
	pthread_t *threads;
};

struct rpc_client {
	nng_socket sock;
};

static int rpc_default_timeout_ms = 10000;

void
rpc_set_default_timeout(int ms)
{
	rpc_default_timeout_ms = ms;
}

static mgr_err
nng_to_err(int rv)
{
	switch (rv) {
	case 0:
		return (MGR_OK);
	case NNG_ENOMEM:
		return (MGR_ENOMEM);
	case NNG_EMSGSIZE:
		return (MGR_ETOOBIG);
	case NNG_EINVAL:
		return (MGR_EINVAL);
	default: /* timeouts, closed, refused, ... */
		return (MGR_EUNAVAIL);
	}
}

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
	const struct rpc_method *m;
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
	} else if ((m = find_method(methods, req->method)) == NULL) {
		rv = rpc_fail(&call, MGR_EINVAL, "unknown method");
	} else {
		rv = m->fn(&call, arg);
		if (rv != MGR_OK && call.message[0] == '\0')
			snprintf(call.message, sizeof(call.message), "%s",
			    mgr_strerror(rv));
		if (rv != MGR_OK && rv != MGR_EUNAUTH && rv != MGR_ENOTFOUND)
			log_info(call.request_id, "%s: %s (%s)", req->method,
			    mgr_err_code(rv), call.message);
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

	if (rpc_serve_packed(s->methods, s->arg, nng_msg_body(in), nng_msg_len(in),
	        &b, &n) != MGR_OK)
		return (NULL);
	if (nng_msg_alloc(&out, n) == 0)
		memcpy(nng_msg_body(out), b, n);
	free(b);
	return (out);
}

static void *
worker_main(void *arg)
{
	struct rpc_server *s = arg;
	nng_aio *aio = NULL;
	nng_ctx ctx;
	int rv;

	if (nng_aio_alloc(&aio, NULL, NULL) != 0 || nng_ctx_open(&ctx, s->sock) != 0) {
		log_error(NULL, "rpc worker: cannot open context");
		nng_aio_free(aio);
		return (NULL);
	}
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
	nng_ctx_close(ctx);
	nng_aio_free(aio);
	kv_thread_done();
	return (NULL);
}

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
	if ((rv = nng_listen(s->sock, url, NULL, 0)) != 0) {
		log_error(NULL, "rpc: cannot listen on %s: %s", url, nng_strerror(rv));
		goto fail;
	}
	if ((s->threads = calloc((size_t)workers, sizeof(pthread_t))) == NULL) {
		rv = NNG_ENOMEM;
		goto fail;
	}
	for (; s->nworkers < workers; s->nworkers++)
		if (pthread_create(&s->threads[s->nworkers], NULL, worker_main, s) != 0) {
			rpc_server_destroy(s);
			return (MGR_EINTERNAL);
		}
	*out = s;
	return (MGR_OK);
fail:
	nng_close(s->sock);
	free(s);
	return (nng_to_err(rv) == MGR_EUNAVAIL ? MGR_EINTERNAL : nng_to_err(rv));
}

void
rpc_server_destroy(struct rpc_server *s)
{
	if (s == NULL)
		return;
	nng_close(s->sock);
	for (int i = 0; i < s->nworkers; i++)
		pthread_join(s->threads[i], NULL);
	free(s->threads);
	free(s);
}

mgr_err
rpc_client_create(struct rpc_client **out, const char *urls)
{
	struct rpc_client *c;
	char list[1024], *save = NULL, *u;
	int rv, dialed = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (MGR_ENOMEM);
	if ((rv = nng_req0_open(&c->sock)) != 0) {
		free(c);
		return (nng_to_err(rv));
	}
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, RPC_MSG_MAX);
	/* A request whose service died is resent to another replica at once
	 * (nng does so when the pipe closes); no timed blind resends. */
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 1000);
	snprintf(list, sizeof(list), "%s", urls);
	for (u = strtok_r(list, ", ", &save); u != NULL; u = strtok_r(NULL, ", ", &save)) {
		if ((rv = nng_dial(c->sock, u, NULL, NNG_FLAG_NONBLOCK)) != 0) {
			log_error(NULL, "rpc: cannot dial %s: %s", u, nng_strerror(rv));
			continue;
		}
		dialed++;
	}
	if (dialed == 0) {
		nng_close(c->sock);
		free(c);
		return (MGR_EINVAL);
	}
	*out = c;
	return (MGR_OK);
}

void
rpc_client_destroy(struct rpc_client *c)
{
	if (c == NULL)
		return;
	nng_close(c->sock);
	free(c);
}

mgr_err
rpc_call(struct rpc_client *c, const char *method, const char *request_id,
    const Mgr__Caller *caller, const ProtobufCMessage *in,
    const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out,
    char *msg, size_t msglen, int timeout_ms)
{
	Mgr__Request req = MGR__REQUEST__INIT;
	Mgr__Reply *rep = NULL;
	uint8_t *payload = NULL;
	nng_msg *m = NULL;
	nng_aio *aio = NULL;
	nng_ctx ctx;
	int ctx_open = 0, rv;
	mgr_err err = MGR_OK;
	size_t n;

	if (msg != NULL && msglen > 0)
		msg[0] = '\0';
	if (timeout_ms <= 0)
		timeout_ms = rpc_default_timeout_ms;
	req.method = (char *)method;
	req.request_id = (char *)(request_id != NULL ? request_id : "");
	req.deadline_ms = mgr_now_ms() + timeout_ms;
	req.caller = (Mgr__Caller *)caller;
	if (in != NULL) {
		n = protobuf_c_message_get_packed_size(in);
		if ((payload = malloc(n ? n : 1)) == NULL)
			return (MGR_ENOMEM);
		protobuf_c_message_pack(in, payload);
		req.payload.data = payload;
		req.payload.len = n;
	}
	n = mgr__request__get_packed_size(&req);
	if (n > RPC_MSG_MAX) {
		err = MGR_ETOOBIG;
		goto out;
	}
	if ((rv = nng_msg_alloc(&m, n)) != 0 || (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0 ||
	    (rv = nng_ctx_open(&ctx, c->sock)) != 0) {
		err = nng_to_err(rv);
		goto out;
	}
	ctx_open = 1;
	mgr__request__pack(&req, nng_msg_body(m));
	nng_aio_set_timeout(aio, timeout_ms);
	nng_aio_set_msg(aio, m);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		err = nng_to_err(rv);
		goto out; /* m still ours */
	}
	m = NULL;
	nng_aio_set_timeout(aio, timeout_ms);
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		err = nng_to_err(rv);
		goto out;
	}
	m = nng_aio_get_msg(aio);
	rep = mgr__reply__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
	if (rep == NULL) {
		err = MGR_EINTERNAL;
		goto out;
	}
	if (rep->status != 0) {
		err = mgr_err_from_wire(rep->status);
		if (msg != NULL && msglen > 0)
			snprintf(msg, msglen, "%s", rep->message);
		goto out;
	}
	if (out_desc != NULL) {
		ProtobufCMessage *o = protobuf_c_message_unpack(out_desc, NULL,
		    rep->payload.len, rep->payload.data);

		if (o == NULL) {
			err = MGR_EINTERNAL;
			goto out;
		}
		*out = o;
	}
out:
	if (err == MGR_EUNAVAIL && msg != NULL && msglen > 0 && msg[0] == '\0')
		snprintf(msg, msglen, "backing service unavailable");
	if (rep != NULL)
		mgr__reply__free_unpacked(rep, NULL);
	if (m != NULL)
		nng_msg_free(m);
	if (ctx_open)
		nng_ctx_close(ctx);
	nng_aio_free(aio);
	free(payload);
	return (err);
}
