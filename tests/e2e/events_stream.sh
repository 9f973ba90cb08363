#!/usr/bin/env bash
# The event feed for the app (client certificate): its own list only, and
# Server-Sent Events: events as they happen (written directly, by the expiry
# scanner, by a renewal), id: lines, heartbeats, Last-Event-ID and ?after=
# resume without loss or repeats, the stream ends on revocation, disable and
# client disconnect.
export MANAGER_EXPIRY_SCAN_INTERVAL_S=1
export MANAGER_SSE_HEARTBEAT_S=1
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/seed.sh"
stack_up
SSE_DIR=$T_DIR/sse
mkdir -p "$SSE_DIR"

A=$(seed_account_id); B=$(seed_account_id)
seed_account "$A"; seed_account "$B"
seed_app_cert "$A" "$T_DIR/app" 60 || fail_now "cannot make an app certificate"

# sse_start NAME [curl args...]: curl -N in the background into $SSE_DIR/NAME.
sse_start() {
  local name=$1; shift
  curl -sS -N --cacert "$CA" --cert "$APP_CERT" --key "$APP_KEY" "$@" \
    -D "$SSE_DIR/$name.hdr" -o "$SSE_DIR/$name.out" \
    "$URL/api/v1/accounts/$A/events/stream${SSE_QUERY:-}" 2>"$SSE_DIR/$name.err" &
  eval "SSE_PID_$name=$!"
  MGR_PIDS="$MGR_PIDS $!"
  mgr_wait "grep -q '^: events of' '$SSE_DIR/$name.out'" 15
}
sse_stop() { local p; eval "p=\$SSE_PID_$1"; kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; }
# ids NAME: the id: lines received, in order.
ids() { grep '^id: ' "$SSE_DIR/$1.out" | cut -c5- | tr -d '\r'; }

# The list as the app: own account only.
seed_app_api GET "/api/v1/accounts/$A/events"; expect_status 200 "app lists its own events"
check '[ "$(jfield events)" = "[]" ]' "no events yet"
seed_app_api GET "/api/v1/accounts/$B/events"; expect_status 403 "app lists another account's events"
expect_code permission_denied "another account code"
seed_app_api GET "/api/v1/accounts/acc_nosuch/events"; expect_status 403 "app on an unknown account"

# Stream: refusals first.
seed_app_api GET "/api/v1/accounts/$B/events/stream"; expect_status 403 "stream of another account"
seed_app_api GET "/api/v1/accounts/$A/events/stream" -H "Last-Event-ID: nope"; expect_status 400 "bad Last-Event-ID"
expect_code invalid_argument "bad Last-Event-ID code"
seed_app_api GET "/api/v1/accounts/$A/events/stream?after=x-y"; expect_status 400 "bad after"
api GET "/api/v1/accounts/$A/events/stream"; expect_status 401 "stream without credentials"

# Live: an event written after the stream starts arrives with id/event/data.
sse_start s1 || fail_now "the stream did not start"
check 'grep -qi "^content-type: text/event-stream" "$SSE_DIR/s1.hdr"' "content type text/event-stream"
E1=$(seed_event "$A" test.one '{"n":1}')
mgr_wait "grep -q '^id: $E1' '$SSE_DIR/s1.out'" 10
check 'ids s1 | grep -qx "$E1"' "live event arrives with its id: line"
check 'grep -q "^event: test.one" "$SSE_DIR/s1.out"' "event: line"
data1=$(grep '^data: ' "$SSE_DIR/s1.out" | head -1 | cut -c7-)
check '[ "$(jfield id "$data1")" = "$E1" ] && [ "$(jfield account_id "$data1")" = "$A" ] && [ "$(jfield data.n "$data1")" = 1 ]' "data: is the event JSON"
check '[ "$(jfield type "$data1")" = test.one ] && [ -n "$(jfield time "$data1")" ]' "data: type and time"
# Heartbeats.
mgr_wait "grep -q '^: ping' '$SSE_DIR/s1.out'" 10
check 'grep -q "^: ping" "$SSE_DIR/s1.out"' "heartbeat comment"

# A renewal's event (where the CA's renew endpoint exists).
api_json POST "/api/v1/accounts/$A/certificates/renew" '{"expiration_date":"2030-01-01"}' \
  --cert "$APP_CERT" --key "$APP_KEY"
if [ "$ST" = 404 ] || [ "$ST" = 405 ]; then
  echo "note: no renew endpoint in this tree; renewal event not tested" >&2
else
  expect_status 200 "renew"
  mgr_wait "grep -q '^event: certificate.renewed' '$SSE_DIR/s1.out'" 10
  check 'grep -q "^event: certificate.renewed" "$SSE_DIR/s1.out"' "renewal event arrives on the stream"
  # A renewed account's old certificate: its notice names the new one.
  R=$(seed_account_id); seed_account "$R"
  SEED_NO_INDEX=1 seed_app_cert "$R" "$T_DIR/appR" 10 || fail_now "app certificate for R"
  api_json POST "/api/v1/accounts/$R/certificates/renew" '{}' --cert "$APP_CERT" --key "$APP_KEY"
  expect_status 200 "renew within the notice window"
  RNEW=$(jfield serial)
  check '[ "$(jfield renewed)" = true ] && [ -n "$RNEW" ] && [ "$RNEW" != "$APP_SERIAL" ]' "renewed"
  rcli ZADD certs:expiry "$(rcli HGET "cert:$APP_SERIAL" not_after)" "$APP_SERIAL" >/dev/null
  mgr_wait "[ \$(rcli XLEN 'ev:{$R}') -ge 3 ]" 15
  api GET "/api/v1/accounts/$R/events" -u "$ADMIN"; expect_status 200 "admin lists R's events"
  check '[ "$(jfield events.0.type)" = certificate.renewed ] && [ "$(jfield events.1.type)" = certificate.expiring ]' "renewed, then the notice"
  check '[ "$(jfield events.1.data.serial)" = "$APP_SERIAL" ] && [ "$(jfield events.1.data.superseded_by)" = "$RNEW" ]' "the old certificate's notice is superseded_by the renewed one"
  seed_app_cert "$A" "$T_DIR/app" 60 >/dev/null  # back to A's identity (a second valid one)
fi
# The expiry scanner's events reach the stream.
SX=$(seed_serial); seed_cert "$SX" "acct:$A" $(( $(date +%s) + 10 * 86400 ))
mgr_wait "[ \$(grep -c '^event: certificate.expiring' '$SSE_DIR/s1.out') -ge 2 ]" 15
check '[ "$(grep -c "^event: certificate.expiring" "$SSE_DIR/s1.out")" = 2 ]' "scanner events arrive, once each"

E2=$(seed_event "$A" test.two '{"n":2}')
mgr_wait "grep -q '^id: $E2' '$SSE_DIR/s1.out'" 10
check '[ "$(ids s1 | sort | uniq -d | wc -l)" = 0 ]' "no id twice on one stream"
sse_stop s1
mgr_wait "grep -q 'ends: the client went away' '$MANAGER_DATA_DIR/logs/gateway.log'" 10
check 'grep -q "ends: the client went away" "$MANAGER_DATA_DIR/logs/gateway.log"' "the gateway notices the disconnect"

# While nobody listens, more happens.
E3=$(seed_event "$A" test.three '{"n":3}')
E4=$(seed_event "$A" test.four '{"n":4}')
ALL=$(rcli XRANGE "ev:{$A}" - + | grep -E '^[0-9]+-[0-9]+$')

# Reconnect with Last-Event-ID = E1: everything after it, in order, once,
# then live events.
sse_start s2 -H "Last-Event-ID: $E1" || fail_now "the second stream did not start"
mgr_wait "grep -q '^id: $E4' '$SSE_DIR/s2.out'" 10
want=$(grep -A1000 -x "$E1" <<<"$ALL" | tail -n +2)
check '[ "$(ids s2)" = "$want" ]' "Last-Event-ID replays what followed, in order, once"
E5=$(seed_event "$A" test.five '{"n":5}')
mgr_wait "grep -q '^id: $E5' '$SSE_DIR/s2.out'" 10
check '[ "$(ids s2 | tail -1)" = "$E5" ] && [ "$(ids s2 | sort | uniq -d | wc -l)" = 0 ]' "then live again, no repeats"
sse_stop s2

# ?after= does the same when there is no Last-Event-ID.
SSE_QUERY="?after=$E3" sse_start s3 || fail_now "the third stream did not start"
mgr_wait "grep -q '^id: $E5' '$SSE_DIR/s3.out'" 10
check '[ "$(ids s3 | head -1)" = "$E4" ] && [ "$(ids s3 | tail -1)" = "$E5" ]' "?after= replays from the cursor"
sse_stop s3

# A made-up Last-Event-ID past the newest event hides nothing that follows.
sse_start s6 -H "Last-Event-ID: 99999999999999-0" || fail_now "the sixth stream did not start"
E6=$(seed_event "$A" test.six '{"n":6}')
mgr_wait "grep -q '^id: $E6' '$SSE_DIR/s6.out'" 10
check '[ "$(ids s6)" = "$E6" ]' "a future Last-Event-ID still gets the next event, and only it"
sse_stop s6

# The list as the app shows the same feed.
seed_app_api GET "/api/v1/accounts/$A/events?after=$E3"; expect_status 200 "app lists after a cursor"
check '[ "$(jfield events.0.id)" = "$E4" ]' "list after E3 starts at E4"

# Revocation ends an open stream (the CA revokes, and tells mgr:auth).
sse_start s4 || fail_now "the fourth stream did not start"
rcli HSET "cert:$APP_SERIAL" revoked_at "$(date +%s)" >/dev/null
rcli ZREM certs:expiry "$APP_SERIAL" >/dev/null
rcli PUBLISH mgr:auth "cert $APP_SERIAL" >/dev/null
mgr_wait "! kill -0 $SSE_PID_s4" 10
check '! kill -0 $SSE_PID_s4 2>/dev/null' "the stream ends when the certificate is revoked"
seed_app_api GET "/api/v1/accounts/$A/events/stream"; expect_status 401 "revoked certificate refused"

# Disabling the account ends an open stream too.
seed_app_cert "$A" "$T_DIR/app" 60
sse_start s5 || fail_now "the fifth stream did not start"
rcli HSET "acct:{$A}" state disabled >/dev/null
rcli PUBLISH mgr:auth "account $A" >/dev/null
mgr_wait "! kill -0 $SSE_PID_s5" 10
check '! kill -0 $SSE_PID_s5 2>/dev/null' "the stream ends when the account is disabled"
