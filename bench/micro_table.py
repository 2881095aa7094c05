#!/usr/bin/env python3
"""Prints the markdown table of bench/run-micro: the medians of the Google Benchmark JSON outputs in
RESULTS_DIR (*_benchmark.json) beside the Python peer's figures (peer.json) measured in the same run,
with the ratio ours / peer. Standard library only.

    python3 bench/micro_table.py build-bench/bench-results
"""
import json
import pathlib
import sys

# Our benchmark family -> the peer's measurement of the same work on the same input bytes.
PEER_OF = {"Summarize": "parse_count", "ProtoToJson": "to_json", "JsonToProto": "from_json",
           "ShiftTimestamps": "shift"}
PEER_WORK = {"parse_count": "ParseFromString + count", "to_json": "ParseFromString + MessageToJson",
             "from_json": "json_format.Parse + SerializeToString", "shift": "Parse + shift + Serialize"}


def medians(path):
    data = json.loads(path.read_text())
    rows = []
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b.get("run_name", b["name"])
        rows.append((name, b))
    return data.get("context", {}), rows


def fmt_rate(v, scale, digits=1):
    return f"{v / scale:,.{digits}f}" if v else "-"


def main():
    results = pathlib.Path(sys.argv[1])
    peer = json.loads((results / "peer.json").read_text()) if (results / "peer.json").exists() else None
    print(f"Google Benchmark medians of {{repetitions}} repetitions (CPU time); MB = 10^6 bytes of input. "
          .replace("{repetitions}", str(peer["repetitions"] if peer else "several")), end="")
    if peer:
        print(f"Peer: Python {peer['python']}, protobuf {peer['protobuf_version']}, backend "
              f"`{peer['backend']}`, same input bytes, median of {peer['repetitions']} (CPU time).")
    else:
        print()
    print()
    print("| benchmark | CPU time / pass | MB/s | M items/s | peer (Python protobuf) | peer MB/s | ours / peer |")
    print("|---|---|---|---|---|---|---|")
    order = ["otelrr_wire_benchmark", "otelrr_rewrite_benchmark", "otelrr_json_benchmark", "otelrr_writer_benchmark",
             "otelrr_reader_benchmark"]
    paths = sorted(results.glob("*_benchmark.json"), key=lambda p: (order.index(p.stem) if p.stem in order else 99, p))
    for path in paths:
        _, rows = medians(path)
        for name, b in rows:
            family, _, signal = name.partition("/")
            unit = b.get("time_unit", "ns")
            cpu = f"{b['cpu_time']:,.2f} {unit}" if b["cpu_time"] < 100 else f"{b['cpu_time']:,.0f} {unit}"
            ours = b.get("bytes_per_second", 0)
            items = b.get("items_per_second", 0)
            peer_cells = "| | "
            ratio = ""
            if peer and family in PEER_OF:
                key = f"{PEER_OF[family]}/{signal.split('/')[0]}"
                p = peer["benchmarks"].get(key)
                if p:
                    peer_cells = f"| {PEER_WORK[PEER_OF[family]]} | {p['bytes_per_second'] / 1e6:,.1f} "
                    ratio = f"{ours / p['bytes_per_second']:.1f}×"
            print(f"| {name} | {cpu} | {fmt_rate(ours, 1e6)} | {fmt_rate(items, 1e6, 2)} {peer_cells}| {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
