#!/usr/bin/env bash
# The stack's Redis is closed to strangers (API.md, Operations v2): a client
# without the generated password is refused on TCP, the password is in a 0600
# file and on no command line, the unix socket sits in a 0700 directory, and
# the Manager works over both redis://:password@ and unix://...?password=.
. "$(dirname "$0")/../lib/stack.sh"
stack_up
PW_FILE=$MANAGER_DATA_DIR/redis-password
PORT=$MGR_REDIS_PORT

check '[ "$(stat -c %a "$PW_FILE")" = 600 ] && [ -s "$PW_FILE" ]' "redis-password is 0600 and not empty"
check '[ "$(stat -c %a "$MANAGER_DATA_DIR/redis.conf")" = 600 ]' "redis.conf (holds requirepass) is 0600"
check '[ "$(cat "$PW_FILE")" = "$REDISCLI_AUTH" ]' "the harness exports REDISCLI_AUTH for redis-cli"
check '[ ${#REDISCLI_AUTH} -ge 32 ]' "the password is long (${#REDISCLI_AUTH} chars)"

# redis-cli without the password, with a wrong one, and raw RESP: refused.
out=$(env -u REDISCLI_AUTH redis-cli -p "$PORT" GET auth:epoch 2>&1)
check '[[ $out == NOAUTH* ]]' "no password: NOAUTH ($out)"
out=$(env -u REDISCLI_AUTH redis-cli -p "$PORT" --no-auth-warning -a wrong-password KEYS '*' 2>&1)
check '[[ $out == *WRONGPASS* || $out == *NOAUTH* ]]' "wrong password refused ($out)"
out=$(python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"*2\r\n$4\r\nKEYS\r\n$1\r\n*\r\n")
print(s.recv(200).decode(errors="replace").strip())
PY
)
check '[[ $out == -NOAUTH* ]]' "raw RESP without AUTH refused ($out)"
# With the password it answers (and holds the stack's data).
out=$(redis-cli -p "$PORT" EXISTS acct:all admin:admin 2>&1)
check '[ "$out" -ge 0 ] 2>/dev/null' "with REDISCLI_AUTH redis-cli works ($out)"

# The password is on no process's command line (ps shows those to everyone).
leak=$(ps -eo args= | grep -F -- "$REDISCLI_AUTH" | grep -v grep | head -1)
check '[ -z "$leak" ]' "password on no command line (${leak:0:80})"

# The unix socket: 0700 directory, our uid only.
if [ -n "$MGR_REDIS_SOCKET" ]; then
  check '[ -S "$MGR_REDIS_SOCKET" ]' "unix socket exists"
  check '[ "$(stat -c %a "$(dirname "$MGR_REDIS_SOCKET")")" = 700 ]' "socket directory is 0700"
  out=$(env -u REDISCLI_AUTH redis-cli -s "$MGR_REDIS_SOCKET" GET auth:epoch 2>&1)
  check '[[ $out == NOAUTH* ]]' "the unix socket wants the password too ($out)"
fi

# The Manager itself: an account made over redis://:password@ ...
api_json POST /api/v1/accounts '{"name":"auth-tcp","role":"vault_provisioner","username":"auth-tcp-user","password":"auth-tcp-password"}' -u "$ADMIN"
expect_status 201 "account over redis://:password@"
A1=$(jfield id)

# ... then every process on unix:///...?db=0&password=... (percent-encoded
# is accepted; hex needs none).
if [ -n "$MGR_REDIS_SOCKET" ]; then
  MANAGER_REDIS_URL="unix://$MGR_REDIS_SOCKET?db=0&password=$MGR_REDIS_PASSWORD"
  export MANAGER_REDIS_URL
  stack_restart_services
  api GET "/api/v1/accounts/$A1" -u "$ADMIN"
  expect_status 200 "the account read back over unix://"
  api_json POST /api/v1/accounts '{"name":"auth-unix","role":"vault_provisioner","username":"auth-unix-user","password":"auth-unix-password"}' -u "$ADMIN"
  expect_status 201 "account over unix://"
  check '[ "$(redis-cli -s "$MGR_REDIS_SOCKET" EXISTS "acct:{$(jfield id)}")" = 1 ]' "it is in db 0"
fi

# A wrong password: the processes cannot reach Redis, readyz says so (503),
# and the logs name the refusal but not any password.
# (A short RPC deadline: every call now waits it out.)
MANAGER_REDIS_URL="redis://:not-the-password@127.0.0.1:$PORT/0"
export MANAGER_REDIS_URL MANAGER_RPC_TIMEOUT_MS=3000
MGR_REDIS_PID_KEEP=$MGR_REDIS_PID
MGR_REDIS_PID=""
mgr_stop
MGR_REDIS_PID=$MGR_REDIS_PID_KEEP
mgr_spawn_proc account account
mgr_spawn_proc ca ca
mgr_spawn_proc vault vault
mgr_spawn_proc gateway gateway
mgr_wait "curl -sfk $MGR_URL/healthz" 30
st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "$URL/readyz")
check '[ "$st" = 503 ]' "readyz with a wrong Redis password: $st"
api GET /api/v1/accounts -u "$ADMIN"
check '[ "$ST" = 503 ]' "API with a wrong Redis password: 503 ($ST)"
check 'grep -q "redis refused the password" "$MANAGER_DATA_DIR"/logs/*.log' "the refusal is logged"
check '! grep -qF -- "not-the-password" "$MANAGER_DATA_DIR"/logs/*.log' "no password in the logs"
check '! grep -qF -- "$MGR_REDIS_PASSWORD" "$MANAGER_DATA_DIR"/logs/*.log' "the real password in no log"

# The services wait for Redis rather than exit (a supervisor or Kubernetes
# would otherwise restart them in a loop), and the CA listens meanwhile so
# that the gateway gets its server certificate.
for p in account ca vault gateway; do
  eval "pid=\$MGR_PID_$p"
  check 'kill -0 "$pid" 2>/dev/null' "$p still running while Redis refuses the password"
done
check 'grep -q "Redis unreachable at start; retrying" "$MANAGER_DATA_DIR"/logs/vault.log' "vault-svc says it waits for Redis"
check 'grep -q "Subject DN registry check failed" "$MANAGER_DATA_DIR"/logs/ca.log' "ca-svc says the DN registry waits"

# Redis made to accept the password the processes hold: the same processes
# recover without a restart (vault-svc's start goes through, the CA's DN
# registry becomes ready, readyz turns 200) and serve account, certificate
# and vault calls.
redis-cli -p "$PORT" --no-auth-warning CONFIG SET requirepass not-the-password >/dev/null
export REDISCLI_AUTH=not-the-password
mgr_wait "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert '$CA' '$URL/readyz')\" = 200 ]" 60
st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "$URL/readyz")
check '[ "$st" = 200 ]' "readyz recovers once Redis takes the password: $st"
check 'grep -q "master key .* loaded" "$MANAGER_DATA_DIR"/logs/vault.log' "vault-svc's start went through"
# (the CA retries its DN registry check with a back-off of up to 5 s)
mgr_wait 'grep -q "Subject DN registry ready" "$MANAGER_DATA_DIR"/logs/ca.log' 30
check 'grep -q "Subject DN registry ready" "$MANAGER_DATA_DIR"/logs/ca.log' "ca-svc's DN registry became ready"
api GET "/api/v1/accounts/$A1" -u "$ADMIN"
expect_status 200 "the account again, same processes"
api_json POST /api/v1/accounts '{"name":"auth-late","role":"vault_provisioner","username":"auth-late-user","password":"auth-late-password"}' -u "$ADMIN"
expect_status 201 "an account made after recovery"
redis-cli -p "$PORT" --no-auth-warning CONFIG SET requirepass "$MGR_REDIS_PASSWORD" >/dev/null
export REDISCLI_AUTH=$MGR_REDIS_PASSWORD
