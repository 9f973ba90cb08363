#!/usr/bin/env bash
# The default vault template (v2): "default" on create and in every template
# body, PATCH /api/v1/vault-templates/{id} {"default": true|false} (at most
# one default; setting one clears the other), its refusals (bad body 400,
# unknown id 404, a mirror template 400, other roles 403; nothing changed),
# and vault.Create without a template (the default; what S3 CreateBucket
# without a LocationConstraint uses) or naming one by name (S3's
# LocationConstraint), straight to vault-svc.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
. "$(dirname "$0")/../lib/rpc.sh"
stack_up
[ -x "$RS" ] || fail_now "no $RS (build the tests)"

app_identity alice; ALICE=$APP_ID
R() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
J='Content-Type: application/json'
as_admin() { local m=$1 p=$2; shift 2; api "$m" "$p" -u "$ADMIN" "$@"; }
# The ids of the default templates in the listing, one a line.
defaults() {
  as_admin GET /api/v1/vault-templates
  python3 -c 'import json,sys; print(" ".join(t["id"] for t in json.loads(sys.argv[1])["templates"] if t["default"] is True))' "$BODY"
}
snap() { SNAP_DEF=$(defaults); SNAP_KEYS=$(R --scan --pattern 'vtpl*' | sort | tr '\n' ' '); }
unchanged() {
  local st=$ST body=$BODY
  check '[ "$(defaults)" = "$SNAP_DEF" ]' "$1: the default is unchanged"
  check '[ "$(R --scan --pattern "vtpl*" | sort | tr "\n" " ")" = "$SNAP_KEYS" ]' "$1: template keys unchanged"
  ST=$st BODY=$body
}

# ---- "default" on create -------------------------------------------------
as_admin POST /api/v1/vault-templates -H "$J" -d '{"name":"tpl-a","kind":"vault","default":true}'
expect_status 201 "create a default template"
A=$(jfield id)
check '[ "$(jfield default)" = true ]' "the created template says it is the default"
as_admin POST /api/v1/vault-templates -H "$J" -d '{"name":"tpl-b","kind":"vault"}'
expect_status 201 "create a second template"
B=$(jfield id)
check '[ "$(jfield default)" = false ]' "a template is not the default unless asked"
as_admin POST /api/v1/vault-templates -H "$J" -d '{"name":"tpl-m","kind":"mirror","default":false}'
expect_status 201 "a mirror template, default false"
M=$(jfield id)
check '[ "$(defaults)" = "$A" ]' "the listing shows one default, A"

snap
for bad in '{"name":"x1","kind":"mirror","default":true}' '{"name":"x2","kind":"vault","default":"yes"}' \
    '{"name":"x3","kind":"vault","default":1}'; do
  as_admin POST /api/v1/vault-templates -H "$J" -d "$bad"
  expect_status 400 "create $bad"; expect_code invalid_argument "create $bad code"
  unchanged "create $bad"
done
as_admin POST /api/v1/vault-templates -H "$J" -d '{"name":"tpl-c","kind":"vault","default":true}'
expect_status 201 "create another default template"
C=$(jfield id)
check '[ "$(defaults)" = "$C" ]' "creating a default clears the former default"

# ---- PATCH ---------------------------------------------------------------
as_admin PATCH "/api/v1/vault-templates/$B" -H "$J" -d '{"default":true}'
expect_status 200 "make B the default"
check '[ "$(jfield id)" = "$B" ] && [ "$(jfield name)" = tpl-b ] && [ "$(jfield kind)" = vault ] && [ "$(jfield default)" = true ]' "PATCH replies the template"
check '[ "$(defaults)" = "$B" ]' "B is the only default"
as_admin PATCH "/api/v1/vault-templates/$B" -H "$J" -d '{"default":true}'
expect_status 200 "making the default the default again"
check '[ "$(defaults)" = "$B" ]' "still B alone"

snap
as_admin PATCH "/api/v1/vault-templates/tpl_nosuchtemplate" -H "$J" -d '{"default":true}'
expect_status 404 "unknown id"; expect_code not_found "unknown id code"; unchanged "unknown id"
as_admin PATCH "/api/v1/vault-templates/tpl-a" -H "$J" -d '{"default":true}'
expect_status 404 "a name is not an id"; unchanged "a name is not an id"
as_admin PATCH "/api/v1/vault-templates/$M" -H "$J" -d '{"default":true}'
expect_status 400 "a mirror template may not be the default"
expect_code invalid_argument "mirror default code"; unchanged "mirror default"
for bad in '{}' '{"default":"true"}' '{"default":1}' '{"default":null}' '{"default":true,"name":"z"}' \
    '{"name":"z"}' '[true]' 'true' '{"default":'; do
  as_admin PATCH "/api/v1/vault-templates/$A" -H "$J" -d "$bad"
  expect_status 400 "PATCH $bad"; expect_code invalid_argument "PATCH $bad code"
  unchanged "PATCH $bad"
done
as_admin PATCH "/api/v1/vault-templates/tpl_nosuchtemplate" -H "$J" -d '{}'
expect_status 400 "a bad body is refused before the id is looked up"

# Roles: as for creating templates, super_user only.
api_json POST /api/v1/admins '{"username":"so1","password":"security-officer-pw-1","role":"security_officer"}' -u "$ADMIN"
expect_status 201 "a security officer"
api_json POST /api/v1/admins '{"username":"op1","password":"operator-password-1","role":"operator"}' -u "$ADMIN"
expect_status 201 "an operator"
snap
api PATCH "/api/v1/vault-templates/$A" -u so1:security-officer-pw-1 -H "$J" -d '{"default":true}'
expect_status 403 "security_officer may not change the default"; unchanged "security_officer"
api PATCH "/api/v1/vault-templates/$A" -u op1:operator-password-1 -H "$J" -d '{"default":true}'
expect_status 403 "operator may not change the default"; unchanged "operator"
app_api alice PATCH "/api/v1/vault-templates/$A" -H "$J" -d '{"default":true}'
expect_status 401 "an app may not change the default"; unchanged "app"
api PATCH "/api/v1/vault-templates/$A" -H "$J" -d '{"default":true}'
expect_status 401 "no credentials"; unchanged "no credentials"

# false: clears the flag of the default, changes nothing on another.
as_admin PATCH "/api/v1/vault-templates/$A" -H "$J" -d '{"default":false}'
expect_status 200 "default false on a template that is not the default"
check '[ "$(jfield default)" = false ] && [ "$(defaults)" = "$B" ]' "B is still the default"

AUD=$(R XRANGE audit - + | tr '\n' ' ')
check '[[ $AUD == *vault_template.update* ]]' "the change is audited"

# ---- vault.Create: the default, or a template by name (S3) ---------------
app_rs() { rs "$1" vault vault.Create "rq-$RANDOM$RANDOM" app "$ALICE" 0 vault_provisioner; }
body() { printf '%s' "${1#* }"; }
OUT=$(app_rs "$(pb 's(1,"by-default")')")
check '[ "$(st "$OUT")" = ok ] && [ "$(pbget "$(body "$OUT")" 4)" = "$B" ]' "no template named: the default's ($OUT)"
OUT=$(app_rs "$(pb 's(1,"by-name")+s(2,"tpl-a")+v(4,1)')")
check '[ "$(st "$OUT")" = ok ] && [ "$(pbget "$(body "$OUT")" 4)" = "$A" ]' "by name ($OUT)"
OUT=$(app_rs "$(pb "s(1,\"by-id\")+s(2,\"$C\")+v(4,1)")")
check '[ "$(st "$OUT")" = ok ] && [ "$(pbget "$(body "$OUT")" 4)" = "$C" ]' "by id when names are allowed ($OUT)"
N0=$(R ZCARD vault:all)
OUT=$(app_rs "$(pb 's(1,"by-name-rest")+s(2,"tpl-a")')")
check '[[ $OUT == invalid* ]]' "a name is not an id without template_by_name ($OUT)"
OUT=$(app_rs "$(pb 's(1,"unknown")+s(2,"no-such-tpl")+v(4,1)')")
check '[[ $OUT == invalid*InvalidLocationConstraint:* ]]' "unknown name: S3's code first ($OUT)"
OUT=$(app_rs "$(pb 's(1,"mirror-kind")+s(2,"tpl-m")+v(4,1)')")
check '[[ $OUT == invalid*InvalidLocationConstraint:* ]]' "a mirror template by name ($OUT)"
as_admin PATCH "/api/v1/vault-templates/$B" -H "$J" -d '{"default":false}'
expect_status 200 "B stops being the default"
check '[ "$(jfield default)" = false ] && [ -z "$(defaults)" ]' "no default now"
OUT=$(app_rs "$(pb 's(1,"no-default")+v(4,1)')")
check '[[ $OUT == invalid*InvalidLocationConstraint:* ]]' "no template and no default ($OUT)"
check '[ "$(R ZCARD vault:all)" = "$N0" ]' "the refused creates made no vault"
# The REST API still wants a template id.
app_api alice POST /api/v1/vaults -H "$J" -d '{"name":"rest-no-tpl"}'
expect_status 400 "POST /api/v1/vaults without vault_template_id"
