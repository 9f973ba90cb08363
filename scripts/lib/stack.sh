# Starts and stops a whole Manager stack: Redis (unless MANAGER_REDIS_URL is
# set), the account, ca and vault services and the gateway. Sourced by
# scripts/dev-up and by the tests (tests/lib/stack.sh).
#
# In:  MGR_BIN (build dir), MANAGER_* variables.
# Out: MGR_PIDS, MGR_REDIS_PID, MGR_URL, MGR_CA_PEM, MGR_ADMIN_PASSWORD,
#      MGR_REDIS_PORT, MGR_REDIS_PASSWORD (REDISCLI_AUTH exported),
#      MGR_REDIS_SOCKET (empty when the data dir's path is too long for one).

MGR_PIDS=${MGR_PIDS:-}
MGR_REDIS_PID=${MGR_REDIS_PID:-}

mgr_free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( RANDOM % 20000 + 10000 ))  # below the ephemeral range (32768+)
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  return 1
}

# Waits up to $2 seconds (default 20) of wall-clock time for command $1 to
# succeed: a slow command (a readyz that waits out its deadline) does not
# stretch the wait.
mgr_wait() {
  local end=$(( ${EPOCHREALTIME/[.,]/} + ${2:-20} * 1000000 ))
  while :; do
    eval "$1" >/dev/null 2>&1 && return 0
    (( ${EPOCHREALTIME/[.,]/} < end )) || return 1
    sleep 0.1
  done
}

# AOF with appendfsync always: with everysec, Redis may answer a write whose
# AOF write(2) it postponed behind a slow fsync, and a kill -9 then loses an
# acknowledged write (seen in tests/faults). MANAGER_REDIS_APPENDFSYNC=everysec
# trades that for speed. rdbcompression no: object chunks do not compress,
# and lzf in every AOF rewrite's RDB preamble took ~2 s of CPU per GB written
# (bench/README.md, large objects).
#
# Closed to strangers: Redis requires a password generated once into
# $MANAGER_DATA_DIR/redis-password (0600; the data dir itself is 0700),
# handed to redis-server in a 0600 config file rather than on its command
# line (which every local user sees in ps). MANAGER_REDIS_URL carries it
# to our processes; REDISCLI_AUTH lets redis-cli (tests, operators) in.
mgr_redis_password() {
  local f="$MANAGER_DATA_DIR/redis-password"
  if [ ! -s "$f" ]; then
    (umask 077 && openssl rand -hex 32 >"$f.tmp" && mv "$f.tmp" "$f") || return 1
  fi
  chmod 600 "$f" && cat "$f"
}

# mgr_redis_url [DB]: the URL of the stack's own Redis, password included.
mgr_redis_url() {
  echo "redis://:$MGR_REDIS_PASSWORD@127.0.0.1:$MGR_REDIS_PORT/${1:-0}"
}

mgr_start_redis() {
  local port dir="$MANAGER_DATA_DIR/redis" conf
  mkdir -p "$dir" "$MANAGER_DATA_DIR/logs"
  port=${MGR_REDIS_PORT:-$(mgr_free_port)}
  MGR_REDIS_PORT=$port
  MGR_REDIS_PASSWORD=$(mgr_redis_password) || { echo "cannot write the redis password" >&2; return 1; }
  conf="$MANAGER_DATA_DIR/redis.conf"
  # Also a unix socket in the 0700 redis dir (unix:///...?password=...),
  # when its path fits sun_path.
  chmod 700 "$dir"
  MGR_REDIS_SOCKET=$dir/redis.sock
  [ ${#MGR_REDIS_SOCKET} -lt 100 ] || MGR_REDIS_SOCKET=""
  (
    umask 077
    {
      printf 'requirepass %s\n' "$MGR_REDIS_PASSWORD"
      [ -z "$MGR_REDIS_SOCKET" ] || printf 'unixsocket %s\nunixsocketperm 700\n' "$MGR_REDIS_SOCKET"
    } >"$conf"
  ) || return 1
  export REDISCLI_AUTH=$MGR_REDIS_PASSWORD
  redis-server "$conf" --port "$port" --bind 127.0.0.1 --dir "$dir" \
    --appendonly yes --appendfsync "${MANAGER_REDIS_APPENDFSYNC:-always}" --rdbcompression no \
    --save "" --daemonize no --logfile "$MANAGER_DATA_DIR/logs/redis.log" &
  MGR_REDIS_PID=$!
  export MANAGER_REDIS_URL
  MANAGER_REDIS_URL=$(mgr_redis_url 0)
  mgr_wait "redis-cli -p $port ping | grep -q PONG" 20 || {
    echo "redis did not start" >&2; return 1; }
}

# Starts one process in the background; its log goes to logs/<name>.log.
mgr_spawn() {
  local name=$1; shift
  "$@" >>"$MANAGER_DATA_DIR/logs/$name.log" 2>&1 &
  eval "MGR_PID_$name=$!"
  MGR_PIDS="$MGR_PIDS $!"
}

# mgr_spawn_proc NAME KIND [VAR=value...]: starts one Manager process of
# KIND (gateway, account, ca, vault) as NAME, with the extra variables. With
# MGR_INTERNAL_CERTS_DIR set (deploy/scripts/make-internal-certs.sh), it gets
# its own internal TLS identity KIND.pem/KIND.key and internal-ca.pem.
mgr_spawn_proc() {
  local name=$1 kind=$2 bin; shift 2
  case $kind in
    gateway) bin=$MGR_BIN/gateway/mgr-gateway ;;
    *) bin=$MGR_BIN/services/$kind/mgr-$kind ;;
  esac
  if [ -n "${MGR_INTERNAL_CERTS_DIR:-}" ]; then
    set -- "MANAGER_INTERNAL_TLS_CERT=$MGR_INTERNAL_CERTS_DIR/$kind.pem" \
      "MANAGER_INTERNAL_TLS_KEY=$MGR_INTERNAL_CERTS_DIR/$kind.key" \
      "MANAGER_INTERNAL_TLS_CA=$MGR_INTERNAL_CERTS_DIR/internal-ca.pem" "$@"
  fi
  # MGR_VALGRIND_DIR: run the services (and the gateway too with
  # MGR_VALGRIND_GATEWAY=1) under valgrind memcheck, one log per process
  # there (tests/valgrind/); MGR_VALGRIND_OPTS adds options (suppressions).
  if [ -n "${MGR_VALGRIND_DIR:-}" ] &&
     { [ "$kind" != gateway ] || [ "${MGR_VALGRIND_GATEWAY:-0}" = 1 ]; }; then
    # shellcheck disable=SC2086
    mgr_spawn "$name" env "$@" valgrind --quiet --leak-check=full \
      --show-leak-kinds=definite --errors-for-leak-kinds=definite \
      ${MGR_VALGRIND_OPTS:-} \
      --log-file="$MGR_VALGRIND_DIR/$name.log" "$bin"
    return
  fi
  mgr_spawn "$name" env "$@" "$bin"
}

mgr_start_services() {
  mkdir -p "$MANAGER_DATA_DIR/logs"
  mgr_spawn_proc account account
  mgr_spawn_proc ca ca
  mgr_spawn_proc vault vault
  mgr_spawn_proc gateway gateway
  local host=${MANAGER_BIND:-127.0.0.1}
  case $host in 0.0.0.0|::) host=127.0.0.1 ;; *:*) host="[$host]" ;; esac
  MGR_URL="https://$host:${MANAGER_HTTPS_PORT:-8443}"
  MGR_CA_PEM="$MANAGER_DATA_DIR/ca-cert.pem"
  if ! mgr_wait "curl -sfk $MGR_URL/healthz" 30; then
    echo "the gateway did not come up; see $MANAGER_DATA_DIR/logs" >&2
    return 1
  fi
  curl -sfk "$MGR_URL/api/v1/ca/certificate" -o "$MGR_CA_PEM"
  mgr_wait "curl -sf --cacert $MGR_CA_PEM $MGR_URL/readyz" 30 || {
    echo "the stack is not ready; see $MANAGER_DATA_DIR/logs" >&2; return 1; }
  if [ -n "${MANAGER_ADMIN_PASSWORD:-}" ]; then
    MGR_ADMIN_PASSWORD=$MANAGER_ADMIN_PASSWORD
  elif [ -f "$MANAGER_DATA_DIR/admin-password" ]; then
    MGR_ADMIN_PASSWORD=$(cat "$MANAGER_DATA_DIR/admin-password")
  fi
}

# Stops everything started here, whatever state each process is in (running,
# stopped by SIGSTOP, already dead): TERM (and CONT, so that a stopped one
# sees it), then KILL what is left after MGR_STOP_WAIT tenths of a second
# (default 50) in all, then reap. Safe under set -e: a process that is
# already gone is not an error, and the others are still stopped.
mgr_stop() {
  local p end
  for p in $MGR_PIDS $MGR_REDIS_PID; do
    kill -TERM "$p" 2>/dev/null || true
    kill -CONT "$p" 2>/dev/null || true
  done
  end=$(( ${EPOCHREALTIME/[.,]/} + ${MGR_STOP_WAIT:-50} * 100000 ))
  for p in $MGR_PIDS $MGR_REDIS_PID; do
    while kill -0 "$p" 2>/dev/null && (( ${EPOCHREALTIME/[.,]/} < end )); do
      sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  MGR_PIDS=""
  MGR_REDIS_PID=""
}
