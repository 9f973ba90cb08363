#include "common/kv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <openssl/sha.h>

#include "common/log.h"
#include "common/util.h"

#define KV_ARGS_MAX 64

static struct kv_url kv_target;
static _Thread_local redisContext *kv_tls;

/* s[0..n) percent-decoded into out[cap], NUL-terminated; a decoded NUL or a
 * bad escape is EINVAL, as is a result that does not fit. */
static mgr_err
kv_pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 3 > n || (hi = mgr_hex_digit(s[i + 1])) < 0 ||
			    (lo = mgr_hex_digit(s[i + 2])) < 0)
				return (MGR_EINVAL);
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == '\0' || j + 1 >= cap)
			return (MGR_EINVAL);
		out[j++] = (char)c;
	}
	out[j] = '\0';
	return (MGR_OK);
}

static mgr_err
kv_parse_db(const char *s, size_t n, int *db)
{
	char num[16];
	int64_t v;

	if (n == 0 || n >= sizeof(num))
		return (MGR_EINVAL);
	memcpy(num, s, n);
	num[n] = '\0';
	if (mgr_parse_i64(num, &v) != MGR_OK || v < 0 || v > 1000)
		return (MGR_EINVAL);
	*db = (int)v;
	return (MGR_OK);
}

/* unix:///path[?key=value&...] with keys db, password, user. */
static mgr_err
kv_url_parse_unix(const char *p, struct kv_url *u)
{
	const char *q = strchr(p, '?');
	size_t plen = q != NULL ? (size_t)(q - p) : strlen(p);

	if (plen < 2 || p[0] != '/' || plen >= sizeof(u->path) ||
	    memchr(p, '%', plen) != NULL)
		return (MGR_EINVAL);
	memcpy(u->path, p, plen);
	u->path[plen] = '\0';
	while (q != NULL) {
		const char *k = q + 1, *amp = strchr(k, '&');
		const char *end = amp != NULL ? amp : k + strlen(k);
		const char *eq = memchr(k, '=', (size_t)(end - k));
		mgr_err e;

		if (eq == NULL)
			return (MGR_EINVAL);
		if ((size_t)(eq - k) == 2 && strncmp(k, "db", 2) == 0)
			e = kv_parse_db(eq + 1, (size_t)(end - eq - 1), &u->db);
		else if ((size_t)(eq - k) == 8 && strncmp(k, "password", 8) == 0)
			e = kv_pct_decode(eq + 1, (size_t)(end - eq - 1), u->password,
			    sizeof(u->password));
		else if ((size_t)(eq - k) == 4 && strncmp(k, "user", 4) == 0)
			e = kv_pct_decode(eq + 1, (size_t)(end - eq - 1), u->user,
			    sizeof(u->user));
		else
			e = MGR_EINVAL;
		if (e != MGR_OK)
			return (e);
		q = amp;
	}
	return (MGR_OK);
}

/* redis://[[user]:password@]host[:port][/db]; a user info without ':' is
 * the password (as before user names existed). */
static mgr_err
kv_url_parse_tcp(const char *p, struct kv_url *u)
{
	const char *slash = strchr(p, '/');
	const char *aend = slash != NULL ? slash : p + strlen(p);
	const char *at = NULL, *host, *hostend, *rest;
	char port[16];
	int64_t n;

	for (const char *c = p; c < aend; c++)
		if (*c == '@')
			at = c;
	if (at != NULL) {
		const char *colon = memchr(p, ':', (size_t)(at - p));

		if (colon != NULL) {
			if (kv_pct_decode(p, (size_t)(colon - p), u->user,
			        sizeof(u->user)) != MGR_OK ||
			    kv_pct_decode(colon + 1, (size_t)(at - colon - 1),
			        u->password, sizeof(u->password)) != MGR_OK)
				return (MGR_EINVAL);
		} else if (kv_pct_decode(p, (size_t)(at - p), u->password,
		               sizeof(u->password)) != MGR_OK)
			return (MGR_EINVAL);
		p = at + 1;
	}
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(aend - p));

		if (rb == NULL)
			return (MGR_EINVAL);
		host = p + 1;
		hostend = rb;
		rest = rb + 1;
		if (rest != aend && *rest != ':')
			return (MGR_EINVAL);
	} else {
		const char *colon = memchr(p, ':', (size_t)(aend - p));

		host = p;
		hostend = colon != NULL ? colon : aend;
		rest = hostend;
	}
	if (hostend == host || (size_t)(hostend - host) >= sizeof(u->host))
		return (MGR_EINVAL);
	for (const char *c = host; c < hostend; c++)
		if (*c == '@' || *c == '?' || *c == '[' || *c == ']' ||
		    (unsigned char)*c <= ' ')
			return (MGR_EINVAL);
	memcpy(u->host, host, (size_t)(hostend - host));
	u->host[hostend - host] = '\0';
	if (rest != aend) { /* ":port" */
		if ((size_t)(aend - rest - 1) >= sizeof(port))
			return (MGR_EINVAL);
		memcpy(port, rest + 1, (size_t)(aend - rest - 1));
		port[aend - rest - 1] = '\0';
		if (mgr_parse_i64(port, &n) != MGR_OK || n < 1 || n > 65535)
			return (MGR_EINVAL);
		u->port = (int)n;
	}
	if (slash != NULL && slash[1] != '\0')
		return (kv_parse_db(slash + 1, strlen(slash + 1), &u->db));
	return (MGR_OK);
}

mgr_err
kv_url_parse(const char *url, struct kv_url *out)
{
	struct kv_url u;
	mgr_err e;

	memset(&u, 0, sizeof(u));
	u.port = 6379;
	if (strncmp(url, "redis://", 8) == 0)
		e = kv_url_parse_tcp(url + 8, &u);
	else if (strncmp(url, "unix://", 7) == 0)
		e = kv_url_parse_unix(url + 7, &u);
	else
		e = MGR_EINVAL;
	if (e != MGR_OK)
		return (e);
	*out = u;
	return (MGR_OK);
}

mgr_err
kv_init(const char *url)
{
	if (kv_url_parse(url, &kv_target) != MGR_OK) {
		log_error(NULL, "bad MANAGER_REDIS_URL");
		return (MGR_EINVAL);
	}
	return (MGR_OK);
}

static mgr_err
kv_setup(redisContext *c)
{
	redisReply *r;

	if (*kv_target.password != '\0') {
		if (*kv_target.user != '\0')
			r = redisCommand(c, "AUTH %s %s", kv_target.user,
			    kv_target.password);
		else
			r = redisCommand(c, "AUTH %s", kv_target.password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			/* The reply names no secret ("WRONGPASS ..."). */
			log_warn(NULL, "redis refused the password: %.120s",
			    r != NULL ? r->str : "no reply");
			if (r != NULL)
				freeReplyObject(r);
			return (MGR_EUNAVAIL);
		}
		freeReplyObject(r);
	}
	if (kv_target.db != 0) {
		r = redisCommand(c, "SELECT %d", kv_target.db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			if (r != NULL)
				freeReplyObject(r);
			return (MGR_EUNAVAIL);
		}
		freeReplyObject(r);
	}
	return (MGR_OK);
}

static unsigned long long kv_n_io, kv_n_reply;

void
kv_errors(struct kv_error_counts *out)
{
	out->io = __atomic_load_n(&kv_n_io, __ATOMIC_RELAXED);
	out->reply = __atomic_load_n(&kv_n_reply, __ATOMIC_RELAXED);
}

static void
kv_count(unsigned long long *n)
{
	__atomic_add_fetch(n, 1, __ATOMIC_RELAXED);
}

mgr_err
kv_connect(int timeout_ms, redisContext **out)
{
	struct timeval tv = {2, 0};
	redisContext *c;

	if (*kv_target.path != '\0')
		c = redisConnectUnixWithTimeout(kv_target.path, tv);
	else
		c = redisConnectWithTimeout(kv_target.host, kv_target.port, tv);
	if (c == NULL || c->err) {
		if (c != NULL)
			redisFree(c);
		kv_count(&kv_n_io);
		return (MGR_EUNAVAIL);
	}
	if (timeout_ms > 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		redisSetTimeout(c, tv);
	}
	/* TCP keep-alive options fail on a unix socket and would leave c->err
	 * set, which fails every later command. */
	if (*kv_target.path == '\0')
		redisEnableKeepAlive(c);
	if (kv_setup(c) != MGR_OK) {
		redisFree(c);
		kv_count(&kv_n_io);
		return (MGR_EUNAVAIL);
	}
	*out = c;
	return (MGR_OK);
}

/* 1 when c, idle between commands, can take the next one: nothing to read
 * on it. A connection Redis closed (a restart, CLIENT KILL, its idle
 * timeout) is readable (EOF) before anything is sent on it, and so is one
 * holding a stray reply; either is dropped and a new one made, so that the
 * command is sent once, on a live connection (and no write is sent twice:
 * nothing was sent on the dead one). */
static int
kv_idle_ok(const redisContext *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};

	return (c->err == 0 && c->fd >= 0 && poll(&p, 1, 0) == 0);
}

mgr_err
kv_ctx(redisContext **out)
{
	if (kv_tls != NULL && !kv_idle_ok(kv_tls)) {
		redisFree(kv_tls);
		kv_tls = NULL;
		kv_count(&kv_n_io); /* a connection lost, found before use */
	}
	/* Retry briefly so that a Redis restart is a pause, not an error. */
	for (int attempt = 0; kv_tls == NULL && attempt < 3; attempt++) {
		if (kv_connect(5000, &kv_tls) == MGR_OK)
			break;
		kv_tls = NULL;
		usleep(100000 * (attempt + 1));
	}
	if (kv_tls == NULL)
		return (MGR_EUNAVAIL);
	*out = kv_tls;
	return (MGR_OK);
}

static void
kv_drop(void)
{
	if (kv_tls != NULL)
		redisFree(kv_tls);
	kv_tls = NULL;
}

static __thread char kv_last_err[160];

const char *
kv_last_error(void)
{
	return (kv_last_err);
}

/* The error of an error reply (see kv_check); MGR_OK for any other. */
static mgr_err
kv_err_of(const redisReply *r)
{
	static const struct {
		const char *prefix;
		mgr_err err;
	} codes[] = {
	    {"INVALID", MGR_EINVAL},
	    {"UNAUTH", MGR_EUNAUTH},
	    {"PERM", MGR_EPERM},
	    {"NOTFOUND", MGR_ENOTFOUND},
	    {"CONFLICT", MGR_ECONFLICT},
	    {"TOOBIG", MGR_ETOOBIG},
	    {"RATE", MGR_ERATE},
	    {"LOADING", MGR_EUNAVAIL},
	    {"MISCONF", MGR_EUNAVAIL},
	    {"READONLY", MGR_EUNAVAIL},
	    {"PRECOND", MGR_EPRECOND},
	    {"UNAVAIL", MGR_EUNAVAIL},
	};

	if (r->type != REDIS_REPLY_ERROR)
		return (MGR_OK);
	snprintf(kv_last_err, sizeof(kv_last_err), "%s", r->str);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		size_t n = strlen(codes[i].prefix);

		if (r->len >= n && strncmp(r->str, codes[i].prefix, n) == 0) {
			if (codes[i].err == MGR_EUNAVAIL)
				kv_count(&kv_n_reply);
			return (codes[i].err);
		}
	}
	kv_count(&kv_n_reply);
	log_error(NULL, "redis error: %.200s", r->str);
	return (MGR_EINTERNAL);
}

/* The result of a command: r (NULL: the connection broke) into *reply or
 * an error. own: on this thread's context, which is dropped then. */
static mgr_err
kv_check_on(redisReply *r, redisReply **reply, int own)
{
	mgr_err e;

	if (r == NULL) {
		if (own)
			kv_drop();
		kv_count(&kv_n_io);
		return (MGR_EUNAVAIL);
	}
	if ((e = kv_err_of(r)) != MGR_OK) {
		/* A primary demoted under us (Sentinel failover): reconnect, so
		 * that a proxy in front sends us to the new primary. */
		if (own && r->len >= 8 && strncmp(r->str, "READONLY", 8) == 0)
			kv_drop();
		freeReplyObject(r);
		return (e);
	}
	*reply = r;
	return (MGR_OK);
}

static mgr_err
kv_check(redisReply *r, redisReply **reply)
{
	return (kv_check_on(r, reply, 1));
}

mgr_err
kv_conn_vcmd(redisContext *c, redisReply **reply, const char *fmt, va_list ap)
{
	return (kv_check_on(redisvCommand(c, fmt, ap), reply, 0));
}

mgr_err
kv_conn_cmd(redisContext *c, redisReply **reply, const char *fmt, ...)
{
	va_list ap;
	mgr_err rv;

	va_start(ap, fmt);
	rv = kv_conn_vcmd(c, reply, fmt, ap);
	va_end(ap);
	return (rv);
}

mgr_err
kv_conn_pushed(redisContext *c, int read, redisReply **msg)
{
	void *m = NULL;

	*msg = NULL;
	if (read && redisBufferRead(c) != REDIS_OK)
		return (MGR_EUNAVAIL);
	if (redisReaderGetReply(c->reader, &m) != REDIS_OK)
		return (MGR_EUNAVAIL);
	*msg = m;
	return (MGR_OK);
}

int
kv_conn_fd(const redisContext *c)
{
	return (c->fd);
}

void
kv_conn_close(redisContext *c)
{
	if (c != NULL)
		redisFree(c);
}

const char *
kv_refusal(void)
{
	const char *d = strchr(kv_last_err, ' ');

	if (d == NULL)
		return ("");
	while (*d == ' ')
		d++;
	return (d);
}

mgr_err
kv_reply_err(const redisReply *r)
{
	return (r == NULL ? MGR_EINTERNAL : kv_err_of(r));
}

mgr_err
kv_cmd(redisReply **reply, const char *fmt, ...)
{
	redisContext *c;
	va_list ap;
	void *r;
	mgr_err rv;

	if ((rv = kv_ctx(&c)) != MGR_OK)
		return (rv);
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	return (kv_check(r, reply));
}

mgr_err
kv_cmdargv(redisReply **reply, int argc, const char **argv, const size_t *argvlen)
{
	redisContext *c;
	mgr_err rv;

	if ((rv = kv_ctx(&c)) != MGR_OK)
		return (rv);
	return (kv_check(redisCommandArgv(c, argc, argv, argvlen), reply));
}

mgr_err
kv_eval(redisReply **reply, const char *script, int nkeys, int argc, const char **argv,
    const size_t *argvlen)
{
	const char *av[KV_ARGS_MAX + 3];
	size_t al[KV_ARGS_MAX + 3];
	unsigned char md[SHA_DIGEST_LENGTH];
	char sha[41], nk[16];
	redisContext *c;
	redisReply *r;
	mgr_err rv;

	if (argc > KV_ARGS_MAX)
		return (MGR_EINVAL);
	SHA1((const unsigned char *)script, strlen(script), md);
	for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
		snprintf(sha + 2 * i, 3, "%02x", md[i]);
	snprintf(nk, sizeof(nk), "%d", nkeys);
	av[0] = "EVALSHA";
	al[0] = 7;
	av[1] = sha;
	al[1] = 40;
	av[2] = nk;
	al[2] = strlen(nk);
	for (int i = 0; i < argc; i++) {
		av[3 + i] = argv[i];
		al[3 + i] = argvlen != NULL ? argvlen[i] : strlen(argv[i]);
	}
	if ((rv = kv_ctx(&c)) != MGR_OK)
		return (rv);
	r = redisCommandArgv(c, argc + 3, av, al);
	if (r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(r);
		av[0] = "EVAL";
		al[0] = 4;
		av[1] = script;
		al[1] = strlen(script);
		r = redisCommandArgv(c, argc + 3, av, al);
	}
	return (kv_check(r, reply));
}

/* Most iovecs of one kv_pipeline write: two per big argument, one for the
 * rest between them. */
#define KV_PIPE_IOV 64

/* RESP for cmds into iov: headers and small arguments copied into *hdr
 * (caller frees), big arguments referenced where they are. */
static mgr_err
kv_pipe_format(const struct kv_pipe_cmd *cmds, int n, struct iovec *iov, int *niov,
    char **hdr)
{
	size_t cap = 0, len = 0, seg = 0;
	char *h;
	int k = 0;

	for (int i = 0; i < n; i++) {
		if (cmds[i].argc < 1 || cmds[i].argc > KV_ARGS_MAX)
			return (MGR_EINVAL);
		cap += 16;
		for (int j = 0; j < cmds[i].argc; j++) {
			size_t l = cmds[i].argvlen != NULL ? cmds[i].argvlen[j]
			                                   : strlen(cmds[i].argv[j]);

			cap += 24 + 2 + (l < KV_BIG_ARG ? l : 0);
		}
	}
	if ((h = malloc(cap)) == NULL)
		return (MGR_ENOMEM);
	for (int i = 0; i < n; i++) {
		len += (size_t)snprintf(h + len, cap - len, "*%d\r\n", cmds[i].argc);
		for (int j = 0; j < cmds[i].argc; j++) {
			const char *a = cmds[i].argv[j];
			size_t l = cmds[i].argvlen != NULL ? cmds[i].argvlen[j]
			                                   : strlen(a);

			len += (size_t)snprintf(h + len, cap - len, "$%zu\r\n", l);
			if (l < KV_BIG_ARG) {
				memcpy(h + len, a, l);
				len += l;
			} else {
				if (k + 3 > KV_PIPE_IOV) {
					free(h);
					return (MGR_EINVAL);
				}
				iov[k].iov_base = h + seg;
				iov[k++].iov_len = len - seg;
				iov[k].iov_base = (void *)a;
				iov[k++].iov_len = l;
				seg = len;
			}
			memcpy(h + len, "\r\n", 2);
			len += 2;
		}
	}
	iov[k].iov_base = h + seg;
	iov[k++].iov_len = len - seg;
	*niov = k;
	*hdr = h;
	return (MGR_OK);
}

mgr_err
kv_pipeline(const struct kv_pipe_cmd *cmds, int n, redisReply **replies)
{
	struct iovec iov[KV_PIPE_IOV];
	redisContext *c;
	char *hdr = NULL;
	int niov = 0, i = 0, got = 0, done = 0;
	mgr_err rv;

	if ((rv = kv_ctx(&c)) != MGR_OK)
		return (rv);
	if ((rv = kv_pipe_format(cmds, n, iov, &niov, &hdr)) != MGR_OK)
		return (rv);
	/* Whatever hiredis still holds goes first (nothing, in blocking use). */
	do {
		if (redisBufferWrite(c, &done) == REDIS_ERR)
			goto fail;
	} while (!done);
	while (i < niov) {
		struct msghdr mh;
		ssize_t w;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov + i;
		mh.msg_iovlen = (size_t)(niov - i);
		if ((w = sendmsg(c->fd, &mh, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		while (i < niov && (size_t)w >= iov[i].iov_len)
			w -= (ssize_t)iov[i++].iov_len;
		if (i < niov) {
			iov[i].iov_base = (char *)iov[i].iov_base + w;
			iov[i].iov_len -= (size_t)w;
		}
	}
	free(hdr);
	hdr = NULL;
	/* Keep the reader's buffer between big replies instead of freeing and
	 * growing it again for each. */
	c->reader->maxbuf = 0;
	for (; got < n; got++) {
		void *r = NULL;

		if (redisGetReply(c, &r) != REDIS_OK || r == NULL)
			goto fail;
		replies[got] = r;
	}
	return (MGR_OK);
fail:
	free(hdr);
	while (got > 0)
		freeReplyObject(replies[--got]);
	kv_drop();
	kv_count(&kv_n_io);
	return (MGR_EUNAVAIL);
}

void
kv_thread_done(void)
{
	kv_drop();
}

mgr_err
kv_ping(void)
{
	redisReply *r;
	mgr_err rv;

	/* A connection Redis closed while it was idle (a restart, CLIENT
	 * KILL, a timeout) fails its next command once and is dropped; PING
	 * can be sent again at once, on a new one, so that "ping" (readyz)
	 * says whether Redis is reachable now, not whether it was. */
	if ((rv = kv_cmd(&r, "PING")) == MGR_EUNAVAIL)
		rv = kv_cmd(&r, "PING");
	if (rv != MGR_OK)
		return (rv);
	freeReplyObject(r);
	return (MGR_OK);
}
