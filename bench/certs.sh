#!/usr/bin/env bash
# Certificate signing over the API: forced renewals and rotations with fresh
# CSRs over mTLS, keep-alive, every certificate stored. Prints certificates
# per second with p50/p99 latency next to `openssl speed` signatures per
# second for the CA key type on the same machine.
#
# Usage: bench/certs.sh [SECONDS] [CONNECTIONS]
#   MGR_BUILD_DIR   a Release build (default: build-release, built if missing)
#   MANAGER_CA_KEY_TYPE  rsa2048 (default) or ec-p256
# Not part of scripts/test.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-10}
CONNS=${2:-16}
export MGR_BUILD_DIR=${MGR_BUILD_DIR:-$ROOT/build-release}
if [ ! -x "$MGR_BUILD_DIR/gateway/mgr-gateway" ]; then
  cmake -S "$ROOT" -B "$MGR_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    make -C "$MGR_BUILD_DIR" -j2 >/dev/null || { echo "build failed" >&2; exit 1; }
fi
export MANAGER_LOG_LEVEL=warn
. "$ROOT/tests/lib/stack.sh"
. "$ROOT/tests/lib/certs.sh"
stack_up
B=$T_DIR/bench
mkdir -p "$B"

# One registered account per connection, so that connections do not race on
# one account's newest certificate.
for i in $(seq 1 "$CONNS"); do
  make_pending_account "bench-$i" "bench-user-$i" "bench-password-$i-xyz"
  gen_csr "$B/c$i" "/O=Bench/CN=bench-$i" ec
  register "$ACC_ID" "$B/c$i.csr" "" "bench-user-$i:$ACC_PW"
  [ "$ST" = 201 ] || fail_now "registration $i: $ST $BODY"
  jfield certificate >"$B/c$i.crt"
  echo "$ACC_ID $B/c$i.crt $B/c$i.key" >>"$B/accounts"
done

python3 - "$URL" "$CA" "$B/accounts" "$SECS" <<'PY'
import http.client, json, ssl, sys, threading, time, datetime, urllib.parse
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

url, ca, accounts, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
u = urllib.parse.urlparse(url)
accts = [l.split() for l in open(accounts)]

def csr_pem(cn):
    k = ec.generate_private_key(ec.SECP256R1())
    c = (x509.CertificateSigningRequestBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Bench"),
                                  x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
         .sign(k, hashes.SHA256()))
    return c.public_bytes(serialization.Encoding.PEM).decode()

def run(kind):
    lat, errs = [], []
    stop = time.time() + secs
    base = int(time.time()) + 2 * 365 * 86400
    def worker(i, acct):
        aid, crt, key = acct
        ctx = ssl.create_default_context(cafile=ca)
        ctx.load_cert_chain(crt, key)
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx)
        n = 0
        while time.time() < stop:
            n += 1
            if kind == "renew":
                t = datetime.datetime.utcfromtimestamp(base + n * 60 + i).strftime("%Y-%m-%dT%H:%M:%SZ")
                path, body = f"/api/v1/accounts/{aid}/certificates/renew", {"expiration_date": t}
            else:
                path, body = (f"/api/v1/accounts/{aid}/certificates/rotate",
                              {"csr": csr_pem(f"bench-{i + 1}"), "revoke": []})
            t0 = time.perf_counter()
            conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            r = conn.getresponse(); data = r.read()
            lat.append(time.perf_counter() - t0)
            ok = (r.status == 200 and json.loads(data).get("renewed")) if kind == "renew" else r.status == 201
            if not ok:
                errs.append((r.status, data[:200]))
    ts = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(accts)]
    for t in ts: t.start()
    for t in ts: t.join()
    lat.sort()
    n = len(lat) - len(errs)
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else 0
    print(f"{kind:8s} {n / secs:10.1f} certs/s   p50 {p(0.5):7.2f} ms   p99 {p(0.99):7.2f} ms   errors {len(errs)}")
    if errs: print("  first error:", errs[0])

print(f"{len(accts)} connections, {secs:.0f} s each")
run("renew")
run("rotate")
PY

case ${MANAGER_CA_KEY_TYPE:-rsa2048} in
  ec-p256) alg=ecdsap256 ;;
  *) alg=rsa2048 ;;
esac
echo "openssl speed $alg (same machine, all cores):"
openssl speed -seconds 3 -multi "$(nproc)" "$alg" 2>/dev/null | tail -n 2
