#include "services/ca/ca.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "common/util.h"
#include "services/ca/token.h"

#define CA_VALIDITY_S (10LL * 365 * 86400)

static void
ssl_log(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	log_error(NULL, "%s: %s", what, buf);
	ERR_clear_error();
}

char *
ca_x509_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (b == NULL)
		return (NULL);
	if (PEM_write_bio_X509(b, x) == 1 && (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
	BIO_free(b);
	return (out);
}

void
ca_serial_hex(const ASN1_INTEGER *s, char out[64])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(s, NULL);
	char *h = bn != NULL ? BN_bn2hex(bn) : NULL;
	size_t i;

	out[0] = '\0';
	if (h != NULL) {
		for (i = 0; h[i] != '\0' && i < 63; i++)
			out[i] = (char)(h[i] >= 'A' && h[i] <= 'F' ? h[i] + 32 : h[i]);
		out[i] = '\0';
	}
	OPENSSL_free(h);
	BN_free(bn);
}

int64_t
ca_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return (0);
	return ((int64_t)timegm(&tm));
}

static EVP_PKEY *
gen_key(const char *type)
{
	if (strcmp(type, "ec-p256") == 0)
		return (EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	return (EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
}

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	if ((ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return (0);
	ok = X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return (ok);
}

static mgr_err
random_serial(X509 *x, char serial_hex[64])
{
	unsigned char b[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return (MGR_EINTERNAL);
	b[0] &= 0x7f; /* positive */
	b[0] |= 0x40; /* 127 significant bits, so the hex is always 32 chars */
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL)
		return (MGR_ENOMEM);
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	if (!ok)
		return (MGR_ENOMEM);
	ca_serial_hex(X509_get_serialNumber(x), serial_hex);
	return (MGR_OK);
}

/* The digest of signatures: the fetched SHA-256 for a key of this process,
 * the built-in one for a token's key (its engine takes legacy methods). */
static const EVP_MD *
sign_md(const struct ca_state *ca)
{
	return (ca->token != NULL ? EVP_sha256() : ca->sha256);
}

int
ca_key_sign_x509(struct ca_state *ca, X509 *x)
{
	int ok;

	if (ca->token == NULL)
		return (X509_sign(x, ca->key, sign_md(ca)) > 0);
	pthread_mutex_lock(&ca->token_lock);
	ok = X509_sign(x, ca->key, sign_md(ca)) > 0;
	pthread_mutex_unlock(&ca->token_lock);
	return (ok);
}

int
ca_key_sign_crl(struct ca_state *ca, X509_CRL *crl)
{
	int ok;

	if (ca->token == NULL)
		return (X509_CRL_sign(crl, ca->key, sign_md(ca)) > 0);
	pthread_mutex_lock(&ca->token_lock);
	ok = X509_CRL_sign(crl, ca->key, sign_md(ca)) > 0;
	pthread_mutex_unlock(&ca->token_lock);
	return (ok);
}

int
ca_key_sign_ocsp(struct ca_state *ca, OCSP_BASICRESP *bs)
{
	unsigned long flags = OCSP_NOCERTS | OCSP_RESPID_KEY;
	int ok;

	if (ca->token == NULL)
		return (OCSP_basic_sign(bs, ca->cert, ca->key, sign_md(ca), NULL,
		            flags) == 1);
	pthread_mutex_lock(&ca->token_lock);
	ok = OCSP_basic_sign(bs, ca->cert, ca->key, sign_md(ca), NULL, flags) == 1;
	pthread_mutex_unlock(&ca->token_lock);
	return (ok);
}

/* A new self-signed CA certificate for key (pub its public half). */
static mgr_err
make_ca_cert(EVP_PKEY *key, EVP_PKEY *pub, const EVP_MD *md, X509 **out)
{
	X509 *x = X509_new();
	X509_NAME *n = NULL;
	char serial[64], cn[64], rnd[9];
	mgr_err rv = MGR_EINTERNAL;
	int64_t now = mgr_now_s();

	if (x == NULL || mgr_random_hex(4, rnd, sizeof(rnd)) != MGR_OK)
		goto out;
	snprintf(cn, sizeof(cn), "Manager CA %s", rnd);
	if (X509_set_version(x, 2) != 1 || random_serial(x, serial) != MGR_OK)
		goto out;
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
	    (const unsigned char *)"Manager", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
	    -1, 0);
	X509_set_issuer_name(x, n);
	X509_time_adj_ex(X509_getm_notBefore(x), 0, -300, NULL);
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(now + CA_VALIDITY_S));
	X509_set_pubkey(x, pub);
	if (!add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    !add_ext(x, x, NID_key_usage,
	        "critical,keyCertSign,cRLSign,digitalSignature") ||
	    !add_ext(x, x, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, x, NID_authority_key_identifier, "keyid:always"))
		goto out;
	if (X509_sign(x, key, md) <= 0)
		goto out;
	*out = x;
	x = NULL;
	rv = MGR_OK;
out:
	if (rv != MGR_OK)
		ssl_log("creating the CA certificate");
	X509_free(x);
	return (rv);
}

static mgr_err
write_file(const char *path, mode_t mode, const char *data, size_t len)
{
	char tmp[MGR_PATH_MAX + 8];
	int fd;
	ssize_t w;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode)) < 0)
		return (MGR_EINTERNAL);
	fchmod(fd, mode);
	w = write(fd, data, len);
	if (w != (ssize_t)len || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return (MGR_EINTERNAL);
	}
	close(fd);
	if (rename(tmp, path) != 0)
		return (MGR_EINTERNAL);
	return (MGR_OK);
}

static mgr_err
create_ca(const struct mgr_config *cfg, const char *keypath, const char *certpath)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	BIO *b = NULL;
	char *data, *pem = NULL;
	long n;
	mgr_err rv = MGR_EINTERNAL;

	if ((key = gen_key(cfg->ca_key_type)) == NULL) {
		ssl_log("generating the CA key");
		goto out;
	}
	if (make_ca_cert(key, key, EVP_sha256(), &x) != MGR_OK)
		goto out;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (n = BIO_get_mem_data(b, &data)) <= 0)
		goto out;
	if (write_file(keypath, 0600, data, (size_t)n) != MGR_OK)
		goto out;
	OPENSSL_cleanse(data, (size_t)n);
	if ((pem = ca_x509_pem(x)) == NULL ||
	    write_file(certpath, 0644, pem, strlen(pem)) != MGR_OK)
		goto out;
	log_info(NULL, "created a new %s Manager CA", cfg->ca_key_type);
	rv = MGR_OK;
out:
	free(pem);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(key);
	return (rv);
}

/* The token's CA certificate: MANAGER_CA_CERT_FILE, else certpath, made
 * on first start for the token's key (under the lock of ca_open). */
static mgr_err
token_cert(struct ca_state *ca, const char *certpath)
{
	X509 *x = NULL;
	char *pem = NULL;
	mgr_err rv = MGR_EINTERNAL;

	if (*ca->cfg->ca_cert_file != '\0' || access(certpath, F_OK) == 0)
		return (MGR_OK);
	pthread_mutex_lock(&ca->token_lock);
	rv = make_ca_cert(ca->key, ca->pub, EVP_sha256(), &x);
	pthread_mutex_unlock(&ca->token_lock);
	if (rv != MGR_OK)
		goto out;
	rv = MGR_EINTERNAL;
	if ((pem = ca_x509_pem(x)) == NULL ||
	    write_file(certpath, 0644, pem, strlen(pem)) != MGR_OK)
		goto out;
	log_info(NULL, "created a new Manager CA certificate for the PKCS#11 key");
	rv = MGR_OK;
out:
	free(pem);
	X509_free(x);
	return (rv);
}

mgr_err
ca_open(const struct mgr_config *cfg, struct ca_state **out)
{
	char dir[MGR_PATH_MAX], keypath[MGR_PATH_MAX + 16], certpath[MGR_PATH_MAX + 16];
	char lockpath[MGR_PATH_MAX + 16];
	struct ca_state *ca = NULL;
	FILE *f = NULL;
	int lockfd = -1, token = *cfg->ca_key_uri != '\0';
	mgr_err rv = MGR_EINTERNAL;

	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return (MGR_ENOMEM);
	ca->cfg = cfg;
	pthread_mutex_init(&ca->token_lock, NULL);
	if (*cfg->ca_key_file != '\0' || (token && *cfg->ca_cert_file != '\0')) {
		snprintf(keypath, sizeof(keypath), "%s", cfg->ca_key_file);
		snprintf(certpath, sizeof(certpath), "%s", cfg->ca_cert_file);
	} else {
		mgr_config_path(cfg, "ca", dir, sizeof(dir));
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			goto out;
		snprintf(keypath, sizeof(keypath), "%s/ca.key", dir);
		snprintf(certpath, sizeof(certpath), "%s/%s", dir,
		    token ? "ca-token.pem" : "ca.pem");
		snprintf(lockpath, sizeof(lockpath), "%s/.lock", dir);
		/* Replicas sharing a data dir: one creates, the others load it. */
		if ((lockfd = open(lockpath, O_RDWR | O_CREAT, 0600)) < 0 ||
		    flock(lockfd, LOCK_EX) != 0)
			goto out;
		if (!token && access(keypath, F_OK) != 0 &&
		    (rv = create_ca(cfg, keypath, certpath)) != MGR_OK)
			goto out;
		rv = MGR_EINTERNAL;
	}
	if (token) {
		if (ca_token_open(cfg->ca_pkcs11_module, cfg->ca_key_uri, &ca->token,
		        &ca->key, &ca->pub) != MGR_OK)
			goto out;
		if (token_cert(ca, certpath) != MGR_OK)
			goto out;
	} else if ((f = fopen(keypath, "r")) == NULL ||
	    (ca->key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL) {
		log_error(NULL, "cannot read the CA key %s", keypath);
		goto out;
	}
	if (f != NULL)
		fclose(f);
	if ((f = fopen(certpath, "r")) == NULL ||
	    (ca->cert = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
		log_error(NULL, "cannot read the CA certificate %s", certpath);
		goto out;
	}
	fclose(f);
	f = NULL;
	if (token ? EVP_PKEY_eq(X509_get0_pubkey(ca->cert), ca->pub) != 1
	          : X509_check_private_key(ca->cert, ca->key) != 1) {
		log_error(NULL, "the CA key does not match the CA certificate");
		goto out;
	}
	ca->cert_pem = ca_x509_pem(ca->cert);
	ca->cert_der_len = i2d_X509(ca->cert, &ca->cert_der);
	ca->not_after = ca_asn1_time(X509_get0_notAfter(ca->cert));
	if (ca->cert_pem == NULL || ca->cert_der_len <= 0 ||
	    (ca->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    ca_ext_init(&ca->ext, ca->cert, cfg->public_url) != MGR_OK)
		goto out;
	if (token)
		log_info(NULL, "the CA key is in a PKCS#11 token");
	*out = ca;
	ca = NULL;
	rv = MGR_OK;
out:
	ERR_clear_error();
	if (f != NULL)
		fclose(f);
	if (lockfd >= 0)
		close(lockfd);
	ca_close(ca);
	return (rv);
}

void
ca_close(struct ca_state *ca)
{
	if (ca == NULL)
		return;
	EVP_PKEY_free(ca->key);
	EVP_PKEY_free(ca->pub);
	ca_token_close(ca->token);
	pthread_mutex_destroy(&ca->token_lock);
	EVP_MD_free(ca->sha256);
	ca_ext_clear(&ca->ext);
	X509_free(ca->cert);
	free(ca->cert_pem);
	OPENSSL_free(ca->cert_der);
	free(ca);
}

static int
add_sans(X509 *x, const struct ca_sign_args *a)
{
	char buf[2048];
	size_t n = 0;

	buf[0] = '\0';
	for (const char *const *d = a->dns; d != NULL && *d != NULL; d++)
		n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0,
		    "%sDNS:%s", n ? "," : "", *d);
	for (const char *const *i = a->ips; i != NULL && *i != NULL; i++)
		n += (size_t)snprintf(buf + n, n < sizeof(buf) ? sizeof(buf) - n : 0,
		    "%sIP:%s", n ? "," : "", *i);
	if (n == 0)
		return (1);
	if (n >= sizeof(buf))
		return (0);
	return (add_ext(x, NULL, NID_subject_alt_name, buf));
}

/* Copies src (algorithm, parameters, key bits) into x's public key: plain
 * ASN.1, no OpenSSL 3.0 encoder. 0 when a parameter type is not one a
 * public key uses (the caller then encodes the EVP_PKEY). */
static int
copy_spki(X509 *x, const X509_PUBKEY *src)
{
	X509_PUBKEY *dst = X509_get_X509_PUBKEY(x);
	ASN1_OBJECT *alg = NULL, *kobj;
	const ASN1_OBJECT *aobj;
	const unsigned char *pk;
	const void *pval;
	X509_ALGOR *a;
	void *pdup = NULL;
	unsigned char *penc = NULL;
	int ptype = V_ASN1_UNDEF, pklen, ok = 0;

	if (dst == NULL || X509_PUBKEY_get0_param(&kobj, &pk, &pklen, &a, src) != 1 ||
	    a == NULL)
		goto out;
	X509_ALGOR_get0(&aobj, &ptype, &pval, a);
	if ((ptype == V_ASN1_OBJECT && (pdup = OBJ_dup(pval)) == NULL) ||
	    (ptype == V_ASN1_SEQUENCE && (pdup = ASN1_STRING_dup(pval)) == NULL) ||
	    (ptype != V_ASN1_OBJECT && ptype != V_ASN1_SEQUENCE && ptype != V_ASN1_NULL &&
	        ptype != V_ASN1_UNDEF))
		goto out;
	if ((alg = OBJ_dup(aobj)) == NULL ||
	    (penc = OPENSSL_memdup(pk, pklen > 0 ? (size_t)pklen : 1)) == NULL ||
	    X509_PUBKEY_set0_param(dst, alg, ptype, pdup, penc, pklen) != 1)
		goto out;
	ok = 1;
out:
	if (!ok) {
		ASN1_OBJECT_free(alg);
		OPENSSL_free(penc);
		if (ptype == V_ASN1_OBJECT)
			ASN1_OBJECT_free(pdup);
		else
			ASN1_STRING_free(pdup);
	}
	return (ok);
}

mgr_err
ca_sign(struct ca_state *ca, const struct ca_sign_args *a, X509 **out,
    char serial_hex[64])
{
	X509 *x = X509_new();
	mgr_err rv = MGR_EINTERNAL;

	if (x == NULL)
		return (MGR_ENOMEM);
	if (X509_set_version(x, 2) != 1 || random_serial(x, serial_hex) != MGR_OK ||
	    X509_set_subject_name(x, a->subject) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
	    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)a->not_before) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)a->not_after) == NULL ||
	    ((a->spki == NULL || !copy_spki(x, a->spki)) &&
	        (a->pubkey == NULL || X509_set_pubkey(x, a->pubkey) != 1)))
		goto out;
	if (!ca_ext_add(&ca->ext, x, (int)a->profile) || !add_sans(x, a))
		goto out;
	if (!ca_key_sign_x509(ca, x))
		goto out;
	*out = x;
	x = NULL;
	rv = MGR_OK;
out:
	if (rv != MGR_OK)
		ssl_log("signing a certificate");
	X509_free(x);
	return (rv);
}
