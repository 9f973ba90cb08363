# Shared by bench/run-*.sh: builds the release stack and the tools, starts the
# stack on loopback with a temp MANAGER_DATA_DIR, and small helpers. Sourced.
set -uo pipefail
B_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B_BUILD=${BENCH_BUILD_DIR:-$B_ROOT/build-release}
B_TOOLS=$B_BUILD/bench
B_DURATION=${BENCH_DURATION:-10}
B_WARMUP=${BENCH_WARMUP:-2}
B_RUNS=${BENCH_RUNS:-3}
B_CONNS=${BENCH_CONNS:-16}
B_THREADS=${BENCH_THREADS:-2}
MGR_ROOT=$B_ROOT
MGR_BIN=$B_BUILD
. "$B_ROOT/scripts/lib/stack.sh"

B_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mgr-bench.XXXXXX")
B_EXTRA_PIDS=""

b_log() { echo "== $*" >&2; }

# Release build of the stack (-O3; -g for profiles) and of the bench tools.
b_build() {
  b_log "building the stack (Release) into $B_BUILD"
  # -Wno-error=format-truncation: gcc 12 at -O2/-O3 finds truncation warnings
  # the Debug build does not (common/config.c had one, fixed in 036a55b); a
  # benchmark must not fail on a new one.
  cmake -S "$B_ROOT" -B "$B_BUILD" -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_C_FLAGS=-g -Wno-error=format-truncation" >/dev/null &&
    cmake --build "$B_BUILD" -j "$(nproc)" -- --no-print-directory >/dev/null ||
    { echo "build failed" >&2; return 1; }
  mkdir -p "$B_TOOLS"
  cc -O2 -g -Wall -Wextra -Werror -o "$B_TOOLS/loadgen" "$B_ROOT/bench/loadgen.c" \
    -lssl -lcrypto -lpthread &&
    cc -O2 -Wall -Wextra -Werror -o "$B_TOOLS/mkcsr" "$B_ROOT/bench/mkcsr.c" -lcrypto
}

# Starts Redis and the four processes with a fresh data dir. Extra MANAGER_*
# variables (e.g. MANAGER_CA_KEY_TYPE) are taken from the environment.
b_stack_up() {
  export MANAGER_DATA_DIR=$B_TMP/data-$1
  mkdir -p "$MANAGER_DATA_DIR" && chmod 700 "$MANAGER_DATA_DIR"
  export MANAGER_HTTPS_PORT=$(mgr_free_port)
  export MANAGER_S3_PORT=$(mgr_free_port)
  export MANAGER_ADMIN_PASSWORD=${MANAGER_ADMIN_PASSWORD:-benchpw-$RANDOM$RANDOM$RANDOM}
  export MANAGER_LOG_LEVEL=${MANAGER_LOG_LEVEL:-warn}
  unset MANAGER_REDIS_URL
  MGR_REDIS_PORT=""
  # A free port can be taken between the check and the bind: one retry.
  mgr_start_redis || { mgr_stop; MGR_REDIS_PORT=""; mgr_start_redis; } || return 1
  mgr_start_services || return 1
  ADMIN="admin:$MANAGER_ADMIN_PASSWORD"
  URL=$MGR_URL
  CA=$MGR_CA_PEM
}

b_stack_down() { mgr_stop; }

b_cleanup() {
  local p
  mgr_stop
  for p in $B_EXTRA_PIDS; do kill -TERM "$p" 2>/dev/null; done
  for p in $B_EXTRA_PIDS; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
  done
  B_EXTRA_PIDS=""
  if [ -n "${BENCH_KEEP:-}" ]; then echo "kept $B_TMP" >&2; else rm -rf "$B_TMP"; fi
}

# b_load NAME ARGS...: runs the load generator; stores its output in
# $B_TMP/NAME.out and prints the RESULT line.
b_load() {
  local name=$1; shift
  "$B_TOOLS/loadgen" -c "$B_CONNS" -t "$B_THREADS" -d "$B_DURATION" -w "$B_WARMUP" "$@" \
    >"$B_TMP/$name.out" 2>&1
  cat "$B_TMP/$name.out" >&2
  grep '^RESULT' "$B_TMP/$name.out" || echo "RESULT rps=0 ok_rps=0 p50_ms=0 p99_ms=0"
}

# field RESULT-LINE KEY
b_field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

# Median of the numbers on stdin.
b_median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

b_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b+0 == 0) print "n/a"; else printf "%.2f", a/b }'; }

# Peak resident set (VmHWM, kB) of a pid.
b_hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Is the registration API on this build? (POST /api/v1/accounts answers 201.)
b_has_accounts_api() {
  local st
  st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" -u "$ADMIN" \
    -H 'Content-Type: application/json' --data-binary '{}' "$URL/api/v1/accounts")
  [ "$st" != 404 ] && [ "$st" != 405 ] && [ "$st" != 000 ]
}

# b_make_identities PREFIX COUNT IDFILE: COUNT accounts (role vault_provisioner)
# registered through the API with an EC P-256 key each; writes lines
# "CERT KEY ACCOUNT_ID" for loadgen -I. Falls back to tests/lib/app_identity.sh
# (a certificate signed with the stack's CA key, Redis seeded directly) when
# the registration API is not there yet.
b_make_identities() {
  local prefix=$1 count=$2 idfile=$3 dir="$B_TMP/keys-$1" i acc id pw st mode=api
  mkdir -p "$dir"; : >"$idfile"
  for i in $(seq 1 "$count"); do
    if [ "$mode" = api ]; then
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj "/CN=$prefix-app-$i/O=mgr-bench" -keyout "$dir/$i.key" -out "$dir/$i.csr" 2>/dev/null ||
        return 1
      pw="temp-password-$RANDOM$RANDOM$RANDOM"
      acc=$(curl -sS -w '\n%{http_code}' --cacert "$CA" -u "$ADMIN" -H 'Content-Type: application/json' \
        --data-binary "{\"name\":\"$prefix-$i\",\"role\":\"vault_provisioner\",\"username\":\"$prefix-u$i\",\"password\":\"$pw\"}" \
        "$URL/api/v1/accounts")
      st=${acc##*$'\n'}
      if [ "$st" = 201 ]; then
        id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"${acc%$'\n'*}")
        python3 -c 'import json,sys; print(json.dumps({"csr": open(sys.argv[1]).read()}))' "$dir/$i.csr" >"$dir/$i.req"
        st=$(curl -sS -o "$dir/$i.resp" -w '%{http_code}' --cacert "$CA" -u "$prefix-u$i:$pw" \
          -H 'Content-Type: application/json' --data-binary @"$dir/$i.req" \
          "$URL/api/v1/accounts/$id/certificates")
      fi
      if [ "$st" = 201 ]; then
        python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["certificate"], end="")' \
          "$dir/$i.resp" >"$dir/$i.pem"
        echo "$dir/$i.pem $dir/$i.key $id" >>"$idfile"
        continue
      fi
      if [ "$st" != 404 ] && [ "$st" != 405 ] || [ ! -f "$B_ROOT/tests/lib/app_identity.sh" ]; then
        echo "cannot register an account: $st ${acc:0:300} $(cat "$dir/$i.resp" 2>/dev/null)" >&2
        return 1
      fi
      b_log "registration API not available ($st); using tests/lib/app_identity.sh"
      mode=seed
      # shellcheck disable=SC1091
      . "$B_ROOT/tests/lib/app_identity.sh"
      T_DIR=$B_TMP
      declare -F fail_now >/dev/null || fail_now() { echo "FAIL: $*" >&2; exit 1; }
    fi
    app_identity "$prefix-app-$i" vault_provisioner 30 || return 1
    echo "$B_TMP/apps/$prefix-app-$i.pem $B_TMP/apps/$prefix-app-$i.key $APP_ID" >>"$idfile"
  done
}

# Process CPU time (utime+stime, clock ticks) of a pid.
b_cpu() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# The nginx peer: TLS with a server certificate from the Manager CA (EC P-256
# like the gateway's), ssl_verify_client on against the Manager CA, static
# files under $NGINX_ROOT/objects/, PUT through the WebDAV module.
b_nginx_up() {
  local dir=$B_TMP/nginx port
  command -v nginx >/dev/null || { echo "needs nginx (apt-get install nginx)" >&2; return 1; }
  mkdir -p "$dir/www/objects" "$dir/tmp" "$dir/logs"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
    -keyout "$dir/tls.key" -out "$dir/tls.csr" 2>/dev/null &&
  openssl x509 -req -in "$dir/tls.csr" -CA "$MANAGER_DATA_DIR/ca/ca.pem" \
    -CAkey "$MANAGER_DATA_DIR/ca/ca.key" -CAcreateserial -days 2 \
    -extfile <(printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') \
    -out "$dir/tls.pem" 2>/dev/null || { echo "nginx certificate failed" >&2; return 1; }
  port=$(mgr_free_port)
  cat >"$dir/nginx.conf" <<EOT
user root;
worker_processes ${BENCH_NGINX_WORKERS:-auto};
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 60s;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $dir/tls.pem;
    ssl_certificate_key $dir/tls.key;
    ssl_client_certificate $CA;
    ssl_verify_client on;
    location /objects/ {
      root $dir/www;
      dav_methods PUT;
      create_full_put_path on;
      client_max_body_size 6g;
      client_body_buffer_size 128k;
    }
  }
}
EOT
  nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/logs/error.log" >"$dir/logs/stdout" 2>&1 &
  NGINX_PID=$!
  B_EXTRA_PIDS="$B_EXTRA_PIDS $NGINX_PID"
  NGINX_URL=https://127.0.0.1:$port
  NGINX_ROOT=$dir/www
  mgr_wait "(exec 3<>/dev/tcp/127.0.0.1/$port)" 20 ||
    { echo "nginx did not start" >&2; cat "$dir/logs/"* >&2; return 1; }
}

# Pids of nginx master and workers.
b_nginx_pids() { echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"; }

# Does this build have the vault API? (GET /api/v1/vault-templates, admin.)
b_has_vault_api() {
  local st
  st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" -u "$ADMIN" "$URL/api/v1/vault-templates")
  [ "$st" = 200 ]
}

# b_make_vault NAME IDFILE: a vault template and a locked vault owned by the
# first identity of IDFILE. Prints nothing; fails loudly.
b_make_vault() {
  local name=$1 idf=$2 cert key tpl body
  read -r cert key _ <"$idf"
  body=$(curl -sS --cacert "$CA" -u "$ADMIN" -H 'Content-Type: application/json' \
    --data-binary "{\"name\":\"tpl-$name\",\"kind\":\"vault\"}" "$URL/api/v1/vault-templates")
  tpl=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$body") ||
    { echo "template: $body" >&2; return 1; }
  body=$(curl -sS -w ' %{http_code}' --cacert "$CA" --cert "$cert" --key "$key" \
    -H 'Content-Type: application/json' \
    --data-binary "{\"name\":\"$name\",\"vault_template_id\":\"$tpl\"}" "$URL/api/v1/vaults")
  case $body in *" 201") ;; *) echo "vault: $body" >&2; return 1 ;; esac
}

# Context switches (voluntary + involuntary) of all threads of a pid.
b_ctxsw() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n + 0}'; }

# Snapshots of "cpu-ticks,context-switches" per pid, and the difference of
# two as "name=CPU-seconds/kilo-context-switches".
cpu_snap() { local p; for p in "$@"; do printf '%s,%s ' "$(b_cpu "$p")" "$(b_ctxsw "$p")"; done; }
cpu_report() {
  local before=($1) after=($2) names=($3) i out="" tck
  tck=$(getconf CLK_TCK)
  for i in "${!names[@]}"; do
    out="$out ${names[$i]}=$(awk -v a="${after[$i]}" -v b="${before[$i]}" -v t="$tck" \
      'BEGIN{split(a, x, ","); split(b, y, ","); printf "%.1fs/%.0fk", (x[1]-y[1])/t, (x[2]-y[2])/1000}')"
  done
  echo "cpu-s/ctx-switches:$out"
}

# Where the machine stands: other work on these 2 cores skews every figure.
b_env() { echo "host: $(nproc) cores, $(uptime | sed 's/.*load/load/'), $(date -u +%FT%TZ), main at $(git -C "$B_ROOT" log -1 --format=%h)"; }
