# Multipart uploads through the S3 listener with boto3, as its users drive
# it (tests/e2e/s3_multipart.sh runs this with each Python: Debian's botocore
# and a current one, which sends aws-chunked bodies with CRC32 trailers).
#   s3_multipart.py URL CA CERT KEY BUCKET WORKDIR
# Prints one line per check ("ok ..." / "FAIL ..."); exit 1 on a failure.
import hashlib
import os
import sys

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

URL, CA, CERT, KEY, BUCKET, WORK = sys.argv[1:7]
MIB = 1024 * 1024
FAILS = 0


def check(cond, what):
    global FAILS
    if cond:
        print("ok", what)
    else:
        FAILS += 1
        print("FAIL", what)


def code_of(fn, *a, **kw):
    """The S3 error code (and HTTP status) of a call that should fail."""
    try:
        fn(*a, **kw)
    except ClientError as e:
        return (e.response["Error"].get("Code"),
                e.response["ResponseMetadata"].get("HTTPStatusCode"))
    return ("no error", 200)


def md5s_etag(parts):
    m = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts))
    return '"%s-%d"' % (m.hexdigest(), len(parts))


s3 = boto3.client(
    "s3", endpoint_url=URL, region_name="us-east-1",
    aws_access_key_id="any-key", aws_secret_access_key="any-secret",
    verify=CA,
    config=Config(client_cert=(CERT, KEY), s3={"addressing_style": "path"},
                  retries={"max_attempts": 1}, signature_version="s3v4"))
print("botocore", botocore.__version__)


def keys():
    r = s3.list_objects_v2(Bucket=BUCKET)
    return sorted(o["Key"] for o in r.get("Contents", []))


def uploads(**kw):
    return s3.list_multipart_uploads(Bucket=BUCKET, **kw)


# ---- a bucket of the default template --------------------------------------
s3.create_bucket(Bucket=BUCKET)
check(BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]], "bucket made")

# ---- upload_file over the multipart threshold --------------------------------
data = os.urandom(12 * MIB + 12345)
path = os.path.join(WORK, BUCKET + ".big")
with open(path, "wb") as f:
    f.write(data)
tc = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB,
                    max_concurrency=2)
s3.upload_file(path, BUCKET, "dir/big.bin", Config=tc)
h = s3.head_object(Bucket=BUCKET, Key="dir/big.bin")
check(h["ContentLength"] == len(data), "multipart object size")
want = md5s_etag([data[0:5 * MIB], data[5 * MIB:10 * MIB], data[10 * MIB:]])
check(h["ETag"] == want, "ETag is md5-of-md5s-3 (%s, want %s)" % (h["ETag"], want))
back = os.path.join(WORK, BUCKET + ".back")
s3.download_file(BUCKET, "dir/big.bin", back, Config=tc)
with open(back, "rb") as f:
    check(f.read() == data, "downloaded bytes are the uploaded ones")
r = s3.get_object(Bucket=BUCKET, Key="dir/big.bin", Range="bytes=5242870-5242889")
check(r["Body"].read() == data[5242870:5242890], "a range across a part boundary")
check(uploads().get("Uploads", []) == [], "no upload left open")

# ---- by hand: upload_part, upload_part_copy, list_parts, complete -----------
s3.put_object(Bucket=BUCKET, Key="small.txt", Body=b"tail of the object\n")
u = s3.create_multipart_upload(Bucket=BUCKET, Key="composed.bin",
                               ContentType="application/x-test",
                               Metadata={"color": "blue"})
uid = u["UploadId"]
check(u["Key"] == "composed.bin" and u["Bucket"] == BUCKET, "create_multipart_upload")
p1 = os.urandom(5 * MIB)
e1 = s3.upload_part(Bucket=BUCKET, Key="composed.bin", UploadId=uid, PartNumber=1,
                    Body=p1)["ETag"]
check(e1 == '"%s"' % hashlib.md5(p1).hexdigest(), "upload_part ETag is the MD5")
c2 = s3.upload_part_copy(Bucket=BUCKET, Key="composed.bin", UploadId=uid, PartNumber=2,
                         CopySource={"Bucket": BUCKET, "Key": "dir/big.bin"},
                         CopySourceRange="bytes=%d-%d" % (MIB, 6 * MIB - 1))
e2 = c2["CopyPartResult"]["ETag"]
check(e2 == '"%s"' % hashlib.md5(data[MIB:6 * MIB]).hexdigest(),
      "upload_part_copy with a range: ETag of the range")
e3 = s3.upload_part_copy(Bucket=BUCKET, Key="composed.bin", UploadId=uid, PartNumber=3,
                         CopySource="%s/small.txt" % BUCKET)["CopyPartResult"]["ETag"]
lp = s3.list_parts(Bucket=BUCKET, Key="composed.bin", UploadId=uid)
check([(p["PartNumber"], p["ETag"], p["Size"]) for p in lp["Parts"]] ==
      [(1, e1, 5 * MIB), (2, e2, 5 * MIB), (3, e3, 19)], "list_parts")
lp = s3.list_parts(Bucket=BUCKET, Key="composed.bin", UploadId=uid, MaxParts=2)
check(lp["IsTruncated"] and len(lp["Parts"]) == 2 and lp["NextPartNumberMarker"] == 2,
      "list_parts paging: first page")
lp = s3.list_parts(Bucket=BUCKET, Key="composed.bin", UploadId=uid, MaxParts=2,
                   PartNumberMarker=2)
check(not lp["IsTruncated"] and [p["PartNumber"] for p in lp["Parts"]] == [3],
      "list_parts paging: last page")
lu = uploads()
check([(x["Key"], x["UploadId"]) for x in lu.get("Uploads", [])] == [("composed.bin", uid)],
      "list_multipart_uploads shows the open upload")
check(keys() == ["dir/big.bin", "small.txt"], "an open upload is no object")
r = s3.complete_multipart_upload(
    Bucket=BUCKET, Key="composed.bin", UploadId=uid,
    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2},
                               {"PartNumber": 3, "ETag": e3}]})
whole = p1 + data[MIB:6 * MIB] + b"tail of the object\n"
check(r["ETag"] == md5s_etag([p1, data[MIB:6 * MIB], b"tail of the object\n"]),
      "complete: ETag md5-of-md5s-3")
g = s3.get_object(Bucket=BUCKET, Key="composed.bin")
check(g["Body"].read() == whole, "the composed object's bytes")
check(g["ContentType"] == "application/x-test" and g["Metadata"] == {"color": "blue"},
      "the upload's metadata is the object's")
check(uploads().get("Uploads", []) == [], "completed: no upload open")
check(code_of(s3.list_parts, Bucket=BUCKET, Key="composed.bin", UploadId=uid)
      == ("NoSuchUpload", 404), "a completed upload is gone")

# ---- list_multipart_uploads: paging, prefix, delimiter ---------------------
ids = {}
for k in ["a/1", "a/2", "b", "c/x/1"]:
    ids[k] = s3.create_multipart_upload(Bucket=BUCKET, Key=k)["UploadId"]
p = uploads(MaxUploads=2)
check(p["IsTruncated"] and [x["Key"] for x in p["Uploads"]] == ["a/1", "a/2"],
      "list_multipart_uploads: first page")
p = uploads(MaxUploads=2, KeyMarker=p["NextKeyMarker"],
            UploadIdMarker=p["NextUploadIdMarker"])
check(not p["IsTruncated"] and [x["Key"] for x in p["Uploads"]] == ["b", "c/x/1"],
      "list_multipart_uploads: next page from the markers")
p = uploads(Delimiter="/")
check([x["Key"] for x in p.get("Uploads", [])] == ["b"] and
      [c["Prefix"] for c in p.get("CommonPrefixes", [])] == ["a/", "c/"],
      "list_multipart_uploads: delimiter rolls keys up into CommonPrefixes")
p = uploads(Delimiter="/", MaxUploads=1)
check(p["IsTruncated"] and [c["Prefix"] for c in p.get("CommonPrefixes", [])] == ["a/"],
      "delimiter paging: first page is a/")
p = uploads(Delimiter="/", MaxUploads=1, KeyMarker=p["NextKeyMarker"])
check([x["Key"] for x in p.get("Uploads", [])] == ["b"] and not p.get("CommonPrefixes"),
      "delimiter paging: next page resumes after a/")
p = uploads(Prefix="c/", Delimiter="/")
check([c["Prefix"] for c in p.get("CommonPrefixes", [])] == ["c/x/"], "prefix and delimiter")
for k, i in ids.items():
    s3.abort_multipart_upload(Bucket=BUCKET, Key=k, UploadId=i)
check(uploads().get("Uploads", []) == [], "aborted uploads are gone")
check(code_of(s3.abort_multipart_upload, Bucket=BUCKET, Key="b", UploadId=ids["b"])
      == ("NoSuchUpload", 404), "abort twice: NoSuchUpload")

# ---- refusals: the S3 code, nothing stored ---------------------------------
before = keys()
uid = s3.create_multipart_upload(Bucket=BUCKET, Key="refused.bin")["UploadId"]
for n in (0, 10001):
    check(code_of(s3.upload_part, Bucket=BUCKET, Key="refused.bin", UploadId=uid,
                  PartNumber=n, Body=b"x" * 100) == ("InvalidArgument", 400),
          "part number %d: InvalidArgument" % n)
check(s3.list_parts(Bucket=BUCKET, Key="refused.bin", UploadId=uid).get("Parts", []) == [],
      "bad part numbers stored no part")
check(code_of(s3.upload_part, Bucket=BUCKET, Key="refused.bin", UploadId="0" * 32,
              PartNumber=1, Body=b"x") == ("NoSuchUpload", 404), "upload_part: NoSuchUpload")
check(code_of(s3.upload_part, Bucket=BUCKET, Key="other-key", UploadId=uid,
              PartNumber=1, Body=b"x") == ("NoSuchUpload", 404),
      "upload_part under another key: NoSuchUpload")
check(code_of(s3.list_parts, Bucket=BUCKET, Key="refused.bin", UploadId="f" * 32)
      == ("NoSuchUpload", 404), "list_parts: NoSuchUpload")
check(code_of(s3.complete_multipart_upload, Bucket=BUCKET, Key="refused.bin",
              UploadId="f" * 32, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]})
      == ("NoSuchUpload", 404), "complete: NoSuchUpload")
check(code_of(s3.upload_part, Bucket=BUCKET, Key="refused.bin", UploadId=uid,
              PartNumber=1, Body=b"y" * 1000, ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg==")
      == ("BadDigest", 400), "a part with a wrong Content-MD5: BadDigest")
check(code_of(s3.upload_part_copy, Bucket=BUCKET, Key="refused.bin", UploadId=uid,
              PartNumber=1, CopySource="%s/small.txt" % BUCKET,
              CopySourceRange="bytes=0-100") == ("InvalidRange", 416),
      "upload_part_copy past the source: InvalidRange")
check(code_of(s3.upload_part_copy, Bucket=BUCKET, Key="refused.bin", UploadId=uid,
              PartNumber=1, CopySource="%s/no-such-key" % BUCKET) == ("NoSuchKey", 404),
      "upload_part_copy of a missing source: NoSuchKey")
check(s3.list_parts(Bucket=BUCKET, Key="refused.bin", UploadId=uid).get("Parts", []) == [],
      "refused parts stored nothing")
q1 = os.urandom(5 * MIB)
f1 = s3.upload_part(Bucket=BUCKET, Key="refused.bin", UploadId=uid, PartNumber=1, Body=q1)["ETag"]
f2 = s3.upload_part(Bucket=BUCKET, Key="refused.bin", UploadId=uid, PartNumber=2,
                    Body=b"second")["ETag"]
f3 = s3.upload_part(Bucket=BUCKET, Key="refused.bin", UploadId=uid, PartNumber=3,
                    Body=b"third")["ETag"]


def complete(parts):
    return code_of(s3.complete_multipart_upload, Bucket=BUCKET, Key="refused.bin",
                   UploadId=uid, MultipartUpload={"Parts": parts})


check(complete([{"PartNumber": 1, "ETag": f1}, {"PartNumber": 2, "ETag": f3}])
      == ("InvalidPart", 400), "a wrong part ETag: InvalidPart")
check(complete([{"PartNumber": 1, "ETag": f1}, {"PartNumber": 4, "ETag": f2}])
      == ("InvalidPart", 400), "a part never uploaded: InvalidPart")
check(complete([{"PartNumber": 2, "ETag": f2}, {"PartNumber": 1, "ETag": f1}])
      == ("InvalidPartOrder", 400), "parts out of order: InvalidPartOrder")
check(complete([{"PartNumber": 1, "ETag": f1}, {"PartNumber": 2, "ETag": f2},
                {"PartNumber": 3, "ETag": f3}]) == ("EntityTooSmall", 400),
      "a part under 5 MiB but the last: EntityTooSmall")
check(keys() == before, "the refused completes stored no object")
lp = s3.list_parts(Bucket=BUCKET, Key="refused.bin", UploadId=uid)
check([p["PartNumber"] for p in lp["Parts"]] == [1, 2, 3], "the upload is still whole")
# Its parts may then make an object after all (1 and 2: the last may be small).
r = s3.complete_multipart_upload(
    Bucket=BUCKET, Key="refused.bin", UploadId=uid,
    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": f1}, {"PartNumber": 2, "ETag": f2}]})
g = s3.get_object(Bucket=BUCKET, Key="refused.bin")["Body"].read()
check(g == q1 + b"second", "a complete of some of the parts")
check(uploads().get("Uploads", []) == [], "no upload left open")

# ---- many parts: 1..10000, listings past one page --------------------------
if os.environ.get("MP_MANY") == "1":
    from concurrent.futures import ThreadPoolExecutor
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="many.bin")["UploadId"]
    nums = list(range(1, 1001)) + [5000, 10000]

    def put(n):
        return s3.upload_part(Bucket=BUCKET, Key="many.bin", UploadId=uid, PartNumber=n,
                              Body=b"%05d" % n)["ETag"]
    with ThreadPoolExecutor(4) as ex:
        etags = dict(zip(nums, ex.map(put, nums)))
    lp = s3.list_parts(Bucket=BUCKET, Key="many.bin", UploadId=uid, MaxParts=5000)
    check(len(lp["Parts"]) == 1000 and lp["IsTruncated"] and lp["NextPartNumberMarker"] == 1000,
          "list_parts: at most 1000 a page")
    lp = s3.list_parts(Bucket=BUCKET, Key="many.bin", UploadId=uid,
                       PartNumberMarker=lp["NextPartNumberMarker"])
    check([p["PartNumber"] for p in lp["Parts"]] == [5000, 10000] and not lp["IsTruncated"],
          "list_parts: the next page, up to part 10000")
    seen = [p["PartNumber"] for page in s3.get_paginator("list_parts").paginate(
        Bucket=BUCKET, Key="many.bin", UploadId=uid, PaginationConfig={"PageSize": 300})
        for p in page.get("Parts", [])]
    check(seen == nums, "the list_parts paginator sees every part once")
    # Parts under 5 MiB but the last: refused, and the upload stays.
    check(code_of(s3.complete_multipart_upload, Bucket=BUCKET, Key="many.bin", UploadId=uid,
                  MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]} for n in nums]})
          == ("EntityTooSmall", 400), "1002 small parts: EntityTooSmall")
    s3.abort_multipart_upload(Bucket=BUCKET, Key="many.bin", UploadId=uid)
    check(code_of(s3.list_parts, Bucket=BUCKET, Key="many.bin", UploadId=uid)
          == ("NoSuchUpload", 404), "aborted with its 1002 parts")

# Tidy: the bucket can go once empty.
for k in keys():
    s3.delete_object(Bucket=BUCKET, Key=k)
s3.delete_bucket(Bucket=BUCKET)
print("%d failed" % FAILS)
sys.exit(1 if FAILS else 0)
