#!/usr/bin/env bash
# Authenticated 1 KiB object reads and writes over mTLS: the Manager's vault
# I/O versus nginx with ssl_verify_client on (GET of a static 1 KiB file, PUT
# through the WebDAV module), the same load generator and client certificate
# for both. Also the load generator's ceiling: GET /healthz (no auth, no
# hop). Median of BENCH_RUNS (3) runs of BENCH_DURATION (10) s, 16 connections.
. "$(dirname "$0")/lib.sh"
trap b_cleanup EXIT
trap 'exit 130' INT TERM
b_build || exit 1
b_stack_up vault || exit 1
b_nginx_up || exit 1

head -c 1024 /dev/urandom >"$B_TMP/obj-1k"
cp "$B_TMP/obj-1k" "$NGINX_ROOT/objects/obj-1k"

have_api=1
if b_has_vault_api && { b_has_accounts_api || [ -f "$B_ROOT/tests/lib/app_identity.sh" ]; }; then
  b_make_identities vault 1 "$B_TMP/ids" || exit 1
  b_make_vault bench-vault "$B_TMP/ids" || exit 1
  read -r CERT KEY _ <"$B_TMP/ids"
  st=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" --cert "$CERT" --key "$KEY" \
    -X PUT --data-binary @"$B_TMP/obj-1k" "$URL/api/v1/vaults/bench-vault/objects/obj-1k")
  case $st in 200|201) ;; *) echo "PUT obj-1k: $st" >&2; exit 1 ;; esac
else
  have_api=0
  b_log "the accounts or vault API is not on this build: Manager vault I/O skipped"
  # nginx still needs a client certificate from the Manager CA.
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=bench-client \
    -keyout "$B_TMP/c.key" -out "$B_TMP/c.csr" 2>/dev/null
  openssl x509 -req -in "$B_TMP/c.csr" -CA "$MANAGER_DATA_DIR/ca/ca.pem" \
    -CAkey "$MANAGER_DATA_DIR/ca/ca.key" -CAcreateserial -days 2 -out "$B_TMP/c.pem" 2>/dev/null
  CERT=$B_TMP/c.pem KEY=$B_TMP/c.key
fi

S3URL="https://127.0.0.1:$MANAGER_S3_PORT"
declare -A RPS P50 P99
add() { RPS[$1]="${RPS[$1]:-} $(b_field "$2" ok_rps)"; P50[$1]="${P50[$1]:-} $(b_field "$2" p50_ms)"; P99[$1]="${P99[$1]:-} $(b_field "$2" p99_ms)"; }
M="--cert $CERT --key $KEY"
PIDS="$MGR_PID_gateway $MGR_PID_ca $MGR_PID_account $MGR_PID_vault $MGR_REDIS_PID"
NAMES="gateway ca account vault redis"
b_env >"$B_TMP/env"
for run in $(seq 1 "$B_RUNS"); do
  b_log "run $run"
  add health "$(b_load "health-$run" --cacert "$CA" "$URL/healthz")"
  add ngx_get "$(b_load "nginx-get-$run" $M "$NGINX_URL/objects/obj-1k")"
  add ngx_put "$(b_load "nginx-put-$run" $M -m PUT -b "$B_TMP/obj-1k" \
    -y application/octet-stream -P '/objects/w{n:1000}' "$NGINX_URL")"
  if [ "$have_api" = 1 ]; then
    c0=$(cpu_snap $PIDS)
    add mgr_get "$(b_load "mgr-get-$run" $M --cacert "$CA" \
      "$URL/api/v1/vaults/bench-vault/objects/obj-1k")"
    c1=$(cpu_snap $PIDS)
    echo "GET run $run $(cpu_report "$c0" "$c1" "$NAMES")" >>"$B_TMP/cpu"
    add mgr_put "$(b_load "mgr-put-$run" $M --cacert "$CA" -m PUT -b "$B_TMP/obj-1k" \
      -y application/octet-stream -P '/api/v1/vaults/bench-vault/objects/w{n:1000}' "$URL")"
    c0=$(cpu_snap $PIDS)
    echo "PUT run $run $(cpu_report "$c1" "$c0" "$NAMES")" >>"$B_TMP/cpu"
    # The same objects through the S3 listener (API.md: no slower than REST).
    add s3_get "$(b_load "s3-get-$run" $M --cacert "$CA" "$S3URL/bench-vault/obj-1k")"
    add s3_put "$(b_load "s3-put-$run" $M --cacert "$CA" -m PUT -b "$B_TMP/obj-1k" \
      -y application/octet-stream -P '/bench-vault/s{n:1000}' "$S3URL")"
  fi
done

med() { tr ' ' '\n' <<<"$1" | grep . | b_median; }
echo
echo "1 KiB objects over mTLS: requests/s (2xx only), median of $B_RUNS x ${B_DURATION}s, $B_CONNS connections, $B_THREADS loadgen threads"
echo "targets: Manager GET >= 0.50x nginx GET; Manager p99 < 5 ms"
printf '%-28s %10s %8s %8s %9s\n' what "req/s" "p50 ms" "p99 ms" "x nginx"
row() { printf '%-28s %10s %8s %8s %9s\n' "$1" "$(med "${RPS[$2]:-}")" "$(med "${P50[$2]:-}")" "$(med "${P99[$2]:-}")" "$3"; }
ng=$(med "${RPS[ngx_get]}"); np=$(med "${RPS[ngx_put]}")
row "nginx GET 1 KiB (mTLS)" ngx_get 1.00
row "nginx PUT 1 KiB (mTLS, dav)" ngx_put 1.00
if [ "$have_api" = 1 ]; then
  row "Manager GET 1 KiB" mgr_get "$(b_ratio "$(med "${RPS[mgr_get]}")" "$ng")"
  row "Manager PUT 1 KiB" mgr_put "$(b_ratio "$(med "${RPS[mgr_put]}")" "$np")"
  row "Manager S3 GetObject 1 KiB" s3_get "$(b_ratio "$(med "${RPS[s3_get]}")" "$ng")"
  row "Manager S3 PutObject 1 KiB" s3_put "$(b_ratio "$(med "${RPS[s3_put]}")" "$np")"
else
  printf '%-28s %10s\n' "Manager GET/PUT 1 KiB" "n/a (API not on this build)"
fi
row "Manager GET /healthz (no auth)" health "$(b_ratio "$(med "${RPS[health]}")" "$ng")"
echo
cat "$B_TMP/env"
echo "Manager CPU seconds per process, per run (each run $B_WARMUP+$B_DURATION s):"
cat "$B_TMP/cpu" 2>/dev/null
echo "load generator CPU (last run):"
grep -H "loadgen  " "$B_TMP"/*-"$B_RUNS".out | sed "s|$B_TMP/||"
