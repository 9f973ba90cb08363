/* CSR checks: PEM PKCS#10, self-signature, key type and size, Subject DN. */
#include "services/ca/csr.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/pem.h>

#include "common/util.h"
#include "services/ca/der.h"

#define RSA_BITS_MIN 2048
#define RSA_BITS_MAX 16384

mgr_err
ca_spki_hex(const X509_PUBKEY *spki, char out[65])
{
	unsigned char *der = NULL;
	int n;

	if (spki == NULL || (n = i2d_X509_PUBKEY(spki, &der)) <= 0)
		return (MGR_EINVAL);
	mgr_sha256_hex(der, (size_t)n, out);
	OPENSSL_free(der);
	return (MGR_OK);
}

static int
key_ok(EVP_PKEY *k, char *why, size_t whylen)
{
	char group[64];
	size_t glen = 0;

	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(k) < RSA_BITS_MIN ||
		    EVP_PKEY_get_bits(k) > RSA_BITS_MAX) {
			snprintf(why, whylen,
			    "RSA key of %d bits: 2048 to 16384 required",
			    EVP_PKEY_get_bits(k));
			return (0);
		}
		return (1);
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group,
		        sizeof(group), &glen) != 1 ||
		    (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0 &&
		        strcmp(group, "secp384r1") != 0 && strcmp(group, "P-384") != 0)) {
			snprintf(why, whylen, "EC keys must be on P-256 or P-384");
			return (0);
		}
		return (1);
	default:
		snprintf(why, whylen,
		    "key type not accepted: RSA or EC P-256/P-384 only");
		return (0);
	}
}

/* CertificationRequest { info, signatureAlgorithm, signature } of an EC
 * request: info's bytes, the digest of an ECDSA signature algorithm without
 * parameters, and the signature (*sig, caller frees). 1 if it is that. */
static int
csr_ec_outer(const unsigned char *der, long len, const unsigned char **info,
    long *infolen, const EVP_MD **md, ASN1_BIT_STRING **sig)
{
	static const struct {
		int sig_nid, md_nid;
	} sigs[] = {
	    {NID_ecdsa_with_SHA256, NID_sha256},
	    {NID_ecdsa_with_SHA384, NID_sha384},
	    {NID_ecdsa_with_SHA512, NID_sha512},
	};
	const unsigned char *p = der, *end = der + len;
	X509_ALGOR *sigalg = NULL;
	const ASN1_OBJECT *obj;
	int ptype, ok = 0;

	*md = NULL;
	if (!ca_der_enter(&p, &end, CA_DER_SEQUENCE) || end != der + len ||
	    !ca_der_next(&p, end, info, infolen) ||
	    (sigalg = d2i_X509_ALGOR(NULL, &p, end - p)) == NULL ||
	    (*sig = d2i_ASN1_BIT_STRING(NULL, &p, end - p)) == NULL || p != end ||
	    ((*sig)->flags & 0x07) != 0)
		goto out;
	X509_ALGOR_get0(&obj, &ptype, NULL, sigalg);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (OBJ_obj2nid(obj) == sigs[i].sig_nid)
			*md = EVP_get_digestbynid(sigs[i].md_nid);
	ok = *md != NULL && ptype == V_ASN1_UNDEF;
out:
	X509_ALGOR_free(sigalg);
	return (ok);
}

/* info { version 0, subject, subjectPKInfo, [0] attributes }: the subject's
 * and the key's DER; every attribute must parse, as the full parser
 * requires. 1 if it is that. */
static int
csr_ec_info(const unsigned char *info, long infolen, const unsigned char **subj,
    long *subjlen, const unsigned char **pub, long *publen)
{
	const unsigned char *p = info, *iend = info + infolen, *attrs = NULL, *end;
	X509_ATTRIBUTE *attr;
	long attrslen = 0;

	if (!ca_der_enter(&p, &iend, CA_DER_SEQUENCE) || iend - p < 3 ||
	    memcmp(p, "\x02\x01\x00", 3) != 0)
		return (0);
	p += 3;
	if (!ca_der_next(&p, iend, subj, subjlen) ||
	    !ca_der_next(&p, iend, pub, publen) || p >= iend ||
	    !ca_der_next(&p, iend, &attrs, &attrslen) || p != iend)
		return (0);
	p = attrs;
	end = attrs + attrslen;
	if (!ca_der_enter(&p, &end, CA_DER_CONTEXT0))
		return (0);
	while (p < end) {
		if ((attr = d2i_X509_ATTRIBUTE(NULL, &p, end - p)) == NULL)
			return (0);
		X509_ATTRIBUTE_free(attr);
	}
	return (1);
}

/* The public key of spki, id-ecPublicKey on a named P-256 or P-384 curve and
 * nothing else, into *out; the point is checked to lie on the curve while it
 * is imported. 1 if it is that. */
static int
csr_ec_key(X509_PUBKEY *spki, EVP_PKEY **out)
{
	const unsigned char *point;
	X509_ALGOR *keyalg;
	ASN1_OBJECT *kobj;
	const ASN1_OBJECT *obj;
	const void *pval;
	const char *group;
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *kctx;
	int ptype, point_len, ok;

	if (X509_PUBKEY_get0_param(&kobj, &point, &point_len, &keyalg, spki) != 1)
		return (0);
	X509_ALGOR_get0(&obj, &ptype, &pval, keyalg);
	if (OBJ_obj2nid(kobj) != NID_X9_62_id_ecPublicKey || ptype != V_ASN1_OBJECT)
		return (0);
	switch (OBJ_obj2nid(pval)) {
	case NID_X9_62_prime256v1:
		group = "prime256v1";
		break;
	case NID_secp384r1:
		group = "secp384r1";
		break;
	default:
		return (0);
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	    (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    (void *)point, (size_t)point_len);
	params[2] = OSSL_PARAM_construct_end();
	ok = (kctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) != NULL &&
	    EVP_PKEY_fromdata_init(kctx) == 1 &&
	    EVP_PKEY_fromdata(kctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1;
	EVP_PKEY_CTX_free(kctx);
	return (ok);
}

/* The plain-DER reading of an EC request (see csr.h): 1 if c is filled
 * (name, key, SPKI) and its self-signature verifies, 0 to leave the request
 * to the full parser, which then accepts or refuses it. */
static int
csr_read_ec(struct ca_csr *c, const unsigned char *der, long len)
{
	const unsigned char *p, *info = NULL, *subj = NULL, *pub = NULL;
	long infolen = 0, subjlen = 0, publen = 0;
	ASN1_BIT_STRING *sig = NULL;
	EVP_MD_CTX *mctx = NULL;
	const EVP_MD *md = NULL;
	int ok = 0;

	if (!csr_ec_outer(der, len, &info, &infolen, &md, &sig) ||
	    !csr_ec_info(info, infolen, &subj, &subjlen, &pub, &publen))
		goto out;
	p = subj;
	if ((c->own_name = d2i_X509_NAME(NULL, &p, subjlen)) == NULL ||
	    p != subj + subjlen ||
	    (c->own_spki = ca_spki_from_der(pub, publen)) == NULL ||
	    !csr_ec_key(c->own_spki, &c->pubkey))
		goto out;
	/* The signature covers info's bytes as sent (as X509_REQ_verify). */
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(mctx, NULL, md, NULL, c->pubkey) != 1 ||
	    EVP_DigestVerify(mctx, sig->data, (size_t)sig->length, info,
	        (size_t)infolen) != 1)
		goto out;
	c->name = c->own_name;
	c->spki_obj = c->own_spki;
	ok = 1;
out:
	if (!ok) {
		EVP_PKEY_free(c->pubkey);
		c->pubkey = NULL;
		X509_NAME_free(c->own_name);
		c->own_name = NULL;
		X509_PUBKEY_free(c->own_spki);
		c->own_spki = NULL;
	}
	EVP_MD_CTX_free(mctx);
	ASN1_BIT_STRING_free(sig);
	ERR_clear_error();
	return (ok);
}

static int
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return (0);
	return (1);
}

/* The DER of the one PEM block of pem (label CERTIFICATE REQUEST, or the
 * NEW CERTIFICATE REQUEST of older tools), refusing anything but blanks
 * around it, a second block, and bytes after the request's DER (red-team
 * findings: trailing junk and a second CSR were taken silently). */
static mgr_err
csr_der(const char *pem, size_t len, unsigned char **der, long *dlen, char *why,
    size_t whylen)
{
	static const char *const labels[] = {"CERTIFICATE REQUEST",
	    "NEW CERTIFICATE REQUEST"};
	const char *b = strstr(pem, "-----BEGIN "), *e, *label = NULL;
	const unsigned char *p, *el;
	unsigned char *d = NULL;
	long n = 0, ellen = 0;
	char endm[64];

	if (b == NULL) {
		snprintf(why, whylen, "csr is not a PEM PKCS#10 request");
		return (MGR_EINVAL);
	}
	if (strstr(b + 1, "-----BEGIN ") != NULL) {
		snprintf(why, whylen, "csr holds more than one PEM block");
		return (MGR_EINVAL);
	}
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		size_t l = strlen(labels[i]);

		if (strncmp(b + 11, labels[i], l) == 0 &&
		    strncmp(b + 11 + l, "-----", 5) == 0)
			label = labels[i];
	}
	if (label == NULL) {
		snprintf(why, whylen, "csr is not a PEM PKCS#10 request");
		return (MGR_EINVAL);
	}
	snprintf(endm, sizeof(endm), "-----END %s-----", label);
	if (!blank(pem, (size_t)(b - pem)) || (e = strstr(b, endm)) == NULL ||
	    !blank(e + strlen(endm), len - (size_t)(e + strlen(endm) - pem))) {
		snprintf(why, whylen, "csr has text outside its PEM block");
		return (MGR_EINVAL);
	}
	if (ca_pem_der(b, label, &d, &n) != MGR_OK) {
		snprintf(why, whylen, "csr is not a PEM PKCS#10 request");
		return (MGR_EINVAL);
	}
	p = d;
	if (!ca_der_next(&p, d + n, &el, &ellen) || *el != CA_DER_SEQUENCE ||
	    p != d + n) {
		free(d);
		snprintf(why, whylen, "csr has data after its DER (or is not DER)");
		return (MGR_EINVAL);
	}
	*der = d;
	*dlen = n;
	return (MGR_OK);
}

mgr_err
ca_csr_parse(const char *pem, struct ca_csr **out, char *why, size_t whylen)
{
	struct ca_csr *c = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	long dlen = 0;
	size_t len;
	mgr_err rv = MGR_EINVAL;

	snprintf(why, whylen, "bad CSR");
	len = pem != NULL ? strnlen(pem, CA_CSR_PEM_MAX + 1) : 0;
	if (len == 0) {
		snprintf(why, whylen, "csr is required");
		goto out;
	}
	if (len > CA_CSR_PEM_MAX) {
		snprintf(why, whylen, "csr longer than %u bytes", CA_CSR_PEM_MAX);
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	if ((rv = csr_der(pem, len, &der, &dlen, why, whylen)) != MGR_OK)
		goto out;
	rv = MGR_EINVAL;
	snprintf(why, whylen, "bad CSR");
	if (csr_read_ec(c, der, dlen)) {
		if (!key_ok(c->pubkey, why, whylen))
			goto out;
	} else {
		p = der;
		if ((c->req = d2i_X509_REQ(NULL, &p, dlen)) == NULL || p != der + dlen) {
			snprintf(why, whylen, "csr is not a PEM PKCS#10 request");
			goto out;
		}
		if ((c->pubkey = X509_REQ_get_pubkey(c->req)) == NULL) {
			snprintf(why, whylen, "csr has no usable public key");
			goto out;
		}
		if (!key_ok(c->pubkey, why, whylen))
			goto out;
		if (X509_REQ_verify(c->req, c->pubkey) != 1) {
			snprintf(why, whylen, "csr self-signature does not verify");
			goto out;
		}
		c->name = X509_REQ_get_subject_name(c->req);
		c->spki_obj = X509_REQ_get_X509_PUBKEY(c->req);
	}
	if (X509_NAME_entry_count(c->name) <= 0) {
		snprintf(why, whylen, "csr has an empty Subject DN");
		goto out;
	}
	if (ca_dn_check(c->name, why, whylen) != MGR_OK)
		goto out;
	if (ca_dn_key(c->name, c->dn_key) != MGR_OK ||
	    ca_dn_text(c->name, c->subject, sizeof(c->subject)) != MGR_OK) {
		snprintf(why, whylen, "csr Subject DN is not acceptable");
		goto out;
	}
	if (ca_spki_hex(c->spki_obj, c->spki) != MGR_OK)
		goto out;
	*out = c;
	c = NULL;
	why[0] = '\0';
	rv = MGR_OK;
out:
	ERR_clear_error();
	free(der);
	ca_csr_free(c);
	return (rv);
}

void
ca_csr_free(struct ca_csr *c)
{
	if (c == NULL)
		return;
	EVP_PKEY_free(c->pubkey);
	X509_NAME_free(c->own_name);
	X509_PUBKEY_free(c->own_spki);
	X509_REQ_free(c->req);
	free(c);
}
