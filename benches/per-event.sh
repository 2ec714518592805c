#!/usr/bin/env bash
# Per-event cost on a syscall-bound workload (issue 12): N one-byte writes to /dev/null
# (`dd bs=1`), bare vs `tare capture` vs bpftrace (write enter/exit, printf) vs `strace -f -e
# write`, in interleaved rounds timed from outside. tare's whole-process cost per event splits
# into the part inside the workload's own run (its child_runtime over bare) and the rest
# (userspace after the child, the archive).
# Usage (as root): bash benches/per-event.sh [OUT_DIR]   -> OUT_DIR/per-event.md
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. benches/common.sh
bench_out target/bench-per-event "${1:-}"
need_tools strace bpftrace
need_tracefs
build_tare
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=${EVENTS:-200000}
runs=${RUNS:-10}
wl=(/bin/dd if=/dev/zero of=/dev/null bs=1 count="$n" status=none)
cat > "$work/peer.bt" <<'BT'
tracepoint:syscalls:sys_enter_write /pid == cpid/ { printf("write %d %d %d\n", tid, args->fd, args->count); }
tracepoint:syscalls:sys_exit_write /pid == cpid/ { printf("write-ret %d %d\n", tid, args->ret); }
BT
names=(bare tare bpftrace strace)
run_one() { # $1 name, $2 round
  case "$1" in
    bare) "${wl[@]}" ;;
    tare) "$tare" capture --out "$work/pe-$2.tar.gz" -- "${wl[@]}" 2> "$work/pe-$2.txt" ;;
    bpftrace) bpftrace -q -o "$work/bt.out" "$work/peer.bt" -c "${wl[*]}" ;;
    strace) strace -f -qq -o "$work/strace.out" -e trace=write "${wl[@]}" ;;
  esac >/dev/null
}
for x in "${names[@]}"; do run_one "$x" warm; done
: > "$out/per-event.tsv"
for r in $(seq 1 "$runs"); do
  for k in 0 1 2 3; do
    x=${names[$(( (k + r) % 4 ))]}
    t0=$(date +%s%N); run_one "$x" "$r"; t1=$(date +%s%N)
    printf '%s\t%s\n' "$x" $((t1 - t0)) >> "$out/per-event.tsv"
  done
done
cat "$work"/pe-[0-9]*.txt > "$out/tare-lines.txt"
python3 - "$out" "$n" <<'PY' | tee "$out/per-event.md"
import sys, statistics, re
out, n = sys.argv[1], int(sys.argv[2])
t = {}
for line in open(f"{out}/per-event.tsv"):
    x, ns = line.split()
    t.setdefault(x, []).append(int(ns))
med = {x: statistics.median(v) for x, v in t.items()}
lines = open(f"{out}/tare-lines.txt").read().splitlines()
child = statistics.median(float(re.search(r"child ([0-9.]+) ms", l).group(1)) for l in lines if "child " in l)
archive = statistics.median(float(re.search(r"archive ([0-9.]+) ms", l).group(1)) for l in lines if "archive " in l)
events = statistics.median(int(re.search(r"tare: (\d+) events", l).group(1)) for l in lines if "events" in l)
drops = max(int(re.search(r"(\d+) dropped", l).group(1)) for l in lines if "dropped" in l)
b = med["bare"]
print(f"| {n} one-byte writes (`dd bs=1`), medians of {len(t['bare'])} interleaved rounds | time | per event over bare |")
print("|---|---:|---:|")
for x in ("bare", "tare", "bpftrace", "strace"):
    extra = "" if x == "bare" else f"{(med[x]-b)/n:+.0f} ns"
    print(f"| {x} | {med[x]/1e6:.0f} ms | {extra} |")
print(f"| tare, inside the workload's run (child_runtime {child:.0f} ms over bare) | | {(child*1e6-b)/n:+.0f} ns |")
print(f"| tare, after it (userspace, archive_write {archive:.0f} ms, setup) | | {(med['tare']-child*1e6)/n:+.0f} ns |")
print(f"\n{events} events a capture, {drops} dropped at most.")
PY
