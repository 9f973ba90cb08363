/* The Manager CA: its key and certificate, and signing. Only ca-svc links this. */
#ifndef MGR_CA_CA_H
#define MGR_CA_CA_H

#include <pthread.h>
#include <stdint.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "common/config.h"
#include "common/err.h"
#include "services/ca/ext.h"

struct ca_token;

struct ca_state {
	const struct mgr_config *cfg;
	EVP_PKEY *key;              /* never leaves this process (or its token) */
	EVP_PKEY *pub;              /* the key's public half */
	struct ca_token *token;     /* non-NULL: key is a PKCS#11 handle */
	pthread_mutex_t token_lock; /* one signing operation at a time on it */
	X509 *cert;
	char *cert_pem;
	unsigned char *cert_der;
	int cert_der_len;
	int64_t not_after; /* the CA certificate's own expiry, Unix seconds */
	EVP_MD *sha256;    /* fetched once at start */
	struct ca_ext ext; /* the issued certificates' extensions */
};

enum ca_profile {
	CA_PROFILE_CLIENT, /* extendedKeyUsage=clientAuth */
	CA_PROFILE_DEVICE, /* clientAuth, serverAuth */
	CA_PROFILE_SERVER, /* serverAuth with SANs */
};

/* Loads MANAGER_CA_KEY_FILE/MANAGER_CA_CERT_FILE, or $DATA/ca/ca.key and
 * ca.pem, creating them (key 0600) on first start. */
mgr_err ca_open(const struct mgr_config *cfg, struct ca_state **out);
void ca_close(struct ca_state *ca);

struct ca_sign_args {
	EVP_PKEY *pubkey; /* the subject's public key */
	/* If set, the SubjectPublicKeyInfo is copied from it as it is and pubkey
	 * is not used: OpenSSL 3.0 encodes an EVP_PKEY through its encoder
	 * machinery (~0.2 ms per call), copying the fields costs nothing. */
	const X509_PUBKEY *spki;
	const X509_NAME *subject;
	int64_t not_before;
	int64_t not_after;
	enum ca_profile profile;
	const char *const *dns; /* SERVER: DNS SANs, NULL-terminated or NULL */
	const char *const *ips; /* SERVER: IP SANs */
};

/* Signs a new certificate with a fresh random serial (128 bits, positive).
 * On success *out is the certificate (caller frees) and serial_hex its
 * serial in lowercase hex. */
mgr_err ca_sign(struct ca_state *ca, const struct ca_sign_args *args, X509 **out,
    char serial_hex[64]);

/* Signing with the CA key, wherever it is (file or token): a certificate,
 * a CRL, an OCSP response (signed by the CA itself, responder ID by key
 * hash, no certificates). 0 on failure (OpenSSL's error queue says why). */
int ca_key_sign_x509(struct ca_state *ca, X509 *x);
int ca_key_sign_crl(struct ca_state *ca, X509_CRL *crl);
int ca_key_sign_ocsp(struct ca_state *ca, OCSP_BASICRESP *bs);

/* PEM of a certificate; caller frees. */
char *ca_x509_pem(X509 *x);
/* Lowercase hex of an ASN1_INTEGER serial, no separators. */
void ca_serial_hex(const ASN1_INTEGER *s, char out[64]);
int64_t ca_asn1_time(const ASN1_TIME *t);

#endif
