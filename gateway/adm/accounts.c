/* The account methods an administrator uses (IBM "Account management":
 * createPrivateAccount, createAccount, editAccount, editAccountPassword;
 * and disableAccount, enableAccount, deleteAccount, named by us) onto
 * account-svc's RPCs, as gateway/rest/accounts.c does for REST. A call
 * refused here (a parameter missing or bad) gets the audit record the REST
 * route gives a refused body. */
#include "gateway/adm/adm.h"

#include <string.h>

#include "common/audit.h"
#include "common/kv.h"
#include "proto/account.pb-c.h"

/* Transport bounds, as rest/accounts.c; the service applies the rules. */
#define ACC_NAME_BYTES 128
#define ACC_USER_BYTES 64
#define ACC_PASSWORD_BYTES 1024
#define ACC_OTHER_MAX ADM_PARAMS_MAX

static mgr_err
refused(struct gw_req *r, const char *action, const char *target, mgr_err rv)
{
	audit_log(r->request_id, &r->caller, action, target, rv, r->errmsg);
	kv_thread_done(); /* MHD's threads are not ours (rest/accounts.c) */
	return (rv);
}

/* responseData of an account: IBM's "id" is its number. */
static mgr_err
reply_account(struct gw_req *r, Mgr__Account__AccountReply *out)
{
	const Mgr__Account__Account *a = out->account;
	int64_t num;
	mgr_err rv;

	if (a == NULL)
		rv = MGR_EINTERNAL;
	else if ((rv = adm_number(r, ADM_ACCOUNT, a->id, &num)) == MGR_OK)
		rv = adm_reply_ok(r,
		    json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)num, "name",
		        a->name, "state", a->state, "role", a->role));
	mgr__account__account_reply__free_unpacked(out, NULL);
	return (rv);
}

/* password and, when given, confirmPassword equal to it. */
static mgr_err
password_pair(struct gw_req *r, struct adm_call *c, int confirm_required, const char **pw)
{
	const char *confirm;
	mgr_err rv;

	if ((rv = adm_str(r, c, "password", 1, ACC_PASSWORD_BYTES, pw)) != MGR_OK ||
	    (rv = adm_str(r, c, "confirmPassword", confirm_required, ACC_PASSWORD_BYTES,
	         &confirm)) != MGR_OK)
		return (rv);
	if (confirm != NULL && strcmp(confirm, *pw) != 0) {
		snprintf(c->field, sizeof(c->field), "confirmPassword");
		return (gw_fail(r, MGR_EINVAL, "confirmPassword differs from password"));
	}
	return (MGR_OK);
}

/* IBM names roles in rolesMap[<role>]=true|false or roles=<role>. Here a
 * private account has one role, vault provisioner: that one may be named,
 * no other. *named: it was. */
static mgr_err
role_params(struct gw_req *r, struct adm_call *c, int *named)
{
	static const char vp[] = "rolesMap[vaultProvisioner]";

	*named = 0;
	for (int i = 0; i < c->form.n; i++) {
		const struct adm_param *p = &c->form.p[i];

		if (strcmp(p->key, vp) == 0 && strcmp(p->value, "true") == 0) {
			*named = 1;
		} else if (strcmp(p->key, "roles") == 0 &&
		    strcmp(p->value, "vaultProvisioner") == 0) {
			*named = 1;
		} else if ((strncmp(p->key, "rolesMap[", 9) == 0 &&
		               strcmp(p->value, "false") != 0) ||
		    strcmp(p->key, "roles") == 0 ||
		    (strcmp(p->key, vp) == 0 && strcmp(p->value, "false") == 0)) {
			snprintf(c->field, sizeof(c->field), "%s", p->key);
			return (gw_fail(r, MGR_EINVAL,
			    "a private account has the role "
			    "vaultProvisioner, and no other"));
		}
	}
	return (MGR_OK);
}

static mgr_err
create(struct gw_req *r, struct adm_call *c, int role_required)
{
	static const char *const known[] = {"name", "username", "userName", "password",
	    "confirmPassword", "roles", "rolesMap[", "accountType", NULL};
	static const char *const ignored[] = {"email", NULL};
	Mgr__Account__CreateRequest in = MGR__ACCOUNT__CREATE_REQUEST__INIT;
	Mgr__Account__AccountReply *out = NULL;
	const char *name, *user, *user2, *pw, *type;
	int named;
	mgr_err rv;

	/* createPrivateAccount's table says "username", its example
	 * "userName": either (both: the same). */
	if ((rv = adm_only(r, c, known, ignored)) != MGR_OK ||
	    (rv = adm_str(r, c, "name", 1, ACC_NAME_BYTES, &name)) != MGR_OK ||
	    (rv = adm_str(r, c, "username", 0, ACC_USER_BYTES, &user)) != MGR_OK ||
	    (rv = adm_str(r, c, "userName", user == NULL, ACC_USER_BYTES, &user2)) !=
	        MGR_OK ||
	    (rv = password_pair(r, c, 1, &pw)) != MGR_OK ||
	    (rv = role_params(r, c, &named)) != MGR_OK ||
	    (rv = adm_str(r, c, "accountType", 0, 16, &type)) != MGR_OK)
		return (refused(r, "account.create", "", rv));
	if (user != NULL && user2 != NULL && strcmp(user, user2) != 0) {
		snprintf(c->field, sizeof(c->field), "userName");
		return (refused(r, "account.create", "",
		    gw_fail(r, MGR_EINVAL, "username and userName differ")));
	}
	if (type != NULL && strcmp(type, "local") != 0) {
		snprintf(c->field, sizeof(c->field), "accountType");
		return (refused(r, "account.create", "",
		    gw_fail(r, MGR_EINVAL, "accounts here are local")));
	}
	if (role_required && !named) {
		snprintf(c->field, sizeof(c->field), "rolesMap[vaultProvisioner]");
		return (refused(r, "account.create", "",
		    gw_fail(r, MGR_EINVAL,
		        "the account must have the role vaultProvisioner "
		        "(rolesMap[vaultProvisioner]=true)")));
	}
	in.name = (char *)name;
	in.role = (char *)"vault_provisioner";
	in.username = (char *)(user != NULL ? user : user2);
	in.password = (char *)pw;
	if ((rv = gw_rpc(r, gw.account, "account.Create", &in.base,
	         &mgr__account__account_reply__descriptor, (ProtobufCMessage **)&out)) !=
	    MGR_OK)
		return (rv);
	return (reply_account(r, out));
}

static mgr_err
h_create_private(struct gw_req *r, struct adm_call *c)
{
	return (create(r, c, 0));
}

static mgr_err
h_create(struct gw_req *r, struct adm_call *c)
{
	return (create(r, c, 1));
}

/* The account of the "id" parameter; refusals audited as ACTION. */
static mgr_err
account_param(struct gw_req *r, struct adm_call *c, const char *action,
    char id[MGR_ID_MAX])
{
	int present;
	mgr_err rv;

	if ((rv = adm_id(r, c, "id", ADM_ACCOUNT, 1, id, MGR_ID_MAX, &present)) !=
	    MGR_OK) {
		const char *v = NULL;

		(void)adm_form_one(&c->form, "id", &v);
		return (refused(r, action, v != NULL ? v : "", rv));
	}
	return (MGR_OK);
}

/* editAccount: "name" renames; every other parameter of IBM's editAccount
 * goes to the service by name, which refuses it as it refuses PATCH's
 * other members (before registration and after). */
static mgr_err
h_edit(struct gw_req *r, struct adm_call *c)
{
	Mgr__Account__RenameRequest in = MGR__ACCOUNT__RENAME_REQUEST__INIT;
	Mgr__Account__AccountReply *out = NULL;
	char id[MGR_ID_MAX], *others[ACC_OTHER_MAX];
	const char *name = NULL;
	size_t n = 0;
	mgr_err rv;

	if ((rv = account_param(r, c, "account.rename", id)) != MGR_OK)
		return (rv);
	for (int i = 0; i < c->form.n; i++)
		if (strcmp(c->form.p[i].key, "id") != 0 &&
		    strcmp(c->form.p[i].key, "name") != 0)
			others[n++] = c->form.p[i].key;
	if (n == 0 && (rv = adm_str(r, c, "name", 1, ACC_NAME_BYTES, &name)) != MGR_OK)
		return (refused(r, "account.rename", id, rv));
	in.id = id;
	in.name = (char *)(name != NULL ? name : "");
	in.n_other_fields = n;
	in.other_fields = others;
	if ((rv = gw_rpc(r, gw.account, "account.Rename", &in.base,
	         &mgr__account__account_reply__descriptor, (ProtobufCMessage **)&out)) !=
	    MGR_OK)
		return (rv);
	return (reply_account(r, out));
}

static mgr_err
h_password(struct gw_req *r, struct adm_call *c)
{
	static const char *const known[] = {"id", "password", "confirmPassword", NULL};
	Mgr__Account__SetPasswordRequest in = MGR__ACCOUNT__SET_PASSWORD_REQUEST__INIT;
	char id[MGR_ID_MAX];
	const char *pw;
	int64_t num;
	mgr_err rv;

	if ((rv = account_param(r, c, "account.set_password", id)) != MGR_OK)
		return (rv);
	if ((rv = adm_only(r, c, known, NULL)) != MGR_OK ||
	    (rv = password_pair(r, c, 0, &pw)) != MGR_OK)
		return (refused(r, "account.set_password", id, rv));
	in.id = id;
	in.password = (char *)pw;
	if ((rv = gw_rpc(r, gw.account, "account.SetPassword", &in.base, NULL, NULL)) !=
	    MGR_OK)
		return (rv);
	if ((rv = adm_number(r, ADM_ACCOUNT, id, &num)) != MGR_OK)
		return (rv);
	return (adm_reply_ok(r, json_pack("{s:I}", "id", (json_int_t)num)));
}

/* disable, enable, delete: the id alone. */
static mgr_err
by_id(struct gw_req *r, struct adm_call *c, const char *method, const char *action)
{
	static const char *const known[] = {"id", NULL};
	Mgr__Account__IdRequest in = MGR__ACCOUNT__ID_REQUEST__INIT;
	Mgr__Account__AccountReply *out = NULL;
	const ProtobufCMessageDescriptor *desc = &mgr__account__account_reply__descriptor;
	char id[MGR_ID_MAX];
	int64_t num;
	mgr_err rv;

	if ((rv = account_param(r, c, action, id)) != MGR_OK)
		return (rv);
	if ((rv = adm_only(r, c, known, NULL)) != MGR_OK)
		return (refused(r, action, id, rv));
	in.id = id;
	if (strcmp(method, "account.Delete") == 0) {
		if ((rv = adm_number(r, ADM_ACCOUNT, id, &num)) != MGR_OK ||
		    (rv = gw_rpc(r, gw.account, method, &in.base, NULL, NULL)) != MGR_OK)
			return (rv);
		return (adm_reply_ok(r, json_pack("{s:I}", "id", (json_int_t)num)));
	}
	if ((rv = gw_rpc(r, gw.account, method, &in.base, desc,
	         (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	return (reply_account(r, out));
}

static mgr_err
h_disable(struct gw_req *r, struct adm_call *c)
{
	return (by_id(r, c, "account.Disable", "account.disable"));
}

static mgr_err
h_enable(struct gw_req *r, struct adm_call *c)
{
	return (by_id(r, c, "account.Enable", "account.enable"));
}

static mgr_err
h_delete(struct gw_req *r, struct adm_call *c)
{
	return (by_id(r, c, "account.Delete", "account.delete"));
}

const struct adm_method adm_methods_accounts[] = {
    {"createPrivateAccount", GW_AUTH_ADMIN, h_create_private},
    {"createAccount", GW_AUTH_ADMIN, h_create},
    {"editAccount", GW_AUTH_ADMIN, h_edit},
    {"editAccountPassword", GW_AUTH_ADMIN, h_password},
    {"disableAccount", GW_AUTH_ADMIN, h_disable},
    {"enableAccount", GW_AUTH_ADMIN, h_enable},
    {"deleteAccount", GW_AUTH_ADMIN, h_delete},
    {NULL, 0, NULL},
};
