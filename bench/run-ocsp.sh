#!/usr/bin/env bash
# OCSP responses per second (API.md "PKI (v2)"), with the bounds that say
# what a figure is worth, in the same run:
#   - GET /pki/ocsp/{base64} (RFC 5019), 16 different certificates, no nonce:
#     answered from the gateway's cache (no signature per request) -- against
#     GET /healthz, the gateway's and the load generator's ceiling for a
#     request without a hop;
#   - POST /pki/ocsp with a nonce: the nonce must be echoed, so every answer
#     is built and signed -- against `openssl speed` signatures/s of the CA's
#     key type on the same 2 cores (-multi 2);
#   - POST /pki/ocsp without a nonce: the cache again, through the POST path.
# Every answer is checked once with `openssl ocsp` (good, signature valid)
# before it is measured. Median of BENCH_RUNS (3) runs of BENCH_DURATION (10)
# s, 16 keep-alive connections. BENCH_KEY_TYPES: CA key types (ec-p256 rsa2048).
. "$(dirname "$0")/lib.sh"
trap b_cleanup EXIT
trap 'exit 130' INT TERM
b_build || exit 1

KEY_TYPES=${BENCH_KEY_TYPES:-ec-p256 rsa2048}
: >"$B_TMP/table"

b64url() { base64 -w0 "$1" | sed 's/+/%2B/g; s,/,%2F,g; s/=/%3D/g'; }

for kt in $KEY_TYPES; do
  b_log "CA key $kt"
  export MANAGER_CA_KEY_TYPE=$kt
  b_stack_up "ocsp-$kt" || exit 1
  b_make_identities "ocsp-$kt" 16 "$B_TMP/ids-$kt" || exit 1
  : >"$B_TMP/paths-$kt"
  i=0
  while read -r cert _ _; do
    i=$((i + 1))
    openssl ocsp -issuer "$CA" -cert "$cert" -no_nonce -reqout "$B_TMP/req-$kt-$i.der" 2>/dev/null ||
      { echo "openssl ocsp -reqout failed" >&2; exit 1; }
    echo "/pki/ocsp/$(b64url "$B_TMP/req-$kt-$i.der")" >>"$B_TMP/paths-$kt"
  done <"$B_TMP/ids-$kt"
  read -r cert1 _ _ <"$B_TMP/ids-$kt"
  openssl ocsp -issuer "$CA" -cert "$cert1" -reqout "$B_TMP/req-$kt-nonce.der" 2>/dev/null
  # What is measured answers "good", signed by the CA, over both methods.
  out=$(openssl ocsp -issuer "$CA" -cert "$cert1" -CAfile "$CA" -url "$URL/pki/ocsp" 2>&1)
  grep -q ': good' <<<"$out" && grep -q 'Response verify OK' <<<"$out" ||
    { echo "OCSP POST check failed: $out" >&2; exit 1; }
  st=$(curl -sS -o "$B_TMP/get.der" -w '%{http_code}' --cacert "$CA" "$URL$(head -1 "$B_TMP/paths-$kt")")
  [ "$st" = 200 ] && openssl ocsp -respin "$B_TMP/get.der" -issuer "$CA" -cert "$cert1" \
    -CAfile "$CA" 2>&1 | grep -q ': good' || { echo "OCSP GET check failed: $st" >&2; exit 1; }

  declare -A R=()
  for run in $(seq 1 "$B_RUNS"); do
    b_log "run $run/$B_RUNS ($kt)"
    res=$(b_load "get-$kt-$run" --cacert "$CA" -p "$B_TMP/paths-$kt" "$URL/")
    R[get]="${R[get]:-} $(b_field "$res" ok_rps)"
    res=$(b_load "post-nonce-$kt-$run" --cacert "$CA" -m POST -y application/ocsp-request \
      -b "$B_TMP/req-$kt-nonce.der" "$URL/pki/ocsp")
    R[nonce]="${R[nonce]:-} $(b_field "$res" ok_rps)"
    res=$(b_load "post-$kt-$run" --cacert "$CA" -m POST -y application/ocsp-request \
      -b "$B_TMP/req-$kt-1.der" "$URL/pki/ocsp")
    R[post]="${R[post]:-} $(b_field "$res" ok_rps)"
    res=$(b_load "healthz-$kt-$run" --cacert "$CA" "$URL/healthz")
    R[healthz]="${R[healthz]:-} $(b_field "$res" ok_rps)"
    case $kt in
      rsa2048) sp=$(openssl speed -multi 2 -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048/ {print $6}') ;;
      *) sp=$(openssl speed -multi 2 -seconds 3 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/ {print $7}') ;;
    esac
    R[speed]="${R[speed]:-} ${sp:-0}"
  done
  med() { printf '%s\n' $1 | b_median; }
  m_get=$(med "${R[get]}"); m_nonce=$(med "${R[nonce]}"); m_post=$(med "${R[post]}")
  m_hz=$(med "${R[healthz]}"); m_sp=$(med "${R[speed]}")
  printf '%-8s %-34s %9.0f  %s\n' "$kt" "GET, cached (16 certificates)" "$m_get" \
    "$(b_ratio "$m_get" "$m_hz")x GET /healthz ($m_hz/s)" >>"$B_TMP/table"
  printf '%-8s %-34s %9.0f  %s\n' "$kt" "POST, cached (no nonce)" "$m_post" \
    "$(b_ratio "$m_post" "$m_hz")x GET /healthz" >>"$B_TMP/table"
  printf '%-8s %-34s %9.0f  %s\n' "$kt" "POST with nonce (signed each)" "$m_nonce" \
    "$(b_ratio "$m_nonce" "$m_sp")x openssl speed sign ($m_sp/s)" >>"$B_TMP/table"
  unset R
  b_stack_down
done

echo "OCSP responses/s (200 with a signed answer), median of $B_RUNS x ${B_DURATION}s, $B_CONNS connections"
b_env
cat "$B_TMP/table"
