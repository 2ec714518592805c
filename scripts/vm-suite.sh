#!/bin/sh
# Runs inside a VM guest (see scripts/vm-test.sh): captures a known workload with each
# syscall hook set the guest's kernel offers and prints one result line per set:
#   hooks=<asked> used=<health.json> opens=<N> writes=<N> unlinks=<N> renames=<N> layer=<...>
# The workload makes exactly 50 files, writes each once, renames and unlinks them.
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
print(f"hooks={hooks} used={health.get('syscall_hooks')} opens={opens} writes={writes} "
      f"renames={renames} unlinks={unlinks} layer={health['kernel_layer']}")
PY
done
