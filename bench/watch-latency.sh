#!/usr/bin/env bash
# bench/watch-latency.sh - `prebake watch` latency beside esbuild's context.watch() and
# context.rebuild(), in one run, on one generated project.
#
# The project (made by bench/watch-latency.mjs, deterministic): ~MODULES TS/JS modules in a DAG
# under 5 entry points that reach ~300 modules each, 8 shared utility modules, and 5 entry
# stylesheets that @import 10 partials each. For each tool the driver edits a JS leaf module
# (two in turn) EDITS times and a CSS partial EDITS times, and takes the time from just before
# the write to the new manifest being in place (prebake: its build-end JSON line, printed after
# the manifest rename; esbuild: onEnd, after it wrote its metafile by temp + rename), checking
# each time that the entry's new output holds the edit. It prints p50/p95/max per tool and edit
# kind, the prebake/esbuild ratios and whether prebake meets the targets (p50 <= 50 ms,
# p95 <= 100 ms), and for prebake a no-op save (same bytes) and the time SIGTERM takes.
# Run with --help for the knobs.
set -euo pipefail
export LC_ALL=C

usage() {
  cat <<'EOF'
usage: bench/watch-latency.sh [--help]

Measures edit-to-manifest latency of `prebake watch --format json` and, in the same run and
on the same generated project, of esbuild's context.watch() and context.rebuild(). The phases
run one after the other, each on a fresh copy of the project. Prints a Markdown table (p50,
p95, max, n per tool and edit kind; prebake/esbuild ratios; the targets p50 <= 50 ms and
p95 <= 100 ms for prebake) and writes table.md, samples.json (every sample),
prebake-events.jsonl, prebake-stderr.log and environment.txt to
$BENCH_HOME/results/watch-<utc>/. Exits 1 if a phase fails (a timeout prints the last 20
events and the watcher's stderr); a missed target is reported, not an error.

On first use it installs the pinned esbuild (from shared/bench/tools/package-lock.json) into
$BENCH_HOME/tools-compare, like bench/compare.sh, and builds prebake with
`cargo build --release --bin prebake` if PREBAKE_BIN is unset and target/release/prebake is
missing.

environment:
  EDITS=40          edits per row (JS leaf, CSS partial); p95 needs about 20 or more
  MODULES=1000      JS/TS modules of the generated project (entries and utilities included)
  ONLY=.            ERE over the phases prebake.watch esbuild.watch esbuild.rebuild,
                    e.g. ONLY=esbuild, ONLY=prebake
  PREBAKE_BIN       prebake binary (default target/release/prebake of this repo; must know `watch`)
  DEBOUNCE          pass --debounce MS to prebake watch (default: prebake's own, 20 ms)
  QUIET_MS=150      quiet time before each edit, so edits do not coalesce
  TIMEOUT_MS=10000  longest wait for any one event (the initial builds get at least 60 s)
  BENCH_HOME        tools and results (default ~/.cache/prebake-bench)
  PREBAKE_SHARED    the shared/ checkout (default: ../shared beside the repo root)
  OUTROOT           where the project and outputs go (default /dev/shm/prebake-watch-bench,
                    else /tmp/prebake-watch-bench)
  KEEP_OUT=1        keep the project and outputs (their path is printed)
  RESULTS           results dir (default $BENCH_HOME/results/watch-<utc>)
EOF
}
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  "") ;;
  *) usage >&2; exit 2 ;;
esac

if [[ -t 2 ]]; then B=$'\033[1m' Y=$'\033[1;33m' R=$'\033[1;31m' N=$'\033[0m'; else B='' Y='' R='' N=''; fi
log()  { printf '%s[watch-latency]%s %s\n' "$B" "$N" "$*" >&2; }
warn() { printf '%s[watch-latency] WARNING:%s %s\n' "$Y" "$N" "$*" >&2; }
die()  { printf '%s[watch-latency] ERROR:%s %s\n' "$R" "$N" "$*" >&2; exit 1; }

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED_BENCH=$(realpath -m "${PREBAKE_SHARED:-$ROOT/../shared}")/bench
BENCH_HOME=$(realpath -m "${BENCH_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/prebake-bench}")
TOOLS=$BENCH_HOME/tools-compare
EDITS=${EDITS:-40}; MODULES=${MODULES:-1000}; ONLY=${ONLY:-.}; DEBOUNCE=${DEBOUNCE:-}
QUIET_MS=${QUIET_MS:-150}; TIMEOUT_MS=${TIMEOUT_MS:-10000}
if [[ -z "${OUTROOT:-}" && -d /dev/shm && -w /dev/shm ]]; then OUTROOT=/dev/shm/prebake-watch-bench; fi
OUTROOT=$(realpath -m "${OUTROOT:-/tmp/prebake-watch-bench}")
RESULTS=$(realpath -m "${RESULTS:-$BENCH_HOME/results/watch-$(date -u +%Y%m%dT%H%M%SZ)}")
PHASES=(prebake.watch esbuild.watch esbuild.rebuild)

# ------------------------------------------------------------------ checks
for v in EDITS MODULES QUIET_MS TIMEOUT_MS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer (got '${!v}')"
done
(( EDITS >= 1 )) || die "EDITS must be at least 1"
(( MODULES >= 60 )) || die "MODULES must be at least 60"
[[ -z "$DEBOUNCE" || "$DEBOUNCE" =~ ^[0-9]+$ ]] || die "DEBOUNCE must be a non-negative integer (got '$DEBOUNCE')"
(( EDITS >= 20 )) || warn "EDITS=$EDITS: p95 over fewer than 20 samples is close to the maximum"
rc=0; [[ "" =~ $ONLY ]] || rc=$?
(( rc != 2 )) || die "ONLY is not a valid extended regular expression: '$ONLY'"
selected() { [[ "$1" =~ $ONLY ]]; }
SEL=(); for p in "${PHASES[@]}"; do selected "$p" && SEL+=("$p"); done
(( ${#SEL[@]} )) || die "ONLY='$ONLY' selects nothing; phases: ${PHASES[*]}"
for c in node npm realpath; do command -v "$c" >/dev/null || die "$c not found (needed by this script)"; done

# ------------------------------------------------------------------ esbuild (pinned, shared with compare.sh)
ESBUILD_PKG=
if selected esbuild.watch || selected esbuild.rebuild; then
  [[ -f "$SHARED_BENCH/tools/package-lock.json" ]] ||
    die "shared bench tools not found in $SHARED_BENCH (clone shared/ beside the repo, or set PREBAKE_SHARED)"
  # shellcheck source=bench/esbuild-tools.sh
  source "$HERE/esbuild-tools.sh"
  ensure_esbuild "$SHARED_BENCH" "$TOOLS" "$(pinned_esbuild_version "$SHARED_BENCH")"
  ESBUILD_PKG=$TOOLS/node_modules/esbuild
fi

# ------------------------------------------------------------------ prebake
P=
if selected prebake.watch; then
  if [[ -n "${PREBAKE_BIN:-}" ]]; then
    P=$(command -v "$PREBAKE_BIN" || true)
    [[ -n "$P" && -x "$P" ]] || die "PREBAKE_BIN=$PREBAKE_BIN is not an executable"
  else
    P=${CARGO_TARGET_DIR:-$ROOT/target}/release/prebake
    if [[ ! -x "$P" ]]; then
      command -v cargo >/dev/null || die "no $P and cargo not found: install Rust or set PREBAKE_BIN"
      log "no $P: cargo build --release --bin prebake (in $ROOT)"
      (cd "$ROOT" && cargo build --release --bin prebake) >&2 || die "cargo build --release --bin prebake failed"
      [[ -x "$P" ]] || die "cargo build succeeded but there is no $P"
    fi
  fi
  P=$(realpath "$P")
  "$P" watch --help >/dev/null 2>&1 ||
    die "$P does not know \`watch\` (an older build?): rebuild it (cargo build --release --bin prebake) or set PREBAKE_BIN"
fi

# ------------------------------------------------------------------ environment record
mkdir -p "$RESULTS" "$OUTROOT"
log "results: $RESULTS"
{
  echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -srm); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); cores: $(nproc)"
  echo "loadavg_at_start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "node: $(node --version); esbuild: $(if [[ -n "$ESBUILD_PKG" ]]; then "$TOOLS/node_modules/.bin/esbuild" --version; else echo "not run"; fi)"
  if [[ -n "$P" ]]; then
    pv=$("$P" --version 2>/dev/null | head -n1) || pv=
    echo "prebake: $P (${pv:-no --version}); git: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo 'no commit')"
  else
    echo "prebake: not run (ONLY='$ONLY')"
  fi
  echo "phases: ${SEL[*]}; EDITS=$EDITS MODULES=$MODULES QUIET_MS=$QUIET_MS${DEBOUNCE:+ DEBOUNCE=$DEBOUNCE}; project in $OUTROOT"
} | tee "$RESULTS/environment.txt" >&2
load1=$(cut -d' ' -f1 /proc/loadavg)
awk -v l="$load1" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }' &&
  warn "load average $load1 on $(nproc) cores: other processes are running, expect noisy latencies"

# ------------------------------------------------------------------ run
args=(--outroot "$OUTROOT" --results "$RESULTS" --edits "$EDITS" --modules "$MODULES"
      --quiet "$QUIET_MS" --timeout "$TIMEOUT_MS" --only "$ONLY")
[[ -n "$P" ]] && args+=(--prebake "$P")
[[ -n "$ESBUILD_PKG" ]] && args+=(--esbuild "$ESBUILD_PKG")
[[ -n "$DEBOUNCE" ]] && args+=(--debounce "$DEBOUNCE")
if [[ "${KEEP_OUT:-}" == 1 ]]; then
  args+=(--keep)
  log "KEEP_OUT=1: the project and its outputs stay in $OUTROOT/project"
fi
node "$HERE/watch-latency.mjs" "${args[@]}" || die "the benchmark failed (see above; partial logs in $RESULTS)"
log "results: $RESULTS ($(cd "$RESULTS" && echo *))"
