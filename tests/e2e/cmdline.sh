#!/usr/bin/env bash
# Every binary answers --version and --help on stdout with exit 0, and
# refuses anything else on its command line with the usage on stderr and
# exit 2, before it reads any setting or touches Redis (API.md, Operations v2).
. "$(dirname "$0")/../lib/stack.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# No Redis and no data dir: the answers must not depend on either.
export MANAGER_DATA_DIR=$T/nowhere MANAGER_REDIS_URL=redis://127.0.0.1:1/0
for b in gateway/mgr-gateway services/account/mgr-account services/ca/mgr-ca \
    services/vault/mgr-vault cli/mgr; do
  bin=$MGR_BIN/$b
  name=$(basename "$b")
  timeout 10 "$bin" --version >"$T/out" 2>"$T/err"; rc=$?
  check '[ $rc = 0 ]' "$name --version exits 0 (rc $rc)"
  check 'grep -qE "^$name 2\.[0-9]+\.[0-9]+ " "$T/out" && [ "$(wc -l <"$T/out")" = 1 ]' \
    "$name --version prints one line with its name and version on stdout ($(head -c 200 "$T/out"))"
  check '[ ! -s "$T/err" ]' "$name --version writes nothing on stderr"
  timeout 10 "$bin" --help >"$T/out" 2>"$T/err"; rc=$?
  check '[ $rc = 0 ]' "$name --help exits 0 (rc $rc)"
  check 'grep -q "usage: $name" "$T/out" && grep -q -- "--version" "$T/out"' \
    "$name --help prints the usage on stdout"
  check '[ ! -s "$T/err" ]' "$name --help writes nothing on stderr"
  for bad in --no-such-option -x; do
    timeout 10 "$bin" "$bad" >"$T/out" 2>"$T/err"; rc=$?
    check '[ $rc = 2 ]' "$name $bad exits 2 (rc $rc)"
    # The servers print their usage; mgr its one-line reason (API.md,
    # command-line client) that points at mgr --help.
    check 'grep -qiE "usage|mgr --help" "$T/err" && grep -q -- "$bad" "$T/err"' \
      "$name $bad: the usage and the offending option on stderr ($(head -c 200 "$T/err"))"
    check '[ ! -s "$T/out" ]' "$name $bad writes nothing on stdout"
  done
done
# The servers also refuse a stray word after a good option and never start.
for b in gateway/mgr-gateway services/account/mgr-account services/ca/mgr-ca \
    services/vault/mgr-vault; do
  name=$(basename "$b")
  timeout 10 "$MGR_BIN/$b" --help extra >"$T/out" 2>"$T/err"; rc=$?
  check '[ $rc = 2 ] && grep -q "extra" "$T/err"' "$name --help extra exits 2 (rc $rc)"
done
check '[ ! -e "$T/nowhere" ]' "no data dir made by --version/--help"
echo "$T_PASSES passed, $T_FAILS failed"
[ "$T_FAILS" -eq 0 ]
