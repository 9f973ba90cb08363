/* Redis helper. A redisContext is not thread-safe: kv_ctx() hands each thread
 * its own, connecting (with retry) on first use and again after an error. */
#ifndef MGR_COMMON_KV_H
#define MGR_COMMON_KV_H

#include <stdarg.h>
#include <hiredis/hiredis.h>
#include "common/err.h"

/* MANAGER_REDIS_URL, parsed: either a TCP address (host, port) or a unix
 * socket (path, host empty). user and password are percent-decoded. */
struct kv_url {
	char host[256];
	int port;
	char path[108]; /* sizeof(sun_path) */
	int db;
	char user[128];
	char password[256];
};

/* redis://[[user]:password@]host[:port][/db] (host may be [v6]) or
 * unix:///path[?db=N][&password=...][&user=...]; db 0..1000. */
mgr_err kv_url_parse(const char *url, struct kv_url *out);

/* Sets the URL every thread connects to. Call once at start. */
mgr_err kv_init(const char *url);

/* A fresh connection of the caller's own (for SUBSCRIBE, blocking reads,
 * threads that are not ours, pools). Close with kv_conn_close. timeout_ms
 * 0 means blocking reads without timeout. */
mgr_err kv_connect(int timeout_ms, redisContext **out);
/* kv_cmd on such a connection (MGR_EUNAVAIL: it broke; close it). */
mgr_err kv_conn_cmd(redisContext *c, redisReply **reply, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
mgr_err kv_conn_vcmd(redisContext *c, redisReply **reply, const char *fmt, va_list ap);
/* After SUBSCRIBE: the next pushed message already read (*msg NULL when
 * none is complete yet), reading what the socket has first when read.
 * MGR_EUNAVAIL: the connection broke. */
mgr_err kv_conn_pushed(redisContext *c, int read, redisReply **msg);
/* The socket, to poll() for pushed messages. */
int kv_conn_fd(const redisContext *c);
void kv_conn_close(redisContext *c); /* NULL is fine */

/* This thread's context, connected; NULL-free on success. */
mgr_err kv_ctx(redisContext **out);

/* Runs one command on this thread's context. On success *reply is the top
 * reply (caller frees it with freeReplyObject). Connection errors give
 * MGR_EUNAVAIL and drop the context so the next call reconnects; a Redis
 * error reply gives MGR_EINTERNAL (logged) unless it is a script's
 * error whose message starts with one of our codes ("CONFLICT", ...). */
mgr_err kv_cmd(redisReply **reply, const char *fmt, ...);
mgr_err kv_cmdargv(redisReply **reply, int argc, const char **argv,
    const size_t *argvlen);

/* Evaluates a Lua script by SHA (loading it on NOSCRIPT). */
mgr_err kv_eval(redisReply **reply, const char *script, int nkeys, int argc,
    const char **argv, const size_t *argvlen);

/* One command of a kv_pipeline: argc arguments, argvlen NULL for strlen. */
struct kv_pipe_cmd {
	int argc;
	const char *const *argv;
	const size_t *argvlen;
};

/* Arguments of this many bytes or more go from the caller's memory to the
 * socket as they are (hiredis copies a command twice while formatting it). */
#define KV_BIG_ARG 4096

/* Sends n commands in one write and reads their n replies into replies[]
 * (free each with freeReplyObject). Connection errors give MGR_EUNAVAIL (no
 * replies kept) and drop the context, as kv_cmd; a Redis error reply is a
 * reply like any other: see kv_reply_err. For MULTI ... EXEC, or commands
 * whose replies are independent of each other. */
mgr_err kv_pipeline(const struct kv_pipe_cmd *cmds, int n, redisReply **replies);

/* MGR_OK for a reply that is not an error; else the error kv_cmd gives for
 * that error reply (a script's "CONFLICT ..." is MGR_ECONFLICT, ...). */
mgr_err kv_reply_err(const redisReply *r);

/* The one way a Lua script refuses: return redis.error_reply('<CODE>
 * <detail>') with CODE one of INVALID, UNAUTH, PERM, NOTFOUND, CONFLICT,
 * TOOBIG, RATE; kv_eval (kv_cmd, kv_reply_err) then gives the mgr_err of
 * CODE. Results that are not refusals ("same": nothing to change) are
 * ordinary return values. For a caller that must tell two refusals of one
 * code apart: kv_last_error() is the text of the last error reply this
 * thread got ("" before any), kv_refusal() its detail after the code
 * ("name", "no such vault"). */
const char *kv_last_error(void);

/* Redis failures since the start, every thread's: io, a connection that
 * could not be made or broke under a command (MGR_EUNAVAIL); reply, an
 * error reply that is not a script's refusal (LOADING, MISCONF, READONLY,
 * or unknown: MGR_EUNAVAIL or MGR_EINTERNAL). For /metrics. */
struct kv_error_counts {
	unsigned long long io, reply;
};
void kv_errors(struct kv_error_counts *out);
const char *kv_refusal(void);

/* Closes this thread's context; call before a thread that used kv_ctx ends. */
void kv_thread_done(void);

/* PING on this thread's context. */
mgr_err kv_ping(void);

#endif
