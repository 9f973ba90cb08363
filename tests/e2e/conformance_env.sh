#!/usr/bin/env bash
# The MANAGER_* variables of API.md that no area test sets: MANAGER_BIND,
# MANAGER_CA_KEY_TYPE=ec-p256, MANAGER_MIN_CERT_VALIDITY_S (0 allowed), and
# MANAGER_ADMIN_PASSWORD unset: a random password in
# $MANAGER_DATA_DIR/admin-password, mode 0600, that logs the admin in.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"

# stack_up sets an admin password; this test needs it unset.
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mgr-$T_NAME.XXXXXX")
export MANAGER_DATA_DIR=$T_DIR/data
mkdir -p "$MANAGER_DATA_DIR"
export MANAGER_HTTPS_PORT=$(mgr_free_port)
export MANAGER_S3_PORT=$(mgr_free_port)
export MANAGER_BIND=127.0.0.2
export MANAGER_CA_KEY_TYPE=ec-p256
export MANAGER_MIN_CERT_VALIDITY_S=0
unset MANAGER_ADMIN_PASSWORD MANAGER_REDIS_URL
trap 'stack_down' EXIT
mgr_start_redis || fail_now "redis did not start"
mgr_start_services || fail_now "the stack did not start (MANAGER_MIN_CERT_VALIDITY_S=0?)"
CA=$MGR_CA_PEM
URL=$MGR_URL
W=$T_DIR/w
mkdir -p "$W"

# ---- MANAGER_BIND ----------------------------------------------------------
check '[ "$URL" = "https://127.0.0.2:$MANAGER_HTTPS_PORT" ]' "the URL uses MANAGER_BIND"
api GET /healthz
expect_status 200 "healthz on the MANAGER_BIND address"
check '! curl -sk -o /dev/null --max-time 5 "https://127.0.0.1:$MANAGER_HTTPS_PORT/healthz"' \
  "nothing listens on 127.0.0.1 when MANAGER_BIND=127.0.0.2"

# ---- MANAGER_ADMIN_PASSWORD unset -------------------------------------------
PWF=$MANAGER_DATA_DIR/admin-password
check '[ -s "$PWF" ]' "admin-password written"
check '[ "$(stat -c %a "$PWF")" = 600 ]' "admin-password has mode 0600"
ADMIN="admin:$(tr -d '\n' <"$PWF")"
api GET /api/v1/accounts -u "$ADMIN"
expect_status 200 "the generated password logs the admin in"
check '! grep -rqF "$(tr -d '"'"'\n'"'"' <"$PWF")" "$MANAGER_DATA_DIR/logs"' \
  "the generated password is not in the logs"

# ---- MANAGER_CA_KEY_TYPE=ec-p256 -------------------------------------------
api GET /api/v1/ca/certificate
expect_status 200 "CA certificate"
check 'openssl x509 -in "$CA" -noout -text | grep -q "Public Key Algorithm: id-ecPublicKey"' \
  "the CA key is EC"
check 'openssl x509 -in "$CA" -noout -text | grep -Eq "NIST CURVE: P-256|prime256v1"' \
  "the CA key is on P-256"

# ---- MANAGER_MIN_CERT_VALIDITY_S=0 ------------------------------------------
make_pending_account envacct env-user "pw-env-$RANDOM-long-enough"; E=$ACC_ID; PE=$ACC_PW
gen_csr "$W/e" "/O=Conformance/CN=env"
register "$E" "$W/e.csr" "$(date -u -d '-1 minute' +%FT%TZ)" "env-user:$PE"
expect_status 400 "expiration_date in the past"
register "$E" "$W/e.csr" "$(date -u -d '+10 minutes' +%FT%TZ)" "env-user:$PE"
expect_status 201 "expiration_date in 10 minutes with MANAGER_MIN_CERT_VALIDITY_S=0"
jfield certificate >"$W/e.crt"
check 'openssl verify -CAfile "$CA" "$W/e.crt" | grep -q ": OK"' \
  "the certificate verifies against the EC CA"
