#!/usr/bin/env python3
"""Bounded HTTPS load over several gateways, with kill -9 of given processes
mid-load. Used by replicas.sh; prints one JSON report on stdout.

usage: replicas_load.py CA_PEM GW_PORTS KILLS
  GW_PORTS  comma separated gateway ports on 127.0.0.1
  KILLS     comma separated KIND:PID[:PORT] killed in this order (PORT: the
            gateway's port when KIND is gateway)

Each request opens its own TLS connection (so a request is in flight on
exactly one gateway). A connection refused before anything was sent is what
a load balancer sees for a dead gateway: the request goes to the next
gateway and is counted as `rerouted`, not as a request. Every other error or
a status other than 200 (a PUT: 200 or 201, a create: 201) is a failed
request, with its times, so the caller can check that each failure was in
flight on a killed process.
"""
import base64
import http.client
import json
import os
import signal
import ssl
import sys
import threading
import time

WORKERS = 6
WARMUP = 60          # requests completed before the first kill
BETWEEN = 90         # requests completed after each kill before the next
MAX_REQUESTS = 6000  # hard bound on the load
MAX_SECONDS = 120    # hard bound on the time
PATHS = ["/readyz", "/readyz", "/healthz", "/api/v1/ca/certificate"]
# Optional: LOAD_ADMIN=user:password adds GET /api/v1/accounts as the admin;
# LOAD_APP_CERT/LOAD_APP_KEY/LOAD_APP_PATH add a GET with that client cert.
# Writes, each new (so a resend after a replica died must be replayed, not
# refused as a duplicate): LOAD_ADMIN_CREATE=1 adds POST /api/v1/accounts
# with a fresh name, LOAD_APP_PUT=<objects path prefix> a PUT of a fresh
# object with the client cert. After the load every acknowledged write is
# read back through the surviving gateway ("writes_lost").
ADMIN = os.environ.get("LOAD_ADMIN")
APP_PATH = os.environ.get("LOAD_APP_PATH")
PUT_PREFIX = os.environ.get("LOAD_APP_PUT")
CREATE = ADMIN and os.environ.get("LOAD_ADMIN_CREATE")
if ADMIN:
    PATHS.append("/api/v1/accounts")
if APP_PATH:
    PATHS.append(APP_PATH)
if PUT_PREFIX and APP_PATH:
    PATHS.append("PUT")
if CREATE:
    PATHS.append("CREATE")

ca, ports = sys.argv[1], [int(p) for p in sys.argv[2].split(",")]
kills = []
for k in sys.argv[3].split(","):
    f = k.split(":")
    kills.append({"kind": f[0], "pid": int(f[1]),
                  "port": int(f[2]) if len(f) > 2 else None})

ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False  # the gateway's name is checked by the e2e tests
app_ctx = None
if APP_PATH:
    app_ctx = ssl.create_default_context(cafile=ca)
    app_ctx.check_hostname = False
    app_ctx.load_cert_chain(os.environ["LOAD_APP_CERT"], os.environ["LOAD_APP_KEY"])
lock = threading.Lock()
results = []   # (start, end, port, path, ok, detail)
writes = []    # acknowledged: ("PUT", path, data) or ("CREATE", id, name)
seq = 0
rerouted = 0
stop = threading.Event()
issued = 0
t0 = time.monotonic()


def one(port, path):
    """Returns (sent, ok, detail). sent is False when the connection was
    refused before anything was sent."""
    global seq
    app = APP_PATH is not None and path in (APP_PATH, "PUT")
    c = http.client.HTTPSConnection("127.0.0.1", port,
                                    context=app_ctx if app else ctx, timeout=30)
    headers = {}
    method, target, data, want = "GET", path, None, (200,)
    if ADMIN and path in ("/api/v1/accounts", "CREATE"):
        headers["Authorization"] = "Basic " + base64.b64encode(ADMIN.encode()).decode()
    if path in ("PUT", "CREATE"):
        with lock:
            seq += 1
            n = seq
    if path == "PUT":
        method, target, want = "PUT", "%s%d" % (PUT_PREFIX, n), (200, 201)
        data = os.urandom(n % 2000 + 1)
        headers["Content-Type"] = "application/octet-stream"
    elif path == "CREATE":
        method, target, want = "POST", "/api/v1/accounts", (201,)
        name = "load-%d-%d" % (os.getpid(), n)
        data = json.dumps({"name": name, "role": "vault_provisioner",
                           "username": name,
                           "password": "load-password-%d" % n}).encode()
        headers["Content-Type"] = "application/json"
    try:
        try:
            c.connect()
        except ConnectionRefusedError:
            return False, False, "refused"
        c.request(method, target, body=data, headers=headers)
        r = c.getresponse()
        body = r.read()
        if r.status not in want:
            return True, False, "status %d %s %s" % (r.status, target, body[:120])
        if path == "PUT":
            with lock:
                writes.append(("PUT", target, data))
        elif path == "CREATE":
            with lock:
                writes.append(("CREATE", json.loads(body)["id"], name))
        return True, True, ""
    except Exception as e:  # reset, EOF, TLS error, timeout: a failure
        return True, False, "%s: %s" % (e.__class__.__name__, e)
    finally:
        c.close()


def worker(n):
    global rerouted, issued
    i = n
    while not stop.is_set():
        with lock:
            if issued >= MAX_REQUESTS or time.monotonic() - t0 > MAX_SECONDS:
                return
            issued += 1
        path = PATHS[i % len(PATHS)]
        for hop in range(len(ports)):
            port = ports[(i + hop) % len(ports)]
            start = time.monotonic()
            sent, ok, detail = one(port, path)
            end = time.monotonic()
            if sent:
                with lock:
                    results.append((start, end, port, path, ok, detail))
                break
            with lock:
                rerouted += 1
        i += 1


def completed():
    with lock:
        return len(results)


def wait_for(n):
    while completed() < n:
        if time.monotonic() - t0 > MAX_SECONDS:
            return False
        time.sleep(0.01)
    return True


def dead(pid):
    """True once every thread of pid has exited (so its sockets are closed):
    gone, or only its zombie leader is left (our parent reaps it later)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().split(") ", 1)[1][0] not in "ZX":
                return False
        return os.listdir("/proc/%d/task" % pid) in ([], [str(pid)])
    except OSError:
        return True


threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
for t in threads:
    t.start()
target = WARMUP
for k in kills:
    if not wait_for(target):
        break
    k["at_request"] = completed()
    k["kill_start"] = time.monotonic()
    os.kill(k["pid"], signal.SIGKILL)
    while not dead(k["pid"]):
        time.sleep(0.001)
    k["kill_done"] = time.monotonic()
    target = completed() + BETWEEN
wait_for(target)
stop.set()
for t in threads:
    t.join()

# A request was in flight on a killed gateway if it went to that gateway,
# started before the process was dead and ended after the kill began.
report = {"requests": len(results), "ok": sum(1 for r in results if r[4]),
          "rerouted": rerouted, "kills": [], "unexplained_failures": [],
          "elapsed_s": round(time.monotonic() - t0, 1)}
explained = set()
for k in kills:
    if "kill_done" not in k:
        report["kills"].append({"kind": k["kind"], "done": False})
        continue
    ks, kd = k["kill_start"], k["kill_done"]
    if k["kind"] == "gateway":
        inflight = [i for i, r in enumerate(results)
                    if r[2] == k["port"] and r[0] < kd and r[1] > ks]
    else:
        inflight = [i for i, r in enumerate(results)
                    if r[0] < kd and r[1] > ks and r[3] not in
                    ("/healthz", "/api/v1/ca/certificate")]
    failed = [i for i in inflight if not results[i][4]]
    if k["kind"] == "gateway":
        explained.update(failed)
    # Answers per gateway after this kill and before the next one.
    later = [kk["kill_start"] for kk in kills
             if kk.get("kill_start", 0) > ks] or [float("inf")]
    after = {str(p): sum(1 for r in results if r[2] == p and r[4]
                         and r[0] > kd and r[0] < min(later)) for p in ports}
    report["kills"].append({"kind": k["kind"], "pid": k["pid"], "done": True,
                            "at_request": k["at_request"],
                            "in_flight": len(inflight),
                            "failed_in_flight": len(failed),
                            "ok_after_by_gateway": after})
for i, r in enumerate(results):
    if not r[4] and i not in explained:
        report["unexplained_failures"].append(
            {"t": round(r[0] - t0, 3), "dur": round(r[1] - r[0], 3),
             "port": r[2], "path": r[3], "detail": r[5]})


def read_back(port, w):
    """True when the acknowledged write w is stored as acknowledged."""
    kind, what, data = w
    app = kind == "PUT"
    c = http.client.HTTPSConnection("127.0.0.1", port,
                                    context=app_ctx if app else ctx, timeout=30)
    headers = {}
    if not app:
        headers["Authorization"] = "Basic " + base64.b64encode(ADMIN.encode()).decode()
    try:
        c.request("GET", what if app else "/api/v1/accounts/" + what,
                  headers=headers)
        r = c.getresponse()
        body = r.read()
        if app:
            return r.status == 200 and body == data
        return r.status == 200 and json.loads(body).get("name") == data
    except Exception:
        return False
    finally:
        c.close()


killed_ports = {k["port"] for k in kills if k["kind"] == "gateway"}
live = [p for p in ports if p not in killed_ports]
report["writes_acked"] = len(writes)
report["writes_lost"] = []
for w in writes:
    if live and not read_back(live[0], w):
        report["writes_lost"].append(w[1])
print(json.dumps(report))
