#!/usr/bin/env python3
"""bench/bench_table.py: Google Benchmark JSON from bench_roofline / bench_gemm /
bench_models -> the markdown tables of docs/BENCHMARKS.md.

    bench_table.py [--csv OUT.csv] [--fail-on-error] [--cpu-time] FILE.json... > tables.md

--csv writes every row (name, median real time, counters) as CSV too;
--fail-on-error exits 1 if any row reports an error (a failed correctness
check or a peer that could not run): the CI smoke test uses it. --cpu-time
turns the rates of single-thread rows into rates per CPU second (robust to a
busy shared machine: all their work is on the timed thread).

Each file is recognised by its row names (roofline/..., gemm/..., gemm_cold/...,
model/...). With --benchmark_repetitions the median aggregate is used; runs
without aggregates are used as they are. GEMM rows: one per (shape, threads,
jepa-rt kernel) with that kernel's GOP/s and % of peak beside the peers of the
same arithmetic (f32 kernels vs XNNPACK f32 / Eigen / oneDNN f32; int8 kernels
vs XNNPACK qs8 / oneDNN u8s8; Eigen has no int8 GEMM). Cold rows show weight
GB/s and % of the measured streaming-read bandwidth instead. Standard library
only.
"""
import json
import re
import sys
from collections import OrderedDict

GEMM_RE = re.compile(r"^(gemm|gemm_cold)/([^/]+)/M:(\d+)/K:(\d+)/N:(\d+)/threads:(\d+)")
ROOF_RE = re.compile(r"^roofline/([^/]+)/.*threads:(\d+)")
MODEL_RE = re.compile(r"^model/([^/]+)/([^/]+)/threads:(\d+)")

INT8_PEERS = {"xnnpack": "xnnpack_qs8", "eigen": None, "onednn": "onednn_u8s8"}
F32_PEERS = {"xnnpack": "xnnpack_f32", "eigen": "eigen_f32", "onednn": "onednn_f32"}
PEER_NAMES = set(v for v in list(INT8_PEERS.values()) + list(F32_PEERS.values()) if v)


def is_int8(impl):
    return any(t in impl for t in ("q8", "q4", "i8", "s8", "qs8", "u8s8", "vnni"))


CPU_TIME = False


def load_rows(path):
    """name -> benchmark dict (median aggregate preferred)."""
    with open(path) as f:
        data = json.load(f)
    rows = OrderedDict()
    for b in data.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") != "median":
                continue
            rows[name] = b
        elif name not in rows or rows[name].get("error_occurred"):
            rows.setdefault(name, b)
    if CPU_TIME:
        for name, b in rows.items():
            if "threads:1" in name and b.get("cpu_time") and not b.get("error_occurred"):
                f = b["real_time"] / b["cpu_time"]
                for k in ("OPS", "pct_peak", "WBYTES", "pct_bw", "FLOPS", "bytes_per_second"):
                    if k in b:
                        b[k] *= f
    return data.get("context", {}), rows


def write_csv(path, all_rows):
    import csv
    keys = ["OPS", "pct_peak", "peak_GOPS", "WBYTES", "pct_bw", "bw_GBs", "FLOPS", "median_ms", "p99_ms",
            "max_ms", "arena_bytes", "bytes_per_second"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "name", "real_time", "cpu_time", "time_unit", "error"] + keys)
        for src, rows in all_rows:
            for name, b in rows.items():
                w.writerow([src, name, b.get("real_time"), b.get("cpu_time"), b.get("time_unit"),
                            b.get("error_message", "") if b.get("error_occurred") else ""]
                           + [b.get(k, "") for k in keys])


def fmt(v, digits=None):
    """Three significant figures or so: 1234, 123, 12.3, 1.23, 0.123."""
    if v is None:
        return "—"
    if digits is not None:
        return f"{v:.{digits}f}"
    a = abs(v)
    return f"{v:.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2f}" if a >= 0.1 else f"{v:.3f}"


def roofline_table(rows):
    out = ["| ceiling | 1 thread | 2 threads | unit |", "| --- | ---: | ---: | --- |"]
    table = OrderedDict()
    for name, b in rows.items():
        m = ROOF_RE.match(name)
        if not m or b.get("error_occurred"):
            continue
        what, threads = m.group(1), int(m.group(2))
        if "OPS" in b:
            val, unit = b["OPS"] * 1e-9, "GOP/s (2 per multiply-add)"
        else:
            val, unit = b.get("bytes_per_second", 0.0) * 1e-9, "GB/s (10^9 B)"
        table.setdefault(what, {"unit": unit})[threads] = val
    for what, d in table.items():
        out.append(f"| {what} | {fmt(d.get(1))} | {fmt(d.get(2))} | {d['unit']} |")
    return "\n".join(out)


def gemm_tables(rows):
    warm, cold = {}, {}
    for name, b in rows.items():
        m = GEMM_RE.match(name)
        if not m:
            continue
        kind, impl = m.group(1), m.group(2)
        key = (int(m.group(3)), int(m.group(4)), int(m.group(5)), int(m.group(6)))
        (cold if kind == "gemm_cold" else warm).setdefault(key, {})[impl] = b

    def cell(b, counter, scale=1.0):
        if b is None:
            return "—"
        if b.get("error_occurred"):
            return "err"
        v = b.get(counter)
        return fmt(v * scale) if v is not None else "—"

    def table(groups, rate, pct, title_rate, title_pct):
        hdr = (f"| M | K | N | thr | kernel | {title_rate} | {title_pct} | XNNPACK | Eigen | oneDNN |\n"
               "| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
        lines = [hdr]
        for key in sorted(groups, key=lambda k: (k[1], k[2], k[0], k[3])):
            impls = groups[key]
            ours = [i for i in impls if i not in PEER_NAMES] or ["(none)"]
            for impl in ours:
                b = impls.get(impl)
                peers = INT8_PEERS if is_int8(impl) else F32_PEERS
                cols = [cell(impls.get(p), rate, 1e-9) if p else "n/a" for p in peers.values()]
                m, k, n, t = key
                lines.append(f"| {m} | {k} | {n} | {t} | {impl} | {cell(b, rate, 1e-9)} | {cell(b, pct)} | "
                             + " | ".join(cols) + " |")
        return "\n".join(lines)

    parts = []
    if warm:
        parts.append("GOP/s (weights in cache); peers of the same arithmetic in the last three columns.\n\n"
                     + table(warm, "OPS", "pct_peak", "GOP/s", "% of peak"))
    if cold:
        parts.append("Weight streaming (weights rotated through > 2x LLC): GB/s of weight bytes.\n\n"
                     + table(cold, "WBYTES", "pct_bw", "GB/s", "% of read BW"))
    return "\n\n".join(parts)


def model_table(rows):
    out = ["| model | variant | threads | median ms | p99 ms | max ms | GFLOP/s | arena MiB |",
           "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, b in rows.items():
        m = MODEL_RE.match(name)
        if not m:
            continue
        if b.get("error_occurred"):
            out.append(f"| {m.group(1)} | {m.group(2)} | {m.group(3)} | err: {b.get('error_message', '')} | | | | |")
            continue
        ms = b.get("real_time", 0.0)
        unit = b.get("time_unit", "ns")
        ms *= {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
        out.append(f"| {m.group(1)} | {m.group(2)} | {m.group(3)} | {fmt(ms, 2)} | {fmt(b.get('p99_ms'), 2)} | "
                   f"{fmt(b.get('max_ms'), 2)} | {fmt(b.get('FLOPS', 0) * 1e-9)} | "
                   f"{fmt(b.get('arena_bytes', 0) / 2**20, 2)} |")
    return "\n".join(out)


def main(argv):
    global CPU_TIME
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    args, csv_path, fail_on_error = argv[1:], None, False
    files = []
    i = 0
    while i < len(args):
        if args[i] == "--csv":
            csv_path = args[i + 1]
            i += 2
            continue
        if args[i] == "--fail-on-error":
            fail_on_error = True
        elif args[i] == "--cpu-time":
            CPU_TIME = True
        else:
            files.append(args[i])
        i += 1
    all_rows, errors = [], []
    for path in files:
        ctx, rows = load_rows(path)
        all_rows.append((path, rows))
        errors += [f"{n}: {b.get('error_message', '')}" for n, b in rows.items() if b.get("error_occurred")]
        names = list(rows)
        print(f"<!-- {path}: host {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs, "
              f"ISA {ctx.get('jepa_isa', '?')}, {ctx.get('date', '?')} -->\n")
        if any(n.startswith("roofline/") for n in names):
            print(roofline_table(rows) + "\n")
            if ctx.get("jepa_skipped"):
                print(f"Not on this CPU: {ctx['jepa_skipped']}\n")
        if any(n.startswith("gemm") for n in names):
            print(gemm_tables(rows) + "\n")
        if any(n.startswith("model/") for n in names):
            print(model_table(rows) + "\n")
    if csv_path:
        write_csv(csv_path, all_rows)
    if errors:
        print("Rows with errors:\n\n" + "\n".join("- " + e for e in errors) + "\n")
        if fail_on_error:
            print(f"bench_table: {len(errors)} row(s) failed", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
