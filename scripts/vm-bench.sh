#!/bin/sh
# A small bench in a VM guest (busybox sh is enough): the smoke preset, 2 blocks, no warm-up
# (16 samples), then its bundle verified. Prints
#   bench rc=<N> samples=<N> valid=<N> summary=<yes|no> verify=<ok|FAILED>
T=${TARE:-/bin/tare}
out=${OUT:-/tmp}
"$T" bench --preset smoke --n 2 --warmups 0 --quiet --out "$out/bench" > "$out/bench.txt" 2>&1; rc=$?
"$T" verify "$out/bench.bundle.tar.gz" > /dev/null 2>&1 && v=ok || v=FAILED
s="$out/bench/samples.jsonl"
echo "bench rc=$rc samples=$(grep -c '"warmup":false' "$s" 2>/dev/null) valid=$(grep -c '"valid":true' "$s" 2>/dev/null) summary=$([ -s "$out/bench/summary.json" ] && echo yes || echo no) verify=$v"
