#!/usr/bin/env bash
# The scrub (MANAGER_VAULT_SCRUB_INTERVAL_S): the vault service reads every
# chunk of every object, both copies of a mirrored vault, with no client
# reading it. A flipped bit in either copy is found, logged and rewritten
# from the good copy (the file is the original again); a flipped bit in the
# only copy of a plain vault is logged as an error and the object's read
# fails rather than serve it; an intact store is reported intact. The log
# lines name vault, blob and chunk, never data or keys.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
. "$(dirname "$0")/../lib/vault.sh"
export MANAGER_VAULT_SCRUB_INTERVAL_S=2 MANAGER_VAULT_GC_INTERVAL_S=1
stack_up

app_identity alice
rcli() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
MiB=1048576
OBJ=$MANAGER_DATA_DIR/objects MIR=$MANAGER_DATA_DIR/mirror
LOG=$MANAGER_DATA_DIR/logs/vault.log
sum() { sha256sum "$1" | cut -d' ' -f1; }
put() { ST=$(app_curl alice -o /dev/null -w '%{http_code}' -T "$1" "$URL/api/v1/vaults/$2"); }
get() { ST=$(app_curl alice -o "$2" -w '%{http_code}' "$URL/api/v1/vaults/$1" 2>/dev/null); }
# flip FILE OFFSET: inverts one bit of the byte at OFFSET, in place.
flip() {
  python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1)
f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x10])); f.close()' "$1" "$2"
}
# scrubs_after N: waits for a scrub line after the first N lines of the log.
scrubs_after() {
  mgr_wait "tail -n +$(($1 + 1)) '$LOG' | grep -q 'scrub: '" 20
}
mark() { wc -l <"$LOG"; }
# hold / release: takes the scrub's turn (as another replica would) while
# the test damages files, so that no scrub runs in between; a scrub that
# was running has done within the half second (a few chunks).
hold() { rcli SET vault:scrub 1 EX 120 >/dev/null; sleep 0.5; }
release() { rcli DEL vault:scrub >/dev/null; }

T=$(mk_tpl big vault)
TM=$(mk_tpl mirror mirror)
VM=$(mk_vault scrub-m "$T" "$TM")
VP=$(mk_vault scrub-p "$T")
head -c $((3 * MiB + 100)) /dev/urandom >"$T_DIR/m"
head -c $((2 * MiB)) /dev/urandom >"$T_DIR/p"
put "$T_DIR/m" scrub-m/objects/m; expect_status 201 "PUT into the mirrored vault"
put "$T_DIR/p" scrub-p/objects/p; expect_status 201 "PUT into the plain vault"
VER=$(rcli HGET "vault:{$VM}:o:m" ver)
PVER=$(rcli HGET "vault:{$VP}:o:p" ver)
check '[ "$(ls "$MIR/$VM/$VER" | wc -l)" = 4 ]' "two copies of 4 chunks"

n=$(mark)
check 'scrubs_after $n' "a scrub runs on its own"
check 'tail -n +$((n + 1)) "$LOG" | grep "scrub: " | head -1 | grep -q "2 object(s), 7 chunk(s) checked.*all intact"' "an intact store: 2 objects, 7 chunks, all intact"

# One bit in copy 1 of chunk 1, one in copy 0 of chunk 2.
hold
S1=$(sum "$MIR/$VM/$VER/1") S2=$(sum "$OBJ/$VM/$VER/2")
flip "$MIR/$VM/$VER/1" 5000
flip "$OBJ/$VM/$VER/2" 70000
check '[ "$(sum "$MIR/$VM/$VER/1")" != "$S1" ] && [ "$(sum "$OBJ/$VM/$VER/2")" != "$S2" ]' "two copies damaged on disk"
n=$(mark)
release
check 'scrubs_after $n' "the next scrub runs"
check 'tail -n +$((n + 1)) "$LOG" | grep -q "chunk $VER/1 copy 1 is damaged"' "the damaged mirror copy is logged by vault, blob and chunk"
check 'tail -n +$((n + 1)) "$LOG" | grep -q "chunk $VER/2 copy 0 is damaged"' "the damaged first copy is logged"
check 'tail -n +$((n + 1)) "$LOG" | grep "scrub: " | head -1 | grep -q "2 damaged or missing chunk copies found"' "the scrub reports 2 damaged copies"
check '[ "$(sum "$MIR/$VM/$VER/1")" = "$S1" ] && [ "$(sum "$OBJ/$VM/$VER/2")" = "$S2" ]' "both copies rewritten from the good one: the original files again"
n=$(mark)
check 'scrubs_after $n && tail -n +$((n + 1)) "$LOG" | grep "scrub: " | head -1 | grep -q "all intact"' "the scrub after the repair finds it all intact"
get scrub-m/objects/m "$T_DIR/m.got"
check '[ "$ST" = 200 ] && cmp -s "$T_DIR/m" "$T_DIR/m.got"' "the mirrored object reads back intact"

# A missing mirror file is written again as well.
hold
rm -f "$MIR/$VM/$VER/3"
n=$(mark)
release
check 'scrubs_after $n && [ "$(sum "$MIR/$VM/$VER/3")" = "$(sum "$OBJ/$VM/$VER/3")" ]' "a missing mirror chunk is written again by the scrub"

# The only copy of a plain vault's chunk: an error, and never served.
hold
flip "$OBJ/$VP/$PVER/0" 123
n=$(mark)
release
check 'scrubs_after $n' "the next scrub runs"
check 'tail -n +$((n + 1)) "$LOG" | grep -q "chunk $PVER/0 has no good copy"' "a chunk with no good copy is logged as an error"
: >"$T_DIR/p.got"
get scrub-p/objects/p "$T_DIR/p.got"
check '[ "$ST" != 200 ] || [ "$(sum "$T_DIR/p.got")" != "$(sum "$T_DIR/p")" ]' "the damaged plain object is not served as if intact ($ST)"

# One replica per interval: the turn is a Redis key that expires.
check 'mgr_wait "[ \"\$(rcli GET vault:scrub)\" = 1 ] && [ \"\$(rcli TTL vault:scrub)\" -le 2 ]" 10' "the scrub's turn is held in Redis for one interval"
check '! grep -aE "scrub|damaged|good copy" "$LOG" | grep -qiE "key=|password|BEGIN"' "scrub lines hold no secret"
grep -aE "scrub: |damaged|good copy" "$LOG" | tail -4 >&2
