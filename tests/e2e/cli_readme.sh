#!/usr/bin/env bash
# Runs the README's mgr walk-through (the ```sh mgr-walkthrough blocks)
# against a fresh stack, the way readme.sh runs the curl one, so that it
# cannot rot.
. "$(dirname "$0")/../lib/stack.sh"
stack_up
WORK=$T_DIR/readme
mkdir -p "$WORK"
python3 - "$MGR_ROOT/README.md" > "$WORK/walkthrough.sh" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"```sh mgr-walkthrough\n(.*?)```", text, re.S)
print("set -euo pipefail")
print("\n".join(blocks))
PY
check '[ "$(grep -c . "$WORK/walkthrough.sh")" -gt 20 ]' "walkthrough extracted"
out=$(cd "$WORK" && PATH="$MGR_BIN/cli:$PATH" MGR="$URL" CA="$CA" ADMIN_PW="$MANAGER_ADMIN_PASSWORD" \
  bash "$WORK/walkthrough.sh" 2>&1)
rc=$?
echo "$out" | tail -n 40
check '[ $rc -eq 0 ]' "walkthrough runs to the end"
check 'grep -q "^mgr " <<<"$out"' "mgr --version"
check 'grep -q "^600 billing.json" <<<"$out"' "the bundle is 0600"
check 'grep -q "cert.pem: OK" <<<"$out"' "the enrolled certificate verifies"
check 'grep -q "refused: 1" <<<"$out" && grep -q "401 unauthenticated" <<<"$out"' "the used bundle is refused with 401"
check '[ "$(grep -c "hello, vault" <<<"$out")" -ge 2 ]' "the object reads back, also after rotation"
check 'grep -q "^not renewed" <<<"$out" && grep -q "^renewed" <<<"$out"' "renew only when needed"
check 'grep -q "daemon stopped cleanly" <<<"$out"' "the daemon stops with exit 0"
check 'grep -q "^rotated" <<<"$out"' "rotated"
check '[ "$(grep -c "refused: 1" <<<"$out")" -ge 2 ]' "a disabled account is refused"
