#!/usr/bin/env bash
# The red-team findings on CSR and Subject DN input, through the REST API with
# curl, openssl and python's cryptography: a CSR with junk after its DER, two
# concatenated CSRs, text after the PEM block, and Subject attributes holding
# NUL, CR, LF or other control characters are refused with 400 and consume
# nothing; /O=RT/CN=app-a, /CN=app-a/O=RT and /CN=app-a+O=RT are one Subject
# DN (409 for anyone but its holder, also for a device).
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
stack_up
W=$T_DIR/w
mkdir -p "$W"
PY=/usr/bin/python3

make_pending_account strict-a user-stricta "pw-a-$RANDOM-long-enough"; A=$ACC_ID; PA=$ACC_PW
make_pending_account strict-b user-strictb "pw-b-$RANDOM-long-enough"; B=$ACC_ID; PB=$ACC_PW

# ---- trailing data, several blocks ------------------------------------------
gen_csr "$W/a" "/O=RT/CN=app-a"
openssl req -in "$W/a.csr" -outform DER -out "$W/a.der"
{ cat "$W/a.der"; head -c 16 /dev/urandom; } >"$W/junk.der"
{ echo "-----BEGIN CERTIFICATE REQUEST-----"; base64 -w64 "$W/junk.der"; echo "-----END CERTIFICATE REQUEST-----"; } >"$W/junk.csr"
register "$A" "$W/junk.csr" "" "user-stricta:$PA"
expect_status 400 "16 bytes of junk after the DER"; expect_code invalid_argument "junk code"
check 'grep -q "after its DER" <<<"$BODY"' "junk: the reason says so"
gen_csr "$W/other" "/O=RT/CN=someone-else"
cat "$W/other.csr" "$W/a.csr" >"$W/two.csr"
register "$A" "$W/two.csr" "" "user-stricta:$PA"
expect_status 400 "two concatenated CSRs"
check 'grep -q "more than one PEM block" <<<"$BODY"' "two CSRs: the reason says so"
{ cat "$W/a.csr"; echo "trailing words"; } >"$W/text.csr"
register "$A" "$W/text.csr" "" "user-stricta:$PA"
expect_status 400 "text after the PEM block"

# ---- control characters in DN attributes -----------------------------------
mk_py_csr() { # OUT CN [O]
  "$PY" - "$1" "$2" "${3:-RT}" <<'PY'
import sys
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
k = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, sys.argv[3]),
                  x509.NameAttribute(NameOID.COMMON_NAME, sys.argv[2].encode().decode("unicode_escape"))])
csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(k, hashes.SHA256())
open(sys.argv[1], "wb").write(csr.public_bytes(serialization.Encoding.PEM))
PY
}
i=0
for cn in 'app-a\x00' 'app-a\nO=Other' 'app-a\r' 'app\x1b[31m' 'app\x7f' 'app\x85'; do
  i=$((i + 1))
  if mk_py_csr "$W/cc$i.csr" "$cn" 2>/dev/null; then
    register "$A" "$W/cc$i.csr" "" "user-stricta:$PA"
    expect_status 400 "control character in CN ($cn)"
    check 'grep -q "control character" <<<"$BODY"' "control character ($cn): the reason says so"
  else
    echo "FAIL: could not build a CSR with CN $cn" >&2; T_FAILS=$((T_FAILS + 1))
  fi
done

# ---- nothing was consumed: the same credentials register a clean CSR -------
register "$A" "$W/a.csr" "" "user-stricta:$PA"
expect_status 201 "after every refusal, the clean CSR registers"
check '[ "$(jfield subject)" = "CN=app-a,O=RT" ]' "subject kept as sent ($(jfield subject))"

# ---- one DN whatever the RDN order and grouping ------------------------------
gen_csr "$W/b1" "/CN=app-a/O=RT"
register "$B" "$W/b1.csr" "" "user-strictb:$PB"
expect_status 409 "/CN=app-a/O=RT is /O=RT/CN=app-a"; expect_code conflict "reordered code"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/b2.key" \
  -out "$W/b2.csr" -subj "/CN=app-a+O=RT" -multivalue-rdn 2>/dev/null
check 'openssl req -in "$W/b2.csr" -noout -subject | grep -q "+"' "a multi-valued RDN CSR"
register "$B" "$W/b2.csr" "" "user-strictb:$PB"
expect_status 409 "/CN=app-a+O=RT is /O=RT/CN=app-a"
register_device dev-strict "$W/b2.csr"
expect_status 409 "a device may not take it either"
gen_csr "$W/b4" "/O=app-a/CN=RT"
register "$B" "$W/b4.csr" "" "user-strictb:$PB"
expect_status 201 "values swapped between types are another DN"

# ---- a registry written by the earlier canonical form (RDNs in order) -------
# is moved at start: the holder keeps its DN under the current key.
make_pending_account strict-c user-strictc "pw-c-$RANDOM-long-enough"; C=$ACC_ID; PC=$ACC_PW
gen_csr "$W/c" "/CN=app-c/O=RT"
register "$C" "$W/c.csr" "" "user-strictc:$PC"
expect_status 201 "C registers /CN=app-c/O=RT"
CS=$(jfield serial)
R() { redis-cli -p "$MGR_REDIS_PORT" "$@"; }
NEW=$(R HGET "cert:$CS" dn)
OLD=dn:$(printf '2.5.4.3=5:app-c,2.5.4.10=2:rt' | sha256sum | cut -d' ' -f1)
check '[ "$NEW" != "$OLD" ] && [ "$(R GET "$NEW")" = "acct:$C" ]' "the current key holds C"
R SET "$OLD" "acct:$C" >/dev/null; R DEL "$NEW" >/dev/null; R HSET "cert:$CS" dn "$OLD" >/dev/null
R DEL dn:form >/dev/null
stack_restart_services
check '[ "$(R HGET "cert:$CS" dn)" = "$NEW" ] && [ "$(R GET "$NEW")" = "acct:$C" ]' "after the restart, the record points at the current key"
check '[ "$(R EXISTS "$OLD")" = 0 ] && [ "$(R GET dn:form)" = 2 ]' "the old key is gone, the form marked"
make_pending_account strict-d user-strictd "pw-d-$RANDOM-long-enough"; D=$ACC_ID; PD=$ACC_PW
gen_csr "$W/d" "/O=RT/CN=app-c"
register "$D" "$W/d.csr" "" "user-strictd:$PD"
expect_status 409 "another holder may not take C's DN in another order"
