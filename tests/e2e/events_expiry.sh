#!/usr/bin/env bash
# The expiry scanner with three CA replicas scanning every second: each
# certificate gets certificate.expiring for 30 and 15 days and
# certificate.expired exactly once; superseded_by names a newer valid
# certificate; revoked and device certificates get nothing; the events list
# pages with after/limit for an admin; events survive restarts.
export MANAGER_EXPIRY_SCAN_INTERVAL_S=1
export MANAGER_EXPIRY_NOTICE_DAYS=30
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/seed.sh"
stack_up

# Two more CA replicas on the same data dir and Redis.
for n in 2 3; do
  mgr_spawn "ca$n" env MANAGER_LISTEN_ADDR="ipc://$MANAGER_DATA_DIR/run/ca$n.sock" \
    "$MGR_BIN/services/ca/mgr-ca"
done
for n in 2 3; do
  mgr_wait "grep -q 'expiry scanner' '$MANAGER_DATA_DIR/logs/ca$n.log'" 20 ||
    fail_now "CA replica $n did not start"
done

now=$(date +%s)
day=86400
A=$(seed_account_id); B=$(seed_account_id); C=$(seed_account_id)
D=$(seed_account_id); E=$(seed_account_id); F=$(seed_account_id)
for a in $A $B $C $D $E $F; do seed_account "$a"; done
SA=$(seed_serial); SB_NEW=$(seed_serial); SB_REV=$(seed_serial); SB_OLD=$(seed_serial)
SC=$(seed_serial); SD=$(seed_serial); SE1=$(seed_serial); SE2=$(seed_serial)
SDEV=$(seed_serial); SDEV_X=$(seed_serial); SFAR=$(seed_serial)
# A: expires in 10 days, no other certificate.
NA_A=$((now + 10 * day)); seed_cert "$SA" "acct:$A" "$NA_A"
# B: a newer valid certificate, a revoked one that outlives both, the old one.
seed_cert "$SB_NEW" "acct:$B" $((now + 365 * day))
seed_cert "$SB_REV" "acct:$B" $((now + 700 * day)) $((now - 60))
seed_cert "$SB_OLD" "acct:$B" $((now + 10 * day))
# C: expires in 20 days: only the 30-day notice. Far: outside the window.
seed_cert "$SC" "acct:$C" $((now + 20 * day))
seed_cert "$SFAR" "acct:$C" $((now + 40 * day))
# D: expired an hour ago.
NA_D=$((now - 3600)); seed_cert "$SD" "acct:$D" "$NA_D"
# E: revoked (one of them still, wrongly, in the expiry index).
seed_cert "$SE1" "acct:$E" $((now + 5 * day)) $((now - 60))
seed_cert "$SE2" "acct:$E" $((now + 5 * day)) $((now - 60))
rcli ZADD certs:expiry $((now + 5 * day)) "$SE2" >/dev/null
# Devices get no events; an expired one leaves the index.
seed_cert "$SDEV" "dev:dev_1" $((now + 5 * day))
seed_cert "$SDEV_X" "dev:dev_2" $((now - 10))
# F: many certificates at once, for the replicas to race on.
FS=()
for i in $(seq 1 60); do s=$(seed_serial); FS+=("$s"); seed_cert "$s" "acct:$F" $((now + 10 * day)); done

xlen() { rcli XLEN "ev:{$1}"; }
done_yet() {
  [ "$(xlen "$A")" -ge 2 ] && [ "$(xlen "$B")" -ge 2 ] && [ "$(xlen "$C")" -ge 1 ] &&
    [ "$(xlen "$D")" -ge 3 ] && [ "$(xlen "$F")" -ge 120 ]
}
mgr_wait done_yet 20 || echo "note: events did not all arrive in 20 s" >&2
sleep 3 # three more passes of three replicas: nothing may be repeated

check '[ "$(xlen "$A")" = 2 ]' "A: two expiring events"
check '[ "$(xlen "$B")" = 2 ]' "B: two expiring events (old certificate only)"
check '[ "$(xlen "$C")" = 1 ]' "C: only the 30-day notice"
check '[ "$(xlen "$D")" = 3 ]' "D: 30, 15 and expired"
check '[ "$(xlen "$E")" = 0 ]' "E: revoked certificates get nothing"
check '[ "$(xlen "$F")" = 120 ]' "F: 60 certificates, two events each, no duplicates"
check '[ -z "$(rcli KEYS "ev:{dev*")" ]' "devices get no stream"
check '[ -z "$(rcli ZSCORE certs:expiry "$SD")" ]' "expired certificate left the index"
check '[ -z "$(rcli ZSCORE certs:expiry "$SDEV_X")" ]' "expired device certificate left the index"
check '[ -n "$(rcli ZSCORE certs:expiry "$SA")" ]' "unexpired certificate stays in the index"
ttl=$(rcli TTL "evmark:$SA:30")
check '[ "$ttl" -gt $((10 * day)) ]' "the marker lives past not_after (ttl $ttl)"

# Each F certificate: exactly one 30 and one 15.
fdump=$(rcli XRANGE "ev:{$F}" - + | grep -o '"serial":"[0-9a-f]*","days":[0-9]*\|"days":[0-9]*,"serial":"[0-9a-f]*"' | sort | uniq -c | awk '$1 != 1' | wc -l)
check '[ "$fdump" = 0 ]' "F: no (serial, days) twice"

# The feed through the API (admin).
api GET "/api/v1/accounts/$A/events" -u "$ADMIN"; expect_status 200 "admin lists A's events"
check '[ "$(jfield events.0.type)" = certificate.expiring ]' "A event 0 type"
check '[ "$(jfield events.0.data.days)" = 30 ]' "A event 0 is the 30-day notice (oldest first)"
check '[ "$(jfield events.1.data.days)" = 15 ]' "A event 1 is the 15-day notice"
check '[ "$(jfield events.0.data.serial)" = "$SA" ]' "A event serial"
check '[ "$(jfield events.0.data.not_after)" = "$(date -u -d "@$NA_A" +%Y-%m-%dT%H:%M:%SZ)" ]' "A event not_after is RFC 3339"
check '[ "$(jfield events.0.data)" != "" ] && python3 -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if \"superseded_by\" in d and d[\"superseded_by\"] is None else 1)" "$(jfield events.0.data)"' "A superseded_by is null"
check '[ "$(jfield events.0.account_id)" = "$A" ]' "A event account_id"
check '[[ "$(jfield events.0.time)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]' "A event time"
check '[[ "$(jfield events.0.id)" =~ ^[0-9]+-[0-9]+$ ]]' "A event id"
check '[ "$(jfield next_after)" = "$(jfield events.1.id)" ]' "next_after is the last id"

api GET "/api/v1/accounts/$B/events" -u "$ADMIN"; expect_status 200 "admin lists B's events"
check '[ "$(jfield events.0.data.serial)" = "$SB_OLD" ] && [ "$(jfield events.1.data.serial)" = "$SB_OLD" ]' "B events are about the old certificate"
check '[ "$(jfield events.0.data.superseded_by)" = "$SB_NEW" ]' "B superseded_by names the newer valid certificate"
check '[ "$(jfield events.1.data.superseded_by)" = "$SB_NEW" ]' "B 15-day superseded_by"

api GET "/api/v1/accounts/$D/events" -u "$ADMIN"; expect_status 200 "admin lists D's events"
check '[ "$(jfield events.2.type)" = certificate.expired ]' "D: certificate.expired last"
check '[ "$(jfield events.2.data.serial)" = "$SD" ]' "D expired serial"
check '[ "$(jfield events.2.data.not_after)" = "$(date -u -d "@$NA_D" +%Y-%m-%dT%H:%M:%SZ)" ]' "D expired not_after"
check '[ "$(jfield events.2.data.days)" = "" ]' "expired data has no days"
D1=$(jfield events.0.id); D2=$(jfield events.1.id); D3=$(jfield events.2.id)

# Paging.
api GET "/api/v1/accounts/$D/events?limit=2" -u "$ADMIN"; expect_status 200 "page 1"
check '[ "$(jfield events.1.id)" = "$D2" ] && [ "$(jfield events.2.id)" = "" ]' "page 1 has two"
check '[ "$(jfield next_after)" = "$D2" ]' "page 1 next_after"
api GET "/api/v1/accounts/$D/events?limit=2&after=$D2" -u "$ADMIN"; expect_status 200 "page 2"
check '[ "$(jfield events.0.id)" = "$D3" ] && [ "$(jfield events.1.id)" = "" ]' "page 2 has the third"
check '[ "$(jfield next_after)" = "$D3" ]' "page 2 next_after"
api GET "/api/v1/accounts/$D/events?after=$D3" -u "$ADMIN"; expect_status 200 "page 3"
check '[ "$(jfield events)" = "[]" ] && [ "$BODY" != "${BODY/\"next_after\":null/}" ]' "empty page, next_after null"
api GET "/api/v1/accounts/$D/events?after=$D1&limit=1" -u "$ADMIN"; expect_status 200 "after the first"
check '[ "$(jfield events.0.id)" = "$D2" ]' "after is exclusive"
api GET "/api/v1/accounts/$D/events?after=0" -u "$ADMIN"; expect_status 200 "after=0"
check '[ "$(jfield events.0.id)" = "$D1" ]' "after=0 is from the start"

# Bad input.
for q in "after=abc" "after=1-2-3" "after=-1" "after=99999999999999999999999" "limit=0" "limit=1001" "limit=x" "limit=-5"; do
  api GET "/api/v1/accounts/$D/events?$q" -u "$ADMIN"; expect_status 400 "bad query $q"
  expect_code invalid_argument "bad query $q code"
done
api GET "/api/v1/accounts/acc_nosuchaccount/events" -u "$ADMIN"; expect_status 404 "unknown account"
expect_code not_found "unknown account code"
api GET "/api/v1/accounts/a%7Bb%7D/events" -u "$ADMIN"; expect_status 404 "strange account id"
api GET "/api/v1/accounts/$D/events"; expect_status 401 "no credentials"
expect_code unauthenticated "no credentials code"
api GET "/api/v1/accounts/$D/events" -u "admin:wrong-password"; expect_status 401 "wrong password"
api GET "/api/v1/accounts/$D/events/stream" -u "$ADMIN"; expect_status 401 "admin may not stream"
api POST "/api/v1/accounts/$D/events" -u "$ADMIN"; expect_status 405 "POST events"

# Restart the processes (one CA now): nothing new, nothing lost.
stack_restart_services
sleep 3
check '[ "$(xlen "$A")" = 2 ] && [ "$(xlen "$D")" = 3 ] && [ "$(xlen "$F")" = 120 ]' "no repeats after a restart"
api GET "/api/v1/accounts/$D/events" -u "$ADMIN"; expect_status 200 "list after restart"
check '[ "$(jfield events.2.id)" = "$D3" ]' "events kept over a restart"

# Restart Redis too (AOF): the events and markers are still there.
sleep 1.2
kill -TERM "$MGR_REDIS_PID"; wait "$MGR_REDIS_PID" 2>/dev/null
api GET "/api/v1/accounts/$D/events" -u "$ADMIN"
expect_status 503 "list with Redis down"; expect_code unavailable "Redis down code"
# (The same port: a short-lived client socket may hold it for a moment.)
for try in 1 2 3; do mgr_start_redis && break; sleep 1; done
[ -n "$(rcli ping 2>/dev/null)" ] || fail_now "redis did not restart"
mgr_wait "curl -sf --cacert $CA $URL/readyz" 20
api GET "/api/v1/accounts/$D/events" -u "$ADMIN"; expect_status 200 "list after a Redis restart"
check '[ "$(jfield events.0.id)" = "$D1" ] && [ "$(jfield events.2.id)" = "$D3" ]' "events survive a Redis restart"
sleep 3
check '[ "$(xlen "$A")" = 2 ] && [ "$(xlen "$D")" = 3 ] && [ "$(xlen "$F")" = 120 ]' "no repeats after a Redis restart"
