#!/usr/bin/env bash
# Paging of the admin listings GET /api/v1/accounts, /vaults, /vault-templates,
# /devices
# (and an app's own vaults): ?limit=&after= with "next_after". Pages walked
# with a small limit give every item exactly once, in the order of the full
# listing, also when items are created or the cursor item deleted while
# paging; next_after is null on the last page; bad limit/after are 400 and
# the default page still holds everything.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
stack_up

J='Content-Type: application/json'
as_admin() { local m=$1 p=$2; shift 2; api "$m" "$p" -u "$ADMIN" "$@"; }
# ids FIELD: the ids of $BODY's list FIELD, one a line.
ids() { python3 -c 'import json,sys; [print(x["id"]) for x in json.loads(sys.argv[2])[sys.argv[1]]]' "$1" "$BODY"; }
# walk CALLER PATH FIELD LIMIT: pages through PATH, appending the ids to
# $WALK (one a line), the page count to $PAGES; PAGE_HOOK runs after page 1.
walk() {
  local who=$1 path=$2 field=$3 lim=$4 after="" q
  WALK=""; PAGES=0
  while :; do
    q="?limit=$lim"
    [ -n "$after" ] && q="$q&after=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$after")"
    if [ "$who" = admin ]; then as_admin GET "$path$q"; else app_api "$who" GET "$path$q"; fi
    [ "$ST" = 200 ] || { echo "FAIL: walk $path$q: status $ST ${BODY:0:200}" >&2; T_FAILS=$((T_FAILS + 1)); return; }
    PAGES=$((PAGES + 1))
    local got n
    got=$(ids "$field")
    n=$(printf '%s' "$got" | grep -c .)
    [ "$n" -le "$lim" ] || { echo "FAIL: page of $n > limit $lim" >&2; T_FAILS=$((T_FAILS + 1)); }
    [ -n "$got" ] && WALK="$WALK$got"$'\n'
    after=$(jfield next_after)
    [ "$PAGES" = 1 ] && [ -n "${PAGE_HOOK:-}" ] && eval "$PAGE_HOOK"
    [ -z "$after" ] && break
    [ "$PAGES" -gt 100 ] && { echo "FAIL: walk does not end" >&2; T_FAILS=$((T_FAILS + 1)); return; }
  done
}
mkacct() {
  api_json POST /api/v1/accounts "{\"name\":\"$1\",\"role\":\"vault_provisioner\",\"username\":\"$1\",\"password\":\"temporary-pass-1\"}" -u "$ADMIN"
  expect_status 201 "create account $1"
}

# ---- accounts -------------------------------------------------------------
for i in 1 2 3 4 5 6 7 8 9 10 11; do mkacct "pg-user$i"; done
as_admin GET /api/v1/accounts; expect_status 200 "list accounts, no parameters"
check '[[ $BODY == *"\"next_after\":null"* ]]' "default page holds every account: next_after null"
ALL=$(ids accounts)$'\n'
NALL=$(printf '%s' "$ALL" | grep -c .)
check '[ "$NALL" -ge 11 ]' "all 11 accounts listed ($NALL)"
check '[ "$(printf "%s" "$ALL" | sort | uniq -d | wc -l)" = 0 ]' "no account twice in the full list"

as_admin GET "/api/v1/accounts?limit=$NALL"; expect_status 200 "limit = count"
check '[[ $BODY == *"\"next_after\":null"* ]]' "limit = count: one page, next_after null"
as_admin GET "/api/v1/accounts?limit=1"; expect_status 200 "limit 1"
check '[ "$(ids accounts | wc -l)" = 1 ] && [ -n "$(jfield next_after)" ]' "limit 1: one account and a cursor"

walk admin /api/v1/accounts accounts 3
check '[ "$WALK" = "$ALL" ]' "pages of 3 give every account once, in order"
check '[ "$PAGES" = $(( (NALL + 2) / 3 )) ]' "pages of 3: $PAGES pages for $NALL accounts"
walk admin /api/v1/accounts accounts 10000
check '[ "$WALK" = "$ALL" ] && [ "$PAGES" = 1 ]' "limit 10000: one page"

# Accounts created while paging come after the others, each once.
PAGE_HOOK='mkacct pg-late1; mkacct pg-late2'
walk admin /api/v1/accounts accounts 4
PAGE_HOOK=
as_admin GET /api/v1/accounts; ALL2=$(ids accounts)$'\n'
check '[ "$WALK" = "$ALL2" ]' "accounts created while paging: each listed once, in order"
check '[[ $(printf "%s" "$WALK" | tail -n 2 | tr "\n" " ") == "$(printf "%s" "$ALL2" | tail -n 2 | tr "\n" " ")" ]] && [ "$(printf "%s" "$WALK" | grep -c .)" = $((NALL + 2)) ]' "the two late accounts at the end"

# The cursor's own account deleted before the next page: paging goes on
# right after where it was.
as_admin GET "/api/v1/accounts?limit=5"; CUR=$(jfield next_after); FIRST=$(ids accounts)$'\n'
LAST5=$(printf '%s' "$FIRST" | tail -n 1)
as_admin DELETE "/api/v1/accounts/$LAST5"; expect_status 204 "delete the cursor's account"
as_admin GET "/api/v1/accounts?limit=10000&after=$CUR"; expect_status 200 "page after a deleted cursor"
REST=$(ids accounts)$'\n'
as_admin GET /api/v1/accounts; ALL3=$(ids accounts)$'\n'
check '[ "$(printf "%s%s" "$FIRST" "$REST" | grep -v "^$LAST5\$")"$'"'"'\n'"'"' = "$ALL3" ]' "after a deleted cursor: neither skipped nor repeated"

# Bad parameters: 400 invalid_argument, nothing else.
for q in 'limit=0' 'limit=-1' 'limit=abc' 'limit=10001' 'limit=1.5' 'limit=%zz' \
    'after=nonsense' 'after=12:' 'after=:acc_x' 'after=12%3Aacc%20x' 'after=%zz' \
    "after=$(printf '9%.0s' $(seq 1 130))" 'after=12345678901234567890:acc_x'; do
  as_admin GET "/api/v1/accounts?$q"; expect_status 400 "accounts ?$q"
  expect_code invalid_argument "accounts ?$q code"
done
# Empty values, as API.md writes the query: the defaults.
as_admin GET "/api/v1/accounts?after=&limit="; expect_status 200 "accounts ?after=&limit="
check '[ "$(ids accounts)"$'"'"'\n'"'"' = "$ALL3" ]' "?after=&limit= lists everything"
as_admin GET "/api/v1/audit?limit="; expect_status 200 "audit ?limit="
# A well-formed cursor of an unknown item pages from its place.
as_admin GET "/api/v1/accounts?after=0:zzz"; expect_status 200 "cursor before everything"
check '[ "$(ids accounts)"$'"'"'\n'"'"' = "$ALL3" ]' "cursor 0:zzz lists everything"
as_admin GET "/api/v1/accounts?after=9999999999999:a"; expect_status 200 "cursor after everything"
check '[[ $BODY == *"\"accounts\":[]"* && $BODY == *"\"next_after\":null"* ]]' "cursor after everything: empty last page"
api GET /api/v1/accounts?limit=2; expect_status 401 "paging needs credentials"

# ---- vaults ---------------------------------------------------------------
app_identity alice; app_identity bob
as_admin POST /api/v1/vault-templates -H "$J" -d '{"name":"pg-std","kind":"vault"}'
expect_status 201 "template"; VT=$(jfield id)
mkvault() {
  app_api "$1" POST /api/v1/vaults -H "$J" -d "{\"name\":\"$2\",\"vault_template_id\":\"$VT\"}"
  expect_status 201 "create vault $2"
}
for i in 1 2 3 4 5; do mkvault alice "pg-alice-$i"; mkvault bob "pg-bob-$i"; done
as_admin GET /api/v1/vaults; expect_status 200 "admin lists vaults"
check '[[ $BODY == *"\"next_after\":null"* ]]' "default vault page: next_after null"
VALL=$(ids vaults)$'\n'
check '[ "$(printf "%s" "$VALL" | grep -c .)" = 10 ]' "admin sees the 10 vaults"
walk admin /api/v1/vaults vaults 3
check '[ "$WALK" = "$VALL" ] && [ "$PAGES" = 4 ]' "admin: pages of 3 give every vault once, in order"
PAGE_HOOK='mkvault bob pg-bob-late'
walk admin /api/v1/vaults vaults 4
PAGE_HOOK=
as_admin GET /api/v1/vaults; VALL2=$(ids vaults)$'\n'
check '[ "$WALK" = "$VALL2" ] && [ "$(printf "%s" "$WALK" | grep -c .)" = 11 ]' "vault created while paging: each once, in order"

app_api alice GET /api/v1/vaults; expect_status 200 "alice lists her vaults"
AALL=$(ids vaults)$'\n'
check '[ "$(printf "%s" "$AALL" | grep -c .)" = 5 ] && [[ $BODY == *"\"next_after\":null"* ]]' "alice: her 5 vaults in one default page"
walk alice /api/v1/vaults vaults 2
check '[ "$WALK" = "$AALL" ] && [ "$PAGES" = 3 ]' "alice: pages of 2 give her vaults once, in order"

for q in 'limit=0' 'limit=10001' 'limit=x' 'after=bad-cursor' 'after=%zz' 'after=1:a:b'; do
  as_admin GET "/api/v1/vaults?$q"; expect_status 400 "vaults ?$q"
  expect_code invalid_argument "vaults ?$q code"
  app_api alice GET "/api/v1/vaults?$q"; expect_status 400 "alice vaults ?$q"
done

# ---- vault templates ------------------------------------------------------
for i in 1 2 3 4; do
  as_admin POST /api/v1/vault-templates -H "$J" -d "{\"name\":\"pg-tpl-$i\",\"kind\":\"mirror\"}"
  expect_status 201 "template pg-tpl-$i"
done
as_admin GET /api/v1/vault-templates; expect_status 200 "list templates"
check '[[ $BODY == *"\"next_after\":null"* ]]' "default template page: next_after null"
TALL=$(ids templates)$'\n'
check '[ "$(printf "%s" "$TALL" | grep -c .)" = 5 ]' "the 5 templates listed"
walk admin /api/v1/vault-templates templates 2
check '[ "$WALK" = "$TALL" ] && [ "$PAGES" = 3 ]' "templates: pages of 2 give each once, in order"
for q in 'limit=0' 'limit=10001' 'after=x'; do
  as_admin GET "/api/v1/vault-templates?$q"; expect_status 400 "templates ?$q"
  expect_code invalid_argument "templates ?$q code"
done

# ---- devices --------------------------------------------------------------
. "$(dirname "$0")/../lib/certs.sh"
for i in 1 2 3 4 5; do
  gen_csr "$T_DIR/dev$i" "/O=Paging/CN=device $i" ec
  api_json POST /api/v1/devices "$(jq -cn --arg c "$(cat "$T_DIR/dev$i.csr")" --arg n "pg-dev-$i" '{name:$n, csr:$c}')" -u "$ADMIN"
  expect_status 201 "device pg-dev-$i"
done
as_admin GET /api/v1/devices; expect_status 200 "list devices"
check '[[ $BODY == *"\"next_after\":null"* ]]' "default device page: next_after null"
DALL=$(ids devices)$'\n'
check '[ "$(printf "%s" "$DALL" | grep -c .)" = 5 ]' "the 5 devices listed"
walk admin /api/v1/devices devices 2
check '[ "$WALK" = "$DALL" ] && [ "$PAGES" = 3 ]' "devices: pages of 2 give each once, in order"
for q in 'limit=0' 'limit=1001' 'limit=x' 'after=x' 'after=1:a:b'; do
  as_admin GET "/api/v1/devices?$q"; expect_status 400 "devices ?$q"
  expect_code invalid_argument "devices ?$q code"
done
