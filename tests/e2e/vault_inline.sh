#!/usr/bin/env bash
# Small objects come back inline with vault.HeadObject (one RPC per GET): the
# data, headers and sizes at the one-chunk boundary, HEAD without a body, and
# mirrors read from either copy (and repaired) on that path too.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
. "$(dirname "$0")/../lib/vault.sh"
stack_up

app_identity alice
rcli() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
J='Content-Type: application/json'
MiB=1048576

put() { # FILE PATH
  ST=$(app_curl alice -o "$T_DIR/put.out" -w '%{http_code}' -T "$1" "$URL$2")
}
get() { # PATH FILE
  ST=$(app_curl alice -D "$T_DIR/get.h" -o "$2" -w '%{http_code}' "$URL$1")
}
sum() { sha256sum "$1" | cut -d' ' -f1; }

T_V=$(mk_tpl plain vault)
T_M=$(mk_tpl mirror mirror)
V_P=$(mk_vault small "$T_V")
V_M=$(mk_vault smallmirror "$T_V" "$T_M")

# ---- sizes around one chunk -------------------------------------------------
for n in 1 1024 $((MiB - 1)) $MiB $((MiB + 1)); do
  head -c "$n" /dev/urandom >"$T_DIR/o$n"
  put "$T_DIR/o$n" "/api/v1/vaults/small/objects/o$n"
  expect_status 201 "PUT $n bytes"
  get "/api/v1/vaults/small/objects/o$n" "$T_DIR/o$n.got"
  expect_status 200 "GET $n bytes"
  check '[ "$(sum "$T_DIR/o$n.got")" = "$(sum "$T_DIR/o$n")" ]' "$n bytes come back intact"
  check 'grep -qi "^content-length: $n" "$T_DIR/get.h" && grep -qi "^etag: \"$(sum "$T_DIR/o$n")\"" "$T_DIR/get.h" && grep -qi "^content-type: application/octet-stream" "$T_DIR/get.h" && grep -qi "^last-modified: " "$T_DIR/get.h"' "$n bytes: GET headers"
  ST=$(app_curl alice -I -o "$T_DIR/head.h" -w '%{http_code}' "$URL/api/v1/vaults/small/objects/o$n")
  expect_status 200 "HEAD $n bytes"
  check 'grep -qi "^content-length: $n" "$T_DIR/head.h" && grep -qi "^etag: \"$(sum "$T_DIR/o$n")\"" "$T_DIR/head.h"' "$n bytes: HEAD headers, no body"
done
: >"$T_DIR/empty"
put "$T_DIR/empty" /api/v1/vaults/small/objects/empty
expect_status 201 "PUT 0 bytes"
get /api/v1/vaults/small/objects/empty "$T_DIR/empty.got"
expect_status 200 "GET 0 bytes"
check '[ ! -s "$T_DIR/empty.got" ] && grep -qi "^content-length: 0" "$T_DIR/get.h"' "0 bytes: empty body"
get /api/v1/vaults/small/objects/none "$T_DIR/none.got"
expect_status 404 "GET of a missing small object"
# An overwrite: the next GET has the new data.
head -c 1024 /dev/urandom >"$T_DIR/o1024b"
put "$T_DIR/o1024b" /api/v1/vaults/small/objects/o1024
expect_status 200 "overwrite 1 KiB"
get /api/v1/vaults/small/objects/o1024 "$T_DIR/o1024.got"
check '[ "$(sum "$T_DIR/o1024.got")" = "$(sum "$T_DIR/o1024b")" ]' "GET after an overwrite has the new data"

# ---- another account's vault -------------------------------------------------
app_identity bob
ST=$(app_curl bob -o /dev/null -w '%{http_code}' "$URL/api/v1/vaults/small/objects/o1024")
expect_status 403 "another account may not GET a small object"

# ---- mirror: either copy ------------------------------------------------------
head -c 1024 /dev/urandom >"$T_DIR/m"
M_SUM=$(sum "$T_DIR/m")
put "$T_DIR/m" /api/v1/vaults/smallmirror/objects/m
expect_status 201 "PUT 1 KiB into a mirrored vault"
VER=$(rcli HGET "vault:{$V_M}:o:m" ver)
K0=$MANAGER_DATA_DIR/objects/$V_M/$VER/0 K1=$MANAGER_DATA_DIR/mirror/$V_M/$VER/0
fsize() { stat -c %s "$1" 2>/dev/null || echo 0; }
check '[ -f "$K0" ] && [ -f "$K1" ]' "two copies of the one chunk"
rm -f "$K0"
get /api/v1/vaults/smallmirror/objects/m "$T_DIR/m.got"
expect_status 200 "GET with copy 0 gone"
check '[ "$(sum "$T_DIR/m.got")" = "$M_SUM" ]' "read from copy 1 is intact"
check '[ "$(fsize "$K0")" = $((1024 + 32)) ]' "copy 0 repaired by the read"
rm -f "$K1"
get /api/v1/vaults/smallmirror/objects/m "$T_DIR/m.got"
expect_status 200 "GET with copy 1 gone"
check '[ "$(sum "$T_DIR/m.got")" = "$M_SUM" ]' "read from copy 0 is intact"
check '[ "$(fsize "$K1")" = $((1024 + 32)) ]' "copy 1 repaired by the read"
# A copy of the wrong length counts as missing.
echo short >"$K0"
get /api/v1/vaults/smallmirror/objects/m "$T_DIR/m.got"
check '[ "$ST" = 200 ] && [ "$(sum "$T_DIR/m.got")" = "$M_SUM" ]' "a damaged copy 0 is read around"
# Both copies gone: the read fails rather than returning wrong data.
rm -f "$K0" "$K1"
app_curl alice -o "$T_DIR/m.bad" "$URL/api/v1/vaults/smallmirror/objects/m" 2>/dev/null
rc=$?
check '[ $rc -ne 0 ] && [ "$(sum "$T_DIR/m.bad" 2>/dev/null)" != "$M_SUM" ]' "both copies lost fails the read"
ST=$(app_curl alice -I -o /dev/null -w '%{http_code}' "$URL/api/v1/vaults/smallmirror/objects/m")
expect_status 200 "HEAD still answers from the metadata"

