"""The deployment (issue 16): deploy/kubernetes/ checked against the Kubernetes API's own Go types (every
field name and type, strictly: peers/manifestcheck, built by scripts/install-peers from k8s.io/api), and
against otelrr itself: every flag the pods pass exists in that command's --help, the Job's shard count
matches its completions, the pods run as the non-root user the image creates, and the image's runtime
packages are those of the libraries the binary links.

By hand: OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_deploy_cli.py
"""

import pathlib
import re
import subprocess

import pytest

from peer_binaries import peer_path
from test_capture_cli import binary

REPO = pathlib.Path(__file__).resolve().parents[2]
MANIFESTS = sorted((REPO / "deploy" / "kubernetes").glob("*.yaml"))


def check(*files):
    return subprocess.run([peer_path("OTELRR_MANIFESTCHECK"), *map(str, files)], capture_output=True, timeout=60)


def test_manifests_match_the_kubernetes_api_types():
    assert MANIFESTS
    p = check(*MANIFESTS)
    assert p.returncode == 0, p.stderr.decode()
    kinds = re.findall(r"^ok \S+ (\w+)/", p.stdout.decode(), re.M)
    assert sorted(set(kinds)) == ["ConfigMap", "Deployment", "Job", "Secret", "Service"]


@pytest.mark.parametrize("mutation,expect", [
    (("replicas: 3", "replica: 3"), b"unknown field"),            # a misspelt field
    (("replicas: 3", "replicas: one"), b"replicas"),              # a value of the wrong type
    (("containerPort: 4317", "containerPort: 4317\n              protocol: SCTPX\n              bogus: 1"), b"bogus"),
])
def test_the_checker_catches_what_kubectl_would_refuse(tmp_path, mutation, expect):
    text = (REPO / "deploy" / "kubernetes" / "serve.yaml").read_text()
    assert mutation[0] in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(mutation[0], mutation[1], 1))
    p = check(bad)
    assert p.returncode == 1 and expect in p.stderr, p.stderr.decode()


def container_args(path):
    """The args list of the manifest's container (the flags, in --name=value form)."""
    lines = path.read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip() == "args:")
    args = []
    for line in lines[start + 1:]:
        m = re.match(r"\s+- (.*)$", line)
        if not m:
            break
        args.append(m.group(1).split("  #")[0].strip())
    return args


@pytest.mark.parametrize("manifest", ["serve.yaml", "replay-job.yaml"])
def test_every_flag_the_pods_pass_exists(manifest):
    args = container_args(REPO / "deploy" / "kubernetes" / manifest)
    command, flags = args[0], [a.split("=")[0] for a in args[1:]]
    help_text = subprocess.run([binary(), command, "--help"], capture_output=True, timeout=30).stdout.decode()
    for flag in flags:
        assert re.search(rf"(^|[\s,]){re.escape(flag)}\b", help_text), f"{manifest}: {command} has no {flag}"


def test_the_job_shards_and_the_pods_run_as_the_image_user():
    job = (REPO / "deploy" / "kubernetes" / "replay-job.yaml").read_text()
    completions = int(re.search(r"completions: (\d+)", job).group(1))
    assert f"--shards={completions}" in job and f"parallelism: {completions}" in job
    assert "completionMode: Indexed" in job and "backoffLimit: 0" in job
    dockerfile = (REPO / "docker" / "Dockerfile").read_text()
    uid = re.search(r"useradd .*--uid (\d+)", dockerfile).group(1)
    for manifest in ("serve.yaml", "replay-job.yaml"):
        text = (REPO / "deploy" / "kubernetes" / manifest).read_text()
        assert f"runAsUser: {uid}" in text and "runAsNonRoot: true" in text


def installed_closure(packages):
    """The packages and everything they depend on, as this machine's dpkg records it (their Depends)."""
    seen, todo = set(), list(packages)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        depends = subprocess.run(["dpkg-query", "-W", "-f=${Depends}", name], capture_output=True, text=True).stdout
        for alternative in depends.split(","):
            dep = alternative.split("|")[0].split("(")[0].strip().split(":")[0]
            if dep:
                todo.append(dep)
    return seen


def test_the_image_installs_the_runtime_packages_of_what_otelrr_links():
    """Each shared library the binary needs directly comes from a package the image's run stage installs, or
    from one of their dependencies (which apt brings with them)."""
    needed = subprocess.run(["objdump", "-p", binary()], capture_output=True, text=True).stdout
    libraries = re.findall(r"NEEDED\s+(\S+)", needed)
    dockerfile = (REPO / "docker" / "Dockerfile").read_text()
    run_stage = dockerfile.split("FROM debian:12-slim", 1)[1]
    listed = set(re.findall(r"\b(lib[\w.+-]+|zlib1g)\b", run_stage))
    available = installed_closure(listed)
    basic = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1"}
    for lib in libraries:
        if lib in basic or re.match(r"lib(a|ub|t)san\.so", lib):  # a sanitizer build's runtime, not the image's
            continue
        owner = subprocess.run(["dpkg", "-S", f"*/{lib}"], capture_output=True, text=True).stdout.split(":")[0]
        owner = owner.split(",")[0].strip()
        assert owner in available, f"{lib} (package {owner}) is not installed by docker/Dockerfile's run stage"
