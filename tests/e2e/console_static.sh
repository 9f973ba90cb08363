#!/usr/bin/env bash
# The admin console's static files: served at / and /console/<file> from the
# gateway binary itself (embedded at build time), byte for byte as in web/,
# with their content types and a strict Content-Security-Policy, no framing,
# and no-store. Unknown files are 404 with API.md's error body.
. "$(dirname "$0")/../lib/stack.sh"
stack_up

# hdr NAME: the value of response header NAME in $T_DIR/h (last response).
hdr() { grep -i "^$1:" "$T_DIR/h" | tail -1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'; }
get() { ST=$(curl -sS --cacert "$CA" -D "$T_DIR/h" -o "$T_DIR/b" -w '%{http_code}' "$URL$1"); BODY=$(cat "$T_DIR/b"); }

get /; expect_status 200 "GET /"
check 'cmp -s "$T_DIR/b" "$MGR_ROOT/web/index.html"' "/ is web/index.html"
check '[[ "$(hdr Content-Type)" == "text/html; charset=utf-8" ]]' "index content type"
csp=$(hdr Content-Security-Policy)
check '[[ "$csp" == *"default-src '"'self'"'"* ]]' "CSP default-src 'self'"
check '[[ "$csp" == *"frame-ancestors '"'none'"'"* ]]' "CSP frame-ancestors 'none'"
check '[[ "$csp" != *unsafe-inline* && "$csp" != *unsafe-eval* ]]' "CSP allows no inline code"
check '[ "$(hdr X-Frame-Options)" = DENY ]' "X-Frame-Options DENY"
check '[ "$(hdr Cache-Control)" = no-store ]' "Cache-Control no-store"
check '[ "$(hdr X-Content-Type-Options)" = nosniff ]' "nosniff"
# The page loads nothing from elsewhere (no CDN).
check '! grep -Eiq "(src|href)=\"(https?:)?//" "$MGR_ROOT/web/index.html"' "index loads nothing from other origins"

for f in app.js app.css favicon.svg index.html; do
  get "/console/$f"; expect_status 200 "GET /console/$f"
  check 'cmp -s "$T_DIR/b" "$MGR_ROOT/web/$f"' "/console/$f is web/$f"
  check '[ -n "$(hdr Content-Security-Policy)" ]' "/console/$f has a CSP"
done
get /console/app.js
check '[[ "$(hdr Content-Type)" == "text/javascript; charset=utf-8" ]]' "app.js content type"
get /console/app.css
check '[[ "$(hdr Content-Type)" == "text/css; charset=utf-8" ]]' "app.css content type"
get /console/favicon.svg
check '[[ "$(hdr Content-Type)" == "image/svg+xml" ]]' "favicon content type"
check '! grep -Eq "from +.https?:|import\\(.https?:|fetch\\(.https?:" "$MGR_ROOT/web/app.js"' "app.js loads nothing from other origins"

# Unknown files and paths: 404 not_found, JSON error body.
for p in /console/nope.js /console/ /console/..%2Fgw.h /console/app.js/x /index.html; do
  get "$p"; expect_status 404 "GET $p"; expect_code not_found "GET $p code"
done
# Only GET.
api POST / ; expect_status 405 "POST /"
api DELETE /console/app.js; expect_status 405 "DELETE /console/app.js"
# No credentials needed, and credentials do not matter.
api GET / -u nobody:wrongwrongwrong; expect_status 200 "GET / ignores Basic credentials"
