#!/usr/bin/env bash
# One access-log line per request (API.md "Operations (v2)", issue 22): with
# MANAGER_LOG_FORMAT=json every gateway log line is a JSON object, each
# request below has exactly one "access" line with its method, the route's
# template (never the URL), status, duration, request id and caller, and no
# log of any process holds the object key or the admin password.
export MANAGER_LOG_FORMAT=json
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
. "$(dirname "$0")/../lib/vault.sh"
stack_up

KEY=secret-key-name.txt
T=al$RANDOM$RANDOM
app_identity alice
T_V=$(mk_tpl plain vault)
mk_vault logged "$T_V" >/dev/null
echo "the owner's data" >"$T_DIR/obj"

# request-id  method  route  status  caller-kind
WANT=$T_DIR/want
api GET /healthz -H "X-Request-Id: $T-health"; expect_status 200 "healthz"
echo "$T-health GET /healthz 200 anonymous" >>"$WANT"
api GET /api/v1/accounts -u "$ADMIN" -H "X-Request-Id: $T-admin"
expect_status 200 "admin list accounts"
echo "$T-admin GET /api/v1/accounts 200 admin" >>"$WANT"
app_api alice PUT "/api/v1/vaults/logged/objects/$KEY?x=$KEY" -T "$T_DIR/obj" \
  -H "X-Request-Id: $T-put"
expect_status 201 "app PUT"
echo "$T-put PUT /api/v1/vaults/{}/objects/{+} 201 app" >>"$WANT"
app_api alice GET "/api/v1/vaults/logged/objects/$KEY" -H "X-Request-Id: $T-get"
expect_status 200 "app GET"
check '[ "$BODY" = "the owner'"'"'s data" ]' "app GET body"
echo "$T-get GET /api/v1/vaults/{}/objects/{+} 200 app" >>"$WANT"
api GET "/api/v1/no/such/$KEY" -H "X-Request-Id: $T-404"; expect_status 404 "no route"
echo "$T-404 GET - 404 anonymous" >>"$WANT"
api GET /api/v1/accounts -u "admin:wrong-$MANAGER_ADMIN_PASSWORD" -H "X-Request-Id: $T-401"
expect_status 401 "wrong admin password"
echo "$T-401 GET /api/v1/accounts 401 anonymous" >>"$WANT"

# The access line of the last request may be written just after its reply.
mgr_wait "grep -q '\"request_id\":\"$T-401\"' '$MANAGER_DATA_DIR/logs/gateway.log'" 10

out=$(python3 - "$MANAGER_DATA_DIR/logs/gateway.log" "$WANT" "$APP_ID" <<'PY'
import json, sys
log, want, app_id = sys.argv[1], sys.argv[2], sys.argv[3]
bad = []
access = {}
n = 0
for i, line in enumerate(open(log, encoding="utf-8"), 1):
    n += 1
    try:
        o = json.loads(line)
    except ValueError as e:
        bad.append("line %d is not JSON (%s): %r" % (i, e, line[:200]))
        continue
    if not isinstance(o, dict):
        bad.append("line %d is not an object" % i)
        continue
    for k in ("time", "level", "service", "msg"):
        if k not in o:
            bad.append("line %d has no %s" % (i, k))
    if o.get("msg") == "access":
        access.setdefault(o.get("request_id"), []).append(o)
        for k in ("method", "route", "status", "duration_ms", "caller_kind"):
            if k not in o:
                bad.append("access line %d has no %s" % (i, k))
        if o.get("level") != "info" or o.get("service") != "gateway":
            bad.append("access line %d: level %s service %s" % (i, o.get("level"), o.get("service")))
        if "?" in str(o.get("route")):
            bad.append("access line %d carries a query" % i)
if n == 0:
    bad.append("gateway log is empty")
for w in open(want):
    rid, method, route, status, kind = w.split()
    got = access.get(rid, [])
    if len(got) != 1:
        bad.append("%s: %d access lines, want 1" % (rid, len(got)))
        continue
    o = got[0]
    if (o.get("method"), o.get("route"), o.get("status"), o.get("caller_kind")) != \
            (method, route, int(status), kind):
        bad.append("%s: got %s %s %s %s, want %s %s %s %s" % (rid, o.get("method"),
            o.get("route"), o.get("status"), o.get("caller_kind"), method, route, status, kind))
    if not isinstance(o.get("duration_ms"), (int, float)) or o["duration_ms"] < 0:
        bad.append("%s: duration_ms %r" % (rid, o.get("duration_ms")))
    if kind == "app" and o.get("account_id") in (None, ""):
        bad.append("%s: no account_id" % rid)
    if kind == "anonymous" and "account_id" in o:
        bad.append("%s: account_id of an anonymous caller" % rid)
    if rid.endswith("-get") and o.get("bytes") != len("the owner's data\n"):
        bad.append("%s: bytes %r" % (rid, o.get("bytes")))
    if rid.endswith("-admin") and not (isinstance(o.get("bytes"), int) and o["bytes"] > 0):
        bad.append("%s: bytes %r" % (rid, o.get("bytes")))
print("\n".join(bad))
PY
)
check '[ -z "$out" ]' "gateway log: one JSON access line per request${out:+: $out}"

# No secret in any log: the object key, the admin password (right or wrong).
for f in "$MANAGER_DATA_DIR"/logs/*.log; do
  check '! grep -qF "$KEY" "$f"' "object key not in $(basename "$f")"
  check '! grep -qF "$MANAGER_ADMIN_PASSWORD" "$f"' "admin password not in $(basename "$f")"
  check '! grep -qiF "authorization" "$f"' "no Authorization header in $(basename "$f")"
done

# The level is respected: at warn the gateway writes no access line.
export MANAGER_LOG_LEVEL=warn
stack_restart_services
before=$(grep -c '"msg":"access"' "$MANAGER_DATA_DIR/logs/gateway.log")
api GET /healthz -H "X-Request-Id: $T-warn"; expect_status 200 "healthz at warn"
sleep 1
check '! grep -q "\"request_id\":\"$T-warn\"" "$MANAGER_DATA_DIR/logs/gateway.log"' "no access line at level warn"
check '[ "$(grep -c "\"msg\":\"access\"" "$MANAGER_DATA_DIR/logs/gateway.log")" = "$before" ]' "access lines unchanged at warn"
