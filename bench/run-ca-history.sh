#!/usr/bin/env bash
# CA work against history (bench/README "Scale", items 2 and 4): what an
# expiry pass and one rotation cost as the certificates behind them grow.
#
#   MGR_BUILD_DIR=build bash bench/run-ca-history.sh
#
# Knobs: BENCH_HIST_SIZES ("1000 10000 100000"): certificates per step;
# BENCH_HIST_SECONDS (10): how long the passes are watched.
# Per step, on a fresh stack (tests/lib/stack.sh, scan every second):
#  - pass: SIZE certificates expiring in 10 days (100 accounts), all noticed
#    first; then BENCH_HIST_SECONDS of passes with nothing new: Redis and
#    ca-svc CPU per second, and Redis commands per pass;
#  - rotation: one account with SIZE revoked (and since expired) certificates
#    of its past and one valid; a first rotation without "revoke" (brings a new version's index
#    up to date, once), then the Redis time and HMGETs of the second.
#
# Measured 2026-11-27 20:32-20:42 UTC (2-core VM shared, load 3-4; CPU ms per
# second of the processes, so not disturbed much by the load):
#   size    | redis ms/s  ca ms/s  cmds/s  SET/s | rotation: redis us  HMGET
#   main 4f6c608 (re-reads the window every pass; rotation walks the history)
#   1000    |        7.0      1.0    3605   2000 |                6406   1005
#   10000   |       74.0      5.0   32033  16000 |               49525  10005
#   100000  |      656.0     20.0  109710  54900 |              271875 100005
#   branch scale (certs:due, acct:{id}:live)
#   1000    |        1.0      1.0      10      0 |                 563      3
#   10000   |        2.0      1.0      10      0 |                 678      3
#   100000  |        2.0      1.0      10      0 |                 601      3
set -uo pipefail
SIZES=${BENCH_HIST_SIZES:-1000 10000 100000}
SECS=${BENCH_HIST_SECONDS:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
export MANAGER_EXPIRY_SCAN_INTERVAL_S=1 MANAGER_LOG_LEVEL=warn
. "$HERE/../tests/lib/stack.sh"
. "$HERE/../tests/lib/certs.sh"
. "$HERE/../tests/lib/seed.sh"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
stat_of() { # stat_of CMD FIELD: calls or usec of a command
  rcli INFO commandstats | tr -d '\r' | sed -n "s/^cmdstat_$1:calls=\([0-9]*\),usec=\([0-9]*\),.*/\\$2/p" | grep . || echo 0
}
redis_usec() { rcli INFO commandstats | tr -d '\r' | sed -n 's/.*,usec=\([0-9]*\),.*/\1/p' | awk '{s += $1} END {print s + 0}'; }

stack_up
W=$T_DIR/w; mkdir -p "$W"
CA_PID=$(pgrep -f -n "$MGR_BIN/services/ca/mgr-ca" || true)
printf '%-9s | %-38s | %-34s\n' size "passes with nothing new (per second)" "one rotation (2nd)"
printf '%-9s | %-38s | %-34s\n' "" "redis ms  ca ms    cmds/s     SET/s" "redis us  HMGET  EVALSHA us"
for n in $SIZES; do
  rcli FLUSHDB >/dev/null
  now=$(date +%s)
  for a in $(seq 1 100); do seed_account "acc_bh$a"; done
  for i in $(seq 1 "$n"); do
    s=$(printf '6%031x' "$i"); a=$(( i % 100 + 1 ))
    echo "HSET cert:$s serial $s holder acct:acc_bh$a account_id acc_bh$a not_after $((now + 864000)) revoked_at '' issued_at $now"
    echo "ZADD acct:{acc_bh$a}:certs $i $s"
    echo "ZADD certs:expiry $((now + 864000)) $s"
  done | rcli --pipe >/dev/null
  # Wait until every certificate has its two notices.
  for t in $(seq 1 600); do
    m=$(rcli EVAL "local n = 0 for i = 1, 100 do n = n + redis.call('XLEN', 'ev:{acc_bh' .. i .. '}') end return n" 0)
    [ "$m" -ge $((2 * n)) ] && break
    sleep 1
  done
  sleep 2
  r0=$(cpu_ticks "$MGR_REDIS_PID"); c0=$(cpu_ticks "$CA_PID")
  k0=$(rcli INFO stats | tr -d '\r' | sed -n 's/^total_commands_processed://p')
  st0=$(stat_of set 1)
  sleep "$SECS"
  r1=$(cpu_ticks "$MGR_REDIS_PID"); c1=$(cpu_ticks "$CA_PID")
  k1=$(rcli INFO stats | tr -d '\r' | sed -n 's/^total_commands_processed://p')
  st1=$(stat_of set 1)
  tck=$(getconf CLK_TCK)
  pass="$(awk -v a=$((r1 - r0)) -v t="$tck" -v s="$SECS" 'BEGIN {printf "%8.1f", a * 1000 / t / s}') $(awk -v a=$((c1 - c0)) -v t="$tck" -v s="$SECS" 'BEGIN {printf "%6.1f", a * 1000 / t / s}') $(printf '%10d %9d' $(( (k1 - k0) / SECS )) $(( (st1 - st0) / SECS )))"

  # Rotation over n revoked certificates of one account.
  rcli FLUSHDB >/dev/null
  make_pending_account "acct-h$n" "user-h$n" "pw-h-$RANDOM-long-enough"; R=$ACC_ID
  gen_csr "$W/h0" "/O=Bench/CN=history $n" ec
  register "$R" "$W/h0.csr" "" "user-h$n:$ACC_PW"
  jfield certificate >"$W/h0.crt"
  now=$(date +%s)
  for i in $(seq 1 "$n"); do
    s=$(printf '7%031x' "$i")
    echo "HSET cert:$s serial $s holder acct:$R account_id $R not_after $((now - 86400)) revoked_at $((now - 864000)) issued_at $now"
    echo "ZADD acct:{$R}:certs $i $s"
    echo "ZADD certs:revoked $((now - 86400)) $s"
  done | rcli --pipe >/dev/null
  gen_csr "$W/h1" "/O=Bench/CN=history $n" ec
  app_json POST "/api/v1/accounts/$R/certificates/rotate" "$(csr_json "$W/h1.csr")" "$W/h0"
  jfield certificate >"$W/h1.crt"
  gen_csr "$W/h2" "/O=Bench/CN=history $n" ec
  u0=$(redis_usec); h0=$(stat_of hmget 1); e0=$(stat_of evalsha 2)
  app_json POST "/api/v1/accounts/$R/certificates/rotate" "$(csr_json "$W/h2.csr")" "$W/h1"
  u1=$(redis_usec); h1=$(stat_of hmget 1); e1=$(stat_of evalsha 2)
  [ "$ST" = 201 ] || echo "rotation: $ST $BODY" >&2
  printf '%-9s | %s | %8d  %5d  %10d\n' "$n" "$pass" $((u1 - u0)) $((h1 - h0)) $((e1 - e0))
done
