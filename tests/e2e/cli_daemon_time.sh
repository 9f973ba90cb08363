#!/usr/bin/env bash
# mgr renew --daemon renews by time when less than a third of the lifetime
# is left, without any expiry event (the scanner runs once an hour here),
# and also when the event stream is down: the gateway is stopped when the
# daemon starts, and the renewal happens once it is back.
export MANAGER_EXPIRY_SCAN_INTERVAL_S=3600
export MANAGER_MIN_CERT_VALIDITY_S=60
. "$(dirname "$0")/../lib/stack.sh"
. "$MGR_ROOT/tests/lib/cli.sh"
stack_up
export MANAGER_URL=$URL MANAGER_CA_CERT=$CA
W=$T_DIR/w && mkdir -p "$W" && cd "$W" || fail_now "no work dir"
D=""
trap 'rc=$?; [ -n "$D" ] && kill -KILL $D 2>/dev/null; (exit $rc); stack_down' EXIT

"$MGR" account create --name timed --bundle timed.json >/dev/null || fail_now "account create"
# 2 minutes: with not_before back-dated (the Manager allows for clock skew)
# less than a third of the lifetime is left from the start
"$MGR" enroll --bundle timed.json --dir app -q --expires "$(iso '+2 minutes')" || fail_now "enroll"
mgr_run --dir app status --json
check '[ "$(date -d "$(out_field renew_by)" +%s)" -le "$(date +%s)" ]' "due by time at once ($(out_field renew_by))"
S0=$(cert_serial app/cert.pem)
mgr_run --dir app events --json
check '! grep -q certificate.expiring <<<"$OUT"' "no expiry event was sent"
kill -TERM "$MGR_PID_gateway"; wait "$MGR_PID_gateway" 2>/dev/null
"$MGR" --dir app renew --daemon --backoff-max 2 --exec 'echo "$MGR_SERIAL" >> "$MGR_DIR/../hook.log"' 2>d.log &
D=$!
sleep 4
check '[ "$(cert_serial app/cert.pem)" = "$S0" ] && kill -0 $D' "with the Manager down: retrying, nothing changed"
check 'grep -q "renewal failed\|event stream:" d.log' "the failures are logged ($(tail -2 d.log))"
mgr_spawn_proc gateway gateway
mgr_wait "curl -sf --cacert $CA $URL/readyz" 30 || fail_now "gateway did not come back"
mgr_wait '[ -s hook.log ]' 60
rc=$?
check '[ $rc -eq 0 ]' "renewed by time once the Manager was back ($(tail -3 d.log))"
check 'grep -q "less than a third" d.log' "the log says why"
S1=$(cert_serial app/cert.pem)
check '[ "$S1" != "$S0" ] && pair_match app' "a new certificate for the same key"
check '[ "$(cert_end app/cert.pem)" -gt "$(date -d "+20 hours" +%s)" ]' "asked for the same lifetime again (at least a day)"
kill -TERM $D; wait $D
rc=$?
D=""
check '[ $rc -eq 0 ]' "exit 0 on SIGTERM"
