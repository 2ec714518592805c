#!/usr/bin/env bash
# README's second command: installs what is missing, then runs every test (as root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
WANT_FUZZ=1 bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "format"
cargo fmt --all -- --check
step "docs: every relative link resolves"
bash scripts/check-links.sh
step "clippy (native)"
cargo clippy --workspace --exclude tare-viewer --all-targets --locked -- -D warnings
step "clippy (viewer, wasm32)"
cargo clippy -p tare-viewer --target wasm32-unknown-unknown --locked -- -D warnings
step "report-model builds for wasm32"
cargo build -p report-model --target wasm32-unknown-unknown --locked
step "tests (unit, integration with the real kernel, dist freshness)"
cargo test --workspace --exclude tare-viewer --locked -- --test-threads=1
step "viewer unit tests (native: routes, bundle loading through report-model)"
cargo test -p tare-viewer --locked
step "fuzz: every target of fuzz/ for 10 s (benches/fuzz.sh)"
bash benches/fuzz.sh 10
step "release build"
cargo build --release -p tare --locked
tare="${CARGO_TARGET_DIR:-target}/release/tare"
step "VM: Debian's kernel (fexit allowed, pure cgroup v2), exact counts with each syscall hook set"
bash scripts/vm-test.sh "$tare"
step "static builds (musl, x86_64 and aarch64); the x86_64 one captures here, the aarch64 one in an emulated arm64 VM"
static=$(bash scripts/build-static.sh x86_64 aarch64)
bash scripts/static-check.sh $(echo "$static" | head -1)
bash scripts/vm-test.sh --arch arm64 "$(echo "$static" | tail -1)"
step "browser tests (headless Chromium)"
(cd tests/browser && node --test)
step "smoke gate: a fresh smoke run against the committed baselines/smoke/"
bash scripts/smoke-gate.sh "$tare"
