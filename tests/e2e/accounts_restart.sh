#!/usr/bin/env bash
# Bootstrap and persistence: with MANAGER_ADMIN_PASSWORD unset the admin
# password is generated once into $MANAGER_DATA_DIR/admin-password (0600);
# accounts and audit records survive a restart of every process and of Redis
# (AOF); setting MANAGER_ADMIN_PASSWORD later resets admin's password; several
# account services bootstrapping at once create exactly one admin.
. "$(dirname "$0")/../lib/stack.sh"

# stack_up always sets MANAGER_ADMIN_PASSWORD; this test needs it unset.
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mgr-$T_NAME.XXXXXX")
export MANAGER_DATA_DIR=$T_DIR/data
mkdir -p "$MANAGER_DATA_DIR"
export MANAGER_HTTPS_PORT=$(mgr_free_port)
export MANAGER_S3_PORT=$(mgr_free_port)
export MANAGER_LOG_LEVEL=info
unset MANAGER_ADMIN_PASSWORD MANAGER_REDIS_URL
trap 'stack_down' EXIT
mgr_start_redis || fail_now "redis did not start"
mgr_start_services || fail_now "the stack did not start"
CA=$MGR_CA_PEM
URL=$MGR_URL
R() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
PWFILE=$MANAGER_DATA_DIR/admin-password

check '[ -f "$PWFILE" ]' "admin-password written"
check '[ "$(stat -c %a "$PWFILE")" = 600 ]' "admin-password mode 0600"
GEN=$(cat "$PWFILE")
check '[ ${#GEN} -ge 16 ]' "generated password is long"
check '! grep -rqF -- "$GEN" "$MANAGER_DATA_DIR/logs"' "generated password not logged"
ADMIN="admin:$GEN"
api GET /api/v1/accounts -u "$ADMIN"; expect_status 200 "generated admin password works"

# Some state: accounts in every state, and audit records.
mk() { api_json POST /api/v1/accounts "{\"name\":\"$1\",\"role\":\"vault_provisioner\",\"username\":\"$2\",\"password\":\"restart-pass-$2\"}" -u "$ADMIN"; expect_status 201 "create $1"; }
mk "Keep One" keep1; A1=$(jfield id)
mk "Keep Two" keep2; A2=$(jfield id)
mk "Keep Three" keep3; A3=$(jfield id)
api POST "/api/v1/accounts/$A2/disable" -u "$ADMIN"; expect_status 200 "disable"
R hset "acct:{$A3}" state active registered_at "$(date +%s)" >/dev/null  # registered, as ca-svc does
R hdel "acct:{$A3}" username pwhash >/dev/null; R del acct:user:keep3 >/dev/null
api_json PATCH "/api/v1/accounts/$A3" '{"name":"Keep Three renamed"}' -u "$ADMIN"; expect_status 200 "rename"
api_json POST /api/v1/accounts '{"name":"Keep One","role":"vault_provisioner","username":"dup","password":"restart-pass-dup"}' -u "$ADMIN"
expect_status 409 "refused create"
api GET /api/v1/accounts -u "$ADMIN"; LIST0=$BODY
api GET "/api/v1/audit?limit=1000" -u "$ADMIN"; AUDIT0=$BODY
N0=$(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["records"]))' "$AUDIT0")
check '[ "$N0" -ge 7 ]' "audit has the actions ($N0)"

# Audit records of before are a prefix of after (restarts add none here).
same_state() {
  api GET /api/v1/accounts -u "$ADMIN"; expect_status 200 "list after $1"
  check '[ "$BODY" = "$LIST0" ]' "accounts unchanged after $1"
  api GET "/api/v1/audit?limit=1000" -u "$ADMIN"; expect_status 200 "audit after $1"
  check 'python3 -c "import json,sys; a=json.loads(sys.argv[1])[\"records\"]; b=json.loads(sys.argv[2])[\"records\"]; sys.exit(0 if b[:len(a)]==a else 1)" "$AUDIT0" "$BODY"' "audit records kept after $1"
}

stack_restart_services
same_state "a restart of the four processes"
check '[ "$(cat "$PWFILE")" = "$GEN" ]' "admin-password not rewritten on restart"
api GET /api/v1/accounts -u "$ADMIN"; expect_status 200 "generated password still works"

# Everything, Redis included (AOF).
mgr_stop
mgr_start_redis || fail_now "redis did not restart"
mgr_start_services || fail_now "the stack did not restart"
same_state "a restart of every process and Redis"
api GET "/api/v1/accounts/$A2" -u "$ADMIN"; check '[ "$(jfield state)" = disabled ]' "disabled survives"
api_json PUT "/api/v1/accounts/$A3/password" '{"password":"another-password-1"}' -u "$ADMIN"
expect_status 409 "registered account still frozen after restarts"
api_json PUT "/api/v1/accounts/$A1/password" '{"password":"another-password-1"}' -u "$ADMIN"
expect_status 204 "pending account still changeable after restarts"

# The operator sets MANAGER_ADMIN_PASSWORD: it becomes admin's password.
export MANAGER_ADMIN_PASSWORD=operator-chosen-pw-$RANDOM$RANDOM
stack_restart_services
api GET /api/v1/accounts -u "admin:$MANAGER_ADMIN_PASSWORD"; expect_status 200 "env password after reset"
api GET /api/v1/accounts -u "$ADMIN"; expect_status 401 "generated password no longer works"
ADMIN="admin:$MANAGER_ADMIN_PASSWORD"
api GET "/api/v1/audit?limit=1000" -u "$ADMIN"
check '[[ $BODY == *admin.set_password* ]]' "the reset is audited"
check '[[ $BODY != *"$MANAGER_ADMIN_PASSWORD"* ]]' "no password in the audit"
# Unset again: nothing changes, the file is not touched.
unset MANAGER_ADMIN_PASSWORD
stack_restart_services
api GET /api/v1/accounts -u "$ADMIN"; expect_status 200 "admin keeps the last password when the env is unset"
check '[ "$(cat "$PWFILE")" = "$GEN" ]' "admin-password file untouched"

# Three account services bootstrapping at once on a Redis without admin:
# exactly one creates it and writes the file; no temp file is left.
R del admin:admin >/dev/null
rm -f "$PWFILE"
for i in 1 2 3; do
  MANAGER_LISTEN_ADDR="ipc://$MANAGER_DATA_DIR/run/race$i.sock" mgr_spawn "race$i" "$MGR_BIN/services/account/mgr-account"
done
mgr_wait "[ \$(cat $MANAGER_DATA_DIR/logs/race*.log | grep -c 'account service listening') = 3 ]" 30
check '[ -f "$PWFILE" ] && [ "$(stat -c %a "$PWFILE")" = 600 ]' "one admin-password, mode 0600"
check '[ -z "$(ls "$MANAGER_DATA_DIR" | grep "admin-password\..*tmp")" ]' "no temp files left"
check '[ "$(cat "$MANAGER_DATA_DIR"/logs/race*.log | grep -c "administrator \"admin\" created")" = 1 ]' "exactly one service created admin"
api GET /api/v1/accounts -u "admin:$(cat "$PWFILE")"; expect_status 200 "the written password is admin's"
