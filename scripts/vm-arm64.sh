#!/usr/bin/env bash
# `scripts/vm-test.sh --arch arm64`: boots Debian's arm64 kernel (linux-image-arm64, 6.1) in an
# emulated arm64 VM (qemu-system-aarch64 -M virt, TCG: no KVM for another architecture) with an
# initramfs of busybox and the static aarch64 tare (scripts/build-static.sh aarch64), and runs
# scripts/vm-suite-static.sh as init. The kernel and busybox come from Debian's registry through
# apt multi-arch (`dpkg --add-architecture arm64`; the packages are downloaded and unpacked,
# not installed), and so does a 32-bit busybox (armhf), which the guest runs as a compat task.
# Prints the guest's result lines and a table row per check.
# Usage (as root): bash scripts/vm-test.sh --arch arm64 [STATIC_AARCH64_TARE]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tare=${1:-target/aarch64-unknown-linux-musl/release/tare}
if [ ! -x "$tare" ]; then
  tare=$(bash scripts/build-static.sh aarch64)
fi
file -b "$tare" 2>/dev/null | grep -q 'ARM aarch64' || readelf -h "$tare" | grep -q AArch64 || {
  echo "vm-test: $tare is not an aarch64 binary" >&2; exit 2; }
need=()
command -v qemu-system-aarch64 >/dev/null || need+=(qemu-system-arm)
command -v cpio >/dev/null || need+=(cpio)
[ ${#need[@]} -eq 0 ] || \
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
cache=/var/cache/tare-vm/arm64
mkdir -p "$cache"
if ! ls "$cache"/root/boot/vmlinuz-*-arm64 >/dev/null 2>&1 || [ ! -x "$cache/root/bin/busybox" ] \
  || [ ! -x "$cache/root32/bin/busybox" ]; then
  for a in arm64 armhf; do
    dpkg --print-foreign-architectures | grep -qx $a || { dpkg --add-architecture $a; apt-get update -qq; }
  done
  apt-cache policy busybox-static:armhf | grep -q 'Candidate: [0-9]' || apt-get update -qq
  image=$(apt-cache depends linux-image-arm64:arm64 | sed -n 's/.*Depends: \(linux-image-[0-9][^:]*\).*/\1/p' | head -1)
  [ -n "$image" ] || { echo "vm-test: apt names no kernel for linux-image-arm64:arm64" >&2; exit 1; }
  (cd "$cache" && rm -f ./*.deb && apt-get download -qq "$image:arm64" busybox-static:arm64 2>/dev/null)
  rm -rf "$cache/root" && mkdir -p "$cache/root"
  for d in "$cache"/*.deb; do dpkg-deb -x "$d" "$cache/root"; done
  (cd "$cache" && rm -f ./*.deb && apt-get download -qq busybox-static:armhf 2>/dev/null)
  rm -rf "$cache/root32" && mkdir -p "$cache/root32"
  dpkg-deb -x "$cache"/busybox-static_*.deb "$cache/root32"
fi
kernel=$(ls "$cache"/root/boot/vmlinuz-*-arm64 | sort -V | tail -1)

# The initramfs: busybox, tare, the suite, and an init that mounts what a systemd host has
# (cgroup2 with the memory and cpu controllers enabled at the root) and powers off after.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rd"/{bin,proc,sys,dev,tmp,run}
cp "$cache/root/bin/busybox" "$work/rd/bin/busybox"
cp "$cache/root32/bin/busybox" "$work/rd/bin/busybox32"
cp "$tare" "$work/rd/bin/tare"
cp scripts/vm-suite-static.sh "$work/rd/suite.sh"
cp scripts/vm-compat.sh "$work/rd/vm-compat.sh"
cp scripts/vm-bench.sh "$work/rd/vm-bench.sh"
cat > "$work/rd/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo "+memory +cpu" > /sys/fs/cgroup/cgroup.subtree_control
echo "suite: start"
TARE=/bin/tare sh /suite.sh
echo "suite: end rc=$?"
poweroff -f
INIT
chmod +x "$work/rd/init" "$work/rd/bin/busybox" "$work/rd/bin/busybox32"
(cd "$work/rd" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz"
log="$work/console.log"
echo "vm-test: $(basename "$kernel") on qemu-system-aarch64 (TCG)" >&2
started=$(date +%s)
timeout 900 qemu-system-aarch64 -M virt -cpu max -smp 2 -m 1G -nographic -no-reboot -nic none \
  -kernel "$kernel" -initrd "$work/initrd.gz" \
  -append "console=ttyAMA0 rdinit=/init panic=-1 quiet" > "$log" 2>&1 || {
  tail -40 "$log" >&2; echo "vm-test: the arm64 guest failed" >&2; exit 1; }
tr -d '\r' < "$log" > "$log.txt"
echo "vm-test: the guest ran for $(( $(date +%s) - started )) s" >&2
grep -q '^suite: end' "$log.txt" || { tail -40 "$log.txt" >&2; echo "vm-test: the suite did not finish" >&2; exit 1; }
grep -E '^(hooks=|compat |bench |doctor|fault=|cleanup |[0-9]+\.[0-9]+|aarch64)' "$log.txt"
guest=$(grep -m1 -E '^[0-9]+\.[0-9]+' "$log.txt" || true)
fail=0
row() { echo "| $guest (arm64, emulated) | pure v2 | $1 | $2 |"; }
check() { # line prefix, expected line, what it shows
  line=$(grep -m1 "^$1" "$log.txt" || true)
  if [ "$line" = "$2" ]; then row "$3" pass; else echo "vm-test: expected '$2', got '$line'" >&2; fail=1; fi
}
grep -qx aarch64 "$log.txt" || { echo "vm-test: the guest is not aarch64" >&2; fail=1; }
exact=0
for hooks in auto fexit btf-tracepoint raw-tracepoint; do
  line=$(grep "^hooks=$hooks " "$log.txt" || true)
  used=${hooks//-/_}
  # auto takes the best set the kernel accepts, whichever it is.
  [ "$hooks" = auto ] && { used=${line#*used=}; used=${used%% *}; hooks="auto ($used)"; }
  want="hooks=${hooks%% *} used=$used opens=50 writes=50 renames=50 unlinks=50 execfails=3 layer=complete"
  if [ "$line" = "$want" ]; then
    row "$hooks" "exact (50 of each, 3 failed execs), complete"; exact=$((exact + 1))
  elif [[ "$line" == "hooks=$hooks refused: "* ]]; then
    row "$hooks" "refused by this kernel: ${line##*: }"
  else
    echo "vm-test: $hooks: expected '$want', got '$line'" >&2; fail=1
  fi
done
[ "$exact" -ge 1 ] || { echo "vm-test: no hook set gave exact counts" >&2; fail=1; }
# The armhf busybox runs as a compat (AArch32) task: flagged once per exec, nothing misread.
for hooks in auto raw-tracepoint; do
  check "compat hooks=$hooks " "compat hooks=$hooks compat_execs=3 abi=arm misread=0 layer=partial" \
    "a 32-bit (armhf) program, hooks $hooks: 3 compat_exec events, none of its syscalls misread"
done
check "doctor-systemd " "doctor-systemd rc=0 memory=ok" "doctor, memory enabled at the root (as systemd does)"
check "bench " "bench rc=0 samples=16 valid=16 summary=yes verify=ok" "a small bench (smoke preset, 2 blocks: 16 samples, all valid), summary written, bundle verifies"
check "fault=crash" "fault=crash rc=139 signal=11 verify=ok" "a crashing child: exit 139, signal recorded, archive verifies"
check "fault=timeout" "fault=timeout rc=137 timed_out=true verify=ok" "a hung child past --timeout 1: killed, marked, verifies"
check "cleanup " "cleanup workloads_left=0 tare_dir=gone sessions=0" "after the faults: no workload, no cgroup, no session record left"
exit $fail
