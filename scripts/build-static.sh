#!/usr/bin/env bash
# Static tare binaries: musl, no glibc, the eBPF object embedded.
#
#   bash scripts/build-static.sh [x86_64|aarch64]...   (default: both)
#
# Prints the path of each binary. They run on any Linux kernel with BTF (5.8 and newer: ring
# buffer, raw tracepoints; docs/development.md, "Static binaries and aarch64"). Built without the `https` feature:
# `--otlp-endpoint` takes http:// only (no C TLS library to cross-compile). The aarch64 build
# links with rustup's rust-lld and the musl target's own self-contained C runtime, so it needs
# no cross gcc. Needs the nightly + bpf-linker of scripts/setup.sh (the eBPF object is built
# for each target's architecture).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x86_64 aarch64)
for arch in "${arches[@]}"; do
  case "$arch" in x86_64|aarch64) ;; *) echo "build-static: unknown arch $arch (x86_64 or aarch64)" >&2; exit 2;; esac
  target="$arch-unknown-linux-musl"
  rustup target list --installed | grep -qx "$target" || rustup target add "$target" >&2
  # rust-lld (shipped with rustup's toolchain) as the linker, the target's self-contained crt.
  upper=$(echo "$target" | tr 'a-z-' 'A-Z_')
  export "CARGO_TARGET_${upper}_LINKER=rust-lld"
  export "CARGO_TARGET_${upper}_RUSTFLAGS=-C linker-flavor=ld.lld -C link-self-contained=yes -C target-feature=+crt-static"
  cargo build --release --locked -p tare --no-default-features --target "$target" >&2
  bin="target/$target/release/tare"
  file "$bin" 2>/dev/null >&2 || true
  echo "$bin"
done
