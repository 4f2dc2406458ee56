#!/usr/bin/env bash
# Installs what prebake's test suite needs on a fresh Debian machine:
#   - strace                      (apt)
#   - chromium                    (apt; used headless by tests/browser/check.mjs)
#   - tests/browser/node_modules  (npm ci: playwright-core only, no browser download)
#   - tests/bundle/node_modules   (npm ci: esbuild and the real packages that
#                                  tests/bundle/run.mjs bundles)
#   - tests/apps/*/node_modules   (npm ci: the run-time packages of the
#                                  TodoMVC apps that tests/real_apps.rs builds)
# Idempotent and quiet on success: prints one line per thing it installed.
# Needs Node.js (node + npm) on PATH; apt installs need root.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
browser_dir="$here/browser"
bundle_dir="$here/bundle"
apps_dir="$here/apps"

die() { echo "tests/setup.sh: error: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 || die "Node.js ('node') not found on PATH; install Node.js >= 20"
command -v npm >/dev/null 2>&1 || die "npm not found on PATH; install npm alongside Node.js >= 20"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js >= 20 required, found $(node --version)"

# --- apt packages ---------------------------------------------------------
missing=()
command -v strace >/dev/null 2>&1 || missing+=(strace)
# PREBAKE_CHROMIUM (an executable path) overrides the default /usr/bin/chromium.
if [ -n "${PREBAKE_CHROMIUM:-}" ]; then
    [ -x "$PREBAKE_CHROMIUM" ] || die "PREBAKE_CHROMIUM=$PREBAKE_CHROMIUM is not an executable"
elif [ ! -x /usr/bin/chromium ]; then
    missing+=(chromium)
fi

if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 \
        || die "apt-get not available; install manually: ${missing[*]}"
    [ "$(id -u)" -eq 0 ] || die "must run as root to apt-get install: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    log="$(mktemp)"
    trap 'rm -f "$log"' EXIT
    # Output goes to a log that is shown only on failure (debconf is chatty).
    apt-get update -qq >"$log" 2>&1 \
        || { cat "$log" >&2; die "apt-get update failed"; }
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1 \
        || { cat "$log" >&2; die "apt-get install failed: ${missing[*]}"; }
    for p in "${missing[@]}"; do echo "installed $p (apt)"; done
fi

# --- npm packages for the browser checker ----------------------------------
if [ ! -d "$browser_dir/node_modules/playwright-core" ]; then
    (cd "$browser_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
        || die "npm ci failed in $browser_dir"
    echo "installed tests/browser/node_modules (npm ci)"
fi

# --- npm packages for the bundle execution tests ----------------------------
# Reinstalled whenever the lockfile changes (a stamp in node_modules holds
# the lockfile's hash), so a new test package reaches existing checkouts.
lock_hash="$(sha256sum "$bundle_dir/package-lock.json" | cut -d' ' -f1)"
stamp="$bundle_dir/node_modules/.prebake-lock-sha256"
if [ ! -d "$bundle_dir/node_modules/esbuild" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
    (cd "$bundle_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
        || die "npm ci failed in $bundle_dir"
    echo "$lock_hash" > "$stamp"
    echo "installed tests/bundle/node_modules (npm ci)"
fi

# --- npm packages of the real apps -------------------------------------------
# The same way: each app's node_modules is reinstalled when its lockfile changes.
for app_dir in "$apps_dir"/*/; do
    app_dir="${app_dir%/}"
    [ -f "$app_dir/package-lock.json" ] || continue
    app="${app_dir##*/}"
    lock_hash="$(sha256sum "$app_dir/package-lock.json" | cut -d' ' -f1)"
    stamp="$app_dir/node_modules/.prebake-lock-sha256"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
        (cd "$app_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
            || die "npm ci failed in $app_dir"
        echo "$lock_hash" > "$stamp"
        echo "installed tests/apps/$app/node_modules (npm ci)"
    fi
done
