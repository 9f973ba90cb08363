/* ca-svc's certificate records of accounts in Redis: every read and every
 * atomic change (register, renew, rotate with its revocations), nothing
 * else. The changes are Lua scripts that refuse with redis.error_reply
 * (common/kv.h: UNAUTH, CONFLICT, INVALID) and record their reply for
 * replays (common/replay.h): a change whose record exists commits nothing
 * and sets rp->hit. */
#ifndef MGR_CA_STORE_H
#define MGR_CA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/replay.h"
#include "services/ca/issue.h"

/* Serials (revoked by a rotation); ptrs for a protobuf repeated field. */
struct ca_serials {
	char (*s)[64];
	char **ptrs;
	size_t n;
};
void ca_serials_free(struct ca_serials *s);

/* MGR_ECONFLICT when dn_key is held by another than holder ("acct:<id>").
 * Checked again inside the scripts; this only spares a signature. */
mgr_err ca_store_dn_free(const char *dn_key, const char *holder);
/* MGR_OK when acct:{id} exists, MGR_ENOTFOUND when not. */
mgr_err ca_store_account_exists(const char *account_id);

/* The first certificate of a pending account, which becomes active; the
 * one-time credentials (of cred_version) are consumed. MGR_EUNAUTH: no such
 * account, not pending, credentials changed; MGR_ECONFLICT: the DN is
 * another's. */
mgr_err ca_store_register(const struct ca_issued *iss, const char *account_id,
    uint64_t cred_version, struct replay *rp);

/* iss renews prev_serial, if that is still valid at now and last is still
 * the account's last issued serial (*committed 1); else nothing changes
 * (*committed 0: look again). MGR_EUNAUTH: the account is not active. */
mgr_err ca_store_renew(const struct ca_issued *iss, const char *account_id,
    const char *prev_serial, int64_t now, const char *last, struct replay *rp,
    int *committed);

/* iss for a new key, revoking revoke[] (has_revoke) or else every valid
 * certificate of the account; *revoked the serials revoked now (free with
 * ca_serials_free). MGR_EINVAL: the key is known or a serial not the
 * account's; MGR_EUNAUTH, MGR_ECONFLICT as above. */
mgr_err ca_store_rotate(const struct ca_issued *iss, const char *account_id, int64_t now,
    int has_revoke, char **revoke, size_t nrevoke, struct replay *rp,
    struct ca_serials *revoked);

/* The rotation's pre-checks against what is stored (the script checks them
 * again atomically; these give the precise reason in why and spare a
 * signature): the key must be new, the serials to revoke the account's. */
mgr_err ca_store_rotate_precheck(const char *account_id, const char *spki,
    char *const *revoke, size_t nrevoke, char *why, size_t whylen);

/* The newest valid certificate of an account (*n 0 if none) and the serial
 * issued last (for the renewal's check that nothing changed). */
mgr_err ca_store_newest_valid(const char *account_id, int64_t now, struct ca_record **rec,
    size_t *n, char *last, size_t lastlen);

/* One page of an account's records (common/page.h); *next is the cursor
 * ("" at the end, caller frees). MGR_EINVAL: a bad cursor. */
mgr_err ca_store_records_page(const char *account_id, const char *after, uint32_t limit,
    struct ca_record **out, size_t *n, char **next);

#endif
