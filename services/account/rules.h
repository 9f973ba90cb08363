/* account-svc's rules, without I/O: what a name, a user name and an id
 * are, and the state machine
 *
 *   pending_registration --(registration, ca-svc)--> active <--> disabled
 *
 * "Registered" means registered_at is set (or the state is active). */
#ifndef MGR_ACCOUNT_RULES_H
#define MGR_ACCOUNT_RULES_H

#include "services/account/store.h"

/* 1 when s is a user name of API.md: 3..64 of [A-Za-z0-9._-]. */
int acct_username_ok(const char *s);
/* Names: 1..128 bytes, no control characters. */
int acct_name_ok(const char *s);
/* Ids are ours: "acc_" and lowercase base32. Anything else cannot exist. */
int acct_id_ok(const char *s);

int acct_registered(const struct acct_rec *a);
/* The state verb ("disable", "enable") moves a to. */
const char *acct_next_state(const struct acct_rec *a, const char *verb);

#endif
