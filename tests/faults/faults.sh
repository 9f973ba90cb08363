#!/usr/bin/env bash
# Fault suite: under a bounded load of registrations, renewals and vault
# writes, kill -9 each service, the gateway and Redis in turn and restart
# them. Afterwards every acknowledged request is reflected in the stored
# state, nothing is half done, and requests during the outages got 503 (or
# no connection while the gateway was down), never a wrong answer.
. "$(dirname "$0")/../lib/stack.sh"
export MANAGER_RPC_TIMEOUT_MS=5000
stack_up
W=$T_DIR/faults
mkdir -p "$W"
A=(--cacert "$CA" -u "$ADMIN")

new_account() { # name user -> prints account id, or nothing
  curl -s "${A[@]}" -H 'Content-Type: application/json' \
    -d "{\"name\":\"$1\",\"role\":\"vault_provisioner\",\"username\":\"$2\",\"password\":\"fault-password-123\"}" \
    "$URL/api/v1/accounts" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("id",""))' 2>/dev/null
}
csr_json() { # dir cn -> writes dir/key.pem and dir/req.json
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1/key.pem" \
    -subj "/O=Faults/CN=$2" -out "$1/req.csr" 2>/dev/null
  python3 -c 'import json,sys; print(json.dumps({"csr": open(sys.argv[1]).read()}))' "$1/req.csr" >"$1/req.json"
}

# The application every worker writes with.
mkdir -p "$W/app"
ACC=$(new_account "fault app" "fault-app")
check '[ -n "$ACC" ]' "setup: account created"
csr_json "$W/app" "fault-app"
api POST "/api/v1/accounts/$ACC/certificates" -u "fault-app:fault-password-123" \
  -H 'Content-Type: application/json' --data-binary @"$W/app/req.json"
expect_status 201 "setup: registration"
jfield certificate >"$W/app/cert.pem"
APP=(--cacert "$CA" --cert "$W/app/cert.pem" --key "$W/app/key.pem")
api_json POST /api/v1/vault-templates '{"name":"faults","kind":"vault"}' -u "$ADMIN"
TPL=$(jfield id)
api_json POST /api/v1/vaults "{\"name\":\"faults\",\"vault_template_id\":\"$TPL\"}" "${APP[@]}"
expect_status 201 "setup: vault created"

STOP=$W/stop
put_worker() {
  local i=$1 n=0 st f sha
  f=$W/put-$i.bin
  while [ ! -e "$STOP" ] && [ $n -lt 400 ]; do
    n=$((n + 1))
    head -c $((RANDOM % 16384 + 1)) /dev/urandom >"$f"
    sha=$(sha256sum "$f" | cut -c1-64)
    st=$(curl -s -o /dev/null -w '%{http_code}' -m 15 "${APP[@]}" -T "$f" \
      "$URL/api/v1/vaults/faults/objects/w$i/$n")
    echo "$st put w$i/$n $sha" >>"$W/log"
  done
}
reg_worker() {
  local n=0 st id d
  while [ ! -e "$STOP" ] && [ $n -lt 200 ]; do
    n=$((n + 1))
    d=$W/reg-$n; mkdir -p "$d"
    # A create that committed but lost its reply to a kill is resent and
    # replayed (common/replay.h): 201, never 409 for our own name.
    st=$(curl -s -o "$d/acct.json" -w '%{http_code}' -m 15 "${A[@]}" -H 'Content-Type: application/json' \
      -d "{\"name\":\"reg $n\",\"role\":\"vault_provisioner\",\"username\":\"reg-user-$n\",\"password\":\"fault-password-123\"}" \
      "$URL/api/v1/accounts")
    id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("id",""))' "$d/acct.json" 2>/dev/null)
    [ -z "$id" ] && { echo "$st create reg-$n" >>"$W/log"; continue; }
    csr_json "$d" "reg-$n"
    st=$(curl -s -o "$d/out.json" -w '%{http_code}' -m 15 --cacert "$CA" -u "reg-user-$n:fault-password-123" \
      -H 'Content-Type: application/json' --data-binary @"$d/req.json" "$URL/api/v1/accounts/$id/certificates")
    echo "$st register $id $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("serial",""))' "$d/out.json" 2>/dev/null)" >>"$W/log"
  done
}
renew_worker() {
  local n=0 st
  while [ ! -e "$STOP" ] && [ $n -lt 300 ]; do
    n=$((n + 1))
    # A later date each time forces a renewal.
    st=$(curl -s -o "$W/renew.json" -w '%{http_code}' -m 15 "${APP[@]}" -H 'Content-Type: application/json' \
      -d "{\"expiration_date\":\"$(date -u -d "+400 days +$n hours" +%Y-%m-%dT%H:%M:%SZ)\"}" \
      "$URL/api/v1/accounts/$ACC/certificates/renew")
    echo "$st renew $ACC $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("serial",""))' "$W/renew.json" 2>/dev/null)" >>"$W/log"
  done
}

put_worker 1 & P1=$!
put_worker 2 & P2=$!
reg_worker & P3=$!
renew_worker & P4=$!

restart_one() {
  local name=$1
  case $name in
    redis)
      kill -KILL "$MGR_REDIS_PID"; wait "$MGR_REDIS_PID" 2>/dev/null
      sleep 1
      mgr_start_redis ;;
    *)
      eval "pid=\$MGR_PID_$name"
      kill -KILL "$pid"; wait "$pid" 2>/dev/null
      sleep 1
      if [ "$name" = gateway ]; then
        mgr_spawn gateway "$MGR_BIN/gateway/mgr-gateway"
      else
        mgr_spawn "$name" "$MGR_BIN/services/$name/mgr-$name"
      fi ;;
  esac
  mgr_wait "curl -sf --cacert $CA $URL/readyz" 30
}
FAULTS=0
for target in account ca vault gateway redis; do
  sleep 3
  restart_one "$target"
  FAULTS=$((FAULTS + 1))
  api GET /readyz; expect_status 200 "ready again after kill -9 of $target"
done
sleep 2
touch "$STOP"
wait $P1 $P2 $P3 $P4

# What the clients saw: only successes, 503, or no connection (gateway down).
total=$(wc -l <"$W/log")
acked=$(grep -cE '^(200|201) ' "$W/log")
# 100: the gateway said "100 Continue" and was killed before answering (no answer).
bad=$(grep -vE '^(100|200|201|503|000) ' "$W/log" | head -5)
echo "faults injected: $FAULTS; requests: $total; acknowledged: $acked; 503/no answer: $(grep -cE '^(100|503|000) ' "$W/log")"
check '[ "$acked" -gt 50 ]' "enough load was acknowledged"
check '[ -z "$bad" ]' "no wrong answers during outages: $bad"

# Every acknowledged object reads back with its SHA-256.
lost=0
while read -r st op key sha; do
  # A read that fails (503 on a slow machine) is retried: only a 404 or
  # other bytes count as lost.
  for _ in 1 2 3 4 5; do
    st=$(curl -s -o "$W/get.bin" -w '%{http_code}' "${APP[@]}" "$URL/api/v1/vaults/faults/objects/$key")
    [ "$st" = 200 ] || [ "$st" = 404 ] && break
    sleep 1
  done
  got=$(sha256sum <"$W/get.bin" | cut -c1-64)
  [ "$st" = 200 ] && [ "$got" = "$sha" ] || { lost=$((lost + 1)); echo "lost $key (status $st)" >&2; }
done < <(grep -E '^(200|201) put ' "$W/log" | awk '{k[$3]=$0} END {for (x in k) print k[x]}')
echo "objects lost: $lost"
check '[ "$lost" -eq 0 ]' "every acknowledged object is readable with its SHA-256"

# Every issued certificate is listed for its account.
missing=0
while read -r st op id serial; do
  curl -s "${A[@]}" "$URL/api/v1/accounts/$id/certificates" | grep -q "\"$serial\"" ||
    { missing=$((missing + 1)); echo "certificate $serial of $id not listed" >&2; }
done < <(grep -E '^(200|201) (register|renew) ' "$W/log")
check '[ "$missing" -eq 0 ]' "every issued certificate is listed"

# No half state: active accounts have certificates, pending ones keep their
# secret, every claimed DN has a holder with a certificate.
R=(redis-cli -p "$MGR_REDIS_PORT" --raw)
half=0
for key in $("${R[@]}" --scan --pattern 'acct:{*}' | grep -v ':certs$'); do
  id=${key#acct:\{}; id=${id%\}}
  state=$("${R[@]}" HGET "$key" state)
  case $state in
    active|disabled)
      [ "$("${R[@]}" ZCARD "acct:{$id}:certs")" -gt 0 ] || { half=$((half + 1)); echo "half: $id $state without certificate" >&2; }
      [ -z "$("${R[@]}" HGET "$key" pwhash)" ] || { half=$((half + 1)); echo "half: $id keeps a secret" >&2; } ;;
    pending_registration)
      u=$("${R[@]}" HGET "$key" username)
      [ "$("${R[@]}" GET "acct:user:$u")" = "$id" ] || { half=$((half + 1)); echo "half: $id pending without its user name" >&2; } ;;
  esac
done
for key in $("${R[@]}" --scan --pattern 'dn:*'); do
  holder=$("${R[@]}" GET "$key")
  case $holder in
    acct:*) [ "$("${R[@]}" ZCARD "acct:{${holder#acct:}}:certs")" -gt 0 ] || { half=$((half + 1)); echo "half: $key held by $holder without certificate" >&2; } ;;
  esac
done
echo "half states: $half"
check '[ "$half" -eq 0 ]' "no half state"

# With Redis down, /readyz is 503 and writes are refused, not queued.
kill -KILL "$MGR_REDIS_PID"; wait "$MGR_REDIS_PID" 2>/dev/null
api GET /readyz; expect_status 503 "readyz with redis down"
echo refused >"$W/refused.txt"
api PUT /api/v1/vaults/faults/objects/while-down -T "$W/refused.txt" "${APP[@]}"
expect_status 503 "a write with redis down is refused"
mgr_start_redis
mgr_wait "curl -sf --cacert $CA $URL/readyz" 30
api GET /api/v1/vaults/faults/objects/while-down "${APP[@]}"
expect_status 404 "the refused write was not queued and applied later"
