#!/usr/bin/env bash
# A 1 GiB object through S3 multipart upload and a ranged parallel download,
# as boto3's transfer manager does them (Debian's python3-boto3; parts of
# BENCH_MP_PART_MB, 64 MiB, BENCH_MP_CONC, 4, in flight), against nginx in
# the same run: one PUT (WebDAV) and one GET of the same file with curl over
# mTLS, one stream each. MB/s each way, median of BENCH_RUNS runs, and the
# peak RSS (VmHWM) of the gateway and the vault service. BENCH_MP_MB: the
# object's size (1024).
. "$(dirname "$0")/lib.sh"
trap b_cleanup EXIT
trap 'exit 130' INT TERM
SIZE_MB=${BENCH_MP_MB:-1024}
PART_MB=${BENCH_MP_PART_MB:-64}
CONC=${BENCH_MP_CONC:-4}
/usr/bin/python3 -c 'import boto3' 2>/dev/null || { echo "needs python3-boto3" >&2; exit 1; }
b_build || exit 1
b_stack_up s3mp || exit 1
b_nginx_up || exit 1
head -c $((SIZE_MB << 20)) /dev/urandom >"$B_TMP/big"
b_make_identities s3mp 1 "$B_TMP/ids" || exit 1
b_make_vault bench-mp "$B_TMP/ids" || exit 1
read -r CERT KEY _ <"$B_TMP/ids"
b_env >"$B_TMP/env"

# One transfer each way; prints "PUT-MB/s GET-MB/s" and checks the bytes.
cat >"$B_TMP/mp.py" <<'PY'
import sys, time, filecmp, boto3
from botocore.config import Config
from boto3.s3.transfer import TransferConfig
port, ca, cert, key, src, dst, part, conc = sys.argv[1:9]
s3 = boto3.client("s3", endpoint_url="https://127.0.0.1:" + port, verify=ca,
    aws_access_key_id="any", aws_secret_access_key="any", region_name="us-east-1",
    config=Config(client_cert=(cert, key), s3={"addressing_style": "path"},
                  max_pool_connections=int(conc) + 2,
                  retries={"max_attempts": 1}))
tc = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=int(part) << 20,
                    max_concurrency=int(conc), use_threads=True)
size = __import__("os").path.getsize(src)
t = time.time(); s3.upload_file(src, "bench-mp", "big", Config=tc); up = time.time() - t
etag = s3.head_object(Bucket="bench-mp", Key="big")["ETag"]
assert "-" in etag, "not a multipart upload: " + etag
t = time.time(); s3.download_file("bench-mp", "big", dst, Config=tc); down = time.time() - t
assert filecmp.cmp(src, dst, shallow=False), "the object came back different"
print("%.1f %.1f" % (size / up / 1e6, size / down / 1e6))
PY
declare -A V
add() { V[$1]="${V[$1]:-} $2"; }
curl_mbps() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.1f", b / t / 1e6 }'; }
for run in $(seq 1 "$B_RUNS"); do
  b_log "run $run"
  r=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' --cacert "$CA" --cert "$CERT" --key "$KEY" \
    -T "$B_TMP/big" "$NGINX_URL/objects/big") || exit 1
  case ${r%% *} in 2??) ;; *) echo "nginx PUT answered $r" >&2; exit 1 ;; esac
  add ngx_put "$(curl_mbps $((SIZE_MB << 20)) "${r#* }")"
  r=$(curl -sS -o "$B_TMP/ngx.back" -w '%{http_code} %{time_total}' --cacert "$CA" \
    --cert "$CERT" --key "$KEY" "$NGINX_URL/objects/big") || exit 1
  case ${r%% *} in 200) ;; *) echo "nginx GET answered $r" >&2; exit 1 ;; esac
  cmp -s "$B_TMP/big" "$B_TMP/ngx.back" || { echo "nginx GET: other bytes" >&2; exit 1; }
  add ngx_get "$(curl_mbps $((SIZE_MB << 20)) "${r#* }")"
  rm -f "$B_TMP/ngx.back" "$B_TMP/back"
  r=$(/usr/bin/python3 "$B_TMP/mp.py" "$MANAGER_S3_PORT" "$CA" "$CERT" "$KEY" "$B_TMP/big" \
    "$B_TMP/back" "$PART_MB" "$CONC") || { echo "S3 multipart run failed" >&2; exit 1; }
  add s3_put "${r% *}"; add s3_get "${r#* }"
  rm -f "$B_TMP/back"
done
med() { printf '%s\n' $1 | b_median; }
echo "S3 multipart ${SIZE_MB} MiB (boto3, ${PART_MB} MiB parts, $CONC in flight) vs nginx (curl, one stream), MB/s, median of $B_RUNS"
cat "$B_TMP/env"
printf '%-34s %10s %10s\n' "" PUT GET
printf '%-34s %10s %10s\n' "Manager S3 multipart" "$(med "${V[s3_put]}")" "$(med "${V[s3_get]}")"
printf '%-34s %10s %10s\n' "nginx (WebDAV PUT, static GET)" "$(med "${V[ngx_put]}")" "$(med "${V[ngx_get]}")"
printf '%-34s %10s %10s\n' "ratio" "$(b_ratio "$(med "${V[s3_put]}")" "$(med "${V[ngx_put]}")")" \
  "$(b_ratio "$(med "${V[s3_get]}")" "$(med "${V[ngx_get]}")")"
echo "peak RSS (VmHWM): gateway $(( $(b_hwm "$MGR_PID_gateway") / 1024 )) MiB, vault $(( $(b_hwm "$MGR_PID_vault") / 1024 )) MiB"
