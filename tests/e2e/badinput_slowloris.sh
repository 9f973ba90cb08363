#!/usr/bin/env bash
# Regression: a slow-loris client (one request-header byte a second) kept its
# connection and thread for ever, because libmicrohttpd's connection timeout
# counts from the last byte received. The gateway must close such a
# connection within its connection timeout (60 s, plus a margin here), serve
# other clients meanwhile, and a completed request on a keep-alive
# connection must not count against the next one's header time.
. "$(dirname "$0")/../lib/stack.sh"
stack_up
export MGR_CA_PEM

python3 - >"$T_DIR/out" <<'PY'
import os, socket, ssl, threading, time

PORT = int(os.environ["MANAGER_HTTPS_PORT"])
CA = os.environ["MGR_CA_PEM"]
fails = passes = 0

def connect(timeout=10):
    c = ssl.create_default_context(cafile=CA)
    c.check_hostname = False
    return c.wrap_socket(socket.create_connection(("127.0.0.1", PORT), timeout=timeout),
                         server_hostname="127.0.0.1")

def get(s, path="/healthz"):
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: a\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(4096)
        if not d:
            return None
        data += d
    head, _, body = data.partition(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            n = int(line.split(b":")[1])
    while len(body) < n:
        body += s.recv(4096)
    return int(head.split(b" ")[1])

def slow(result, prefix=b""):
    """Sends a header a byte a second; records when the server closes."""
    try:
        s = connect()
        if prefix:
            result["first"] = get(s)
    except (OSError, ssl.SSLError) as e:
        result["error"] = str(e)
        return
    start = time.time()
    payload = b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"x" * 1000
    for i in range(len(payload)):
        try:
            s.sendall(payload[i:i + 1])
            s.settimeout(1.0)
            try:
                if s.recv(1) == b"":
                    break
            except socket.timeout:
                pass
        except (OSError, ssl.SSLError):
            break
        if time.time() - start > 85:
            result["after"] = None
            s.close()
            return
    result["after"] = time.time() - start
    s.close()

def check(cond, what):
    global passes, fails
    if cond:
        passes += 1
    else:
        fails += 1
        print("FAIL: " + what, flush=True)

fresh, reused = {}, {}
threads = [threading.Thread(target=slow, args=(fresh,)),
           threading.Thread(target=slow, args=(reused, True))]
for t in threads:
    t.start()
time.sleep(3)
# Others are served while the slow clients hold their connections.
for i in range(5):
    s = connect()
    check(get(s) == 200, "healthz while slow clients are connected")
    s.close()
for t in threads:
    t.join()
print("slow-loris closed after %s s; after a keep-alive request %s s"
      % (fresh.get("after"), reused.get("after")), flush=True)
check(fresh.get("after") is not None and fresh["after"] <= 75,
      "slow-loris closed within the connection timeout: %s" % fresh)
check(reused.get("first") == 200, "first request on the keep-alive connection: %s" % reused)
check(reused.get("after") is not None and reused["after"] <= 75,
      "slow header after a keep-alive request closed in time: %s" % reused)
s = connect()
check(get(s) == 200, "healthz afterwards")
s.close()
print("RESULT %d %d" % (passes, fails))
PY
grep -v '^RESULT' "$T_DIR/out"
read -r _ p f < <(grep '^RESULT' "$T_DIR/out" || echo "RESULT 0 1")
T_PASSES=$((T_PASSES + p))
T_FAILS=$((T_FAILS + f))
for p in $MGR_PIDS $MGR_REDIS_PID; do
  check "kill -0 $p 2>/dev/null" "process $p still running"
done
