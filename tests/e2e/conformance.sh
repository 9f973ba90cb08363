#!/usr/bin/env bash
# API.md row by row where the area tests left gaps: each block names the rule
# of API.md it checks. Regression tests of the conformance review.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
stack_up
W=$T_DIR/w
mkdir -p "$W"

# ---- expiration_date: not past now + 5 years (calendar years) ---------------
# The limit is now + 5 years; a date a day past it is refused, a date a day
# before it is taken. (It used to be 5 * 365 + 2 days: a day too many.)
make_pending_account five five-user "pw-five-$RANDOM-long-enough"; F=$ACC_ID; PF=$ACC_PW
gen_csr "$W/five" "/O=Conformance/CN=five years"
register "$F" "$W/five.csr" "$(date -u -d '+5 years +1 day' +%F)" "five-user:$PF"
expect_status 400 "expiration_date a day past now + 5 years"
expect_code invalid_argument "past 5 years code"
register "$F" "$W/five.csr" "$(date -u -d '+5 years +2 hours' +%FT%TZ)" "five-user:$PF"
expect_status 400 "expiration_date two hours past now + 5 years"
register "$F" "$W/five.csr" "$(date -u -d '+5 years -1 day' +%F)" "five-user:$PF"
expect_status 201 "expiration_date a day before now + 5 years"
WANT_NA=$(date -u -d '+5 years -1 day' +%FT00:00:00Z)
check '[ "$(jfield not_after)" = "$WANT_NA" ]' "a plain date means 00:00:00Z of that day"

# ---- disable / enable: no body, {} or nothing else ---------------------------
# "Unknown JSON fields are rejected with 400": also on these two, which take
# no field; a refused call changes nothing.
make_pending_account de de-user "pw-de-$RANDOM-long-enough"; D=$ACC_ID
api_json POST "/api/v1/accounts/$D/disable" '{"state":"active"}' -u "$ADMIN"
expect_status 400 "disable with an unknown field"; expect_code invalid_argument "disable unknown field code"
api GET "/api/v1/accounts/$D" -u "$ADMIN"
check '[ "$(jfield state)" = pending_registration ]' "the refused disable changed nothing"
api POST "/api/v1/accounts/$D/disable" -H 'Content-Type: text/plain' --data-binary 'please'
expect_status 401 "disable without credentials"
api POST "/api/v1/accounts/$D/disable" -H 'Content-Type: text/plain' --data-binary 'please' -u "$ADMIN"
expect_status 415 "disable with a text body"
api POST "/api/v1/accounts/$D/disable" -u "$ADMIN"
expect_status 200 "disable without a body"
check '[ "$(jfield state)" = disabled ]' "disabled"
api_json POST "/api/v1/accounts/$D/enable" '{"x":1}' -u "$ADMIN"
expect_status 400 "enable with an unknown field"
api_json POST "/api/v1/accounts/$D/enable" '{}' -u "$ADMIN"
expect_status 200 "enable with {}"
check '[ "$(jfield state)" = pending_registration ]' "enabled back to pending_registration"
api POST "/api/v1/accounts/$D/enable" -d '' -u "$ADMIN"
expect_status 200 "enable with an empty form body"
api GET /api/v1/audit -u "$ADMIN"
check '[ "$(jq -r --arg d "$D" "[.records[] | select(.target == \$d and .action == \"account.disable\" and .outcome == \"invalid_argument\")] | length" <<<"$BODY")" = 1 ]' \
  "the refused disable is audited"

# A malformed body is not echoed back: the error names a position, never the
# text near it (which may be a password).
api_json POST /api/v1/accounts '{"name":"x","role":"vault_provisioner","username":"echo-user","password": hunter}' -u "$ADMIN"
expect_status 400 "malformed JSON with a bare password"
check '[[ $BODY != *hunter* ]]' "the malformed body's text is not in the error"
check '! grep -rq hunter "$MANAGER_DATA_DIR/logs"' "nor in any log"

# ---- HTTP: a 405 names the path's methods; a 201 names what it created -------
# RFC 9110 15.5.6 (Allow is required on 405) and 15.3.2 (Location).
hdr() { tr -d '\r' <"$1" | sed -n "s/^$2: *//Ip"; }
api DELETE /healthz -D "$W/h"; expect_status 405 "DELETE /healthz"
check '[ "$(hdr "$W/h" Allow)" = GET ]' "405 on /healthz: Allow: GET ($(hdr "$W/h" Allow))"
api GET "/api/v1/accounts/$D/disable" -u "$ADMIN" -D "$W/h"; expect_status 405 "GET disable"
check '[ "$(hdr "$W/h" Allow)" = POST ]' "405 on disable: Allow: POST"
api POST /api/v1/vaults/some-vault/objects/k -u "$ADMIN" -D "$W/h"; expect_status 405 "POST an object"
check '[ "$(hdr "$W/h" Allow)" = "GET, HEAD, PUT, DELETE" ]' "405 on an object: Allow: GET, HEAD, PUT, DELETE ($(hdr "$W/h" Allow))"
api GET /api/v1/accounts -u "$ADMIN" -D "$W/h"; expect_status 200 "list accounts"
check '[ -z "$(hdr "$W/h" Allow)" ]' "no Allow header outside a 405"
api_json POST /api/v1/accounts '{"name":"located","role":"vault_provisioner","username":"loc-user","password":"pw-loc-long-enough-1"}' \
  -u "$ADMIN" -D "$W/h"
expect_status 201 "create an account"; LOC_ID=$(jfield id); LOC=$(hdr "$W/h" Location)
check '[ "$LOC" = "/api/v1/accounts/$LOC_ID" ]' "201 account: Location /api/v1/accounts/ID ($LOC)"
api GET "$LOC" -u "$ADMIN"; expect_status 200 "GET the Location"
check '[ "$(jfield id)" = "$LOC_ID" ]' "the Location is the account created"
gen_csr "$W/loc" "/O=Conformance/CN=located" ec
register "$LOC_ID" "$W/loc.csr" "" "loc-user:pw-loc-long-enough-1"; expect_status 201 "register located"
jfield certificate >"$W/loc.crt"
api_json POST /api/v1/vault-templates '{"name":"loc-std","kind":"vault"}' -u "$ADMIN"; expect_status 201 "template"
api_json POST /api/v1/vaults "{\"name\":\"loc-vault\",\"vault_template_id\":\"$(jfield id)\"}" \
  --cert "$W/loc.crt" --key "$W/loc.key" -D "$W/h"
expect_status 201 "create a vault"
check '[ "$(hdr "$W/h" Location)" = /api/v1/vaults/loc-vault ]' "201 vault: Location /api/v1/vaults/NAME ($(hdr "$W/h" Location))"

# ---- "{id} of another → 403" comes before any check of the body or query ----
# An app or temp caller on another account's id is refused whatever it sent
# (it used to get 400 for a body or query the service never looked at), and
# the refusal is audited as before.
make_pending_account own-b own-b-user "pw-own-b-long-enough"; OB=$ACC_ID; OBPW=$ACC_PW
for body in '{}' '{"expiration_date":"bad"}' '{"x":1}' '{"csr":7}'; do
  app_json POST "/api/v1/accounts/$OB/certificates/rotate" "$body" "$W/loc"
  expect_status 403 "rotate on another account with $body"; expect_code permission_denied "rotate other $body code"
  app_json POST "/api/v1/accounts/$OB/certificates/renew" "$body" "$W/loc"
  expect_status 403 "renew on another account with $body"
done
app GET "/api/v1/accounts/$OB/certificates?limit=x" "$W/loc"; expect_status 403 "list another account's certificates with a bad limit"
app GET "/api/v1/accounts/$OB/events?after=bad" "$W/loc"; expect_status 403 "another account's events with a bad cursor"
app_json POST "/api/v1/accounts/$LOC_ID/certificates/renew" '{"expiration_date":"bad"}' "$W/loc"
expect_status 400 "its own account: the bad date is a 400"
register "$LOC_ID" "$W/loc.csr" "" "own-b-user:$OBPW"; expect_status 403 "B's temp credentials on another account"
api_json POST "/api/v1/accounts/$LOC_ID/certificates" '{}' -u "own-b-user:$OBPW"
expect_status 403 "B's temp credentials on another account, body {}"
api GET "/api/v1/accounts/$OB" -u "$ADMIN"
check '[ "$(jfield state)" = pending_registration ] && [ "$(jfield username)" = own-b-user ]' "B untouched, its credentials not consumed"
api GET "/api/v1/audit?limit=1000" -u "$ADMIN"
check '[ "$(jq --arg b "$OB" "[.records[] | select(.target == \$b and .action == \"certificate.rotate\" and .outcome == \"permission_denied\")] | length" <<<"$BODY")" = 4 ]' \
  "the four refused rotations are audited"
