#!/usr/bin/env bash
# The admin console in a real browser (tests/browser/console.test.mjs):
# Debian's chromium, headless, driven by playwright-core against this stack.
# Screenshots go to the test's temp dir and the last run's are copied to
# out/screenshots/ under the repository root (gitignored).
. "$(dirname "$0")/../lib/stack.sh"

BROWSER_DIR=$MGR_ROOT/tests/browser
CHROMIUM=${CONSOLE_CHROMIUM:-/usr/bin/chromium}
# scripts/test installs chromium and node (scripts/lib/deps.sh); without
# them (a bare developer machine) this test says so and does not run.
if [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "skipped: needs $CHROMIUM, node and npm (scripts/test installs them)"
  echo "0 passed, 0 failed"
  exit 0
fi
if [ ! -d "$BROWSER_DIR/node_modules/playwright-core" ]; then
  (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error) ||
    { echo "FAIL: npm ci in tests/browser" >&2; exit 1; }
fi

stack_up
# Until the accounts routes are merged the console has nothing to drive.
api GET /api/v1/accounts -u "$ADMIN"
if [ "$ST" = 404 ] && [ "$(jfield error.message)" = "no such route" ]; then
  echo "skipped: this gateway has no accounts routes yet"
  exit 0
fi

OUT=$T_DIR/browser
mkdir -p "$OUT"
CONSOLE_URL=$URL CONSOLE_ADMIN=$ADMIN CONSOLE_CA=$CA CONSOLE_OUT=$OUT \
  CONSOLE_CHROMIUM=$CHROMIUM node "$BROWSER_DIR/console.test.mjs"
rc=$?
# The last run's screenshots, for people to look at.
rm -rf "$MGR_ROOT/out/screenshots"
mkdir -p "$MGR_ROOT/out"
cp -r "$OUT/screenshots" "$MGR_ROOT/out/screenshots" 2>/dev/null
rm -rf "$OUT/profile"
check '[ "$rc" = 0 ]' "the browser test (screenshots in out/screenshots/)"
