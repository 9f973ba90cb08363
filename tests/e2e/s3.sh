#!/usr/bin/env bash
# The S3 front (API.md "S3 API for locked vaults (v2)") with real clients:
# curl with a client certificate, and boto3 with both Pythons (Debian's
# botocore 1.29; a current one, whose bodies are aws-chunked with CRC32
# trailers). Identity is the certificate: none, a foreign CA, a self-signed
# look-alike, a revoked one (also on an open connection), a disabled
# account, Basic credentials and another account's access key are 403
# AccessDenied. Buckets are the caller's locked vaults; objects are the
# REST API's, byte for byte both ways. Bad input (malformed XML, ranges,
# Content-MD5, checksums) gets S3's code and stores nothing.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
. "$(dirname "$0")/../lib/vault.sh"
export MANAGER_S3_DOMAIN=s3.test.invalid
stack_up

S3="https://127.0.0.1:$MANAGER_S3_PORT"
app_identity alice
ALICE=$APP_ID
app_identity bob
BOB=$APP_ID
app_identity carol
W=$T_DIR/w
mkdir -p "$W"

# s3 NAME METHOD PATH [curl args...]: NAME's certificate ("-" for none);
# sets ST, BODY (its text; the bytes are in $W/body) and HDRS (the
# response headers).
s3() {
  local name=$1 m=$2 p=$3; shift 3
  local c=()
  [ "$name" != - ] && c=(--cert "$T_DIR/apps/$name.pem" --key "$T_DIR/apps/$name.key")
  local out=$W/body
  # curl --head reads no body and writes the headers to -o.
  if [ "$m" = HEAD ]; then c+=(--head); out=/dev/null; else c+=(-X "$m"); fi
  rm -f "$W/body" "$W/hdrs"
  ST=$(curl -sS -o "$out" -D "$W/hdrs" -w '%{http_code}' --cacert "$CA" "${c[@]}" \
    "$@" "$S3$p" 2>"$W/curl.err")
  BODY=$(head -c 65536 "$W/body" 2>/dev/null | tr -d '\0')
  HDRS=$(tr -d '\r' <"$W/hdrs" 2>/dev/null)
}
# s3code: the <Code> of the error body.
s3code() { sed -n 's:.*<Code>\([^<]*\)</Code>.*:\1:p' <<<"$BODY"; }
hdr() { sed -n "s/^$1: //Ip" <<<"$HDRS" | head -1; }
expect_s3() { # STATUS CODE WHAT
  if [ "$ST" = "$1" ] && [ "$(s3code)" = "$2" ]; then
    T_PASSES=$((T_PASSES + 1))
  else
    echo "FAIL: $3: $ST $(s3code), want $1 $2; body: ${BODY:0:300}" >&2
    T_FAILS=$((T_FAILS + 1))
  fi
}
md5b64() { openssl dgst -md5 -binary "$1" | base64; }

TPL=$(mk_tpl s3-plain vault)

# ---- the caller ----------------------------------------------------------------
s3 - GET /
expect_s3 403 AccessDenied "no client certificate"
check 'grep -q "<RequestId>" <<<"$BODY" && [ -n "$(hdr x-amz-request-id)" ]' "S3 error body and x-amz-request-id"
s3 - GET / -u "$ADMIN"
expect_s3 403 AccessDenied "the administrator's Basic credentials"
s3 alice GET / -u "$ADMIN"
expect_s3 403 AccessDenied "Basic credentials beside a certificate"
s3 alice GET / -H "Authorization: AWS4-HMAC-SHA256 Credential=$BOB/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"
expect_s3 403 AccessDenied "an access key naming another account"
s3 alice GET / -H "Authorization: AWS4-HMAC-SHA256 Credential=$ALICE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"
expect_status 200 "the account id as the access key"
s3 alice GET "/?X-Amz-Credential=$BOB%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=00"
expect_s3 403 AccessDenied "a presigned URL naming another account"
# A foreign CA, and a self-signed look-alike of alice's certificate.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/fca.key" -out "$W/fca.pem" -days 3 \
  -subj "/CN=Foreign CA" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n' >"$W/leaf.ext"
openssl req -new -newkey rsa:2048 -nodes -keyout "$T_DIR/apps/foreign.key" -out "$W/f.csr" \
  -subj "/CN=alice" 2>/dev/null
openssl x509 -req -in "$W/f.csr" -CA "$W/fca.pem" -CAkey "$W/fca.key" -set_serial 7 -days 2 \
  -extfile "$W/leaf.ext" -out "$T_DIR/apps/foreign.pem" 2>/dev/null
s3 foreign GET /
check '[ "$ST" = 000 ] || { [ "$ST" = 403 ] && [ "$(s3code)" = AccessDenied ]; }' "a foreign CA's certificate (got $ST)"
openssl req -x509 -key "$T_DIR/apps/alice.key" -out "$T_DIR/apps/lookalike.pem" -days 3 \
  -set_serial "0x$(cat "$T_DIR/apps/alice.serial")" \
  -subj "$(openssl x509 -in "$T_DIR/apps/alice.pem" -noout -subject -nameopt compat | sed 's/^subject=//')" 2>/dev/null
cp "$T_DIR/apps/alice.key" "$T_DIR/apps/lookalike.key"
s3 lookalike GET /
check '[ "$ST" = 000 ] || { [ "$ST" = 403 ] && [ "$(s3code)" = AccessDenied ]; }' "a self-signed look-alike (got $ST)"

# ---- buckets -----------------------------------------------------------------
B=s3-alice
s3 alice PUT "/$B" --data-binary "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>$TPL</LocationConstraint></CreateBucketConfiguration>"
expect_status 200 "CreateBucket with the template id as LocationConstraint"
app_api alice GET "/api/v1/vaults/$B"
check '[ "$ST" = 200 ] && [ "$(jfield vault_template_id)" = "$TPL" ] && [ "$(jfield locked)" = true ]' "the bucket is a locked vault of that template"
s3 alice PUT "/$B" --data-binary "<CreateBucketConfiguration><LocationConstraint>$TPL</LocationConstraint></CreateBucketConfiguration>"
expect_s3 409 BucketAlreadyOwnedByYou "CreateBucket again"
s3 bob PUT "/$B" --data-binary "<CreateBucketConfiguration><LocationConstraint>$TPL</LocationConstraint></CreateBucketConfiguration>"
expect_s3 409 BucketAlreadyExists "CreateBucket of a name another account holds"
s3 alice PUT /s3-bad --data-binary "<CreateBucketConfiguration><LocationConstraint>$TPL"
expect_s3 400 MalformedXML "malformed XML"
s3 alice PUT /s3-bad --data-binary "<!DOCTYPE x [<!ENTITY e \"a\">]><CreateBucketConfiguration><LocationConstraint>&e;</LocationConstraint></CreateBucketConfiguration>"
expect_s3 400 MalformedXML "XML with an entity declaration"
s3 alice PUT /s3-bad --data-binary "<CreateBucketConfiguration><LocationConstraint>tpl_nosuch</LocationConstraint></CreateBucketConfiguration>"
expect_s3 400 InvalidLocationConstraint "a template that does not exist"
s3 alice PUT /s3-bad
expect_s3 400 InvalidLocationConstraint "no LocationConstraint and no default template"
s3 alice PUT /S3_Bad --data-binary "<CreateBucketConfiguration><LocationConstraint>$TPL</LocationConstraint></CreateBucketConfiguration>"
expect_s3 400 InvalidBucketName "a name that is no bucket name"
s3 alice HEAD /s3-bad
check '[ "$ST" = 404 ]' "refused CreateBuckets made nothing"
TPL2=$(mk_tpl s3-by-name vault)
s3 alice PUT /s3-named --data-binary "<CreateBucketConfiguration><LocationConstraint>s3-by-name</LocationConstraint></CreateBucketConfiguration>"
expect_status 200 "CreateBucket with the template's name"
app_api alice GET /api/v1/vaults/s3-named
check '[ "$(jfield vault_template_id)" = "$TPL2" ]' "the named template"
api_json PATCH "/api/v1/vault-templates/$TPL2" '{"default":true}' -u "$ADMIN"
expect_status 200 "the administrator makes a default template"
s3 alice PUT /s3-default
expect_status 200 "CreateBucket without a LocationConstraint"
app_api alice GET /api/v1/vaults/s3-default
check '[ "$(jfield vault_template_id)" = "$TPL2" ]' "takes the default template"
for b in s3-named s3-default; do s3 alice DELETE "/$b"; expect_status 204 "DeleteBucket $b"; done
s3 alice GET /
check '[ "$ST" = 200 ] && grep -q "<Name>$B</Name>" <<<"$BODY"' "ListBuckets"
s3 bob GET /
check '[ "$ST" = 200 ] && ! grep -q "<Name>$B</Name>" <<<"$BODY"' "ListBuckets: only the caller's"
s3 alice HEAD "/$B"
expect_status 200 "HeadBucket"
s3 bob HEAD "/$B"
expect_status 403 "HeadBucket of another account's bucket"
s3 bob GET "/$B"
expect_s3 403 AccessDenied "listing another account's bucket"
s3 alice GET "/$B?location"
check '[ "$ST" = 200 ] && grep -q "<LocationConstraint" <<<"$BODY"' "GetBucketLocation"
s3 alice GET "/$B?versioning"
check '[ "$ST" = 200 ] && grep -q "<VersioningConfiguration" <<<"$BODY" && ! grep -q Enabled <<<"$BODY"' "GetBucketVersioning: never enabled"
s3 alice GET "/$B?acl"
expect_s3 501 NotImplemented "GetBucketAcl"
s3 alice PUT "/$B?versioning" --data-binary '<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>'
expect_s3 501 NotImplemented "PutBucketVersioning"
s3 alice PUT "/$B?policy" --data-binary '{}'
expect_s3 501 NotImplemented "PutBucketPolicy"

# ---- objects: curl ---------------------------------------------------------------
head -c 3000000 /dev/urandom >"$W/obj"
s3 alice PUT "/$B/dir/obj.bin" --data-binary @"$W/obj" -H "Content-MD5: $(md5b64 "$W/obj")" \
  -H 'Content-Type: application/x-mine' -H 'x-amz-meta-owner: alice' -H 'Content-Disposition: inline'
expect_status 200 "PutObject with Content-MD5"
check '[ "$(hdr ETag)" = "\"$(md5sum <"$W/obj" | cut -d" " -f1)\"" ]' "the ETag is the MD5 ($(hdr ETag))"
app_curl alice -o "$W/rest.out" "$URL/api/v1/vaults/$B/objects/dir/obj.bin"
check 'cmp -s "$W/obj" "$W/rest.out"' "an S3 write reads back through REST, byte for byte"
s3 alice GET "/$B/dir/obj.bin"; cp "$W/body" "$W/s3.out"
check '[ "$ST" = 200 ] && cmp -s "$W/obj" "$W/s3.out"' "and through S3"
check '[ "$(hdr Content-Type)" = application/x-mine ] && [ "$(hdr x-amz-meta-owner)" = alice ] && [ "$(hdr Content-Disposition)" = inline ]' "headers kept"
head -c 200000 /dev/urandom >"$W/rest.in"
app_api alice PUT "/api/v1/vaults/$B/objects/from-rest" --data-binary @"$W/rest.in"
s3 alice GET "/$B/from-rest"; cp "$W/body" "$W/s3b.out"
check '[ "$ST" = 200 ] && cmp -s "$W/rest.in" "$W/s3b.out"' "a REST write reads back through S3"
check '[ "$(hdr ETag)" = "\"$(md5sum <"$W/rest.in" | cut -d" " -f1)\"" ]' "with the MD5 ETag"
s3 alice GET "/$B/dir/obj.bin" -H 'Range: bytes=100-199'; cp "$W/body" "$W/r.out"
check '[ "$ST" = 206 ] && cmp -s "$W/r.out" <(tail -c +101 "$W/obj" | head -c 100)' "Range 100-199"
check '[ "$(hdr Content-Range)" = "bytes 100-199/3000000" ]' "Content-Range"
s3 alice GET "/$B/dir/obj.bin" -H 'Range: bytes=3000000-'
expect_s3 416 InvalidRange "a range past the end"
s3 alice GET "/$B/dir/obj.bin" -H 'Range: bytes=-0'
expect_s3 416 InvalidRange "an empty suffix range"
ET=$(md5sum <"$W/obj" | cut -d" " -f1)
s3 alice GET "/$B/dir/obj.bin" -H "If-None-Match: \"$ET\""
expect_status 304 "If-None-Match"
s3 alice GET "/$B/dir/obj.bin" -H 'If-Match: "abc"'
expect_s3 412 PreconditionFailed "If-Match"
s3 alice GET /dir/obj.bin -H "Host: $B.s3.test.invalid:$MANAGER_S3_PORT"
check '[ "$ST" = 200 ] && cmp -s "$W/obj" "$W/body"' "virtual-hosted style: {bucket}.MANAGER_S3_DOMAIN"
s3 alice GET "/?list-type=2&prefix=dir/" -H "Host: $B.s3.test.invalid"
check '[ "$ST" = 200 ] && grep -q "<Key>dir/obj.bin</Key>" <<<"$BODY"' "virtual-hosted ListObjectsV2"
# A key that sorts past what a folded prefix skips to (the largest UTF-8
# character, 255 times): listed once under its prefix, no endless listing.
LONGK=$(python3 -c 'import urllib.parse; print(urllib.parse.quote("z/" + "\U0010FFFF" * 255 + "xy"))')
s3 alice PUT "/$B/$LONGK" --data-binary x
expect_status 200 "a key of 1024 bytes"
s3 alice PUT "/$B/z/a" --data-binary x
s3 alice GET "/$B?delimiter=/&prefix=z" --max-time 20
check '[ "$ST" = 200 ] && [ "$(grep -o "<Prefix>z/</Prefix>" <<<"$BODY" | wc -l)" = 1 ]' "the prefix folded once"
for k in "$LONGK" z/a; do s3 alice DELETE "/$B/$k"; done
s3 alice GET "/$B?list-type=2&max-keys=0"
check '[ "$ST" = 200 ] && grep -q "<KeyCount>0</KeyCount>" <<<"$BODY" && grep -q "<IsTruncated>false</IsTruncated>" <<<"$BODY"' "max-keys=0: nothing, not truncated"
s3 alice GET "/$B?prefix=%zz"
expect_s3 400 InvalidArgument "a badly encoded query argument"
s3 alice PUT "/$B/ctl" --data-binary x -H "$(printf 'x-amz-meta-a: b\001c')"
expect_s3 400 InvalidArgument "a control character in a header"
s3 alice HEAD "/$B/ctl"
expect_status 404 "and nothing stored"
s3 alice GET "/$B?max-keys=x"
expect_s3 400 InvalidArgument "a bad max-keys"
s3 alice HEAD "/$B/dir/obj.bin"
check '[ "$ST" = 200 ] && [ "$(hdr Content-Length)" = 3000000 ] && [ "$(hdr ETag)" = "\"$ET\"" ]' "HeadObject"
s3 alice HEAD "/$B/nothing"
expect_status 404 "HeadObject of nothing"
s3 alice GET "/$B/nothing"
expect_s3 404 NoSuchKey "GetObject of nothing"
s3 alice GET "/s3-none/x"
expect_s3 404 NoSuchBucket "GetObject in no bucket"

# Bad digests and checksums: the code, and nothing stored.
echo "hello s3" >"$W/small"
s3 alice PUT "/$B/bad-md5" --data-binary @"$W/small" -H "Content-MD5: $(echo other | openssl dgst -md5 -binary | base64)"
expect_s3 400 BadDigest "a wrong Content-MD5"
s3 alice PUT "/$B/bad-md5" --data-binary @"$W/small" -H "Content-MD5: notbase64!"
expect_s3 400 InvalidDigest "a malformed Content-MD5"
s3 alice PUT "/$B/bad-md5" --data-binary @"$W/small" -H "x-amz-checksum-crc32: AAAAAA=="
expect_s3 400 BadDigest "a wrong x-amz-checksum-crc32"
s3 alice PUT "/$B/bad-md5" --data-binary @"$W/small" -H "x-amz-checksum-sha256: $(echo other | openssl dgst -sha256 -binary | base64)"
expect_s3 400 BadDigest "a wrong x-amz-checksum-sha256"
s3 alice HEAD "/$B/bad-md5"
check '[ "$ST" = 404 ]' "refused writes stored nothing"
s3 alice PUT "/$B/good-sum" --data-binary @"$W/small" -H "x-amz-checksum-sha256: $(openssl dgst -sha256 -binary "$W/small" | base64)"
check '[ "$ST" = 200 ] && [ "$(hdr x-amz-checksum-sha256)" = "$(openssl dgst -sha256 -binary "$W/small" | base64)" ]' "a right checksum is returned"
# An aws-chunked body with a CRC32 trailer, as current SDKs send it; then
# one whose trailer is wrong.
chunked() { # FILE CRC32_B64 -> the aws-chunked body on stdout
  python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
out = b""
for i in range(0, len(d), 65536):
    c = d[i:i + 65536]
    out += b"%x\r\n" % len(c) + c + b"\r\n"
out += b"0\r\nx-amz-checksum-crc32:" + sys.argv[2].encode() + b"\r\n\r\n"
sys.stdout.buffer.write(out)' "$1" "$2"
}
CRC=$(python3 -c 'import zlib, sys, base64; print(base64.b64encode(zlib.crc32(open(sys.argv[1], "rb").read()).to_bytes(4, "big")).decode())' "$W/obj")
chunked "$W/obj" "$CRC" >"$W/obj.chunked"
s3 alice PUT "/$B/chunked" --data-binary @"$W/obj.chunked" -H 'Content-Encoding: aws-chunked' \
  -H 'x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER' -H 'x-amz-trailer: x-amz-checksum-crc32' \
  -H 'x-amz-decoded-content-length: 3000000'
check '[ "$ST" = 200 ] && [ "$(hdr x-amz-checksum-crc32)" = "$CRC" ]' "aws-chunked with a CRC32 trailer ($ST ${BODY:0:200})"
s3 alice GET "/$B/chunked"; cp "$W/body" "$W/chunked.out"
check 'cmp -s "$W/obj" "$W/chunked.out"' "the aws-chunked body is stored decoded"
chunked "$W/obj" AAAAAA== >"$W/obj.badchunked"
s3 alice PUT "/$B/chunked-bad" --data-binary @"$W/obj.badchunked" -H 'Content-Encoding: aws-chunked' \
  -H 'x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER' -H 'x-amz-trailer: x-amz-checksum-crc32' \
  -H 'x-amz-decoded-content-length: 3000000'
expect_s3 400 BadDigest "a wrong CRC32 trailer"
s3 alice PUT "/$B/chunked-bad" --data-binary 'zz\r\nbroken' -H 'Content-Encoding: aws-chunked' \
  -H 'x-amz-decoded-content-length: 6'
check '[ "$ST" = 400 ]' "a malformed aws-chunked body: 400 ($(s3code))"
s3 alice HEAD "/$B/chunked-bad"
check '[ "$ST" = 404 ]' "and nothing stored"

# DeleteObjects with malformed XML; DeleteBucket of a full bucket.
s3 alice POST "/$B?delete" --data-binary '<Delete><Object><Key>x</Key></Object>'
expect_s3 400 MalformedXML "DeleteObjects with malformed XML"
python3 -c 'print("<Delete>" + "<Object><Key>k</Key></Object>" * 80000 + "</Delete>")' >"$W/huge.xml"
s3 alice POST "/$B?delete" --data-binary @"$W/huge.xml"
expect_s3 400 MalformedXML "DeleteObjects with XML over 2 MiB"
s3 alice PUT "/$B/too-big" -H 'Content-Length: 6000000000' --data-binary 'x'
expect_s3 400 EntityTooLarge "a declared length over MANAGER_MAX_OBJECT_BYTES"
s3 alice GET "/$B/dir/obj.bin" -H 'x-amz-copy-source: /elsewhere/x' -X POST
check '[ "$ST" = 405 ] || [ "$ST" = 501 ]' "a POST to an object that is no operation ($ST $(s3code))"
s3 alice DELETE "/$B"
expect_s3 409 BucketNotEmpty "DeleteBucket of a bucket with objects"

# ---- boto3, both Pythons -----------------------------------------------------------
B2=s3-boto
s3 alice PUT "/$B2" --data-binary "<CreateBucketConfiguration><LocationConstraint>$TPL</LocationConstraint></CreateBucketConfiguration>"
expect_status 200 "CreateBucket for boto3"
s3 bob PUT /s3-bob --data-binary "<CreateBucketConfiguration><LocationConstraint>$TPL</LocationConstraint></CreateBucketConfiguration>"
expect_status 200 "bob's bucket"
for py in /usr/bin/python3 python3; do
  if ! "$py" -c 'import boto3' 2>/dev/null; then
    echo "FAIL: no boto3 for $py" >&2; T_FAILS=$((T_FAILS + 1)); continue
  fi
  if env -u AWS_CA_BUNDLE "$py" "$(dirname "$0")/../lib/s3_boto.py" "$S3" "$CA" \
      "$T_DIR/apps/alice.pem" "$T_DIR/apps/alice.key" "$B2" s3-bob >"$W/boto.out" 2>&1; then
    T_PASSES=$((T_PASSES + 1))
  else
    echo "FAIL: boto3 with $py:" >&2; cat "$W/boto.out" >&2; T_FAILS=$((T_FAILS + 1))
  fi
  tail -1 "$W/boto.out" >&2
done

# ---- rclone: a tree up and down, rclone check ------------------------------------
mkdir -p "$W/tree/sub/deeper" "$W/tree.back"
for i in 1 2 3; do head -c $((i * 70000)) /dev/urandom >"$W/tree/f$i"; done
echo "a small one" >"$W/tree/sub/s.txt"
head -c 1500000 /dev/urandom >"$W/tree/sub/deeper/big"
: >"$W/tree/sub/empty"
export RCLONE_CONFIG_MGR_TYPE=s3 RCLONE_CONFIG_MGR_PROVIDER=Other \
  RCLONE_CONFIG_MGR_ENDPOINT=$S3 RCLONE_CONFIG_MGR_ACCESS_KEY_ID=any \
  RCLONE_CONFIG_MGR_SECRET_ACCESS_KEY=any RCLONE_CONFIG_MGR_FORCE_PATH_STYLE=true \
  RCLONE_CONFIG_MGR_REGION=us-east-1
RC=(env -u AWS_CA_BUNDLE rclone --config /dev/null --ca-cert "$CA" --client-cert "$T_DIR/apps/alice.pem"
  --client-key "$T_DIR/apps/alice.key" --retries 1 --low-level-retries 1)
check '"${RC[@]}" copy "$W/tree" mgr:$B2/tree 2>"$W/rclone.err"' "rclone copy up ($(tail -2 "$W/rclone.err" 2>/dev/null))"
check '"${RC[@]}" copy mgr:$B2/tree "$W/tree.back" 2>"$W/rclone.err" && diff -r "$W/tree" "$W/tree.back"' "rclone copy down: the same tree"
check '"${RC[@]}" check "$W/tree" mgr:$B2/tree 2>"$W/rclone.err"' "rclone check (sizes and MD5s)"
check '[ "$("${RC[@]}" lsf -R mgr:$B2/tree | sort | tr "\n" " ")" = "f1 f2 f3 sub/ sub/deeper/ sub/deeper/big sub/empty sub/s.txt " ]' "rclone lsf -R"
app_curl alice -o "$W/rest.f2" "$URL/api/v1/vaults/$B2/objects/tree/f2"
check 'cmp -s "$W/tree/f2" "$W/rest.f2"' "rclone's upload through REST, byte for byte"
check '"${RC[@]}" purge mgr:$B2/tree 2>"$W/rclone.err" && [ -z "$("${RC[@]}" lsf mgr:$B2/tree 2>/dev/null)" ]' "rclone purge"
check '! env -u AWS_CA_BUNDLE rclone --config /dev/null --ca-cert "$CA" --retries 1 --low-level-retries 1 lsf mgr:$B2 2>/dev/null' "rclone without a certificate is refused"
[ "$T_FAILS" -gt 0 ] && cat "$W/rclone.err" >&2

# ---- s3cmd with ssl_client_cert_file -----------------------------------------------------
cat >"$W/s3cfg" <<EOF
[default]
access_key = any
secret_key = any
host_base = 127.0.0.1:$MANAGER_S3_PORT
host_bucket = 127.0.0.1:$MANAGER_S3_PORT
use_https = True
ca_certs_file = $CA
ssl_client_cert_file = $T_DIR/apps/alice.pem
ssl_client_key_file = $T_DIR/apps/alice.key
check_ssl_certificate = True
signature_v2 = False
bucket_location = us-east-1
EOF
S3CMD=(env -u AWS_CA_BUNDLE s3cmd -c "$W/s3cfg" --no-progress)
check '"${S3CMD[@]}" put "$W/tree/f3" s3://$B2/s3cmd/f3 >"$W/s3cmd.out" 2>&1' "s3cmd put"
check '"${S3CMD[@]}" ls s3://$B2/s3cmd/ 2>&1 | grep -q "s3://$B2/s3cmd/f3"' "s3cmd ls"
check '"${S3CMD[@]}" get --force s3://$B2/s3cmd/f3 "$W/s3cmd.f3" >>"$W/s3cmd.out" 2>&1 && cmp -s "$W/tree/f3" "$W/s3cmd.f3"' "s3cmd get: the same bytes"
check '"${S3CMD[@]}" ls 2>&1 | grep -q "s3://$B2"' "s3cmd ls of the buckets"
check '"${S3CMD[@]}" del s3://$B2/s3cmd/f3 >>"$W/s3cmd.out" 2>&1' "s3cmd del"
[ "$T_FAILS" -gt 0 ] && cat "$W/s3cmd.out" >&2

# ---- revocation and disable, also on an open connection ------------------------------
# One TLS connection: a request, then the change, then the next request.
open_conn() { # NAME ACTION: statuses of GET / before and after ACTION on one connection
  python3 - "$S3" "$CA" "$T_DIR/apps/$1.pem" "$T_DIR/apps/$1.key" "$2" <<'EOF'
import http.client, ssl, subprocess, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx)
c.request("GET", "/"); r = c.getresponse(); r.read(); a = r.status
subprocess.run(["bash", "-c", sys.argv[5]], check=True)
time.sleep(0.5)
c.request("GET", "/"); r = c.getresponse(); body = r.read(); b = r.status
print(a, b, b"<Code>AccessDenied</Code>" in body)
EOF
}
export -f app_revoke app_disable
export T_DIR MGR_REDIS_PORT
OUT=$(open_conn carol "app_revoke carol")
check '[ "$OUT" = "200 403 True" ]' "a revocation stops an open connection ($OUT)"
s3 carol GET /
expect_s3 403 AccessDenied "a revoked certificate"
OUT=$(open_conn bob "app_disable bob")
check '[ "$OUT" = "200 403 True" ]' "a disable stops an open connection ($OUT)"
s3 bob GET /
expect_s3 403 AccessDenied "a disabled account"
app_enable bob
sleep 0.5
s3 bob GET /
expect_status 200 "enabled again"

# ---- cleanup through S3 ----------------------------------------------------------------
for k in dir/obj.bin from-rest chunked good-sum; do
  s3 alice DELETE "/$B/$k"
  expect_status 204 "DeleteObject $k"
done
s3 alice DELETE "/$B/dir/obj.bin"
expect_status 204 "DeleteObject of nothing: 204"
s3 alice DELETE "/$B"
expect_status 204 "DeleteBucket when empty"
s3 alice HEAD "/$B"
expect_status 404 "and it is gone"

# ---- MANAGER_S3_PORT=0: no S3 listener, the REST API as before ------------------
OLD_S3_PORT=$MANAGER_S3_PORT
export MANAGER_S3_PORT=0
stack_restart_services
check '! curl -s -o /dev/null --max-time 5 --cacert "$CA" --cert "$T_DIR/apps/alice.pem" --key "$T_DIR/apps/alice.key" "https://127.0.0.1:$OLD_S3_PORT/"' "MANAGER_S3_PORT=0: nothing listens on the S3 port"
api GET /healthz
expect_status 200 "and the REST API is up"
