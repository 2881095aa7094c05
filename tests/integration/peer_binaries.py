"""The real peers the integration tests start (the Collector, telemetrygen, SeaweedFS's weed), found the same
way by every suite: an OTELRR_* variable when set, else the path `scripts/install-peers --print-env` prints
(it builds what is missing into its cache, once, under a lock). Also free loopback ports for them, and the
lifetime of a server the tests run in a process group of its own (ServerProcess)."""

import functools
import os
import pathlib
import signal
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


class ServerProcess:
    """A server in a process group of its own (Popen with start_new_session=True) that a test runs as a context
    manager: a subclass's start() sets self.proc and self.log_path; stop() ends the group."""

    log_path = None
    stop_timeout = 20  # seconds from SIGTERM to SIGKILL

    def __init__(self, workdir, startup_timeout):
        self.workdir = workdir  # where the server keeps its data and its logs
        self.startup_timeout = startup_timeout  # seconds start() waits for the server to answer
        self.proc = None
        self.started_in = None  # seconds from the process's start until it answered

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        raise NotImplementedError

    def stop(self):
        """SIGTERM to the process group, SIGKILL after stop_timeout s; returns once the server has exited and
        nothing is left in its group, else raises the class's error with the log."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        for sig, wait in ((signal.SIGTERM, self.stop_timeout), (signal.SIGKILL, 10)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # Anything else left in the group once the leader is gone.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if proc.poll() is None:
            raise self.error(f"{type(self).__name__} (pid {proc.pid}) did not exit:\n{self.logs()}")

    error = AssertionError  # what stop() raises; a subclass names its own

    def logs(self, tail=6000):
        return self.log_path.read_text(errors="replace")[-tail:]
