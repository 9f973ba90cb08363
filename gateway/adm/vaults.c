/* createVaultFromTemplate onto vault.Create, as gateway/rest/vaults.c's
 * createLockedVault: the application (role vault provisioner) makes a
 * locked vault from a template; anyone else is refused, and audited, by
 * vault-svc. */
#include "gateway/adm/adm.h"

#include <stdint.h>
#include <string.h>

#include "proto/vault.pb-c.h"

static mgr_err
h_create(struct gw_req *r, struct adm_call *c)
{
	static const char *const known[] = {"id", "name", "mirrorTemplateId", "mirrorId",
	    NULL};
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
		    (!mpresent &&
		        (rv = adm_id(r, c, "mirrorId", ADM_TEMPLATE, 0, mirror,
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
		rv = adm_reply_ok(r,
		    json_pack("{s:I, s:s, s:s, s:b}", "id", (json_int_t)num, "name",
		        out->name, "vaultId", out->id, "locked", 1));
	mgr__vault__vault__free_unpacked(out, NULL);
	return (rv);
}

/* IBM's hard quota: hardQuotaSize in hardQuotaUnit (MB, MiB, GB, GiB, TB,
 * TiB) into bytes; absent: no quota. */
static mgr_err
quota(struct gw_req *r, struct adm_call *c, int64_t *out)
{
	static const struct {
		const char *name;
		int64_t bytes;
	} units[] = {{"MB", 1000000LL}, {"MiB", 1LL << 20}, {"GB", 1000000000LL},
	    {"GiB", 1LL << 30}, {"TB", 1000000000000LL}, {"TiB", 1LL << 40}};
	const char *size, *unit;
	int64_t n;
	mgr_err rv;

	*out = 0;
	if ((rv = adm_str(r, c, "hardQuotaSize", 0, 20, &size)) != MGR_OK ||
	    (rv = adm_str(r, c, "hardQuotaUnit", size != NULL, 8, &unit)) != MGR_OK)
		return (rv);
	if (size == NULL)
		return (MGR_OK);
	if (strspn(size, "0123456789") != strlen(size) ||
	    mgr_parse_i64(size, &n) != MGR_OK || n <= 0) {
		snprintf(c->field, sizeof(c->field), "hardQuotaSize");
		return (
		    gw_fail(r, MGR_EINVAL, "hardQuotaSize must be a positive integer"));
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].name) != 0)
			continue;
		if (n > INT64_MAX / units[i].bytes) {
			snprintf(c->field, sizeof(c->field), "hardQuotaSize");
			return (gw_fail(r, MGR_EINVAL, "hardQuotaSize is too large"));
		}
		*out = n * units[i].bytes;
		return (MGR_OK);
	}
	snprintf(c->field, sizeof(c->field), "hardQuotaUnit");
	return (
	    gw_fail(r, MGR_EINVAL, "hardQuotaUnit must be MB, MiB, GB, GiB, TB or TiB"));
}

/* IBM's parameters of a template's storage layout: meaningless here (the
 * vault service places data), accepted and ignored. */
static const char *const tpl_ignored[] = {"description", "provisioningCode",
    "storagePoolId", "vaultWidth", "threshold", "writeThreshold", "alertLevel",
    "readThreshold", "segmentSize", "segmentSizeUnit", "accessPoolIds", "accessDeviceIds",
    "allowedIps", "softQuotaSize", "softQuotaUnit", "privacyEnabled",
    "largeObjectEnabled", "versioning", "deleteRestricted", "synchronousOperations",
    "storagePoolId1", "storagePoolId2", "vaultWidth1", "vaultWidth2", "threshold1",
    "threshold2", "privacyEnabled1", "privacyEnabled2", NULL};

static mgr_err
create_template(struct gw_req *r, struct adm_call *c, const char *kind)
{
	static const char *const known[] = {"name", "hardQuotaSize", "hardQuotaUnit",
	    NULL};
	Mgr__Vault__CreateTemplateRequest in = MGR__VAULT__CREATE_TEMPLATE_REQUEST__INIT;
	Mgr__Vault__Template *out = NULL;
	const char *name;
	int64_t num;
	mgr_err rv;

	if ((rv = adm_only(r, c, known, tpl_ignored)) != MGR_OK ||
	    (rv = adm_str(r, c, "name", 1, 256, &name)) != MGR_OK ||
	    (rv = quota(r, c, &in.quota_bytes)) != MGR_OK)
		return (rv);
	in.name = (char *)name;
	in.kind = (char *)kind;
	if ((rv = gw_rpc(r, gw.vault, "vault.CreateTemplate", &in.base,
	         &mgr__vault__template__descriptor, (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	if ((rv = adm_number(r, ADM_TEMPLATE, out->id, &num)) == MGR_OK)
		rv = adm_reply_ok(r,
		    json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)num, "templateId",
		        out->id, "name", out->name, "kind", out->kind));
	mgr__vault__template__free_unpacked(out, NULL);
	return (rv);
}

static mgr_err
h_vault_template(struct gw_req *r, struct adm_call *c)
{
	return (create_template(r, c, "vault"));
}

static mgr_err
h_mirror_template(struct gw_req *r, struct adm_call *c)
{
	return (create_template(r, c, "mirror"));
}

/* IBM: superUser and systemAdmin create vaults from templates; here it is
 * the private account's application (a locked vault has no other owner).
 * An administrator's call gets vault-svc's refusal, as on REST. */
const struct adm_method adm_methods_vaults[] = {
    {"createVaultFromTemplate", GW_AUTH_APP | GW_AUTH_ADMIN, h_create},
    {"createVaultTemplate", GW_AUTH_ADMIN, h_vault_template},
    {"createMirrorTemplate", GW_AUTH_ADMIN, h_mirror_template},
    {NULL, 0, NULL},
};
