#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

mgr_err
mgr_parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return (MGR_EINVAL);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return (MGR_EINVAL);
	*out = v;
	return (MGR_OK);
}

mgr_err
mgr_parse_digits(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return (MGR_EINVAL);
	for (size_t i = 0; i < n; i++) {
		uint64_t d;

		if (s[i] < '0' || s[i] > '9')
			return (MGR_EINVAL);
		d = (uint64_t)(s[i] - '0');
		if (d > max || v > (max - d) / 10)
			return (MGR_EINVAL);
		v = v * 10 + d;
	}
	*out = v;
	return (MGR_OK);
}

int64_t
mgr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
mgr_now_s(void)
{
	return ((int64_t)time(NULL));
}

void
mgr_time_format(int64_t t, char out[MGR_TIME_MAX])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, MGR_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
digits(const char *s, int n, int *out)
{
	uint64_t v;

	if (mgr_parse_digits(s, (size_t)n, 999999999, &v) != MGR_OK)
		return (-1);
	*out = (int)v;
	return (0);
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return (m == 2 && leap ? 29 : dm[m - 1]);
}

mgr_err
mgr_time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	size_t len;
	const char *p;
	struct tm tm;

	if (s == NULL)
		return (MGR_EINVAL);
	len = strlen(s);
	if (len < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d))
		return (MGR_EINVAL);
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo))
		return (MGR_EINVAL);
	if (len > 10) {
		if ((s[10] != 'T' && s[10] != 't') || len < 20 || digits(s + 11, 2, &h) ||
		    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
		    digits(s + 17, 2, &sec))
			return (MGR_EINVAL);
		if (h > 23 || mi > 59 || sec > 60)
			return (MGR_EINVAL);
		p = s + 19;
		if (*p == '.') {
			p++;
			if (!isdigit((unsigned char)*p))
				return (MGR_EINVAL);
			while (isdigit((unsigned char)*p))
				p++;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p == '+' ? 1 : -1;
			if (digits(p + 1, 2, &oh) || p[3] != ':' ||
			    digits(p + 4, 2, &om) || oh > 23 || om > 59)
				return (MGR_EINVAL);
			p += 6;
		} else {
			return (MGR_EINVAL);
		}
		if (*p != '\0')
			return (MGR_EINVAL);
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec == 60 ? 59 : sec;
	*out = (int64_t)timegm(&tm) - (int64_t)sign * (oh * 3600 + om * 60);
	return (MGR_OK);
}

int
mgr_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

void
mgr_hex_encode(const void *data, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *b = data;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int
mgr_hex_decode(const char *s, size_t n, void *out)
{
	unsigned char *b = out;

	for (size_t i = 0; i < n; i++) {
		int hi = mgr_hex_digit((unsigned char)s[2 * i]);
		int lo = hi < 0 ? -1 : mgr_hex_digit((unsigned char)s[2 * i + 1]);

		if (lo < 0)
			return (0);
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	return (1);
}

mgr_err
mgr_random_hex(size_t nbytes, char *out, size_t outlen)
{
	unsigned char buf[64];

	if (nbytes > sizeof(buf) || outlen < nbytes * 2 + 1)
		return (MGR_EINVAL);
	if (RAND_bytes(buf, (int)nbytes) != 1)
		return (MGR_EINTERNAL);
	mgr_hex_encode(buf, nbytes, out);
	return (MGR_OK);
}

mgr_err
mgr_new_id(const char *prefix, char *out, size_t outlen)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char buf[16];
	char body[27];
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;
	int w;

	if (RAND_bytes(buf, sizeof(buf)) != 1)
		return (MGR_EINTERNAL);
	for (size_t i = 0; i < sizeof(buf); i++) {
		acc = (acc << 8) | buf[i];
		bits += 8;
		while (bits >= 5) {
			body[n++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		body[n++] = b32[(acc << (5 - bits)) & 31];
	body[n] = '\0';
	w = snprintf(out, outlen, "%s_%s", prefix, body);
	return (w < 0 || (size_t)w >= outlen ? MGR_EINVAL : MGR_OK);
}

void
mgr_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];

	EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL);
	mgr_hex_encode(md, sizeof(md), out);
}

int
mgr_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	unsigned char da[32], db[32];

	/* Compare digests so that the time does not depend on where or whether
	 * the lengths differ. */
	EVP_Digest(a, alen, da, NULL, EVP_sha256(), NULL);
	EVP_Digest(b, blen, db, NULL, EVP_sha256(), NULL);
	return (CRYPTO_memcmp(da, db, 32) == 0 && alen == blen);
}
