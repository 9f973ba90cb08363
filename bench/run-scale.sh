#!/usr/bin/env bash
# Scale: registration, forced renewal and 1 KiB vault GETs over mTLS with a
# growing population already in Redis, against the empty system.
#
# One release stack (its own Redis, AOF appendfsync always, as the other
# benches) for the whole run. At each step of BENCH_SCALE_STEPS (accounts:
# 0 1000 10000 100000) the population is topped up by seeding registered
# accounts straight into Redis (bench/scale-seed.py | redis-cli --pipe: the
# records the services write, with real certificates from the stack's CA),
# each with one locked vault of BENCH_SCALE_OBJECTS (10) 1 KiB objects, so
# 100,000 accounts hold 1,000,000 objects. After each seeding: the key shapes
# are compared with an API-registered account's, and seeded accounts, vaults
# and objects are read back through the API (SHA-256 of the data).
# Then, per run (median of BENCH_RUNS):
#   - registration: a pool of BENCH_SCALE_POOL (200) pending accounts made
#     through the API just before (admin POST, EC P-256 CSRs); each request
#     registers one with its temporary credentials (loadgen -L, one line per
#     request: id, Basic credentials, CSR); 201 with a "serial" counted.
#     BENCH_SCALE_REG_CONNS (4) connections: a registration is one scrypt
#     verification (~150 ms of CPU), so 2 cores do ~10/s whatever the
#     connections, and 16 queue past the 10 s RPC timeout on a busy machine;
#   - renewal: 16 freshly registered accounts, forced renewals as in
#     run-signing.sh ("renewed":true counted);
#   - GET: 16 accounts registered at the start, each owning 8 vaults of 125
#     1 KiB objects written through the API (16,000 objects, 128 vaults);
#     connection c reads rd-c-{n mod 8}/k{n mod 125}: every object in turn.
# The table gives each rate's ratio to the empty step (target: >= 0.80) and
# the CPU per request of the stack's five processes (warm-up included), the
# figure that moves least with other work on the machine.
# BENCH_SCALE_PERF=PROC:LOAD (e.g. redis:get, vault:get, ca:renew): perf
# record -g of that process during that load of the last run of the last step.
. "$(dirname "$0")/lib.sh"
trap b_cleanup EXIT
trap 'exit 130' INT TERM
python3 -c 'import cryptography' 2>/dev/null ||
  { echo "needs python3-cryptography (apt-get install python3-cryptography)" >&2; exit 1; }
b_build || exit 1

STEPS=${BENCH_SCALE_STEPS:-0 1000 10000 100000}
OBJS=${BENCH_SCALE_OBJECTS:-10}
POOL=${BENCH_SCALE_POOL:-200}
REG_CONNS=${BENCH_SCALE_REG_CONNS:-4}
PERF=${BENCH_SCALE_PERF:-}
RD_VAULTS=8
RD_KEYS=125
export MANAGER_CA_KEY_TYPE=${MANAGER_CA_KEY_TYPE:-ec-p256}
SAPI="python3 $B_ROOT/bench/scale-api.py"
SUMMARY=$B_TMP/summary.txt
: >"$SUMMARY"

# b_make_identities with retries: setup on a busy machine may meet a 503
# (an RPC timeout behind other work); a new prefix each time.
make_ids() {
  local t
  for t in 1 2 3; do
    b_make_identities "$1x$t" "$2" "$3" && return 0
    b_log "identities $1: attempt $t failed; again"
    sleep 2
  done
  return 1
}

b_stack_up scale || exit 1
RP=$MGR_REDIS_PORT
rc() { redis-cli -p "$RP" "$@"; }
PIDS="$MGR_PID_gateway $MGR_PID_ca $MGR_PID_account $MGR_PID_vault $MGR_REDIS_PID"
NAMES="gateway ca account vault redis"

body=$(curl -sS --cacert "$CA" -u "$ADMIN" -H 'Content-Type: application/json' \
  --data-binary '{"name":"scale-tpl","kind":"vault"}' "$URL/api/v1/vault-templates")
TPL=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$body") ||
  { echo "template: $body" >&2; exit 1; }

b_log "read set: $B_CONNS accounts x $RD_VAULTS vaults x $RD_KEYS objects through the API"
make_ids rd "$B_CONNS" "$B_TMP/ids-rd" || exit 1
head -c 1024 /dev/urandom >"$B_TMP/obj-1k"
t0=$(date +%s.%N)
$SAPI readset "$URL" "$CA" "$B_TMP/ids-rd" "$RD_VAULTS" "$RD_KEYS" "$B_TMP/obj-1k" "$TPL" || exit 1
READSET=$((B_CONNS * RD_VAULTS * RD_KEYS))
echo "API path: $READSET vaults+PUTs in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s" >>"$SUMMARY"
read -r _ _ API_ACCT <"$B_TMP/ids-rd"

# Waits for a background AOF rewrite (seeding triggers them) to finish, so
# that none runs during a measurement.
# cpu_total SNAP0 SNAP1: CPU seconds of all processes between two cpu_snaps.
cpu_total() {
  awk -v a="$1" -v b="$2" -v t="$(getconf CLK_TCK)" 'BEGIN { n = split(a, x, " ");
    split(b, y, " "); s = 0; for (i = 1; i <= n; i++) { split(x[i], p, ","); split(y[i], q, ",");
    s += q[1] - p[1] } printf "%.2f", s / t }'
}
# per_req CPU_S RPS UNIT_SCALE: CPU per request over the warm-up and window.
per_req() {
  awk -v c="$1" -v r="$2" -v d="$B_DURATION" -v w="$B_WARMUP" -v k="$3" \
    'BEGIN { if (r + 0 == 0) print "n/a"; else printf "%.0f", c * k / (r * (d + w)) }'
}
# perf_maybe PROC LOAD: starts perf record on PROC when BENCH_SCALE_PERF asks.
perf_maybe() {
  PERF_PID=""
  [ "$PERF" = "$1:$2" ] && [ "$step" = "$LAST_STEP" ] && [ "$run" = "$B_RUNS" ] || return 0
  local pid
  eval "pid=\${MGR_PID_$1:-}"
  [ "$1" = redis ] && pid=$MGR_REDIS_PID
  perf record -e cpu-clock -g -o "$B_TMP/perf-$1-$2.data" -p "$pid" \
    -- sleep $((B_DURATION + B_WARMUP)) >/dev/null 2>&1 &
  PERF_PID=$!
}
perf_done() {
  [ -n "$PERF_PID" ] || return 0
  wait "$PERF_PID"
  perf report -i "$B_TMP/perf-${PERF/:/-}.data" --no-children -g none --percent-limit 0.7 --sort dso,symbol --stdio 2>/dev/null |
    grep -v '^#' | grep -v '^$' | head -60 >"$B_TMP/perf-report.txt"
  PERF_PID=""
}

aof_quiet() {
  local i
  for i in $(seq 1 600); do
    rc info persistence | grep -q '^aof_rewrite_in_progress:0' &&
      ! rc info persistence | grep -q '^aof_rewrite_scheduled:1' && return 0
    sleep 1
  done
  echo "AOF rewrite still running after 600 s" >&2
}

seed() {
  local first=$1 count=$2 out t0 t1
  mkdir -p "$B_TMP/samples"
  b_log "seeding accounts $first..$((first + count - 1)) with $OBJS objects each"
  t0=$(date +%s.%N)
  out=$(python3 "$B_ROOT/bench/scale-seed.py" --ca-key "$MANAGER_DATA_DIR/ca/ca.key" \
    --ca-cert "$MANAGER_DATA_DIR/ca/ca.pem" --template "$TPL" --first "$first" \
    --count "$count" --objects "$OBJS" --samples "$B_TMP/samples" |
    redis-cli -p "$RP" --pipe 2>&1) || { echo "seeding failed: $out" >&2; return 1; }
  t1=$(date +%s.%N)
  grep -q 'errors: 0,' <<<"$out" || { echo "seeding: $out" >&2; return 1; }
  echo "seeded $count accounts, $((count * OBJS)) objects in $(awk -v a="$t0" -v b="$t1" \
    'BEGIN{printf "%.1f", b-a}') s ($(tail -1 <<<"$out"))" >>"$SUMMARY"
  # The seeded gigabytes sit in the AOF's incremental file: an automatic
  # rewrite would start inside a measurement. Rewrite now, and wait.
  t0=$(date +%s.%N)
  aof_quiet
  rc bgrewriteaof >/dev/null
  sleep 1
  aof_quiet
  echo "  then an AOF rewrite: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s, fork $(rc info stats | tr -d '\r' | sed -n 's/^latest_fork_usec://p') us" >>"$SUMMARY"
}

seeded=0
LAST_STEP=${STEPS##* }
base_reg="" base_renew="" base_get=""
for step in $STEPS; do
  if [ "$step" -gt "$seeded" ]; then
    seed "$seeded" $((step - seeded)) || exit 1
    seeded=$step
    last=$(tail -1 "$B_TMP/samples/samples.txt")
    { echo "step $step: key shapes, API-registered account vs seeded account"
      $SAPI shape "$RP" "$API_ACCT" "$(cut -d' ' -f2 <<<"$last")" &&
      $SAPI verify "$URL" "$CA" "$ADMIN" "$B_TMP/samples/samples.txt" "$OBJS"
    } >>"$SUMMARY" 2>&1 || { tail -40 "$SUMMARY" >&2; exit 1; }
  fi
  accounts=$(rc zcard acct:all)
  vaults=$(rc zcard vault:all)
  objects=$((seeded * OBJS + READSET + 0))
  mem=$(rc info memory | sed -n 's/^used_memory_human:\(.*\)\r$/\1/p')
  keys=$(rc dbsize)
  aof=$(du -sh "$MANAGER_DATA_DIR/redis" | cut -f1)
  echo "step $step: acct:all $accounts, vault:all $vaults, objects $objects, certificates $(rc zcard certs:expiry), DBSIZE $keys, used_memory $mem, AOF dir $aof; $(uptime | sed 's/.*load/load/')" >>"$SUMMARY"
  echo "step $step: MEMORY USAGE audit $(rc memory usage audit) B ($(rc xlen audit) entries), acct:all $(rc memory usage acct:all) B, vault:all $(rc memory usage vault:all) B, certs:expiry $(rc memory usage certs:expiry) B" >>"$SUMMARY"
  # The admin listings (no paging in API.md): one Lua script per call over
  # up to 10,000 records. Time, size and count of one call each.
  for what in accounts vaults; do
    curl -sS -o "$B_TMP/list.json" -w "step $step: admin GET /api/v1/$what %{http_code} %{time_total} s %{size_download} B" \
      --cacert "$CA" -u "$ADMIN" "$URL/api/v1/$what" >>"$SUMMARY"
    echo ", $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d[sys.argv[2]]), "entries")' "$B_TMP/list.json" "$what")" >>"$SUMMARY"
  done
  reg=() renew=() get=() reg99=() renew99=() get99=() regc=() renewc=() getc=()
  rc config resetstat >/dev/null
  for run in $(seq 1 "$B_RUNS"); do
    b_log "step $step run $run: registration pool of $POOL"
    $SAPI pool "$URL" "$CA" "$ADMIN" "pool$step-$run" "$POOL" "$B_TMP/pool" || exit 1
    c0=$(cpu_snap $PIDS)
    r=$(b_load "reg-$step-$run" -c "$REG_CONNS" --cacert "$CA" -L "$B_TMP/pool" -m POST -y application/json \
      -P '/api/v1/accounts/{line:1}/certificates' -H 'Authorization: Basic {line:2}' \
      -B '{"csr":"{line:3}"}' -e '"serial"' "$URL")
    c1=$(cpu_snap $PIDS)
    echo "step $step register run $run: $r" >>"$SUMMARY"
    echo "step $step register run $run $(cpu_report "$c0" "$c1" "$NAMES")" >>"$SUMMARY"
    reg+=("$(b_field "$r" good_rps)"); reg99+=("$(b_field "$r" p99_ms)")
    regc+=("$(per_req "$(cpu_total "$c0" "$c1")" "$(b_field "$r" good_rps)" 1000)")

    make_ids "renew$step-$run" "$B_CONNS" "$B_TMP/ids-renew" || exit 1
    base=$(( $(date +%s) + 400 * 86400 ))
    c0=$(cpu_snap $PIDS)
    perf_maybe "${PERF%%:*}" renew
    r=$(b_load "renew-$step-$run" -I "$B_TMP/ids-renew" --cacert "$CA" -m POST \
      -y application/json -P '/api/v1/accounts/{id}/certificates/renew' \
      -B '{"expiration_date":"{t}"}' --time-base "$base" --time-step 60 \
      -e '"renewed":true' "$URL")
    c1=$(cpu_snap $PIDS)
    echo "step $step renew run $run: $r" >>"$SUMMARY"
    echo "step $step renew run $run $(cpu_report "$c0" "$c1" "$NAMES")" >>"$SUMMARY"
    perf_done
    renew+=("$(b_field "$r" good_rps)"); renew99+=("$(b_field "$r" p99_ms)")
    renewc+=("$(per_req "$(cpu_total "$c0" "$c1")" "$(b_field "$r" good_rps)" 1000000)")

    c0=$(cpu_snap $PIDS)
    perf_maybe "${PERF%%:*}" get
    r=$(b_load "get-$step-$run" -I "$B_TMP/ids-rd" --cacert "$CA" \
      -P "/api/v1/vaults/rd-{c}-{n:$RD_VAULTS}/objects/k{n:$RD_KEYS}" "$URL")
    c1=$(cpu_snap $PIDS)
    echo "step $step GET run $run: $r" >>"$SUMMARY"
    echo "step $step GET run $run $(cpu_report "$c0" "$c1" "$NAMES")" >>"$SUMMARY"
    perf_done
    get+=("$(b_field "$r" ok_rps)"); get99+=("$(b_field "$r" p99_ms)")
    getc+=("$(per_req "$(cpu_total "$c0" "$c1")" "$(b_field "$r" ok_rps)" 1000000)")
  done
  # Redis time per command over this step's loads: does any grow?
  rc info commandstats | tr -d '\r' | grep -E '^cmdstat_(evalsha|eval|hmget|hgetall|get|set|xadd|zadd|zrange|zrevrange|hset|incr|publish):' |
    sed "s/^/step $step redis /" >>"$SUMMARY"
  med() { printf '%s\n' "$@" | b_median; }
  m_reg=$(med "${reg[@]}"); m_renew=$(med "${renew[@]}"); m_get=$(med "${get[@]}")
  [ -n "$base_reg" ] || { base_reg=$m_reg; base_renew=$m_renew; base_get=$m_get; }
  printf '%7s %8s %9s %9s %8s %7s %9s %7s %9s %7s %6s %6s %6s %7s %9s %7s\n' "$step" "$accounts" \
    "$objects" "$mem" "$m_reg" "$(med "${reg99[@]}")" "$m_renew" "$(med "${renew99[@]}")" \
    "$m_get" "$(med "${get99[@]}")" "$(b_ratio "$m_reg" "$base_reg")" \
    "$(b_ratio "$m_renew" "$base_renew")" "$(b_ratio "$m_get" "$base_get")" \
    "$(med "${regc[@]}")" "$(med "${renewc[@]}")" "$(med "${getc[@]}")" >>"$B_TMP/table"
done

echo
b_env
echo "CA key $MANAGER_CA_KEY_TYPE; Redis AOF appendfsync ${MANAGER_REDIS_APPENDFSYNC:-always}"
echo "per step and run (seeding, checks, RESULT lines, CPU seconds per process):"
cat "$SUMMARY"
echo
echo "Scale: rates (2xx with the expected answer) per step, median of $B_RUNS x ${B_DURATION}s, $B_CONNS connections ($REG_CONNS for registration)"
echo "accounts = ZCARD acct:all (seeded + made through the API); objects = seeded + the $READSET-object read set"
echo "target: every rate >= 0.80 x the empty step; CPU per request: all five processes, warm-up included"
printf '%7s %8s %9s %9s %8s %7s %9s %7s %9s %7s %6s %6s %6s %7s %9s %7s\n' step accounts objects \
  used_mem "reg/s" "p99 ms" "renew/s" "p99 ms" "GET/s" "p99 ms" "x reg" "x renew" "x GET" \
  "ms/reg" "us/renew" "us/GET"
cat "$B_TMP/table"
if [ -s "$B_TMP/perf-report.txt" ]; then
  echo
  echo "perf record -e cpu-clock -g, $PERF, last step, last run (top of --sort dso,symbol):"
  cat "$B_TMP/perf-report.txt"
fi
