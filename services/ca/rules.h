/* ca-svc's rules for account certificates, without I/O: who may act on an
 * account's certificates, what an id and a serial look like, and when a
 * certificate needs renewing. */
#ifndef MGR_CA_RULES_H
#define MGR_CA_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/rpc.h"
#include "services/ca/issue.h"

/* An account id as the other services make them: 1..63 of [A-Za-z0-9_-]. */
int ca_account_id_ok(const char *id);
/* A serial of ours: 1..63 lowercase hex digits. */
int ca_serial_ok(const char *s);

/* The caller is the app of account_id: MGR_EUNAUTH (not a certificate) or
 * MGR_EPERM (another account's) with why. */
mgr_err ca_app_caller(const struct rpc_call *call, const char *account_id, char *why,
    size_t whylen);

/* "Renew only if needed": the account's newest valid certificate is
 * renewed when it expires before the expiry asked for (want_exp, when
 * has_want), else when it expires within notice_days of now. Otherwise the
 * renewal answers with that certificate as it is. */
int ca_renew_needed(const struct ca_record *newest, int has_want, int64_t want_exp,
    int64_t now, int64_t notice_days);

#endif
