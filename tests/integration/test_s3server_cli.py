"""The S3-compatible server the S3 tests run against (tests/integration/s3server.py: SeaweedFS's `weed mini`
on loopback), checked with the reference client (boto3) for what an S3 ObjectStore relies on: authentication
is on, put/get/head, ranged GETs, listing in pages with continuation tokens and delimiters, conditional PUTs
(If-None-Match: * to create only, If-Match to replace only what was read, for leases), multipart uploads,
batch deletes. Each test asserts what this server answers, so a SeaweedFS upgrade that changes an answer
fails here first.

weed comes from OTELRR_WEED, else from scripts/install-peers (built once). By hand:
    OTELRR_WEED=... .venv/bin/python -m pytest -q -s tests/integration/test_s3server_cli.py
"""

import concurrent.futures
import hashlib
import os
import urllib.error
import urllib.request

import botocore.exceptions
import pytest

from s3server import S3Server, bucket, s3_server  # noqa: F401 (fixtures)


def error_of(call):
    """(error code, HTTP status) of a boto3 call that must fail."""
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call()
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def put_many(client, bucket, keys, body=b"x"):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: client.put_object(Bucket=bucket, Key=key, Body=body), keys))


def test_start_and_stop_leave_nothing_running(tmp_path):
    with S3Server(tmp_path) as server:
        print(f"\nweed mini: S3 answered after {server.started_in:.2f} s")
        pid = server.proc.pid
        assert server.endpoint.startswith("http://127.0.0.1:")
        assert server.region == "us-east-1"
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # neither weed nor anything it started is left


def test_authentication_is_on(s3_server, bucket):
    s3_server.client().put_object(Bucket=bucket, Key="k", Body=b"v")
    wrong_secret = s3_server.client(secret_key="not-the-secret")
    assert error_of(lambda: wrong_secret.get_object(Bucket=bucket, Key="k")) == ("SignatureDoesNotMatch", 403)
    assert error_of(lambda: wrong_secret.put_object(Bucket=bucket, Key="k", Body=b"w")) == \
        ("SignatureDoesNotMatch", 403)
    unknown_key = s3_server.client(access_key="nobody", secret_key="x")
    assert error_of(lambda: unknown_key.list_objects_v2(Bucket=bucket)) == ("InvalidAccessKeyId", 403)
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{s3_server.endpoint}/{bucket}/k", timeout=10)
    assert anonymous.value.code == 403
    assert s3_server.client().get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"


def test_put_get_head_and_ranged_get(s3_server, bucket):
    client = s3_server.client()
    data = bytes(range(256)) * 40
    client.put_object(Bucket=bucket, Key="sessions/s1/traces.pb.gz", Body=data, Metadata={"kind": "seed"})
    head = client.head_object(Bucket=bucket, Key="sessions/s1/traces.pb.gz")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert head["Metadata"] == {"kind": "seed"}
    assert client.get_object(Bucket=bucket, Key="sessions/s1/traces.pb.gz")["Body"].read() == data
    for header, first, last in (("bytes=100-199", 100, 199), ("bytes=-10", len(data) - 10, len(data) - 1),
                                ("bytes=10000-", 10000, len(data) - 1)):
        part = client.get_object(Bucket=bucket, Key="sessions/s1/traces.pb.gz", Range=header)
        assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert part["ContentRange"] == f"bytes {first}-{last}/{len(data)}"
        assert part["Body"].read() == data[first:last + 1]
    assert error_of(lambda: client.get_object(Bucket=bucket, Key="sessions/s1/traces.pb.gz",
                                              Range="bytes=20000-20010")) == ("InvalidRange", 416)
    assert error_of(lambda: client.get_object(Bucket=bucket, Key="missing")) == ("NoSuchKey", 404)
    assert error_of(lambda: client.head_object(Bucket=bucket, Key="missing")) == ("404", 404)
    assert error_of(lambda: client.put_object(Bucket="never-created", Key="k", Body=b"x")) == ("NoSuchBucket", 404)
    assert "never-created" not in [b["Name"] for b in client.list_buckets()["Buckets"]]


def test_listing_pages_with_continuation_tokens_and_delimiters(s3_server, bucket):
    client = s3_server.client()
    keys = sorted(f"objects/{i:05d}" for i in range(1200))
    put_many(client, bucket, keys)
    first = client.list_objects_v2(Bucket=bucket, Prefix="objects/", MaxKeys=1000)
    assert (first["KeyCount"], first["IsTruncated"]) == (1000, True)
    second = client.list_objects_v2(Bucket=bucket, Prefix="objects/", MaxKeys=1000,
                                    ContinuationToken=first["NextContinuationToken"])
    assert (second["KeyCount"], second["IsTruncated"]) == (200, False)
    assert [o["Key"] for o in first["Contents"] + second["Contents"]] == keys
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 500})
    assert [o["Key"] for page in pages for o in page.get("Contents", [])] == keys
    after = client.list_objects_v2(Bucket=bucket, StartAfter="objects/01100")
    assert [o["Key"] for o in after["Contents"]] == keys[1101:]

    put_many(client, bucket, ["s/1/a", "s/1/b", "s/2/a", "s/3", "s/4/x/y"])
    page = client.list_objects_v2(Bucket=bucket, Prefix="s/", Delimiter="/", MaxKeys=2)
    assert ([p["Prefix"] for p in page["CommonPrefixes"]], page.get("Contents"), page["IsTruncated"]) == \
        (["s/1/", "s/2/"], None, True)
    page = client.list_objects_v2(Bucket=bucket, Prefix="s/", Delimiter="/", MaxKeys=2,
                                  ContinuationToken=page["NextContinuationToken"])
    assert ([p["Prefix"] for p in page["CommonPrefixes"]], [o["Key"] for o in page["Contents"]],
            page["IsTruncated"]) == (["s/4/"], ["s/3"], False)


def test_conditional_put_creates_only_once_and_replaces_only_what_was_read(s3_server, bucket):
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="lease", Body=b"owner-1", IfNoneMatch="*")
    assert error_of(lambda: client.put_object(Bucket=bucket, Key="lease", Body=b"owner-2", IfNoneMatch="*")) == \
        ("PreconditionFailed", 412)
    read = client.get_object(Bucket=bucket, Key="lease")
    assert read["Body"].read() == b"owner-1"
    renewed = client.put_object(Bucket=bucket, Key="lease", Body=b"owner-1 renewed", IfMatch=read["ETag"])
    assert error_of(lambda: client.put_object(Bucket=bucket, Key="lease", Body=b"owner-2", IfMatch=read["ETag"])) \
        == ("PreconditionFailed", 412)
    assert client.get_object(Bucket=bucket, Key="lease")["Body"].read() == b"owner-1 renewed"
    assert error_of(lambda: client.put_object(Bucket=bucket, Key="no-lease", Body=b"x", IfMatch=renewed["ETag"])) \
        == ("NoSuchKey", 404)
    assert error_of(lambda: client.delete_object(Bucket=bucket, Key="lease", IfMatch=read["ETag"])) == \
        ("PreconditionFailed", 412)

    # Racing creators: exactly one wins each key, the others get 412, and the object is the winner's.
    def create(key, n):
        try:
            client.put_object(Bucket=bucket, Key=key, Body=f"owner-{n}".encode(), IfNoneMatch="*")
            return n
        except botocore.exceptions.ClientError as e:
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 412, e.response
            return None
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for round_ in range(5):
            key = f"race-{round_}"
            winners = [n for n in pool.map(lambda n: create(key, n), range(8)) if n is not None]
            assert len(winners) == 1, winners
            assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == f"owner-{winners[0]}".encode()


def test_multipart_upload(s3_server, bucket):
    client = s3_server.client()
    parts = [b"a" * (5 << 20), b"b" * (5 << 20), b"tail"]
    upload = client.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    etags = [client.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=n, Body=body)["ETag"]
             for n, body in enumerate(parts, 1)]
    assert [p["PartNumber"] for p in client.list_parts(Bucket=bucket, Key="big", UploadId=upload)["Parts"]] == \
        [1, 2, 3]
    done = client.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})
    assert done["ETag"].endswith('-3"')
    data = b"".join(parts)
    assert client.get_object(Bucket=bucket, Key="big")["Body"].read() == data
    edge = client.get_object(Bucket=bucket, Key="big", Range=f"bytes={(5 << 20) - 3}-{(5 << 20) + 2}")
    assert edge["Body"].read() == b"aaabbb"

    # A part under 5 MiB that is not the last is refused at completion, as on AWS; the upload stays open
    # until aborted.
    small = client.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    etags = [client.upload_part(Bucket=bucket, Key="small", UploadId=small, PartNumber=n, Body=b"s" * 100)["ETag"]
             for n in (1, 2)]
    assert error_of(lambda: client.complete_multipart_upload(
        Bucket=bucket, Key="small", UploadId=small,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})) == \
        ("EntityTooSmall", 400)
    assert [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket)["Uploads"]] == ["small"]
    client.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=small)
    assert "Uploads" not in client.list_multipart_uploads(Bucket=bucket)
    assert error_of(lambda: client.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=small)) == \
        ("NoSuchUpload", 404)

    # Completing onto an existing key with If-None-Match: * is refused and leaves the object as it was.
    again = client.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    etag = client.upload_part(Bucket=bucket, Key="big", UploadId=again, PartNumber=1, Body=b"new")["ETag"]
    assert error_of(lambda: client.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=again, IfNoneMatch="*",
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})) == ("PreconditionFailed", 412)
    assert client.head_object(Bucket=bucket, Key="big")["ContentLength"] == len(data)
    client.abort_multipart_upload(Bucket=bucket, Key="big", UploadId=again)


def test_delete_objects_in_a_batch(s3_server, bucket):
    client = s3_server.client()
    keys = [f"d/{i:03d}" for i in range(300)]
    put_many(client, bucket, keys + ["keep"])
    answer = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys + ["d/missing"]]})
    assert sorted(d["Key"] for d in answer["Deleted"]) == sorted(keys + ["d/missing"])  # a missing key is "deleted"
    assert "Errors" not in answer
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep"]
    quiet = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "keep"}], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    assert client.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_keys_seaweedfs_stores_differently_from_aws(s3_server, bucket):
    """SeaweedFS keeps objects in a file tree: "//" in a key collapses to "/" (AWS keeps it), so an ObjectStore
    must not build keys with empty segments. A key that is both an object and a prefix of others works."""
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="a//b", Body=b"1")
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["a/b"]
    assert client.get_object(Bucket=bucket, Key="a//b")["Body"].read() == b"1"  # reads collapse it too
    client.put_object(Bucket=bucket, Key="a", Body=b"2")
    client.put_object(Bucket=bucket, Key="x/y", Body=b"3")
    client.put_object(Bucket=bucket, Key="x", Body=b"4")
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["a", "a/b", "x", "x/y"]
    assert [client.get_object(Bucket=bucket, Key=k)["Body"].read() for k in ("a", "a/b", "x", "x/y")] == \
        [b"2", b"1", b"4", b"3"]
