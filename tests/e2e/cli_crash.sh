#!/usr/bin/env bash
# Key and certificate always match, whatever the moment mgr is killed:
# kill -9 of the daemon during its renewal, and of mgr rotate, at random
# moments, a few times each; after each kill the files are a matching pair,
# and the next mgr command works (it finishes or undoes a rotation).
export MANAGER_EXPIRY_SCAN_INTERVAL_S=1
. "$(dirname "$0")/../lib/stack.sh"
. "$MGR_ROOT/tests/lib/cli.sh"
stack_up
export MANAGER_URL=$URL MANAGER_CA_CERT=$CA
W=$T_DIR/w && mkdir -p "$W" && cd "$W" || fail_now "no work dir"
D=""
trap 'rc=$?; [ -n "$D" ] && kill -KILL $D 2>/dev/null; (exit $rc); stack_down' EXIT
ROUNDS=${CLI_CRASH_ROUNDS:-4}

# --- the daemon, killed during renewal
for i in $(seq 1 "$ROUNDS"); do
  "$MGR" account create --name "crash-$i" --bundle "c$i.json" >/dev/null || fail_now "account create"
  "$MGR" enroll --bundle "c$i.json" --dir "d$i" -q --expires "$(iso '+20 days')" || fail_now "enroll"
  S0=$(cert_serial "d$i/cert.pem")
  "$MGR" --dir "d$i" renew --daemon -v 2>"d$i.log" &
  D=$!
  # kill when it starts renewing (plus 0-150 ms), or after 5 s at the latest
  mgr_wait "grep -q 'renewing certificate' d$i.log" 5
  sleep "0.$(printf '%03d' $((RANDOM % 150)))"
  kill -KILL $D; wait $D 2>/dev/null; D=""
  check 'pair_match d$i' "round $i: key and certificate match after kill -9"
  check 'openssl verify -CAfile "$CA" d$i/cert.pem >/dev/null' "round $i: cert.pem is whole"
  # again, to the end
  "$MGR" --dir "d$i" renew --daemon 2>"d$i-2.log" &
  D=$!
  mgr_wait "grep -q 'watching certificate' d$i-2.log" 30 # up (handlers set)
  mgr_wait "[ \"\$(cert_end d$i/cert.pem)\" -gt $(date -d '+300 days' +%s) ]" 60
  rc=$?
  kill -TERM $D; wait $D; rc2=$?; D=""
  check '[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ "$(cert_serial d$i/cert.pem)" != "$S0" ]' "round $i: renewed after the restart ($(tail -2 d$i-2.log))"
  check 'pair_match d$i' "round $i: a matching pair after the renewal"
  mgr_run --dir "d$i" status --json
  check '[ "$(out_field certificate_status)" = valid ]' "round $i: status works"
done

# --- mgr rotate, killed at a random moment
"$MGR" account create --name rot --bundle rot.json >/dev/null || fail_now "account create"
"$MGR" enroll --bundle rot.json --dir rot -q || fail_now "enroll"
for i in $(seq 1 "$ROUNDS"); do
  before=$(cert_serial rot/cert.pem)
  "$MGR" --dir rot rotate -q 2>"rot$i.log" &
  p=$!
  sleep "0.$(printf '%03d' $((RANDOM % 400)))"
  kill -KILL $p 2>/dev/null; wait $p 2>/dev/null
  # on disk: a matching pair, or the two-rename window that the next
  # command finishes (cert.pem.new still there, matching key.pem)
  check 'pair_match rot || { [ -e rot/cert.pem.new ] && [ ! -e rot/key.pem.new ]; }' "rotate round $i: a matching pair or a finishable switch after kill -9"
  mgr_run --dir rot status --json
  if [ "$RC" -ne 0 ] && grep -q "interrupted rotation" <<<"$ERR"; then
    # killed between the Manager's commit and its answer: the old pair
    # stays intact, the new key is kept, and the way out the message names
    # works: the administrator's copy of the certificate as cert.pem.new
    echo "round $i: killed inside the answer window: $ERR"
    check 'pair_match rot && [ -e rot/key.pem.new ]' "rotate round $i: pair intact, new key kept"
    mgr_run account certificates "$(jfield account_id "$(cat rot.json)")" --json
    python3 -c '
import json, sys
c = [x for x in json.loads(sys.argv[1])["certificates"] if x["status"] == "valid"]
print(c[-1]["certificate"], end="")' "$OUT" > rot/cert.pem.new
    mgr_run --dir rot status --json
  fi
  expect_rc 0 "rotate round $i: the next command recovers"
  check 'pair_match rot && [ ! -e rot/key.pem.new ] && [ ! -e rot/cert.pem.new ]' "rotate round $i: nothing left half done"
  check '[ "$(out_field certificate_status)" = valid ]' "rotate round $i: the pair in use is valid ($(out_field serial) was $before)"
done
