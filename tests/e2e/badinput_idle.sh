#!/usr/bin/env bash
# Regression: the gateway polled with select(), which refuses descriptors past
# FD_SETSIZE (1024): with about 1,000 idle TLS connections open every further
# client was dropped, far below the connection limit of 2048. Now 2,000 idle
# connections (nothing sent) are held and a new client is still served; once
# they go, everything is served as before.
. "$(dirname "$0")/../lib/stack.sh"
stack_up
export MGR_CA_PEM
IDLE=${BADINPUT_IDLE:-2000}
check '[ "$(ulimit -n)" -gt $((IDLE + 100)) ] || ulimit -n $((IDLE + 200))' \
  "open files limit allows $IDLE connections"

python3 - "$IDLE" >"$T_DIR/out" <<'PY'
import os, resource, socket, ssl, sys, time

PORT = int(os.environ["MANAGER_HTTPS_PORT"])
CA = os.environ["MGR_CA_PEM"]
N = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
fails = passes = 0
ctx = ssl.create_default_context(cafile=CA)
ctx.check_hostname = False

def check(cond, what):
    global passes, fails
    if cond:
        passes += 1
    else:
        fails += 1
        print("FAIL: " + what, flush=True)

def healthz():
    try:
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", PORT), timeout=15),
                            server_hostname="127.0.0.1")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        d = s.recv(4096)
        s.close()
        return int(d.split(b" ")[1]) if d else None
    except (OSError, ssl.SSLError, ValueError, IndexError):
        return None

socks = []
start = time.time()
for i in range(N):
    try:
        socks.append(ctx.wrap_socket(
            socket.create_connection(("127.0.0.1", PORT), timeout=15),
            server_hostname="127.0.0.1"))
    except (OSError, ssl.SSLError) as e:
        print("connection %d failed: %s" % (i, e), flush=True)
        break
print("opened %d idle TLS connections in %.1f s" % (len(socks), time.time() - start), flush=True)
check(len(socks) == N, "all %d idle connections accepted (got %d)" % (N, len(socks)))
# The idle ones are still open (not dropped) and a new client is served.
alive = 0
for s in socks[-50:]:
    s.setblocking(False)
    try:
        alive += 0 if s.recv(1) == b"" else 1
    except ssl.SSLWantReadError:
        alive += 1
    except (OSError, ssl.SSLError):
        pass
check(alive == min(50, len(socks)), "the last idle connections are still open (%d of 50)" % alive)
check(healthz() == 200, "a new client is served with %d idle connections" % len(socks))
for s in socks:
    s.close()
time.sleep(1)
check(healthz() == 200, "served after the idle connections went")
print("RESULT %d %d" % (passes, fails))
PY
grep -v '^RESULT' "$T_DIR/out"
read -r _ p f < <(grep '^RESULT' "$T_DIR/out" || echo "RESULT 0 1")
T_PASSES=$((T_PASSES + p))
T_FAILS=$((T_FAILS + f))
for p in $MGR_PIDS $MGR_REDIS_PID; do
  check "kill -0 $p 2>/dev/null" "process $p still running"
done
api GET /healthz; expect_status 200 "healthz at the end"
