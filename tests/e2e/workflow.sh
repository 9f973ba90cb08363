#!/usr/bin/env bash
# Black-box walk of WORKFLOW.txt as its two users tell it, end to end, with
# curl and openssl only (no Redis access, no seeding): an administrator sets
# up a private account, an application registers, works in a locked vault,
# renews, rotates a compromised key, hears of expiry, is disabled and
# enabled, and every process (Redis too) is killed and restarted without
# losing anything acknowledged. acceptance.sh and conformance.sh walk API.md
# row by row; this walk checks what holds across the steps of the story:
# mid-connection expiry, forged certificates, vault I/O with each kind of
# dead certificate, the CRL as openssl reads it, the expiry notice on the
# live stream, and the whole state after kill -9 of each process.
# Checks marked "FINDING:" failed when the walk was written (2026-11-28, at
# main 7496410) and were fixed after it (stream expiry, auth.cert records).
export MANAGER_MIN_CERT_VALIDITY_S=5
export MANAGER_EXPIRY_SCAN_INTERVAL_S=1
# The walk replays consumed credentials after every restart: more failed
# logins than the default lockout (5) allows; a 429 would hide the 401.
export MANAGER_LOGIN_MAX_FAILURES=1000
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
stack_up
W=$T_DIR/w
mkdir -p "$W"
J='Content-Type: application/json'
epoch() { date -u -d "$1" +%s; }
# vget CERTPREFIX VAULT KEY: GET an object; sets ST and BODY.
vget() { app GET "/api/v1/vaults/$2/objects/$3" "$1"; }
vput() { app PUT "/api/v1/vaults/$2/objects/$3" "$1" --data-binary "$4"; }
# CRL as the application would fetch it.
fetch_crl() { api GET /api/v1/ca/crl; printf '%s\n' "$BODY" >"$W/crl.pem"; }
# crl_verify CRT: openssl verify with the CRL; prints openssl's verdict.
# (captured first: openssl exits non-zero for a revoked certificate, and
# pipefail would fail "crl_verify X | grep -q revoked")
crl_verify() { local out; out=$(openssl verify -crl_check -CAfile "$W/ca.pem" -CRLfile "$W/crl.pem" "$1" 2>&1); echo "$out"; }
crl_revoked() { [[ $(crl_verify "$1") == *"certificate revoked"* ]]; }
crl_good() { [[ $(crl_verify "$1") == *": OK"* ]]; }

# ---- kept-alive TLS connections (openssl s_client), for "next request on an
# already open connection" checks.
KA_PIDS=""
# ka_open NAME CERTPREFIX: opens the connection (the handshake with CERT).
ka_open() {
  local n=$1 fd
  mkfifo "$W/ka-$n.in"
  openssl s_client -connect "127.0.0.1:$MANAGER_HTTPS_PORT" -CAfile "$CA" \
    -cert "$2.crt" -key "$2.key" -quiet <"$W/ka-$n.in" >"$W/ka-$n.out" 2>"$W/ka-$n.err" &
  eval "KA_PID_$n=$!"
  KA_PIDS="$KA_PIDS $!"
  exec {fd}>"$W/ka-$n.in"
  eval "KA_FD_$n=$fd"
}
# Status lines so far (a body without a final newline runs into the next).
ka_statuses() { grep -ao 'HTTP/1\.1 [0-9][0-9][0-9] ' "$W/ka-$1.out" | cut -d' ' -f2; }
ka_count() { ka_statuses "$1" | wc -l; }
# ka_req NAME METHOD PATH: one request on the open connection; ST = status
# of its answer ("" if none came within 10 s: connection closed).
ka_req() {
  local n=$1 fd before
  eval "fd=\$KA_FD_$n"
  before=$(ka_count "$n")
  printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' "$2" "$3" >&"$fd" 2>/dev/null
  mgr_wait "[ \$(ka_count $n) -gt $before ]" 10
  ST=$(ka_statuses "$n" | sed -n "$((before + 1))p")
}
ka_close() {
  local n=$1 fd p
  eval "fd=\$KA_FD_$n; p=\$KA_PID_$n"
  exec {fd}>&-
  kill "$p" 2>/dev/null; wait "$p" 2>/dev/null
}
SSE_PID=""; SSE_S1_PID=""; SSE2_PID=""
cleanup_walk() {
  local rc=$? p
  for p in $KA_PIDS $SSE_PID $SSE_S1_PID $SSE2_PID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  (exit "$rc")
  stack_down
}
trap cleanup_walk EXIT

# ============ Step 3: what the administrator hands over: the CA certificate ==
api GET /api/v1/ca/certificate
expect_status 200 "manager ca-cert is public"
printf '%s\n' "$BODY" >"$W/ca.pem"
check 'cmp -s <(openssl x509 -in "$W/ca.pem" -outform der) <(openssl x509 -in "$CA" -outform der)' "the published CA is the one the gateway's TLS chains to"

# ============ A second, short-lived application (its story is checked later) =
# Registered for 40 s (room for a loaded sanitizer run), renewed at once for a year: old and new both work until
# the old one expires; then the old one gets no vault I/O, also on a
# connection opened while it was valid.
api_json POST /api/v1/accounts '{"name":"short-app","role":"vault_provisioner","username":"short-app-tmp","password":"Short-temp-pass-1"}' -u "$ADMIN"
expect_status 201 "admin creates short-app"; SID=$(jfield id)
gen_csr "$W/s1" "/O=Workflow/CN=short app" ec
register "$SID" "$W/s1.csr" "$(iso '+40 seconds')" "short-app-tmp:Short-temp-pass-1"
expect_status 201 "short-app registers a 40-second certificate"
S1=$(jfield serial); S1_NA=$(jfield not_after); jfield certificate >"$W/s1.crt"
api_json POST /api/v1/vault-templates '{"name":"wf-vault","kind":"vault"}' -u "$ADMIN"
expect_status 201 "admin creates a vault template"; TV=$(jfield id)
api_json POST /api/v1/vault-templates '{"name":"wf-mirror","kind":"mirror"}' -u "$ADMIN"
expect_status 201 "admin creates a mirror template"; TM=$(jfield id)
app_json POST /api/v1/vaults "{\"name\":\"short-vault\",\"vault_template_id\":\"$TV\"}" "$W/s1"
expect_status 201 "short-app creates a locked vault"
vput "$W/s1" short-vault k1 "short data"; expect_status 201 "short-app writes"
app_json POST "/api/v1/accounts/$SID/certificates/renew" "{\"expiration_date\":\"$(date -u -d '+1 year' +%F)\"}" "$W/s1"
expect_status 200 "short-app renews with an expiration date"
check '[ "$(jfield renewed)" = true ]' "renewed (the old one expires before the date)"
S2=$(jfield serial); jfield certificate >"$W/s2.crt"; cp "$W/s1.key" "$W/s2.key"
vget "$W/s1" short-vault k1; check '[ "$ST" = 200 ] && [ "$BODY" = "short data" ]' "old certificate reads before it expires"
vget "$W/s2" short-vault k1; check '[ "$ST" = 200 ] && [ "$BODY" = "short data" ]' "new certificate reads too"
ka_open s1 "$W/s1"
curl -sS -N --cacert "$CA" --cert "$W/s1.crt" --key "$W/s1.key" -o "$W/sse-s1.out" \
  "$URL/api/v1/accounts/$SID/events/stream" 2>"$W/sse-s1.err" &
SSE_S1_PID=$!
ka_req s1 GET /api/v1/vaults/short-vault/objects/k1
check '[ "$ST" = 200 ]' "old certificate on a kept-alive connection: 200 while valid (got '$ST')"

# ============ Steps 1-2: the administrator creates the private account ======
api_json POST /api/v1/accounts '{"name":"payroll","role":"vault_provisioner","username":"payroll-tmp","password":"First-temp-pass-1"}' -u "$ADMIN"
expect_status 201 "admin creates a vault_provisioner account"
ID=$(jfield id)
check '[ "$(jfield role)" = vault_provisioner ] && [ "$(jfield state)" = pending_registration ] && [ "$(jfield username)" = payroll-tmp ]' "pending, with the temporary user name"
# The administrator may change the password...
api_json PUT "/api/v1/accounts/$ID/password" '{"password":"Second-temp-pass-2"}' -u "$ADMIN"
expect_status 204 "admin changes the temporary password"
# ...but cannot give the account any other credential: not even a
# certificate registered with the admin's own credentials.
gen_csr "$W/c1" "/O=Workflow/CN=payroll app"
register "$ID" "$W/c1.csr" "" "$ADMIN"
expect_status 401 "admin cannot register a certificate for the account (temp only)"
for p in "POST /api/v1/accounts/$ID/api-keys" "POST /api/v1/accounts/$ID/credentials" "PUT /api/v1/accounts/$ID/username"; do
  set -- $p
  api_json "$1" "$2" '{"username":"x-user","password":"Another-pass-123"}' -u "$ADMIN"
  check '[ "$ST" = 404 ] || [ "$ST" = 405 ]' "no endpoint for another credential: $p (got $ST)"
done
# Temporary credentials do one thing only: register.
for p in "GET /api/v1/accounts/$ID" "GET /api/v1/accounts/$ID/certificates" "GET /api/v1/accounts/$ID/events" "GET /api/v1/vaults"; do
  set -- $p
  api "$1" "$2" -u "payroll-tmp:Second-temp-pass-2"
  expect_status 401 "temp credentials on $p"
done
api_json POST /api/v1/vaults "{\"name\":\"tmp-vault\",\"vault_template_id\":\"$TV\"}" -u "payroll-tmp:Second-temp-pass-2"
expect_status 401 "temp credentials cannot create a vault"

# ============ Steps 4-6: the application registers its CSR ===================
register "$ID" "$W/c1.csr" "" "payroll-tmp:First-temp-pass-1"
expect_status 401 "the replaced temporary password is refused"
api GET "/api/v1/accounts/$ID" -u "$ADMIN"
check '[ "$(jfield state)" = pending_registration ]' "the refused attempt consumed nothing"
T0=$(date +%s)
register "$ID" "$W/c1.csr" "" "payroll-tmp:Second-temp-pass-2"
expect_status 201 "application registers its CSR (no expiration date)"
C1=$(jfield serial); jfield certificate >"$W/c1.crt"; jfield ca_certificate >"$W/c1-ca.pem"
NA=$(epoch "$(jfield not_after)")
check '[ $((NA - T0)) -ge $((365 * 86400 - 600)) ] && [ $((NA - T0)) -le $((366 * 86400 + 600)) ]' "default expiry: one year in the future ($(jfield not_after))"
check 'openssl verify -CAfile "$W/ca.pem" "$W/c1.crt" | grep -q ": OK"' "the certificate verifies with the manager ca-cert"
check 'cmp -s <(openssl x509 -in "$W/c1-ca.pem" -outform der) <(openssl x509 -in "$W/ca.pem" -outform der)' "ca_certificate in the reply is the manager ca-cert"
check '[ "$(openssl x509 -in "$W/c1.crt" -noout -pubkey)" = "$(openssl pkey -in "$W/c1.key" -pubout)" ]' "the certificate carries the CSR's key"
# The one-time credentials are gone.
register "$ID" "$W/c1.csr" "" "payroll-tmp:Second-temp-pass-2"
expect_status 401 "replay of the registration"
gen_csr "$W/cx" "/O=Workflow/CN=payroll other"
register "$ID" "$W/cx.csr" "" "payroll-tmp:Second-temp-pass-2"
expect_status 401 "the consumed credentials with another CSR"
api GET "/api/v1/accounts/$ID" -u "$ADMIN"
check '[ "$(jfield state)" = active ] && [ "$(jfield username)" = "" ] && [ -n "$(jfield registered_at)" ]' "account active, user name removed, registered_at set"
api GET "/api/v1/accounts/$ID/certificates" -u "$ADMIN"
check '[ "$(jq -r ".certificates | map(.serial) | join(\",\")" <<<"$BODY")" = "$C1" ]' "the certificate is associated with the account"
# The administrator can now only rename, disable, enable.
api_json PUT "/api/v1/accounts/$ID/password" '{"password":"Third-temp-pass-3"}' -u "$ADMIN"
expect_status 409 "admin cannot set a password after registration"
register "$ID" "$W/cx.csr" "" "payroll-tmp:Third-temp-pass-3"
expect_status 401 "and that password does not log in"
api_json PATCH "/api/v1/accounts/$ID" '{"name":"payroll-renamed"}' -u "$ADMIN"
expect_status 200 "admin renames the registered account"

# ============ Step 7: the application authenticates with key and certificate =
app GET "/api/v1/accounts/$ID/certificates" "$W/c1"
expect_status 200 "the renamed account's certificate still authenticates"
# A forged certificate: same subject, serial and issuer name as the real one,
# signed by a look-alike CA with another key.
CA_SUBJ=$(openssl x509 -in "$W/ca.pem" -noout -subject -nameopt compat | sed 's/^subject=//')
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/fake-ca.key" -out "$W/fake-ca.pem" -days 30 \
  -subj "$CA_SUBJ" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$W/leaf.ext"
openssl req -new -newkey rsa:2048 -nodes -keyout "$W/forged.key" -out "$W/forged.csr" \
  -subj "$(openssl x509 -in "$W/c1.crt" -noout -subject -nameopt compat | sed 's/^subject=//')" 2>/dev/null
openssl x509 -req -in "$W/forged.csr" -CA "$W/fake-ca.pem" -CAkey "$W/fake-ca.key" -set_serial "0x$C1" \
  -days 10 -extfile "$W/leaf.ext" -out "$W/forged.crt" 2>/dev/null
check '[ "$(openssl x509 -in "$W/forged.crt" -noout -serial | tr A-F a-f | sed "s/^serial=0*//")" = "$(sed "s/^0*//" <<<"$C1")" ]' "forged certificate has the real serial"
app GET "/api/v1/accounts/$ID/certificates" "$W/forged"
echo "note: forged certificate (real serial and DN, look-alike CA): status '$ST'" >&2
check '[ "$ST" = 401 ] || [ "$ST" = 000 ]' "a forged certificate with the real serial is refused (got $ST)"
# The application's own key with a self-signed certificate: also refused.
openssl req -x509 -key "$W/c1.key" -out "$W/selfc1.crt" -days 10 -set_serial "0x$C1" \
  -subj "$(openssl x509 -in "$W/c1.crt" -noout -subject -nameopt compat | sed 's/^subject=//')" 2>/dev/null
cp "$W/c1.key" "$W/selfc1.key"
app GET /api/v1/vaults "$W/selfc1"
check '[ "$ST" = 401 ] || [ "$ST" = 000 ]' "self-signed certificate with the app's key and serial is refused (got $ST)"

# ============ Step 8: locked vault, objects ==================================
app_json POST /api/v1/vaults "{\"name\":\"payroll-data\",\"vault_template_id\":\"$TV\",\"mirror_template_id\":\"$TM\"}" "$W/c1"
expect_status 201 "application creates a locked, mirrored vault"
check '[ "$(jfield locked)" = true ] && [ "$(jfield owner_account_id)" = "$ID" ]' "locked, owned by the account"
head -c 3000 /dev/urandom >"$W/blob"
app PUT /api/v1/vaults/payroll-data/objects/ledger "$W/c1" --data-binary @"$W/blob"
expect_status 201 "application writes an object"
BLOB_ETAG=$(sha256sum "$W/blob" | cut -d' ' -f1)
check '[ "$(jfield etag)" = "$BLOB_ETAG" ]' "etag is the data's SHA-256"
vput "$W/c1" payroll-data notes "first notes"; expect_status 201 "a second object"
curl -sS --cacert "$CA" --cert "$W/c1.crt" --key "$W/c1.key" -o "$W/blob-back" "$URL/api/v1/vaults/payroll-data/objects/ledger"
check 'cmp -s "$W/blob" "$W/blob-back"' "application reads its object back"
# The administrator sees metadata only and cannot remove the data.
api GET /api/v1/vaults/payroll-data -u "$ADMIN"
check '[ "$ST" = 200 ] && [ "$(jfield object_count)" = 2 ]' "admin reads the vault's metadata"
api GET /api/v1/vaults/payroll-data/objects/ledger -u "$ADMIN"; expect_status 403 "admin cannot read an object"
api GET /api/v1/vaults/payroll-data/objects -u "$ADMIN"; expect_status 403 "admin cannot list objects"
api DELETE /api/v1/vaults/payroll-data/objects/ledger -u "$ADMIN"; expect_status 403 "admin cannot delete an object"
api DELETE /api/v1/vaults/payroll-data -u "$ADMIN"
check '[ "$ST" = 403 ] || [ "$ST" = 409 ]' "admin cannot delete a vault holding data (got $ST)"
vget "$W/c1" payroll-data notes
check '[ "$ST" = 200 ] && [ "$BODY" = "first notes" ]' "the data is intact"

# ============ Steps 9-10: renewal with an expiration date ====================
EXP2=$(date -u -d '+2 years' +%F)
app_json POST "/api/v1/accounts/$ID/certificates/renew" "{\"expiration_date\":\"$EXP2\"}" "$W/c1"
expect_status 200 "application renews with an expiration date"
check '[ "$(jfield renewed)" = true ] && [ "$(jfield not_after)" = "${EXP2}T00:00:00Z" ]' "renewed to the date asked for"
C2=$(jfield serial); jfield certificate >"$W/c2.crt"; cp "$W/c1.key" "$W/c2.key"
check 'openssl verify -CAfile "$W/ca.pem" "$W/c2.crt" | grep -q ": OK"' "renewed certificate verifies"
vget "$W/c1" payroll-data notes; expect_status 200 "old certificate still does vault I/O after renewal"
vget "$W/c2" payroll-data notes; expect_status 200 "new certificate does vault I/O"
# Calling again: the Manager looks the certificate up and sees no need.
app_json POST "/api/v1/accounts/$ID/certificates/renew" "{\"expiration_date\":\"$EXP2\"}" "$W/c2"
check '[ "$ST" = 200 ] && [ "$(jfield renewed)" = false ] && [ "$(jfield serial)" = "$C2" ]' "renew again: not needed, the current certificate is sent back"
app POST "/api/v1/accounts/$ID/certificates/renew" "$W/c1"
check '[ "$ST" = 200 ] && [ "$(jfield renewed)" = false ] && [ "$(jfield serial)" = "$C2" ]' "renew without a date from the old certificate: the newest is sent back"

# ============ Step 11: the key is compromised: rotate =========================
ka_open c2 "$W/c2"
ka_req c2 GET /api/v1/vaults/payroll-data
check '[ "$ST" = 200 ]' "a connection opened with the soon-compromised certificate (got '$ST')"
gen_csr "$W/c3" "/O=Workflow/CN=payroll app"
app_json POST "/api/v1/accounts/$ID/certificates/rotate" "$(csr_json "$W/c3.csr")" "$W/c2"
expect_status 201 "application rotates its key (no revoke list)"
C3=$(jfield serial); jfield certificate >"$W/c3.crt"
check '[ "$(jq -c ".revoked | sort" <<<"$BODY")" = "$(jq -cn --arg a "$C1" --arg b "$C2" "[\$a,\$b] | sort")" ]' "both old certificates revoked"
NA=$(epoch "$(jfield not_after)")
check '[ $((NA - $(date +%s))) -ge $((365 * 86400 - 600)) ] && [ $((NA - $(date +%s))) -le $((366 * 86400 + 600)) ]' "rotation without a date: one year"
ka_req c2 GET /api/v1/vaults/payroll-data
check '[ "$ST" = 401 ]' "the compromised certificate is refused on its already open connection (got '$ST')"
ka_close c2
for c in c1 c2; do
  vget "$W/$c" payroll-data notes; expect_status 401 "revoked $c: vault read refused"
  vput "$W/$c" payroll-data evil "x"; expect_status 401 "revoked $c: vault write refused"
  app DELETE /api/v1/vaults/payroll-data/objects/notes "$W/$c"; expect_status 401 "revoked $c: vault delete refused"
  app_json POST "/api/v1/accounts/$ID/certificates/renew" "{\"expiration_date\":\"$(date -u -d '+3 years' +%F)\"}" "$W/$c"
  expect_status 401 "revoked $c cannot renew itself back"
done
vget "$W/c3" payroll-data notes
check '[ "$ST" = 200 ] && [ "$BODY" = "first notes" ]' "the new key reads the data written with the old one"
app GET /api/v1/vaults/payroll-data/objects/evil "$W/c3"; expect_status 404 "nothing written by the revoked certificate"
fetch_crl
check 'openssl crl -in "$W/crl.pem" -CAfile "$W/ca.pem" -noout 2>&1 | grep -q "verify OK"' "CRL is signed by the manager CA"
check 'crl_revoked "$W/c1.crt"' "openssl -crl_check: c1 revoked"
check 'crl_revoked "$W/c2.crt"' "openssl -crl_check: c2 revoked"
check 'crl_good "$W/c3.crt"' "openssl -crl_check: the new certificate is good"
check 'crl_good "$W/s2.crt"' "openssl -crl_check: another account's certificate is good"
api GET "/api/v1/accounts/$ID/certificates" -u "$ADMIN"
check '[ "$(jq -r ".certificates | map(.serial + \"=\" + .status) | sort | join(\",\")" <<<"$BODY")" = "$(printf "%s\n" "$C1=revoked" "$C2=revoked" "$C3=valid" | sort | paste -sd,)" ]' "certificate statuses after rotation"
# The rotated DN stays with this account.
gen_csr "$W/dev" "/O=Workflow/CN=payroll app" ec
register_device payroll-twin "$W/dev.csr"
expect_status 409 "a device cannot take the application's (rotated) Subject DN"

# ============ Expiry notice within a month: events list and live stream =====
curl -sS -N --cacert "$CA" --cert "$W/c3.crt" --key "$W/c3.key" -o "$W/sse.out" \
  "$URL/api/v1/accounts/$ID/events/stream" 2>"$W/sse.err" &
SSE_PID=$!
mgr_wait "[ -s '$W/sse.out' ]" 10
# A second key with a certificate for 20 days (old ones kept): inside the
# one-month window as soon as it is issued.
gen_csr "$W/c4" "/O=Workflow/CN=payroll app" ec
app_json POST "/api/v1/accounts/$ID/certificates/rotate" "$(csr_json "$W/c4.csr" "$(date -u -d '+20 days' +%F)" | jq -c '. + {revoke: []}')" "$W/c3"
expect_status 201 "rotation to a 20-day certificate, keeping the others"
C4=$(jfield serial); C4_NA=$(jfield not_after); jfield certificate >"$W/c4.crt"
check '[ "$(jfield revoked)" = "[]" ]' "nothing revoked"
# sse_has TYPE SERIAL: the stream so far holds an event TYPE for SERIAL.
sse_has() { grep '^data: ' "$W/sse.out" | cut -c7- | jq -se --arg t "$1" --arg s "$2" 'any(.[]; .type == $t and .data.serial == $s)' >/dev/null; }
sse_expiring() { sse_has certificate.expiring "$C4"; }
mgr_wait sse_expiring 15
check 'sse_expiring' "the live stream brings certificate.expiring for the 20-day certificate"
SSE_EV=$(grep '^data: ' "$W/sse.out" | cut -c7- | jq -c --arg s "$C4" 'select(.type == "certificate.expiring" and .data.serial == $s)' | head -1)
echo "note: notice of the 20-day certificate (issued after a 1-year one): $SSE_EV" >&2
check '[ "$(jfield data.days "$SSE_EV")" = 30 ] && [ "$(jfield data.not_after "$SSE_EV")" = "$C4_NA" ] && [ "$(jfield account_id "$SSE_EV")" = "$ID" ]' "notice data: days 30, not_after, account ($SSE_EV)"
check 'sse_has certificate.issued "$C4"' "the stream also brings certificate.issued"
vget "$W/c4" payroll-data notes; expect_status 200 "the 20-day certificate does vault I/O"
vget "$W/c3" payroll-data notes; expect_status 200 "and the one-year one still does"
app GET "/api/v1/accounts/$ID/events" "$W/c3"
expect_status 200 "application reads its events"
check '[ "$(jq -c --arg s "$C4" "[.events[] | select(.type == \"certificate.expiring\" and .data.serial == \$s) | .id]" <<<"$BODY")" = "[\"$(jfield id "$SSE_EV")\"]" ]' "the list holds the same notice, once"
check '[ "$(jq -r "[.events[] | select(.type == \"certificate.expiring\") | .data.serial] | unique | join(\",\")" <<<"$BODY")" = "$C4" ]' "no notice for the certificates that are a year or more away (or revoked)"
check '[ "$(jq -r "[.events[] | select(.type == \"certificate.revoked\") | .data.serial] | sort | join(\",\")" <<<"$BODY")" = "$(printf "%s\n" "$C1" "$C2" | sort | paste -sd,)" ]' "certificate.revoked for both compromised certificates"
check '[ "$(jq -r "[.events[] | select(.type == \"certificate.renewed\")] | length" <<<"$BODY")" = 1 ]' "one certificate.renewed (the real renewal only)"

# ============ Disabled account: no vault I/O, also on open connections ======
ka_open c3 "$W/c3"
ka_req c3 GET /api/v1/vaults/payroll-data/objects/notes
check '[ "$ST" = 200 ]' "kept-alive connection before the disable (got '$ST')"
api POST "/api/v1/accounts/$ID/disable" -u "$ADMIN"
expect_status 200 "admin disables the account"
ka_req c3 GET /api/v1/vaults/payroll-data/objects/notes
check '[ "$ST" = 401 ]' "disabled: refused on the already open connection (got '$ST')"
ka_close c3
mgr_wait "! kill -0 $SSE_PID" 10
check '! kill -0 $SSE_PID 2>/dev/null' "disabled: the live event stream ends"
wait "$SSE_PID" 2>/dev/null; SSE_PID=""
for c in c3 c4; do
  vget "$W/$c" payroll-data notes; expect_status 401 "disabled: $c read refused"
  vput "$W/$c" payroll-data new "x"; expect_status 401 "disabled: $c write refused"
  app HEAD /api/v1/vaults/payroll-data/objects/notes "$W/$c" -I; expect_status 401 "disabled: $c HEAD refused"
done
app GET /api/v1/vaults/payroll-data/objects "$W/c3"; expect_status 401 "disabled: listing refused"
gen_csr "$W/cd" "/O=Workflow/CN=payroll app" ec
app_json POST "/api/v1/accounts/$ID/certificates/rotate" "$(csr_json "$W/cd.csr")" "$W/c3"
expect_status 401 "disabled: the application cannot rotate itself a new certificate"
app_json POST "/api/v1/accounts/$ID/certificates/renew" "{\"expiration_date\":\"$(date -u -d '+4 years' +%F)\"}" "$W/c4"
expect_status 401 "disabled: nor renew"
api GET /api/v1/vaults/payroll-data -u "$ADMIN"
check '[ "$(jfield object_count)" = 2 ]' "disabled: nothing was written"
api POST "/api/v1/accounts/$ID/enable" -u "$ADMIN"
check '[ "$ST" = 200 ] && [ "$(jfield state)" = active ]' "admin enables the account"
vget "$W/c3" payroll-data notes
check '[ "$ST" = 200 ] && [ "$BODY" = "first notes" ]' "enabled: the data is back for the application"

# ============ The short-lived certificate expires ============================
left=$(( $(epoch "$S1_NA") + 1 - $(date +%s) )); [ "$left" -gt 0 ] && sleep "$left"
ka_req s1 GET /api/v1/vaults/short-vault/objects/k1
check '[ "$ST" = 401 ]' "expired certificate refused on the connection opened while it was valid (got '$ST')"
ka_close s1
vget "$W/s1" short-vault k1; expect_status 401 "expired certificate: vault read refused"
vput "$W/s1" short-vault k2 "x"; expect_status 401 "expired certificate: vault write refused"
app GET /api/v1/vaults/short-vault/objects "$W/s1"; expect_status 401 "expired certificate: listing refused"
app DELETE /api/v1/vaults/short-vault/objects/k1 "$W/s1"; expect_status 401 "expired certificate: delete refused"
vget "$W/s2" short-vault k1
check '[ "$ST" = 200 ] && [ "$BODY" = "short data" ]' "the renewed certificate still works, data intact"
app GET /api/v1/vaults/short-vault/objects/k2 "$W/s2"; expect_status 404 "nothing written with the expired certificate"
s_expired() { api GET "/api/v1/accounts/$SID/events" -u "$ADMIN"; [[ $BODY == *certificate.expired* ]]; }
mgr_wait s_expired 15
sleep 2 # more scans: still once
api GET "/api/v1/accounts/$SID/events" -u "$ADMIN"
check '[ "$(jq -r "[.events[] | select(.type == \"certificate.expired\") | .data.serial] | join(\",\")" <<<"$BODY")" = "$S1" ]' "certificate.expired once, for the old certificate only"
check '[ "$(jq -r "[.events[] | select(.type == \"certificate.expiring\") | .data.serial] | unique | join(\",\")" <<<"$BODY")" = "$S1" ]' "expiry notices only for the short certificate"
# The event stream opened with the old certificate while it was valid. It
# ends at the latest at its next heartbeat (MANAGER_SSE_HEARTBEAT_S, default
# 15 s); revocation and disable end a stream at once (contract.sh).
mgr_wait "! kill -0 $SSE_S1_PID" $(( $(epoch "$S1_NA") + 20 - $(date +%s) ))
check '! kill -0 $SSE_S1_PID 2>/dev/null' "the event stream opened with the now expired certificate ends"
wait "$SSE_S1_PID" 2>/dev/null; SSE_S1_PID=""
# FINDING (failed at 7496410, fixed since): until then it still delivered events: the
# certificate.expired event, made only after the certificate expired, reached
# the expired certificate's stream (the gateway checks expiry on the stream
# only at heartbeats, not before sending an event).
check '! grep -q "^event: certificate.expired" "$W/sse-s1.out"' \
  "FINDING: no event is sent on a stream whose certificate has expired ($(grep -c '^event: ' "$W/sse-s1.out") events on it; $(grep '^event: ' "$W/sse-s1.out" | tr '\n' ' '))"
echo "note: short-app notices: $(jq -c "[.events[] | select(.type == \"certificate.expiring\") | .data]" <<<"$BODY")" >&2
api GET "/api/v1/accounts/$SID/certificates" -u "$ADMIN"
check '[ "$(jq -r ".certificates | map(.serial + \"=\" + .status) | sort | join(\",\")" <<<"$BODY")" = "$(printf "%s\n" "$S1=expired" "$S2=valid" | sort | paste -sd,)" ]' "statuses: expired and valid"

# ============ Restarts lose nothing acknowledged =============================
api GET "/api/v1/accounts/$ID/events" -u "$ADMIN"
jq -r '.events[].id' <<<"$BODY" | sort >"$W/ev-before"
# state_ok WHAT: the story's state, as the two users see it.
state_ok() {
  local what=$1
  vget "$W/c3" payroll-data notes
  check '[ "$ST" = 200 ] && [ "$BODY" = "first notes" ]' "$what: object readable"
  curl -sS --cacert "$CA" --cert "$W/c3.crt" --key "$W/c3.key" -o "$W/blob-back" "$URL/api/v1/vaults/payroll-data/objects/ledger"
  check 'cmp -s "$W/blob" "$W/blob-back"' "$what: binary object intact"
  vget "$W/c2" payroll-data notes; expect_status 401 "$what: revoked certificate still refused"
  vget "$W/s1" short-vault k1; expect_status 401 "$what: expired certificate still refused"
  vget "$W/s2" short-vault k1; expect_status 200 "$what: renewed certificate works"
  fetch_crl
  check 'crl_revoked "$W/c2.crt"' "$what: revocation in the CRL"
  register "$ID" "$W/cx.csr" "" "payroll-tmp:Second-temp-pass-2"
  expect_status 401 "$what: consumed credentials stay consumed"
  api GET "/api/v1/accounts/$ID" -u "$ADMIN"
  check '[ "$(jfield state)" = active ] && [ "$(jfield name)" = payroll-renamed ] && [ "$(jfield username)" = "" ]' "$what: account record"
  api GET "/api/v1/accounts/$ID/events" -u "$ADMIN"
  check '[ -z "$(comm -23 "$W/ev-before" <(jq -r ".events[].id" <<<"$BODY" | sort))" ]' "$what: no event lost"
}
N=0
for proc in gateway account ca vault redis; do
  N=$((N + 1))
  # An acknowledged write just before the kill.
  vput "$W/c3" payroll-data "ack-$proc" "written before $proc died"
  expect_status 201 "write acknowledged before kill -9 of $proc"
  if [ "$proc" = redis ]; then
    # Also an acknowledged revocation and an acknowledged registration.
    gen_csr "$W/c5" "/O=Workflow/CN=payroll app" ec
    app_json POST "/api/v1/accounts/$ID/certificates/rotate" "$(csr_json "$W/c5.csr" | jq -c --arg s "$C4" '. + {revoke: [$s]}')" "$W/c3"
    expect_status 201 "rotation revoking the 20-day certificate, acknowledged before Redis dies"
    jfield certificate >"$W/c5.crt"
    api_json POST /api/v1/accounts '{"name":"late-app","role":"vault_provisioner","username":"late-tmp","password":"Late-temp-pass-1"}' -u "$ADMIN"
    LATE=$(jfield id)
    gen_csr "$W/late" "/O=Workflow/CN=late app" ec
    register "$LATE" "$W/late.csr" "" "late-tmp:Late-temp-pass-1"
    expect_status 201 "registration acknowledged before Redis dies"
    jfield certificate >"$W/late.crt"
    kill -KILL "$MGR_REDIS_PID"; wait "$MGR_REDIS_PID" 2>/dev/null
    mgr_start_redis || fail_now "redis did not restart"
  else
    eval "pid=\$MGR_PID_$proc"
    kill -KILL "$pid"; wait "$pid" 2>/dev/null
    mgr_spawn_proc "$proc" "$proc"
  fi
  mgr_wait "curl -sf --cacert $CA $URL/readyz" 30 || fail_now "not ready after restarting $proc"
  vget "$W/c3" payroll-data "ack-$proc"
  check '[ "$ST" = 200 ] && [ "$BODY" = "written before $proc died" ]' "after kill -9 of $proc: the acknowledged write is there"
  state_ok "after kill -9 of $proc"
done
vget "$W/c4" payroll-data notes; expect_status 401 "after Redis kill -9: the acknowledged revocation holds"
check 'crl_revoked "$W/c4.crt"' "after Redis kill -9: the revocation is in the CRL"
vget "$W/c5" payroll-data notes; expect_status 200 "after Redis kill -9: the rotated certificate works"
register "$LATE" "$W/late.csr" "" "late-tmp:Late-temp-pass-1"
expect_status 401 "after Redis kill -9: the consumed registration stays consumed"
app GET "/api/v1/accounts/$LATE/certificates" "$W/late"; expect_status 200 "after Redis kill -9: the registered certificate works"
api GET /api/v1/vaults/payroll-data -u "$ADMIN"
check '[ "$(jfield object_count)" = 7 ]' "vault metadata counts every acknowledged object ($(jfield object_count))"

# ============ After the restarts: new revocations and disables still bite ====
# (the gateway's view of certificates and accounts follows Redis after its
# restart), and live events still flow.
curl -sS -N --cacert "$CA" --cert "$W/c3.crt" --key "$W/c3.key" -o "$W/sse2.out" \
  "$URL/api/v1/accounts/$ID/events/stream" 2>"$W/sse2.err" &
SSE2_PID=$!
mgr_wait "[ -s '$W/sse2.out' ]" 10
vget "$W/c5" payroll-data notes; expect_status 200 "c5 works before its revocation"
gen_csr "$W/c6" "/O=Workflow/CN=payroll app" ec
app_json POST "/api/v1/accounts/$ID/certificates/rotate" "$(csr_json "$W/c6.csr" | jq -c --arg s "$(openssl x509 -in "$W/c5.crt" -noout -serial | cut -d= -f2 | tr A-F a-f)" '. + {revoke: [$s]}')" "$W/c5"
expect_status 201 "rotation after the restarts"
C6=$(jfield serial); C5=$(jq -r '.revoked[0]' <<<"$BODY"); jfield certificate >"$W/c6.crt"
vget "$W/c5" payroll-data notes; expect_status 401 "a revocation made after the Redis restart is enforced"
vget "$W/c6" payroll-data notes; expect_status 200 "the new certificate works"
sse2_has() { grep '^data: ' "$W/sse2.out" | cut -c7- | jq -se --arg t "$1" --arg s "$2" 'any(.[]; .type == $t and .data.serial == $s)' >/dev/null; }
mgr_wait "sse2_has certificate.revoked $C5" 10
check 'sse2_has certificate.issued "$C6" && sse2_has certificate.revoked "$C5"' "the live stream after the restarts brings the rotation's events"
kill "$SSE2_PID" 2>/dev/null; wait "$SSE2_PID" 2>/dev/null; SSE2_PID=""
api POST "/api/v1/accounts/$LATE/disable" -u "$ADMIN"; expect_status 200 "disable after the restarts"
app GET "/api/v1/accounts/$LATE/certificates" "$W/late"; expect_status 401 "a disable made after the restarts is enforced"
api POST "/api/v1/accounts/$LATE/enable" -u "$ADMIN"; expect_status 200 "enable"
app GET "/api/v1/accounts/$LATE/certificates" "$W/late"; expect_status 200 "and the enable too"
# Exactly once each, across kill -9 of every process: no event twice.
for a in "$ID" "$SID"; do
  api GET "/api/v1/accounts/$a/events" -u "$ADMIN"
  check '[ -z "$(jq -r ".events[] | [.type, .data.serial // \"\", (.data.days // \"\" | tostring)] | @tsv" <<<"$BODY" | sort | uniq -d)" ]' \
    "no event repeated after the restarts ($a)"
done
# The audit names the story's actions, who did them, and the outcome.
: >"$W/audit.tsv"; ACUR=""
for _ in $(seq 1 50); do
  api GET "/api/v1/audit${ACUR:+?after=$ACUR}" -u "$ADMIN"
  [ "$ST" = 200 ] || break
  [ "$(jq '.records | length' <<<"$BODY")" = 0 ] && break
  jq -r '.records[] | [.actor_kind, .actor, .action, .target, .outcome, (.detail // "")] | @tsv' <<<"$BODY" >>"$W/audit.tsv"
  ACUR=$(jq -r '.records[-1].id' <<<"$BODY")
done
# A retry loop of a refused certificate is recorded once, not per request.
for _ in 1 2 3 4 5; do vput "$W/c1" payroll-data evil x; done
check '[ "$ST" = 401 ]' "the revoked certificate is still refused ($ST)"
api GET "/api/v1/audit${ACUR:+?after=$ACUR}" -u "$ADMIN"
n=$(jq --arg s "$C1" '[.records[] | select(.action == "auth.cert" and (.detail | contains($s)))] | length' <<<"$BODY")
check '[ "$n" -le 1 ]' "5 refusals of one certificate in a row: at most one auth.cert record ($n)"
audit_has() { awk -F'\t' -v who="$1" -v act="$2" -v out="$3" '$2 == who && $3 ~ act && $5 == out' "$W/audit.tsv" | grep -q .; }
check 'audit_has admin "account.create" ok' "audit: the admin created the account"
check 'audit_has admin "password" ok && audit_has admin "password" conflict' "audit: password change, then the refused one"
check 'audit_has admin "disable" ok && audit_has admin "enable" ok' "audit: disable and enable"
check 'audit_has "$ID" "regist" ok' "audit: the registration, by the account"
check 'audit_has "$ID" "renew" ok && audit_has "$ID" "rotate" ok' "audit: renewal and rotation, by the account"
check 'audit_has "$ID" "vault" ok' "audit: the vault creation, by the account"
check 'audit_has admin "vault|object" permission_denied' "audit: the admin's refused object access"
# FINDING (failed at 7496410, fixed since): API.md's audit holds "every admin
# and account action, who, what, when, outcome", and refused temp logins are
# recorded (auth.basic), but the writes attempted with the revoked
# (compromised) and the expired certificates -- PUT and DELETE answered 401
# above -- left no record: the administrator could not see the stolen key
# being used. Now ca.AuthCert records each refused certificate (auth.cert,
# once a minute per serial) with its holder, the reason and the serial.
cert_refusal_audited() { # SERIAL ACCOUNT REASON
  awk -F'\t' -v s="$1" -v a="$2" -v w="$3" \
    '$1 == "app" && $2 == a && $3 == "auth.cert" && $4 == a && $5 == "unauthenticated" && index($6, s) && index($6, w)' \
    "$W/audit.tsv" | grep -q .
}
check 'cert_refusal_audited "$C1" "$ID" revoked' "FINDING: audit records the refused use of a revoked certificate (auth.cert)"
check 'cert_refusal_audited "$C2" "$ID" revoked' "FINDING: audit records the refused use of the other revoked certificate"
check 'cert_refusal_audited "$S1" "$SID" expired' "FINDING: audit records the refused use of an expired certificate"
echo "note: refusals in the audit for the two accounts: $(awk -F'\t' -v a="$ID" -v s="$SID" '($2 == a || $4 == a || $2 == s || $4 == s) && $5 != "ok" {print $1 ":" $3 ":" $5}' "$W/audit.tsv" | sort | uniq -c | tr '\n' ';')" >&2
echo "note: audit actions seen: $(cut -f1,3,5 "$W/audit.tsv" | sort -u | tr '\t\n' ': ' | head -c 1500)" >&2
