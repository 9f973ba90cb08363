/* Plain DER reading for the hot paths: OpenSSL 3.0 decodes the public key of
 * every X509 / X509_REQ / X509_PUBKEY it parses (OSSL_DECODER, ~0.1 ms and
 * global locks per call), which costs more than the signature. These read the
 * parts the CA needs without decoding any key. */
#ifndef MGR_CA_DER_H
#define MGR_CA_DER_H

#include <stddef.h>
#include <openssl/x509.h>

#include "common/err.h"

/* Skips one DER element at *p (before end); its start and full length in
 * *el and *ellen. 0 on a malformed element or an indefinite length. */
int ca_der_next(const unsigned char **p, const unsigned char *end,
    const unsigned char **el, long *ellen);

#define CA_DER_SEQUENCE 0x30 /* identifier octets of a SEQUENCE */
#define CA_DER_CONTEXT0 0xa0 /* [0], constructed */

/* Enters the constructed element at *p, whose identifier octet must be
 * ident: *p at its contents, *end after. */
int ca_der_enter(const unsigned char **p, const unsigned char **end, unsigned char ident);

/* An X509_PUBKEY from SubjectPublicKeyInfo DER, built from its parts: no key
 * is decoded. NULL on anything malformed. */
X509_PUBKEY *ca_spki_from_der(const unsigned char *der, long len);

/* The DER inside the first "-----BEGIN <label>-----" ... "-----END
 * <label>-----" block of pem (base64 with line breaks, no PEM headers).
 * *der is malloc'ed (caller frees). MGR_EINVAL on anything else. */
mgr_err ca_pem_der(const char *pem, const char *label, unsigned char **der, long *len);

#endif
