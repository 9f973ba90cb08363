#include "cli/pki.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>

int
pki_key_type_ok(const char *type)
{
	return (type == NULL || strcmp(type, "ec-p256") == 0 ||
	    strcmp(type, "rsa2048") == 0 || strcmp(type, "rsa3072") == 0);
}

int
pki_keygen(const char *type, EVP_PKEY **out)
{
	EVP_PKEY *k = NULL;

	if (type == NULL || strcmp(type, "ec-p256") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (strcmp(type, "rsa2048") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcmp(type, "rsa3072") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	else
		return (-1);
	if (k == NULL)
		return (-1);
	*out = k;
	return (0);
}

static int
bio_to_buf(BIO *b, struct mgr_buf *out)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);

	mgr_buf_init(out, 1u << 20);
	return (n >= 0 && mgr_buf_add(out, p, (size_t)n) == MGR_OK ? 0 : -1);
}

int
pki_key_pem(EVP_PKEY *k, struct mgr_buf *out)
{
	BIO *b = BIO_new(BIO_s_secmem());
	int rv = -1;

	if (b == NULL)
		b = BIO_new(BIO_s_mem());
	if (b != NULL && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1)
		rv = bio_to_buf(b, out);
	BIO_free(b);
	return (rv);
}

EVP_PKEY *
pki_key_parse(const char *pem, size_t len)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k = NULL;

	if (b != NULL)
		k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	return (k);
}

X509 *
pki_cert_parse(const char *pem, size_t len)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x = NULL;

	if (b != NULL)
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	return (x);
}

/* Adds "type=value" to name; 0 or -1. */
static int
dn_add(X509_NAME *name, const char *type, size_t tl, const char *val, size_t vl)
{
	char t[64], v[256];

	while (tl > 0 && isspace((unsigned char)*type)) {
		type++;
		tl--;
	}
	while (tl > 0 && isspace((unsigned char)type[tl - 1]))
		tl--;
	while (vl > 0 && isspace((unsigned char)*val)) {
		val++;
		vl--;
	}
	while (vl > 0 && isspace((unsigned char)val[vl - 1]))
		vl--;
	if (tl == 0 || tl >= sizeof(t) || vl == 0 || vl >= sizeof(v))
		return (-1);
	memcpy(t, type, tl);
	t[tl] = '\0';
	memcpy(v, val, vl);
	v[vl] = '\0';
	if (X509_NAME_add_entry_by_txt(name, t, MBSTRING_UTF8, (unsigned char *)v, -1, -1,
	        0) != 1) {
		ERR_clear_error();
		return (-1);
	}
	return (0);
}

static X509_NAME *
dn_parse(const char *s)
{
	X509_NAME *name = X509_NAME_new();
	char sep = (*s == '/') ? '/' : ',';
	const char *p = (*s == '/') ? s + 1 : s;

	if (name == NULL)
		return (NULL);
	while (*p != '\0') {
		const char *end = p, *eq;
		char part[320];
		size_t n = 0;

		/* one RDN up to the next unescaped separator; "\," escapes */
		while (*end != '\0' && *end != sep && n + 1 < sizeof(part)) {
			if (*end == '\\' && end[1] != '\0')
				end++;
			part[n++] = *end++;
		}
		part[n] = '\0';
		if (*end != '\0' && *end != sep)
			goto bad;
		if ((eq = memchr(part, '=', n)) == NULL ||
		    dn_add(name, part, (size_t)(eq - part), eq + 1,
		        n - (size_t)(eq - part) - 1) != 0)
			goto bad;
		p = *end == sep ? end + 1 : end;
	}
	if (X509_NAME_entry_count(name) == 0)
		goto bad;
	return (name);
bad:
	X509_NAME_free(name);
	return (NULL);
}

static int
csr_make(EVP_PKEY *k, const X509_NAME *name, struct mgr_buf *out)
{
	X509_REQ *req = NULL;
	BIO *b = NULL;
	int rv = -1;

	if ((req = X509_REQ_new()) == NULL || X509_REQ_set_version(req, 0) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, k) != 1 ||
	    X509_REQ_sign(req, k, EVP_sha256()) <= 0 ||
	    (b = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509_REQ(b, req) != 1 ||
	    bio_to_buf(b, out) != 0)
		goto out;
	rv = 0;
out:
	ERR_clear_error();
	BIO_free(b);
	X509_REQ_free(req);
	return (rv);
}

int
pki_csr_pem_like(EVP_PKEY *k, X509 *like, struct mgr_buf *out)
{
	return (csr_make(k, X509_get_subject_name(like), out));
}

int
pki_csr_pem(EVP_PKEY *k, const char *subject, struct mgr_buf *out, char *why,
    size_t whylen)
{
	X509_NAME *name = NULL;
	int rv = -1;

	if ((name = dn_parse(subject)) == NULL) {
		snprintf(why, whylen,
		    "bad Subject DN \"%.100s\" (write /O=Example/CN=app or CN=app,O=Example)",
		    subject);
		goto out;
	}
	if (csr_make(k, name, out) != 0) {
		snprintf(why, whylen, "could not make the CSR");
		goto out;
	}
	rv = 0;
out:
	X509_NAME_free(name);
	return (rv);
}

static int64_t
asn1_time_unix(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return (0);
	return ((int64_t)timegm(&tm));
}

void
pki_cert_info(X509 *x, struct cert_info *out)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	BIO *b = BIO_new(BIO_s_mem());

	memset(out, 0, sizeof(*out));
	if (hex != NULL) {
		const char *h = hex;
		size_t i = 0;

		while (*h == '0' && h[1] != '\0')
			h++;
		for (; h[i] != '\0' && i + 1 < sizeof(out->serial); i++)
			out->serial[i] = (char)tolower((unsigned char)h[i]);
		out->serial[i] = '\0';
	}
	if (b != NULL &&
	    X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0) {
		char *p;
		long n = BIO_get_mem_data(b, &p);

		if (n > 0)
			snprintf(out->subject, sizeof(out->subject), "%.*s", (int)n, p);
	}
	out->not_before = asn1_time_unix(X509_get0_notBefore(x));
	out->not_after = asn1_time_unix(X509_get0_notAfter(x));
	BIO_free(b);
	OPENSSL_free(hex);
	BN_free(bn);
}

int
pki_cert_matches(X509 *x, EVP_PKEY *key)
{
	EVP_PKEY *pub = X509_get0_pubkey(x);
	int ok = pub != NULL && EVP_PKEY_eq(pub, key) == 1;

	ERR_clear_error();
	return (ok);
}

int
pki_cert_signed_by(X509 *x, X509 *ca)
{
	EVP_PKEY *k = X509_get0_pubkey(ca);
	int ok = k != NULL && X509_verify(x, k) == 1;

	ERR_clear_error();
	return (ok);
}

int
pki_serial_eq(const char *a, const char *b)
{
	while (*a == '0' && a[1] != '\0')
		a++;
	while (*b == '0' && b[1] != '\0')
		b++;
	return (strcasecmp(a, b) == 0);
}
