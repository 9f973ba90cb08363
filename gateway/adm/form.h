/* Parameters of an IBM `.adm` method call: application/x-www-form-urlencoded
 * (as `curl -d` and `--data-urlencode` send them) in the body and/or the
 * query string, decoded into one bounded table. */
#ifndef MGR_GATEWAY_ADM_FORM_H
#define MGR_GATEWAY_ADM_FORM_H

#include <stddef.h>

#include "common/err.h"

#define ADM_FORM_MAX (64u * 1024) /* body bytes, as a JSON body (API.md) */
#define ADM_PARAMS_MAX 32         /* parameters of one call */
#define ADM_KEY_MAX 64            /* bytes of a decoded name */

struct adm_param {
	char key[ADM_KEY_MAX + 1];
	char *value; /* decoded, NUL-terminated; owned by the form */
	size_t len;
};

struct adm_form {
	struct adm_param p[ADM_PARAMS_MAX];
	int n;
};

void adm_form_init(struct adm_form *f);
void adm_form_free(struct adm_form *f);

/* Adds the pairs of an encoded string "a=1&b=%2B" ([s, s+n)): '+' is a
 * space, "%XX" a byte, an empty pair ("a=1&&b=2") is skipped, a name
 * without "=" has the empty value. MGR_EINVAL for a bad escape, a NUL byte,
 * an empty or over-long name, more than ADM_PARAMS_MAX parameters;
 * MGR_ENOMEM. err (errlen bytes) says which, naming no value. */
mgr_err adm_form_parse(struct adm_form *f, const char *s, size_t n, char *err,
    size_t errlen);

/* Adds one pair given encoded, as libmicrohttpd hands out query arguments
 * (value NULL: "name" alone). Same errors as adm_form_parse. */
mgr_err adm_form_add_encoded(struct adm_form *f, const char *key, const char *value,
    char *err, size_t errlen);

/* The value of KEY: MGR_OK with *out set, MGR_ENOTFOUND when absent (*out
 * NULL), MGR_EINVAL when given more than once. */
mgr_err adm_form_one(const struct adm_form *f, const char *key, const char **out);

/* 1 when KEY was given at all. */
int adm_form_has(const struct adm_form *f, const char *key);

#endif
