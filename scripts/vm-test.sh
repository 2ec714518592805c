#!/usr/bin/env bash
# Boots Debian's kernels (linux-image-amd64, 6.1, and linux-image-6.12-amd64: pure cgroup v2,
# fexit allowed) in a VM, one after the other, with
# virtme-ng, sharing this machine's root filesystem, and runs scripts/vm-suite.sh inside:
# a capture of a known workload with each syscall hook set (fexit, tp_btf, raw tracepoint),
# whose counts must be exact (50 opens, writes, renames and unlinks of its own files); doctor
# with and without the memory controller at the root; memory.peak; the fault cases; cleanup.
# KVM is used when a guest boots with it within 60 s (the verdict is kept per boot in
# /run/tare/vm-accel), else TCG. Prints the guest's result lines and a table row per set.
# Usage (as root): bash scripts/vm-test.sh [TARE_BINARY]
#                  bash scripts/vm-test.sh --arch arm64 [STATIC_AARCH64_TARE]  (scripts/vm-arm64.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "${1:-}" = --arch ]; then
  case "${2:-}" in
    arm64|aarch64) shift 2; exec bash scripts/vm-arm64.sh "$@" ;;
    x86_64|amd64) shift 2 ;;
    *) echo "vm-test: --arch takes arm64 or x86_64, not '${2:-}'" >&2; exit 2 ;;
  esac
fi
tare=${1:-target/release/tare}
tare=$(cd "$(dirname "$tare")" && pwd)/$(basename "$tare")
[ -x "$tare" ] || { echo "vm-test: no tare binary at $tare (cargo build --release -p tare)" >&2; exit 2; }
[ -x /var/cache/tare-test/i386/bin/busybox ] || {
  echo "vm-test: no i386 busybox for the compat row (bash scripts/setup.sh unpacks it)" >&2; exit 2; }
# The guest sees the host's files but not /var/cache: the i386 busybox goes beside the build.
bb32=$PWD/target/vm/busybox-i386
mkdir -p "$(dirname "$bb32")" && cp /var/cache/tare-test/i386/bin/busybox "$bb32"
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v busybox >/dev/null || need+=(busybox-static)
# Two kernel series from Debian's registry: bookworm's 6.1 and the 6.12 of its security suite.
ls /boot/vmlinuz-6.1.*-amd64 >/dev/null 2>&1 || need+=(linux-image-amd64)
ls /boot/vmlinuz-6.12.*-amd64 >/dev/null 2>&1 || need+=(linux-image-6.12-amd64)
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v vng >/dev/null || pip install -q virtme-ng
# The newest kernel of each series installed.
kernels=()
for series in 6.1 6.12; do
  k=$(ls /boot/vmlinuz-"$series".*-amd64 2>/dev/null | sort -V | tail -1)
  [ -n "$k" ] && kernels+=("$k")
done
[ ${#kernels[@]} -gt 0 ] || { echo "vm-test: no Debian kernel in /boot" >&2; exit 1; }
kernel=${kernels[0]}

# KVM or TCG: decided by trying, once per boot (a KVM guest hangs on some hosts).
accel_file=/run/tare/vm-accel
boot_id=$(cat /proc/sys/kernel/random/boot_id)
accel=
[ -f "$accel_file" ] && read -r id verdict < "$accel_file" && [ "$id" = "$boot_id" ] && accel=$verdict
if [ -z "$accel" ]; then
  accel=tcg
  if [ -e /dev/kvm ] && timeout 60 vng --run "$kernel" --memory 1G --cpus 1 --exec true >/dev/null 2>&1; then
    accel=kvm
  fi
  mkdir -p /run/tare && echo "$boot_id $accel" > "$accel_file"
fi
flags=(--memory 2G --cpus 2)
[ "$accel" = tcg ] && flags+=(--disable-kvm)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail=0
for kernel in "${kernels[@]}"; do
  echo "vm-test: $(basename "$kernel") with $accel" >&2
  timeout 900 vng "${flags[@]}" --run "$kernel" --exec "TARE=$tare BB32=$bb32 sh $PWD/scripts/vm-suite.sh" > "$log" 2>&1 || {
    tail -30 "$log" >&2; echo "vm-test: the guest failed" >&2; exit 1; }
  grep -E '^(hooks=|compat |bench |doctor|memory |fault=|cleanup |[0-9]+\.[0-9]+)' "$log"
  guest=$(grep -m1 -E '^[0-9]+\.[0-9]+' "$log" || true)
  for hooks in fexit btf-tracepoint raw-tracepoint; do
    line=$(grep "^hooks=$hooks " "$log" || true)
    want="hooks=$hooks used=${hooks//-/_} opens=50 writes=50 renames=50 unlinks=50 execfails=3 layer=complete"
    if [ "$line" = "$want" ]; then
      echo "| $guest | pure v2 | $hooks | exact (50 of each, 3 failed execs), complete |"
    else
      echo "vm-test: $hooks: expected '$want', got '$line'" >&2
      fail=1
    fi
  done
  # The rest of the host suite: doctor, memory, faults, cleanup.
  check() { # name, expected line, what it shows
    line=$(grep -m1 "^$1" "$log" || true)
    if [ "$line" = "$2" ]; then
      echo "| $guest | pure v2 | $3 | pass |"
    else
      echo "vm-test: expected '$2', got '$line'" >&2
      fail=1
    fi
  }
  check "doctor " "doctor rc=0 memory=warn" "doctor, no controller enabled at the root: memory row warns and names the one command"
  check "doctor-systemd " "doctor-systemd rc=0 memory=ok" "doctor, memory enabled at the root (as systemd does)"
  check "delegated " "delegated placement=warn says_why=yes capture_rc=0 verify=ok unit_left=no tare_dir=gone" "inside a delegated unit (trusted.delegate=1): doctor says the sessions go to the root's tare/ and why; a capture works and leaves nothing"
  check "memory " "memory method=cgroup_v2_peak over64=yes tare_dir=gone" "memory.peak of a 64 MiB child; tare/ removed after"
  for hooks in fexit raw-tracepoint; do
    check "compat hooks=$hooks " "compat hooks=$hooks compat_execs=3 abi=i386 misread=0 layer=partial" \
      "a 32-bit (i386) program, hooks $hooks: 3 compat_exec events, none of its syscalls misread"
  done
  check "bench " "bench rc=0 samples=16 valid=16 summary=yes verify=ok" "a small bench (smoke preset, 2 blocks: 16 samples, all valid), summary written, bundle verifies"
  check "fault=crash" "fault=crash rc=139 signal=11 verify=ok" "a crashing child: exit 139, signal recorded, archive verifies"
  check "fault=timeout" "fault=timeout rc=137 timed_out=true verify=ok" "a hung child past --timeout 1: killed, marked, verifies"
  check "fault=term" "fault=term rc=143 interrupted=true verify=ok" "SIGTERM to tare: child stopped, archive marked, verifies"
  check "cleanup " "cleanup workloads_left=0 tare_dir=gone sessions=0" "after the faults: no workload, no cgroup, no session record left"

done
exit $fail
