#!/usr/bin/env python3
"""bench/profiles.sh's results as the Markdown table of bench/profiles.md."""

import datetime
import json
import os
import sys

SETTINGS = {
    "shipped": "opt-level 3, lto fat, codegen-units 1, panic unwind (Cargo.toml)",
    "abort": "panic abort (the release profile before the start-up work)",
    "opt-s": "opt-level \"s\"",
    "opt-z": "opt-level \"z\"",
    "thin-lto": "lto thin, codegen-units 16",
    "ring": "TLS crypto: rustls on ring instead of aws-lc (a feature change, not a profile one)",
}


def main():
    # argv: VARIANTS_DIR [BASE [NOTE]]: sizes are relative to BASE (default
    # the shipped build); NOTE, when given, is printed under the header.
    v = sys.argv[1]
    base_name = sys.argv[2] if len(sys.argv) > 2 else "shipped"
    note = sys.argv[3] if len(sys.argv) > 3 else ""
    with open(os.path.join(v, "results.json")) as f:
        res = json.load(f)["programs"]
    times = {}
    if os.path.exists(os.path.join(v, "build-times")):
        with open(os.path.join(v, "build-times")) as f:
            for line in f:
                name, secs = line.split()
                times[name] = int(secs)
    base = res[base_name]
    base_size = os.path.getsize(os.path.join(v, "bin", base_name))

    def med(xs):
        xs = sorted(xs or [])
        return xs[len(xs) // 2] if xs else None

    rows = []
    for name, r in res.items():
        if name == "floor":
            continue
        size = os.path.getsize(os.path.join(v, "bin", name))
        cg = r.get("callgrind", {})
        rows.append(
            f"| {name} | {SETTINGS.get(name, name)} | {size / 1e6:.2f} MB ({size / base_size - 1:+.0%}) "
            f"| {r['init']['median_ms']:.2f} ms | {r['cold_start']['median_ms']:.1f} ms "
            f"| {r['warm_lat']['median_ms']:.2f} / {r['warm_lat']['p99_ms']:.2f} ms "
            f"| {r['warm']['hwm100_kib'] / 1024:.1f} MiB "
            f"| {med(cg.get('init_ir')) / 1e6:.2f} M | {med(cg.get('cold_ir')) / 1e6:.2f} M "
            f"| {med(cg.get('warm_ir_per_request')) / 1e3:.0f} k "
            f"| {times.get(name, '—') if name != 'shipped' else '—'} |")
    floor = res.get("floor", {})
    floor_ir = med(floor.get("callgrind", {}).get("init_ir"))
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"""Written by `bash bench/profiles.sh` on {now}: each variant is the shipped profile with one
change, built in its own target dir and measured in the same interleaved run as the shipped binary
(same driver, moto and events as the headline; {base['init']['n']} cold starts each, warm over
{base['warm_lat']['n']} requests, one callgrind run per count). Time columns are medians on a shared
two-core machine: differences under ~10% are noise there; sizes and instruction counts are exact.
"warm instructions" is (instructions to the 11th response − to the 1st) / 10. The floor's start-up
in this run: {floor_ir / 1e6 if floor_ir else 0:.2f} M instructions, {floor.get('init', {}).get('median_ms', 0):.2f} ms.
Sizes are relative to the `{base_name}` row.{chr(10) + chr(10) + note if note else ""}

| variant | profile | stripped size | init | cold start | warm p50 / p99 | peak RSS | instructions to init | to 1st response | warm instructions / request | build (s) |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
""" + "\n".join(rows))


if __name__ == "__main__":
    main()
