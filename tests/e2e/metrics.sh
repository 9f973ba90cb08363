#!/usr/bin/env bash
# /metrics from every part (API.md "Operations (v2)", issue 22): the gateway
# answers with its own families and every service replica's, gathered with
# the "metrics" RPC, labelled service= and replica=. Checked here, through
# curl as Prometheus would scrape it:
# - the text is valid exposition format, line by line (tests/lib/promtext.py:
#   names, labels, values, one TYPE per family before its samples, a family's
#   samples together, no series twice, histograms cumulative to _count);
# - the families are there for each process: process_* (CPU, RSS, open fds,
#   start time), manager_redis_errors_total, RPCs served by method (count and
#   latency histogram), manager_service_up; and the domain's:
#   manager_certificates{status}, manager_ca_certificate_expiry_timestamp_seconds,
#   manager_vault_bytes, manager_objects, manager_expiry_events_sent_total,
#   the password slots;
# - they move: after a real registration (CSR with one-time credentials,
#   expiring in 10 days, inside the 30-day notice), a vault and an object of
#   1000 bytes, the counters and gauges rose by what was done; Redis
#   connections killed under the services count as Redis errors;
# - a service replica that does not answer (SIGSTOP) is manager_service_up 0,
#   and the scrape still answers in time with everyone else's.
export MANAGER_EXPIRY_SCAN_INTERVAL_S=1
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
. "$(dirname "$0")/../lib/vault.sh"
PROM="python3 $(dirname "$0")/../lib/promtext.py"
stack_up

scrape() {
  curl -sS --cacert "$CA" -o "$1" -w '%{http_code}' --max-time 20 "$URL/metrics"
}
# m FILE NAME [k=v...]: the sum of the matching samples ("none" if none).
m() { $PROM get "$@"; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "none" && b != "none" && a + 0 >= b + 0) }'; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "none" && b != "none" && a + 0 > b + 0) }'; }

S1=$T_DIR/s1
check '[ "$(scrape "$S1")" = 200 ]' "first scrape: 200"
check "$PROM check '$S1'" "first scrape: valid exposition format"
for svc in gateway account ca vault; do
  for f in process_cpu_seconds_total process_resident_memory_bytes process_open_fds \
    process_max_fds process_start_time_seconds manager_redis_errors_total; do
    check "$PROM has '$S1' $f service=$svc" "$svc: $f"
  done
  check 'gt "$(m "$S1" process_resident_memory_bytes service=$svc)" 1000000' \
    "$svc: RSS is plausible ($(m "$S1" process_resident_memory_bytes service=$svc))"
  check 'gt "$(m "$S1" process_start_time_seconds service=$svc)" $(( $(date +%s) - 600 ))' \
    "$svc: start time within the last 10 minutes"
done
for svc in account ca vault; do
  check '[ "$(m "$S1" manager_service_up service=$svc)" = 1.000000 ]' "$svc: manager_service_up 1"
done
check '[ "$(m "$S1" manager_password_hash_slots service=account)" = 4.000000 ]' "account: 4 password slots"
CA_END=$(date -d "$(openssl x509 -in "$CA" -noout -enddate | cut -d= -f2)" +%s)
check '[ "$(m "$S1" manager_ca_certificate_expiry_timestamp_seconds service=ca)" = "$CA_END.000000" ]' \
  "CA expiry is the CA certificate's notAfter ($CA_END)"
for st in valid expired revoked; do
  check "$PROM has '$S1' manager_certificates service=ca status=$st" "manager_certificates{status=$st}"
done
for f in manager_vault_bytes manager_objects manager_vaults; do
  check "$PROM has '$S1' $f service=vault" "vault: $f"
done
check "$PROM has '$S1' manager_expiry_events_sent_total service=ca" "ca: manager_expiry_events_sent_total"
check "$PROM has '$S1' manager_http_requests_total" "gateway: manager_http_requests_total"

# What moves the numbers: a registration, a vault and an object.
TMP_USER=metrics-tmp-$RANDOM
make_pending_account metrics-app "$TMP_USER" Metrics-temp-pass-1 ||
  fail_now "pending account: $ST $BODY"
gen_csr "$T_DIR/c1" "/O=Metrics/CN=metrics app $RANDOM" ec
register "$ACC_ID" "$T_DIR/c1.csr" "$(date -u -d '+10 days' +%FT%TZ)" "$TMP_USER:Metrics-temp-pass-1"
expect_status 201 "registration with the one-time credentials"
app_identity alice
T_V=$(mk_tpl "metrics-tpl-$RANDOM" vault)
mk_vault metrics-vault "$T_V" >/dev/null
head -c 1000 /dev/urandom >"$T_DIR/obj"
app_api alice PUT /api/v1/vaults/metrics-vault/objects/one.bin -T "$T_DIR/obj"
expect_status 201 "object of 1000 bytes"
api GET /api/v1/accounts -u "$ADMIN"; expect_status 200 "admin lists accounts"
api GET /api/v1/accounts -u "admin:wrong-$RANDOM"; expect_status 401 "a wrong password"

# Redis drops every client connection: the services' next commands fail on
# their broken connections (and reconnect; that first command's request
# fails, so not every request below succeeds).
redis-cli -p "$MGR_REDIS_PORT" CLIENT KILL TYPE normal >/dev/null
# readyz's ping goes out again on a new connection: ready at once.
api GET /readyz; expect_status 200 "readyz right after Redis dropped every connection"
for _ in 1 2 3 4 5 6; do
  api GET /api/v1/accounts -u "$ADMIN"
  app_api alice GET /api/v1/vaults/metrics-vault/objects/one.bin
done
# The expiry scan runs every second: the new certificate's notice.
E1=$(m "$S1" manager_expiry_events_sent_total service=ca)
events_rose() { scrape "$T_DIR/s2" >/dev/null && gt "$(m "$T_DIR/s2" manager_expiry_events_sent_total service=ca)" "$E1"; }
mgr_wait events_rose 20
S2=$T_DIR/s2
check '[ "$(scrape "$S2")" = 200 ]' "second scrape: 200"
check "$PROM check '$S2'" "second scrape: valid exposition format"
check 'gt "$(m "$S2" manager_expiry_events_sent_total service=ca)" "$(m "$S1" manager_expiry_events_sent_total service=ca)"' \
  "expiry events sent rose ($(m "$S1" manager_expiry_events_sent_total service=ca) -> $(m "$S2" manager_expiry_events_sent_total service=ca))"
d() { awk -v a="$(m "$S1" "$@")" -v b="$(m "$S2" "$@")" 'BEGIN { if (a == "none") a = 0; printf "%d", b - a }'; }
check '[ "$(d manager_certificates service=ca status=valid)" = 1 ]' "one more valid certificate ($(d manager_certificates service=ca status=valid))"
check '[ "$(d manager_objects service=vault)" = 1 ]' "one more object ($(d manager_objects service=vault))"
check '[ "$(d manager_vault_bytes service=vault)" = 1000 ]' "1000 more bytes ($(d manager_vault_bytes service=vault))"
check '[ "$(d manager_vaults service=vault)" = 1 ]' "one more vault"
for svc in account ca vault; do
  check 'gt "$(d manager_rpc_server_requests_total service=$svc)" 0' \
    "$svc: RPCs served rose by $(d manager_rpc_server_requests_total service=$svc)"
  check 'gt "$(d manager_rpc_server_duration_seconds_count service=$svc)" 0' "$svc: RPC latency histogram counted"
  check 'ge "$(m "$S2" process_cpu_seconds_total service=$svc)" "$(m "$S1" process_cpu_seconds_total service=$svc)"' \
    "$svc: CPU seconds do not go back"
done
check 'gt "$(m "$S2" manager_rpc_server_requests_total service=ca code=ok)" 0' "ca: successful RPCs counted by code"
check 'gt "$(d manager_rpc_server_requests_total service=account code=unauthenticated)" 0' \
  "account: the wrong password counted as unauthenticated"
check '[ "$(d manager_http_requests_total route=/api/v1/accounts status=200)" -ge 1 ]' \
  "gateway: admin list requests counted ($(d manager_http_requests_total route=/api/v1/accounts status=200))"
check 'gt "$(d manager_redis_errors_total kind=io)" 0' \
  "Redis errors counted after CLIENT KILL ($(d manager_redis_errors_total kind=io): $(for s in gateway account ca vault; do printf '%s=%s ' $s "$(d manager_redis_errors_total service=$s kind=io)"; done))"
check 'gt "$(m "$S2" manager_password_hash_busy_max service=account)" 0' "account: password derivations seen"

# The example dashboard asks only for what /metrics has: a family it
# declares (# TYPE), with or without samples yet (manager_rpc_errors_total
# has none until a service fails a call).
missing=$(python3 - "$MGR_ROOT/deploy/grafana/manager-dashboard.json" "$S2" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
lines = open(sys.argv[2]).read().splitlines()
have = {l.split("{")[0].split(" ")[0] for l in lines if l and l[0] != "#"}
have |= {l.split()[2] for l in lines if l.startswith("# TYPE ")}
names = set()
for p in d["panels"]:
    for t in p["targets"]:
        names |= set(re.findall(r"\b((?:manager|process)_[a-z_]+)", t["expr"]))
print(" ".join(sorted(n for n in names if n not in have)) or "-", len(names))
PY
)
check '[ "${missing%% *}" = - ]' "every metric of deploy/grafana/manager-dashboard.json is served ($missing)"

# A replica that does not answer: up 0, the rest still there, in time.
kill -STOP "$MGR_PID_vault"
S3=$T_DIR/s3
start=$(date +%s)
check '[ "$(scrape "$S3")" = 200 ]' "scrape with the vault service stopped: 200"
took=$(( $(date +%s) - start ))
kill -CONT "$MGR_PID_vault"
check '[ $took -le 10 ]' "that scrape answered within 10 s ($took s)"
check "$PROM check '$S3'" "that scrape: valid exposition format"
check '[ "$(m "$S3" manager_service_up service=vault)" = 0.000000 ]' "vault: manager_service_up 0"
check '[ "$(m "$S3" manager_service_up service=account)" = 1.000000 ]' "account: still up"
check "$PROM has '$S3' manager_certificates service=ca" "ca's families still there"
check "! $PROM has '$S3' process_open_fds service=vault" "no stale vault samples"
# (A worker's first command on a connection Redis killed fails once, ping
# included: readyz may say so for a moment.)
check 'mgr_wait "curl -sf --cacert $CA $URL/readyz" 20' "ready again after SIGCONT"
