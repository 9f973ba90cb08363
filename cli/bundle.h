/* The hand-over bundle (API.md "Command-line client mgr"): what `mgr account
 * create` writes and `mgr enroll` reads. Parsing is pure and strict, so that
 * a broken or truncated bundle is refused before anything is sent or
 * written (tests/cli/test_bundle.c). */
#ifndef MGR_CLI_BUNDLE_H
#define MGR_CLI_BUNDLE_H

#include <stddef.h>
#include <jansson.h>

#define BUNDLE_MAX (256u * 1024) /* a bundle file larger than this is refused */
#define BUNDLE_URL_MAX 512
#define BUNDLE_ID_MAX 64

struct bundle {
	char url[BUNDLE_URL_MAX];
	char s3_url[BUNDLE_URL_MAX]; /* "" when the bundle has none */
	char account_id[BUNDLE_ID_MAX + 1];
	char username[65];
	char password[129];
	char vault_template_id[BUNDLE_ID_MAX + 1];  /* "" for null */
	char mirror_template_id[BUNDLE_ID_MAX + 1]; /* "" for null */
	char *ca_pem;                               /* owned */
};

/* Parses and checks a bundle: every field API.md names, of the right type
 * and form (https URL, account ID, user name 3-64 of [A-Za-z0-9._-],
 * password 12-128 characters, a PEM X.509 CA certificate); unknown fields
 * are ignored (newer writers may add some). Returns 0, or -1 with a one-line
 * reason in why. */
int bundle_parse(const char *text, size_t len, struct bundle *out, char *why,
    size_t whylen);
/* Wipes the password and frees ca_pem. */
void bundle_clear(struct bundle *b);

/* The S3 endpoint for a REST URL: $MANAGER_S3_URL when set, else the same
 * scheme and host as url, port 8444. Returns 0 or -1 (URL unusable). */
int bundle_s3_url(const char *url, char *out, size_t outlen);

/* Checks the forms of API.md: user names, passwords, ids. */
int bundle_username_ok(const char *s);
int bundle_password_ok(const char *s);
int bundle_id_ok(const char *s);

#endif
