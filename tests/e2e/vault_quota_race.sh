#!/usr/bin/env bash
# Quota races: rounds of 12 parallel PUTs of mixed sizes, new keys and
# overwrites of the same keys (which free the old size as they commit),
# into a vault near its quota. Every answer is 201, 200 or the contract's
# 413 payload_too_large; bytes_used never goes above the quota, and after
# each round it and object_count equal the sum and number of the listed
# objects, every listed object reads back as one of the bodies sent for it.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
. "$(dirname "$0")/../lib/vault.sh"
export MANAGER_VAULT_GC_GRACE_S=0 MANAGER_VAULT_GC_INTERVAL_S=1
stack_up

app_identity alice
MiB=1048576
Q=$((10 * MiB))
T=$(mk_tpl q vault $Q)
mk_vault race "$T" >/dev/null
for s in 1 2 3; do head -c $((s * MiB + s)) /dev/urandom >"$T_DIR/b$s"; done
for s in 1 2 3; do sha256sum "$T_DIR/b$s" | cut -d' ' -f1; done >"$T_DIR/sums"
# A watcher of bytes_used during the rounds.
( while [ ! -e "$T_DIR/stop" ]; do
    app_api alice GET /api/v1/vaults/race; jfield bytes_used
  done >"$T_DIR/seen" ) &
watch=$!

for round in 1 2 3 4; do
  pids=""
  for i in $(seq 1 12); do
    s=$(( (i + round) % 3 + 1 ))
    # keys k1..k6: two writers each, of different sizes
    app_curl alice -o "$T_DIR/r.$round.$i" -w '%{http_code}\n' -T "$T_DIR/b$s" \
      "$URL/api/v1/vaults/race/objects/k$(( (i - 1) % 6 + 1 ))" >"$T_DIR/st.$round.$i" &
    pids="$pids $!"
  done
  wait $pids
  bad=0 refused=0
  for i in $(seq 1 12); do
    st=$(cat "$T_DIR/st.$round.$i")
    case $st in
      200|201) ;;
      413) grep -q payload_too_large "$T_DIR/r.$round.$i" || bad=$((bad + 1)); refused=$((refused + 1)) ;;
      *) bad=$((bad + 1)) ;;
    esac
  done
  echo "round $round: $refused of 12 PUTs refused over the quota" >&2
  total=$(( ${total:-0} + refused ))
  check '[ $bad = 0 ]' "round $round: every answer 200, 201 or 413 payload_too_large ($refused refused)"
  app_api alice GET /api/v1/vaults/race/objects
  sizes=$(echo "$BODY" | python3 -c 'import json,sys; o=json.load(sys.stdin)["objects"]; print(sum(x["size"] for x in o), len(o))')
  app_api alice GET /api/v1/vaults/race
  check '[ "$(jfield bytes_used) $(jfield object_count)" = "$sizes" ] && [ "$(jfield bytes_used)" -le $Q ]' "round $round: bytes_used and object_count are the listed objects' ($sizes) and within the quota"
  ok=1
  for k in 1 2 3 4 5 6; do
    got=$(app_curl alice "$URL/api/v1/vaults/race/objects/k$k" 2>/dev/null | sha256sum | cut -d' ' -f1)
    st=$(app_curl alice -o /dev/null -w '%{http_code}' -I "$URL/api/v1/vaults/race/objects/k$k")
    [ "$st" = 404 ] || grep -qx "$got" "$T_DIR/sums" || ok=0
  done
  check '[ $ok = 1 ]' "round $round: every object reads back as one whole body sent"
done
check '[ "$total" -gt 0 ]' "the rounds did reach the quota ($total refusals)"
touch "$T_DIR/stop"; wait $watch
max=$(sort -n "$T_DIR/seen" | tail -1)
check '[ -n "$max" ] && [ "$max" -le $Q ]' "bytes_used never seen above the quota ($(wc -l <"$T_DIR/seen") reads, at most $max of $Q)"
