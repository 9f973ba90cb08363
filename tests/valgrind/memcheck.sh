#!/usr/bin/env bash
# The account, ca and vault services under valgrind memcheck through the
# README's whole walk-through (register, vault I/O, renew, rotate, revoke,
# disable) and a clean stop: no memory errors, no definite leaks.
. "$(dirname "$0")/../lib/stack.sh"
export MGR_VALGRIND_DIR
MGR_VALGRIND_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mgr-valgrind.XXXXXX")
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
PY
out=$(cd "$WORK" && MGR="$URL" CA="$CA" ADMIN_PW="$MANAGER_ADMIN_PASSWORD" bash "$WORK/walkthrough.sh" 2>&1)
rc=$?
check '[ $rc -eq 0 ]' "the walk-through runs with the services under valgrind"
[ $rc -eq 0 ] || { echo "--- walk-through output ---"; echo "$out" | tail -30; } >&2
mgr_stop
for svc in account ca vault; do
  log=$MGR_VALGRIND_DIR/$svc.log
  check '[ -f "$log" ]' "$svc ran under valgrind"
  check '! grep -qE "Invalid (read|write|free)|uninitialised|Mismatched free|definitely lost: [1-9]" "$log"' \
    "$svc: no memory errors and no definite leaks"
  grep -E "Invalid|uninitialised|definitely lost" -A12 "$log" | head -40 >&2
done
rm -rf "$MGR_VALGRIND_DIR"
