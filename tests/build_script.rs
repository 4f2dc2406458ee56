//! `prebake::build_script` as a build script runs it (`run_in` with cargo's
//! environment given): what it tells cargo, what it writes and where, and
//! the module it generates. The full cargo round trip (T33, a sample
//! crate) builds on this.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{CRATE_FILES, Project, read_tree};
use prebake::build_script::Builder;

fn crate_project() -> Project {
    let p = Project::new();
    p.write("Cargo.toml", "[package]\nname = \"app\"\n");
    for (rel, content) in CRATE_FILES {
        p.write(rel, content);
    }
    p
}

fn run(
    p: &Project,
    b: Builder,
) -> (
    Result<prebake::build_script::Release, prebake::build_script::Error>,
    String,
) {
    let mut cargo = Vec::new();
    let r = b.run_in(&p.path().join("target/out"), p.path(), None, &mut cargo);
    (r, String::from_utf8(cargo).unwrap())
}

#[test]
fn tells_cargo_exactly_when_to_rerun_and_writes_only_under_out_dir() {
    let p = crate_project();
    std::fs::create_dir_all(p.path().join("target/out")).unwrap();
    let before = read_tree(p.path());
    let (r, cargo) = run(&p, Builder::new("assets").entry("app.ts"));
    let release = r.unwrap_or_else(|e| panic!("{e}\n{cargo}"));
    let canon = |rel: &str| p.path().join(rel).canonicalize().unwrap();
    let lines: Vec<&str> = cargo.lines().collect();
    for want in [
        "cargo::rerun-if-env-changed=SOURCE_DATE_EPOCH".to_string(),
        format!("cargo::rerun-if-changed={}", canon("assets").display()),
        format!(
            "cargo::rerun-if-changed={}",
            canon("prebake.toml").display()
        ),
        format!(
            "cargo::rerun-if-changed={}",
            canon("node_modules/tiny/index.js").display()
        ),
        // The package's manifest (its `main`, `exports`, `sideEffects`).
        format!(
            "cargo::rerun-if-changed={}",
            canon("node_modules/tiny/package.json").display()
        ),
    ] {
        assert!(
            lines.contains(&want.as_str()),
            "missing `{want}` in:\n{cargo}"
        );
    }
    // Never an output: nothing under the out dir.
    let out = p.path().join("target/out");
    assert!(
        !lines.iter().any(|l| l.contains(&*out.to_string_lossy())),
        "an output is a rerun-if-changed:\n{cargo}"
    );
    // Everything it wrote is under OUT_DIR.
    let after = read_tree(p.path());
    for (path, bytes) in &after {
        if !path.starts_with("target/out/") {
            assert_eq!(
                before.get(path),
                Some(bytes),
                "{path} was written outside OUT_DIR"
            );
        }
    }
    // The release and the module.
    assert_eq!(release.dir, p.path().join("target/out/prebake"));
    assert_eq!(release.manifest.base, "/static/");
    let module = std::fs::read_to_string(&release.module).unwrap();
    let url = release.manifest.url("app.ts").unwrap();
    assert!(module.contains("pub const APP_TS: Asset"), "{module}");
    assert!(module.contains(&format!("url: \"{url}\"")), "{module}");
    assert!(module.contains("pub const IMG_LOGO_PNG: Asset"), "{module}");
    // A second run with nothing changed leaves the module as it was.
    let stamp = std::fs::metadata(&release.module)
        .unwrap()
        .modified()
        .unwrap();
    let (r, _) = run(&p, Builder::new("assets").entry("app.ts"));
    r.unwrap();
    assert_eq!(
        std::fs::metadata(&release.module)
            .unwrap()
            .modified()
            .unwrap(),
        stamp
    );
}

#[test]
fn errors_and_warnings_are_cargo_lines_and_an_error_value() {
    let p = crate_project();
    // A setting the automatic JSX runtime ignores: a warning, and a build.
    let (r, cargo) = run(
        &p,
        Builder::new("assets")
            .entry("app.ts")
            .settings(|s| s.jsx_factory = Some("h".into())),
    );
    r.unwrap_or_else(|e| panic!("{e}\n{cargo}"));
    assert!(
        cargo.contains("cargo::warning=warning[CONFIG_IGNORED]"),
        "{cargo}"
    );

    p.write("assets/app.ts", "export const = ;\n");
    let (r, cargo) = run(&p, Builder::new("assets").entry("app.ts"));
    let e = r.unwrap_err();
    assert!(e.diagnostics.iter().any(|d| d.code == "JS_PARSE"), "{e}");
    assert!(cargo.contains("cargo::error=error[JS_PARSE]"), "{cargo}");
    // The frame's location is on a line of its own, still a cargo line.
    assert!(
        cargo
            .lines()
            .any(|l| l.starts_with("cargo::error=") && l.contains("assets/app.ts:1:")),
        "{cargo}"
    );
}

#[test]
fn a_release_dir_inside_the_root_is_refused() {
    let p = crate_project();
    let (r, cargo) = run(&p, Builder::new("assets").out_dir(Path::new("assets/dist")));
    let e = r.unwrap_err();
    assert!(e.to_string().contains("failed"), "{e}");
    assert!(cargo.contains("inside the source root"), "{cargo}");
}

/// The generated module compiles (with the bytes embedded), a known
/// constant is usable, and an unknown one is a compile error.
#[test]
fn the_module_compiles_and_an_unknown_asset_does_not() {
    let p = crate_project();
    let (r, cargo) = run(&p, Builder::new("assets").entry("app.ts").embed(true));
    let release = r.unwrap_or_else(|e| panic!("{e}\n{cargo}"));
    let rustc = |main: &str| {
        let src = p.path().join("check.rs");
        std::fs::write(
            &src,
            format!(
                "mod assets {{ include!({:?}); }}\nfn main() {{ {main} }}\n",
                release.module
            ),
        )
        .unwrap();
        std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .args(["--edition", "2021", "-o"])
            .arg(p.path().join("check-bin"))
            .arg(&src)
            .output()
            .expect("run rustc")
    };
    let ok = rustc(
        "let a = &assets::APP_TS; assert!(a.url.starts_with(\"/static/app-\")); \
         assert_eq!(assets::get(\"img/logo.png\").map(|a| a.bytes.unwrap().len()), Some(16)); \
         println!(\"{} {}\", assets::ALL.len(), assets::BASE);",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let run = std::process::Command::new(p.path().join("check-bin"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        format!("{} /static/", release.manifest.assets.len())
    );
    let bad = rustc("let _ = assets::NOPE_JS;");
    assert!(!bad.status.success(), "an unknown asset compiled");
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("NOPE_JS"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
