/* CSR checks: PEM PKCS#10, self-signature, key type and size, Subject DN. */
#include "services/ca/csr.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/util.h"

#define RSA_BITS_MIN 2048
#define RSA_BITS_MAX 16384

mgr_err
ca_spki_hex(const X509_PUBKEY *spki, char out[65])
{
	unsigned char *der = NULL;
	int n;

	if (spki == NULL || (n = i2d_X509_PUBKEY(spki, &der)) <= 0)
		return (MGR_EINVAL);
	mgr_sha256_hex(der, (size_t)n, out);
	OPENSSL_free(der);
	return (MGR_OK);
}

static int
key_ok(EVP_PKEY *k, char *why, size_t whylen)
{
	char group[64];
	size_t glen = 0;

	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(k) < RSA_BITS_MIN ||
		    EVP_PKEY_get_bits(k) > RSA_BITS_MAX) {
			snprintf(why, whylen, "RSA key of %d bits: 2048 to 16384 required",
			    EVP_PKEY_get_bits(k));
			return (0);
		}
		return (1);
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
		        group, sizeof(group), &glen) != 1 ||
		    (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0 &&
		        strcmp(group, "secp384r1") != 0 && strcmp(group, "P-384") != 0)) {
			snprintf(why, whylen, "EC keys must be on P-256 or P-384");
			return (0);
		}
		return (1);
	default:
		snprintf(why, whylen, "key type not accepted: RSA or EC P-256/P-384 only");
		return (0);
	}
}

mgr_err
ca_csr_parse(const char *pem, struct ca_csr **out, char *why, size_t whylen)
{
	struct ca_csr *c = NULL;
	BIO *b = NULL;
	size_t len;
	mgr_err rv = MGR_EINVAL;

	snprintf(why, whylen, "bad CSR");
	len = pem != NULL ? strnlen(pem, CA_CSR_PEM_MAX + 1) : 0;
	if (len == 0) {
		snprintf(why, whylen, "csr is required");
		goto out;
	}
	if (len > CA_CSR_PEM_MAX) {
		snprintf(why, whylen, "csr longer than %u bytes", CA_CSR_PEM_MAX);
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (c->req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL)) == NULL) {
		snprintf(why, whylen, "csr is not a PEM PKCS#10 request");
		goto out;
	}
	if ((c->pubkey = X509_REQ_get_pubkey(c->req)) == NULL) {
		snprintf(why, whylen, "csr has no usable public key");
		goto out;
	}
	if (!key_ok(c->pubkey, why, whylen))
		goto out;
	if (X509_REQ_verify(c->req, c->pubkey) != 1) {
		snprintf(why, whylen, "csr self-signature does not verify");
		goto out;
	}
	if (X509_NAME_entry_count(X509_REQ_get_subject_name(c->req)) <= 0) {
		snprintf(why, whylen, "csr has an empty Subject DN");
		goto out;
	}
	if (ca_dn_key(X509_REQ_get_subject_name(c->req), c->dn_key) != MGR_OK ||
	    ca_dn_text(X509_REQ_get_subject_name(c->req), c->subject,
	        sizeof(c->subject)) != MGR_OK) {
		snprintf(why, whylen, "csr Subject DN is not acceptable");
		goto out;
	}
	if (ca_spki_hex(X509_REQ_get_X509_PUBKEY(c->req), c->spki) != MGR_OK)
		goto out;
	*out = c;
	c = NULL;
	why[0] = '\0';
	rv = MGR_OK;
out:
	ERR_clear_error();
	BIO_free(b);
	ca_csr_free(c);
	return (rv);
}

void
ca_csr_free(struct ca_csr *c)
{
	if (c == NULL)
		return;
	EVP_PKEY_free(c->pubkey);
	X509_REQ_free(c->req);
	free(c);
}
