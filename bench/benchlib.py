"""What the bench/ scripts (capture-bench, replay-bench, run, s3-bench, ui-bench) share: paths, process
accounting, runs repeated when other processes disturbed them, the discard receiver, `otelrr capture` and
`otelrr serve` on port 0, the capture load, replay into the discard receiver, seeding, copies of a small
session, the project's venv, the machine's load, and writing results.

Stdlib only. The scripts import it from their own directory (bench/ is on sys.path when a script in it
runs). Messages are prefixed with the running script's name.
"""
import http.client
import json
import os
import re
import resource
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD_DIR = os.path.join(ROOT, os.environ.get("BUILD_DIR", "build-bench"))
OTELRR = os.path.join(BUILD_DIR, "otelrr")
LOAD = os.path.join(BUILD_DIR, "bench", "otelrr_capture_load")
RECEIVER = os.path.join(BUILD_DIR, "bench", "otelrr_discard_receiver")
RESULTS_DIR = os.path.join(ROOT, "bench", "results")
CLK_TCK = os.sysconf("SC_CLK_TCK")
NAME = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "bench"


def log(message):
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def fail(message):
    log(f"{NAME}: {message}")
    sys.exit(1)


def use_venv(modules, hint):
    """Imports `modules` (names); when one is missing and the project's venv (.venv, scripts/setup-python)
    exists, starts the running script again under .venv/bin/python; else stops with `hint`."""
    try:
        for module in modules:
            __import__(module)
    except ImportError:
        venv_python = os.path.join(ROOT, ".venv", "bin", "python")
        if os.access(venv_python, os.X_OK) and os.path.realpath(sys.executable) != os.path.realpath(venv_python):
            os.execv(venv_python, [venv_python, *sys.argv])
        fail(hint)


def require(*binaries):
    """Stops with the build command when one of the build-bench binaries is missing."""
    for binary in binaries:
        if not os.access(binary, os.X_OK):
            fail(f"{binary} is missing: build it with the Release command in docs/BENCHMARKS.md "
                 "(ninja -C build-bench otelrr otelrr_capture_load otelrr_discard_receiver)")


# --- the machine ----------------------------------------------------------------------------------------

def loadavg():
    """The 1, 5 and 15 minute load averages, as /proc/loadavg prints them."""
    return " ".join(open("/proc/loadavg").read().split()[:3])


def load1():
    return float(open("/proc/loadavg").read().split()[0])


def wait_for_ci():
    """Waits (polling every 30 s, up to 30 minutes) while a CI run (`pgrep -f ci/run`) is on the machine."""
    deadline = time.monotonic() + 30 * 60
    while subprocess.run(["pgrep", "-f", "ci/run"], stdout=subprocess.DEVNULL).returncode == 0:
        if time.monotonic() > deadline:
            fail("a CI run has been on the machine for 30 minutes; not measuring next to it")
        log(f"  a CI run is on the machine (load {loadavg()}); waiting 30 s")
        time.sleep(30)


def wait_for_quiet(max_load, max_wait_seconds, poll_seconds=30):
    """Waits until the 1-minute load average is below max_load, polling, for at most max_wait_seconds.
    Returns (quiet, load average string): quiet is False when it gave up waiting (the caller goes on and
    says so)."""
    deadline = time.monotonic() + max_wait_seconds
    while load1() >= max_load:
        if time.monotonic() >= deadline:
            log(f"  the machine is still busy (load {loadavg()}); measuring anyway")
            return False, loadavg()
        log(f"  the machine is busy (load {loadavg()}, want < {max_load:g}); waiting {poll_seconds} s")
        time.sleep(poll_seconds)
    return True, loadavg()


class Watch:
    """How much CPU the rest of the machine used while we measured: the machine's busy CPU time
    (/proc/stat: user, nice, system; not irq and softirq, which the kernel does not charge to any
    process, and where loopback traffic of our own is handled) minus our own (this process and every
    child it has reaped, from getrusage, and the processes in `pids`: servers of ours that run across
    runs, such as an S3 server, read from /proc; and in `trees`, processes counted with all their
    descendants, such as a browser: tree_cpu_seconds). Reap every other child of a run before done(), or
    its CPU counts as others'. Kernel threads working for us (writeback of our files) count as others'.
    Also the CPU time the machine spent waiting for the disk (iowait: idle with I/O outstanding).

        w = Watch(); ...run, stop and wait for every process...; w.done()
        -> {"othersCpuSeconds": ..., "stealSeconds": ..., "iowaitSeconds": ..., "wallSeconds": ...}
    """

    def __init__(self, pids=(), trees=()):
        self.pids, self.trees = tuple(pids), tuple(trees)
        self.t0, (self.busy0, self.steal0, self.iowait0), self.ours0 = time.monotonic(), machine_cpu(), self._ours()

    def _ours(self):
        return (ours_cpu() + sum(cpu_seconds(pid) for pid in self.pids)
                + sum(tree_cpu_seconds(pid) for pid in self.trees))

    def done(self):
        busy, steal, iowait = machine_cpu()
        wall = time.monotonic() - self.t0
        others = max(0.0, (busy - self.busy0) - (self._ours() - self.ours0))
        return {"othersCpuSeconds": round(others, 2), "stealSeconds": round(steal - self.steal0, 2),
                "iowaitSeconds": round(iowait - self.iowait0, 2), "wallSeconds": round(wall, 2)}


def machine_cpu():
    """(busy, steal, iowait) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, iowait, _irq, _softirq, steal = v
    return (user + nice + system) / CLK_TCK, steal / CLK_TCK, iowait / CLK_TCK


def ours_cpu():
    """CPU seconds of this process and its reaped children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


# --- runs: repeated when others disturbed them, what was measured --------------------------------------------

BUSY_SHARE = float(os.environ.get("BUSY_SHARE", "0.2"))
BUSY_RETRIES = int(os.environ.get("BUSY_RETRIES", "2"))


def measured(what, fn, *args, watch_pids=(), watch_trees=(), retries=None, **kwargs):
    """fn(*args, **kwargs) -> a run's dict, with "machine": the CPU the rest of the machine used meanwhile
    (Watch(watch_pids, watch_trees)). When others used more than BUSY_SHARE of a core over the run, it is
    run again (after 30 s), up to `retries` (default BUSY_RETRIES) times; the last attempt counts, whatever
    it saw. retries=0 for a run that cannot be repeated as it was (a browser's very first page)."""
    retries = BUSY_RETRIES if retries is None else retries
    for attempt in range(retries + 1):
        watch = Watch(watch_pids, watch_trees)
        r = fn(*args, **kwargs)
        r["machine"] = m = watch.done()
        r["attempts"] = attempt + 1
        share = m["othersCpuSeconds"] / m["wallSeconds"] if m["wallSeconds"] > 0 else 0.0
        if share <= BUSY_SHARE or attempt == retries:
            return r
        log(f"    {what}: other processes used {100 * share:.0f} % of a core ({m['othersCpuSeconds']:.1f} CPU-s in "
            f"{m['wallSeconds']:.0f} s); again in 30 s")
        time.sleep(30)
    raise AssertionError("unreachable")


def others(r):
    m = r["machine"]
    return f"others {m['othersCpuSeconds']:.1f} CPU-s"


def others_summary(runs):
    """What the rest of the machine used over measured() runs: (dict for the results, sentence for a header)."""
    other_cpu = sum(r["machine"]["othersCpuSeconds"] for r in runs)
    run_wall = sum(r["machine"]["wallSeconds"] for r in runs)
    worst = max((r["machine"]["othersCpuSeconds"] / r["machine"]["wallSeconds"] for r in runs), default=0.0)
    repeated = sum(r["attempts"] - 1 for r in runs)
    summary = {"cpuSeconds": round(other_cpu, 1), "runWallSeconds": round(run_wall, 1),
               "worstRunShare": round(worst, 3), "repeatedRuns": repeated}
    sentence = (f"other processes used {other_cpu:.1f} CPU-s over the {run_wall:.0f} s of measured runs "
                f"({100 * other_cpu / run_wall if run_wall else 0:.0f} % of one core; worst run {100 * worst:.0f} %; "
                f"{repeated} runs repeated for that)")
    return summary, sentence


def spread(values):
    """max / min - 1, in percent: how far the repetitions were apart."""
    lo, hi = min(values), max(values)
    return 100 * (hi / lo - 1) if lo > 0 else 0.0


def build_info():
    """(the tree: `git describe --always --dirty`, the otelrr binary's mtime in UTC): what was measured."""
    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True).stdout.strip()
    built = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.path.getmtime(OTELRR)))
    return commit, built


# --- processes ------------------------------------------------------------------------------------------

def cpu_seconds(pid):
    """utime + stime of a running process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15


def tree_cpu_seconds(pid):
    """CPU seconds of a running process and all its descendants (a browser and its renderers): utime +
    stime of each live one, plus cutime + cstime (its children that ended and were waited for). 0 once
    `pid` is gone."""
    children, own = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        own[int(entry)] = sum(int(x) for x in fields[11:15]) / CLK_TCK  # fields 14-17
        children.setdefault(int(fields[1]), []).append(int(entry))  # field 4: the parent
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += own.get(p, 0.0)
        todo += children.get(p, [])
    return total


def peak_rss_mib(pid):
    """VmHWM of a running process, MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run(cmd, what):
    """Runs cmd to the end; its stdout, or the script stops with its stderr."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        fail(f"{what} failed ({p.returncode}): {p.stderr}")
    return p.stdout


GNU_TIME = "/usr/bin/time"


class Timed:
    """A child process whose CPU comes from wait4() when it ends, and its peak RSS from GNU time's %M.

        t = Timed(cmd)        # started; t.started is its time.monotonic() at start
        t.wait()              # -> self; t.out, t.err, t.code, t.cpu (s), t.rss (MiB), t.wall (s)

    Not wait4()'s ru_maxrss for the RSS: Linux keeps a process's high-water mark across exec, so a child
    of this script starts with the script's own RSS (12 MB for plain Python, 55 MB once boto3 is loaded)
    and never reports less. /usr/bin/time (a ~2 MB process) runs the command as its own child and
    reports that child's peak; without /usr/bin/time, ru_maxrss it is.
    """

    def __init__(self, cmd, perf_path=None, env=None):
        # perf runs the command itself: `perf record -p PID` started later samples only the threads that
        # exist when it attaches.
        if perf_path:
            cmd = ["perf", "record", "-q", "-g", "-o", perf_path, "--", *cmd]
        self.cmd = cmd
        self._out = tempfile.TemporaryFile("w+")
        self._err = tempfile.TemporaryFile("w+")
        self._rss = None
        if os.access(GNU_TIME, os.X_OK):
            self._rss = tempfile.NamedTemporaryFile("w+", prefix="otelrr-bench-rss-")
            cmd = [GNU_TIME, "-f", "%M", "-o", self._rss.name, *cmd]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=self._err, env=env)

    def wait(self, ok_codes=(0, 1)):
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.ended = time.monotonic()
        self.wall = self.ended - self.started
        self.code = self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.cpu = usage.ru_utime + usage.ru_stime
        self.rss = usage.ru_maxrss / 1024
        if self._rss is not None:
            # The last line is %M in KiB (a line before it says when the command was killed by a signal).
            lines = self._rss.read().split()
            self._rss.close()
            if lines and lines[-1].isdigit():
                self.rss = int(lines[-1]) / 1024
        self._out.seek(0)
        self._err.seek(0)
        self.out, self.err = self._out.read(), self._err.read()
        self._out.close()
        self._err.close()
        if ok_codes is not None and self.code not in ok_codes:
            fail(f"{' '.join(self.cmd)} exited {self.code}: {self.err[-4000:]}")
        return self


def timed(cmd, perf_path=None):
    """Runs cmd; returns (stdout, exit code, CPU s, peak RSS MiB, wall s) (Timed)."""
    t = Timed(cmd, perf_path).wait()
    return t.out, t.code, t.cpu, t.rss, t.wall


def read_line(stream, timeout):
    """One line from a text pipe, or None when none came within timeout seconds."""
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else None


# --- the discard receiver and otelrr capture ----------------------------------------------------------------

class Receiver:
    """A fresh otelrr_discard_receiver (bench/discard_receiver.cc) on port 0.

    count=True: it walks every body and counts spans, data points and log records (stop() returns them);
    expect=N as well: wait_expected() returns the CLOCK_MONOTONIC time (= time.monotonic()) at which
    the N-th item came."""

    def __init__(self, count=False, expect=0):
        cmd = [RECEIVER, "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"]
        if count:
            cmd.append("--count")
        if expect:
            cmd += ["--expect", str(expect)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        m = re.search(r"OTLP/HTTP on (\S+), OTLP/gRPC on (\S+); pid (\d+)", line)
        if not m:
            self.proc.kill()
            fail(f"otelrr_discard_receiver did not start: {line}{self.proc.stderr.read()}")
        self.http, self.grpc = m.group(1), m.group(2)

    def endpoint(self, protocol):
        """The otelrr --endpoint URL for a protocol (grpc, else HTTP)."""
        return f"grpc://{self.grpc}" if protocol == "grpc" else f"http://{self.http}"

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def wait_expected(self, timeout, alive=None):
        """The time.monotonic() at which the expected items had all come, or None after timeout seconds
        (or as soon as alive() says the sender is gone)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = read_line(self.proc.stderr, 0.5)
            if line:
                m = re.search(r"(\d+) items at ([\d.]+)", line)
                if m:
                    return float(m.group(2))
            if alive is not None and not alive():
                line = read_line(self.proc.stderr, 1.0)  # a last look: it may have just come
                m = re.search(r"(\d+) items at ([\d.]+)", line or "")
                return float(m.group(2)) if m else None
        return None

    def stop(self):
        """SIGTERM; the receiver's JSON summary (requests, bytes, and with count the items)."""
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=30)
        if self.proc.returncode != 0:
            fail(f"otelrr_discard_receiver exited {self.proc.returncode}: {err}")
        return json.loads(out)


def start_capture(store, session, extra=()):
    """`otelrr capture` on port 0 into store: (process, OTLP/HTTP address, OTLP/gRPC address). Stop it
    with SIGTERM; with --json (passed here) it prints its summary on stdout."""
    # No size limit: at ~1.8 M spans/s the default 5,000 MB is reached in 10 s, and the capture then answers
    # every request with all of its spans rejected.
    capture = subprocess.Popen(
        [OTELRR, "capture", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--store", store, "--session", session,
         "--max-size-mb", "10000000", "--json", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready = capture.stderr.readline()
    m = re.search(r"OTLP/HTTP on (\S+), OTLP/gRPC on (\S+);", ready)
    if not m:
        capture.kill()
        fail(f"otelrr capture did not start: {ready}{capture.stderr.read()}")
    return capture, m.group(1), m.group(2)


def stop_capture(capture):
    """SIGTERM to a start_capture() process; its --json summary."""
    capture.send_signal(signal.SIGTERM)
    out, err = capture.communicate(timeout=60)
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        fail(f"otelrr capture printed no summary ({capture.returncode}): {out}{err}")


def capture_load(seed_store, protocol, target, rate, duration, connections, spans_per_request):
    """otelrr_capture_load (bench/capture_load.cc): the traces of session "load" of seed_store, in requests of
    >= spans_per_request spans over `connections` connections, to target for `duration` s, as fast as they
    go (rate 0) or at `rate` spans/s open loop. Its JSON result (spansAcked, spansPerSecond, latencyMs...)."""
    load = subprocess.run(
        [LOAD, "--store", seed_store, "--session", "load", "--protocol", protocol, "--target", target,
         "--connections", str(connections), "--rate", str(rate), "--duration", str(duration),
         "--spans-per-request", str(spans_per_request)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if load.returncode not in (0, 1) or not load.stdout.strip():
        fail(f"otelrr_capture_load failed ({load.returncode}): {load.stderr}")
    return json.loads(load.stdout)


def replay(store, session, protocol, speed, perf_path=None):
    """`otelrr replay --timestamps relative --json` of a session into a fresh discard receiver (not counting);
    stops the script unless every request was sent and received. The run's dict: its report, the
    receiver's counts, spans/s, records/s, requests/s and MB/s over the replay's elapsedSeconds, and the
    replay's CPU, peak RSS and wall time from wait4(), the receiver's CPU over the run."""
    recv = Receiver()
    cpu_before = recv.cpu()
    out, code, cpu, rss, wall = timed(
        [OTELRR, "replay", "--session", session, "--speed", str(speed), "--endpoint", recv.endpoint(protocol),
         "--protocol", protocol, "--timestamps", "relative", "--store", store, "--json"], perf_path)
    recv_cpu = recv.cpu() - cpu_before
    counts = recv.stop()
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        fail(f"otelrr replay printed no report ({code}): {out}")
    if report["failedRequests"] != 0 or code != 0:
        fail(f"replay of {session} over {protocol}: {report['failedRequests']} failed: {report.get('firstError')}")
    if counts["requests"] != report["sentRequests"]:
        fail(f"replay of {session} over {protocol}: sent {report['sentRequests']} requests, the receiver "
             f"counted {counts['requests']}")
    elapsed = report["elapsedSeconds"]
    records = report["spans"] + report["dataPoints"] + report["logRecords"]
    return {
        "session": session, "protocol": protocol, "speed": speed, "report": report, "receiver": counts,
        "spansPerSecond": report["spans"] / elapsed, "recordsPerSecond": records / elapsed,
        "requestsPerSecond": report["sentRequests"] / elapsed, "mbPerSecond": counts["bytes"] / elapsed / 1e6,
        "replayCpuSeconds": round(cpu, 2), "replayPeakRssMiB": round(rss, 1), "replayWallSeconds": round(wall, 2),
        "receiverCpuSeconds": round(recv_cpu, 2),
    }


# --- otelrr serve -------------------------------------------------------------------------------------------

class Serve:
    """`otelrr serve` on loopback port 0 (the OTLP receivers, the control API and the web UI) over store,
    its standard error into the file log_path (a pipe nobody reads could fill and stop it).

        s = Serve(store, log_path)   # started and answering; s.url is "http://127.0.0.1:PORT/"
        s.api("GET", "/api/sessions") -> (HTTP status, the parsed JSON or the raw body, wall seconds)
        s.cpu()                      # its CPU seconds so far (/proc)
        s.stop()                     # SIGTERM; it must exit 0
    """

    READY = re.compile(r"OTLP/HTTP on (\S+), OTLP/gRPC on (\S+), control API on http://(\S+)/api")

    def __init__(self, store, log_path, extra=()):
        self.store, self.log_path = store, log_path
        with open(log_path, "wb") as err:
            self.proc = subprocess.Popen(
                [OTELRR, "serve", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--api", "127.0.0.1:0",
                 "--store", store, *extra], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 30
        while not (m := self.READY.search(self.log())):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                fail(f"otelrr serve did not start: {self.log()}")
            time.sleep(0.05)
        self.http, self.grpc, self.address = m.group(1), m.group(2), m.group(3)
        self.host, port = self.address.rsplit(":", 1)
        self.port = int(port)
        self.url = f"http://{self.address}/"

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def api(self, method, path, body=None, timeout=3600, raw=False):
        """One request on a connection of its own: (status, the JSON when the answer is JSON (and not raw)
        else its bytes, wall seconds from sending the request to the last byte of the answer)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        t0 = time.monotonic()
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        wall = time.monotonic() - t0
        conn.close()
        if data and not raw and resp.getheader("Content-Type", "").startswith("application/json"):
            data = json.loads(data)
        return resp.status, data, wall

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail(f"otelrr serve did not stop within 60 s: {self.log()[-3000:]}")
        if code != 0:
            fail(f"otelrr serve exited {code}: {self.log()[-3000:]}")


# --- sessions -----------------------------------------------------------------------------------------------

def dir_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def seed(store, session, rate, duration, signals=None, what="otelrr seed"):
    """`otelrr seed --seed 1 --start-time 2026-01-01T00:00:00Z` into store; its --json result, plus
    storedBytes (the session's files on disk)."""
    cmd = [OTELRR, "seed", "--rate", str(rate), "--duration", str(duration), "--seed", "1",
           "--start-time", "2026-01-01T00:00:00Z", "--session-id", session, "--store", store, "--json"]
    if signals:
        cmd += ["--signals", signals]
    result = json.loads(run(cmd, what))
    result["storedBytes"] = dir_bytes(os.path.join(store, "sessions", session))
    return result


def session_copies(tmp, count, prefix):
    """`count` copies of one real small seed session (`otelrr seed --rate 10 --duration 1` into
    tmp/<prefix>-model: metadata.json and three raw files) as the objects of a store: [(key, bytes)] under
    sessions/<prefix>-0000/, sessions/<prefix>-0001/ ..., each metadata.json with its sessionId and s3Prefix
    rewritten."""
    model = os.path.join(tmp, f"{prefix}-model")
    seed(model, "model", 10, 1, what="otelrr seed (the session to copy)")
    root = os.path.join(model, "sessions", "model")
    files = {}
    for d, _, names in os.walk(root):
        for name in names:
            path = os.path.join(d, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, root)] = f.read()
    metadata = json.loads(files.pop("metadata.json"))
    objects = []
    for i in range(count):
        sid = f"{prefix}-{i:04d}"
        meta = dict(metadata, sessionId=sid, s3Prefix=f"sessions/{sid}/")
        objects += [(f"sessions/{sid}/{rel}", body) for rel, body in files.items()]
        objects.append((f"sessions/{sid}/metadata.json", json.dumps(meta, indent=2).encode()))
    return objects


def write_objects(directory, objects):
    """session_copies()'s objects as the files of a local store (a directory)."""
    for key, body in objects:
        path = os.path.join(directory, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(body)


# --- results ------------------------------------------------------------------------------------------------

def med(runs, get):
    return statistics.median(get(r) for r in runs)


def utc_now(fmt="%Y-%m-%dT%H:%MZ"):
    return time.strftime(fmt, time.gmtime())


def write_results(prefix, data):
    """bench/results/<prefix>-<utc time>.json (git-ignored); returns its path relative to the repository."""
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, f"{prefix}-{utc_now('%Y%m%dT%H%M%SZ')}.json")
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
    return os.path.relpath(path, ROOT)
