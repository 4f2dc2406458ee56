//! Bundling through the CLI: formats, determinism and configuration errors.
//! Semantics (cycles, interop, real packages) are in `tests/bundle_exec.rs`;
//! output shapes in the `bundle-*` snapshot fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Project, read_tree, repo};
use std::fs;
use std::process::Command;

/// The release manifest of `p`.
fn manifest(p: &Project) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(p.path().join("out/manifest.json")).unwrap()).unwrap()
}

/// Whether node is on PATH; says the test is skipped when it is not.
fn node_available() -> bool {
    let found = Command::new("node").arg("--version").output().is_ok();
    if !found {
        eprintln!("skipped: node not found");
    }
    found
}

/// Runs `main-*.js` of `p`'s release as an ES module under node; its
/// stdout (stderr in the panic message on failure).
fn run_main_module(p: &Project) -> String {
    let out = read_tree(&p.path().join("out"));
    let (_, code) = out.iter().find(|(k, _)| k.starts_with("main-")).unwrap();
    let run = Command::new("node")
        .args(["--input-type=module", "-e"])
        .arg(String::from_utf8_lossy(code).as_ref())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8_lossy(&run.stdout).into_owned()
}

#[test]
fn iife_bundle_assigns_the_entry_exports_to_its_global() {
    if !node_available() {
        return;
    }
    let p = Project::new();
    p.copy_tree(&repo().join("fixtures/build/bundle-iife/src"), "src");
    p.build(&[
        "--quiet",
        "--entry",
        "app.js",
        "--bundle-format",
        "iife",
        "--global-name",
        "App",
        "--define",
        "__VERSION__=\"1.2.3\"",
    ])
    .assert_code(0);
    let manifest = manifest(&p);
    let file = manifest["assets"]["app.js"]["file"].as_str().unwrap();
    let code = fs::read_to_string(p.path().join("out").join(file)).unwrap();
    // A classic script: no import/export statements, one global.
    assert!(
        !code.contains("export{") && !code.contains("import{"),
        "{code}"
    );
    let script = format!(
        "{code}\nApp.run().then((n) => console.log(App.version, n, Object.keys(App).sort().join()));"
    );
    let out = Command::new("node")
        .arg("-e")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "object 40\n1.2.3 44 run,version\n"
    );
}

#[test]
fn bundles_are_identical_whatever_the_thread_count_and_directory() {
    let build = |threads: &str| {
        let p = Project::new();
        p.copy_tree(&repo().join("fixtures/build/bundle-esm/src"), "src");
        p.build(&[
            "--quiet",
            "--entry",
            "main.ts",
            "--entry",
            "admin.ts",
            "--sourcemap",
            "linked",
            "--threads",
            threads,
        ])
        .assert_code(0);
        // Every chunk, map and reference checks out.
        p.run(&["check", "--out", "out"]).assert_code(0);
        read_tree(&p.path().join("out"))
    };
    let one = build("1");
    let four = build("4");
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        four.keys().collect::<Vec<_>>()
    );
    for (k, v) in &one {
        assert!(four[k] == *v, "{k} differs between builds");
    }
    // Maps name sources relative to themselves, never by absolute path.
    for (k, v) in &one {
        let text = String::from_utf8_lossy(v);
        assert!(!text.contains("/tmp/"), "{k} holds an absolute path");
    }
}

#[test]
fn with_entries_scripts_are_built_only_through_them() {
    let p = Project::new();
    p.write(
        "src/main.js",
        "import { x } from './lib.js';\nconsole.log(x);\n",
    )
    .write("src/lib.js", "export const x = 1;\n")
    .write(
        "src/other.js",
        "import { x } from './lib.js';\nconsole.log(x);\n",
    )
    .write("src/style.css", "a { color: red }\n");
    p.build(&["--quiet", "--entry", "main.js"]).assert_code(0);
    let manifest = fs::read_to_string(p.path().join("out/manifest.json")).unwrap();
    assert!(manifest.contains("\"main.js\""));
    assert!(
        !manifest.contains("\"other.js\""),
        "scripts are built only through entries"
    );
    assert!(!manifest.contains("\"lib.js\""), "{manifest}");
    assert!(
        manifest.contains("\"style.css\""),
        "stylesheets still build"
    );
}

#[test]
fn entry_and_define_mistakes_are_configuration_errors() {
    let p = Project::new();
    p.write("src/main.js", "console.log(1);\n")
        .write("src/style.css", "a{color:red}\n");
    p.build(&["--entry", "nope.js"])
        .assert_code(2)
        .assert_stderr_has("ENTRY_NOT_FOUND");
    p.build(&["--entry", "style.css"])
        .assert_code(2)
        .assert_stderr_has("ENTRY_KIND");
    p.build(&["--entry", "main.js", "--define", "API=not valid js ("])
        .assert_code(2)
        .assert_stderr_has("is not a JavaScript expression");
    p.build(&["--entry", "main.js", "--define", "a-b=1"])
        .assert_code(2)
        .assert_stderr_has("dotted global name");
    p.build(&[
        "--entry",
        "main.js",
        "--bundle-format",
        "iife",
        "--global-name",
        "not valid",
    ])
    .assert_code(2)
    .assert_stderr_has("global-name");
}

#[test]
fn entries_come_from_prebake_toml() {
    let p = Project::new();
    p.write("src/app.ts", "import { v } from './v';\nexport const out: number = v + 1;\n")
        .write("src/v.ts", "export const v = 1;\n")
        .write(
            "prebake.toml",
            "root = \"src\"\nout = \"out\"\nentries = [\"app.ts\"]\nformat = \"esm\"\n[define]\nDEBUG = \"false\"\n",
        );
    p.run(&["build", "--quiet"]).assert_code(0);
    let manifest = fs::read_to_string(p.path().join("out/manifest.json")).unwrap();
    assert!(
        manifest.contains("\"app.ts\"") && !manifest.contains("\"v.ts\""),
        "{manifest}"
    );
}

#[test]
fn bundle_maps_point_into_each_original_module() {
    let p = Project::new();
    p.copy_tree(&repo().join("fixtures/build/bundle-sourcemap/src"), "src");
    p.build(&["--quiet", "--entry", "main.ts", "--sourcemap", "linked"])
        .assert_code(0);
    let manifest = manifest(&p);
    let entry = &manifest["assets"]["main.ts"];
    let code =
        fs::read_to_string(p.path().join("out").join(entry["file"].as_str().unwrap())).unwrap();
    let map = swc_sourcemap::SourceMap::from_slice(
        &fs::read(p.path().join("out").join(entry["map"].as_str().unwrap())).unwrap(),
    )
    .unwrap();
    // Where each generated token sits, and where the map says it came from.
    let find = |needle: &str| -> (String, u32) {
        let (line, text) = code
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains(needle))
            .unwrap();
        let col = text.find(needle).unwrap();
        let t = map
            .lookup_token(u32::try_from(line).unwrap(), u32::try_from(col).unwrap())
            .unwrap();
        (t.get_source().unwrap().to_string(), t.get_src_line())
    };
    assert_eq!(find("console"), ("../src/main.ts".to_string(), 2));
    assert_eq!(find("return"), ("../src/math.ts".to_string(), 1));
}

#[test]
fn iife_entries_share_no_chunks() {
    if !node_available() {
        return;
    }
    let p = Project::new();
    p.write(
        "src/a.js",
        "import { s } from './shared.js';\nconsole.log('a', s);\n",
    )
    .write(
        "src/b.js",
        "import { s } from './shared.js';\nconsole.log('b', s);\n",
    )
    .write("src/shared.js", "export const s = 'shared';\n");
    p.build(&[
        "--quiet",
        "--entry",
        "a.js",
        "--entry",
        "b.js",
        "--bundle-format",
        "iife",
    ])
    .assert_code(0);
    let out = read_tree(&p.path().join("out"));
    let scripts: Vec<&String> = out
        .keys()
        .filter(|k| k.rsplit_once('.').is_some_and(|(_, e)| e == "js"))
        .collect();
    assert_eq!(scripts.len(), 2, "{scripts:?}");
    for (name, expected) in [("a-", "a shared\n"), ("b-", "b shared\n")] {
        let file = scripts.iter().find(|k| k.starts_with(name)).unwrap();
        let run = Command::new("node")
            .arg(p.path().join("out").join(file))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&run.stdout), expected);
    }
}

#[test]
fn a_namespace_import_re_exported_is_a_real_object() {
    if !node_available() {
        return;
    }
    // esbuild's three.js x10 benchmark has this shape:
    // `import * as copy1 from './copy1/Three.js'; export { copy1 }`.
    for minify in [true, false] {
        let p = Project::new();
        p.write(
            "src/e.js",
            "import * as ns from './x.js';\nexport { ns };\n",
        )
        .write(
            "src/x.js",
            "export const a = 1;\nexport function b() { return 2; }\n",
        );
        let mut args = vec![
            "--quiet",
            "--entry",
            "e.js",
            "--bundle-format",
            "iife",
            "--global-name",
            "G",
        ];
        if !minify {
            args.push("--no-minify");
        }
        p.build(&args).assert_code(0);
        let out = read_tree(&p.path().join("out"));
        let (_, code) = out.iter().find(|(k, _)| k.starts_with("e-")).unwrap();
        let script = format!(
            "{}\nconsole.log(G.ns.a, G.ns.b(), Object.keys(G.ns).join());",
            String::from_utf8_lossy(code)
        );
        let run = Command::new("node")
            .arg("-e")
            .arg(&script)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&run.stdout),
            "1 2 a,b\n",
            "minify {minify}"
        );
    }
}

#[test]
fn require_of_json_returns_its_value() {
    if !node_available() {
        return;
    }
    for minify in ["--minify", "--no-minify"] {
        let p = Project::new();
        p.write("src/d.json", "{\"name\":\"x\",\"list\":[1,2]}\n")
        .write("src/c.cjs", "module.exports = require('./d.json').name;\n")
        .write(
            "src/main.js",
            "import c from './c.cjs';\nimport d from './d.json';\nconst r = require('./d.json');\nconsole.log(d.name, c, r.list.length, d === r);\n",
        );
        p.build(&["--quiet", "--entry", "main.js", minify])
            .assert_code(0);
        assert_eq!(run_main_module(&p), "x x 2 true\n", "{minify}");
    }
}

#[test]
fn a_worker_url_names_a_chunk_of_its_own() {
    let p = Project::new();
    p.write(
        "src/main.ts",
        "new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });\n",
    )
    .write(
        "src/worker.ts",
        "import { add } from './math';\nself.postMessage(add(1, 2));\n",
    )
    .write(
        "src/math.ts",
        "export const add = (a: number, b: number) => a + b;\n",
    );
    p.build(&["--quiet", "--entry", "main.ts"]).assert_code(0);
    let manifest = manifest(&p);
    let worker = manifest["assets"]["worker.ts"]["file"].as_str().unwrap();
    let main = manifest["assets"]["main.ts"]["file"].as_str().unwrap();
    let code = fs::read_to_string(p.path().join("out").join(main)).unwrap();
    assert!(
        code.contains(&format!("new URL(\"./{worker}\",import.meta.url)")),
        "{code}"
    );
    let worker_code = fs::read_to_string(p.path().join("out").join(worker)).unwrap();
    assert!(
        worker_code.contains("postMessage") && !worker_code.contains("import"),
        "{worker_code}"
    );
}

#[test]
fn asset_urls_the_minifier_folds_into_longer_strings_are_still_rewritten() {
    let p = Project::new();
    p.write("src/logo.svg", "<svg/>\n").write(
        "src/main.js",
        "import logo from './logo.svg';\nconst v = 1;\nconsole.log(logo + '?v=' + v, `${logo}#x`);\n",
    );
    p.build(&["--quiet", "--entry", "main.js"]).assert_code(0);
    let manifest = manifest(&p);
    let logo = manifest["assets"]["logo.svg"]["file"].as_str().unwrap();
    let main = manifest["assets"]["main.js"]["file"].as_str().unwrap();
    let code = fs::read_to_string(p.path().join("out").join(main)).unwrap();
    assert!(!code.contains("__prebake_ref_"), "{code}");
    assert!(code.contains(&format!("/assets/{logo}?v=1")), "{code}");
    assert!(code.contains(&format!("/assets/{logo}#x")), "{code}");
}

#[test]
fn a_required_es_module_keeps_its_nested_vars_as_module_bindings() {
    if !node_available() {
        return;
    }
    // lazy.js is require()d, so it runs in an __esm closure with its
    // bindings hoisted out; its loop and block vars are bindings too.
    for minify in ["--minify", "--no-minify"] {
        let p = Project::new();
        p.write(
            "src/lazy.js",
            "const seen = [];\nfor (var i = 0; i < 3; i++) seen.push(i);\nfor (var k in { a: 1 }) seen.push(k);\n{ var blockVar = 'b'; }\nexport function report() { return [i, k, blockVar, seen.join('')].join(' '); }\n",
        )
        .write("src/req.cjs", "module.exports = () => require('./lazy.js').report();\n")
        .write("src/main.js", "import run from './req.cjs';\nconsole.log(run());\n");
        p.build(&["--quiet", "--entry", "main.js", minify])
            .assert_code(0);
        assert_eq!(run_main_module(&p), "3 a b 012a\n", "{minify}");
    }
}

#[test]
fn export_star_through_typescript_modules_is_not_ambiguous() {
    // mobx's internal.ts: many `export *` of TypeScript modules, most of
    // which do not export a given name.
    let p = Project::new();
    p.write(
        "src/main.ts",
        "import { spy } from './internal';\nconsole.log(spy);\n",
    )
    .write(
        "src/internal.ts",
        "export * from './spy';\nexport * from './other';\nexport * from './types';\n",
    )
    .write("src/spy.ts", "export const spy = 1;\n")
    .write("src/other.ts", "export const other = 2;\n")
    .write(
        "src/types.ts",
        "export interface Shape { x: number }\nexport type { Shape as Alias };\n",
    );
    p.build(&["--quiet", "--entry", "main.ts"]).assert_code(0);
}

#[test]
fn a_namespace_re_exported_by_a_side_effect_free_package_is_an_object() {
    if !node_available() {
        return;
    }
    // zod 3's shape: `import * as z from "./external"; export { z }` in a
    // package that declares no side effects, so its index is left out.
    for minify in ["--minify", "--no-minify"] {
        let p = Project::new();
        p.write(
            "src/node_modules/zodlike/package.json",
            "{\"name\":\"zodlike\",\"module\":\"index.js\",\"sideEffects\":false}\n",
        )
        .write(
            "src/node_modules/zodlike/index.js",
            "import * as z from './external.js';\nexport * from './external.js';\nexport { z };\nexport default z;\n",
        )
        .write("src/node_modules/zodlike/external.js", "export const string = () => 's';\n")
        .write(
            "src/main.js",
            "import { z } from 'zodlike';\nimport zz from 'zodlike';\nconsole.log(z.string(), typeof z, zz === z);\n",
        );
        p.build(&["--quiet", "--entry", "main.js", minify])
            .assert_code(0);
        assert_eq!(run_main_module(&p), "s object true\n", "{minify}");
    }
}

#[test]
fn hot_reload_guards_of_other_bundlers_compile_to_nothing() {
    if !node_available() {
        return;
    }
    let p = Project::new();
    p.write("src/dep.js", "export const value = 'dep';\n")
        .write(
            "src/main.js",
            "import { value } from './dep.js';\n\
         console.log(value);\n\
         if (module.hot) { module.hot.accept('./dep.js', () => console.log('webpack hot')); }\n\
         if (import.meta.hot) { import.meta.hot.accept(); }\n\
         console.log(typeof module);\n",
        );
    for minify in [true, false] {
        let out = if minify { "out" } else { "out-plain" };
        let mut args = vec!["--quiet", "--no-config", "--entry", "main.js", "--out", out];
        if !minify {
            args.push("--no-minify");
        }
        p.build(&args).assert_code(0);
        let tree = read_tree(&p.path().join(out));
        let (_, code) = tree.iter().find(|(k, _)| k.starts_with("main-")).unwrap();
        let code = String::from_utf8_lossy(code);
        // No free `module` left but the `typeof` probe, which is safe.
        assert!(!code.contains("hot"), "{code}");
        assert_eq!(code.matches("module").count(), 1, "{code}");
    }
    // (What `typeof module` says depends on the host: node's `-e` has one.)
    assert!(run_main_module(&p).starts_with("dep\n"));
}

#[test]
fn commonjs_left_in_an_es_module_is_a_located_warning() {
    let p = Project::new();
    p.write(
        "src/main.js",
        "export const a = 1;\nexports.b = 2;\nconst name = 'x';\nconst m = require(name);\n",
    );
    let run = p.build(&["--no-config", "--entry", "main.js"]);
    run.assert_code(0)
        .assert_stderr_has("warning[COMMONJS_IN_ESM]")
        .assert_stderr_has("src/main.js:2:1")
        .assert_stderr_has("warning[UNBUNDLED_REQUIRE]")
        .assert_stderr_has("src/main.js:4:11");
    // Packages are not the user's to fix: no warning for them.
    let q = Project::new();
    q.write(
        "node_modules/pkg/package.json",
        r#"{ "name": "pkg", "module": "index.js" }"#,
    )
    .write(
        "node_modules/pkg/index.js",
        "export const a = 1;\nexports.b = 2;\n",
    )
    .write("src/main.js", "import { a } from 'pkg';\nconsole.log(a);\n");
    let run = q.build(&["--no-config", "--entry", "main.js"]);
    run.assert_code(0);
    assert!(!run.stderr.contains("COMMONJS_IN_ESM"), "{}", run.stderr);
}
