//! Bundles behave like their sources: `tests/bundle/run.mjs` builds every
//! `fixtures/bundle-exec/<case>/` (minified and `--no-minify`) and runs it
//! under node against the case's `expected.txt` (node's own output on the
//! unbundled sources), then bundles real packages (three, lodash-es, preact,
//! rxjs from its TypeScript sources, react + react-dom/server) with prebake
//! and with esbuild and requires both bundles to print the same. With
//! Chromium available it also runs the package bundles in the browser.
//!
//! Needs `tests/bundle/node_modules` (and, for the browser leg, Debian's
//! chromium and `tests/browser/node_modules`), which `tests/setup.sh`
//! installs. `PREBAKE_SKIP_BUNDLE_EXEC=1` skips this test;
//! `PREBAKE_SKIP_BROWSER=1` keeps it but leaves out the browser leg.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs::File;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::repo;

/// The whole runner: about 25 builds, each bundle run under node (and a
/// page per package bundle in Chromium), on a 2-core machine.
const LIMIT: Duration = Duration::from_secs(20 * 60);

fn skip() -> bool {
    if std::env::var_os("PREBAKE_SKIP_BUNDLE_EXEC").is_some() {
        eprintln!("PREBAKE_SKIP_BUNDLE_EXEC is set: bundle execution test skipped");
        return true;
    }
    assert!(
        repo().join("tests/bundle/node_modules/esbuild").is_dir(),
        "tests/bundle/node_modules is missing: run tests/setup.sh first (or set PREBAKE_SKIP_BUNDLE_EXEC=1)"
    );
    false
}

#[test]
fn bundles_behave_like_their_sources() {
    if skip() {
        return;
    }
    let browser = std::env::var_os("PREBAKE_SKIP_BROWSER").is_none();
    if !browser {
        eprintln!(
            "PREBAKE_SKIP_BROWSER is set: bundle execution test runs without its browser leg"
        );
    }

    // Output goes to files, not pipes: a long failure report must not fill a
    // pipe and stall the runner.
    let logs = tempfile::Builder::new()
        .prefix("prebake-bundle-exec-log-")
        .tempdir()
        .expect("tempdir");
    let stdout_path = logs.path().join("stdout");
    let stderr_path = logs.path().join("stderr");
    let mut cmd = Command::new("node");
    cmd.current_dir(repo())
        .arg("tests/bundle/run.mjs")
        .args(["--prebake", common::bin()])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).unwrap())
        .stderr(File::create(&stderr_path).unwrap());
    if browser {
        cmd.arg("--browser");
    }
    let mut child = cmd
        .spawn()
        .expect("cannot run node (Node.js >= 20 must be on PATH)");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let Some(status) = status else {
        panic!(
            "tests/bundle/run.mjs did not finish within {LIMIT:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
    };
    // Always shown (cargo test prints it for failing tests, or with
    // --nocapture): one line per check, sizes, a summary.
    println!("{stdout}");
    assert_ne!(
        status.code(),
        Some(2),
        "the bundle harness itself failed (run tests/setup.sh?):\n{stderr}"
    );
    assert!(
        status.success(),
        "bundles do not behave like their sources ({status}):\n{stdout}\n--- stderr\n{stderr}"
    );
}
