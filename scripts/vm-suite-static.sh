#!/bin/sh
# Runs inside a minimal guest that holds only busybox and a static tare (scripts/vm-test.sh
# --arch arm64): the host suite without python. One result line per check, in the format of
# scripts/vm-suite.sh:
#   hooks=<asked> used=<health.json> opens=<N> writes=<N> renames=<N> unlinks=<N> execfails=<N> layer=<...>
# The workload makes exactly 50 files, writes 7 bytes to each once, renames and unlinks them,
# and runs 3 programs that do not exist. Then doctor, the fault cases (a crash, a hang past
# --timeout) and what is left after them, with a 32-bit program (scripts/vm-compat.sh) and a
# small bench before.
T=${TARE:-/bin/tare}
out=${OUT:-/tmp}
uname -r
uname -m
# A JSON field of an archive member: `"key": value` (string quotes dropped).
member() { tar -xzOf "$1" "$2"; }
field() { member "$1" "$2" | tr -d '\n' | sed -n "s/.*\"$3\": *\"\{0,1\}\([^\",}]*\).*/\1/p"; }
for hooks in auto fexit btf-tracepoint raw-tracepoint; do
  a="$out/vm-$hooks.tar.gz"
  rm -f "$a"
  if ! "$T" capture --quiet --syscall-hooks "$hooks" --out "$a" -- sh -c '
d=/tmp/vm-wl
mkdir -p $d
i=0
while [ $i -lt 50 ]; do
  printf xxxxxxx > $d/f$i
  mv $d/f$i $d/f$i.r
  rm $d/f$i.r
  i=$((i + 1))
done
for i in 0 1 2; do $d/nope$i 2> /dev/null; done
true' 2> "$out/vm-$hooks.err"; then
    echo "hooks=$hooks refused: $(tail -c 300 "$out/vm-$hooks.err" | tr '\n' ' ')"
    continue
  fi
  "$T" verify "$a" > /dev/null || { echo "hooks=$hooks verify FAILED"; continue; }
  member "$a" kernel.ndjson > "$out/ev"
  mine() { grep "\"kind\":\"$1\"" "$out/ev" | grep -c '"/tmp/vm-wl/f[0-9]'; }
  writes=$(grep -c -E '"kind":"write".*"requested":7[,}]' "$out/ev")
  execfails=$(grep '"kind":"exec_failed"' "$out/ev" | grep '"filename":"/tmp/vm-wl/nope' | grep -c '"result":-2[,}]')
  echo "hooks=$hooks used=$(field "$a" health.json syscall_hooks) opens=$(mine open) writes=$writes renames=$(mine rename) unlinks=$(mine unlink) execfails=$execfails layer=$(field "$a" health.json kernel_layer)"
done

# A 32-bit program as a compat task (scripts/vm-compat.sh, with the armhf busybox).
[ -x /bin/busybox32 ] && BB32=/bin/busybox32 sh /vm-compat.sh auto raw-tracepoint

# A small bench (scripts/vm-bench.sh).
TARE="$T" OUT="$out" sh /vm-bench.sh

"$T" doctor > "$out/doctor.txt" 2>&1; rc=$?
echo "doctor-systemd rc=$rc memory=$(grep 'memory accounting' "$out/doctor.txt" | awk '{print $1}')"

"$T" capture --quiet --out "$out/crash.tar.gz" -- sh -c 'kill -SEGV $$'; rc=$?
"$T" verify "$out/crash.tar.gz" > /dev/null && v=ok || v=FAILED
echo "fault=crash rc=$rc signal=$(field "$out/crash.tar.gz" run.json signal) verify=$v"
"$T" capture --quiet --timeout 1 --out "$out/timeout.tar.gz" -- sleep 31; rc=$?
"$T" verify "$out/timeout.tar.gz" > /dev/null && v=ok || v=FAILED
echo "fault=timeout rc=$rc timed_out=$(field "$out/timeout.tar.gz" run.json timed_out) verify=$v"
left=$(pgrep -f '^sleep 31$' | wc -l)
echo "cleanup workloads_left=$left tare_dir=$([ -d /sys/fs/cgroup/tare ] && echo left || echo gone) sessions=$(ls /run/tare/sessions 2>/dev/null | wc -l)"
