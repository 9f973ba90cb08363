# Helpers for tests that need registered accounts and client certificates.
# Source after tests/lib/stack.sh and stack_up.

# make_pending_account NAME USERNAME PASSWORD: sets ACC_ID and ACC_PW. Uses
# the admin API; where it is not there yet, writes the account to Redis as
# common/keys.h lays it out (pbkdf2-sha256 hash, as account-svc verifies).
make_pending_account() {
  local name=$1 user=$2 pw=$3 hash now
  ACC_PW=$pw
  api_json POST /api/v1/accounts \
    "$(jq -n --arg n "$name" --arg u "$user" --arg p "$pw" \
      '{name:$n, role:"vault_provisioner", username:$u, password:$p}')" -u "$ADMIN"
  if [ "$ST" = 201 ]; then
    ACC_ID=$(jfield id)
    return 0
  fi
  ACC_ID=acc_$(openssl rand -hex 13)
  hash=$(python3 -c '
import hashlib, os, sys
salt = os.urandom(16)
h = hashlib.pbkdf2_hmac("sha256", sys.argv[1].encode(), salt, 10000)
print("pbkdf2-sha256$10000$" + salt.hex() + "$" + h.hex())' "$pw")
  now=$(date +%s)
  redis-cli -p "$MGR_REDIS_PORT" HSET "acct:{$ACC_ID}" id "$ACC_ID" name "$name" \
    role vault_provisioner state pending_registration username "$user" \
    pwhash "$hash" cred_version 1 created_at "$now" registered_at "" >/dev/null
  redis-cli -p "$MGR_REDIS_PORT" SET "acct:user:$user" "$ACC_ID" >/dev/null
  redis-cli -p "$MGR_REDIS_PORT" SET "acct:name:$name" "$ACC_ID" >/dev/null
  redis-cli -p "$MGR_REDIS_PORT" ZADD acct:all "${now}000" "$ACC_ID" >/dev/null
}

# gen_csr PREFIX SUBJECT [printable|ec]: PREFIX.key and PREFIX.csr (RSA 2048;
# "ec" for P-256; "printable" encodes the DN as PrintableString).
gen_csr() {
  local p=$1 subj=$2 how=${3:-} cfg
  local key=(-newkey rsa:2048)
  cfg=$(mktemp)
  printf '[req]\ndistinguished_name=dn\nstring_mask=%s\n[dn]\n' \
    "$([ "$how" = printable ] && echo nombstr || echo utf8only)" >"$cfg"
  [ "$how" = ec ] && key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
  openssl req -new "${key[@]}" -nodes -keyout "$p.key" -out "$p.csr" \
    -subj "$subj" -config "$cfg" 2>/dev/null
  rm -f "$cfg"
}

# csr_json CSRFILE [EXPIRATION]: the JSON body of a registration/rotation.
csr_json() {
  if [ -n "${2:-}" ]; then
    jq -cn --arg c "$(cat "$1")" --arg e "$2" '{csr:$c, expiration_date:$e}'
  else
    jq -cn --arg c "$(cat "$1")" '{csr:$c}'
  fi
}

# register ACCOUNT_ID CSRFILE EXPIRATION(or "") USER:PASS
register() {
  api_json POST "/api/v1/accounts/$1/certificates" "$(csr_json "$2" "$3")" -u "$4"
}

# register_device NAME CSRFILE (as the administrator)
register_device() {
  api_json POST /api/v1/devices \
    "$(jq -cn --arg n "$1" --arg c "$(cat "$2")" '{name:$n, csr:$c}')" -u "$ADMIN"
}

# app METHOD PATH PREFIX [curl args]: with client certificate PREFIX.crt/.key
app() {
  local m=$1 p=$2 c=$3; shift 3
  api "$m" "$p" --cert "$c.crt" --key "$c.key" "$@"
}
# app_json METHOD PATH JSON PREFIX
app_json() {
  local m=$1 p=$2 j=$3 c=$4
  api_json "$m" "$p" "$j" --cert "$c.crt" --key "$c.key"
}

# eku CERTFILE: the extendedKeyUsage line
eku() {
  openssl x509 -in "$1" -noout -ext extendedKeyUsage 2>/dev/null | sed -n 2p | sed 's/^ *//'
}

# check_client_cert CRT KEY SUBJECT WHAT: chain, subject, key, EKU, not a CA.
check_client_cert() {
  local crt=$1 key=$2 subj=$3 what=$4
  check 'openssl verify -CAfile "$CA" "$crt" | grep -q ": OK"' "$what: verifies with the CA"
  check '[ "$(openssl x509 -in "$crt" -noout -subject -nameopt compat)" = "subject=$subj" ]' "$what: subject"
  check '[ "$(openssl x509 -in "$crt" -noout -pubkey)" = "$(openssl pkey -in "$key" -pubout)" ]' "$what: public key of the CSR"
  check '[ "$(eku "$crt")" = "TLS Web Client Authentication" ]' "$what: EKU clientAuth only"
  check 'openssl x509 -in "$crt" -noout -ext basicConstraints | grep -q "CA:FALSE"' "$what: not a CA"
  check '[ "$(openssl x509 -in "$crt" -noout -issuer)" = "issuer=$(openssl x509 -in "$CA" -noout -subject | sed "s/^subject=//")" ]' "$what: issuer is the CA"
}

# tamper_csr IN OUT: the same CSR with one bit of its signature flipped.
tamper_csr() {
  openssl req -in "$1" -outform DER -out "$1.der"
  python3 -c '
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[-1] ^= 1
open(sys.argv[1], "wb").write(bytes(d))' "$1.der"
  openssl req -inform DER -in "$1.der" -out "$2"
  rm -f "$1.der"
}

# crl_serials CRLFILE: the revoked serials, lowercase, sorted
crl_serials() {
  openssl crl -in "$1" -noout -text | sed -n 's/^ *Serial Number: *//p' | tr 'A-F' 'a-f' | sort
}
