#!/usr/bin/env bash
# PKI (API.md "PKI (v2)") with real clients: the AIA and CRL distribution
# point URLs in issued and device certificates, key usage per key type, the
# CA certificate and CRL in DER at those URLs (openssl verify -crl_check with
# the CRL fetched from the certificate's distribution point), and the OCSP
# responder with openssl ocsp: POST and GET, SHA-1 and SHA-256 CertIDs, the
# nonce echoed, RFC 5019 caching headers, good / revoked (time, reason) /
# unknown, a cached answer replaced after rotation revokes, and bad input
# (garbage, trailing bytes, another issuer, oversized bodies) answered with
# the OCSP status or a 4xx, never a 5xx.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
stack_up
W=$T_DIR/w
mkdir -p "$W"

# ocsp_post CERT [openssl ocsp args]: sets OUT (the text of the answer).
ocsp_post() {
  local c=$1; shift
  OUT=$(openssl ocsp "$@" -issuer "$CA" -cert "$c" -url "$URL/pki/ocsp" -CAfile "$CA" 2>&1)
}
# ocsp_get CERT NAME [args for the request]: GET of the request's base64,
# answer in $W/NAME.resp, headers in $W/NAME.hdr; sets ST and OUT.
ocsp_get() {
  local c=$1 n=$2; shift 2
  openssl ocsp "$@" -issuer "$CA" -cert "$c" -reqout "$W/$n.req" >/dev/null 2>&1
  local b64
  b64=$(base64 -w0 "$W/$n.req" | python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read().strip(), safe=""))')
  ST=$(curl -sS --cacert "$CA" -D "$W/$n.hdr" -o "$W/$n.resp" -w '%{http_code}' "$URL/pki/ocsp/$b64")
  OUT=$(openssl ocsp -reqin "$W/$n.req" -respin "$W/$n.resp" -issuer "$CA" -CAfile "$CA" -resp_text 2>&1)
}
# has PATTERN: grep -q that reads all its input (no SIGPIPE for the writer,
# which pipefail would count as a failure).
has() { grep "$@" >/dev/null; }
hdr() { sed -n "s/^$2: *//Ip" "$1" | tr -d '\r' | head -1; }

# ---- certificates: RSA and EC accounts, a device ---------------------------
make_pending_account pki-rsa user-pkirsa "pw-$RANDOM-long-enough"; A=$ACC_ID; PA=$ACC_PW
make_pending_account pki-ec user-pkiec "pw-$RANDOM-long-enough"; E=$ACC_ID; PE=$ACC_PW
gen_csr "$W/a1" "/O=PKI/CN=rsa-app"
gen_csr "$W/e1" "/O=PKI/CN=ec-app" ec
gen_csr "$W/d1" "/O=PKI/CN=device-1" ec
register "$A" "$W/a1.csr" "" "user-pkirsa:$PA"; expect_status 201 "RSA registration"
jfield certificate >"$W/a1.crt"; A1=$(jfield serial)
register "$E" "$W/e1.csr" "" "user-pkiec:$PE"; expect_status 201 "EC registration"
jfield certificate >"$W/e1.crt"; E1=$(jfield serial)
register_device pki-dev "$W/d1.csr"; expect_status 201 "device registration"
jfield certificate.certificate >"$W/d1.crt"

for c in a1 e1 d1; do
  t=$(openssl x509 -in "$W/$c.crt" -noout -text)
  check 'grep -q "OCSP - URI:$URL/pki/ocsp$" <<<"$t"' "$c: AIA OCSP URL"
  check 'grep -q "CA Issuers - URI:$URL/pki/ca.crt$" <<<"$t"' "$c: AIA CA Issuers URL"
  check '[ "$(openssl x509 -in "$W/$c.crt" -noout -ext crlDistributionPoints | grep -o "URI:.*")" = "URI:$URL/pki/crl" ]' "$c: CRL distribution point"
  check 'openssl x509 -in "$W/$c.crt" -noout -ext keyUsage | has critical' "$c: keyUsage critical"
  check 'openssl verify -x509_strict -CAfile "$CA" "$W/$c.crt" | has ": OK"' "$c: verifies (x509_strict)"
done
ku() { openssl x509 -in "$1" -noout -ext keyUsage | sed -n 2p | sed 's/^ *//'; }
check '[ "$(ku "$W/a1.crt")" = "Digital Signature, Key Encipherment" ]' "RSA key usage"
check '[ "$(ku "$W/e1.crt")" = "Digital Signature" ]' "EC key usage: digitalSignature only"
check '[ "$(ku "$W/d1.crt")" = "Digital Signature" ]' "EC device key usage"

# ---- the CA certificate and the CRL at the URLs of the certificate --------
CAURL=$(openssl x509 -in "$W/a1.crt" -noout -text | sed -n 's/.*CA Issuers - URI://p')
ST=$(curl -sS --cacert "$CA" -D "$W/ca.hdr" -o "$W/ca.der" -w '%{http_code}' "$CAURL")
check '[ "$ST" = 200 ]' "GET /pki/ca.crt"
check '[ "$(hdr "$W/ca.hdr" Content-Type)" = application/pkix-cert ]' "ca.crt content type"
check '[ "$(openssl x509 -inform DER -in "$W/ca.der" -outform PEM)" = "$(openssl x509 -in "$CA")" ]' "ca.crt is the CA certificate in DER"
CRLURL=$(openssl x509 -in "$W/a1.crt" -noout -ext crlDistributionPoints | sed -n 's/.*URI://p')
fetch_crl() {
  ST=$(curl -sS --cacert "$CA" -D "$W/crl.hdr" -o "$W/crl.der" -w '%{http_code}' "$CRLURL")
  openssl crl -inform DER -in "$W/crl.der" -out "$W/crl.pem" 2>/dev/null
}
fetch_crl
check '[ "$ST" = 200 ] && [ "$(hdr "$W/crl.hdr" Content-Type)" = application/pkix-crl ]' "GET /pki/crl (DER)"
check 'openssl crl -inform DER -in "$W/crl.der" -CAfile "$CA" -noout 2>&1 | has "verify OK"' "the CRL is signed by the CA"
check 'openssl verify -crl_check -CAfile "$CA" -CRLfile "$W/crl.pem" "$W/a1.crt" | has ": OK"' "verify -crl_check before revocation"

# ---- OCSP over POST: good, both CertID hashes, nonce ------------------------
ocsp_post "$W/a1.crt" -nonce -resp_text
check 'grep -q "^$W/a1.crt: good" <<<"$OUT"' "POST SHA-1 CertID: good"
check 'grep -q "Response verify OK" <<<"$OUT"' "answer verifies against the CA"
check '! grep -qi "nonce.*error\|no nonce" <<<"$OUT" && grep -q "OCSP Nonce" <<<"$OUT"' "nonce echoed"
check 'grep -q "Hash Algorithm: sha1" <<<"$OUT"' "SHA-1 CertID echoed"
check 'grep -q "Responder Id: " <<<"$OUT"' "responder id present"
check 'grep -q "Next Update:" <<<"$OUT"' "nextUpdate present"
ocsp_post "$W/e1.crt" -sha256 -nonce -resp_text
check 'grep -q "^$W/e1.crt: good" <<<"$OUT" && grep -q "Hash Algorithm: sha256" <<<"$OUT"' "POST SHA-256 CertID: good"
ocsp_post "$W/d1.crt" -nonce
check 'grep -q "^$W/d1.crt: good" <<<"$OUT"' "device certificate: good"
OUT=$(openssl ocsp -issuer "$CA" -serial 0x4bad0000000000000000000000000001 -url "$URL/pki/ocsp" -CAfile "$CA" 2>&1)
check 'grep -q ": unknown" <<<"$OUT"' "a serial this CA never issued: unknown"
OUT=$(openssl ocsp -issuer "$CA" -cert "$W/a1.crt" -cert "$W/e1.crt" -url "$URL/pki/ocsp" -CAfile "$CA" 2>&1)
check '[ "$(grep -c ": good" <<<"$OUT")" = 2 ]' "two CertIDs in one request"

# ---- OCSP over GET, caching headers ------------------------------------------
ocsp_get "$W/a1.crt" g1 -no_nonce
check '[ "$ST" = 200 ] && grep -q "Cert Status: good" <<<"$OUT" && grep -q "Response verify OK" <<<"$OUT"' "GET: good ($OUT)"
check '[ "$(hdr "$W/g1.hdr" Content-Type)" = application/ocsp-response ]' "GET content type"
CC=$(hdr "$W/g1.hdr" Cache-Control)
MAXAGE=$(sed -n 's/.*max-age=\([0-9]*\).*/\1/p' <<<"$CC")
check '[ -n "$MAXAGE" ] && [ "$MAXAGE" -gt 0 ] && [ "$MAXAGE" -le 3600 ]' "Cache-Control max-age ($CC)"
check 'grep -q "public" <<<"$CC" && grep -q "no-transform" <<<"$CC"' "Cache-Control public, no-transform"
ETAG=$(hdr "$W/g1.hdr" ETag)
check '[ -n "$ETAG" ] && [ -n "$(hdr "$W/g1.hdr" Last-Modified)" ] && [ -n "$(hdr "$W/g1.hdr" Expires)" ]' "ETag, Last-Modified, Expires"
NEXT=$(openssl ocsp -respin "$W/g1.resp" -resp_text -noverify 2>/dev/null | sed -n 's/^ *Next Update: //p' | head -1)
check '[ "$(date -u -d "$NEXT" +%s)" = "$(date -u -d "$(hdr "$W/g1.hdr" Expires)" +%s)" ]' "Expires is nextUpdate"
ocsp_get "$W/a1.crt" g1b -no_nonce
check '[ "$(hdr "$W/g1b.hdr" ETag)" = "$ETAG" ] && cmp -s "$W/g1.resp" "$W/g1b.resp"' "the same request again: the cached answer"
B64=$(base64 -w0 "$W/g1.req" | python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read().strip(), safe=""))')
ST=$(curl -sS --cacert "$CA" -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG" "$URL/pki/ocsp/$B64")
check '[ "$ST" = 304 ]' "If-None-Match: 304"
ocsp_get "$W/e1.crt" g2 -sha256 -nonce
check '[ "$ST" = 200 ] && grep -q "Cert Status: good" <<<"$OUT" && ! grep -qi "nonce.*err\|no nonce" <<<"$OUT" && grep -q "OCSP Nonce" <<<"$OUT" && grep -q "Response verify OK" <<<"$OUT"' "GET, SHA-256 CertID and nonce: good, nonce checked ($OUT)"

# ---- rotation revokes: OCSP (also the cached answer) and the CRL --------------
gen_csr "$W/a2" "/O=PKI/CN=rsa-app"
cp "$W/a1.key" "$W/a1c.key"; cp "$W/a1.crt" "$W/a1c.crt"
app_json POST "/api/v1/accounts/$A/certificates/rotate" "$(csr_json "$W/a2.csr")" "$W/a1c"
expect_status 201 "rotation"
jfield certificate >"$W/a2.crt"
ocsp_get "$W/a1.crt" g3 -no_nonce
check 'grep -q "Cert Status: revoked" <<<"$OUT"' "after rotation, the GET first answered good now says revoked ($OUT)"
check '! cmp -s "$W/g1.resp" "$W/g3.resp"' "a new answer, not the cached one"
ocsp_post "$W/a1.crt" -nonce -resp_text
check 'grep -q ": revoked" <<<"$OUT"' "POST: revoked"
check 'grep -q "Revocation Time:" <<<"$OUT"' "revocation time"
check 'grep -qi "Reason: superseded" <<<"$OUT"' "revocation reason superseded ($OUT)"
ocsp_post "$W/a2.crt" -nonce
check 'grep -q ": good" <<<"$OUT"' "the rotated-to certificate: good"
fetch_crl
check '{ openssl verify -crl_check -CAfile "$CA" -CRLfile "$W/crl.pem" "$W/a1.crt" 2>&1 || true; } | has "certificate revoked"' "verify -crl_check: the old one revoked"
check 'openssl verify -crl_check -CAfile "$CA" -CRLfile "$W/crl.pem" "$W/a2.crt" | has ": OK"' "verify -crl_check: the new one OK"
check 'openssl crl -in "$W/crl.pem" -noout -text | grep -A4 -i "$A1" | has "Superseded"' "CRL entry reason superseded"

# ---- bad input: the OCSP status, or a 4xx, never a 5xx -----------------------
ostatus() { openssl ocsp -respin "$1" -resp_text -noverify 2>&1 | sed -n 's/.*OCSP Response Status: *//p; s/.*Responder Error: *//p' | head -1; }
post_raw() { ST=$(curl -sS --cacert "$CA" -o "$W/raw.resp" -w '%{http_code}' -H 'Content-Type: application/ocsp-request' --data-binary "@$1" "$URL/pki/ocsp"); }
printf 'this is not an OCSP request' >"$W/garbage"
post_raw "$W/garbage"
check '[ "$ST" = 200 ] && [[ "$(ostatus "$W/raw.resp")" == *"malformedrequest (1)"* ]]' "garbage POST: malformedRequest ($ST $(ostatus "$W/raw.resp"))"
: >"$W/empty"
post_raw "$W/empty"
check '[ "$ST" = 200 ] && [[ "$(ostatus "$W/raw.resp")" == *"malformedrequest (1)"* ]]' "empty POST: malformedRequest"
cat "$W/g1.req" "$W/garbage" >"$W/trail"
post_raw "$W/trail"
check '[ "$ST" = 200 ] && [[ "$(ostatus "$W/raw.resp")" == *"malformedrequest (1)"* ]]' "request with trailing bytes: malformedRequest"
head -c 20 "$W/g1.req" >"$W/cut"
post_raw "$W/cut"
check '[ "$ST" = 200 ] && [[ "$(ostatus "$W/raw.resp")" == *"malformedrequest (1)"* ]]' "truncated request: malformedRequest"
ST=$(curl -sS --cacert "$CA" -o "$W/raw.resp" -w '%{http_code}' "$URL/pki/ocsp/not-base64!!")
check '[ "$ST" = 200 ] && [[ "$(ostatus "$W/raw.resp")" == *"malformedrequest (1)"* ]]' "GET garbage: malformedRequest ($ST)"
ST=$(curl -sS --cacert "$CA" -o "$W/raw.resp" -w '%{http_code}' "$URL/pki/ocsp/$(base64 -w0 "$W/garbage")")
check '[ "$ST" = 200 ] && [[ "$(ostatus "$W/raw.resp")" == *"malformedrequest (1)"* ]]' "GET base64 garbage: malformedRequest"
head -c 70000 /dev/urandom >"$W/big"
post_raw "$W/big"
check '[ "$ST" = 413 ]' "oversized POST: 413 ($ST)"
ST=$(curl -sS --cacert "$CA" -o /dev/null -w '%{http_code}' "$URL/pki/ocsp/$(head -c 3000 /dev/zero | tr '\0' A)")
check '[ "${ST:0:1}" = 4 ] || { [ "$ST" = 200 ]; }' "oversized GET: no 5xx ($ST)"
# Another issuer: a CA of our own, a certificate of it.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/o.key" -out "$W/other.pem" -subj "/CN=Other CA" -days 2 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$W/oc.key" -out "$W/oc.csr" -subj "/CN=other" 2>/dev/null
openssl x509 -req -in "$W/oc.csr" -CA "$W/other.pem" -CAkey "$W/o.key" -CAcreateserial -out "$W/oc.crt" -days 1 2>/dev/null
OUT=$(openssl ocsp -issuer "$W/other.pem" -cert "$W/oc.crt" -url "$URL/pki/ocsp" -CAfile "$CA" -respout "$W/oth.resp" 2>&1)
check '[[ "$(ostatus "$W/oth.resp")" == *"unauthorized (6)"* ]]' "another issuer: unauthorized ($OUT)"
# A certificate of ours asked with another issuer's name and key: unauthorized.
OUT=$(openssl ocsp -issuer "$W/other.pem" -cert "$W/e1.crt" -url "$URL/pki/ocsp" -CAfile "$CA" -respout "$W/oth2.resp" 2>&1)
check '[[ "$(ostatus "$W/oth2.resp")" == *"unauthorized (6)"* ]]' "our serial under another issuer: unauthorized"
ST=$(curl -sS --cacert "$CA" -o /dev/null -w '%{http_code}' -X PUT --data-binary "@$W/g1.req" "$URL/pki/ocsp")
check '[ "$ST" = 405 ]' "PUT /pki/ocsp: 405 ($ST)"
ST=$(curl -sS --cacert "$CA" -o /dev/null -w '%{http_code}' "$URL/healthz")
check '[ "$ST" = 200 ]' "the gateway still answers"
