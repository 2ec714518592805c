#!/usr/bin/env bash
# The smoke regression gate: a fresh smoke-tier run of TARE against the committed baselines/smoke/.
#
#   bash scripts/smoke-gate.sh TARE [BENCH ARGS...]      (as root; BENCH ARGS as smoke-bench.sh)
#   bash scripts/smoke-gate.sh --thresholds              (prints the compare flags it uses)
#
# Exit 0 when nothing regressed, 1 on a confirmed regression, 2 on bad input. Thresholds, chosen
# from same-commit runs on a 2-core VM (docs/development.md, "The smoke gate"; benches/smoke-gate.sh):
# - 10% of the base median by default, and so for wall_ratio (each arm's wall-clock over the
#   bare sample of its block): the worst same-commit lower CI bound seen was +1.3%, and the
#   capture arms planted 20% slower are caught with lower bounds of +11% and more (n = 60);
# - 50% for wall_ms, phases.*, cpu_ms and tare_cpu_ms (absolute times): the machine itself drifts, so absolute times moved by up to
#   +25% (lower CI bound, bare arm) between same-commit runs minutes apart; they catch only
#   gross slowdowns, the ratio catches what observing costs.
# A regression must show in two fresh runs in a row (the second only runs when the first
# regressed), so one unlucky run cannot turn CI red while a real slowdown still does.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
thresholds=(--threshold 10 --metric-threshold wall_ms=50 --metric-threshold phases=50
  --metric-threshold cpu_ms=50 --metric-threshold tare_cpu_ms=50)
if [ "${1:-}" = --thresholds ]; then
  echo "${thresholds[@]}"
  exit 0
fi
if [ $# -lt 1 ]; then
  echo "usage: $0 TARE [BENCH ARGS...]" >&2
  exit 2
fi
tare=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for attempt in 1 2; do
  bash scripts/smoke-bench.sh "$tare" "$work/cand$attempt" "$@"
  rc=0
  "$tare" compare baselines/smoke "$work/cand$attempt" "${thresholds[@]}" >"$work/report$attempt" || rc=$?
  if [ "$rc" != 1 ]; then
    cat "$work/report$attempt"
    [ "$attempt" = 2 ] && echo "smoke gate: the first run's regression did not repeat (noise); passed"
    exit "$rc"
  fi
  echo "smoke gate: run $attempt regressed" >&2
done
cat "$work/report1" "$work/report2"
echo "smoke gate: a regression in two runs in a row; failed (baseline: baselines/smoke, see docs/development.md, 'The smoke gate')" >&2
exit 1
