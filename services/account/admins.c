/* Administrators (API.md "Administrators (v2)"): create, list, delete, and
 * change one's own password with the current one.
 *
 * Keys: admin:<username> (hash username, pwhash, role, created_at) and
 * admin:all (zset of user names by creation time in ms). The first
 * administrator, "admin", is made by admin.c and is a super_user; a record
 * without a role (made before roles existed) is a super_user too.
 *
 * Which role may call which method is decided by the gateway's one route
 * table (gateway/roles.c), for every front; this service checks what only
 * it can: the names, the roles' spelling, that a password change is the
 * caller's own and carries its current password, and, in the same Lua step
 * as the delete, that the last super_user stays. Every change, refused or
 * not, is an audit record naming the acting administrator (the caller). */
#include "services/account/account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/audit.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/replay.h"
#include "common/util.h"
#include "proto/account.pb-c.h"
#include "services/account/password.h"
#include "services/account/rules.h"

#define ADMIN_KEY_MAX (ACCT_USER_MAX + 32)

static const char *const admin_roles[] = {
    ACCT_ADMIN_SUPER_USER,
    ACCT_ADMIN_SECURITY_OFFICER,
    ACCT_ADMIN_OPERATOR,
    NULL,
};

int
acct_admin_role_ok(const char *role)
{
	for (int i = 0; admin_roles[i] != NULL; i++)
		if (strcmp(role, admin_roles[i]) == 0)
			return (1);
	return (0);
}

/* KEYS admin:<u>, admin:all; ARGV username, pwhash, role, created_at (s),
 * created_at (ms), replay key, reply. */
/* clang-format off */
static const char lua_create[] =
    REPLAY_LUA
    "if replay_seen(ARGV[6]) then return " REPLAY_LUA_SIGNAL " end\n"
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 'conflict' end\n"
    "if redis.call('ZCARD', KEYS[2]) >= " REPLAY_STR(ACCT_ADMINS_MAX) " then\n"
    "  return 'full' end\n"
    "redis.call('HSET', KEYS[1], 'username', ARGV[1], 'pwhash', ARGV[2],"
    " 'role', ARGV[3], 'created_at', ARGV[4])\n"
    "redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])\n"
    "replay_save(ARGV[6], ARGV[7])\n"
    "return 'ok'\n";
/* clang-format on */

/* KEYS admin:all. → {username, role, created_at, ...} in creation order. */
/* clang-format off */
static const char lua_list[] =
    "local out = {}\n"
    "for _, u in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do\n"
    "  local h = redis.call('HMGET', 'admin:' .. u, 'role', 'created_at')\n"
    "  if h[2] then\n"
    "    out[#out + 1] = u\n"
    "    out[#out + 1] = (h[1] and h[1] ~= '') and h[1] or '" ACCT_ADMIN_SUPER_USER "'\n"
    "    out[#out + 1] = h[2]\n"
    "  end\n"
    "end\n"
    "return out\n";
/* clang-format on */

/* KEYS admin:<u>, admin:all; ARGV username, replay key, reply. The last
 * super_user is counted in the same step, so two deletes at once cannot
 * both pass. The user's lockout counters go too. */
/* clang-format off */
static const char lua_delete[] =
    REPLAY_LUA
    "if replay_seen(ARGV[2]) then return " REPLAY_LUA_SIGNAL " end\n"
    "local role = redis.call('HGET', KEYS[1], 'role')\n"
    "if not redis.call('HGET', KEYS[1], 'pwhash') then return 'notfound' end\n"
    "if not role or role == '' then role = '" ACCT_ADMIN_SUPER_USER "' end\n"
    "if role == '" ACCT_ADMIN_SUPER_USER "' then\n"
    "  local n = 0\n"
    "  for _, u in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do\n"
    "    local r = redis.call('HGET', 'admin:' .. u, 'role')\n"
    "    if (not r or r == '' or r == '" ACCT_ADMIN_SUPER_USER "') and\n"
    "       redis.call('EXISTS', 'admin:' .. u) == 1 then n = n + 1 end\n"
    "  end\n"
    "  if n <= 1 then return 'last' end\n"
    "end\n"
    "redis.call('DEL', KEYS[1], 'lockout:admin:' .. ARGV[1],"
    " 'login:known:admin:' .. ARGV[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "replay_save(ARGV[2], ARGV[3])\n"
    "return 'ok'\n";
/* clang-format on */

/* KEYS admin:<u>; ARGV the hash the current password was checked against,
 * the new hash, replay key, reply. Compare-and-set: a change in between
 * (another replica, MANAGER_ADMIN_PASSWORD) wins and this one is refused. */
/* clang-format off */
static const char lua_set_password[] =
    REPLAY_LUA
    "if replay_seen(ARGV[3]) then return " REPLAY_LUA_SIGNAL " end\n"
    "local h = redis.call('HGET', KEYS[1], 'pwhash')\n"
    "if not h then return 'notfound' end\n"
    "if h ~= ARGV[1] then return 'changed' end\n"
    "redis.call('HSET', KEYS[1], 'pwhash', ARGV[2], 'pw_set_by', 'api')\n"
    "replay_save(ARGV[3], ARGV[4])\n"
    "return 'ok'\n";
/* clang-format on */

static mgr_err
admin_require(struct rpc_call *call)
{
	if (call->caller->kind != MGR__CALLER__KIND__ADMIN)
		return (rpc_fail(call, MGR_EPERM, "administrators only"));
	return (MGR_OK);
}

static void
admin_audit(struct rpc_call *call, const char *action, const char *target, mgr_err rv,
    const char *detail)
{
	audit_log(call->request_id, call->caller, action, target, rv,
	    rv != MGR_OK ? call->message : detail);
}

/* Runs script; its status word into status, or a replay answered (*done). */
static mgr_err
admin_commit(struct rpc_call *call, const char *script, int nkeys, int argc,
    const char **argv, struct replay *rp, char *status, size_t statuslen, int *done)
{
	redisReply *r = NULL;
	size_t lens[12];
	mgr_err rv;

	*done = 0;
	argv[argc++] = rp->key;
	argv[argc++] = (const char *)rp->reply;
	replay_argvlen(rp, argc, argv, lens);
	if ((rv = kv_eval(&r, script, nkeys, argc, argv, lens)) != MGR_OK)
		return (rv);
	if (replay_signalled(r)) {
		freeReplyObject(r);
		*done = 1;
		return (replay_answer(rp, call));
	}
	if (r->type != REDIS_REPLY_STRING) {
		freeReplyObject(r);
		return (MGR_EINTERNAL);
	}
	snprintf(status, statuslen, "%s", r->str);
	freeReplyObject(r);
	return (MGR_OK);
}

mgr_err
acct_h_admin_create(struct rpc_call *call, void *arg)
{
	Mgr__Account__AdminCreateRequest *in = NULL;
	Mgr__Account__Admin out = MGR__ACCOUNT__ADMIN__INIT;
	char key[ADMIN_KEY_MAX], pwhash[ACCT_PWHASH_MAX], cs[24], cms[24], status[32];
	const char *argv[10];
	struct replay rp = {.reply = NULL};
	const char *target = "";
	int64_t ms;
	int done = 0;
	mgr_err rv;

	(void)arg;
	pwhash[0] = '\0';
	if ((rv = admin_require(call)) != MGR_OK)
		goto out;
	if ((rv = rpc_args(call, &mgr__account__admin_create_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	if (!acct_username_ok(in->username)) {
		rv = rpc_fail(call, MGR_EINVAL,
		    "\"username\" must be %d to %d of "
		    "[A-Za-z0-9._-]",
		    ACCT_USER_MIN, ACCT_USER_MAX);
		goto out;
	}
	target = in->username;
	if (!acct_admin_role_ok(in->role)) {
		rv = rpc_fail(call, MGR_EINVAL,
		    "\"role\" must be \"%s\", \"%s\" or \"%s\"", ACCT_ADMIN_SUPER_USER,
		    ACCT_ADMIN_SECURITY_OFFICER, ACCT_ADMIN_OPERATOR);
		goto out;
	}
	if (!acct_pw_acceptable(in->password)) {
		rv = rpc_fail(call, MGR_EINVAL,
		    "\"password\" must be %d to %d "
		    "characters",
		    ACCT_PW_MIN_CHARS, ACCT_PW_MAX_CHARS);
		goto out;
	}
	if ((rv = acct_pw_hash(in->password, pwhash, sizeof(pwhash))) != MGR_OK)
		goto out;
	ms = mgr_now_ms();
	out.username = in->username;
	out.role = in->role;
	out.created_at = ms / 1000;
	if ((rv = replay_init(&rp, call)) != MGR_OK ||
	    (rv = replay_prepare(&rp, &out.base)) != MGR_OK)
		goto out;
	snprintf(key, sizeof(key), "admin:%s", in->username);
	snprintf(cs, sizeof(cs), "%lld", (long long)out.created_at);
	snprintf(cms, sizeof(cms), "%lld", (long long)ms);
	argv[0] = key;
	argv[1] = "admin:all";
	argv[2] = in->username;
	argv[3] = pwhash;
	argv[4] = in->role;
	argv[5] = cs;
	argv[6] = cms;
	if ((rv = admin_commit(call, lua_create, 2, 7, argv, &rp, status, sizeof(status),
	         &done)) != MGR_OK ||
	    done)
		goto out;
	if (strcmp(status, "conflict") == 0) {
		rv = rpc_fail(call, MGR_ECONFLICT,
		    "an administrator with this user name exists");
		goto out;
	}
	if (strcmp(status, "full") == 0) {
		rv = rpc_fail(call, MGR_ECONFLICT, "at most %d administrators",
		    ACCT_ADMINS_MAX);
		goto out;
	}
	rv = rpc_reply(call, &out.base);
out:
	OPENSSL_cleanse(pwhash, sizeof(pwhash));
	admin_audit(call, "admin.create", target, rv,
	    rv == MGR_OK && in != NULL ? (done ? "replayed" : in->role) : NULL);
	replay_clear(&rp);
	if (in != NULL) {
		OPENSSL_cleanse(in->password, strlen(in->password));
		mgr__account__admin_create_request__free_unpacked(in, NULL);
	}
	return (rv);
}

mgr_err
acct_h_admin_list(struct rpc_call *call, void *arg)
{
	Mgr__Account__AdminListReply out = MGR__ACCOUNT__ADMIN_LIST_REPLY__INIT;
	Mgr__Account__Admin *msgs = NULL, **ptrs = NULL;
	const char *argv[1] = {"admin:all"};
	redisReply *r = NULL;
	size_t n = 0;
	mgr_err rv;

	(void)arg;
	if ((rv = admin_require(call)) != MGR_OK)
		return (rv);
	if ((rv = kv_eval(&r, lua_list, 1, 1, argv, NULL)) != MGR_OK)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements % 3 != 0) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	n = r->elements / 3;
	if (n > 0 &&
	    ((msgs = calloc(n, sizeof(*msgs))) == NULL ||
	        (ptrs = calloc(n, sizeof(*ptrs))) == NULL)) {
		rv = MGR_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t t = 0;

		for (size_t j = 0; j < 3; j++)
			if (r->element[3 * i + j]->type != REDIS_REPLY_STRING) {
				rv = MGR_EINTERNAL;
				goto out;
			}
		mgr__account__admin__init(&msgs[i]);
		msgs[i].username = r->element[3 * i]->str;
		msgs[i].role = r->element[3 * i + 1]->str;
		(void)mgr_parse_i64(r->element[3 * i + 2]->str, &t);
		msgs[i].created_at = t;
		ptrs[i] = &msgs[i];
	}
	out.admins = ptrs;
	out.n_admins = n;
	rv = rpc_reply(call, &out.base);
out:
	free(msgs);
	free(ptrs);
	if (r != NULL)
		freeReplyObject(r);
	return (rv);
}

mgr_err
acct_h_admin_delete(struct rpc_call *call, void *arg)
{
	Mgr__Account__AdminRequest *in = NULL;
	Mgr__Empty empty = MGR__EMPTY__INIT;
	char key[ADMIN_KEY_MAX], status[32];
	const char *argv[6];
	struct replay rp = {.reply = NULL};
	const char *target = "";
	int done = 0;
	mgr_err rv;

	(void)arg;
	if ((rv = admin_require(call)) != MGR_OK)
		goto out;
	if ((rv = rpc_args(call, &mgr__account__admin_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	target = in->username;
	if (!acct_username_ok(in->username)) {
		rv = rpc_fail(call, MGR_ENOTFOUND, "no such administrator");
		goto out;
	}
	if ((rv = replay_init(&rp, call)) != MGR_OK ||
	    (rv = replay_prepare(&rp, &empty.base)) != MGR_OK)
		goto out;
	snprintf(key, sizeof(key), "admin:%s", in->username);
	argv[0] = key;
	argv[1] = "admin:all";
	argv[2] = in->username;
	if ((rv = admin_commit(call, lua_delete, 2, 3, argv, &rp, status, sizeof(status),
	         &done)) != MGR_OK ||
	    done)
		goto out;
	if (strcmp(status, "notfound") == 0) {
		rv = rpc_fail(call, MGR_ENOTFOUND, "no such administrator");
		goto out;
	}
	if (strcmp(status, "last") == 0) {
		rv = rpc_fail(call, MGR_ECONFLICT,
		    "the last super_user cannot be removed");
		goto out;
	}
	rv = rpc_reply(call, &empty.base);
out:
	admin_audit(call, "admin.delete", target, rv, done ? "replayed" : NULL);
	replay_clear(&rp);
	if (in != NULL)
		mgr__account__admin_request__free_unpacked(in, NULL);
	return (rv);
}

mgr_err
acct_h_admin_set_password(struct rpc_call *call, void *arg)
{
	Mgr__Account__AdminSetPasswordRequest *in = NULL;
	Mgr__Empty empty = MGR__EMPTY__INIT;
	char key[ADMIN_KEY_MAX], stored[ACCT_PWHASH_MAX], fresh[ACCT_PWHASH_MAX],
	    status[32];
	const char *argv[8];
	struct replay rp = {.reply = NULL};
	redisReply *r = NULL;
	const char *target = "";
	int done = 0, hit = 0;
	mgr_err rv;

	(void)arg;
	stored[0] = fresh[0] = '\0';
	if ((rv = admin_require(call)) != MGR_OK)
		goto out;
	if ((rv = rpc_args(call, &mgr__account__admin_set_password_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	target = in->username;
	/* Another's password is not ours to change, whatever the role: checked
	 * before anything else is looked at. */
	if (strcmp(in->username, call->caller->id) != 0) {
		rv = rpc_fail(call, MGR_EPERM,
		    "an administrator may change only its own password");
		goto out;
	}
	if ((rv = replay_init(&rp, call)) != MGR_OK ||
	    (rv = replay_lookup(&rp, call, &hit)) != MGR_OK)
		goto out;
	if (hit) {
		done = 1;
		goto out;
	}
	if (!acct_pw_acceptable(in->password)) {
		rv = rpc_fail(call, MGR_EINVAL,
		    "\"password\" must be %d to %d "
		    "characters",
		    ACCT_PW_MIN_CHARS, ACCT_PW_MAX_CHARS);
		goto out;
	}
	snprintf(key, sizeof(key), "admin:%s", in->username);
	if ((rv = kv_cmd(&r, "HGET %s pwhash", key)) != MGR_OK)
		goto out;
	if (r->type != REDIS_REPLY_STRING || (size_t)r->len >= sizeof(stored)) {
		rv = rpc_fail(call, MGR_ENOTFOUND, "no such administrator");
		goto out;
	}
	snprintf(stored, sizeof(stored), "%s", r->str);
	if (acct_pw_verify(in->current_password, stored) != MGR_OK) {
		rv = rpc_fail(call, MGR_EPERM,
		    "\"current_password\" is not the "
		    "current password");
		goto out;
	}
	if (strcmp(in->current_password, in->password) == 0) {
		rv = rpc_fail(call, MGR_EINVAL, "the new password is the current one");
		goto out;
	}
	if ((rv = acct_pw_hash(in->password, fresh, sizeof(fresh))) != MGR_OK ||
	    (rv = replay_prepare(&rp, &empty.base)) != MGR_OK)
		goto out;
	argv[0] = key;
	argv[1] = stored;
	argv[2] = fresh;
	if ((rv = admin_commit(call, lua_set_password, 1, 3, argv, &rp, status,
	         sizeof(status), &done)) != MGR_OK ||
	    done)
		goto out;
	if (strcmp(status, "notfound") == 0) {
		rv = rpc_fail(call, MGR_ENOTFOUND, "no such administrator");
		goto out;
	}
	if (strcmp(status, "changed") == 0) {
		rv = rpc_fail(call, MGR_ECONFLICT, "the password changed meanwhile");
		goto out;
	}
	rv = rpc_reply(call, &empty.base);
out:
	admin_audit(call, "admin.set_password", target, rv, done ? "replayed" : NULL);
	OPENSSL_cleanse(stored, sizeof(stored));
	OPENSSL_cleanse(fresh, sizeof(fresh));
	replay_clear(&rp);
	if (r != NULL)
		freeReplyObject(r);
	if (in != NULL) {
		OPENSSL_cleanse(in->password, strlen(in->password));
		OPENSSL_cleanse(in->current_password, strlen(in->current_password));
		mgr__account__admin_set_password_request__free_unpacked(in, NULL);
	}
	return (rv);
}
