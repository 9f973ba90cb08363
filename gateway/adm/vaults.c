/* createVaultFromTemplate onto vault.Create, as gateway/routes_vaults.c's
 * createLockedVault: the application (role vault provisioner) makes a
 * locked vault from a template; anyone else is refused, and audited, by
 * vault-svc. */
#include "gateway/adm/adm.h"

#include <string.h>

#include "proto/vault.pb-c.h"

static mgr_err
h_create(struct gw_req *r, struct adm_call *c)
{
	static const char *const known[] = {"id", "name", "mirrorTemplateId",
		"mirrorId", NULL};
	static const char *const ignored[] = {"description", NULL};
	Mgr__Vault__CreateVaultRequest in = MGR__VAULT__CREATE_VAULT_REQUEST__INIT;
	Mgr__Vault__Vault *out = NULL;
	char tpl[MGR_ID_MAX], mirror[MGR_ID_MAX];
	const char *name = NULL;
	int present, mpresent = 0;
	int64_t num;
	mgr_err rv;

	if (r->caller.kind == MGR__CALLER__KIND__APP) {
		/* IBM's mirrorId names a mirror; here a mirrored vault is made
		 * from a mirror template, which either name gives. */
		if ((rv = adm_only(r, c, known, ignored)) != MGR_OK ||
		    (rv = adm_str(r, c, "name", 1, 256, &name)) != MGR_OK ||
		    (rv = adm_id(r, c, "id", ADM_TEMPLATE, 1, tpl, sizeof(tpl),
		         &present)) != MGR_OK ||
		    (rv = adm_id(r, c, "mirrorTemplateId", ADM_TEMPLATE, 0, mirror,
		         sizeof(mirror), &mpresent)) != MGR_OK ||
		    (!mpresent && (rv = adm_id(r, c, "mirrorId", ADM_TEMPLATE, 0, mirror,
		                       sizeof(mirror), &mpresent)) != MGR_OK))
			return (rv);
		in.name = (char *)name;
		in.vault_template_id = tpl;
		if (mpresent)
			in.mirror_template_id = mirror;
	}
	if ((rv = gw_rpc(r, gw.vault, "vault.Create", &in.base,
	         &mgr__vault__vault__descriptor, (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	if ((rv = adm_number(r, ADM_VAULT, out->id, &num)) == MGR_OK)
		rv = adm_reply_ok(r, json_pack("{s:I, s:s, s:s, s:b}", "id",
		    (json_int_t)num, "name", out->name, "vaultId", out->id, "locked", 1));
	mgr__vault__vault__free_unpacked(out, NULL);
	return (rv);
}

/* IBM: superUser and systemAdmin create vaults from templates; here it is
 * the private account's application (a locked vault has no other owner).
 * An administrator's call gets vault-svc's refusal, as on REST. */
const struct adm_method adm_methods_vaults[] = {
	{"createVaultFromTemplate", GW_AUTH_APP | GW_AUTH_ADMIN, h_create},
	{NULL, 0, NULL},
};
