"""`otelrr patterns` end to end: the list, `patterns show` and `patterns check` on good and bad files.

ctest sets OTELRR_BIN to build/otelrr. By hand:
    OTELRR_BIN=build/otelrr .venv/bin/python -m pytest -q tests/integration/test_patterns_cli.py
"""

import json
import os
import pathlib
import re
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
PATTERNS = ["basic-topology", "payment-failure", "high-load", "complex-topology", "training-phases"]

GOOD = """\
name: checkout-slowdown
description: A web shop whose checkout slows down
services:
  - name: web
    language: nodejs
    operations:
      - name: POST /checkout
        latency: {median: 2ms, p99: 20ms}
        calls:
          - checkout PlaceOrder
  - name: checkout
    operations:
      - name: PlaceOrder
        protocol: grpc
        grpc: {service: shop.CheckoutService}
        calls:
          - {to: db INSERT orders, repeat: [1, 3]}
  - name: db
    kind: database
    operations:
      - name: INSERT orders
entry_points:
  - web POST /checkout
phases:
  - name: normal
  - name: slow
    latency: {checkout PlaceOrder: 5}
"""

# Four mistakes, each on a known line.
BAD = """\
name: broken
services:
  - name: web
    langauge: nodejs
    operations:
      - name: POST /checkout
        latency: {median: 20ms, p99: 2ms}
        calls:
          - {to: chekout PlaceOrder, probability: 1.2}
  - name: checkout
    operations:
      - name: PlaceOrder
        protocol: grpc
        grpc: {service: shop.CheckoutService}
entry_points:
  - web POST /checkout
"""
BAD_PROBLEMS = [
    (4, "unknown key 'langauge' in service (did you mean 'language'?)"),
    (7, "latency p99 (2ms) of 'web POST /checkout' is below its median (20ms)"),
    (9, "'probability' must be between 0 and 1, got 1.2"),
    (9, "no operation named 'chekout PlaceOrder' (did you mean 'checkout PlaceOrder'?)"),
]


def binary() -> str:
    path = os.environ.get("OTELRR_BIN", str(REPO / "build" / "otelrr"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not an executable: build otelrr first (scripts/build)")
    return os.path.abspath(path)  # some tests run from a temporary directory


def otelrr(*args, cwd=None):
    return subprocess.run([binary(), *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def test_list_names_every_pattern_with_services_and_phases(tmp_path):
    # From an empty directory: the patterns are compiled into the binary.
    proc = otelrr("patterns", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in PATTERNS:
        assert re.search(rf"^{name}$", proc.stdout, re.M), proc.stdout
    assert "phases: startup 33%, failure 33% [paymentServiceFailure], rampdown 33%" in proc.stdout


def test_list_as_json():
    proc = otelrr("patterns", "--json")
    assert proc.returncode == 0, proc.stderr
    patterns = {p["name"]: p for p in json.loads(proc.stdout)}
    assert list(patterns) == PATTERNS
    for p in patterns.values():
        assert p["description"]
        assert p["services"] and all({"name", "kind"} <= set(s) for s in p["services"])
        assert p["entryPoints"]
    failure = patterns["payment-failure"]
    names = {s["name"] for s in failure["services"]}
    assert {"frontend", "checkout", "cart", "payment", "shipping", "currency", "email", "product-catalog"} <= names
    assert [(ph["name"], ph["share"], ph["flags"]) for ph in failure["phases"]] == [
        ("startup", 1, []), ("failure", 1, ["paymentServiceFailure"]), ("rampdown", 1, [])]
    assert [ph["annotationKey"] for ph in patterns["training-phases"]["phases"]] == [
        "test.phase.baseline", "test.phase.degraded", "test.phase.failure"]
    complex_ = patterns["complex-topology"]
    assert len(complex_["services"]) >= 10 and complex_["maxCallDepth"] >= 5
    assert patterns["basic-topology"]["phases"] == []


@pytest.mark.parametrize("name", PATTERNS)
def test_show_prints_the_shipped_file(name, tmp_path):
    proc = otelrr("patterns", "show", name, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (REPO / "patterns" / f"{name}.yaml").read_text()
    # What show prints is a valid pattern file to start from.
    copy = tmp_path / f"{name}.yaml"
    copy.write_text(proc.stdout)
    check = otelrr("patterns", "check", str(copy))
    assert check.returncode == 0, check.stderr
    assert check.stdout == f"{copy}: ok\n"


def test_show_unknown_pattern_fails_with_a_suggestion():
    proc = otelrr("patterns", "show", "payment-failur")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("otelrr: no pattern named 'payment-failur' (did you mean 'payment-failure'?)")
    assert len(proc.stderr.splitlines()) == 1


def test_check_good_file(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    proc = otelrr("patterns", "check", str(good))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{good}: ok\n"
    assert proc.stderr == ""


def test_check_bad_file_reports_every_problem_with_its_line(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    proc = otelrr("patterns", "check", str(good), str(bad))
    assert proc.returncode == 1
    assert proc.stdout == f"{good}: ok\n"
    lines = proc.stderr.splitlines()
    assert lines[:-1] == [f"{bad}:{line}: {message}" for line, message in BAD_PROBLEMS]
    assert lines[-1] == "otelrr: 1 of 2 pattern file(s) have problems; the format is in docs/PATTERNS.md"


def test_check_as_json(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    proc = otelrr("patterns", "check", "--json", str(good), str(bad))
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report[0] == {"file": str(good), "ok": True, "name": "checkout-slowdown", "problems": []}
    assert report[1]["ok"] is False
    assert report[1]["problems"] == [f"{bad}:{line}: {message}" for line, message in BAD_PROBLEMS]


def test_check_malformed_yaml_and_missing_file(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("services: [\n  - name: a\n")
    missing = tmp_path / "missing.yaml"
    proc = otelrr("patterns", "check", str(broken), str(missing))
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert re.match(rf"^{re.escape(str(broken))}:\d+: not valid YAML: ", lines[0]), lines
    assert lines[1].startswith(f"{missing}: "), lines
    assert lines[-1] == "otelrr: 2 of 2 pattern file(s) have problems; the format is in docs/PATTERNS.md"


def test_check_shipped_files_from_the_repository():
    proc = otelrr("patterns", "check", *[str(REPO / "patterns" / f"{n}.yaml") for n in PATTERNS])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(": ok\n") == len(PATTERNS)


def test_help_has_examples():
    proc = otelrr("patterns", "--help")
    assert proc.returncode == 0
    assert "otelrr patterns check my-scenario.yaml" in proc.stdout
    proc = otelrr("patterns", "check")
    assert proc.returncode == 2
    assert proc.stderr.startswith("otelrr: ")
