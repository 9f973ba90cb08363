/* services/ca/dn.c: canonical Subject DNs — letter case, spacing, string
 * encoding, RDN order and multi-valued RDN grouping do not make two DNs
 * different; values, types and repetitions do. Control characters in an
 * attribute are refused. */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "services/ca/dn.h"
#include "tests/lib/check.h"


/* One attribute: type short name, value, ASN.1 string type, and whether it
 * starts a new RDN or joins the previous one (a multi-valued RDN), as
 * X509_NAME_add_entry's `set` says. */
#define NEW 0
#define JOIN (-1)
struct attr {
	const char *type;
	const char *value;
	int asn1_type;
	int set;
};

#define U V_ASN1_UTF8STRING
#define P V_ASN1_PRINTABLESTRING
#define T V_ASN1_T61STRING
#define B V_ASN1_BMPSTRING

static X509_NAME *
make_name(const struct attr *a, size_t n)
{
	X509_NAME *name = X509_NAME_new();

	for (size_t i = 0; i < n && name != NULL; i++) {
		ASN1_STRING *s = ASN1_STRING_type_new(a[i].asn1_type);
		X509_NAME_ENTRY *e;

		if (a[i].asn1_type == B) {
			/* UCS-2 big endian of an ASCII value. */
			unsigned char w[256];
			size_t l = strlen(a[i].value);

			for (size_t k = 0; k < l; k++) {
				w[2 * k] = 0;
				w[2 * k + 1] = (unsigned char)a[i].value[k];
			}
			ASN1_STRING_set(s, w, (int)(2 * l));
		} else {
			ASN1_STRING_set(s, a[i].value, -1);
		}
		e = X509_NAME_ENTRY_create_by_NID(NULL, OBJ_txt2nid(a[i].type),
		    a[i].asn1_type, ASN1_STRING_get0_data(s), ASN1_STRING_length(s));
		X509_NAME_add_entry(name, e, -1, a[i].set);
		X509_NAME_ENTRY_free(e);
		ASN1_STRING_free(s);
	}
	return (name);
}

#define N(...) \
	((const struct attr[]){__VA_ARGS__}), \
	    (sizeof((const struct attr[]){__VA_ARGS__}) / sizeof(struct attr))

static const struct {
	const char *what;
	const struct attr *a;
	size_t na;
	const struct attr *b;
	size_t nb;
	int same;
} cases[] = {
    {"identical", N({"O", "Acme", U, NEW}, {"CN", "app", U, NEW}),
        N({"O", "Acme", U, NEW}, {"CN", "app", U, NEW}), 1},
    {"letter case", N({"O", "ACME corp", U, NEW}, {"CN", "App-One", U, NEW}),
        N({"O", "acme CORP", U, NEW}, {"CN", "app-one", U, NEW}), 1},
    {"outer and inner spacing",
        N({"O", "  Acme \t  Corp ", U, NEW}, {"CN", "app one", U, NEW}),
        N({"O", "Acme Corp", U, NEW}, {"CN", " app   one", U, NEW}), 1},
    {"PrintableString vs UTF8String", N({"O", "Acme", P, NEW}, {"CN", "app", P, NEW}),
        N({"O", "acme", U, NEW}, {"CN", "APP", U, NEW}), 1},
    {"T61String and BMPString vs UTF8String",
        N({"O", "Acme", T, NEW}, {"CN", "app", B, NEW}),
        N({"O", "Acme", U, NEW}, {"CN", "app", U, NEW}), 1},
    {"Latin-1 capitals fold", N({"CN", "\xc3\x89MILE", U, NEW}),
        N({"CN", "\xc3\xa9mile", U, NEW}), 1},
    {"multi-valued RDN order does not matter",
        N({"CN", "x", U, NEW}, {"UID", "7", U, JOIN}),
        N({"UID", "7", U, NEW}, {"CN", "x", U, JOIN}), 1},
    {"different value", N({"O", "Acme", U, NEW}, {"CN", "app1", U, NEW}),
        N({"O", "Acme", U, NEW}, {"CN", "app2", U, NEW}), 0},
    {"different attribute type", N({"O", "Acme", U, NEW}), N({"OU", "Acme", U, NEW}), 0},
    {"RDN order does not matter (/O=RT/CN=app-a is /CN=app-a/O=RT)",
        N({"O", "RT", U, NEW}, {"CN", "app-a", U, NEW}),
        N({"CN", "app-a", U, NEW}, {"O", "RT", U, NEW}), 1},
    {"RDN grouping does not matter (/O=RT/CN=app-a is /CN=app-a+O=RT)",
        N({"O", "RT", U, NEW}, {"CN", "app-a", U, NEW}),
        N({"CN", "app-a", U, NEW}, {"O", "RT", U, JOIN}), 1},
    {"order and grouping with more attributes",
        N({"C", "DE", U, NEW}, {"O", "RT", U, NEW}, {"OU", "x", U, JOIN},
            {"CN", "app", U, NEW}),
        N({"CN", "APP", U, NEW}, {"OU", "x", U, JOIN}, {"C", "de", P, NEW},
            {"O", "RT", U, JOIN}),
        1},
    {"the same attributes with one value moved are different",
        N({"O", "RT", U, NEW}, {"CN", "app-a", U, NEW}),
        N({"O", "app-a", U, NEW}, {"CN", "RT", U, NEW}), 0},
    {"an extra RDN", N({"CN", "app", U, NEW}),
        N({"CN", "app", U, NEW}, {"CN", "app", U, NEW}), 0},
    {"one multi-valued RDN is two RDNs of the same attributes",
        N({"CN", "x", U, NEW}, {"UID", "7", U, JOIN}),
        N({"CN", "x", U, NEW}, {"UID", "7", U, NEW}), 1},
    {"separators inside a value cannot forge another DN",
        N({"CN", "a,2.5.4.3=1:b", U, NEW}), N({"CN", "a", U, NEW}, {"CN", "b", U, NEW}),
        0},
    {"inner space is kept as one space", N({"CN", "app one", U, NEW}),
        N({"CN", "appone", U, NEW}), 0},
};

int
main(void)
{
	char ka[CA_DN_KEY_MAX], kb[CA_DN_KEY_MAX], canon[CA_DN_CANON_MAX + 1];
	char text[256];
	X509_NAME *a, *b, *empty;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		a = make_name(cases[i].a, cases[i].na);
		b = make_name(cases[i].b, cases[i].nb);
		CHECK(ca_dn_key(a, ka) == MGR_OK, "%s", cases[i].what);
		CHECK(ca_dn_key(b, kb) == MGR_OK, "%s", cases[i].what);
		CHECK((strcmp(ka, kb) == 0) == cases[i].same, "%s", cases[i].what);
		CHECK(strncmp(ka, "dn:", 3) == 0 && strlen(ka) == 67, "key form");
		X509_NAME_free(a);
		X509_NAME_free(b);
	}

	/* The canonical text itself. */
	a = make_name(N({"O", " Acme  CORP ", P, NEW}, {"CN", "App", U, NEW}));
	CHECK(ca_dn_canonical(a, canon, sizeof(canon)) == MGR_OK, "canonical");
	CHECK(strcmp(canon, "2.5.4.10=9:acme corp,2.5.4.3=3:app") == 0, "%s", canon);
	/* A buffer too small is an error, not a truncation. */
	CHECK(ca_dn_canonical(a, canon, 10) == MGR_EINVAL, "small buffer");
	CHECK(ca_dn_text(a, text, sizeof(text)) == MGR_OK &&
	        strcmp(text, "CN=App,O=\\ Acme  CORP\\ ") == 0,
	    "%s", text);
	X509_NAME_free(a);

	/* An empty DN has no canonical form. */
	empty = X509_NAME_new();
	CHECK(ca_dn_key(empty, ka) == MGR_EINVAL, "empty DN refused");
	CHECK(ca_dn_key(NULL, ka) == MGR_EINVAL, "NULL DN refused");
	X509_NAME_free(empty);

	/* Control characters in any attribute are refused (red-team
	 * finding: a CN with NUL, CR or LF was issued); others are not. */
	{
		static const struct {
			const char *value;
			int asn1_type, ok;
		} vals[] = {
		    {"app-a", U, 1},
		    {"app a\xc3\xa9", U, 1},
		    {"app\nO=Other", U, 0},
		    {"app\r", U, 0},
		    {"\tapp", U, 0},
		    {"app\x7f", U, 0},
		    {"app\xc2\x85", U, 0},
		    {"app\x1b[0m", U, 0},
		};
		char why[128];

		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			a = make_name(N({"O", "RT", U, NEW},
			    {"CN", vals[i].value, vals[i].asn1_type, NEW}));
			CHECK((ca_dn_check(a, why, sizeof(why)) == MGR_OK) == vals[i].ok,
			    "control characters: case %zu", i);
			X509_NAME_free(a);
		}
		/* A NUL inside a BMPString value (U+0000). */
		{
			X509_NAME *nm = X509_NAME_new();
			static const unsigned char w[] = {0, 'a', 0, 0, 0, 'b'};

			X509_NAME_add_entry_by_NID(nm, NID_commonName, V_ASN1_BMPSTRING,
			    w, sizeof(w), -1, 0);
			CHECK(ca_dn_check(nm, why, sizeof(why)) == MGR_EINVAL &&
			        strstr(why, "commonName") != NULL,
			    "NUL in a BMPString: %s", why);
			X509_NAME_free(nm);
		}
	}

	if (fails == 0)
		printf("test_dn: all passed\n");
	return (fails == 0 ? 0 : 1);
}
