# A stack whose CA key is in a SoftHSM2 token (MANAGER_CA_PKCS11_MODULE,
# MANAGER_CA_KEY_URI), issuing, renewing, rotating and revoking, with OCSP
# and the CRL checked by openssl against the CA certificate made for the
# token's key on first start. Source after tests/lib/stack.sh and
# tests/lib/certs.sh, then call hsm_scenario rsa|ec.

HSM_MODULE=${HSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}

# hsm_skip_unless_available: exits 0 with a printed reason when SoftHSM2,
# pkcs11-tool or the pkcs11 engine is missing.
hsm_skip_unless_available() {
  local eng
  eng=$(openssl version -e 2>/dev/null | sed -n 's/^ENGINESDIR: "\(.*\)"/\1/p')
  if [ ! -f "$HSM_MODULE" ] || ! command -v softhsm2-util >/dev/null ||
     ! command -v pkcs11-tool >/dev/null || [ ! -f "$eng/pkcs11.so" ]; then
    echo "SKIP: softhsm2, opensc (pkcs11-tool) or libengine-pkcs11-openssl missing" >&2
    exit 0
  fi
}

# hsm_token DIR KEYTYPE: a fresh token "mgr-ca" in DIR holding key "ca-key"
# (rsa:2048 or EC:prime256v1); exports SOFTHSM2_CONF, sets HSM_PIN.
hsm_token() {
  local dir=$1 kt=$2
  mkdir -p "$dir/tokens"
  printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$dir" >"$dir/softhsm2.conf"
  export SOFTHSM2_CONF=$dir/softhsm2.conf
  HSM_PIN=1234-$RANDOM
  softhsm2-util --init-token --free --label mgr-ca --pin "$HSM_PIN" --so-pin "so-$RANDOM$RANDOM" >/dev/null ||
    fail_now "softhsm2-util --init-token"
  pkcs11-tool --module "$HSM_MODULE" --token-label mgr-ca --login --pin "$HSM_PIN" \
    --keypairgen --key-type "$kt" --id 01 --label ca-key >/dev/null 2>&1 ||
    fail_now "pkcs11-tool --keypairgen $kt"
}

hsm_scenario() {
  local kt=$1 tokdir
  tokdir=$(mktemp -d "${TMPDIR:-/tmp}/mgr-hsm.XXXXXX")
  HSM_TOKDIR=$tokdir
  case $kt in
    rsa) hsm_token "$tokdir" rsa:2048 ;;
    ec) hsm_token "$tokdir" EC:prime256v1 ;;
  esac
  export MANAGER_CA_PKCS11_MODULE=$HSM_MODULE
  if [ "$kt" = ec ]; then
    # pin-source: the PIN from a file (RFC 7512), not in the URI.
    printf '%s' "$HSM_PIN" >"$tokdir/pin"
    chmod 600 "$tokdir/pin"
    export MANAGER_CA_KEY_URI="pkcs11:token=mgr-ca;object=ca-key;type=private?pin-source=file:$tokdir/pin"
  else
    export MANAGER_CA_KEY_URI="pkcs11:token=mgr-ca;object=ca-key;type=private?pin-value=$HSM_PIN"
  fi
  stack_up
  trap 'stack_down; rm -rf "$HSM_TOKDIR"' EXIT
  W=$T_DIR/w
  mkdir -p "$W"

  # ---- the CA certificate is made for the token's key; no key file -------
  pkcs11-tool --module "$HSM_MODULE" --token-label mgr-ca --read-object --type pubkey \
    --label ca-key -o "$W/tokpub.der" >/dev/null 2>&1
  check '[ "$(openssl pkey -pubin -inform DER -in "$W/tokpub.der" -pubout)" = "$(openssl x509 -in "$CA" -noout -pubkey)" ]' \
    "$kt: the CA certificate's key is the token's key"
  check '[ -z "$(find "$MANAGER_DATA_DIR" -name "*.key" -path "*ca*")" ] && ! grep -rlq "PRIVATE KEY" "$MANAGER_DATA_DIR/ca"' \
    "$kt: no CA key file anywhere in the data dir"
  check 'openssl x509 -in "$CA" -noout -text | grep -q "CA:TRUE"' "$kt: a CA certificate"
  check 'openssl verify -CAfile "$CA" "$CA" | grep -q ": OK"' "$kt: self-signed by the token's key"
  local want
  [ "$kt" = ec ] && want=ecdsa-with-SHA256 || want=sha256WithRSAEncryption
  check 'openssl x509 -in "$CA" -noout -text | grep -q "Signature Algorithm: $want"' "$kt: CA signature $want"

  # ---- issue, renew, rotate, revoke ----------------------------------------
  make_pending_account "hsm-$kt" "user-hsm$kt" "pw-$RANDOM-long-enough"; local A=$ACC_ID PA=$ACC_PW
  gen_csr "$W/a1" "/O=HSM/CN=app-$kt" ec
  register "$A" "$W/a1.csr" "" "user-hsm$kt:$PA"
  expect_status 201 "$kt: registration signed by the token"
  jfield certificate >"$W/a1.crt"
  check 'openssl verify -CAfile "$CA" "$W/a1.crt" | grep -q ": OK"' "$kt: issued certificate verifies"
  check 'openssl x509 -in "$W/a1.crt" -noout -text | grep -q "Signature Algorithm: $want"' "$kt: issued with $want"
  app_json POST "/api/v1/accounts/$A/certificates/renew" \
    "{\"expiration_date\":\"$(date -u -d '+400 days' +%F)\"}" "$W/a1"
  expect_status 200 "$kt: renewal"
  check '[ "$(jfield renewed)" = true ]' "$kt: renewed"
  jfield certificate >"$W/r1.crt"
  check 'openssl verify -CAfile "$CA" "$W/r1.crt" | grep -q ": OK"' "$kt: renewed certificate verifies"
  gen_csr "$W/a2" "/O=HSM/CN=app-$kt"
  app_json POST "/api/v1/accounts/$A/certificates/rotate" "$(csr_json "$W/a2.csr")" "$W/a1"
  expect_status 201 "$kt: rotation"
  jfield certificate >"$W/a2.crt"
  check '[ "$(jq -r ".revoked | length" <<<"$BODY")" = 2 ]' "$kt: rotation revoked both older certificates"
  app GET "/api/v1/accounts/$A/certificates" "$W/a1"
  expect_status 401 "$kt: the revoked certificate is refused"

  # ---- OCSP and the CRL, signed by the token -------------------------------
  local out
  out=$(openssl ocsp -issuer "$CA" -cert "$W/a1.crt" -cert "$W/a2.crt" -url "$URL/pki/ocsp" -CAfile "$CA" -nonce 2>&1)
  check 'grep -q "Response verify OK" <<<"$out"' "$kt: OCSP answer signed by the token verifies"
  check 'grep -q "a1.crt: revoked" <<<"$out" && grep -q "a2.crt: good" <<<"$out"' "$kt: OCSP revoked and good ($out)"
  curl -sS --cacert "$CA" -o "$W/crl.der" "$(openssl x509 -in "$W/a2.crt" -noout -ext crlDistributionPoints | sed -n 's/.*URI://p')"
  openssl crl -inform DER -in "$W/crl.der" -out "$W/crl.pem"
  check 'openssl crl -in "$W/crl.pem" -CAfile "$CA" -noout 2>&1 | grep -q "verify OK"' "$kt: CRL signed by the token"
  check '{ openssl verify -crl_check -CAfile "$CA" -CRLfile "$W/crl.pem" "$W/r1.crt" 2>&1 || true; } | grep -c "certificate revoked" >/dev/null' \
    "$kt: verify -crl_check: the renewed one revoked by rotation"
  check 'openssl verify -crl_check -CAfile "$CA" -CRLfile "$W/crl.pem" "$W/a2.crt" | grep -q ": OK"' "$kt: verify -crl_check: the new one OK"

  # ---- a restart keeps the same CA certificate -------------------------------
  local before
  before=$(openssl x509 -in "$MANAGER_DATA_DIR/ca/ca-token.pem" -noout -fingerprint -sha256)
  stack_restart_services
  check '[ "$(openssl x509 -in "$MANAGER_DATA_DIR/ca/ca-token.pem" -noout -fingerprint -sha256)" = "$before" ]' \
    "$kt: the CA certificate is kept across a restart"
  app GET "/api/v1/accounts/$A/certificates" "$W/a2"
  expect_status 200 "$kt: the rotated-to certificate works after the restart"

  # ---- a wrong PIN or key: the CA service does not start ----------------------
  local bad=${MANAGER_CA_KEY_URI/object=ca-key/object=no-such-key}
  MANAGER_CA_KEY_URI=$bad timeout 20 "$MGR_BIN/services/ca/mgr-ca" >"$W/bad.log" 2>&1
  check '[ $? -ne 0 ] && grep -q "MANAGER_CA_KEY_URI" "$W/bad.log"' "$kt: an unknown key: the CA service refuses to start"
}
