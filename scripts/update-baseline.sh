#!/usr/bin/env bash
# Rewrites baselines/smoke/ from a fresh smoke-tier run of this checkout (as root).
#
# The smoke gate at the end of scripts/test.sh compares a fresh smoke run against the
# committed baselines/smoke/ with `tare compare`; CI never rewrites it. Updating it is an
# explicit, reviewed commit, made on an otherwise idle machine of the CI's host class:
#
#   sudo bash scripts/update-baseline.sh
#   git add baselines/smoke && git commit -m "smoke baseline: <why>"
#
# It keeps the four files compare reads (experiment.toml, host.json, samples.jsonl,
# summary.json), not the per-sample archives. The gate's thresholds are in scripts/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
if [ "$(id -u)" != 0 ]; then
  echo "update-baseline: must run as root (the smoke tier captures with eBPF); try: sudo $0" >&2
  exit 1
fi
cargo build --release -p tare --locked
tare="${CARGO_TARGET_DIR:-target}/release/tare"
# Measured as the gate measures (SCHED_FIFO, tmpfs): see scripts/smoke-bench.sh.
bash scripts/smoke-bench.sh "$tare" baselines/smoke
# The new baseline must read back and compare cleanly with itself.
"$tare" compare baselines/smoke baselines/smoke >/dev/null
echo "baselines/smoke/ rewritten ($(grep -o '"host_class": "[^"]*"' baselines/smoke/host.json)); review and commit it"
