/* Certificates, devices and the CRL (API.md "Certificates", "Devices",
 * GET /api/v1/ca/crl): JSON in, ca-svc RPC out. */
#include "gateway/gw.h"

#include <stdlib.h>
#include <string.h>

#include "proto/ca.pb-c.h"

#define CSR_JSON_MAX (16u * 1024)

static json_t *
cert_json(const Mgr__Ca__Certificate *c)
{
	json_t *o = json_object();

	if (o == NULL || c == NULL)
		return (o);
	json_object_set_new(o, "serial", json_string(c->serial));
	json_object_set_new(o, "subject", json_string(c->subject));
	json_object_set_new(o, "not_before", gw_json_time_value(c->not_before));
	json_object_set_new(o, "not_after", gw_json_time_value(c->not_after));
	json_object_set_new(o, "status", json_string(c->status));
	json_object_set_new(o, "certificate", json_string(c->pem));
	json_object_set_new(o, "ca_certificate", json_string(gw.ca_pem));
	return (o);
}

static mgr_err
reply_cert(struct gw_req *r, int status, const Mgr__Ca__CertReply *out, int with_renewed,
    int with_revoked)
{
	json_t *o = cert_json(out->certificate), *a;

	if (o == NULL)
		return (MGR_ENOMEM);
	if (with_renewed)
		json_object_set_new(o, "renewed", json_boolean(out->renewed));
	if (with_revoked) {
		a = json_array();
		for (size_t i = 0; i < out->n_revoked; i++)
			json_array_append_new(a, json_string(out->revoked[i]));
		json_object_set_new(o, "revoked", a);
	}
	return (gw_reply_json(r, status, o));
}

/* csr (required when want_csr) and expiration_date into in. */
static mgr_err
issue_args(struct gw_req *r, Mgr__Ca__IssueRequest *in, int64_t *exp)
{
	const char *csr;
	int present;
	mgr_err rv;

	if ((rv = gw_json_str(r, "csr", 1, CSR_JSON_MAX, &csr)) != MGR_OK ||
	    (rv = gw_json_time(r, "expiration_date", exp, &present)) != MGR_OK)
		return (rv);
	in->account_id = r->params[0];
	in->csr_pem = (char *)csr;
	in->expiration = *exp;
	in->has_expiration = present;
	return (MGR_OK);
}

static mgr_err
h_register(struct gw_req *r)
{
	static const char *const allowed[] = {"csr", "expiration_date", NULL};
	Mgr__Ca__IssueRequest in = MGR__CA__ISSUE_REQUEST__INIT;
	Mgr__Ca__CertReply *out = NULL;
	int64_t exp = 0;
	mgr_err rv;

	if ((rv = gw_json_only(r, allowed)) != MGR_OK ||
	    (rv = issue_args(r, &in, &exp)) != MGR_OK)
		return (rv);
	if ((rv = gw_rpc(r, gw.ca, "ca.Register", &in.base,
	         &mgr__ca__cert_reply__descriptor, (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	rv = reply_cert(r, 201, out, 0, 0);
	mgr__ca__cert_reply__free_unpacked(out, NULL);
	return (rv);
}

static mgr_err
h_renew(struct gw_req *r)
{
	static const char *const allowed[] = {"expiration_date", NULL};
	Mgr__Ca__RenewRequest in = MGR__CA__RENEW_REQUEST__INIT;
	Mgr__Ca__CertReply *out = NULL;
	int64_t exp = 0;
	int present;
	mgr_err rv;

	if ((rv = gw_json_only(r, allowed)) != MGR_OK ||
	    (rv = gw_json_time(r, "expiration_date", &exp, &present)) != MGR_OK)
		return (rv);
	in.account_id = r->params[0];
	in.expiration = exp;
	in.has_expiration = present;
	if ((rv = gw_rpc(r, gw.ca, "ca.Renew", &in.base, &mgr__ca__cert_reply__descriptor,
	         (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	rv = reply_cert(r, 200, out, 1, 0);
	mgr__ca__cert_reply__free_unpacked(out, NULL);
	return (rv);
}

static mgr_err
h_rotate(struct gw_req *r)
{
	static const char *const allowed[] = {"csr", "expiration_date", "revoke", NULL};
	Mgr__Ca__IssueRequest in = MGR__CA__ISSUE_REQUEST__INIT;
	Mgr__Ca__CertReply *out = NULL;
	json_t *rev = json_object_get(r->json, "revoke");
	char *serials[33];
	int64_t exp = 0;
	size_t n = 0;
	mgr_err rv;

	if ((rv = gw_json_only(r, allowed)) != MGR_OK ||
	    (rv = issue_args(r, &in, &exp)) != MGR_OK)
		return (rv);
	if (rev != NULL && !json_is_null(rev)) { /* null: as if absent */
		if (!json_is_array(rev))
			return (gw_fail(r, MGR_EINVAL,
			    "\"revoke\" must be an array of serials"));
		if (json_array_size(rev) > 32)
			return (gw_fail(r, MGR_EINVAL,
			    "\"revoke\" lists at most 32 serials"));
		for (n = 0; n < json_array_size(rev); n++) {
			json_t *s = json_array_get(rev, n);

			if (!json_is_string(s) || json_string_length(s) == 0 ||
			    json_string_length(s) > 64)
				return (gw_fail(r, MGR_EINVAL,
				    "\"revoke\" must be an array of serials"));
			serials[n] = (char *)json_string_value(s);
		}
		in.has_revoke = 1;
		in.revoke = serials;
		in.n_revoke = n;
	}
	if ((rv = gw_rpc(r, gw.ca, "ca.Rotate", &in.base,
	         &mgr__ca__cert_reply__descriptor, (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	rv = reply_cert(r, 201, out, 0, 1);
	mgr__ca__cert_reply__free_unpacked(out, NULL);
	return (rv);
}

#define GW_CERT_PAGE_MAX 1000 /* = the CA service's page size (CA_LIST_MAX) */

/* GET /api/v1/accounts/{id}/certificates?after=CURSOR&limit=N: oldest
 * issued first, paged like the admin listings. */
static mgr_err
h_list(struct gw_req *r)
{
	Mgr__Ca__ListCertsRequest in = MGR__CA__LIST_CERTS_REQUEST__INIT;
	Mgr__Ca__ListCertsReply *out = NULL;
	const char *after = "";
	json_t *o, *a;
	mgr_err rv;

	if ((rv = gw_page_query(r, GW_CERT_PAGE_MAX, &after, &in.limit)) != MGR_OK)
		return (rv);
	in.account_id = r->params[0];
	in.after = (char *)after;
	if ((rv = gw_rpc(r, gw.ca, "ca.ListCerts", &in.base,
	         &mgr__ca__list_certs_reply__descriptor, (ProtobufCMessage **)&out)) !=
	    MGR_OK)
		return (rv);
	o = json_object();
	a = json_array();
	for (size_t i = 0; i < out->n_certificates; i++)
		json_array_append_new(a, cert_json(out->certificates[i]));
	json_object_set_new(o, "certificates", a);
	json_object_set_new(o, "next_after", gw_next_after(out->next_after));
	mgr__ca__list_certs_reply__free_unpacked(out, NULL);
	return (gw_reply_json(r, 200, o));
}

static mgr_err
h_crl(struct gw_req *r)
{
	Mgr__Ca__CrlReply *out = NULL;
	mgr_err rv;

	if ((rv = gw_rpc(r, gw.ca, "ca.GetCrl", NULL, &mgr__ca__crl_reply__descriptor,
	         (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	rv = gw_reply_text(r, 200, "application/x-pem-file", out->pem);
	mgr__ca__crl_reply__free_unpacked(out, NULL);
	return (rv);
}

static json_t *
device_json(const Mgr__Ca__Device *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(d->id));
	json_object_set_new(o, "name", json_string(d->name));
	json_object_set_new(o, "created_at", gw_json_time_value(d->created_at));
	json_object_set_new(o, "certificate", cert_json(d->certificate));
	return (o);
}

static mgr_err
h_device_create(struct gw_req *r)
{
	static const char *const allowed[] = {"name", "csr", NULL};
	Mgr__Ca__CreateDeviceRequest in = MGR__CA__CREATE_DEVICE_REQUEST__INIT;
	Mgr__Ca__Device *out = NULL;
	const char *name, *csr;
	json_t *o;
	mgr_err rv;

	if ((rv = gw_json_only(r, allowed)) != MGR_OK ||
	    (rv = gw_json_str(r, "name", 1, 128, &name)) != MGR_OK ||
	    (rv = gw_json_str(r, "csr", 1, CSR_JSON_MAX, &csr)) != MGR_OK)
		return (rv);
	in.name = (char *)name;
	in.csr_pem = (char *)csr;
	if ((rv = gw_rpc(r, gw.ca, "ca.CreateDevice", &in.base,
	         &mgr__ca__device__descriptor, (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	o = device_json(out);
	mgr__ca__device__free_unpacked(out, NULL);
	return (gw_reply_json(r, 201, o));
}

#define GW_DEVICE_PAGE_MAX 1000 /* = the CA service's page size */

/* GET /api/v1/devices?after=CURSOR&limit=N: oldest first, paged. */
static mgr_err
h_device_list(struct gw_req *r)
{
	Mgr__Ca__ListDevicesRequest in = MGR__CA__LIST_DEVICES_REQUEST__INIT;
	Mgr__Ca__ListDevicesReply *out = NULL;
	const char *after = "";
	json_t *o, *a;
	mgr_err rv;

	if ((rv = gw_page_query(r, GW_DEVICE_PAGE_MAX, &after, &in.limit)) != MGR_OK)
		return (rv);
	in.after = (char *)after;
	if ((rv = gw_rpc(r, gw.ca, "ca.ListDevices", &in.base,
	         &mgr__ca__list_devices_reply__descriptor, (ProtobufCMessage **)&out)) !=
	    MGR_OK)
		return (rv);
	o = json_object();
	a = json_array();
	for (size_t i = 0; i < out->n_devices; i++)
		json_array_append_new(a, device_json(out->devices[i]));
	json_object_set_new(o, "devices", a);
	json_object_set_new(o, "next_after", gw_next_after(out->next_after));
	mgr__ca__list_devices_reply__free_unpacked(out, NULL);
	return (gw_reply_json(r, 200, o));
}

/* POST /api/v1/devices/{id}/revoke: 200 with the device, its certificate
 * revoked (at once: CRL, OCSP, the authentication cache). */
static mgr_err
h_device_revoke(struct gw_req *r)
{
	static const char *const allowed[] = {NULL};
	Mgr__Ca__DeviceRequest in = MGR__CA__DEVICE_REQUEST__INIT;
	Mgr__Ca__Device *out = NULL;
	json_t *o;
	mgr_err rv;

	if ((rv = gw_json_only(r, allowed)) != MGR_OK)
		return (rv);
	in.id = r->params[0];
	if ((rv = gw_rpc(r, gw.ca, "ca.RevokeDevice", &in.base,
	         &mgr__ca__device__descriptor, (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	o = device_json(out);
	mgr__ca__device__free_unpacked(out, NULL);
	return (gw_reply_json(r, 200, o));
}

/* DELETE /api/v1/devices/{id}: 204 once revoked (or expired), else 409. */
static mgr_err
h_device_delete(struct gw_req *r)
{
	Mgr__Ca__DeviceRequest in = MGR__CA__DEVICE_REQUEST__INIT;
	mgr_err rv;

	in.id = r->params[0];
	if ((rv = gw_rpc(r, gw.ca, "ca.DeleteDevice", &in.base, NULL, NULL)) != MGR_OK)
		return (rv);
	return (gw_reply_empty(r, 204));
}

const struct gw_route gw_routes_certs[] = {
    {"POST", "/api/v1/accounts/{}/certificates", GW_AUTH_TEMP | GW_AUTH_OWN, GW_BODY_JSON,
        h_register, NULL, NULL, "certificate.register"},
    {"GET", "/api/v1/accounts/{}/certificates", GW_AUTH_APP | GW_AUTH_ADMIN | GW_AUTH_OWN,
        GW_BODY_NONE, h_list, NULL, NULL, NULL},
    {"POST", "/api/v1/accounts/{}/certificates/renew", GW_AUTH_APP | GW_AUTH_OWN,
        GW_BODY_JSON, h_renew, NULL, NULL, "certificate.renew"},
    {"POST", "/api/v1/accounts/{}/certificates/rotate", GW_AUTH_APP | GW_AUTH_OWN,
        GW_BODY_JSON, h_rotate, NULL, NULL, "certificate.rotate"},
    {"GET", "/api/v1/ca/crl", GW_AUTH_PUBLIC, GW_BODY_NONE, h_crl, NULL, NULL, NULL},
    {"POST", "/api/v1/devices", GW_AUTH_ADMIN, GW_BODY_JSON, h_device_create, NULL, NULL,
        NULL},
    {"GET", "/api/v1/devices", GW_AUTH_ADMIN, GW_BODY_NONE, h_device_list, NULL, NULL,
        NULL},
    {"POST", "/api/v1/devices/{}/revoke", GW_AUTH_ADMIN, GW_BODY_JSON, h_device_revoke,
        NULL, NULL, NULL},
    {"DELETE", "/api/v1/devices/{}", GW_AUTH_ADMIN, GW_BODY_NONE, h_device_delete, NULL,
        NULL, NULL},
    {NULL},
};
