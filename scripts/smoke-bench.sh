#!/usr/bin/env bash
# Runs the smoke tier the way the smoke gate measures it, and keeps what `tare compare` reads.
#
#   bash scripts/smoke-bench.sh TARE OUT [BENCH ARGS...]
#
# BENCH ARGS default to `--preset smoke --tier smoke`. Both the committed baseline
# (scripts/update-baseline.sh) and the gate (scripts/test.sh) use this, so both sides are
# measured alike:
# - at SCHED_FIFO priority 1 (`chrt -f 1`; the kernel's RT throttling still leaves 5% of
#   each CPU to everything else), so other work on the 2 cores does not preempt the samples:
#   with three busy loops beside it the medians did not move, with `nice -n -19` they did;
# - with TMPDIR (the workload's files) and the results directory (the archives) on tmpfs,
#   so other work's disk writes and journal commits do not stall the workload.
# - after one discarded run of the same bench: the first run after a build or a boot is slower
#   (cold page cache, cold ring-buffer and BPF allocations), 10-20% on capture arms here.
# OUT receives experiment.toml, host.json, samples.jsonl and summary.json.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 TARE OUT [BENCH ARGS...]" >&2
  exit 2
fi
tare=$1
out=$2
shift 2
[ $# -gt 0 ] || set -- --preset smoke --tier smoke
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base="${TMPDIR:-/tmp}"
work=$(mktemp -d -p "$base" tare-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp"
fifo=(chrt -f 1)
if ! chrt -f 1 true 2>/dev/null; then
  echo "smoke-bench: cannot use SCHED_FIFO here (not root?); measuring at normal priority" >&2
  fifo=()
fi
TMPDIR="$work/tmp" "${fifo[@]}" "$tare" bench "$@" --quiet --out "$work/warm" >/dev/null
rm -rf "$work/warm"
TMPDIR="$work/tmp" "${fifo[@]}" "$tare" bench "$@" --quiet --out "$work/smoke" >/dev/null
mkdir -p "$out"
for f in experiment.toml host.json samples.jsonl summary.json; do
  cp "$work/smoke/$f" "$out/$f"
done
