#!/usr/bin/env bash
# The gateway never reads a body without end: a body sent to a route that
# takes none is dropped past 4 MiB (GW_DRAIN_MAX), also without credentials,
# and a refused object upload (over the quota) is read at most
# MANAGER_MAX_OBJECT_BYTES further; both without Content-Length (chunked),
# which no header check can refuse up front. The client sends 256 MiB and
# must see the connection dropped before the end.
export MANAGER_MAX_OBJECT_BYTES=$((2 * 1024 * 1024))
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
. "$(dirname "$0")/../lib/vault.sh"
stack_up
W=$T_DIR/w
mkdir -p "$W"

# send_chunked PATH MiB [CERT]: prints "dropped" if the server stopped reading
# (closed or reset) before the whole chunked body was sent, else its status.
send_chunked() {
  python3 - "$URL" "$CA" "$@" <<'PY'
import socket, ssl, sys, urllib.parse
url, ca, path, mib = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
cert = sys.argv[5] if len(sys.argv) > 5 else None
u = urllib.parse.urlparse(url)
ctx = ssl.create_default_context(cafile=ca)
if cert: ctx.load_cert_chain(cert + ".crt", cert + ".key")
s = ctx.wrap_socket(socket.create_connection((u.hostname, u.port)), server_hostname=u.hostname)
s.settimeout(60)
method = "PUT" if cert else "GET"
s.sendall(("%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
           "Transfer-Encoding: chunked\r\n\r\n" % (method, path)).encode())
chunk = b"10000\r\n" + b"x" * 65536 + b"\r\n"
try:
    for _ in range(mib * 16):
        s.sendall(chunk)
    s.sendall(b"0\r\n\r\n")
except OSError:
    print("dropped"); sys.exit(0)
line = s.recv(200).split(b"\r\n")[0].decode(errors="replace")
print(line.split(" ")[1] if line.startswith("HTTP/") else "dropped")
PY
}

R=$(send_chunked /healthz 8); check '[ "$R" = 200 ] || [ "$R" = dropped ]' "8 MiB on /healthz: $R"
R=$(send_chunked /healthz 256)
check '[ "$R" = dropped ]' "256 MiB chunked body on GET /healthz (no credentials) is not read to the end: $R"
R=$(send_chunked /api/v1/ca/crl 256)
check '[ "$R" = dropped ]' "256 MiB chunked body on GET /api/v1/ca/crl is not read to the end: $R"

# An owner's upload over the vault's quota: refused, then read only so far.
make_pending_account drain-app drainuser "drain-pw-$RANDOM-long"
gen_csr "$W/a" "/O=Manager tests/CN=drain-app"
register "$ACC_ID" "$W/a.csr" "" "drainuser:$ACC_PW"
expect_status 201 "registered"
jfield certificate >"$W/a.crt"
TPL=$(mk_tpl small vault 1000)
app_json POST /api/v1/vaults "{\"name\":\"small-vault\",\"vault_template_id\":\"$TPL\"}" "$W/a"
expect_status 201 "vault with a 1000-byte quota"
R=$(send_chunked /api/v1/vaults/small-vault/objects/big 1 "$W/a")
check '[ "$R" = 413 ]' "1 MiB chunked upload over the quota is answered 413: $R"
R=$(send_chunked /api/v1/vaults/small-vault/objects/big 256 "$W/a")
check '[ "$R" = dropped ]' "256 MiB chunked upload over the quota is not read to the end: $R"
app GET /api/v1/vaults/small-vault "$W/a"
check '[ "$(jfield object_count)" = 0 ]' "nothing stored"
api GET /healthz; expect_status 200 "the gateway still answers"
