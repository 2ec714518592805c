# Sourced by the benchmark scripts: the results directory, the peers, tracefs and a release tare.

# bench_out DEFAULT [ARG]: the results directory (ARG, else DEFAULT), created; sets $out.
bench_out() {
  out=${2:-$1}
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
}

# need_tools TOOL...: installs each missing peer from Debian (the package has the tool's name).
need_tools() {
  local p
  for p in "$@"; do
    command -v "$p" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null
  done
}

# need_tracefs: bpftrace's tracepoints need tracefs mounted.
need_tracefs() {
  mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing
}

# build_tare: builds the release tare; sets $tare.
build_tare() {
  export PATH="$HOME/.cargo/bin:$PATH"
  cargo build --release --locked -p tare -q
  tare=${CARGO_TARGET_DIR:-$PWD/target}/release/tare
}
