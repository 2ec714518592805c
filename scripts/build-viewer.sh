#!/usr/bin/env bash
# Rebuilds dist/ from viewer/ with Trunk (offline) and records the source hash.
# Run after any change to viewer/ or report-model/, then commit dist/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
command -v trunk >/dev/null || { echo "build-viewer: trunk missing; run scripts/setup.sh" >&2; exit 1; }
rm -rf dist
trunk build --release --config Trunk.toml
bash scripts/dist-hash.sh > dist/SOURCE_HASH
gz=$(gzip -9c dist/*.wasm | wc -c)
echo "build-viewer: dist/ rebuilt; wasm $(stat -c %s dist/*.wasm) bytes, $gz gzipped"
