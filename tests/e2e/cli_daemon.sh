#!/usr/bin/env bash
# mgr renew --daemon: renews a 20-day certificate by itself within seconds
# on the Manager's certificate.expiring event and runs its hook; survives a
# gateway restart in the middle of its stream (resuming with Last-Event-ID)
# and then acts on an event of a rotated certificate; exits 0 on SIGTERM and
# on SIGINT. Key and certificate match throughout.
export MANAGER_EXPIRY_SCAN_INTERVAL_S=1
export MANAGER_EXPIRY_NOTICE_DAYS=30
export MANAGER_SSE_HEARTBEAT_S=2
. "$(dirname "$0")/../lib/stack.sh"
. "$MGR_ROOT/tests/lib/cli.sh"
stack_up
export MANAGER_URL=$URL MANAGER_CA_CERT=$CA
W=$T_DIR/w && mkdir -p "$W" && cd "$W" || fail_now "no work dir"
DPIDS=""
cleanup_daemons() { local p; for p in $DPIDS; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap 'rc=$?; cleanup_daemons; (exit $rc); stack_down' EXIT

enroll() { # enroll NAME DIR [enroll args]
  local n=$1 d=$2; shift 2
  "$MGR" account create --name "$n" --bundle "$n.json" >/dev/null || fail_now "account create $n"
  "$MGR" enroll --bundle "$n.json" --dir "$d" -q "$@" || fail_now "enroll $n"
}

# --- 1. renewal by the expiry event, with the hook
enroll one one --expires "$(iso '+20 days')"
S0=$(cert_serial one/cert.pem)
"$MGR" --dir one renew --daemon --exec 'echo "$MGR_SERIAL $MGR_NOT_AFTER" >> "$MGR_DIR/../hook-one.log"' 2>one.log &
D1=$!; DPIDS="$DPIDS $D1"
mgr_wait '[ -s hook-one.log ]' 60
rc=$?
check '[ $rc -eq 0 ]' "the hook ran within 60 s ($(tail -3 one.log))"
S1=$(cert_serial one/cert.pem)
check '[ -n "$S1" ] && [ "$S1" != "$S0" ]' "cert.pem was renewed ($S0 -> $S1)"
check '[ "$(cert_end one/cert.pem)" -gt "$(date -d "+300 days" +%s)" ]' "the new certificate runs a year"
check '[ "$(cut -d" " -f1 hook-one.log | head -1)" = "$S1" ]' "the hook got the new serial"
check 'grep -q "certificate.expiring" one.log' "the log says it was the expiry event"
check 'pair_match one' "key and certificate match"
check 'openssl verify -CAfile "$CA" one/cert.pem >/dev/null' "the renewed certificate verifies"
sleep 3
check '[ "$(wc -l < hook-one.log)" -eq 1 ]' "renewed once, not again and again"
mgr_run --dir one status --json
check '[ "$(out_field serial)" = "$S1" ] && [ "$(out_field certificate_status)" = valid ]' "status sees the new certificate"
kill -TERM $D1; wait $D1
rc=$?
check '[ $rc -eq 0 ]' "exit 0 on SIGTERM"
check '[ -s one/events.cursor ]' "the stream position is kept"
# a second run resumes after the cursor: no renewal again
"$MGR" --dir one renew --daemon --exec 'echo again >> "$MGR_DIR/../hook-one.log"' 2>one2.log &
D1=$!; DPIDS="$DPIDS $D1"
mgr_wait 'grep -q "event stream open" one2.log' 30
sleep 2
kill -INT $D1; wait $D1
rc=$?
check '[ $rc -eq 0 ]' "exit 0 on SIGINT"
check '[ "$(wc -l < hook-one.log)" -eq 1 ] && grep -q "after [0-9]" one2.log' "resumed after the cursor, nothing to do"

# --- 2. a gateway restart in the middle of the stream
enroll two two
"$MGR" --dir two renew --daemon --exec 'echo "$MGR_SERIAL" >> "$MGR_DIR/../hook-two.log"' 2>two.log &
D2=$!; DPIDS="$DPIDS $D2"
mgr_wait 'grep -q "event stream open" two.log' 30
rc=$?
check '[ $rc -eq 0 ]' "stream open ($(tail -2 two.log))"
kill -TERM "$MGR_PID_gateway"; wait "$MGR_PID_gateway" 2>/dev/null
mgr_wait 'grep -q "event stream: \|event stream ended" two.log' 30
rc=$?
check '[ $rc -eq 0 ]' "the daemon saw the stream drop"
sleep 2
check 'kill -0 $D2' "the daemon is still up with the gateway down"
mgr_spawn_proc gateway gateway
mgr_wait "curl -sf --cacert $CA $URL/readyz" 30 || fail_now "gateway did not come back"
mgr_wait '[ "$(grep -c "event stream open" two.log)" -ge 2 ]' 90
rc=$?
check '[ $rc -eq 0 ]' "reconnected after the restart ($(tail -3 two.log))"
check 'grep "event stream open" two.log | tail -1 | grep -q "after [0-9]"' "resumed with Last-Event-ID"
# now the daemon must act on an event: rotate to a 20-day certificate in its
# directory; its stream (old certificate revoked) ends, it reloads the
# directory and renews the new one on its expiry event
mgr_run --dir two rotate --expires "$(iso '+20 days')"; expect_rc 0 "rotate under the daemon"
R=$(cert_serial two/cert.pem)
mgr_wait '[ -s hook-two.log ]' 90
rc=$?
check '[ $rc -eq 0 ]' "the daemon renewed the rotated certificate ($(tail -4 two.log))"
S2=$(cert_serial two/cert.pem)
check '[ "$S2" != "$R" ] && [ "$(head -1 hook-two.log)" = "$S2" ]' "new certificate, hook with its serial"
check 'pair_match two' "key and certificate match after rotation and renewal"
kill -TERM $D2; wait $D2
rc=$?
check '[ $rc -eq 0 ]' "exit 0 on SIGTERM after the restart"
DPIDS=""
