#!/usr/bin/env bash
# Lockout of a user name from one address (lockout:admin:<u>@<address>, see
# services/account/auth.c) after MANAGER_LOGIN_MAX_FAILURES failures, kept in
# Redis and so shared by two gateways on one Redis: 429 on both, also with the
# right password; it ends after MANAGER_LOCKOUT_S; a success resets the count;
# other user names are not affected; failed logins are audited.
export MANAGER_LOGIN_MAX_FAILURES=3
export MANAGER_LOCKOUT_S=20 # long enough for the steps below on a loaded machine
. "$(dirname "$0")/../lib/stack.sh"
stack_up

R() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
URL1=$URL
# A second gateway: same environment, another port.
PORT2=$(mgr_free_port)
MANAGER_HTTPS_PORT=$PORT2 MANAGER_S3_PORT=0 mgr_spawn gateway2 "$MGR_BIN/gateway/mgr-gateway"
URL2="https://127.0.0.1:$PORT2"
mgr_wait "curl -sf --cacert $CA $URL2/readyz" 30 || fail_now "second gateway did not start"
on1() { URL=$URL1; api "$@"; }
on2() { URL=$URL2; api "$@"; }

on1 GET /api/v1/accounts -u "$ADMIN"; expect_status 200 "admin works on gateway 1"
on2 GET /api/v1/accounts -u "$ADMIN"; expect_status 200 "admin works on gateway 2"

# A success resets the count: 2 failures, success, 2 failures → still 401.
on1 GET /api/v1/accounts -u admin:bad1; expect_status 401 "failure 1"
on2 GET /api/v1/accounts -u admin:bad2; expect_status 401 "failure 2"
on1 GET /api/v1/accounts -u "$ADMIN"; expect_status 200 "success before the limit"
check '[ "$(R exists lockout:admin:admin@127.0.0.1)" = 0 ]' "success cleared the counter"
on2 GET /api/v1/accounts -u admin:bad3; expect_status 401 "failure 1 again"
on1 GET /api/v1/accounts -u admin:bad4; expect_status 401 "failure 2 again"
on1 GET /api/v1/accounts -u "$ADMIN"; expect_status 200 "the count was reset by the success"

# Three failures spread over both gateways lock the name on both.
on1 GET /api/v1/accounts -u admin:bad5; expect_status 401 "failure 1 (gw1)"
on2 GET /api/v1/accounts -u admin:bad6; expect_status 401 "failure 2 (gw2)"
on1 GET /api/v1/accounts -u admin:bad7; expect_status 401 "failure 3 (gw1)"
on1 GET /api/v1/accounts -u admin:bad8; expect_status 429 "locked on gateway 1"; expect_code rate_limited "locked code gw1"
on2 GET /api/v1/accounts -u admin:bad9; expect_status 429 "locked on gateway 2"; expect_code rate_limited "locked code gw2"
on1 GET /api/v1/accounts -u "$ADMIN"; expect_status 429 "right password still 429 on gateway 1"
on2 GET /api/v1/accounts -u "$ADMIN"; expect_status 429 "right password still 429 on gateway 2"
on2 POST /api/v1/accounts -u "$ADMIN" -H 'Content-Type: application/json' --data-binary '{}'
expect_status 429 "every admin route is locked"
# Another user name is not locked by admin's failures.
on1 GET /api/v1/accounts -u other:bad; expect_status 401 "another user name: 401, not 429"
check '[ "$(R get lockout:admin:admin@127.0.0.1)" = 3 ]' "locked attempts do not count further"
TTL=$(R ttl lockout:admin:admin@127.0.0.1)
check '[ "$TTL" -gt 0 ] && [ "$TTL" -le 20 ]' "the lock expires (TTL $TTL)"

# The lock ends after MANAGER_LOCKOUT_S.
mgr_wait "[ \"\$(redis-cli -p $MGR_REDIS_PORT exists lockout:admin:admin@127.0.0.1)\" = 0 ]" 40
on2 GET /api/v1/accounts -u "$ADMIN"; expect_status 200 "after the lockout, gateway 2"
on1 GET /api/v1/accounts -u "$ADMIN"; expect_status 200 "after the lockout, gateway 1"

# Lockout survives a restart of the account service (it lives in Redis).
for i in 1 2 3; do on1 GET /api/v1/accounts -u admin:again$i; done
expect_status 401 "third failure"
kill -TERM "$MGR_PID_account"; wait "$MGR_PID_account" 2>/dev/null
mgr_spawn account "$MGR_BIN/services/account/mgr-account"
mgr_wait "curl -sf --cacert $CA $URL1/readyz" 20
on2 GET /api/v1/accounts -u "$ADMIN"; expect_status 429 "still locked after an account-svc restart"
R del lockout:admin:admin@127.0.0.1 >/dev/null

# Audit: failures and the lockout, with outcome, from both gateways.
on1 GET "/api/v1/audit?limit=1000" -u "$ADMIN"; expect_status 200 "audit"
AUD=$BODY
count() { python3 -c '
import json,sys
recs=json.loads(sys.argv[1])["records"]; want=dict(a.split("=",1) for a in sys.argv[2:])
print(sum(1 for r in recs if all(r.get(k)==v for k,v in want.items())))' "$AUD" "$@"; }
check '[ "$(count action=auth.basic outcome=unauthenticated actor=admin)" -ge 9 ]' "failed logins audited"
check '[ "$(count action=auth.basic outcome=rate_limited actor=admin)" -ge 5 ]' "refused locked logins audited"
check '[ "$(count action=auth.lockout actor=admin)" -ge 2 ]' "lockouts audited"
check '[[ $AUD != *bad1* ]] && [[ $AUD != *"$MANAGER_ADMIN_PASSWORD"* ]]' "no password in the audit"
