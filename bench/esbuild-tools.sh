# bench/esbuild-tools.sh - the pinned esbuild of the benchmarks; sourced by compare.sh and
# watch-latency.sh, which define log and die before calling these functions.

# pinned_esbuild_version SHARED_BENCH -> prints the esbuild version shared/bench/tools pins
pinned_esbuild_version() {
  node -p 'require(process.argv[1]).dependencies.esbuild' "$1/tools/package.json"
}

# ensure_esbuild SHARED_BENCH TOOLS VERSION: TOOLS/node_modules holds esbuild VERSION, installed by
# npm ci with the integrity hashes of SHARED_BENCH/tools/package-lock.json (the anchors' lockfile).
ensure_esbuild() {
  local shared_bench=$1 tools=$2 version=$3 have start
  local cli=$tools/node_modules/.bin/esbuild
  have=$(node -p 'try { require(process.argv[1]).version } catch (e) { "" }' "$tools/node_modules/esbuild/package.json")
  if [[ "$have" != "$version" ]] || ! "$cli" --version >/dev/null 2>&1; then
    log "installing esbuild@$version into $tools (npm ci, integrity from shared/bench/tools/package-lock.json)"
    start=$SECONDS
    rm -rf "$tools"; mkdir -p "$tools"
    # package.json + the esbuild entries of the anchors' lockfile, so npm ci checks the same sha512s
    node - "$shared_bench/tools/package-lock.json" "$version" "$tools" <<'EOF'
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
    (cd "$tools" && npm ci --loglevel=error --no-audit --no-fund --no-update-notifier >&2) ||
      die "npm ci of esbuild@$version failed in $tools"
    log "esbuild installed in $((SECONDS - start)) s"
  fi
  [[ "$("$cli" --version)" == "$version" ]] || die "$cli does not report version $version"
}
