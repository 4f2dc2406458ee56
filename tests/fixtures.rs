//! Snapshot tests over `fixtures/build/<case>/`.
//!
//! Each case holds `src/` (the source root), an optional `prebake.toml`, an
//! optional `args` file (one extra flag per line) and `snapshot.txt`: the
//! exit code, stderr and every output file, in sections. A hash change shows
//! as a readable diff. Run with `PREBAKE_BLESS=1` to rewrite snapshots, then
//! read the diff before committing.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Test code: casts of small counts and generated strings are fine here.
#![allow(
    clippy::cast_possible_truncation,
    clippy::similar_names,
    clippy::format_push_string,
    clippy::doc_markdown
)]

mod common;

use common::{Project, read_tree, repo};
use std::fmt::Write as _;
use std::fs;

fn snapshot(case: &str) -> String {
    let dir = repo().join("fixtures/build").join(case);
    let p = Project::new();
    p.copy_tree(&dir.join("src"), "src");
    if dir.join("prebake.toml").exists() {
        fs::copy(dir.join("prebake.toml"), p.path().join("prebake.toml")).unwrap();
    }
    let mut args = vec!["--quiet".to_string()];
    if let Ok(extra) = fs::read_to_string(dir.join("args")) {
        args.extend(extra.lines().filter(|l| !l.is_empty()).map(str::to_string));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = p.build(&args);

    let mut s = String::new();
    let _ = writeln!(
        s,
        "# exit {}",
        r.code.map_or("signal".into(), |c| c.to_string())
    );
    if !r.stderr.is_empty() {
        let _ = write!(s, "## stderr\n{}", r.stderr);
    }
    for (rel, bytes) in read_tree(&p.path().join("out")) {
        match std::str::from_utf8(&bytes) {
            Ok(text) if !text.contains('\0') => {
                let _ = write!(s, "## {rel}\n{text}");
                if !text.ends_with('\n') {
                    s.push_str("\n<no final newline>\n");
                }
            }
            _ => {
                let _ = writeln!(
                    s,
                    "## {rel}\n<binary: {} bytes, sha256 {}>",
                    bytes.len(),
                    prebake::fingerprint::sha256_hex(&bytes)
                );
            }
        }
    }
    s
}

#[track_caller]
fn check(case: &str) {
    let actual = snapshot(case);
    let path = repo()
        .join("fixtures/build")
        .join(case)
        .join("snapshot.txt");
    if std::env::var_os("PREBAKE_BLESS").is_some() {
        fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "snapshot {case} differs from line {}:\n--- expected\n{}\n--- actual\n{}\n(rerun with PREBAKE_BLESS=1 to update, then review the diff)",
            first + 1,
            expected
                .lines()
                .skip(first)
                .take(8)
                .collect::<Vec<_>>()
                .join("\n"),
            actual
                .lines()
                .skip(first)
                .take(8)
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
}

macro_rules! cases {
    ($($name:ident => $dir:literal,)*) => {
        $(#[test] fn $name() { check($dir); })*

        #[test]
        fn every_fixture_dir_has_a_test() {
            let known = [$($dir),*];
            for entry in fs::read_dir(repo().join("fixtures/build")).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                assert!(known.contains(&name.as_str()), "fixtures/build/{name} has no test");
            }
        }
    };
}

cases! {
    js_modern_syntax => "js-modern",
    js_lowered_for_old_targets => "js-old-targets",
    ts_strip => "ts",
    tsx_automatic_runtime => "tsx-automatic",
    tsx_classic_runtime => "tsx-classic",
    css_nesting_and_prefixes_for_old_targets => "css-old-targets",
    css_modern_default_targets => "css-modern",
    static_files_copied_byte_for_byte => "static",
    no_minify => "no-minify",
    name_collision_error => "collision",
    js_syntax_error => "error-js",
    ts_syntax_error => "error-ts",
    css_syntax_error => "error-css",
    css_error_recovery_warns => "css-recovery",
    todomvc_unknown_pseudo_element_is_a_warning => "css-ignored-selector",
    standard_decorators_and_using_are_lowered => "decorators-using",
    legacy_decorators => "decorators-legacy",
    css_references_are_rewritten => "css-references",
    css_missing_target_error => "css-missing-target",
    css_outside_root_error => "css-outside-root",
    css_import_is_inlined => "css-import",
    css_import_errors => "css-import-errors",
    js_imports_follow_the_fingerprints => "js-references",
    js_missing_import_errors => "js-missing-import",
    html_references_are_rewritten => "html-references",
    html_reference_errors => "html-errors",
    html_page_loaded_as_a_script_is_an_error => "html-page-integrity",
    bundle_esm_chunks_css_assets_and_manifest => "bundle-esm",
    bundle_minified_and_tree_shaken => "bundle-minified",
    bundle_iife_with_global_name_and_define => "bundle-iife",
    bundle_errors_point_at_the_import => "bundle-errors",
    bundle_source_maps_compose => "bundle-sourcemap",
    bundle_missing_and_ambiguous_exports => "bundle-missing-export",
}
