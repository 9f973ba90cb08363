/* ca-svc's certificate records of accounts in Redis (common/keys.h: cert:*,
 * acct:{id}:certs, :live, dn:*, spki:*, certs:*): see store.h. */
#include "services/ca/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/kv.h"
#include "common/page.h"
#include "services/ca/index.h"

/* The scripts take a replay key and the prepared reply (common/replay.h): a
 * request already done answers REPLAYED before any check, a commit records
 * its reply in the same step (REPLAY_LUA_GUARD). */

/* The indexes of a record just written by put_cert (index.h, expiry.h):
 * the account's live set (live_sync ran before) and certs:due (score 0:
 * the expiry scanner schedules it on its next pass). */
#define CA_LUA_INDEX \
	CA_LUA_LIVE \
	"local function index_new(a)\n" \
	"  live_add(a[3], a[1], a[7], a[12])\n" \
	"  redis.call('ZADD', 'certs:due', 0, a[1])\n" \
	"end\n"

/* ARGV: the record (issue.h), then 15 cred_version, 16 replay key, 17 reply.
 * KEYS: acct:{id}, acct:{id}:certs. */
/* clang-format off */
static const char lua_register[] =
    REPLAY_LUA CA_LUA_INDEX REPLAY_LUA_GUARD(16)
    "local id = ARGV[3]\n"
    "local a = redis.call('HMGET', KEYS[1], 'state', 'cred_version', 'username')\n"
    "if not a[1] then return redis.error_reply('UNAUTH no such account') end\n"
    "if a[1] ~= 'pending_registration' then\n"
    "  return redis.error_reply('UNAUTH credentials already used') end\n"
    "if tonumber(a[2] or '0') ~= tonumber(ARGV[15]) then\n"
    "  return redis.error_reply('UNAUTH credentials changed') end\n"
    "local h = redis.call('GET', ARGV[5])\n"
    "if h and h ~= ARGV[2] then return redis.error_reply('CONFLICT dn held') end\n"
    "redis.call('SET', ARGV[5], ARGV[2])\n"
    "live_sync(id, ARGV[11])\n"
    "put_cert(ARGV)\n"
    "redis.call('ZADD', KEYS[2], ARGV[12], ARGV[1])\n"
    "index_new(ARGV)\n"
    "redis.call('HSET', KEYS[1], 'state', 'active', 'registered_at', ARGV[11])\n"
    "if a[3] and redis.call('GET', 'acct:user:' .. a[3]) == id then\n"
    "  redis.call('DEL', 'acct:user:' .. a[3]) end\n"
    "redis.call('HDEL', KEYS[1], 'username', 'pwhash')\n"
    "emit_event(id, 'certificate.issued', ARGV[13], cjson.encode({serial = ARGV[1],\n"
    "  subject = ARGV[4], not_after = ARGV[14]}))\n"
    "replay_save(ARGV[16], ARGV[17])\n"
    "return 1\n";
/* clang-format on */

/* ARGV: the record, then 15 the serial renewed, 16 now, 17 the account's
 * last issued serial when it was read, 18 replay key, 19 reply. Returns 0
 * when that certificate is no longer valid or another was issued meanwhile
 * (the caller looks again). */
/* clang-format off */
static const char lua_renew[] =
    REPLAY_LUA CA_LUA_INDEX REPLAY_LUA_GUARD(18)
    "local id = ARGV[3]\n"
    "if redis.call('HGET', KEYS[1], 'state') ~= 'active' then\n"
    "  return redis.error_reply('UNAUTH account not active') end\n"
    "local p = redis.call('HMGET', 'cert:' .. ARGV[15], 'revoked_at', 'not_after')\n"
    "if not p[2] or (p[1] and p[1] ~= '') or tonumber(p[2]) <= tonumber(ARGV[16]) then\n"
    "  return 0 end\n"
    "local top = redis.call('ZRANGE', KEYS[2], -1, -1)\n"
    "if top[1] ~= ARGV[17] then return 0 end\n"
    "local h = redis.call('GET', ARGV[5])\n"
    "if h and h ~= ARGV[2] then return redis.error_reply('CONFLICT dn held') end\n"
    "redis.call('SET', ARGV[5], ARGV[2])\n"
    "live_sync(id, ARGV[16])\n"
    "put_cert(ARGV)\n"
    "redis.call('ZADD', KEYS[2], ARGV[12], ARGV[1])\n"
    "index_new(ARGV)\n"
    "emit_event(id, 'certificate.renewed', ARGV[13], cjson.encode({serial = ARGV[1],\n"
    "  previous = ARGV[15], not_after = ARGV[14]}))\n"
    "replay_save(ARGV[18], ARGV[19])\n"
    "return 1\n";
/* clang-format on */

/* ARGV: the record, then 15 now, 16 "1" when a revoke list is given, 17
 * replay key, 18 reply (without the revoked serials: the script appends
 * them, CertReply field 3), 19... the serials to revoke. Returns the serials
 * revoked. Without a list, the certificates to revoke are the account's
 * unrevoked unexpired ones, read from acct:{id}:live (index.h): the work is
 * O(valid certificates), whatever the account's history. */
/* clang-format off */
static const char lua_rotate[] =
    REPLAY_LUA CA_LUA_INDEX REPLAY_LUA_GUARD(17)
    "local id = ARGV[3]\n"
    "if redis.call('HGET', KEYS[1], 'state') ~= 'active' then\n"
    "  return redis.error_reply('UNAUTH account not active') end\n"
    "if redis.call('EXISTS', 'spki:' .. ARGV[10]) == 1 then\n"
    "  return redis.error_reply('INVALID same key') end\n"
    "local targets = {}\n"
    "local implicit = ARGV[16] ~= '1'\n"
    "if not implicit then\n"
    "  for i = 19, #ARGV do\n"
    "    if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then\n"
    "      return redis.error_reply('INVALID not ours') end\n"
    "    targets[#targets + 1] = ARGV[i]\n"
    "  end\n"
    "end\n"
    "local h = redis.call('GET', ARGV[5])\n"
    "if h and h ~= ARGV[2] then return redis.error_reply('CONFLICT dn held') end\n"
    "if implicit then targets = live_valid(id, ARGV[15]) else live_sync(id, ARGV[15]) end\n"
    "redis.call('SET', ARGV[5], ARGV[2])\n"
    "put_cert(ARGV)\n"
    "redis.call('ZADD', KEYS[2], ARGV[12], ARGV[1])\n"
    "index_new(ARGV)\n"
    "emit_event(id, 'certificate.issued', ARGV[13], cjson.encode({serial = ARGV[1],\n"
    "  subject = ARGV[4], not_after = ARGV[14]}))\n"
    "local revoked, more = {}, ''\n"
    "local lk = 'acct:{' .. id .. '}:live'\n"
    "for _, s in ipairs(targets) do\n"
    "  if revoke_cert(s, id, ARGV[15], ARGV[13], implicit, '4') then\n"
    "    revoked[#revoked + 1] = s\n"
    "    more = more .. replay_pb(3, s)\n"
    "    redis.call('ZREM', 'certs:due', s)\n"
    "  end\n"
    "  redis.call('ZREM', lk, s)\n"
    "end\n"
    "replay_save(ARGV[17], ARGV[18], more)\n"
    "return revoked\n";
/* clang-format on */

/* KEYS acct:{id}:certs; ARGV now, account id. Returns {last issued serial
 * or "", the record of the newest valid certificate (or nothing)}. The
 * newest valid one is almost always the last issued, so the newest 16 are
 * looked at first; only when none of those is valid, the account's valid
 * certificates from acct:{id}:live (index.h), the newest issued of them:
 * O(valid certificates), never the account's whole history. */
/* clang-format off */
static const char lua_newest_valid[] =
    CA_LUA_LIVE
    "local function scan(a, b)\n"
    "  local ss = redis.call('ZREVRANGE', KEYS[1], a, b)\n"
    "  for _, s in ipairs(ss) do\n"
    "    local r = redis.call('HMGET', 'cert:' .. s, 'serial', 'holder',\n"
    "      'account_id', 'subject', 'pem', 'spki', 'not_before', 'not_after',\n"
    "      'revoked_at', 'issued_at')\n"
    "    if r[1] and (not r[9] or r[9] == '') and tonumber(r[8]) > tonumber(ARGV[1]) then\n"
    "      return ss, r end\n"
    "  end\n"
    "  return ss, nil\n"
    "end\n"
    "local ss, r = scan(0, 15)\n"
    "local last = ss[1] or ''\n"
    "if not r and #ss == 16 then\n"
    "  local best, bs = nil, nil\n"
    "  for _, s in ipairs(live_valid(ARGV[2], ARGV[1])) do\n"
    "    local sc = tonumber(redis.call('ZSCORE', KEYS[1], s))\n"
    "    local c = redis.call('HMGET', 'cert:' .. s, 'revoked_at', 'not_after')\n"
    "    if sc and (not bs or sc > bs) and (not c[1] or c[1] == '') and\n"
    "        tonumber(c[2]) and tonumber(c[2]) > tonumber(ARGV[1]) then\n"
    "      best, bs = s, sc end\n"
    "  end\n"
    "  if best then r = redis.call('HMGET', 'cert:' .. best, 'serial', 'holder',\n"
    "    'account_id', 'subject', 'pem', 'spki', 'not_before', 'not_after',\n"
    "    'revoked_at', 'issued_at') end\n"
    "end\n"
    "if r then return {last, {r}} end\n"
    "return {last, {}}\n";
/* clang-format on */

/* KEYS acct:{id}:certs; ARGV after, limit. Returns {next cursor or "",
 * records (10-field HMGET arrays)}: one page of common/page.h, oldest
 * first. */
/* clang-format off */
static const char lua_list_page[] =
    MGR_PAGE_LUA
    "local ids, nxt = page_ids(KEYS[1], ARGV[1], tonumber(ARGV[2]))\n"
    "if not ids then return " MGR_PAGE_LUA_BAD " end\n"
    "local out = {}\n"
    "for _, s in ipairs(ids) do\n"
    "  local r = redis.call('HMGET', 'cert:' .. s, 'serial', 'holder',\n"
    "    'account_id', 'subject', 'pem', 'spki', 'not_before', 'not_after',\n"
    "    'revoked_at', 'issued_at')\n"
    "  if r[1] then out[#out + 1] = r end\n"
    "end\n"
    "return {nxt, out}\n";
/* clang-format on */

static void
acct_keys(const char *id, char k1[128], char k2[128], const char *keys[2])
{
	snprintf(k1, 128, "acct:{%s}", id);
	snprintf(k2, 128, "acct:{%s}:certs", id);
	keys[0] = k1;
	keys[1] = k2;
}

/* Runs body (with the prelude) with KEYS acct:{id}, acct:{id}:certs and
 * argv; REPLAYED sets rp->hit (and *out is NULL). */
static mgr_err
run_account_script(const char *body, const char *id, struct ca_argv *a, struct replay *rp,
    redisReply **out)
{
	char script[CA_LUA_MAX], k1[128], k2[128];
	const char *keys[2], *argv[70];
	size_t lens[70];
	redisReply *r;
	mgr_err rv;

	*out = NULL;
	if (ca_lua_script(body, script, sizeof(script)) == NULL || a->n > 60)
		return (MGR_EINTERNAL);
	acct_keys(id, k1, k2, keys);
	argv[0] = keys[0];
	argv[1] = keys[1];
	memcpy(argv + 2, a->v, (size_t)a->n * sizeof(a->v[0]));
	replay_argvlen(rp, a->n + 2, argv, lens);
	if ((rv = kv_eval(&r, script, 2, a->n + 2, argv, lens)) != MGR_OK)
		return (rv);
	if (replay_signalled(r)) {
		rp->hit = 1;
		freeReplyObject(r);
		return (MGR_OK);
	}
	*out = r;
	return (MGR_OK);
}

mgr_err
ca_store_dn_free(const char *dn_key, const char *holder)
{
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = kv_cmd(&r, "GET %s", dn_key)) != MGR_OK)
		return (rv);
	rv = r->type == REDIS_REPLY_STRING && strcmp(r->str, holder) != 0 ? MGR_ECONFLICT
	                                                                  : MGR_OK;
	freeReplyObject(r);
	return (rv);
}

mgr_err
ca_store_account_exists(const char *account_id)
{
	char key[MGR_ID_MAX + 16];
	redisReply *r = NULL;
	mgr_err rv;

	snprintf(key, sizeof(key), "acct:{%s}", account_id);
	if ((rv = kv_cmd(&r, "EXISTS %s", key)) != MGR_OK)
		return (rv);
	rv = r->type == REDIS_REPLY_INTEGER && r->integer == 1 ? MGR_OK : MGR_ENOTFOUND;
	freeReplyObject(r);
	return (rv);
}

mgr_err
ca_store_register(const struct ca_issued *iss, const char *account_id,
    uint64_t cred_version, struct replay *rp)
{
	struct ca_argv av;
	char holder[MGR_ID_MAX + 8], cv[24];
	redisReply *r = NULL;
	mgr_err rv;

	snprintf(holder, sizeof(holder), "acct:%s", account_id);
	ca_argv_cert(&av, iss, holder, account_id);
	snprintf(cv, sizeof(cv), "%llu", (unsigned long long)cred_version);
	ca_argv_add(&av, cv);
	ca_argv_add(&av, rp->key);
	ca_argv_add(&av, (const char *)rp->reply);
	if ((rv = run_account_script(lua_register, account_id, &av, rp, &r)) != MGR_OK)
		return (rv);
	if (r != NULL)
		freeReplyObject(r);
	return (MGR_OK);
}

mgr_err
ca_store_renew(const struct ca_issued *iss, const char *account_id,
    const char *prev_serial, int64_t now, const char *last, struct replay *rp,
    int *committed)
{
	struct ca_argv av;
	char holder[MGR_ID_MAX + 8];
	redisReply *r = NULL;
	mgr_err rv;

	*committed = 0;
	snprintf(holder, sizeof(holder), "acct:%s", account_id);
	ca_argv_cert(&av, iss, holder, account_id);
	ca_argv_add(&av, prev_serial);
	ca_argv_add_i64(&av, now);
	ca_argv_add(&av, last);
	ca_argv_add(&av, rp->key);
	ca_argv_add(&av, (const char *)rp->reply);
	if ((rv = run_account_script(lua_renew, account_id, &av, rp, &r)) != MGR_OK)
		return (rv);
	if (r != NULL) {
		*committed = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
		freeReplyObject(r);
	}
	return (MGR_OK);
}

mgr_err
ca_store_rotate(const struct ca_issued *iss, const char *account_id, int64_t now,
    int has_revoke, char **revoke, size_t nrevoke, struct replay *rp,
    struct ca_serials *revoked)
{
	struct ca_argv av;
	char holder[MGR_ID_MAX + 8];
	redisReply *r = NULL;
	mgr_err rv;

	memset(revoked, 0, sizeof(*revoked));
	snprintf(holder, sizeof(holder), "acct:%s", account_id);
	ca_argv_cert(&av, iss, holder, account_id);
	ca_argv_add_i64(&av, now);
	ca_argv_add(&av, has_revoke ? "1" : "0");
	ca_argv_add(&av, rp->key);
	ca_argv_add(&av, (const char *)rp->reply);
	for (size_t i = 0; has_revoke && i < nrevoke; i++)
		ca_argv_add(&av, revoke[i]);
	if ((rv = run_account_script(lua_rotate, account_id, &av, rp, &r)) != MGR_OK)
		return (rv);
	if (r == NULL)
		return (MGR_OK);
	if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
		if ((revoked->s = calloc(r->elements, sizeof(*revoked->s))) == NULL ||
		    (revoked->ptrs = calloc(r->elements, sizeof(*revoked->ptrs))) ==
		        NULL) {
			ca_serials_free(revoked);
			freeReplyObject(r);
			return (MGR_ENOMEM);
		}
		for (size_t i = 0; i < r->elements; i++) {
			if (r->element[i]->type != REDIS_REPLY_STRING)
				continue;
			snprintf(revoked->s[revoked->n], sizeof(revoked->s[0]), "%s",
			    r->element[i]->str);
			revoked->ptrs[revoked->n] = revoked->s[revoked->n];
			revoked->n++;
		}
	}
	freeReplyObject(r);
	return (MGR_OK);
}

void
ca_serials_free(struct ca_serials *s)
{
	free(s->s);
	free(s->ptrs);
	s->s = NULL;
	s->ptrs = NULL;
	s->n = 0;
}

mgr_err
ca_store_newest_valid(const char *account_id, int64_t now, struct ca_record **rec,
    size_t *n, char *last, size_t lastlen)
{
	char key[MGR_ID_MAX + 16], nowbuf[24];
	const char *argv[3];
	redisReply *r = NULL;
	mgr_err rv;

	snprintf(key, sizeof(key), "acct:{%s}:certs", account_id);
	snprintf(nowbuf, sizeof(nowbuf), "%lld", (long long)now);
	argv[0] = key;
	argv[1] = nowbuf;
	argv[2] = account_id;
	if ((rv = kv_eval(&r, lua_newest_valid, 1, 3, argv, NULL)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	snprintf(last, lastlen, "%s", r->element[0]->str);
	rv = ca_records_from_reply(r->element[1], rec, n);
out:
	freeReplyObject(r);
	return (rv);
}

mgr_err
ca_store_rotate_precheck(const char *account_id, const char *spki, char *const *revoke,
    size_t nrevoke, char *why, size_t whylen)
{
	char key[MGR_ID_MAX + 16];
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = kv_cmd(&r, "GET spki:%s", spki)) != MGR_OK)
		return (rv);
	if (r->type == REDIS_REPLY_STRING) {
		snprintf(why, whylen,
		    "the CSR's public key is the key of certificate "
		    "%.64s; rotation needs a new key",
		    r->str);
		rv = MGR_EINVAL;
		goto out;
	}
	snprintf(key, sizeof(key), "acct:{%s}:certs", account_id);
	for (size_t j = 0; j < nrevoke; j++) {
		freeReplyObject(r);
		r = NULL;
		if ((rv = kv_cmd(&r, "ZSCORE %s %s", key, revoke[j])) != MGR_OK)
			return (rv);
		if (r->type == REDIS_REPLY_NIL) {
			snprintf(why, whylen,
			    "serial %s is not a certificate of this "
			    "account",
			    revoke[j]);
			rv = MGR_EINVAL;
			goto out;
		}
	}
	rv = MGR_OK;
out:
	if (r != NULL)
		freeReplyObject(r);
	return (rv);
}

mgr_err
ca_store_records_page(const char *account_id, const char *after, uint32_t limit,
    struct ca_record **out, size_t *n, char **next)
{
	char key[MGR_ID_MAX + 16], lim[16];
	const char *argv[3];
	redisReply *r = NULL;
	char *nx = NULL;
	mgr_err rv;

	snprintf(key, sizeof(key), "acct:{%s}:certs", account_id);
	snprintf(lim, sizeof(lim), "%u", limit);
	argv[0] = key;
	argv[1] = after;
	argv[2] = lim;
	if ((rv = kv_eval(&r, lua_list_page, 1, 3, argv, NULL)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	if ((nx = strdup(r->element[0]->str)) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	if ((rv = ca_records_from_reply(r->element[1], out, n)) != MGR_OK)
		goto out;
	*next = nx;
	nx = NULL;
out:
	free(nx);
	freeReplyObject(r);
	return (rv);
}
