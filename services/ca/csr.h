/* CSR checks (API.md "Certificates" rules). */
#ifndef MGR_CA_CSR_H
#define MGR_CA_CSR_H

#include <stddef.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "services/ca/dn.h"

#define CA_CSR_PEM_MAX (16u * 1024)
#define CA_SUBJECT_MAX 1024

struct ca_csr {
	const X509_NAME *name;        /* the Subject DN */
	const X509_PUBKEY *spki_obj;  /* the SubjectPublicKeyInfo as sent */
	X509_REQ *req;                /* owned; NULL when read as plain DER */
	X509_NAME *own_name;          /* owned when read as plain DER */
	X509_PUBKEY *own_spki;        /* owned when read as plain DER */
	EVP_PKEY *pubkey;             /* owned */
	char dn_key[CA_DN_KEY_MAX];   /* "dn:<sha256>" of the canonical DN */
	char subject[CA_SUBJECT_MAX]; /* RFC 2253 */
	char spki[65];                /* hex SHA-256 of the public key DER */
};

/* Parses and checks a PEM PKCS#10 request: at most CA_CSR_PEM_MAX bytes, a
 * valid self-signature, RSA >= 2048 bits (<= 16384) or EC P-256/P-384, a
 * non-empty Subject DN. MGR_EINVAL with a reason in why (no secrets).
 * An EC P-256/P-384 request signed with ECDSA-SHA2 is read as plain DER and
 * its key built from the curve and point (OpenSSL 3.0 would run its key
 * decoder, ~0.1 ms); anything else, and anything the plain reading does not
 * accept, goes through PEM_read_bio_X509_REQ, which has the last word. */
mgr_err ca_csr_parse(const char *pem, struct ca_csr **out, char *why, size_t whylen);
void ca_csr_free(struct ca_csr *c);

/* hex SHA-256 of the DER SubjectPublicKeyInfo spki (plain ASN.1: no OpenSSL
 * 3.0 encoder, unlike i2d_PUBKEY of an EVP_PKEY). */
mgr_err ca_spki_hex(const X509_PUBKEY *spki, char out[65]);

#endif
