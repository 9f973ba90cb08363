/* gateway/adm/form.c: the parameters of `.adm` calls, as curl sends them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/adm/form.h"
#include "tests/lib/check.h"

#define PARSE(f, s) adm_form_parse((f), (s), strlen(s), err, sizeof(err))

static const char *
val(const struct adm_form *f, const char *key)
{
	const char *v = NULL;

	return (adm_form_one(f, key, &v) == MGR_OK ? v : NULL);
}

int
main(void)
{
	struct adm_form f;
	char err[128], big[ADM_KEY_MAX + 8];
	const char *v;
	const char *pem = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB+a/b=\n"
	                  "-----END CERTIFICATE REQUEST-----\n";
	/* What `curl --data-urlencode "csr=$pem"` sends: RFC 3986 unreserved
	 * kept, everything else %XX. */
	const char *enc =
	    "csr=-----BEGIN%20CERTIFICATE%20REQUEST-----%0AMIIB%2Ba%2Fb%3D%0A"
	    "-----END%20CERTIFICATE%20REQUEST-----%0A";

	/* -d 'accountId=4&expirationDate=1474199793453' */
	adm_form_init(&f);
	CHECK(PARSE(&f, "accountId=4&expirationDate=1474199793453") == MGR_OK,
	    "plain pairs");
	CHECK(f.n == 2, "two parameters, got %d", f.n);
	CHECK(val(&f, "accountId") != NULL && strcmp(val(&f, "accountId"), "4") == 0,
	    "accountId");
	CHECK(val(&f, "expirationDate") != NULL &&
	        strcmp(val(&f, "expirationDate"), "1474199793453") == 0,
	    "expirationDate");
	CHECK(adm_form_one(&f, "csr", &v) == MGR_ENOTFOUND && v == NULL, "absent");
	/* A second -d is joined with '&' by curl. */
	CHECK(adm_form_parse(&f, enc, strlen(enc), err, sizeof(err)) == MGR_OK,
	    "url-encoded PEM");
	CHECK(val(&f, "csr") != NULL && strcmp(val(&f, "csr"), pem) == 0,
	    "the PEM comes back byte for byte");
	adm_form_free(&f);

	/* '+' is a space; an empty pair is skipped; a name alone is "". */
	adm_form_init(&f);
	CHECK(PARSE(&f, "name=billing+app&&admin&x=a%26b%3Dc") == MGR_OK,
	    "spaces and escapes");
	CHECK(f.n == 3, "three parameters, got %d", f.n);
	CHECK(val(&f, "name") != NULL && strcmp(val(&f, "name"), "billing app") == 0,
	    "plus as space");
	CHECK(val(&f, "admin") != NULL && val(&f, "admin")[0] == '\0', "name alone");
	CHECK(val(&f, "x") != NULL && strcmp(val(&f, "x"), "a&b=c") == 0,
	    "escaped separators");
	/* rolesMap[vaultProvisioner]=true as curl -d sends it (brackets raw). */
	CHECK(PARSE(&f, "rolesMap[vaultProvisioner]=true") == MGR_OK,
	    "brackets in a name");
	CHECK(val(&f, "rolesMap[vaultProvisioner]") != NULL, "bracketed name found");
	/* Given twice: refused by the getter. */
	CHECK(PARSE(&f, "name=again") == MGR_OK, "a repeated name parses");
	CHECK(adm_form_one(&f, "name", &v) == MGR_EINVAL, "a repeated name is refused");
	adm_form_free(&f);

	/* Refusals. */
	adm_form_init(&f);
	CHECK(PARSE(&f, "a=%zz") == MGR_EINVAL, "bad escape");
	CHECK(PARSE(&f, "a=%2") == MGR_EINVAL, "truncated escape");
	CHECK(PARSE(&f, "a=x%00y") == MGR_EINVAL, "NUL byte");
	CHECK(PARSE(&f, "=x") == MGR_EINVAL, "empty name");
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(adm_form_add_encoded(&f, big, "v", err, sizeof(err)) == MGR_EINVAL,
	    "over-long name");
	CHECK(strstr(err, "over") != NULL, "the reason says so: %s", err);
	CHECK(f.n == 0, "nothing kept from refused pairs");
	for (int i = 0; i < ADM_PARAMS_MAX; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%d", i);
		CHECK(adm_form_add_encoded(&f, k, NULL, err, sizeof(err)) == MGR_OK,
		    "parameter %d", i);
	}
	CHECK(adm_form_add_encoded(&f, "one", "more", err, sizeof(err)) == MGR_EINVAL,
	    "more than ADM_PARAMS_MAX");
	adm_form_free(&f);
	CHECK(f.n == 0, "free empties the form");
	if (fails == 0)
		printf("ok\n");
	return (fails != 0);
}
