/* The CA key in a PKCS#11 token, through OpenSSL 3 and the pkcs11 engine of
 * libp11 (Debian libengine-pkcs11-openssl): MANAGER_CA_PKCS11_MODULE names
 * the module, MANAGER_CA_KEY_URI the key (RFC 7512, with pin-value or
 * pin-source). The private key never leaves the token: the EVP_PKEY is a
 * handle whose signing operations the engine sends to the token. */
#ifndef MGR_CA_TOKEN_H
#define MGR_CA_TOKEN_H

#include <openssl/evp.h>

#include "common/err.h"

struct ca_token;

/* Loads the engine with module and opens the key of uri. On success *out is
 * the token (ca_token_close), *key the private key handle and *pub its
 * public key (both freed with EVP_PKEY_free, before ca_token_close). */
mgr_err ca_token_open(const char *module, const char *uri, struct ca_token **out,
    EVP_PKEY **key, EVP_PKEY **pub);
void ca_token_close(struct ca_token *t);

#endif
