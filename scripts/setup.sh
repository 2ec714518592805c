#!/usr/bin/env bash
# Installs what tare needs to build and test on a fresh Debian machine, as root.
# Idempotent: every step checks first and installs only what is missing.
# Only package registries are used (apt, rustup, crates.io, npm).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }

# TARE_SETUP=main (scripts/main.sh): only what building tare and running a smoke bench need
# (nightly with rust-src and bpf-linker for the eBPF object). all (the default, scripts/test.sh):
# also every test's tools (wasm target, clippy, rustfmt, trunk, wasm-bindgen, chromium, GNU
# time, bpftool, fio, an i386 busybox, the Python SDK, playwright, cargo-fuzz with WANT_FUZZ=1).
TARE_SETUP=${TARE_SETUP:-all}
case "$TARE_SETUP" in main|all) ;; *) echo "setup: TARE_SETUP must be main or all, not $TARE_SETUP" >&2; exit 2;; esac
tests() { [ "$TARE_SETUP" = all ]; }
WANT_BROWSER=${WANT_BROWSER:-1}
# cargo-fuzz: only the test command fuzzes (scripts/test.sh sets WANT_FUZZ=1).
WANT_FUZZ=${WANT_FUZZ:-0}
tests || { WANT_BROWSER=0; WANT_FUZZ=0; }
TRUNK_VERSION=0.21.14
CARGO_FUZZ_VERSION=0.13.2
BPF_LINKER_VERSION=0.13.0

if [ "$(id -u)" != 0 ]; then
  echo "setup: must run as root (eBPF capture and apt installs need it); try: sudo $0" >&2
  exit 1
fi
export PATH="$HOME/.cargo/bin:$PATH"

# --- Debian packages -------------------------------------------------------
need_pkgs=()
command -v pkg-config >/dev/null || need_pkgs+=(pkg-config)
if [ "$WANT_BROWSER" = 1 ]; then
  command -v chromium >/dev/null || need_pkgs+=(chromium)
  command -v chromedriver >/dev/null || need_pkgs+=(chromium-driver)
fi
if tests; then
  command -v bpftool >/dev/null || [ -x /usr/sbin/bpftool ] || need_pkgs+=(bpftool)
  # GNU time: the reference the memory and CPU tests hold tare's figures against.
  [ -x /usr/bin/time ] || need_pkgs+=(time)
  # fio with io_uring: the real program the io_uring blind-spot test runs.
  command -v fio >/dev/null || need_pkgs+=(fio)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "apt-get install ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# --- Rust toolchains ---------------------------------------------------------
command -v rustup >/dev/null || { echo "setup: rustup not found; this machine kind ships it" >&2; exit 1; }
if tests; then
  rustup target list --installed | grep -qx wasm32-unknown-unknown || { log "rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown; }
  rustup component list --installed | grep -q '^clippy' || rustup component add clippy
  rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
fi
rustup toolchain list | grep -q '^nightly' || { log "rustup toolchain install nightly"; rustup toolchain install nightly --profile minimal; }
rustup component list --installed --toolchain nightly | grep -q '^rust-src' || { log "rust-src for nightly"; rustup component add rust-src --toolchain nightly; }

# --- bpf-linker, linked against the nightly's own libLLVM -------------------
nightly_lib="$(rustc +nightly --print sysroot)/lib"
if ! bpf-linker --version >/dev/null 2>&1; then
  llvm_so=$(ls "$nightly_lib"/libLLVM.so.*-rust-* 2>/dev/null | head -n1 || true)
  [ -n "$llvm_so" ] || { echo "setup: no libLLVM in $nightly_lib" >&2; exit 1; }
  llvm_major=$(rustc +nightly -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
  prefix="$HOME/.cache/tare-llvm"
  mkdir -p "$prefix/lib"
  ln -sf "$llvm_so" "$prefix/lib/libLLVM.so"
  log "cargo install bpf-linker $BPF_LINKER_VERSION (LLVM $llvm_major)"
  LLVM_PREFIX="$prefix" RUSTFLAGS="-C link-arg=-Wl,-rpath,$nightly_lib" \
    cargo install bpf-linker --version "$BPF_LINKER_VERSION" --no-default-features --features "llvm-$llvm_major" --quiet
fi

# --- Trunk and wasm-bindgen-cli (viewer build) -------------------------------
if tests && ! trunk --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then
  log "cargo install trunk $TRUNK_VERSION"
  cargo install trunk --version "$TRUNK_VERSION" --locked --quiet
fi
wb_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' "$here/Cargo.lock" 2>/dev/null || true)
if tests && [ -n "$wb_version" ] && ! wasm-bindgen --version 2>/dev/null | grep -q "$wb_version"; then
  log "cargo install wasm-bindgen-cli $wb_version"
  # --locked fails on this registry mirror (a pinned webpki-roots is missing).
  cargo install wasm-bindgen-cli --version "$wb_version" --quiet
fi

# --- cargo-fuzz (the test command's fuzz step: benches/fuzz.sh) -------------------
if [ "$WANT_FUZZ" = 1 ] && ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  log "cargo install cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --quiet
fi

# --- OpenTelemetry Python SDK (a second real SDK: scripts/workloads/python_spans.py) --
if tests && ! python3 -c 'import opentelemetry.sdk.trace, opentelemetry.exporter.otlp.proto.common.trace_encoder, google.protobuf' 2>/dev/null; then
  log "pip install the OpenTelemetry Python SDK"
  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check \
    opentelemetry-api==1.45.2 opentelemetry-sdk==1.45.2 opentelemetry-semantic-conventions==0.66b2 \
    opentelemetry-proto==1.45.2 opentelemetry-exporter-otlp-proto-common==1.45.2 protobuf==7.36.2
fi

# --- Browser test driver, and the OTel JS SDK (tare trace's test) ------------
nm="$here/tests/browser/node_modules"
if tests && [ -f "$here/tests/browser/package.json" ] && { [ ! -d "$nm/playwright-core" ] || [ ! -d "$nm/@opentelemetry/sdk-trace-base" ]; }; then
  log "npm ci (playwright-core, the OTel JS SDK) in tests/browser"
  (cd "$here/tests/browser" && npm ci --silent --no-audit --no-fund)
fi

# --- A 32-bit (i386) static busybox: the compat-task blind-spot test's program ---------
# apt multi-arch; downloaded and unpacked, not installed (it would replace busybox).
bb32_root=/var/cache/tare-test/i386
if tests && [ "$(uname -m)" = x86_64 ] && [ ! -x "$bb32_root/bin/busybox" ]; then
  log "busybox-static:i386 (apt multi-arch) into $bb32_root"
  dpkg --print-foreign-architectures | grep -qx i386 || { dpkg --add-architecture i386; apt-get update -qq; }
  apt-cache policy busybox-static:i386 | grep -q 'Candidate: [0-9]' || apt-get update -qq
  dl=$(mktemp -d)
  (cd "$dl" && apt-get download -qq busybox-static:i386 2>/dev/null)
  mkdir -p "$bb32_root"
  dpkg-deb -x "$dl"/busybox-static_*.deb "$bb32_root"
  rm -rf "$dl"
fi

# --- Kernel file systems used by capture tests ------------------------------
mountpoint -q /sys/fs/bpf 2>/dev/null || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
log "ready ($TARE_SETUP)"
