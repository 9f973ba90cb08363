#!/usr/bin/env bash
# MANAGER_LOG_FORMAT=json on a real stack (API.md "Operations (v2)", issue
# 22): every line that every Manager process writes (gateway, account, ca,
# vault; from start to stop, a restart included, at MANAGER_LOG_LEVEL=debug)
# is one JSON object with time (RFC 3339 UTC), level, service (the process's
# own) and msg, whatever the traffic: a registration with one-time
# credentials, a vault write, wrong passwords, malformed bodies, unknown
# routes, a Redis connection drop. No line holds the admin password, the
# one-time password or the object's key.
export MANAGER_LOG_FORMAT=json
export MANAGER_LOG_LEVEL=debug
export MANAGER_EXPIRY_SCAN_INTERVAL_S=1
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
. "$(dirname "$0")/../lib/vault.sh"
stack_up

TMP_USER=jsonlog-tmp-$RANDOM
TMP_PW=Jsonlog-temp-pass-$RANDOM
KEY=json-log-secret-key-$RANDOM.txt
make_pending_account jsonlog-app "$TMP_USER" "$TMP_PW" || fail_now "pending account: $ST $BODY"
api_json POST "/api/v1/accounts/$ACC_ID/certificates" '{"csr":"not a CSR"}' -u "$TMP_USER:$TMP_PW"
expect_status 400 "a malformed CSR"
gen_csr "$T_DIR/c1" "/O=Json logs/CN=json log app $RANDOM" ec
register "$ACC_ID" "$T_DIR/c1.csr" "$(date -u -d '+5 days' +%FT%TZ)" "$TMP_USER:$TMP_PW"
expect_status 201 "registration with the one-time credentials"
register "$ACC_ID" "$T_DIR/c1.csr" "" "$TMP_USER:$TMP_PW"
expect_status 401 "the one-time credentials used up"
app_identity alice
T_V=$(mk_tpl "jsonlog-tpl-$RANDOM" vault)
mk_vault jsonlog-vault "$T_V" >/dev/null
echo "the owner's data" >"$T_DIR/obj"
app_api alice PUT "/api/v1/vaults/jsonlog-vault/objects/$KEY" -T "$T_DIR/obj"
expect_status 201 "vault write"
app_api alice GET "/api/v1/vaults/jsonlog-vault/objects/$KEY"
expect_status 200 "vault read"
api GET /api/v1/accounts -u "admin:wrong-$MANAGER_ADMIN_PASSWORD"; expect_status 401 "wrong admin password"
api_json POST /api/v1/accounts '{"name":' -u "$ADMIN"; expect_status 400 "malformed JSON"
api GET "/api/v1/no/such/$KEY"; expect_status 404 "unknown route"
redis-cli -p "$MGR_REDIS_PORT" CLIENT KILL TYPE normal >/dev/null
for _ in 1 2 3; do api GET /api/v1/accounts -u "$ADMIN"; done
sleep 2 # an expiry scan or two, with the 5-day certificate's notice
stack_restart_services
api GET /api/v1/accounts -u "$ADMIN"; expect_status 200 "after the restart"
mgr_stop # the stop records too

out=$(python3 - "$MANAGER_DATA_DIR/logs" "$MANAGER_ADMIN_PASSWORD" "$TMP_PW" "$KEY" <<'PY'
import json, os, re, sys
logs, secrets = sys.argv[1], sys.argv[2:]
time_re = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
bad, counts = [], {}
for svc in ("gateway", "account", "ca", "vault"):
    path = os.path.join(logs, svc + ".log")
    n = 0
    levels = set()
    for i, line in enumerate(open(path, encoding="utf-8", errors="strict"), 1):
        n += 1
        for s in secrets:
            if s in line:
                bad.append("%s:%d holds a secret or the object key" % (svc, i))
        try:
            o = json.loads(line)
        except ValueError as e:
            bad.append("%s:%d is not JSON (%s): %r" % (svc, i, e, line[:200]))
            continue
        if not isinstance(o, dict):
            bad.append("%s:%d is not an object" % (svc, i))
            continue
        for k in ("time", "level", "service", "msg"):
            if not isinstance(o.get(k), str):
                bad.append("%s:%d: no string %s" % (svc, i, k))
        if not time_re.match(str(o.get("time"))):
            bad.append("%s:%d: time %r" % (svc, i, o.get("time")))
        if o.get("level") not in ("error", "warn", "info", "debug"):
            bad.append("%s:%d: level %r" % (svc, i, o.get("level")))
        levels.add(o.get("level"))
        if o.get("service") != svc:
            bad.append("%s:%d: service %r" % (svc, i, o.get("service")))
        if "request_id" in o and not isinstance(o["request_id"], str):
            bad.append("%s:%d: request_id %r" % (svc, i, o["request_id"]))
    counts[svc] = "%d lines (%s)" % (n, ",".join(sorted(l for l in levels if l)))
    if n < 2:
        bad.append("%s.log has %d lines" % (svc, n))
print("; ".join("%s %s" % kv for kv in counts.items()))
for b in bad[:30]:
    print("BAD " + b)
PY
)
echo "$out"
check '! grep -q "^BAD" <<<"$out"' "every line of every process's log is a JSON record"
check 'grep -q "gateway [0-9]" <<<"$out"' "the logs were read"
