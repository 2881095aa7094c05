"""A real S3-compatible server for the tests: SeaweedFS (`weed mini`: master, volume server, filer and S3
gateway in one process) on loopback ports, with S3 authentication on, and boto3 as the reference client.

    with S3Server(tmp_path) as s3:
        s3.create_bucket("sessions")
        s3.client().put_object(Bucket="sessions", Key="k", Body=b"v")

or, in a test module, the module-scoped fixture (one server for the whole suite):

    from s3server import bucket, s3_server  # noqa: F401 (fixtures)
    def test_something(s3_server, bucket): ...   # bucket: a new bucket for each test

weed comes from OTELRR_WEED when set, else from `scripts/install-peers --print-env` (which builds it once).
"""

import json
import subprocess
import time
import urllib.error
import urllib.request

import boto3
import botocore.config
import pytest

from peer_binaries import ServerProcess, free_ports, peer_path

ACCESS_KEY = "otelrr-test-access"
SECRET_KEY = "otelrr-test-secret-0123456789"
REGION = "us-east-1"

# The components whose ports `weed mini` takes, each on a free loopback port of our choosing (never its
# defaults, which other servers on the machine may hold). WebDAV and the Iceberg and Lance catalogs are off;
# the admin server always runs in mini, so it gets ports too.
PORT_FLAGS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
              "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc")
# What weed logs when a port it was given is taken (its own check before binding, or the bind itself).
PORT_TAKEN = ("Port allocation failed", "address already in use")


class S3ServerError(AssertionError):
    """The server did not come up (or did not stop); the message ends with its log."""


class S3Server(ServerProcess):
    """One `weed mini` process with a fresh data directory under workdir, its log in workdir/weed-N.log.

    Small: volumes of volume_size_mb (grown one at a time, one collection per bucket) and at most max_volumes of
    them, so the disk it may take is bounded and nothing is preallocated. Authentication is on: one identity
    (access_key, secret_key) with every action; an unsigned or wrongly signed request gets 403. A PUT into a
    bucket that does not exist gets NoSuchBucket, as on AWS (weed's default would create the bucket)."""

    def __init__(self, workdir, weed=None, access_key=ACCESS_KEY, secret_key=SECRET_KEY, volume_size_mb=32,
                 max_volumes=32, startup_timeout=60):
        super().__init__(workdir, startup_timeout)
        self.weed = weed or peer_path("OTELRR_WEED")
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = REGION
        self.volume_size_mb = volume_size_mb
        self.max_volumes = max_volumes
        self.endpoint = None

    # --- lifetime ------------------------------------------------------------------------------------------

    # stop() (ServerProcess's): SIGTERM to the process group, SIGKILL after 20 s. On SIGTERM weed also removes
    # the Unix sockets it makes in /tmp, /tmp/seaweedfs-<component>-<port>.sock.
    error = S3ServerError

    def start(self):
        """Starts weed and waits until the S3 endpoint answers. A port taken by another process between our
        choice and weed's bind is retried with new ports (twice); any other failure raises S3ServerError."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            try:
                return self._start_once()
            except S3ServerError as e:
                if attempt == 2 or not any(m in str(e) for m in PORT_TAKEN):
                    raise

    def _start_once(self):
        n = sum(1 for _ in self.workdir.glob("weed-*.log"))
        data = self.workdir / f"data-{n}"
        data.mkdir()
        config = self.workdir / f"s3-identities-{n}.json"
        config.write_text(json.dumps({"identities": [{
            "name": "otelrr-tests",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }]}, indent=1))
        ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS))))
        args = [self.weed, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-master.telemetry=false", f"-s3.config={config}", "-s3.autoCreateBucket=false",
                *(f"-{flag}={port}" for flag, port in ports.items()),
                "-webdav=false", "-admin.ui=false", "-admin.port.legacy=0", "-s3.port.iceberg=0",
                "-s3.port.lance=0", f"-master.volumeSizeLimitMB={self.volume_size_mb}",
                f"-volume.max={self.max_volumes}", "-volume.preStopSeconds=0"]
        self.log_path = self.workdir / f"weed-{n}.log"
        self.endpoint = f"http://127.0.0.1:{ports['s3.port']}"
        started = time.monotonic()
        with open(self.log_path, "wb") as log:
            # Its own process group, so stop() reaches anything it starts; cwd is its work directory, so no
            # master.toml or security.toml of the caller's directory is read.
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         cwd=data, start_new_session=True)
        deadline = started + self.startup_timeout
        while not self._answers():
            if self.proc.poll() is not None:
                code, self.proc = self.proc.returncode, None
                raise S3ServerError(f"weed mini exited ({code}) before S3 answered:\n{self.logs()}")
            if time.monotonic() > deadline:
                self.stop()
                raise S3ServerError(f"S3 at {self.endpoint} did not answer within {self.startup_timeout} s:\n"
                                    f"{self.logs()}")
            time.sleep(0.1)
        self.started_in = time.monotonic() - started
        return self

    def _answers(self):
        """True once the S3 endpoint answers HTTP at all (an anonymous request gets 403)."""
        try:
            urllib.request.urlopen(self.endpoint + "/", timeout=2).close()
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    # --- clients -------------------------------------------------------------------------------------------

    def client(self, access_key=None, secret_key=None, **config):
        """A boto3 S3 client for this server: path-style addressing, SigV4, the server's credentials unless
        others are given; config adds botocore.config.Config options (retries, timeouts...)."""
        config = {"s3": {"addressing_style": "path"}, "signature_version": "s3v4",
                  "retries": {"max_attempts": 2, "mode": "standard"}, "connect_timeout": 5, "read_timeout": 60,
                  **config}
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id=access_key or self.access_key,
                            aws_secret_access_key=secret_key or self.secret_key,
                            config=botocore.config.Config(**config))

    def create_bucket(self, name):
        """Creates the bucket (an error if it exists) and returns its name."""
        self.client().create_bucket(Bucket=name)
        return name


def bucket_name(test_name):
    """A valid bucket name made from a test's name (parameters included)."""
    name = "".join(c if c.isalnum() else "-" for c in test_name.lower().replace("]", ""))
    return name[:50].strip("-")


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """One S3Server for the test module that imports this fixture, stopped after its last test."""
    with S3Server(tmp_path_factory.mktemp("s3server")) as server:
        print(f"\nS3 server (weed mini) answered {server.endpoint} after {server.started_in:.2f} s")
        yield server


@pytest.fixture
def bucket(s3_server, request):
    """A new bucket of s3_server for one test, named after it."""
    return s3_server.create_bucket(bucket_name(request.node.name))
