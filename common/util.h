/* Small helpers every process needs: numbers, time, ids, hashes. */
#ifndef MGR_COMMON_UTIL_H
#define MGR_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "common/err.h"

#define MGR_ID_MAX 64
#define MGR_TIME_MAX 32 /* "2027-11-27T13:00:00Z" plus NUL */

/* The decimal parsers: a whole C string (strtoll's signs and range), and
 * exactly the n digits at s (no sign, no space), at most max. */
mgr_err mgr_parse_i64(const char *s, int64_t *out);
mgr_err mgr_parse_digits(const char *s, size_t n, uint64_t max, uint64_t *out);
int64_t mgr_now_ms(void);
int64_t mgr_now_s(void);
/* Unix seconds to RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ". */
void mgr_time_format(int64_t t, char out[MGR_TIME_MAX]);
/* RFC 3339 (Z or ±hh:mm offset, optional fraction) or plain YYYY-MM-DD. */
mgr_err mgr_time_parse(const char *s, int64_t *out);
/* Hex: a digit's value (either case) or -1; n bytes as 2*n lowercase
 * digits and a NUL; 2*n digits (either case) into n bytes (1, or 0 when one
 * is no hex digit). */
int mgr_hex_digit(int c);
void mgr_hex_encode(const void *data, size_t n, char *out);
int mgr_hex_decode(const char *s, size_t n, void *out);
/* Cryptographically random bytes as lowercase hex (2*n chars + NUL). */
mgr_err mgr_random_hex(size_t nbytes, char *out, size_t outlen);
/* A new opaque id "<prefix>_<26 base32 chars>" (128 random bits). */
mgr_err mgr_new_id(const char *prefix, char *out, size_t outlen);
void mgr_sha256_hex(const void *data, size_t len, char out[65]);
/* Constant-time equality of two byte strings of possibly different length. */
int mgr_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
