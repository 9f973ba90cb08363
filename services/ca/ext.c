/* The issued certificates' extensions (see ext.h). Built from ASN.1
 * structures, not from X509V3 configuration strings, so that no character
 * of MANAGER_PUBLIC_URL can be read as syntax. */
#include "services/ca/ext.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

static X509_EXTENSION *
conf_ext(X509 *ca, int nid, const char *value)
{
	X509V3_CTX ctx;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, ca, NULL, NULL, NULL, 0);
	return (X509V3_EXT_conf_nid(NULL, &ctx, nid, value));
}

static GENERAL_NAME *
uri_name(const char *base, const char *path)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();
	char url[1024];

	if (g == NULL || s == NULL ||
	    (size_t)snprintf(url, sizeof(url), "%s%s", base, path) >= sizeof(url) ||
	    ASN1_STRING_set(s, url, -1) != 1) {
		GENERAL_NAME_free(g);
		ASN1_IA5STRING_free(s);
		return (NULL);
	}
	GENERAL_NAME_set0_value(g, GEN_URI, s);
	return (g);
}

static int
add_access(AUTHORITY_INFO_ACCESS *aia, int nid, const char *base, const char *path)
{
	ACCESS_DESCRIPTION *ad = ACCESS_DESCRIPTION_new();

	if (ad == NULL)
		return (0);
	ASN1_OBJECT_free(ad->method);
	GENERAL_NAME_free(ad->location);
	ad->method = OBJ_nid2obj(nid);
	if ((ad->location = uri_name(base, path)) == NULL ||
	    sk_ACCESS_DESCRIPTION_push(aia, ad) <= 0) {
		ACCESS_DESCRIPTION_free(ad);
		return (0);
	}
	return (1);
}

static X509_EXTENSION *
make_aia(const char *base)
{
	AUTHORITY_INFO_ACCESS *aia = AUTHORITY_INFO_ACCESS_new();
	X509_EXTENSION *ex = NULL;

	if (aia != NULL && add_access(aia, NID_ad_OCSP, base, CA_PATH_OCSP) &&
	    add_access(aia, NID_ad_ca_issuers, base, CA_PATH_CERT))
		ex = X509V3_EXT_i2d(NID_info_access, 0, aia);
	AUTHORITY_INFO_ACCESS_free(aia);
	return (ex);
}

static X509_EXTENSION *
make_cdp(const char *base)
{
	CRL_DIST_POINTS *cdp = CRL_DIST_POINTS_new();
	DIST_POINT *dp = DIST_POINT_new();
	GENERAL_NAME *g = NULL;
	X509_EXTENSION *ex = NULL;

	if (cdp == NULL || dp == NULL ||
	    (dp->distpoint = DIST_POINT_NAME_new()) == NULL ||
	    (dp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL ||
	    (g = uri_name(base, CA_PATH_CRL)) == NULL)
		goto out;
	dp->distpoint->type = 0; /* fullName */
	if (sk_GENERAL_NAME_push(dp->distpoint->name.fullname, g) <= 0)
		goto out;
	g = NULL;
	if (sk_DIST_POINT_push(cdp, dp) <= 0)
		goto out;
	dp = NULL;
	ex = X509V3_EXT_i2d(NID_crl_distribution_points, 0, cdp);
out:
	GENERAL_NAME_free(g);
	DIST_POINT_free(dp);
	CRL_DIST_POINTS_free(cdp);
	return (ex);
}

mgr_err
ca_ext_init(struct ca_ext *e, X509 *ca, const char *public_url)
{
	memset(e, 0, sizeof(*e));
	e->bc = conf_ext(ca, NID_basic_constraints, "critical,CA:FALSE");
	e->ku_ec = conf_ext(ca, NID_key_usage, "critical,digitalSignature");
	e->ku_rsa = conf_ext(ca, NID_key_usage,
	    "critical,digitalSignature,keyEncipherment");
	e->eku_client = conf_ext(ca, NID_ext_key_usage, "clientAuth");
	e->eku_device = conf_ext(ca, NID_ext_key_usage, "clientAuth,serverAuth");
	e->eku_server = conf_ext(ca, NID_ext_key_usage, "serverAuth");
	e->aki = conf_ext(ca, NID_authority_key_identifier, "keyid:always");
	e->aia = make_aia(public_url);
	e->cdp = make_cdp(public_url);
	ERR_clear_error();
	if (e->bc == NULL || e->ku_ec == NULL || e->ku_rsa == NULL ||
	    e->eku_client == NULL || e->eku_device == NULL || e->eku_server == NULL ||
	    e->aki == NULL || e->aia == NULL || e->cdp == NULL) {
		ca_ext_clear(e);
		return (MGR_EINTERNAL);
	}
	return (MGR_OK);
}

void
ca_ext_clear(struct ca_ext *e)
{
	X509_EXTENSION *all[] = {e->bc, e->ku_ec, e->ku_rsa, e->eku_client, e->eku_device,
	    e->eku_server, e->aki, e->aia, e->cdp};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		X509_EXTENSION_free(all[i]);
	memset(e, 0, sizeof(*e));
}

const X509_EXTENSION *
ca_ext_key_usage(const struct ca_ext *e, const X509_PUBKEY *spki)
{
	ASN1_OBJECT *alg = NULL;

	if (X509_PUBKEY_get0_param(&alg, NULL, NULL, NULL, spki) != 1)
		return (NULL);
	switch (OBJ_obj2nid(alg)) {
	case NID_X9_62_id_ecPublicKey:
		return (e->ku_ec);
	case NID_rsaEncryption:
		return (e->ku_rsa);
	default:
		return (NULL);
	}
}

/* subjectKeyIdentifier: SHA-1 of the subjectPublicKey bits. */
static int
add_ski(X509 *x)
{
	const unsigned char *pk;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	ASN1_OCTET_STRING *os = NULL;
	int pklen, ok = 0;

	if (X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, X509_get_X509_PUBKEY(x)) !=
	        1 ||
	    EVP_Digest(pk, (size_t)pklen, md, &mdlen, EVP_sha1(), NULL) != 1 ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(os, md, (int)mdlen) != 1)
		goto out;
	ok = X509_add1_ext_i2d(x, NID_subject_key_identifier, os, 0, 0) == 1;
out:
	ASN1_OCTET_STRING_free(os);
	return (ok);
}

int
ca_ext_add(const struct ca_ext *e, X509 *x, int profile)
{
	const X509_EXTENSION *ku = ca_ext_key_usage(e, X509_get_X509_PUBKEY(x));
	const X509_EXTENSION *eku = profile == 1 ? e->eku_device
	    : profile == 2                       ? e->eku_server
	                                         : e->eku_client;

	return (ku != NULL && X509_add_ext(x, (X509_EXTENSION *)e->bc, -1) == 1 &&
	    X509_add_ext(x, (X509_EXTENSION *)ku, -1) == 1 &&
	    X509_add_ext(x, (X509_EXTENSION *)eku, -1) == 1 && add_ski(x) &&
	    X509_add_ext(x, (X509_EXTENSION *)e->aki, -1) == 1 &&
	    X509_add_ext(x, (X509_EXTENSION *)e->aia, -1) == 1 &&
	    X509_add_ext(x, (X509_EXTENSION *)e->cdp, -1) == 1);
}
