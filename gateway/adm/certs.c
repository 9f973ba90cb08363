/* The certificate methods of IBM's locked-vault workflow onto ca-svc's
 * RPCs, as gateway/rest/certs.c does for REST:
 *   registerClientCertificate  temporary credentials  ca.Register
 *   clientCertificateRenewer   client certificate     ca.Renew
 *   rotateClientKey            client certificate     ca.Rotate
 * The service checks everything else: the account is the caller's own (a
 * foreign accountId is its 403, audited), the CSR, the date. */
#include "gateway/adm/adm.h"

#include <string.h>

#include "proto/ca.pb-c.h"

#define CSR_MAX (16u * 1024)                           /* as rest/certs.c */
#define ID_MAX sizeof(((struct gw_req *)0)->caller_id) /* holds the caller's */

/* responseData of a certificate: IBM's "certificate" (PEM), and ours. */
static mgr_err
reply_cert(struct gw_req *r, const Mgr__Ca__CertReply *out, int renew, int rotate)
{
	const Mgr__Ca__Certificate *ct = out->certificate;
	json_t *d, *a;
	int64_t num;
	mgr_err rv;

	if (ct == NULL)
		return (MGR_EINTERNAL);
	if ((rv = adm_number(r, ADM_ACCOUNT, r->caller_id, &num)) != MGR_OK)
		return (rv);
	d = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "certificate", ct->pem,
	    "caCertificate", gw.ca_pem, "serial", ct->serial, "subject", ct->subject,
	    "notBefore", (json_int_t)ct->not_before * 1000, "expirationDate",
	    (json_int_t)ct->not_after * 1000, "accountId", (json_int_t)num);
	if (d == NULL)
		return (MGR_ENOMEM);
	if (renew)
		json_object_set_new(d, "renewed", json_boolean(out->renewed));
	if (rotate) {
		a = json_array();
		for (size_t i = 0; a != NULL && i < out->n_revoked; i++)
			json_array_append_new(a, json_string(out->revoked[i]));
		json_object_set_new(d, "revokedSerials", a != NULL ? a : json_array());
	}
	return (adm_reply_ok(r, d));
}

/* accountId: given, the account it names; absent, the caller's own. */
static mgr_err
account_of(struct gw_req *r, struct adm_call *c, int required, char id[ID_MAX])
{
	int present;
	mgr_err rv;

	if ((rv = adm_id(r, c, "accountId", ADM_ACCOUNT, required, id, ID_MAX,
	         &present)) != MGR_OK)
		return (rv);
	if (!present)
		snprintf(id, ID_MAX, "%s", r->caller_id);
	return (MGR_OK);
}

static mgr_err
call_ca(struct gw_req *r, const char *method, const ProtobufCMessage *in, int renew,
    int rotate)
{
	Mgr__Ca__CertReply *out = NULL;
	mgr_err rv;

	if ((rv = gw_rpc(r, gw.ca, method, in, &mgr__ca__cert_reply__descriptor,
	         (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	rv = reply_cert(r, out, renew, rotate);
	mgr__ca__cert_reply__free_unpacked(out, NULL);
	return (rv);
}

static mgr_err
h_register(struct gw_req *r, struct adm_call *c)
{
	static const char *const known[] = {"csr", "expirationDate", "accountId", NULL};
	Mgr__Ca__IssueRequest in = MGR__CA__ISSUE_REQUEST__INIT;
	char id[ID_MAX];
	const char *csr;
	int64_t exp = 0;
	int present;
	mgr_err rv;

	if ((rv = adm_only(r, c, known, NULL)) != MGR_OK ||
	    (rv = adm_str(r, c, "csr", 1, CSR_MAX, &csr)) != MGR_OK ||
	    (rv = adm_ms(r, c, "expirationDate", 0, &exp, &present)) != MGR_OK ||
	    (rv = account_of(r, c, 0, id)) != MGR_OK)
		return (rv);
	in.account_id = id;
	in.csr_pem = (char *)csr;
	in.expiration = exp;
	in.has_expiration = present;
	return (call_ca(r, "ca.Register", &in.base, 0, 0));
}

/* IBM: accountId and expirationDate are both required. */
static mgr_err
h_renew(struct gw_req *r, struct adm_call *c)
{
	static const char *const known[] = {"accountId", "expirationDate", NULL};
	Mgr__Ca__RenewRequest in = MGR__CA__RENEW_REQUEST__INIT;
	char id[ID_MAX];
	int64_t exp = 0;
	int present;
	mgr_err rv;

	if ((rv = adm_only(r, c, known, NULL)) != MGR_OK ||
	    (rv = account_of(r, c, 1, id)) != MGR_OK ||
	    (rv = adm_ms(r, c, "expirationDate", 1, &exp, &present)) != MGR_OK)
		return (rv);
	in.account_id = id;
	in.expiration = exp;
	in.has_expiration = present;
	return (call_ca(r, "ca.Renew", &in.base, 1, 0));
}

/* IBM: the new CSR, optionally expirationDate; the old certificates are
 * revoked (REST's rotation without "revoke": every other one). */
static mgr_err
h_rotate(struct gw_req *r, struct adm_call *c)
{
	static const char *const known[] = {"csr", "expirationDate", "accountId", NULL};
	Mgr__Ca__IssueRequest in = MGR__CA__ISSUE_REQUEST__INIT;
	char id[ID_MAX];
	const char *csr;
	int64_t exp = 0;
	int present;
	mgr_err rv;

	if ((rv = adm_only(r, c, known, NULL)) != MGR_OK ||
	    (rv = adm_str(r, c, "csr", 1, CSR_MAX, &csr)) != MGR_OK ||
	    (rv = adm_ms(r, c, "expirationDate", 0, &exp, &present)) != MGR_OK ||
	    (rv = account_of(r, c, 0, id)) != MGR_OK)
		return (rv);
	in.account_id = id;
	in.csr_pem = (char *)csr;
	in.expiration = exp;
	in.has_expiration = present;
	return (call_ca(r, "ca.Rotate", &in.base, 0, 1));
}

/* IBM documents no name for registration's method ("the Register Client
 * Certificate REST API method", "Client Registration REST API"): ours is
 * registerClientCertificate, and the other spellings of those titles are
 * accepted as the same method (api/ibm-compat.md). */
const struct adm_method adm_methods_certs[] = {
    {"registerClientCertificate", GW_AUTH_TEMP, h_register},
    {"clientRegistration", GW_AUTH_TEMP, h_register},
    {"clientCertificateRegistration", GW_AUTH_TEMP, h_register},
    {"clientCertificateRenewer", GW_AUTH_APP, h_renew},
    {"rotateClientKey", GW_AUTH_APP, h_rotate},
    {NULL, 0, NULL},
};
