#!/usr/bin/env bash
# The S3 listener with Debian's aws-cli, set up as api/s3.md tells its users:
# the AWS CLI cannot present a TLS client certificate, so a local stunnel in
# client mode presents it (verifying the Manager's certificate against the
# Manager CA) and the CLI talks to stunnel on loopback. Buckets, a tree
# synced up and down, a file over the CLI's multipart threshold, listings,
# s3api calls, refusals as the CLI shows them; the objects are read back
# through the REST API byte for byte. Without the proxy's certificate the
# listener refuses the CLI (AccessDenied).
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
stack_up
[ -n "${MANAGER_S3_PORT:-}" ] || fail_now "no S3 listener"
AWS=/usr/bin/aws
[ -x "$AWS" ] || AWS=$(command -v aws) || fail_now "aws-cli is needed (Debian package awscli, scripts/lib/deps.sh)"
command -v stunnel4 >/dev/null || fail_now "stunnel4 is needed (scripts/lib/deps.sh)"
app_identity alice
CERT=$T_DIR/apps/alice.pem KEY=$T_DIR/apps/alice.key
api POST /api/v1/vault-templates -u "$ADMIN" -H 'Content-Type: application/json' \
  -d '{"name":"cli-default","kind":"vault","default":true}'
expect_status 201 "a default template for CreateBucket"

# stunnel: plain HTTP on loopback in, TLS with alice's certificate out.
start_stunnel() { # NAME PORT [cert key]
  local conf=$T_DIR/stunnel-$1.conf
  {
    echo "foreground = yes"
    echo "pid ="
    echo "[s3]"
    echo "client = yes"
    echo "accept = 127.0.0.1:$2"
    echo "connect = 127.0.0.1:$MANAGER_S3_PORT"
    echo "verifyChain = yes"
    echo "CAfile = $CA"
    echo "checkIP = 127.0.0.1"
    [ -n "${3:-}" ] && echo "cert = $3" && echo "key = $4"
  } >"$conf"
  mgr_spawn "stunnel_$1" stunnel4 "$conf"
  mgr_wait "(exec 3<>/dev/tcp/127.0.0.1/$2) 2>/dev/null" 20 || fail_now "stunnel $1 did not listen"
}
P=$(mgr_free_port)
start_stunnel alice "$P" "$CERT" "$KEY"
P0=$(mgr_free_port)
while [ "$P0" = "$P" ]; do P0=$(mgr_free_port); done
start_stunnel nocert "$P0"

unset AWS_CA_BUNDLE AWS_PROFILE
export AWS_ACCESS_KEY_ID=any-key AWS_SECRET_ACCESS_KEY=any-secret AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$T_DIR/aws-config AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
cat >"$AWS_CONFIG_FILE" <<EOT
[default]
s3 =
  addressing_style = path
  multipart_threshold = 8MB
  multipart_chunksize = 5MB
EOT
aws_() { "$AWS" --endpoint-url "http://127.0.0.1:$P" "$@"; }
out() { aws_ "$@" >"$T_DIR/aws.out" 2>&1 || { tail -5 "$T_DIR/aws.out" >&2; return 1; }; }
rest_get() { curl -sS --cacert "$CA" --cert "$CERT" --key "$KEY" -o "$2" -w '%{http_code}' "$URL/api/v1/vaults/$1"; }

SRC=$T_DIR/tree
mkdir -p "$SRC/docs/deep" "$SRC/with space"
printf 'hello\n' >"$SRC/hello.txt"
printf 'deep\n' >"$SRC/docs/deep/leaf.txt"
printf '%s\n' "ünïcödé" >"$SRC/with space/naïve.txt"
head -c 100000 /dev/urandom >"$SRC/docs/random.bin"
head -c $((11 * 1024 * 1024 + 333)) /dev/urandom >"$SRC/big.bin"

check 'out s3 mb s3://cli-vault' "aws s3 mb (CreateBucket with the default template)"
check 'out s3 ls && grep -q " cli-vault$" "$T_DIR/aws.out"' "aws s3 ls lists the bucket"
check 'out s3 sync "$SRC" s3://cli-vault/tree' "aws s3 sync a tree up (big.bin in parts)"
check 'out s3 ls --recursive s3://cli-vault/tree/ && [ "$(grep -c . "$T_DIR/aws.out")" = 5 ] && grep -q "tree/with space/naïve.txt" "$T_DIR/aws.out"' "aws s3 ls --recursive: the 5 files"
check 'out s3api head-object --bucket cli-vault --key tree/big.bin && grep -q "\\\\\"[0-9a-f]\{32\}-3\\\\\"" "$T_DIR/aws.out"' "big.bin went up as a multipart upload of 3 parts"
check '[ "$(rest_get cli-vault/objects/tree/big.bin "$T_DIR/rest.bin")" = 200 ] && cmp -s "$T_DIR/rest.bin" "$SRC/big.bin"' "the REST API reads the CLI's multipart object byte for byte"
check 'out s3 sync s3://cli-vault/tree "$T_DIR/down" && diff -r "$SRC" "$T_DIR/down" >/dev/null' "aws s3 sync the tree down: the same files"
check 'out s3 cp s3://cli-vault/tree/hello.txt - && [ "$(cat "$T_DIR/aws.out")" = hello ]' "aws s3 cp to stdout"
check 'out s3api list-objects-v2 --bucket cli-vault --prefix tree/ --delimiter / && grep -q "\"tree/docs/\"" "$T_DIR/aws.out" && grep -q "\"tree/hello.txt\"" "$T_DIR/aws.out"' "list-objects-v2 with a delimiter: prefixes and keys"
check 'out s3api list-objects-v2 --bucket cli-vault --max-items 2 --page-size 1 && grep -q NextToken "$T_DIR/aws.out"' "list-objects-v2 pages (page size 1)"
check 'out s3api get-object --bucket cli-vault --key tree/docs/random.bin --range bytes=10-19 "$T_DIR/part" && cmp -s "$T_DIR/part" <(tail -c +11 "$SRC/docs/random.bin" | head -c 10)' "get-object with a range"
check 'out s3 cp s3://cli-vault/tree/hello.txt s3://cli-vault/copy.txt && out s3 cp s3://cli-vault/copy.txt - && [ "$(cat "$T_DIR/aws.out")" = hello ]' "aws s3 cp within the bucket (CopyObject)"

# Refusals as the CLI shows them, nothing changed.
check '! aws_ s3 cp s3://cli-vault/no-such-key - >"$T_DIR/aws.out" 2>&1 && grep -q "404" "$T_DIR/aws.out"' "a missing key: 404"
check '! aws_ s3 rb s3://cli-vault >"$T_DIR/aws.out" 2>&1 && grep -q BucketNotEmpty "$T_DIR/aws.out"' "rb of a bucket with objects: BucketNotEmpty"
check '! "$AWS" --endpoint-url "http://127.0.0.1:$P0" s3 ls >"$T_DIR/aws.out" 2>&1 && grep -q AccessDenied "$T_DIR/aws.out"' "through a proxy without the certificate: AccessDenied"
check 'out s3 ls --recursive s3://cli-vault/ && [ "$(grep -c . "$T_DIR/aws.out")" = 6 ]' "the refusals changed nothing (6 objects)"

check 'out s3 rm --recursive s3://cli-vault/ && out s3 rb s3://cli-vault' "aws s3 rm --recursive and rb"
check 'out s3 ls && ! grep -q cli-vault "$T_DIR/aws.out"' "the bucket is gone"
api GET /api/v1/vaults/cli-vault --cert "$CERT" --key "$KEY"
expect_status 404 "the vault is gone for the REST API too"
