#!/usr/bin/env bash
# Certificates end to end with curl and openssl: registration with the
# one-time credentials (every refusal consumes nothing; one winner of a race),
# the issued certificate (chain, subject, key, EKU, dates), DN conflicts
# whatever the case, spacing or string encoding, renewal needed and not,
# rotation (same key refused, revocation on an open connection), the CRL,
# devices, and all of it after a restart of every process.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
stack_up
W=$T_DIR/w
mkdir -p "$W"

# ---- accounts to register --------------------------------------------------
make_pending_account acct-a user-a "pw-a-$RANDOM-long-enough"; A=$ACC_ID; PA=$ACC_PW
make_pending_account acct-b user-b "pw-b-$RANDOM-long-enough"; B=$ACC_ID; PB=$ACC_PW
check '[ -n "$A" ] && [ -n "$B" ]' "two pending accounts"

gen_csr "$W/a1" "/O=Acme Corp/OU=Apps/CN=app-one"
gen_csr "$W/dev" "/O=Acme Corp/CN=Device 7"
EXP=$(date -u -d '+200 days' +%F)

# ---- a device holds a DN first ---------------------------------------------
register_device dev-7 "$W/dev.csr"
expect_status 201 "device registered"
DEV_SERIAL=$(jfield certificate.serial)
check '[ -n "$(jfield id)" ] && [ "$(jfield name)" = dev-7 ]' "device id and name"
jfield certificate.certificate >"$W/dev.crt"
check 'openssl verify -CAfile "$CA" "$W/dev.crt" | grep -q ": OK"' "device certificate verifies"
check '[ "$(eku "$W/dev.crt")" = "TLS Web Client Authentication, TLS Web Server Authentication" ]' \
  "device EKU clientAuth and serverAuth"
register_device dev-7 "$W/a1.csr"
expect_status 409 "device name taken"; expect_code conflict "device name taken code"
gen_csr "$W/dev2" "/O=ACME  corp/CN= device 7 "
register_device dev-8 "$W/dev2.csr"
expect_status 409 "device DN taken in other case/spacing"
api GET /api/v1/devices -u "$ADMIN"
expect_status 200 "list devices"
check '[ "$(jq -r ".devices | length" <<<"$BODY")" = 1 ]' "one device listed"
api GET /api/v1/devices
expect_status 401 "list devices without credentials"
api_json POST /api/v1/devices '{"name":"x","csr":"nope"}' -u "$ADMIN"
expect_status 400 "device with a bad CSR"
gen_csr "$W/dev3" "/CN=no auth device"
api_json POST /api/v1/devices "$(jq -n --arg c "$(cat "$W/dev3.csr")" '{name:"d3",csr:$c}')" -u "user-a:$PA"
expect_status 401 "device registration by the temp credentials"

# ---- refused registrations consume nothing ---------------------------------
register "$A" "$W/a1.csr" "" "user-a:wrong-password-123"
expect_status 401 "wrong temp password"; expect_code unauthenticated "wrong password code"
api_json POST "/api/v1/accounts/$A/certificates" "$(csr_json "$W/a1.csr")"
expect_status 401 "no credentials"
register "$A" "$W/a1.csr" "" "$ADMIN"
expect_status 401 "admin credentials are not temp credentials"
register "$B" "$W/a1.csr" "" "user-a:$PA"
expect_status 403 "temp credentials of another account"; expect_code permission_denied "other account code"
api_json POST "/api/v1/accounts/$A/certificates" '{"csr":"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"}' -u "user-a:$PA"
expect_status 400 "garbage CSR"; expect_code invalid_argument "garbage CSR code"
api_json POST "/api/v1/accounts/$A/certificates" '{}' -u "user-a:$PA"
expect_status 400 "missing csr"
api_json POST "/api/v1/accounts/$A/certificates" "$(csr_json "$W/a1.csr" | jq -c '. + {color:"red"}')" -u "user-a:$PA"
expect_status 400 "unknown field"
api POST "/api/v1/accounts/$A/certificates" -u "user-a:$PA" -H 'Content-Type: text/plain' --data-binary x
expect_status 415 "not JSON"
openssl req -new -newkey rsa:1024 -nodes -keyout "$W/small.key" -out "$W/small.csr" -subj "/CN=small" 2>/dev/null
register "$A" "$W/small.csr" "" "user-a:$PA"; expect_status 400 "RSA 1024 refused"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-521 -nodes -keyout "$W/p521.key" -out "$W/p521.csr" -subj "/CN=p521" 2>/dev/null
register "$A" "$W/p521.csr" "" "user-a:$PA"; expect_status 400 "EC P-521 refused"
openssl req -new -newkey ed25519 -nodes -keyout "$W/ed.key" -out "$W/ed.csr" -subj "/CN=ed" 2>/dev/null
register "$A" "$W/ed.csr" "" "user-a:$PA"; expect_status 400 "Ed25519 refused"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/empty.key" -out "$W/empty.csr" -subj "/" 2>/dev/null
register "$A" "$W/empty.csr" "" "user-a:$PA"; expect_status 400 "empty Subject DN refused"
tamper_csr "$W/a1.csr" "$W/bad.csr"
register "$A" "$W/bad.csr" "" "user-a:$PA"; expect_status 400 "CSR with a broken self-signature"
register "$A" "$W/a1.csr" "$(date -u -d '-1 day' +%F)" "user-a:$PA"; expect_status 400 "expiration in the past"
register "$A" "$W/a1.csr" "$(date -u -d '+30 minutes' +%FT%TZ)" "user-a:$PA"; expect_status 400 "expiration within the minimum validity"
register "$A" "$W/a1.csr" "$(date -u -d '+6 years' +%F)" "user-a:$PA"; expect_status 400 "expiration past 5 years"
register "$A" "$W/a1.csr" "next tuesday" "user-a:$PA"; expect_status 400 "expiration not a date"
register "$A" "$W/dev2.csr" "" "user-a:$PA"; expect_status 409 "DN of the device"; expect_code conflict "DN conflict code"
gen_csr "$W/dev4" "/O=acme corp/CN=DEVICE 7" printable
register "$A" "$W/dev4.csr" "" "user-a:$PA"; expect_status 409 "DN of the device as PrintableString"

# ---- registration ----------------------------------------------------------
register "$A" "$W/a1.csr" "$EXP" "user-a:$PA"
expect_status 201 "registration"
A1=$(jfield serial)
jfield certificate >"$W/a1.crt"
check '[[ $A1 =~ ^[0-9a-f]{16,}$ ]]' "serial is lowercase hex of 64+ bits"
check '[ "$(jfield status)" = valid ]' "status valid"
check '[ "$(jfield not_after)" = "${EXP}T00:00:00Z" ]' "not_after is the expiration_date"
check '[ "$(jfield ca_certificate)" = "$(cat "$CA")" ]' "ca_certificate is the CA"
check_client_cert "$W/a1.crt" "$W/a1.key" "/O=Acme Corp/OU=Apps/CN=app-one" "registered"
check '[ "$(openssl x509 -in "$W/a1.crt" -noout -enddate)" = "notAfter=$(date -u -d "$EXP" "+%b %e %H:%M:%S %Y GMT")" ]' "certificate notAfter"
register "$A" "$W/a1.csr" "" "user-a:$PA"
expect_status 401 "the temp credentials are gone after registration"
if api GET "/api/v1/accounts/$A" -u "$ADMIN" && [ "$ST" = 200 ]; then
  check '[ "$(jfield state)" = active ] && [ -z "$(jfield username)" ]' "account active, user name erased"
  check '[[ "$(jfield registered_at)" =~ ^20[0-9-]+T[0-9:]+Z$ ]]' "registered_at set"
fi

# ---- the race: 20 registrations with one secret, one winner ----------------
gen_csr "$W/b1" "/O=Acme Corp/CN=app-two"
csr_json "$W/b1.csr" >"$W/b1.json"
pids=""
for i in $(seq 1 20); do
  ( curl -s -o "$W/race.$i.json" -w '%{http_code}\n' --cacert "$CA" -u "user-b:$PB" \
      -H 'Content-Type: application/json' --data-binary @"$W/b1.json" \
      "$URL/api/v1/accounts/$B/certificates" >"$W/race.$i" ) &
  pids="$pids $!"
done
wait $pids
check '[ "$(cat "$W"/race.? "$W"/race.?? | grep -c "^201$")" = 1 ]' "exactly one of 20 concurrent registrations wins"
# The others are refused: 401; 429 once more than MANAGER_LOGIN_MAX_FAILURES
# of them arrive after the winner consumed the user name (each is a failed
# login for it, and the lockout counts those whether or not the name still
# exists, so that it reveals nothing); or 503 where the slow password hash of
# 20 at once outlasts the RPC deadline (a sanitizer build). None changes state.
check '[ "$(cat "$W"/race.? "$W"/race.?? | grep -cvE "^(201|401|429|503)$")" = 0 ]' "the 19 others are refused"
check '[ "$(cat "$W"/race.? "$W"/race.?? | grep -c "^401$")" -ge 1 ]' "losers get 401"
for i in $(seq 1 20); do
  if [ "$(cat "$W/race.$i")" = 201 ]; then jq -r .certificate "$W/race.$i.json" >"$W/b1.crt"; fi
done
app GET "/api/v1/accounts/$B/certificates" "$W/b1"
expect_status 200 "the race winner's certificate works"
check '[ "$(jq -r ".certificates | length" <<<"$BODY")" = 1 ]' "one certificate for the race account"
B1=$(jfield certificates.0.serial)

gen_csr "$W/devacct" "/O=ACME CORP/OU=apps/CN=app-ONE"
register_device dev-10 "$W/devacct.csr"
expect_status 409 "a device with an account's DN (other case)"

# ---- list ------------------------------------------------------------------
app GET "/api/v1/accounts/$A/certificates" "$W/a1"
expect_status 200 "list own certificates"
check '[ "$(jfield certificates.0.serial)" = "$A1" ] && [ "$(jfield certificates.0.status)" = valid ]' "listed serial and status"
app GET "/api/v1/accounts/$B/certificates" "$W/a1"
expect_status 403 "list another account's certificates"; expect_code permission_denied "list other code"
api GET "/api/v1/accounts/$A/certificates" -u "$ADMIN"
expect_status 200 "admin lists an account's certificates"
api GET "/api/v1/accounts/acc_nosuchaccount/certificates" -u "$ADMIN"
expect_status 404 "admin lists an unknown account"
api GET "/api/v1/accounts/$A/certificates"
expect_status 401 "list without credentials"
app GET "/api/v1/accounts/$A/certificates" "$W/dev"
expect_status 401 "a device certificate is not an app credential"

# ---- renewal ---------------------------------------------------------------
app_json POST "/api/v1/accounts/$A/certificates/renew" '{}' "$W/a1"
expect_status 200 "renew without a date, not needed"
check '[ "$(jfield renewed)" = false ] && [ "$(jfield serial)" = "$A1" ]' "not renewed, same certificate"
app_json POST "/api/v1/accounts/$A/certificates/renew" "{\"expiration_date\":\"$(date -u -d '+100 days' +%F)\"}" "$W/a1"
expect_status 200 "renew to an earlier date"
check '[ "$(jfield renewed)" = false ]' "earlier date: not renewed"
EXP2=$(date -u -d '+300 days' +%F)
app_json POST "/api/v1/accounts/$A/certificates/renew" "{\"expiration_date\":\"$EXP2\"}" "$W/a1"
expect_status 200 "renew to a later date"
A2=$(jfield serial)
check '[ "$(jfield renewed)" = true ] && [ "$A2" != "$A1" ]' "renewed with a new serial"
check '[ "$(jfield not_after)" = "${EXP2}T00:00:00Z" ]' "renewed not_after"
jfield certificate >"$W/a2.crt"; cp "$W/a1.key" "$W/a2.key"
check_client_cert "$W/a2.crt" "$W/a2.key" "/O=Acme Corp/OU=Apps/CN=app-one" "renewed"
app GET "/api/v1/accounts/$A/certificates" "$W/a1"
expect_status 200 "the old certificate still works after renewal"
check '[ "$(jq -r "[.certificates[].status] | join(\",\")" <<<"$BODY")" = valid,valid ]' "both valid"
app GET "/api/v1/accounts/$A/certificates" "$W/a2"
expect_status 200 "the new certificate works"
app_json POST "/api/v1/accounts/$A/certificates/renew" '{"expiration_date":"yesterday"}' "$W/a1"
expect_status 400 "renew with a bad date"
app_json POST "/api/v1/accounts/$A/certificates/renew" "{\"expiration_date\":\"$(date -u -d '+7 years' +%F)\"}" "$W/a1"
expect_status 400 "renew past 5 years"
app_json POST "/api/v1/accounts/$A/certificates/renew" '{"serial":"x"}' "$W/a1"
expect_status 400 "renew with an unknown field"
app_json POST "/api/v1/accounts/$B/certificates/renew" '{}' "$W/a1"
expect_status 403 "renew another account"
api_json POST "/api/v1/accounts/$A/certificates/renew" '{}' -u "$ADMIN"
expect_status 401 "renew with a password"

# Renewal needed without a date: a certificate inside the notice window.
make_pending_account acct-c user-c "pw-c-$RANDOM-long-enough"; C=$ACC_ID; PC=$ACC_PW
gen_csr "$W/c1" "/O=Acme Corp/CN=app-three"
gen_csr "$W/cdup" "/O=acme  CORP/OU=apps/CN= APP-ONE"
register "$C" "$W/cdup.csr" "" "user-c:$PC"
expect_status 409 "another account's DN in other case and spacing"
register "$C" "$W/c1.csr" "$(date -u -d '+10 days' +%F)" "user-c:$PC"
expect_status 201 "register a certificate that expires in 10 days"
C1=$(jfield serial); jfield certificate >"$W/c1.crt"
app_json POST "/api/v1/accounts/$C/certificates/renew" '' "$W/c1"
expect_status 200 "renew inside the notice window"
check '[ "$(jfield renewed)" = true ] && [ "$(jfield serial)" != "$C1" ]' "renewed"
check '[ "$(jfield not_after | cut -c1-10)" = "$(date -u -d "+365 days" +%F)" ] || [ "$(jfield not_after | cut -c1-10)" = "$(date -u -d "+366 days" +%F)" ]' "renewed for one year"

# ---- rotation --------------------------------------------------------------
app_json POST "/api/v1/accounts/$A/certificates/rotate" "$(csr_json "$W/a1.csr")" "$W/a2"
expect_status 400 "rotation with the same key"
gen_csr "$W/a3" "/O=Acme Corp/OU=Apps/CN=app-one"
app_json POST "/api/v1/accounts/$A/certificates/rotate" "$(csr_json "$W/a3.csr" | jq -c '. + {revoke:["abcdef0123"]}')" "$W/a2"
expect_status 400 "rotation revoking a serial not of the account"
app_json POST "/api/v1/accounts/$A/certificates/rotate" "$(csr_json "$W/a3.csr" | jq -c --arg s "$B1" '. + {revoke:[$s]}')" "$W/a2"
expect_status 400 "rotation revoking another account's serial"
openssl req -new -key "$W/b1.key" -subj "/CN=fresh name, old key" -out "$W/b1again.csr"
app_json POST "/api/v1/accounts/$A/certificates/rotate" "$(csr_json "$W/b1again.csr")" "$W/a2"
expect_status 400 "rotation with another account's key"
gen_csr "$W/x" "/O=Acme Corp/CN=app-two"
app_json POST "/api/v1/accounts/$A/certificates/rotate" "$(csr_json "$W/x.csr")" "$W/a2"
expect_status 409 "rotation to another account's DN"
app_json POST "/api/v1/accounts/$B/certificates/rotate" "$(csr_json "$W/a3.csr")" "$W/a2"
expect_status 403 "rotation of another account"
# Rotate with the old certificate and, on the same connection, use it again.
body=$(csr_json "$W/a3.csr")
out=$(curl -sS --cacert "$CA" --cert "$W/a2.crt" --key "$W/a2.key" \
  -H 'Content-Type: application/json' --data-binary "$body" \
  -o "$W/rot.json" -w '%{http_code} %{num_connects}\n' \
  "$URL/api/v1/accounts/$A/certificates/rotate" \
  --next --cacert "$CA" --cert "$W/a2.crt" --key "$W/a2.key" -o /dev/null \
  -w '%{http_code} %{num_connects}\n' "$URL/api/v1/accounts/$A/certificates")
BODY=$(cat "$W/rot.json")
check '[ "$(sed -n 1p <<<"$out" | cut -d" " -f1)" = 201 ]' "rotation (revoke absent)"
check '[ "$(sed -n 2p <<<"$out")" = "401 0" ]' "the revoked certificate is refused on the open connection"
A3=$(jfield serial)
jfield certificate >"$W/a3.crt"
check '[ "$(jq -r ".revoked | sort | join(\",\")" <<<"$BODY")" = "$(printf "%s\n" "$A1" "$A2" | sort | paste -sd,)" ]' "every other certificate revoked"
check_client_cert "$W/a3.crt" "$W/a3.key" "/O=Acme Corp/OU=Apps/CN=app-one" "rotated (same DN)"
app GET "/api/v1/accounts/$A/certificates" "$W/a1"
expect_status 401 "revoked certificate 1 refused"
app GET "/api/v1/accounts/$A/certificates" "$W/a3"
expect_status 200 "the rotated certificate works"
check '[ "$(jq -r "[.certificates[] | .serial + \"=\" + .status] | sort | join(\",\")" <<<"$BODY")" = "$(printf "%s\n" "$A1=revoked" "$A2=revoked" "$A3=valid" | sort | paste -sd,)" ]' "statuses after rotation"
# Explicit revoke list: only what is listed goes.
gen_csr "$W/a4" "/O=Acme Corp/OU=Apps/CN=app-one v4"
app_json POST "/api/v1/accounts/$A/certificates/rotate" "$(csr_json "$W/a4.csr" | jq -c '. + {revoke:[]}')" "$W/a3"
expect_status 201 "rotation revoking nothing"
A4=$(jfield serial); jfield certificate >"$W/a4.crt"
check '[ "$(jq -r ".revoked | length" <<<"$BODY")" = 0 ]' "nothing revoked"
gen_csr "$W/a5" "/O=Acme Corp/OU=Apps/CN=app-one v5"
app_json POST "/api/v1/accounts/$A/certificates/rotate" "$(csr_json "$W/a5.csr" | jq -c --arg s "${A3^^}" '. + {revoke:[$s]}')" "$W/a4"
expect_status 201 "rotation revoking one listed serial"
A5=$(jfield serial); jfield certificate >"$W/a5.crt"
check '[ "$(jq -c .revoked <<<"$BODY")" = "[\"$A3\"]" ]' "only the listed serial revoked"
app GET "/api/v1/accounts/$A/certificates" "$W/a4"
expect_status 200 "the unlisted certificate stays valid"
app GET "/api/v1/accounts/$A/certificates" "$W/a3"
expect_status 401 "the listed certificate is refused"

# ---- CRL -------------------------------------------------------------------
check_crl() {
  api GET /api/v1/ca/crl
  expect_status 200 "CRL $1"
  printf '%s\n' "$BODY" >"$W/crl.pem"
  check 'openssl crl -in "$W/crl.pem" -CAfile "$CA" -noout 2>&1 | grep -q "verify OK"' "CRL signature $1"
  check '[ "$(crl_serials "$W/crl.pem")" = "$(printf "%s\n" "$A1" "$A2" "$A3" | sort)" ]' "CRL lists exactly the revoked serials $1"
  check 'openssl crl -in "$W/crl.pem" -noout -nextupdate | grep -q "nextUpdate="' "CRL nextUpdate $1"
  check 'openssl crl -in "$W/crl.pem" -noout -crlnumber | grep -q "crlNumber="' "CRL number $1"
}
check_crl "after rotations"

# ---- events ----------------------------------------------------------------
api GET "/api/v1/accounts/$A/events" -u "$ADMIN"
if [ "$ST" = 200 ]; then
  types=$(jq -r '[.events[].type] | join(",")' <<<"$BODY")
  check '[ "$types" = "certificate.issued,certificate.renewed,certificate.issued,certificate.revoked,certificate.revoked,certificate.issued,certificate.issued,certificate.revoked" ]' "issued, renewed and revoked events in order"
  check '[ "$(jq -r "[.events[] | select(.type == \"certificate.revoked\") | .data.serial] | sort | join(\",\")" <<<"$BODY")" = "$(printf "%s\n" "$A1" "$A2" "$A3" | sort | paste -sd,)" ]' "revoked events name the serials"
fi

# ---- audit -----------------------------------------------------------------
if api GET /api/v1/audit -u "$ADMIN" && [ "$ST" = 200 ]; then
  check 'jq -e "[.records[] | select(.action == \"certificate.register\")] | length > 0" <<<"$BODY" >/dev/null' "registrations audited"
  check '! grep -q "BEGIN" <<<"$BODY"' "no PEM in the audit"
fi
check '! grep -h "BEGIN" "$MANAGER_DATA_DIR"/logs/*.log' "no PEM in the logs"

# ---- disabled account ------------------------------------------------------
api POST "/api/v1/accounts/$C/disable" -u "$ADMIN"
if [ "$ST" = 200 ]; then
  app GET "/api/v1/accounts/$C/certificates" "$W/c1"
  expect_status 401 "disabled account refused"
  api POST "/api/v1/accounts/$C/enable" -u "$ADMIN"
  app GET "/api/v1/accounts/$C/certificates" "$W/c1"
  expect_status 200 "enabled account accepted again"
fi

# ---- everything survives a restart of every process, Redis included -------
mgr_stop
mgr_start_redis || fail_now "redis did not restart"
mgr_start_services || fail_now "the stack did not restart"
app GET "/api/v1/accounts/$A/certificates" "$W/a5"
expect_status 200 "the newest certificate works after a restart"
check '[ "$(jq -r ".certificates | length" <<<"$BODY")" = 5 ]' "five certificates after a restart"
app GET "/api/v1/accounts/$A/certificates" "$W/a1"
expect_status 401 "a revoked certificate is still refused after a restart"
app GET "/api/v1/accounts/$B/certificates" "$W/b1"
expect_status 200 "the race winner after a restart"
register "$A" "$W/a1.csr" "" "user-a:$PA"
expect_status 401 "the temp credentials stay consumed after a restart"
register_device dev-9 "$W/dev2.csr"
expect_status 409 "DN registry after a restart"
check_crl "after a restart"
