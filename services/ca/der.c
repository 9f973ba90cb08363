/* Plain DER reading without key decoding (see der.h). */
#include "services/ca/der.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

/* Skips one DER element at *p (before end); its start and full length in
 * *el and *ellen. 0 on a malformed element. */
int
ca_der_next(const unsigned char **p, const unsigned char *end, const unsigned char **el,
    long *ellen)
{
	const unsigned char *q = *p;
	long len;
	int tag, cls, r;

	if (q >= end)
		return (0);
	r = ASN1_get_object(&q, &len, &tag, &cls, end - *p);
	if ((r & 0x80) || r == 0x21 || len > end - q)
		return (0); /* error, or indefinite length (not DER) */
	*el = *p;
	*ellen = (q - *p) + len;
	*p = q + len;
	return (1);
}

/* Enters the constructed element at *p: *p at its contents, *end after. */
int
ca_der_enter(const unsigned char **p, const unsigned char **end, unsigned char ident)
{
	const unsigned char *q = *p;
	long len;
	int tag, cls, r;

	if (*p >= *end || **p != ident)
		return (0);
	r = ASN1_get_object(&q, &len, &tag, &cls, *end - *p);
	if ((r & 0x80) || !(r & V_ASN1_CONSTRUCTED) || r == 0x21 || len > *end - q)
		return (0);
	*p = q;
	*end = q + len;
	return (1);
}

/* An X509_PUBKEY from SubjectPublicKeyInfo DER, built from its parts (plain
 * ASN.1): d2i_X509_PUBKEY would decode the key through OpenSSL 3.0's
 * decoder, which costs more than the signature. */
X509_PUBKEY *
ca_spki_from_der(const unsigned char *der, long len)
{
	const unsigned char *p = der, *end = der + len;
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *bits = NULL;
	X509_PUBKEY *pk = NULL, *ret = NULL;
	ASN1_OBJECT *obj = NULL;
	const ASN1_OBJECT *aobj;
	const void *pval;
	void *pdup = NULL;
	unsigned char *penc = NULL;
	int ptype = V_ASN1_UNDEF;

	if (!ca_der_enter(&p, &end, CA_DER_SEQUENCE) ||
	    (alg = d2i_X509_ALGOR(NULL, &p, end - p)) == NULL ||
	    (bits = d2i_ASN1_BIT_STRING(NULL, &p, end - p)) == NULL || p != end ||
	    (bits->flags & 0x07) != 0)
		goto out;
	X509_ALGOR_get0(&aobj, &ptype, &pval, alg);
	if ((ptype == V_ASN1_OBJECT && (pdup = OBJ_dup(pval)) == NULL) ||
	    (ptype == V_ASN1_SEQUENCE && (pdup = ASN1_STRING_dup(pval)) == NULL) ||
	    (ptype != V_ASN1_OBJECT && ptype != V_ASN1_SEQUENCE && ptype != V_ASN1_NULL &&
	        ptype != V_ASN1_UNDEF))
		goto out;
	if ((pk = X509_PUBKEY_new()) == NULL || (obj = OBJ_dup(aobj)) == NULL ||
	    (penc = OPENSSL_memdup(bits->data,
	         bits->length > 0 ? (size_t)bits->length : 1)) == NULL ||
	    X509_PUBKEY_set0_param(pk, obj, ptype, pdup, penc, bits->length) != 1)
		goto out;
	obj = NULL;
	pdup = NULL;
	penc = NULL;
	ret = pk;
	pk = NULL;
out:
	ASN1_OBJECT_free(obj);
	OPENSSL_free(penc);
	if (ptype == V_ASN1_OBJECT)
		ASN1_OBJECT_free(pdup);
	else
		ASN1_STRING_free(pdup);
	X509_PUBKEY_free(pk);
	X509_ALGOR_free(alg);
	ASN1_BIT_STRING_free(bits);
	return (ret);
}


mgr_err
ca_pem_der(const char *pem, const char *label, unsigned char **der, long *len)
{
	static const char b64set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                             "abcdefghijklmnopqrstuvwxyz0123456789+/=";
	char begin[64], endm[64];
	const char *b, *q, *nl, *eq;
	char *b64 = NULL;
	unsigned char *d = NULL;
	size_t n = 0, ll, total;
	int dn, pad;
	mgr_err rv = MGR_EINVAL;

	if (pem == NULL ||
	    snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label) >=
	        (int)sizeof(begin) ||
	    snprintf(endm, sizeof(endm), "-----END %s-----", label) >=
	        (int)sizeof(endm) ||
	    (b = strstr(pem, begin)) == NULL || (b != pem && b[-1] != '\n'))
		return (MGR_EINVAL);
	/* Strictly what PEM_write writes (OpenSSL's reader accepts more, and
	 * refuses some of what a looser reading would take): the begin line
	 * alone on its line, base64 lines, the end line alone on its line but
	 * for trailing blanks. */
	q = b + strlen(begin);
	if (*q == '\r')
		q++;
	if (*q++ != '\n')
		return (MGR_EINVAL);
	total = strlen(q);
	if ((b64 = malloc(total + 1)) == NULL || (d = malloc(total + 1)) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	for (;;) {
		if (strncmp(q, endm, strlen(endm)) == 0) {
			q += strlen(endm);
			q += strspn(q, " \t\r");
			if (*q != '\n' && *q != '\0')
				goto out;
			break;
		}
		if ((nl = strchr(q, '\n')) == NULL)
			goto out;
		ll = (size_t)(nl - q);
		if (ll > 0 && q[ll - 1] == '\r')
			ll--;
		if (ll == 0 || strspn(q, b64set) != ll)
			goto out;
		memcpy(b64 + n, q, ll);
		n += ll;
		q = nl + 1;
	}
	if (n == 0 || n % 4 != 0 || n > INT_MAX)
		goto out;
	b64[n] = '\0';
	/* '=' only as the padding at the very end. */
	if ((eq = strchr(b64, '=')) != NULL &&
	    (n - (size_t)(eq - b64) > 2 || strspn(eq, "=") != n - (size_t)(eq - b64)))
		goto out;
	pad = (b64[n - 1] == '=') + (b64[n - 2] == '=');
	if ((dn = EVP_DecodeBlock(d, (const unsigned char *)b64, (int)n)) <= pad)
		goto out;
	*der = d;
	*len = dn - pad;
	d = NULL;
	rv = MGR_OK;
out:
	free(b64);
	free(d);
	return (rv);
}
