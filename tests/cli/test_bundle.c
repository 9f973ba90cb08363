/* cli/bundle.c: the hand-over bundle is checked whole before enroll sends
 * or writes anything: broken, truncated, mistyped or incomplete bundles are
 * refused with a reason naming what is wrong. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli/bundle.h"
#include "tests/lib/check.h"

/* A self-signed certificate, a CA one or not, as PEM (malloc'd). */
static char *
make_cert(int ca)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *out;
	long n;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	X509_sign(x, k, EVP_sha256());
	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &p);
	out = malloc((size_t)n + 1);
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
	return (out);
}

static char *
bundle_text(const char *ca, const char *override)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:n}", "url",
	    "https://mgr.example:8443", "s3_url", "https://mgr.example:8444",
	    "account_id", "acc_abc123", "username", "app-setup", "password",
	    "correct horse battery", "ca_certificate", ca, "vault_template_id", "tpl_1",
	    "mirror_template_id");
	char *s;

	if (override != NULL) { /* {"field": value} merged over the good one */
		json_t *ov = json_loads(override, 0, NULL);

		json_object_update(o, ov);
		json_decref(ov);
	}
	s = json_dumps(o, 0);
	json_decref(o);
	return (s);
}

struct row {
	const char *override; /* JSON merged over a good bundle */
	const char *why;      /* NULL: accepted */
};

static const struct row rows[] = {
    {NULL, NULL},
    {"{\"url\": null}", "\"url\" is missing"},
    {"{\"url\": \"http://plain:8443\"}", "https"},
    {"{\"url\": 8443}", "not a string"},
    {"{\"account_id\": \"acc/../x\"}", "account_id"},
    {"{\"account_id\": \"\"}", "account_id"},
    {"{\"username\": \"ab\"}", "username"},
    {"{\"username\": \"has space\"}", "username"},
    {"{\"password\": \"short\"}", "password"},
    {"{\"password\": null}", "\"password\" is missing"},
    {"{\"ca_certificate\": \"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n\"}",
        "ca_certificate"},
    {"{\"ca_certificate\": 1}", "ca_certificate"},
    {"{\"vault_template_id\": null, \"s3_url\": null}", NULL},
    {"{\"vault_template_id\": \"tpl bad\"}", "template"},
    {"{\"s3_url\": \"ftp://x\"}", "s3_url"},
    {"{\"extra_field_of_a_newer_writer\": 1}", NULL},
};

int
main(void)
{
	char *ca = make_cert(1), *leaf = make_cert(0), why[300], *t;
	struct bundle b;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rv;

		t = bundle_text(ca, rows[i].override);
		why[0] = '\0';
		rv = bundle_parse(t, strlen(t), &b, why, sizeof(why));
		if (rows[i].why == NULL) {
			CHECK(rv == 0, "row %zu refused: %s", i, why);
			if (rv == 0)
				bundle_clear(&b);
		} else {
			CHECK(rv != 0 && strstr(why, rows[i].why) != NULL,
			    "row %zu: rv %d, reason '%s', want '%s'", i, rv, why,
			    rows[i].why);
		}
		free(t);
	}
	/* the fields arrive */
	t = bundle_text(ca, NULL);
	CHECK(bundle_parse(t, strlen(t), &b, why, sizeof(why)) == 0, "%s", why);
	CHECK(strcmp(b.account_id, "acc_abc123") == 0 &&
	        strcmp(b.username, "app-setup") == 0 &&
	        strcmp(b.vault_template_id, "tpl_1") == 0 &&
	        b.mirror_template_id[0] == '\0' &&
	        strcmp(b.s3_url, "https://mgr.example:8444") == 0 && b.ca_pem != NULL,
	    "fields");
	bundle_clear(&b);
	CHECK(b.ca_pem == NULL && b.password[0] == '\0', "cleared");
	/* every truncation of a good bundle is refused */
	for (size_t n = 0; n < strlen(t); n++) {
		int rv = bundle_parse(t, n, &b, why, sizeof(why));

		CHECK(rv != 0, "truncated to %zu bytes accepted", n);
		if (rv == 0)
			bundle_clear(&b);
	}
	free(t);
	/* a certificate that is not a CA's */
	t = bundle_text(leaf, NULL);
	CHECK(bundle_parse(t, strlen(t), &b, why, sizeof(why)) != 0 &&
	        strstr(why, "ca_certificate") != NULL,
	    "leaf as CA: %s", why);
	free(t);
	/* not an object, duplicate keys, too large */
	CHECK(bundle_parse("[1]", 3, &b, why, sizeof(why)) != 0, "array");
	CHECK(bundle_parse("{\"url\":\"https://a:1\",\"url\":\"https://b:1\"}", 41, &b,
	          why, sizeof(why)) != 0,
	    "duplicate keys");
	CHECK(bundle_parse("{}", BUNDLE_MAX + 1, &b, why, sizeof(why)) != 0 &&
	        strstr(why, "larger") != NULL,
	    "too large");

	/* s3_url: same host, port 8444, unless MANAGER_S3_URL */
	{
		char s3[200];

		unsetenv("MANAGER_S3_URL");
		CHECK(bundle_s3_url("https://mgr.example:8443", s3, sizeof(s3)) == 0 &&
		        strcmp(s3, "https://mgr.example:8444") == 0,
		    "s3 %s", s3);
		CHECK(bundle_s3_url("https://10.0.0.1", s3, sizeof(s3)) == 0 &&
		        strcmp(s3, "https://10.0.0.1:8444") == 0,
		    "s3 no port %s", s3);
		CHECK(bundle_s3_url("https://[::1]:8443/x", s3, sizeof(s3)) == 0 &&
		        strcmp(s3, "https://[::1]:8444") == 0,
		    "s3 v6 %s", s3);
		CHECK(bundle_s3_url("http://x", s3, sizeof(s3)) != 0, "s3 needs https");
		setenv("MANAGER_S3_URL", "https://s3.example", 1);
		CHECK(bundle_s3_url("https://mgr.example:8443", s3, sizeof(s3)) == 0 &&
		        strcmp(s3, "https://s3.example") == 0,
		    "MANAGER_S3_URL %s", s3);
		unsetenv("MANAGER_S3_URL");
	}
	free(ca);
	free(leaf);
	return (fails ? 1 : 0);
}
