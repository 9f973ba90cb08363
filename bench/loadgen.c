/*
 * loadgen: a closed-loop HTTPS load generator over OpenSSL.
 *
 * N keep-alive connections (-c) spread over M threads (-t), each thread one
 * epoll loop driving non-blocking TLS connections through a small state
 * machine: connect, handshake, write request, read response (Content-Length,
 * chunked, or until close), next request on the same connection. A client
 * certificate is presented per connection (one identity, or connection i uses
 * line i % n of an identities file). Path and body may be templates:
 *
 *   {n}      global request counter          {n:K}  the same, modulo K
 *   {c}      connection index                {i}    per-connection counter
 *   {id}     the connection identity's id    {line} next line of -L FILE
 *   {t}      RFC 3339 time: --time-base + {i} * --time-step seconds
 *   {line:K} field K (1-based, tab-separated) of the request's -L line
 *
 * A request takes at most one -L line, whatever the number of {line} and
 * {line:K} in its path, body and headers (-H takes templates too), so that
 * one line can carry an account id, its credentials and a CSR.
 *
 * Requests that complete during the warm-up (-w) are not counted; the
 * measured window is the -d seconds after it. Prints requests/s, latency
 * percentiles, status counts, bytes/s and one machine-readable RESULT line.
 *
 * Build: cc -O2 -o loadgen loadgen.c -lssl -lcrypto -lpthread
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define LG_RBUF (64 * 1024)
#define LG_MAX_HDRS 32
#define LG_INLINE_BODY (16 * 1024) /* bodies up to this go in one write */
#define LG_SAMPLE 300

/* ---- options and shared state ---- */

enum tok_kind { TK_LIT, TK_N, TK_NMOD, TK_C, TK_I, TK_ID, TK_T, TK_LINE };

struct tok {
	enum tok_kind kind;
	const char *s; /* TK_LIT */
	size_t len;
	uint64_t mod; /* TK_NMOD; TK_LINE: the field (0: the line) */
};

struct tmpl {
	struct tok *toks;
	size_t ntoks;
	int is_static; /* no substitutions */
};

struct ident {
	X509 *cert;
	STACK_OF(X509) * chain;
	EVP_PKEY *key;
	char id[256];
};

struct lines {
	char **v;
	size_t n;
};

static struct {
	char host[256];
	char port[16];
	int conns, threads;
	double duration, warmup;
	const char *method;
	struct tmpl path;
	struct lines paths; /* -p FILE: one path per request, in turn */
	const char *body_file;
	const unsigned char *body; /* raw body (-b) */
	size_t body_len;
	struct tmpl body_tmpl; /* -B/-T */
	int has_body_tmpl;
	const char *content_type;
	char *headers; /* extra header lines, CRLF-terminated */
	size_t headers_len;
	struct tmpl hdr_tmpl; /* the same, when it has substitutions */
	const char *cafile, *cert, *key, *idfile, *id;
	struct lines linefile;
	int lines_wrap;
	int64_t time_base, time_step;
	int verbose;
	const char *expect; /* -e: a 2xx body must contain this */
	struct ident *idents;
	size_t nidents;
	SSL_CTX *ctx;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int head; /* method HEAD: no body in the response */
} opt;

static atomic_uint_fast64_t g_counter;
static atomic_uint_fast64_t g_line;
static atomic_int g_stop;              /* set when -L lines run out */
static atomic_uint_fast64_t g_stop_at; /* monotonic ns when they ran out */
static uint64_t g_t0, g_t_warm, g_t_end;
static pthread_mutex_t g_sample_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_sample[LG_SAMPLE + 1];
static int g_sample_status;

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "loadgen: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	ERR_print_errors_fp(stderr);
	exit(2);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/* ---- growable byte buffer ---- */

struct dbuf {
	char *p;
	size_t len, cap;
};

static void
dbuf_add(struct dbuf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((b->p = realloc(b->p, cap)) == NULL)
			die("out of memory");
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
dbuf_printf(struct dbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		die("formatted string too long");
	dbuf_add(b, tmp, (size_t)n);
}

/* ---- files ---- */

static const unsigned char *
map_file(const char *path, size_t *len)
{
	struct stat st;
	void *p;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) != 0)
		die("cannot open %s: %s", path, strerror(errno));
	*len = (size_t)st.st_size;
	if (*len == 0) {
		close(fd);
		return ((const unsigned char *)"");
	}
	p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		die("cannot map %s", path);
	return (p);
}

static void
read_lines(const char *path, struct lines *out)
{
	size_t len, cap = 0, i, start = 0;
	const unsigned char *p = map_file(path, &len);
	char *copy;

	if ((copy = malloc(len + 1)) == NULL)
		die("out of memory");
	memcpy(copy, p, len);
	copy[len] = '\0';
	out->n = 0;
	out->v = NULL;
	for (i = 0; i <= len; i++) {
		if (i < len && copy[i] != '\n')
			continue;
		copy[i] = '\0';
		if (i > start) {
			if (out->n == cap) {
				cap = cap ? cap * 2 : 1024;
				if ((out->v = realloc(out->v, cap * sizeof(*out->v))) ==
				    NULL)
					die("out of memory");
			}
			out->v[out->n++] = copy + start;
		}
		start = i + 1;
	}
	if (out->n == 0)
		die("%s has no lines", path);
}

/* ---- templates ---- */

static void
tmpl_parse(struct tmpl *t, const char *s)
{
	size_t cap = 8;
	const char *p = s, *lit = s;

	t->ntoks = 0;
	t->is_static = 1;
	if ((t->toks = calloc(cap, sizeof(*t->toks))) == NULL)
		die("out of memory");
	for (;;) {
		struct tok k = {TK_LIT, NULL, 0, 0};
		const char *end = NULL;

		if (*p == '{' && (end = strchr(p, '}')) != NULL) {
			size_t n = (size_t)(end - p - 1);
			const char *in = p + 1;

			if (n == 1 && *in == 'n')
				k.kind = TK_N;
			else if (n > 2 && strncmp(in, "n:", 2) == 0) {
				k.kind = TK_NMOD;
				k.mod = strtoull(in + 2, NULL, 10);
				if (k.mod == 0)
					die("bad {n:K} in template");
			} else if (n == 1 && *in == 'c')
				k.kind = TK_C;
			else if (n == 1 && *in == 'i')
				k.kind = TK_I;
			else if (n == 2 && strncmp(in, "id", 2) == 0)
				k.kind = TK_ID;
			else if (n == 1 && *in == 't')
				k.kind = TK_T;
			else if (n == 4 && strncmp(in, "line", 4) == 0)
				k.kind = TK_LINE;
			else if (n > 5 && strncmp(in, "line:", 5) == 0 &&
			    strspn(in + 5, "0123456789") == n - 5) {
				k.kind = TK_LINE;
				k.mod = strtoull(in + 5, NULL, 10);
				if (k.mod == 0)
					die("bad {line:K} in template (fields count from 1)");
			} else
				end = NULL; /* not ours: literal text */
		}
		if (*p == '\0' || end != NULL) {
			if (p > lit) {
				if (t->ntoks + 2 > cap &&
				    (t->toks = realloc(t->toks,
				         (cap *= 2) * sizeof(*t->toks))) == NULL)
					die("out of memory");
				t->toks[t->ntoks++] = (struct tok){TK_LIT, lit,
				    (size_t)(p - lit), 0};
			}
			if (*p == '\0')
				break;
			if (t->ntoks + 2 > cap &&
			    (t->toks = realloc(t->toks, (cap *= 2) * sizeof(*t->toks))) ==
			        NULL)
				die("out of memory");
			t->toks[t->ntoks++] = k;
			t->is_static = 0;
			p = end + 1;
			lit = p;
			continue;
		}
		p++;
	}
}

struct req_ctx {
	uint64_t n; /* global counter value of this request */
	int conn;
	uint64_t i; /* per-connection counter */
	const struct ident *ident;
	const char *line; /* this request's -L line, once taken */
};

/* Field k (1-based) of a tab-separated line into out; "" past the end. */
static void
line_field(const char *line, uint64_t k, struct dbuf *out)
{
	const char *e;

	for (; k > 1 && line != NULL; k--)
		if ((line = strchr(line, '\t')) != NULL)
			line++;
	if (line == NULL)
		return;
	e = strchr(line, '\t');
	dbuf_add(out, line, e != NULL ? (size_t)(e - line) : strlen(line));
}

/* Returns -1 when the -L lines ran out (and wrapping is off). */
static int
tmpl_expand(const struct tmpl *t, struct req_ctx *r, struct dbuf *out)
{
	for (size_t k = 0; k < t->ntoks; k++) {
		const struct tok *tk = &t->toks[k];

		switch (tk->kind) {
		case TK_LIT:
			dbuf_add(out, tk->s, tk->len);
			break;
		case TK_N:
			dbuf_printf(out, "%" PRIu64, r->n);
			break;
		case TK_NMOD:
			dbuf_printf(out, "%" PRIu64, r->n % tk->mod);
			break;
		case TK_C:
			dbuf_printf(out, "%d", r->conn);
			break;
		case TK_I:
			dbuf_printf(out, "%" PRIu64, r->i);
			break;
		case TK_ID:
			if (r->ident == NULL)
				die("{id} used without an identity");
			dbuf_add(out, r->ident->id, strlen(r->ident->id));
			break;
		case TK_T: {
			time_t tt = (time_t)(opt.time_base +
			    (int64_t)r->i * opt.time_step);
			struct tm tm;
			char ts[32];

			gmtime_r(&tt, &tm);
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
			dbuf_add(out, ts, strlen(ts));
			break;
		}
		case TK_LINE:
			if (opt.linefile.n == 0)
				die("{line} used without -L");
			if (r->line == NULL) {
				uint64_t li = atomic_fetch_add(&g_line, 1);

				if (li >= opt.linefile.n && !opt.lines_wrap)
					return (-1);
				r->line = opt.linefile.v[li % opt.linefile.n];
			}
			if (tk->mod == 0)
				dbuf_add(out, r->line, strlen(r->line));
			else
				line_field(r->line, tk->mod, out);
			break;
		}
	}
	return (0);
}

/* ---- connections ---- */

enum cstate { CS_IDLE, CS_CONNECTING, CS_HANDSHAKE, CS_WRITE, CS_READ, CS_DONE };
enum rstate {
	RS_HEAD,
	RS_BODY,
	RS_UNTIL_CLOSE,
	RS_CHUNK_SIZE,
	RS_CHUNK_DATA,
	RS_CHUNK_CRLF,
	RS_TRAILER
};

struct stats {
	uint32_t *lat_us;
	size_t nlat, caplat;
	uint64_t status[600];
	uint64_t err_connect, err_tls, err_io, err_parse, reconnects, mismatch;
	uint64_t bytes_sent, bytes_recv;
};

struct conn {
	int idx, fd, events;
	enum cstate st;
	SSL *ssl;
	const struct ident *ident;
	uint64_t seq;
	uint64_t retry_at;
	/* request */
	struct dbuf req;   /* header (and small body) */
	struct dbuf tbody; /* expanded body template, if large */
	const unsigned char *body;
	size_t body_len;
	size_t off_hdr, off_body;
	uint64_t t_start;
	uint64_t req_bytes, resp_bytes;
	/* response */
	char in[LG_RBUF];
	size_t in_len;
	enum rstate rs;
	int status, close_after, sampling;
	int64_t remain;
	struct dbuf acc; /* body kept for -e (first 64 KiB) */
};

struct worker {
	int id, ep;
	struct conn *conns;
	int nconns;
	struct stats st;
	pthread_t th;
};

static void conn_reset(struct worker *, struct conn *, int);

static void
stats_lat(struct stats *s, uint64_t ns)
{
	uint64_t us = ns / 1000;

	if (s->nlat == s->caplat) {
		s->caplat = s->caplat ? s->caplat * 2 : 65536;
		if ((s->lat_us = realloc(s->lat_us, s->caplat * sizeof(*s->lat_us))) ==
		    NULL)
			die("out of memory");
	}
	s->lat_us[s->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void
set_events(struct worker *w, struct conn *c, int ev)
{
	struct epoll_event e;

	if (c->fd < 0 || c->events == ev)
		return;
	memset(&e, 0, sizeof(e));
	e.events = (uint32_t)ev;
	e.data.ptr = c;
	if (epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &e) != 0)
		die("epoll_ctl: %s", strerror(errno));
	c->events = ev;
}

static void
conn_open(struct worker *w, struct conn *c)
{
	struct epoll_event e;
	int one = 1;

	c->fd = socket(opt.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&e, 0, sizeof(e));
	e.events = EPOLLOUT;
	e.data.ptr = c;
	c->events = EPOLLOUT;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &e) != 0)
		die("epoll_ctl: %s", strerror(errno));
	c->st = CS_CONNECTING;
	if (connect(c->fd, (struct sockaddr *)&opt.addr, opt.addrlen) != 0 &&
	    errno != EINPROGRESS) {
		w->st.err_connect++;
		conn_reset(w, c, 1);
	}
}

/* Closes the connection; reopens it now, or after a pause on failure. */
static void
conn_reset(struct worker *w, struct conn *c, int failed)
{
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	c->events = 0;
	c->st = CS_IDLE;
	c->in_len = 0;
	c->retry_at = failed ? now_ns() + 100000000u : 0;
}

static int
is_stopping(uint64_t now)
{
	return (now >= g_t_end || atomic_load(&g_stop));
}

/* Builds the next request; returns -1 when there is nothing left to send. */
static int
req_build(struct conn *c)
{
	struct req_ctx r;
	const char *path;
	struct dbuf pathbuf = {0}, hdrbuf = {0};
	int rv = -1;

	r.n = atomic_fetch_add(&g_counter, 1);
	r.conn = c->idx;
	r.i = c->seq++;
	r.ident = c->ident;
	r.line = NULL;
	c->req.len = 0;
	c->tbody.len = 0;
	c->body = NULL;
	c->body_len = 0;
	if (opt.paths.n > 0)
		path = opt.paths.v[r.n % opt.paths.n];
	else if (opt.path.is_static)
		path = opt.path.toks[0].s;
	else {
		if (tmpl_expand(&opt.path, &r, &pathbuf) != 0)
			goto out;
		path = pathbuf.p;
	}
	if (opt.has_body_tmpl) {
		if (tmpl_expand(&opt.body_tmpl, &r, &c->tbody) != 0)
			goto out;
		c->body = (const unsigned char *)c->tbody.p;
		c->body_len = c->tbody.len;
	} else if (opt.body_file != NULL) {
		c->body = opt.body;
		c->body_len = opt.body_len;
	}
	if (opt.headers_len > 0 && !opt.hdr_tmpl.is_static &&
	    tmpl_expand(&opt.hdr_tmpl, &r, &hdrbuf) != 0)
		goto out;
	dbuf_printf(&c->req, "%s ", opt.method);
	dbuf_add(&c->req, path, strlen(path));
	dbuf_printf(&c->req, " HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: mgr-loadgen\r\n",
	    opt.host, opt.port);
	if (hdrbuf.len > 0)
		dbuf_add(&c->req, hdrbuf.p, hdrbuf.len);
	else if (opt.headers_len > 0 && opt.hdr_tmpl.is_static)
		dbuf_add(&c->req, opt.headers, opt.headers_len);
	if (c->body != NULL || strcmp(opt.method, "POST") == 0 ||
	    strcmp(opt.method, "PUT") == 0 || strcmp(opt.method, "PATCH") == 0) {
		dbuf_printf(&c->req, "Content-Length: %zu\r\n", c->body_len);
		if (opt.content_type != NULL)
			dbuf_printf(&c->req, "Content-Type: %s\r\n", opt.content_type);
	}
	dbuf_add(&c->req, "\r\n", 2);
	if (c->body_len > 0 && c->body_len <= LG_INLINE_BODY) {
		dbuf_add(&c->req, c->body, c->body_len);
		c->body = NULL;
		c->body_len = 0;
	}
	c->off_hdr = 0;
	c->off_body = 0;
	c->req_bytes = c->req.len + c->body_len;
	c->resp_bytes = 0;
	c->rs = RS_HEAD;
	c->status = 0;
	c->close_after = 0;
	c->sampling = 0;
	c->acc.len = 0;
	rv = 0;
out:
	free(pathbuf.p);
	free(hdrbuf.p);
	return (rv);
}

static int
ssl_want(struct worker *w, struct conn *c, int r)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		set_events(w, c, EPOLLIN);
		return (1);
	case SSL_ERROR_WANT_WRITE:
		set_events(w, c, EPOLLOUT);
		return (1);
	default:
		return (0);
	}
}

/* Parses the response header at c->in; returns bytes used, 0 if more is
 * needed, -1 on a malformed header. */
static ssize_t
parse_head(struct conn *c)
{
	char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	char *line, *next;
	int64_t clen = -1;
	int chunked = 0;

	if (end == NULL)
		return (c->in_len == sizeof(c->in) ? -1 : 0);
	*end = '\0';
	if (strncmp(c->in, "HTTP/1.", 7) != 0 || c->in_len < 12)
		return (-1);
	c->status = (int)strtol(c->in + 9, NULL, 10);
	if (c->status < 100 || c->status > 599)
		return (-1);
	if (c->in[7] == '0')
		c->close_after = 1;
	for (line = strstr(c->in, "\r\n"); line != NULL; line = next) {
		line += 2;
		next = strstr(line, "\r\n");
		if (next != NULL)
			*next = '\0';
		if (strncasecmp(line, "content-length:", 15) == 0)
			clen = strtoll(line + 15, NULL, 10);
		else if (strncasecmp(line, "transfer-encoding:", 18) == 0 &&
		    strcasestr(line + 18, "chunked") != NULL)
			chunked = 1;
		else if (strncasecmp(line, "connection:", 11) == 0 &&
		    strcasestr(line + 11, "close") != NULL)
			c->close_after = 1;
	}
	if (c->status < 200) {
		/* 100 Continue and friends: wait for the real answer. */
		return (end + 4 - c->in);
	}
	if (opt.head || c->status == 204 || c->status == 304) {
		c->rs = RS_BODY;
		c->remain = 0;
	} else if (chunked) {
		c->rs = RS_CHUNK_SIZE;
	} else if (clen >= 0) {
		c->rs = RS_BODY;
		c->remain = clen;
	} else {
		c->rs = RS_UNTIL_CLOSE;
		c->close_after = 1;
	}
	c->sampling = c->status >= 300;
	return (end + 4 - c->in);
}

static void
sample_body(struct conn *c, const char *p, size_t n)
{
	if (!c->sampling || n == 0)
		return;
	c->sampling = 0;
	pthread_mutex_lock(&g_sample_mu);
	if (g_sample_status == 0) {
		g_sample_status = c->status;
		if (n > LG_SAMPLE)
			n = LG_SAMPLE;
		memcpy(g_sample, p, n);
		g_sample[n] = '\0';
	}
	pthread_mutex_unlock(&g_sample_mu);
}

static void
keep_body(struct conn *c, const char *p, size_t n)
{
	if (opt.expect == NULL || c->acc.len >= 65536)
		return;
	if (n > 65536 - c->acc.len)
		n = 65536 - c->acc.len;
	dbuf_add(&c->acc, p, n);
}

static void
consume(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

/* Runs the response parser over the buffered input. Returns 1 when the
 * response is complete, 0 if more input is needed, -1 on a parse error. */
static int
parse_resp(struct conn *c)
{
	for (;;) {
		switch (c->rs) {
		case RS_HEAD: {
			ssize_t n = parse_head(c);

			if (n <= 0)
				return ((int)n);
			consume(c, (size_t)n);
			if (c->status < 200)
				continue;
			break;
		}
		case RS_BODY:
		case RS_CHUNK_DATA: {
			size_t n = c->in_len;

			if ((int64_t)n > c->remain)
				n = (size_t)c->remain;
			sample_body(c, c->in, n);
			keep_body(c, c->in, n);
			consume(c, n);
			c->remain -= (int64_t)n;
			if (c->remain > 0)
				return (0);
			if (c->rs == RS_BODY)
				return (1);
			c->rs = RS_CHUNK_CRLF;
			break;
		}
		case RS_UNTIL_CLOSE:
			sample_body(c, c->in, c->in_len);
			keep_body(c, c->in, c->in_len);
			c->in_len = 0;
			return (0);
		case RS_CHUNK_CRLF:
			if (c->in_len < 2)
				return (0);
			if (c->in[0] != '\r' || c->in[1] != '\n')
				return (-1);
			consume(c, 2);
			c->rs = RS_CHUNK_SIZE;
			break;
		case RS_CHUNK_SIZE:
		case RS_TRAILER: {
			char *eol = memmem(c->in, c->in_len, "\r\n", 2);
			size_t n;

			if (eol == NULL)
				return (c->in_len == sizeof(c->in) ? -1 : 0);
			n = (size_t)(eol - c->in);
			if (c->rs == RS_TRAILER) {
				consume(c, n + 2);
				if (n == 0)
					return (1);
				break;
			}
			*eol = '\0';
			{
				char *e;
				long long sz = strtoll(c->in, &e, 16);

				if (e == c->in || sz < 0)
					return (-1);
				consume(c, n + 2);
				if (sz == 0)
					c->rs = RS_TRAILER;
				else {
					c->rs = RS_CHUNK_DATA;
					c->remain = sz;
				}
			}
			break;
		}
		}
	}
}

static void
finish(struct worker *w, struct conn *c, uint64_t now)
{
	if (c->t_start >= g_t_warm && now <= g_t_end) {
		stats_lat(&w->st, now - c->t_start);
		w->st.status[c->status]++;
		if (opt.expect != NULL && c->status >= 200 && c->status < 300 &&
		    (c->acc.len == 0 || strstr(c->acc.p, opt.expect) == NULL))
			w->st.mismatch++;
		w->st.bytes_sent += c->req_bytes;
		w->st.bytes_recv += c->resp_bytes;
	}
}

static void
start_next(struct worker *w, struct conn *c, uint64_t now)
{
	if (is_stopping(now)) {
		c->st = CS_DONE;
		conn_reset(w, c, 0);
		c->st = CS_DONE;
		return;
	}
	if (req_build(c) != 0) {
		if (!atomic_exchange(&g_stop, 1))
			atomic_store(&g_stop_at, now);
		c->st = CS_DONE;
		conn_reset(w, c, 0);
		c->st = CS_DONE;
		return;
	}
	c->t_start = now;
	c->st = CS_WRITE;
}

static void
conn_drive(struct worker *w, struct conn *c)
{
	for (;;) {
		switch (c->st) {
		case CS_IDLE:
		case CS_DONE:
			return;
		case CS_CONNECTING: {
			int err = 0;
			socklen_t len = sizeof(err);

			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
			    err != 0) {
				w->st.err_connect++;
				conn_reset(w, c, 1);
				return;
			}
			if ((c->ssl = SSL_new(opt.ctx)) == NULL)
				die("SSL_new");
			if (c->ident != NULL &&
			    (SSL_use_certificate(c->ssl, c->ident->cert) != 1 ||
			        SSL_use_PrivateKey(c->ssl, c->ident->key) != 1 ||
			        (c->ident->chain != NULL &&
			            SSL_set1_chain(c->ssl, c->ident->chain) != 1)))
				die("cannot use the client certificate %s", c->ident->id);
			SSL_set_fd(c->ssl, c->fd);
			if (inet_pton(AF_INET, opt.host, &(struct in_addr){0}) != 1 &&
			    inet_pton(AF_INET6, opt.host, &(struct in6_addr){0}) != 1)
				SSL_set_tlsext_host_name(c->ssl, opt.host);
			c->st = CS_HANDSHAKE;
			break;
		}
		case CS_HANDSHAKE: {
			int r = SSL_connect(c->ssl);

			if (r == 1) {
				start_next(w, c, now_ns());
				break;
			}
			if (ssl_want(w, c, r))
				return;
			if (w->st.err_tls++ == 0 && opt.verbose) {
				fprintf(stderr, "loadgen: TLS handshake failed:\n");
				ERR_print_errors_fp(stderr);
			}
			ERR_clear_error();
			conn_reset(w, c, 1);
			return;
		}
		case CS_WRITE: {
			const void *p;
			size_t left;
			int r;

			if (c->off_hdr < c->req.len) {
				p = c->req.p + c->off_hdr;
				left = c->req.len - c->off_hdr;
			} else if (c->off_body < c->body_len) {
				p = c->body + c->off_body;
				left = c->body_len - c->off_body;
			} else {
				c->st = CS_READ;
				set_events(w, c, EPOLLIN);
				break;
			}
			if (left > 1 << 20)
				left = 1 << 20;
			r = SSL_write(c->ssl, p, (int)left);
			if (r > 0) {
				if (c->off_hdr < c->req.len)
					c->off_hdr += (size_t)r;
				else
					c->off_body += (size_t)r;
				break;
			}
			if (ssl_want(w, c, r))
				return;
			w->st.err_io++;
			ERR_clear_error();
			conn_reset(w, c, 1);
			return;
		}
		case CS_READ: {
			int r = SSL_read(c->ssl, c->in + c->in_len,
			    (int)(sizeof(c->in) - c->in_len));
			int done;

			if (r > 0) {
				c->in_len += (size_t)r;
				c->resp_bytes += (uint64_t)r;
				done = parse_resp(c);
				if (done < 0) {
					w->st.err_parse++;
					conn_reset(w, c, 1);
					return;
				}
				if (done > 0) {
					uint64_t now = now_ns();

					finish(w, c, now);
					if (c->close_after) {
						w->st.reconnects++;
						conn_reset(w, c, 0);
						return;
					}
					start_next(w, c, now);
				}
				break;
			}
			if (ssl_want(w, c, r))
				return;
			if (c->rs == RS_UNTIL_CLOSE) {
				uint64_t now = now_ns();

				finish(w, c, now);
				w->st.reconnects++;
				ERR_clear_error();
				conn_reset(w, c, 0);
				return;
			}
			/* The server closed a kept-alive connection. */
			if (c->rs == RS_HEAD && c->in_len == 0 && c->resp_bytes == 0)
				w->st.reconnects++;
			else
				w->st.err_io++;
			ERR_clear_error();
			conn_reset(w, c, 1);
			return;
		}
		}
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[64];

	for (;;) {
		uint64_t now = now_ns();
		int live = 0, n;

		for (int i = 0; i < w->nconns; i++) {
			struct conn *c = &w->conns[i];

			if (c->st == CS_IDLE && !is_stopping(now) && now >= c->retry_at) {
				conn_open(w, c);
				conn_drive(w, c);
			}
			if (c->st != CS_DONE && !(c->st == CS_IDLE && is_stopping(now)))
				live++;
		}
		if (live == 0 || is_stopping(now))
			break;
		n = epoll_wait(w->ep, evs, 64, 50);
		for (int i = 0; i < n; i++)
			conn_drive(w, evs[i].data.ptr);
	}
	for (int i = 0; i < w->nconns; i++)
		conn_reset(w, &w->conns[i], 0);
	return (NULL);
}

/* ---- setup ---- */

static void
parse_url(const char *url)
{
	const char *h, *e, *colon;

	if (strncmp(url, "https://", 8) != 0)
		die("URL must start with https://");
	h = url + 8;
	e = h + strcspn(h, "/");
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(e - h));

		if (rb == NULL)
			die("bad URL");
		snprintf(opt.host, sizeof(opt.host), "%.*s", (int)(rb - h - 1), h + 1);
		colon = rb + 1;
	} else {
		colon = memchr(h, ':', (size_t)(e - h));
		snprintf(opt.host, sizeof(opt.host), "%.*s",
		    (int)((colon ? colon : e) - h), h);
	}
	if (colon != NULL && *colon == ':')
		snprintf(opt.port, sizeof(opt.port), "%.*s", (int)(e - colon - 1),
		    colon + 1);
	else
		snprintf(opt.port, sizeof(opt.port), "443");
	if (*e == '/' && opt.path.toks == NULL)
		tmpl_parse(&opt.path, e);
}

static void
load_ident(struct ident *id, const char *cert, const char *key, const char *name)
{
	FILE *f;
	X509 *x;

	if ((f = fopen(cert, "r")) == NULL)
		die("cannot open %s", cert);
	if ((id->cert = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		die("no certificate in %s", cert);
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (id->chain == NULL && (id->chain = sk_X509_new_null()) == NULL)
			die("out of memory");
		sk_X509_push(id->chain, x);
	}
	ERR_clear_error();
	fclose(f);
	if ((f = fopen(key, "r")) == NULL)
		die("cannot open %s", key);
	if ((id->key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
		die("no private key in %s", key);
	fclose(f);
	if (X509_check_private_key(id->cert, id->key) != 1)
		die("%s does not match %s", key, cert);
	snprintf(id->id, sizeof(id->id), "%s", name ? name : "");
}

static void
load_idents(void)
{
	if (opt.idfile != NULL) {
		struct lines l;

		read_lines(opt.idfile, &l);
		if ((opt.idents = calloc(l.n, sizeof(*opt.idents))) == NULL)
			die("out of memory");
		for (size_t i = 0; i < l.n; i++) {
			char *save = NULL, *cert, *key, *name;

			cert = strtok_r(l.v[i], " \t", &save);
			key = strtok_r(NULL, " \t", &save);
			name = strtok_r(NULL, " \t", &save);
			if (cert == NULL || key == NULL)
				die("%s line %zu: want CERT KEY [ID]", opt.idfile, i + 1);
			load_ident(&opt.idents[i], cert, key, name);
		}
		opt.nidents = l.n;
	} else if (opt.cert != NULL) {
		if ((opt.idents = calloc(1, sizeof(*opt.idents))) == NULL)
			die("out of memory");
		load_ident(&opt.idents[0], opt.cert, opt.key ? opt.key : opt.cert,
		    opt.id);
		opt.nidents = 1;
	}
}

static void
setup_tls(void)
{
	if ((opt.ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die("SSL_CTX_new");
	SSL_CTX_set_mode(opt.ctx,
	    SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	        SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(opt.ctx, SSL_SESS_CACHE_OFF);
	if (opt.cafile != NULL) {
		X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(opt.ctx);

		if (SSL_CTX_load_verify_locations(opt.ctx, opt.cafile, NULL) != 1)
			die("cannot load %s", opt.cafile);
		SSL_CTX_set_verify(opt.ctx, SSL_VERIFY_PEER, NULL);
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, opt.host) != 1)
			X509_VERIFY_PARAM_set1_host(vp, opt.host, 0);
	} else {
		SSL_CTX_set_verify(opt.ctx, SSL_VERIFY_NONE, NULL);
	}
}

static void
resolve(void)
{
	struct addrinfo hints, *ai = NULL;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(opt.host, opt.port, &hints, &ai)) != 0)
		die("%s: %s", opt.host, gai_strerror(rc));
	memcpy(&opt.addr, ai->ai_addr, ai->ai_addrlen);
	opt.addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return ((x > y) - (x < y));
}

static double
pct(const uint32_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return (0);
	i = (size_t)(p / 100.0 * (double)n);
	if (i >= n)
		i = n - 1;
	return (v[i] / 1000.0);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen [options] https://HOST:PORT[/PATH]\n"
	    "  -c N            connections (16)            -t N   threads (2)\n"
	    "  -d SEC          measured duration (10)      -w SEC warm-up, not counted (2)\n"
	    "  -m METHOD       GET (default), PUT, POST, HEAD, ...\n"
	    "  -P TEMPLATE     path template (overrides the URL's path)\n"
	    "  -p FILE         a file of paths, one per request in turn\n"
	    "  -b FILE         raw request body (any size)\n"
	    "  -B TEMPLATE     request body template      -T FILE  body template from a file\n"
	    "  -L FILE         lines for {line}, each used once (--wrap to reuse)\n"
	    "  -H 'K: V'       extra header (repeatable)   -y TYPE Content-Type of the body\n"
	    "  --cacert FILE   verify the server           --cert FILE --key FILE  client cert\n"
	    "  --id ID         {id} for --cert             -I FILE lines 'CERT KEY ID', conn i uses i %% n\n"
	    "  --time-base EPOCH --time-step SEC            {t} = base + {i} * step (now+1d, 60)\n"
	    "  -e STRING       count 2xx responses whose body lacks STRING (mismatch=)\n"
	    "  -v              verbose errors\n"
	    "templates (path, body, -H): {n} {n:K} {c} {i} {id} {t} {line} {line:K}\n"
	    "  {line:K}: field K (from 1, tab-separated) of the request's one -L line\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"cacert", required_argument, NULL, 1},
	    {"cert", required_argument, NULL, 2},
	    {"key", required_argument, NULL, 3},
	    {"id", required_argument, NULL, 4},
	    {"time-base", required_argument, NULL, 5},
	    {"time-step", required_argument, NULL, 6},
	    {"wrap", no_argument, NULL, 7},
	    {NULL, 0, NULL, 0},
	};
	struct dbuf hdrs = {0};
	struct worker *ws;
	struct stats tot;
	uint32_t *all;
	size_t nall = 0, k;
	uint64_t ok = 0, non2xx = 0, nreq = 0;
	struct rusage ru;
	double secs, cpu, wall;
	int ch;

	opt.conns = 16;
	opt.threads = 2;
	opt.duration = 10;
	opt.warmup = 2;
	opt.method = "GET";
	opt.time_base = (int64_t)time(NULL) + 86400;
	opt.time_step = 60;
	while ((ch = getopt_long(argc, argv, "c:t:d:w:m:P:p:b:B:T:L:H:y:I:ve:", lopts,
	            NULL)) != -1) {
		switch (ch) {
		case 'c':
			opt.conns = (int)strtol(optarg, NULL, 10);
			break;
		case 't':
			opt.threads = (int)strtol(optarg, NULL, 10);
			break;
		case 'd':
			opt.duration = strtod(optarg, NULL);
			break;
		case 'w':
			opt.warmup = strtod(optarg, NULL);
			break;
		case 'm':
			opt.method = optarg;
			break;
		case 'P':
			tmpl_parse(&opt.path, optarg);
			break;
		case 'p':
			read_lines(optarg, &opt.paths);
			break;
		case 'b':
			opt.body_file = optarg;
			opt.body = map_file(optarg, &opt.body_len);
			break;
		case 'B':
			tmpl_parse(&opt.body_tmpl, optarg);
			opt.has_body_tmpl = 1;
			break;
		case 'T': {
			size_t n;
			const unsigned char *p = map_file(optarg, &n);
			char *s = malloc(n + 1);

			if (s == NULL)
				die("out of memory");
			memcpy(s, p, n);
			while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
				n--;
			s[n] = '\0';
			tmpl_parse(&opt.body_tmpl, s);
			opt.has_body_tmpl = 1;
			break;
		}
		case 'L':
			read_lines(optarg, &opt.linefile);
			break;
		case 'H':
			dbuf_add(&hdrs, optarg, strlen(optarg));
			dbuf_add(&hdrs, "\r\n", 2);
			break;
		case 'y':
			opt.content_type = optarg;
			break;
		case 'I':
			opt.idfile = optarg;
			break;
		case 'v':
			opt.verbose = 1;
			break;
		case 'e':
			opt.expect = optarg;
			break;
		case 1:
			opt.cafile = optarg;
			break;
		case 2:
			opt.cert = optarg;
			break;
		case 3:
			opt.key = optarg;
			break;
		case 4:
			opt.id = optarg;
			break;
		case 5:
			opt.time_base = strtoll(optarg, NULL, 10);
			break;
		case 6:
			opt.time_step = strtoll(optarg, NULL, 10);
			break;
		case 7:
			opt.lines_wrap = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || opt.conns < 1 || opt.threads < 1 || opt.duration <= 0 ||
	    opt.warmup < 0)
		usage();
	if (opt.threads > opt.conns)
		opt.threads = opt.conns;
	parse_url(argv[optind]);
	if (opt.path.toks == NULL)
		tmpl_parse(&opt.path, "/");
	if (opt.path.is_static && opt.path.ntoks == 0)
		tmpl_parse(&opt.path, "/");
	if (opt.duration < 10)
		fprintf(stderr,
		    "loadgen: note: a duration under 10 s is a smoke test, not a figure\n");
	opt.headers = hdrs.p;
	opt.headers_len = hdrs.len;
	if (opt.headers_len > 0)
		tmpl_parse(&opt.hdr_tmpl, opt.headers);
	opt.head = strcmp(opt.method, "HEAD") == 0;
	signal(SIGPIPE, SIG_IGN);
	resolve();
	setup_tls();
	load_idents();

	if ((ws = calloc((size_t)opt.threads, sizeof(*ws))) == NULL)
		die("out of memory");
	g_t0 = now_ns();
	g_t_warm = g_t0 + (uint64_t)(opt.warmup * 1e9);
	g_t_end = g_t_warm + (uint64_t)(opt.duration * 1e9);
	for (int t = 0, ci = 0; t < opt.threads; t++) {
		struct worker *w = &ws[t];

		w->id = t;
		w->nconns = opt.conns / opt.threads + (t < opt.conns % opt.threads);
		if ((w->conns = calloc((size_t)w->nconns, sizeof(*w->conns))) == NULL ||
		    (w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
			die("out of memory");
		for (int i = 0; i < w->nconns; i++, ci++) {
			struct conn *c = &w->conns[i];

			c->idx = ci;
			c->fd = -1;
			c->st = CS_IDLE;
			c->ident = opt.nidents ? &opt.idents[(size_t)ci % opt.nidents]
			                       : NULL;
		}
	}
	for (int t = 0; t < opt.threads; t++)
		if (pthread_create(&ws[t].th, NULL, worker_main, &ws[t]) != 0)
			die("pthread_create");
	for (int t = 0; t < opt.threads; t++)
		pthread_join(ws[t].th, NULL);

	memset(&tot, 0, sizeof(tot));
	for (int t = 0; t < opt.threads; t++)
		nall += ws[t].st.nlat;
	if ((all = malloc((nall + 1) * sizeof(*all))) == NULL)
		die("out of memory");
	nall = 0;
	for (int t = 0; t < opt.threads; t++) {
		struct stats *s = &ws[t].st;

		memcpy(all + nall, s->lat_us, s->nlat * sizeof(*all));
		nall += s->nlat;
		for (k = 0; k < 600; k++)
			tot.status[k] += s->status[k];
		tot.err_connect += s->err_connect;
		tot.err_tls += s->err_tls;
		tot.err_io += s->err_io;
		tot.err_parse += s->err_parse;
		tot.reconnects += s->reconnects;
		tot.mismatch += s->mismatch;
		tot.bytes_sent += s->bytes_sent;
		tot.bytes_recv += s->bytes_recv;
	}
	qsort(all, nall, sizeof(*all), cmp_u32);
	secs = opt.duration;
	if (atomic_load(&g_stop)) {
		uint64_t at = atomic_load(&g_stop_at);

		secs = at > g_t_warm ? (double)(at - g_t_warm) / 1e9 : 0;
		fprintf(stderr,
		    "loadgen: the -L lines ran out after %.2f s of the window\n", secs);
	}
	for (k = 0; k < 600; k++) {
		nreq += tot.status[k];
		if (k >= 200 && k < 300)
			ok += tot.status[k];
		else
			non2xx += tot.status[k];
	}
	if (secs <= 0)
		secs = 1e-9;
	printf("%s %s%s: %d connections, %d threads, %.1f s (+%.1f s warm-up)\n",
	    opt.method, argv[optind], opt.path.is_static ? "" : " (templated path)",
	    opt.conns, opt.threads, secs, opt.warmup);
	printf("  requests     %" PRIu64 " (%.1f/s)\n", nreq, (double)nreq / secs);
	printf("  latency ms   p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n",
	    pct(all, nall, 50), pct(all, nall, 90), pct(all, nall, 99),
	    nall ? all[nall - 1] / 1000.0 : 0);
	printf("  status      ");
	for (k = 0; k < 600; k++)
		if (tot.status[k])
			printf(" %zu=%" PRIu64, k, tot.status[k]);
	printf("\n  errors       connect %" PRIu64 ", tls %" PRIu64 ", io %" PRIu64
	       ", parse %" PRIu64 "; reconnects %" PRIu64 "\n",
	    tot.err_connect, tot.err_tls, tot.err_io, tot.err_parse, tot.reconnects);
	if (opt.expect != NULL)
		printf("  expect       %" PRIu64 " of the 2xx bodies lack \"%s\"\n",
		    tot.mismatch, opt.expect);
	printf("  bytes/s      sent %.2f MB/s, received %.2f MB/s\n",
	    (double)tot.bytes_sent / secs / 1e6, (double)tot.bytes_recv / secs / 1e6);
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	wall = (double)(now_ns() - g_t0) / 1e9;
	printf("  loadgen      cpu %.2f s in %.2f s (%.0f%% of one core), max RSS %ld kB\n",
	    cpu, wall, wall > 0 ? 100 * cpu / wall : 0, ru.ru_maxrss);
	if (g_sample_status != 0)
		printf("  first non-2xx (%d): %s\n", g_sample_status, g_sample);
	printf("RESULT rps=%.1f ok_rps=%.1f good_rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f"
	       " requests=%" PRIu64 " ok=%" PRIu64 " non2xx=%" PRIu64 " errors=%" PRIu64
	       " sent_MBps=%.2f recv_MBps=%.2f secs=%.2f lg_cpu_pct=%.0f mismatch=%" PRIu64
	       "\n",
	    (double)nreq / secs, (double)ok / secs,
	    (double)(ok - (tot.mismatch < ok ? tot.mismatch : ok)) / secs,
	    pct(all, nall, 50), pct(all, nall, 90), pct(all, nall, 99),
	    nall ? all[nall - 1] / 1000.0 : 0, nreq, ok, non2xx,
	    tot.err_connect + tot.err_tls + tot.err_io + tot.err_parse,
	    (double)tot.bytes_sent / secs / 1e6, (double)tot.bytes_recv / secs / 1e6,
	    secs, wall > 0 ? 100 * cpu / wall : 0, tot.mismatch);
	return (nreq > 0 ? 0 : 1);
}
