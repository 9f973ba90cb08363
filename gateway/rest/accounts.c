/* Accounts (admin) and the audit listing: REST/JSON <-> account-svc.
 * Types and presence are checked here; the rules (lengths, user name
 * characters, role, password length, state machine) are the service's.
 * A body refused here (unknown field, wrong type) still gets an audit record;
 * reads are not audited. */
#include "gateway/gw.h"

#include <string.h>

#include "common/audit.h"
#include "common/kv.h"
#include "common/page.h"
#include "common/util.h"
#include "proto/account.pb-c.h"

/* Generous transport bounds; the service applies the exact ones. */
#define ACC_NAME_BYTES 128
#define ACC_USER_BYTES 64
#define ACC_ROLE_BYTES 64
#define ACC_PASSWORD_BYTES 1024
#define ACC_PATCH_FIELDS_MAX 16

static mgr_err
acc_refused(struct gw_req *r, const char *action, const char *target, mgr_err rv)
{
	audit_log(r->request_id, &r->caller, action, target, rv, r->errmsg);
	/* MHD's connection threads are not ours: do not leave this thread a
	 * Redis connection that nothing frees. Refusals are rare. */
	kv_thread_done();
	return (rv);
}

static json_t *
acc_json(const Mgr__Account__Account *a)
{
	json_t *o = json_object();

	if (o == NULL)
		return (NULL);
	json_object_set_new(o, "id", json_string(a->id));
	json_object_set_new(o, "name", json_string(a->name));
	json_object_set_new(o, "role", json_string(a->role));
	json_object_set_new(o, "state", json_string(a->state));
	json_object_set_new(o, "username",
	    a->username[0] != '\0' ? json_string(a->username) : json_null());
	json_object_set_new(o, "created_at", gw_json_time_value(a->created_at));
	json_object_set_new(o, "registered_at", gw_json_time_value(a->registered_at));
	return (o);
}

/* Replies with the account of an AccountReply and frees it. */
static mgr_err
acc_reply(struct gw_req *r, int status, Mgr__Account__AccountReply *out)
{
	json_t *o;
	mgr_err rv;

	if (out->account == NULL) {
		mgr__account__account_reply__free_unpacked(out, NULL);
		return (MGR_EINTERNAL);
	}
	if ((o = acc_json(out->account)) == NULL)
		rv = MGR_ENOMEM;
	else if (status == 201)
		rv = gw_reply_created(r, o, "/api/v1/accounts/%s", out->account->id);
	else
		rv = gw_reply_json(r, status, o);
	mgr__account__account_reply__free_unpacked(out, NULL);
	return (rv);
}

static mgr_err
h_create(struct gw_req *r)
{
	static const char *const allowed[] = {"name", "role", "username", "password",
	    NULL};
	Mgr__Account__CreateRequest in = MGR__ACCOUNT__CREATE_REQUEST__INIT;
	Mgr__Account__AccountReply *out = NULL;
	const char *name, *role, *user, *pw;
	mgr_err rv;

	if ((rv = gw_json_only(r, allowed)) != MGR_OK ||
	    (rv = gw_json_str(r, "name", 1, ACC_NAME_BYTES, &name)) != MGR_OK ||
	    (rv = gw_json_str(r, "role", 1, ACC_ROLE_BYTES, &role)) != MGR_OK ||
	    (rv = gw_json_str(r, "username", 1, ACC_USER_BYTES, &user)) != MGR_OK ||
	    (rv = gw_json_str(r, "password", 1, ACC_PASSWORD_BYTES, &pw)) != MGR_OK)
		return (acc_refused(r, "account.create", "", rv));
	in.name = (char *)name;
	in.role = (char *)role;
	in.username = (char *)user;
	in.password = (char *)pw;
	if ((rv = gw_rpc(r, gw.account, "account.Create", &in.base,
	         &mgr__account__account_reply__descriptor, (ProtobufCMessage **)&out)) !=
	    MGR_OK)
		return (rv);
	return (acc_reply(r, 201, out));
}

/* GET /api/v1/accounts?after=CURSOR&limit=N: oldest first; next_after is the
 * cursor of the next page, null after the last. */
static mgr_err
h_list(struct gw_req *r)
{
	Mgr__Account__ListRequest in = MGR__ACCOUNT__LIST_REQUEST__INIT;
	Mgr__Account__ListReply *out = NULL;
	const char *after = "";
	json_t *body, *arr;
	mgr_err rv;

	if ((rv = gw_page_query(r, MGR_PAGE_MAX, &after, &in.limit)) != MGR_OK)
		return (rv);
	in.after = (char *)after;
	if ((rv = gw_rpc(r, gw.account, "account.List", &in.base,
	         &mgr__account__list_reply__descriptor, (ProtobufCMessage **)&out)) !=
	    MGR_OK)
		return (rv);
	body = json_object();
	arr = json_array();
	for (size_t i = 0; body != NULL && arr != NULL && i < out->n_accounts; i++)
		json_array_append_new(arr, acc_json(out->accounts[i]));
	if (body == NULL || arr == NULL) {
		mgr__account__list_reply__free_unpacked(out, NULL);
		json_decref(body);
		json_decref(arr);
		return (MGR_ENOMEM);
	}
	json_object_set_new(body, "accounts", arr);
	json_object_set_new(body, "next_after", gw_next_after(out->next_after));
	mgr__account__list_reply__free_unpacked(out, NULL);
	return (gw_reply_json(r, 200, body));
}

/* Get, disable, enable: an id in, an account out. */
static mgr_err
acc_by_id(struct gw_req *r, const char *method)
{
	Mgr__Account__IdRequest in = MGR__ACCOUNT__ID_REQUEST__INIT;
	Mgr__Account__AccountReply *out = NULL;
	mgr_err rv;

	in.id = r->params[0];
	if ((rv = gw_rpc(r, gw.account, method, &in.base,
	         &mgr__account__account_reply__descriptor, (ProtobufCMessage **)&out)) !=
	    MGR_OK)
		return (rv);
	return (acc_reply(r, 200, out));
}

static mgr_err
h_get(struct gw_req *r)
{
	return (acc_by_id(r, "account.Get"));
}

/* Disable and enable take no fields: an empty body or {} (a JSON body with
 * any field is refused like every unknown field, 400). */
static mgr_err
acc_no_fields(struct gw_req *r, const char *action)
{
	static const char *const none[] = {NULL};
	mgr_err rv;

	if ((rv = gw_json_only(r, none)) != MGR_OK)
		return (acc_refused(r, action, r->params[0], rv));
	return (MGR_OK);
}

static mgr_err
h_disable(struct gw_req *r)
{
	mgr_err rv;

	if ((rv = acc_no_fields(r, "account.disable")) != MGR_OK)
		return (rv);
	/* account-svc moves auth:epoch with it: every gateway refuses the
	 * account's next request (gateway/authcache.c). */
	return (acc_by_id(r, "account.Disable"));
}

static mgr_err
h_enable(struct gw_req *r)
{
	mgr_err rv;

	if ((rv = acc_no_fields(r, "account.enable")) != MGR_OK)
		return (rv);
	return (acc_by_id(r, "account.Enable"));
}

static mgr_err
h_delete(struct gw_req *r)
{
	Mgr__Account__IdRequest in = MGR__ACCOUNT__ID_REQUEST__INIT;
	mgr_err rv;

	in.id = r->params[0];
	if ((rv = gw_rpc(r, gw.account, "account.Delete", &in.base, NULL, NULL)) !=
	    MGR_OK)
		return (rv);
	return (gw_reply_empty(r, 204));
}

static mgr_err
h_password(struct gw_req *r)
{
	static const char *const allowed[] = {"password", NULL};
	Mgr__Account__SetPasswordRequest in = MGR__ACCOUNT__SET_PASSWORD_REQUEST__INIT;
	const char *pw;
	mgr_err rv;

	if ((rv = gw_json_only(r, allowed)) != MGR_OK ||
	    (rv = gw_json_str(r, "password", 1, ACC_PASSWORD_BYTES, &pw)) != MGR_OK)
		return (acc_refused(r, "account.set_password", r->params[0], rv));
	in.id = r->params[0];
	in.password = (char *)pw;
	if ((rv = gw_rpc(r, gw.account, "account.SetPassword", &in.base, NULL, NULL)) !=
	    MGR_OK)
		return (rv);
	return (gw_reply_empty(r, 204));
}

/* PATCH: only "name". Other members go to the service by name, which
 * answers 400 before registration and 409 after (API.md). */
static mgr_err
h_rename(struct gw_req *r)
{
	Mgr__Account__RenameRequest in = MGR__ACCOUNT__RENAME_REQUEST__INIT;
	Mgr__Account__AccountReply *out = NULL;
	char *others[ACC_PATCH_FIELDS_MAX];
	const char *key, *name = NULL;
	json_t *v;
	size_t n = 0;
	mgr_err rv;

	json_object_foreach(r->json, key, v)
	{
		(void)v;
		if (strcmp(key, "name") != 0 && n < ACC_PATCH_FIELDS_MAX)
			others[n++] = (char *)key;
	}
	if (n == 0 && (rv = gw_json_str(r, "name", 1, ACC_NAME_BYTES, &name)) != MGR_OK)
		return (acc_refused(r, "account.rename", r->params[0], rv));
	in.id = r->params[0];
	in.name = (char *)(name != NULL ? name : "");
	in.n_other_fields = n;
	in.other_fields = others;
	if ((rv = gw_rpc(r, gw.account, "account.Rename", &in.base,
	         &mgr__account__account_reply__descriptor, (ProtobufCMessage **)&out)) !=
	    MGR_OK)
		return (rv);
	return (acc_reply(r, 200, out));
}

static json_t *
audit_json(const Mgr__Account__AuditRecord *a)
{
	return (json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", a->id,
	    "time", a->time, "request_id", a->request_id, "actor_kind", a->actor_kind,
	    "actor", a->actor, "action", a->action, "target", a->target, "outcome",
	    a->outcome, "detail", a->detail));
}

/* GET /api/v1/audit?after=CURSOR&limit=N: oldest first; next_after is the
 * cursor to pass next (the last record's id, else the one given, else null). */
static mgr_err
h_audit(struct gw_req *r)
{
	Mgr__Account__AuditRequest in = MGR__ACCOUNT__AUDIT_REQUEST__INIT;
	Mgr__Account__AuditReply *out = NULL;
	const char *after = gw_query(r, "after"), *limit = gw_query(r, "limit");
	json_t *body, *arr;
	int64_t n;
	mgr_err rv;

	if (limit != NULL && *limit != '\0') { /* "limit=": the default */
		if (mgr_parse_i64(limit, &n) != MGR_OK || n < 1 || n > 1000)
			return (gw_fail(r, MGR_EINVAL, "\"limit\" must be 1 to 1000"));
		in.limit = (uint32_t)n;
	}
	in.after = (char *)(after != NULL ? after : "");
	if ((rv = gw_rpc(r, gw.account, "account.ListAudit", &in.base,
	         &mgr__account__audit_reply__descriptor, (ProtobufCMessage **)&out)) !=
	    MGR_OK)
		return (rv);
	body = json_object();
	arr = json_array();
	for (size_t i = 0; body != NULL && arr != NULL && i < out->n_records; i++)
		json_array_append_new(arr, audit_json(out->records[i]));
	if (body == NULL || arr == NULL) {
		mgr__account__audit_reply__free_unpacked(out, NULL);
		json_decref(body);
		json_decref(arr);
		return (MGR_ENOMEM);
	}
	json_object_set_new(body, "records", arr);
	json_object_set_new(body, "next_after", gw_next_after(out->next_after));
	mgr__account__audit_reply__free_unpacked(out, NULL);
	return (gw_reply_json(r, 200, body));
}

const struct gw_route gw_routes_accounts[] = {
    {"POST", "/api/v1/accounts", GW_AUTH_ADMIN, GW_BODY_JSON, h_create, NULL, NULL, NULL},
    {"GET", "/api/v1/accounts", GW_AUTH_ADMIN, GW_BODY_NONE, h_list, NULL, NULL, NULL},
    {"GET", "/api/v1/accounts/{}", GW_AUTH_ADMIN, GW_BODY_NONE, h_get, NULL, NULL, NULL},
    {"PATCH", "/api/v1/accounts/{}", GW_AUTH_ADMIN, GW_BODY_JSON, h_rename, NULL, NULL,
        NULL},
    {"DELETE", "/api/v1/accounts/{}", GW_AUTH_ADMIN, GW_BODY_NONE, h_delete, NULL, NULL,
        NULL},
    {"PUT", "/api/v1/accounts/{}/password", GW_AUTH_ADMIN, GW_BODY_JSON, h_password, NULL,
        NULL, NULL},
    {"POST", "/api/v1/accounts/{}/disable", GW_AUTH_ADMIN, GW_BODY_JSON, h_disable, NULL,
        NULL, NULL},
    {"POST", "/api/v1/accounts/{}/enable", GW_AUTH_ADMIN, GW_BODY_JSON, h_enable, NULL,
        NULL, NULL},
    {"GET", "/api/v1/audit", GW_AUTH_ADMIN, GW_BODY_NONE, h_audit, NULL, NULL, NULL},
    {NULL},
};
