#!/usr/bin/env bash
# The account, ca and vault services and the gateway under valgrind memcheck
# through the README's whole walk-through (register, vault I/O, renew,
# rotate, revoke, disable), then gateway paths the walk-through does not
# take (refused requests, an event stream cut off by the client and one
# still open at the stop, idle TLS and plain TCP connections open at the
# stop), and a clean stop: no memory errors, nothing definitely or
# indirectly lost. Suppressions (memcheck.supp) cover only one-time
# allocations inside libraries, each justified there.
#
# Each log must end with valgrind's "ERROR SUMMARY: 0 errors": leaks of
# those kinds count as errors (--errors-for-leak-kinds), and a process that
# did not stop cleanly (killed, hung) writes no summary at all.
. "$(dirname "$0")/../lib/stack.sh"
export MGR_VALGRIND_DIR MGR_VALGRIND_GATEWAY=1
MGR_VALGRIND_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mgr-valgrind.XXXXXX")
# -v after the harness's -q: the normal output, with the ERROR SUMMARY line.
export MGR_VALGRIND_OPTS="-v --show-leak-kinds=definite,indirect \
--errors-for-leak-kinds=definite,indirect --num-callers=30 \
--suppressions=$(cd "$(dirname "$0")" && pwd)/memcheck.supp"
export MANAGER_CA_KEY_TYPE=ec-p256      # key generation under valgrind is slow
export MANAGER_RPC_TIMEOUT_MS=60000
export MGR_STOP_WAIT=600                # leak checking at exit takes a while
stack_up
WORK=$T_DIR/walk
mkdir -p "$WORK"
python3 - "$MGR_ROOT/README.md" > "$WORK/walkthrough.sh" <<'PY'
import re, sys
blocks = re.findall(r"```sh walkthrough\n(.*?)```", open(sys.argv[1]).read(), re.S)
print("set -euo pipefail")
walk = "\n".join(blocks)
# Under valgrind a service may take over /readyz's 1 s ping deadline now and
# then: wait for readiness instead of asserting it once.
walk = walk.replace('curl -sf --cacert "$CA" "$MGR/readyz"',
    'for i in $(seq 60); do curl -sf --cacert "$CA" "$MGR/readyz" && break; sleep 1; done')
print(walk)
# For the gateway paths below: the account enabled again, its ID kept.
print('curl -sf --cacert "$CA" -u "admin:$ADMIN_PW" -X POST "$MGR/api/v1/accounts/$ACCOUNT/enable" >/dev/null')
print('echo "$ACCOUNT" > account.id')
PY
out=$(cd "$WORK" && MGR="$URL" S3="https://127.0.0.1:$MANAGER_S3_PORT" CA="$CA" ADMIN_PW="$MANAGER_ADMIN_PASSWORD" bash "$WORK/walkthrough.sh" 2>&1)
rc=$?
check '[ $rc -eq 0 ]' "the walk-through runs with every process under valgrind"
[ $rc -eq 0 ] || { echo "--- walk-through output ---"; echo "$out" | tail -30; } >&2

# Gateway paths the walk-through does not take: each refused as API.md says.
ACC=$(cat "$WORK/account.id" 2>/dev/null)
APP=(--cert "$WORK/app2.pem" --key "$WORK/app2.key")
J=(-H 'Content-Type: application/json')
api_json POST /api/v1/accounts '{"name":' -u "$ADMIN"; expect_status 400 "malformed JSON"
api_json POST /api/v1/accounts "$(python3 -c 'print("[" * 3000 + "]" * 3000)')" -u "$ADMIN"
expect_status 400 "JSON nested past the parser's depth"
api_json POST /api/v1/accounts '{"name":"x","bogus":1}' -u "$ADMIN"; expect_status 400 "unknown field"
api POST /api/v1/accounts -u "$ADMIN" -H 'Content-Type: text/plain' --data-binary 'x'
expect_status 415 "wrong content type"
head -c 70000 /dev/zero | tr '\0' 'a' >"$T_DIR/big"
api POST /api/v1/accounts -u "$ADMIN" "${J[@]}" --data-binary @"$T_DIR/big"
expect_status 413 "body over 64 KiB"
api GET /api/v1/nothing-here; expect_status 404 "no such route"
api DELETE /api/v1/accounts; expect_status 405 "wrong method"
api GET /api/v1/accounts -H 'Authorization: Basic !!!'; expect_status 401 "malformed Basic"
api GET /api/v1/accounts -u admin:wrong-password; expect_status 401 "wrong password"
api GET '/api/v1/audit?after=%zz' -u "$ADMIN"; expect_status 400 "badly encoded query"
api GET /api/v1/vaults/billing-data/objects/%ff%fe "${APP[@]}"; expect_status 400 "an object key that is not UTF-8"
api GET "/api/v1/accounts/$ACC/events?after=0" "${APP[@]}"; expect_status 200 "events as JSON"
api GET /metrics; expect_status 200 "metrics"
api GET "/api/v1/audit?limit=5" -u "$ADMIN"; expect_status 200 "audit page"
api GET /api/v1/ca/crl; expect_status 200 "CRL"
# Several requests on one kept-alive connection.
two=$(curl -s --cacert "$CA" -u "$ADMIN" -o /dev/null -o /dev/null \
  -w '%{http_code} %{num_connects};' "$URL/api/v1/accounts/$ACC" "$URL/api/v1/vault-templates")
check '[ "$two" = "200 1;200 0;" ]' "two requests on one connection ($two)"
# An object in several RPC chunks (1 MiB each), read back; then an upload
# the client cuts off in the middle of its body.
head -c 3000000 /dev/urandom >"$T_DIR/obj"
api PUT /api/v1/vaults/billing-data/objects/big.bin "${APP[@]}" -T "$T_DIR/obj"
expect_status 201 "a 3 MB object"
curl -sf --cacert "$CA" "${APP[@]}" -o "$T_DIR/obj.back" \
  "$URL/api/v1/vaults/billing-data/objects/big.bin"
check 'cmp -s "$T_DIR/obj" "$T_DIR/obj.back"' "the 3 MB object reads back"
python3 - "$MANAGER_HTTPS_PORT" "$CA" "$WORK/app2.pem" "$WORK/app2.key" <<'PY'
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.check_hostname = False
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                    server_hostname="x")
s.sendall(b"PUT /api/v1/vaults/billing-data/objects/cut.bin HTTP/1.1\r\nHost: a\r\n"
          b"Content-Length: 2000000\r\n\r\n" + b"x" * 700000)
time.sleep(2)
s.close()
PY
api GET /api/v1/vaults/billing-data/objects/cut.bin "${APP[@]}"
expect_status 404 "an upload cut off is not stored"
# A client certificate from another CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=stranger" -keyout "$T_DIR/s.key" -out "$T_DIR/s.pem" 2>/dev/null
api GET /api/v1/vaults --cert "$T_DIR/s.pem" --key "$T_DIR/s.key"
expect_status 401 "a certificate from another CA"
api GET /; expect_status 200 "the console page"
# An event stream the client cuts off, and one still open at the stop.
curl -sN --max-time 3 --cacert "$CA" "${APP[@]}" "$URL/api/v1/accounts/$ACC/events/stream?after=0" \
  >"$T_DIR/sse1" 2>/dev/null
check 'grep -q "^data:" "$T_DIR/sse1"' "an event stream under valgrind sends events"
curl -sN --cacert "$CA" "${APP[@]}" "$URL/api/v1/accounts/$ACC/events/stream" \
  >/dev/null 2>&1 &
SSE_PID=$!
# Idle connections open at the stop: TLS without a request, TCP without TLS.
python3 - "$MANAGER_HTTPS_PORT" "$CA" >/dev/null 2>&1 <<'PY' &
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.check_hostname = False
socks = [ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))),
                         server_hostname="x") for _ in range(5)]
socks += [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(5)]
time.sleep(600)
PY
IDLE_PID=$!
sleep 3
mgr_stop
kill "$SSE_PID" "$IDLE_PID" 2>/dev/null
wait "$SSE_PID" "$IDLE_PID" 2>/dev/null
for svc in account ca vault gateway; do
  log=$MGR_VALGRIND_DIR/$svc.log
  check '[ -f "$log" ]' "$svc ran under valgrind"
  check 'grep -q "ERROR SUMMARY: 0 errors" "$log"' \
    "$svc: stopped cleanly with no memory errors and nothing definitely or indirectly lost"
  grep -E "Invalid|uninitialised|Conditional jump|Syscall param|Mismatched|are (definitely|indirectly) lost|ERROR SUMMARY" \
    -A14 "$log" | grep -v "ERROR SUMMARY: 0 errors" | head -60 >&2
done
[ "$T_FAILS" -eq 0 ] && rm -rf "$MGR_VALGRIND_DIR"
