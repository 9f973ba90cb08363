/* services/ca/csr.c: which requests are accepted (RSA >= 2048, EC P-256 and
 * P-384, a valid self-signature, a Subject DN) and what is taken from them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/util.h"
#include "services/ca/csr.h"
#include "services/ca/dn.h"
#include "tests/lib/check.h"


enum tamper { NONE, BAD_SIG, NO_SUBJECT };

/* The SPKI hash as OpenSSL's encoder writes it for the key (i2d_PUBKEY):
 * ca_spki_hex of the request's SubjectPublicKeyInfo must give the same. */
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

static EVP_PKEY *
keygen(const char *type)
{
	if (strcmp(type, "rsa1024") == 0)
		return (EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024));
	if (strcmp(type, "rsa2048") == 0)
		return (EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
	if (strcmp(type, "p256") == 0)
		return (EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	if (strcmp(type, "p384") == 0)
		return (EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
	if (strcmp(type, "p521") == 0)
		return (EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"));
	if (strcmp(type, "ed25519") == 0)
		return (EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	return (NULL);
}

/* A PEM CSR for key with CN=cn (caller frees). */
static char *
make_csr(EVP_PKEY *key, const char *cn, enum tamper t)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long len;

	if (t != NO_SUBJECT)
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
		    (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(req, n);
	X509_REQ_set_pubkey(req, key);
	X509_REQ_sign(req, key,
	    EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256());
	if (t == BAD_SIG) {
		const ASN1_BIT_STRING *sig;
		const X509_ALGOR *alg;

		X509_REQ_get0_signature(req, &sig, &alg);
		((unsigned char *)ASN1_STRING_get0_data(sig))[5] ^= 1;
	}
	PEM_write_bio_X509_REQ(b, req);
	len = BIO_get_mem_data(b, &data);
	if ((out = malloc((size_t)len + 1)) != NULL) {
		memcpy(out, data, (size_t)len);
		out[len] = '\0';
	}
	BIO_free(b);
	X509_NAME_free(n);
	X509_REQ_free(req);
	return (out);
}

/* The PEM of der (len bytes) under label (caller frees). */
static char *
pem_of(const unsigned char *der, long len, const char *label)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	PEM_write_bio(b, label, "", der, len);
	n = BIO_get_mem_data(b, &data);
	if ((out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return (out);
}

/* Red-team findings: 16 bytes of junk after the DER, two concatenated
 * requests (the first was used), text after the block, a Subject CN with
 * NUL, CR or LF. Each is refused with a reason; the clean request passes. */
static void
strictness(const char *type)
{
	EVP_PKEY *k = keygen(type);
	char *pem = make_csr(k, "app-a", NONE), *two, *junk, *text, why[256];
	unsigned char *der = NULL, *der2;
	struct ca_csr *c = NULL;
	X509_REQ *req;
	BIO *b = BIO_new_mem_buf(pem, -1);
	size_t plen = strlen(pem);
	int n;

	req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	BIO_free(b);
	n = i2d_X509_REQ(req, &der);
	X509_REQ_free(req);
	der2 = malloc((size_t)n + 16);
	memcpy(der2, der, (size_t)n);
	memset(der2 + n, 0x41, 16);
	junk = pem_of(der2, n + 16, "CERTIFICATE REQUEST");
	CHECK(ca_csr_parse(junk, &c, why, sizeof(why)) == MGR_EINVAL &&
	        strstr(why, "after its DER") != NULL,
	    "%s: 16 bytes after the DER: %s", type, why);
	two = malloc(2 * plen + 1);
	memcpy(two, pem, plen);
	memcpy(two + plen, pem, plen + 1);
	CHECK(ca_csr_parse(two, &c, why, sizeof(why)) == MGR_EINVAL &&
	        strstr(why, "more than one") != NULL,
	    "%s: two PEM blocks: %s", type, why);
	text = malloc(plen + 16);
	snprintf(text, plen + 16, "%sjunk\n", pem);
	CHECK(ca_csr_parse(text, &c, why, sizeof(why)) == MGR_EINVAL &&
	        strstr(why, "outside") != NULL,
	    "%s: text after the block: %s", type, why);
	snprintf(text, plen + 16, "x\n%s", pem);
	CHECK(ca_csr_parse(text, &c, why, sizeof(why)) == MGR_EINVAL,
	    "%s: text before the block", type);
	snprintf(text, plen + 16, "\n  %s\n\n", pem);
	CHECK(ca_csr_parse(text, &c, why, sizeof(why)) == MGR_OK,
	    "%s: blanks around the block are fine", type);
	ca_csr_free(c);
	c = NULL;
	for (const char *const *cn = (const char *const[]){"app\nO=Other", "app\r",
	         "app\x7f", "a\x01b", NULL};
	     *cn != NULL; cn++) {
		char *bad = make_csr(k, *cn, NONE);

		CHECK(ca_csr_parse(bad, &c, why, sizeof(why)) == MGR_EINVAL &&
		        strstr(why, "control character") != NULL,
		    "%s: control character "
		    "in CN refused: %s",
		    type, why);
		free(bad);
	}
	/* NUL inside a value: a BMPString CN "a\0b". */
	{
		X509_REQ *r2 = X509_REQ_new();
		X509_NAME *nm = X509_NAME_new();
		static const unsigned char w[] = {0, 'a', 0, 0, 0, 'b'};
		unsigned char *d3 = NULL;
		char *p3;
		int n3;

		X509_NAME_add_entry_by_NID(nm, NID_commonName, V_ASN1_BMPSTRING, w,
		    sizeof(w), -1, 0);
		X509_REQ_set_subject_name(r2, nm);
		X509_REQ_set_pubkey(r2, k);
		X509_REQ_sign(r2, k, EVP_sha256());
		n3 = i2d_X509_REQ(r2, &d3);
		p3 = pem_of(d3, n3, "CERTIFICATE REQUEST");
		CHECK(ca_csr_parse(p3, &c, why, sizeof(why)) == MGR_EINVAL &&
		        strstr(why, "control character") != NULL,
		    "%s: NUL in CN: %s", type, why);
		free(p3);
		OPENSSL_free(d3);
		X509_NAME_free(nm);
		X509_REQ_free(r2);
	}
	/* The NEW CERTIFICATE REQUEST label of older tools is a request too. */
	free(text);
	text = pem_of(der, n, "NEW CERTIFICATE REQUEST");
	CHECK(ca_csr_parse(text, &c, why, sizeof(why)) == MGR_OK,
	    "%s: NEW CERTIFICATE REQUEST label", type);
	ca_csr_free(c);
	free(text);
	free(two);
	free(junk);
	free(der2);
	OPENSSL_free(der);
	free(pem);
	EVP_PKEY_free(k);
}

/* The verdict of OpenSSL's own parser for a DER request, as ca_csr_parse
 * had it before the plain-DER reading: the reference for every mutant. */
static mgr_err
reference(const unsigned char *der, long len, char spki[65], char dn_key[80])
{
	const unsigned char *p = der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, len);
	EVP_PKEY *k = req != NULL ? X509_REQ_get_pubkey(req) : NULL;
	char group[64], subject[CA_SUBJECT_MAX];
	size_t glen = 0;
	mgr_err rv = MGR_EINVAL;

	if (k == NULL)
		goto out;
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC) {
		if (EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof(group),
		        &glen) != 1 ||
		    (strcmp(group, "prime256v1") != 0 && strcmp(group, "secp384r1") != 0))
			goto out;
	} else if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA || EVP_PKEY_get_bits(k) < 2048)
		goto out;
	if (X509_REQ_verify(req, k) != 1 ||
	    X509_NAME_entry_count(X509_REQ_get_subject_name(req)) <= 0 ||
	    ca_dn_key(X509_REQ_get_subject_name(req), dn_key) != MGR_OK ||
	    ca_dn_text(X509_REQ_get_subject_name(req), subject, sizeof(subject)) !=
	        MGR_OK ||
	    ca_spki_hex(X509_REQ_get_X509_PUBKEY(req), spki) != MGR_OK)
		goto out;
	rv = MGR_OK;
out:
	EVP_PKEY_free(k);
	X509_REQ_free(req);
	return (rv);
}

/* Every one-byte change of an EC request's DER (three flips per byte) gets
 * the verdict, SPKI and DN of OpenSSL's own parser. */
static void
mutants(const char *type)
{
	EVP_PKEY *k = keygen(type);
	char *pem = k != NULL ? make_csr(k, "App One", NONE) : NULL;
	BIO *b = pem != NULL ? BIO_new_mem_buf(pem, -1) : NULL;
	X509_REQ *req = b != NULL ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL, *m;
	char spki[65], dn_key[80], why[256], msg[128], *mpem;
	int len = 0, agree = 0, plain = 0, total = 0;
	struct ca_csr *c;
	mgr_err want, got;

	CHECK(req != NULL && (len = i2d_X509_REQ(req, &der)) > 0, "%s", type);
	if (der == NULL)
		goto out;
	for (int i = 0; i < len; i++) {
		static const unsigned char flips[] = {0x01, 0x80, 0xff};

		for (size_t f = 0; f < sizeof(flips); f++) {
			BIO *w = BIO_new(BIO_s_mem());
			char *data;
			long n;

			der[i] ^= flips[f];
			want = reference(der, len, spki, dn_key);
			m = der;
			PEM_write_bio(w, "CERTIFICATE REQUEST", "", m, len);
			n = BIO_get_mem_data(w, &data);
			mpem = strndup(data, (size_t)n);
			c = NULL;
			got = ca_csr_parse(mpem, &c, why, sizeof(why));
			total++;
			if (got == want &&
			    (got != MGR_OK ||
			        (strcmp(c->spki, spki) == 0 &&
			            strcmp(c->dn_key, dn_key) == 0)))
				agree++;
			else {
				snprintf(msg, sizeof(msg),
				    "%s byte %d ^%02x: %d, OpenSSL %d", type, i, flips[f],
				    got, want);
				CHECK(0, "%s", msg);
			}
			if (got == MGR_OK && c->req == NULL)
				plain++;
			ca_csr_free(c);
			free(mpem);
			BIO_free(w);
			der[i] ^= flips[f];
		}
	}
	printf("test_csr: %s: %d/%d mutants as OpenSSL decides (%d read as plain DER)\n",
	    type, agree, total, plain);
out:
	OPENSSL_free(der);
	X509_REQ_free(req);
	BIO_free(b);
	free(pem);
	EVP_PKEY_free(k);
}

static const struct {
	const char *key;
	enum tamper tamper;
	mgr_err want;
} cases[] = {
    {"rsa2048", NONE, MGR_OK},
    {"p256", NONE, MGR_OK},
    {"p384", NONE, MGR_OK},
    {"rsa1024", NONE, MGR_EINVAL},
    {"p521", NONE, MGR_EINVAL},
    {"ed25519", NONE, MGR_EINVAL},
    {"p256", BAD_SIG, MGR_EINVAL},
    {"p256", NO_SUBJECT, MGR_EINVAL},
};

int
main(void)
{
	struct ca_csr *c = NULL;
	char why[256], spki[65], msg[300], *pem, *big;
	EVP_PKEY *k;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		k = keygen(cases[i].key);
		CHECK(k != NULL, "%s", cases[i].key);
		if (k == NULL)
			continue;
		pem = make_csr(k, "App One", cases[i].tamper);
		c = NULL;
		snprintf(msg, sizeof(msg), "%s tamper %d", cases[i].key, cases[i].tamper);
		CHECK(ca_csr_parse(pem, &c, why, sizeof(why)) == cases[i].want, "%s",
		    msg);
		if (cases[i].want == MGR_OK && c != NULL) {
			CHECK(strcmp(c->subject, "CN=App One") == 0, "subject text");
			CHECK(key_spki_hex(k, spki) && strcmp(spki, c->spki) == 0,
			    "spki is the key's");
			CHECK(strncmp(c->dn_key, "dn:", 3) == 0, "dn key");
			/* EC requests are read as plain DER, RSA by OpenSSL. */
			CHECK((c->req == NULL) == (strncmp(cases[i].key, "p", 1) == 0),
			    "plain DER reading for EC only");
		}
		if (cases[i].want != MGR_OK)
			CHECK(c == NULL && why[0] != '\0', "a reason for a refusal");
		if (cases[i].tamper == BAD_SIG)
			CHECK(strstr(why, "signature") != NULL, "%s", why);
		if (cases[i].tamper == NO_SUBJECT)
			CHECK(strstr(why, "Subject") != NULL, "%s", why);
		ca_csr_free(c);
		free(pem);
		EVP_PKEY_free(k);
	}

	/* Not a CSR at all; empty; over the size bound. */
	CHECK(ca_csr_parse("hello", &c, why, sizeof(why)) == MGR_EINVAL, "garbage");
	CHECK(ca_csr_parse("", &c, why, sizeof(why)) == MGR_EINVAL, "empty");
	CHECK(ca_csr_parse(NULL, &c, why, sizeof(why)) == MGR_EINVAL, "NULL");
	big = malloc(CA_CSR_PEM_MAX + 2);
	memset(big, 'A', CA_CSR_PEM_MAX + 1);
	big[CA_CSR_PEM_MAX + 1] = '\0';
	CHECK(ca_csr_parse(big, &c, why, sizeof(why)) == MGR_EINVAL, "too long");
	free(big);
	/* A certificate PEM is not a request. */
	CHECK(ca_csr_parse("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
	          &c, why, sizeof(why)) == MGR_EINVAL,
	    "a certificate");
	/* Begin and end markers sharing their dashes (found by fuzz_csr). */
	CHECK(ca_csr_parse("-----BEGIN CERTIFICATE REQUEST-----END CERTIFICATE "
	                   "REQUEST-----\n",
	          &c, why, sizeof(why)) == MGR_EINVAL,
	    "markers");
	ca_csr_free(NULL);
	mutants("p256");
	mutants("p384");
	strictness("p256");
	strictness("rsa2048");

	if (fails == 0)
		printf("test_csr: all passed\n");
	return (fails == 0 ? 0 : 1);
}
