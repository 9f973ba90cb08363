#!/usr/bin/env bash
# Bounded memory (API.md "Vault storage (v2)"): a 1 GiB PUT and GET through
# the REST API with the peak RSS (VmHWM, reset before each transfer) of the
# gateway and the vault service measured and printed: each under 256 MiB and
# grown by less than 128 MiB. And the default limit of 5 GiB without sending
# 5 GiB: a Content-Length of exactly 5 GiB is let in (100 Continue), one
# byte more is 413 before any byte is read, and neither leaves anything.
# Slow (1 GiB through TLS and AES-GCM each way): the plain pass only.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
. "$(dirname "$0")/../lib/vault.sh"
unset MANAGER_MAX_OBJECT_BYTES
export MANAGER_VAULT_GC_GRACE_S=0 MANAGER_VAULT_GC_INTERVAL_S=1
stack_up

app_identity alice
rcli() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
MiB=1048576 GiB=1073741824
OBJ=$MANAGER_DATA_DIR/objects
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
reset_peak() { local p; for p in "$MGR_PID_gateway" "$MGR_PID_vault"; do echo 5 >"/proc/$p/clear_refs"; done; }

T=$(mk_tpl big vault)
V=$(mk_vault large "$T")
head -c $GiB /dev/urandom >"$T_DIR/g"
SUM=$(sha256sum "$T_DIR/g" | cut -d' ' -f1)

# report WHAT: prints each process's RSS now and its peak since reset_peak,
# and checks the bounds against the RSS before (GW0, VS0).
report() {
  local what=$1 gwp vsp
  gwp=$(kib "$MGR_PID_gateway" VmHWM) vsp=$(kib "$MGR_PID_vault" VmHWM)
  echo "1 GiB $what: gateway peak RSS $((gwp / 1024)) MiB (from $((GW0 / 1024)) MiB), vault service peak RSS $((vsp / 1024)) MiB (from $((VS0 / 1024)) MiB), $2 s" >&2
  check '[ $gwp -lt $((256 * 1024)) ] && [ $((gwp - GW0)) -lt $((128 * 1024)) ]' "1 GiB $what: the gateway's peak RSS $((gwp / 1024)) MiB (+$(((gwp - GW0) / 1024)))"
  check '[ $vsp -lt $((256 * 1024)) ] && [ $((vsp - VS0)) -lt $((128 * 1024)) ]' "1 GiB $what: the vault service's peak RSS $((vsp / 1024)) MiB (+$(((vsp - VS0) / 1024)))"
}

GW0=$(kib "$MGR_PID_gateway" VmRSS) VS0=$(kib "$MGR_PID_vault" VmRSS)
reset_peak
t0=$EPOCHREALTIME
ST=$(app_curl alice -o "$T_DIR/put.out" -w '%{http_code}' -T "$T_DIR/g" "$URL/api/v1/vaults/large/objects/one-gib")
t1=$EPOCHREALTIME
check '[ "$ST" = 201 ] && grep -q "\"etag\":\"$SUM\"" "$T_DIR/put.out"' "PUT 1 GiB: 201, the etag is its SHA-256"
report PUT "$(echo "$t1 - $t0" | bc)"

GW0=$(kib "$MGR_PID_gateway" VmRSS) VS0=$(kib "$MGR_PID_vault" VmRSS)
reset_peak
t0=$EPOCHREALTIME
GOT=$(app_curl alice -w '%{http_code}' -o >(sha256sum | cut -d' ' -f1 >"$T_DIR/get.sum") "$URL/api/v1/vaults/large/objects/one-gib")
t1=$EPOCHREALTIME
mgr_wait '[ -s "$T_DIR/get.sum" ]' 30
check '[ "$GOT" = 200 ] && [ "$(cat "$T_DIR/get.sum")" = "$SUM" ]' "GET 1 GiB: 200, the same bytes"
report GET "$(echo "$t1 - $t0" | bc)"
rm -f "$T_DIR/g"
app_api alice GET /api/v1/vaults/large
USED=$(jfield bytes_used)
check '[ "$USED" = $GiB ]' "bytes_used is 1 GiB"
FILES=$(find "$OBJ/$V" -type f | wc -l)

# ---- the 5 GiB limit, without 5 GiB -------------------------------------------
# first_line LENGTH: the first status line answering a PUT that declares
# LENGTH bytes and waits for 100 Continue (no body sent).
first_line() {
  python3 - "$1" <<'EOF'
import os, socket, ssl, sys
t = os.environ["T_DIR"]
ctx = ssl.create_default_context(cafile=os.environ["CA"])
ctx.load_cert_chain(t + "/apps/alice.pem", t + "/apps/alice.key")
host, port = os.environ["URL"].split("//")[1].split(":")
s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=20), server_hostname=host)
s.sendall(("PUT /api/v1/vaults/large/objects/five HTTP/1.1\r\nHost: %s\r\nContent-Length: %s\r\n"
           "Expect: 100-continue\r\n\r\n" % (host, sys.argv[1])).encode())
buf = b""
while b"\r\n" not in buf:
    d = s.recv(4096)
    if not d:
        break
    buf += d
print(buf.split(b"\r\n")[0].decode(errors="replace"))
s.close()
EOF
}
export T_DIR CA URL
L=$(first_line 5368709120)
check '[[ $L == *" 100 "* ]]' "a PUT of exactly 5 GiB (the default limit) is let in: $L"
L=$(first_line 5368709121)
check '[[ $L == *" 413 "* ]]' "a PUT declaring 5 GiB + 1 is refused before its body: $L"
L=$(first_line 99999999999999)
check '[[ $L == *" 413 "* ]]' "a PUT declaring 90 TB is refused before its body: $L"
app_api alice HEAD /api/v1/vaults/large/objects/five -I; expect_status 404 "nothing stored by the 5 GiB attempts"
check 'mgr_wait "[ -z \"\$(rcli --scan --pattern \"vault:{$V}:up:*\")\" ] && [ \$(find $OBJ/$V -type f | wc -l) = $FILES ]" 20' "no upload and no file left by them"
app_api alice GET /api/v1/vaults/large
check '[ "$(jfield bytes_used)" = $GiB ] && [ "$(jfield object_count)" = 1 ]' "the vault's counters unchanged"
