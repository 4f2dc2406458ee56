#!/usr/bin/env bash
# bench/corpus-css.sh - every stylesheet package of the shared corpus through
# `prebake build` and `prebake check`: every url() must resolve to a file of
# the package (fonts, images), and the release must verify. Not a timing.
#
# usage: bench/corpus-css.sh [prebake binary]   (default: target/release/prebake)
# The corpus is built by ../shared/bench/make-corpus.sh into
# ${BENCH_HOME:-$HOME/.cache/prebake-bench}/corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/prebake}"
corpus="${BENCH_HOME:-$HOME/.cache/prebake-bench}/corpus/css"
[ -x "$bin" ] || { echo "no prebake binary at $bin (cargo build --release)" >&2; exit 2; }
[ -d "$corpus" ] || { echo "no corpus at $corpus (run ../shared/bench/make-corpus.sh)" >&2; exit 2; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
status=0
for pkg in "$corpus"/*/; do
  name="$(basename "$pkg")"
  # Foundation ships an IE hack (`@media screen and (min-width: 0\0)`), an
  # invalid media query; recovery drops that rule with a warning.
  extra=()
  [ "$name" = foundation ] && extra=(--css-error-recovery)
  if "$bin" build --no-config --root "$pkg" --out "$out/$name" --quiet "${extra[@]}" 2>"$out/$name.log" \
     && "$bin" check --no-config --out "$out/$name" --quiet; then
    urls="$(find "$out/$name" -name '*.css' -exec cat {} + | grep -o 'url(' | wc -l || true)"
    printf '%-16s ok (%s url() in outputs)\n' "$name" "$urls"
  else
    printf '%-16s FAILED\n' "$name"
    cat "$out/$name.log" >&2
    status=1
  fi
done
exit $status
