#!/usr/bin/env bash
# IBM COS Manager methods (api/ibm-compat.md): the whole private-account
# workflow through `.adm` only, in JSON and in XML -- the administrator makes
# a template and a private account with the vault provisioner role and
# temporary credentials, the application registers a CSR, creates a vault
# from the template, renews (expirationDate in ms) and rotates -- and every
# refusal in IBM's failure envelope with a 4xx, changing nothing (the state
# is read back through REST after each).
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
stack_up
W=$T_DIR/w
mkdir -p "$W"

# adm FLAVOUR METHOD [curl args]: POST /manager/api/FLAVOUR/1.0/METHOD.adm
adm() {
  local fl=$1 m=$2
  shift 2
  api POST "/manager/api/$fl/1.0/$m.adm" "$@"
}
# ev PATH...: members of the envelope in $BODY, JSON or XML alike
# ("responseData.errors.0.code"; XML: the same path of elements), one a line.
ev() {
  python3 -c '
import json, sys
import xml.etree.ElementTree as ET
body = sys.argv[1]
try:
    root = ET.fromstring(body) if body.lstrip().startswith("<") else json.loads(body)
except Exception:
    root = None
for arg in sys.argv[2:]:
    v = root
    for k in arg.split("."):
        if v is None: break
        if isinstance(v, ET.Element):
            v = (list(v)[int(k)] if int(k) < len(v) else None) if k.isdigit() else v.find(k)
        elif isinstance(v, list): v = v[int(k)] if int(k) < len(v) else None
        elif isinstance(v, dict): v = v.get(k)
        else: v = None
    if isinstance(root, ET.Element) and root.tag != "response": v = None
    if isinstance(v, ET.Element): v = v.text or ""
    print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list, bool)) else v))
' "$BODY" "$@" 2>/dev/null
}
ok() { # ok WHAT
  local e
  mapfile -t e < <(ev responseStatus responseHeader.status responseHeader.requestId responseHeader.now)
  check '[ "$ST" = 200 ] && [ "${e[0]}" = ok ] && [ "${e[1]}" = ok ] && [ -n "${e[2]}" ] && [ "${e[3]}" -gt 1700000000000 ]' \
    "$1: 200 in the ok envelope (got $ST: ${BODY:0:300})"
}
refused() { # refused STATUS CODE WHAT [FIELD]
  local st=$1 code=$2 what=$3 field=${4-} e
  mapfile -t e < <(ev responseStatus responseHeader.status responseData.errors.0.code \
    responseData.errors.0.message responseData.errors.0.field)
  check '[ "$ST" = "$st" ] && [ "${e[0]}" = fail ] && [ "${e[1]}" = fail ] && [ "${e[2]}" = "$code" ] && [ -n "${e[3]}" ]' \
    "$what: $st $code in the fail envelope (got $ST: ${BODY:0:300})"
  [ -n "$field" ] && check '[ "${e[4]}" = "$field" ]' "$what: the error names $field"
  return 0
}
ms() { echo $(( $(date -u -d "$1" +%s) * 1000 )); } # ms WHEN: IBM's date
# State through REST, to check that refusals change nothing.
acct() { api GET "/api/v1/accounts/$1" -u "$ADMIN"; jfield "$2"; } # acct ID MEMBER
cert_count() {
  api GET "/api/v1/accounts/$1/certificates" -u "$ADMIN"
  jfield certificates | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
count_of() { # count_of PATH MEMBER: length of a REST listing
  api GET "$1" -u "$ADMIN"
  jfield "$2" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
audits() { # audits ACTION OUTCOME: how many audit records
  api GET "/api/v1/audit?limit=1000" -u "$ADMIN"
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])["records"]
print(sum(1 for x in r if x["action"] == sys.argv[2] and (x["outcome"] == sys.argv[3] or sys.argv[3] == "*")))' \
    "$BODY" "$1" "$2"
}
save_pem() { ev responseData.certificate > "$1"; } # save_pem FILE

# ---- the workflow, once in JSON and once in XML -----------------------------
workflow() {
  local fl=$1 n=$2 tpl acc accid vault serial1 serial2 serial3 far
  # 1. The administrator: a vault template, a private account.
  adm "$fl" createVaultTemplate -u "$ADMIN" -d "name=tpl-$n&hardQuotaSize=1&hardQuotaUnit=GiB"
  ok "$fl createVaultTemplate"
  tpl=$(ev responseData.id)
  check '[[ "$tpl" =~ ^[0-9]+$ ]]' "$fl: the template's id is a number ($tpl)"
  api GET /api/v1/vault-templates -u "$ADMIN"
  check 'grep -q "\"quota_bytes\":1073741824" <<<"$BODY"' "$fl: the template has its quota (1 GiB)"
  adm "$fl" createPrivateAccount -u "$ADMIN" \
    -d "name=app $n&username=setup-$n&password=temporary secret $n&confirmPassword=temporary secret $n" \
    -d 'rolesMap[vaultProvisioner]=true&email=ops@example.com'
  ok "$fl createPrivateAccount"
  acc=$(ev responseData.id)
  check '[[ "$acc" =~ ^[0-9]+$ ]]' "$fl: the account's id is a number ($acc)"
  check '[ "$(ev responseData.state)" = pending_registration ] && [ "$(ev responseData.role)" = vault_provisioner ]' \
    "$fl: pending, vault provisioner"
  accid=$(redis-cli -p "$MGR_REDIS_PORT" HGET 'admid:{acc}:id' "$acc")
  check '[ "$(acct "$accid" state)" = pending_registration ] && [ "$(acct "$accid" username)" = "setup-$n" ]' \
    "$fl: REST shows the account with its temporary user name"
  # 2. The application registers a CSR with the temporary credentials.
  gen_csr "$W/$n" "/O=Example/CN=adm-$n"
  adm "$fl" registerClientCertificate -u "setup-$n:temporary secret $n" \
    --data-urlencode "csr=$(cat "$W/$n.csr")" -d "expirationDate=$(ms '+200 days')"
  ok "$fl registerClientCertificate"
  save_pem "$W/$n.crt"
  check_client_cert "$W/$n.crt" "$W/$n.key" "/O=Example/CN=adm-$n" "$fl registered"
  check '[ "$(ev responseData.accountId)" = "$acc" ]' "$fl: the answer names the account by its number"
  check '[ "$(ev responseData.expirationDate)" = "$(ms "$(openssl x509 -in "$W/$n.crt" -noout -enddate | cut -d= -f2)")" ]' \
    "$fl: expirationDate is the certificate's notAfter in ms"
  check '[ $(( $(ev responseData.expirationDate) / 1000 - $(date +%s) )) -gt $((199 * 86400)) ]' \
    "$fl: the expiry asked for (200 days) is kept"
  serial1=$(ev responseData.serial)
  check '[ "$(acct "$accid" state)" = active ] && [ "$(acct "$accid" username)" = "" ]' \
    "$fl: registered: active, the temporary user name gone"
  # The one-time credentials are consumed: refused, and nothing changes.
  gen_csr "$W/$n-again" "/O=Example/CN=adm-$n-again"
  adm "$fl" registerClientCertificate -u "setup-$n:temporary secret $n" \
    --data-urlencode "csr=$(cat "$W/$n-again.csr")"
  refused 401 unauthenticated "$fl: consumed credentials"
  check '[ "$(cert_count "$accid")" = 1 ]' "$fl: still one certificate"
  # 3. A locked vault from the template, with the certificate.
  adm "$fl" createVaultFromTemplate --cert "$W/$n.crt" --key "$W/$n.key" \
    -d "name=vault-$n&id=$tpl&description=ignored"
  ok "$fl createVaultFromTemplate"
  vault=$(ev responseData.id)
  check '[[ "$vault" =~ ^[0-9]+$ ]] && [ "$(ev responseData.name)" = "vault-$n" ]' "$fl: the vault's number and name"
  api GET "/api/v1/vaults/vault-$n" --cert "$W/$n.crt" --key "$W/$n.key"
  check '[ "$ST" = 200 ] && [ "$(jfield owner_account_id)" = "$accid" ] && [ "$(jfield vault_template_id)" = "$(redis-cli -p "$MGR_REDIS_PORT" HGET "admid:{tpl}:id" "$tpl")" ]' \
    "$fl: REST shows the locked vault, owned by the account, from the template"
  echo "hello $n" > "$W/$n.txt"
  api PUT "/api/v1/vaults/vault-$n/objects/hello.txt" --cert "$W/$n.crt" --key "$W/$n.key" -T "$W/$n.txt"
  check '[ "$ST" = 201 ]' "$fl: the vault takes an object"
  # 4. Renewal with an expiration date in ms: renewed when needed, not when not.
  far=$(ms '+400 days')
  adm "$fl" clientCertificateRenewer --cert "$W/$n.crt" --key "$W/$n.key" \
    -d "accountId=$acc&expirationDate=$far"
  ok "$fl clientCertificateRenewer"
  check '[ "$(ev responseData.renewed)" = true ]' "$fl: renewed (the old one expires before the date)"
  serial2=$(ev responseData.serial)
  check '[ "$serial2" != "$serial1" ]' "$fl: a new certificate"
  save_pem "$W/$n-renewed.crt"
  check '[ "$(openssl x509 -in "$W/$n-renewed.crt" -noout -pubkey)" = "$(openssl pkey -in "$W/$n.key" -pubout)" ]' \
    "$fl: renewal keeps the key"
  adm "$fl" clientCertificateRenewer --cert "$W/$n.crt" --key "$W/$n.key" \
    -d "accountId=$acc&expirationDate=$(ms '+300 days')"
  ok "$fl clientCertificateRenewer again"
  check '[ "$(ev responseData.renewed)" = false ] && [ "$(ev responseData.serial)" = "$serial2" ]' \
    "$fl: not renewed when the newest certificate lasts long enough"
  check '[ "$(cert_count "$accid")" = 2 ]' "$fl: two certificates"
  # 5. Rotation: a new key, the old certificates revoked.
  gen_csr "$W/$n-rot" "/O=Example/CN=adm-$n"
  adm "$fl" rotateClientKey --cert "$W/$n.crt" --key "$W/$n.key" \
    -d "expirationDate=$(ms '+100 days')" --data-urlencode "csr=$(cat "$W/$n-rot.csr")"
  ok "$fl rotateClientKey"
  save_pem "$W/$n-rot.crt"
  serial3=$(ev responseData.serial)
  check_client_cert "$W/$n-rot.crt" "$W/$n-rot.key" "/O=Example/CN=adm-$n" "$fl rotated"
  if [ "$fl" = json ]; then
    check '[ "$(ev responseData.revokedSerials | python3 -c "import json,sys; print(\" \".join(sorted(json.load(sys.stdin))))")" = "$(printf "%s\n" "$serial1" "$serial2" | sort | tr "\n" " " | sed "s/ $//")" ]' \
      "$fl: both old serials revoked"
  else
    check 'grep -q "<revokedSerial>$serial1</revokedSerial>" <<<"$BODY" && grep -q "<revokedSerial>$serial2</revokedSerial>" <<<"$BODY"' \
      "$fl: both old serials revoked"
  fi
  api GET "/api/v1/vaults/vault-$n/objects/hello.txt" --cert "$W/$n-rot.crt" --key "$W/$n-rot.key"
  check '[ "$ST" = 200 ] && [ "$BODY" = "hello $n" ]' "$fl: the rotated key reads the vault"
  adm "$fl" clientCertificateRenewer --cert "$W/$n.crt" --key "$W/$n.key" \
    -d "accountId=$acc&expirationDate=$far"
  refused 401 unauthenticated "$fl: the revoked certificate"
  # 6. Same records and events as REST.
  api GET "/api/v1/accounts/$accid/events" --cert "$W/$n-rot.crt" --key "$W/$n-rot.key"
  for t in certificate.issued certificate.renewed certificate.revoked; do
    check 'grep -q "\"type\":\"$t\"" <<<"$BODY"' "$fl: event $t"
  done
  eval "ACC_$fl=$acc ACCID_$fl=$accid TPL_$fl=$tpl"
}
workflow json j1
workflow xml x1
for a in vault_template.create account.create certificate.register certificate.renew certificate.rotate vault.create; do
  check '[ "$(audits "$a" ok)" -ge 2 ]' "audit: $a, once per flavour at least"
done

# ---- refusals: IBM's failure envelope, a 4xx, nothing changed -----------------
gen_csr "$W/p" "/O=Example/CN=adm-pending"
adm json createPrivateAccount -u "$ADMIN" \
  -d 'name=pending app&username=pending-setup&password=pending secret 1&confirmPassword=pending secret 1'
ok "a pending account"
PEND=$(ev responseData.id)
PENDID=$(redis-cli -p "$MGR_REDIS_PORT" HGET 'admid:{acc}:id' "$PEND")
NACC=$(count_of /api/v1/accounts accounts)
NVLT=$(count_of /api/v1/vaults vaults)
pending_unchanged() { # pending_unchanged WHAT
  check '[ "$(acct "$PENDID" state)" = pending_registration ] && [ "$(acct "$PENDID" username)" = pending-setup ] && [ "$(cert_count "$PENDID")" = 0 ]' \
    "$1: the pending account is unchanged"
}

# Wrong credentials (temp and admin), in both flavours.
adm json registerClientCertificate -u 'pending-setup:wrong password!!' --data-urlencode "csr=$(cat "$W/p.csr")"
refused 401 unauthenticated "wrong temporary password"
check 'curl -sS -o /dev/null -D - --cacert "$CA" -u "pending-setup:wrong password!!" -d x=1 "$URL/manager/api/json/1.0/registerClientCertificate.adm" | grep -qi "^WWW-Authenticate: Basic"' \
  "401 asks for Basic"
adm xml registerClientCertificate -u 'nobody:wrong password!!' --data-urlencode "csr=$(cat "$W/p.csr")"
refused 401 unauthenticated "unknown temporary user (xml)"
pending_unchanged "wrong credentials"
adm xml createPrivateAccount -u 'admin:not the password' -d 'name=x&username=xx-x&password=123456789012&confirmPassword=123456789012'
refused 401 unauthenticated "wrong admin password (xml)"
adm json registerClientCertificate -u "$ADMIN" --data-urlencode "csr=$(cat "$W/p.csr")"
refused 401 unauthenticated "admin credentials on the temporary credentials' method"
adm json clientCertificateRenewer -d "accountId=$PEND&expirationDate=$(ms '+400 days')"
refused 401 unauthenticated "no certificate"
pending_unchanged "admin credentials, no certificate"

# Bad CSR: garbage, a tampered signature.
adm json registerClientCertificate -u 'pending-setup:pending secret 1' --data-urlencode 'csr=not a CSR'
refused 422 invalid_argument "garbage CSR"
tamper_csr "$W/p.csr" "$W/p-bad.csr"
adm xml registerClientCertificate -u 'pending-setup:pending secret 1' --data-urlencode "csr=$(cat "$W/p-bad.csr")"
refused 422 invalid_argument "CSR with a bad signature (xml)"
# Bad dates: not ms, in the past, too soon, seconds for ms.
for d in abc -5 1.5e12 "2027-01-01" "$(date +%s)" "$(ms '-1 day')" "$(ms '+10 minutes')" "$(ms '+30 years')"; do
  adm json registerClientCertificate -u 'pending-setup:pending secret 1' \
    --data-urlencode "csr=$(cat "$W/p.csr")" --data-urlencode "expirationDate=$d"
  refused 422 invalid_argument "expirationDate=$d"
done
# Missing, repeated and unknown parameters.
adm json registerClientCertificate -u 'pending-setup:pending secret 1' -d 'expirationDate=1'
refused 422 invalid_argument "registration without csr" csr
adm json registerClientCertificate -u 'pending-setup:pending secret 1' \
  --data-urlencode "csr=$(cat "$W/p.csr")" --data-urlencode "csr=$(cat "$W/p.csr")"
refused 422 invalid_argument "csr given twice" csr
adm json registerClientCertificate -u 'pending-setup:pending secret 1' \
  --data-urlencode "csr=$(cat "$W/p.csr")" -d 'expiration_date=2030-01-01'
refused 422 invalid_argument "an unknown parameter" expiration_date
adm json registerClientCertificate -u 'pending-setup:pending secret 1' \
  --data-urlencode "csr=$(cat "$W/p.csr")" -d 'callback=alert'
refused 422 invalid_argument "JSONP" callback
# Registration for another account with these credentials.
adm json registerClientCertificate -u 'pending-setup:pending secret 1' \
  --data-urlencode "csr=$(cat "$W/p.csr")" -d "accountId=$ACC_json"
refused 403 permission_denied "temporary credentials, another account's accountId"
pending_unchanged "bad CSRs, dates and parameters"
check '[ "$(cert_count "$ACCID_json")" = 3 ]' "the other account is unchanged too"

# Account methods: missing parameters, a password mismatch, a bad role.
adm json createPrivateAccount -u "$ADMIN" -d 'name=x app&username=x-setup&confirmPassword=123456789012'
refused 422 invalid_argument "createPrivateAccount without password" password
adm xml createPrivateAccount -u "$ADMIN" -d 'name=x app&username=x-setup&password=123456789012&confirmPassword=123456789013'
refused 422 invalid_argument "confirmPassword differs (xml)" confirmPassword
adm json createAccount -u "$ADMIN" -d 'name=x app&username=x-setup&password=123456789012&confirmPassword=123456789012'
refused 422 invalid_argument "createAccount without the vault provisioner role" 'rolesMap[vaultProvisioner]'
adm json createAccount -u "$ADMIN" -d 'name=x app&username=x-setup&password=123456789012&confirmPassword=123456789012&rolesMap[superUser]=true'
refused 422 invalid_argument "another role" 'rolesMap[superUser]'
adm json createPrivateAccount -u "$ADMIN" -d 'name=pending app&username=y-setup&password=123456789012&confirmPassword=123456789012'
refused 422 conflict "a name taken"
adm json createPrivateAccount -u "$ADMIN" -d 'name=short app&username=z-setup&password=short&confirmPassword=short'
refused 422 invalid_argument "a temporary password too short"
check '[ "$(count_of /api/v1/accounts accounts)" = "$NACC" ]' "no account was created"
check '[ "$(audits account.create invalid_argument)" -ge 5 ]' "refused creations are audited"
# Frozen after registration: only the name may change.
adm json editAccount -u "$ADMIN" -d "id=$ACC_json&username=someone"
refused 422 conflict "editAccount of a registered account's user name"
adm json editAccountPassword -u "$ADMIN" -d "id=$ACC_json&password=a new secret 123"
refused 422 conflict "a registered account's password"
adm json editAccount -u "$ADMIN" -d "id=999999&name=nobody"
refused 404 not_found "editAccount of a number never given" id
adm json editAccount -u "$ADMIN" -d "id=acc_x%27;DROP&name=nobody"
refused 422 invalid_argument "editAccount of a malformed id" id
adm json deleteAccount -u "$ADMIN" -d "id=$ACC_json"
refused 422 conflict "deleting a registered account"
check '[ "$(acct "$ACCID_json" state)" = active ] && [ "$(acct "$ACCID_json" name)" = "app j1" ]' "the registered account is unchanged"
adm json editAccount -u "$ADMIN" -d "id=$ACCID_json&name=app j1 renamed"
ok "editAccount renames (our own id works too)"
check '[ "$(acct "$ACCID_json" state)" = active ] && [ "$(acct "$ACCID_json" name)" = "app j1 renamed" ]' "renamed"

# Foreign certificate: another account's, and one this CA did not issue.
J=$W/j1-rot X=$W/x1-rot
adm json clientCertificateRenewer --cert "$J.crt" --key "$J.key" -d "accountId=$ACC_xml&expirationDate=$(ms '+400 days')"
refused 403 permission_denied "renewing another account's certificate"
adm xml rotateClientKey --cert "$J.crt" --key "$J.key" -d "accountId=$ACC_xml" --data-urlencode "csr=$(cat "$W/p.csr")"
refused 403 permission_denied "rotating another account's key (xml)"
check '[ "$(cert_count "$ACCID_xml")" = 3 ]' "the other account's certificates are unchanged"
check '[ "$(audits certificate.renew permission_denied)" -ge 1 ] && [ "$(audits certificate.rotate permission_denied)" -ge 1 ]' \
  "foreign attempts are audited"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/self.key" -out "$W/self.crt" -days 30 -subj "/CN=adm-j1" 2>/dev/null
adm json clientCertificateRenewer --cert "$W/self.crt" --key "$W/self.key" -d "accountId=$ACC_json&expirationDate=$(ms '+400 days')"
refused 401 unauthenticated "a certificate of another CA"
check '[ "$(cert_count "$ACCID_json")" = 3 ]' "nothing issued"
# Renewal requires both parameters (IBM).
adm json clientCertificateRenewer --cert "$J.crt" --key "$J.key" -d "accountId=$ACC_json"
refused 422 invalid_argument "renewal without expirationDate" expirationDate
adm json clientCertificateRenewer --cert "$J.crt" --key "$J.key" -d "expirationDate=$(ms '+400 days')"
refused 422 invalid_argument "renewal without accountId" accountId
# A rotation with the key already in use.
adm json rotateClientKey --cert "$J.crt" --key "$J.key" --data-urlencode "csr=$(cat "$W/j1-rot.csr")"
refused 422 invalid_argument "rotation to the same key"
check '[ "$(cert_count "$ACCID_json")" = 3 ]' "no certificate added by refused renewals and rotations"
# Vaults: an administrator may not create one; a taken name; a bad template.
adm json createVaultFromTemplate -u "$ADMIN" -d "name=admin-vault&id=$TPL_json"
refused 401 unauthenticated "createVaultFromTemplate with admin credentials"
adm json createVaultFromTemplate --cert "$J.crt" --key "$J.key" -d "name=vault-x1&id=$TPL_json"
refused 422 conflict "a vault name held by another account"
adm json createVaultFromTemplate --cert "$J.crt" --key "$J.key" -d "name=new-vault&id=987654"
refused 404 not_found "a template number never given" id
adm json createVaultFromTemplate --cert "$J.crt" --key "$J.key" -d "name=Bad_Name&id=$TPL_json"
refused 422 invalid_argument "a bad vault name"
check '[ "$(count_of /api/v1/vaults vaults)" = "$NVLT" ]' "no vault was created"

# Disabled account: the certificate stops working; enabled again it works.
adm json disableAccount -u "$ADMIN" -d "id=$ACC_json"
ok "disableAccount"
check '[ "$(ev responseData.state)" = disabled ]' "disabled"
adm json clientCertificateRenewer --cert "$J.crt" --key "$J.key" -d "accountId=$ACC_json&expirationDate=$(ms '+400 days')"
refused 401 unauthenticated "a disabled account's certificate"
adm xml createVaultFromTemplate --cert "$J.crt" --key "$J.key" -d "name=while-disabled&id=$TPL_json"
refused 401 unauthenticated "a disabled account creating a vault (xml)"
check '[ "$(cert_count "$ACCID_json")" = 3 ] && [ "$(count_of /api/v1/vaults vaults)" = "$NVLT" ]' "nothing changed while disabled"
adm xml enableAccount -u "$ADMIN" -d "id=$ACC_json"
ok "enableAccount (xml)"
adm json clientCertificateRenewer --cert "$J.crt" --key "$J.key" -d "accountId=$ACC_json&expirationDate=$(ms '+90 days')"
ok "enabled again, the certificate works"

# Unknown method, wrong flavour, GET, other content types, oversized forms.
adm json noSuchMethod -u "$ADMIN" -d 'a=1'
refused 404 not_found "unknown method"
adm xml noSuchMethod -d 'a=1'
refused 404 not_found "unknown method (xml)"
check 'grep -q "^<?xml" <<<"$BODY"' "the xml flavour answers XML"
api POST /manager/api/yaml/1.0/createPrivateAccount.adm -u "$ADMIN" -d 'a=1'
refused 404 not_found "no such response type"
api POST /manager/api/json/1.0/rotateClientKey -d 'a=1'
refused 404 not_found "a method without .adm"
api GET "/manager/api/json/1.0/createPrivateAccount.adm?name=q&username=q-setup&password=123456789012&confirmPassword=123456789012" -u "$ADMIN"
refused 405 method_not_allowed "GET"
api DELETE /manager/api/json/1.0/createPrivateAccount.adm -u "$ADMIN"
refused 405 method_not_allowed "DELETE"
adm json createPrivateAccount -u "$ADMIN" -H 'Content-Type: application/json' \
  -d '{"name":"j app","username":"j-setup","password":"123456789012","confirmPassword":"123456789012"}'
refused 415 unsupported_media_type "a JSON body"
head -c 70000 /dev/zero | tr '\0' 'a' > "$W/big"
adm json createPrivateAccount -u "$ADMIN" --data-binary "name=big&username=big-setup&password=123456789012&confirmPassword=123456789012&email=$(cat "$W/big")"
refused 413 payload_too_large "a form over 64 KiB"
adm xml registerClientCertificate -u 'pending-setup:pending secret 1' -H 'Transfer-Encoding: chunked' --data-binary @"$W/big"
refused 413 payload_too_large "a chunked form over 64 KiB (xml)"
adm json createPrivateAccount -u "$ADMIN" -d "$(for i in $(seq 1 40); do printf 'p%d=1&' "$i"; done)name=many"
refused 422 invalid_argument "more than 32 parameters"
adm json createPrivateAccount -u "$ADMIN" -d 'name=%zz&username=bad-setup&password=123456789012&confirmPassword=123456789012'
refused 422 invalid_argument "a badly encoded parameter"
check '[ "$(count_of /api/v1/accounts accounts)" = "$NACC" ]' "still no account created"
pending_unchanged "every refusal"

# The query string counts as parameters (servlet parameters), with the body.
api POST "/manager/api/json/1.0/registerClientCertificate.adm?expirationDate=$(ms '+50 days')" \
  -u 'pending-setup:pending secret 1' --data-urlencode "csr=$(cat "$W/p.csr")"
ok "registration with expirationDate in the query string"
check '[ $(( $(ev responseData.expirationDate) / 1000 - $(date +%s) )) -lt $((51 * 86400)) ]' "its expiry is the query's"
check '[ "$(acct "$PENDID" state)" = active ]' "the pending account is registered now"

# Numbers survive restarts and are the same on every replica (one Redis).
n_before=$(redis-cli -p "$MGR_REDIS_PORT" HGET 'admid:{acc}:num' "$ACCID_json")
stack_restart_services
adm json editAccount -u "$ADMIN" -d "id=$ACC_json&name=app j1 again"
ok "the account's number works after a restart"
check '[ "$(ev responseData.id)" = "$n_before" ] && [ "$n_before" = "$ACC_json" ]' "the same number"
