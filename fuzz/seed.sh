#!/usr/bin/env bash
# Builds fuzz/corpus/<target>/ (not committed) from what the repository holds: the bundles,
# archives and summaries of fixtures/, the members inside them, the experiment TOMLs, the
# committed baseline, and OTLP traces written by tare's workload and the Python SDK's twin when
# they can run here. Idempotent: seeds are named by their sha256, so a second run adds nothing,
# and files the fuzzers added to the corpus stay.
#
# Usage: bash fuzz/seed.sh            (TARE=path/to/tare picks the binary that writes traces)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="$root/fuzz/corpus"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Seeds over this size are left out (they slow every mutation); ndjson files give their first lines.
max_seed=65536

# seed TARGET [PREFIX_BYTE] < bytes: stores stdin under the target, named by its hash
# (SEED_NAME=name names it instead: for seeds that differ run to run, such as traces).
seed() {
  local dir="$corpus/$1" f="$tmp/seed"
  mkdir -p "$dir"
  if [ $# -ge 2 ]; then
    { printf "\\$(printf '%03o' "$2")"; cat; } > "$f"
  else
    cat > "$f"
  fi
  [ -s "$f" ] && [ "$(stat -c %s "$f")" -le "${MAX_SEED:-$max_seed}" ] || return 0
  cp "$f" "$dir/${SEED_NAME:-$(sha256sum "$f" | cut -c1-40)}"
}
seed_file() { seed "$1" "${@:3}" < "$2"; }

# The schema target's readers, by first byte (the order of READERS in fuzz_targets/schema.rs).
readers=(run phases health manifest summary sample metrics kernel_event usage host bmf compare experiment version)
reader() {
  local i
  for i in "${!readers[@]}"; do [ "${readers[$i]}" = "$1" ] && { echo "$i"; return; }; done
  echo "seed.sh: no reader $1" >&2
  exit 1
}
# schema_member READER FILE: the file as the reader's seed (whole, and its first lines for ndjson).
schema_member() {
  local r
  r=$(reader "$1")
  seed_file schema "$2" "$r"
  case "$1" in
    sample | metrics | kernel_event | usage) head -n 3 "$2" | seed schema "$r" ;;
  esac
}
# members DIR: each member that has a reader, as its reader's seed.
members() {
  local f base
  while IFS= read -r -d '' f; do
    base=$(basename "$f")
    case "$base" in
      run.json) schema_member run "$f" ;;
      phases.json) schema_member phases "$f" ;;
      health.json) schema_member health "$f" ;;
      manifest.json) schema_member manifest "$f" ;;
      summary.json) schema_member summary "$f" ;;
      samples.jsonl) schema_member sample "$f"; schema_member usage "$f" ;;
      metrics.ndjson) schema_member metrics "$f" ;;
      kernel.ndjson) schema_member kernel_event "$f" ;;
      host.json) schema_member host "$f" ;;
      bmf.json) schema_member bmf "$f" ;;
      experiment.toml) schema_member experiment "$f"; seed_file experiment "$f" ;;
    esac
  done < <(find "$1" -type f -print0)
}

# --- bundle: every container and summary of fixtures/, and a few per-sample archives --------
# Whole bundles (up to 256 KiB: the smoke bundles, with their archives). Not the gzip bomb: under
# the CLI's limits each run of it and of its mutants inflates 129 MiB (the unit tests cover it).
for f in "$root"/fixtures/bundles/*.tar.gz "$root"/fixtures/bundles/*.json; do
  [ "$(basename "$f")" = bomb.tar.gz ] || MAX_SEED=262144 seed_file bundle "$f"
done
# --- stream: the same containers, for each reader (the first byte: export's keep in pieces of
# 1 byte, compare's in pieces of 2, verify's with the archives inside in pieces of 64)
stream_seed() {
  local p
  for p in 0 4 254; do MAX_SEED=262144 seed_file stream "$1" "$p"; done
}
for f in "$root"/fixtures/bundles/*.tar.gz; do
  [ "$(basename "$f")" = bomb.tar.gz ] || stream_seed "$f"
done
for b in "$root"/fixtures/bundles/*.tar.gz; do
  [ "$(basename "$b")" = bomb.tar.gz ] && continue
  d="$tmp/x/$(basename "$b")"
  mkdir -p "$d"
  tar -xzf "$b" -C "$d" 2>/dev/null || continue
  members "$d"
  # Two archives of each bundle (the smallest), whole, for the bundle target.
  while IFS= read -r a; do
    seed_file bundle "$a"
    stream_seed "$a"
    ad="$d.$(basename "$a")"
    mkdir -p "$ad"
    tar -xzf "$a" -C "$ad" 2>/dev/null && members "$ad"
  done < <(find "$d" -path '*/archives/*.tar.gz' -printf '%s %p\n' 2>/dev/null | sort -n | head -n 2 | cut -d' ' -f2-)
done
members "$root/baselines"
for f in "$root"/fixtures/bundles/*.summary.json; do schema_member summary "$f"; done

# --- experiment: every experiment TOML in the repository ------------------------------------
for f in "$root"/capture/presets/*.toml "$root"/baselines/smoke/experiment.toml "$root"/tests/browser/bench-experiment.toml; do
  [ -f "$f" ] || continue
  seed_file experiment "$f"
  schema_member experiment "$f"
done

# --- schema: version strings ---------------------------------------------------------------
printf 'tare.summary.v1.2\ntare.summary.v1' | seed schema "$(reader version)"
printf 'tare.kernel_event.v12\ntare.kernel_event.v1' | seed schema "$(reader version)"

# --- otlp: the collector file exporter's shape, by hand, and traces of real SDKs -------------
printf '%s\n' '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"w"}}]},"scopeSpans":[{"scope":{"name":"s"},"spans":[{"traceId":"00000000000000000000000000000001","spanId":"0000000000000002","name":"tare.workload","startTimeUnixNano":"1","endTimeUnixNano":"2","droppedEventsCount":1,"events":[{"timeUnixNano":"1","name":"e","attributes":[{"key":"tare.sweep.index","value":{"intValue":"0"}},{"key":"d","value":{"doubleValue":1.5}},{"key":"a","value":{"arrayValue":{"values":[{"boolValue":true}]}}}]}]}]}]}]}' | seed otlp
printf '%s\n%s\n' '{"resourceSpans":[]}' '{"resourceSpans":[{"scopeSpans":[]}]}' | seed otlp
tare="${TARE:-}"
for t in "$root/target/release/tare" "$root/target/debug/tare"; do
  [ -n "$tare" ] || { [ -x "$t" ] && tare="$t"; }
done
if [ -n "$tare" ] && "$tare" workload --span-events 3 --trace-out "$tmp/rust.json" >/dev/null 2>&1; then
  SEED_NAME=rust-sdk seed_file otlp "$tmp/rust.json"
  "$tare" workload --span-events 40 --span-event-limit 8 --trace-out "$tmp/rust-lossy.json" >/dev/null 2>&1 &&
    SEED_NAME=rust-sdk-lossy seed_file otlp "$tmp/rust-lossy.json"
  # The compare report, from the two smoke bundles.
  "$tare" compare "$root/fixtures/bundles/smoke.bundle.tar.gz" "$root/fixtures/bundles/smoke-b.bundle.tar.gz" --json \
    > "$tmp/compare.json" 2>/dev/null || true
  [ -s "$tmp/compare.json" ] && SEED_NAME=compare-report schema_member compare "$tmp/compare.json"
else
  echo "seed.sh: no tare binary (cargo build first, or TARE=...): no Rust SDK trace or compare seed" >&2
fi
if python3 "$root/scripts/workloads/python_spans.py" --span-events 3 --trace-out "$tmp/py.json" >/dev/null 2>&1; then
  SEED_NAME=python-sdk seed_file otlp "$tmp/py.json"
else
  echo "seed.sh: the OTel Python SDK is missing (scripts/setup.sh installs it): no Python trace seed" >&2
fi

# --- view_request: request heads as browsers and curl send them, and refused ones ----------
tok=0123456789abcdef0123456789abcdef
for h in \
  "GET / HTTP/1.1\r\nHost: 127.0.0.1:8123\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n" \
  "GET /b/$tok/bundle.tar.gz HTTP/1.1\r\nHost: localhost:8123\r\nOrigin: http://localhost:8123\r\nSec-Fetch-Site: same-origin\r\n\r\n" \
  "HEAD /index.html?x=1 HTTP/1.1\r\nHost: [::1]:8123\r\n\r\n" \
  "GET /b/x/bundle.tar.gz HTTP/1.1\r\nHost: attacker.example:8123\r\nOrigin: http://attacker.example:8123\r\nSec-Fetch-Site: cross-site\r\n\r\n" \
  "POST /tare-viewer_bg.wasm HTTP/1.0\r\nHost: 127.0.0.1:8123\r\nContent-Length: 0\r\n\r\n"; do
  printf '%b' "$h" | seed view_request
done

for d in "$corpus"/*/; do
  printf '%-14s %5d seeds\n' "$(basename "$d")" "$(find "$d" -type f | wc -l)"
done
