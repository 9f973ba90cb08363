/* Password hashing for administrators and one-time credentials.
 * A stored hash is one string carrying algorithm, parameters, salt and hash:
 *   scrypt$<N>$<r>$<p>$<salt hex>$<hash hex>        (what acct_pw_hash makes)
 *   pbkdf2-sha256$<iterations>$<salt hex>$<hash hex> (also verified)
 * Comparison is constant-time. */
#ifndef MGR_ACCOUNT_PASSWORD_H
#define MGR_ACCOUNT_PASSWORD_H

#include <stddef.h>
#include "common/err.h"

#define ACCT_PWHASH_MAX 320
#define ACCT_PW_MIN_CHARS 12 /* API.md: temporary passwords 12..128 chars */
#define ACCT_PW_MAX_CHARS 128

/* Derivations at once unless acct_pw_set_slots says otherwise
 * (MANAGER_PW_HASH_SLOTS): 4 x 16 MiB. */
#define ACCT_PW_SLOTS_DEFAULT 4

/* Bounds the derivations running at once (the others wait); call before
 * serving. Also fixes malloc's mmap threshold (see password.c). */
void acct_pw_set_slots(int slots);

struct acct_pw_stats {
	int slots;                 /* derivations allowed at once */
	int busy;                  /* running now */
	int busy_max;              /* the most seen running at once */
	unsigned long long waited; /* derivations that waited for a slot */
};
void acct_pw_stats(struct acct_pw_stats *out);

/* A fresh random salt and the slow hash of password, written to out. */
mgr_err acct_pw_hash(const char *password, char *out, size_t outlen);

/* MGR_OK when password matches stored, MGR_EUNAUTH when it does not,
 * MGR_EINVAL when stored is not a hash this code understands. */
mgr_err acct_pw_verify(const char *password, const char *stored);

/* Costs what a verification against a fresh acct_pw_hash result costs; for
 * unknown user names, so that timing does not tell which names exist. */
void acct_pw_dummy(const char *password);

/* 1 when password is valid UTF-8 of ACCT_PW_MIN_CHARS..ACCT_PW_MAX_CHARS
 * characters (code points), else 0. */
int acct_pw_acceptable(const char *password);

#endif
