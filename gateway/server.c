/* The core's server: HTTPS listeners (libmicrohttpd on GnuTLS, one thread
 * per connection, so that a handler may block on an RPC or a stream without
 * stalling others), all with the same TLS identity, client-certificate
 * request, limits and watchdog; and the request handler of route-table
 * fronts (struct gw_front): route, authentication, body, handler. */
#include "gateway/gw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include "common/audit.h"
#include "common/log.h"
#include "common/util.h"
#include "gateway/conn.h"
#include "gateway/path.h"

/* Connections held at once (MANAGER_MAX_CONNECTIONS), each with its thread:
 * an idle one costs a descriptor, a thread and about 33 kB of RSS (TLS
 * session, touched stack pages; tests/e2e/badinput_idle.sh prints it). */
#define GW_CONN_LIMIT_DEFAULT 12000
#define GW_CONN_LIMIT_MIN 16
#define GW_CONN_LIMIT_MAX 1000000
/* Descriptors kept for everything but client sockets: the listening socket,
 * Redis (health checks, the auth cache, two per event stream), nng pipes,
 * logs. The connection limit stays this far below RLIMIT_NOFILE. */
#define GW_FD_RESERVE 512
/* Per-connection thread stack. The deepest path is a request body nested to
 * jansson's depth limit (2048), parsed and freed recursively: about 165 KiB
 * measured, so 128 KiB overflowed in the ASan build while 256 KiB passed
 * its e2e tests; 512 KiB leaves twice that. glibc's default (8 MiB, from
 * ulimit -s) costs no RSS, only address space: 86 GB of VmSize at 10,000
 * connections (against 9 GB now), which strict overcommit refuses. */
#define GW_THREAD_STACK (512u * 1024)
#define GW_CONN_TIMEOUT_S 60

struct gw_listener {
	struct MHD_Daemon *daemon;
	char name[32];
	int port;
};

/* gw_server_init's: the identity every listener presents (not owned) and
 * the connection limit each gets. */
static const char *srv_cert_pem, *srv_key_pem;
static unsigned int srv_conn_limit;

int64_t
gw_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* The front that owns url: the one with the longest matching prefix, else
 * the one without a prefix. */
static const struct gw_front *
front_find(const struct gw_front *const *fronts, const char *url)
{
	const struct gw_front *best = NULL;
	size_t best_len = 0;

	for (; *fronts != NULL; fronts++) {
		const char *p = (*fronts)->prefix;
		size_t n = p != NULL ? strlen(p) : 0;

		if (p != NULL && strncmp(url, p, n) != 0)
			continue;
		if (best == NULL || n > best_len) {
			best = *fronts;
			best_len = n;
		}
	}
	return (best);
}

/* Finds the route among r->front's tables; *method_mismatch when the path
 * exists with another method, whose methods then are in r->allow. */
static const struct gw_route *
route_find(struct gw_req *r, int *bad_encoding, int *method_mismatch)
{
	int idx = 0;

	*bad_encoding = *method_mismatch = 0;
	if (r->front == NULL)
		return (NULL);
	for (const struct gw_route *const *t = r->front->tables; *t != NULL; t++) {
		for (const struct gw_route *rt = *t; rt->method != NULL; rt++, idx++) {
			int m = gw_route_match(rt->pattern, r->url, r);

			if (m < 0) {
				*bad_encoding = 1;
				continue;
			}
			if (m == 0)
				continue;
			if (strcmp(rt->method, r->method) != 0) {
				*method_mismatch = 1;
				r->allow |= gw_method_bit(rt->method);
				continue;
			}
			r->route_index = idx;
			return (rt);
		}
	}
	return (NULL);
}

static size_t
keep_raw(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return (strlen(s));
}

static void
make_request_id(struct gw_req *r)
{
	const char *in = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    "X-Request-Id");
	size_t n;

	char sfx[17];

	if (in != NULL && (n = strlen(in)) > 0 && n < sizeof(r->request_id) &&
	    strspn(in,
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	        "0123456789-_.") == n) {
		memcpy(r->request_id, in, n + 1);
		/* Two requests with the same X-Request-Id are still two. Without
		 * random bits the envelope gets no id at all: the services then
		 * keep no replay record rather than one two requests could share. */
		if (mgr_random_hex(8, sfx, sizeof(sfx)) == MGR_OK)
			snprintf(r->rpc_id, sizeof(r->rpc_id), "%s~%s", r->request_id,
			    sfx);
		else
			r->rpc_id[0] = '\0';
		return;
	}
	memcpy(r->request_id, "req_", 4);
	if (mgr_random_hex(12, r->request_id + 4, sizeof(r->request_id) - 4) == MGR_OK)
		memcpy(r->rpc_id, r->request_id, sizeof(r->request_id));
	else
		r->rpc_id[0] = '\0';
}

static int
is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return (0);
	return (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Header names are RFC 9110 tokens and values hold no control character
 * but HTAB: libmicrohttpd lets spaces and slashes in names and control
 * bytes in values through (header smuggling past a proxy, log forging). */
static enum MHD_Result
header_check(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
    const char *value, size_t value_size)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
	                            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	int *bad = cls;

	(void)kind;
	if (key_size == 0 || strlen(key) != key_size || strspn(key, tchar) != key_size) {
		*bad = 1;
		return (MHD_NO);
	}
	for (size_t i = 0; value != NULL && i < value_size; i++) {
		unsigned char c = (unsigned char)value[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*bad = 1;
			return (MHD_NO);
		}
	}
	return (MHD_YES);
}

/* Query arguments come raw (keep_raw): refuse a badly encoded one here, so
 * that gw_query's NULL means "absent" and never "garbled". */
static enum MHD_Result
query_check(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
    const char *value, size_t value_size)
{
	int *bad = cls;

	(void)kind;
	if (!gw_pct_valid(key, key_size, 1) ||
	    (value != NULL && !gw_pct_valid(value, value_size, 1))) {
		*bad = 1;
		return (MHD_NO);
	}
	return (MHD_YES);
}

mgr_err
gw_request_wellformed(struct gw_req *r)
{
	int bad_hdr = 0, bad_query = 0;

	MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, header_check, &bad_hdr);
	MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, query_check,
	    &bad_query);
	if (bad_hdr)
		return (gw_fail(r, MGR_EINVAL, "malformed header"));
	if (bad_query)
		return (gw_fail(r, MGR_EINVAL, "badly percent-encoded query"));
	return (MGR_OK);
}

/* Checks that come before any body byte is read. */
static mgr_err
request_begin(struct gw_req *r)
{
	const struct gw_route *rt = r->route;
	const char *cl;
	mgr_err rv;

	if ((rv = gw_authenticate(r)) != MGR_OK)
		return (rv);
	if (rt->body == GW_BODY_RAW) {
		cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			int64_t n;

			if (mgr_parse_i64(cl, &n) == MGR_OK && n > (int64_t)GW_JSON_MAX)
				return (gw_fail(r, MGR_ETOOBIG, "body over %u bytes",
				    GW_JSON_MAX));
		}
	}
	if (rt->body == GW_BODY_JSON) {
		cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			int64_t n;

			if (mgr_parse_i64(cl, &n) == MGR_OK && n > (int64_t)GW_JSON_MAX)
				return (gw_fail(r, MGR_ETOOBIG, "body over %u bytes",
				    GW_JSON_MAX));
		}
		/* Refuse a wrong content type now, before any body byte: an
		 * error queued while the body is being uploaded makes MHD
		 * close the connection without an answer. */
		if (((cl != NULL && strcmp(cl, "0") != 0) ||
		        MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		            MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL) &&
		    !is_json_type(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
		        MHD_HTTP_HEADER_CONTENT_TYPE)))
			return (gw_fail(r, MGR_EMEDIA,
			    "Content-Type must be application/json"));
	}
	if (rt->body == GW_BODY_STREAM && rt->upload != NULL)
		return (rt->upload(r, NULL, 0));
	return (MGR_OK);
}

static mgr_err
request_body(struct gw_req *r, const char *data, size_t len)
{
	const char *ct;
	mgr_err rv;

	switch (r->route->body) {
	case GW_BODY_JSON:
		if (r->body.len == 0) {
			ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
			    MHD_HTTP_HEADER_CONTENT_TYPE);
			if (!is_json_type(ct))
				return (gw_fail(r, MGR_EMEDIA,
				    "Content-Type must be application/json"));
		}
		if ((rv = mgr_buf_add(&r->body, data, len)) == MGR_ETOOBIG)
			return (gw_fail(r, rv, "body over %u bytes", GW_JSON_MAX));
		return (rv);
	case GW_BODY_RAW:
		if ((rv = mgr_buf_add(&r->body, data, len)) == MGR_ETOOBIG)
			return (gw_fail(r, rv, "body over %u bytes", GW_JSON_MAX));
		return (rv);
	case GW_BODY_STREAM:
		return (r->route->upload(r, data, len));
	default:
		return (MGR_OK);
	}
}

static mgr_err
request_end(struct gw_req *r)
{
	json_error_t jerr;

	if (r->route->body == GW_BODY_JSON) {
		if (r->body.len == 0) {
			r->json = json_object();
		} else {
			r->json = json_loadb(r->body.data, r->body.len,
			    JSON_REJECT_DUPLICATES, &jerr);
			if (r->json == NULL)
				/* Position only: jansson's text quotes the input near
				 * the error, which may be a password. */
				return (gw_fail(r, MGR_EINVAL,
				    "malformed JSON at line %d, column %d", jerr.line,
				    jerr.column));
			if (!json_is_object(r->json))
				return (gw_fail(r, MGR_EINVAL,
				    "the body must be a JSON object"));
		}
	}
	return (r->route->handle(r));
}

/*
 * Whether an error found before the body (authentication, route, headers,
 * size) is answered once the body is in rather than at once. Answered at
 * once, MHD closes the connection with body bytes unread, the kernel resets
 * it, and a client still writing its body gets EPIPE and never reads the
 * answer (curl: "Send failure", status 000) -- seen for a 64 KiB + 1 byte
 * body on a loaded machine. Answered after the body, the client reads it
 * and the connection is kept alive. A body above GW_DRAIN_MAX, or one the
 * client holds back until "100 Continue", is not worth reading: answered
 * at once.
 */
static int
answer_after_body(struct gw_req *r)
{
	const char *cl, *expect;
	int64_t n;

	expect = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_EXPECT);
	if (expect != NULL && strcasecmp(expect, "100-continue") == 0)
		return (0);
	cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl == NULL)
		return (1); /* no body, or chunked: capped while drained */
	return (mgr_parse_i64(cl, &n) == MGR_OK && n >= 0 && n <= (int64_t)GW_DRAIN_MAX);
}

void
gw_req_init(struct gw_req *r, struct MHD_Connection *conn, const char *method,
    const char *url)
{
	r->conn = conn;
	mgr__caller__init(&r->caller); /* a packable message */
	r->caller.id = (char *)"";
	r->caller.cert_serial = (char *)"";
	r->caller.role = (char *)"";
	r->url = url;
	r->method = method;
	r->start_us = gw_now_us();
	r->route_index = -1;
	r->bytes = -1;
	gw_conn_busy(conn, 1);
	mgr_buf_init(&r->body, GW_JSON_MAX);
	make_request_id(r);
}

void
gw_req_fini(struct gw_req *r)
{
	gw_conn_busy(r->conn, 0);
	json_decref(r->json);
	r->json = NULL;
	mgr_buf_free(&r->body);
	for (int i = 0; i < r->nquery; i++)
		free(r->query[i]);
	r->nquery = 0;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size,
    void **con_cls)
{
	struct gw_req *r = *con_cls;
	mgr_err rv;

	(void)version;
	if (r == NULL) {
		int bad_enc, bad_hdr, bad_query, wrong_method;

		if ((r = calloc(1, sizeof(*r))) == NULL)
			return (MHD_NO);
		*con_cls = r;
		gw_req_init(r, conn, method, url);
		r->front = front_find(cls, url);
		r->route = route_find(r, &bad_enc, &wrong_method);
		bad_hdr = bad_query = 0;
		MHD_get_connection_values_n(conn, MHD_HEADER_KIND, header_check,
		    &bad_hdr);
		MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, query_check,
		    &bad_query);
		if (bad_hdr) {
			rv = gw_fail(r, MGR_EINVAL, "malformed header");
		} else if (bad_query) {
			rv = gw_fail(r, MGR_EINVAL, "badly percent-encoded query");
		} else if (r->route == NULL) {
			if (bad_enc)
				rv = gw_fail(r, MGR_EINVAL, "badly percent-encoded path");
			else if (wrong_method)
				rv = gw_fail(r, MGR_EMETHOD, "%s is not allowed here",
				    method);
			else
				rv = gw_fail(r, MGR_ENOTFOUND, "no such route");
		} else {
			rv = request_begin(r);
		}
		if (rv != MGR_OK) {
			r->failed = (int)rv;
			r->drain_capped = 1;
			if (!answer_after_body(r))
				gw_reply_error(r, rv, r->errmsg);
		}
		return (MHD_YES);
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (r->failed || r->responded) {
			/* Drain the rest of the body; a refused JSON body or one
			 * refused before it began only up to GW_DRAIN_MAX, a
			 * refused object upload up to the largest object more
			 * (then the connection is dropped unanswered). */
			r->drained += n;
			if (!r->responded &&
			    r->drained > (r->drain_capped
			                         ? (uint64_t)GW_DRAIN_MAX
			                         : (uint64_t)gw.cfg.max_object_bytes))
				return (MHD_NO);
			return (MHD_YES);
		}
		/* A route without a body ignores one, up to GW_DRAIN_MAX: past
		 * that the connection is dropped, not read for ever. */
		if (r->route->body == GW_BODY_NONE) {
			r->drained += n;
			return (r->drained > GW_DRAIN_MAX ? MHD_NO : MHD_YES);
		}
		/* A reply queued in the middle of a body stalls MHD (0.9.75)
		 * until the connection times out: keep the error, drain the
		 * body and reply once it is all in. */
		if ((rv = request_body(r, upload_data, n)) != MGR_OK) {
			r->failed = (int)rv;
			r->drain_capped = r->route->body != GW_BODY_STREAM;
		}
		return (MHD_YES);
	}
	if (r->failed && !r->responded)
		gw_reply_error(r, (mgr_err)r->failed, r->errmsg);
	if (r->failed || r->responded)
		return (MHD_YES);
	rv = request_end(r);
	if (rv != MGR_OK || !r->responded) {
		if (rv == MGR_OK)
			rv = gw_fail(r, MGR_EINTERNAL, "no response");
		gw_reply_error(r, rv, r->errmsg);
	}
	return (MHD_YES);
}

/* The access-log line of a request (API.md "Operations (v2)"): the route's
 * template, never the URL (object keys and query strings are the owner's
 * data), and no credential. Fields on the stack; one write by the logger. */
static void
access_log(const struct gw_req *r, int status, int64_t dur_us)
{
	const char *route = r->route != NULL ? r->route->pattern : "-";
	struct mgr_log_field f[] = {
	    MGR_LF_S("method", r->method),
	    MGR_LF_S("route", route),
	    MGR_LF_I("status", status),
	    MGR_LF_D("duration_ms", (double)dur_us / 1000.0),
	    MGR_LF_S("caller_kind", audit_caller_kind(&r->caller)),
	    MGR_LF_S("account_id",
	        r->caller.kind != MGR__CALLER__KIND__NONE && r->caller_id[0] != '\0'
	            ? r->caller_id
	            : NULL),
	    MGR_LF_I("bytes", r->bytes),
	};
	size_t nf = sizeof(f) / sizeof(f[0]);

	if (!mgr_log_enabled(MGR_LOG_INFO))
		return;
	if (r->bytes < 0)
		nf--; /* bytes, the last, not known */
	mgr_log_fields(MGR_LOG_INFO, r->request_id, f, nf, "access");
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct gw_req *r = *con_cls;
	int64_t dur_us;
	int status;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r == NULL)
		return;
	dur_us = gw_now_us() - r->start_us;
	status = r->responded ? r->status : 499;
	gw_metrics_request(r->route_index,
	    r->route != NULL ? r->route->pattern : "unmatched", status, dur_us);
	access_log(r, status, dur_us);
	if (r->route != NULL && r->route->cleanup != NULL)
		r->route->cleanup(r);
	gw_req_fini(r);
	free(r);
	*con_cls = NULL;
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug(NULL, "mhd: %s", line);
}

/* Reads a /proc/sys number; -1 when unreadable. */
static int64_t
proc_number(const char *path)
{
	FILE *f;
	char line[64];
	int64_t n = -1;

	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	if (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (mgr_parse_i64(line, &n) != MGR_OK)
			n = -1;
	}
	fclose(f);
	return (n);
}

/* MANAGER_MAX_CONNECTIONS, with RLIMIT_NOFILE raised to its hard limit and
 * the result capped to what that allows. */
static mgr_err
conn_limit(unsigned int *out)
{
	const char *v = getenv("MANAGER_MAX_CONNECTIONS");
	struct rlimit rl;
	int64_t want = GW_CONN_LIMIT_DEFAULT, fds, threads, pids, maps;

	if (v != NULL && *v != '\0' &&
	    (mgr_parse_i64(v, &want) != MGR_OK || want < GW_CONN_LIMIT_MIN ||
	        want > GW_CONN_LIMIT_MAX)) {
		log_error(NULL, "MANAGER_MAX_CONNECTIONS must be a number from %d to %d",
		    GW_CONN_LIMIT_MIN, GW_CONN_LIMIT_MAX);
		return (MGR_EINVAL);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		log_error(NULL, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
		return (MGR_EINTERNAL);
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			log_warn(NULL,
			    "cannot raise the open files limit from %llu to "
			    "%llu: %s",
			    (unsigned long long)was, (unsigned long long)rl.rlim_max,
			    strerror(errno));
			rl.rlim_cur = was;
		}
	}
	fds = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)INT64_MAX / 2
	    ? INT64_MAX / 2
	    : (int64_t)rl.rlim_cur;
	if (fds - GW_FD_RESERVE < want) {
		int64_t cap = fds - GW_FD_RESERVE;

		if (cap < GW_CONN_LIMIT_MIN)
			cap = GW_CONN_LIMIT_MIN;
		log_warn(NULL, "open files limit %lld allows %lld connections, not %lld",
		    (long long)fds, (long long)cap, (long long)want);
		want = cap;
	}
	/* One thread per connection: system-wide limits, not capped here (they
	 * are shared with every other process), only reported. A connection
	 * also takes three memory maps (stack, its guard page, libmicrohttpd's
	 * memory pool): 30,186 measured at 10,000. */
	threads = proc_number("/proc/sys/kernel/threads-max");
	pids = proc_number("/proc/sys/kernel/pid_max");
	maps = proc_number("/proc/sys/vm/max_map_count");
	if ((threads >= 0 && threads < want) || (pids >= 0 && pids < want))
		log_warn(NULL,
		    "kernel.threads-max %lld / kernel.pid_max %lld are "
		    "below the connection limit %lld (a thread each)",
		    (long long)threads, (long long)pids, (long long)want);
	if (maps >= 0 && maps < 3 * want + 1024)
		log_warn(NULL,
		    "vm.max_map_count %lld is below the %lld maps that "
		    "%lld connections take (3 each)",
		    (long long)maps, (long long)(3 * want + 1024), (long long)want);
	log_info(NULL,
	    "connection limit %lld (open files limit %lld, "
	    "threads-max %lld, pid_max %lld, max_map_count %lld)",
	    (long long)want, (long long)fds, (long long)threads, (long long)pids,
	    (long long)maps);
	*out = (unsigned int)want;
	return (MGR_OK);
}

void
gw_route_handler(const struct gw_front *const *fronts, struct gw_handler *out)
{
	out->request = on_request;
	out->completed = on_completed;
	out->cls = (void *)fronts;
}

mgr_err
gw_server_init(const char *cert_pem, const char *key_pem)
{
	mgr_err rv;

	if ((rv = conn_limit(&srv_conn_limit)) != MGR_OK)
		return (rv);
	if (gw_conn_watchdog_start(GW_CONN_TIMEOUT_S) != MGR_OK)
		return (MGR_EINTERNAL);
	srv_cert_pem = cert_pem;
	srv_key_pem = key_pem;
	return (MGR_OK);
}

void
gw_server_fini(void)
{
	gw_conn_watchdog_stop();
	srv_cert_pem = srv_key_pem = NULL;
}

mgr_err
gw_listen(const char *name, int port, const struct gw_handler *h,
    struct gw_listener **out)
{
	struct addrinfo hints, *ai = NULL;
	struct gw_listener *l;
	char portstr[16];
	unsigned int flags;

	if (srv_cert_pem == NULL || srv_key_pem == NULL)
		return (MGR_EINTERNAL); /* gw_server_init first */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if (getaddrinfo(gw.cfg.bind, portstr, &hints, &ai) != 0 || ai == NULL) {
		log_error(NULL, "MANAGER_BIND %s is not an IP address", gw.cfg.bind);
		return (MGR_EINVAL);
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		freeaddrinfo(ai);
		return (MGR_ENOMEM);
	}
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->port = port;
	/* poll(), not select(): select() refuses descriptors past FD_SETSIZE
	 * (1024), far below the connection limit. */
	flags = MHD_USE_TLS | MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	l->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, h->request,
	    h->cls, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_HTTPS_MEM_CERT,
	    srv_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, srv_key_pem,
	    MHD_OPTION_HTTPS_MEM_TRUST, gw.ca_pem, /* ask for client certificates */
	    MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1",
	    MHD_OPTION_NOTIFY_COMPLETED, h->completed, h->cls,
	    MHD_OPTION_NOTIFY_CONNECTION, gw_conn_notify, NULL,
	    MHD_OPTION_UNESCAPE_CALLBACK, keep_raw, NULL, MHD_OPTION_CONNECTION_LIMIT,
	    srv_conn_limit, MHD_OPTION_THREAD_STACK_SIZE, (size_t)GW_THREAD_STACK,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)GW_CONN_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
	    /* 400 for HTTP/1.1 without Host, spaces in header names or URLs. */
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
	    NULL, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (l->daemon == NULL) {
		log_error(NULL, "cannot start HTTPS (%s) on %s:%d", name, gw.cfg.bind,
		    port);
		free(l);
		return (MGR_EINTERNAL);
	}
	*out = l;
	return (MGR_OK);
}

void
gw_listener_stop(struct gw_listener *l)
{
	if (l == NULL)
		return;
	MHD_stop_daemon(l->daemon);
	free(l);
}
