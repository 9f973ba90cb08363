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

/* Verifies password against what login found: a cached proof for an
 * administrator, else the slow hash; one-time credentials only while the
 * account is pending registration. */
static mgr_err
auth_verify(const Mgr__Account__AuthBasicRequest *in, const struct acct_login *l)
{
	unsigned char proof[32];
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
	cache_proof(l->pwhash, in->password, proof);
	if (cache_hit(in->username, proof)) {
		vr = MGR_OK;
	} else {
		vr = acct_pw_verify(in->password, l->pwhash);
		if (vr == MGR_OK)
			cache_put(in->username, proof);
	}
	OPENSSL_cleanse(proof, sizeof(proof));
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
	const char *kind;
	long long fails;
	mgr_err rv, vr;

	memset(&l, 0, sizeof(l));
	if (call->caller->kind != MGR__CALLER__KIND__SERVICE)
		return (rpc_fail(call, MGR_EPERM, "only the gateway checks passwords"));
	if ((rv = op_begin(&op, call, NULL,
	         &mgr__account__auth_basic_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	op.scrub = auth_scrub;
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
	if ((rv = acct_store_login(in->username, in->temp, st->max_failures,
	         &l)) != MGR_OK)
		goto out;
	if (l.locked) {
		rv = rpc_fail(call, MGR_ERATE,
		    "too many failed logins for this user name; try again later");
		audit_log(call->request_id, &actor, "auth.basic", "", rv, "locked out");
		goto out;
	}
	if ((vr = auth_verify(in, &l)) != MGR_OK) {
		if (vr == MGR_EINVAL)
			log_error(call->request_id, "unreadable password hash of %s %s",
			    kind, in->temp ? l.id : in->username);
		fails = acct_store_login_failed(in->username, in->temp,
		    st->max_failures, st->lockout_s);
		if (fails < 0) {
			log_warn(call->request_id, "failed login not counted (Redis)");
			fails = 0;
		}
		rv = rpc_fail(call, MGR_EUNAUTH, "wrong user name or password");
		audit_log(call->request_id, &actor, "auth.basic", l.id, rv,
		    !l.found ? "unknown user name"
		    : strcmp(l.state, "disabled") == 0 ? "account disabled"
		                                       : "wrong password");
		if (fails >= st->max_failures)
			audit_log(call->request_id, &actor, "auth.lockout", l.id, MGR_OK,
			    "too many failed logins; user name locked");
		goto out;
	}
	if (l.failures > 0)
		acct_store_login_ok(in->username, in->temp);
	out.id = in->temp ? l.id : in->username;
	out.cred_version = l.cred_version;
	rv = rpc_reply(call, &out.base);
out:
	OPENSSL_cleanse(l.pwhash, sizeof(l.pwhash));
	return (op_end(&op, rv));
}
