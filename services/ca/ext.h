/* The extensions of the certificates this CA issues (the profile written
 * down in api/openapi.yaml, "PKI"): built once at start from the CA
 * certificate and MANAGER_PUBLIC_URL, added to each certificate as they are. */
#ifndef MGR_CA_EXT_H
#define MGR_CA_EXT_H

#include <openssl/x509.h>

#include "common/err.h"

/* The public paths under MANAGER_PUBLIC_URL (API.md "PKI (v2)"). */
#define CA_PATH_CERT "/pki/ca.crt"
#define CA_PATH_CRL "/pki/crl"
#define CA_PATH_OCSP "/pki/ocsp"

struct ca_ext {
	X509_EXTENSION *bc;     /* critical, CA:FALSE */
	X509_EXTENSION *ku_ec;  /* critical, digitalSignature */
	X509_EXTENSION *ku_rsa; /* critical, digitalSignature, keyEncipherment */
	X509_EXTENSION *eku_client, *eku_device, *eku_server;
	X509_EXTENSION *aki; /* keyIdentifier of the CA's key */
	X509_EXTENSION *aia; /* OCSP and caIssuers URIs */
	X509_EXTENSION *cdp; /* one fullName URI */
};

/* Builds *e for the CA certificate ca and the base URL (no trailing '/'). */
mgr_err ca_ext_init(struct ca_ext *e, X509 *ca, const char *public_url);
void ca_ext_clear(struct ca_ext *e);

/* Adds the profile's extensions to x, whose public key is already set:
 * basicConstraints, keyUsage for its key type (EC: digitalSignature only;
 * RSA: digitalSignature, keyEncipherment), extendedKeyUsage of profile
 * (0 client, 1 device, 2 server: see enum ca_profile), subjectKeyIdentifier
 * (SHA-1 of the key bits, RFC 5280 4.2.1.2 method 1), authorityKeyIdentifier,
 * authorityInfoAccess, cRLDistributionPoints. 0 on failure. */
int ca_ext_add(const struct ca_ext *e, X509 *x, int profile);

/* The key usage that fits spki's algorithm: the EC or RSA extension of e,
 * NULL for a key type the CA does not sign. */
const X509_EXTENSION *ca_ext_key_usage(const struct ca_ext *e, const X509_PUBKEY *spki);

#endif
