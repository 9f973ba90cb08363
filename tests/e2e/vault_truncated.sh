#!/usr/bin/env bash
# Bodies that do not arrive whole, over real TLS connections: cut in the
# middle (connection closed), shorter than their Content-Length (the client
# half-closes and waits), a chunked body cut off before its last chunk, and
# a malformed chunk size. Each on an existing key and on a new one, in a
# vault with a quota: nothing stored, the old version served intact, the
# quota's counters unchanged, no upload record and no chunk file left.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
. "$(dirname "$0")/../lib/vault.sh"
export MANAGER_VAULT_GC_GRACE_S=0 MANAGER_VAULT_GC_INTERVAL_S=1
stack_up

app_identity alice
rcli() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
MiB=1048576
OBJ=$MANAGER_DATA_DIR/objects
T=$(mk_tpl q vault $((40 * MiB)))
V=$(mk_vault trunc "$T")
head -c $((3 * MiB + 5)) /dev/urandom >"$T_DIR/old"
ST=$(app_curl alice -o /dev/null -w '%{http_code}' -T "$T_DIR/old" "$URL/api/v1/vaults/trunc/objects/old")
[ "$ST" = 201 ] || fail_now "setup PUT: $ST"
app_api alice GET /api/v1/vaults/trunc; USED=$(jfield bytes_used) COUNT=$(jfield object_count)
FILES=$(find "$OBJ/$V" -type f | wc -l)

# send MODE KEY: one PUT over its own TLS connection; prints the status
# line of the answer, or "none" when the connection ends without one.
#   cut     Content-Length 8 MiB, 3 MiB sent, connection closed
#   short   Content-Length 8 MiB, 3 MiB sent, write side shut, answer awaited
#   chunked 3 MiB in 64 KiB chunks, no last chunk, connection closed
#   chunkeof the same, write side shut, answer awaited
#   badsize a chunk size that is not hex after 1 MiB of chunks
send() {
  python3 - "$1" "$2" <<'EOF'
import os, socket, ssl, sys
mode, key = sys.argv[1], sys.argv[2]
t = os.environ["T_DIR"]
ctx = ssl.create_default_context(cafile=os.environ["CA"])
ctx.load_cert_chain(t + "/apps/alice.pem", t + "/apps/alice.key")
host, port = os.environ["URL"].split("//")[1].split(":")
s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=30), server_hostname=host)
data = os.urandom(3 << 20)
head = "PUT /api/v1/vaults/trunc/objects/%s HTTP/1.1\r\nHost: %s\r\n" % (key, host)
if mode in ("cut", "short"):
    s.sendall((head + "Content-Length: %d\r\n\r\n" % (8 << 20)).encode())
    s.sendall(data)
else:
    s.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
    n = (1 << 20) if mode == "badsize" else len(data)
    for i in range(0, n, 65536):
        s.sendall(b"%x\r\n" % 65536 + data[i:i + 65536] + b"\r\n")
    if mode == "badsize":
        s.sendall(b"zz\r\n" + b"x" * 100 + b"\r\n")
if mode in ("cut", "chunked"):
    s.close()
    print("none")
    sys.exit(0)
if mode != "badsize":
    # A half-close: TLS close_notify, then FIN on the write side.
    try:
        s = s.unwrap()
    except (ssl.SSLError, OSError):
        pass
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
buf = b""
try:
    while b"\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            break
        buf += d
except (ssl.SSLError, OSError):
    pass
print(buf.split(b"\r\n")[0].decode(errors="replace") if buf else "none")
EOF
}
export T_DIR CA URL

# unchanged WHAT: the old object intact, the new key absent, counters and
# files as before, no upload left.
unchanged() {
  app_curl alice -o "$T_DIR/old.got" "$URL/api/v1/vaults/trunc/objects/old" 2>/dev/null
  check 'cmp -s "$T_DIR/old" "$T_DIR/old.got"' "$1: the old version is served intact"
  app_api alice HEAD /api/v1/vaults/trunc/objects/new -I
  check '[ "$ST" = 404 ]' "$1: nothing stored under a new key"
  app_api alice GET /api/v1/vaults/trunc
  check '[ "$(jfield bytes_used)" = "$USED" ] && [ "$(jfield object_count)" = "$COUNT" ]' "$1: the quota's counters unchanged"
  check 'mgr_wait "[ -z \"\$(rcli --scan --pattern \"vault:{$V}:up:*\")\" ] && [ \$(find $OBJ/$V -type f | wc -l) = $FILES ]" 20' "$1: no upload record and no chunk file left"
}

for mode in cut short chunked chunkeof badsize; do
  for key in old new; do
    R=$(send $mode $key)
    case $mode in
      short|chunkeof) check '[ "$R" = none ] || [[ $R == *" 400 "* ]]' "$mode body on $key: no answer or 400 ($R)" ;;
      badsize) check '[[ $R == *" 400 "* ]] || [ "$R" = none ]' "$mode body on $key: 400 ($R)" ;;
    esac
    echo "$mode body on $key: $R" >&2
  done
  unchanged "$mode body"
done

# The stack still takes a whole body afterwards.
head -c $((2 * MiB)) /dev/urandom >"$T_DIR/whole"
ST=$(app_curl alice -o /dev/null -w '%{http_code}' -T "$T_DIR/whole" "$URL/api/v1/vaults/trunc/objects/old")
app_curl alice -o "$T_DIR/whole.got" "$URL/api/v1/vaults/trunc/objects/old"
check '[ "$ST" = 200 ] && cmp -s "$T_DIR/whole" "$T_DIR/whole.got"' "a whole body afterwards overwrites the key"
