/* Form decoding for the `.adm` front. Percent-decoding is the gateway's one
 * decoder (gateway/path.c, also used for paths and query arguments). */
#include "gateway/adm/form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/path.h"

void
adm_form_init(struct adm_form *f)
{
	memset(f, 0, sizeof(*f));
}

void
adm_form_free(struct adm_form *f)
{
	for (int i = 0; i < f->n; i++) {
		if (f->p[i].value != NULL) {
			/* Values may be passwords. */
			memset(f->p[i].value, 0, f->p[i].len);
			free(f->p[i].value);
		}
	}
	memset(f, 0, sizeof(*f));
}

static mgr_err
add_pair(struct adm_form *f, const char *k, size_t klen, const char *v, size_t vlen,
    char *err, size_t errlen)
{
	struct adm_param *p;
	size_t n;

	if (f->n >= ADM_PARAMS_MAX) {
		snprintf(err, errlen, "more than %d parameters", ADM_PARAMS_MAX);
		return (MGR_EINVAL);
	}
	p = &f->p[f->n];
	if (klen == 0 ||
	    gw_pct_decode(k, klen, 1, p->key, sizeof(p->key), &n) != MGR_OK || n == 0) {
		snprintf(err, errlen,
		    klen == 0 ? "a parameter without a name"
		              : "a parameter name badly encoded or over %d bytes",
		    ADM_KEY_MAX);
		return (MGR_EINVAL);
	}
	if ((p->value = malloc(vlen + 1)) == NULL)
		return (MGR_ENOMEM);
	if (gw_pct_decode(v, vlen, 1, p->value, vlen + 1, &p->len) != MGR_OK) {
		free(p->value);
		p->value = NULL;
		snprintf(err, errlen, "parameter \"%.64s\" is badly encoded", p->key);
		return (MGR_EINVAL);
	}
	f->n++;
	return (MGR_OK);
}

mgr_err
adm_form_parse(struct adm_form *f, const char *s, size_t n, char *err, size_t errlen)
{
	size_t i = 0;
	mgr_err rv;

	while (i < n) {
		const char *pair = s + i, *amp, *eq;
		size_t plen;

		amp = memchr(pair, '&', n - i);
		plen = amp != NULL ? (size_t)(amp - pair) : n - i;
		i += plen + 1;
		if (plen == 0)
			continue;
		eq = memchr(pair, '=', plen);
		if (eq == NULL)
			rv = add_pair(f, pair, plen, "", 0, err, errlen);
		else
			rv = add_pair(f, pair, (size_t)(eq - pair), eq + 1,
			    plen - (size_t)(eq - pair) - 1, err, errlen);
		if (rv != MGR_OK)
			return (rv);
	}
	return (MGR_OK);
}

mgr_err
adm_form_add_encoded(struct adm_form *f, const char *key, const char *value, char *err,
    size_t errlen)
{
	return (add_pair(f, key, strlen(key), value != NULL ? value : "",
	    value != NULL ? strlen(value) : 0, err, errlen));
}

mgr_err
adm_form_one(const struct adm_form *f, const char *key, const char **out)
{
	int found = 0;

	*out = NULL;
	for (int i = 0; i < f->n; i++) {
		if (strcmp(f->p[i].key, key) != 0)
			continue;
		if (found++)
			return (MGR_EINVAL);
		*out = f->p[i].value;
	}
	if (!found)
		return (MGR_ENOTFOUND);
	return (MGR_OK);
}

int
adm_form_has(const struct adm_form *f, const char *key)
{
	for (int i = 0; i < f->n; i++)
		if (strcmp(f->p[i].key, key) == 0)
			return (1);
	return (0);
}
