#!/usr/bin/env bash
# Multipart uploads on the S3 listener with real clients: boto3 with
# Debian's botocore (/usr/bin/python3) and with the current one on PATH
# (aws-chunked bodies with CRC32 trailers), client certificate auth, path
# addressing (tests/e2e/s3_multipart.py: upload_file over the threshold,
# upload_part_copy, list parts and uploads with paging, abort; refusals:
# part numbers 0 and 10001, wrong part ETag, wrong order, NoSuchUpload, a
# part too small, a bad Content-MD5 -- the S3 code and nothing stored; with
# the first Python also 1002 parts up to number 10000, listed past a page).
# Then what no SDK sends: malformed and oversized XML, and an object written
# through S3 read back through the REST API byte for byte; another account
# refused on every multipart call; a complete past the quota refused.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
stack_up
[ -n "${MANAGER_S3_PORT:-}" ] || fail_now "no S3 listener"
S=https://127.0.0.1:$MANAGER_S3_PORT
app_identity alice
CERT=$T_DIR/apps/alice.pem KEY=$T_DIR/apps/alice.key
J='Content-Type: application/json'
api POST /api/v1/vault-templates -u "$ADMIN" -H "$J" -d '{"name":"s3-default","kind":"vault","default":true}'
expect_status 201 "a default template for CreateBucket"
mkdir -p "$T_DIR/work"

n=0
for py in /usr/bin/python3 "$(command -v python3)"; do
  n=$((n + 1))
  "$py" -c 'import boto3' 2>/dev/null || { echo "FAIL: no boto3 for $py" >&2; T_FAILS=$((T_FAILS + 1)); continue; }
  out=$(MP_MANY=$([ $n = 1 ] && echo 1) "$py" "$(dirname "$0")/s3_multipart.py" "$S" "$CA" "$CERT" "$KEY" "mp-$n" "$T_DIR/work" 2>&1)
  rc=$?
  grep -q '^FAIL' <<<"$out" && grep '^FAIL' <<<"$out" | sed "s|^|[$py] |" >&2
  check '[ $rc = 0 ]' "boto3 multipart with $py ($(head -1 <<<"$out"), $(grep -c '^ok' <<<"$out") checks passed)"
  [ $rc = 0 ] || tail -20 <<<"$out" >&2
  echo "[$py] $(head -1 <<<"$out"): $(grep -c "^ok" <<<"$out") checks passed, $(grep -c "^FAIL" <<<"$out") failed"
done

# ---- what SDKs do not send ----------------------------------------------------
s3c() { curl -sS --cacert "$CA" --cert "$CERT" --key "$KEY" -o "$T_DIR/body" -w '%{http_code}' "$@"; }
s3code() { sed -n 's|.*<Code>\([^<]*\)</Code>.*|\1|p' "$T_DIR/body"; }
ST=$(s3c -X PUT "$S/raw"); check '[ "$ST" = 200 ]' "CreateBucket raw ($ST)"
# CreateBucket's LocationConstraint names a template by name (or id).
api POST /api/v1/vault-templates -u "$ADMIN" -H "$J" -d '{"name":"s3-named","kind":"vault"}'
NAMED=$(jfield id)
S3ST=$(s3c -X PUT --data-binary '<CreateBucketConfiguration><LocationConstraint>s3-named</LocationConstraint></CreateBucketConfiguration>' "$S/named")
app_api alice GET /api/v1/vaults/named
check '[ "$S3ST" = 200 ] && [ "$(jfield vault_template_id)" = "$NAMED" ]' "LocationConstraint by name: a vault of that template ($S3ST)"
S3ST=$(s3c -X PUT --data-binary '<CreateBucketConfiguration><LocationConstraint>no-such-template</LocationConstraint></CreateBucketConfiguration>' "$S/unnamed")
check '[ "$S3ST" = 400 ] && [ "$(s3code)" = InvalidLocationConstraint ]' "an unknown LocationConstraint: 400 InvalidLocationConstraint ($S3ST $(s3code))"
app_api alice GET /api/v1/vaults/unnamed
check '[ "$ST" = 404 ]' "and no vault ($ST)"
ST=$(s3c -X POST "$S/raw/k?uploads")
UID_=$(sed -n 's|.*<UploadId>\([^<]*\)</UploadId>.*|\1|p' "$T_DIR/body")
check '[ "$ST" = 200 ] && [ -n "$UID_" ]' "CreateMultipartUpload raw"
head -c $((5 * 1024 * 1024)) /dev/urandom >"$T_DIR/p1"
ST=$(s3c -X PUT --data-binary @"$T_DIR/p1" -D "$T_DIR/h1" "$S/raw/k?partNumber=1&uploadId=$UID_")
E1=$(sed -n 's/^[Ee][Tt]ag: *"\([0-9a-f]*\)".*/\1/p' "$T_DIR/h1")
check '[ "$ST" = 200 ] && [ "$E1" = "$(md5sum <"$T_DIR/p1" | cut -d" " -f1)" ]' "UploadPart raw: ETag is the MD5"
for pn in 0 10001 -1 abc 1.5; do
  ST=$(s3c -X PUT --data-binary x "$S/raw/k?partNumber=$pn&uploadId=$UID_")
  check '[ "$ST" = 400 ] && [ "$(s3code)" = InvalidArgument ]' "partNumber=$pn: 400 InvalidArgument ($ST $(s3code))"
done
ST=$(s3c -X PUT --data-binary 'some part data' -H 'x-amz-checksum-crc32: AAAAAA==' "$S/raw/k?partNumber=2&uploadId=$UID_")
check '[ "$ST" = 400 ] && [ "$(s3code)" = BadDigest ]' "a part against a wrong x-amz-checksum-crc32: BadDigest ($ST $(s3code))"
ST=$(s3c -X PUT --data-binary 'some part data' -H 'Content-MD5: not-base64!' "$S/raw/k?partNumber=2&uploadId=$UID_")
check '[ "$ST" = 400 ] && [ "$(s3code)" = InvalidDigest ]' "a malformed Content-MD5: InvalidDigest ($ST $(s3code))"
ST=$(s3c -X PUT --data-binary x "$S/raw/k?partNumber=2")
check '[ "$ST" = 404 ] && [ "$(s3code)" = NoSuchUpload ]' "UploadPart without uploadId ($ST $(s3code))"
for bad in '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>' \
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&e;</ETag></Part></CompleteMultipartUpload>' \
    '<CompleteMultipartUpload></CompleteMultipartUpload>' \
    '<Other><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Other>' \
    "<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>$E1</ETag></Part></CompleteMultipartUpload>" \
    "<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>$E1</ETag></Part></CompleteMultipartUpload>"; do
  ST=$(s3c -X POST --data-binary "$bad" "$S/raw/k?uploadId=$UID_")
  check '[ "$ST" = 400 ] && [ "$(s3code)" = MalformedXML ]' "complete with bad XML: MalformedXML ($ST $(s3code)) ${bad:0:60}"
done
python3 -c 'import sys; sys.stdout.write("<CompleteMultipartUpload>" + "<Part><PartNumber>1</PartNumber><ETag>x</ETag></Part>" * 60000 + "</CompleteMultipartUpload>")' >"$T_DIR/huge.xml"
ST=$(s3c -X POST --data-binary @"$T_DIR/huge.xml" "$S/raw/k?uploadId=$UID_")
check '[ "$ST" = 400 ] && [ "$(s3code)" = MalformedXML ]' "complete with 3 MB of XML: MalformedXML ($ST $(s3code))"
ST=$(s3c "$S/raw/k?uploadId=$UID_")
check '[ "$ST" = 200 ] && grep -q "<PartNumber>1</PartNumber>" "$T_DIR/body" && ! grep -q "<PartNumber>2" "$T_DIR/body"' "after the refusals: the one part, nothing more"
ST=$(s3c "$S/raw/k"); check '[ "$ST" = 404 ]' "after the refusals: no object ($ST)"
ST=$(s3c -X POST --data-binary "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"$E1\"</ETag></Part></CompleteMultipartUpload>" "$S/raw/k?uploadId=$UID_")
check '[ "$ST" = 200 ] && grep -q "<ETag>&quot;[0-9a-f]\{32\}-1&quot;</ETag>" "$T_DIR/body"' "CompleteMultipartUpload raw: ETag …-1"
# The same object through the REST API, byte for byte.
curl -sS --cacert "$CA" --cert "$CERT" --key "$KEY" -o "$T_DIR/rest.bin" "$URL/api/v1/vaults/raw/objects/k"
check 'cmp -s "$T_DIR/rest.bin" "$T_DIR/p1"' "the REST API reads the multipart object byte for byte"

# ---- another account's upload, and the quota ---------------------------------
app_identity bob
BCERT=$T_DIR/apps/bob.pem BKEY=$T_DIR/apps/bob.key
bs3() { curl -sS --cacert "$CA" --cert "$BCERT" --key "$BKEY" -o "$T_DIR/body" -w '%{http_code}' "$@"; }
ST=$(s3c -X POST "$S/raw/theirs?uploads")
AUID=$(sed -n 's|.*<UploadId>\([^<]*\)</UploadId>.*|\1|p' "$T_DIR/body")
ST=$(s3c -X PUT --data-binary @"$T_DIR/p1" "$S/raw/theirs?partNumber=1&uploadId=$AUID")
check '[ "$ST" = 200 ]' "alice: an upload with one part"
for req in "-X PUT --data-binary x $S/raw/theirs?partNumber=2&uploadId=$AUID" \
    "$S/raw/theirs?uploadId=$AUID" "$S/raw?uploads" "-X DELETE $S/raw/theirs?uploadId=$AUID" \
    "-X POST $S/raw/other?uploads" \
    "-X POST --data-binary <CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>$E1</ETag></Part></CompleteMultipartUpload> $S/raw/theirs?uploadId=$AUID"; do
  # shellcheck disable=SC2086
  ST=$(bs3 $req)
  check '[ "$ST" = 403 ] && [ "$(s3code)" = AccessDenied ]' "bob on alice's bucket: 403 AccessDenied ($ST $(s3code)) ${req:0:50}"
done
ST=$(s3c "$S/raw/theirs?uploadId=$AUID")
check '[ "$ST" = 200 ] && grep -q "<PartNumber>1</PartNumber>" "$T_DIR/body" && ! grep -q "<PartNumber>2" "$T_DIR/body"' "alice's upload is as it was"
ST=$(s3c "$S/raw?uploads")
check '[ "$ST" = 200 ] && grep -q "<Key>theirs</Key>" "$T_DIR/body" && ! grep -q "<Key>other</Key>" "$T_DIR/body"' "and bob started none"
api POST /api/v1/vault-templates -u "$ADMIN" -H "$J" -d '{"name":"s3-small","kind":"vault","quota_bytes":8388608}'
S3ST=$(s3c -X PUT --data-binary '<CreateBucketConfiguration><LocationConstraint>s3-small</LocationConstraint></CreateBucketConfiguration>' "$S/small")
ST=$(s3c -X POST "$S/small/q?uploads")
QUID=$(sed -n 's|.*<UploadId>\([^<]*\)</UploadId>.*|\1|p' "$T_DIR/body")
ST=$(s3c -X PUT --data-binary @"$T_DIR/p1" -D "$T_DIR/hq1" "$S/small/q?partNumber=1&uploadId=$QUID")
Q1=$(sed -n 's/^[Ee][Tt]ag: *"\([0-9a-f]*\)".*/\1/p' "$T_DIR/hq1")
ST2=$(s3c -X PUT --data-binary @"$T_DIR/p1" -D "$T_DIR/hq2" "$S/small/q?partNumber=2&uploadId=$QUID")
check '[ "$S3ST" = 200 ] && [ "$ST" = 200 ]' "a bucket with an 8 MiB quota, a 5 MiB part"
echo "quota: the second part answered $ST2"
if [ "$ST2" = 200 ]; then
  ST=$(s3c -X POST --data-binary "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>$Q1</ETag></Part><Part><PartNumber>2</PartNumber><ETag>$Q1</ETag></Part></CompleteMultipartUpload>" "$S/small/q?uploadId=$QUID")
  check '[ "$ST" = 403 ] && [ "$(s3code)" = QuotaExceeded ]' "10 MiB past an 8 MiB quota: refused at complete ($ST $(s3code))"
else
  check '[ "$ST2" = 403 ] && [ "$(s3code)" = QuotaExceeded ]' "10 MiB past an 8 MiB quota: the second part refused ($ST2 $(s3code))"
fi
ST=$(s3c "$S/small/q"); check '[ "$ST" = 404 ]' "past the quota: no object ($ST)"
