//! T14 in a real browser: the demo's release, served from a loopback static
//! server, loads in headless Chromium with zero failed requests and zero
//! integrity errors, its `url()` font and images really load, its module
//! graph (import map included) runs; and a tampered byte is blocked.
//!
//! Needs Debian's chromium and `tests/browser/node_modules`, which
//! `tests/setup.sh` installs (the README's test command runs it first).
//! `PREBAKE_SKIP_BROWSER=1` skips these tests on a machine without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use common::{Project, repo};
use serde_json::Value;

fn skip() -> bool {
    if std::env::var_os("PREBAKE_SKIP_BROWSER").is_some() {
        eprintln!("PREBAKE_SKIP_BROWSER is set: browser test skipped");
        return true;
    }
    assert!(
        repo()
            .join("tests/browser/node_modules/playwright-core")
            .is_dir(),
        "tests/browser/node_modules is missing: run tests/setup.sh first (or set PREBAKE_SKIP_BROWSER=1)"
    );
    false
}

/// Runs the checker on `dir` served at `/assets/`; its JSON report.
fn check_page(dir: &Path, expect_blocked: Option<&str>) -> (i32, Value) {
    let mut c = Command::new("node");
    c.arg(repo().join("tests/browser/check.mjs"))
        .args(["--dir", dir.to_str().unwrap()])
        .args(["--base", "/assets/", "--page", "index.html"]);
    if let Some(s) = expect_blocked {
        c.args(["--expect-blocked", s]);
    }
    let o = common::output_within(c, std::time::Duration::from_secs(120))
        .expect("the browser check hung");
    let code = o.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_ne!(
        code,
        2,
        "browser harness failed (run tests/setup.sh?): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {stdout}"));
    (code, report)
}

fn demo_release() -> (Project, std::path::PathBuf) {
    let p = Project::new();
    p.copy_tree(&repo().join("fixtures/demo"), "src");
    p.build(&[]).assert_code(0);
    p.run(&["check", "--out", "out"]).assert_code(0);
    let out = p.path().join("out");
    (p, out)
}

/// A writable copy of a release with one byte of `file` changed.
fn tampered(out: &Path, file: &str, into: &Path) {
    common::copy_tree(out, into);
    let path = into.join(file);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = fs::read(&path).unwrap();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
    fs::write(&path, bytes).unwrap();
}

fn file_of(out: &Path, logical: &str) -> String {
    let m: Value = serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    m["assets"][logical]["file"].as_str().unwrap().to_string()
}

#[test]
fn t14_demo_page_loads_every_asset_with_integrity() {
    if skip() {
        return;
    }
    let (_p, out) = demo_release();
    let (code, report) = check_page(&out, None);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["scriptRan"], "1", "{report:#}");
    // Files reached only through CSS url()s and the import map loaded too.
    let resources: Vec<&str> = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for logical in [
        "fonts/demo.woff2",
        "images/logo.svg",
        "styles/site.css",
        "main.ts",
        "app.ts",
        "components/Button.tsx",
        "lib/format.ts",
        "vendor/jsx-runtime.js",
    ] {
        let url = format!("/assets/{}", file_of(&out, logical));
        assert!(
            resources.contains(&url.as_str()),
            "{logical} ({url}) was not fetched: {resources:?}"
        );
    }
}

#[test]
fn t14_a_tampered_script_or_stylesheet_is_blocked() {
    if skip() {
        return;
    }
    let (p, out) = demo_release();
    for logical in ["main.ts", "styles/site.css"] {
        let file = file_of(&out, logical);
        let copy = p
            .path()
            .join(format!("tampered-{}", logical.replace('/', "-")));
        tampered(&out, &file, &copy);
        // The untouched release passes; the tampered one must not.
        let (code, report) = check_page(&copy, None);
        assert_eq!(code, 1, "tampered {file} still loaded: {report:#}");
        let (code, report) = check_page(&copy, Some(&file));
        assert_eq!(code, 0, "tampered {file} was not blocked: {report:#}");
        assert!(
            report["integrityErrors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e.as_str().unwrap_or("").contains(&file)),
            "no integrity error names {file}: {report:#}"
        );
    }
}

#[test]
fn t22_odd_names_load_in_the_browser() {
    if skip() {
        return;
    }
    // Every file name that breaks naive escaping, reached from a page
    // (`<link>`, `<script src>`), a stylesheet (`url()`, checked through
    // `data-bg`) and a module (`new URL` + fetch, and an import).
    let p = common::escaping_project();
    p.build(&[]).assert_code(0);
    let out = p.path().join("out");
    let (code, report) = check_page(&out, None);
    assert_eq!(
        code,
        0,
        "{report:#}\n{}",
        fs::read_to_string(out.join("index.html")).unwrap()
    );
    assert_eq!(report["scriptRan"], "1");
}

#[test]
fn a_bundled_page_loads_its_chunks_and_a_lazy_chunk_brings_its_stylesheet() {
    if skip() {
        return;
    }
    let p = Project::new();
    p.write(
        "src/index.html",
        "<!doctype html><html><head><link rel=\"stylesheet\" href=\"main.css\">\
         <script type=\"module\" src=\"main.ts\"></script></head><body></body></html>\n",
    )
    .write(
        "src/main.ts",
        "import './base.css';\n\
         const el = document.createElement('div');\n\
         el.className = 'lazy';\n\
         document.body.append(el);\n\
         import('./lazy').then((m) => {\n\
           document.documentElement.dataset.prebakeRan = `${m.value} ${getComputedStyle(el).color} ${getComputedStyle(document.body).marginTop}`;\n\
         });\n",
    )
    .write("src/base.css", "body { margin-top: 7px }\n")
    .write("src/lazy.ts", "import './lazy.css';\nexport const value: number = 1;\n")
    .write("src/lazy.css", ".lazy { color: rgb(1, 2, 3) }\n");
    p.build(&["--quiet", "--entry", "main.ts"]).assert_code(0);
    let out = p.path().join("out");
    // The checker's `ok` wants scriptRan "1"; the page reports more.
    let (_, report) = check_page(&out, None);
    for list in [
        "failedRequests",
        "badStatus",
        "consoleErrors",
        "pageErrors",
        "integrityErrors",
        "externalRequests",
        "stylesheetsWithoutSheet",
    ] {
        assert_eq!(report[list], serde_json::json!([]), "{list}: {report:#}");
    }
    // The lazy chunk ran, and its stylesheet applied before it resolved.
    assert_eq!(report["scriptRan"], "1 rgb(1, 2, 3) 7px", "{report:#}");
}
