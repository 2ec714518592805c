#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS each (default 60), one at a time, from the
# corpus fuzz/seed.sh builds out of fixtures/, and prints a table: target, budget, runs, corpus
# size, result. Anything a fuzzer finds (a panic, an allocation over 2 GiB, an input that takes
# over 10 s, a leak) stays in fuzz/artifacts/<target>/ and makes the exit status 1.
# Usage (nightly and cargo-fuzz installed; scripts/setup.sh with WANT_FUZZ=1 does that):
#   bash benches/fuzz.sh [SECONDS]     -> the table on stdout, logs in fuzz/target/fuzz-logs/
# FUZZ_TARGETS="bundle otlp" limits the run to those targets.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
budget=${1:-60}
case "$budget" in '' | *[!0-9]*) echo "usage: bash benches/fuzz.sh [SECONDS]" >&2; exit 2 ;; esac
command -v cargo-fuzz >/dev/null || { echo "fuzz.sh: cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2; exit 2; }

# No target touches kernel capture: tare is built without its eBPF object (no nested build).
export TARE_SKIP_EBPF=1
# The committed fuzz/Cargo.lock holds: `cargo fuzz` has no --locked of its own.
cargo +nightly metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml >/dev/null
logs=fuzz/target/fuzz-logs
mkdir -p "$logs"
start=$(date +%s)
echo "fuzz.sh: building the targets (nightly, ASan, release)" >&2
cargo +nightly fuzz build 2> "$logs/build.log" || { tail -n 40 "$logs/build.log" >&2; exit 1; }
built=$(date +%s)
bin=fuzz/target/$(rustc +nightly -vV | sed -n "s/^host: //p")/release
bash fuzz/seed.sh > "$logs/seed.log"

targets=${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}
rows=()
failed=0
for t in $targets; do
  corpus="fuzz/corpus/$t"
  mkdir -p "$corpus"
  seeds=$(find "$corpus" -type f | wc -l)
  log="$logs/$t.log"
  echo "fuzz.sh: $t for ${budget}s" >&2
  status=0
  # -rss_limit_mb and -malloc_limit_mb: an input that makes a reader hold 2 GiB is a finding;
  # -timeout: so is one that takes 10 s.
  # The binary cargo fuzz built, run as `cargo fuzz run` would, without its rebuild check.
  mkdir -p "fuzz/artifacts/$t"
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_odr_violation=0} "$bin/$t" "$corpus" \
    -artifact_prefix="fuzz/artifacts/$t/" -max_total_time="$budget" -print_final_stats=1 \
    -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 > "$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  size=$(find "$corpus" -type f | wc -l)
  art=$(sed -n 's/.*Test unit written to \(fuzz\/artifacts\/[^ ]*\).*/\1/p' "$log" | tail -n1)
  if [ "$status" = 0 ]; then
    result="ok, nothing found"
  else
    failed=1
    kind=$(grep -m1 -oE 'deadly signal|panicked at [^:]*:[0-9]+|out-of-memory \([^)]*\)|malloc\(.*\) exceeds limit|timeout after [0-9]+ seconds|detected memory leaks|stack-overflow|ERROR: AddressSanitizer: [a-z-]+' "$log" || echo "exit $status")
    result="FOUND: $kind${art:+ -> $art}"
  fi
  rows+=("| \`$t\` | ${budget} s | ${runs:-?} | $seeds -> $size | $result |")
done
end=$(date +%s)

echo
echo "| target | budget | runs | corpus (seeds -> after) | result |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
echo
echo "build $((built - start)) s, fuzzing $((end - built)) s (2-core machine: one target at a time)"
exit "$failed"
