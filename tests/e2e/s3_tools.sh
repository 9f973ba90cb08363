#!/usr/bin/env bash
# The S3 listener with Debian's rclone and s3cmd, configured as api/s3.md
# tells their users: client certificate and key, the Manager CA, path-style
# addressing, any access key. rclone copies a tree up and down (with a file
# over its multipart cutoff), `rclone check` compares both sides; s3cmd
# makes a bucket, puts (also multipart), lists, gets, deletes and removes it.
# The objects are read back through the REST API too, byte for byte.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/app_identity.sh"
stack_up
[ -n "${MANAGER_S3_PORT:-}" ] || fail_now "no S3 listener"
command -v rclone >/dev/null && command -v s3cmd >/dev/null || fail_now "rclone and s3cmd are needed (scripts/lib/deps.sh)"
S=https://127.0.0.1:$MANAGER_S3_PORT
app_identity alice
CERT=$T_DIR/apps/alice.pem KEY=$T_DIR/apps/alice.key
api POST /api/v1/vault-templates -u "$ADMIN" -H 'Content-Type: application/json' \
  -d '{"name":"tools-default","kind":"vault","default":true}'
expect_status 201 "a default template for CreateBucket"
rest_get() { curl -sS --cacert "$CA" --cert "$CERT" --key "$KEY" -o "$2" -w '%{http_code}' "$URL/api/v1/vaults/$1"; }

# ---- a tree to copy ------------------------------------------------------------
SRC=$T_DIR/tree
mkdir -p "$SRC/docs/deep/er" "$SRC/empty-ish" "$SRC/with space"
printf 'hello\n' >"$SRC/hello.txt"
head -c 100000 /dev/urandom >"$SRC/docs/random.bin"
printf 'deep\n' >"$SRC/docs/deep/er/leaf.txt"
printf '%s\n' "ünïcödé" >"$SRC/with space/naïve file.txt"
: >"$SRC/empty-ish/zero.bin"
head -c $((12 * 1024 * 1024 + 777)) /dev/urandom >"$SRC/big.bin"

# ---- rclone ---------------------------------------------------------------------
# The remote from the environment (no config file). AWS_CA_BUNDLE makes
# rclone 1.60 fail ("unsupported transport"): --ca-cert instead.
unset AWS_CA_BUNDLE
export RCLONE_CONFIG=/dev/null
export RCLONE_CONFIG_MGR_TYPE=s3 RCLONE_CONFIG_MGR_PROVIDER=Other \
  RCLONE_CONFIG_MGR_ENDPOINT=$S RCLONE_CONFIG_MGR_ACCESS_KEY_ID=any-key \
  RCLONE_CONFIG_MGR_SECRET_ACCESS_KEY=any-secret RCLONE_CONFIG_MGR_FORCE_PATH_STYLE=true \
  RCLONE_CONFIG_MGR_ENV_AUTH=false
RC=(rclone --ca-cert "$CA" --client-cert "$CERT" --client-key "$KEY"
  --s3-upload-cutoff 5M --s3-chunk-size 5M --retries 1 --low-level-retries 1
  --contimeout 10s --timeout 60s)
rc() { "${RC[@]}" "$@" >"$T_DIR/rclone.out" 2>&1 || { tail -15 "$T_DIR/rclone.out" >&2; return 1; }; }
check 'rc mkdir mgr:rclone-tree' "rclone mkdir (CreateBucket)"
check 'rc copy "$SRC" mgr:rclone-tree' "rclone copy a tree up"
check 'rc check "$SRC" mgr:rclone-tree' "rclone check: the same files and hashes"
rc lsf -R mgr:rclone-tree && sort "$T_DIR/rclone.out" >"$T_DIR/lsf"
check 'grep -qx "docs/deep/er/leaf.txt" "$T_DIR/lsf" && grep -qx "with space/naïve file.txt" "$T_DIR/lsf" && grep -qx "big.bin" "$T_DIR/lsf"' "rclone lsf lists the tree"
# big.bin went up in parts (ETag …-3); rclone keeps its MD5 in metadata.
curl -sS --cacert "$CA" --cert "$CERT" --key "$KEY" -I "$S/rclone-tree/big.bin" >"$T_DIR/big.h"
check 'grep -qi "^etag: \"[0-9a-f]\{32\}-3\"" "$T_DIR/big.h"' "big.bin was a multipart upload of 3 parts"
check 'grep -qi "^x-amz-meta-md5chksum:" "$T_DIR/big.h"' "rclone's metadata is kept"
check 'rc copy mgr:rclone-tree "$T_DIR/down"' "rclone copy the tree down"
check 'diff -r "$SRC" "$T_DIR/down" >/dev/null' "the tree came back the same (files)"
check '[ "$(rest_get rclone-tree/objects/big.bin "$T_DIR/rest.bin")" = 200 ] && cmp -s "$T_DIR/rest.bin" "$SRC/big.bin"' "the REST API reads rclone's multipart object byte for byte"
printf 'changed\n' >"$SRC/hello.txt"
check '! "${RC[@]}" check "$SRC" mgr:rclone-tree >"$T_DIR/rclone.out" 2>&1 && grep -q "1 differences found" "$T_DIR/rclone.out"' "rclone check finds the changed file"
check 'rc sync "$SRC" mgr:rclone-tree && rc check "$SRC" mgr:rclone-tree' "rclone sync, then check again"
check 'rc purge mgr:rclone-tree' "rclone purge (every object, then the bucket)"
check '"${RC[@]}" lsd mgr: 2>/dev/null | { ! grep -q rclone-tree; }' "the bucket is gone"

# ---- s3cmd ------------------------------------------------------------------------
cat >"$T_DIR/s3cfg" <<EOF
[default]
access_key = any-key
secret_key = any-secret
host_base = 127.0.0.1:$MANAGER_S3_PORT
host_bucket = 127.0.0.1:$MANAGER_S3_PORT
use_https = True
check_ssl_certificate = True
check_ssl_hostname = True
ca_certs_file = $CA
ssl_client_cert_file = $CERT
ssl_client_key_file = $KEY
signature_v2 = False
multipart_chunk_size_mb = 5
progress_meter = False
EOF
s3c() { s3cmd -c "$T_DIR/s3cfg" "$@" >"$T_DIR/s3cmd.out" 2>&1 || { tail -15 "$T_DIR/s3cmd.out" >&2; return 1; }; }
check 's3c mb s3://s3cmd-bucket' "s3cmd mb"
check 's3c put "$SRC/docs/random.bin" s3://s3cmd-bucket/docs/random.bin' "s3cmd put"
check 's3c put "$SRC/big.bin" s3://s3cmd-bucket/big.bin' "s3cmd put of a file over multipart_chunk_size_mb"
curl -sS --cacert "$CA" --cert "$CERT" --key "$KEY" -I "$S/s3cmd-bucket/big.bin" >"$T_DIR/big2.h"
check 'grep -qi "^etag: \"[0-9a-f]\{32\}-3\"" "$T_DIR/big2.h"' "s3cmd sent it in 3 parts"
check 's3c ls s3://s3cmd-bucket && grep -q "DIR.*s3://s3cmd-bucket/docs/" "$T_DIR/s3cmd.out" && grep -q "s3://s3cmd-bucket/big.bin" "$T_DIR/s3cmd.out"' "s3cmd ls"
check 's3c ls -r s3://s3cmd-bucket && grep -q "s3://s3cmd-bucket/docs/random.bin" "$T_DIR/s3cmd.out"' "s3cmd ls -r"
check 's3c get s3://s3cmd-bucket/big.bin "$T_DIR/s3cmd-big.bin" && cmp -s "$T_DIR/s3cmd-big.bin" "$SRC/big.bin"' "s3cmd get of the multipart object"
check 's3c get s3://s3cmd-bucket/docs/random.bin "$T_DIR/s3cmd-random.bin" && cmp -s "$T_DIR/s3cmd-random.bin" "$SRC/docs/random.bin"' "s3cmd get"
check '[ "$(rest_get s3cmd-bucket/objects/big.bin "$T_DIR/rest2.bin")" = 200 ] && cmp -s "$T_DIR/rest2.bin" "$SRC/big.bin"' "the REST API reads s3cmd's object byte for byte"
# An upload left open (by curl): s3cmd lists it and its part, and aborts it.
curl -sS --cacert "$CA" --cert "$CERT" --key "$KEY" -X POST "$S/s3cmd-bucket/open.bin?uploads" >"$T_DIR/mp.xml"
MPID=$(sed -n 's|.*<UploadId>\([^<]*\)</UploadId>.*|\1|p' "$T_DIR/mp.xml")
curl -sS --cacert "$CA" --cert "$CERT" --key "$KEY" -T "$SRC/docs/random.bin" "$S/s3cmd-bucket/open.bin?partNumber=1&uploadId=$MPID" >/dev/null
check '[ -n "$MPID" ] && s3c multipart s3://s3cmd-bucket && grep -q "s3://s3cmd-bucket/open.bin.*$MPID" "$T_DIR/s3cmd.out"' "s3cmd multipart lists the open upload"
check 's3c listmp s3://s3cmd-bucket/open.bin "$MPID" && grep -q "100000" "$T_DIR/s3cmd.out"' "s3cmd listmp lists its part"
check 's3c abortmp s3://s3cmd-bucket/open.bin "$MPID" && s3c multipart s3://s3cmd-bucket && ! grep -q "$MPID" "$T_DIR/s3cmd.out"' "s3cmd abortmp aborts it"
check '! s3cmd -c "$T_DIR/s3cfg" rb s3://s3cmd-bucket >"$T_DIR/s3cmd.out" 2>&1 && grep -q BucketNotEmpty "$T_DIR/s3cmd.out"' "s3cmd rb of a bucket with objects: BucketNotEmpty"
check 's3c del s3://s3cmd-bucket/big.bin s3://s3cmd-bucket/docs/random.bin' "s3cmd del"
check 's3c ls -r s3://s3cmd-bucket && [ ! -s "$T_DIR/s3cmd.out" ]' "the bucket is empty"
check 's3c rb s3://s3cmd-bucket' "s3cmd rb"
check 's3c ls && ! grep -q s3cmd-bucket "$T_DIR/s3cmd.out"' "the bucket is gone"
