#!/usr/bin/env bash
# Checks a static x86_64 tare (scripts/build-static.sh x86_64): no program interpreter and no
# shared library, and a capture with it gives exact counts for a known workload (20 writes of
# 7 bytes to a file of its own, one rename, one unlink). Usage: bash scripts/static-check.sh BIN
set -euo pipefail
bin=${1:?usage: static-check.sh BIN}
if readelf -l "$bin" | grep -q 'INTERP' || readelf -d "$bin" | grep -q 'NEEDED'; then
  echo "static-check: $bin is dynamically linked:" >&2; readelf -d "$bin" | grep NEEDED >&2; exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" capture --quiet --out "$work/a.tar.gz" -- sh -c "
  for i in \$(seq 20); do printf xxxxxxx >> $work/f; done; mv $work/f $work/g; rm $work/g"
"$bin" verify "$work/a.tar.gz" > /dev/null
tar -xzOf "$work/a.tar.gz" kernel.ndjson > "$work/ev"
writes=$(grep -E '"kind":"write".*"requested":7[,}]' "$work/ev" | wc -l)
renames=$(grep '"kind":"rename"' "$work/ev" | grep -c "\"$work/f\"" || true)
unlinks=$(grep '"kind":"unlink"' "$work/ev" | grep -c "\"$work/g\"" || true)
line="writes=$writes renames=$renames unlinks=$unlinks"
[ "$line" = "writes=20 renames=1 unlinks=1" ] || { echo "static-check: expected writes=20 renames=1 unlinks=1, got $line" >&2; exit 1; }
echo "static-check: $bin is static; a capture with it counted $line (exact)"
