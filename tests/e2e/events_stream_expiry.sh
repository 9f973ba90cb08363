#!/usr/bin/env bash
# An event stream opened with a certificate ends when that certificate
# expires, as a new request with it is refused (API.md: an expired
# certificate stops everything), and gets no event of what happens after:
# not only at the next heartbeat (here 50 s), with events sent until then.
# (15 s of life: a loaded sanitizer run must register, rotate and open the
# stream before it ends.)
export MANAGER_MIN_CERT_VALIDITY_S=0
export MANAGER_SSE_HEARTBEAT_S=50
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
stack_up
W=$T_DIR/w
mkdir -p "$W"

PW="expiry-stream-pw-$RANDOM"
make_pending_account short-lived shortuser "$PW"; A=$ACC_ID
gen_csr "$W/e" "/O=Manager tests/CN=short-lived"
EXP_S=$(( $(date +%s) + 15 ))
register "$A" "$W/e.csr" "$(date -u -d "@$EXP_S" +%FT%TZ)" "shortuser:$PW"
expect_status 201 "certificate that expires in 15 s"
jfield certificate >"$W/e.crt"
# A second, long-lived certificate of the account (revoke: [] keeps e).
gen_csr "$W/f" "/O=Manager tests/CN=short-lived"
app_json POST "/api/v1/accounts/$A/certificates/rotate" \
  "$(jq -cn --arg c "$(cat "$W/f.csr")" '{csr:$c, revoke:[]}')" "$W/e"
expect_status 201 "long-lived second certificate"
jfield certificate >"$W/f.crt"

curl -sS -N --cacert "$CA" --cert "$W/e.crt" --key "$W/e.key" --max-time 40 \
  -o "$W/stream.out" "$URL/api/v1/accounts/$A/events/stream" 2>/dev/null &
SP=$!
MGR_PIDS="$MGR_PIDS $SP"
mgr_wait "grep -q '^: events of' '$W/stream.out'" 15 || fail_now "the stream did not start"

# Past the expiry: a new request with e is refused...
while [ "$(date +%s)" -le $((EXP_S + 1)) ]; do sleep 0.5; done
app GET "/api/v1/accounts/$A/events" "$W/e"
expect_status 401 "a new request with the expired certificate"
# ...and an event of the account made now (with f) must not reach e's stream.
gen_csr "$W/g" "/O=Manager tests/CN=short-lived"
app_json POST "/api/v1/accounts/$A/certificates/rotate" \
  "$(jq -cn --arg c "$(cat "$W/g.csr")" '{csr:$c, revoke:[]}')" "$W/f"
expect_status 201 "rotation with the valid certificate after e expired"
NEW=$(jfield serial)
sleep 2
check '! kill -0 $SP 2>/dev/null' "the stream of the expired certificate has ended"
check '! grep -q "$NEW" "$W/stream.out"' \
  "no event after the expiry on the expired certificate's stream"
check 'grep -q "^: unauthenticated" "$W/stream.out"' "the stream says why it ended"
kill "$SP" 2>/dev/null; wait "$SP" 2>/dev/null
