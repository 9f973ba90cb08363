/* The RPC client: dials every replica, calls with a deadline (one nng
 * context per call), calls in flight, and the watcher of dead TLS pipes. */
#include "common/rpc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include "common/log.h"
#include "common/rpc_int.h"
#include "common/util.h"

/* Connections a client watches (see pipe_watch). */
#define RPC_WATCH_MAX 64
#define RPC_WATCH_MS 100

struct rpc_client {
	nng_socket sock;
	/* tls+tcp:// only: the pipes of sock, checked by a watcher thread. */
	int watching;
	pthread_t watcher;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	nng_pipe pipes[RPC_WATCH_MAX];
	int npipes;
};

static int rpc_default_timeout_ms = 10000;

/* Resend interval for a request that is still unanswered. Longer than any
 * call's deadline (MANAGER_RPC_TIMEOUT_MS is at most 10 min), so a timed
 * blind resend never happens; but a finite value makes nng resend a request
 * at once to another replica when the pipe it went out on closes (replica
 * killed or stopped). With NNG_DURATION_INFINITE nng 1.5.2 instead fails the
 * request with NNG_ECONNRESET (req0_pipe_close: ctx->retry <= 0). */
#define RPC_RESEND_MS (3600 * 1000)

void
rpc_set_default_timeout(int ms)
{
	rpc_default_timeout_ms = ms;
}

mgr_err
rpc_nng_err(int rv)
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

/*
 * Dead TLS connections. nng 1.5.2's TLS layer (supplemental/tls/tls_common.c)
 * has a race: when the TCP connection fails while no receive is queued on the
 * TLS stream (typically a replica that sent a reply and died right after,
 * before the transport queued its next receive), tls_tcp_error closes the TCP
 * stream but does not mark the TLS connection closed; the next receive is
 * then queued on a closed TCP aio and never completes, and sends are buffered
 * and reported as sent. The pipe stays "up" forever: nng neither resends its
 * requests nor redials the replica, and about every other request through
 * that client times out. The watcher below finds such pipes (the TCP socket
 * under them has no peer any more: NNG_OPT_REMADDR, i.e. getpeername(),
 * fails) and closes them, which makes nng resend their requests to another
 * replica and redial this one. Only tls+tcp:// clients run it.
 */
static void
pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct rpc_client *c = arg;

	pthread_mutex_lock(&c->mu);
	if (ev == NNG_PIPE_EV_ADD_POST && c->npipes < RPC_WATCH_MAX) {
		c->pipes[c->npipes++] = p;
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		for (int i = 0; i < c->npipes; i++)
			if (nng_pipe_id(c->pipes[i]) == nng_pipe_id(p)) {
				c->pipes[i] = c->pipes[--c->npipes];
				break;
			}
	}
	pthread_mutex_unlock(&c->mu);
}

static void *
pipe_watch(void *arg)
{
	struct rpc_client *c = arg;
	nng_pipe pipes[RPC_WATCH_MAX];
	int n;

	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += RPC_WATCH_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
		if (c->stop)
			break;
		n = c->npipes;
		memcpy(pipes, c->pipes, (size_t)n * sizeof(pipes[0]));
		pthread_mutex_unlock(&c->mu);
		for (int i = 0; i < n; i++) {
			nng_sockaddr sa;
			int rv = nng_pipe_get_addr(pipes[i], NNG_OPT_REMADDR, &sa);

			if (rv != 0 && rv != NNG_ENOENT && rv != NNG_ECLOSED) {
				log_warn(NULL,
				    "rpc: connection %u lost its peer (%s); "
				    "closing it",
				    (unsigned)nng_pipe_id(pipes[i]), nng_strerror(rv));
				nng_pipe_close(pipes[i]);
			}
		}
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return (NULL);
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
		return (rpc_nng_err(rv));
	}
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, RPC_MSG_MAX);
	/* A request whose replica died is resent at once to another one (nng
	 * does so when the pipe closes); no timed blind resends. */
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, RPC_RESEND_MS);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 1000);
	if (strstr(urls, "tls+tcp") != NULL) {
		pthread_mutex_init(&c->mu, NULL);
		pthread_cond_init(&c->cv, NULL);
		if (nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, pipe_event, c) != 0 ||
		    nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, pipe_event, c) != 0 ||
		    pthread_create(&c->watcher, NULL, pipe_watch, c) != 0) {
			nng_close(c->sock);
			pthread_cond_destroy(&c->cv);
			pthread_mutex_destroy(&c->mu);
			free(c);
			return (MGR_EINTERNAL);
		}
		c->watching = 1;
	}
	snprintf(list, sizeof(list), "%s", urls);
	for (u = strtok_r(list, ", ", &save); u != NULL;
	     u = strtok_r(NULL, ", ", &save)) {
		if ((rv = rpc_dial_url(c->sock, u)) != 0) {
			log_error(NULL, "rpc: cannot dial %s: %s", u, nng_strerror(rv));
			continue;
		}
		dialed++;
	}
	if (dialed == 0) {
		rpc_client_destroy(c);
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
	if (c->watching) {
		nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, NULL, NULL);
		nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, NULL, NULL);
		pthread_mutex_lock(&c->mu);
		c->stop = 1;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->watcher, NULL);
	}
	nng_close(c->sock);
	if (c->watching) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
	}
	free(c);
}

/* The envelope of a call (without payload); returns the timeout in force. */
static int
request_init(Mgr__Request *req, const char *method, const char *request_id,
    const Mgr__Caller *caller, int timeout_ms)
{
	if (timeout_ms <= 0)
		timeout_ms = rpc_default_timeout_ms;
	req->method = (char *)method;
	req->request_id = (char *)(request_id != NULL ? request_id : "");
	req->deadline_ms = mgr_now_ms() + timeout_ms;
	req->caller = (Mgr__Caller *)caller;
	return (timeout_ms);
}

/* A reply message into *out (of out_desc, if not NULL), or the error it
 * carries, with the service's message in msg. */
static mgr_err
reply_decode(nng_msg *m, const ProtobufCMessageDescriptor *out_desc,
    ProtobufCMessage **out, char *msg, size_t msglen)
{
	Mgr__Reply *rep;
	ProtobufCMessage *o;
	mgr_err err = MGR_OK;

	if ((rep = mgr__reply__unpack(NULL, nng_msg_len(m), nng_msg_body(m))) == NULL)
		return (MGR_EINTERNAL);
	if (rep->status != 0) {
		err = mgr_err_from_wire(rep->status);
		if (msg != NULL && msglen > 0)
			snprintf(msg, msglen, "%s", rep->message);
	} else if (out_desc != NULL) {
		if ((o = protobuf_c_message_unpack(out_desc, NULL, rep->payload.len,
		         rep->payload.data)) == NULL)
			err = MGR_EINTERNAL;
		else
			*out = o;
	}
	mgr__reply__free_unpacked(rep, NULL);
	return (err);
}

mgr_err
rpc_call(struct rpc_client *c, const char *method, const char *request_id,
    const Mgr__Caller *caller, const ProtobufCMessage *in,
    const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out, char *msg,
    size_t msglen, int timeout_ms)
{
	Mgr__Request req = MGR__REQUEST__INIT;
	uint8_t *payload = NULL;
	nng_msg *m = NULL;
	nng_aio *aio = NULL;
	nng_ctx ctx;
	int ctx_open = 0, rv;
	mgr_err err = MGR_OK;
	size_t n;
	int64_t left;

	if (msg != NULL && msglen > 0)
		msg[0] = '\0';
	timeout_ms = request_init(&req, method, request_id, caller, timeout_ms);
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
	if ((rv = nng_msg_alloc(&m, n)) != 0 ||
	    (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0 ||
	    (rv = nng_ctx_open(&ctx, c->sock)) != 0) {
		err = rpc_nng_err(rv);
		goto out;
	}
	ctx_open = 1;
	mgr__request__pack(&req, nng_msg_body(m));
	nng_aio_set_timeout(aio, timeout_ms);
	nng_aio_set_msg(aio, m);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		err = rpc_nng_err(rv);
		goto out; /* m still ours */
	}
	m = NULL;
	/* The deadline covers the send (waiting for a replica) and the reply. */
	if ((left = (int64_t)req.deadline_ms - mgr_now_ms()) <= 0) {
		err = MGR_EUNAVAIL;
		goto out;
	}
	nng_aio_set_timeout(aio, (nng_duration)left);
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		err = rpc_nng_err(rv);
		goto out;
	}
	m = nng_aio_get_msg(aio);
	err = reply_decode(m, out_desc, out, msg, msglen);
out:
	if (err == MGR_EUNAVAIL && msg != NULL && msglen > 0 && msg[0] == '\0')
		snprintf(msg, msglen, "backing service unavailable");
	if (m != NULL)
		nng_msg_free(m);
	if (ctx_open)
		nng_ctx_close(ctx);
	nng_aio_free(aio);
	free(payload);
	return (err);
}

/* ---- calls in flight (rpc_call_start / rpc_call_wait) -------------------- */

enum { PEND_SEND, PEND_RECV, PEND_DONE };

struct rpc_pending {
	nng_ctx ctx;
	nng_aio *aio;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int64_t deadline_ms;
	int state;      /* PEND_*, under mu */
	int rv;         /* nng result once PEND_DONE */
	nng_msg *reply; /* the reply once PEND_DONE with rv 0 */
};

/* The aio's completions: the send, then the receive it chains. Runs on an
 * nng thread. */
static void
pending_cb(void *arg)
{
	struct rpc_pending *p = arg;
	int rv = nng_aio_result(p->aio);
	int64_t left;

	pthread_mutex_lock(&p->mu);
	if (p->state == PEND_SEND) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(p->aio)); /* still ours */
			goto done;
		}
		/* The deadline covers the send and the reply, as in rpc_call. */
		if ((left = p->deadline_ms - mgr_now_ms()) <= 0) {
			rv = NNG_ETIMEDOUT;
			goto done;
		}
		p->state = PEND_RECV;
		nng_aio_set_timeout(p->aio, (nng_duration)left);
		pthread_mutex_unlock(&p->mu);
		nng_ctx_recv(p->ctx, p->aio);
		return;
	}
	if (rv == 0)
		p->reply = nng_aio_get_msg(p->aio);
done:
	p->rv = rv;
	p->state = PEND_DONE;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static size_t
varint_len(size_t n)
{
	size_t k = 1;

	for (; n >= 128; n >>= 7)
		k++;
	return (k);
}

/* The packed Request with `in` as its payload, in a message of its own: the
 * envelope without payload, then the payload field (5, length-delimited)
 * packed in place, so that in's bytes are copied once. */
static mgr_err
pack_request(Mgr__Request *req, const ProtobufCMessage *in, nng_msg **out)
{
	size_t head, inner = 0, total;
	uint8_t *b;
	nng_msg *m = NULL;
	int rv;

	head = mgr__request__get_packed_size(req);
	if (in != NULL)
		inner = protobuf_c_message_get_packed_size(in);
	total = head + (inner > 0 ? 1 + varint_len(inner) + inner : 0);
	if (total > RPC_MSG_MAX)
		return (MGR_ETOOBIG);
	if ((rv = nng_msg_alloc(&m, total)) != 0)
		return (rpc_nng_err(rv));
	b = nng_msg_body(m);
	mgr__request__pack(req, b);
	b += head;
	if (inner > 0) {
		size_t n = inner;

		*b++ = 5 << 3 | 2; /* Request.payload */
		for (; n >= 128; n >>= 7)
			*b++ = (uint8_t)(n | 128);
		*b++ = (uint8_t)n;
		protobuf_c_message_pack(in, b);
	}
	*out = m;
	return (MGR_OK);
}

mgr_err
rpc_call_start(struct rpc_client *c, const char *method, const char *request_id,
    const Mgr__Caller *caller, const ProtobufCMessage *in, int timeout_ms,
    struct rpc_pending **out)
{
	Mgr__Request req = MGR__REQUEST__INIT;
	struct rpc_pending *p;
	nng_msg *m = NULL;
	mgr_err err;
	int rv;

	timeout_ms = request_init(&req, method, request_id, caller, timeout_ms);
	if ((err = pack_request(&req, in, &m)) != MGR_OK)
		return (err);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		nng_msg_free(m);
		return (MGR_ENOMEM);
	}
	p->deadline_ms = req.deadline_ms;
	p->state = PEND_SEND;
	if ((rv = nng_aio_alloc(&p->aio, pending_cb, p)) != 0 ||
	    (rv = nng_ctx_open(&p->ctx, c->sock)) != 0) {
		nng_aio_free(p->aio);
		nng_msg_free(m);
		free(p);
		return (rpc_nng_err(rv));
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	nng_aio_set_timeout(p->aio, timeout_ms);
	nng_aio_set_msg(p->aio, m);
	nng_ctx_send(p->ctx, p->aio);
	*out = p;
	return (MGR_OK);
}

mgr_err
rpc_call_wait(struct rpc_pending *p, const ProtobufCMessageDescriptor *out_desc,
    ProtobufCMessage **out, char *msg, size_t msglen)
{
	mgr_err err = MGR_OK;

	if (msg != NULL && msglen > 0)
		msg[0] = '\0';
	pthread_mutex_lock(&p->mu);
	while (p->state != PEND_DONE)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	if (p->rv != 0) {
		err = rpc_nng_err(p->rv);
		goto out;
	}
	err = reply_decode(p->reply, out_desc, out, msg, msglen);
out:
	if (err == MGR_EUNAVAIL && msg != NULL && msglen > 0 && msg[0] == '\0')
		snprintf(msg, msglen, "backing service unavailable");
	if (p->reply != NULL)
		nng_msg_free(p->reply);
	nng_ctx_close(p->ctx);
	nng_aio_free(p->aio);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
	return (err);
}
