/* Keys, CSRs and certificates with OpenSSL: what enroll, renew and rotate
 * need of them. */
#ifndef MGR_CLI_PKI_H
#define MGR_CLI_PKI_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "common/buf.h"

struct cert_info {
	char serial[80];   /* lowercase hex, no leading zeros */
	char subject[512]; /* RFC 2253 */
	int64_t not_before;
	int64_t not_after;
};

/* "ec-p256" (default when NULL), "rsa2048" or "rsa3072"; -1 for another. */
int pki_keygen(const char *type, EVP_PKEY **out);
int pki_key_type_ok(const char *type);
/* PKCS#8 PEM of the private key, unencrypted (the file is 0600). */
int pki_key_pem(EVP_PKEY *k, struct mgr_buf *out);
EVP_PKEY *pki_key_parse(const char *pem, size_t len);
/* A PKCS#10 CSR for key with the Subject DN `subject`: "/A=v/B=w" (openssl
 * style) or "A=v,B=w" (RFC 4514 order as written). -1 with why on a bad DN. */
int pki_csr_pem(EVP_PKEY *k, const char *subject, struct mgr_buf *out, char *why,
    size_t whylen);
/* The same with the Subject DN of an existing certificate (rotation keeps
 * the DN, byte for byte). */
int pki_csr_pem_like(EVP_PKEY *k, X509 *like, struct mgr_buf *out);
X509 *pki_cert_parse(const char *pem, size_t len);
void pki_cert_info(X509 *x, struct cert_info *out);
/* 1 when the certificate holds the public key of key. */
int pki_cert_matches(X509 *x, EVP_PKEY *key);
/* 1 when x is signed by the key of ca. */
int pki_cert_signed_by(X509 *x, X509 *ca);
/* Serials compared as numbers: case and leading zeros do not matter. */
int pki_serial_eq(const char *a, const char *b);

#endif
