#!/usr/bin/env bash
# scripts/dev-up as a supervisor, the way a developer uses it: under load,
# kill -9 each process in turn (vault, ca, account, redis, gateway); dev-up
# restarts it with back-off and logs it, and the stack serves again. Then a
# stopped (SIGSTOP) process and Ctrl-C: nothing is left running. A second
# dev-up on a data dir in use refuses (while dev-up runs, and after a dev-up
# killed with -9 left its processes behind). Prints the failed requests per
# kill and the orphans.
. "$(dirname "$0")/../lib/stack.sh"
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mgr-devup.XXXXXX")
export MANAGER_DATA_DIR=$T_DIR/data
export MANAGER_HTTPS_PORT=$(mgr_free_port)
export MANAGER_S3_PORT=$(mgr_free_port)
export MANAGER_ADMIN_PASSWORD=adminpw-$RANDOM$RANDOM$RANDOM
export MANAGER_RPC_TIMEOUT_MS=${MANAGER_RPC_TIMEOUT_MS:-5000}
export MGR_DEV_UP_BUILD=0 MGR_BIN
unset MANAGER_REDIS_URL REDISCLI_AUTH
LOCK=$MANAGER_DATA_DIR/dev-up.lock
URL=https://127.0.0.1:$MANAGER_HTTPS_PORT
CA=$MANAGER_DATA_DIR/ca-cert.pem
DEVUP=""
LOAD=""

# holders: "pid comm" of every process holding the data dir's lock, i.e.
# every process a dev-up started on it (they inherit the descriptor).
holders() {
  local fd p
  for fd in /proc/[0-9]*/fd/*; do
    if [ "$fd" -ef "$LOCK" ]; then
      p=${fd#/proc/}; p=${p%%/*}
      echo "$p $(cat "/proc/$p/comm" 2>/dev/null)"
    fi
  done | sort -u
}
pid_of() { holders | awk -v c="$1" '$2 == c { print $1; exit }'; }
# Everything of ours still running on this data dir: the lock's holders,
# and any Manager process or dev-up with it in its environment (the test's
# own shell and tools have it too; Redis rewrites its environment).
leftovers() {
  local p c
  { holders | awk '{print $1}'
    grep -lsF "MANAGER_DATA_DIR=$MANAGER_DATA_DIR" /proc/[0-9]*/environ | cut -d/ -f3
  } | sort -u | while read -r p; do
    c=$(cat "/proc/$p/comm" 2>/dev/null) || continue
    case $c in dev-up|mgr-gateway|mgr-account|mgr-ca|mgr-vault|redis-server) echo "$p" ;; esac
  done
}

cleanup() {
  local rc=$? p
  [ -n "$LOAD" ] && kill "$LOAD" 2>/dev/null
  [ -n "$DEVUP" ] && kill -TERM "$DEVUP" 2>/dev/null && wait "$DEVUP" 2>/dev/null
  for p in $(leftovers); do kill -KILL "$p" 2>/dev/null; done
  if [ "$T_FAILS" -gt 0 ]; then
    echo "--- dev-up.log ---" >&2; tail -n 40 "$MANAGER_DATA_DIR/logs/dev-up.log" >&2
    tail -n 5 "$T_DIR"/devup*.err >&2
  fi
  [ "$T_FAILS" -eq 0 ] && rm -rf "$T_DIR"
  echo "$T_PASSES passed, $T_FAILS failed"
  [ "$T_FAILS" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
  exit 1
}
trap cleanup EXIT

# devup_start N: dev-up in the background as a terminal would run it (SIGINT
# not ignored, which a script's background job would be), output in
# devupN.out/.err; waits for "Manager is up".
devup_start() {
  python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$MGR_ROOT/scripts/dev-up" >"$T_DIR/devup$1.out" 2>"$T_DIR/devup$1.err" &
  DEVUP=$!
  mgr_wait "grep -q 'Manager is up' '$T_DIR/devup$1.out'" 90 || fail_now "dev-up $1 did not come up: $(tail -3 "$T_DIR/devup$1.err")"
}
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$CA" "$URL/readyz")" = 200 ]; }
restarts() { grep -c "dev-up: $1 restarted" "$MANAGER_DATA_DIR/logs/dev-up.log"; }

devup_start 1
check 'ready' "dev-up 1 serves readyz"
check '[ "$(stat -c %a "$MANAGER_DATA_DIR/redis-password")" = 600 ]' "its Redis has a 0600 password file"
api_json POST /api/v1/accounts '{"name":"sup-keep","role":"vault_provisioner","username":"sup-keep-user","password":"sup-keep-password"}' -u "admin:$MANAGER_ADMIN_PASSWORD"
expect_status 201 "an account to keep"
KEEP=$(jfield id)

# A second dev-up on the same data dir: refused at once, nothing started.
before=$(holders | wc -l)
out=$(timeout 60 "$MGR_ROOT/scripts/dev-up" 2>&1); rc=$?
check '[ "$rc" = 1 ]' "a second dev-up exits 1 ($rc)"
check '[[ $out == *"is in use (scripts/dev-up pid $DEVUP runs a stack on it)"* ]]' "it says which dev-up holds the data dir: ${out:0:200}"
check '[ "$(holders | wc -l)" = "$before" ]' "no second Redis or other process started ($(holders | wc -l) holders, $before before)"

# Load: readyz (every service and Redis) and an admin read (account-svc and
# Redis), one new connection per request, until told to stop (at most 240 s).
python3 - "$T_DIR/load.log" "$T_DIR/load.stop" <<'PY' &
import base64, http.client, os, ssl, sys, threading, time
log, stop = sys.argv[1], sys.argv[2]
port = int(os.environ["MANAGER_HTTPS_PORT"])
ctx = ssl.create_default_context(cafile=os.environ["MANAGER_DATA_DIR"] + "/ca-cert.pem")
ctx.check_hostname = False
auth = "Basic " + base64.b64encode(("admin:" + os.environ["MANAGER_ADMIN_PASSWORD"]).encode()).decode()
lock = threading.Lock()
out = open(log, "w", buffering=1)
end = time.time() + 240
def worker(path, hdrs):
    while time.time() < end and not os.path.exists(stop):
        t = time.time()
        try:
            c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=15)
            c.request("GET", path, headers=hdrs)
            st = c.getresponse().status
            c.close()
        except Exception:
            st = 0
        with lock:
            out.write("%.3f %s %d\n" % (t, path.split("/")[-1], st))
        time.sleep(0.02 if st == 200 else 0.05)
ts = [threading.Thread(target=worker, args=("/readyz", {})) for _ in range(2)]
ts += [threading.Thread(target=worker, args=("/api/v1/accounts", {"Authorization": auth})) for _ in range(2)]
for t in ts: t.start()
for t in ts: t.join()
PY
LOAD=$!
sleep 3

# kill -9 each process in turn; each is restarted and the stack serves again.
declare -A COMM=([vault]=mgr-vault [ca]=mgr-ca [account]=mgr-account [redis]=redis-server [gateway]=mgr-gateway)
for n in vault ca account redis gateway; do
  old=$(pid_of "${COMM[$n]}")
  r0=$(restarts "$n")
  t0=$EPOCHREALTIME
  kill -KILL "$old"
  mgr_wait "[ \"\$(restarts $n)\" -gt $r0 ]" 40
  check '[ "$(restarts "$n")" -gt "$r0" ]' "$n: restarted after kill -9"
  mgr_wait ready 40
  t1=$EPOCHREALTIME
  new=$(pid_of "${COMM[$n]}")
  check '[ -n "$new" ] && [ "$new" != "$old" ] && kill -0 "$new"' "$n: a new process ($old -> $new)"
  check 'grep -q "dev-up: $n (pid $old) killed by SIGKILL" "$MANAGER_DATA_DIR/logs/dev-up.log"' "$n: the death is logged"
  check 'ready' "$n: readyz answers again"
  echo "$n ${t0} ${t1}" >>"$T_DIR/kills"
  sleep 3
done

# Back-off: the vault service killed again right after each restart waits
# longer each time (0.5 s after a long life, then 1 s, 2 s).
for i in 1 2 3; do
  r0=$(restarts vault); kill -KILL "$(pid_of mgr-vault)"
  mgr_wait "[ \"\$(restarts vault)\" -gt $r0 ]" 40
done
delays=$(grep "dev-up: vault (pid" "$MANAGER_DATA_DIR/logs/dev-up.log" | tail -3 | sed 's/.*restarting in \([0-9.]*\) s/\1/' | tr '\n' ' ')
check '[ "$delays" = "1.0 2.0 4.0 " ] || [ "$delays" = "0.5 1.0 2.0 " ]' "back-off doubles for quick deaths (${delays})"
mgr_wait ready 40
sleep 3
touch "$T_DIR/load.stop"; wait "$LOAD"; LOAD=""

# Failed requests: per kill window (from the kill to readyz 200 again), and
# none in the last 2 s (the stack serves again).
python3 - "$T_DIR/load.log" "$T_DIR/kills" <<'PY' >"$T_DIR/load.sum"
import sys
rows = [l.split() for l in open(sys.argv[1])]
rows = [(float(t), p, int(s)) for t, p, s in rows]
kills = [l.split() for l in open(sys.argv[2])]
total, failed = len(rows), sum(1 for r in rows if r[2] != 200)
print("load: %d requests, %d failed" % (total, failed))
for n, t0, t1 in kills:
    t0, t1 = float(t0), float(t1)
    w = [r for r in rows if t0 - 0.5 <= r[0] <= t1 + 0.5]
    f = [r for r in w if r[2] != 200]
    fa = [r for r in f if r[1] == "accounts"]
    print("kill -9 %-8s: %5.1f s to readyz 200, %3d of %3d requests failed (%d admin reads)" %
          (n, t1 - t0, len(f), len(w), len(fa)))
last = max(r[0] for r in rows)
tail = [r for r in rows if r[0] > last - 2]
print("TAIL %d %d" % (len(tail), sum(1 for r in tail if r[2] != 200)))
PY
cat "$T_DIR/load.sum"
read -r _ tail_n tail_f < <(grep '^TAIL' "$T_DIR/load.sum")
check '[ "$tail_n" -gt 0 ] && [ "$tail_f" = 0 ]' "after the kills every request succeeds ($tail_f of $tail_n failed)"
api GET "/api/v1/accounts/$KEEP" -u "admin:$MANAGER_ADMIN_PASSWORD"
expect_status 200 "the account made before the kills is still there"

# Ctrl-C with a process stopped (SIGSTOP): every process goes.
kill -STOP "$(pid_of mgr-ca)"
t0=$SECONDS
kill -INT "$DEVUP"; wait "$DEVUP"; rc=$?; DEVUP=""
check '[ "$rc" = 0 ]' "Ctrl-C: dev-up exits 0 ($rc)"
check '[ $((SECONDS - t0)) -le 15 ]' "Ctrl-C: everything stopped in $((SECONDS - t0)) s"
sleep 0.5
orphans=$(leftovers | tr '\n' ' ')
echo "orphans after Ctrl-C: ${orphans:-none}"
check '[ -z "$orphans" ]' "no orphans after Ctrl-C ($orphans)"

# The lock went with it: a new dev-up starts on the same data, keeps the data,
# and SIGTERM stops it as completely.
devup_start 2
check 'ready' "dev-up 2 on the same data dir serves"
api GET "/api/v1/accounts/$KEEP" -u "admin:$MANAGER_ADMIN_PASSWORD"
expect_status 200 "the data survived the stop"
kill -TERM "$DEVUP"; wait "$DEVUP"; rc=$?; DEVUP=""
check '[ "$rc" = 0 ]' "SIGTERM: dev-up exits 0 ($rc)"
sleep 0.5
orphans=$(leftovers | tr '\n' ' ')
echo "orphans after SIGTERM: ${orphans:-none}"
check '[ -z "$orphans" ]' "no orphans after SIGTERM ($orphans)"

# A dev-up killed with -9 cannot stop its children; they keep the lock, and
# the next dev-up refuses, naming them, instead of starting a second Redis.
devup_start 3
kill -KILL "$DEVUP"; wait "$DEVUP" 2>/dev/null; DEVUP=""
out=$(timeout 60 "$MGR_ROOT/scripts/dev-up" 2>&1); rc=$?
check '[ "$rc" = 1 ] && [[ $out == *"processes of a dev-up that is gone"* ]] && [[ $out == *redis-server* ]] && [[ $out == *mgr-gateway* ]]' "after a kill -9 of dev-up a new one refuses and names what is left: ${out:0:300}"
left=$(leftovers | wc -l)
check '[ "$left" = 5 ]' "exactly the 5 processes of the killed dev-up are left ($left)"
for p in $(leftovers); do kill -KILL "$p"; done
