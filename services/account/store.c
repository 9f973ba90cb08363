/* account-svc's Redis side: see store.h. */
#include "services/account/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/events.h"
#include "common/keys.h"
#include "common/kv.h"
#include "common/page.h"
#include "services/account/rules.h"

#define ACCT_KEY_MAX (ACCT_NAME_MAX + 64)
#define ACCT_SCRIPT_MAX 8192

/* The scripts that change an account take the replay key and the prepared
 * reply (common/replay.h) as their last two ARGV: a request already done
 * answers REPLAYED (REPLAY_LUA_GUARD), a commit records its reply. */

/* KEYS acct:{id}, acct:user:<u>, acct:name:<n>, acct:all;
 * ARGV id, name, role, username, pwhash, created_at (s), created_at (ms),
 * replay key, reply. */
/* clang-format off */
static const char lua_create[] =
    REPLAY_LUA REPLAY_LUA_GUARD(8)
    "if redis.call('EXISTS', KEYS[3]) == 1 then\n"
    "  return redis.error_reply('CONFLICT name') end\n"
    "if redis.call('EXISTS', KEYS[2]) == 1 then\n"
    "  return redis.error_reply('CONFLICT username') end\n"
    "redis.call('HSET', KEYS[1], 'id', ARGV[1], 'name', ARGV[2], 'role', ARGV[3],"
    " 'state', 'pending_registration', 'username', ARGV[4], 'pwhash', ARGV[5],"
    " 'cred_version', '1', 'created_at', ARGV[6], 'registered_at', '')\n"
    "redis.call('SET', KEYS[2], ARGV[1])\n"
    "redis.call('SET', KEYS[3], ARGV[1])\n"
    "redis.call('ZADD', KEYS[4], ARGV[7], ARGV[1])\n"
    "replay_save(ARGV[8], ARGV[9])\n"
    "return 'ok'\n";
/* clang-format on */

/* KEYS acct:all; ARGV after (cursor, "" = from the start), limit. One page:
 * {next cursor or "", hash, hash, ...}. (The acct:{id} keys come from the
 * zset, so they cannot be KEYS entries.) */
/* clang-format off */
static const char lua_list[] =
    MGR_PAGE_LUA
    "local ids, nxt = page_ids(KEYS[1], ARGV[1], tonumber(ARGV[2]))\n"
    "if not ids then return " MGR_PAGE_LUA_BAD " end\n"
    "local out = {nxt}\n"
    "for _, id in ipairs(ids) do\n"
    "  out[#out + 1] = redis.call('HGETALL', 'acct:{' .. id .. '}')\n"
    "end\n"
    "return out\n";
/* clang-format on */

/* Registered: registered_at set (or active, whatever registered_at says). */
#define LUA_REGISTERED(h) "((" h "[2] and " h "[2] ~= '') or " h "[1] == 'active')"
#define LUA_NOTFOUND "return redis.error_reply('NOTFOUND no such account')"
#define LUA_REGISTERED_REFUSAL "return redis.error_reply('CONFLICT registered')"

/* KEYS acct:{id}; ARGV pwhash, replay key, reply. The old user name's
 * lockout goes too. */
/* clang-format off */
static const char lua_set_password[] =
    REPLAY_LUA REPLAY_LUA_GUARD(2)
    "local h = redis.call('HMGET', KEYS[1], 'state', 'registered_at', 'username')\n"
    "if not h[1] then " LUA_NOTFOUND " end\n"
    "if " LUA_REGISTERED("h") " then " LUA_REGISTERED_REFUSAL " end\n"
    "redis.call('HSET', KEYS[1], 'pwhash', ARGV[1])\n"
    "redis.call('HINCRBY', KEYS[1], 'cred_version', 1)\n"
    "if h[3] and h[3] ~= '' then redis.call('DEL', 'lockout:temp:' .. h[3]) end\n"
    "replay_save(ARGV[2], ARGV[3])\n"
    "return 'ok'\n";
/* clang-format on */

/* KEYS acct:{id}, acct:name:<new>; ARGV id, new name, replay key, reply. */
/* clang-format off */
static const char lua_rename[] =
    REPLAY_LUA REPLAY_LUA_GUARD(3)
    "local old = redis.call('HGET', KEYS[1], 'name')\n"
    "if not old then " LUA_NOTFOUND " end\n"
    "if old == ARGV[2] then return 'same' end\n"
    "if redis.call('EXISTS', KEYS[2]) == 1 then\n"
    "  return redis.error_reply('CONFLICT name') end\n"
    "if redis.call('GET', 'acct:name:' .. old) == ARGV[1] then\n"
    "  redis.call('DEL', 'acct:name:' .. old)\n"
    "end\n"
    "redis.call('SET', KEYS[2], ARGV[1])\n"
    "redis.call('HSET', KEYS[1], 'name', ARGV[2])\n"
    "replay_save(ARGV[3], ARGV[4])\n"
    "return 'ok'\n";
/* clang-format on */

/* After event_lua_emit. KEYS acct:{id}; ARGV id, "disable"|"enable", time,
 * replay key, reply. The state change, the auth-cache drop and the event are
 * one step. */
/* clang-format off */
static const char lua_transition[] =
    REPLAY_LUA REPLAY_LUA_GUARD(4)
    "local h = redis.call('HMGET', KEYS[1], 'state', 'registered_at')\n"
    "if not h[1] then " LUA_NOTFOUND " end\n"
    "local new\n"
    "if ARGV[2] == 'disable' then\n"
    "  if h[1] == 'disabled' then return 'same' end\n"
    "  new = 'disabled'\n"
    "else\n"
    "  if h[1] ~= 'disabled' then return 'same' end\n"
    "  if h[2] and h[2] ~= '' then new = 'active' else new = 'pending_registration' end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'state', new)\n"
    "redis.call('INCR', '" KEY_AUTH_EPOCH "')\n"
    "redis.call('PUBLISH', '" KEY_AUTH_CHANNEL "', 'account ' .. ARGV[1])\n"
    "emit_event(ARGV[1], 'account.' .. ARGV[2] .. 'd', ARGV[3],"
    " cjson.encode({state = new}))\n"
    "replay_save(ARGV[4], ARGV[5])\n"
    "return 'ok'\n";
/* clang-format on */

/* KEYS acct:{id}, acct:all; ARGV id, replay key, reply. Only
 * never-registered accounts. */
/* clang-format off */
static const char lua_delete[] =
    REPLAY_LUA REPLAY_LUA_GUARD(2)
    "local h = redis.call('HMGET', KEYS[1], 'state', 'registered_at', 'username',"
    " 'name')\n"
    "if not h[1] then " LUA_NOTFOUND " end\n"
    "if " LUA_REGISTERED("h") " then " LUA_REGISTERED_REFUSAL " end\n"
    "if h[3] and h[3] ~= '' then\n"
    "  if redis.call('GET', 'acct:user:' .. h[3]) == ARGV[1] then\n"
    "    redis.call('DEL', 'acct:user:' .. h[3])\n"
    "  end\n"
    "  redis.call('DEL', 'lockout:temp:' .. h[3])\n"
    "end\n"
    "if h[4] and redis.call('GET', 'acct:name:' .. h[4]) == ARGV[1] then\n"
    "  redis.call('DEL', 'acct:name:' .. h[4])\n"
    "end\n"
    "redis.call('DEL', KEYS[1], 'ev:{' .. ARGV[1] .. '}')\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "redis.call('INCR', '" KEY_AUTH_EPOCH "')\n"
    "redis.call('PUBLISH', '" KEY_AUTH_CHANNEL "', 'account ' .. ARGV[1])\n"
    "replay_save(ARGV[2], ARGV[3])\n"
    "return 'ok'\n";
/* clang-format on */

#define ACCT_KNOWN_TTL_S 2592000 /* 30 days */
#define AUTH_SOURCE_MAX 64

/* The lock checks of both scripts below. ARGV as lua_lookup's. */
#define AUTH_LUA_LOCKED \
	"if tonumber(redis.call('GET', ARGV[1]) or '0') >= tonumber(ARGV[5]) then\n" \
	"  return {'locked'} end\n" \
	"if tonumber(redis.call('GET', ARGV[2]) or '0') >= tonumber(ARGV[7]) and" \
	" redis.call('HEXISTS', ARGV[3], ARGV[11]) == 0 then\n" \
	"  return {'locked_global'} end\n"

/* ARGV 1 per-address key, 2 global key, 3 known-addresses key, 4 admin:<u>
 * or acct:user:<u>, 5 max, 6 lockout s, 7 global max, 8 global window s,
 * 9 "1" for one-time credentials, 10 username, 11 source.
 * → {"locked"} | {"locked_global"} | {"nouser"}
 *   | {"ok", id, state, pwhash, cred_version, role}
 * Counts nothing: lua_reserve does, for every check but a verification
 * cache hit. (acct:{<id>} is found through acct:user:<u>: the keys are not
 * KEYS entries and share no hash tag.) */
/* clang-format off */
static const char lua_lookup[] =
    AUTH_LUA_LOCKED
    "if ARGV[9] == '1' then\n"
    "  local id = redis.call('GET', ARGV[4])\n"
    "  if not id then return {'nouser'} end\n"
    "  local h = redis.call('HMGET', 'acct:{' .. id .. '}', 'state', 'pwhash',"
    " 'cred_version')\n"
    "  if not h[2] then return {'nouser'} end\n"
    "  return {'ok', id, h[1] or '', h[2], h[3] or '0', ''}\n"
    "end\n"
    "local h = redis.call('HMGET', ARGV[4], 'pwhash', 'role')\n"
    "if not h[1] then return {'nouser'} end\n"
    "local role = h[2]\n"
    "if not role or role == '' then role = 'super_user' end\n"
    "return {'ok', ARGV[10], 'active', h[1], '0', role}\n";
/* clang-format on */

/* Takes the attempt's slot in both counts, in the step that checks them
 * (ARGV as lua_lookup's): {"ok"}, or the lock that holds now. */
/* clang-format off */
static const char lua_reserve[] =
    AUTH_LUA_LOCKED
    "if redis.call('INCR', ARGV[1]) == 1 then\n"
    "  redis.call('EXPIRE', ARGV[1], ARGV[6]) end\n"
    "if redis.call('INCR', ARGV[2]) == 1 then\n"
    "  redis.call('EXPIRE', ARGV[2], ARGV[8]) end\n"
    "return {'ok'}\n";
/* clang-format on */

/* A failure: ARGV 1 per-address key, 2 global key, 3 max, 4 lockout s,
 * 5 global max, 6 global window s. A count at its limit restarts its life.
 * → {per-address count, global count}. */
static const char lua_fail[] =
    "local a = tonumber(redis.call('GET', ARGV[1]) or '0')\n"
    "local g = tonumber(redis.call('GET', ARGV[2]) or '0')\n"
    "if a >= tonumber(ARGV[3]) then redis.call('EXPIRE', ARGV[1], ARGV[4]) end\n"
    "if g >= tonumber(ARGV[5]) then redis.call('EXPIRE', ARGV[2], ARGV[6]) end\n"
    "return {a, g}\n";

/* A known address's time is written at most once a day (a write per
 * request would be a Redis write per admin call). */
#define AUTH_KNOWN_REFRESH_S "86400"

/* A success: ARGV 1 per-address key, 2 global key, 3 known key ("" for
 * one-time credentials), 4 source, 5 now, 6 known TTL, 7 "1" when the
 * attempt took a slot (lua_reserve) that it gives back. */
/* clang-format off */
static const char lua_ok[] =
    "redis.call('DEL', ARGV[1])\n"
    "if ARGV[7] == '1' and tonumber(redis.call('GET', ARGV[2]) or '0') > 0 then\n"
    "  redis.call('DECR', ARGV[2]) end\n"
    "if ARGV[3] ~= '' then\n"
    "  local t = tonumber(redis.call('HGET', ARGV[3], ARGV[4]) or '0')\n"
    "  if tonumber(ARGV[5]) - t >= " AUTH_KNOWN_REFRESH_S " then\n"
    "    redis.call('HSET', ARGV[3], ARGV[4], ARGV[5])\n"
    "    redis.call('EXPIRE', ARGV[3], ARGV[6])\n"
    "  end\n"
    "end\n"
    "return 1\n";
/* clang-format on */

static const char *
elem(const redisReply *r, size_t i)
{
	if (i >= r->elements || r->element[i]->type != REDIS_REPLY_STRING)
		return ("");
	return (r->element[i]->str);
}

/* Runs a change script whose last two arguments are rp's record key and
 * reply (argv has room for them at argc and argc + 1). REPLAYED sets
 * rp->hit; *same (may be NULL) is the script's "same". */
static mgr_err
acct_commit(const char *script, int nkeys, int argc, const char **argv, struct replay *rp,
    int *same)
{
	redisReply *r;
	size_t lens[16];
	mgr_err rv;

	if (same != NULL)
		*same = 0;
	if (argc + 2 > (int)(sizeof(lens) / sizeof(lens[0])))
		return (MGR_EINTERNAL);
	argv[argc] = rp->key;
	argv[argc + 1] = (const char *)rp->reply;
	replay_argvlen(rp, argc + 2, argv, lens);
	if ((rv = kv_eval(&r, script, nkeys, argc + 2, argv, lens)) != MGR_OK)
		return (rv);
	if (replay_signalled(r))
		rp->hit = 1;
	else if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)
		rv = MGR_EINTERNAL;
	else if (same != NULL)
		*same = strcmp(r->str, "same") == 0;
	freeReplyObject(r);
	return (rv);
}

static int64_t
acct_num(const char *s)
{
	int64_t n;

	return (mgr_parse_i64(s, &n) == MGR_OK ? n : 0);
}

/* An HGETALL reply into *out; MGR_ENOTFOUND when empty. */
static mgr_err
acct_from_reply(const redisReply *r, struct acct_rec *out)
{
	struct acct_rec a;

	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
		return (MGR_ENOTFOUND);
	memset(&a, 0, sizeof(a));
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];

		if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (strcmp(k->str, "id") == 0)
			snprintf(a.id, sizeof(a.id), "%s", v->str);
		else if (strcmp(k->str, "name") == 0)
			snprintf(a.name, sizeof(a.name), "%s", v->str);
		else if (strcmp(k->str, "role") == 0)
			snprintf(a.role, sizeof(a.role), "%s", v->str);
		else if (strcmp(k->str, "state") == 0)
			snprintf(a.state, sizeof(a.state), "%s", v->str);
		else if (strcmp(k->str, "username") == 0)
			snprintf(a.username, sizeof(a.username), "%s", v->str);
		else if (strcmp(k->str, "created_at") == 0)
			a.created_at = acct_num(v->str);
		else if (strcmp(k->str, "registered_at") == 0)
			a.registered_at = acct_num(v->str);
	}
	if (a.id[0] == '\0')
		return (MGR_ENOTFOUND);
	/* Registration erases the user name; never show a stale one. */
	if (acct_registered(&a))
		a.username[0] = '\0';
	*out = a;
	return (MGR_OK);
}

mgr_err
acct_store_load(const char *id, struct acct_rec *out)
{
	char key[ACCT_KEY_MAX];
	redisReply *r;
	mgr_err rv;

	if (!acct_id_ok(id))
		return (MGR_ENOTFOUND);
	snprintf(key, sizeof(key), "acct:{%s}", id);
	if ((rv = kv_cmd(&r, "HGETALL %s", key)) != MGR_OK)
		return (rv);
	rv = acct_from_reply(r, out);
	freeReplyObject(r);
	return (rv);
}

mgr_err
acct_store_list(const char *after, uint32_t limit, struct acct_rec **out, size_t *n,
    char *next, size_t nextlen)
{
	struct acct_rec *recs = NULL;
	const char *argv[3];
	redisReply *r = NULL;
	char lim[16];
	size_t k = 0;
	mgr_err rv;

	snprintf(lim, sizeof(lim), "%u",
	    limit == 0                 ? MGR_PAGE_DEFAULT
	        : limit > MGR_PAGE_MAX ? MGR_PAGE_MAX
	                               : (unsigned)limit);
	argv[0] = "acct:all";
	argv[1] = after;
	argv[2] = lim;
	if ((rv = kv_eval(&r, lua_list, 1, 3, argv, NULL)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    (size_t)r->element[0]->len >= nextlen) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	if (r->elements > 1 && (recs = calloc(r->elements - 1, sizeof(*recs))) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	for (size_t i = 1; i < r->elements; i++)
		if (acct_from_reply(r->element[i], &recs[k]) == MGR_OK)
			k++;
	snprintf(next, nextlen, "%s", r->element[0]->str);
	*out = recs;
	*n = k;
	recs = NULL;
out:
	freeReplyObject(r);
	free(recs);
	return (rv);
}

mgr_err
acct_store_create(const struct acct_rec *a, const char *pwhash, int64_t created_ms,
    struct replay *rp)
{
	char kid[ACCT_KEY_MAX], kuser[ACCT_KEY_MAX], kname[ACCT_KEY_MAX], cs[24], cms[24];
	const char *argv[13];

	snprintf(cs, sizeof(cs), "%lld", (long long)a->created_at);
	snprintf(cms, sizeof(cms), "%lld", (long long)created_ms);
	snprintf(kid, sizeof(kid), "acct:{%s}", a->id);
	snprintf(kuser, sizeof(kuser), "acct:user:%s", a->username);
	snprintf(kname, sizeof(kname), "acct:name:%s", a->name);
	argv[0] = kid;
	argv[1] = kuser;
	argv[2] = kname;
	argv[3] = "acct:all";
	argv[4] = a->id;
	argv[5] = a->name;
	argv[6] = a->role;
	argv[7] = a->username;
	argv[8] = pwhash;
	argv[9] = cs;
	argv[10] = cms;
	return (acct_commit(lua_create, 4, 11, argv, rp, NULL));
}

mgr_err
acct_store_set_password(const char *id, const char *pwhash, struct replay *rp)
{
	char key[ACCT_KEY_MAX];
	const char *argv[4];

	snprintf(key, sizeof(key), "acct:{%s}", id);
	argv[0] = key;
	argv[1] = pwhash;
	return (acct_commit(lua_set_password, 1, 2, argv, rp, NULL));
}

mgr_err
acct_store_rename(const char *id, const char *name, struct replay *rp, int *same)
{
	char kid[ACCT_KEY_MAX], kname[ACCT_KEY_MAX];
	const char *argv[6];

	snprintf(kid, sizeof(kid), "acct:{%s}", id);
	snprintf(kname, sizeof(kname), "acct:name:%s", name);
	argv[0] = kid;
	argv[1] = kname;
	argv[2] = id;
	argv[3] = name;
	return (acct_commit(lua_rename, 2, 4, argv, rp, same));
}

mgr_err
acct_store_transition(const char *id, const char *verb, const char *ts, struct replay *rp,
    int *same)
{
	char script[ACCT_SCRIPT_MAX], key[ACCT_KEY_MAX];
	const char *argv[6];
	int n;

	n = snprintf(script, sizeof(script), "%s%s", event_lua_emit, lua_transition);
	if (n < 0 || (size_t)n >= sizeof(script))
		return (MGR_EINTERNAL);
	snprintf(key, sizeof(key), "acct:{%s}", id);
	argv[0] = key;
	argv[1] = id;
	argv[2] = verb;
	argv[3] = ts;
	return (acct_commit(script, 1, 4, argv, rp, same));
}

mgr_err
acct_store_delete(const char *id, struct replay *rp)
{
	char key[ACCT_KEY_MAX];
	const char *argv[5];

	snprintf(key, sizeof(key), "acct:{%s}", id);
	argv[0] = key;
	argv[1] = "acct:all";
	argv[2] = id;
	return (acct_commit(lua_delete, 2, 3, argv, rp, NULL));
}

/* The keys of a login (auth.c has the design): per address, global,
 * known addresses, the user's record. */
struct login_keys {
	char addr[ACCT_LOGIN_KEY_MAX + ACCT_LOGIN_SOURCE_MAX + 2];
	char glob[ACCT_LOGIN_KEY_MAX];
	char known[ACCT_LOGIN_KEY_MAX];
	char user[ACCT_LOGIN_KEY_MAX];
	char max[24], secs[24], gmax[24], gsecs[24];
	const char *argv[11];
};

static void
login_keys(struct login_keys *k, const char *username, int temp, const char *source,
    const struct acct_state *st)
{
	const char *kind = temp ? "temp" : "admin";

	snprintf(k->addr, sizeof(k->addr), "lockout:%s:%s@%s", kind, username, source);
	snprintf(k->glob, sizeof(k->glob), "lockout:%s:%s", kind, username);
	snprintf(k->known, sizeof(k->known), "login:known:%s:%s", kind, username);
	snprintf(k->user, sizeof(k->user), "%s:%s", temp ? "acct:user" : "admin",
	    username);
	snprintf(k->max, sizeof(k->max), "%lld", (long long)st->max_failures);
	snprintf(k->secs, sizeof(k->secs), "%lld", (long long)st->lockout_s);
	snprintf(k->gmax, sizeof(k->gmax), "%lld", (long long)st->global_max_failures);
	snprintf(k->gsecs, sizeof(k->gsecs), "%lld", (long long)st->global_window_s);
	k->argv[0] = k->addr;
	k->argv[1] = k->glob;
	k->argv[2] = k->known;
	k->argv[3] = k->user;
	k->argv[4] = k->max;
	k->argv[5] = k->secs;
	k->argv[6] = k->gmax;
	k->argv[7] = k->gsecs;
	k->argv[8] = temp ? "1" : "0";
	k->argv[9] = username;
	k->argv[10] = source;
}

static int
login_locked(const redisReply *r)
{
	if (strcmp(elem(r, 0), "locked") == 0)
		return (ACCT_LOGIN_LOCKED_ADDRESS);
	if (strcmp(elem(r, 0), "locked_global") == 0)
		return (ACCT_LOGIN_LOCKED_GLOBAL);
	return (0);
}

mgr_err
acct_store_login(const char *username, int temp, const char *source,
    const struct acct_state *st, struct acct_login *out)
{
	struct login_keys k;
	redisReply *r = NULL;
	int64_t n;
	mgr_err rv;

	memset(out, 0, sizeof(*out));
	login_keys(&k, username, temp, source, st);
	if ((rv = kv_eval(&r, lua_lookup, 0, 11, k.argv, NULL)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
		freeReplyObject(r);
		return (MGR_EINTERNAL);
	}
	out->locked = login_locked(r);
	if (strcmp(elem(r, 0), "ok") == 0 && r->elements >= 6) {
		out->found = 1;
		snprintf(out->id, sizeof(out->id), "%s", elem(r, 1));
		snprintf(out->state, sizeof(out->state), "%s", elem(r, 2));
		snprintf(out->pwhash, sizeof(out->pwhash), "%s", elem(r, 3));
		out->cred_version = mgr_parse_i64(elem(r, 4), &n) == MGR_OK && n > 0
		    ? (uint64_t)n
		    : 0;
		snprintf(out->role, sizeof(out->role), "%s", elem(r, 5));
	}
	freeReplyObject(r);
	return (MGR_OK);
}

mgr_err
acct_store_login_reserve(const char *username, int temp, const char *source,
    const struct acct_state *st, int *locked)
{
	struct login_keys k;
	redisReply *r = NULL;
	mgr_err rv;

	login_keys(&k, username, temp, source, st);
	if ((rv = kv_eval(&r, lua_reserve, 0, 11, k.argv, NULL)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
		freeReplyObject(r);
		return (MGR_EINTERNAL);
	}
	*locked = login_locked(r);
	freeReplyObject(r);
	return (MGR_OK);
}

mgr_err
acct_store_login_failed(const char *username, int temp, const char *source,
    const struct acct_state *st, long long *na, long long *ng)
{
	struct login_keys k;
	const char *argv[6];
	redisReply *r;
	mgr_err rv;

	*na = *ng = 0;
	login_keys(&k, username, temp, source, st);
	argv[0] = k.addr;
	argv[1] = k.glob;
	argv[2] = k.max;
	argv[3] = k.secs;
	argv[4] = k.gmax;
	argv[5] = k.gsecs;
	if ((rv = kv_eval(&r, lua_fail, 0, 6, argv, NULL)) != MGR_OK)
		return (rv);
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[1]->type == REDIS_REPLY_INTEGER) {
		*na = r->element[0]->integer;
		*ng = r->element[1]->integer;
	}
	freeReplyObject(r);
	return (MGR_OK);
}

mgr_err
acct_store_login_ok(const char *username, int temp, const char *source, int reserved)
{
	struct login_keys k;
	struct acct_state none;
	char now[24], ttl[24];
	const char *argv[7];
	redisReply *r;
	mgr_err rv;

	memset(&none, 0, sizeof(none));
	login_keys(&k, username, temp, source, &none);
	snprintf(now, sizeof(now), "%lld", (long long)mgr_now_s());
	snprintf(ttl, sizeof(ttl), "%d", ACCT_KNOWN_TTL_S);
	argv[0] = k.addr;
	argv[1] = k.glob;
	argv[2] = temp ? "" : k.known;
	argv[3] = source;
	argv[4] = now;
	argv[5] = ttl;
	argv[6] = reserved ? "1" : "0";
	if ((rv = kv_eval(&r, lua_ok, 0, 7, argv, NULL)) != MGR_OK)
		return (rv);
	freeReplyObject(r);
	return (MGR_OK);
}
