#include "common/kv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "common/log.h"
#include "common/util.h"

#define KV_ARGS_MAX 64

static struct kv_url kv_target;
static _Thread_local redisContext *kv_tls;

mgr_err
kv_url_parse(const char *url, struct kv_url *out)
{
	const char *p, *at, *slash, *colon;
	struct kv_url u;
	char port[16];
	int64_t n;

	memset(&u, 0, sizeof(u));
	u.port = 6379;
	if (strncmp(url, "redis://", 8) != 0)
		return (MGR_EINVAL);
	p = url + 8;
	slash = strchr(p, '/');
	at = strchr(p, '@');
	if (at != NULL && (slash == NULL || at < slash)) {
		const char *pw = memchr(p, ':', (size_t)(at - p));

		pw = pw != NULL ? pw + 1 : p;
		if ((size_t)(at - pw) >= sizeof(u.password))
			return (MGR_EINVAL);
		memcpy(u.password, pw, (size_t)(at - pw));
		p = at + 1;
	}
	const char *hend = slash != NULL ? slash : p + strlen(p);
	colon = memchr(p, ':', (size_t)(hend - p));
	const char *hostend = colon != NULL ? colon : hend;
	if (hostend == p || (size_t)(hostend - p) >= sizeof(u.host))
		return (MGR_EINVAL);
	memcpy(u.host, p, (size_t)(hostend - p));
	if (colon != NULL) {
		if ((size_t)(hend - colon - 1) >= sizeof(port))
			return (MGR_EINVAL);
		memcpy(port, colon + 1, (size_t)(hend - colon - 1));
		port[hend - colon - 1] = '\0';
		if (mgr_parse_i64(port, &n) != MGR_OK || n < 1 || n > 65535)
			return (MGR_EINVAL);
		u.port = (int)n;
	}
	if (slash != NULL && slash[1] != '\0') {
		if (mgr_parse_i64(slash + 1, &n) != MGR_OK || n < 0 || n > 1000)
			return (MGR_EINVAL);
		u.db = (int)n;
	}
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
		r = redisCommand(c, "AUTH %s", kv_target.password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
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

mgr_err
kv_connect(int timeout_ms, redisContext **out)
{
	struct timeval tv = {2, 0};
	redisContext *c;

	c = redisConnectWithTimeout(kv_target.host, kv_target.port, tv);
	if (c == NULL || c->err) {
		if (c != NULL)
			redisFree(c);
		return (MGR_EUNAVAIL);
	}
	if (timeout_ms > 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		redisSetTimeout(c, tv);
	}
	redisEnableKeepAlive(c);
	if (kv_setup(c) != MGR_OK) {
		redisFree(c);
		return (MGR_EUNAVAIL);
	}
	*out = c;
	return (MGR_OK);
}

mgr_err
kv_ctx(redisContext **out)
{
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

static mgr_err
kv_check(redisReply *r, redisReply **reply)
{
	static const struct {
		const char *prefix;
		mgr_err err;
	} codes[] = {
	    {"INVALID", MGR_EINVAL}, {"UNAUTH", MGR_EUNAUTH},
	    {"PERM", MGR_EPERM}, {"NOTFOUND", MGR_ENOTFOUND},
	    {"CONFLICT", MGR_ECONFLICT}, {"TOOBIG", MGR_ETOOBIG},
	    {"RATE", MGR_ERATE}, {"LOADING", MGR_EUNAVAIL},
	    {"MISCONF", MGR_EUNAVAIL}, {"READONLY", MGR_EUNAVAIL},
	};

	if (r == NULL) {
		kv_drop();
		return (MGR_EUNAVAIL);
	}
	if (r->type == REDIS_REPLY_ERROR) {
		for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
			size_t n = strlen(codes[i].prefix);

			if (r->len >= n && strncmp(r->str, codes[i].prefix, n) == 0) {
				mgr_err e = codes[i].err;

				freeReplyObject(r);
				return (e);
			}
		}
		log_error(NULL, "redis error: %.200s", r->str);
		freeReplyObject(r);
		return (MGR_EINTERNAL);
	}
	*reply = r;
	return (MGR_OK);
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
kv_cmdargv(redisReply **reply, int argc, const char **argv,
    const size_t *argvlen)
{
	redisContext *c;
	mgr_err rv;

	if ((rv = kv_ctx(&c)) != MGR_OK)
		return (rv);
	return (kv_check(redisCommandArgv(c, argc, argv, argvlen), reply));
}

mgr_err
kv_eval(redisReply **reply, const char *script, int nkeys, int argc,
    const char **argv, const size_t *argvlen)
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

	if ((rv = kv_cmd(&r, "PING")) != MGR_OK)
		return (rv);
	freeReplyObject(r);
	return (MGR_OK);
}
