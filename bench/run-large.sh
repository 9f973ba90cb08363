#!/usr/bin/env bash
# Large objects: PUT and GET of one 64 MiB object over mTLS, one connection,
# MB/s each way (median of BENCH_RUNS runs of BENCH_DURATION s), nginx beside
# it with the same load generator; then the peak resident set (VmHWM) of
# every process of the stack, of nginx and of the load generator.
# Targets: >= 300 MB/s each way; peak RSS of every process < 3x the object.
. "$(dirname "$0")/lib.sh"
trap b_cleanup EXIT
trap 'exit 130' INT TERM
SIZE_MB=${BENCH_LARGE_MB:-64}
b_build || exit 1
b_stack_up large || exit 1
b_nginx_up || exit 1
head -c $((SIZE_MB << 20)) /dev/urandom >"$B_TMP/big"

have_api=1
if b_has_vault_api && { b_has_accounts_api || [ -f "$B_ROOT/tests/lib/app_identity.sh" ]; }; then
  b_make_identities large 1 "$B_TMP/ids" || exit 1
  b_make_vault bench-large "$B_TMP/ids" || exit 1
  read -r CERT KEY _ <"$B_TMP/ids"
else
  have_api=0
  b_log "the accounts or vault API is not on this build: Manager vault I/O skipped"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=bench-client \
    -keyout "$B_TMP/c.key" -out "$B_TMP/c.csr" 2>/dev/null
  openssl x509 -req -in "$B_TMP/c.csr" -CA "$MANAGER_DATA_DIR/ca/ca.pem" \
    -CAkey "$MANAGER_DATA_DIR/ca/ca.key" -CAcreateserial -days 2 -out "$B_TMP/c.pem" 2>/dev/null
  CERT=$B_TMP/c.pem KEY=$B_TMP/c.key
fi
M="--cert $CERT --key $KEY"
ONE="-c 1 -t 1"
PIDS="$MGR_PID_gateway $MGR_PID_ca $MGR_PID_account $MGR_PID_vault $MGR_REDIS_PID"
NAMES="gateway ca account vault redis"
b_env >"$B_TMP/env"
declare -A V
# CPU of Redis's reaped children (AOF rewrites), in clock ticks.
rchild() { awk '{print $16 + $17}' "/proc/$MGR_REDIS_PID/stat" 2>/dev/null || echo 0; }
tck=$(getconf CLK_TCK)
add() { V[$1]="${V[$1]:-} $2"; }
for run in $(seq 1 "$B_RUNS"); do
  b_log "run $run"
  r=$(b_load "ngx-put-$run" $ONE $M -m PUT -b "$B_TMP/big" -y application/octet-stream -P /objects/big "$NGINX_URL")
  add ngx_put "$(b_field "$r" sent_MBps)"
  r=$(b_load "ngx-get-$run" $ONE $M -P /objects/big "$NGINX_URL")
  add ngx_get "$(b_field "$r" recv_MBps)"
  if [ "$have_api" = 1 ]; then
    c0=$(cpu_snap $PIDS); k0=$(rchild)
    r=$(b_load "mgr-put-$run" $ONE $M --cacert "$CA" -m PUT -b "$B_TMP/big" \
      -y application/octet-stream -P /api/v1/vaults/bench-large/objects/big "$URL")
    add mgr_put "$(b_field "$r" sent_MBps)"
    add mgr_put_ok "$(b_field "$r" ok)"
    c1=$(cpu_snap $PIDS); k1=$(rchild)
    echo "PUT run $run $(cpu_report "$c0" "$c1" "$NAMES") redis-children=$(awk -v a=$k1 -v b=$k0 -v t=$tck 'BEGIN{printf "%.1fs", (a-b)/t}')" >>"$B_TMP/cpu"
    r=$(b_load "mgr-get-$run" $ONE $M --cacert "$CA" -P /api/v1/vaults/bench-large/objects/big "$URL")
    add mgr_get "$(b_field "$r" recv_MBps)"
    add mgr_get_ok "$(b_field "$r" ok)"
    c0=$(cpu_snap $PIDS); k0=$(rchild)
    echo "GET run $run $(cpu_report "$c1" "$c0" "$NAMES") redis-children=$(awk -v a=$k0 -v b=$k1 -v t=$tck 'BEGIN{printf "%.1fs", (a-b)/t}')" >>"$B_TMP/cpu"
    # The same object through the S3 listener.
    r=$(b_load "s3-put-$run" $ONE $M --cacert "$CA" -m PUT -b "$B_TMP/big" \
      -y application/octet-stream -P /bench-large/s3big "https://127.0.0.1:$MANAGER_S3_PORT")
    add s3_put "$(b_field "$r" sent_MBps)"
    add s3_put_ok "$(b_field "$r" ok)"
    r=$(b_load "s3-get-$run" $ONE $M --cacert "$CA" -P /bench-large/s3big "https://127.0.0.1:$MANAGER_S3_PORT")
    add s3_get "$(b_field "$r" recv_MBps)"
    add s3_get_ok "$(b_field "$r" ok)"
  fi
done
# BENCH_LARGE_PERF=1: one more PUT and GET run under a system-wide
# `perf record -g` (cpu-clock); per-process reports of the gateway, the
# vault service and Redis (with its AOF rewrite children) in $B_TMP/perf-*.txt.
if [ -n "${BENCH_LARGE_PERF:-}" ] && [ "$have_api" = 1 ]; then
  for what in put get; do
    perf record -q -a -e cpu-clock -g -o "$B_TMP/perf-$what.data" -- sleep "$B_DURATION" \
      >/dev/null 2>&1 &
    pp=$!
    if [ $what = put ]; then
      b_load "perf-put" $ONE $M --cacert "$CA" -m PUT -b "$B_TMP/big" \
        -y application/octet-stream -P /api/v1/vaults/bench-large/objects/big "$URL" >/dev/null
    else
      b_load "perf-get" $ONE $M --cacert "$CA" -P /api/v1/vaults/bench-large/objects/big "$URL" >/dev/null
    fi
    wait $pp
    perf report -i "$B_TMP/perf-$what.data" --no-children --sort comm,pid --stdio -g none \
      >"$B_TMP/perf-$what-all.txt" 2>/dev/null
    for n in gateway vault redis; do
      if [ $n = redis ]; then p=$MGR_REDIS_PID; else p=$(eval echo "\$MGR_PID_$n"); fi
      perf report -i "$B_TMP/perf-$what.data" --pid "$p" --no-children --percent-limit 0.5 \
        --stdio -g none --sort dso,symbol >"$B_TMP/perf-$what-$n.txt" 2>/dev/null
      b_log "profile: $B_TMP/perf-$what-$n.txt"
    done
  done
fi
med() { tr ' ' '\n' <<<"$1" | grep . | b_median; }
echo
echo "$SIZE_MB MiB objects over mTLS, 1 connection: MB/s (10^6 B/s), median of $B_RUNS x ${B_DURATION}s"
echo "target: >= 300 MB/s each way"
printf '%-22s %10s %10s\n' what PUT GET
printf '%-22s %10s %10s\n' "nginx (dav, static)" "$(med "${V[ngx_put]}")" "$(med "${V[ngx_get]}")"
if [ "$have_api" = 1 ]; then
  printf '%-22s %10s %10s   (2xx per run: PUT%s, GET%s)\n' "Manager vault" \
    "$(med "${V[mgr_put]}")" "$(med "${V[mgr_get]}")" "${V[mgr_put_ok]}" "${V[mgr_get_ok]}"
  printf '%-22s %10s %10s   (2xx per run: PUT%s, GET%s)\n' "Manager S3" \
    "$(med "${V[s3_put]}")" "$(med "${V[s3_get]}")" "${V[s3_put_ok]}" "${V[s3_get_ok]}"
else
  printf '%-22s %10s\n' "Manager vault" "n/a (API not on this build)"
fi
echo
cat "$B_TMP/env"
echo "Manager CPU seconds / context switches per process, per run:"
cat "$B_TMP/cpu" 2>/dev/null
[ "$have_api" = 1 ] && echo "redis: $(redis-cli -p "$MGR_REDIS_PORT" INFO persistence | tr -d '\r' |
  grep -E '^(aof_rewrites|aof_last_rewrite_time_sec|aof_current_size)' | tr '\n' ' ')"
echo
limit=$((3 * SIZE_MB * 1024))
echo "peak RSS (VmHWM, kB); target < $limit kB (3x the object)"
for n in gateway ca account vault; do
  p=$(eval echo "\$MGR_PID_$n")
  h=$(b_hwm "$p"); printf '%-16s %10s %s\n' "mgr-$n" "$h" "$([ "$h" -lt "$limit" ] && echo ok || echo OVER)"
done
h=$(b_hwm "$MGR_REDIS_PID"); printf '%-16s %10s %s\n' redis "$h" "$([ "$h" -lt "$limit" ] && echo ok || echo OVER)"
for p in $(b_nginx_pids); do printf '%-16s %10s\n' "nginx[$p]" "$(b_hwm "$p")"; done
grep -h "loadgen  " "$B_TMP"/*.out | awk '{print $(NF-1)}' | sort -n | tail -1 |
  xargs printf '%-16s %10s (largest of the runs; the body file is mapped)\n' loadgen
