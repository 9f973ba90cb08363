# Seeds Redis directly with records laid out as common/keys.h says, for tests
# that need accounts and certificates before (or without) the endpoints that
# create them. Source after tests/lib/stack.sh, call after stack_up.

rcli() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }

SEED_SEQ=0
# A fresh serial like the CA's: 32 lowercase hex digits, top nibble 4.
seed_serial() { echo "4$(openssl rand -hex 16 | cut -c2-32)"; }
# A fresh account id.
seed_account_id() { echo "acc_$(openssl rand -hex 13)"; }

# seed_account ID [STATE [ROLE]]: an account hash (registered unless pending).
seed_account() {
  local id=$1 state=${2:-active} role=${3:-vault_provisioner} now
  now=$(date +%s)
  rcli HSET "acct:{$id}" id "$id" name "name-$id" role "$role" state "$state" \
    cred_version 1 created_at "$now" \
    registered_at "$([ "$state" = pending_registration ] || echo "$now")" >/dev/null
  rcli SET "acct:name:name-$id" "$id" >/dev/null
  rcli ZADD acct:all "$(date +%s%3N)" "$id" >/dev/null
}

# seed_cert SERIAL HOLDER NOT_AFTER [REVOKED_AT [PEM [FINGERPRINT]]]:
# a certificate record. HOLDER is "acct:<id>" or "dev:<id>"; times are Unix
# seconds. Unrevoked certificates go to certs:expiry, revoked to certs:revoked.
seed_cert() {
  local serial=$1 holder=$2 na=$3 rev=${4:-} pem=${5:-} fp=${6:-} acct="" now ms
  now=$(date +%s)
  SEED_SEQ=$((SEED_SEQ + 1))
  ms=$(( $(date +%s%3N) + SEED_SEQ ))   # issue order = call order
  case $holder in acct:*) acct=${holder#acct:} ;; esac
  # One script: the CA's background passes run meanwhile and must never see
  # a record without its indexes (they would index or prune it themselves).
  rcli EVAL "
    local s, holder, acct, na, rev, pem, fp, now, ms, noidx = unpack(ARGV)
    redis.call('HSET', 'cert:' .. s, 'serial', s, 'holder', holder,
      'account_id', acct, 'subject', 'CN=test-' .. s, 'dn', 'cn=test-' .. s,
      'not_before', tostring(tonumber(now) - 60), 'not_after', na, 'pem', pem,
      'fingerprint', fp, 'spki', 'spki-' .. s, 'issued_at', now,
      'revoked_at', rev)
    if acct ~= '' then redis.call('ZADD', 'acct:{' .. acct .. '}:certs', ms, s) end
    if rev ~= '' then redis.call('ZADD', 'certs:revoked', na, s)
    elseif noidx == '' then redis.call('ZADD', 'certs:expiry', na, s) end
    return 1" 0 "$serial" "$holder" "$acct" "$na" "$rev" "$pem" "$fp" "$now" "$ms" \
    "${SEED_NO_INDEX:-}" >/dev/null   # SEED_NO_INDEX=1: not yet indexed
}

# seed_event ACCOUNT TYPE DATA_JSON: appends and publishes one event the way
# common/events.c does (same stream, fields and message). Prints its id.
seed_event() {
  rcli EVAL "
local acct, etype, etime, edata = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local sid = redis.call('XADD', 'ev:{' .. acct .. '}', 'MAXLEN', '~', 10000, '*',
  'type', etype, 'time', etime, 'data', edata)
redis.call('PUBLISH', 'mgr:ev:{' .. acct .. '}', '{\"id\":' .. cjson.encode(sid) ..
  ',\"type\":' .. cjson.encode(etype) .. ',\"account_id\":' .. cjson.encode(acct) ..
  ',\"time\":' .. cjson.encode(etime) .. ',\"data\":' .. edata .. '}')
return sid" 0 "$1" "$2" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$3"
}

# seed_app_cert ACCOUNT DIR [DAYS]: a client certificate for ACCOUNT signed
# with the stack's CA key (clientAuth), recorded in Redis. Sets APP_KEY,
# APP_CERT, APP_SERIAL, APP_FP. (Until ca.AuthCert knows certificate records,
# the gateway refuses it with 401.)
seed_app_cert() {
  local acct=$1 dir=$2 days=${3:-30} serial na fp
  mkdir -p "$dir"
  serial=$(seed_serial)
  openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/$serial.key" \
    -subj "/O=test/OU=$acct/CN=app-$serial" -out "$dir/$serial.csr" 2>/dev/null || return 1
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' \
    >"$dir/$serial.ext"
  openssl x509 -req -in "$dir/$serial.csr" -CA "$MANAGER_DATA_DIR/ca/ca.pem" \
    -CAkey "$MANAGER_DATA_DIR/ca/ca.key" -set_serial "0x$serial" -days "$days" \
    -sha256 -extfile "$dir/$serial.ext" -out "$dir/$serial.pem" 2>/dev/null || return 1
  na=$(date -d "$(openssl x509 -noout -enddate -in "$dir/$serial.pem" | cut -d= -f2)" +%s)
  fp=$(openssl x509 -in "$dir/$serial.pem" -outform DER | sha256sum | cut -c1-64)
  seed_cert "$serial" "acct:$acct" "$na" "" "$(cat "$dir/$serial.pem")" "$fp"
  APP_KEY=$dir/$serial.key
  APP_CERT=$dir/$serial.pem
  APP_SERIAL=$serial
  APP_FP=$fp
}

# seed_app_api METHOD PATH [curl args...]: api with the app certificate.
seed_app_api() {
  local m=$1 p=$2; shift 2
  api "$m" "$p" --cert "$APP_CERT" --key "$APP_KEY" "$@"
}
