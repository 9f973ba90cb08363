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
mgr_err acct_store_list(const char *after, uint32_t limit,
    struct acct_rec **out, size_t *n, char *next, size_t nextlen);

/* a (id, name, role, username, created_at) with its password hash, pending
 * registration. MGR_ECONFLICT with kv_refusal() "name" or "username". */
mgr_err acct_store_create(const struct acct_rec *a, const char *pwhash,
    int64_t created_ms, struct replay *rp);

/* A never-registered account's one-time password. MGR_ENOTFOUND,
 * MGR_ECONFLICT (registered). */
mgr_err acct_store_set_password(const char *id, const char *pwhash,
    struct replay *rp);

/* *same: the name was that already (nothing changed). MGR_ENOTFOUND,
 * MGR_ECONFLICT (the name is another account's). */
mgr_err acct_store_rename(const char *id, const char *name, struct replay *rp,
    int *same);

/* verb "disable" or "enable", with the auth-cache drop and the account's
 * event at time ts in the same step; *same: already in that state.
 * MGR_ENOTFOUND. */
mgr_err acct_store_transition(const char *id, const char *verb, const char *ts,
    struct replay *rp, int *same);

/* A never-registered account and its names and events. MGR_ENOTFOUND,
 * MGR_ECONFLICT (registered). */
mgr_err acct_store_delete(const char *id, struct replay *rp);

/* Logins (account.AuthBasic): what a user name's password is checked
 * against, with its lockout counter lockout:<admin|temp>:<user>. */
#define ACCT_LOGIN_KEY_MAX 320
struct acct_login {
	int locked;              /* max_failures reached: refuse unchecked */
	int found;               /* the user name exists */
	long long failures;      /* counted so far */
	char id[MGR_ID_MAX + 1]; /* temp: the account */
	char state[32];          /* temp: its state; admin: "active" */
	char pwhash[ACCT_PWHASH_MAX]; /* cleanse after use */
	uint64_t cred_version;   /* temp: the credentials' version */
};
mgr_err acct_store_login(const char *username, int temp, int64_t max_failures,
    struct acct_login *out);
/* Counts a failure (the window restarts at the first and at max_failures);
 * the count after it, or -1 when Redis did not take it. */
long long acct_store_login_failed(const char *username, int temp,
    int64_t max_failures, int64_t lockout_s);
/* A success clears the counter. */
void acct_store_login_ok(const char *username, int temp);

#endif
