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
#include "common/op.h"
#include "common/util.h"
#include "proto/account.pb-c.h"
#include "services/account/password.h"
#include "services/account/store.h"

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

/* The source address as a key part: what the gateway sent when it is an
 * address (hex digits, '.', ':'), else "unknown". */
static const char *
auth_source(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ACCT_LOGIN_SOURCE_MAX ||
	    strspn(s, "0123456789abcdefABCDEF.:") != n)
		return ("unknown");
	return (s);
}

/* Verifies password against what login found: a cached proof for an
 * administrator (*cached), else the slow hash; one-time credentials only
 * while the account is pending registration. */
static mgr_err
auth_verify(const Mgr__Account__AuthBasicRequest *in, const struct acct_login *l,
    const unsigned char proof[32], int cached)
{
	mgr_err vr;

	if (!l->found) {
		acct_pw_dummy(in->password);
		return (MGR_EUNAUTH);
	}
	if (in->temp) {
		vr = acct_pw_verify(in->password, l->pwhash);
		/* Disabled before registration: the credentials do not work. */
		if (vr == MGR_OK && strcmp(l->state, "pending_registration") != 0)
			vr = MGR_EUNAUTH;
		return (vr);
	}
	if (cached)
		return (MGR_OK);
	vr = acct_pw_verify(in->password, l->pwhash);
	if (vr == MGR_OK)
		cache_put(in->username, proof);
	return (vr);
}

static void
auth_scrub(ProtobufCMessage *m)
{
	Mgr__Account__AuthBasicRequest *in = (Mgr__Account__AuthBasicRequest *)m;

	OPENSSL_cleanse(in->password, strlen(in->password));
}

mgr_err
acct_h_auth_basic(struct rpc_call *call, void *arg)
{
	const struct acct_state *st = arg;
	Mgr__Account__AuthBasicRequest *in = NULL;
	Mgr__Account__AuthBasicReply out = MGR__ACCOUNT__AUTH_BASIC_REPLY__INIT;
	Mgr__Caller actor = MGR__CALLER__INIT;
	struct acct_login l;
	struct op op;
	unsigned char proof[32];
	char detail[160];
	const char *kind, *source;
	long long na = 0, ng = 0;
	int cached = 0, locked;
	mgr_err rv, vr;

	memset(&l, 0, sizeof(l));
	memset(proof, 0, sizeof(proof));
	if (call->caller->kind != MGR__CALLER__KIND__SERVICE)
		return (rpc_fail(call, MGR_EPERM, "only the gateway checks passwords"));
	if ((rv = op_begin(&op, call, NULL, &mgr__account__auth_basic_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	op.scrub = auth_scrub;
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
	if ((rv = acct_store_login(in->username, in->temp, source, st, &l)) != MGR_OK)
		goto out;
	locked = l.locked;
	/* A password this process verified a moment ago (the cache) is no
	 * guess: it takes no slot, so that an administrator's parallel
	 * requests are never refused for its own success. Every other check
	 * takes its slot first, atomically with the lock check. */
	if (l.found && !in->temp) {
		cache_proof(l.pwhash, in->password, proof);
		cached = cache_hit(in->username, proof);
	}
	if (!locked && !cached &&
	    (rv = acct_store_login_reserve(in->username, in->temp, source, st,
	         &locked)) != MGR_OK)
		goto out;
	if (locked) {
		rv = rpc_fail(call, MGR_ERATE,
		    locked == ACCT_LOGIN_LOCKED_GLOBAL
		        ? "too many failed logins for this user name; try again later"
		        : "too many failed logins for this user name from this "
		          "address; try again later");
		snprintf(detail, sizeof(detail), "locked out (%s), from %s",
		    locked == ACCT_LOGIN_LOCKED_GLOBAL ? "all addresses" : "this address",
		    source);
		audit_log(call->request_id, &actor, "auth.basic", "", rv, detail);
		goto out;
	}
	if ((vr = auth_verify(in, &l, proof, cached)) != MGR_OK) {
		if (vr == MGR_EINVAL)
			log_error(call->request_id, "unreadable password hash of %s %s",
			    kind, in->temp ? l.id : in->username);
		if (acct_store_login_failed(in->username, in->temp, source, st, &na,
		        &ng) != MGR_OK)
			log_warn(call->request_id, "failed login not recorded (Redis)");
		rv = rpc_fail(call, MGR_EUNAUTH, "wrong user name or password");
		snprintf(detail, sizeof(detail), "%s, from %s",
		    !l.found                               ? "unknown user name"
		        : strcmp(l.state, "disabled") == 0 ? "account disabled"
		                                           : "wrong password",
		    source);
		audit_log(call->request_id, &actor, "auth.basic", l.id, rv, detail);
		if (na == st->max_failures) {
			snprintf(detail, sizeof(detail),
			    "too many failed logins; user "
			    "name locked for address %s",
			    source);
			audit_log(call->request_id, &actor, "auth.lockout", l.id, MGR_OK,
			    detail);
		}
		if (ng == st->global_max_failures)
			audit_log(call->request_id, &actor, "auth.lockout", l.id, MGR_OK,
			    "too many failed logins from all addresses; user name "
			    "locked for addresses it never logged in from");
		goto out;
	}
	if (acct_store_login_ok(in->username, in->temp, source, !cached) != MGR_OK)
		log_warn(call->request_id, "successful login not recorded (Redis)");
	out.id = in->temp ? l.id : in->username;
	out.role = l.role;
	out.cred_version = l.cred_version;
	rv = rpc_reply(call, &out.base);
out:
	OPENSSL_cleanse(l.pwhash, sizeof(l.pwhash));
	OPENSSL_cleanse(proof, sizeof(proof));
	return (op_end(&op, rv));
}
