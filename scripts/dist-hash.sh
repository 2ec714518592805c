#!/usr/bin/env bash
# Prints one sha256 over the sources dist/ is built from (viewer/, report-model/src, their
# manifests, Trunk.toml). build-viewer.sh stores it in dist/SOURCE_HASH; a test compares.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
git ls-files -co --exclude-standard -- viewer report-model/src report-model/Cargo.toml Trunk.toml \
  | LC_ALL=C sort | while read -r f; do [ -f "$f" ] && { printf '%s\n' "$f"; sha256sum < "$f"; }; done \
  | sha256sum | cut -d' ' -f1
