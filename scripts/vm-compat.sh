#!/bin/sh
# A 32-bit program as a compat task, in a VM guest (busybox sh is enough): for each hook set
# given, captures $BB32 (a static 32-bit busybox: i386 on x86_64, armhf on arm64) run three
# times from the 64-bit shell and prints
#   compat hooks=<asked> compat_execs=<N> abi=<...> misread=<N> layer=<...>
# compat_execs counts the `compat_exec` events (3 expected), misread the events of those tasks
# other than exec, compat_exec, fork and exit: a compat syscall read by the 64-bit table
# (getpid is 20 on ia32, writev on x86_64; getppid is 64 on arm, write in the generic table).
T=${TARE:-/bin/tare}
out=${OUT:-/tmp}
for hooks in "$@"; do
  a="$out/compat-$hooks.tar.gz"
  rm -f "$a"
  "$T" capture --quiet --syscall-hooks "$hooks" --out "$a" -- \
    sh -c "$BB32"' sh -c "echo \$\$ \$PPID > /tmp/c1"; '"$BB32"' mv /tmp/c1 /tmp/c2; '"$BB32"' true' 2> /dev/null
  tar -xzOf "$a" kernel.ndjson > "$out/compat-ev"
  grep '"kind":"compat_exec"' "$out/compat-ev" | sed -n 's/.*"pid":\([0-9]*\),.*/\1/p' > "$out/compat-pids"
  misread=0
  for p in $(cat "$out/compat-pids"); do
    n=$(grep "\"pid\":$p," "$out/compat-ev" | grep -c -v -E '"kind":"(exec|compat_exec|fork|exit)"')
    misread=$((misread + n))
  done
  abi=$(grep -m1 '"kind":"compat_exec"' "$out/compat-ev" | sed -n 's/.*"abi":"\([^"]*\)".*/\1/p')
  layer=$(tar -xzOf "$a" health.json | tr -d '\n' | sed -n 's/.*"kernel_layer": *"\([a-z]*\)".*/\1/p')
  echo "compat hooks=$hooks compat_execs=$(wc -l < "$out/compat-pids" | tr -d ' ') abi=$abi misread=$misread layer=$layer"
done
