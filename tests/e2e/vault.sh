#!/usr/bin/env bash
# Vault templates, locked vaults and object I/O through the gateway with real
# client certificates: validation, ownership, the administrator's limits,
# keys (slashes, spaces, UTF-8, percent-encoding), listing and paging,
# deletion rules, audit. Another account's vault is 403 (see the report).
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
stack_up

app_identity alice; ALICE=$APP_ID
app_identity bob; BOB=$APP_ID
app_identity carol reader        # an account without the vault role
app_identity dave
rcli() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
J='Content-Type: application/json'
as_admin() { local m=$1 p=$2; shift 2; api "$m" "$p" -u "$ADMIN" "$@"; }
tpl_count() { as_admin GET /api/v1/vault-templates; python3 -c 'import json,sys; print(len(json.loads(sys.argv[1])["templates"]))' "$BODY"; }

# ---- templates ------------------------------------------------------------
as_admin POST /api/v1/vault-templates -H "$J" -d '{"name":"standard","kind":"vault","quota_bytes":1048576}'
expect_status 201 "create vault template"
VT=$(jfield id)
check '[[ $VT == tpl_* ]]' "template id is tpl_…"
check '[ "$(jfield kind)" = vault ] && [ "$(jfield quota_bytes)" = 1048576 ] && [ "$(jfield name)" = standard ]' "template fields"
as_admin POST /api/v1/vault-templates -H "$J" -d '{"name":"mirror-a","kind":"mirror"}'
expect_status 201 "create mirror template without quota"
MT=$(jfield id)
check '[[ $BODY == *"\"quota_bytes\":null"* ]]' "no quota is null"
as_admin POST /api/v1/vault-templates -H "$J" -d '{"name":"big","kind":"vault","quota_bytes":null}'
expect_status 201 "quota_bytes null is no quota"
VT_BIG=$(jfield id)
n0=$(tpl_count)
as_admin POST /api/v1/vault-templates -H "$J" -d '{"name":"standard","kind":"vault"}'
expect_status 409 "duplicate template name"; expect_code conflict "duplicate template name code"
for bad in '{"name":"x1","kind":"vault","color":"red"}' '{"name":"x2","kind":"bucket"}' \
    '{"name":"x3","kind":"vault","quota_bytes":0}' '{"name":"x4","kind":"vault","quota_bytes":-5}' \
    '{"name":"x5","kind":"vault","quota_bytes":1.5}' '{"name":"x6","kind":"vault","quota_bytes":"10"}' \
    '{"kind":"vault"}' '{"name":"x7"}' '{"name":"","kind":"vault"}' '{"name":7,"kind":"vault"}' \
    '[1]' '{"name":"x8",'; do
  as_admin POST /api/v1/vault-templates -H "$J" -d "$bad"
  expect_status 400 "bad template $bad"; expect_code invalid_argument "bad template code $bad"
done
check '[ "$(tpl_count)" = "$n0" ]' "bad template requests created nothing"
app_api alice POST /api/v1/vault-templates -H "$J" -d '{"name":"app-tpl","kind":"vault"}'
expect_status 401 "an app may not create templates"
api GET /api/v1/vault-templates; expect_status 401 "templates need credentials"
as_admin GET /api/v1/vault-templates; expect_status 200 "list templates"
check '[[ $BODY == *"$VT"* && $BODY == *"$MT"* ]]' "both templates listed"

# ---- vaults ---------------------------------------------------------------
app_api alice POST /api/v1/vaults -H "$J" -d "{\"name\":\"alice-data\",\"vault_template_id\":\"$VT\"}"
expect_status 201 "alice creates a locked vault"
VID=$(jfield id)
check '[[ $VID == vlt_* ]]' "vault id is vlt_…"
check '[ "$(jfield locked)" = true ] && [ "$(jfield owner_account_id)" = "$ALICE" ] && [ "$(jfield vault_template_id)" = "$VT" ]' "vault fields"
check '[[ $BODY == *"\"mirror_template_id\":null"* && $BODY == *"\"object_count\":0"* && $BODY == *"\"bytes_used\":0"* ]]' "new vault is empty, not mirrored"
check '[[ $(jfield created_at) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]' "created_at is RFC 3339"
app_api alice POST /api/v1/vaults -H "$J" -d "{\"name\":\"alice-mirror\",\"vault_template_id\":\"$VT_BIG\",\"mirror_template_id\":\"$MT\"}"
expect_status 201 "alice creates a mirrored vault"
check '[ "$(jfield mirror_template_id)" = "$MT" ]' "mirror template recorded"
app_api bob POST /api/v1/vaults -H "$J" -d "{\"name\":\"bob-data\",\"vault_template_id\":\"$VT_BIG\"}"
expect_status 201 "bob creates a vault"
app_api bob POST /api/v1/vaults -H "$J" -d "{\"name\":\"alice-data\",\"vault_template_id\":\"$VT\"}"
expect_status 409 "vault names are unique system-wide"; expect_code conflict "duplicate vault code"
nv=$(rcli ZCARD vault:all)
for bad in ab Upper a_b "$(printf 'a%.0s' {1..64})" "a b" "ça-va"; do
  app_api alice POST /api/v1/vaults -H "$J" -d "{\"name\":\"$bad\",\"vault_template_id\":\"$VT\"}"
  expect_status 400 "bad vault name '$bad'"
done
app_api alice POST /api/v1/vaults -H "$J" -d "{\"name\":\"$(printf 'a%.0s' {1..63})\",\"vault_template_id\":\"$VT\"}"
expect_status 201 "63-character vault name"
nv=$((nv + 1))
app_api alice POST /api/v1/vaults -H "$J" -d '{"name":"nope-1","vault_template_id":"tpl_unknown"}'
expect_status 400 "unknown template"
app_api alice POST /api/v1/vaults -H "$J" -d "{\"name\":\"nope-2\",\"vault_template_id\":\"$MT\"}"
expect_status 400 "mirror template as vault template"
app_api alice POST /api/v1/vaults -H "$J" -d "{\"name\":\"nope-3\",\"vault_template_id\":\"$VT\",\"mirror_template_id\":\"$VT\"}"
expect_status 400 "vault template as mirror template"
app_api alice POST /api/v1/vaults -H "$J" -d "{\"name\":\"nope-4\",\"vault_template_id\":\"$VT\",\"mirror_template_id\":\"tpl_x\"}"
expect_status 400 "unknown mirror template"
app_api alice POST /api/v1/vaults -H "$J" -d "{\"name\":\"nope-5\",\"vault_template_id\":\"$VT\",\"owner\":\"x\"}"
expect_status 400 "unknown field"
app_api alice POST /api/v1/vaults -H "$J" -d '{"name":"nope-6"}'
expect_status 400 "template required"
as_admin POST /api/v1/vaults -H "$J" -d "{\"name\":\"admin-vault\",\"vault_template_id\":\"$VT\"}"
expect_status 401 "an administrator may not create a locked vault (app only: any other caller gets 401)"
expect_code unauthenticated "admin create code"
app_api carol POST /api/v1/vaults -H "$J" -d "{\"name\":\"carol-vault\",\"vault_template_id\":\"$VT\"}"
expect_status 403 "an account without role vault_provisioner may not create one"
api POST /api/v1/vaults -H "$J" -d "{\"name\":\"anon-vault\",\"vault_template_id\":\"$VT\"}"
expect_status 401 "no credentials"
check '[ "$(rcli ZCARD vault:all)" = "$nv" ]' "refused creations stored nothing"
check '[ -z "$(rcli --scan --pattern "vault:name:nope-*")" ]' "no name claimed by a refused creation"

# Concurrent creations of one name: exactly one wins.
for i in 1 2 3 4 5 6 7 8; do
  curl -s -o /dev/null -w '%{http_code}\n' --cacert "$CA" --cert "$T_DIR/apps/alice.pem" \
    --key "$T_DIR/apps/alice.key" -H "$J" -d "{\"name\":\"race\",\"vault_template_id\":\"$VT\"}" \
    "$URL/api/v1/vaults" >"$T_DIR/race.$i" &
  pids="${pids:-} $!"
done
wait $pids   # only these: the stack's processes are children too
check '[ "$(cat "$T_DIR"/race.* | grep -c 201)" = 1 ] && [ "$(cat "$T_DIR"/race.* | grep -c 409)" = 7 ]' "one of 8 concurrent creations wins"

app_api alice GET /api/v1/vaults; expect_status 200 "alice lists her vaults"
check '[[ $BODY == *alice-data* && $BODY == *alice-mirror* && $BODY != *bob-data* ]]' "alice sees only hers"
app_api bob GET /api/v1/vaults; expect_status 200 "bob lists his vaults"
check '[[ $BODY == *bob-data* && $BODY != *alice-data* ]]' "bob sees only his"
as_admin GET /api/v1/vaults; expect_status 200 "admin lists all vaults"
check '[[ $BODY == *bob-data* && $BODY == *alice-data* && $BODY == *race* ]]' "admin sees every vault"
app_api alice GET /api/v1/vaults/alice-data; expect_status 200 "owner reads vault metadata"
as_admin GET /api/v1/vaults/alice-data; expect_status 200 "admin reads vault metadata"
check '[ "$(jfield id)" = "$VID" ]' "admin sees the same vault"
app_api bob GET /api/v1/vaults/alice-data; expect_status 403 "another account may not read it"
app_api alice GET /api/v1/vaults/no-such-vault; expect_status 404 "unknown vault"
as_admin PATCH /api/v1/vaults/alice-data -H "$J" -d '{"name":"renamed"}'
expect_status 403 "admin may not rename"
as_admin PATCH /api/v1/vaults/alice-data -H "$J" -d "{\"owner_account_id\":\"$BOB\"}"
expect_status 403 "admin may not re-own"
as_admin PUT /api/v1/vaults/alice-data -H "$J" -d "{\"owner_account_id\":\"$BOB\"}"
expect_status 403 "admin may not replace"
app_api alice PATCH /api/v1/vaults/alice-data -H "$J" -d '{"name":"renamed"}'
expect_status 409 "a locked vault's name never changes"
app_api alice GET /api/v1/vaults/alice-data
check '[ "$(jfield name)" = alice-data ] && [ "$(jfield owner_account_id)" = "$ALICE" ]' "name and owner unchanged"

# ---- objects --------------------------------------------------------------
O=/api/v1/vaults/alice-data/objects
printf 'hello, vault\n' >"$T_DIR/small"
SUM=$(sha256sum "$T_DIR/small" | cut -d' ' -f1)
app_api alice PUT "$O/docs/hello.txt" --data-binary @"$T_DIR/small" -H 'Content-Type: text/plain'
expect_status 201 "PUT a new object"
check '[ "$(jfield etag)" = "$SUM" ] && [ "$(jfield size)" = 13 ] && [ "$(jfield key)" = docs/hello.txt ]' "PUT reply key, size, etag"
app_api alice PUT "$O/docs/hello.txt" -T "$T_DIR/small"
expect_status 200 "PUT over an existing object"
ST=$(app_curl alice -D "$T_DIR/h" -o "$T_DIR/got" -w '%{http_code}' "$URL$O/docs/hello.txt")
expect_status 200 "GET the object"
check 'cmp -s "$T_DIR/small" "$T_DIR/got"' "GET returns the bytes"
check 'grep -qi "^etag: \"$SUM\"" "$T_DIR/h"' "ETag header is the quoted SHA-256"
check 'grep -qi "^content-length: 13" "$T_DIR/h"' "Content-Length on GET"
app_api alice HEAD "$O/docs/hello.txt" -I -D "$T_DIR/h"
expect_status 200 "HEAD the object"
check 'grep -qi "^content-length: 13" "$T_DIR/h" && grep -qi "^etag: \"$SUM\"" "$T_DIR/h"' "HEAD headers"
app_api alice HEAD "$O/docs/missing" -I; expect_status 404 "HEAD of a missing object"
: >"$T_DIR/empty"
app_api alice PUT "$O/empty" --data-binary @"$T_DIR/empty"
expect_status 201 "PUT an empty object"
check '[ "$(jfield etag)" = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ]' "empty object etag"
app_api alice GET "$O/empty"; expect_status 200 "GET an empty object"
check '[ -z "$BODY" ]' "empty body"

# Keys: slashes, spaces, UTF-8, encoded slashes, '+', '..', limits.
put_get() { # KEY_PATH EXPECTED_KEY WHAT (check evals in its own frame:
  local path=$1 want=$2 what=$3   # pass values through these names)
  printf '%s' "$what" >"$T_DIR/k"
  app_api alice PUT "$O/$path" --data-binary @"$T_DIR/k" --path-as-is
  expect_status 201 "PUT key $what"
  check '[ "$(jfield key)" = "$want" ]' "stored key for $what"
  app_api alice GET "$O/$path" --path-as-is
  expect_status 200 "GET key $what"
  check '[ "$BODY" = "$what" ]' "content of key $what"
}
put_get "a/b/c/deep.txt" "a/b/c/deep.txt" "slashes"
put_get "with%20space%20.txt" "with space .txt" "space"
put_get "%D0%BA%D0%BB%D1%8E%D1%87/%E6%97%A5%E6%9C%AC.txt" "ключ/日本.txt" "utf-8"
put_get "enc%2Fslash" "enc/slash" "encoded slash"
put_get "plus+sign" "plus+sign" "plus"
put_get "x/../y" "x/../y" "dot-dot"
put_get "%2E%2E/up" "../up" "encoded dot-dot"
put_get "pct%2541" "pct%41" "encoded percent"
app_api alice GET "$O/enc/slash"; expect_status 200 "%2F and / name the same key"
app_api alice GET "$O/y"; expect_status 404 "'..' is not a path step"
k1024=$(printf 'k%.0s' {1..1024})
app_api alice PUT "$O/$k1024" --data-binary @"$T_DIR/small"; expect_status 201 "1024-byte key"
n_objs=$(rcli ZCARD "vault:{$VID}:objs")
for bad in "nul%00byte" "bad%FFutf8" "overlong%C0%AF" "surrogate%ED%A0%80" "bad%zzescape" "${k1024}k"; do
  app_api alice PUT "$O/$bad" --data-binary @"$T_DIR/small"
  expect_status 400 "bad key ${bad:0:24}"; expect_code invalid_argument "bad key code ${bad:0:24}"
done
app_api alice GET "$O/nul%00byte"; expect_status 400 "GET with %00"
check '[ "$(rcli ZCARD "vault:{$VID}:objs")" = "$n_objs" ]' "bad keys stored nothing"
app_api alice DELETE "$O/$k1024"; expect_status 204 "delete the long key"

# LIST with prefix and paging.
for k in p/1 p/2 p/3 p/4 p/5 q/1; do
  app_api alice PUT "$O/$k" --data-binary "$k" -H 'Content-Type: application/octet-stream'
done
app_api alice GET "$O?prefix=p/&limit=2"; expect_status 200 "list page 1"
check '[ "$(jfield objects.0.key)" = p/1 ] && [ "$(jfield objects.1.key)" = p/2 ] && [ -z "$(jfield objects.2.key)" ] && [ "$(jfield next_after)" = p/2 ]' "page 1: p/1 p/2, next_after p/2"
check '[ "$(jfield objects.0.size)" = 3 ] && [ "$(jfield objects.0.etag)" = "$(printf p/1 | sha256sum | cut -d" " -f1)" ] && [ -n "$(jfield objects.0.modified_at)" ]' "list entry fields"
app_api alice GET "$O?prefix=p/&limit=2&after=p/2"; expect_status 200 "list page 2"
check '[ "$(jfield objects.0.key)" = p/3 ] && [ "$(jfield objects.1.key)" = p/4 ] && [ "$(jfield next_after)" = p/4 ]' "page 2: p/3 p/4"
app_api alice GET "$O?prefix=p%2F&limit=2&after=p%2F4"; expect_status 200 "list page 3"
check '[ "$(jfield objects.0.key)" = p/5 ] && [ -z "$(jfield objects.1.key)" ] && [[ $BODY == *"\"next_after\":null"* ]]' "page 3: p/5, next_after null"
app_api alice GET "$O?prefix=p/&limit=5"; expect_status 200 "exact page"
check '[[ $BODY == *"\"next_after\":null"* ]] && [ "$(jfield objects.4.key)" = p/5 ]' "no next page when exactly full"
app_api alice GET "$O"; expect_status 200 "list everything"
python3 - "$BODY" <<'PY' && T_PASSES=$((T_PASSES + 1)) || { echo "FAIL: full list sorted by key bytes" >&2; T_FAILS=$((T_FAILS + 1)); }
import json, sys
keys = [o["key"] for o in json.loads(sys.argv[1])["objects"]]
assert keys == sorted(keys, key=lambda k: k.encode()), keys
assert "ключ/日本.txt" in keys and "with space .txt" in keys and "docs/hello.txt" in keys, keys
PY
app_api alice GET "$O?prefix=%D0%BA%D0%BB"; expect_status 200 "UTF-8 prefix"
check '[ "$(jfield objects.0.key)" = "ключ/日本.txt" ]' "UTF-8 prefix match"
app_api alice GET "$O?prefix=zzz"; expect_status 200 "empty listing"
check '[[ $BODY == "{\"objects\":[],\"next_after\":null}" ]]' "empty listing body"
app_api alice GET "$O?after=q/1"; expect_status 200 "after the last key"
for q in "limit=0" "limit=abc" "limit=1001" "limit=-1" "prefix=%00" "after=%FF"; do
  app_api alice GET "$O?$q"; expect_status 400 "bad list query $q"
done

# DELETE.
app_api alice DELETE "$O/q/1"; expect_status 204 "DELETE an object"
app_api alice GET "$O/q/1"; expect_status 404 "deleted object is gone"
app_api alice DELETE "$O/q/1"; expect_status 404 "DELETE twice"
app_api alice GET /api/v1/vaults/alice-data
count=$(jfield object_count); used=$(jfield bytes_used)
app_api alice GET "$O"
check '[ "$count" = "$(python3 -c "import json,sys; print(len(json.loads(sys.argv[1])[\"objects\"]))" "$BODY")" ]' "object_count matches the listing"
check '[ "$used" = "$(python3 -c "import json,sys; print(sum(o[\"size\"] for o in json.loads(sys.argv[1])[\"objects\"]))" "$BODY")" ]' "bytes_used matches the listing"

# The administrator: refused on every object route, changes nothing.
as_admin PUT "$O/docs/hello.txt" --data-binary 'admin was here'; expect_status 403 "admin PUT"
expect_code permission_denied "admin PUT code"
as_admin PUT "$O/admin-new" --data-binary 'admin was here'; expect_status 403 "admin PUT new"
as_admin GET "$O/docs/hello.txt"; expect_status 403 "admin GET"
check '[[ $BODY != *"hello, vault"* ]]' "admin got no data"
as_admin HEAD "$O/docs/hello.txt" -I; expect_status 403 "admin HEAD"
as_admin DELETE "$O/docs/hello.txt"; expect_status 403 "admin DELETE"
as_admin GET "$O"; expect_status 403 "admin LIST"
check '[[ $BODY != *hello.txt* ]]' "admin got no key names"
as_admin GET "/api/v1/vaults/no-such-vault/objects/x"; expect_status 403 "admin GET in an unknown vault"
app_api alice GET "$O/docs/hello.txt"; expect_status 200 "object intact after the admin"
check '[ "$BODY" = "hello, vault" ]' "content intact after the admin"
app_api alice GET "$O/admin-new"; expect_status 404 "admin created nothing"
as_admin GET /api/v1/vaults/alice-data
check '[ "$(jfield object_count)" = "$count" ]' "object count unchanged by the admin"

# Another account: refused on every object route.
app_api bob PUT "$O/docs/hello.txt" --data-binary 'bob was here'; expect_status 403 "bob PUT"
app_api bob GET "$O/docs/hello.txt"; expect_status 403 "bob GET"
app_api bob HEAD "$O/docs/hello.txt" -I; expect_status 403 "bob HEAD"
app_api bob DELETE "$O/docs/hello.txt"; expect_status 403 "bob DELETE"
app_api bob GET "$O"; expect_status 403 "bob LIST"
app_api bob DELETE /api/v1/vaults/alice-data; expect_status 403 "bob deletes alice's vault"
app_api carol GET "$O/docs/hello.txt"; expect_status 403 "carol GET"
app_api bob GET "/api/v1/vaults/no-such-vault/objects/x"; expect_status 404 "object in an unknown vault"
api GET "$O/docs/hello.txt"; expect_status 401 "no credentials"
app_api alice GET "$O/docs/hello.txt"
check '[ "$BODY" = "hello, vault" ]' "content intact after bob"

# A disabled account, a revoked certificate, a certificate record past its
# expiry: 401.
app_disable alice
app_api alice GET "$O/docs/hello.txt"; expect_status 401 "disabled account GET"
app_api alice PUT "$O/docs/x" --data-binary 'x'; expect_status 401 "disabled account PUT"
app_api alice GET "$O"; expect_status 401 "disabled account LIST"
app_api alice GET /api/v1/vaults; expect_status 401 "disabled account vault list"
app_enable alice
app_api alice GET "$O/docs/hello.txt"; expect_status 200 "enabled again"
# The same, on one keep-alive connection that was fine a moment before.
python3 - "$URL" "$CA" "$T_DIR/apps/alice.pem" "$T_DIR/apps/alice.key" "$O/docs/hello.txt" \
    "$MGR_REDIS_PORT" "$ALICE" <<'PY' && T_PASSES=$((T_PASSES + 1)) || { echo "FAIL: disable takes effect on an open connection" >&2; T_FAILS=$((T_FAILS + 1)); }
import http.client, ssl, subprocess, sys, urllib.parse
url, ca, cert, key, path, port, acct = sys.argv[1:]
u = urllib.parse.urlsplit(url)
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx)
def get():
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    return r.status
def redis(*a):
    subprocess.run(["redis-cli", "-p", port, *a], check=True, capture_output=True)
s1 = get()
kept = c.sock is not None  # so the next request goes on this connection
redis("HSET", "acct:{%s}" % acct, "state", "disabled")
redis("INCR", "auth:epoch")
redis("PUBLISH", "mgr:auth", "account " + acct)
s2 = get()
redis("HSET", "acct:{%s}" % acct, "state", "active")
redis("INCR", "auth:epoch")
redis("PUBLISH", "mgr:auth", "account " + acct)
s3 = get()
assert (s1, s2, s3) == (200, 401, 200), (s1, s2, s3)
assert kept, "the connection was not kept after the first request"
PY
app_api dave POST /api/v1/vaults -H "$J" -d "{\"name\":\"dave-data\",\"vault_template_id\":\"$VT\"}"
expect_status 201 "dave creates a vault"
app_api dave PUT /api/v1/vaults/dave-data/objects/a --data-binary 'a'; expect_status 201 "dave writes"
app_revoke dave
app_api dave GET /api/v1/vaults/dave-data/objects/a; expect_status 401 "revoked certificate"
app_identity erin; ERIN_SERIAL=$APP_SERIAL
rcli HSET "cert:$ERIN_SERIAL" not_after "$(( $(date +%s) - 10 ))" >/dev/null
app_api erin GET /api/v1/vaults; expect_status 401 "certificate past its expiry"

# ---- deletion rules -------------------------------------------------------
app_api alice DELETE /api/v1/vaults/alice-data; expect_status 409 "owner may not delete a non-empty vault"
expect_code conflict "non-empty code"
as_admin DELETE /api/v1/vaults/alice-data; expect_status 409 "admin may not delete a non-empty vault"
app_api alice GET "$O?limit=1000"
for k in $(python3 -c 'import json,sys,urllib.parse; print(" ".join(urllib.parse.quote(o["key"], safe="/") for o in json.loads(sys.argv[1])["objects"]))' "$BODY"); do
  app_api alice DELETE "$O/$k" --path-as-is
  [ "$ST" = 204 ] || echo "FAIL: delete $k: $ST $BODY" >&2
done
app_api alice GET /api/v1/vaults/alice-data
check '[ "$(jfield object_count)" = 0 ] && [ "$(jfield bytes_used)" = 0 ]' "emptied vault counts"
check '[ -z "$(rcli --scan --pattern "vault:{$VID}:c:*")" ]' "no chunk left behind"
as_admin DELETE /api/v1/vaults/alice-data; expect_status 204 "admin deletes an empty vault"
app_api alice GET /api/v1/vaults/alice-data; expect_status 404 "deleted vault is gone"
as_admin DELETE /api/v1/vaults/alice-data; expect_status 404 "delete twice"
app_api alice DELETE /api/v1/vaults/race; expect_status 204 "owner deletes an empty vault"
app_api bob POST /api/v1/vaults -H "$J" -d "{\"name\":\"alice-data\",\"vault_template_id\":\"$VT\"}"
expect_status 201 "a deleted vault's name is free again"
check '[ "$(jfield id)" != "$VID" ]' "with a new id"

# ---- audit ----------------------------------------------------------------
AUD=$(rcli XRANGE audit - + | tr '\n' ' ')
check '[[ $AUD == *vault_template.create* ]]' "template creation audited"
check '[[ $AUD == *vault.create* && $AUD == *vault.delete* ]]' "vault creation and deletion audited"
check '[[ $AUD == *object.put* && $AUD == *object.delete* ]]' "object writes audited"
check '[[ $AUD == *object.read*permission_denied* ]]' "refused admin read audited"
check '[[ $AUD == *vault.update*permission_denied* ]]' "refused rename audited"
check '[[ $AUD != *hello.txt* ]]' "object keys stay out of the audit"
