#!/usr/bin/env bash
# Self-telemetry cost (DESIGN section 8): `tare capture -- true` with telemetry off, with
# --trace-chrome, and with --otlp-endpoint to a loopback OTLP/HTTP receiver, side by side
# (hyperfine -N, ROUNDS rounds of RUNS runs of each). Off installs no subscriber.
# With BASELINE_BIN=<a tare built without the telemetry code>, also the start-up cost of
# having it compiled in: `--version` of both binaries.
# Usage (as root): bash benches/telemetry.sh [OUT_DIR]   -> OUT_DIR/telemetry.md and telemetry.json
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. benches/common.sh
bench_out target/bench-telemetry "${1:-}"
need_tools hyperfine
build_tare
work=$(mktemp -d)
recv=
trap '[ -n "$recv" ] && kill "$recv" 2>/dev/null; rm -rf "$work"' EXIT

# A loopback OTLP/HTTP receiver: answers 200 to every POST, gives up after 15 minutes.
python3 - "$work/port" <<'PY' &
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.timeout = 1
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
end = time.time() + 900
while time.time() < end:
    s.handle_request()
PY
recv=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(cat "$work/port")

# Rounds of hyperfine, each running all three: slow drift of a shared machine hits all alike.
rounds=${ROUNDS:-4}
runs=${RUNS:-15}
for r in $(seq "$rounds"); do
  echo "== round $r of $rounds" >&2
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$out/telemetry-$r.json" \
    -n off "$tare capture --quiet --out $work/off.tar.gz -- true" \
    -n trace-chrome "$tare --trace-chrome $work/trace.json capture --quiet --out $work/chrome.tar.gz -- true" \
    -n otlp "$tare --otlp-endpoint http://127.0.0.1:$port capture --quiet --out $work/otlp.tar.gz -- true" >&2
done
events=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$work/trace.json")

python3 - "$out" "$rounds" "$runs" "$events" <<'PY' | tee "$out/telemetry.md"
import json, sys, statistics
out, rounds, runs, events = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
times, cpu = {}, {}
for r in range(1, rounds + 1):
    for res in json.load(open(f"{out}/telemetry-{r}.json"))["results"]:
        times.setdefault(res["command"], []).extend(t * 1000 for t in res["times"])
        cpu.setdefault(res["command"], []).append((res["user"] + res["system"]) * 1000)
json.dump({"times_ms": times, "cpu_ms_per_round": cpu}, open(f"{out}/telemetry.json", "w"), indent=1)
base = statistics.median(times["off"])
base_cpu = statistics.mean(cpu["off"])
n = len(times["off"])
print(f"`tare capture -- true`, hyperfine -N, {rounds} rounds x {runs} runs of each (n = {n}):\n")
print("| telemetry | median ms | p25-p75 ms | min ms | median vs off | tare CPU (user+sys) ms | CPU vs off |")
print("|---|---|---|---|---|---|---|")
for name in ["off", "trace-chrome", "otlp"]:
    t = times[name]
    m = statistics.median(t)
    q = statistics.quantiles(t, n=4)
    c = statistics.mean(cpu[name])
    d = "—" if name == "off" else f"{m - base:+.2f} ms ({(m / base - 1) * 100:+.1f}%)"
    dc = "—" if name == "off" else f"{c - base_cpu:+.2f} ms"
    print(f"| {name} | {m:.2f} | {q[0]:.2f}-{q[2]:.2f} | {min(t):.2f} | {d} | {c:.2f} | {dc} |")
print(f"\nThe Chrome trace of one capture holds {events} trace events; the OTLP runs export "
      "to a loopback receiver at exit, inside the measured time. Off installs no subscriber.")
PY

if [ -n "${BASELINE_BIN:-}" ]; then
  hyperfine -N --warmup 20 --runs "${STARTUP_RUNS:-300}" --export-json "$out/startup.json" \
    -n baseline "$BASELINE_BIN --version" -n current "$tare --version" >&2
  python3 - "$out" "$BASELINE_BIN" "$tare" <<'PY' | tee -a "$out/telemetry.md"
import json, os, sys, statistics
out, base_bin, cur_bin = sys.argv[1:4]
r = {x["command"]: [t * 1000 for t in x["times"]] for x in json.load(open(f"{out}/startup.json"))["results"]}
print(f"\nStart-up with the telemetry code compiled in (`tare --version`, n = {len(r['current'])}):\n")
print("| binary | size MiB | median ms | min ms |\n|---|---|---|---|")
for name, path in [("baseline", base_bin), ("current", cur_bin)]:
    print(f"| {name} | {os.path.getsize(path) / 2**20:.1f} | {statistics.median(r[name]):.2f} | {min(r[name]):.2f} |")
PY
fi
