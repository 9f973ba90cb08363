#!/usr/bin/env bash
# kill -9 during a 256 MiB upload that overwrites an object, of the vault
# service, of Redis and of the gateway, one at a time: the client gets the new object in full
# (the gateway resent its chunks to the restarted service) or a failure, and
# after the restart the key reads the old bytes or the new ones, never a mix;
# an object acknowledged before the kill is intact byte for byte; no chunk
# file is left once the interrupted upload is cleaned up (at once by the
# gateway's abort, by the orphan scan when the upload record expires, and
# a temporary chunk file of the killed write when it is 120 s old).
# Also kill -9 of the vault service and Redis right after a PUT's 201: the
# object is there after the restart (Redis appendfsync always, tests/lib).
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
. "$(dirname "$0")/../lib/vault.sh"
# The collector and the orphan scan (every 5th pass) run every second, with
# no grace: what is left after an upload is gone within seconds.
export MANAGER_VAULT_GC_GRACE_S=0 MANAGER_VAULT_GC_INTERVAL_S=1
stack_up

app_identity alice
rcli() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
MiB=1048576
CS=$((MiB - 64))   # VAULT_CHUNK_BYTES
nch() { echo $(( ($1 + CS - 1) / CS )); }
OBJ=$MANAGER_DATA_DIR/objects
sum() { sha256sum "$1" | cut -d' ' -f1; }
get() { ST=$(app_curl alice -o "$2" -w '%{http_code}' "$URL/api/v1/vaults/crash/objects/$1"); }
uploads() { rcli --scan --pattern "vault:{$V}:up:*"; }
upn() { local u; u=$(uploads | head -1); [ -n "$u" ] && rcli HGET "$u" n || echo 0; }
# Chunk files of copy 0 and blob directories of the vault.
files() { find "$OBJ/$V" -type f | wc -l; }
blobs() { find "$OBJ/$V" -mindepth 1 -maxdepth 1 -type d | wc -l; }
ready() { mgr_wait "curl -sf --cacert $CA $URL/readyz" 30; }

T=$(mk_tpl big vault)
V=$(mk_vault crash "$T")

# Objects acknowledged before the kills: "keep" (4 MiB) is never touched,
# "big" (1 MiB) is overwritten by the killed uploads (200 when it succeeds).
head -c $((4 * MiB + 7)) /dev/urandom >"$T_DIR/keep"
head -c $MiB /dev/urandom >"$T_DIR/old"
head -c $((256 * MiB)) /dev/urandom >"$T_DIR/new"
for k in keep:keep big:old; do
  st=$(app_curl alice -o /dev/null -w '%{http_code}' -T "$T_DIR/${k#*:}" "$URL/api/v1/vaults/crash/objects/${k%:*}")
  [ "$st" = 201 ] || fail_now "setup PUT ${k%:*}: $st"
done
BASE_FILES=$(( $(nch $((4 * MiB + 7))) + $(nch $MiB) ))
check '[ "$(files)" = $BASE_FILES ] && [ "$(blobs)" = 2 ]' "two objects: $BASE_FILES chunk files in 2 blobs"

# crash_put TARGET: overwrites "big" with 256 MiB at 64 MB/s and kills TARGET
# (vault or redis) once 32 chunks are stored; restarts it. Sets KST.
crash_put() {
  app_curl alice -o /dev/null -w '%{http_code}' --limit-rate 64M -T "$T_DIR/new" \
    "$URL/api/v1/vaults/crash/objects/big" >"$T_DIR/k.st" 2>/dev/null &
  local cpid=$!
  mgr_wait '[ "$(upn)" -ge 32 ]' 60 || echo "the upload did not start" >&2
  if [ "$1" = redis ]; then
    kill -KILL "$MGR_REDIS_PID"; wait "$MGR_REDIS_PID" 2>/dev/null
    sleep 1
    mgr_start_redis || fail_now "redis restart"
  elif [ "$1" = gateway ]; then
    kill -KILL "$MGR_PID_gateway"; wait "$MGR_PID_gateway" 2>/dev/null
    sleep 1
    mgr_spawn gateway "$MGR_BIN/gateway/mgr-gateway"
  else
    kill -KILL "$MGR_PID_vault"; wait "$MGR_PID_vault" 2>/dev/null
    sleep 1
    mgr_spawn vault "$MGR_BIN/services/vault/mgr-vault"
  fi
  wait $cpid
  KST=$(cat "$T_DIR/k.st")
  ready || fail_now "not ready after kill -9 of $1"
}

# after_crash TARGET: the key holds the old or the new bytes in full; "keep" is
# intact; the interrupted upload's files go away.
after_crash() {
  local what=$1 want
  get big "$T_DIR/big.got"
  if [ "$KST" = 200 ]; then
    check '[ "$ST" = 200 ] && cmp -s "$T_DIR/new" "$T_DIR/big.got"' "kill -9 of $what, PUT answered 200: the new 256 MiB read back exactly"
    cp "$T_DIR/new" "$T_DIR/old"
    want=$(( $(nch $((4 * MiB + 7))) + $(nch $((256 * MiB))) ))
  else
    check '[ "$ST" = 200 ] && cmp -s "$T_DIR/old" "$T_DIR/big.got"' "kill -9 of $what, PUT failed ($KST): the old version is served intact"
    want=$BASE_FILES
  fi
  get keep "$T_DIR/keep.got"
  check '[ "$ST" = 200 ] && cmp -s "$T_DIR/keep" "$T_DIR/keep.got"' "kill -9 of $what: an object acknowledged before is intact"
  app_api alice GET /api/v1/vaults/crash/objects
  check '[ "$(echo "$BODY" | grep -o "\"key\"" | wc -l)" = 2 ]' "kill -9 of $what: still two objects listed"
  # An upload whose abort was lost with the process (or with Redis) keeps
  # its record until VAULT_UPLOAD_TTL_S (an hour) passes; the orphan scan
  # then removes its files. The test lets the hour pass at once.
  local left u
  left=$(uploads | wc -l)
  for u in $(uploads); do
    ttl=$(rcli TTL "$u")
    check '[ "$ttl" -gt 0 ] && [ "$ttl" -le 3600 ]' "kill -9 of $what: the upload left behind expires ($ttl s)"
    rcli EXPIRE "$u" 1 >/dev/null
  done
  # A chunk's temporary file left by the killed process, in a blob that
  # may be committed since: removed once it is TMP_AGE_S (120 s) old. The
  # test ages it (and its directory) instead of waiting.
  local tmps
  tmps=$(find "$OBJ/$V" -name '*.tmp' | wc -l)
  find "$OBJ/$V" -name '*.tmp' -exec touch -d '-10 min' {} + -exec dirname {} + | xargs -r touch -d '-10 min'
  echo "kill -9 of $what during a 256 MiB PUT: client got $KST; upload records left: $left; temporary files left: $tmps" >&2
  check 'mgr_wait "[ \"\$(files)\" = $want ] && [ \"\$(blobs)\" = 2 ] && [ -z \"\$(uploads)\" ]" 30' "kill -9 of $what: no chunk file left over ($(files) files, want $want)"
  app_api alice GET /api/v1/vaults/crash
  check '[ "$(jfield object_count)" = 2 ] && [ "$(jfield bytes_used)" = $(( 4 * MiB + 7 + $(stat -c %s "$T_DIR/old") )) ]' "kill -9 of $what: the vault's counters match its objects"
  BASE_FILES=$want
}

crash_put vault
after_crash "the vault service"
# Redis: the chunks in flight fail (503); the abort may fail too.
head -c $MiB /dev/urandom >"$T_DIR/old"
st=$(app_curl alice -o /dev/null -w '%{http_code}' -T "$T_DIR/old" "$URL/api/v1/vaults/crash/objects/big")
check '[ "$st" = 200 ]' "big back to 1 MiB"
BASE_FILES=$(( $(nch $((4 * MiB + 7))) + $(nch $MiB) ))
mgr_wait '[ "$(files)" = $BASE_FILES ]' 20
crash_put redis
check '[ "$KST" != 200 ] && [ "$KST" != 201 ]' "kill -9 of Redis during the upload fails it for the client ($KST)"
after_crash "Redis"
# The gateway: the connection goes with it, nothing commits, nothing aborts.
crash_put gateway
check '[ "$KST" != 200 ] && [ "$KST" != 201 ]' "kill -9 of the gateway during the upload fails it for the client ($KST)"
after_crash "the gateway"

# A temporary chunk file as a write that died leaves it, in a committed
# blob: removed when old enough, a fresh one (a write going on) kept.
KB=$(rcli HGET "vault:{$V}:o:keep" ver)
head -c 1000 /dev/urandom >"$OBJ/$V/$KB/1.00112233deadbeef.tmp"
head -c 1000 /dev/urandom >"$OBJ/$V/$KB/2.00112233deadbeef.tmp"
touch -d '-10 min' "$OBJ/$V/$KB/1.00112233deadbeef.tmp" "$OBJ/$V/$KB"
check 'mgr_wait "[ ! -e $OBJ/$V/$KB/1.00112233deadbeef.tmp ]" 20' "a stale temporary chunk file in a committed blob is removed"
check '[ -e "$OBJ/$V/$KB/2.00112233deadbeef.tmp" ]' "a fresh one is left alone"
rm -f "$OBJ/$V/$KB/2.00112233deadbeef.tmp"
get keep "$T_DIR/keep.got"
check '[ "$ST" = 200 ] && cmp -s "$T_DIR/keep" "$T_DIR/keep.got"' "and the blob's object is intact"

# ---- kill -9 right after the acknowledgement ------------------------------------
head -c $((3 * MiB + 1)) /dev/urandom >"$T_DIR/acked"
for target in vault redis both; do
  st=$(app_curl alice -o /dev/null -w '%{http_code}' -T "$T_DIR/acked" "$URL/api/v1/vaults/crash/objects/acked-$target")
  case $target in
    vault|both) kill -KILL "$MGR_PID_vault"; wait "$MGR_PID_vault" 2>/dev/null ;;
  esac
  case $target in
    redis|both) kill -KILL "$MGR_REDIS_PID"; wait "$MGR_REDIS_PID" 2>/dev/null ;;
  esac
  case $target in
    redis|both) mgr_start_redis || fail_now "redis restart" ;;
  esac
  case $target in
    vault|both) mgr_spawn vault "$MGR_BIN/services/vault/mgr-vault" ;;
  esac
  ready || fail_now "not ready after kill -9 of $target"
  get "acked-$target" "$T_DIR/acked.got"
  check '[ "$st" = 201 ] && [ "$ST" = 200 ] && cmp -s "$T_DIR/acked" "$T_DIR/acked.got"' "kill -9 of $target right after a 201: the object is there, intact"
done
grep -h 'vault.PutCommit\|vault.PutChunk' "$MANAGER_DATA_DIR"/logs/gateway.log | tail -3 >&2
