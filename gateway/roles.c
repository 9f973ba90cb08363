/* The role table (see roles.h). */
#include "gateway/roles.h"

#include <stddef.h>
#include <string.h>

#define SU GW_ROLE_SUPER_USER
#define SO GW_ROLE_SECURITY_OFFICER
#define ALL GW_ROLES_ALL
/* Vault data: the vault service refuses every administrator (roles.h). */
#define VAULT_DATA GW_ROLES_ALL

const struct gw_role_rule gw_role_table[] = {
    /* Administrators */
    {"admin.create", "POST", "/api/v1/admins", SU},
    {"admin.list", "GET", "/api/v1/admins", SU | SO},
    {"admin.me", "GET", "/api/v1/admins/me", ALL},
    {"admin.set_password", "PUT", "/api/v1/admins/{}/password", ALL},
    {"admin.delete", "DELETE", "/api/v1/admins/{}", SU},
    /* Private accounts */
    {"account.create", "POST", "/api/v1/accounts", SU | SO},
    {"account.list", "GET", "/api/v1/accounts", ALL},
    {"account.get", "GET", "/api/v1/accounts/{}", ALL},
    {"account.rename", "PATCH", "/api/v1/accounts/{}", SU | SO},
    {"account.delete", "DELETE", "/api/v1/accounts/{}", SU | SO},
    {"account.set_password", "PUT", "/api/v1/accounts/{}/password", SU | SO},
    {"account.disable", "POST", "/api/v1/accounts/{}/disable", SU | SO},
    {"account.enable", "POST", "/api/v1/accounts/{}/enable", SU | SO},
    {"certificate.list", "GET", "/api/v1/accounts/{}/certificates", ALL},
    {"event.list", "GET", "/api/v1/accounts/{}/events", ALL},
    {"audit.list", "GET", "/api/v1/audit", ALL},
    /* Devices */
    {"device.create", "POST", "/api/v1/devices", SU | SO},
    {"device.list", "GET", "/api/v1/devices", ALL},
    {"device.revoke", "POST", "/api/v1/devices/{}/revoke", SU | SO},
    {"device.delete", "DELETE", "/api/v1/devices/{}", SU | SO},
    /* Vault templates and vaults */
    {"template.create", "POST", "/api/v1/vault-templates", SU},
    {"template.list", "GET", "/api/v1/vault-templates", ALL},
    {"template.update", "PATCH", "/api/v1/vault-templates/{}", SU},
    {"vault.create", "POST", "/api/v1/vaults", VAULT_DATA},
    {"vault.list", "GET", "/api/v1/vaults", ALL},
    {"vault.get", "GET", "/api/v1/vaults/{}", ALL},
    {"vault.delete", "DELETE", "/api/v1/vaults/{}", SU},
    {"vault.update", "PATCH", "/api/v1/vaults/{}", VAULT_DATA},
    {"vault.replace", "PUT", "/api/v1/vaults/{}", VAULT_DATA},
    {"object.list", "GET", "/api/v1/vaults/{}/objects", VAULT_DATA},
    {"object.put", "PUT", "/api/v1/vaults/{}/objects/{+}", VAULT_DATA},
    {"object.get", "GET", "/api/v1/vaults/{}/objects/{+}", VAULT_DATA},
    {"object.head", "HEAD", "/api/v1/vaults/{}/objects/{+}", VAULT_DATA},
    {"object.delete", "DELETE", "/api/v1/vaults/{}/objects/{+}", VAULT_DATA},
/* The IBM .adm front (gateway/adm/): the same operations, the same roles. */
#define ADM(m) "/manager/api/{}/1.0/" m ".adm"
    {"account.create", "POST", ADM("createPrivateAccount"), SU | SO},
    {"account.create", "POST", ADM("createAccount"), SU | SO},
    {"account.rename", "POST", ADM("editAccount"), SU | SO},
    {"account.set_password", "POST", ADM("editAccountPassword"), SU | SO},
    {"account.disable", "POST", ADM("disableAccount"), SU | SO},
    {"account.enable", "POST", ADM("enableAccount"), SU | SO},
    {"account.delete", "POST", ADM("deleteAccount"), SU | SO},
    {"vault.create", "POST", ADM("createVaultFromTemplate"), VAULT_DATA},
    {"template.create", "POST", ADM("createVaultTemplate"), SU},
    {"template.create", "POST", ADM("createMirrorTemplate"), SU},
#undef ADM
    {NULL, NULL, NULL, 0},
};

unsigned
gw_role_bit(const char *role)
{
	if (role == NULL)
		return (0);
	if (strcmp(role, "super_user") == 0)
		return (GW_ROLE_SUPER_USER);
	if (strcmp(role, "security_officer") == 0)
		return (GW_ROLE_SECURITY_OFFICER);
	if (strcmp(role, "operator") == 0)
		return (GW_ROLE_OPERATOR);
	return (0);
}

const struct gw_role_rule *
gw_role_rule_of(const char *method, const char *pattern)
{
	for (const struct gw_role_rule *r = gw_role_table; r->op != NULL; r++)
		if (strcmp(r->method, method) == 0 && strcmp(r->pattern, pattern) == 0)
			return (r);
	return (NULL);
}

mgr_err
gw_role_check(const char *role, const char *method, const char *pattern)
{
	const struct gw_role_rule *r = gw_role_rule_of(method, pattern);

	return (r != NULL && (r->roles & gw_role_bit(role)) != 0 ? MGR_OK : MGR_EPERM);
}

mgr_err
gw_role_check_op(const char *role, const char *op)
{
	for (const struct gw_role_rule *r = gw_role_table; r->op != NULL; r++)
		if (strcmp(r->op, op) == 0)
			return ((r->roles & gw_role_bit(role)) != 0 ? MGR_OK : MGR_EPERM);
	return (MGR_EPERM);
}
