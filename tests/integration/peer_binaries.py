"""The real peers the integration tests start (the Collector, telemetrygen, SeaweedFS's weed), found the same
way by every suite: an OTELRR_* variable when set, else the path `scripts/install-peers --print-env` prints
(it builds what is missing into its cache, once, under a lock). Also free loopback ports for them."""

import functools
import os
import pathlib
import socket
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@functools.cache
def _installed():
    """{"OTELRR_COLLECTOR": path, ...} as scripts/install-peers --print-env prints them."""
    proc = subprocess.run([str(REPO / "scripts" / "install-peers"), "--print-env"], capture_output=True,
                          timeout=1800)
    if proc.returncode != 0:
        pytest.fail(f"scripts/install-peers failed ({proc.returncode}): {proc.stderr.decode()[-3000:]}")
    return dict(line.split("=", 1) for line in proc.stdout.decode().splitlines() if "=" in line)


def peer_path(variable):
    """The executable named by the environment variable (OTELRR_COLLECTOR, OTELRR_TELEMETRYGEN, OTELRR_WEED),
    else by scripts/install-peers. Never a skip: a missing peer fails the test that needs it."""
    path = os.environ.get(variable) or _installed().get(variable)
    if not path:
        pytest.fail(f"scripts/install-peers --print-env printed no {variable}")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{variable}={path} is not an executable: run scripts/install-peers")
    return path


def free_ports(count):
    """count distinct loopback ports that were free a moment ago (all held open while choosing, so no two are
    the same); a server given them may still lose one to another process before it binds."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port():
    return free_ports(1)[0]
