#!/bin/sh
# Runs inside a VM guest (see scripts/vm-test.sh): the host suite. Captures a known workload with each
# syscall hook set the guest's kernel offers and prints one result line per set:
#   hooks=<asked> used=<health.json> opens=<N> writes=<N> unlinks=<N> renames=<N> execfails=<N> layer=<...>
# The workload makes exactly 50 files, writes each once, renames and unlinks them, and tries
# to exec 3 programs that do not exist.
# Then doctor (as the guest's init left the cgroups, and with the memory controller enabled
# at the root as systemd does), the capture's memory source, the fault cases (a crash, a hang
# past --timeout, SIGTERM to tare) and what is left after them, with a 32-bit program
# (scripts/vm-compat.sh) and a small bench between: one `key=value` line each.
T=${TARE:-/work/main/target/release/tare}
out=${OUT:-/tmp}
uname -r
for hooks in fexit btf-tracepoint raw-tracepoint; do
  a="$out/vm-$hooks.tar.gz"
  rm -f "$a"
  if ! "$T" capture --quiet --syscall-hooks "$hooks" --out "$a" -- /usr/bin/python3 -c '
import os
d = "/tmp/vm-wl"
os.makedirs(d, exist_ok=True)
for i in range(50):
    p = f"{d}/f{i}"
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, b"x" * 7)
    os.close(fd)
    os.rename(p, p + ".r")
    os.unlink(p + ".r")
for i in range(3):
    try:
        os.execv(f"{d}/nope{i}", ["nope"])
    except OSError:
        pass
' 2> "$out/vm-$hooks.err"; then
    echo "hooks=$hooks refused: $(tail -c 300 "$out/vm-$hooks.err" | tr '\n' ' ')"
    continue
  fi
  "$T" verify "$a" > /dev/null || { echo "hooks=$hooks verify FAILED"; continue; }
  /usr/bin/python3 - "$a" "$hooks" <<'PY'
import json, sys, tarfile
a, hooks = sys.argv[1], sys.argv[2]
t = tarfile.open(a)
health = json.load(t.extractfile("health.json"))
ev = [json.loads(l) for l in t.extractfile("kernel.ndjson")]
mine = lambda e, k: e["kind"] == k and "/tmp/vm-wl/f" in (e.get("path") or e.get("from") or "")
opens = sum(mine(e, "open") for e in ev)
renames = sum(mine(e, "rename") for e in ev)
unlinks = sum(mine(e, "unlink") for e in ev)
fds = {e["result"] for e in ev if mine(e, "open")}
writes = sum(e["kind"] == "write" and e.get("fd") in fds and e.get("requested") == 7 for e in ev)
execfails = sum(e["kind"] == "exec_failed" and e.get("result") == -2
                and e.get("filename", "").startswith("/tmp/vm-wl/nope") for e in ev)
print(f"hooks={hooks} used={health.get('syscall_hooks')} opens={opens} writes={writes} "
      f"renames={renames} unlinks={unlinks} execfails={execfails} layer={health['kernel_layer']}")
PY
done

# The rest of the host suite, one result line each (scripts/vm-test.sh checks them).
field() { /usr/bin/python3 -c 'import json,sys,tarfile; d=json.load(tarfile.open(sys.argv[1]).extractfile(sys.argv[2]))
for k in sys.argv[3].split("."): d = d.get(k) if isinstance(d, dict) else None
print(d if isinstance(d, str) else json.dumps(d))' "$@"; }
cg=$(awk '{ for (i = 1; i < NF; i++) if ($i == "-" && $(i+1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
row() { grep "$1" "$2" | awk '{print $1}'; }

# doctor as the guest's init left the cgroups (no controller enabled at the root), then as a
# systemd host has them (memory enabled at the root), and a capture's memory source there.
"$T" doctor > "$out/doctor.txt" 2>&1; rc=$?
echo "doctor rc=$rc memory=$(row 'memory accounting' "$out/doctor.txt")"
echo +memory > "$cg/cgroup.subtree_control"
"$T" doctor > "$out/doctor2.txt" 2>&1; rc=$?
echo "doctor-systemd rc=$rc memory=$(row 'memory accounting' "$out/doctor2.txt")"
# Inside a unit systemd delegated (its cgroup marked trusted.delegate=1, as systemd does for
# Delegate=yes): doctor says where the sessions go and why, and a capture from there works.
unit="$cg/ci.service"
mkdir -p "$unit"
/usr/bin/python3 -c 'import os, sys; os.setxattr(sys.argv[1], "trusted.delegate", b"1")' "$unit"
sh -c "echo \$\$ > $unit/cgroup.procs; exec $T doctor" > "$out/doctor3.txt" 2>&1
sh -c "echo \$\$ > $unit/cgroup.procs; exec $T capture --quiet --out $out/unit.tar.gz -- true"; rc=$?
"$T" verify "$out/unit.tar.gz" > /dev/null && v=ok || v=FAILED
tr -s ' \n' '  ' < "$out/doctor3.txt" | grep -q "runs in /ci.service, a subtree systemd delegated (trusted.delegate=1), but its sessions go in $cg/tare/<run-id>" && said=yes || said=no
rmdir "$unit" 2> /dev/null && unit_left=no || unit_left=yes
echo "delegated placement=$(row 'cgroup placement' "$out/doctor3.txt") says_why=$said capture_rc=$rc verify=$v unit_left=$unit_left tare_dir=$([ -d "$cg/tare" ] && echo left || echo gone)"
"$T" capture --quiet --out "$out/mem.tar.gz" -- /usr/bin/python3 -c 'b = bytearray(64 << 20); b[::4096] = b"x" * len(b[::4096])'
mib=$(( $(field "$out/mem.tar.gz" run.json workload_memory_peak.bytes) >> 20 ))
echo "memory method=$(field "$out/mem.tar.gz" run.json workload_memory_peak.method) over64=$([ "$mib" -ge 64 ] && echo yes || echo "no($mib)") tare_dir=$([ -d "$cg/tare" ] && echo left || echo gone)"

# A 32-bit (i386) program as a compat task: with fexit its syscalls go to the kernel's ia32
# functions, with raw tracepoints they arrive with ia32 numbers; neither may be misread.
BB32=${BB32:-/work/main/target/vm/busybox-i386} TARE="$T" OUT="$out" \
  sh "$(dirname "$0")/vm-compat.sh" fexit raw-tracepoint

# A small bench (scripts/vm-bench.sh).
TARE="$T" OUT="$out" sh "$(dirname "$0")/vm-bench.sh"

# Faults: a crash, a hang past --timeout, a SIGTERM to tare (as Ctrl-C); then what is left.
"$T" capture --quiet --out "$out/crash.tar.gz" -- sh -c 'kill -SEGV $$'; rc=$?
"$T" verify "$out/crash.tar.gz" > /dev/null && v=ok || v=FAILED
echo "fault=crash rc=$rc signal=$(field "$out/crash.tar.gz" run.json exit.signal) verify=$v"
"$T" capture --quiet --timeout 1 --out "$out/timeout.tar.gz" -- sleep 31; rc=$?
"$T" verify "$out/timeout.tar.gz" > /dev/null && v=ok || v=FAILED
echo "fault=timeout rc=$rc timed_out=$(field "$out/timeout.tar.gz" run.json exit.timed_out) verify=$v"
"$T" capture --quiet --out "$out/term.tar.gz" -- sleep 32 & p=$!
for i in $(seq 300); do pgrep -f '^sleep 32$' > /dev/null && break; sleep 0.1; done
kill -TERM "$p"; wait "$p"; rc=$?
"$T" verify "$out/term.tar.gz" > /dev/null && v=ok || v=FAILED
echo "fault=term rc=$rc interrupted=$(field "$out/term.tar.gz" run.json exit.interrupted) verify=$v"
left=$(pgrep -f '^sleep 3[12]$' | wc -l)
echo "cleanup workloads_left=$left tare_dir=$([ -d "$cg/tare" ] && echo left || echo gone) sessions=$(ls /run/tare/sessions 2>/dev/null | wc -l)"
