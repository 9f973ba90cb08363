#include "common/rpc.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <openssl/crypto.h>

#include "common/config.h"
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

/* Largest PEM file of the internal identity. */
#define RPC_PEM_MAX (64 * 1024)

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

static int
is_tls_url(const char *url)
{
	return (strncmp(url, "tls+tcp", 7) == 0);
}

/*
 * Whether url is a transport that keeps strangers out: ipc:// (a socket
 * file under $MANAGER_DATA_DIR/run, mode 0700), inproc:// (this process)
 * or tls+tcp:// (mutual TLS). Plain tcp://, ws:// and the like would let
 * any process that reaches the port call the service as any caller, so
 * they are refused unless MANAGER_RPC_ALLOW_PLAINTEXT=1 (tests, or a
 * network the operator protects otherwise), and then logged.
 */
static int
url_allowed(const char *url)
{
	const char *env;

	if (strncmp(url, "ipc://", 6) == 0 || strncmp(url, "inproc://", 9) == 0 ||
	    is_tls_url(url))
		return (1);
	env = getenv("MANAGER_RPC_ALLOW_PLAINTEXT");
	if (env != NULL && strcmp(env, "1") == 0) {
		log_warn(NULL, "rpc: %s carries calls without authentication "
		    "(MANAGER_RPC_ALLOW_PLAINTEXT=1)", url);
		return (1);
	}
	log_error(NULL, "rpc: %s: a service address must be ipc:// or tls+tcp:// "
	    "(plain transports let any process call it; "
	    "MANAGER_RPC_ALLOW_PLAINTEXT=1 to allow)", url);
	return (0);
}

/* Reads a PEM file of at most RPC_PEM_MAX bytes as a string. */
static mgr_err
read_pem(const char *path, char **out)
{
	FILE *f;
	char *b = NULL;
	size_t n;
	mgr_err rv = MGR_EINVAL;

	if ((f = fopen(path, "r")) == NULL) {
		log_error(NULL, "rpc: cannot read %s", path);
		return (MGR_EINVAL);
	}
	if ((b = malloc(RPC_PEM_MAX + 1)) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	n = fread(b, 1, RPC_PEM_MAX + 1, f);
	if (ferror(f) || n == 0 || n > RPC_PEM_MAX) {
		log_error(NULL, "rpc: %s is empty or too large", path);
		goto out;
	}
	b[n] = '\0';
	*out = b;
	b = NULL;
	rv = MGR_OK;
out:
	if (b != NULL) {
		OPENSSL_cleanse(b, RPC_PEM_MAX + 1);
		free(b);
	}
	fclose(f);
	return (rv);
}

/* A TLS configuration carrying this process's internal identity
 * (MANAGER_INTERNAL_TLS_*). Both sides require the peer's certificate and
 * verify it against the internal CA; a client also checks that the server's
 * certificate names `host` (the host of the URL it dials). Free *out with
 * nng_tls_config_free. */
static mgr_err
tls_config_new(int server, const char *host, nng_tls_config **out)
{
	struct mgr_internal_tls id;
	nng_tls_config *cfg = NULL;
	char *cert = NULL, *key = NULL, *ca = NULL;
	mgr_err err;
	int rv = 0;

	if ((err = mgr_config_internal_tls(&id)) != MGR_OK)
		return (err);
	if (*id.cert == '\0') {
		log_error(NULL, "rpc: tls+tcp:// needs MANAGER_INTERNAL_TLS_CERT, "
		    "MANAGER_INTERNAL_TLS_KEY and MANAGER_INTERNAL_TLS_CA");
		return (MGR_EINVAL);
	}
	if ((err = read_pem(id.cert, &cert)) != MGR_OK ||
	    (err = read_pem(id.key, &key)) != MGR_OK ||
	    (err = read_pem(id.ca, &ca)) != MGR_OK)
		goto out;
	err = MGR_EINVAL;
	if ((rv = nng_tls_config_alloc(&cfg, server ? NNG_TLS_MODE_SERVER
	                                            : NNG_TLS_MODE_CLIENT)) != 0 ||
	    (rv = nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_3)) != 0 ||
	    (rv = nng_tls_config_ca_chain(cfg, ca, NULL)) != 0 ||
	    (rv = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0 ||
	    (rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED)) != 0 ||
	    (!server && (rv = nng_tls_config_server_name(cfg, host)) != 0)) {
		log_error(NULL, "rpc: internal TLS identity (%s, %s, %s): %s",
		    id.cert, id.key, id.ca, nng_strerror(rv));
		goto out;
	}
	*out = cfg;
	cfg = NULL;
	err = MGR_OK;
out:
	if (cfg != NULL)
		nng_tls_config_free(cfg);
	if (key != NULL) {
		OPENSSL_cleanse(key, strlen(key));
		free(key);
	}
	free(cert);
	free(ca);
	return (err);
}

/* Listens on url; tls+tcp:// with the internal identity, requiring clients
 * to present a certificate of the internal CA. Returns an nng error. */
static int
listen_url(nng_socket sock, const char *url)
{
	nng_listener l;
	nng_tls_config *cfg = NULL;
	int rv;

	if (!url_allowed(url))
		return (NNG_EINVAL);
	if (!is_tls_url(url))
		return (nng_listen(sock, url, NULL, 0));
	if ((rv = nng_listener_create(&l, sock, url)) != 0)
		return (rv);
	if (tls_config_new(1, NULL, &cfg) != MGR_OK) {
		nng_listener_close(l);
		return (NNG_EINVAL);
	}
	rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg);
	nng_tls_config_free(cfg); /* the listener holds its own reference */
	if (rv == 0)
		rv = nng_listener_start(l, 0);
	if (rv != 0)
		nng_listener_close(l);
	return (rv);
}

/* Dials url in the background; tls+tcp:// with the internal identity,
 * checking the server's certificate against the internal CA and the host of
 * the URL. Returns an nng error. */
static int
dial_url(nng_socket sock, const char *url)
{
	nng_dialer d;
	nng_url *u = NULL;
	nng_tls_config *cfg = NULL;
	int rv;

	if (!url_allowed(url))
		return (NNG_EINVAL);
	if (!is_tls_url(url))
		return (nng_dial(sock, url, NULL, NNG_FLAG_NONBLOCK));
	if ((rv = nng_url_parse(&u, url)) != 0)
		return (rv);
	if ((rv = nng_dialer_create(&d, sock, url)) != 0)
		goto out;
	if (tls_config_new(0, u->u_hostname, &cfg) != MGR_OK) {
		nng_dialer_close(d);
		rv = NNG_EINVAL;
		goto out;
	}
	rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
	nng_tls_config_free(cfg); /* the dialer holds its own reference */
	if (rv == 0)
		rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	if (rv != 0)
		nng_dialer_close(d);
out:
	nng_url_free(u);
	return (rv);
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
	if ((rv = listen_url(s->sock, url)) != 0) {
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
				log_warn(NULL, "rpc: connection %u lost its peer (%s); "
				    "closing it", (unsigned)nng_pipe_id(pipes[i]),
				    nng_strerror(rv));
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
		return (nng_to_err(rv));
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
	for (u = strtok_r(list, ", ", &save); u != NULL; u = strtok_r(NULL, ", ", &save)) {
		if ((rv = dial_url(c->sock, u)) != 0) {
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

	if ((rep = mgr__reply__unpack(NULL, nng_msg_len(m), nng_msg_body(m))) ==
	    NULL)
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
    const ProtobufCMessageDescriptor *out_desc, ProtobufCMessage **out,
    char *msg, size_t msglen, int timeout_ms)
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
	/* The deadline covers the send (waiting for a replica) and the reply. */
	if ((left = (int64_t)req.deadline_ms - mgr_now_ms()) <= 0) {
		err = MGR_EUNAVAIL;
		goto out;
	}
	nng_aio_set_timeout(aio, (nng_duration)left);
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		err = nng_to_err(rv);
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
	int state;           /* PEND_*, under mu */
	int rv;              /* nng result once PEND_DONE */
	nng_msg *reply;      /* the reply once PEND_DONE with rv 0 */
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
		return (nng_to_err(rv));
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
		return (nng_to_err(rv));
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
		err = nng_to_err(p->rv);
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
