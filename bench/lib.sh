# Shared by bench/run-*.sh: builds the release stack and the tools, starts the
# stack on loopback with a temp MANAGER_DATA_DIR, and small helpers. Sourced.
set -uo pipefail
B_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B_BUILD=${BENCH_BUILD_DIR:-$B_ROOT/build-release}
B_TOOLS=$B_BUILD/bench
B_DURATION=${BENCH_DURATION:-10}
B_WARMUP=${BENCH_WARMUP:-2}
B_RUNS=${BENCH_RUNS:-3}
B_CONNS=${BENCH_CONNS:-16}
B_THREADS=${BENCH_THREADS:-2}
MGR_ROOT=$B_ROOT
MGR_BIN=$B_BUILD
. "$B_ROOT/scripts/lib/stack.sh"

B_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mgr-bench.XXXXXX")
B_EXTRA_PIDS=""

b_log() { echo "== $*" >&2; }

# Release build of the stack (-O3; -g for profiles) and of the bench tools.
b_build() {
  b_log "building the stack (Release) into $B_BUILD"
  # -Wno-error=format-truncation: gcc 12 -O2/-O3 flags common/config.c:21
  # (the Debug build does not); harmless, and the build must not fail here.
  cmake -S "$B_ROOT" -B "$B_BUILD" -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_C_FLAGS=-g -Wno-error=format-truncation" >/dev/null &&
    cmake --build "$B_BUILD" -j "$(nproc)" -- --no-print-directory >/dev/null ||
    { echo "build failed" >&2; return 1; }
  mkdir -p "$B_TOOLS"
  cc -O2 -g -Wall -Wextra -Werror -o "$B_TOOLS/loadgen" "$B_ROOT/bench/loadgen.c" \
    -lssl -lcrypto -lpthread &&
    cc -O2 -Wall -Wextra -Werror -o "$B_TOOLS/mkcsr" "$B_ROOT/bench/mkcsr.c" -lcrypto
}

# Starts Redis and the four processes with a fresh data dir. Extra MANAGER_*
# variables (e.g. MANAGER_CA_KEY_TYPE) are taken from the environment.
b_stack_up() {
  export MANAGER_DATA_DIR=$B_TMP/data-$1
  mkdir -p "$MANAGER_DATA_DIR" && chmod 700 "$MANAGER_DATA_DIR"
  export MANAGER_HTTPS_PORT=$(mgr_free_port)
  export MANAGER_ADMIN_PASSWORD=${MANAGER_ADMIN_PASSWORD:-benchpw-$RANDOM$RANDOM$RANDOM}
  export MANAGER_LOG_LEVEL=${MANAGER_LOG_LEVEL:-warn}
  unset MANAGER_REDIS_URL
  MGR_REDIS_PORT=""
  mgr_start_redis || return 1
  mgr_start_services || return 1
  ADMIN="admin:$MANAGER_ADMIN_PASSWORD"
  URL=$MGR_URL
  CA=$MGR_CA_PEM
}

b_stack_down() { mgr_stop; }

b_cleanup() {
  local p
  mgr_stop
  for p in $B_EXTRA_PIDS; do kill -TERM "$p" 2>/dev/null; done
  for p in $B_EXTRA_PIDS; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
  done
  B_EXTRA_PIDS=""
  if [ -n "${BENCH_KEEP:-}" ]; then echo "kept $B_TMP" >&2; else rm -rf "$B_TMP"; fi
}

# b_load NAME ARGS...: runs the load generator; stores its output in
# $B_TMP/NAME.out and prints the RESULT line.
b_load() {
  local name=$1; shift
  "$B_TOOLS/loadgen" -c "$B_CONNS" -t "$B_THREADS" -d "$B_DURATION" -w "$B_WARMUP" "$@" \
    >"$B_TMP/$name.out" 2>&1
  cat "$B_TMP/$name.out" >&2
  grep '^RESULT' "$B_TMP/$name.out" || echo "RESULT rps=0 ok_rps=0 p50_ms=0 p99_ms=0"
}

# field RESULT-LINE KEY
b_field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

# Median of the numbers on stdin.
b_median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

b_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b+0 == 0) print "n/a"; else printf "%.2f", a/b }'; }

# Peak resident set (VmHWM, kB) of a pid.
b_hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Is the registration API on this build? (POST /api/v1/accounts answers 201.)
b_has_accounts_api() {
  local st
  st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" -u "$ADMIN" \
    -H 'Content-Type: application/json' --data-binary '{}' "$URL/api/v1/accounts")
  [ "$st" != 404 ] && [ "$st" != 405 ] && [ "$st" != 000 ]
}

# b_make_identities PREFIX COUNT IDFILE: COUNT accounts (role vault_provisioner)
# registered through the API with an EC P-256 key each; writes lines
# "CERT KEY ACCOUNT_ID" for loadgen -I. Falls back to tests/lib/app_identity.sh
# (a certificate signed with the stack's CA key, Redis seeded directly) when
# the registration API is not there yet.
b_make_identities() {
  local prefix=$1 count=$2 idfile=$3 dir="$B_TMP/keys-$1" i acc id pw st
  mkdir -p "$dir"; : >"$idfile"
  for i in $(seq 1 "$count"); do
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj "/CN=$prefix-app-$i/O=mgr-bench" -keyout "$dir/$i.key" -out "$dir/$i.csr" 2>/dev/null ||
      return 1
    pw="temp-password-$RANDOM$RANDOM$RANDOM"
    acc=$(curl -sS --cacert "$CA" -u "$ADMIN" -H 'Content-Type: application/json' \
      --data-binary "{\"name\":\"$prefix-$i\",\"role\":\"vault_provisioner\",\"username\":\"$prefix-u$i\",\"password\":\"$pw\"}" \
      "$URL/api/v1/accounts")
    id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$acc" 2>/dev/null)
    if [ -z "$id" ]; then
      if [ -f "$B_ROOT/tests/lib/app_identity.sh" ] && [ "$i" = 1 ]; then
        b_log "registration API not available; using tests/lib/app_identity.sh"
      else
        echo "cannot create an account: $acc" >&2; return 1
      fi
      # shellcheck disable=SC1091
      . "$B_ROOT/tests/lib/app_identity.sh"
      app_identity "$prefix-app-$i" "$dir/$i" || return 1   # see that file
      echo "$dir/$i.pem $dir/$i.key $(cat "$dir/$i.id")" >>"$idfile"
      continue
    fi
    python3 -c 'import json,sys; print(json.dumps({"csr": open(sys.argv[1]).read()}))' "$dir/$i.csr" >"$dir/$i.req"
    st=$(curl -sS -o "$dir/$i.resp" -w '%{http_code}' --cacert "$CA" -u "$prefix-u$i:$pw" \
      -H 'Content-Type: application/json' --data-binary @"$dir/$i.req" \
      "$URL/api/v1/accounts/$id/certificates")
    [ "$st" = 201 ] || { echo "register: $st $(cat "$dir/$i.resp")" >&2; return 1; }
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["certificate"], end="")' \
      "$dir/$i.resp" >"$dir/$i.pem"
    echo "$dir/$i.pem $dir/$i.key $id" >>"$idfile"
  done
}

# Process CPU time (utime+stime, clock ticks) of a pid.
b_cpu() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
