/* x-amz-checksum-* and Content-MD5 (gateway/s3/wire.h): CRC32 from zlib,
 * SHA-1 and SHA-256 from OpenSSL; CRC32C (Castagnoli), which neither has,
 * with the usual byte-wise table. */
#include "gateway/s3/wire.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <zlib.h>

static uint32_t crc32c_table[256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void
crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc32c_table[i] = c;
	}
}

uint32_t
s3_crc32c(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	pthread_once(&crc32c_once, crc32c_init);
	crc = ~crc;
	while (len-- > 0)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return (~crc);
}

static const struct {
	const char *name; /* x-amz-checksum-algorithm */
	const char *header;
} sum_names[S3_SUM_COUNT] = {
    [S3_SUM_CRC32] = {"CRC32", "x-amz-checksum-crc32"},
    [S3_SUM_CRC32C] = {"CRC32C", "x-amz-checksum-crc32c"},
    [S3_SUM_SHA1] = {"SHA1", "x-amz-checksum-sha1"},
    [S3_SUM_SHA256] = {"SHA256", "x-amz-checksum-sha256"},
};

enum s3_sum_alg
s3_sum_alg_of(const char *name)
{
	if (name == NULL)
		return (S3_SUM_NONE);
	for (int a = S3_SUM_CRC32; a < S3_SUM_COUNT; a++)
		if (strcasecmp(name, sum_names[a].name) == 0 ||
		    strcasecmp(name, sum_names[a].header) == 0)
			return ((enum s3_sum_alg)a);
	return (S3_SUM_NONE);
}

const char *
s3_sum_header(enum s3_sum_alg alg)
{
	return (alg > S3_SUM_NONE && alg < S3_SUM_COUNT ? sum_names[alg].header : "");
}

const char *
s3_sum_name(enum s3_sum_alg alg)
{
	return (alg > S3_SUM_NONE && alg < S3_SUM_COUNT ? sum_names[alg].name : "");
}

mgr_err
s3_sum_init(struct s3_sum *s, enum s3_sum_alg alg)
{
	memset(s, 0, sizeof(*s));
	s->alg = alg;
	if (alg == S3_SUM_SHA1 || alg == S3_SUM_SHA256) {
		if ((s->md = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestInit_ex(s->md,
		        alg == S3_SUM_SHA1 ? EVP_sha1() : EVP_sha256(), NULL) != 1) {
			EVP_MD_CTX_free(s->md);
			s->md = NULL;
			return (MGR_ENOMEM);
		}
	} else if (alg != S3_SUM_CRC32 && alg != S3_SUM_CRC32C) {
		return (MGR_EINVAL);
	}
	return (MGR_OK);
}

mgr_err
s3_sum_update(struct s3_sum *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	switch (s->alg) {
	case S3_SUM_CRC32:
		/* zlib takes uInt lengths. */
		while (len > 0) {
			uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

			s->crc = (uint32_t)crc32(s->crc, p, n);
			p += n;
			len -= n;
		}
		return (MGR_OK);
	case S3_SUM_CRC32C:
		s->crc = s3_crc32c(s->crc, p, len);
		return (MGR_OK);
	case S3_SUM_SHA1:
	case S3_SUM_SHA256:
		return (EVP_DigestUpdate(s->md, p, len) == 1 ? MGR_OK : MGR_EINTERNAL);
	default:
		return (MGR_EINVAL);
	}
}

mgr_err
s3_sum_final(struct s3_sum *s, char out[S3_SUM_B64_MAX])
{
	unsigned char raw[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (s->alg == S3_SUM_CRC32 || s->alg == S3_SUM_CRC32C) {
		raw[0] = (unsigned char)(s->crc >> 24);
		raw[1] = (unsigned char)(s->crc >> 16);
		raw[2] = (unsigned char)(s->crc >> 8);
		raw[3] = (unsigned char)s->crc;
		n = 4;
	} else if (s->md != NULL) {
		if (EVP_DigestFinal_ex(s->md, raw, &n) != 1)
			return (MGR_EINTERNAL);
	} else {
		return (MGR_EINVAL);
	}
	EVP_EncodeBlock((unsigned char *)out, raw, (int)n);
	return (MGR_OK);
}

void
s3_sum_free(struct s3_sum *s)
{
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
}

int
s3_content_md5(const char *b64, unsigned char md5[16])
{
	unsigned char dec[24];
	size_t n;

	if (b64 == NULL || (n = strlen(b64)) != 24 || b64[22] != '=' || b64[23] != '=')
		return (0);
	if (EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)n) != 18)
		return (0);
	memcpy(md5, dec, 16);
	return (1);
}
