#!/usr/bin/env bash
# Vault storage (API.md "Vault storage (v2)"), with the real processes and
# real files: no plaintext in any file under the data dir nor in Redis (AOF,
# RDB after BGSAVE); a damaged chunk is refused, or read from the mirror and
# repaired; the master key (created 0600, a wrong or missing one refuses the
# start, rotation with the old key still readable); objects of the layout
# before v2 (data in Redis) move to files on start, idempotently; orphaned
# chunk files are collected; Range and conditional requests on REST.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
. "$(dirname "$0")/../lib/vault.sh"
export MANAGER_VAULT_GC_GRACE_S=2 MANAGER_VAULT_GC_INTERVAL_S=1
stack_up

app_identity alice
rcli() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
MiB=1048576
OBJ=$MANAGER_DATA_DIR/objects MIR=$MANAGER_DATA_DIR/mirror
put() { # FILE PATH [curl args]: sets ST, BODY
  local f=$1 p=$2; shift 2
  ST=$(app_curl alice -o "$T_DIR/put.out" -w '%{http_code}' -T "$f" "$@" "$URL$p")
  BODY=$(cat "$T_DIR/put.out")
}
get() { # PATH FILE [curl args]: sets ST; headers in $T_DIR/get.h
  local p=$1 f=$2; shift 2
  rm -f "$f"   # curl writes no file for an empty body
  ST=$(app_curl alice -D "$T_DIR/get.h" -o "$f" -w '%{http_code}' "$@" "$URL$p")
}
sum() { sha256sum "$1" | cut -d' ' -f1; }
hdr() { grep -i "^$1:" "$T_DIR/get.h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
restart_vault() { # [VAR=value...]: kill and start the vault service again
  kill "$MGR_PID_vault" 2>/dev/null; wait "$MGR_PID_vault" 2>/dev/null
  mgr_spawn vault env "$@" "$MGR_BIN/services/vault/mgr-vault"
  mgr_wait 'app_curl alice -o /dev/null -w "%{http_code}" "$URL/api/v1/vaults/plain" | grep -q 200' 30
}

T_V=$(mk_tpl plain vault)
T_M=$(mk_tpl mirror mirror)
V_P=$(mk_vault plain "$T_V")
V_M=$(mk_vault mirrored "$T_V" "$T_M")

# ---- the master key -----------------------------------------------------------
KEY=$MANAGER_DATA_DIR/master.key
check '[ -f "$KEY" ] && [ "$(stat -c %a "$KEY")" = 600 ] && [ "$(stat -c %s "$KEY")" = 32 ]' "master key created 0600, 32 bytes"

# ---- no plaintext anywhere ------------------------------------------------------
# A marker of 48 printable random characters, repeated: any copy of the data
# in the clear holds it whole.
MARK=$(head -c 36 /dev/urandom | base64 | tr '+/' 'xy')
for i in $(seq 1 60000); do printf '%s' "$MARK"; done >"$T_DIR/plain"
SUM_PLAIN=$(sum "$T_DIR/plain")
put "$T_DIR/plain" /api/v1/vaults/plain/objects/secret.txt
expect_status 201 "PUT a 2.7 MiB object of a repeated marker"
put "$T_DIR/plain" /api/v1/vaults/mirrored/objects/secret.txt
expect_status 201 "PUT it into a mirrored vault"
printf '%s' "$MARK" >"$T_DIR/small"
put "$T_DIR/small" /api/v1/vaults/plain/objects/small.txt
expect_status 201 "PUT the marker alone (one chunk)"
rcli BGSAVE >/dev/null
mgr_wait '[ "$(rcli INFO persistence | grep -c "rdb_bgsave_in_progress:0")" = 1 ] && [ -n "$(find "$MANAGER_DATA_DIR" -name "*.rdb")" ]' 20
check '[ -n "$(find "$OBJ" -type f)" ] && [ -n "$(find "$MIR" -type f)" ]' "the data is in files under both roots"
check '[ -z "$(grep -rlaF "$MARK" "$MANAGER_DATA_DIR")" ]' "no file under the data dir (objects, mirror, AOF, RDB, logs) holds the plaintext"
check '[ -z "$(rcli --scan --pattern "vault:{$V_P}:c:*")" ]' "Redis holds no chunk data"
check '! rcli --scan | while read -r k; do rcli DUMP "$k"; done | grep -qaF "$MARK"' "no Redis value holds the plaintext"
MEM=$(rcli MEMORY USAGE "vault:{$V_P}:o:secret.txt")
check '[ "$MEM" -lt 4096 ]' "an object's Redis record is metadata only ($MEM bytes for 2.7 MiB)"
get /api/v1/vaults/plain/objects/secret.txt "$T_DIR/got"
check '[ "$ST" = 200 ] && [ "$(sum "$T_DIR/got")" = "$SUM_PLAIN" ]' "and it reads back"

# ---- Range --------------------------------------------------------------------
head -c $((3 * MiB + 1234)) /dev/urandom >"$T_DIR/r"
put "$T_DIR/r" /api/v1/vaults/plain/objects/r
expect_status 201 "PUT 3 MiB + 1234"
ETAG=$(sum "$T_DIR/r")
SZ=$((3 * MiB + 1234))
rng() { # FROM LEN: the expected bytes
  tail -c +$(($1 + 1)) "$T_DIR/r" | head -c "$2"
}
get /api/v1/vaults/plain/objects/r "$T_DIR/g" -H "Range: bytes=100-199"
check '[ "$ST" = 206 ] && cmp -s "$T_DIR/g" <(rng 100 100) && [ "$(hdr content-range)" = "bytes 100-199/$SZ" ] && [ "$(hdr content-length)" = 100 ]' "Range bytes=100-199: 206, Content-Range"
get /api/v1/vaults/plain/objects/r "$T_DIR/g" -H "Range: bytes=$((MiB - 70))-$((2 * MiB + 5))"
check '[ "$ST" = 206 ] && cmp -s "$T_DIR/g" <(rng $((MiB - 70)) $((MiB + 76)))' "a range across chunk boundaries"
get /api/v1/vaults/plain/objects/r "$T_DIR/g" -H "Range: bytes=$((3 * MiB))-"
check '[ "$ST" = 206 ] && cmp -s "$T_DIR/g" <(rng $((3 * MiB)) 1234)' "an open range (from to the end)"
get /api/v1/vaults/plain/objects/r "$T_DIR/g" -H "Range: bytes=-500"
check '[ "$ST" = 206 ] && cmp -s "$T_DIR/g" <(rng $((SZ - 500)) 500) && [ "$(hdr content-range)" = "bytes $((SZ - 500))-$((SZ - 1))/$SZ" ]' "a suffix range (the last 500 bytes)"
get /api/v1/vaults/plain/objects/r "$T_DIR/g" -H "Range: bytes=0-99999999999"
check '[ "$ST" = 206 ] && cmp -s "$T_DIR/g" "$T_DIR/r"' "a range past the end is cut to the size"
get /api/v1/vaults/plain/objects/r "$T_DIR/g" -H "Range: bytes=$SZ-"
check '[ "$ST" = 416 ] && [ "$(hdr content-range)" = "bytes */$SZ" ] && grep -q range_not_satisfiable "$T_DIR/g"' "a range from the size on: 416, Content-Range bytes */size"
get /api/v1/vaults/plain/objects/small.txt "$T_DIR/g" -H "Range: bytes=4-9"
check '[ "$ST" = 206 ] && [ "$(cat "$T_DIR/g")" = "${MARK:4:6}" ]' "a range of a one-chunk object"
get /api/v1/vaults/plain/objects/r "$T_DIR/g" -H "Range: bytes=5-1"
check '[ "$ST" = 200 ] && cmp -s "$T_DIR/g" "$T_DIR/r" && [ "$(hdr accept-ranges)" = bytes ]' "a malformed Range is ignored (200, the whole object)"
get /api/v1/vaults/plain/objects/r "$T_DIR/g" -H "Range: bytes=0-1" -H 'If-Range: "nope"'
check '[ "$ST" = 200 ]' "If-Range with another etag: the whole object"
get /api/v1/vaults/plain/objects/r "$T_DIR/g" -H "Range: bytes=0-1" -H "If-Range: \"$ETAG\""
check '[ "$ST" = 206 ]' "If-Range with its etag: the range"

# ---- conditional requests -------------------------------------------------------
get /api/v1/vaults/plain/objects/r "$T_DIR/g" -H "If-None-Match: \"$ETAG\""
check '[ "$ST" = 304 ] && [ ! -s "$T_DIR/g" ] && [ "$(hdr etag)" = "\"$ETAG\"" ]' "GET If-None-Match its etag: 304, no body"
ST=$(app_curl alice -I -o /dev/null -w '%{http_code}' -H 'If-None-Match: *' "$URL/api/v1/vaults/plain/objects/r")
expect_status 304 "HEAD If-None-Match *: 304"
get /api/v1/vaults/plain/objects/r "$T_DIR/g" -H 'If-None-Match: "other", "more"'
check '[ "$ST" = 200 ] && cmp -s "$T_DIR/g" "$T_DIR/r"' "If-None-Match other etags: 200"
get /api/v1/vaults/plain/objects/r "$T_DIR/g" -H 'If-Match: "other"'
check '[ "$ST" = 412 ] && grep -q precondition_failed "$T_DIR/g"' "GET If-Match another etag: 412"
get /api/v1/vaults/plain/objects/r "$T_DIR/g" -H "If-Match: \"x\", \"$ETAG\""
check '[ "$ST" = 200 ]' "GET If-Match a list with its etag: 200"
put "$T_DIR/small" /api/v1/vaults/plain/objects/r -H 'If-None-Match: *'
check '[ "$ST" = 412 ] && echo "$BODY" | grep -q precondition_failed' "PUT If-None-Match * on an existing key: 412"
put "$T_DIR/small" /api/v1/vaults/plain/objects/r -H 'If-Match: "0000000000000000000000000000000000000000000000000000000000000000"'
expect_status 412 "PUT If-Match another etag: 412"
get /api/v1/vaults/plain/objects/r "$T_DIR/g"
check '[ "$(sum "$T_DIR/g")" = "$ETAG" ]' "refused conditional PUTs changed nothing"
put "$T_DIR/small" /api/v1/vaults/plain/objects/new -H 'If-None-Match: *'
expect_status 201 "PUT If-None-Match * of a new key: 201"
put "$T_DIR/small" /api/v1/vaults/plain/objects/absent -H 'If-Match: *'
expect_status 412 "PUT If-Match * of an absent key: 412"
put "$T_DIR/small" /api/v1/vaults/plain/objects/r -H "If-Match: \"$ETAG\""
expect_status 200 "PUT If-Match its etag: 200"
# Of concurrent create-only PUTs of one key exactly one wins.
pids=""
for i in 1 2 3 4; do
  head -c 2000 /dev/urandom >"$T_DIR/c$i"
  app_curl alice -o /dev/null -w '%{http_code}\n' -T "$T_DIR/c$i" -H 'If-None-Match: *' \
    "$URL/api/v1/vaults/plain/objects/once" >"$T_DIR/once.$i" &
  pids="$pids $!"
done
wait $pids
check '[ "$(cat "$T_DIR"/once.* | grep -c 201)" = 1 ] && [ "$(cat "$T_DIR"/once.* | grep -c 412)" = 3 ]' "4 concurrent If-None-Match * PUTs: one 201, three 412"

# ---- a damaged chunk on disk ------------------------------------------------------
VER=$(rcli HGET "vault:{$V_P}:o:secret.txt" ver)
flip() { # FILE OFFSET: flips one bit
  printf "\\x$(printf %02x $(( $(od -An -tu1 -j "$2" -N 1 "$1") ^ 1 )))" |
    dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
flip "$OBJ/$V_P/$VER/1" 5000
app_curl alice --max-time 60 -o "$T_DIR/bad" "$URL/api/v1/vaults/plain/objects/secret.txt" 2>/dev/null
rc=$?
check '[ $rc -ne 0 ] && ! cmp -s "$T_DIR/bad" "$T_DIR/plain" && ! grep -qaF "$(tail -c +$((MiB + 1)) "$T_DIR/plain" | head -c 48)x" "$T_DIR/bad"' "a flipped bit in a plain vault's chunk: the read is cut short, no wrong byte served"
check 'grep -q "chunk $VER/1 copy 0 is damaged" "$MANAGER_DATA_DIR/logs/vault.log"' "and logged"
# Chunks swapped on disk (same object), and a chunk of another object.
put "$T_DIR/r" /api/v1/vaults/plain/objects/r
expect_status 200 "PUT 3 MiB + 1234 again"
VR=$(rcli HGET "vault:{$V_P}:o:r" ver)
cp "$OBJ/$V_P/$VR/0" "$T_DIR/r0"
cp "$OBJ/$V_P/$VR/1" "$OBJ/$V_P/$VR/0"
get /api/v1/vaults/plain/objects/r "$T_DIR/g" -H "Range: bytes=0-9"
check '[ ! -s "$T_DIR/g" ]' "a chunk file copied over another of the object is refused (nothing served)"
cp "$T_DIR/r0" "$OBJ/$V_P/$VR/0"
VM=$(rcli HGET "vault:{$V_M}:o:secret.txt" ver)
flip "$MIR/$V_M/$VM/2" 77
flip "$OBJ/$V_M/$VM/0" 100
cp "$OBJ/$V_P/$VR/0" "$OBJ/$V_M/$VM/1"   # another vault's chunk, same size
get /api/v1/vaults/mirrored/objects/secret.txt "$T_DIR/g"
check '[ "$ST" = 200 ] && [ "$(sum "$T_DIR/g")" = "$SUM_PLAIN" ]' "a mirrored object with damaged copies at different chunks reads intact"
check 'cmp -s "$OBJ/$V_M/$VM/0" "$MIR/$V_M/$VM/0" && cmp -s "$OBJ/$V_M/$VM/1" "$MIR/$V_M/$VM/1"' "copy 0 repaired from copy 1 (a bit flip, another vault's chunk)"
check 'grep -q "chunk $VM/1 copy 0 is damaged" "$MANAGER_DATA_DIR/logs/vault.log" && grep -q "chunk $VM/0 copy 0 repaired" "$MANAGER_DATA_DIR/logs/vault.log"' "damage and repair logged"

# ---- orphans are collected ----------------------------------------------------------
mkdir -p "$OBJ/$V_P/0123456789abcdef0123456789abcdef"
head -c 100 /dev/urandom >"$OBJ/$V_P/0123456789abcdef0123456789abcdef/0"
touch -d '-1 hour' "$OBJ/$V_P/0123456789abcdef0123456789abcdef"
check 'mgr_wait "[ ! -e $OBJ/$V_P/0123456789abcdef0123456789abcdef ]" 20' "an orphaned blob (no reference, no upload) is collected"
check '[ -d "$OBJ/$V_P/$VR" ]' "a referenced blob stays"
app_api alice DELETE /api/v1/vaults/plain/objects/r; expect_status 204 "DELETE"
check 'mgr_wait "[ ! -e $OBJ/$V_P/$VR ]" 20' "a deleted object's files are collected after the grace period"

# ---- migration of the layout before v2 (data in Redis, as that code wrote it) ----------
# Two objects as the code before v2 stored them: chunks of RPC_CHUNK_BYTES
# (one object without cs), in copy 0 and, in the mirrored vault, copy 1.
head -c $((2 * MiB + 3)) /dev/urandom >"$T_DIR/old1"
head -c 5000 /dev/urandom >"$T_DIR/old2"
legacy() { # VID KEY FILE VER COPIES
  local n=$(( ($(stat -c %s "$3") + MiB - 1) / MiB )) i c
  for ((i = 0; i < n; i++)); do
    for ((c = 0; c < $5; c++)); do
      tail -c +$((i * MiB + 1)) "$3" | head -c $MiB | rcli -x SET "vault:{$1}:c:$4:$c:$i" >/dev/null
    done
  done
  rcli HSET "vault:{$1}:o:$2" key "$2" size "$(stat -c %s "$3")" etag "$(sum "$3")" \
    modified_at 1700000000 ver "$4" n $n >/dev/null
  rcli ZADD "vault:{$1}:objs" 0 "$2" >/dev/null
  rcli HINCRBY "vault:{$1}" object_count 1 >/dev/null
  rcli HINCRBY "vault:{$1}" bytes_used "$(stat -c %s "$3")" >/dev/null
}
legacy "$V_P" old1 "$T_DIR/old1" aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 1
legacy "$V_M" old2 "$T_DIR/old2" bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb 2
get /api/v1/vaults/plain/objects/old1 "$T_DIR/g"
check '[ "$ST" = 200 ] && cmp -s "$T_DIR/g" "$T_DIR/old1"' "an object of the old layout reads before the migration"
restart_vault
check 'mgr_wait "[ -z \"\$(rcli --scan --pattern \"vault:*:c:*\")\" ]" 20' "on start the old chunks left Redis"
check 'grep -q "migration: 2 of 2 object(s) moved to files" "$MANAGER_DATA_DIR/logs/vault.log"' "the migration is logged"
check '[ -n "$(rcli HGET "vault:{$V_P}:o:old1" segs)" ] && [ "$(rcli HGET "vault:{$V_P}:o:old1" modified_at)" = 1700000000 ]' "the object now names files; its metadata kept"
get /api/v1/vaults/plain/objects/old1 "$T_DIR/g"
check '[ "$ST" = 200 ] && cmp -s "$T_DIR/g" "$T_DIR/old1" && [ "$(hdr etag)" = "\"$(sum "$T_DIR/old1")\"" ]' "a migrated object reads back intact"
get /api/v1/vaults/mirrored/objects/old2 "$T_DIR/g"
check '[ "$ST" = 200 ] && cmp -s "$T_DIR/g" "$T_DIR/old2"' "a migrated mirrored object reads back intact"
V2=$(rcli HGET "vault:{$V_M}:o:old2" ver)
check '[ -f "$OBJ/$V_M/$V2/0" ] && [ -f "$MIR/$V_M/$V2/0" ]' "with both copies in files"
app_api alice GET /api/v1/vaults/plain
check '[ "$(jfield object_count)" -ge 2 ]' "the vault's counters are unchanged by the move"
restart_vault
check '[ "$(grep -c "migration: " "$MANAGER_DATA_DIR/logs/vault.log")" = 2 ]' "a second start has nothing to move (idempotent)"
get /api/v1/vaults/plain/objects/old1 "$T_DIR/g"
check '[ "$ST" = 200 ] && cmp -s "$T_DIR/g" "$T_DIR/old1"' "still intact after the second start"

# ---- a wrong or missing master key refuses the start ------------------------------------
kill "$MGR_PID_vault"; wait "$MGR_PID_vault" 2>/dev/null
mv "$KEY" "$T_DIR/master.key"
timeout 20 "$MGR_BIN/services/vault/mgr-vault" >"$T_DIR/nokey.log" 2>&1
rc=$?
check '[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "master key file .* is missing" "$T_DIR/nokey.log" && [ ! -e "$KEY" ]' "a missing master key: the vault service refuses to start, says why, makes no new key"
head -c 32 /dev/urandom >"$KEY"; chmod 600 "$KEY"
timeout 20 "$MGR_BIN/services/vault/mgr-vault" >"$T_DIR/wrongkey.log" 2>&1
rc=$?
check '[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "wraps data keys but is not loaded" "$T_DIR/wrongkey.log"' "a wrong master key: the vault service refuses to start, says why"
# Rotation: a new key file, the old one among the old files. The new key is
# raw and ends in CR LF, as 1 in 128 generated keys do: those bytes are key.
mv "$T_DIR/master.key" "$T_DIR/old.key"
{ head -c 30 /dev/urandom; printf '\r\n'; } >"$KEY"; chmod 600 "$KEY"
mgr_spawn vault env MANAGER_MASTER_KEY_OLD_FILES="$T_DIR/old.key" "$MGR_BIN/services/vault/mgr-vault"
mgr_wait 'app_curl alice -o /dev/null -w "%{http_code}" "$URL/api/v1/vaults/plain" | grep -q 200' 30
NEWKID=$(grep "master key .* loaded" "$MANAGER_DATA_DIR/logs/vault.log" | tail -1 | awk '{for (i = 1; i < NF; i++) if ($i == "key") print $(i + 1)}')
check 'mgr_wait "[ \"\$(rcli HGET \"vault:{$V_P}\" dk | cut -d: -f1)\" = $NEWKID ] && [ \"\$(rcli HGET \"vault:{$V_M}\" dk | cut -d: -f1)\" = $NEWKID ]" 20' "rotation: every data key re-wrapped with the new master key"
check 'mgr_wait "[ \"\$(rcli HLEN vault:keks)\" = 1 ]" 20' "the old key is dropped once nothing uses it"
get /api/v1/vaults/plain/objects/old1 "$T_DIR/g"
check '[ "$ST" = 200 ] && cmp -s "$T_DIR/g" "$T_DIR/old1"' "the data reads after the rotation"
restart_vault
get /api/v1/vaults/mirrored/objects/secret.txt "$T_DIR/g"
check '[ "$ST" = 200 ] && [ "$(sum "$T_DIR/g")" = "$SUM_PLAIN" ]' "and after a start with the new key alone"
