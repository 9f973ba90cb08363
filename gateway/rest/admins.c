/* Administrators (API.md "Administrators (v2)"): REST/JSON <-> account-svc.
 * Who may call which route is the role table's (roles.c); the rules (user
 * names, roles, password lengths, one's own password, the last super_user)
 * are the service's. A body refused here still gets an audit record. */
#include "gateway/gw.h"

#include <string.h>

#include "common/audit.h"
#include "common/kv.h"
#include "gateway/roles.h"
#include "proto/account.pb-c.h"

#define ADM_USER_BYTES 64
#define ADM_ROLE_BYTES 64
#define ADM_PASSWORD_BYTES 1024

static mgr_err
adm_refused(struct gw_req *r, const char *action, const char *target, mgr_err rv)
{
	audit_log(r->request_id, &r->caller, action, target, rv, r->errmsg);
	kv_thread_done(); /* MHD's threads are not ours */
	return (rv);
}

static json_t *
adm_json(const Mgr__Account__Admin *a)
{
	json_t *o = json_object();

	if (o == NULL)
		return (NULL);
	json_object_set_new(o, "username", json_string(a->username));
	json_object_set_new(o, "role", json_string(a->role));
	json_object_set_new(o, "created_at", gw_json_time_value(a->created_at));
	return (o);
}

static mgr_err
h_create(struct gw_req *r)
{
	static const char *const allowed[] = {"username", "password", "role", NULL};
	Mgr__Account__AdminCreateRequest in = MGR__ACCOUNT__ADMIN_CREATE_REQUEST__INIT;
	Mgr__Account__Admin *out = NULL;
	const char *user, *pw, *role;
	json_t *o;
	mgr_err rv;

	if ((rv = gw_json_only(r, allowed)) != MGR_OK ||
	    (rv = gw_json_str(r, "username", 1, ADM_USER_BYTES, &user)) != MGR_OK ||
	    (rv = gw_json_str(r, "password", 1, ADM_PASSWORD_BYTES, &pw)) != MGR_OK ||
	    (rv = gw_json_str(r, "role", 1, ADM_ROLE_BYTES, &role)) != MGR_OK)
		return (adm_refused(r, "admin.create", "", rv));
	in.username = (char *)user;
	in.password = (char *)pw;
	in.role = (char *)role;
	if ((rv = gw_rpc(r, gw.account, "account.AdminCreate", &in.base,
	         &mgr__account__admin__descriptor, (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	o = adm_json(out);
	rv = o != NULL ? gw_reply_created(r, o, "/api/v1/admins/%s", out->username)
	               : MGR_ENOMEM;
	mgr__account__admin__free_unpacked(out, NULL);
	return (rv);
}

static mgr_err
h_list(struct gw_req *r)
{
	Mgr__Account__AdminListReply *out = NULL;
	Mgr__Empty in = MGR__EMPTY__INIT;
	json_t *o, *a;
	mgr_err rv;

	if ((rv = gw_rpc(r, gw.account, "account.AdminList", &in.base,
	         &mgr__account__admin_list_reply__descriptor,
	         (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	o = json_object();
	a = json_array();
	for (size_t i = 0; i < out->n_admins; i++)
		json_array_append_new(a, adm_json(out->admins[i]));
	json_object_set_new(o, "admins", a);
	mgr__account__admin_list_reply__free_unpacked(out, NULL);
	return (gw_reply_json(r, 200, o));
}

static mgr_err
h_password(struct gw_req *r)
{
	static const char *const allowed[] = {"current_password", "password", NULL};
	Mgr__Account__AdminSetPasswordRequest in =
	    MGR__ACCOUNT__ADMIN_SET_PASSWORD_REQUEST__INIT;
	const char *cur, *pw;
	mgr_err rv;

	/* Another's password: 403 before the body is looked at. */
	if (strcmp(r->params[0], r->caller_id) != 0)
		return (adm_refused(r, "admin.set_password", r->params[0],
		    gw_fail(r, MGR_EPERM,
		        "an administrator may change only its own "
		        "password")));
	if ((rv = gw_json_only(r, allowed)) != MGR_OK ||
	    (rv = gw_json_str(r, "current_password", 1, ADM_PASSWORD_BYTES, &cur)) !=
	        MGR_OK ||
	    (rv = gw_json_str(r, "password", 1, ADM_PASSWORD_BYTES, &pw)) != MGR_OK)
		return (adm_refused(r, "admin.set_password", r->params[0], rv));
	in.username = r->params[0];
	in.current_password = (char *)cur;
	in.password = (char *)pw;
	if ((rv = gw_rpc(r, gw.account, "account.AdminSetPassword", &in.base, NULL,
	         NULL)) != MGR_OK)
		return (rv);
	return (gw_reply_empty(r, 204));
}

/* Who is signed in: the caller's name and role, and the operations the role
 * table (roles.c) allows that role, so that the console shows only what
 * the server would do for it (the server still checks every request). */
static mgr_err
h_me(struct gw_req *r)
{
	unsigned bit = gw_role_bit(r->caller_role);
	json_t *o = json_object(), *ops = json_array();

	if (o == NULL || ops == NULL) {
		json_decref(o);
		json_decref(ops);
		return (MGR_ENOMEM);
	}
	for (const struct gw_role_rule *ru = gw_role_table; ru->op != NULL; ru++) {
		int seen = 0;

		if ((ru->roles & bit) == 0)
			continue;
		for (const struct gw_role_rule *p = gw_role_table; p < ru && !seen; p++)
			seen = strcmp(p->op, ru->op) == 0;
		if (!seen)
			json_array_append_new(ops, json_string(ru->op));
	}
	json_object_set_new(o, "username", json_string(r->caller_id));
	json_object_set_new(o, "role", json_string(r->caller_role));
	json_object_set_new(o, "operations", ops);
	return (gw_reply_json(r, 200, o));
}

static mgr_err
h_delete(struct gw_req *r)
{
	Mgr__Account__AdminRequest in = MGR__ACCOUNT__ADMIN_REQUEST__INIT;
	mgr_err rv;

	in.username = r->params[0];
	if ((rv = gw_rpc(r, gw.account, "account.AdminDelete", &in.base, NULL, NULL)) !=
	    MGR_OK)
		return (rv);
	return (gw_reply_empty(r, 204));
}

const struct gw_route gw_routes_admins[] = {
    {"POST", "/api/v1/admins", GW_AUTH_ADMIN, GW_BODY_JSON, h_create, NULL, NULL, NULL},
    {"GET", "/api/v1/admins", GW_AUTH_ADMIN, GW_BODY_NONE, h_list, NULL, NULL, NULL},
    /* Before "/api/v1/admins/{}": an administrator named "me" is still
	 * deleted by DELETE (the method differs, the search goes on). */
    {"GET", "/api/v1/admins/me", GW_AUTH_ADMIN, GW_BODY_NONE, h_me, NULL, NULL, NULL},
    {"PUT", "/api/v1/admins/{}/password", GW_AUTH_ADMIN, GW_BODY_JSON, h_password, NULL,
        NULL, NULL},
    {"DELETE", "/api/v1/admins/{}", GW_AUTH_ADMIN, GW_BODY_NONE, h_delete, NULL, NULL,
        NULL},
    {NULL},
};
