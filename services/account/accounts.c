/* Private accounts: create, list, get, password, rename, disable, enable,
 * delete. The state machine lives here (the gateway only maps JSON):
 *
 *   pending_registration --(registration, ca-svc)--> active <--> disabled
 *
 * "Registered" means registered_at is set. Before registration the admin may
 * change the temporary password, rename, delete, disable and enable; after it
 * only rename, disable and enable (409 for the rest).
 * Disable and enable are idempotent (200 with the account as it is, no
 * event, when it is already in the asked state). A pending account may be
 * disabled too: its one-time credentials then stop working (401) and
 * registration is refused, until enable brings it back to
 * pending_registration. An admin expects "disable" to stop an account at any
 * time, and the contract never lets a pending account become active but by
 * registration.
 * Every action, refused or not, is an audit record; reads are not. */
#include "services/account/account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/audit.h"
#include "common/events.h"
#include "common/keys.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/page.h"
#include "common/replay.h"
#include "common/util.h"
#include "proto/account.pb-c.h"
#include "services/account/password.h"

#define ACCT_KEY_MAX (ACCT_NAME_MAX + 64)
#define ACCT_SCRIPT_MAX 8192

struct acct_rec {
	char id[MGR_ID_MAX + 1];
	char name[ACCT_NAME_MAX + 1];
	char role[32];
	char state[32];
	char username[ACCT_USER_MAX + 1];
	int64_t created_at;
	int64_t registered_at;
};

/* The scripts that change an account take the replay key and the prepared
 * reply (common/replay.h) as their last two ARGV: a request already done
 * answers REPLAYED, a commit records its reply. */
#define ACCT_LUA_REPLAYED(k) \
    "if replay_seen(ARGV[" k "]) then return " REPLAY_LUA_SIGNAL " end\n"

/* KEYS acct:{id}, acct:user:<u>, acct:name:<n>, acct:all;
 * ARGV id, name, role, username, pwhash, created_at (s), created_at (ms),
 * replay key, reply. */
static const char lua_create[] =
    REPLAY_LUA ACCT_LUA_REPLAYED("8")
    "if redis.call('EXISTS', KEYS[3]) == 1 then return 'name' end\n"
    "if redis.call('EXISTS', KEYS[2]) == 1 then return 'username' end\n"
    "redis.call('HSET', KEYS[1], 'id', ARGV[1], 'name', ARGV[2], 'role', ARGV[3],"
    " 'state', 'pending_registration', 'username', ARGV[4], 'pwhash', ARGV[5],"
    " 'cred_version', '1', 'created_at', ARGV[6], 'registered_at', '')\n"
    "redis.call('SET', KEYS[2], ARGV[1])\n"
    "redis.call('SET', KEYS[3], ARGV[1])\n"
    "redis.call('ZADD', KEYS[4], ARGV[7], ARGV[1])\n"
    "replay_save(ARGV[8], ARGV[9])\n"
    "return 'ok'\n";

/* KEYS acct:all; ARGV after (cursor, "" = from the start), limit. One page:
 * {next cursor or "", hash, hash, ...}. (The acct:{id} keys come from the
 * zset, so they cannot be KEYS entries.) */
static const char lua_list[] =
    MGR_PAGE_LUA
    "local ids, nxt = page_ids(KEYS[1], ARGV[1], tonumber(ARGV[2]))\n"
    "if not ids then return " MGR_PAGE_LUA_BAD " end\n"
    "local out = {nxt}\n"
    "for _, id in ipairs(ids) do\n"
    "  out[#out + 1] = redis.call('HGETALL', 'acct:{' .. id .. '}')\n"
    "end\n"
    "return out\n";

/* Registered: registered_at set (or active, whatever registered_at says). */
#define LUA_REGISTERED(h) \
    "((" h "[2] and " h "[2] ~= '') or " h "[1] == 'active')"

/* KEYS acct:{id}; ARGV pwhash, replay key, reply. The old user name's
 * lockout goes too. */
static const char lua_set_password[] =
    REPLAY_LUA ACCT_LUA_REPLAYED("2")
    "local h = redis.call('HMGET', KEYS[1], 'state', 'registered_at', 'username')\n"
    "if not h[1] then return 'notfound' end\n"
    "if " LUA_REGISTERED("h") " then return 'conflict' end\n"
    "redis.call('HSET', KEYS[1], 'pwhash', ARGV[1])\n"
    "redis.call('HINCRBY', KEYS[1], 'cred_version', 1)\n"
    "if h[3] and h[3] ~= '' then redis.call('DEL', 'lockout:temp:' .. h[3]) end\n"
    "replay_save(ARGV[2], ARGV[3])\n"
    "return 'ok'\n";

/* KEYS acct:{id}, acct:name:<new>; ARGV id, new name, replay key, reply. */
static const char lua_rename[] =
    REPLAY_LUA ACCT_LUA_REPLAYED("3")
    "local old = redis.call('HGET', KEYS[1], 'name')\n"
    "if not old then return 'notfound' end\n"
    "if old == ARGV[2] then return 'same' end\n"
    "if redis.call('EXISTS', KEYS[2]) == 1 then return 'conflict' end\n"
    "if redis.call('GET', 'acct:name:' .. old) == ARGV[1] then\n"
    "  redis.call('DEL', 'acct:name:' .. old)\n"
    "end\n"
    "redis.call('SET', KEYS[2], ARGV[1])\n"
    "redis.call('HSET', KEYS[1], 'name', ARGV[2])\n"
    "replay_save(ARGV[3], ARGV[4])\n"
    "return 'ok'\n";

/* After event_lua_emit. KEYS acct:{id}; ARGV id, "disable"|"enable", time,
 * replay key, reply. The state change, the auth-cache drop and the event are
 * one step. */
static const char lua_transition[] =
    REPLAY_LUA ACCT_LUA_REPLAYED("4")
    "local h = redis.call('HMGET', KEYS[1], 'state', 'registered_at')\n"
    "if not h[1] then return 'notfound' end\n"
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

/* KEYS acct:{id}, acct:all; ARGV id, replay key, reply. Only
 * never-registered accounts. */
static const char lua_delete[] =
    REPLAY_LUA ACCT_LUA_REPLAYED("2")
    "local h = redis.call('HMGET', KEYS[1], 'state', 'registered_at', 'username',"
    " 'name')\n"
    "if not h[1] then return 'notfound' end\n"
    "if " LUA_REGISTERED("h") " then return 'conflict' end\n"
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

int
acct_username_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < ACCT_USER_MIN || n > ACCT_USER_MAX)
		return (0);
	return (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                  "0123456789._-") == n);
}

/* Names: 1..128 bytes, no control characters. */
static int
acct_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > ACCT_NAME_MAX)
		return (0);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return (0);
	return (1);
}

/* Ids are ours: "acc_" and lowercase base32. Anything else cannot exist. */
static int
acct_id_ok(const char *s)
{
	size_t n = strlen(s);

	return (n > 4 && n <= MGR_ID_MAX && strncmp(s, "acc_", 4) == 0 &&
	    strspn(s + 4, "abcdefghijklmnopqrstuvwxyz0123456789") == n - 4);
}

static mgr_err
acct_require_admin(struct rpc_call *call)
{
	if (call->caller->kind != MGR__CALLER__KIND__ADMIN)
		return (rpc_fail(call, MGR_EPERM, "administrators only"));
	return (MGR_OK);
}

/* One audit record for this call; the detail is the failure message. */
static void
acct_audit(struct rpc_call *call, const char *action, const char *target,
    mgr_err rv, const char *detail)
{
	audit_log(call->request_id, call->caller, action, target, rv,
	    rv != MGR_OK ? call->message : detail);
}

/* Runs a script whose reply is a status word, copied into status. One of
 * argv may be rp's (binary) reply. */
static mgr_err
acct_eval_status(const char *script, int nkeys, int argc, const char **argv,
    const struct replay *rp, char *status, size_t statuslen)
{
	redisReply *r;
	size_t lens[16];
	mgr_err rv;

	if (argc > (int)(sizeof(lens) / sizeof(lens[0])))
		return (MGR_EINTERNAL);
	replay_argvlen(rp, argc, argv, lens);
	if ((rv = kv_eval(&r, script, nkeys, argc, argv, lens)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS) {
		freeReplyObject(r);
		return (MGR_EINTERNAL);
	}
	snprintf(status, statuslen, "%s", r->str);
	freeReplyObject(r);
	return (MGR_OK);
}

/* Maps a script's status word to an error (with message) or MGR_OK. */
static mgr_err
acct_status_err(struct rpc_call *call, const char *status, const char *conflict)
{
	if (strcmp(status, "notfound") == 0)
		return (rpc_fail(call, MGR_ENOTFOUND, "no such account"));
	if (strcmp(status, "conflict") == 0)
		return (rpc_fail(call, MGR_ECONFLICT, "%s", conflict));
	return (MGR_OK);
}

/* Runs a change script whose last two arguments are rp's record key and
 * reply (argv has room for them at argc and argc + 1). A resend is answered
 * from the record (*done = 1); "notfound" and "conflict" become errors
 * (conflict: the message); any other status word is left in status. */
static mgr_err
acct_commit(struct rpc_call *call, const char *script, int nkeys, int argc,
    const char **argv, struct replay *rp, const char *conflict, char *status,
    size_t statuslen, int *done)
{
	mgr_err rv;

	*done = 0;
	argv[argc] = rp->key;
	argv[argc + 1] = (const char *)rp->reply;
	if ((rv = acct_eval_status(script, nkeys, argc + 2, argv, rp, status,
	         statuslen)) != MGR_OK)
		return (rv);
	if (strcmp(status, "REPLAYED") == 0) {
		*done = 1;
		return (replay_answer(rp, call));
	}
	return (acct_status_err(call, status, conflict));
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
	if (a.registered_at != 0 || strcmp(a.state, "active") == 0)
		a.username[0] = '\0';
	*out = a;
	return (MGR_OK);
}

static mgr_err
acct_load(const char *id, struct acct_rec *out)
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

static void
acct_to_msg(const struct acct_rec *a, Mgr__Account__Account *m)
{
	mgr__account__account__init(m);
	m->id = (char *)a->id;
	m->name = (char *)a->name;
	m->role = (char *)a->role;
	m->state = (char *)a->state;
	m->username = (char *)a->username;
	m->created_at = a->created_at;
	m->registered_at = a->registered_at;
}

static mgr_err
acct_reply(struct rpc_call *call, const struct acct_rec *a)
{
	Mgr__Account__AccountReply out = MGR__ACCOUNT__ACCOUNT_REPLY__INIT;
	Mgr__Account__Account m;

	acct_to_msg(a, &m);
	out.account = &m;
	return (rpc_reply(call, &out.base));
}

/* Loads id and replies with it; a missing account is 404 with a message. */
static mgr_err
acct_load_reply(struct rpc_call *call, const char *id)
{
	struct acct_rec a;
	mgr_err rv;

	if ((rv = acct_load(id, &a)) != MGR_OK) {
		if (rv == MGR_ENOTFOUND)
			return (rpc_fail(call, rv, "no such account"));
		return (rv);
	}
	return (acct_reply(call, &a));
}

/* Sets rp up for call with the reply a commit records: the account a, or
 * Empty when a is NULL. */
static mgr_err
acct_replay_prepare(struct rpc_call *call, struct replay *rp,
    const struct acct_rec *a)
{
	Mgr__Account__AccountReply out = MGR__ACCOUNT__ACCOUNT_REPLY__INIT;
	Mgr__Account__Account m;
	Mgr__Empty empty = MGR__EMPTY__INIT;
	mgr_err rv;

	if ((rv = replay_init(rp, call)) != MGR_OK)
		return (rv);
	if (a == NULL)
		return (replay_prepare(rp, &empty.base));
	acct_to_msg(a, &m);
	out.account = &m;
	return (replay_prepare(rp, &out.base));
}

mgr_err
acct_h_create(struct rpc_call *call, void *arg)
{
	Mgr__Account__CreateRequest *in = NULL;
	struct acct_rec a;
	char kid[ACCT_KEY_MAX], kuser[ACCT_KEY_MAX], kname[ACCT_KEY_MAX];
	char pwhash[ACCT_PWHASH_MAX], cs[24], cms[24], status[32];
	const char *argv[13];
	struct replay rp = {.reply = NULL};
	int64_t ms;
	int done;
	mgr_err rv;

	(void)arg;
	memset(&a, 0, sizeof(a));
	if ((rv = acct_require_admin(call)) != MGR_OK)
		goto out;
	if ((rv = rpc_args(call, &mgr__account__create_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	if (!acct_name_ok(in->name)) {
		rv = rpc_fail(call, MGR_EINVAL, "\"name\" must be 1 to %d bytes "
		    "without control characters", ACCT_NAME_MAX);
		goto out;
	}
	if (strcmp(in->role, ACCT_ROLE_PROVISIONER) != 0) {
		rv = rpc_fail(call, MGR_EINVAL, "\"role\" must be \"%s\"",
		    ACCT_ROLE_PROVISIONER);
		goto out;
	}
	if (!acct_username_ok(in->username)) {
		rv = rpc_fail(call, MGR_EINVAL, "\"username\" must be %d to %d of "
		    "[A-Za-z0-9._-]", ACCT_USER_MIN, ACCT_USER_MAX);
		goto out;
	}
	if (!acct_pw_acceptable(in->password)) {
		rv = rpc_fail(call, MGR_EINVAL, "\"password\" must be %d to %d "
		    "characters", ACCT_PW_MIN_CHARS, ACCT_PW_MAX_CHARS);
		goto out;
	}
	if ((rv = mgr_new_id("acc", a.id, sizeof(a.id))) != MGR_OK ||
	    (rv = acct_pw_hash(in->password, pwhash, sizeof(pwhash))) != MGR_OK)
		goto out;
	ms = mgr_now_ms();
	a.created_at = ms / 1000;
	snprintf(cs, sizeof(cs), "%lld", (long long)a.created_at);
	snprintf(cms, sizeof(cms), "%lld", (long long)ms);
	snprintf(kid, sizeof(kid), "acct:{%s}", a.id);
	snprintf(kuser, sizeof(kuser), "acct:user:%s", in->username);
	snprintf(kname, sizeof(kname), "acct:name:%s", in->name);
	snprintf(a.name, sizeof(a.name), "%s", in->name);
	snprintf(a.role, sizeof(a.role), "%s", in->role);
	snprintf(a.state, sizeof(a.state), "pending_registration");
	snprintf(a.username, sizeof(a.username), "%s", in->username);
	if ((rv = acct_replay_prepare(call, &rp, &a)) != MGR_OK) {
		OPENSSL_cleanse(pwhash, sizeof(pwhash));
		goto out;
	}
	argv[0] = kid;
	argv[1] = kuser;
	argv[2] = kname;
	argv[3] = "acct:all";
	argv[4] = a.id;
	argv[5] = in->name;
	argv[6] = in->role;
	argv[7] = in->username;
	argv[8] = pwhash;
	argv[9] = cs;
	argv[10] = cms;
	rv = acct_commit(call, lua_create, 4, 11, argv, &rp, "", status,
	    sizeof(status), &done);
	OPENSSL_cleanse(pwhash, sizeof(pwhash));
	if (rv != MGR_OK || done) {
		a.id[0] = '\0';
		goto out;
	}
	if (strcmp(status, "name") == 0) {
		rv = rpc_fail(call, MGR_ECONFLICT, "an account with this name exists");
		goto out;
	}
	if (strcmp(status, "username") == 0) {
		rv = rpc_fail(call, MGR_ECONFLICT, "this user name is taken");
		goto out;
	}
	rv = acct_reply(call, &a);
out:
	acct_audit(call, "account.create", rv == MGR_OK ? a.id : "", rv,
	    rv != MGR_OK ? NULL : rp.hit ? "replayed" : "pending_registration");
	replay_clear(&rp);
	if (in != NULL) {
		OPENSSL_cleanse(in->password, strlen(in->password));
		mgr__account__create_request__free_unpacked(in, NULL);
	}
	return (rv);
}

mgr_err
acct_h_list(struct rpc_call *call, void *arg)
{
	Mgr__Account__ListReply out = MGR__ACCOUNT__LIST_REPLY__INIT;
	Mgr__Account__ListRequest *in = NULL;
	Mgr__Account__Account *msgs = NULL, **ptrs = NULL;
	struct acct_rec *recs = NULL;
	char lim[16];
	const char *argv[3];
	redisReply *r = NULL;
	size_t n = 0;
	mgr_err rv;

	(void)arg;
	if ((rv = acct_require_admin(call)) != MGR_OK)
		return (rv);
	if ((rv = rpc_args(call, &mgr__account__list_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	snprintf(lim, sizeof(lim), "%u", in->limit == 0 ? MGR_PAGE_DEFAULT :
	    in->limit > MGR_PAGE_MAX ? MGR_PAGE_MAX : (unsigned)in->limit);
	argv[0] = "acct:all";
	argv[1] = in->after;
	argv[2] = lim;
	if ((rv = kv_eval(&r, lua_list, 1, 3, argv, NULL)) != MGR_OK) {
		if (rv == MGR_EINVAL)
			rv = rpc_fail(call, rv, "\"after\" is not a cursor of this listing");
		goto out;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	if (r->elements > 1) {
		recs = calloc(r->elements - 1, sizeof(*recs));
		msgs = calloc(r->elements - 1, sizeof(*msgs));
		ptrs = calloc(r->elements - 1, sizeof(*ptrs));
		if (recs == NULL || msgs == NULL || ptrs == NULL) {
			rv = MGR_ENOMEM;
			goto out;
		}
	}
	for (size_t i = 1; i < r->elements; i++) {
		if (acct_from_reply(r->element[i], &recs[n]) != MGR_OK)
			continue;
		acct_to_msg(&recs[n], &msgs[n]);
		ptrs[n] = &msgs[n];
		n++;
	}
	out.n_accounts = n;
	out.accounts = ptrs;
	out.next_after = r->element[0]->str;
	rv = rpc_reply(call, &out.base);
out:
	if (r != NULL)
		freeReplyObject(r);
	mgr__account__list_request__free_unpacked(in, NULL);
	free(ptrs);
	free(msgs);
	free(recs);
	return (rv);
}

/* Unpacks an IdRequest after the admin check. */
static mgr_err
acct_id_args(struct rpc_call *call, Mgr__Account__IdRequest **in)
{
	mgr_err rv;

	if ((rv = acct_require_admin(call)) != MGR_OK)
		return (rv);
	return (rpc_args(call, &mgr__account__id_request__descriptor,
	    (ProtobufCMessage **)in));
}

mgr_err
acct_h_get(struct rpc_call *call, void *arg)
{
	Mgr__Account__IdRequest *in = NULL;
	mgr_err rv;

	(void)arg;
	if ((rv = acct_id_args(call, &in)) != MGR_OK)
		return (rv);
	rv = acct_load_reply(call, in->id);
	mgr__account__id_request__free_unpacked(in, NULL);
	return (rv);
}

mgr_err
acct_h_set_password(struct rpc_call *call, void *arg)
{
	Mgr__Account__SetPasswordRequest *in = NULL;
	Mgr__Empty out = MGR__EMPTY__INIT;
	char key[ACCT_KEY_MAX], pwhash[ACCT_PWHASH_MAX], status[32];
	const char *argv[4], *id = "";
	struct replay rp = {.reply = NULL};
	int done;
	mgr_err rv;

	(void)arg;
	if ((rv = acct_require_admin(call)) != MGR_OK)
		goto out;
	if ((rv = rpc_args(call, &mgr__account__set_password_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	id = in->id;
	if (!acct_id_ok(id)) {
		rv = rpc_fail(call, MGR_ENOTFOUND, "no such account");
		goto out;
	}
	if (!acct_pw_acceptable(in->password)) {
		rv = rpc_fail(call, MGR_EINVAL, "\"password\" must be %d to %d "
		    "characters", ACCT_PW_MIN_CHARS, ACCT_PW_MAX_CHARS);
		goto out;
	}
	if ((rv = acct_pw_hash(in->password, pwhash, sizeof(pwhash))) != MGR_OK)
		goto out;
	snprintf(key, sizeof(key), "acct:{%s}", id);
	if ((rv = acct_replay_prepare(call, &rp, NULL)) != MGR_OK) {
		OPENSSL_cleanse(pwhash, sizeof(pwhash));
		goto out;
	}
	argv[0] = key;
	argv[1] = pwhash;
	rv = acct_commit(call, lua_set_password, 1, 2, argv, &rp, "the account is "
	    "registered; its password can no longer change", status,
	    sizeof(status), &done);
	OPENSSL_cleanse(pwhash, sizeof(pwhash));
	if (rv != MGR_OK || done)
		goto out;
	rv = rpc_reply(call, &out.base);
out:
	acct_audit(call, "account.set_password", id, rv, rp.hit ? "replayed" : NULL);
	replay_clear(&rp);
	if (in != NULL) {
		OPENSSL_cleanse(in->password, strlen(in->password));
		mgr__account__set_password_request__free_unpacked(in, NULL);
	}
	return (rv);
}

mgr_err
acct_h_rename(struct rpc_call *call, void *arg)
{
	Mgr__Account__RenameRequest *in = NULL;
	struct acct_rec a;
	char kid[ACCT_KEY_MAX], kname[ACCT_KEY_MAX], status[32], detail[ACCT_NAME_MAX + 32];
	const char *argv[6], *id = "";
	struct replay rp = {.reply = NULL};
	int done;
	mgr_err rv;

	(void)arg;
	detail[0] = '\0';
	if ((rv = acct_require_admin(call)) != MGR_OK)
		goto out;
	if ((rv = rpc_args(call, &mgr__account__rename_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	id = in->id;
	if ((rv = acct_load(id, &a)) != MGR_OK) {
		if (rv == MGR_ENOTFOUND)
			rpc_fail(call, rv, "no such account");
		goto out;
	}
	if (in->n_other_fields > 0) {
		/* API.md: only the name may change; any other field is a
		 * forbidden change once registered (409), bad input before. */
		if (a.registered_at != 0 || strcmp(a.state, "active") == 0)
			rv = rpc_fail(call, MGR_ECONFLICT, "the account is registered; "
			    "only its name may change (not \"%.64s\")", in->other_fields[0]);
		else
			rv = rpc_fail(call, MGR_EINVAL, "only \"name\" may change "
			    "(not \"%.64s\")", in->other_fields[0]);
		goto out;
	}
	if (!acct_name_ok(in->name)) {
		rv = rpc_fail(call, MGR_EINVAL, "\"name\" must be 1 to %d bytes "
		    "without control characters", ACCT_NAME_MAX);
		goto out;
	}
	snprintf(kid, sizeof(kid), "acct:{%s}", id);
	snprintf(kname, sizeof(kname), "acct:name:%s", in->name);
	argv[0] = kid;
	argv[1] = kname;
	argv[2] = id;
	argv[3] = in->name;
	snprintf(a.name, sizeof(a.name), "%s", in->name);
	if ((rv = acct_replay_prepare(call, &rp, &a)) != MGR_OK)
		goto out;
	rv = acct_commit(call, lua_rename, 2, 4, argv, &rp,
	    "an account with this name exists", status, sizeof(status), &done);
	if (done)
		snprintf(detail, sizeof(detail), "replayed");
	if (rv != MGR_OK || done)
		goto out;
	snprintf(detail, sizeof(detail), "name \"%s\"", in->name);
	rv = acct_load_reply(call, id);
out:
	acct_audit(call, "account.rename", id, rv, detail);
	replay_clear(&rp);
	if (in != NULL)
		mgr__account__rename_request__free_unpacked(in, NULL);
	return (rv);
}

static mgr_err
acct_transition(struct rpc_call *call, const char *verb)
{
	Mgr__Account__IdRequest *in = NULL;
	char script[ACCT_SCRIPT_MAX], key[ACCT_KEY_MAX], ts[MGR_TIME_MAX],
	    status[32], action[32];
	const char *argv[6], *id = "";
	struct replay rp = {.reply = NULL};
	struct acct_rec a;
	int n;
	int done;
	mgr_err rv;

	snprintf(action, sizeof(action), "account.%s", verb);
	if ((rv = acct_id_args(call, &in)) != MGR_OK)
		goto out;
	id = in->id;
	if (!acct_id_ok(id)) {
		rv = rpc_fail(call, MGR_ENOTFOUND, "no such account");
		goto out;
	}
	n = snprintf(script, sizeof(script), "%s%s", event_lua_emit, lua_transition);
	if (n < 0 || (size_t)n >= sizeof(script)) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	/* The reply a change records: the account in the state the script
	 * moves it to (enable: back to active once registered). */
	if ((rv = acct_load(id, &a)) != MGR_OK) {
		if (rv == MGR_ENOTFOUND)
			rpc_fail(call, rv, "no such account");
		goto out;
	}
	if (strcmp(verb, "disable") == 0)
		snprintf(a.state, sizeof(a.state), "disabled");
	else
		snprintf(a.state, sizeof(a.state), "%s", a.registered_at != 0
		    ? "active" : "pending_registration");
	if ((rv = acct_replay_prepare(call, &rp, &a)) != MGR_OK)
		goto out;
	mgr_time_format(mgr_now_s(), ts);
	snprintf(key, sizeof(key), "acct:{%s}", id);
	argv[0] = key;
	argv[1] = id;
	argv[2] = verb;
	argv[3] = ts;
	rv = acct_commit(call, script, 1, 4, argv, &rp, "", status,
	    sizeof(status), &done);
	if (rv != MGR_OK || done)
		goto out;
	rv = acct_load_reply(call, id);
	if (rv == MGR_OK)
		snprintf(status, sizeof(status), "%s", strcmp(status, "same") == 0
		    ? "no change" : "state changed");
out:
	acct_audit(call, action, id, rv, rv != MGR_OK ? NULL
	    : rp.hit ? "replayed" : status);
	replay_clear(&rp);
	if (in != NULL)
		mgr__account__id_request__free_unpacked(in, NULL);
	return (rv);
}

mgr_err
acct_h_disable(struct rpc_call *call, void *arg)
{
	(void)arg;
	return (acct_transition(call, "disable"));
}

mgr_err
acct_h_enable(struct rpc_call *call, void *arg)
{
	(void)arg;
	return (acct_transition(call, "enable"));
}

mgr_err
acct_h_delete(struct rpc_call *call, void *arg)
{
	Mgr__Account__IdRequest *in = NULL;
	Mgr__Empty out = MGR__EMPTY__INIT;
	char key[ACCT_KEY_MAX], status[32];
	const char *argv[5], *id = "";
	struct replay rp = {.reply = NULL};
	int done;
	mgr_err rv;

	(void)arg;
	if ((rv = acct_id_args(call, &in)) != MGR_OK)
		goto out;
	id = in->id;
	if (!acct_id_ok(id)) {
		rv = rpc_fail(call, MGR_ENOTFOUND, "no such account");
		goto out;
	}
	snprintf(key, sizeof(key), "acct:{%s}", id);
	argv[0] = key;
	argv[1] = "acct:all";
	argv[2] = id;
	if ((rv = acct_replay_prepare(call, &rp, NULL)) != MGR_OK)
		goto out;
	rv = acct_commit(call, lua_delete, 2, 3, argv, &rp, "the account is "
	    "registered and cannot be deleted; disable it instead", status,
	    sizeof(status), &done);
	if (rv != MGR_OK || done)
		goto out;
	rv = rpc_reply(call, &out.base);
out:
	acct_audit(call, "account.delete", id, rv, rp.hit ? "replayed" : NULL);
	replay_clear(&rp);
	if (in != NULL)
		mgr__account__id_request__free_unpacked(in, NULL);
	return (rv);
}
