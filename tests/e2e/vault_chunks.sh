#!/usr/bin/env bash
# Object chunks as the gateway sends them, several in flight: vault.PutChunk
# straight to the service (tests/lib/rpc_send.c) in any order. Chunks that
# arrive out of order make the right object; a chunk sent again with the
# same data changes nothing, with other data is refused; a commit with a
# chunk missing, a short chunk in the middle or chunks past the end is
# refused and drops the upload; a chunk refused (over the quota, not the
# caller's upload, no such upload) leaves no chunk file. Chunk data is in
# files (sealed), never in Redis. Reads heal a mirror chunk by chunk. Also: PUT/GET through the gateway of objects of
# 0 .. 9 chunks (pipelined) read back intact, and a refused chunk in the
# middle of a pipelined PUT leaves nothing.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
. "$(dirname "$0")/../lib/vault.sh"
# Overwritten and refused data is collected at once (no grace for readers).
export MANAGER_VAULT_GC_GRACE_S=0 MANAGER_VAULT_GC_INTERVAL_S=1
stack_up

. "$(dirname "$0")/../lib/rpc.sh"
[ -x "$RS" ] || fail_now "no $RS (build the tests)"
app_identity alice
ALICE=$APP_ID
app_identity bob
BOB=$APP_ID
rcli() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
J='Content-Type: application/json'
MiB=1048576
CS=$((MiB - 64))   # VAULT_CHUNK_BYTES: the chunk size of new uploads
# begin VAULT KEY SIZE [CALLER]: prints the upload id.
begin() {
  local r
  r=$(rs "$(pb 's(1, A[0]) + s(2, A[1]) + v(3, int(A[2]))' "$1" "$2" "$3")" vault vault.PutBegin "rq-b-$RANDOM$RANDOM" app "${4:-$ALICE}")
  [ "$(st "$r")" = ok ] || fail_now "PutBegin $1/$2: $r"
  pbget "${r#ok }" 2
}
# chunk VID UPLOAD INDEX FILE [CALLER]: prints the status word.
chunk() {
  local r
  r=$(rs "$(pb 's(1, A[0]) + s(2, A[1]) + v(3, int(A[2])) + s(4, open(A[3], "rb").read())' "$1" "$2" "$3" "$4")" vault vault.PutChunk "rq-c-$RANDOM$RANDOM" app "${5:-$ALICE}")
  st "$r"
}
# commit VID UPLOAD SIZE SHA: prints the reply line.
commit() {
  rs "$(pb 's(1, A[0]) + s(2, A[1]) + v(3, int(A[2])) + s(4, A[3])' "$1" "$2" "$3" "$4")" vault vault.PutCommit "rq-m-$RANDOM$RANDOM" app "$ALICE"
}
sum() { sha256sum "$1" | cut -d' ' -f1; }
OBJ=$MANAGER_DATA_DIR/objects MIR=$MANAGER_DATA_DIR/mirror
# staged VID UPLOAD: what that upload left: its record, its chunk files in
# either copy (temporary files included), Redis keys of chunk data.
staged() {
  { rcli --scan --pattern "vault:{$1}:up:$2"; rcli --scan --pattern "vault:{$1}:c:$2:*"
    find "$OBJ/$1/$2" "$MIR/$1/$2" -type f 2>/dev/null; } | wc -l
}
fsum() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
get() { # PATH FILE: sets ST
  ST=$(app_curl alice -o "$2" -w '%{http_code}' "$URL$1")
}

T_PLAIN=$(mk_tpl plain vault)
T_Q=$(mk_tpl small vault $((3 * MiB)))
T_M=$(mk_tpl mirror mirror)
V=$(mk_vault chunks "$T_PLAIN")
VQ=$(mk_vault chunks-quota "$T_Q")
VM=$(mk_vault chunks-mirror "$T_PLAIN" "$T_M")

head -c $CS /dev/urandom >"$T_DIR/c0"
head -c $CS /dev/urandom >"$T_DIR/c1"
head -c 5 /dev/urandom >"$T_DIR/c2"
head -c $CS /dev/urandom >"$T_DIR/other"
head -c 10 /dev/urandom >"$T_DIR/short"
head -c $MiB /dev/urandom >"$T_DIR/mib"
cat "$T_DIR/c0" "$T_DIR/c1" "$T_DIR/c2" >"$T_DIR/obj"
SIZE=$((2 * CS + 5))
SUM=$(sum "$T_DIR/obj")

# ---- out of order --------------------------------------------------------------
UP=$(begin chunks ooo $SIZE)
check '[ "$(chunk "$V" "$UP" 2 "$T_DIR/c2")" = ok ]' "the last chunk first"
check '[ "$(chunk "$V" "$UP" 0 "$T_DIR/c0")" = ok ]' "then chunk 0"
check '[ "$(chunk "$V" "$UP" 1 "$T_DIR/c1")" = ok ]' "then chunk 1"
check '[ "$(chunk "$V" "$UP" 0 "$T_DIR/c0")" = ok ]' "chunk 0 sent again with the same data is accepted"
F1=$(fsum "$OBJ/$V/$UP/1")
check '[ "$(chunk "$V" "$UP" 1 "$T_DIR/other")" = invalid_argument ]' "chunk 1 sent again with other data is refused"
check '[ "$(rcli HGET "vault:{$V}:up:$UP" n)" = 3 ] && [ "$(rcli HGET "vault:{$V}:up:$UP" size)" = $SIZE ]' "the resends changed nothing (3 chunks, $SIZE bytes)"
check '[ -n "$F1" ] && [ "$(fsum "$OBJ/$V/$UP/1")" = "$F1" ]' "chunk 1 keeps its first data (its file is unchanged)"
check '[ -z "$(find "$OBJ/$V/$UP" -name "*.tmp")" ]' "no temporary file is left"
R=$(commit "$V" "$UP" $SIZE "$SUM")
check '[ "$(st "$R")" = ok ]' "commit of chunks that came out of order ($R)"
get /api/v1/vaults/chunks/objects/ooo "$T_DIR/ooo.got"
check '[ "$ST" = 200 ] && [ "$(sum "$T_DIR/ooo.got")" = "$SUM" ]' "the object reads back in order"
check '[ "$(staged "$V" "$UP")" = 3 ] && [ -z "$(rcli --scan --pattern "vault:{$V}:c:*")" ]' "3 chunk files stored, no upload left, no chunk data in Redis"
check '[ "$(stat -c %s "$OBJ/$V/$UP/0")" = $((CS + 32)) ] && [ "$(stat -c %s "$OBJ/$V/$UP/2")" = 37 ]' "a chunk file is its data sealed (32 bytes more)"
check '! grep -qF "$(head -c 32 "$T_DIR/c0" | od -An -tx1 | tr -d " \n")" <(od -An -tx1 "$OBJ/$V/$UP/0" | tr -d " \n")' "the chunk file does not hold the plaintext"

# ---- a chunk missing at commit ----------------------------------------------
UP=$(begin chunks missing $SIZE)
chunk "$V" "$UP" 0 "$T_DIR/c0" >/dev/null
chunk "$V" "$UP" 2 "$T_DIR/c2" >/dev/null
R=$(commit "$V" "$UP" $((CS + 5)) "$SUM")
check '[ "$(st "$R")" = invalid_argument ]' "commit with chunk 1 missing is refused ($R)"
check '[ "$(staged "$V" "$UP")" = 0 ]' "the refused commit drops the upload and its chunks"
app_api alice HEAD /api/v1/vaults/chunks/objects/missing -I; expect_status 404 "nothing stored"
R=$(commit "$V" "$UP" $((CS + 5)) "$SUM")
check '[ "$(st "$R")" = not_found ]' "the dropped upload is gone ($R)"

# ---- a short chunk in the middle, chunks past the end ------------------------
UP=$(begin chunks short 0)
chunk "$V" "$UP" 0 "$T_DIR/short" >/dev/null
chunk "$V" "$UP" 1 "$T_DIR/c1" >/dev/null
R=$(commit "$V" "$UP" $((CS + 10)) "$SUM")
check '[ "$(st "$R")" = invalid_argument ] && [ "$(staged "$V" "$UP")" = 0 ]' "a short chunk before the last is refused at commit ($R)"
UP=$(begin chunks past 0)
chunk "$V" "$UP" 0 "$T_DIR/c0" >/dev/null
chunk "$V" "$UP" 1 "$T_DIR/c2" >/dev/null
chunk "$V" "$UP" 5 "$T_DIR/c2" >/dev/null
R=$(commit "$V" "$UP" $((CS + 10)) "$SUM")
check '[ "$(st "$R")" = invalid_argument ] && [ "$(staged "$V" "$UP")" = 0 ]' "a chunk past the end is refused at commit ($R)"
UP=$(begin chunks big 0)
chunk "$V" "$UP" 0 "$T_DIR/c0" >/dev/null
check '[ "$(chunk "$V" "$UP" 1 "$T_DIR/mib")" = invalid_argument ] && [ "$(staged "$V" "$UP")" = 2 ]' "a chunk over the upload's chunk size is refused and leaves nothing"
rs "$(pb 's(1, A[0]) + s(2, A[1])' "$V" "$UP")" vault vault.PutAbort rq-abort-big app "$ALICE" >/dev/null

# ---- refused chunks leave nothing ----------------------------------------------
UP=$(begin chunks-quota q 0)
check '[ "$(chunk "$VQ" "$UP" 4 "$T_DIR/c2")" = payload_too_large ]' "a chunk past the quota (index 4 of a 3 MiB vault) is 413"
check '[ "$(staged "$VQ" "$UP")" = 1 ]' "it left no data (only the upload record)"
check '[ "$(chunk "$VQ" "$UP" 2 "$T_DIR/c0")" = ok ] && [ "$(chunk "$VQ" "$UP" 0 "$T_DIR/c0")" = ok ]' "chunks 2 and 0 fit"
check '[ "$(chunk "$VQ" "$UP" 1 "$T_DIR/c1")" = ok ]' "chunk 1 fits"
check '[ "$(chunk "$VQ" "$UP" 3 "$T_DIR/c0")" = payload_too_large ]' "one more chunk is over the quota"
check '[ ! -e "$OBJ/$VQ/$UP/3" ] && [ "$(rcli HGET "vault:{$VQ}:up:$UP" size)" = $((3 * CS)) ]' "the refused chunk is not stored nor counted"
check '[ "$(chunk "$VQ" "$UP" 1 "$T_DIR/c1" "$BOB")" = permission_denied ]' "another account's chunk is refused"
check '[ "$(chunk "$VQ" 0123456789abcdef0123456789abcdef 0 "$T_DIR/c0")" = not_found ]' "a chunk of no such upload is refused"
check '[ -z "$(find "$OBJ/$VQ" "$MIR/$VQ" -name "*.tmp" 2>/dev/null)" ] && [ ! -e "$OBJ/$VQ/0123456789abcdef0123456789abcdef" ]' "refused chunks leave no data"
R=$(rs "$(pb 's(1, A[0]) + s(2, A[1])' "$VQ" "$UP")" vault vault.PutAbort rq-abort app "$ALICE")
check '[ "$(st "$R")" = ok ] && [ "$(staged "$VQ" "$UP")" = 0 ]' "an abort drops chunks that came out of order"

# ---- mirror ----------------------------------------------------------------------
UP=$(begin chunks-mirror m $SIZE)
chunk "$VM" "$UP" 1 "$T_DIR/c1" >/dev/null
chunk "$VM" "$UP" 2 "$T_DIR/c2" >/dev/null
chunk "$VM" "$UP" 0 "$T_DIR/c0" >/dev/null
R=$(commit "$VM" "$UP" $SIZE "$SUM")
check '[ "$(st "$R")" = ok ] && [ "$(staged "$VM" "$UP")" = 6 ]' "a mirrored object out of order: 2 copies of 3 chunks ($R)"
check 'cmp -s "$MIR/$VM/$UP/1" "$OBJ/$VM/$UP/1"' "copy 1 holds the same data"
rm -f "$OBJ/$VM/$UP/0" "$MIR/$VM/$UP/1"
# A flipped bit in copy 0 of chunk 2: it no longer authenticates.
printf '\x%02x' $(( $(od -An -tu1 -j 20 -N 1 "$OBJ/$VM/$UP/2") ^ 1 )) | dd of="$OBJ/$VM/$UP/2" bs=1 seek=20 conv=notrunc status=none
get /api/v1/vaults/chunks-mirror/objects/m "$T_DIR/m.got"
check '[ "$ST" = 200 ] && [ "$(sum "$T_DIR/m.got")" = "$SUM" ]' "a read with chunks missing or damaged in either copy"
check 'cmp -s "$OBJ/$VM/$UP/0" "$MIR/$VM/$UP/0" && cmp -s "$OBJ/$VM/$UP/1" "$MIR/$VM/$UP/1" && cmp -s "$OBJ/$VM/$UP/2" "$MIR/$VM/$UP/2"' "the read healed both copies, the damaged one too"
check 'grep -q "chunk $UP/2 copy 0 is damaged" "$MANAGER_DATA_DIR/logs/vault.log"' "the damaged copy was logged"

# ---- through the gateway: chunks pipelined both ways ---------------------------
ok=1
for n in 0 1 3 4 5 9; do
  for extra in 0 777; do
    [ $n = 0 ] && [ $extra = 0 ] && continue
    head -c $((n * MiB + extra)) /dev/urandom >"$T_DIR/p"
    st=$(app_curl alice -o "$T_DIR/p.out" -w '%{http_code}' -T "$T_DIR/p" "$URL/api/v1/vaults/chunks/objects/p-$n-$extra")
    get "/api/v1/vaults/chunks/objects/p-$n-$extra" "$T_DIR/p.got"
    if [ "$st" != 201 ] || [ "$ST" != 200 ] || ! cmp -s "$T_DIR/p" "$T_DIR/p.got"; then
      ok=0; echo "p-$n-$extra: PUT $st GET $ST" >&2
    fi
  done
done
check '[ $ok = 1 ]' "objects of 1 byte to 9 MiB + 777 round trip through the gateway"
# A chunk refused in the middle of a pipelined PUT (3 MiB of quota).
head -c $((6 * MiB)) /dev/urandom >"$T_DIR/six"
st=$(app_curl alice -o "$T_DIR/six.out" -w '%{http_code}' -T "$T_DIR/six" -H 'Transfer-Encoding: chunked' \
  "$URL/api/v1/vaults/chunks-quota/objects/six")
check '[ "$st" = 413 ]' "a chunked 6 MiB PUT into 3 MiB of quota is 413 ($st)"
check 'mgr_wait "[ -z \"\$(rcli --scan --pattern \"vault:{$VQ}:*\" | grep -E \":(c|up):\")\" ] && [ -z \"\$(find $OBJ/$VQ $MIR/$VQ -type f 2>/dev/null)\" ]" 10' "it left no chunk and no upload"
app_api alice GET /api/v1/vaults/chunks-quota
check '[ "$(jfield bytes_used)" = 0 ] && [ "$(jfield object_count)" = 0 ]' "and counted nothing"

# ---- objects stored before the chunk size was recorded: 1 MiB chunks -----------
head -c $((2 * MiB + 3)) /dev/urandom >"$T_DIR/old"
VER=0123456789abcdef0123456789abcdef
for i in 0 1 2; do
  tail -c +$((i * MiB + 1)) "$T_DIR/old" | head -c $MiB | rcli -x SET "vault:{$V}:c:$VER:0:$i" >/dev/null
done
rcli HSET "vault:{$V}:o:old" key old size $((2 * MiB + 3)) etag "$(sum "$T_DIR/old")" \
  modified_at "$(date +%s)" ver $VER n 3 >/dev/null
rcli ZADD "vault:{$V}:objs" 0 old >/dev/null
get /api/v1/vaults/chunks/objects/old "$T_DIR/old.got"
check '[ "$ST" = 200 ] && cmp -s "$T_DIR/old" "$T_DIR/old.got"' "an object of 1 MiB chunks (no cs recorded) reads back"

# ---- kill -9 of the vault service in the middle of a pipelined PUT ------------
# The chunks in flight are resent to the restarted service (nng); those it had
# stored are accepted again as no-ops. Either the PUT succeeds with the exact
# data, or it fails and leaves nothing.
head -c $((24 * MiB)) /dev/urandom >"$T_DIR/k"
app_curl alice -o /dev/null -w '%{http_code}' --limit-rate 8M -T "$T_DIR/k" \
  "$URL/api/v1/vaults/chunks/objects/killed" >"$T_DIR/k.st" 2>/dev/null &
cpid=$!
upn() { local u; u=$(rcli --scan --pattern "vault:{$V}:up:*" | head -1); [ -n "$u" ] && rcli HGET "$u" n || echo 0; }
mgr_wait '[ "$(upn)" -ge 4 ]' 30 || echo "the upload did not start" >&2
kill -KILL "$MGR_PID_vault"; wait "$MGR_PID_vault" 2>/dev/null
sleep 1
mgr_spawn vault "$MGR_BIN/services/vault/mgr-vault"
wait $cpid
kst=$(cat "$T_DIR/k.st")
get /api/v1/vaults/chunks/objects/killed "$T_DIR/k.got"
if [ "$kst" = 201 ]; then
  check '[ "$ST" = 200 ] && cmp -s "$T_DIR/k" "$T_DIR/k.got"' "a PUT across a kill -9 of the vault service that succeeded stored the exact data"
else
  check '[ "$ST" = 404 ]' "a PUT across a kill -9 of the vault service that failed ($kst) stored nothing"
fi
check 'mgr_wait "[ -z \"\$(rcli --scan --pattern \"vault:{$V}:up:*\")\" ]" 40' "no upload is left after the kill ($kst)"
echo "PUT across kill -9 of the vault service: $kst" >&2

# ---- a gateway from before chunk_bytes: 1 MiB chunks, in order ----------------
UP=$(begin chunks oldgw $((MiB + 5)))
check '[ "$(chunk "$V" "$UP" 0 "$T_DIR/mib")" = ok ] && [ "$(chunk "$V" "$UP" 1 "$T_DIR/c2")" = ok ]' "1 MiB chunks of an older gateway are taken"
cat "$T_DIR/mib" "$T_DIR/c2" >"$T_DIR/oldgw"
R=$(commit "$V" "$UP" $((MiB + 5)) "$(sum "$T_DIR/oldgw")")
get /api/v1/vaults/chunks/objects/oldgw "$T_DIR/oldgw.got"
check '[ "$(st "$R")" = ok ] && [ "$ST" = 200 ] && cmp -s "$T_DIR/oldgw" "$T_DIR/oldgw.got"' "and read back ($R)"
