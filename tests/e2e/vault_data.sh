#!/usr/bin/env bash
# Object data: a 64 MiB round trip (with and without Content-Length), the
# size limit and quotas (413, nothing stored), mirrors surviving the loss of
# either copy, and a restart of every process including Redis without loss.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
. "$(dirname "$0")/../lib/vault.sh"
# The limit this test works with (the default is 5 GiB), and no grace for
# readers of overwritten data: it is collected within a second.
export MANAGER_MAX_OBJECT_BYTES=67108864
export MANAGER_VAULT_GC_GRACE_S=0 MANAGER_VAULT_GC_INTERVAL_S=1
stack_up

app_identity alice
rcli() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
J='Content-Type: application/json'
MiB=1048576
MAX=$MANAGER_MAX_OBJECT_BYTES
CS=$((MiB - 64))   # VAULT_CHUNK_BYTES: the chunk size of new uploads
nch() { echo $(( ($1 + CS - 1) / CS )); }   # chunks of an object of $1 bytes

# put FILE PATH [curl args]: sets ST and BODY.
put() {
  local f=$1 p=$2; shift 2
  ST=$(app_curl alice -o "$T_DIR/put.out" -w '%{http_code}' -T "$f" "$@" "$URL$p")
  BODY=$(cat "$T_DIR/put.out")
}
# get PATH FILE: sets ST; headers in $T_DIR/get.h.
get() {
  ST=$(app_curl alice -D "$T_DIR/get.h" -o "$2" -w '%{http_code}' "$URL$1")
}
sum() { sha256sum "$1" | cut -d' ' -f1; }
vault_field() { app_api alice GET "/api/v1/vaults/$1"; jfield "$2"; }
OBJ=$MANAGER_DATA_DIR/objects MIR=$MANAGER_DATA_DIR/mirror
staged() { rcli --scan --pattern "vault:{$1}:up:*" | wc -l; }
# chunks VID: chunk files of copy 0 (temporary ones too); none in Redis.
chunks() {
  [ -z "$(rcli --scan --pattern "vault:{$1}:c:*")" ] || { echo redis; return; }
  find "$OBJ/$1" -type f 2>/dev/null | wc -l
}

T_BIG=$(mk_tpl big vault)
T_Q=$(mk_tpl small vault $((3 * MiB)))
T_M=$(mk_tpl mirror mirror)
V_BIG=$(mk_vault bulk "$T_BIG")
V_Q=$(mk_vault quota "$T_Q")
V_M=$(mk_vault mirrored "$T_BIG" "$T_M")

# ---- 64 MiB round trip ------------------------------------------------------
head -c $MAX /dev/urandom >"$T_DIR/big"
BIG_SUM=$(sum "$T_DIR/big")
put "$T_DIR/big" /api/v1/vaults/bulk/objects/big.bin
expect_status 201 "PUT 64 MiB"
check '[ "$(jfield etag)" = "$BIG_SUM" ] && [ "$(jfield size)" = $MAX ]' "64 MiB etag is its SHA-256"
get /api/v1/vaults/bulk/objects/big.bin "$T_DIR/big.got"
expect_status 200 "GET 64 MiB"
check '[ "$(sum "$T_DIR/big.got")" = "$BIG_SUM" ]' "64 MiB comes back intact"
check 'grep -qi "^content-length: $MAX" "$T_DIR/get.h" && grep -qi "^etag: \"$BIG_SUM\"" "$T_DIR/get.h"' "64 MiB GET headers"
check '[ "$(chunks "$V_BIG")" = $(nch $MAX) ] && [ "$(staged "$V_BIG")" = 0 ]' "$(nch $MAX) chunks of 1 MiB - 64 stored, nothing staged"
check '[ "$(find "$OBJ/$V_BIG" -type f -size $((CS + 32))c | wc -l)" = $(( $(nch $MAX) - 1 )) ]' "every chunk file but the last holds one sealed chunk"

# Chunked transfer (no Content-Length), a size that is not a chunk multiple.
head -c $((5 * MiB + 12345)) /dev/urandom >"$T_DIR/odd"
put "$T_DIR/odd" /api/v1/vaults/bulk/objects/odd.bin -H 'Transfer-Encoding: chunked'
expect_status 201 "PUT without Content-Length"
check '[ "$(jfield etag)" = "$(sum "$T_DIR/odd")" ]' "chunked PUT etag"
get /api/v1/vaults/bulk/objects/odd.bin "$T_DIR/odd.got"
check 'cmp -s "$T_DIR/odd" "$T_DIR/odd.got"' "chunked PUT round trip"
# Exactly one chunk, and overwriting a big object with a small one.
head -c $MiB /dev/urandom >"$T_DIR/one"
put "$T_DIR/one" /api/v1/vaults/bulk/objects/odd.bin
expect_status 200 "overwrite 5 MiB with 1 MiB"
get /api/v1/vaults/bulk/objects/odd.bin "$T_DIR/one.got"
check 'cmp -s "$T_DIR/one" "$T_DIR/one.got"' "overwritten object reads the new data"
KEPT=$(( $(nch $MAX) + $(nch $MiB) ))
check 'mgr_wait "[ \"\$(chunks $V_BIG)\" = $KEPT ]" 10' "the old version's chunks are gone"
check '[ "$(vault_field bulk bytes_used)" = $((MAX + MiB)) ] && [ "$(vault_field bulk object_count)" = 2 ]' "bulk counters"

# A client that goes away mid-upload leaves nothing behind (the staged
# chunks are dropped at once, not only when their TTL ends).
head -c $((8 * MiB)) /dev/urandom >"$T_DIR/slow"
curl -sS --cacert "$CA" --cert "$T_DIR/apps/alice.pem" --key "$T_DIR/apps/alice.key" \
  -o /dev/null --limit-rate 2M -T "$T_DIR/slow" \
  "$URL/api/v1/vaults/bulk/objects/abandoned" 2>/dev/null &
slow_pid=$!
mgr_wait '[ "$(staged "$V_BIG")" = 1 ] && [ "$(chunks "$V_BIG")" -gt $KEPT ]' 20
kill "$slow_pid" 2>/dev/null; wait "$slow_pid" 2>/dev/null
check 'mgr_wait "[ \"\$(staged $V_BIG)\" = 0 ] && [ \"\$(chunks $V_BIG)\" = $KEPT ]" 10' "an abandoned upload is cleaned up"
app_api alice HEAD /api/v1/vaults/bulk/objects/abandoned -I; expect_status 404 "an abandoned upload stores nothing"

# ---- size limit -------------------------------------------------------------
head -c $((MAX + 1)) /dev/zero >"$T_DIR/toobig"
put "$T_DIR/toobig" /api/v1/vaults/bulk/objects/toobig.bin
expect_status 413 "PUT over MANAGER_MAX_OBJECT_BYTES"; expect_code payload_too_large "size limit code"
put "$T_DIR/toobig" /api/v1/vaults/bulk/objects/toobig.bin -H 'Transfer-Encoding: chunked'
expect_status 413 "chunked PUT over the limit (found while streaming)"
put "$T_DIR/toobig" /api/v1/vaults/bulk/objects/big.bin
expect_status 413 "over the limit on an existing key"
app_api alice HEAD /api/v1/vaults/bulk/objects/toobig.bin -I; expect_status 404 "nothing stored for the refused PUT"
get /api/v1/vaults/bulk/objects/big.bin "$T_DIR/big.got"
check '[ "$(sum "$T_DIR/big.got")" = "$BIG_SUM" ]' "the existing object survived a refused overwrite"
check 'mgr_wait "[ \"\$(chunks $V_BIG)\" = $KEPT ] && [ \"\$(staged $V_BIG)\" = 0 ]" 10' "no chunk left by refused PUTs"
rm -f "$T_DIR/toobig"

# ---- quota ------------------------------------------------------------------
head -c $((2 * MiB)) /dev/urandom >"$T_DIR/two"
put "$T_DIR/two" /api/v1/vaults/quota/objects/a
expect_status 201 "2 MiB in a 3 MiB vault"
put "$T_DIR/two" /api/v1/vaults/quota/objects/b
expect_status 413 "another 2 MiB: over the quota"; expect_code payload_too_large "quota code"
put "$T_DIR/two" /api/v1/vaults/quota/objects/b -H 'Transfer-Encoding: chunked'
expect_status 413 "over the quota without Content-Length"
app_api alice HEAD /api/v1/vaults/quota/objects/b -I; expect_status 404 "nothing stored over the quota"
check '[ "$(vault_field quota bytes_used)" = $((2 * MiB)) ] && [ "$(vault_field quota object_count)" = 1 ]' "quota vault counters unchanged"
check 'mgr_wait "[ \"\$(chunks $V_Q)\" = $(nch $((2 * MiB))) ] && [ \"\$(staged $V_Q)\" = 0 ]" 10' "no chunk left by quota refusals"
head -c $((3 * MiB)) /dev/urandom >"$T_DIR/three"
put "$T_DIR/three" /api/v1/vaults/quota/objects/a
expect_status 200 "replacing a 2 MiB object with 3 MiB fits exactly"
head -c 1 /dev/urandom >"$T_DIR/byte"
put "$T_DIR/byte" /api/v1/vaults/quota/objects/c
expect_status 413 "one byte past the quota"
app_api alice DELETE /api/v1/vaults/quota/objects/a; expect_status 204 "free the quota"
put "$T_DIR/two" /api/v1/vaults/quota/objects/b
expect_status 201 "room again after a delete"
# Concurrent writers cannot overshoot the quota together.
head -c $((MiB / 2)) /dev/urandom >"$T_DIR/half"
pids=""
for i in 1 2 3 4; do
  app_curl alice -o /dev/null -w '%{http_code}\n' -T "$T_DIR/half" \
    "$URL/api/v1/vaults/quota/objects/race-$i" >"$T_DIR/qrace.$i" &
  pids="$pids $!"
done
wait $pids
check '[ "$(cat "$T_DIR"/qrace.* | grep -c 201)" = 2 ] && [ "$(cat "$T_DIR"/qrace.* | grep -c 413)" = 2 ]' "4 concurrent 0.5 MiB writes into 1 MiB left: 2 win"
check '[ "$(vault_field quota bytes_used)" = $((3 * MiB)) ]' "quota vault exactly full"

# ---- mirror -----------------------------------------------------------------
head -c $((3 * MiB + 100)) /dev/urandom >"$T_DIR/m"
M_SUM=$(sum "$T_DIR/m")
put "$T_DIR/m" /api/v1/vaults/mirrored/objects/m.bin
expect_status 201 "PUT into a mirrored vault"
VER=$(rcli HGET "vault:{$V_M}:o:m.bin" ver)
check '[ "$(ls "$OBJ/$V_M/$VER" | wc -l)" = 4 ] && [ "$(ls "$MIR/$V_M/$VER" | wc -l)" = 4 ]' "two copies of 4 chunks"
rm -f "$OBJ/$V_M/$VER"/*
check '[ "$(ls "$OBJ/$V_M/$VER" | wc -l)" = 0 ]' "copy 0 deleted underneath"
get /api/v1/vaults/mirrored/objects/m.bin "$T_DIR/m.got"
expect_status 200 "GET with copy 0 gone"
check '[ "$(sum "$T_DIR/m.got")" = "$M_SUM" ]' "read from copy 1 is intact"
rm -f "$MIR/$V_M/$VER"/*
get /api/v1/vaults/mirrored/objects/m.bin "$T_DIR/m.got"
expect_status 200 "GET with copy 1 gone (copy 0 was repaired)"
check '[ "$(sum "$T_DIR/m.got")" = "$M_SUM" ]' "read from repaired copy 0 is intact"
# A chunk missing from one copy, and another chunk from the other.
rm -f "$OBJ/$V_M/$VER/1" "$MIR/$V_M/$VER/2"
get /api/v1/vaults/mirrored/objects/m.bin "$T_DIR/m.got"
check '[ "$(sum "$T_DIR/m.got")" = "$M_SUM" ]' "read with holes in both copies at different chunks"
# Both copies of one chunk gone: the read fails rather than returning wrong data.
rm -f "$OBJ/$V_M/$VER/3" "$MIR/$V_M/$VER/3"
app_curl alice -o "$T_DIR/m.bad" "$URL/api/v1/vaults/mirrored/objects/m.bin" 2>/dev/null
rc=$?
check '[ $rc -ne 0 ] && [ "$(sum "$T_DIR/m.bad")" != "$M_SUM" ]' "a chunk lost in both copies fails the read"
put "$T_DIR/m" /api/v1/vaults/mirrored/objects/m.bin
expect_status 200 "rewrite the damaged object"
# A plain vault keeps one copy only.
check '[ ! -e "$MIR/$V_BIG" ]' "a plain vault has no second copy"

# ---- restart of everything, Redis included ---------------------------------
app_api alice GET /api/v1/vaults; before=$BODY
app_api alice GET /api/v1/vaults/bulk/objects; list_before=$BODY
mgr_stop
mgr_start_redis || fail_now "redis restart"
mgr_start_services || fail_now "services restart"
app_api alice GET /api/v1/vaults; expect_status 200 "vault list after restart"
check '[ "$BODY" = "$before" ]' "vault metadata survived the restart"
app_api alice GET /api/v1/vaults/bulk/objects
check '[ "$BODY" = "$list_before" ]' "object listing survived the restart"
get /api/v1/vaults/bulk/objects/big.bin "$T_DIR/big.got"
expect_status 200 "GET 64 MiB after restart"
check '[ "$(sum "$T_DIR/big.got")" = "$BIG_SUM" ]' "64 MiB intact after restart"
get /api/v1/vaults/mirrored/objects/m.bin "$T_DIR/m.got"
check '[ "$(sum "$T_DIR/m.got")" = "$M_SUM" ]' "mirrored object intact after restart"
put "$T_DIR/one" /api/v1/vaults/bulk/objects/after-restart
expect_status 201 "PUT after restart"
