#!/usr/bin/env bash
# Capture-core benchmarks (DESIGN section 9), each side by side with its peer in one run:
#   1. fixed cost: `tare capture -- true` vs `true` (hyperfine, median of 30)
#   2. per-event cost on an open/write-heavy workload: bare vs tare vs strace -f vs bpftrace
#   3. highest event rate with 0 drops over >= 5 s of workload
#   4. tare's own peak RSS at ~100k events
# Usage (as root): bash benches/capture.sh [OUT_DIR]   -> OUT_DIR/capture.md and *.json
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-target/bench-capture}
mkdir -p "$out"
out=$(cd "$out" && pwd)
for p in hyperfine strace bpftrace; do
  command -v "$p" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null
done
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing  # for bpftrace's tracepoints
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -p tare -q
tare=$PWD/target/release/tare
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== 1. fixed cost" >&2
hyperfine -N --warmup 5 --runs 30 --export-json "$out/fixed.json" \
  -n 'true' 'true' \
  -n 'tare capture -- true' "$tare capture --quiet --out $work/fixed.tar.gz -- true" >&2

echo "== 2. per-event cost" >&2
files=${FILES:-2000}
wl="$tare workload --kernel-events $files --concurrency 1 --payload-bytes 128 --dir $work/wl"
cat > "$work/peer.bt" <<'BT'
tracepoint:syscalls:sys_enter_openat /pid == cpid/ { printf("open %d %s\n", tid, str(args->filename)); }
tracepoint:syscalls:sys_exit_openat /pid == cpid/ { printf("open-ret %d %d\n", tid, args->ret); }
tracepoint:syscalls:sys_enter_write /pid == cpid/ { printf("write %d %d %d\n", tid, args->fd, args->count); }
tracepoint:syscalls:sys_exit_write /pid == cpid/ { printf("write-ret %d %d\n", tid, args->ret); }
tracepoint:syscalls:sys_enter_unlinkat /pid == cpid/ { printf("unlink %d %s\n", tid, str(args->pathname)); }
tracepoint:sched:sched_process_exit /pid == cpid/ { printf("exit %d\n", tid); }
BT
# Interleaved rounds (each round runs the four in a rotated order, each in a fresh directory),
# not hyperfine's one-command-after-another: this file-heavy workload's speed drifts with
# the filesystem's state (seen: bare 0.3 s early in a run, 1.6 s later), and a drift must
# not land on one side. Timed by the shell's clock around each command, in ns.
names=(bare tare 'strace -f' bpftrace)
run_one() { # $1 name, $2 directory
  local wl="$tare workload --kernel-events $files --concurrency 1 --payload-bytes 128 --dir $2"
  case "$1" in
    bare) $wl ;;
    tare) $tare capture --quiet --out "$work/pe.tar.gz" -- $wl ;;
    'strace -f') strace -f -qq -o "$work/strace.out" -e trace=execve,clone,clone3,exit_group,openat,write,pwrite64,writev,unlinkat,renameat2,connect $wl ;;
    bpftrace) bpftrace -q -o "$work/bt.out" "$work/peer.bt" -c "$wl" ;;
  esac >/dev/null 2>&1
}
for n in "${names[@]}"; do run_one "$n" "$work/warm"; rm -rf "$work/warm"; done
: > "$out/per_event.tsv"
for r in $(seq 1 "${RUNS:-10}"); do
  for k in 0 1 2 3; do
    n=${names[$(( (k + r) % 4 ))]}
    t0=$(date +%s%N); run_one "$n" "$work/wl-$r-$k"; t1=$(date +%s%N)
    rm -rf "$work/wl-$r-$k"
    printf '%s\t%s\n' "$n" $((t1 - t0)) >> "$out/per_event.tsv"
  done
done
"$tare" capture --out "$work/pe-check.tar.gz" -- $wl 2> "$out/per_event_capture.txt"

echo "== 3. event rate without loss" >&2
# Two processes opening and closing /dev/null as fast as they can for 5 s (one per core).
loop="import os, time
end = time.monotonic() + 5
while time.monotonic() < end:
    for _ in range(1000): os.close(os.open('/dev/null', os.O_RDONLY))"
"$tare" capture --out "$work/rate.tar.gz" -- sh -c "python3 -c \"$loop\" & python3 -c \"$loop\"; wait" 2> "$out/rate_capture.txt"
mkdir -p "$work/rate-x" && tar -xzf "$work/rate.tar.gz" -C "$work/rate-x" run.json health.json phases.json
cp "$work/rate-x/health.json" "$out/rate_health.json"; cp "$work/rate-x/phases.json" "$out/rate_phases.json"

echo "== 4. tare's peak RSS at ~100k events" >&2
"$tare" capture --out "$work/rss.tar.gz" -- $tare workload --kernel-events 33334 --concurrency 2 --payload-bytes 16 --dir "$work/rss" 2> "$out/rss_capture.txt"
mkdir -p "$work/rss-x" && tar -xzf "$work/rss.tar.gz" -C "$work/rss-x" run.json health.json
cp "$work/rss-x/run.json" "$out/rss_run.json"; cp "$work/rss-x/health.json" "$out/rss_health.json"

python3 - "$out" <<'PY' | tee "$out/capture.md"
import json, sys, statistics
out = sys.argv[1]
j = lambda n: json.load(open(f"{out}/{n}"))
med = lambda r: statistics.median(r["times"]) * 1000
fixed = {r["command"]: r for r in j("fixed.json")["results"]}
pe = {}
for line in open(f"{out}/per_event.tsv"):
    name, ns = line.rstrip("\n").split("\t")
    pe.setdefault(name, {"times": []})["times"].append(int(ns) / 1e9)
base, cap = med(fixed["true"]), med(fixed["tare capture -- true"])
print("| bar | measured | result |\n|---|---|---|")
print(f"| fixed cost of `tare capture -- true` over `true` <= 25 ms | {cap - base:.1f} ms (median of 30: {cap:.1f} vs {base:.2f} ms) | {'pass' if cap - base <= 25 else 'miss'} |")
b = med(pe["bare"])
ratios = {k: med(v) / b for k, v in pe.items()}
peers = ", ".join(f"{k} {med(v):.0f} ms (x{ratios[k]:.2f})" for k, v in pe.items())
print(f"| capture/bare wall ratio on an open/write-heavy workload <= 1.15 | x{ratios['tare']:.2f} (medians of {len(pe['bare']['times'])} interleaved rounds: {peers}) | {'pass' if ratios['tare'] <= 1.15 else 'miss'} |")
h = j("rate_health.json"); ph = j("rate_phases.json")
secs = [p["duration_ns"] for p in ph["phases"] if p["name"] == "child_runtime"][0] / 1e9
ev = sum(c["delivered"] for c in h["counters"])
print(f"| 0 drops at >= 200k events/s for 5 s | {ev/secs/1000:.0f}k events/s over {secs:.1f} s, {h['ringbuf_drops']} dropped, kernel layer {h['kernel_layer']} | {'pass' if ev/secs >= 200000 and h['ringbuf_drops'] == 0 and secs >= 5 else 'miss'} |")
r = j("rss_run.json"); rh = j("rss_health.json")
ev = sum(c["delivered"] for c in rh["counters"])
mb = r["tare_peak_rss_bytes"] / 2**20
print(f"| tare's own peak RSS <= 20 MB at 100k events | {mb:.1f} MiB at {ev} events | {'pass' if mb <= 20 else 'miss'} |")
PY
