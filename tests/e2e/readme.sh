#!/usr/bin/env bash
# Runs the README's walk-through (the ```sh walkthrough blocks) against a
# fresh stack, so that the README cannot rot.
. "$(dirname "$0")/../lib/stack.sh"
stack_up
WORK=$T_DIR/readme
mkdir -p "$WORK"
python3 - "$MGR_ROOT/README.md" > "$WORK/walkthrough.sh" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"```sh walkthrough\n(.*?)```", text, re.S)
print("set -euo pipefail")
print("\n".join(blocks))
PY
check '[ "$(grep -c . "$WORK/walkthrough.sh")" -gt 20 ]' "walkthrough extracted"
out=$(cd "$WORK" && MGR="$URL" S3="https://127.0.0.1:$MANAGER_S3_PORT" CA="$CA" ADMIN_PW="$MANAGER_ADMIN_PASSWORD" bash "$WORK/walkthrough.sh" 2>&1)
rc=$?
echo "$out" | tail -n 40
check '[ $rc -eq 0 ]' "walkthrough runs to the end"
check 'grep -q "app.pem: OK" <<<"$out"' "the issued certificate verifies"
check '[ "$(grep -c "^401$" <<<"$out")" -ge 3 ]' "consumed secret, revoked cert, disabled account each get 401"
check '[ "$(grep -c "^403$" <<<"$out")" -ge 2 ]' "admin gets 403 on vault data, S3 without a certificate too"
check 'grep -q "<Name>billing-data</Name>" <<<"$out"' "S3 ListBuckets names the vault"
check '[ "$(grep -c "hello, vault" <<<"$out")" -ge 2 ]' "the object reads back with the old and the rotated key"
