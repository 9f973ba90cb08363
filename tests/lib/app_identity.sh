# App identities for tests, made without the registration API: a key and a
# client certificate signed with the stack's CA key, and the Redis records
# (common/keys.h) that registration would have written. Source after
# tests/lib/stack.sh and stack_up. Tests may switch to real registration
# (POST /api/v1/accounts/{id}/certificates) once it exists.
#
#   app_identity NAME [ROLE] [DAYS]   creates account + certificate; sets
#       APP_ID (account id), APP_SERIAL; files $T_DIR/apps/NAME.{key,pem,id,serial}
#   app_api NAME METHOD PATH [curl args...]   `api` with NAME's certificate
#   app_disable NAME / app_enable NAME        account state + mgr:auth message
#   app_revoke NAME                           revokes NAME's certificate

app_identity() {
  local name=$1 role=${2:-vault_provisioner} days=${3:-30}
  local dir=$T_DIR/apps serial id fp now nb na ext
  mkdir -p "$dir"
  # 128-bit serial, first digit 1..7: positive, no leading zero, so that the
  # gateway's lowercase hex matches this string exactly.
  serial=$(printf '%x' $((RANDOM % 7 + 1)))$(openssl rand -hex 16 | cut -c2-)
  id="acc_test$(openssl rand -hex 8)"
  ext=$dir/$name.ext
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$ext"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/$name.key" \
    -subj "/O=Manager tests/CN=$name-$serial" -out "$dir/$name.csr" 2>/dev/null ||
    fail_now "app_identity: CSR for $name"
  openssl x509 -req -in "$dir/$name.csr" -CA "$MANAGER_DATA_DIR/ca/ca.pem" \
    -CAkey "$MANAGER_DATA_DIR/ca/ca.key" -set_serial "0x$serial" -days "$days" \
    -sha256 -extfile "$ext" -out "$dir/$name.pem" 2>/dev/null ||
    fail_now "app_identity: signing $name"
  fp=$(openssl x509 -in "$dir/$name.pem" -outform der | sha256sum | cut -d' ' -f1)
  nb=$(date -d "$(openssl x509 -in "$dir/$name.pem" -noout -startdate | cut -d= -f2)" +%s)
  na=$(date -d "$(openssl x509 -in "$dir/$name.pem" -noout -enddate | cut -d= -f2)" +%s)
  now=$(date +%s)
  redis-cli -p "$MGR_REDIS_PORT" HSET "cert:$serial" serial "$serial" \
    holder "acct:$id" account_id "$id" \
    subject "CN=$name-$serial,O=Manager tests" dn "o=manager tests,cn=$name-$serial" \
    not_before "$nb" not_after "$na" pem "$(cat "$dir/$name.pem")" \
    fingerprint "$fp" spki "" issued_at "$now" revoked_at "" >/dev/null &&
  redis-cli -p "$MGR_REDIS_PORT" HSET "acct:{$id}" id "$id" name "$name" \
    role "$role" state active cred_version 1 created_at "$now" \
    registered_at "$now" >/dev/null &&
  redis-cli -p "$MGR_REDIS_PORT" ZADD "acct:{$id}:certs" "${now}000" "$serial" >/dev/null &&
  redis-cli -p "$MGR_REDIS_PORT" ZADD acct:all "${now}000" "$id" >/dev/null &&
  redis-cli -p "$MGR_REDIS_PORT" SET "acct:name:$name" "$id" >/dev/null ||
    fail_now "app_identity: seeding Redis for $name"
  echo "$id" >"$dir/$name.id"
  echo "$serial" >"$dir/$name.serial"
  APP_ID=$id
  APP_SERIAL=$serial
}

app_api() {
  local name=$1; shift
  local m=$1 p=$2; shift 2
  api "$m" "$p" --cert "$T_DIR/apps/$name.pem" --key "$T_DIR/apps/$name.key" "$@"
}

app_disable() {
  local id
  id=$(cat "$T_DIR/apps/$1.id")
  redis-cli -p "$MGR_REDIS_PORT" HSET "acct:{$id}" state disabled >/dev/null
  redis-cli -p "$MGR_REDIS_PORT" PUBLISH mgr:auth "account $id" >/dev/null
}

app_enable() {
  local id
  id=$(cat "$T_DIR/apps/$1.id")
  redis-cli -p "$MGR_REDIS_PORT" HSET "acct:{$id}" state active >/dev/null
  redis-cli -p "$MGR_REDIS_PORT" PUBLISH mgr:auth "account $id" >/dev/null
}

app_revoke() {
  local serial
  serial=$(cat "$T_DIR/apps/$1.serial")
  redis-cli -p "$MGR_REDIS_PORT" HSET "cert:$serial" revoked_at "$(date +%s)" >/dev/null
  redis-cli -p "$MGR_REDIS_PORT" PUBLISH mgr:auth "cert $serial" >/dev/null
}

# app_curl NAME [curl args...]: curl with NAME's certificate (for files).
app_curl() {
  local name=$1; shift
  curl -sS --cacert "$CA" --cert "$T_DIR/apps/$name.pem" --key "$T_DIR/apps/$name.key" "$@"
}
