#!/usr/bin/env bash
# Collateral cost (DESIGN section 9, issue 12): how much a syscall-bound loop *outside* the
# session slows while a tracer runs, beside its peers, in interleaved rounds:
#   none       nothing traces
#   tare       `tare capture -- sleep` runs (the loop is not in its session), with the
#              hooks `auto` picks on this kernel (health.json says which)
#   tare-raw   the same with `--syscall-hooks raw-tracepoint`
#   bpftrace   a per-syscall tracepoint on write, filtered to another pid (as a peer would be)
# The loop: `dd bs=1` of LOOP bytes from /dev/zero to /dev/null (LOOP reads + LOOP writes).
# Usage (as root): bash benches/collateral.sh [OUT_DIR]   -> OUT_DIR/collateral.md
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. benches/common.sh
bench_out target/bench-collateral "${1:-}"
need_tools bpftrace
need_tracefs
build_tare
work=$(mktemp -d)
tracer=
cleanup() { [ -n "$tracer" ] && kill "$tracer" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
loop=${LOOP:-2000000}
runs=${RUNS:-10}

start_tracer() { # $1 name; sets $tracer and waits until it is attached
  case "$1" in
    none) tracer= ;;
    tare|tare-raw)
      hooks=auto; [ "$1" = tare-raw ] && hooks=raw-tracepoint
      "$tare" capture --quiet --syscall-hooks "$hooks" --out "$work/c.tar.gz" -- sleep 600 & tracer=$!
      # attached once the workload (sleep) runs inside the session
      for _ in $(seq 200); do pgrep -P "$tracer" sleep >/dev/null && break; sleep 0.02; done ;;
    bpftrace)
      bpftrace -e 'tracepoint:syscalls:sys_enter_write /pid == 1/ { @n = count(); }' >/dev/null 2>&1 & tracer=$!
      sleep 3 ;; # bpftrace compiles and attaches in about a second here
  esac
}
stop_tracer() {
  [ -n "$tracer" ] || return 0
  kill -INT "$tracer" 2>/dev/null || true
  wait "$tracer" 2>/dev/null || true
  tracer=
}
names=(none tare tare-raw bpftrace)
: > "$out/collateral.tsv"
dd if=/dev/zero of=/dev/null bs=1 count="$loop" status=none # warm-up
for r in $(seq 1 "$runs"); do
  for k in 0 1 2 3; do
    n=${names[$(( (k + r) % 4 ))]}
    start_tracer "$n"
    t0=$(date +%s%N)
    dd if=/dev/zero of=/dev/null bs=1 count="$loop" status=none
    t1=$(date +%s%N)
    stop_tracer
    printf '%s\t%s\n' "$n" $((t1 - t0)) >> "$out/collateral.tsv"
  done
done
python3 - "$out" "$loop" <<'PY' | tee "$out/collateral.md"
import sys, statistics
out, loop = sys.argv[1], int(sys.argv[2])
t = {}
for line in open(f"{out}/collateral.tsv"):
    n, ns = line.split()
    t.setdefault(n, []).append(int(ns))
base = statistics.median(t["none"])
print(f"| loop outside the session ({loop} one-byte reads and writes, `dd bs=1`) | median of {len(t['none'])} interleaved rounds | ratio | per syscall |")
print("|---|---:|---:|---:|")
for n in ("none", "tare", "tare-raw", "bpftrace"):
    m = statistics.median(t[n])
    print(f"| {n} | {m/1e6:.0f} ms | x{m/base:.3f} | {(m-base)/(2*loop):+.1f} ns |")
PY
