//! Module resolution for bundling (issue 4, part 2), against generated
//! projects with `node_modules` packages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::Project;
use prebake::bundle::resolve::{ModuleResolver, Request, Resolved};

fn project() -> Project {
    let p = Project::new();
    p.write("src/app.ts", "");
    p.write("src/a.ts", "");
    p.write("src/b.ts", "");
    p.write("src/dir/index.tsx", "");
    p.write("src/data.json", "{}");
    p.write("src/deep/er/x.ts", "");
    // Conditions, subpaths and patterns; "import" listed before "browser"
    // in one entry, so the package's order decides.
    p.write(
        "node_modules/cond/package.json",
        r#"{ "name": "cond", "exports": {
              ".": { "browser": "./browser.js", "import": "./esm.mjs", "require": "./cjs.cjs", "default": "./default.js" },
              "./sub": { "import": "./sub-esm.js", "browser": "./sub-browser.js" },
              "./feat/*": "./features/*.js",
              "./private/*": null
           } }"#,
    );
    for f in [
        "browser.js",
        "esm.mjs",
        "cjs.cjs",
        "default.js",
        "sub-esm.js",
        "sub-browser.js",
        "features/x.js",
        "private/y.js",
        "hidden.js",
    ] {
        p.write(&format!("node_modules/cond/{f}"), "");
    }
    // No exports: the main fields, in browser, module, main order; and the
    // browser field's replacements.
    p.write(
        "node_modules/legacy/package.json",
        r#"{ "name": "legacy", "main": "./lib/node.js", "module": "./lib/esm.js",
             "browser": { "./lib/esm.js": "./lib/browser.js", "fs": false } }"#,
    );
    for f in ["lib/node.js", "lib/esm.js", "lib/browser.js", "lib/util.js"] {
        p.write(&format!("node_modules/legacy/{f}"), "");
    }
    p.write(
        "node_modules/mainonly/package.json",
        r#"{ "name": "mainonly", "main": "dist/index" }"#,
    );
    p.write("node_modules/mainonly/dist/index.js", "");
    p.write(
        "node_modules/@scope/pkg/package.json",
        r#"{ "name": "@scope/pkg" }"#,
    );
    p.write("node_modules/@scope/pkg/index.js", "");
    p.write("node_modules/@scope/pkg/sub/thing.js", "");
    // A package's own node_modules wins for its files.
    p.write(
        "node_modules/outer/package.json",
        r#"{ "name": "outer", "main": "i.js" }"#,
    );
    p.write("node_modules/outer/i.js", "");
    p.write(
        "node_modules/outer/node_modules/inner/package.json",
        r#"{ "main": "n.js" }"#,
    );
    p.write("node_modules/outer/node_modules/inner/n.js", "");
    // Subpath imports.
    p.write(
        "package.json",
        r##"{ "name": "app", "imports": { "#util": { "browser": "./src/b.ts", "default": "./src/a.ts" } } }"##,
    );
    // tsconfig paths.
    p.write(
        "tsconfig.json",
        r#"{ "compilerOptions": { "baseUrl": ".", "paths": { "@app/*": ["src/deep/er/*"] } } }"#,
    );
    p
}

fn real(p: &Project, rel: &str) -> PathBuf {
    p.path().join(rel).canonicalize().unwrap()
}

#[track_caller]
fn resolves(r: &ModuleResolver, p: &Project, from: &str, spec: &str, req: Request, want: &str) {
    match r.resolve(&p.path().join(from), spec, req) {
        Ok(Resolved::File { path, .. }) => assert_eq!(path, real(p, want), "{spec} from {from}"),
        other => panic!("{spec} from {from}: {other:?}"),
    }
}

#[test]
fn relative_specifiers_probe_extensions_and_index() {
    let p = project();
    let r = ModuleResolver::new(p.path());
    let i = Request::Import;
    resolves(&r, &p, "src/app.ts", "./a", i, "src/a.ts");
    resolves(&r, &p, "src/app.ts", "./dir", i, "src/dir/index.tsx");
    resolves(&r, &p, "src/app.ts", "./b.js", i, "src/b.ts");
    resolves(&r, &p, "src/app.ts", "./data.json", i, "src/data.json");
    resolves(&r, &p, "src/deep/er/x.ts", "../../a", i, "src/a.ts");
    match r
        .resolve(&p.path().join("src/app.ts"), "./a?raw#top", i)
        .unwrap()
    {
        Resolved::File { suffix, .. } => assert_eq!(suffix, "?raw#top"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn exports_follow_conditions_in_the_package_order() {
    let p = project();
    let r = ModuleResolver::new(p.path());
    resolves(
        &r,
        &p,
        "src/app.ts",
        "cond",
        Request::Import,
        "node_modules/cond/browser.js",
    );
    resolves(
        &r,
        &p,
        "src/app.ts",
        "cond",
        Request::Require,
        "node_modules/cond/browser.js",
    );
    // `import` comes first in this entry: the package's order wins.
    resolves(
        &r,
        &p,
        "src/app.ts",
        "cond/sub",
        Request::Import,
        "node_modules/cond/sub-esm.js",
    );
    resolves(
        &r,
        &p,
        "src/app.ts",
        "cond/sub",
        Request::Require,
        "node_modules/cond/sub-browser.js",
    );
    resolves(
        &r,
        &p,
        "src/app.ts",
        "cond/feat/x",
        Request::Import,
        "node_modules/cond/features/x.js",
    );
    // Not exported, even though the file exists.
    for spec in ["cond/hidden.js", "cond/private/y"] {
        let e = r
            .resolve(&p.path().join("src/app.ts"), spec, Request::Import)
            .unwrap_err();
        assert!(e.message.contains("not exported"), "{spec}: {}", e.message);
    }
}

#[test]
fn main_fields_and_the_browser_field() {
    let p = project();
    let r = ModuleResolver::new(p.path());
    let i = Request::Import;
    // module → lib/esm.js, which the browser field replaces.
    resolves(
        &r,
        &p,
        "src/app.ts",
        "legacy",
        i,
        "node_modules/legacy/lib/browser.js",
    );
    resolves(
        &r,
        &p,
        "src/app.ts",
        "legacy/lib/util",
        i,
        "node_modules/legacy/lib/util.js",
    );
    resolves(
        &r,
        &p,
        "src/app.ts",
        "mainonly",
        i,
        "node_modules/mainonly/dist/index.js",
    );
    resolves(
        &r,
        &p,
        "src/app.ts",
        "@scope/pkg",
        i,
        "node_modules/@scope/pkg/index.js",
    );
    resolves(
        &r,
        &p,
        "src/app.ts",
        "@scope/pkg/sub/thing",
        i,
        "node_modules/@scope/pkg/sub/thing.js",
    );
    resolves(
        &r,
        &p,
        "node_modules/outer/i.js",
        "inner",
        i,
        "node_modules/outer/node_modules/inner/n.js",
    );
    // `"fs": false` in legacy's browser field: an empty module there.
    assert_eq!(
        r.resolve(
            &p.path().join("node_modules/legacy/lib/util.js"),
            "fs",
            Request::Require
        ),
        Ok(Resolved::Empty)
    );
}

#[test]
fn imports_field_and_tsconfig_paths() {
    let p = project();
    let r = ModuleResolver::new(p.path());
    resolves(&r, &p, "src/app.ts", "#util", Request::Import, "src/b.ts");
    resolves(
        &r,
        &p,
        "src/app.ts",
        "@app/x",
        Request::Import,
        "src/deep/er/x.ts",
    );
}

#[test]
fn failures_say_why_and_where_they_looked() {
    let p = project();
    let r = ModuleResolver::new(p.path());
    let from = p.path().join("src/app.ts");
    let e = r.resolve(&from, "./nope", Request::Import).unwrap_err();
    assert!(
        e.message.contains("cannot find module `./nope`"),
        "{}",
        e.message
    );
    let nope = p.path().join("src/nope");
    assert!(e.looked.iter().any(|l| l == &nope), "{:?}", e.looked);
    assert!(
        e.looked.iter().any(|l| l == &p.path().join("src/nope.ts")),
        "{:?}",
        e.looked
    );
    let e = r.resolve(&from, "left-pad", Request::Import).unwrap_err();
    assert!(
        e.looked
            .iter()
            .any(|l| l.ends_with(Path::new("node_modules/left-pad"))),
        "{:?}",
        e.looked
    );
    let e = r.resolve(&from, "fs", Request::Import).unwrap_err();
    assert!(e.message.contains("built-in"), "{}", e.message);
    // The diagnostic carries the location and the list.
    let d = e.diagnostic(
        "src/app.ts",
        "import fs from \"fs\";\n".into(),
        1,
        16,
        &|p| p.display().to_string(),
    );
    assert_eq!(d.code, "UNRESOLVED_IMPORT");
    // URLs are not modules to resolve.
    assert_eq!(
        r.resolve(&from, "https://esm.sh/x", Request::Import),
        Ok(Resolved::External)
    );
}
