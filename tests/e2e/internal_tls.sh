#!/usr/bin/env bash
# Internal traffic on tls+tcp:// with mutual TLS: the whole stack runs with
# each process's own certificate of the internal CA, /readyz is 200 (every
# service answers through TLS), and a client that is not one of ours (no
# certificate, or one from another CA) is refused at the handshake and gets
# not a byte of the SP protocol, while one of ours gets the SP header.
. "$(dirname "$0")/../lib/stack.sh"

CERTS=$(mktemp -d "${TMPDIR:-/tmp}/mgr-internal-certs.XXXXXX")
ROGUE=$CERTS/rogue
"$MGR_ROOT/deploy/scripts/make-internal-certs.sh" "$CERTS" gateway account ca vault 2>/dev/null ||
  fail_now "make-internal-certs.sh failed"
"$MGR_ROOT/deploy/scripts/make-internal-certs.sh" "$ROGUE" gateway 2>/dev/null ||
  fail_now "make-internal-certs.sh (rogue CA) failed"
check '[ "$(stat -c %a "$CERTS/account.key")" = 600 ]' "service key is 0600"
check 'openssl verify -CAfile "$CERTS/internal-ca.pem" "$CERTS/vault.pem" >/dev/null' "service cert chains to the internal CA"
check '! openssl verify -CAfile "$CERTS/internal-ca.pem" "$ROGUE/gateway.pem" >/dev/null 2>&1' "rogue cert does not"

export MGR_INTERNAL_CERTS_DIR=$CERTS
export MANAGER_ACCOUNT_ADDR=tls+tcp://127.0.0.1:$(mgr_free_port)
export MANAGER_CA_ADDR=tls+tcp://127.0.0.1:$(mgr_free_port)
export MANAGER_VAULT_ADDR=tls+tcp://127.0.0.1:$(mgr_free_port)
stack_up
trap 'rc=$?; rm -rf "$CERTS"; (exit $rc); stack_down' EXIT

api GET /readyz; expect_status 200 "readyz with every service on tls+tcp://"
api GET /api/v1/ca/certificate; expect_status 200 "CA certificate (fetched from ca-svc over TLS)"
for svc in account ca vault; do
  check 'grep -q "listening on tls+tcp://" "$MANAGER_DATA_DIR/logs/$svc.log"' "$svc listens on tls+tcp://"
done

# probe PORT [CERT KEY]: prints "sp" when the service spoke the SP protocol
# to us, "refused: ..." when the TLS handshake or the first read failed.
probe() {
  python3 - "$CERTS/internal-ca.pem" "$@" <<'PY'
import socket, ssl, sys
ca, port = sys.argv[1], int(sys.argv[2])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(ca)
ctx.check_hostname = False
if len(sys.argv) > 3:
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
try:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw) as s:
            # An SP peer sends its 8-byte header first: 0 'S' 'P' 0 ...
            s.sendall(b"\x00SP\x00\x00\x30\x00\x00")  # we are a REQ (48)
            hdr = b""
            while len(hdr) < 8:
                b = s.recv(8 - len(hdr))
                if not b:
                    break
                hdr += b
            print("sp" if hdr[:4] == b"\x00SP\x00" else "refused: got %r" % hdr)
except (ssl.SSLError, OSError) as e:
    print("refused: %s" % e.__class__.__name__)
PY
}
for svc in account ca vault; do
  eval "addr=\$MANAGER_$(echo $svc | tr a-z A-Z)_ADDR"
  port=${addr##*:}
  out=$(probe "$port" "$CERTS/gateway.pem" "$CERTS/gateway.key")
  check '[ "$out" = sp ]' "$svc answers a client with an internal certificate ($out)"
  out=$(probe "$port")
  check '[[ $out == refused* ]]' "$svc refuses a client without a certificate ($out)"
  out=$(probe "$port" "$ROGUE/gateway.pem" "$ROGUE/gateway.key")
  check '[[ $out == refused* ]]' "$svc refuses a certificate of another CA ($out)"
done
check '! timeout 10 openssl s_client -connect "127.0.0.1:${MANAGER_CA_ADDR##*:}" -CAfile "$CERTS/internal-ca.pem" </dev/null >/dev/null 2>&1' \
  "openssl s_client without -cert fails"

# The services still answer after those refused handshakes.
api GET /readyz; expect_status 200 "readyz after refused clients"

# A service whose certificate does not name the host the gateway dials is
# not trusted: restart vault with a certificate for another name only.
mkdir -p "$CERTS/other"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=elsewhere \
  -keyout "$CERTS/other/vault.key" -out "$CERTS/other/vault.csr" 2>/dev/null
printf 'extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:elsewhere.example\n' >"$CERTS/other/ext"
openssl x509 -req -in "$CERTS/other/vault.csr" -CA "$CERTS/internal-ca.pem" -CAkey "$CERTS/internal-ca.key" \
  -CAcreateserial -CAserial "$CERTS/other/serial" -days 30 -extfile "$CERTS/other/ext" \
  -out "$CERTS/other/vault.pem" 2>/dev/null
kill -TERM "$MGR_PID_vault"; wait "$MGR_PID_vault" 2>/dev/null
mgr_spawn vault env MANAGER_INTERNAL_TLS_CERT="$CERTS/other/vault.pem" \
  MANAGER_INTERNAL_TLS_KEY="$CERTS/other/vault.key" MANAGER_INTERNAL_TLS_CA="$CERTS/internal-ca.pem" \
  "$MGR_BIN/services/vault/mgr-vault"
mgr_wait "[ \$(grep -c 'vault service listening' '$MANAGER_DATA_DIR/logs/vault.log') -ge 2 ]" 10
check '! mgr_wait "curl -sf --cacert $CA $URL/readyz" 5' "vault with a certificate for another host stays unreachable"
api GET /readyz; expect_status 503 "readyz when vault's certificate names another host"
check '[[ $BODY == *vault* ]]' "503 names vault"
kill -TERM "$MGR_PID_vault"; wait "$MGR_PID_vault" 2>/dev/null
mgr_spawn_proc vault vault
mgr_wait "curl -sf --cacert $CA $URL/readyz" 20
api GET /readyz; expect_status 200 "readyz with vault's own certificate back"

# A plain tcp:// address would let any process that reaches the port call
# the service as any caller: the service refuses it and does not start.
P=$(mgr_free_port)
timeout 20 env MANAGER_LISTEN_ADDR=tcp://127.0.0.1:$P "$MGR_BIN/services/vault/mgr-vault" >"$T_DIR/plain.log" 2>&1
rc=$?
check '[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]' "a vault service on plain tcp:// refuses to start (rc $rc)"
check 'grep -q "must be ipc:// or tls+tcp://" "$T_DIR/plain.log"' "and says why"
