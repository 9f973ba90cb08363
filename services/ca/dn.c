/* Canonical Subject DNs (see dn.h). */
#include "services/ca/dn.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "common/buf.h"
#include "common/util.h"

#define DN_ENTRIES_MAX 64

static int
is_space(unsigned char c)
{
	return (
	    c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f');
}

/* Folds one UTF-8 value in place-free fashion into b: trimmed, whitespace
 * runs collapsed, ASCII and Latin-1 letters lowercased. */
static mgr_err
fold_value(const unsigned char *s, size_t n, struct mgr_buf *b)
{
	size_t i = 0;
	int pending_space = 0;
	mgr_err rv;

	while (i < n && is_space(s[i]))
		i++;
	while (n > i && is_space(s[n - 1]))
		n--;
	for (; i < n; i++) {
		unsigned char c = s[i];

		if (is_space(c)) {
			pending_space = 1;
			continue;
		}
		if (pending_space) {
			if ((rv = mgr_buf_add(b, " ", 1)) != MGR_OK)
				return (rv);
			pending_space = 0;
		}
		if (c >= 'A' && c <= 'Z') {
			c = (unsigned char)(c + 32);
		} else if (c == 0xc3 && i + 1 < n && s[i + 1] >= 0x80 &&
		    s[i + 1] <= 0x9e && s[i + 1] != 0x97) {
			/* U+00C0..U+00DE (not U+00D7): Latin-1 capitals. */
			unsigned char l[2] = {0xc3, (unsigned char)(s[i + 1] + 0x20)};

			if ((rv = mgr_buf_add(b, l, 2)) != MGR_OK)
				return (rv);
			i++;
			continue;
		}
		if ((rv = mgr_buf_add(b, &c, 1)) != MGR_OK)
			return (rv);
	}
	return (MGR_OK);
}

static mgr_err
entry_text(const X509_NAME_ENTRY *e, char **out)
{
	struct mgr_buf v, t;
	unsigned char *utf8 = NULL;
	char oid[128];
	int n;
	mgr_err rv = MGR_EINVAL;

	mgr_buf_init(&v, CA_DN_CANON_MAX);
	mgr_buf_init(&t, CA_DN_CANON_MAX);
	if (OBJ_obj2txt(oid, sizeof(oid), X509_NAME_ENTRY_get_object(e), 1) <= 0)
		goto out;
	if ((n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e))) < 0)
		goto out;
	if ((rv = fold_value(utf8, (size_t)n, &v)) != MGR_OK ||
	    (rv = mgr_buf_printf(&t, "%s=%zu:", oid, v.len)) != MGR_OK ||
	    (v.len > 0 && (rv = mgr_buf_add(&t, v.data, v.len)) != MGR_OK))
		goto out;
	if (t.data == NULL) {
		rv = MGR_EINVAL;
		goto out;
	}
	*out = mgr_buf_take(&t, NULL);
	rv = MGR_OK;
out:
	if (rv == MGR_ETOOBIG)
		rv = MGR_EINVAL;
	OPENSSL_free(utf8);
	mgr_buf_free(&v);
	mgr_buf_free(&t);
	return (rv);
}

static int
cmp_str(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

mgr_err
ca_dn_canonical(const X509_NAME *name, char *out, size_t outlen)
{
	char *ents[DN_ENTRIES_MAX];
	struct mgr_buf b;
	int n, i;
	mgr_err rv = MGR_EINVAL;

	n = name != NULL ? X509_NAME_entry_count(name) : 0;
	if (n <= 0 || n > DN_ENTRIES_MAX || outlen == 0)
		return (MGR_EINVAL);
	mgr_buf_init(&b, outlen - 1 < CA_DN_CANON_MAX ? outlen - 1 : CA_DN_CANON_MAX);
	memset(ents, 0, sizeof(ents));
	for (i = 0; i < n; i++)
		if ((rv = entry_text(X509_NAME_get_entry(name, i), &ents[i])) != MGR_OK)
			goto out;
	/* One sorted list of every attribute: neither the order of the RDNs
	 * nor their grouping into multi-valued RDNs makes another holder. */
	qsort(ents, (size_t)n, sizeof(ents[0]), cmp_str);
	for (i = 0; i < n; i++)
		if ((i > 0 && (rv = mgr_buf_add(&b, ",", 1)) != MGR_OK) ||
		    (rv = mgr_buf_add(&b, ents[i], strlen(ents[i]))) != MGR_OK)
			goto out;
	memcpy(out, b.data, b.len + 1);
	rv = MGR_OK;
out:
	if (rv == MGR_ETOOBIG)
		rv = MGR_EINVAL;
	for (i = 0; i < n; i++)
		free(ents[i]);
	mgr_buf_free(&b);
	ERR_clear_error();
	return (rv);
}

mgr_err
ca_dn_check(const X509_NAME *name, char *why, size_t whylen)
{
	int n = name != NULL ? X509_NAME_entry_count(name) : 0;

	for (int i = 0; i < n; i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		unsigned char *u = NULL;
		char type[64];
		int len = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e)), bad = 0;

		if (len < 0) {
			snprintf(why, whylen,
			    "a Subject DN attribute is not convertible to UTF-8");
			ERR_clear_error();
			return (MGR_EINVAL);
		}
		for (int k = 0; k < len && !bad; k++)
			/* C0 controls and DEL; C1 controls (U+0080..U+009F) */
			bad = u[k] < 0x20 || u[k] == 0x7f ||
			    (u[k] == 0xc2 && k + 1 < len && u[k + 1] >= 0x80 &&
			        u[k + 1] <= 0x9f);
		OPENSSL_free(u);
		if (bad) {
			if (OBJ_obj2txt(type, sizeof(type), X509_NAME_ENTRY_get_object(e),
			        0) <= 0)
				snprintf(type, sizeof(type), "?");
			snprintf(why, whylen,
			    "Subject DN attribute %s holds a control character "
			    "(NUL, CR, LF, ...)",
			    type);
			ERR_clear_error();
			return (MGR_EINVAL);
		}
	}
	return (MGR_OK);
}

mgr_err
ca_dn_key(const X509_NAME *name, char out[CA_DN_KEY_MAX])
{
	char canon[CA_DN_CANON_MAX + 1], hex[65];
	mgr_err rv;

	if ((rv = ca_dn_canonical(name, canon, sizeof(canon))) != MGR_OK)
		return (rv);
	mgr_sha256_hex(canon, strlen(canon), hex);
	snprintf(out, CA_DN_KEY_MAX, "dn:%s", hex);
	return (MGR_OK);
}

mgr_err
ca_dn_text(const X509_NAME *name, char *out, size_t outlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	mgr_err rv = MGR_EINVAL;

	if (b == NULL)
		return (MGR_ENOMEM);
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >=
	        0 &&
	    (n = BIO_get_mem_data(b, &data)) >= 0 && (size_t)n < outlen) {
		if (n > 0) /* an empty DN: data may be NULL */
			memcpy(out, data, (size_t)n);
		out[n] = '\0';
		rv = MGR_OK;
	}
	BIO_free(b);
	return (rv);
}
