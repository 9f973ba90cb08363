#!/usr/bin/env bash
# Several replicas for real: two gateways, two replicas of each service, one
# Redis, internal traffic on tls+tcp:// with mutual TLS. Each gateway dials
# both replicas of every service (MANAGER_<SVC>_ADDR lists both). A disable
# through one gateway is refused by the other on the next request. Under a
# bounded load spread over both gateways, one replica of each service and
# then one gateway are killed with -9: no request fails but those in flight
# on the killed gateway (requests held by a killed service replica are
# resent to the other replica), and the gateways keep answering. A killed
# replica that comes back is dialed again and serves.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"

CERTS=$(mktemp -d "${TMPDIR:-/tmp}/mgr-replica-certs.XXXXXX")
"$MGR_ROOT/deploy/scripts/make-internal-certs.sh" "$CERTS" 2>/dev/null ||
  fail_now "make-internal-certs.sh failed"
export MGR_INTERNAL_CERTS_DIR=$CERTS

# MGR_REPLICAS_SCHEME=tcp runs the same test without TLS (diagnosis).
scheme=${MGR_REPLICAS_SCHEME:-tls+tcp}
declare -A ADDR1 ADDR2
for svc in account ca vault; do
  ADDR1[$svc]=$scheme://127.0.0.1:$(mgr_free_port)
  ADDR2[$svc]=$scheme://127.0.0.1:$(mgr_free_port)
  # Replica 1 listens on the first address of the list (stack.sh starts it).
  export "MANAGER_$(echo $svc | tr a-z A-Z)_ADDR=${ADDR1[$svc]},${ADDR2[$svc]}"
done
stack_up
trap 'rc=$?; rm -rf "$CERTS"; (exit $rc); stack_down' EXIT
GW1_PORT=$MANAGER_HTTPS_PORT
GW2_PORT=$(mgr_free_port)
while [ "$GW2_PORT" = "$GW1_PORT" ]; do GW2_PORT=$(mgr_free_port); done

# The second replica of every service, and the second gateway.
for svc in account ca vault; do
  mgr_spawn_proc "${svc}2" "$svc" "MANAGER_LISTEN_ADDR=${ADDR2[$svc]}"
done
mgr_spawn_proc gateway2 gateway "MANAGER_HTTPS_PORT=$GW2_PORT" MANAGER_S3_PORT=0
check 'mgr_wait "curl -sf --cacert $CA https://127.0.0.1:$GW2_PORT/readyz" 30' "second gateway ready"

# established PORT: connections to a service port (one per gateway dialing it).
established() {
  ss -Htn state established "( sport = :$1 )" 2>/dev/null | wc -l
}
for svc in account ca vault; do
  for a in "${ADDR1[$svc]}" "${ADDR2[$svc]}"; do
    check "mgr_wait '[ \$(established ${a##*:}) -ge 2 ]' 20" "both gateways connected to $svc at $a"
  done
done

# Both gateways answer with both replicas up.
for p in "$GW1_PORT" "$GW2_PORT"; do
  check '[ "$(curl -s -o /dev/null -w %{http_code} --cacert $CA https://127.0.0.1:$p/readyz)" = 200 ]' "gateway :$p ready"
done

# An application account registered through gateway 2, created through 1.
GW1=https://127.0.0.1:$GW1_PORT GW2=https://127.0.0.1:$GW2_PORT
URL=$GW1
api_json POST /api/v1/accounts '{"name":"replicas app","role":"vault_provisioner","username":"replicas-app","password":"temporary-pass-123"}' -u "$ADMIN"
expect_status 201 "account created through gateway 1"
ACC=$(jfield id)
APPDIR=$CERTS/app; mkdir -p "$APPDIR"
gen_csr "$APPDIR/app" "/O=Replicas/CN=replicas-app" ec
URL=$GW2
register "$ACC" "$APPDIR/app.csr" "" "replicas-app:temporary-pass-123"
expect_status 201 "certificate registered through gateway 2"
jfield certificate >"$APPDIR/app.pem"
APP=(--cert "$APPDIR/app.pem" --key "$APPDIR/app.key")
for g in "$GW1" "$GW2"; do
  URL=$g; api GET "/api/v1/accounts/$ACC/certificates" "${APP[@]}"
  expect_status 200 "the application is served by $g"
done
# A disable through one gateway reaches the other at once (Redis pub/sub).
URL=$GW1; api POST "/api/v1/accounts/$ACC/disable" -u "$ADMIN"; expect_status 200 "disable through gateway 1"
URL=$GW2; api GET "/api/v1/accounts/$ACC/certificates" "${APP[@]}"
expect_status 401 "gateway 2 refuses the disabled account on the next request"
URL=$GW1; api GET "/api/v1/accounts/$ACC/certificates" "${APP[@]}"
expect_status 401 "gateway 1 refuses the disabled account"
URL=$GW2; api POST "/api/v1/accounts/$ACC/enable" -u "$ADMIN"; expect_status 200 "enable through gateway 2"
URL=$GW1; api GET "/api/v1/accounts/$ACC/certificates" "${APP[@]}"
expect_status 200 "gateway 1 serves the enabled account again"

# Load, killing account, ca and vault replica 1 and then gateway 1 mid-load:
# readiness (pings every service), admin list of accounts (account-svc
# checks the password), the application's certificates (its certificate is
# checked), health and the CA certificate.
# Writes too: fresh accounts and fresh objects, so that a write held by a
# killed replica is resent to the other one and must be replayed there (the
# first replica may have committed it), never refused as a duplicate.
URL=$GW1
api_json POST /api/v1/vault-templates '{"name":"replicas","kind":"vault"}' -u "$ADMIN"
expect_status 201 "a vault template"
api_json POST /api/v1/vaults "{\"name\":\"replicas\",\"vault_template_id\":\"$(jfield id)\"}" "${APP[@]}"
expect_status 201 "the application's vault"
export LOAD_ADMIN=$ADMIN LOAD_APP_CERT=$APPDIR/app.pem LOAD_APP_KEY=$APPDIR/app.key \
  LOAD_APP_PATH=/api/v1/accounts/$ACC/certificates \
  LOAD_APP_PUT=/api/v1/vaults/replicas/objects/load/ LOAD_ADMIN_CREATE=1
report=$(python3 "$MGR_ROOT/tests/e2e/replicas_load.py" "$CA" "$GW1_PORT,$GW2_PORT" \
  "account:$MGR_PID_account,ca:$MGR_PID_ca,vault:$MGR_PID_vault,gateway:$MGR_PID_gateway:$GW1_PORT")
echo "load report: $report" >&2
for svc in account ca vault; do
  p=${ADDR1[$svc]##*:}
  echo "connections to killed $svc replica :$p after the load:" >&2
  ss -Htnp state all "( dport = :$p or sport = :$p )" >&2
done
for p in $MGR_PID_account $MGR_PID_ca $MGR_PID_vault $MGR_PID_gateway; do wait "$p" 2>/dev/null; done
check '[ -n "$report" ]' "load generator ran"
BODY=$report
check '[ "$(jfield requests)" -ge 300 ]' "a real load ran ($(jfield requests) requests)"
for i in 0 1 2 3; do
  kind=$(jfield kills.$i.kind)
  check '[ "$(jfield kills.$i.done)" = true ]' "kill $i ($kind) happened mid-load"
done
check '[ "$(jfield unexplained_failures)" = "[]" ]' "no failed request but those in flight on the killed gateway: $(jfield unexplained_failures)"
check '[ "$(jfield writes_acked)" -ge 10 ]' "writes ran under the load ($(jfield writes_acked) acknowledged)"
check '[ "$(jfield writes_lost)" = "[]" ]' "every acknowledged write is stored: $(jfield writes_lost)"
for i in 0 1 2; do
  kind=$(jfield kills.$i.kind)
  echo "killed $kind replica: $(jfield kills.$i.in_flight) service-backed requests in flight across the kill, $(jfield kills.$i.failed_in_flight) failed" >&2
  check '[ "$(jfield kills.$i.failed_in_flight)" = 0 ]' "no request in flight across the $kind kill failed"
  for p in "$GW1_PORT" "$GW2_PORT"; do
    check '[ "$(jfield kills.$i.ok_after_by_gateway.$p)" -ge 5 ]' "gateway :$p kept answering after the $kind replica was killed"
  done
done
echo "killed gateway: $(jfield kills.3.in_flight) requests in flight on it, $(jfield kills.3.failed_in_flight) failed" >&2
check '[ "$(jfield kills.3.failed_in_flight)" -le "$(jfield kills.3.in_flight)" ]' "gateway kill: failures only among its in-flight requests"
check '[ "$(jfield kills.3.ok_after_by_gateway.$GW2_PORT)" -ge 20 ]' "the other gateway kept answering after gateway 1 was killed"

n=$(cat "$MANAGER_DATA_DIR"/logs/gateway*.log | grep -c "lost its peer")
echo "dead TLS connections closed by the rpc watcher (nng 1.5.2 TLS race): $n" >&2

# A killed replica that comes back is dialed again and serves: restart
# account replica 1, then kill replica 2; gateway 2 stays ready.
mgr_spawn_proc account account
check "mgr_wait '[ \$(established ${ADDR1[account]##*:}) -ge 1 ]' 20" "gateway 2 reconnected to the restarted account replica"
kill -KILL "$MGR_PID_account2"; wait "$MGR_PID_account2" 2>/dev/null
URL=https://127.0.0.1:$GW2_PORT
api GET /readyz; expect_status 200 "readyz via the restarted account replica alone"
