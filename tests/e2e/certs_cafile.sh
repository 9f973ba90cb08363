#!/usr/bin/env bash
# A CA key and certificate given with MANAGER_CA_KEY_FILE/MANAGER_CA_CERT_FILE
# (a mounted Secret) are used as they are: served, signing, CRL, none created.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
SECRET=$(mktemp -d "${TMPDIR:-/tmp}/mgr-cafile.XXXXXX")
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$SECRET/ca.key" -out "$SECRET/ca.pem" -days 3650 -subj "/O=Mounted/CN=Mounted CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
export MANAGER_CA_KEY_FILE=$SECRET/ca.key MANAGER_CA_CERT_FILE=$SECRET/ca.pem
stack_up
trap 'rc=$?; rm -rf "$SECRET"; (exit $rc); stack_down' EXIT
W=$T_DIR/w
mkdir -p "$W"

check 'cmp -s "$CA" "$SECRET/ca.pem"' "the mounted CA certificate is served"
check '[ ! -e "$MANAGER_DATA_DIR/ca/ca.key" ]' "no CA key generated"
make_pending_account mounted user-m "pw-m-$RANDOM-long-enough"
gen_csr "$W/m" "/O=Mounted/CN=app"
register "$ACC_ID" "$W/m.csr" "" "user-m:$ACC_PW"
expect_status 201 "registration signed by the mounted CA"
jfield certificate >"$W/m.crt"
check 'openssl verify -CAfile "$SECRET/ca.pem" "$W/m.crt" | grep -q ": OK"' "verifies with the mounted CA"
api GET /api/v1/ca/crl
expect_status 200 "CRL"
printf '%s\n' "$BODY" >"$W/crl.pem"
check 'openssl crl -in "$W/crl.pem" -CAfile "$SECRET/ca.pem" -noout 2>&1 | grep -q "verify OK"' "CRL signed by the mounted CA"
check '! grep -rq "BEGIN EC PRIVATE KEY\|BEGIN PRIVATE KEY" "$MANAGER_DATA_DIR/logs"' "the key is never logged"
