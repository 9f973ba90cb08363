/* Fuzz target: the CSR checks of services/ca/csr.c (ca_csr_parse) and the
 * Subject DN canonical form of services/ca/dn.c. Built only when those files
 * are in the tree (see CMakeLists.txt).
 *
 * The input is a PEM request as a client sends it, or DER (wrapped in PEM
 * here, so that mutations hit the ASN.1 and not the base64). A DER request
 * that decodes is also re-signed with a fixed key, so that mutated Subject
 * DNs get past the self-signature check into the DN code. */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "services/ca/csr.h"
#include "services/ca/dn.h"
#include "tests/fuzz/fuzz.h"

static EVP_PKEY *fuzz_key;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_key = EVP_EC_gen("P-256");
	FUZZ_CHECK(fuzz_key != NULL);
	return (0);
}

static void
check_parse(const char *pem)
{
	struct ca_csr *c = NULL;
	char why[256];
	mgr_err rv;

	rv = ca_csr_parse(pem, &c, why, sizeof(why));
	if (rv != MGR_OK) {
		FUZZ_CHECK(c == NULL && why[0] != '\0');
		FUZZ_CHECK(rv == MGR_EINVAL || rv == MGR_ENOMEM);
		return;
	}
	FUZZ_CHECK(
	    c != NULL && c->name != NULL && c->spki_obj != NULL && c->pubkey != NULL);
	if (c->req == NULL) {
		/* Read as plain DER: OpenSSL's own parser must agree. */
		BIO *b = BIO_new_mem_buf(pem, -1);
		X509_REQ *req = b != NULL ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL)
		                          : NULL;
		EVP_PKEY *k = req != NULL ? X509_REQ_get_pubkey(req) : NULL;
		char spki[65];

		FUZZ_CHECK(k != NULL && X509_REQ_verify(req, k) == 1);
		FUZZ_CHECK(ca_spki_hex(X509_REQ_get_X509_PUBKEY(req), spki) == MGR_OK &&
		    strcmp(spki, c->spki) == 0);
		FUZZ_CHECK(X509_NAME_cmp(X509_REQ_get_subject_name(req), c->name) == 0);
		EVP_PKEY_free(k);
		X509_REQ_free(req);
		BIO_free(b);
	}
	FUZZ_CHECK(strncmp(c->dn_key, "dn:", 3) == 0 && strlen(c->dn_key) == 67);
	FUZZ_CHECK(strlen(c->spki) == 64);
	FUZZ_CHECK(memchr(c->subject, '\0', sizeof(c->subject)) != NULL);
	ca_csr_free(c);
}

/* PEM text of a DER request, NUL-terminated; NULL if it does not fit. */
static char *
der_to_pem(const uint8_t *der, size_t n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL, *p;
	long len;

	if (b == NULL)
		return (NULL);
	if (PEM_write_bio(b, "CERTIFICATE REQUEST", "", der, (long)n) > 0 &&
	    (len = BIO_get_mem_data(b, &p)) > 0 &&
	    (s = malloc((size_t)len + 1)) != NULL) {
		memcpy(s, p, (size_t)len);
		s[len] = '\0';
	}
	BIO_free(b);
	return (s);
}

static void
check_dn(const X509_NAME *name)
{
	char canon[CA_DN_CANON_MAX], key[CA_DN_KEY_MAX], text[1024];

	if (ca_dn_canonical(name, canon, sizeof(canon)) == MGR_OK)
		FUZZ_CHECK(strlen(canon) < sizeof(canon));
	if (ca_dn_key(name, key) == MGR_OK)
		FUZZ_CHECK(strlen(key) == 67);
	if (ca_dn_text(name, text, sizeof(text)) == MGR_OK)
		FUZZ_CHECK(strlen(text) < sizeof(text));
}

/* The request with its key replaced by ours and signed, as PEM. */
static char *
resigned_pem(X509_REQ *req)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL, *p;
	long len;

	if (b == NULL)
		return (NULL);
	if (X509_REQ_set_pubkey(req, fuzz_key) == 1 &&
	    X509_REQ_sign(req, fuzz_key, EVP_sha256()) > 0 &&
	    PEM_write_bio_X509_REQ(b, req) == 1 && (len = BIO_get_mem_data(b, &p)) > 0 &&
	    (s = malloc((size_t)len + 1)) != NULL) {
		memcpy(s, p, (size_t)len);
		s[len] = '\0';
	}
	BIO_free(b);
	return (s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *d = data;
	X509_REQ *req = NULL;
	char *pem = NULL;

	if (size > 2 * CA_CSR_PEM_MAX)
		return (0);
	if (size >= 10 && memcmp(data, "-----BEGIN", 10) == 0) {
		if ((pem = fuzz_cstr(data, size)) != NULL)
			check_parse(pem);
		goto out;
	}
	if ((pem = der_to_pem(data, size)) != NULL)
		check_parse(pem);
	free(pem);
	pem = NULL;
	if ((req = d2i_X509_REQ(NULL, &d, (long)size)) == NULL)
		goto out;
	check_dn(X509_REQ_get_subject_name(req));
	if ((pem = resigned_pem(req)) != NULL)
		check_parse(pem);
out:
	X509_REQ_free(req);
	free(pem);
	ERR_clear_error();
	return (0);
}
