#include "cli/bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

int
bundle_username_ok(const char *s)
{
	size_t n = strlen(s);

	return (n >= 3 && n <= 64 &&
	    strspn(s,
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	        "0123456789._-") == n);
}

int
bundle_password_ok(const char *s)
{
	size_t n = strlen(s);

	return (n >= 12 && n <= 128);
}

int
bundle_id_ok(const char *s)
{
	size_t n = strlen(s);

	return (n > 0 && n <= BUNDLE_ID_MAX &&
	    strspn(s,
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	        "0123456789_-") == n);
}

static int
url_ok(const char *s)
{
	size_t n = strlen(s);

	return (n > 8 && n < BUNDLE_URL_MAX && strncmp(s, "https://", 8) == 0 &&
	    strcspn(s, " \t\r\n\"'<>\\") == n);
}

/* A string member into out; optional members may be absent or null (""). */
static int
get_str(json_t *o, const char *name, int required, char *out, size_t outlen, char *why,
    size_t whylen)
{
	json_t *v = json_object_get(o, name);
	const char *s;

	out[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return (0);
		snprintf(why, whylen, "field \"%s\" is missing", name);
		return (-1);
	}
	if (!json_is_string(v)) {
		snprintf(why, whylen, "field \"%s\" is not a string", name);
		return (-1);
	}
	s = json_string_value(v);
	if (strlen(s) >= outlen || strlen(s) != json_string_length(v)) {
		snprintf(why, whylen, "field \"%s\" is too long", name);
		return (-1);
	}
	memcpy(out, s, strlen(s) + 1);
	return (0);
}

static int
ca_ok(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = NULL;
	int ok;

	if (b == NULL)
		return (0);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	ok = x != NULL && X509_check_ca(x) > 0;
	X509_free(x);
	BIO_free(b);
	return (ok);
}

int
bundle_parse(const char *text, size_t len, struct bundle *out, char *why, size_t whylen)
{
	struct bundle b;
	json_t *o = NULL, *ca;
	json_error_t je;
	int rv = -1;

	memset(&b, 0, sizeof(b));
	if (len > BUNDLE_MAX) {
		snprintf(why, whylen, "larger than %u bytes", BUNDLE_MAX);
		goto out;
	}
	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		snprintf(why, whylen, "not valid JSON (%s, line %d) - truncated?",
		    je.text, je.line);
		goto out;
	}
	if (!json_is_object(o)) {
		snprintf(why, whylen, "not a JSON object");
		goto out;
	}
	if (get_str(o, "url", 1, b.url, sizeof(b.url), why, whylen) != 0 ||
	    get_str(o, "s3_url", 0, b.s3_url, sizeof(b.s3_url), why, whylen) != 0 ||
	    get_str(o, "account_id", 1, b.account_id, sizeof(b.account_id), why,
	        whylen) != 0 ||
	    get_str(o, "username", 1, b.username, sizeof(b.username), why, whylen) != 0 ||
	    get_str(o, "password", 1, b.password, sizeof(b.password), why, whylen) != 0 ||
	    get_str(o, "vault_template_id", 0, b.vault_template_id,
	        sizeof(b.vault_template_id), why, whylen) != 0 ||
	    get_str(o, "mirror_template_id", 0, b.mirror_template_id,
	        sizeof(b.mirror_template_id), why, whylen) != 0)
		goto out;
	if (!url_ok(b.url)) {
		snprintf(why, whylen, "field \"url\" is not an https:// URL");
		goto out;
	}
	if (b.s3_url[0] != '\0' && !url_ok(b.s3_url)) {
		snprintf(why, whylen, "field \"s3_url\" is not an https:// URL");
		goto out;
	}
	if (!bundle_id_ok(b.account_id)) {
		snprintf(why, whylen, "field \"account_id\" is not an account ID");
		goto out;
	}
	if (!bundle_username_ok(b.username)) {
		snprintf(why, whylen,
		    "field \"username\" is not 3 to 64 of [A-Za-z0-9._-]");
		goto out;
	}
	if (!bundle_password_ok(b.password)) {
		snprintf(why, whylen, "field \"password\" is not 12 to 128 characters");
		goto out;
	}
	if ((b.vault_template_id[0] != '\0' && !bundle_id_ok(b.vault_template_id)) ||
	    (b.mirror_template_id[0] != '\0' && !bundle_id_ok(b.mirror_template_id))) {
		snprintf(why, whylen, "a template ID is malformed");
		goto out;
	}
	ca = json_object_get(o, "ca_certificate");
	if (!json_is_string(ca)) {
		snprintf(why, whylen, "field \"ca_certificate\" is %s",
		    ca == NULL ? "missing" : "not a string");
		goto out;
	}
	if (!ca_ok(json_string_value(ca))) {
		snprintf(why, whylen,
		    "field \"ca_certificate\" is not a PEM CA certificate");
		goto out;
	}
	if ((b.ca_pem = strdup(json_string_value(ca))) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	*out = b;
	memset(&b, 0, sizeof(b));
	rv = 0;
out:
	bundle_clear(&b);
	json_decref(o);
	return (rv);
}

void
bundle_clear(struct bundle *b)
{
	OPENSSL_cleanse(b->password, sizeof(b->password));
	free(b->ca_pem);
	b->ca_pem = NULL;
}

int
bundle_s3_url(const char *url, char *out, size_t outlen)
{
	const char *env = getenv("MANAGER_S3_URL"), *host, *end;
	size_t hl;

	if (env != NULL && *env != '\0') {
		if (strlen(env) >= outlen)
			return (-1);
		snprintf(out, outlen, "%s", env);
		return (0);
	}
	if (strncmp(url, "https://", 8) != 0)
		return (-1);
	host = url + 8;
	if (*host == '[') { /* [v6]:port */
		if ((end = strchr(host, ']')) == NULL)
			return (-1);
		end++;
	} else {
		end = host + strcspn(host, ":/");
	}
	hl = (size_t)(end - host);
	if (hl == 0 ||
	    (size_t)snprintf(out, outlen, "https://%.*s:8444", (int)hl, host) >= outlen)
		return (-1);
	return (0);
}
