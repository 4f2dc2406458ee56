//! HTML pages as entry points, as in Vite and Parcel: what a page loads is
//! bundled (module scripts as modules, classic scripts as classic scripts),
//! package files it links are built under `_npm/`, and the page gets its
//! entries' preloads and stylesheets. The real apps that exercise all of it
//! in Chromium are in `tests/real_apps.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::process::Command;

use common::{Project, read_tree};

fn manifest(p: &Project) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(p.path().join("out/manifest.json")).unwrap()).unwrap()
}

/// Output text by manifest key.
#[track_caller]
fn output(p: &Project, logical: &str) -> String {
    let m = manifest(p);
    let file = m["assets"][logical]["file"]
        .as_str()
        .unwrap_or_else(|| panic!("no {logical} in {:#}", m["assets"]));
    fs::read_to_string(p.path().join("out").join(file)).unwrap()
}

fn node() -> bool {
    let found = Command::new("node").arg("--version").output().is_ok();
    if !found {
        eprintln!("skipped: node not found");
    }
    found
}

/// Parses `code` as a classic script (`node --check` on a `.cjs` file):
/// import and export are syntax errors there.
#[track_caller]
fn assert_classic_script(p: &Project, code: &str) {
    let f = p.path().join("check-classic.cjs");
    fs::write(&f, code).unwrap();
    let run = Command::new("node")
        .arg("--check")
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "not a classic script: {}\n{code}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn a_pages_module_scripts_are_entries_with_preloads_and_stylesheets() {
    let p = Project::new();
    p.write(
        "src/index.html",
        "<!doctype html><html><head><title>t</title>\
         <link rel=\"stylesheet\" href=\"base.css\">\
         <script type=\"module\" src=\"./one.ts\"></script></head>\
         <body><script type=\"module\" src=\"./two.ts\"></script></body></html>",
    )
    .write("src/base.css", "body { margin: 0 }\n")
    .write(
        "src/shared.ts",
        "export const shared = (s: string) => `shared ${s}`;\n",
    )
    .write(
        "src/one.ts",
        "import './one.css';\nimport { shared } from './shared';\nconsole.log(shared('one'));\n",
    )
    .write("src/one.css", ".one { color: red }\n")
    .write(
        "src/two.ts",
        "import { shared } from './shared';\nconsole.log(shared('two'));\n",
    );
    p.build(&["--no-config"]).assert_code(0);
    p.run(&["check", "--no-config", "--out", "out"])
        .assert_code(0);
    let m = manifest(&p);
    let assets = m["assets"].as_object().unwrap();
    // Two entries, their shared chunk, the entry's stylesheet.
    assert!(assets.contains_key("one.ts") && assets.contains_key("two.ts"));
    let chunk = assets
        .keys()
        .find(|k| k.starts_with("_chunks/"))
        .expect("a shared chunk");
    assert_eq!(m["assets"]["one.ts"]["css"], serde_json::json!(["one.css"]));
    let page = output(&p, "index.html");
    let file = |k: &str| m["assets"][k]["file"].as_str().unwrap().to_string();
    let integrity = |k: &str| m["assets"][k]["integrity"].as_str().unwrap().to_string();
    // The scripts point at their bundles, with integrity.
    assert!(
        page.contains(&format!(
            "<script type=\"module\" src=\"{}\" integrity=\"{}\"",
            file("one.ts"),
            integrity("one.ts")
        )),
        "{page}"
    );
    // Preload of the shared chunk and the entry's stylesheet, at the end
    // of <head>: after the page's own stylesheet.
    let preload = format!(
        "<link rel=\"modulepreload\" href=\"{}\" integrity=\"{}\" crossorigin=\"anonymous\">",
        file(chunk),
        integrity(chunk)
    );
    let style = format!(
        "<link rel=\"stylesheet\" href=\"{}\" integrity=\"{}\" crossorigin=\"anonymous\">",
        file("one.css"),
        integrity("one.css")
    );
    let at = |s: &str| page.find(s).unwrap_or_else(|| panic!("{s}\n{page}"));
    assert!(at(&preload) < at("</head>") && at(&style) < at("</head>"));
    assert!(at("base-") < at(&style), "{page}");
    assert_eq!(page.matches(&preload).count(), 1, "one preload: {page}");
    // No source is built on its own besides what the page and the bundles
    // make.
    let mut keys: Vec<&str> = assets.keys().map(String::as_str).collect();
    keys.retain(|k| !k.starts_with("_chunks/"));
    assert_eq!(
        keys,
        ["base.css", "index.html", "one.css", "one.ts", "two.ts"]
    );
}

#[test]
fn classic_scripts_stay_classic_scripts() {
    if !node() {
        return;
    }
    let p = Project::new();
    p.write(
        "src/index.html",
        "<!doctype html><script src=\"vendor.js\"></script>\
         <script src=\"app.ts\"></script><script type=\"text/javascript\" src=\"plain.js\"></script>",
    )
    // A UMD library: no import or export, a global for the page. Declared
    // as an entry too (the bug: it came out as an ES module).
    .write(
        "src/vendor.js",
        "(function (root, factory) {\n  if (typeof define === 'function' && define.amd) define([], factory);\n  \
         else if (typeof module === 'object' && module.exports) module.exports = factory();\n  \
         else root.Vendor = factory();\n}(this, function () { return { hi: function () { return 'hi'; } }; }));\n",
    )
    // A script that other classic scripts call: its names stay globals.
    .write("src/plain.js", "function helperForOthers() { return Vendor.hi(); }\n")
    // Written with import/export, loaded classically: bundled into an IIFE.
    .write("src/dep.ts", "export const greet = (s: string) => `hello ${s}`;\n")
    .write(
        "src/app.ts",
        "import { greet } from './dep';\nexport const unused = 1;\nconsole.log(greet('page'));\n",
    );
    p.build(&["--no-config", "--entry", "vendor.js"])
        .assert_code(0);
    p.run(&["check", "--no-config", "--out", "out"])
        .assert_code(0);
    let vendor = output(&p, "vendor.js");
    assert_classic_script(&p, &vendor);
    assert!(
        vendor.contains("root.Vendor") || vendor.contains(".Vendor="),
        "{vendor}"
    );
    let plain = output(&p, "plain.js");
    assert_classic_script(&p, &plain);
    assert!(plain.contains("function helperForOthers("), "{plain}");
    let app = output(&p, "app.ts");
    assert_classic_script(&p, &app);
    let run = Command::new("node").args(["-e", &app]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "hello page\n");
}

#[test]
fn pages_reach_into_packages_by_path_and_by_name() {
    let p = Project::new();
    p.write(
        "node_modules/look/package.json",
        r#"{ "name": "look", "version": "1.0.0" }"#,
    )
    .write(
        "node_modules/look/theme.css",
        "@font-face { font-family: x; src: url(fonts/x.woff2) }\nbody { font-family: x }\n",
    )
    .write("node_modules/look/fonts/x.woff2", "font bytes")
    .write(
        "node_modules/look/legacy.js",
        "var Legacy = { ok: true };\n",
    )
    .write(
        "node_modules/look/more.css",
        ".more { background: url(\"./img/m.png\") }\n",
    )
    .write("node_modules/look/img/m.png", "png bytes")
    .write(
        "index.html",
        "<!doctype html><head>\
         <link rel=\"stylesheet\" href=\"look/theme.css\">\
         <link rel=\"stylesheet\" href=\"node_modules/look/more.css\">\
         </head><script src=\"node_modules/look/legacy.js\"></script>",
    )
    .write("prebake.toml", "root = \".\"\nout = \"out\"\n");
    p.run(&["build"]).assert_code(0);
    p.run(&["check"]).assert_code(0);
    let m = manifest(&p);
    let keys: Vec<&String> = m["assets"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "_npm/look/fonts/x.woff2",
            "_npm/look/img/m.png",
            "_npm/look/legacy.js",
            "_npm/look/more.css",
            "_npm/look/theme.css",
            "index.html"
        ]
    );
    let page = output(&p, "index.html");
    for k in [
        "_npm/look/theme.css",
        "_npm/look/more.css",
        "_npm/look/legacy.js",
    ] {
        let file = m["assets"][k]["file"].as_str().unwrap();
        assert!(page.contains(file), "{k}: {page}");
    }
    let theme = output(&p, "_npm/look/theme.css");
    let font = m["assets"]["_npm/look/fonts/x.woff2"]["file"]
        .as_str()
        .unwrap();
    assert!(theme.contains(font.rsplit('/').next().unwrap()), "{theme}");
}

#[test]
fn a_page_module_that_imports_a_missing_package_fails_the_build() {
    let p = Project::new();
    p.write(
        "src/index.html",
        "<script type=\"module\" src=\"main.js\"></script>",
    )
    .write(
        "src/main.js",
        "import pad from 'left-pad';\nconsole.log(pad);\n",
    );
    p.build(&["--no-config"])
        .assert_code(1)
        .assert_stderr_has("UNRESOLVED_IMPORT")
        .assert_stderr_has("src/main.js:1:17");
}

#[test]
fn with_an_import_map_modules_stay_per_file_and_unmapped_bare_imports_warn() {
    let p = Project::new();
    p.write(
        "src/index.html",
        "<script type=\"importmap\">{\"imports\": {\"react\": \"./vendor/react.js\"}}</script>\
         <script type=\"module\" src=\"main.js\"></script>",
    )
    .write("src/vendor/react.js", "export const createElement = () => 1;\n")
    .write(
        "src/main.js",
        "import { createElement } from 'react';\nimport dayjs from 'dayjs';\nconsole.log(createElement, dayjs);\n",
    );
    let run = p.build(&["--no-config"]);
    run.assert_code(0)
        .assert_stderr_has("warning[BARE_UNMAPPED]")
        .assert_stderr_has("src/main.js:2:19");
    assert!(!run.stderr.contains("`react`"), "{}", run.stderr);
    // Per-file: the module keeps its bare imports for the map.
    assert!(output(&p, "main.js").contains("from\"react\""));
}

#[test]
fn scripts_no_page_reaches_are_not_built() {
    let p = Project::new();
    // Compiled output committed beside its source, as old TypeScript
    // projects do: only what the page reaches is built, so no collision.
    p.write(
        "src/index.html",
        "<script type=\"module\" src=\"app.ts\"></script>",
    )
    .write(
        "src/app.ts",
        "import { x } from './lib';\nconsole.log(x);\n",
    )
    .write("src/app.js", "var x = require('./lib');\n")
    .write("src/lib.ts", "export const x: number = 1;\n")
    .write("src/lib.js", "exports.x = 1;\n");
    p.build(&["--no-config"]).assert_code(0);
    let keys: Vec<String> = manifest(&p)["assets"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, ["app.ts", "index.html"]);
}

#[test]
fn one_script_loaded_as_module_and_as_classic_script_is_an_error() {
    let p = Project::new();
    p.write(
        "src/a.html",
        "<script type=\"module\" src=\"app.js\"></script>",
    )
    .write("src/b.html", "<p>\n<script src=\"app.js\"></script>")
    .write("src/app.js", "export const a = 1;\n");
    p.build(&["--no-config"])
        .assert_code(1)
        .assert_stderr_has("error[SCRIPT_KIND]")
        .assert_stderr_has("src/b.html:2:14");
}

#[test]
fn an_error_inside_an_entry_is_not_also_a_missing_file() {
    let p = Project::new();
    p.write(
        "src/index.html",
        "<script type=\"module\" src=\"app.js\"></script>",
    )
    .write("src/app.js", "import './broken.css';\n")
    .write(
        "src/broken.css",
        ".a { color: red; @@@; background: blue }\n",
    );
    let run = p.build(&["--no-config"]);
    run.assert_code(1);
    assert!(!run.stderr.contains("MISSING_TARGET"), "{}", run.stderr);
    // Declared entries too.
    let q = Project::new();
    q.write("src/index.html", "<script src=\"app.js\"></script>")
        .write(
            "src/app.js",
            "import { nope } from './dep.js';\nconsole.log(nope);\n",
        )
        .write("src/dep.js", "export const yes = 1;\n");
    let run = q.build(&["--no-config", "--entry", "app.js"]);
    run.assert_code(1).assert_stderr_has("MISSING_EXPORT");
    assert!(!run.stderr.contains("MISSING_TARGET"), "{}", run.stderr);
}

#[test]
fn an_entry_stylesheet_never_takes_another_name() {
    let p = Project::new();
    // `app.css` is not imported by app.ts: the entry's stylesheet cannot
    // be `app.css`, and it is not quietly renamed `app.ts.css` either.
    p.write("src/app.ts", "import './theme.css';\n")
        .write("src/theme.css", ".t { color: red }\n")
        .write("src/app.css", ".a { color: blue }\n");
    p.build(&["--no-config", "--entry", "app.ts"])
        .assert_code(1)
        .assert_stderr_has("error[NAME_COLLISION]")
        .assert_stderr_has("`app.css`");
    // Imported by the entry, the name is the entry's stylesheet's.
    let q = Project::new();
    q.write("src/app.ts", "import './app.css';\n")
        .write("src/app.css", ".a { color: blue }\n");
    q.build(&["--no-config", "--entry", "app.ts"])
        .assert_code(0);
    let css: BTreeMap<String, serde_json::Value> =
        serde_json::from_value(manifest(&q)["assets"].clone()).unwrap();
    assert!(css.contains_key("app.css"));
    assert_eq!(css["app.ts"]["css"], serde_json::json!(["app.css"]));
    let _ = read_tree(&q.path().join("out"));
}

#[test]
fn root_relative_urls_resolve_from_the_root_and_its_public_dir_as_in_vite() {
    let p = Project::new();
    // Vite's template: `/src/main.tsx`, `/favicon.svg` from `public/`, and
    // an import of `/src/…`.
    p.write(
        "index.html",
        "<!doctype html><head><link rel=\"icon\" href=\"/favicon.svg\"></head>\
         <body><script type=\"module\" src=\"/src/main.ts\"></script></body>",
    )
    .write("public/favicon.svg", "<svg/>")
    .write(
        "src/main.ts",
        "import { a } from '/src/lib.ts';\nimport logo from '/logo.png';\nconsole.log(a, logo);\n",
    )
    .write("src/lib.ts", "export const a = 1;\n")
    .write("public/logo.png", "png")
    .write("prebake.toml", "root = \".\"\nout = \"out\"\n");
    p.run(&["build"]).assert_code(0);
    p.run(&["check"]).assert_code(0);
    let m = manifest(&p);
    let page = output(&p, "index.html");
    for k in ["src/main.ts", "public/favicon.svg"] {
        let file = m["assets"][k]["file"].as_str().unwrap();
        assert!(page.contains(&format!("\"{file}\"")), "{k}: {page}");
    }
    assert!(output(&p, "src/main.ts").contains("/public/logo-"));
    // Never a path of the machine: an absolute import that names no file
    // of the root is an error.
    p.write("src/main.ts", "import '/etc/hostname';\n");
    p.run(&["build"])
        .assert_code(1)
        .assert_stderr_has("UNRESOLVED_IMPORT")
        .assert_stderr_has("src/main.ts:1:8");
}
