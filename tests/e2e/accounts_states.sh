#!/usr/bin/env bash
# Accounts (admin), part 2: rename, disable/enable, the state machine before
# and after registration, delete, events and auth-cache messages, and the
# audit listing (paged, every action with its outcome, no secrets). Part 1 is
# accounts.sh.
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

N128=$(printf 'n%.0s' $(seq 1 128)); N129=$(printf 'n%.0s' $(seq 1 129))
create "App One" app.one_1 "$PW1"; expect_status 201 "create 1"; ID1=$(jfield id)
create "App Two" app-two "$PW2"; expect_status 201 "create 2"; ID2=$(jfield id)
create "$N128" abc "123456789012"; expect_status 201 "create 3"; ID3=$(jfield id)
api_json PUT "/api/v1/accounts/$ID1/password" "{\"password\":\"$PW3\"}" -u "$ADMIN"; expect_status 204 "set password"
create "App One" other-user "$PW3"; expect_status 409 "refused create (conflict)"
create "x" "a b" "$PW3"; expect_status 400 "refused create (bad input)"
api GET /api/v1/accounts -u admin:wrong-password; expect_status 401 "failed admin login"

# --- rename (PATCH) before registration ---------------------------------------
api_json PATCH "/api/v1/accounts/$ID1" '{"name":"App One renamed"}' -u "$ADMIN"; expect_status 200 "rename"
check '[ "$(jfield name)" = "App One renamed" ] && [ "$(jfield state)" = pending_registration ]' "renamed, still pending"
check '[ "$(R exists "acct:name:App One")" = 0 ] && [ "$(R get "acct:name:App One renamed")" = "$ID1" ]' "name index moved"
api_json PATCH "/api/v1/accounts/$ID1" '{"name":"App One renamed"}' -u "$ADMIN"; expect_status 200 "rename to the same name"
create "App One" reuse-old-name "$PW3"; expect_status 201 "the old name is free again"
api DELETE "/api/v1/accounts/$(jfield id)" -u "$ADMIN"; expect_status 204 "delete it"
snap
while IFS='|' read -r what body; do
  api_json PATCH "/api/v1/accounts/$ID1" "$body" -u "$ADMIN"
  refused 400 invalid_argument "rename before registration: $what"
done <<ROWS
malformed JSON|{"name"
username|{"username":"other.name"}
role|{"role":"vault_provisioner"}
name and role|{"name":"x2","role":"vault_provisioner"}
password|{"password":"$PW2"}
unknown field|{"colour":"blue"}
empty object|{}
name a number|{"name":7}
empty name|{"name":""}
name 129 bytes|{"name":"$N129"}
ROWS
api_json PATCH "/api/v1/accounts/$ID1" '{"name":"App Two"}' -u "$ADMIN"; refused 409 conflict "rename to a taken name"
api PATCH "/api/v1/accounts/$ID1" -u "$ADMIN" -H 'Content-Type: text/plain' --data-binary '{"name":"zz"}'
refused 415 unsupported_media_type "rename: text/plain"

# --- disable / enable before registration -------------------------------------
SUB=$(mktemp)
redis-cli -p "$MGR_REDIS_PORT" SUBSCRIBE mgr:auth >"$SUB" &
SUBPID=$!
sleep 0.3
api POST "/api/v1/accounts/$ID2/disable" -u "$ADMIN"; expect_status 200 "disable a pending account"
check '[ "$(jfield state)" = disabled ] && [ "$(jfield username)" = app-two ]' "disabled, user name kept"
api POST "/api/v1/accounts/$ID2/disable" -u "$ADMIN"; expect_status 200 "disable again is a no-op"
check '[ "$(jfield state)" = disabled ]' "still disabled"
api POST "/api/v1/accounts/$ID2/enable" -u "$ADMIN"; expect_status 200 "enable"
check '[ "$(jfield state)" = pending_registration ]' "enable of a never-registered account: pending again"
api POST "/api/v1/accounts/$ID2/enable" -u "$ADMIN"; expect_status 200 "enable again is a no-op"
check '[ "$(jfield state)" = pending_registration ]' "still pending"
sleep 0.3
check 'grep -q "account $ID2" "$SUB"' "disable/enable published on mgr:auth"
check '[ "$(R xlen "ev:{$ID2}")" = 2 ]' "one event per change, none for no-ops"
check 'R xrange "ev:{$ID2}" - + | grep -q account.disabled && R xrange "ev:{$ID2}" - + | grep -q account.enabled' "account.disabled and account.enabled events"

# --- after registration (the CA's script does this; done here by hand with
# --- exactly its key changes, common/keys.h) -----------------------------------
register_by_hand() {
  local u
  u=$(R hget "acct:{$1}" username)
  R hset "acct:{$1}" state active registered_at "$(date +%s)" >/dev/null
  R hdel "acct:{$1}" username pwhash >/dev/null
  R del "acct:user:$u" >/dev/null
}
register_by_hand "$ID1"
api GET "/api/v1/accounts/$ID1" -u "$ADMIN"; expect_status 200 "get registered"
check '[ "$(jfield state)" = active ] && [ -z "$(jfield username)" ]' "active, username null"
check '[[ $(jfield registered_at) =~ ^[0-9]{4}-.*Z$ ]]' "registered_at set"
check 'python3 -c "import json,sys; assert json.loads(sys.argv[1])[\"username\"] is None" "$BODY"' "username is JSON null"
snap
api_json PUT "/api/v1/accounts/$ID1/password" "{\"password\":\"$PW2\"}" -u "$ADMIN"; refused 409 conflict "password after registration"
api DELETE "/api/v1/accounts/$ID1" -u "$ADMIN"; refused 409 conflict "delete after registration"
while IFS='|' read -r what body; do
  api_json PATCH "/api/v1/accounts/$ID1" "$body" -u "$ADMIN"
  refused 409 conflict "rename after registration: $what"
done <<ROWS
username|{"username":"again"}
role|{"role":"vault_provisioner"}
name and role|{"name":"x3","role":"vault_provisioner"}
password|{"password":"$PW2"}
unknown field|{"api_key":"k"}
ROWS
api_json PATCH "/api/v1/accounts/$ID1" '{"name":""}' -u "$ADMIN"; refused 400 invalid_argument "rename after registration: empty name"
api_json PATCH "/api/v1/accounts/$ID1" '{"name":"Registered App"}' -u "$ADMIN"; expect_status 200 "rename after registration"
check '[ "$(jfield name)" = "Registered App" ] && [ "$(jfield state)" = active ]' "renamed, still active"
api POST "/api/v1/accounts/$ID1/disable" -u "$ADMIN"; expect_status 200 "disable registered"
check '[ "$(jfield state)" = disabled ]' "disabled"
api_json PUT "/api/v1/accounts/$ID1/password" "{\"password\":\"$PW2\"}" -u "$ADMIN"; expect_status 409 "password while disabled after registration"
api DELETE "/api/v1/accounts/$ID1" -u "$ADMIN"; expect_status 409 "delete while disabled after registration"
api_json PATCH "/api/v1/accounts/$ID1" '{"role":"x"}' -u "$ADMIN"; expect_status 409 "PATCH role while disabled after registration"
api POST "/api/v1/accounts/$ID1/enable" -u "$ADMIN"; expect_status 200 "enable registered"
check '[ "$(jfield state)" = active ]' "active again"
sleep 0.3
check '[ "$(grep -c "account $ID1" "$SUB")" -ge 2 ]' "registered disable/enable published"
kill "$SUBPID" 2>/dev/null; wait "$SUBPID" 2>/dev/null; rm -f "$SUB"
check '[ "$(R xlen "ev:{$ID1}")" = 2 ]' "registered account: two events"

# --- delete ------------------------------------------------------------------
api DELETE "/api/v1/accounts/$ID3" -u "$ADMIN"; expect_status 204 "delete pending"
api GET "/api/v1/accounts/$ID3" -u "$ADMIN"; expect_status 404 "deleted is gone"
check '[ "$(R exists "acct:{$ID3}" acct:user:abc "acct:name:$N128")" = 0 ]' "delete removed every key"
check '[ -z "$(R zscore acct:all "$ID3")" ]' "delete removed the id from acct:all"
api DELETE "/api/v1/accounts/$ID3" -u "$ADMIN"; expect_status 404 "delete twice"
create "Reuse" abc "$PW3"; expect_status 201 "user name of a deleted account is free"
check '[ "$(jfield id)" != "$ID3" ]' "ids are not reused"

# --- audit ----------------------------------------------------------------------
api GET /api/v1/audit -u "$ADMIN"; expect_status 200 "audit"
check '[ "$(jfield records.0.action)" = admin.create ]' "first record: the admin bootstrap"
check 'python3 -c "
import json,sys
d=json.loads(sys.argv[1]); r=d[\"records\"]
assert all(set(x)=={\"id\",\"time\",\"request_id\",\"actor_kind\",\"actor\",\"action\",\"target\",\"outcome\",\"detail\"} for x in r)
assert d[\"next_after\"]==r[-1][\"id\"]
" "$BODY"' "audit record fields and next_after"
# Page through everything two at a time; the pages join up to the whole list.
ALL=$(python3 -c 'import json,sys; print(json.dumps([x["id"] for x in json.loads(sys.argv[1])["records"]]))' "$BODY")
CUR=""; PAGED="[]"; PAGES=0
while :; do
  api GET "/api/v1/audit?limit=2${CUR:+&after=$CUR}" -u "$ADMIN"
  [ "$ST" = 200 ] || break
  N=$(python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["records"]))' "$BODY")
  [ "$N" = 0 ] && break
  PAGED=$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])+[x["id"] for x in json.loads(sys.argv[2])["records"]]))' "$PAGED" "$BODY")
  CUR=$(jfield next_after); PAGES=$((PAGES + 1))
  [ "$PAGES" -gt 500 ] && break
done
check '[ "$(python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print(a==b[:len(a)] and len(b)>=len(a))" "$ALL" "$PAGED")" = True ]' "paging with after/limit gives every record once, in order"
api GET "/api/v1/audit?after=$CUR" -u "$ADMIN"; expect_status 200 "audit past the end"
check '[ "$(jfield records)" = "[]" ] && [ "$(jfield next_after)" = "$CUR" ]' "past the end: empty, same cursor"
api GET "/api/v1/audit?limit=1000" -u "$ADMIN"; AUD=$BODY
has() { python3 -c '
import json,sys
recs=json.loads(sys.argv[1])["records"]; want=dict(a.split("=",1) for a in sys.argv[2:])
sys.exit(0 if any(all(r.get(k)==v for k,v in want.items()) for r in recs) else 1)' "$AUD" "$@"; }
check 'has action=account.create outcome=ok actor_kind=admin actor=admin target=$ID1' "audit: create"
check 'has action=account.create outcome=conflict' "audit: refused create (conflict)"
check 'has action=account.create outcome=invalid_argument' "audit: refused create (bad input)"
check 'has action=account.set_password outcome=ok target=$ID1' "audit: password"
check 'has action=account.set_password outcome=conflict target=$ID1' "audit: refused password"
check 'has action=account.rename outcome=ok target=$ID1' "audit: rename"
check 'has action=account.disable outcome=ok target=$ID2' "audit: disable"
check 'has action=account.enable outcome=ok target=$ID2' "audit: enable"
check 'has action=account.delete outcome=ok target=$ID3' "audit: delete"
check 'has action=account.delete outcome=not_found' "audit: delete of an unknown id"
check 'has action=auth.basic outcome=unauthenticated actor_kind=admin actor=admin' "audit: failed admin login"
check 'python3 -c "import json,sys; assert all(r[\"request_id\"] for r in json.loads(sys.argv[1])[\"records\"][1:])" "$AUD"' "audit records carry request ids"
for s in "$PW1" "$PW2" "$PW3" "$MANAGER_ADMIN_PASSWORD" wrong-password 12345678901; do
  check '[[ $AUD != *"$s"* ]]' "no secret in the audit records"
  check '! grep -rqF -- "$s" "$MANAGER_DATA_DIR/logs"' "no secret in the logs"
done
api GET "/api/v1/audit?after=garbage" -u "$ADMIN"; expect_status 400 "audit: bad cursor"; expect_code invalid_argument "audit: bad cursor code"
api GET "/api/v1/audit?limit=0" -u "$ADMIN"; expect_status 400 "audit: limit 0"
api GET "/api/v1/audit?limit=x" -u "$ADMIN"; expect_status 400 "audit: limit not a number"
api GET "/api/v1/audit?limit=1001" -u "$ADMIN"; expect_status 400 "audit: limit too big"
api GET /api/v1/audit; expect_status 401 "audit without credentials"
api GET /api/v1/audit -u "admin:nope"; expect_status 401 "audit with a wrong password"
