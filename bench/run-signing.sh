#!/usr/bin/env bash
# Certificate signing over the API versus `cfssl serve` and `openssl speed`.
#
# For each CA key type (rsa2048, ec-p256; BENCH_KEY_TYPES overrides):
#   - a fresh release stack with MANAGER_CA_KEY_TYPE; 2x16 freshly registered
#     accounts per run (renew, rotate), 16 more for cfssl's client certificates;
#   - renewClientCertificate, forced: each connection renews its own account
#     with an expiration_date one minute later than its previous request's;
#   - rotateClientKey with fresh pregenerated CSRs (EC P-256, unique DNs) and
#     "revoke": [] so the connection's own certificate stays valid;
#   - cfssl serve (mutual TLS, same client certificates, same CA key and
#     certificate) signing the same CSRs at /api/v1/cfssl/sign;
#   - openssl speed -multi 2 signatures/s for the CA key type.
# Median of BENCH_RUNS (3) runs of BENCH_DURATION (10) s, 16 connections.
. "$(dirname "$0")/lib.sh"
trap b_cleanup EXIT
trap 'exit 130' INT TERM
command -v cfssl >/dev/null || { echo "needs cfssl (apt-get install golang-cfssl)" >&2; exit 1; }
b_build || exit 1

KEY_TYPES=${BENCH_KEY_TYPES:-rsa2048 ec-p256}
SUMMARY=$B_TMP/summary.txt
: >"$SUMMARY"

# The cfssl peer: mutual TLS against the Manager CA, the Manager's CA key.
cfssl_up() {
  local dir=$B_TMP/cfssl-$1 port
  mkdir -p "$dir"
  cat >"$dir/config.json" <<'EOT'
{"signing": {"default": {"expiry": "8760h",
  "usages": ["digital signature", "key encipherment", "client auth"]}}}
EOT
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$dir/tls.key" -out "$dir/tls.pem" 2>/dev/null
  port=$(mgr_free_port)
  cfssl serve -address 127.0.0.1 -port "$port" -loglevel 5 \
    -ca "$MANAGER_DATA_DIR/ca/ca.pem" -ca-key "$MANAGER_DATA_DIR/ca/ca.key" \
    -config "$dir/config.json" -tls-cert "$dir/tls.pem" -tls-key "$dir/tls.key" \
    -mutual-tls-ca "$CA" >"$dir/log" 2>&1 &
  CFSSL_PID=$!
  B_EXTRA_PIDS="$B_EXTRA_PIDS $CFSSL_PID"
  CFSSL_URL=https://127.0.0.1:$port
  mgr_wait "(exec 3<>/dev/tcp/127.0.0.1/$port)" 20 || { echo "cfssl did not start" >&2; cat "$dir/log" >&2; return 1; }
}

cfssl_down() {
  kill -TERM "$CFSSL_PID" 2>/dev/null; wait "$CFSSL_PID" 2>/dev/null
  B_EXTRA_PIDS=${B_EXTRA_PIDS/ $CFSSL_PID/}
}

speed_sign() {
  local alg=$1
  openssl speed -seconds 5 -multi "$(nproc)" "$alg" 2>/dev/null |
    awk '/sign\/s/ {hdr=1; next} hdr && NF {print $(NF-1); exit}'
}

for kt in $KEY_TYPES; do
  case $kt in
    rsa2048) alg=rsa2048 ;;
    ec-p256) alg=ecdsap256 ;;
    *) echo "unknown key type $kt" >&2; exit 1 ;;
  esac
  b_log "CA key type $kt"
  mgr_stop
  MANAGER_CA_KEY_TYPE=$kt b_stack_up "$kt" || exit 1
  speed=$(speed_sign "$alg")
  speeds=()
  b_log "openssl speed $alg: $speed sign/s (first; then once per run)"
  cfssl_up "$kt" || exit 1
  have_api=1
  b_has_accounts_api || have_api=0
  if [ "$have_api" = 1 ]; then
    b_make_identities "cf-$kt" "$B_CONNS" "$B_TMP/ids-cfssl-$kt" || exit 1
    ids_cfssl=$B_TMP/ids-cfssl-$kt
  else
    b_log "the accounts/certificates API is not on this build: Manager side skipped"
    # cfssl still needs client certificates signed by the Manager CA.
    dir=$B_TMP/keys-cfssl-$kt; mkdir -p "$dir"; : >"$B_TMP/ids-cfssl-$kt"
    for i in $(seq 1 "$B_CONNS"); do
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj "/CN=cfssl-client-$i" -keyout "$dir/$i.key" -out "$dir/$i.csr" 2>/dev/null
      openssl x509 -req -in "$dir/$i.csr" -CA "$MANAGER_DATA_DIR/ca/ca.pem" \
        -CAkey "$MANAGER_DATA_DIR/ca/ca.key" -CAcreateserial -days 2 -out "$dir/$i.pem" 2>/dev/null
      echo "$dir/$i.pem $dir/$i.key x" >>"$B_TMP/ids-cfssl-$kt"
    done
    ids_cfssl=$B_TMP/ids-cfssl-$kt
  fi
  pids="$MGR_PID_gateway $MGR_PID_ca $MGR_PID_account $MGR_PID_vault $MGR_REDIS_PID"
  names="gateway ca account vault redis"
  # CSRs for rotation: each used once (a key may not come back); enough for
  # twice the renewal rate just measured (or the signature rate on the first
  # run). cfssl reuses the same file (--wrap): it does not mind.
  per_run=$(awk -v s="$speed" -v d="$B_DURATION" -v w="$B_WARMUP" \
    'BEGIN { n = s * (d + w) * 1.2; if (n > 400000) n = 400000; printf "%d", n + 2000 }')
  renew=() rotate=() cf=() renew_p99=() rotate_p99=() cf_p99=()
  for run in $(seq 1 "$B_RUNS"); do
    csrs=$B_TMP/csrs-$kt-$run
    if [ "$have_api" = 1 ]; then
      # Fresh accounts every run: the runs are alike (a renewal or rotation
      # costs more as the account's certificate count grows; see README).
      b_make_identities "renew-$kt-$run" "$B_CONNS" "$B_TMP/ids-renew-$kt" || exit 1
      b_make_identities "rot-$kt-$run" "$B_CONNS" "$B_TMP/ids-rot-$kt" || exit 1
      # Past the registered certificate (now + 1 y), and past every date of the
      # runs before: each request forces a renewal.
      base=$(( $(date +%s) + 400 * 86400 + (run - 1) * 3000000 ))
      c0=$(cpu_snap $pids)
      r=$(b_load "renew-$kt-$run" -I "$B_TMP/ids-renew-$kt" --cacert "$CA" -m POST \
        -y application/json -P '/api/v1/accounts/{id}/certificates/renew' \
        -B '{"expiration_date":"{t}"}' --time-base "$base" --time-step 60 \
        -e '"renewed":true' "$URL")
      c1=$(cpu_snap $pids)
      echo "$kt renew run $run: $r" >>"$SUMMARY"
      echo "$kt renew run $run $(cpu_report "$c0" "$c1" "$names")" >>"$SUMMARY"
      renew+=("$(b_field "$r" good_rps)"); renew_p99+=("$(b_field "$r" p99_ms)")
      per_run=$(awk -v r="$(b_field "$r" good_rps)" -v d="$B_DURATION" -v w="$B_WARMUP" \
        -v m="$per_run" 'BEGIN { n = r * (d + w) * 2 + 5000; if (n > m) n = m; printf "%d", n }')
    fi
    b_log "run $run: generating $per_run CSRs"
    half=$((per_run / 2))
    "$B_TOOLS/mkcsr" "$half" "bench-$kt-$run-a" >"$csrs.a" &
    "$B_TOOLS/mkcsr" "$((per_run - half))" "bench-$kt-$run-b" >"$csrs.b"
    wait $!
    cat "$csrs.a" "$csrs.b" >"$csrs" && rm -f "$csrs.a" "$csrs.b"
    if [ "$have_api" = 1 ]; then
      c0=$(cpu_snap $pids)
      r=$(b_load "rotate-$kt-$run" -I "$B_TMP/ids-rot-$kt" --cacert "$CA" -m POST \
        -y application/json -P '/api/v1/accounts/{id}/certificates/rotate' \
        -L "$csrs" -B '{"csr":"{line}","revoke":[]}' -e '"serial"' "$URL")
      c1=$(cpu_snap $pids)
      echo "$kt rotate run $run: $r" >>"$SUMMARY"
      echo "$kt rotate run $run $(cpu_report "$c0" "$c1" "$names")" >>"$SUMMARY"
      rotate+=("$(b_field "$r" good_rps)"); rotate_p99+=("$(b_field "$r" p99_ms)")
    fi
    # openssl speed swings with whatever else runs on the machine: once per
    # run, in the same minutes as the loads, and the median.
    speeds+=("$(speed_sign "$alg")")
    echo "$kt openssl speed $alg run $run: ${speeds[-1]} sign/s" >>"$SUMMARY"
    c0=$(b_cpu "$CFSSL_PID")
    r=$(b_load "cfssl-$kt-$run" -I "$ids_cfssl" -m POST -y application/json \
      -P /api/v1/cfssl/sign -L "$csrs" --wrap -B '{"certificate_request":"{line}"}' \
      -e '"success":true' "$CFSSL_URL")
    c1=$(b_cpu "$CFSSL_PID")
    echo "$kt cfssl run $run: $r" >>"$SUMMARY"
    echo "$kt cfssl run $run cpu-s: cfssl=$(awk -v a="$c1" -v b="$c0" -v t="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f",(a-b)/t}')" >>"$SUMMARY"
    cf+=("$(b_field "$r" good_rps)"); cf_p99+=("$(b_field "$r" p99_ms)")
    rm -f "$csrs"
  done
  med() { printf '%s\n' "$@" | b_median; }
  speed=$(med "${speeds[@]}")
  m_cf=$(med "${cf[@]}")
  if [ "$have_api" = 1 ]; then
    m_renew=$(med "${renew[@]}"); m_rot=$(med "${rotate[@]}")
    printf '%-8s %-8s %10s %8s %9s %9s\n' "$kt" renew "$m_renew" "$(med "${renew_p99[@]}")" \
      "$(b_ratio "$m_renew" "$m_cf")" "$(b_ratio "$m_renew" "$speed")" >>"$B_TMP/table"
    printf '%-8s %-8s %10s %8s %9s %9s\n' "$kt" rotate "$m_rot" "$(med "${rotate_p99[@]}")" \
      "$(b_ratio "$m_rot" "$m_cf")" "$(b_ratio "$m_rot" "$speed")" >>"$B_TMP/table"
  else
    printf '%-8s %-8s %10s %8s %9s %9s\n' "$kt" renew "n/a" "n/a" "n/a" "n/a" >>"$B_TMP/table"
    printf '%-8s %-8s %10s %8s %9s %9s\n' "$kt" rotate "n/a" "n/a" "n/a" "n/a" >>"$B_TMP/table"
  fi
  printf '%-8s %-8s %10s %8s %9s %9s\n' "$kt" cfssl "$m_cf" "$(med "${cf_p99[@]}")" 1.00 \
    "$(b_ratio "$m_cf" "$speed")" >>"$B_TMP/table"
  printf '%-8s %-8s %10s %8s %9s %9s\n' "$kt" "speed" "$speed" "-" "-" 1.00 >>"$B_TMP/table"
  cfssl_down
  mgr_stop
done

echo
b_env
echo "per run (RESULT lines of the load generator, CPU seconds per process):"
cat "$SUMMARY"
echo
echo "Certificate signing: certificates/s (2xx with a new certificate), median of $B_RUNS x ${B_DURATION}s, $B_CONNS connections"
echo "targets: Manager >= 1.5x cfssl; >= 0.60x openssl speed sign/s"
printf '%-8s %-8s %10s %8s %9s %9s\n' "CA key" "what" "certs/s" "p99 ms" "x cfssl" "x speed"
cat "$B_TMP/table"
