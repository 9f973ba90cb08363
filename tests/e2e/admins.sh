#!/usr/bin/env bash
# Administrators (API.md "Administrators (v2)"): create, list (never a hash),
# roles on every administrator route (curl, each role), one's own password,
# the last super_user, bad input changing nothing, audit naming the actor;
# the lockout per user name and source address (127.0.0.2 and 127.0.0.3
# are loopback too), the race of parallel wrong passwords (at most the
# limit checked), and the slower global limit per user name.
export MANAGER_LOGIN_MAX_FAILURES=5
export MANAGER_LOCKOUT_S=60
export MANAGER_LOGIN_GLOBAL_MAX_FAILURES=12
. "$(dirname "$0")/../lib/stack.sh"
stack_up

R() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
PW_SO=security-officer-pw-1
PW_OP=operator-password-1
PW_SU2=second-super-user-pw

snap() { api GET /api/v1/admins -u "$ADMIN"; SNAP=$BODY; SNAP_KEYS=$(R --scan --pattern 'admin*' | sort | tr '\n' ' '); SNAP_H=$(R hgetall admin:so1 | tr '\n' ' '); }
unchanged() {
  local st=$ST body=$BODY
  api GET /api/v1/admins -u "$ADMIN"
  check '[ "$BODY" = "$SNAP" ]' "$1: admin list unchanged"
  check '[ "$(R --scan --pattern "admin*" | sort | tr "\n" " ")" = "$SNAP_KEYS" ]' "$1: Redis keys unchanged"
  check '[ "$(R hgetall admin:so1 | tr "\n" " ")" = "$SNAP_H" ]' "$1: so1's record unchanged"
  ST=$st BODY=$body
}
refused() { expect_status "$1" "$3"; expect_code "$2" "$3"; unchanged "$3"; }
mkadmin() { api_json POST /api/v1/admins "{\"username\":\"$1\",\"password\":\"$2\",\"role\":\"$3\"}" -u "${4:-$ADMIN}"; }

# --- create and list ---------------------------------------------------------
api GET /api/v1/admins -u "$ADMIN"; expect_status 200 "list"
check '[ "$(jfield admins.0.username)" = admin ] && [ "$(jfield admins.0.role)" = super_user ]' "the first admin is a super_user"
mkadmin so1 "$PW_SO" security_officer; expect_status 201 "create security_officer"
check '[ "$(jfield username)" = so1 ] && [ "$(jfield role)" = security_officer ] && [ -n "$(jfield created_at)" ]' "created admin body"
mkadmin op1 "$PW_OP" operator; expect_status 201 "create operator"
api GET /api/v1/admins -u "$ADMIN"; expect_status 200 "list of three"
check '[ "$(python3 -c "import json,sys; print(len(json.loads(sys.argv[1])[\"admins\"]))" "$BODY")" = 3 ]' "three admins"
check '[[ $BODY != *pwhash* ]] && [[ $BODY != *scrypt* ]] && [[ $BODY != *password* ]]' "never a hash in the list"
check '[[ "$(R hget admin:so1 pwhash)" == scrypt\$* ]]' "stored as a slow hash like account passwords"
api GET /api/v1/accounts -u "so1:$PW_SO"; expect_status 200 "security_officer logs in"
api GET /api/v1/accounts -u "op1:$PW_OP"; expect_status 200 "operator logs in"

# --- bad input: the contract's 4xx, nothing changed -----------------------------
snap
mkadmin x1 "long-enough-pw-1" root; refused 400 invalid_argument "unknown role"
mkadmin x1 "long-enough-pw-1" ""; refused 400 invalid_argument "empty role"
mkadmin x1 "long-enough-pw-1" Super_User; refused 400 invalid_argument "role spelt otherwise"
mkadmin x1 "short" operator; refused 400 invalid_argument "short password"
mkadmin x1 "12345678901" operator; refused 400 invalid_argument "11-character password"
mkadmin so1 "long-enough-pw-1" operator; refused 409 conflict "duplicate name"
mkadmin admin "long-enough-pw-1" operator; refused 409 conflict "duplicate of the first admin"
mkadmin "a b" "long-enough-pw-1" operator; refused 400 invalid_argument "bad user name"
mkadmin ab "long-enough-pw-1" operator; refused 400 invalid_argument "user name too short"
api_json POST /api/v1/admins '{"username":"x2","password":"long-enough-pw-1","role":"operator","extra":1}' -u "$ADMIN"
refused 400 invalid_argument "unknown field"
api_json POST /api/v1/admins '{"username":"x2","password":"long-enough-pw-1","role":7}' -u "$ADMIN"
refused 400 invalid_argument "role not a string"
api_json POST /api/v1/admins '{"username":"x2","password":"long-enough-pw-1"}' -u "$ADMIN"
refused 400 invalid_argument "role missing"
api POST /api/v1/admins -u "$ADMIN" -H 'Content-Type: text/plain' --data-binary '{}'
refused 415 unsupported_media_type "wrong content type"
api_json PUT /api/v1/admins/so1/password "{\"current_password\":\"$PW_SO\",\"password\":\"new-password-by-admin\"}" -u "$ADMIN"
refused 403 permission_denied "super_user changing another's password"
api_json PUT /api/v1/admins/so1/password "{\"current_password\":\"$PW_SO\",\"password\":\"new-password-by-op\"}" -u "op1:$PW_OP"
refused 403 permission_denied "operator changing another's password"
api_json PUT /api/v1/admins/so1/password "{\"current_password\":\"wrong-current-pw\",\"password\":\"new-password-so1x\"}" -u "so1:$PW_SO"
refused 403 permission_denied "wrong current password"
api_json PUT /api/v1/admins/so1/password "{\"current_password\":\"$PW_SO\",\"password\":\"short\"}" -u "so1:$PW_SO"
refused 400 invalid_argument "own password too short"
api_json PUT /api/v1/admins/so1/password "{\"password\":\"new-password-so1x\"}" -u "so1:$PW_SO"
refused 400 invalid_argument "current_password missing"
api DELETE /api/v1/admins/nosuch -u "$ADMIN"; refused 404 not_found "delete unknown admin"
api DELETE /api/v1/admins/admin -u "$ADMIN"; refused 409 conflict "the last super_user"
api GET /api/v1/accounts -u "so1:$PW_SO"; expect_status 200 "so1's password unchanged"

# --- each role on each administrator route -------------------------------------
# METHOD PATH BODY SU SO OP: 1 = the role gets past the role table (any status
# but 403; the arguments are chosen so that nothing changes), 0 = 403.
ROUTES=(
  "GET /api/v1/admins - 1 1 0"
  "GET /api/v1/admins/me - 1 1 1"
  "POST /api/v1/admins {} 1 0 0"
  "DELETE /api/v1/admins/nosuch - 1 0 0"
  "POST /api/v1/accounts {} 1 1 0"
  "GET /api/v1/accounts - 1 1 1"
  "GET /api/v1/accounts/acc_nosuch - 1 1 1"
  "PATCH /api/v1/accounts/acc_nosuch {} 1 1 0"
  "DELETE /api/v1/accounts/acc_nosuch - 1 1 0"
  "PUT /api/v1/accounts/acc_nosuch/password {} 1 1 0"
  "POST /api/v1/accounts/acc_nosuch/disable {} 1 1 0"
  "POST /api/v1/accounts/acc_nosuch/enable {} 1 1 0"
  "GET /api/v1/accounts/acc_nosuch/certificates - 1 1 1"
  "GET /api/v1/accounts/acc_nosuch/events - 1 1 1"
  "GET /api/v1/audit?limit=1 - 1 1 1"
  "POST /api/v1/devices {} 1 1 0"
  "GET /api/v1/devices - 1 1 1"
  "POST /api/v1/devices/dev_nosuch/revoke {} 1 1 0"
  "DELETE /api/v1/devices/dev_nosuch - 1 1 0"
  "POST /api/v1/vault-templates {} 1 0 0"
  "GET /api/v1/vault-templates - 1 1 1"
  "PATCH /api/v1/vault-templates/tpl_nosuch {} 1 0 0"
  "GET /api/v1/vaults - 1 1 1"
  "GET /api/v1/vaults/nosuch-vault - 1 1 1"
  "DELETE /api/v1/vaults/nosuch-vault - 1 0 0"
)
USERS=("$ADMIN" "so1:$PW_SO" "op1:$PW_OP")
NAMES=(super_user security_officer operator)
for row in "${ROUTES[@]}"; do
  read -r m p b su so op <<<"$row"
  want=("$su" "$so" "$op")
  for i in 0 1 2; do
    if [ "$b" = - ]; then api "$m" "$p" -u "${USERS[$i]}"; else api_json "$m" "$p" "$b" -u "${USERS[$i]}"; fi
    if [ "${want[$i]}" = 1 ]; then
      check '[ "$ST" != 403 ] && [ "$ST" != 401 ] && [ "$ST" -lt 500 ]' "${NAMES[$i]} on $m $p passes the role table (got $ST)"
    else
      expect_status 403 "${NAMES[$i]} on $m $p"
      expect_code permission_denied "${NAMES[$i]} on $m $p code"
    fi
  done
done
# Who am I: each role its own name, role and the operations the role table
# gives it (the console shows only those).
ops_of() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["username"], d["role"], " ".join(sorted(d["operations"])))' "$BODY"; }
for i in 0 1 2; do
  api GET /api/v1/admins/me -u "${USERS[$i]}"; expect_status 200 "${NAMES[$i]}: GET /api/v1/admins/me"
  read -r me_user me_role me_ops <<<"$(ops_of)"
  check '[ "$me_user" = "${USERS[$i]%%:*}" ] && [ "$me_role" = "${NAMES[$i]}" ]' "${NAMES[$i]}: me names the caller and its role ($me_user $me_role)"
  ME_OPS[$i]=" $me_ops "
done
check '[[ ${ME_OPS[0]} == *" admin.create "* && ${ME_OPS[0]} == *" device.revoke "* && ${ME_OPS[0]} == *" template.create "* ]]' "super_user: admin.create, device.revoke, template.create"
check '[[ ${ME_OPS[1]} != *" admin.create "* && ${ME_OPS[1]} == *" admin.list "* && ${ME_OPS[1]} == *" account.disable "* && ${ME_OPS[1]} != *" template.create "* ]]' "security_officer: accounts and the admin list, no admin.create or template.create"
check '[[ ${ME_OPS[2]} != *" account.create "* && ${ME_OPS[2]} != *" device.revoke "* && ${ME_OPS[2]} != *" admin.list "* && ${ME_OPS[2]} == *" account.list "* && ${ME_OPS[2]} == *" admin.set_password "* ]]' "operator: reads and its own password only"
check '[ "$(tr " " "\n" <<<"${ME_OPS[0]}" | grep -c .)" = "$(tr " " "\n" <<<"${ME_OPS[0]}" | grep . | sort -u | wc -l)" ]' "operations listed once each"
api GET /api/v1/admins/me -u "nobody-me:wrong-password-x"; expect_status 401 "me with a wrong password"
api GET /api/v1/admins/me; expect_status 401 "me without credentials"
# Own password: every role (an empty body is refused after the role check).
for i in 0 1 2; do
  u=${USERS[$i]%%:*}
  api_json PUT "/api/v1/admins/$u/password" '{}' -u "${USERS[$i]}"; expect_status 400 "${NAMES[$i]} reaches its own password route"
done
# Vault data: no role reaches it (the vault service refuses every administrator).
for i in 0 1 2; do
  api GET /api/v1/vaults/nosuch-vault/objects -u "${USERS[$i]}"; expect_status 403 "${NAMES[$i]}: no vault data (list)"
  api GET /api/v1/vaults/nosuch-vault/objects/k -u "${USERS[$i]}"; expect_status 403 "${NAMES[$i]}: no vault data (get)"
  api PUT /api/v1/vaults/nosuch-vault/objects/k -u "${USERS[$i]}" --data-binary x; expect_status 403 "${NAMES[$i]}: no vault data (put)"
done
# Every administrator route of the gateway is in the list above (or in the
# own-password / vault-data checks): the role table's routes, from its source.
TABLE=$(sed -n 's/^\t{"[a-z_.]*", "\([A-Z]*\)", "\([^"]*\)".*/\1 \2/p' "$MGR_ROOT/gateway/roles.c" | sort)
COVERED=$( (for row in "${ROUTES[@]}"; do read -r m p _ <<<"$row"; p=${p%%\?*}; echo "$m $p"; done
  echo "PUT /api/v1/admins/{}/password") | sed -E 's#/(acc_nosuch|dev_nosuch|tpl_nosuch|nosuch-vault|nosuch)(/|$)#/{}\2#' | sort)
MISSING=$(comm -23 <(echo "$TABLE" | grep -v '/objects\|^POST /api/v1/vaults$\|^PATCH /api/v1/vaults/{}$\|^PUT /api/v1/vaults/{}$') <(echo "$COVERED"))
check '[ -z "$MISSING" ]' "every role-table route is walked here (missing: $MISSING)"

# --- own password -------------------------------------------------------------
NEW_OP=operator-new-password
api_json PUT /api/v1/admins/op1/password "{\"current_password\":\"$PW_OP\",\"password\":\"$NEW_OP\"}" -u "op1:$PW_OP"
expect_status 204 "operator changes its own password"
api GET /api/v1/accounts -u "op1:$PW_OP"; expect_status 401 "old password refused at once"
api GET /api/v1/accounts -u "op1:$NEW_OP"; expect_status 200 "new password works"
PW_OP=$NEW_OP

# --- delete, last super_user ---------------------------------------------------
api DELETE /api/v1/admins/op1 -u "so1:$PW_SO"; expect_status 403 "security_officer may not delete"
mkadmin su2 "$PW_SU2" super_user; expect_status 201 "second super_user"
api DELETE /api/v1/admins/op1 -u "su2:$PW_SU2"; expect_status 204 "super_user deletes the operator"
api GET /api/v1/accounts -u "op1:$PW_OP"; expect_status 401 "deleted admin refused"
api DELETE /api/v1/admins/admin -u "su2:$PW_SU2"; expect_status 204 "the first admin may go while another super_user stays"
api GET /api/v1/accounts -u "$ADMIN"; expect_status 401 "deleted first admin refused"
api DELETE /api/v1/admins/su2 -u "su2:$PW_SU2"; expect_status 409 "the last super_user cannot remove itself"
expect_code conflict "last super_user code"
api GET /api/v1/admins -u "su2:$PW_SU2"; expect_status 200 "list after deletes"
check '[[ $BODY == *su2* ]] && [[ $BODY == *so1* ]] && [[ $BODY != *op1* ]] && [[ $BODY != *\"admin\"* ]]' "the list shows su2 and so1 only"
# Two deletes of the last two super_users at once: one wins, one stays.
mkadmin su3 "$PW_SU2" super_user "su2:$PW_SU2"; expect_status 201 "third super_user"
curl -s -o /dev/null -w '%{http_code}\n' --cacert "$CA" -X DELETE -u "su2:$PW_SU2" "$URL/api/v1/admins/su3" >"$T_DIR/d1" &
P1=$!
curl -s -o /dev/null -w '%{http_code}\n' --cacert "$CA" -X DELETE -u "su3:$PW_SU2" "$URL/api/v1/admins/su2" >"$T_DIR/d2" &
wait $P1 $!
# The loser gets 409, or 401 when the winner deleted it before its password
# was checked; never both 204.
D=$(cat "$T_DIR/d1" "$T_DIR/d2" | sort | tr "\n" " ")
check '[ "$D" = "204 409 " ] || [ "$D" = "204 401 " ]' "concurrent deletes: one 204, the other refused ($D)"
SU=$( [ "$(cat "$T_DIR/d1")" = 204 ] && echo su2 || echo su3 )
SUA="$SU:$PW_SU2"
api GET /api/v1/admins -u "$SUA"; expect_status 200 "a super_user remains"
check '[ "$(R zcard admin:all)" = 2 ]' "two admins left"

# --- audit names the acting administrator -------------------------------------
api GET "/api/v1/audit?limit=1000" -u "$SUA"; expect_status 200 "audit"
AUD=$BODY
count() { python3 -c '
import json,sys
recs=json.loads(sys.argv[1])["records"]; want=dict(a.split("=",1) for a in sys.argv[2:])
print(sum(1 for r in recs if all(r.get(k)==v for k,v in want.items())))' "$AUD" "$@"; }
check '[ "$(count action=admin.create actor=admin target=so1 outcome=ok)" = 1 ]' "audit: admin created so1"
check '[ "$(count action=admin.delete actor=su2 target=op1 outcome=ok)" = 1 ]' "audit: su2 deleted op1"
check '[ "$(count action=admin.delete actor=so1 outcome=permission_denied)" -ge 1 ]' "audit: so1's refused delete"
check '[ "$(count action=admin.set_password actor=op1 outcome=ok)" = 1 ]' "audit: op1 changed its password"
check '[ "$(count action=admin.delete actor=su2 target=su2 outcome=conflict)" = 1 ]' "audit: last super_user refusal"
check '[[ $AUD != *"$PW_SO"* ]] && [[ $AUD != *"$PW_OP"* ]] && [[ $AUD != *scrypt* ]]' "no password or hash in the audit"

# --- lockout per user name and source address ----------------------------------
mkadmin lk1 "locked-user-password" operator "$SUA"; expect_status 201 "lockout user"
from() { local a=$1; shift; api "$@" --interface "$a"; }
for i in 1 2 3 4 5; do from 127.0.0.2 GET /api/v1/accounts -u "lk1:wrong-$i"; expect_status 401 "wrong password $i from 127.0.0.2"; done
from 127.0.0.2 GET /api/v1/accounts -u lk1:wrong-6; expect_status 429 "the guessing address is locked"; expect_code rate_limited "locked code"
from 127.0.0.2 GET /api/v1/accounts -u lk1:locked-user-password; expect_status 429 "right password from the guessing address: 429"
from 127.0.0.1 GET /api/v1/accounts -u lk1:locked-user-password; expect_status 200 "the same user from another address gets in"
from 127.0.0.2 GET /api/v1/accounts -u lk1:locked-user-password; expect_status 429 "another address's success does not unlock the guesser"
check '[ "$(R get lockout:admin:lk1@127.0.0.2)" = 5 ]' "per-address count in Redis"
TTL=$(R ttl lockout:admin:lk1@127.0.0.2)
check '[ "$TTL" -gt 0 ] && [ "$TTL" -le 60 ]' "the address's lock expires (TTL $TTL)"

# --- the race: 8 parallel wrong passwords against a limit of 5 ------------------
mkadmin race "race-user-password" operator "$SUA"; expect_status 201 "race user"
RACE=()
for i in 1 2 3 4 5 6 7 8; do
  curl -s -o /dev/null -w '%{http_code}\n' --cacert "$CA" --interface 127.0.0.3 -u "race:wrong-$i" "$URL/api/v1/accounts" >"$T_DIR/race.$i" &
  RACE+=($!)
done
wait "${RACE[@]}"
N401=$(cat "$T_DIR"/race.* | grep -c '^401$'); N429=$(cat "$T_DIR"/race.* | grep -c '^429$')
check '[ "$N401" -le 5 ] && [ "$N429" -ge 3 ] && [ $((N401 + N429)) = 8 ]' "8 parallel guesses: $N401 checked (<= 5), $N429 refused"
api GET "/api/v1/audit?limit=1000" -u "$SUA"; AUD=$BODY
CHECKED=$(python3 -c '
import json,sys
print(sum(1 for r in json.loads(sys.argv[1])["records"] if r["action"]=="auth.basic" and r["actor"]=="race" and r["outcome"]=="unauthenticated"))' "$AUD")
check '[ "$CHECKED" -le 5 ] && [ "$CHECKED" = "$N401" ]' "audit: $CHECKED passwords of race checked"
check '[[ $AUD == *"from 127.0.0.3"* ]]' "audit names the source address"

# --- the slower global limit per user name --------------------------------------
mkadmin gl1 "global-user-password" operator "$SUA"; expect_status 201 "global user"
from 127.0.0.1 GET /api/v1/accounts -u gl1:global-user-password; expect_status 200 "gl1 logs in from 127.0.0.1 (a known address)"
for a in 127.0.0.4 127.0.0.5 127.0.0.6; do
  for i in 1 2 3 4; do from $a GET /api/v1/accounts -u "gl1:wrong-$a-$i"; done
done
expect_status 401 "12th distributed guess still checked"
check '[ "$(R get lockout:admin:gl1)" = 12 ]' "global count 12"
from 127.0.0.7 GET /api/v1/accounts -u gl1:wrong-x; expect_status 429 "a new address is held by the global limit"
from 127.0.0.8 GET /api/v1/accounts -u gl1:global-user-password; expect_status 429 "even with the right password from an unknown address"
from 127.0.0.1 GET /api/v1/accounts -u gl1:global-user-password; expect_status 200 "the known address still gets in"
