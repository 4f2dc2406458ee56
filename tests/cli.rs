//! The command line as users meet it: help, flags, exit codes, messages.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Test code: casts of small counts and generated strings are fine here.
#![allow(
    clippy::cast_possible_truncation,
    clippy::similar_names,
    clippy::format_push_string,
    clippy::doc_markdown
)]

mod common;

use common::{Project, repo};
use std::fs;
use std::os::unix::fs::PermissionsExt;

#[test]
fn help_lists_commands_and_flags() {
    let p = Project::new();
    let r = p.run(&["--help"]);
    r.assert_code(0);
    assert!(
        r.stdout.contains("build") && r.stdout.contains("check"),
        "{}",
        r.stdout
    );
    let r = p.run(&["build", "--help"]);
    r.assert_code(0);
    for flag in [
        "--root",
        "--out",
        "--config",
        "--targets",
        "--no-minify",
        "--format",
    ] {
        assert!(
            r.stdout.contains(flag),
            "build --help lacks {flag}:\n{}",
            r.stdout
        );
    }
    p.run(&["check", "--help"]).assert_code(0);
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let p = Project::new();
    p.run(&["build", "--frobnicate"])
        .assert_code(2)
        .assert_stderr_has("--frobnicate");
}

#[test]
fn bad_config_key_names_key_and_file() {
    let p = Project::new();
    p.write("src/a.js", "export const a = 1;\n");
    p.write("prebake.toml", "root = \"src\"\nminfy = false\n");
    let r = p.run(&["build"]);
    r.assert_code(2)
        .assert_stderr_has("error[CONFIG_UNKNOWN_KEY]")
        .assert_stderr_has("unknown key `minfy`")
        .assert_stderr_has("prebake.toml:2:1")
        .assert_stderr_has("did you mean `minify`?");
}

#[test]
fn bad_config_value_names_key() {
    let p = Project::new();
    p.write("src/a.js", "1;\n");
    p.write("prebake.toml", "root = \"src\"\nhash-length = 8\n");
    p.run(&["build"])
        .assert_code(2)
        .assert_stderr_has("`hash-length`")
        .assert_stderr_has("prebake.toml:2:15");
    p.write("prebake.toml", "root = \"src\"\ntargets = \"chrom 80\"\n");
    p.run(&["build"])
        .assert_code(2)
        .assert_stderr_has("`targets`");
    p.write("prebake.toml", "root = 5\n");
    p.run(&["build"])
        .assert_code(2)
        .assert_stderr_has("key `root` must be a string")
        .assert_stderr_has("prebake.toml:1:8");
}

/// A config error names the flag as the user typed it, or the key in the
/// file with a code frame (messages once said `--entries` for `--entry`
/// and `--format` for `--bundle-format`). A value outside a key's set is
/// refused by clap as a flag, and with the file's other value errors in
/// the file.
#[test]
fn config_errors_name_the_flag_as_typed_or_the_key_in_the_file() {
    let p = Project::new();
    p.write("src/a.js", "export const a = 1;\n");
    p.run(&["build", "--root", "src", "--entry", "../x.js"])
        .assert_code(2)
        .assert_stderr_has("--entry: entry `../x.js` must be a path inside the root");
    p.run(&["build", "--root", "src", "--bundle-format", "cjs"])
        .assert_code(2)
        .assert_stderr_has("invalid value 'cjs' for '--bundle-format <FORMAT>'");
    p.write(
        "prebake.toml",
        "root = \"src\"\nformat = \"cjs\"\nbase = \"\"\n",
    );
    p.run(&["build"])
        .assert_code(2)
        .assert_stderr_has("`base` in prebake.toml: `` is not a URL prefix")
        .assert_stderr_has(
            "`format` in prebake.toml: unknown bundle format `cjs` (expected esm or iife)",
        )
        .assert_stderr_has("prebake.toml:2:10");
    // A flag overrides the file's value, good or not.
    p.write("prebake.toml", "root = \"src\"\nformat = \"cjs\"\n");
    p.run(&["build", "--bundle-format", "esm"]).assert_code(0);
    p.write("prebake.toml", "root = \"src\"\nentries = [\"../x.js\"]\n");
    p.run(&["build"])
        .assert_code(2)
        .assert_stderr_has(
            "`entries` in prebake.toml: entry `../x.js` must be a path inside the root",
        )
        .assert_stderr_has("prebake.toml:2:11");
}

#[test]
fn flags_override_the_config_file() {
    let p = Project::new();
    p.write("src/a.js", "export const answer = 40 + 2;\n");
    p.write(
        "prebake.toml",
        "root = \"src\"\nout = \"dist\"\nminify = true\n",
    );
    p.run(&["build", "--no-minify", "--out", "other"])
        .assert_code(0);
    assert!(!p.path().join("dist").exists());
    let m = prebake::Manifest::load(p.path().join("other/manifest.json")).unwrap();
    let file = &m.assets["a.js"].file;
    let js = fs::read_to_string(p.path().join("other").join(file)).unwrap();
    assert!(js.contains("40 + 2"), "not minified means not folded: {js}");
}

#[test]
fn syntax_error_exits_1_with_location() {
    let p = Project::new();
    p.write("src/ok.js", "export const ok = 1;\n");
    p.write("src/bad.js", "export const a = 1;\nlet x = ;\n");
    p.write("src/bad.css", ".a { color: red }\n.b { color: }\n}\n");
    let r = p.build(&[]);
    r.assert_code(1)
        .assert_stderr_has("error[JS_PARSE]")
        .assert_stderr_has("src/bad.js:2:9")
        .assert_stderr_has("error[CSS_PARSE]")
        .assert_stderr_has("src/bad.css:3:1");
    assert!(
        !p.path().join("out/manifest.json").exists(),
        "a failed build must not write a manifest"
    );
}

/// todomvc-app-css 2.4.3 has `.todoapp input::input-placeholder`, which no
/// browser knows; webpack, rollup and esbuild build it, and so must we.
#[test]
fn unknown_pseudo_element_of_todomvc_app_css_is_a_warning() {
    let p = Project::new();
    p.write(
        "src/app.css",
        ".todoapp input::-webkit-input-placeholder { color: gray }\n\
         .todoapp input::input-placeholder { color: gray }\n",
    );
    p.write(
        "src/index.html",
        "<style>\ninput::input-placeholder { color: gray }\n</style>\n",
    );
    p.build(&[])
        .assert_code(0)
        .assert_stderr_has("warning[CSS_IGNORED_SELECTOR]")
        .assert_stderr_has("src/app.css:2:16")
        .assert_stderr_has("src/index.html:2:7");
}

/// An unclosed `(` swallows every rule after it, in lightningcss as in
/// browsers: a silent warning would ship a stylesheet without them.
#[test]
fn css_that_swallows_the_following_rules_stays_an_error() {
    let p = Project::new();
    p.write(
        "src/bad.css",
        ".a::input-placeholder { color: red }\n.b { width: calc(1px + 2px; }\n.c { color: red }\n",
    );
    p.build(&[])
        .assert_code(1)
        .assert_stderr_has("warning[CSS_IGNORED_SELECTOR]")
        .assert_stderr_has("error[CSS_PARSE]")
        .assert_stderr_has("src/bad.css:2:29");
}

/// Inline CSS is classified like a stylesheet: in one `<style>`, an unknown
/// pseudo-element warns, while garbage in a block (lightningcss would drop
/// `color: red` with it; browsers keep it) fails the build.
#[test]
fn inline_style_warns_for_unknown_selectors_and_fails_on_garbage() {
    let p = Project::new();
    p.write(
        "src/page.html",
        "<style>\n.x::input-placeholder { color: red }\n.a { color: red; @@@ ; background: blue }\n</style>\n",
    );
    p.build(&[])
        .assert_code(1)
        .assert_stderr_has("warning[CSS_IGNORED_SELECTOR]")
        .assert_stderr_has("src/page.html:2:4")
        .assert_stderr_has("error[CSS_PARSE]")
        .assert_stderr_has("src/page.html:3:22");
}

#[test]
fn json_format_prints_one_object_per_line() {
    let p = Project::new();
    p.write("src/bad.ts", "let x: = 1;\n");
    let r = p.build(&["--format", "json"]);
    r.assert_code(1);
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let diag = lines
        .iter()
        .find(|v| v["reason"] == "diagnostic")
        .expect("a diagnostic");
    assert_eq!(diag["code"], "JS_PARSE");
    assert_eq!(diag["file"], "src/bad.ts");
    assert_eq!(diag["line"], 1);
    let fin = lines.last().unwrap();
    assert_eq!(fin["reason"], "build-finished");
    assert_eq!(fin["success"], false);
    assert_eq!(fin["exit_code"], 1);
}

#[test]
fn demo_builds_and_checks_clean() {
    let p = Project::new();
    p.copy_tree(&repo().join("fixtures/demo"), "src");
    let r = p.build(&[]);
    r.assert_code(0).assert_stderr_has("Finished");
    p.run(&["check", "--out", "out"])
        .assert_code(0)
        .assert_stderr_has("ok");
    let m = prebake::Manifest::load(p.path().join("out/manifest.json")).unwrap();
    for logical in [
        "app.ts",
        "components/Button.tsx",
        "styles/site.css",
        "images/logo.svg",
        "robots.txt",
    ] {
        assert!(
            m.assets.contains_key(logical),
            "{logical} missing from manifest"
        );
    }
    assert!(std::path::Path::new(&m.assets["app.ts"].file).extension() == Some("js".as_ref()));
    assert_eq!(m.assets["app.ts"].content_type, "text/javascript");
    assert_eq!(m.base, "/assets/");
}

#[test]
fn tampered_output_fails_check_and_names_the_file() {
    let p = Project::new();
    p.copy_tree(&repo().join("fixtures/demo"), "src");
    p.build(&[]).assert_code(0);
    let m = prebake::Manifest::load(p.path().join("out/manifest.json")).unwrap();
    let file = m.assets["styles/site.css"].file.clone();
    let path = p.path().join("out").join(&file);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = fs::read(&path).unwrap();
    bytes[3] ^= 0x01;
    fs::write(&path, bytes).unwrap();
    p.run(&["check", "--out", "out"])
        .assert_code(1)
        .assert_stderr_has(&file)
        .assert_stderr_has("styles/site.css");
    // A deleted file is named too.
    fs::remove_file(&path).unwrap();
    p.run(&["check", "--out", "out"])
        .assert_code(1)
        .assert_stderr_has("missing");
}

#[test]
fn check_without_release_fails_clearly() {
    let p = Project::new();
    p.run(&["check", "--out", "nowhere"])
        .assert_code(1)
        .assert_stderr_has("nowhere/manifest.json");
}

#[test]
fn missing_root_explains_the_default() {
    let p = Project::new();
    p.run(&["build"])
        .assert_code(2)
        .assert_stderr_has("ROOT_MISSING")
        .assert_stderr_has("--root");
}

#[test]
fn out_dir_inside_root_is_not_read_back() {
    let p = Project::new();
    p.write("src/a.js", "export const a = 1;\n");
    p.run(&["build", "--root", "src", "--out", "src/dist"])
        .assert_code(0);
    // A second build must not pick up the first one's outputs as sources.
    p.run(&["build", "--root", "src", "--out", "src/dist"])
        .assert_code(0);
    let m = prebake::Manifest::load(p.path().join("src/dist/manifest.json")).unwrap();
    assert_eq!(m.assets.keys().collect::<Vec<_>>(), ["a.js"]);
}

#[test]
fn editor_byproducts_and_hidden_files_are_skipped() {
    let p = Project::new();
    p.write("src/a.js", "export const a = 1;\n");
    for junk in [
        ".a.js.swp",
        "a.js~",
        "4913",
        "___jb_tmp___",
        ".#a.js",
        "#a.js#",
        ".hidden/x.js",
        "node_modules/x/index.js",
        "types.d.ts",
    ] {
        p.write(&format!("src/{junk}"), "junk(\n");
    }
    p.build(&[]).assert_code(0);
    let m = prebake::Manifest::load(p.path().join("out/manifest.json")).unwrap();
    assert_eq!(m.assets.keys().collect::<Vec<_>>(), ["a.js"]);
}

#[test]
fn include_and_exclude_globs_filter() {
    let p = Project::new();
    p.write("src/a.js", "1;\n")
        .write("src/b.css", "a{}\n")
        .write("src/c/d.js", "2;\n");
    p.build(&["--include", "**/*.js", "--exclude", "c/**"])
        .assert_code(0);
    let m = prebake::Manifest::load(p.path().join("out/manifest.json")).unwrap();
    assert_eq!(m.assets.keys().collect::<Vec<_>>(), ["a.js"]);
}

#[test]
fn earlier_releases_stay_for_rolling_deploys() {
    let p = Project::new();
    p.write("src/app.js", "export const v = 1;\n");
    p.build(&[]).assert_code(0);
    let v1 = prebake::Manifest::load(p.path().join("out/manifest.json")).unwrap();
    p.write("src/app.js", "export const v = 2;\n");
    p.build(&[]).assert_code(0);
    let v2 = prebake::Manifest::load(p.path().join("out/manifest.json")).unwrap();
    let (f1, f2) = (&v1.assets["app.js"].file, &v2.assets["app.js"].file);
    assert_ne!(f1, f2, "new content, new name");
    assert!(p.path().join("out").join(f1).is_file(), "old file removed");
    assert!(p.path().join("out").join(f2).is_file());
    p.run(&["check", "--out", "out"]).assert_code(0);
}

#[test]
fn symlinks_are_followed_only_inside_the_root() {
    let p = Project::new();
    p.write("src/real/a.js", "export const a = 1;\n");
    p.write("outside/secret.js", "export const s = 1;\n");
    std::os::unix::fs::symlink("real", p.path().join("src/inner")).unwrap();
    p.build(&[]).assert_code(0);
    let m = prebake::Manifest::load(p.path().join("out/manifest.json")).unwrap();
    assert_eq!(
        m.assets.keys().collect::<Vec<_>>(),
        ["inner/a.js", "real/a.js"]
    );

    std::os::unix::fs::symlink(p.path().join("outside"), p.path().join("src/escape")).unwrap();
    p.build(&[])
        .assert_code(1)
        .assert_stderr_has("OUTSIDE_ROOT")
        .assert_stderr_has("src/escape");
    fs::remove_file(p.path().join("src/escape")).unwrap();

    std::os::unix::fs::symlink("..", p.path().join("src/real/loop")).unwrap();
    p.build(&[])
        .assert_code(1)
        .assert_stderr_has("SYMLINK_LOOP");
}

#[test]
fn symlink_planted_in_out_dir_is_refused() {
    let p = Project::new();
    p.write("src/css/site.css", ".a{color:red}\n");
    fs::create_dir_all(p.path().join("out")).unwrap();
    fs::create_dir_all(p.path().join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(p.path().join("elsewhere"), p.path().join("out/css")).unwrap();
    p.build(&[]).assert_code(2).assert_stderr_has("OUT_UNSAFE");
    assert_eq!(
        fs::read_dir(p.path().join("elsewhere")).unwrap().count(),
        0,
        "wrote through the link"
    );
}

#[test]
fn non_utf8_source_is_an_encoding_error() {
    let p = Project::new();
    p.write("src/latin1.js", b"var s = '\xe9';\n");
    p.build(&[])
        .assert_code(1)
        .assert_stderr_has("ENCODING")
        .assert_stderr_has("src/latin1.js");
}

#[test]
fn helpers_are_inlined_never_imported() {
    let p = Project::new();
    p.write(
        "src/a.ts",
        "export class A { #x = 1; static y = 2; async *g() { yield* [this.#x]; } }\nexport const o = { ...{ a: 1 } };\n",
    );
    p.build(&["--targets", "chrome 49"]).assert_code(0);
    let m = prebake::Manifest::load(p.path().join("out/manifest.json")).unwrap();
    let js = fs::read_to_string(p.path().join("out").join(&m.assets["a.ts"].file)).unwrap();
    assert!(!js.contains("@swc/helpers"), "{js}");
    assert!(
        !js.contains("#x") && !js.contains("async*") && !js.contains("async g"),
        "not lowered: {js}"
    );
}

#[test]
fn source_date_epoch_sets_mtimes_and_bad_values_are_errors() {
    let p = Project::new();
    p.write("src/a.js", "1;\n");
    let o = p
        .cmd(&["build", "--root", "src", "--out", "out"])
        .env("SOURCE_DATE_EPOCH", "1234567890")
        .output()
        .unwrap();
    assert!(o.status.success());
    let m = prebake::Manifest::load(p.path().join("out/manifest.json")).unwrap();
    let t = fs::metadata(p.path().join("out").join(&m.assets["a.js"].file))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        t,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_234_567_890)
    );
    let o = p
        .cmd(&["build", "--root", "src", "--out", "out"])
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn check_accepts_any_name_pattern_and_manifest_path() {
    for names in [
        "[dir]/[hash][name][ext]",
        "[name][hash][ext]",
        "[dir]/[hash]-[name][ext]",
        "flat/[name].[hash][ext]",
    ] {
        let p = Project::new();
        p.write("src/code.js", "export const c = 1;\n")
            .write("src/sub/app.css", "a{color:red}\n");
        p.build(&["--names", names, "--manifest", "meta/assets.json"])
            .assert_code(0);
        p.run(&["check", "--out", "out", "--manifest", "meta/assets.json"])
            .assert_code(0);
    }
}

#[test]
fn name_patterns_cannot_escape_the_out_dir() {
    let p = Project::new();
    p.write("src/LICENSE", "MIT\n");
    p.build(&["--names", ".[ext]./[name]-[hash]"])
        .assert_code(1)
        .assert_stderr_has("NAME_UNSAFE");
    assert!(fs::read_dir(p.path()).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("LICENSE")
    }));
}

#[test]
fn flat_patterns_allow_same_names_in_different_dirs() {
    let p = Project::new();
    p.write("src/a/index.ts", "export const a = 1;\n")
        .write("src/b/index.ts", "export const b = 2;\n");
    p.build(&["--names", "[name]-[hash][ext]"]).assert_code(0);
    p.write("src/a/Index.js", "1;\n");
    p.build(&["--names", "[name]-[hash][ext]"])
        .assert_code(1)
        .assert_stderr_has("NAME_COLLISION");
}

#[test]
fn excluded_directories_are_not_walked() {
    let p = Project::new();
    p.write("src/app.js", "1;\n");
    p.write("elsewhere/x.js", "2;\n");
    fs::create_dir_all(p.path().join("src/vendor")).unwrap();
    std::os::unix::fs::symlink(p.path().join("elsewhere"), p.path().join("src/vendor/link"))
        .unwrap();
    p.build(&[])
        .assert_code(1)
        .assert_stderr_has("OUTSIDE_ROOT");
    p.build(&["--exclude", "vendor/**"]).assert_code(0);
}

#[test]
fn all_errors_are_reported_together() {
    let p = Project::new();
    p.write("src/a.ts", "export const a = 1;\n")
        .write("src/a.js", "2;\n");
    p.write("src/bad.js", "let = ;\n");
    let r = p.build(&[]);
    r.assert_code(1)
        .assert_stderr_has("NAME_COLLISION")
        .assert_stderr_has("JS_PARSE");
}

#[test]
fn mts_is_a_module_and_cts_a_script() {
    let p = Project::new();
    p.write(
        "src/m.mts",
        "const x: number = await Promise.resolve(1);\nconsole.log(x);\n",
    );
    p.write(
        "src/c.cts",
        "const fs = require('fs');\nmodule.exports = fs;\n",
    );
    p.build(&[]).assert_code(0);
    p.write("src/bad.cts", "export const e = 1;\n");
    p.build(&[])
        .assert_code(1)
        .assert_stderr_has("src/bad.cts:1:1");
}

#[test]
fn init_writes_a_config_that_matches_the_defaults() {
    let p = Project::new();
    p.run(&["init"]).assert_code(0);
    let text = fs::read_to_string(p.path().join("prebake.toml")).unwrap();
    // Every key is documented, and the scaffold parses to the defaults.
    for key in prebake::config::KEYS {
        assert!(text.contains(&format!("{key} =")), "scaffold lacks {key}");
    }
    p.copy_tree(&repo().join("fixtures/demo"), "assets");
    p.run(&["build", "--quiet"]).assert_code(0);
    let with_scaffold = fs::read(p.path().join("public/assets/manifest.json")).unwrap();
    p.run(&["build", "--quiet", "--no-config", "--out", "plain"])
        .assert_code(0);
    assert_eq!(
        with_scaffold,
        fs::read(p.path().join("plain/manifest.json")).unwrap()
    );
    // Never overwrites.
    p.run(&["init"])
        .assert_code(2)
        .assert_stderr_has("already exists");
}

#[test]
fn out_dir_reached_through_a_symlink_is_not_read_back() {
    let p = Project::new();
    p.write("src/real/a.js", "export const a = 1;\n");
    std::os::unix::fs::symlink("real", p.path().join("src/link")).unwrap();
    p.run(&["build", "--root", "src", "--out", "src/real/dist"])
        .assert_code(0);
    p.run(&["build", "--root", "src", "--out", "src/real/dist"])
        .assert_code(0);
    let m = prebake::Manifest::load(p.path().join("src/real/dist/manifest.json")).unwrap();
    assert_eq!(
        m.assets.keys().collect::<Vec<_>>(),
        ["link/a.js", "real/a.js"]
    );
}

#[test]
fn bare_imports_are_listed_once() {
    let p = Project::new();
    p.write(
        "src/a.js",
        "import React from 'react';\nimport { x } from 'lib/x';\nexport default [React, x];\n",
    );
    p.write(
        "src/b.js",
        "import React from 'react';\nexport default React;\n",
    );
    let r = p.build(&[]);
    r.assert_code(0)
        .assert_stderr_has("bare imports left as written, for an import map: lib/x, react");
    let r = p.build(&["--format", "json"]);
    let last: serde_json::Value = serde_json::from_str(r.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["bare_imports"], serde_json::json!(["lib/x", "react"]));
}

#[test]
fn strict_makes_bare_imports_errors_and_urls_can_use_the_base() {
    let p = Project::new();
    p.write(
        "src/app.js",
        "import React from 'react';\nimport { u } from './u.js';\nexport default [React, u];\n",
    );
    p.write("src/u.js", "export const u = 1;\n");
    p.build(&["--strict"])
        .assert_code(1)
        .assert_stderr_has("error[BARE_IMPORT]")
        .assert_stderr_has("src/app.js:1:19");
    p.build(&["--urls", "base", "--base", "/static/"])
        .assert_code(0);
    let m = prebake::Manifest::load(p.path().join("out/manifest.json")).unwrap();
    let js = fs::read_to_string(p.path().join("out").join(&m.assets["app.js"].file)).unwrap();
    let u = &m.assets["u.js"].file;
    assert!(js.contains(&format!("\"/static/{u}\"")), "{js}");
}

#[test]
fn jsx_options_the_runtime_ignores_are_warned_about() {
    let p = Project::new();
    p.write("src/a.jsx", "export const A = () => <b/>;\n");
    p.build(&["--jsx-factory", "h"])
        .assert_code(0)
        .assert_stderr_has("warning[CONFIG_IGNORED]")
        .assert_stderr_has("--jsx-factory: has no effect with the automatic JSX runtime");
    let r = p.build(&["--jsx", "classic"]);
    r.assert_code(0);
    assert!(!r.stderr.contains("CONFIG_IGNORED"), "{}", r.stderr);
}

/// `prebake check` follows every reference inside JS, CSS and HTML outputs:
/// a release whose manifest is consistent but whose stylesheet points at a
/// file that is gone fails, naming the reference.
#[test]
fn check_follows_references_inside_outputs() {
    let p = Project::new();
    p.write("src/img/a.png", "png");
    p.write("src/site.css", ".a { background: url(img/a.png) }\n");
    p.write("src/app.ts", "import { x } from \"./lib\";\nconsole.log(x, new URL(\"./img/a.png\", import.meta.url));\n");
    p.write("src/lib.ts", "export const x = 1;\n");
    p.write(
        "src/index.html",
        "<link rel=stylesheet href=site.css><script type=module src=app.ts></script>\n",
    );
    p.build(&[]).assert_code(0);
    p.run(&["check", "--out", "out"]).assert_code(0);
    // The same release with base-style URLs checks too.
    p.build(&["--urls", "base", "--base", "/static/", "--out", "based"])
        .assert_code(0);
    p.run(&["check", "--out", "based"]).assert_code(0);

    // Drop the image and its entry, and re-sign the manifest.
    let out = p.path().join("out");
    let text = fs::read_to_string(out.join("manifest.json")).unwrap();
    let mut m = prebake::Manifest::from_json(&text).unwrap();
    let image = m.assets.remove("img/a.png").unwrap();
    fs::remove_file(out.join(&image.file)).unwrap();
    let path = out.join("manifest.json");
    fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    fs::write(&path, m.to_json()).unwrap();
    let r = p.run(&["check", "--out", "out"]);
    r.assert_code(1);
    for file in [&m.assets["site.css"].file, &m.assets["app.ts"].file] {
        let line = r
            .stderr
            .lines()
            .find(|l| l.contains(&format!("{file}: reference `")))
            .unwrap_or_else(|| panic!("{file} not reported:\n{}", r.stderr));
        assert!(
            line.contains(&format!(
                "names {}, which is not in the out dir",
                image.file
            )),
            "{line}"
        );
    }
}

/// A Vite-style project built with `root = "."`: the project's own files
/// sit beside the assets.
fn root_dot_project() -> Project {
    let p = Project::new();
    p.write(
        "index.html",
        "<!doctype html>\n<link rel=\"stylesheet\" href=\"style.css\">\n",
    )
    .write("style.css", "body { color: red }\n")
    .write("package.json", "{\"name\": \"app\", \"private\": true}\n")
    .write("package-lock.json", "{\"lockfileVersion\": 3}\n")
    .write("yarn.lock", "# yarn lockfile v1\n")
    .write("tsconfig.json", "{\"files\": []}\n")
    .write("tsconfig.app.json", "{\"include\": [\"src\"]}\n")
    .write("web/package.json", "{\"name\": \"web\"}\n")
    .write("web/prebake.toml", "root = \".\"\n")
    .write("node_modules/pkg/package.json", "{\"name\": \"pkg\"}\n")
    .write("node_modules/pkg/x.css", ".x { color: blue }\n")
    .write("node_modules/pkg/index.js", "module.exports = 1;\n")
    .write("node_modules/other/y.css", ".y { color: green }\n");
    p
}

#[track_caller]
fn manifest_keys(path: std::path::PathBuf) -> Vec<String> {
    let m = prebake::Manifest::load(path).unwrap();
    m.assets.keys().cloned().collect()
}

#[test]
fn project_files_under_root_dot_are_not_published() {
    let p = root_dot_project();
    p.write("prebake.toml", "root = \".\"\nout = \"dist\"\n");
    p.run(&["build", "--quiet"]).assert_code(0);
    assert_eq!(
        manifest_keys(p.path().join("dist/manifest.json")),
        ["index.html", "style.css"]
    );

    // A config passed with --config is left out whatever its name, and
    // prebake.toml is left out when it is not the config in use.
    // (The same out dir: another one inside the root would be input.)
    p.write("build.toml", "root = \".\"\nout = \"dist\"\n");
    p.run(&["build", "--quiet", "--config", "build.toml"])
        .assert_code(0);
    assert_eq!(
        manifest_keys(p.path().join("dist/manifest.json")),
        ["index.html", "style.css"]
    );
}

#[test]
fn explicit_include_publishes_project_files_and_package_files() {
    let p = root_dot_project();
    p.write("prebake.toml", "root = \".\"\nout = \"dist\"\n");
    // A half-installed package: a link to nowhere, in a part of
    // `node_modules` the include does not name, is no error.
    std::os::unix::fs::symlink("missing", p.path().join("node_modules/broken")).unwrap();
    p.run(&[
        "build",
        "--quiet",
        "--include",
        "**",
        "--include",
        "node_modules/pkg/x.css",
        "--include",
        "package.json",
    ])
    .assert_code(0);
    // Named files only: not the package's own package.json, not the other
    // package, not web/package.json (the glob names the root's).
    assert_eq!(
        manifest_keys(p.path().join("dist/manifest.json")),
        [
            "index.html",
            "node_modules/pkg/x.css",
            "package.json",
            "style.css"
        ]
    );

    p.write(
        "prebake.toml",
        "root = \".\"\nout = \"dist\"\ninclude = [\"**\", \"node_modules/pkg/**\", \"**/tsconfig.app.json\"]\n",
    );
    p.run(&["build", "--quiet"]).assert_code(0);
    assert_eq!(
        manifest_keys(p.path().join("dist/manifest.json")),
        [
            "index.html",
            "node_modules/pkg/index.js",
            "node_modules/pkg/x.css",
            "style.css",
            "tsconfig.app.json"
        ]
    );
}
