/* Audit records: who did what to what, when, with which outcome. Appended to
 * the Redis stream "audit" (bounded); the stream entry id is the cursor.
 * Never pass a password, key or certificate here. */
#ifndef MGR_COMMON_AUDIT_H
#define MGR_COMMON_AUDIT_H

#include "common/err.h"
#include "proto/envelope.pb-c.h"

/* action: "account.create", "certificate.register", ... ; target: the id the
 * action was on (may be ""); outcome: MGR_OK or the error; detail: short
 * free text, no secrets (may be NULL). Failures to write are logged, and
 * returned so that a caller that must not proceed without a record can stop. */
mgr_err audit_log(const char *request_id, const Mgr__Caller *caller, const char *action,
    const char *target, mgr_err outcome, const char *detail);

/* "admin", "temp", "app", "service" or "anonymous" */
const char *audit_caller_kind(const Mgr__Caller *caller);

#endif
