#!/usr/bin/env bash
# Measures the smoke gate (scripts/smoke-gate.sh) on this machine, as root:
#   1. RUNS fresh smoke runs of this commit, each compared with baselines/smoke/ at the gate's
#      thresholds: how many pass on their own (the gate also confirms a failure with a 2nd run);
#   2. capture planted 20% slower: in one smoke cell at a time, the capture arms' workload
#      sleeps (`tare workload --delay-ms`) 20% of the arm's baseline median; the gate must fail.
#
#   sudo bash benches/smoke-gate.sh [RUNS]        (default 20; about 12 s per run)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
runs=${1:-20}
cargo build --release -p tare --locked
tare="$(pwd)/${CARGO_TARGET_DIR:-target}/release/tare"
read -r -a thresholds <<<"$(bash scripts/smoke-gate.sh --thresholds)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The worst (highest) lower 95% CI bound of metric $2's shift, % of the base median.
worst() {
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
lows = [(100 * m["ci_low"] / m["base_median"], c["id"] + "/" + a["arm"])
        for c in r["cells"] for a in c["arms"] for m in a["metrics"]
        if m["metric"] == sys.argv[2] and m.get("ci_low") is not None]
lo, where = max(lows)
print(f"{lo:+.1f}% ({where})")' "$1" "$2"
}

echo "== 1. $runs same-commit smoke runs against baselines/smoke (${thresholds[*]})"
pass=0
for i in $(seq 1 "$runs"); do
  rm -rf "$work/cand"
  bash scripts/smoke-bench.sh "$tare" "$work/cand"
  rc=0
  "$tare" compare baselines/smoke "$work/cand" "${thresholds[@]}" --json >"$work/r.json" || rc=$?
  [ "$rc" = 0 ] && pass=$((pass + 1))
  printf 'run %2d: exit %s; worst lower CI bound: wall_ms %s, wall_ratio %s, cpu_ms %s, cpu_ratio %s, tare_cpu_ms %s\n' "$i" "$rc" \
    "$(worst "$work/r.json" wall_ms)" "$(worst "$work/r.json" wall_ratio)" \
    "$(worst "$work/r.json" cpu_ms)" "$(worst "$work/r.json" cpu_ratio)" "$(worst "$work/r.json" tare_cpu_ms)"
done
echo "same commit: $pass of $runs single runs passed"

echo "== 2. capture arms planted 20% slower, one smoke cell at a time"
# The smoke preset cut to one cell, the capture arms' (a, c) command `tare workload ...
# --delay-ms D` with D = 20% of that cell and arm's baseline median wall-clock; bare and b
# unchanged. Plain words, so no shell runs.
plant_toml() { # $1 cell id, $2 python dict literal {arm: delay_ms}
  python3 - "$tare" "$1" "$2" >"$work/plant.toml" <<'PY'
import ast, sys
tare, cell, delays = sys.argv[1], sys.argv[2], ast.literal_eval(sys.argv[3])
head, *cells = open("capture/presets/smoke.toml").read().split("[[cells]]")
print(head + "".join("[[cells]]" + c for c in cells if f'id = "{cell}"' in c))
print("[commands]")
for arm, d in delays.items():
    otel = " --span-events {span_events} --trace-out {trace_out}" if arm in "bc" else ""
    print(f'{arm} = "{tare} workload --kernel-events {{kernel_events}} --concurrency {{concurrency}} '
          f'--payload-bytes {{payload_bytes}}{otel} --delay-ms {d:.4f}"')
PY
}
# {arm: 20% of the base median wall_ms} for one cell of a compare report, capture arms only:
# observing got 20% slower, the workload (bare, b) did not.
delays_for() { # $1 report, $2 cell id
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print({a["arm"]: round(0.2 * m["base_median"], 4) for c in r["cells"] if c["id"] == sys.argv[2]
       for a in c["arms"] if a["arm"] in ("a", "c")
       for m in a["metrics"] if m["metric"] == "wall_ms"})' "$1" "$2"
}
caught=0
cells=$(grep -o '^id = "[^"]*"' capture/presets/smoke.toml | cut -d'"' -f2)
for cell in $cells; do
  delays=$(delays_for "$work/r.json" "$cell")
  plant_toml "$cell" "$delays"
  rc=0
  bash scripts/smoke-gate.sh "$tare" --tier smoke "$work/plant.toml" >"$work/gate.txt" 2>&1 || rc=$?
  echo "cell $cell, planted delays (ms) $delays: gate exit $rc (1 = caught)"
  grep -E "^(regression: .*wall_|ok|REGRESSION)" "$work/gate.txt" | tail -5 || true
  [ "$rc" = 1 ] && caught=$((caught + 1))
done
echo "planted 20% slowdowns caught: $caught of $(echo "$cells" | wc -w) cells"
