/* services/ca/issue.c: the expiration_date rules (default, minimum life, CA
 * expiry, five years) and signing into a record. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdlib.h>

#include <openssl/pem.h>

#include "services/ca/issue.h"
#include "tests/lib/check.h"


/* The SPKI hash as OpenSSL's encoder writes it for the key (i2d_PUBKEY). */
static int
key_spki_hex(EVP_PKEY *k, char out[65])
{
	unsigned char *der = NULL;
	int n;

	if ((n = i2d_PUBKEY(k, &der)) <= 0)
		return (0);
	mgr_sha256_hex(der, (size_t)n, out);
	OPENSSL_free(der);
	return (1);
}

/* The profile of api/openapi.yaml "PKI": key usage for the key type, the
 * AIA and CRL distribution point URLs, the other extensions. */
static void
check_profile(X509 *x, int ec)
{
	ASN1_BIT_STRING *ku = X509_get_ext_d2i(x, NID_key_usage, NULL, NULL);
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	CRL_DIST_POINTS *cdp = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL,
	    NULL);
	int ocsp = 0, issuers = 0, crl = 0;

	CHECK(ku != NULL &&
	        X509_get_ext(x, X509_get_ext_by_NID(x, NID_key_usage, -1)) != NULL &&
	        X509_EXTENSION_get_critical(
	            X509_get_ext(x, X509_get_ext_by_NID(x, NID_key_usage, -1))) == 1,
	    "keyUsage, critical");
	CHECK((X509_get_key_usage(x) & ~0u) ==
	        (ec ? KU_DIGITAL_SIGNATURE : KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT),
	    "%s key usage",
	    ec ? "EC: digitalSignature only" : "RSA: digitalSignature, keyEncipherment");
	CHECK(X509_get_extended_key_usage(x) == XKU_SSL_CLIENT, "clientAuth only");
	CHECK(X509_check_ca(x) == 0, "not a CA");
	CHECK(X509_get0_subject_key_id(x) != NULL &&
	        X509_get0_authority_key_id(x) != NULL,
	    "subject and authority key identifiers");
	for (int i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		const char *u = ad->location->type == GEN_URI
		    ? (const char *)ASN1_STRING_get0_data(
		          ad->location->d.uniformResourceIdentifier)
		    : "";

		if (OBJ_obj2nid(ad->method) == NID_ad_OCSP &&
		    strcmp(u, "https://pki.example:8443/pki/ocsp") == 0)
			ocsp++;
		if (OBJ_obj2nid(ad->method) == NID_ad_ca_issuers &&
		    strcmp(u, "https://pki.example:8443/pki/ca.crt") == 0)
			issuers++;
	}
	CHECK(ocsp == 1 && issuers == 1, "AIA: OCSP and CA Issuers URLs");
	if (cdp != NULL && sk_DIST_POINT_num(cdp) == 1) {
		DIST_POINT *dp = sk_DIST_POINT_value(cdp, 0);
		GENERAL_NAME *g = dp->distpoint != NULL && dp->distpoint->type == 0 &&
		        sk_GENERAL_NAME_num(dp->distpoint->name.fullname) == 1
		    ? sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0)
		    : NULL;

		crl = g != NULL && g->type == GEN_URI &&
		    strcmp((const char *)ASN1_STRING_get0_data(
		               g->d.uniformResourceIdentifier),
		        "https://pki.example:8443/pki/crl") == 0;
	}
	CHECK(crl, "CRL distribution point URL");
	ASN1_BIT_STRING_free(ku);
	AUTHORITY_INFO_ACCESS_free(aia);
	CRL_DIST_POINTS_free(cdp);
}

/* Issues a client certificate for key (its SPKI given as a CSR gives it) and
 * checks the certificate carries exactly that key. */
static void
issue_for(struct ca_state *ca, EVP_PKEY *key, const X509_NAME *n, int64_t na,
    const char *what)
{
	X509_PUBKEY *xp = NULL;
	struct ca_issued iss;
	char spki[65];
	unsigned char *d1 = NULL, *d2 = NULL;
	int l1, l2;
	BIO *b;
	X509 *x = NULL;

	memset(&iss, 0, sizeof(iss));
	CHECK(X509_PUBKEY_set(&xp, key) == 1, "%s", what);
	CHECK(ca_issue(ca, xp, n, na, CA_PROFILE_CLIENT, &iss) == MGR_OK, "%s", what);
	CHECK(strlen(iss.serial) == 32, "128-bit serial, 32 hex digits");
	CHECK(iss.not_after == na, "not_after as asked");
	CHECK(iss.not_before <= mgr_now_s(), "not_before not in the future");
	CHECK(key_spki_hex(key, spki) && strcmp(spki, iss.spki) == 0,
	    "the subject's key");
	CHECK(strcmp(iss.subject, "CN=Test CA") == 0, "subject");
	CHECK(strlen(iss.fingerprint) == 64, "fingerprint");
	CHECK(iss.pem != NULL && strstr(iss.pem, "BEGIN CERTIFICATE") != NULL, "pem");
	/* The certificate's key is the subject's, byte for byte, and it
	 * verifies under the CA key. */
	if (iss.pem != NULL && (b = BIO_new_mem_buf(iss.pem, -1)) != NULL) {
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	CHECK(x != NULL, "pem parses");
	if (x != NULL) {
		l1 = i2d_PUBKEY(key, &d1);
		l2 = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &d2);
		CHECK(l1 > 0 && l1 == l2 && memcmp(d1, d2, (size_t)l1) == 0,
		    "certificate SPKI = the key's DER");
		CHECK(X509_get0_pubkey(x) != NULL &&
		        EVP_PKEY_eq(X509_get0_pubkey(x), key) == 1,
		    "certificate key");
		CHECK(X509_verify(x, ca->key) == 1, "signed by the CA");
		check_profile(x, EVP_PKEY_get_base_id(key) == EVP_PKEY_EC);
		OPENSSL_free(d2);
		d2 = NULL;
		/* Renewal reads the subject and key from the stored PEM
		 * without decoding the key: the same bytes, and a
		 * certificate issued from them carries the same key. */
		{
			X509_NAME *sn = NULL;
			X509_PUBKEY *sp = NULL;
			struct ca_issued again;

			memset(&again, 0, sizeof(again));
			CHECK(ca_pem_subject_spki(iss.pem, &sn, &sp) == MGR_OK,
			    "subject and SPKI from the PEM");
			if (sn != NULL && sp != NULL) {
				CHECK(X509_NAME_cmp(sn, X509_get_subject_name(x)) == 0,
				    "subject from the PEM");
				l2 = i2d_X509_PUBKEY(sp, &d2);
				CHECK(l1 > 0 && l1 == l2 &&
				        memcmp(d1, d2, (size_t)l1) == 0,
				    "SPKI from the PEM = the key's DER");
				CHECK(ca_issue(ca, sp, sn, na, CA_PROFILE_CLIENT,
				          &again) == MGR_OK,
				    "issue from the PEM's parts");
				CHECK(strcmp(again.spki, iss.spki) == 0 &&
				        strcmp(again.subject, iss.subject) == 0,
				    "renewed: same key, same subject");
				ca_issued_clear(&again);
			}
			X509_NAME_free(sn);
			X509_PUBKEY_free(sp);
		}
		OPENSSL_free(d1);
		OPENSSL_free(d2);
		X509_free(x);
	}
	ca_issued_clear(&iss);
	ca_issued_clear(&iss);
	X509_PUBKEY_free(xp);
}

#define NOW 1800000000LL
#define DAY 86400LL

static const struct {
	const char *what;
	int64_t ca_life; /* CA expiry - NOW */
	int present;
	int64_t want; /* - NOW */
	mgr_err rv;
	int64_t got; /* - NOW, on success */
} cases[] = {
    {"default is one year", 3650 * DAY, 0, 0, MGR_OK, 365 * DAY},
    {"default stops at the CA's expiry", 100 * DAY, 0, 0, MGR_OK, 100 * DAY},
    {"default with a CA expiring too soon", 1800, 0, 0, MGR_EINVAL, 0},
    {"given, ordinary", 3650 * DAY, 1, 200 * DAY, MGR_OK, 200 * DAY},
    {"given, just past the minimum", 3650 * DAY, 1, 3601, MGR_OK, 3601},
    {"given, exactly the minimum", 3650 * DAY, 1, 3600, MGR_EINVAL, 0},
    {"given, in the past", 3650 * DAY, 1, -DAY, MGR_EINVAL, 0},
    {"given, at the CA's expiry", 100 * DAY, 1, 100 * DAY, MGR_OK, 100 * DAY},
    {"given, past the CA's expiry", 100 * DAY, 1, 100 * DAY + 1, MGR_EINVAL, 0},
    {"given, five years", 3650 * DAY, 1, 5 * 365 * DAY, MGR_OK, 5 * 365 * DAY},
    {"given, past five years", 3650 * DAY, 1, 5 * 366 * DAY + 1, MGR_EINVAL, 0},
    /* NOW is 2027-01-15T08:00:00Z; five calendar years later is
	 * 2032-01-15T08:00:00Z, 1826 days (one 29 February in between). */
    {"given, exactly five calendar years", 3650 * DAY, 1, 1826 * DAY, MGR_OK, 1826 * DAY},
    {"given, a second past five calendar years", 3650 * DAY, 1, 1826 * DAY + 1,
        MGR_EINVAL, 0},
    {"given, a day past five calendar years", 3650 * DAY, 1, 1827 * DAY, MGR_EINVAL, 0},
};

int
main(void)
{
	struct mgr_config cfg;
	struct ca_state ca;
	char why[256];

	memset(&cfg, 0, sizeof(cfg));
	memset(&ca, 0, sizeof(ca));
	cfg.min_cert_validity_s = 3600;
	ca.cfg = &cfg;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t out = -1;
		mgr_err rv;

		ca.not_after = NOW + cases[i].ca_life;
		why[0] = '\0';
		rv = ca_expiration(&ca, cases[i].present, NOW + cases[i].want, NOW, &out,
		    why, sizeof(why));
		CHECK(rv == cases[i].rv, "%s", cases[i].what);
		if (rv == MGR_OK)
			CHECK(out == NOW + cases[i].got, "%s", cases[i].what);
		else
			CHECK(out == -1 && why[0] != '\0', "%s", cases[i].what);
	}

	/* Signing: a fresh CA, a client certificate into a record. */
	{
		EVP_PKEY *cakey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		X509 *cacert = X509_new();
		X509_NAME *n = X509_NAME_new();
		int64_t na = mgr_now_s() + 30 * DAY;

		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
		    (const unsigned char *)"Test CA", -1, -1, 0);
		X509_set_version(cacert, 2);
		X509_set_subject_name(cacert, n);
		X509_set_issuer_name(cacert, n);
		X509_set_pubkey(cacert, cakey);
		X509_gmtime_adj(X509_getm_notBefore(cacert), 0);
		X509_gmtime_adj(X509_getm_notAfter(cacert), 3650 * DAY);
		{
			X509V3_CTX ctx;
			X509_EXTENSION *ex;

			X509V3_set_ctx_nodb(&ctx);
			X509V3_set_ctx(&ctx, cacert, cacert, NULL, NULL, 0);
			ex = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier,
			    "hash");
			X509_add_ext(cacert, ex, -1);
			X509_EXTENSION_free(ex);
		}
		X509_sign(cacert, cakey, EVP_sha256());
		ca.key = cakey;
		ca.cert = cacert;
		ca.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
		CHECK(key != NULL && rsa != NULL && ca.sha256 != NULL, "setup");
		CHECK(ca_ext_init(&ca.ext, cacert, "https://pki.example:8443") == MGR_OK,
		    "extensions");
		issue_for(&ca, key, n, na, "issue, EC P-256 subject key");
		issue_for(&ca, rsa, n, na, "issue, RSA-2048 subject key");
		{
			static const char *const bad[] = {"",
			    "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
			    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
			    "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n",
			    "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
			    "-----BEGIN CERTIFICATE-----\nMAA=\n"};

			for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
				X509_NAME *sn = NULL;
				X509_PUBKEY *sp = NULL;

				CHECK(ca_pem_subject_spki(bad[i], &sn, &sp) ==
				            MGR_EINVAL &&
				        sn == NULL && sp == NULL,
				    "malformed PEM refused");
			}
		}
		EVP_MD_free(ca.sha256);
		ca_ext_clear(&ca.ext);
		X509_NAME_free(n);
		X509_free(cacert);
		EVP_PKEY_free(rsa);
		EVP_PKEY_free(key);
		EVP_PKEY_free(cakey);
	}

	if (fails == 0)
		printf("test_issue: all passed\n");
	return (fails == 0 ? 0 : 1);
}
