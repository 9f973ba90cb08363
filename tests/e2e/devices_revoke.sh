#!/usr/bin/env bash
# Devices (API.md "Devices (v2)"): revoke → 200, revoked at once (CRL, openssl
# verify -crl_check, the listing, an open TLS connection's next request);
# revoke again → 200 as it is; delete → 409 while the certificate is valid
# (nothing changed), 204 after revocation, then the name and Subject DN are
# free and the CRL still lists the serial; unknown ids → 404; bad body → 400.
. "$(dirname "$0")/../lib/stack.sh"
stack_up
R() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
W=$T_DIR/w; mkdir -p "$W"
jsonstr() { python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$1"; }
mkdev() { # mkdev NAME CN: sets DEV (id), SERIAL; key and cert in $W/NAME.*
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/$1.key" \
    -out "$W/$1.csr" -subj "/O=Devices/CN=$2" 2>/dev/null
  api_json POST /api/v1/devices "{\"name\":\"$1\",\"csr\":$(jsonstr "$W/$1.csr")}" -u "$ADMIN"
  DEV=$(jfield id); SERIAL=$(jfield certificate.serial)
  jfield certificate.certificate >"$W/$1.pem"
}
crl_has() { # crl_has SERIAL: the current CRL (PEM) lists it
  curl -sS --cacert "$CA" "$URL/api/v1/ca/crl" >"$W/crl.pem"
  openssl crl -in "$W/crl.pem" -noout -text | tr '[:upper:]' '[:lower:]' | tr -d ' ' |
    grep -q "serialnumber:0*${1#0}$"
}
status_of() { api GET /api/v1/devices -u "$ADMIN"; python3 -c '
import json,sys
for d in json.loads(sys.argv[1])["devices"]:
    if d["id"] == sys.argv[2]: print(d["certificate"]["status"])' "$BODY" "$1"; }

mkdev cam-1 camera-one; expect_status 201 "device created"
D1=$DEV S1=$SERIAL
check '[ "$(status_of "$D1")" = valid ]' "listed valid"
check '! crl_has "$S1"' "not in the CRL before"
check 'openssl verify -CAfile "$CA" "$W/cam-1.pem" >/dev/null 2>&1' "verifies before"

# Delete before revocation: 409, nothing changed.
KEYS=$(R --scan --pattern 'dev*' | sort | tr '\n' ' ')
api DELETE "/api/v1/devices/$D1" -u "$ADMIN"; expect_status 409 "delete while valid"; expect_code conflict "delete while valid code"
check '[ "$(R --scan --pattern "dev*" | sort | tr "\n" " ")" = "$KEYS" ] && [ "$(status_of "$D1")" = valid ]' "refused delete changed nothing"

# Bad input.
api_json POST "/api/v1/devices/$D1/revoke" '{"reason":"x"}' -u "$ADMIN"; expect_status 400 "unknown body field"; expect_code invalid_argument "unknown field code"
check '[ "$(status_of "$D1")" = valid ]' "refused revoke changed nothing"
api POST /api/v1/devices/dev_nosuch/revoke -u "$ADMIN"; expect_status 404 "revoke unknown"; expect_code not_found "revoke unknown code"
api POST /api/v1/devices/..%2Fx/revoke -u "$ADMIN"; expect_status 404 "revoke a malformed id"
api DELETE /api/v1/devices/dev_nosuch -u "$ADMIN"; expect_status 404 "delete unknown"
api POST "/api/v1/devices/$D1/revoke" -u "nobody:wrong-password"; expect_status 401 "revoke without an administrator"

# An open keep-alive TLS connection with the device's certificate: its next
# request after the revocation sees it (no cache keeps the old answer).
REQ="GET /api/v1/vaults HTTP/1.1\r\nHost: x\r\n\r\n"
( printf "$REQ"; sleep 3; printf "$REQ"; sleep 3 ) |
  openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$MANAGER_HTTPS_PORT" -CAfile "$CA" \
    -cert "$W/cam-1.pem" -key "$W/cam-1.key" >"$W/conn.out" 2>/dev/null &
CONN=$!
sleep 1.5
api POST "/api/v1/devices/$D1/revoke" -u "$ADMIN"; expect_status 200 "revoke"
check '[ "$(jfield id)" = "$D1" ] && [ "$(jfield certificate.status)" = revoked ]' "the answer shows it revoked"
wait $CONN
check '[ "$(grep -o "HTTP/1.1 401" "$W/conn.out" | wc -l)" = 2 ]' "two answers on one connection"
check 'grep -q "not an application credential" "$W/conn.out" && grep -q "client certificate revoked" "$W/conn.out"' \
  "the open connection's next request is refused as revoked"

# CRL and openssl.
check 'crl_has "$S1"' "in the CRL at once"
check '! openssl verify -crl_check -CAfile "$CA" -CRLfile "$W/crl.pem" "$W/cam-1.pem" >/dev/null 2>&1' "openssl verify -crl_check refuses it"
check '{ openssl verify -crl_check -CAfile "$CA" -CRLfile "$W/crl.pem" "$W/cam-1.pem" 2>&1 || true; } | grep -q "certificate revoked"' "… as revoked"
check '[ "$(status_of "$D1")" = revoked ]' "listed revoked"
api POST "/api/v1/devices/$D1/revoke" -u "$ADMIN"; expect_status 200 "revoke again: as it is"
check '[ "$(jfield certificate.status)" = revoked ]' "still revoked"

# A DN held by the revoked device is still taken until delete.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/n.key" -out "$W/n.csr" -subj "/O=Devices/CN=camera-one" 2>/dev/null
api_json POST /api/v1/devices "{\"name\":\"cam-1b\",\"csr\":$(jsonstr "$W/n.csr")}" -u "$ADMIN"; expect_status 409 "DN held until delete"

api DELETE "/api/v1/devices/$D1" -u "$ADMIN"; expect_status 204 "delete after revocation"
api DELETE "/api/v1/devices/$D1" -u "$ADMIN"; expect_status 404 "deleted is gone"
check '[ -z "$(status_of "$D1")" ]' "not listed"
check 'crl_has "$S1"' "the CRL still lists the deleted device's serial"
api_json POST /api/v1/devices "{\"name\":\"cam-1\",\"csr\":$(jsonstr "$W/n.csr")}" -u "$ADMIN"
expect_status 201 "name and Subject DN free again"

# Audit names the administrator.
api GET "/api/v1/audit?limit=1000" -u "$ADMIN"
check '[ "$(jq "[.records[] | select(.action==\"device.revoke\" and .actor==\"admin\" and .target==\"$D1\" and .outcome==\"ok\")] | length" <<<"$BODY")" = 2 ]' "revokes audited"
check '[ "$(jq "[.records[] | select(.action==\"device.delete\" and .actor==\"admin\" and .target==\"$D1\")] | length" <<<"$BODY")" -ge 3 ]' "deletes audited (refused ones too)"
