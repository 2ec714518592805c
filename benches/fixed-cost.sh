#!/usr/bin/env bash
# Fixed cost (issue 12): `tare capture -- true` against `true`, 60 runs each interleaved by
# hyperfine's own order, timed from outside; median, p95, p99 and p99/median. The peer:
# bpftrace with one per-syscall tracepoint running `true` (-c), fewer runs (it takes ~1 s).
# Usage (as root): bash benches/fixed-cost.sh [OUT_DIR]   -> OUT_DIR/fixed-cost.md
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. benches/common.sh
bench_out target/bench-fixed-cost "${1:-}"
need_tools hyperfine bpftrace
need_tracefs
build_tare
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
runs=${RUNS:-60}
hyperfine -N --warmup 5 --runs "$runs" --export-json "$out/fixed.json" \
  -n 'true' 'true' \
  -n 'tare capture -- true' "$tare capture --quiet --out $work/f.tar.gz -- true" >&2
hyperfine -N --warmup 1 --runs "${PEER_RUNS:-10}" --export-json "$out/peer.json" \
  -n 'bpftrace -c /bin/true' "bpftrace -q -e 'tracepoint:syscalls:sys_enter_write /pid == cpid/ { @n = count(); }' -c /bin/true" >&2
python3 - "$out" <<'PY' | tee "$out/fixed-cost.md"
import json, sys, statistics
out = sys.argv[1]
rows = json.load(open(f"{out}/fixed.json"))["results"] + json.load(open(f"{out}/peer.json"))["results"]
def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p * (len(v) - 1))))]
base = statistics.median(rows[0]["times"])
print(f"| command (hyperfine -N) | runs | median | p95 | p99 | p99/median | over `true` |")
print("|---|---:|---:|---:|---:|---:|---:|")
for r in rows:
    t = r["times"]
    m = statistics.median(t)
    print(f"| {r['command']} | {len(t)} | {m*1e3:.2f} ms | {q(t,.95)*1e3:.2f} ms | {q(t,.99)*1e3:.2f} ms | {q(t,.99)/m:.2f} | {(m-base)*1e3:+.2f} ms |")
PY
