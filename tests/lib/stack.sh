# Test harness: a private stack per test on free ports, with curl helpers.
# Source it, then call `stack_up`; everything stops on exit.
set -uo pipefail
MGR_ROOT=${MGR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MGR_BIN=${MGR_BUILD_DIR:-$MGR_ROOT/build}
. "$MGR_ROOT/scripts/lib/stack.sh"

T_FAILS=0
T_PASSES=0
T_NAME=$(basename "$0" .sh)

stack_up() {
  T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mgr-$T_NAME.XXXXXX")
  export MANAGER_DATA_DIR=$T_DIR/data
  mkdir -p "$MANAGER_DATA_DIR"
  export MANAGER_HTTPS_PORT=$(mgr_free_port)
  # The S3 listener too gets a port of its own (tests run side by side);
  # MANAGER_S3_PORT=0 keeps it off.
  if [ "${MANAGER_S3_PORT:-}" != 0 ]; then
    MANAGER_S3_PORT=$(mgr_free_port)
    while [ "$MANAGER_S3_PORT" = "$MANAGER_HTTPS_PORT" ]; do MANAGER_S3_PORT=$(mgr_free_port); done
    export MANAGER_S3_PORT
  fi
  export MANAGER_ADMIN_PASSWORD=${MANAGER_ADMIN_PASSWORD:-adminpw-$RANDOM$RANDOM$RANDOM}
  export MANAGER_LOG_LEVEL=${MANAGER_LOG_LEVEL:-info}
  # Tests assert behaviour, not speed: a generous deadline keeps a slow
  # sanitizer build on a busy machine from turning answers into 503s.
  export MANAGER_RPC_TIMEOUT_MS=${MANAGER_RPC_TIMEOUT_MS:-30000}
  unset MANAGER_REDIS_URL
  trap 'stack_down' EXIT
  mgr_start_redis || fail_now "redis did not start"
  mgr_start_services || fail_now "the stack did not start"
  CA=$MGR_CA_PEM
  URL=$MGR_URL
  ADMIN="admin:$MANAGER_ADMIN_PASSWORD"
}

# Restarts the four Manager processes (not Redis) on the same data.
stack_restart_services() {
  local redis=$MGR_REDIS_PID
  MGR_REDIS_PID=""
  mgr_stop
  MGR_REDIS_PID=$redis
  mgr_start_services || fail_now "restart failed"
}

stack_down() {
  local rc=$?
  mgr_stop
  # A sanitizer report in any log fails the test.
  if grep -lE "AddressSanitizer|LeakSanitizer|runtime error:" "$MANAGER_DATA_DIR"/logs/*.log 2>/dev/null; then
    echo "FAIL: sanitizer report in the logs above" >&2
    grep -hE -A20 "AddressSanitizer|LeakSanitizer|runtime error:" "$MANAGER_DATA_DIR"/logs/*.log | head -60 >&2
    T_FAILS=$((T_FAILS + 1))
  fi
  if [ "$T_FAILS" -gt 0 ] && [ -d "${MANAGER_DATA_DIR:-}/logs" ]; then
    echo "--- last log lines ---" >&2
    tail -n 15 "$MANAGER_DATA_DIR"/logs/*.log >&2
  fi
  [ -n "${T_DIR:-}" ] && [ "$T_FAILS" -eq 0 ] && rm -rf "$T_DIR"
  echo "$T_PASSES passed, $T_FAILS failed"
  [ "$T_FAILS" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
  exit 1
}

fail_now() { echo "FAIL: $*" >&2; T_FAILS=$((T_FAILS + 1)); exit 1; }

# api METHOD PATH [curl args...]: sets ST (status) and BODY.
api() {
  local m=$1 p=$2; shift 2
  local out
  out=$(mktemp)
  ST=$(curl -sS -o "$out" -w '%{http_code}' --cacert "$CA" -X "$m" "$@" "$URL$p")
  BODY=$(cat "$out")
  rm -f "$out"
}
# JSON body helper: api_json METHOD PATH JSON [curl args...]
api_json() {
  local m=$1 p=$2 j=$3; shift 3
  api "$m" "$p" -H 'Content-Type: application/json' --data-binary "$j" "$@"
}

# expect_status WANT WHAT: checks $ST.
expect_status() {
  if [ "$ST" = "$1" ]; then
    T_PASSES=$((T_PASSES + 1))
  else
    echo "FAIL: $2: status $ST, want $1; body: ${BODY:0:300}" >&2
    T_FAILS=$((T_FAILS + 1))
  fi
}
# expect_code CODE WHAT: checks the error code in $BODY.
expect_code() {
  local got
  got=$(jfield error.code)
  if [ "$got" = "$1" ]; then
    T_PASSES=$((T_PASSES + 1))
  else
    echo "FAIL: $2: error code '$got', want $1; body: ${BODY:0:300}" >&2
    T_FAILS=$((T_FAILS + 1))
  fi
}
# iso WHEN: an RFC 3339 UTC time for date -d (e.g. "+20 seconds").
iso() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
# check COND WHAT: evaluates a shell condition.
check() {
  if eval "$1"; then
    T_PASSES=$((T_PASSES + 1))
  else
    echo "FAIL: $2 ($1)" >&2
    T_FAILS=$((T_FAILS + 1))
  fi
}
# jfield a.b.0.c [json]: prints one member of $BODY (or the given JSON).
jfield() {
  python3 -c '
import json, sys
v = json.loads(sys.argv[2])
for k in sys.argv[1].split("."):
    if isinstance(v, list): v = v[int(k)]
    elif isinstance(v, dict): v = v.get(k)
    else: v = None
    if v is None: break
print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list, bool)) else v))
' "$1" "${2:-$BODY}" 2>/dev/null
}
