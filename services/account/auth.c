/* account.AuthBasic: HTTP Basic checks for the gateway, with lockout.
 *
 * Two limits, both kept in Redis (shared by all replicas), both counted
 * BEFORE the password is verified, in the same Lua step that reads them:
 * an attempt takes its slot first, so that no number of parallel requests
 * gets more than the limit checked (8 at once against a limit of 5: 5 are
 * verified, 3 get rate_limited).
 * - Per user name and source address: lockout:<admin|temp>:<u>@<address>.
 *   MANAGER_LOGIN_MAX_FAILURES attempts within MANAGER_LOCKOUT_S of the
 *   first; the attempt that reaches the limit and fails restarts the key's
 *   life, so the address is refused for MANAGER_LOCKOUT_S from its last
 *   failure. The address that guesses is refused; the same user name from
 *   another address is not.
 * - Per user name, over all addresses (distributed guessing):
 *   lockout:<kind>:<u>. MANAGER_LOGIN_GLOBAL_MAX_FAILURES (100) within
 *   MANAGER_LOGIN_GLOBAL_WINDOW_S (3600) of the first, refused for that
 *   window from the failure that reached it. Addresses from which this
 *   user name logged in successfully in the last ACCT_KNOWN_TTL_S (30 days,
 *   login:known:<kind>:<u>, a hash address -> time) are not held by it, so
 *   that guessing from elsewhere does not lock the administrators out.
 * A locked attempt is refused without any hashing and counts no further.
 * The one check that takes no slot is a hit of the verification cache
 * below (a password this process verified within ACCT_CACHE_TTL_S: no
 * guess ever hits it), so that an administrator's parallel requests are not
 * refused for its own in-flight successes; it still obeys the locks. A
 * success gives its slots back: the per-address count is deleted (the
 * address knows the password), the global count goes down by this attempt
 * only. Unknown user names are counted too, and cost a hash computation
 * like known ones. The gateway sends the peer address (IPv6 by /64).
 *
 * Verification cache (administrators only): every admin API call carries
 * the password, and a slow hash per call would make the API slow. A
 * successful verification is remembered for ACCT_CACHE_TTL_S as
 * SHA-256(stored hash string || NUL || password) per user name. The stored
 * hash is read from Redis on every call, so a password change anywhere
 * (new salt, new hash string) invalidates the entry at once. One-time
 * credentials are used once and are never cached. */
#include "services/account/account.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/audit.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/util.h"
#include "proto/account.pb-c.h"
#include "services/account/password.h"

#define ACCT_CACHE_SLOTS 32
#define ACCT_CACHE_TTL_S 60
#define AUTH_USER_MAX 256

struct cache_ent {
	char user[AUTH_USER_MAX + 1];
	unsigned char proof[32];
	int64_t expires;
};

static struct cache_ent auth_cache[ACCT_CACHE_SLOTS];
static pthread_mutex_t auth_cache_mu = PTHREAD_MUTEX_INITIALIZER;

static void
cache_proof(const char *stored, const char *password, unsigned char out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;

	memset(out, 0, 32);
	if (md == NULL)
		return;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, stored, strlen(stored) + 1) != 1 ||
	    EVP_DigestUpdate(md, password, strlen(password)) != 1 ||
	    EVP_DigestFinal_ex(md, out, &n) != 1)
		memset(out, 0, 32);
	EVP_MD_CTX_free(md);
}

static int
cache_hit(const char *user, const unsigned char proof[32])
{
	int64_t now = mgr_now_s();
	int hit = 0;

	pthread_mutex_lock(&auth_cache_mu);
	for (int i = 0; i < ACCT_CACHE_SLOTS; i++) {
		struct cache_ent *e = &auth_cache[i];

		if (e->expires > now && strcmp(e->user, user) == 0 &&
		    CRYPTO_memcmp(e->proof, proof, 32) == 0) {
			hit = 1;
			break;
		}
	}
	pthread_mutex_unlock(&auth_cache_mu);
	return (hit);
}

static void
cache_put(const char *user, const unsigned char proof[32])
{
	int64_t now = mgr_now_s();
	struct cache_ent *slot = NULL;

	pthread_mutex_lock(&auth_cache_mu);
	for (int i = 0; i < ACCT_CACHE_SLOTS; i++) {
		struct cache_ent *e = &auth_cache[i];

		if (strcmp(e->user, user) == 0) {
			slot = e;
			break;
		}
		if (slot == NULL || e->expires < slot->expires)
			slot = e; /* the oldest (or an empty) slot */
	}
	snprintf(slot->user, sizeof(slot->user), "%s", user);
	memcpy(slot->proof, proof, 32);
	slot->expires = now + ACCT_CACHE_TTL_S;
	pthread_mutex_unlock(&auth_cache_mu);
}

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

/* Takes the attempt's slot in both counts, in the step that checks them
 * (ARGV as lua_lookup's): {"ok"}, or the lock that holds now. */
static const char lua_reserve[] =
    AUTH_LUA_LOCKED
    "if redis.call('INCR', ARGV[1]) == 1 then\n"
    "  redis.call('EXPIRE', ARGV[1], ARGV[6]) end\n"
    "if redis.call('INCR', ARGV[2]) == 1 then\n"
    "  redis.call('EXPIRE', ARGV[2], ARGV[8]) end\n"
    "return {'ok'}\n";

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

/* The counts after a failure (0 when Redis failed: logged). */
static void
auth_count_failure(const struct acct_state *st, const char *addr_key,
    const char *glob_key, const char *request_id, long long *na, long long *ng)
{
	char max[24], secs[24], gmax[24], gsecs[24];
	const char *argv[6];
	redisReply *r;

	*na = *ng = 0;
	snprintf(max, sizeof(max), "%lld", (long long)st->max_failures);
	snprintf(secs, sizeof(secs), "%lld", (long long)st->lockout_s);
	snprintf(gmax, sizeof(gmax), "%lld", (long long)st->global_max_failures);
	snprintf(gsecs, sizeof(gsecs), "%lld", (long long)st->global_window_s);
	argv[0] = addr_key;
	argv[1] = glob_key;
	argv[2] = max;
	argv[3] = secs;
	argv[4] = gmax;
	argv[5] = gsecs;
	if (kv_eval(&r, lua_fail, 0, 6, argv, NULL) != MGR_OK) {
		log_warn(request_id, "failed login not recorded (Redis)");
		return;
	}
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[1]->type == REDIS_REPLY_INTEGER) {
		*na = r->element[0]->integer;
		*ng = r->element[1]->integer;
	}
	freeReplyObject(r);
}

static void
auth_count_success(const char *addr_key, const char *glob_key,
    const char *known_key, const char *source, int reserved,
    const char *request_id)
{
	char now[24], ttl[24];
	const char *argv[7];
	redisReply *r;

	snprintf(now, sizeof(now), "%lld", (long long)mgr_now_s());
	snprintf(ttl, sizeof(ttl), "%d", ACCT_KNOWN_TTL_S);
	argv[0] = addr_key;
	argv[1] = glob_key;
	argv[2] = known_key;
	argv[3] = source;
	argv[4] = now;
	argv[5] = ttl;
	argv[6] = reserved ? "1" : "0";
	if (kv_eval(&r, lua_ok, 0, 7, argv, NULL) != MGR_OK) {
		log_warn(request_id, "successful login not recorded (Redis)");
		return;
	}
	freeReplyObject(r);
}

/* The source address as a key part: what the gateway sent when it is an
 * address (hex digits, '.', ':'), else "unknown". */
static const char *
auth_source(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > AUTH_SOURCE_MAX ||
	    strspn(s, "0123456789abcdefABCDEF.:") != n)
		return ("unknown");
	return (s);
}

static const char *
elem(const redisReply *r, size_t i)
{
	if (i >= r->elements || r->element[i]->type != REDIS_REPLY_STRING)
		return ("");
	return (r->element[i]->str);
}

mgr_err
acct_h_auth_basic(struct rpc_call *call, void *arg)
{
	const struct acct_state *st = arg;
	Mgr__Account__AuthBasicRequest *in = NULL;
	Mgr__Account__AuthBasicReply out = MGR__ACCOUNT__AUTH_BASIC_REPLY__INIT;
	Mgr__Caller actor = MGR__CALLER__INIT;
	char addr_key[AUTH_USER_MAX + AUTH_SOURCE_MAX + 32],
	    glob_key[AUTH_USER_MAX + 32], known_key[AUTH_USER_MAX + 32],
	    user_key[AUTH_USER_MAX + 32], max[24], secs[24], gmax[24], gsecs[24];
	char id[MGR_ID_MAX + 1] = "", cred[24] = "0", state[32] = "", role[32] = "";
	char stored[ACCT_PWHASH_MAX] = "", detail[160];
	unsigned char proof[32];
	const char *argv[11], *source;
	redisReply *r = NULL;
	const char *kind;
	long long na = 0, ng = 0;
	int64_t n;
	int found = 0, cached = 0;
	mgr_err rv, vr;

	memset(proof, 0, sizeof(proof));
	if (call->caller->kind != MGR__CALLER__KIND__SERVICE)
		return (rpc_fail(call, MGR_EPERM, "only the gateway checks passwords"));
	if ((rv = rpc_args(call, &mgr__account__auth_basic_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	kind = in->temp ? "temp" : "admin";
	actor.kind = in->temp ? MGR__CALLER__KIND__TEMP : MGR__CALLER__KIND__ADMIN;
	actor.id = in->username;
	source = auth_source(in->source);
	if (in->username[0] == '\0' || strlen(in->username) > AUTH_USER_MAX ||
	    strlen(in->password) > 1024) {
		acct_pw_dummy(in->password);
		rv = rpc_fail(call, MGR_EUNAUTH, "wrong user name or password");
		audit_log(call->request_id, &actor, "auth.basic", "", rv,
		    "malformed user name");
		goto out;
	}
	snprintf(addr_key, sizeof(addr_key), "lockout:%s:%s@%s", kind, in->username,
	    source);
	snprintf(glob_key, sizeof(glob_key), "lockout:%s:%s", kind, in->username);
	snprintf(known_key, sizeof(known_key), "login:known:%s:%s", kind, in->username);
	snprintf(user_key, sizeof(user_key), "%s:%s",
	    in->temp ? "acct:user" : "admin", in->username);
	snprintf(max, sizeof(max), "%lld", (long long)st->max_failures);
	snprintf(secs, sizeof(secs), "%lld", (long long)st->lockout_s);
	snprintf(gmax, sizeof(gmax), "%lld", (long long)st->global_max_failures);
	snprintf(gsecs, sizeof(gsecs), "%lld", (long long)st->global_window_s);
	argv[0] = addr_key;
	argv[1] = glob_key;
	argv[2] = known_key;
	argv[3] = user_key;
	argv[4] = max;
	argv[5] = secs;
	argv[6] = gmax;
	argv[7] = gsecs;
	argv[8] = in->temp ? "1" : "0";
	argv[9] = in->username;
	argv[10] = source;
	if ((rv = kv_eval(&r, lua_lookup, 0, 11, argv, NULL)) != MGR_OK)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	found = strcmp(elem(r, 0), "ok") == 0 && r->elements >= 6;
	if (found) {
		snprintf(id, sizeof(id), "%s", elem(r, 1));
		snprintf(state, sizeof(state), "%s", elem(r, 2));
		snprintf(stored, sizeof(stored), "%s", elem(r, 3));
		snprintf(cred, sizeof(cred), "%s", elem(r, 4));
		snprintf(role, sizeof(role), "%s", elem(r, 5));
	}
	/* A password this process verified a moment ago (the cache) is no
	 * guess: it takes no slot, so that an administrator's parallel
	 * requests are never refused for its own success. Every other check
	 * takes its slot first, atomically with the lock check. */
	if (found && !in->temp) {
		cache_proof(stored, in->password, proof);
		cached = cache_hit(in->username, proof);
	}
	if (!cached && strcmp(elem(r, 0), "locked") != 0 &&
	    strcmp(elem(r, 0), "locked_global") != 0) {
		freeReplyObject(r);
		r = NULL;
		if ((rv = kv_eval(&r, lua_reserve, 0, 11, argv, NULL)) != MGR_OK)
			goto out;
		if (r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
			rv = MGR_EINTERNAL;
			goto out;
		}
	}
	if (strcmp(elem(r, 0), "locked") == 0 ||
	    strcmp(elem(r, 0), "locked_global") == 0) {
		int global = strcmp(elem(r, 0), "locked_global") == 0;

		rv = rpc_fail(call, MGR_ERATE, global
		    ? "too many failed logins for this user name; try again later"
		    : "too many failed logins for this user name from this "
		      "address; try again later");
		snprintf(detail, sizeof(detail), "locked out (%s), from %s",
		    global ? "all addresses" : "this address", source);
		audit_log(call->request_id, &actor, "auth.basic", "", rv, detail);
		goto out;
	}
	if (!found) {
		acct_pw_dummy(in->password);
		vr = MGR_EUNAUTH;
	} else if (!in->temp) {
		if (cached) {
			vr = MGR_OK;
		} else {
			vr = acct_pw_verify(in->password, stored);
			if (vr == MGR_OK)
				cache_put(in->username, proof);
		}
	} else {
		vr = acct_pw_verify(in->password, stored);
		/* Disabled before registration: the credentials do not work. */
		if (vr == MGR_OK && strcmp(state, "pending_registration") != 0)
			vr = MGR_EUNAUTH;
	}
	if (vr != MGR_OK) {
		if (vr == MGR_EINVAL)
			log_error(call->request_id, "unreadable password hash of %s %s",
			    kind, in->temp ? id : in->username);
		auth_count_failure(st, addr_key, glob_key, call->request_id, &na, &ng);
		rv = rpc_fail(call, MGR_EUNAUTH, "wrong user name or password");
		snprintf(detail, sizeof(detail), "%s, from %s",
		    !found ? "unknown user name"
		    : strcmp(state, "disabled") == 0 ? "account disabled"
		                                     : "wrong password", source);
		audit_log(call->request_id, &actor, "auth.basic", id, rv, detail);
		if (na == st->max_failures) {
			snprintf(detail, sizeof(detail), "too many failed logins; user "
			    "name locked for address %s", source);
			audit_log(call->request_id, &actor, "auth.lockout", id, MGR_OK,
			    detail);
		}
		if (ng == st->global_max_failures)
			audit_log(call->request_id, &actor, "auth.lockout", id, MGR_OK,
			    "too many failed logins from all addresses; user name "
			    "locked for addresses it never logged in from");
		goto out;
	}
	auth_count_success(addr_key, glob_key, in->temp ? "" : known_key, source,
	    !cached, call->request_id);
	out.id = in->temp ? id : in->username;
	out.role = role;
	out.cred_version = mgr_parse_i64(cred, &n) == MGR_OK && n > 0 ? (uint64_t)n : 0;
	rv = rpc_reply(call, &out.base);
out:
	OPENSSL_cleanse(stored, sizeof(stored));
	OPENSSL_cleanse(proof, sizeof(proof));
	if (r != NULL)
		freeReplyObject(r);
	if (in != NULL) {
		OPENSSL_cleanse(in->password, strlen(in->password));
		mgr__account__auth_basic_request__free_unpacked(in, NULL);
	}
	return (rv);
}
