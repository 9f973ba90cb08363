#!/usr/bin/env bash
# The CA's growth with history (bench/README "Scale"): per-request and
# per-pass work that does not grow with what an account or the CA did before.
# - An expiry pass that finds nothing new reads nothing: 300 certificates in
#   the notice window, noticed once, then passes that run no marker claim
#   (INFO commandstats), and no event twice.
# - Rotation without "revoke" revokes every valid certificate (also one
#   written behind the CA's back) but does not touch the revoked history:
#   Redis commands counted around one rotation after 40 rotations.
# - Certificate records go after MANAGER_CERT_RETENTION_S past not_after
#   (expired or revoked), also those written before the indexes existed; the
#   spki: marker stays (the key is still refused); device records and records
#   in their retention stay; the CRL lists the revoked one until it expires.
# - The account's certificate list pages (?after=&limit=, next_after).
export MANAGER_EXPIRY_SCAN_INTERVAL_S=1
export MANAGER_EXPIRY_NOTICE_DAYS=30
export MANAGER_MIN_CERT_VALIDITY_S=1
export MANAGER_CERT_RETENTION_S=20
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
. "$(dirname "$0")/../lib/seed.sh"
stack_up
W=$T_DIR/w
mkdir -p "$W"
day=86400

# calls NAME: how many times Redis ran command NAME (scripts' calls included).
calls() {
  rcli INFO commandstats | tr -d '\r' | sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p" | grep . || echo 0
}
xlen() { rcli XLEN "ev:{$1}"; }

# ---- 1. an expiry pass costs what is new ------------------------------------
Q=$(seed_account_id); seed_account "$Q"
now=$(date +%s)
for i in $(seq 1 300); do
  echo "HSET cert:q$i serial q$i holder acct:$Q account_id $Q not_after $((now + 10 * day)) revoked_at '' issued_at $now"
  echo "ZADD acct:{$Q}:certs $i q$i"
  echo "ZADD certs:expiry $((now + 10 * day)) q$i"
done | rcli >/dev/null
mgr_wait '[ "$(xlen "$Q")" -ge 600 ]' 30 || echo "note: 600 events did not arrive in 30 s" >&2
sleep 1.5 # let the pass that wrote them finish
set0=$(calls set); zs0=$(calls zscore); rb0=$(calls zrangebyscore); hm0=$(calls hmget)
sleep 4 # about four passes over a window of 300 noticed certificates
set1=$(calls set); zs1=$(calls zscore); rb1=$(calls zrangebyscore); hm1=$(calls hmget)
check '[ "$(xlen "$Q")" = 600 ]' "300 certificates in the window: 30 and 15 days once each"
check '[ $((rb1 - rb0)) -ge 2 ]' "the scanner ran passes meanwhile ($((rb1 - rb0)) range reads)"
echo "info: 4 s of passes over 300 noticed certificates: $((rb1 - rb0)) ZRANGEBYSCORE, $((set1 - set0)) SET, $((zs1 - zs0)) ZSCORE, $((hm1 - hm0)) HMGET" >&2
check '[ $((set1 - set0)) -lt 20 ]' "passes with nothing new claim no markers ($((set1 - set0)) SET)"
check '[ $((zs1 - zs0)) -lt 40 ] && [ $((hm1 - hm0)) -lt 40 ]' \
  "passes with nothing new read no certificates ($((zs1 - zs0)) ZSCORE, $((hm1 - hm0)) HMGET)"
check '[ "$(rcli ZCARD certs:due)" = "$(rcli ZCARD certs:expiry)" ]' "certs:due indexes certs:expiry"
due=$(rcli ZSCORE certs:due q1)
check '[ "${due%.*}" = $((now + 10 * day - 15 * day)) ] || [ "${due%.*}" = $((now + 10 * day)) ]' \
  "a noticed certificate waits for its next threshold ($due)"

# ---- 2. rotation cost does not grow with the revoked history ----------------
make_pending_account acct-r user-r "pw-r-$RANDOM-long-enough"; R=$ACC_ID; PR=$ACC_PW
gen_csr "$W/r0" "/O=Scale/CN=rotating app" ec
register "$R" "$W/r0.csr" "" "user-r:$PR"; expect_status 201 "register R"
jfield certificate >"$W/r0.crt"
cur=$W/r0; prev=$(jfield serial); chain=1
# 300 revoked certificates of R's past, written as an older version left
# them (the first rotation brings R's index up to date with them, once).
now=$(date +%s)
for i in $(seq 1 300); do
  h=$(printf '5%031x' "$i")
  echo "HSET cert:$h serial $h holder acct:$R account_id $R not_after $((now + 300 * day)) revoked_at $((now - 10)) issued_at $now"
  echo "ZADD acct:{$R}:certs $i $h"
  echo "ZADD certs:revoked $((now + 300 * day)) $h"
done | rcli >/dev/null
for i in $(seq 1 40); do
  gen_csr "$W/r$i" "/O=Scale/CN=rotating app" ec
  app_json POST "/api/v1/accounts/$R/certificates/rotate" "$(csr_json "$W/r$i.csr")" "$cur"
  [ "$ST" = 201 ] || { expect_status 201 "rotation $i"; break; }
  [ "$(jq -r '.revoked | join(" ")' <<<"$BODY")" = "$prev" ] || chain=0
  jfield certificate >"$W/r$i.crt"
  cur=$W/r$i; prev=$(jfield serial)
done
check '[ "$chain" = 1 ]' "each rotation revoked exactly the one before"
S40=$prev
# Two more valid ones (revoke: []) and one written straight into Redis.
for i in 41 42; do
  gen_csr "$W/r$i" "/O=Scale/CN=rotating app" ec
  app_json POST "/api/v1/accounts/$R/certificates/rotate" "$(csr_json "$W/r$i.csr" | jq -c '. + {revoke:[]}')" "$cur"
  expect_status 201 "rotation $i keeping the others"
  jfield certificate >"$W/r$i.crt"
  eval "S$i=$(jfield serial)"
done
seed_app_cert "$R" "$W/seeded" 30
SEEDED=$APP_SERIAL
gen_csr "$W/r43" "/O=Scale/CN=rotating app" ec
h0=$(calls hmget); z0=$(calls zrange); zr0=$(calls zrangebyscore)
app_json POST "/api/v1/accounts/$R/certificates/rotate" "$(csr_json "$W/r43.csr")" "$W/r42"
h1=$(calls hmget); z1=$(calls zrange); zr1=$(calls zrangebyscore)
expect_status 201 "rotation without revoke after 42 rotations"
jfield certificate >"$W/r43.crt"
rev=$(jq -r '.revoked | sort | join(" ")' <<<"$BODY")
want=$(printf '%s\n' "$S40" "$S41" "$S42" "$SEEDED" | sort | tr '\n' ' ' | sed 's/ $//')
check '[ "$rev" = "$want" ]' "every valid certificate revoked, the seeded one too (got '$rev', want '$want')"
echo "info: one rotation after 342 certificates: $((h1 - h0)) HMGET, $((z1 - z0)) ZRANGE, $((zr1 - zr0)) ZRANGEBYSCORE" >&2
check '[ $((h1 - h0)) -lt 25 ]' "the rotation read $((h1 - h0)) records (history: 342 revoked, 4 valid)"
app GET "/api/v1/accounts/$R/certificates" "$W/r43"; expect_status 200 "list R"
check '[ "$(jq "[.certificates[] | select(.status == \"valid\")] | length" <<<"$BODY")" = 1 ]' "one valid certificate left"
check '[ "$(jq "[.certificates[] | select(.status == \"revoked\")] | length" <<<"$BODY")" = 344 ]' "344 revoked"
app GET "/api/v1/accounts/$R/certificates" "$W/r42"; expect_status 401 "a revoked certificate is refused"

# ---- 3. the certificate list pages -------------------------------------------
api GET "/api/v1/accounts/$R/certificates" -u "$ADMIN"; expect_status 200 "full list"
all=$(jq -r '[.certificates[].serial] | join(" ")' <<<"$BODY")
check '[ "$(jq -c .next_after <<<"$BODY")" = null ]' "one page: next_after null"
got=""; after=""; pages=0
while :; do
  api GET "/api/v1/accounts/$R/certificates?limit=100${after:+&after=$after}" -u "$ADMIN"
  [ "$ST" = 200 ] || { expect_status 200 "page $pages"; break; }
  pages=$((pages + 1))
  got="$got $(jq -r '[.certificates[].serial] | join(" ")' <<<"$BODY")"
  after=$(jq -r '.next_after // empty' <<<"$BODY")
  [ -n "$after" ] && [ "$pages" -lt 20 ] || break
done
check '[ "$pages" = 4 ] && [ "$(echo $got)" = "$all" ] && [ "$(wc -w <<<"$got")" = 345 ]' "345 certificates in 4 pages of 100, oldest first, none twice ($pages pages)"
app GET "/api/v1/accounts/$R/certificates?limit=1" "$W/r43"; expect_status 200 "app pages too"
check '[ "$(jq ".certificates | length" <<<"$BODY")" = 1 ] && [ -n "$(jq -r ".next_after // empty" <<<"$BODY")" ]' "limit=1: one and a cursor"
for q in "limit=0" "limit=1001" "limit=x" "after=nonsense" "after=1:bad%20id"; do
  api GET "/api/v1/accounts/$R/certificates?$q" -u "$ADMIN"; expect_status 400 "list with $q"
  expect_code invalid_argument "list with $q code"
done

# ---- 4. records go after their retention ------------------------------------
make_pending_account acct-p user-p "pw-p-$RANDOM-long-enough"; P=$ACC_ID; PP=$ACC_PW
gen_csr "$W/p0" "/O=Scale/CN=pruned app" ec
register "$P" "$W/p0.csr" "" "user-p:$PP"; expect_status 201 "register P"
jfield certificate >"$W/p0.crt"; L=$(jfield serial)
gen_csr "$W/ps" "/O=Scale/CN=pruned app" ec
# 15 s: long enough for the rotation revoking R and the CRL read to come
# before R expires even on a slow sanitizer run (5 s was not, once in CI).
app_json POST "/api/v1/accounts/$P/certificates/rotate" "$(csr_json "$W/ps.csr" "$(date -u -d '+15 seconds' +%FT%TZ)" | jq -c '. + {revoke:[]}')" "$W/p0"
expect_status 201 "short certificate S"; SS=$(jfield serial); SS_NA=$(jfield not_after)
gen_csr "$W/pr" "/O=Scale/CN=pruned app" ec
app_json POST "/api/v1/accounts/$P/certificates/rotate" "$(csr_json "$W/pr.csr" "$(date -u -d '+15 seconds' +%FT%TZ)" | jq -c '. + {revoke:[]}')" "$W/p0"
expect_status 201 "short certificate R"; SR=$(jfield serial); SR_NA=$(jfield not_after)
gen_csr "$W/pl" "/O=Scale/CN=pruned app" ec
app_json POST "/api/v1/accounts/$P/certificates/rotate" "$(csr_json "$W/pl.csr" | jq -c --arg s "$SR" '. + {revoke:[$s]}')" "$W/p0"
expect_status 201 "rotation revoking R"
api GET /api/v1/ca/crl; expect_status 200 "CRL"
printf '%s\n' "$BODY" >"$W/crl.pem"
check 'crl_serials "$W/crl.pem" | grep -qx "$SR"' "R is in the CRL"
if ! crl_serials "$W/crl.pem" | grep -qx "$SR"; then
  echo "DEBUG SR=$SR now=$(date +%s) SR_NA=$SR_NA rot=$(cat "$W/p0" 2>/dev/null | head -c 600)" >&2
  echo "DEBUG crl=$(crl_serials "$W/crl.pem" | tr '\n' ' ')" >&2
  echo "DEBUG zscore=$(rcli ZSCORE certs:revoked "$SR") gen=$(rcli GET crl:gen) cached=$(rcli HMGET crl gen stale_at next_update | tr '\n' ' ')" >&2
  echo "DEBUG cert=$(rcli HGETALL "cert:$SR" | grep -v -- '-----' | tr '\n' ' ' | head -c 800)" >&2
  openssl crl -in "$W/crl.pem" -noout -lastupdate -nextupdate >&2
fi
[ "$(date +%s)" -lt "$(date -d "$SR_NA" +%s)" ] || echo "note: the CRL was read after R's not_after ($SR_NA); the check above could not pass" >&2
# History from before the indexes: long expired, written by hand.
now=$(date +%s)
OLDX=$(seed_serial); OLDY=$(seed_serial); OLDZ=$(seed_serial); OLDD=$(seed_serial); KEEP=$(seed_serial)
SEED_NO_INDEX=1 seed_cert "$OLDX" "acct:$P" $((now - 1000))       # expired, left no index
seed_cert "$OLDY" "acct:$P" $((now - 1000)) $((now - 2000))        # revoked, expired
seed_cert "$OLDZ" "acct:$P" $((now - 1000))                        # expired, still in certs:expiry
seed_cert "$OLDD" "dev:dev_old" $((now - 1000))                    # a device's
seed_cert "$KEEP" "acct:$P" $((now - 2))                           # within its retention
rcli SET "spki:spki-$OLDX" "$OLDX" >/dev/null
# A renewal syncs P's index with the hand-written records (no renewal due).
app_json POST "/api/v1/accounts/$P/certificates/renew" '{}' "$W/p0"; expect_status 200 "renew P (not needed)"
mgr_wait '[ "$(rcli EXISTS cert:$OLDX cert:$OLDY cert:$OLDZ)" = 0 ]' 30
check '[ "$(rcli EXISTS cert:$OLDX cert:$OLDY cert:$OLDZ)" = 0 ]' "records past their retention are deleted"
check '[ -z "$(rcli ZSCORE "acct:{$P}:certs" "$OLDX")$(rcli ZSCORE "acct:{$P}:certs" "$OLDY")$(rcli ZSCORE "acct:{$P}:certs" "$OLDZ")" ]' "and leave the account's list"
check '[ -z "$(rcli ZSCORE certs:revoked "$OLDY")$(rcli ZSCORE certs:expired "$OLDX")$(rcli ZSCORE certs:expiry "$OLDZ")" ]' "and every index"
check '[ "$(rcli EXISTS cert:$KEEP cert:$OLDD)" = 2 ]' "a record within its retention and a device's stay"
check '[ "$(rcli GET "spki:spki-$OLDX")" = "$OLDX" ]' "the spki: marker stays"
# evcount ACCOUNT TYPE SERIAL: how many such events the account has.
evcount() {
  api GET "/api/v1/accounts/$1/events?limit=1000" -u "$ADMIN"
  jq --arg t "$2" --arg s "$3" '[.events[] | select(.type == $t and .data.serial == $s)] | length' <<<"$BODY"
}
check '[ "$(evcount "$P" certificate.expired "$OLDZ")" = 1 ]' "OLDZ got certificate.expired before going"
# S and R expire; S gets certificate.expired; both are listed meanwhile.
mgr_wait "[ \$(date +%s) -gt $(date -d "$SS_NA" +%s) ] && [ \$(date +%s) -gt $(date -d "$SR_NA" +%s) ]" 25
mgr_wait '[ "$(evcount "$P" certificate.expired "$SS")" = 1 ]' 15
app GET "/api/v1/accounts/$P/certificates" "$W/p0"; expect_status 200 "list P after S expired"
check '[ "$(jq -r --arg s "$SS" ".certificates[] | select(.serial == \$s) | .status" <<<"$BODY")" = expired ]' "S listed as expired within its retention"
check '[ "$(jq -r --arg s "$SR" ".certificates[] | select(.serial == \$s) | .status" <<<"$BODY")" = revoked ]' "R listed as revoked within its retention"
api GET /api/v1/ca/crl; expect_status 200 "CRL after R expired"
printf '%s\n' "$BODY" >"$W/crl.pem"
check '[ -n "$(crl_serials "$W/crl.pem")" ] && ! crl_serials "$W/crl.pem" | grep -qx "$SR"' "R left the CRL at its expiry (the others stay)"
mgr_wait '[ "$(rcli EXISTS cert:$SS cert:$SR)" = 0 ]' 60
check '[ "$(rcli EXISTS cert:$SS cert:$SR)" = 0 ]' "S and R records deleted after the retention"
app GET "/api/v1/accounts/$P/certificates" "$W/p0"; expect_status 200 "list P after pruning"
check '[ -z "$(jq -r --arg s "$SS" --arg r "$SR" ".certificates[] | select(.serial == \$s or .serial == \$r) | .serial" <<<"$BODY")" ]' "S and R no longer listed"
check '[ "$(jq -r --arg s "$L" ".certificates[] | select(.serial == \$s) | .status" <<<"$BODY")" = valid ]' "the valid certificate stays"
check '[ "$(evcount "$P" certificate.expired "$SS")" = 1 ]' "S: certificate.expired once"
check '[ "$(evcount "$P" certificate.expiring "$SS")" = 2 ]' "S: the two notices once each"
check '[ "$(evcount "$P" certificate.expired "$SR")" = 0 ]' "R (revoked): no certificate.expired"
# The key of a pruned certificate is still refused.
app_json POST "/api/v1/accounts/$P/certificates/rotate" "$(csr_json "$W/ps.csr" | jq -c '. + {revoke:[]}')" "$W/p0"
expect_status 400 "the key of a pruned certificate is still refused"
# The list and events of the account keep working after a restart.
stack_restart_services
app GET "/api/v1/accounts/$P/certificates" "$W/p0"; expect_status 200 "list P after a restart"
check '[ "$(rcli ZCARD certs:due)" = "$(rcli ZCARD certs:expiry)" ]' "certs:due still indexes certs:expiry"
