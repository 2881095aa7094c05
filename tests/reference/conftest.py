"""Shared fixtures of the reference tests: our codec, reached through tests/tools/otlp_tool.

ctest sets OTELRR_TOOL to the otelrr_otlp_tool binary. Run by hand:

    OTELRR_TOOL=build/tests/otelrr_otlp_tool .venv/bin/python -m pytest -q tests/reference
"""

import json
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def tool_path() -> str:
    path = os.environ.get("OTELRR_TOOL")
    if not path:
        default = REPO / "build" / "tests" / "otelrr_otlp_tool"
        if default.exists():
            return str(default)
        pytest.fail("OTELRR_TOOL is not set: point it at the otelrr_otlp_tool binary (ctest sets it)")
    if not os.access(path, os.X_OK):
        pytest.fail(f"OTELRR_TOOL={path} is not an executable: build the otelrr_otlp_tool target")
    return path


class CodecError(Exception):
    """Our codec refused the input; the message is the codec's own."""


class OtlpTool:
    """One `otlp_tool serve` process: thousands of codec calls without a process each."""

    def __init__(self, path: str):
        self.path = path
        self.proc = subprocess.Popen([path, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)

    def call(self, command: str, signal: str, data: bytes) -> bytes:
        self.proc.stdin.write(f"{command} {signal} {len(data)}\n".encode() + data)
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().decode()
        if not header:
            raise RuntimeError(f"otlp_tool serve died (exit {self.proc.poll()}) on {command} {signal}")
        status, size = header.split()
        body = self.proc.stdout.read(int(size))
        if status == "dropped":
            return None
        if status != "ok":
            raise CodecError(body.decode(errors="replace"))
        return body

    def summarize(self, signal: str, proto: bytes) -> dict:
        return json.loads(self.call("summarize", signal, proto))

    def locate(self, signal: str, proto: bytes) -> dict:
        return json.loads(self.call("locate", signal, proto))

    def proto2json(self, signal: str, proto: bytes) -> str:
        return self.call("proto2json", signal, proto).decode()

    def json2proto(self, signal: str, text: str | bytes) -> bytes:
        return self.call("json2proto", signal, text.encode() if isinstance(text, str) else text)

    def rewrite(self, signal: str, proto: bytes, shift: int = 0, id_key: int = 0,
                services: list[str] | None = None) -> bytes | None:
        """Replay's rewrites (otlp/rewrite.h): keep `services`, shift timestamps, remap ids with `id_key`.
        None when the service filter left nothing (replay drops the request)."""
        if services is None:
            listed = "*"
        elif not services:
            listed = "-"
        else:
            listed = ",".join(name.encode().hex() for name in services)
        return self.call(f"rewrite:{shift}:{id_key}:{listed}", signal, proto)

    def schema(self) -> dict:
        out = subprocess.run([self.path, "schema"], check=True, capture_output=True)
        return json.loads(out.stdout)


@pytest.fixture(scope="session")
def tool():
    t = OtlpTool(tool_path())
    yield t
    t.close()
