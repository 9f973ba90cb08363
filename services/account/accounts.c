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
 * Every action, refused or not, is an audit record; reads are not.
 * Handlers here; the keys and scripts in store.c, the rules in rules.c. */
#include "services/account/account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/kv.h"
#include "common/op.h"
#include "common/page.h"
#include "common/util.h"
#include "proto/account.pb-c.h"
#include "services/account/password.h"
#include "services/account/rules.h"
#include "services/account/store.h"

static mgr_err
acct_require_admin(struct rpc_call *call)
{
	if (call->caller->kind != MGR__CALLER__KIND__ADMIN)
		return (rpc_fail(call, MGR_EPERM, "administrators only"));
	return (MGR_OK);
}

/* The errors of the store's changes, with their messages. */
static mgr_err
acct_refused(struct rpc_call *call, mgr_err rv, const char *conflict)
{
	if (rv == MGR_ENOTFOUND)
		return (rpc_fail(call, rv, "no such account"));
	if (rv == MGR_ECONFLICT)
		return (rpc_fail(call, rv, "%s", conflict));
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

	if ((rv = acct_store_load(id, &a)) != MGR_OK)
		return (acct_refused(call, rv, ""));
	return (acct_reply(call, &a));
}

/* The reply a commit records: the account a, or Empty when a is NULL. */
static mgr_err
acct_replay_prepare(struct op *op, const struct acct_rec *a)
{
	Mgr__Account__AccountReply out = MGR__ACCOUNT__ACCOUNT_REPLY__INIT;
	Mgr__Account__Account m;
	Mgr__Empty empty = MGR__EMPTY__INIT;

	if (a == NULL)
		return (op_replay(op, &empty.base));
	acct_to_msg(a, &m);
	out.account = &m;
	return (op_replay(op, &out.base));
}

static void
acct_scrub_create(ProtobufCMessage *m)
{
	Mgr__Account__CreateRequest *in = (Mgr__Account__CreateRequest *)m;

	OPENSSL_cleanse(in->password, strlen(in->password));
}

static void
acct_scrub_password(ProtobufCMessage *m)
{
	Mgr__Account__SetPasswordRequest *in = (Mgr__Account__SetPasswordRequest *)m;

	OPENSSL_cleanse(in->password, strlen(in->password));
}

mgr_err
acct_h_create(struct rpc_call *call, void *arg)
{
	Mgr__Account__CreateRequest *in = NULL;
	struct acct_rec a;
	char pwhash[ACCT_PWHASH_MAX];
	struct op op;
	int64_t ms;
	mgr_err rv;

	(void)arg;
	memset(&a, 0, sizeof(a));
	op_start(&op, call, "account.create");
	if ((rv = acct_require_admin(call)) != MGR_OK ||
	    (rv = op_args(&op, &mgr__account__create_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	op.scrub = acct_scrub_create;
	if (!acct_name_ok(in->name)) {
		rv = rpc_fail(call, MGR_EINVAL,
		    "\"name\" must be 1 to %d bytes "
		    "without control characters",
		    ACCT_NAME_MAX);
		goto out;
	}
	if (strcmp(in->role, ACCT_ROLE_PROVISIONER) != 0) {
		rv = rpc_fail(call, MGR_EINVAL, "\"role\" must be \"%s\"",
		    ACCT_ROLE_PROVISIONER);
		goto out;
	}
	if (!acct_username_ok(in->username)) {
		rv = rpc_fail(call, MGR_EINVAL,
		    "\"username\" must be %d to %d of "
		    "[A-Za-z0-9._-]",
		    ACCT_USER_MIN, ACCT_USER_MAX);
		goto out;
	}
	if (!acct_pw_acceptable(in->password)) {
		rv = rpc_fail(call, MGR_EINVAL,
		    "\"password\" must be %d to %d "
		    "characters",
		    ACCT_PW_MIN_CHARS, ACCT_PW_MAX_CHARS);
		goto out;
	}
	if ((rv = mgr_new_id("acc", a.id, sizeof(a.id))) != MGR_OK ||
	    (rv = acct_pw_hash(in->password, pwhash, sizeof(pwhash))) != MGR_OK)
		goto out;
	ms = mgr_now_ms();
	a.created_at = ms / 1000;
	snprintf(a.name, sizeof(a.name), "%s", in->name);
	snprintf(a.role, sizeof(a.role), "%s", in->role);
	snprintf(a.state, sizeof(a.state), "pending_registration");
	snprintf(a.username, sizeof(a.username), "%s", in->username);
	if ((rv = acct_replay_prepare(&op, &a)) == MGR_OK)
		rv = acct_store_create(&a, pwhash, ms, &op.rp);
	OPENSSL_cleanse(pwhash, sizeof(pwhash));
	if (rv == MGR_ECONFLICT)
		rv = rpc_fail(call, rv,
		    strcmp(kv_refusal(), "username") == 0
		        ? "this user name is taken"
		        : "an account with this name exists");
	if (rv != MGR_OK)
		goto out;
	if (op.rp.hit) {
		rv = op_replayed(&op);
		goto out;
	}
	snprintf(op.target, sizeof(op.target), "%s", a.id);
	snprintf(op.detail, sizeof(op.detail), "pending_registration");
	rv = acct_reply(call, &a);
out:
	return (op_end(&op, rv));
}

mgr_err
acct_h_list(struct rpc_call *call, void *arg)
{
	Mgr__Account__ListReply out = MGR__ACCOUNT__LIST_REPLY__INIT;
	Mgr__Account__ListRequest *in = NULL;
	struct acct_rec *recs = NULL;
	struct op_list l = {.items = NULL};
	char next[MGR_PAGE_CURSOR_MAX];
	struct op op;
	size_t n = 0;
	mgr_err rv;

	(void)arg;
	op_start(&op, call, NULL);
	if ((rv = acct_require_admin(call)) != MGR_OK ||
	    (rv = op_args(&op, &mgr__account__list_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	rv = acct_store_list(in->after, in->limit, &recs, &n, next, sizeof(next));
	if (rv == MGR_EINVAL)
		rv = rpc_fail(call, rv, "\"after\" is not a cursor of this listing");
	if (rv != MGR_OK ||
	    (rv = op_list_alloc(&l, &mgr__account__account__descriptor, n)) != MGR_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		acct_to_msg(&recs[i], op_list_at(&l, i));
	out.n_accounts = l.n;
	out.accounts = (Mgr__Account__Account **)l.ptrs;
	out.next_after = next;
	rv = rpc_reply(call, &out.base);
out:
	op_list_free(&l);
	free(recs);
	return (op_end(&op, rv));
}

mgr_err
acct_h_get(struct rpc_call *call, void *arg)
{
	Mgr__Account__IdRequest *in = NULL;
	struct op op;
	mgr_err rv;

	(void)arg;
	op_start(&op, call, NULL);
	if ((rv = acct_require_admin(call)) != MGR_OK ||
	    (rv = op_args(&op, &mgr__account__id_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	rv = acct_load_reply(call, in->id);
out:
	return (op_end(&op, rv));
}

mgr_err
acct_h_set_password(struct rpc_call *call, void *arg)
{
	Mgr__Account__SetPasswordRequest *in = NULL;
	Mgr__Empty out = MGR__EMPTY__INIT;
	char pwhash[ACCT_PWHASH_MAX];
	struct op op;
	mgr_err rv;

	(void)arg;
	op_start(&op, call, "account.set_password");
	if ((rv = acct_require_admin(call)) != MGR_OK ||
	    (rv = op_args(&op, &mgr__account__set_password_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	op.scrub = acct_scrub_password;
	snprintf(op.target, sizeof(op.target), "%s", in->id);
	if (!acct_id_ok(in->id)) {
		rv = rpc_fail(call, MGR_ENOTFOUND, "no such account");
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
	if ((rv = acct_replay_prepare(&op, NULL)) == MGR_OK)
		rv = acct_store_set_password(in->id, pwhash, &op.rp);
	OPENSSL_cleanse(pwhash, sizeof(pwhash));
	if ((rv = acct_refused(call, rv,
	         "the account is registered; its password "
	         "can no longer change")) != MGR_OK)
		goto out;
	rv = op.rp.hit ? op_replayed(&op) : rpc_reply(call, &out.base);
out:
	return (op_end(&op, rv));
}

mgr_err
acct_h_rename(struct rpc_call *call, void *arg)
{
	Mgr__Account__RenameRequest *in = NULL;
	struct acct_rec a;
	struct op op;
	int same;
	mgr_err rv;

	(void)arg;
	op_start(&op, call, "account.rename");
	if ((rv = acct_require_admin(call)) != MGR_OK ||
	    (rv = op_args(&op, &mgr__account__rename_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	snprintf(op.target, sizeof(op.target), "%s", in->id);
	if ((rv = acct_store_load(in->id, &a)) != MGR_OK) {
		rv = acct_refused(call, rv, "");
		goto out;
	}
	if (in->n_other_fields > 0) {
		/* API.md: only the name may change; any other field is a
		 * forbidden change once registered (409), bad input before. */
		if (acct_registered(&a))
			rv = rpc_fail(call, MGR_ECONFLICT,
			    "the account is registered; "
			    "only its name may change (not \"%.64s\")",
			    in->other_fields[0]);
		else
			rv = rpc_fail(call, MGR_EINVAL,
			    "only \"name\" may change "
			    "(not \"%.64s\")",
			    in->other_fields[0]);
		goto out;
	}
	if (!acct_name_ok(in->name)) {
		rv = rpc_fail(call, MGR_EINVAL,
		    "\"name\" must be 1 to %d bytes "
		    "without control characters",
		    ACCT_NAME_MAX);
		goto out;
	}
	snprintf(a.name, sizeof(a.name), "%s", in->name);
	if ((rv = acct_replay_prepare(&op, &a)) != MGR_OK)
		goto out;
	rv = acct_store_rename(in->id, in->name, &op.rp, &same);
	if ((rv = acct_refused(call, rv, "an account with this name exists")) != MGR_OK)
		goto out;
	if (op.rp.hit) {
		rv = op_replayed(&op);
		goto out;
	}
	snprintf(op.detail, sizeof(op.detail), "name \"%.*s\"",
	    (int)(sizeof(op.detail) - 8), in->name);
	rv = acct_load_reply(call, in->id);
out:
	return (op_end(&op, rv));
}

static mgr_err
acct_transition(struct rpc_call *call, const char *verb, const char *action)
{
	Mgr__Account__IdRequest *in = NULL;
	char ts[MGR_TIME_MAX];
	struct acct_rec a;
	struct op op;
	int same;
	mgr_err rv;

	op_start(&op, call, action);
	if ((rv = acct_require_admin(call)) != MGR_OK ||
	    (rv = op_args(&op, &mgr__account__id_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	snprintf(op.target, sizeof(op.target), "%s", in->id);
	if (!acct_id_ok(in->id)) {
		rv = rpc_fail(call, MGR_ENOTFOUND, "no such account");
		goto out;
	}
	/* The reply a change records: the account in the state the script
	 * moves it to (enable: back to active once registered). */
	if ((rv = acct_store_load(in->id, &a)) != MGR_OK) {
		rv = acct_refused(call, rv, "");
		goto out;
	}
	snprintf(a.state, sizeof(a.state), "%s", acct_next_state(&a, verb));
	if ((rv = acct_replay_prepare(&op, &a)) != MGR_OK)
		goto out;
	mgr_time_format(mgr_now_s(), ts);
	rv = acct_store_transition(in->id, verb, ts, &op.rp, &same);
	if ((rv = acct_refused(call, rv, "")) != MGR_OK)
		goto out;
	if (op.rp.hit) {
		rv = op_replayed(&op);
		goto out;
	}
	snprintf(op.detail, sizeof(op.detail), "%s",
	    same ? "no change" : "state changed");
	rv = acct_load_reply(call, in->id);
out:
	return (op_end(&op, rv));
}

mgr_err
acct_h_disable(struct rpc_call *call, void *arg)
{
	(void)arg;
	return (acct_transition(call, "disable", "account.disable"));
}

mgr_err
acct_h_enable(struct rpc_call *call, void *arg)
{
	(void)arg;
	return (acct_transition(call, "enable", "account.enable"));
}

mgr_err
acct_h_delete(struct rpc_call *call, void *arg)
{
	Mgr__Account__IdRequest *in = NULL;
	Mgr__Empty out = MGR__EMPTY__INIT;
	struct op op;
	mgr_err rv;

	(void)arg;
	op_start(&op, call, "account.delete");
	if ((rv = acct_require_admin(call)) != MGR_OK ||
	    (rv = op_args(&op, &mgr__account__id_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	snprintf(op.target, sizeof(op.target), "%s", in->id);
	if (!acct_id_ok(in->id)) {
		rv = rpc_fail(call, MGR_ENOTFOUND, "no such account");
		goto out;
	}
	if ((rv = acct_replay_prepare(&op, NULL)) != MGR_OK)
		goto out;
	rv = acct_store_delete(in->id, &op.rp);
	if ((rv = acct_refused(call, rv,
	         "the account is registered and cannot be "
	         "deleted; disable it instead")) != MGR_OK)
		goto out;
	rv = op.rp.hit ? op_replayed(&op) : rpc_reply(call, &out.base);
out:
	return (op_end(&op, rv));
}

mgr_err
acct_h_state(struct rpc_call *call, void *arg)
{
	Mgr__Account__IdRequest *in = NULL;
	Mgr__Account__StateReply out = MGR__ACCOUNT__STATE_REPLY__INIT;
	struct acct_rec a;
	struct op op;
	mgr_err rv;

	(void)arg;
	if (call->caller->kind != MGR__CALLER__KIND__SERVICE)
		return (rpc_fail(call, MGR_EPERM, "services only"));
	if ((rv = op_begin(&op, call, NULL, &mgr__account__id_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	if ((rv = acct_store_load(in->id, &a)) != MGR_OK) {
		rv = acct_refused(call, rv, "");
		goto out;
	}
	out.state = a.state;
	rv = rpc_reply(call, &out.base);
out:
	return (op_end(&op, rv));
}
