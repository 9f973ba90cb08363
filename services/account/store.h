/* account-svc's keys in Redis (common/keys.h: acct:*, admin:*, lockout:*):
 * every read and every atomic change of an account, nothing else. Changes
 * are Lua scripts that refuse with redis.error_reply (common/kv.h) and
 * record their reply for replays (common/replay.h): a change whose record
 * exists commits nothing and sets rp->hit. */
#ifndef MGR_ACCOUNT_STORE_H
#define MGR_ACCOUNT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/replay.h"
#include "common/util.h"
#include "services/account/password.h"
#include "services/account/account.h"

struct acct_rec {
	char id[MGR_ID_MAX + 1];
	char name[ACCT_NAME_MAX + 1];
	char role[32];
	char state[32];
	char username[ACCT_USER_MAX + 1];
	int64_t created_at;
	int64_t registered_at;
};

/* The account id (MGR_ENOTFOUND when there is none, or id is not one of
 * ours). The user name is "" once registered. */
mgr_err acct_store_load(const char *id, struct acct_rec *out);

/* One page of acct:all (common/page.h) into *out (n records, free() it) and
 * the next cursor ("" after the last page). MGR_EINVAL: a bad cursor. */
mgr_err acct_store_list(const char *after, uint32_t limit, struct acct_rec **out,
    size_t *n, char *next, size_t nextlen);

/* a (id, name, role, username, created_at) with its password hash, pending
 * registration. MGR_ECONFLICT with kv_refusal() "name" or "username". */
mgr_err acct_store_create(const struct acct_rec *a, const char *pwhash,
    int64_t created_ms, struct replay *rp);

/* A never-registered account's one-time password. MGR_ENOTFOUND,
 * MGR_ECONFLICT (registered). */
mgr_err acct_store_set_password(const char *id, const char *pwhash, struct replay *rp);

/* *same: the name was that already (nothing changed). MGR_ENOTFOUND,
 * MGR_ECONFLICT (the name is another account's). */
mgr_err acct_store_rename(const char *id, const char *name, struct replay *rp, int *same);

/* verb "disable" or "enable", with the auth-cache drop and the account's
 * event at time ts in the same step; *same: already in that state.
 * MGR_ENOTFOUND. */
mgr_err acct_store_transition(const char *id, const char *verb, const char *ts,
    struct replay *rp, int *same);

/* A never-registered account and its names and events. MGR_ENOTFOUND,
 * MGR_ECONFLICT (registered). */
mgr_err acct_store_delete(const char *id, struct replay *rp);

/* Logins (account.AuthBasic; auth.c has the design): what a user name's
 * password is checked against, and its two counts, per source address
 * (lockout:<admin|temp>:<user>@<source>) and per user name
 * (lockout:<admin|temp>:<user>), with the addresses it logged in from
 * (login:known:<kind>:<user>). */
#define ACCT_LOGIN_KEY_MAX 320
#define ACCT_LOGIN_SOURCE_MAX 64
enum { ACCT_LOGIN_LOCKED_ADDRESS = 1, ACCT_LOGIN_LOCKED_GLOBAL = 2 };
struct acct_login {
	int locked;                   /* ACCT_LOGIN_LOCKED_*: refuse unchecked */
	int found;                    /* the user name exists */
	char id[MGR_ID_MAX + 1];      /* temp: the account; admin: the user name */
	char state[32];               /* temp: its state; admin: "active" */
	char pwhash[ACCT_PWHASH_MAX]; /* cleanse after use */
	uint64_t cred_version;        /* temp: the credentials' version */
	char role[32];                /* admin: its role */
};
/* Reads, counting nothing. */
mgr_err acct_store_login(const char *username, int temp, const char *source,
    const struct acct_state *st, struct acct_login *out);
/* Takes the attempt's slot in both counts in the step that checks the locks
 * (*locked: ACCT_LOGIN_LOCKED_* that holds now, nothing taken; else 0). */
mgr_err acct_store_login_reserve(const char *username, int temp, const char *source,
    const struct acct_state *st, int *locked);
/* A failure: a count at its limit restarts its life; *na, *ng the counts. */
mgr_err acct_store_login_failed(const char *username, int temp, const char *source,
    const struct acct_state *st, long long *na, long long *ng);
/* A success: the address's count goes, the global one gives back the slot
 * when reserved, the address is remembered (administrators). */
mgr_err acct_store_login_ok(const char *username, int temp, const char *source,
    int reserved);

#endif
