/* PKCS#11 key loading (see token.h). The ENGINE API is deprecated in
 * OpenSSL 3, and it is still the interface of the pkcs11 engine that Debian
 * 12 ships (its pkcs11 provider is not packaged there): this file alone
 * uses it. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "services/ca/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/log.h"

struct ca_token {
	ENGINE *e;
};

static void
token_log(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	log_error(NULL, "PKCS#11: %s: %s", what, e != 0 ? buf : "failed");
	ERR_clear_error();
}

/* The public key of a private key handle, as a plain public EVP_PKEY (an
 * SPKI round trip), so that certificate and key checks never ask the token. */
static EVP_PKEY *
public_of(EVP_PKEY *k)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *pub = NULL;
	int n;

	if ((n = i2d_PUBKEY(k, &der)) <= 0)
		return (NULL);
	p = der;
	pub = d2i_PUBKEY(NULL, &p, n);
	OPENSSL_free(der);
	return (pub);
}

mgr_err
ca_token_open(const char *module, const char *uri, struct ca_token **out, EVP_PKEY **key,
    EVP_PKEY **pub)
{
	struct ca_token *t = NULL;
	EVP_PKEY *k = NULL, *p = NULL;
	int inited = 0;
	mgr_err rv = MGR_EINTERNAL;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (MGR_ENOMEM);
	ENGINE_load_builtin_engines();
	if ((t->e = ENGINE_by_id("pkcs11")) == NULL) {
		token_log("the pkcs11 engine is not installed "
		          "(Debian: libengine-pkcs11-openssl)");
		goto out;
	}
	if (ENGINE_ctrl_cmd_string(t->e, "MODULE_PATH", module, 0) != 1) {
		token_log("MANAGER_CA_PKCS11_MODULE");
		goto out;
	}
	if (ENGINE_init(t->e) != 1) {
		token_log("cannot initialise the module");
		goto out;
	}
	inited = 1;
	/* The URI carries the PIN (pin-value or pin-source): no prompt. */
	if ((k = ENGINE_load_private_key(t->e, uri, NULL, NULL)) == NULL) {
		token_log("cannot open the key of MANAGER_CA_KEY_URI");
		goto out;
	}
	if ((p = public_of(k)) == NULL) {
		token_log("the key of MANAGER_CA_KEY_URI has no public key");
		goto out;
	}
	*out = t;
	*key = k;
	*pub = p;
	t = NULL;
	k = p = NULL;
	rv = MGR_OK;
out:
	EVP_PKEY_free(k);
	EVP_PKEY_free(p);
	if (t != NULL) {
		if (inited)
			ENGINE_finish(t->e);
		ENGINE_free(t->e);
		free(t);
	}
	ERR_clear_error();
	return (rv);
}

void
ca_token_close(struct ca_token *t)
{
	if (t == NULL)
		return;
	ENGINE_finish(t->e);
	ENGINE_free(t->e);
	free(t);
}
