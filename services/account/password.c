#include "services/account/password.h"

#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "common/util.h"

/* scrypt with OWASP's "N=2^14, r=8, p=5" (16 MiB, a few tens of ms). */
#define PW_SCRYPT_N 16384
#define PW_SCRYPT_R 8
#define PW_SCRYPT_P 5
#define PW_SALT_BYTES 16
#define PW_HASH_BYTES 32
#define PW_BYTES_MAX 64

/* At most pw_slots derivations at once: each scrypt one holds 128 * r * N
 * bytes (16 MiB), so the service's memory under a burst of logins is its
 * base plus pw_slots * 16 MiB, whatever the number of RPC workers; the others
 * wait their turn here. */
static pthread_mutex_t pw_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pw_cond = PTHREAD_COND_INITIALIZER;
static int pw_slots = ACCT_PW_SLOTS_DEFAULT;
static int pw_busy, pw_busy_max;
static unsigned long long pw_waited;

struct pw_spec {
	int scrypt;    /* else pbkdf2-sha256 */
	uint64_t n;    /* scrypt N */
	uint32_t r, p; /* scrypt r, p */
	uint32_t iter; /* pbkdf2 iterations */
	unsigned char salt[PW_BYTES_MAX];
	size_t salt_len;
	unsigned char hash[PW_BYTES_MAX];
	size_t hash_len;
};

static mgr_err
pw_derive(const char *password, const struct pw_spec *s, unsigned char *out,
    size_t outlen)
{
	OSSL_PARAM params[6], *p = params;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	uint64_t n = s->n;
	uint32_t r = s->r, par = s->p, iter = s->iter;
	mgr_err rv = MGR_EINTERNAL;

	pthread_mutex_lock(&pw_lock);
	if (pw_busy >= pw_slots)
		pw_waited++;
	while (pw_busy >= pw_slots)
		pthread_cond_wait(&pw_cond, &pw_lock);
	if (++pw_busy > pw_busy_max)
		pw_busy_max = pw_busy;
	pthread_mutex_unlock(&pw_lock);
	kdf = EVP_KDF_fetch(NULL, s->scrypt ? "SCRYPT" : "PBKDF2", NULL);
	if (kdf == NULL || (ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
	    (void *)password, strlen(password));
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)s->salt,
	    s->salt_len);
	if (s->scrypt) {
		*p++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
		*p++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
		*p++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &par);
	} else {
		*p++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_ITER, &iter);
		*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
		    (char *)"SHA256", 0);
	}
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, outlen, params) != 1)
		goto out;
	rv = MGR_OK;
out:
	ERR_clear_error();
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	pthread_mutex_lock(&pw_lock);
	pw_busy--;
	pthread_cond_signal(&pw_cond);
	pthread_mutex_unlock(&pw_lock);
	return (rv);
}

void
acct_pw_set_slots(int slots)
{
	/* glibc raises its mmap threshold to the size of a freed mmap'd block
	 * (up to 32 MiB): after the first hash the 16 MiB blocks would come
	 * from the worker threads' arenas and stay resident there, one per
	 * arena, beyond what the slots allow. A fixed threshold keeps every
	 * block an mmap of its own, returned to the system when freed. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	pthread_mutex_lock(&pw_lock);
	pw_slots = slots < 1 ? 1 : slots;
	pthread_cond_broadcast(&pw_cond);
	pthread_mutex_unlock(&pw_lock);
}

void
acct_pw_stats(struct acct_pw_stats *out)
{
	pthread_mutex_lock(&pw_lock);
	out->slots = pw_slots;
	out->busy = pw_busy;
	out->busy_max = pw_busy_max;
	out->waited = pw_waited;
	pthread_mutex_unlock(&pw_lock);
}

/* Hex field [s, e) into out; min..PW_BYTES_MAX bytes. */
static mgr_err
pw_unhex(const char *s, const char *e, size_t min, unsigned char *out, size_t *outlen)
{
	size_t n = (size_t)(e - s);

	if (n % 2 != 0 || n / 2 < min || n / 2 > PW_BYTES_MAX)
		return (MGR_EINVAL);
	if (!mgr_hex_decode(s, n / 2, out))
		return (MGR_EINVAL);
	*outlen = n / 2;
	return (MGR_OK);
}

/* A decimal field [s, e) within [lo, hi]. */
static mgr_err
pw_num(const char *s, const char *e, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v;

	if (s == e || e - s > 10 ||
	    mgr_parse_digits(s, (size_t)(e - s), hi, &v) != MGR_OK || v < lo)
		return (MGR_EINVAL);
	*out = v;
	return (MGR_OK);
}

static mgr_err
pw_parse(const char *stored, struct pw_spec *out)
{
	const char *f[7];
	struct pw_spec s;
	uint64_t v;
	int nf = 0;

	memset(&s, 0, sizeof(s));
	if (strlen(stored) >= ACCT_PWHASH_MAX)
		return (MGR_EINVAL);
	f[nf++] = stored;
	for (const char *c = stored; *c != '\0'; c++) {
		if (*c == '$') {
			if (nf == 6)
				return (MGR_EINVAL);
			f[nf++] = c + 1;
		}
	}
	f[nf] = stored + strlen(stored) + 1; /* fields end one before f[i+1] */
	if (nf == 6 && strncmp(stored, "scrypt$", 7) == 0) {
		s.scrypt = 1;
		if (pw_num(f[1], f[2] - 1, 2, 1u << 20, &s.n) != MGR_OK ||
		    (s.n & (s.n - 1)) != 0 || pw_num(f[2], f[3] - 1, 1, 32, &v) != MGR_OK)
			return (MGR_EINVAL);
		s.r = (uint32_t)v;
		if (pw_num(f[3], f[4] - 1, 1, 16, &v) != MGR_OK)
			return (MGR_EINVAL);
		s.p = (uint32_t)v;
		if (pw_unhex(f[4], f[5] - 1, 4, s.salt, &s.salt_len) != MGR_OK ||
		    pw_unhex(f[5], f[6] - 1, 16, s.hash, &s.hash_len) != MGR_OK)
			return (MGR_EINVAL);
	} else if (nf == 4 && strncmp(stored, "pbkdf2-sha256$", 14) == 0) {
		if (pw_num(f[1], f[2] - 1, 1000, 10000000, &v) != MGR_OK)
			return (MGR_EINVAL);
		s.iter = (uint32_t)v;
		if (pw_unhex(f[2], f[3] - 1, 4, s.salt, &s.salt_len) != MGR_OK ||
		    pw_unhex(f[3], f[4] - 1, 16, s.hash, &s.hash_len) != MGR_OK)
			return (MGR_EINVAL);
	} else {
		return (MGR_EINVAL);
	}
	*out = s;
	return (MGR_OK);
}

mgr_err
acct_pw_hash(const char *password, char *out, size_t outlen)
{
	struct pw_spec s;
	unsigned char h[PW_HASH_BYTES];
	char salt_hex[2 * PW_SALT_BYTES + 1], hash_hex[2 * PW_HASH_BYTES + 1];
	int n;
	mgr_err rv;

	memset(&s, 0, sizeof(s));
	s.scrypt = 1;
	s.n = PW_SCRYPT_N;
	s.r = PW_SCRYPT_R;
	s.p = PW_SCRYPT_P;
	s.salt_len = PW_SALT_BYTES;
	if (RAND_bytes(s.salt, PW_SALT_BYTES) != 1)
		return (MGR_EINTERNAL);
	if ((rv = pw_derive(password, &s, h, sizeof(h))) != MGR_OK)
		return (rv);
	mgr_hex_encode(s.salt, PW_SALT_BYTES, salt_hex);
	mgr_hex_encode(h, sizeof(h), hash_hex);
	OPENSSL_cleanse(h, sizeof(h));
	n = snprintf(out, outlen, "scrypt$%d$%d$%d$%s$%s", PW_SCRYPT_N, PW_SCRYPT_R,
	    PW_SCRYPT_P, salt_hex, hash_hex);
	if (n < 0 || (size_t)n >= outlen)
		return (MGR_ETOOBIG);
	return (MGR_OK);
}

mgr_err
acct_pw_verify(const char *password, const char *stored)
{
	struct pw_spec s;
	unsigned char h[PW_BYTES_MAX];
	mgr_err rv;

	if (pw_parse(stored, &s) != MGR_OK)
		return (MGR_EINVAL);
	if ((rv = pw_derive(password, &s, h, s.hash_len)) != MGR_OK)
		return (rv);
	rv = CRYPTO_memcmp(h, s.hash, s.hash_len) == 0 ? MGR_OK : MGR_EUNAUTH;
	OPENSSL_cleanse(h, sizeof(h));
	return (rv);
}

void
acct_pw_dummy(const char *password)
{
	struct pw_spec s;
	unsigned char h[PW_HASH_BYTES];

	memset(&s, 0, sizeof(s));
	s.scrypt = 1;
	s.n = PW_SCRYPT_N;
	s.r = PW_SCRYPT_R;
	s.p = PW_SCRYPT_P;
	s.salt_len = PW_SALT_BYTES;
	(void)pw_derive(password, &s, h, sizeof(h));
	OPENSSL_cleanse(h, sizeof(h));
}

int
acct_pw_acceptable(const char *password)
{
	const unsigned char *p = (const unsigned char *)password;
	size_t chars = 0;

	/* The gateway hands over valid UTF-8 (jansson checks it); count the
	 * code points, i.e. the bytes that do not continue a sequence. */
	for (; *p != '\0'; p++)
		if ((*p & 0xc0) != 0x80)
			chars++;
	return (chars >= ACCT_PW_MIN_CHARS && chars <= ACCT_PW_MAX_CHARS);
}
