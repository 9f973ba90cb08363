/* Numbers for ids (gateway/adm/ids.h), in Redis. */
#include "gateway/adm/ids.h"

#include <stdio.h>
#include <string.h>

#include "common/kv.h"

static const char *const kind_tag[] = {"acc", "vlt", "tpl"};

/* Given one script call, an id has one number: concurrent first uses of it
 * on several replicas agree, and a number is never handed out twice. */
static const char lua_number[] = "local n = redis.call('HGET', KEYS[2], ARGV[1])\n"
                                 "if n then return n end\n"
                                 "n = redis.call('INCR', KEYS[1])\n"
                                 "redis.call('HSET', KEYS[2], ARGV[1], n)\n"
                                 "redis.call('HSET', KEYS[3], n, ARGV[1])\n"
                                 "return tostring(n)\n";

static int
id_of_kind(enum adm_kind kind, const char *s)
{
	size_t n = strlen(s), p = strlen(kind_tag[kind]);

	/* Our ids: "<tag>_" and lowercase base32 (common/util.c). */
	return (n > p + 1 && n < MGR_ID_MAX && strncmp(s, kind_tag[kind], p) == 0 &&
	    s[p] == '_' &&
	    strspn(s + p + 1, "abcdefghijklmnopqrstuvwxyz234567") == n - p - 1);
}

mgr_err
adm_id_number(enum adm_kind kind, const char *id, int64_t *out)
{
	char k1[32], k2[32], k3[32];
	const char *argv[4];
	redisReply *r = NULL;
	int64_t n;
	mgr_err rv;

	if (!id_of_kind(kind, id))
		return (MGR_EINVAL);
	snprintf(k1, sizeof(k1), "admid:{%s}:next", kind_tag[kind]);
	snprintf(k2, sizeof(k2), "admid:{%s}:num", kind_tag[kind]);
	snprintf(k3, sizeof(k3), "admid:{%s}:id", kind_tag[kind]);
	argv[0] = k1;
	argv[1] = k2;
	argv[2] = k3;
	argv[3] = id;
	if ((rv = kv_eval(&r, lua_number, 3, 4, argv, NULL)) != MGR_OK)
		return (rv);
	rv = MGR_EINTERNAL;
	if (r->type == REDIS_REPLY_STRING && mgr_parse_i64(r->str, &n) == MGR_OK &&
	    n > 0) {
		*out = n;
		rv = MGR_OK;
	}
	freeReplyObject(r);
	return (rv);
}

mgr_err
adm_id_resolve(enum adm_kind kind, const char *text, char *out, size_t outlen)
{
	redisReply *r = NULL;
	int64_t n;
	mgr_err rv;

	if (id_of_kind(kind, text)) {
		if (strlen(text) >= outlen)
			return (MGR_EINVAL);
		memcpy(out, text, strlen(text) + 1);
		return (MGR_OK);
	}
	/* A number: decimal digits only, no sign, no leading zero. */
	if (text[0] < '1' || text[0] > '9' || strlen(text) > 18 ||
	    strspn(text, "0123456789") != strlen(text) ||
	    mgr_parse_i64(text, &n) != MGR_OK)
		return (MGR_EINVAL);
	if ((rv = kv_cmd(&r, "HGET admid:{%s}:id %s", kind_tag[kind], text)) != MGR_OK)
		return (rv);
	if (r->type == REDIS_REPLY_NIL)
		rv = MGR_ENOTFOUND;
	else if (r->type != REDIS_REPLY_STRING || !id_of_kind(kind, r->str) ||
	    r->len >= outlen)
		rv = MGR_EINTERNAL;
	else
		memcpy(out, r->str, r->len + 1);
	freeReplyObject(r);
	return (rv);
}
