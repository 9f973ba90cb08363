#!/usr/bin/env bash
# Accounts (admin), part 1: create, get, list, password, and every error row
# of API.md's table that applies, with the state unchanged after each refused
# request (list and Redis keys compared). Part 2 is accounts_states.sh.
. "$(dirname "$0")/../lib/stack.sh"
stack_up

R() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
PW1=tempPassw0rd-one
PW2=tempPassw0rd-two
PW3=tempPassw0rd-three

# snap: the whole account list; unchanged WHAT: compares with the last snap.
snap() { api GET /api/v1/accounts -u "$ADMIN"; SNAP=$BODY; SNAP_KEYS=$(R --scan --pattern 'acct*' | sort | tr '\n' ' '); }
unchanged() {
  local st=$ST body=$BODY
  api GET /api/v1/accounts -u "$ADMIN"
  check '[ "$BODY" = "$SNAP" ]' "$1: account list unchanged"
  check '[ "$(R --scan --pattern "acct*" | sort | tr "\n" " ")" = "$SNAP_KEYS" ]' "$1: Redis keys unchanged"
  ST=$st BODY=$body
}
# refused STATUS CODE WHAT: status and code of the last request, nothing stored.
# (The code is matched in bash: this runs a few hundred times.)
refused() {
  expect_status "$1" "$3"
  local want=$2
  check '[[ $BODY == *"\"code\":\"$want\""* ]]' "$3: error code $2"
  unchanged "$3"
}

create() { # create NAME USERNAME PASSWORD: sets ID
  api_json POST /api/v1/accounts "{\"name\":\"$1\",\"role\":\"vault_provisioner\",\"username\":\"$2\",\"password\":\"$3\"}" -u "$ADMIN"
}

# --- create, get, list -------------------------------------------------------
api GET /api/v1/accounts -u "$ADMIN"; expect_status 200 "empty list"
check '[ "$(jfield accounts)" = "[]" ]' "empty list is []"
create "App One" app.one_1 "$PW1"; expect_status 201 "create"
ID1=$(jfield id)
check '[[ $ID1 == acc_* ]]' "id is acc_…"
check '[ "$(jfield name)" = "App One" ] && [ "$(jfield role)" = vault_provisioner ]' "name and role"
check '[ "$(jfield state)" = pending_registration ] && [ "$(jfield username)" = app.one_1 ]' "pending with user name"
check '[[ $(jfield created_at) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]' "created_at RFC 3339"
check 'python3 -c "import json,sys; d=json.loads(sys.argv[1]); assert d[\"registered_at\"] is None and set(d)=={\"id\",\"name\",\"role\",\"state\",\"username\",\"created_at\",\"registered_at\"}" "$BODY"' "exactly the API fields, registered_at null"
check '[[ $BODY != *"$PW1"* ]] && [[ $BODY != *pwhash* ]]' "no password in the reply"
CREATED=$BODY
api GET "/api/v1/accounts/$ID1" -u "$ADMIN"; expect_status 200 "get"
check '[ "$BODY" = "$CREATED" ]' "get equals the created account"
create "App Two" app-two "$PW2"; expect_status 201 "create second"
ID2=$(jfield id)
api GET /api/v1/accounts -u "$ADMIN"; expect_status 200 "list"
check '[ "$(jfield accounts.0.id)" = "$ID1" ] && [ "$(jfield accounts.1.id)" = "$ID2" ]' "list in creation order"
check '[ -z "$(jfield accounts.2)" ]' "list has two"
check '[[ $(R hget "acct:{$ID1}" pwhash) == scrypt\$* ]]' "stored as a scrypt hash"
check '[ "$(R get acct:user:app.one_1)" = "$ID1" ] && [ "$(R get "acct:name:App One")" = "$ID1" ]' "key layout of common/keys.h"
check '[ "$(R zscore acct:all "$ID1")" != "" ]' "acct:all holds the id"

# Boundaries that are accepted.
N128=$(printf 'n%.0s' $(seq 1 128)); P128=$(printf 'p%.0s' $(seq 1 128)); U64=$(printf 'u%.0s' $(seq 1 64))
create "$N128" abc "123456789012"; expect_status 201 "name 128 bytes, user name 3, password 12"
ID3=$(jfield id)
create "ünïcødé name" "$U64" "$P128"; expect_status 201 "unicode name, user name 64, password 128"
ID4=$(jfield id)

# --- refused creates: status, code, nothing stored ----------------------------
snap
P129=$(printf 'p%.0s' $(seq 1 129)); N129=$(printf 'n%.0s' $(seq 1 129)); U65=$(printf 'u%.0s' $(seq 1 65))
mkbody() { printf '{"name":"%s","role":"%s","username":"%s","password":"%s"}' "$1" "$2" "$3" "$4"; }
while IFS='|' read -r what body; do
  api_json POST /api/v1/accounts "$body" -u "$ADMIN"
  refused 400 invalid_argument "create: $what"
done <<ROWS
malformed JSON|{"name": "x", 
not an object|["x"]
empty body object|{}
unknown field|{"name":"x1","role":"vault_provisioner","username":"newuser","password":"$PW3","api_key":"k"}
name missing|{"role":"vault_provisioner","username":"newuser","password":"$PW3"}
name a number|{"name":5,"role":"vault_provisioner","username":"newuser","password":"$PW3"}
name null|{"name":null,"role":"vault_provisioner","username":"newuser","password":"$PW3"}
role a bool|{"name":"x1","role":true,"username":"newuser","password":"$PW3"}
username an array|{"name":"x1","role":"vault_provisioner","username":["a"],"password":"$PW3"}
password a number|{"name":"x1","role":"vault_provisioner","username":"newuser","password":123456789012345}
empty name|$(mkbody "" vault_provisioner newuser "$PW3")
name 129 bytes|$(mkbody "$N129" vault_provisioner newuser "$PW3")
name with a control character|$(mkbody 'tab\there' vault_provisioner newuser "$PW3")
other role|$(mkbody x1 admin newuser "$PW3")
empty role|$(mkbody x1 "" newuser "$PW3")
user name 2|$(mkbody x1 vault_provisioner ab "$PW3")
user name 65|$(mkbody x1 vault_provisioner "$U65" "$PW3")
user name with a space|$(mkbody x1 vault_provisioner "new user" "$PW3")
user name with a slash|$(mkbody x1 vault_provisioner "new/user" "$PW3")
user name with a colon|$(mkbody x1 vault_provisioner "new:user" "$PW3")
user name non-ASCII|$(mkbody x1 vault_provisioner "nëwuser" "$PW3")
empty user name|$(mkbody x1 vault_provisioner "" "$PW3")
password 11|$(mkbody x1 vault_provisioner newuser 12345678901)
password 129|$(mkbody x1 vault_provisioner newuser "$P129")
empty password|$(mkbody x1 vault_provisioner newuser "")
ROWS
create "App One" newuser "$PW3"; refused 409 conflict "create: duplicate name"
create "Another" app.one_1 "$PW3"; refused 409 conflict "create: duplicate user name"
create "Another" App.One_1 "$PW3"; expect_status 201 "user names are case-sensitive"
api DELETE "/api/v1/accounts/$(jfield id)" -u "$ADMIN"; expect_status 204 "delete it again"
BIG=$(mktemp); python3 -c 'import json; print(json.dumps({"name":"x"*70000,"role":"vault_provisioner","username":"big","password":"p"*20}))' >"$BIG"
api POST /api/v1/accounts -u "$ADMIN" -H 'Content-Type: application/json' --data-binary @"$BIG"
refused 413 payload_too_large "create: body over 64 KiB"
rm -f "$BIG"
api POST /api/v1/accounts -u "$ADMIN" -H 'Content-Type: text/plain' --data-binary "$(mkbody x1 vault_provisioner newuser "$PW3")"
refused 415 unsupported_media_type "create: text/plain"
api POST /api/v1/accounts -u "admin:wrong-password" -H 'Content-Type: application/json' --data-binary "$(mkbody x1 vault_provisioner newuser "$PW3")"
refused 401 unauthenticated "create: wrong admin password"
api POST /api/v1/accounts -H 'Content-Type: application/json' --data-binary "$(mkbody x1 vault_provisioner newuser "$PW3")"
refused 401 unauthenticated "create: no credentials"
api POST /api/v1/accounts -u "app.one_1:$PW1" -H 'Content-Type: application/json' --data-binary "$(mkbody x1 vault_provisioner newuser "$PW3")"
refused 401 unauthenticated "create: one-time credentials are not an admin's"
api GET /api/v1/accounts -u "nobody:$MANAGER_ADMIN_PASSWORD"; expect_status 401 "unknown admin user name"
check '[ "$(R exists acct:user:newuser)" = 0 ]' "refused creates reserved no user name"

# Concurrent creates with one user name (and names differing): exactly one wins.
RACE=$(mktemp -d)
for i in 1 2 3 4 5 6; do
  curl -s -o /dev/null -w '%{http_code}\n' --cacert "$CA" -u "$ADMIN" -H 'Content-Type: application/json' \
    --data-binary "$(mkbody "Race $i" vault_provisioner race.user "$PW3")" "$URL/api/v1/accounts" >"$RACE/$i" &
  RPIDS="${RPIDS:-} $!"
done
for p in $RPIDS; do wait "$p"; done  # (a bare wait would wait for the stack)
check '[ "$(cat "$RACE"/* | grep -c 201)" = 1 ] && [ "$(cat "$RACE"/* | grep -c 409)" = 5 ]' "one of six concurrent creates wins, five get 409"
rm -rf "$RACE"
RACEID=$(R get acct:user:race.user)
check '[ "$(R zcard acct:all)" = 5 ] && [ "$(R --scan --pattern "acct:name:Race *" | wc -l)" = 1 ]' "the losers stored nothing"
api DELETE "/api/v1/accounts/$RACEID" -u "$ADMIN"; expect_status 204 "delete the race winner"
snap

# --- unknown ids: 404 everywhere, nothing changes ----------------------------
for id in acc_doesnotexist0000000000000 "acc_$(printf 'x%.0s' $(seq 1 80))"; do
  api GET "/api/v1/accounts/$id" -u "$ADMIN"; refused 404 not_found "get $id"
  api_json PUT "/api/v1/accounts/$id/password" "{\"password\":\"$PW3\"}" -u "$ADMIN"; refused 404 not_found "password $id"
  api_json PATCH "/api/v1/accounts/$id" '{"name":"zz"}' -u "$ADMIN"; refused 404 not_found "rename $id"
  api POST "/api/v1/accounts/$id/disable" -u "$ADMIN"; refused 404 not_found "disable $id"
  api POST "/api/v1/accounts/$id/enable" -u "$ADMIN"; refused 404 not_found "enable $id"
  api DELETE "/api/v1/accounts/$id" -u "$ADMIN"; refused 404 not_found "delete $id"
done

# --- password ----------------------------------------------------------------
CV=$(R hget "acct:{$ID1}" cred_version); H=$(R hget "acct:{$ID1}" pwhash)
api_json PUT "/api/v1/accounts/$ID1/password" "{\"password\":\"$PW3\"}" -u "$ADMIN"; expect_status 204 "set password"
check '[ -z "$BODY" ]' "204 has no body"
check '[ "$(R hget "acct:{$ID1}" cred_version)" = $((CV + 1)) ]' "cred_version bumped"
check '[ "$(R hget "acct:{$ID1}" pwhash)" != "$H" ]' "hash replaced"
snap
while IFS='|' read -r what body; do
  api_json PUT "/api/v1/accounts/$ID1/password" "$body" -u "$ADMIN"
  refused 400 invalid_argument "password: $what"
done <<ROWS
malformed JSON|{"password":
unknown field|{"password":"$PW2","username":"other"}
missing|{}
a number|{"password":1234567890123}
too short|{"password":"12345678901"}
too long|{"password":"$P129"}
ROWS
api PUT "/api/v1/accounts/$ID1/password" -u "$ADMIN" -H 'Content-Type: text/plain' --data-binary "{\"password\":\"$PW2\"}"
refused 415 unsupported_media_type "password: text/plain"
api_json PUT "/api/v1/accounts/$ID1/password" "{\"password\":\"$PW2\"}" -u "admin:nope"
refused 401 unauthenticated "password: wrong admin password"
check '[ "$(R hget "acct:{$ID1}" cred_version)" = $((CV + 1)) ]' "refused password changes left cred_version"


# No password, accepted or refused, in the audit records or any log.
api GET "/api/v1/audit?limit=1000" -u "$ADMIN"; expect_status 200 "audit"
for s in "$PW1" "$PW2" "$PW3" "$P128" "$MANAGER_ADMIN_PASSWORD" wrong-password 12345678901; do
  check '[[ $BODY != *"$s"* ]]' "no secret in the audit records"
  check '! grep -rqF -- "$s" "$MANAGER_DATA_DIR/logs"' "no secret in the logs"
done
check '[[ $BODY == *'"'"'"action":"account.create","target":"","outcome":"invalid_argument"'"'"'* ]]' "refused creates are audited"
