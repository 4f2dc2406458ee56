#!/usr/bin/env bash
# bench/manifest-load.sh [N] - how long the runtime reader takes to load a
# manifest of N entries (default 10,000), beside serde_json parsing the same
# text into a Value, in one run. The issue's target: well under 10 ms for
# 10,000 entries. Builds bench/manifest-load (the reader alone, no compiler)
# in release mode into its own target dir.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cargo run -q --release --manifest-path "$here/manifest-load/Cargo.toml" \
  --target-dir "$here/manifest-load/target" -- "${1:-10000}"
