"""boto3 against the S3 front, as an application drives it: the client
certificate is the identity (Config(client_cert=...)), any access key.
Used by tests/e2e/s3.sh with each Python (Debian's botocore 1.29 and a
current one, which sends aws-chunked bodies with CRC32 trailers).

  python3 s3_boto.py ENDPOINT CA CERT KEY BUCKET OTHER_BUCKET

Prints one line per check; exits 1 when one failed."""
import hashlib
import io
import sys
import time

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, ca, cert, key, bucket, other = sys.argv[1:7]
fails = 0
passes = 0


def check(cond, what):
    global fails, passes
    if cond:
        passes += 1
    else:
        fails += 1
        print("FAIL: boto3 %s: %s" % (botocore.__version__, what), file=sys.stderr)


def code_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response.get("Error", {}).get("Code"), e.response.get(
            "ResponseMetadata", {}).get("HTTPStatusCode")
    return None, 200


cfg = Config(client_cert=(cert, key), s3={"addressing_style": "path"},
             retries={"max_attempts": 1}, signature_version="s3v4")
s3 = boto3.client("s3", endpoint_url=endpoint, verify=ca, config=cfg,
                  region_name="us-east-1", aws_access_key_id="ANYKEY",
                  aws_secret_access_key="anysecret")
tag = "py" + botocore.__version__.replace(".", "")

# ---- Put / Get / Head, metadata, checksums ---------------------------------
data = bytes(range(256)) * 4099  # 1 MiB + a bit: more than one chunk
r = s3.put_object(Bucket=bucket, Key=tag + "/big.bin", Body=data,
                  ContentType="application/x-test", Metadata={"colour": "blue"},
                  CacheControl="max-age=60")
check(r["ETag"] == '"%s"' % hashlib.md5(data).hexdigest(), "PutObject ETag is the MD5")
g = s3.get_object(Bucket=bucket, Key=tag + "/big.bin")
body = g["Body"].read()
check(body == data, "GetObject returns the bytes put")
check(g["ContentType"] == "application/x-test", "Content-Type kept: %r" % g.get("ContentType"))
check(g["Metadata"].get("colour") == "blue", "x-amz-meta-* kept: %r" % g.get("Metadata"))
check(g.get("CacheControl") == "max-age=60", "Cache-Control kept")
h = s3.head_object(Bucket=bucket, Key=tag + "/big.bin")
check(h["ContentLength"] == len(data), "HeadObject length")
check(h["ETag"] == r["ETag"], "HeadObject ETag")
# An explicit checksum (a header with Debian's botocore, a trailer with
# current ones) is verified and returned.
r = s3.put_object(Bucket=bucket, Key=tag + "/sum.txt", Body=b"checksummed\n",
                  ChecksumAlgorithm="SHA256")
check(r.get("ChecksumSHA256") is not None, "a SHA-256 checksum comes back: %r" % r.get("ChecksumSHA256"))
g = s3.get_object(Bucket=bucket, Key=tag + "/sum.txt", ChecksumMode="ENABLED")
check(g["Body"].read() == b"checksummed\n", "the checksummed object reads back")
# Empty object.
s3.put_object(Bucket=bucket, Key=tag + "/empty", Body=b"")
check(s3.get_object(Bucket=bucket, Key=tag + "/empty")["Body"].read() == b"", "empty object")
# upload_fileobj of a small file (one PUT).
s3.upload_fileobj(io.BytesIO(b"x" * 1000), bucket, tag + "/fileobj")
check(s3.head_object(Bucket=bucket, Key=tag + "/fileobj")["ContentLength"] == 1000, "upload_fileobj")

# ---- Ranges and conditions -------------------------------------------------
g = s3.get_object(Bucket=bucket, Key=tag + "/big.bin", Range="bytes=10-19")
check(g["Body"].read() == data[10:20], "Range 10-19")
check(g["ContentRange"] == "bytes 10-19/%d" % len(data), "Content-Range")
g = s3.get_object(Bucket=bucket, Key=tag + "/big.bin", Range="bytes=-7")
check(g["Body"].read() == data[-7:], "suffix range")
g = s3.get_object(Bucket=bucket, Key=tag + "/big.bin", Range="bytes=%d-" % (len(data) - 3))
check(g["Body"].read() == data[-3:], "open range")
c, st = code_of(lambda: s3.get_object(Bucket=bucket, Key=tag + "/big.bin",
                                      Range="bytes=%d-" % len(data)))
check((c, st) == ("InvalidRange", 416), "range past the end: %r" % ((c, st),))
etag = h["ETag"]
c, st = code_of(lambda: s3.get_object(Bucket=bucket, Key=tag + "/big.bin", IfMatch='"0123"'))
check(st == 412 and c == "PreconditionFailed", "If-Match other: %r" % ((c, st),))
check(s3.get_object(Bucket=bucket, Key=tag + "/big.bin", IfMatch=etag)["ContentLength"] == len(data),
      "If-Match the ETag")
c, st = code_of(lambda: s3.get_object(Bucket=bucket, Key=tag + "/big.bin", IfNoneMatch=etag))
check(st == 304, "If-None-Match the ETag: 304 (%r)" % ((c, st),))
future = time.time() + 3600
c, st = code_of(lambda: s3.get_object(Bucket=bucket, Key=tag + "/big.bin",
                                      IfModifiedSince=future))
check(st == 304, "If-Modified-Since later: 304 (%r)" % ((c, st),))
c, st = code_of(lambda: s3.get_object(Bucket=bucket, Key=tag + "/big.bin",
                                      IfUnmodifiedSince=time.time() - 86400))
check(st == 412, "If-Unmodified-Since earlier: 412 (%r)" % ((c, st),))
g = s3.get_object(Bucket=bucket, Key=tag + "/big.bin", ResponseContentType="text/x-over",
                  ResponseContentDisposition="attachment; filename=b.bin")
check(g["ContentType"] == "text/x-over" and g["ContentDisposition"].startswith("attachment"),
      "response-* overrides")

# ---- Errors ------------------------------------------------------------------
c, st = code_of(lambda: s3.get_object(Bucket=bucket, Key=tag + "/nope"))
check((c, st) == ("NoSuchKey", 404), "NoSuchKey: %r" % ((c, st),))
c, st = code_of(lambda: s3.head_object(Bucket=bucket, Key=tag + "/nope"))
check(st == 404, "HeadObject of nothing: 404")
c, st = code_of(lambda: s3.list_objects_v2(Bucket="no-such-bucket-here"))
check((c, st) == ("NoSuchBucket", 404), "NoSuchBucket: %r" % ((c, st),))
c, st = code_of(lambda: s3.get_object(Bucket=other, Key="x"))
check((c, st) == ("AccessDenied", 403), "another account's bucket: %r" % ((c, st),))
c, st = code_of(lambda: s3.put_object(Bucket=other, Key="x", Body=b"x"))
check((c, st) == ("AccessDenied", 403), "writing another account's bucket: %r" % ((c, st),))
c, st = code_of(lambda: s3.get_bucket_acl(Bucket=bucket))
check((c, st) == ("NotImplemented", 501), "GetBucketAcl: %r" % ((c, st),))
c, st = code_of(lambda: s3.put_object_tagging(Bucket=bucket, Key=tag + "/big.bin",
                                              Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}))
check((c, st) == ("NotImplemented", 501), "PutObjectTagging: %r" % ((c, st),))

# ---- Listings ---------------------------------------------------------------
lb = tag + "/list/"
keys = ["a/1", "a/2", "b/1", "c", "d", "e/x/y", "f"]
for k in keys:
    s3.put_object(Bucket=bucket, Key=lb + k, Body=k.encode())
r = s3.list_objects_v2(Bucket=bucket, Prefix=lb, Delimiter="/")
check([p["Prefix"] for p in r.get("CommonPrefixes", [])] == [lb + "a/", lb + "b/", lb + "e/"],
      "v2 CommonPrefixes: %r" % r.get("CommonPrefixes"))
check([o["Key"] for o in r.get("Contents", [])] == [lb + "c", lb + "d", lb + "f"],
      "v2 Contents beside the prefixes: %r" % [o["Key"] for o in r.get("Contents", [])])
check(r["KeyCount"] == 6, "KeyCount counts prefixes too")
# Paged, 2 at a time, with and without the delimiter.
for delim in (None, "/"):
    seen, tok, pages = [], None, 0
    while True:
        kw = {"Bucket": bucket, "Prefix": lb, "MaxKeys": 2}
        if delim:
            kw["Delimiter"] = delim
        if tok:
            kw["ContinuationToken"] = tok
        r = s3.list_objects_v2(**kw)
        pages += 1
        seen += [o["Key"] for o in r.get("Contents", [])]
        seen += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        if not r["IsTruncated"]:
            break
        tok = r["NextContinuationToken"]
        if pages > 20:
            break
    want = sorted(lb + k for k in keys) if delim is None else \
        sorted([lb + "a/", lb + "b/", lb + "e/", lb + "c", lb + "d", lb + "f"])
    check(sorted(seen) == want and len(seen) == len(want),
          "v2 paging (delimiter %r): %r" % (delim, seen))
pg = s3.get_paginator("list_objects")
seen = []
for page in pg.paginate(Bucket=bucket, Prefix=lb, Delimiter="/", PaginationConfig={"PageSize": 2}):
    seen += [o["Key"] for o in page.get("Contents", [])]
    seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
check(sorted(seen) == sorted([lb + "a/", lb + "b/", lb + "e/", lb + "c", lb + "d", lb + "f"]),
      "v1 paging with delimiter: %r" % seen)
r = s3.list_objects_v2(Bucket=bucket, Prefix=lb, StartAfter=lb + "d")
check([o["Key"] for o in r["Contents"]] == [lb + "e/x/y", lb + "f"], "StartAfter")
r = s3.list_objects(Bucket=bucket, Prefix=lb, Marker=lb + "c")
check([o["Key"] for o in r["Contents"]] == [lb + k for k in ["d", "e/x/y", "f"]], "v1 Marker")
r = s3.list_objects_v2(Bucket=bucket, Prefix=lb + "a/")
check(all(o["ETag"] == '"%s"' % hashlib.md5(o["Key"][len(lb):].encode()).hexdigest()
          for o in r["Contents"]), "listed ETags are MD5s")
s3.put_object(Bucket=bucket, Key=lb + "sp ace+plus%", Body=b"odd")
r = s3.list_objects_v2(Bucket=bucket, Prefix=lb + "sp")  # boto3 asks encoding-type=url and decodes
check([o["Key"] for o in r["Contents"]] == [lb + "sp ace+plus%"], "odd key round trip: %r" % r.get("Contents"))

# ---- Copy and batch delete ---------------------------------------------------
r = s3.copy_object(Bucket=bucket, Key=tag + "/copy.bin", CopySource={"Bucket": bucket, "Key": tag + "/big.bin"})
check(r["CopyObjectResult"]["ETag"] == etag, "CopyObject ETag")
g = s3.get_object(Bucket=bucket, Key=tag + "/copy.bin")
check(g["Body"].read() == data and g["Metadata"].get("colour") == "blue", "copy: bytes and metadata")
s3.copy_object(Bucket=bucket, Key=tag + "/copy2.bin", CopySource={"Bucket": bucket, "Key": tag + "/big.bin"},
               MetadataDirective="REPLACE", Metadata={"colour": "red"}, ContentType="text/plain")
h = s3.head_object(Bucket=bucket, Key=tag + "/copy2.bin")
check(h["Metadata"].get("colour") == "red" and h["ContentType"] == "text/plain", "copy REPLACE metadata")
c, st = code_of(lambda: s3.copy_object(Bucket=bucket, Key=tag + "/c3", CopySource={"Bucket": other, "Key": "x"}))
check(st == 403, "copy from another account's bucket: %r" % ((c, st),))
r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": lb + k} for k in keys] + [{"Key": lb + "never"}]})
check(sorted(d["Key"] for d in r.get("Deleted", [])) == sorted([lb + k for k in keys] + [lb + "never"]),
      "DeleteObjects: %r" % r.get("Deleted"))
r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": tag + "/copy2.bin"}], "Quiet": True})
check(not r.get("Deleted") and not r.get("Errors"), "quiet DeleteObjects says nothing")
r = s3.list_objects_v2(Bucket=bucket, Prefix=lb + "a")
check(r["KeyCount"] == 0, "deleted keys are gone")
s3.delete_object(Bucket=bucket, Key=tag + "/never-was")  # 204 all the same

print("boto3 %s: %d passed, %d failed" % (botocore.__version__, passes, fails))
sys.exit(1 if fails else 0)
