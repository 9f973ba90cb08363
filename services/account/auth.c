/* account.AuthBasic: HTTP Basic checks for the gateway, with lockout.
 *
 * Lockout: every failure for a user name increments lockout:<admin|temp>:<u>
 * in Redis (shared by all replicas). The counter lives MANAGER_LOCKOUT_S
 * from the first failure (the window), and when it reaches
 * MANAGER_LOGIN_MAX_FAILURES its life restarts: for MANAGER_LOCKOUT_S every
 * attempt, right password or not, gets rate_limited without any hashing and
 * without extending the lock. A success deletes the counter. Unknown user
 * names are counted too, and cost a hash computation like known ones.
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

/* KEYS[1] lockout key, KEYS[2] admin:<u> or acct:user:<u>;
 * ARGV[1] max failures, ARGV[2] "1" for one-time credentials.
 * → {"locked"} | {"nouser"} | {"ok", failures, id, state, pwhash, cred_version}
 * (acct:{<id>} is found through acct:user:<u>, so it cannot be a KEYS entry;
 * these keys do not share a hash tag anyway.) */
static const char lua_lookup[] =
    "local n = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "if n >= tonumber(ARGV[1]) then return {'locked'} end\n"
    "if ARGV[2] == '1' then\n"
    "  local id = redis.call('GET', KEYS[2])\n"
    "  if not id then return {'nouser'} end\n"
    "  local h = redis.call('HMGET', 'acct:{' .. id .. '}', 'state', 'pwhash',"
    " 'cred_version')\n"
    "  if not h[2] then return {'nouser'} end\n"
    "  return {'ok', tostring(n), id, h[1] or '', h[2], h[3] or '0'}\n"
    "end\n"
    "local pw = redis.call('HGET', KEYS[2], 'pwhash')\n"
    "if not pw then return {'nouser'} end\n"
    "return {'ok', tostring(n), ARGV[3], 'active', pw, '0'}\n";

/* KEYS[1] lockout key; ARGV[1] max failures, ARGV[2] lockout seconds.
 * → the failure count after this one. */
static const char lua_fail[] =
    "local n = redis.call('INCR', KEYS[1])\n"
    "if n == 1 or n == tonumber(ARGV[1]) then\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[2])\n"
    "end\n"
    "return n\n";

static long long
auth_count_failure(const struct acct_state *st, const char *lock_key,
    const char *request_id)
{
	char max[24], secs[24];
	const char *argv[3];
	redisReply *r;
	long long n = 0;

	snprintf(max, sizeof(max), "%lld", (long long)st->max_failures);
	snprintf(secs, sizeof(secs), "%lld", (long long)st->lockout_s);
	argv[0] = lock_key;
	argv[1] = max;
	argv[2] = secs;
	if (kv_eval(&r, lua_fail, 1, 3, argv, NULL) != MGR_OK) {
		log_warn(request_id, "failed login not counted (Redis)");
		return (0);
	}
	if (r->type == REDIS_REPLY_INTEGER)
		n = r->integer;
	freeReplyObject(r);
	return (n);
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
	char lock_key[AUTH_USER_MAX + 32], user_key[AUTH_USER_MAX + 32], max[24];
	char id[MGR_ID_MAX + 1] = "", cred[24] = "0", state[32] = "";
	char stored[ACCT_PWHASH_MAX] = "";
	unsigned char proof[32];
	const char *argv[5];
	redisReply *r = NULL;
	const char *kind;
	long long fails = 0;
	int64_t n;
	int found = 0;
	mgr_err rv, vr;

	if (call->caller->kind != MGR__CALLER__KIND__SERVICE)
		return (rpc_fail(call, MGR_EPERM, "only the gateway checks passwords"));
	if ((rv = rpc_args(call, &mgr__account__auth_basic_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	kind = in->temp ? "temp" : "admin";
	actor.kind = in->temp ? MGR__CALLER__KIND__TEMP : MGR__CALLER__KIND__ADMIN;
	actor.id = in->username;
	if (in->username[0] == '\0' || strlen(in->username) > AUTH_USER_MAX ||
	    strlen(in->password) > 1024) {
		acct_pw_dummy(in->password);
		rv = rpc_fail(call, MGR_EUNAUTH, "wrong user name or password");
		audit_log(call->request_id, &actor, "auth.basic", "", rv,
		    "malformed user name");
		goto out;
	}
	snprintf(lock_key, sizeof(lock_key), "lockout:%s:%s", kind, in->username);
	snprintf(user_key, sizeof(user_key), "%s:%s",
	    in->temp ? "acct:user" : "admin", in->username);
	snprintf(max, sizeof(max), "%lld", (long long)st->max_failures);
	argv[0] = lock_key;
	argv[1] = user_key;
	argv[2] = max;
	argv[3] = in->temp ? "1" : "0";
	argv[4] = in->username;
	if ((rv = kv_eval(&r, lua_lookup, 2, 5, argv, NULL)) != MGR_OK)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	if (strcmp(elem(r, 0), "locked") == 0) {
		rv = rpc_fail(call, MGR_ERATE,
		    "too many failed logins for this user name; try again later");
		audit_log(call->request_id, &actor, "auth.basic", "", rv, "locked out");
		goto out;
	}
	if (strcmp(elem(r, 0), "ok") == 0 && r->elements >= 6) {
		found = 1;
		if (mgr_parse_i64(elem(r, 1), &n) == MGR_OK)
			fails = n;
		snprintf(id, sizeof(id), "%s", elem(r, 2));
		snprintf(state, sizeof(state), "%s", elem(r, 3));
		snprintf(stored, sizeof(stored), "%s", elem(r, 4));
		snprintf(cred, sizeof(cred), "%s", elem(r, 5));
	}
	if (!found) {
		acct_pw_dummy(in->password);
		vr = MGR_EUNAUTH;
	} else if (!in->temp) {
		cache_proof(stored, in->password, proof);
		if (cache_hit(in->username, proof)) {
			vr = MGR_OK;
		} else {
			vr = acct_pw_verify(in->password, stored);
			if (vr == MGR_OK)
				cache_put(in->username, proof);
		}
		OPENSSL_cleanse(proof, sizeof(proof));
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
		fails = auth_count_failure(st, lock_key, call->request_id);
		rv = rpc_fail(call, MGR_EUNAUTH, "wrong user name or password");
		audit_log(call->request_id, &actor, "auth.basic", id, rv,
		    !found ? "unknown user name"
		    : strcmp(state, "disabled") == 0 ? "account disabled"
		                                     : "wrong password");
		if (fails >= st->max_failures)
			audit_log(call->request_id, &actor, "auth.lockout", id, MGR_OK,
			    "too many failed logins; user name locked");
		goto out;
	}
	if (fails > 0) {
		freeReplyObject(r);
		r = NULL;
		if (kv_cmd(&r, "DEL %s", lock_key) != MGR_OK)
			r = NULL;
	}
	out.id = in->temp ? id : in->username;
	out.cred_version = mgr_parse_i64(cred, &n) == MGR_OK && n > 0 ? (uint64_t)n : 0;
	rv = rpc_reply(call, &out.base);
out:
	OPENSSL_cleanse(stored, sizeof(stored));
	if (r != NULL)
		freeReplyObject(r);
	if (in != NULL) {
		OPENSSL_cleanse(in->password, strlen(in->password));
		mgr__account__auth_basic_request__free_unpacked(in, NULL);
	}
	return (rv);
}
