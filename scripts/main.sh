#!/usr/bin/env bash
# README's first command: installs what is missing, builds tare, runs a smoke bench of the
# built-in workload, prints its summary, and serves the viewer with the bundle preloaded.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TARE_SETUP=main bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked -p tare
tare=target/release/tare
"$tare" doctor
out="results/smoke-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p results
"$tare" bench --preset smoke --out "$out"
echo
sed -n '1,40p' "$out/summary.md"
echo "..."
echo "(full summary: $out/summary.md; bundle: $out.bundle.tar.gz)"
# Serve the viewer in the background on loopback; the URL is the last line printed.
log="$out.view.log"
nohup "$tare" view "$out.bundle.tar.gz" > "$log" 2>&1 &
for _ in $(seq 50); do grep -q '^http://' "$log" 2>/dev/null && break; sleep 0.1; done
echo "viewer (pid $!, stop with: kill $!):"
grep '^http://' "$log"
