//! T33, the build.rs contract, through cargo itself: a sample crate whose
//! build script uses `prebake::build_script` is built with `cargo build`
//! again and again.
//!
//! * A second build is a no-op.
//! * Touching, adding or removing an asset reruns the script, and so do a
//!   config edit, an edit to a package the bundle read, and a new
//!   `SOURCE_DATE_EPOCH`; the program then sees the new release.
//! * The build script writes only under `OUT_DIR` (strace).
//!
//! The crate lives at a fixed path under cargo's `CARGO_TARGET_TMPDIR` and
//! builds into this target dir, with the same lock file and profile as
//! prebake's own, so its dependencies (swc, lightningcss) are the ones
//! already compiled and a run costs one compile of prebake itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use common::{CRATE_FILES, newest_build_dir, read_tree, repo, target_dir, write_file};

const NAME: &str = "prebake-t33-sample";

struct Sample {
    dir: PathBuf,
    target: PathBuf,
}

/// What one `cargo build` did.
struct Build {
    stderr: String,
}

impl Build {
    /// The build script ran.
    fn ran_script(&self) -> bool {
        self.stderr
            .lines()
            .any(|l| l.trim_start().starts_with("Running `") && l.contains("build-script-build"))
    }

    /// Nothing was compiled or run: every unit was fresh.
    fn no_op(&self) -> bool {
        !self.stderr.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("Compiling") || l.starts_with("Running")
        }) && self.stderr.contains(&format!("Fresh {NAME}"))
    }
}

impl Sample {
    fn new() -> Sample {
        let target = target_dir();
        let dir = target.join("tmp/t33-sample");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        let repo = repo();
        let s = Sample { dir, target };
        // The build dependency with prebake's default features, so that it
        // unifies with what this test suite compiled.
        s.write(
            "Cargo.toml",
            format!(
                r#"[package]
name = "{NAME}"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
prebake = {{ path = {repo:?}, default-features = false, features = ["manifest"] }}

[build-dependencies]
prebake = {{ path = {repo:?} }}

[workspace]

# prebake's own profile, so the compiled dependencies are shared.
[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
opt-level = 2
debug = false

[profile.dev.package.prebake]
opt-level = 0
debug = "line-tables-only"
"#,
                repo = repo.to_string_lossy(),
            ),
        );
        std::fs::copy(repo.join("Cargo.lock"), s.dir.join("Cargo.lock")).unwrap();
        s.write(
            "build.rs",
            r#"fn main() -> Result<(), prebake::build_script::Error> {
    prebake::build_script::Builder::new("assets").entry("app.ts").run()?;
    Ok(())
}
"#,
        );
        // The program prints every constant's URL, and checks that the
        // manifest on disk (read the way a non-Rust server would) agrees.
        s.write(
            "src/main.rs",
            r#"mod assets {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

fn main() {
    let manifest = prebake::Manifest::load(format!("{}/manifest.json", assets::RELEASE_DIR))
        .expect("load the manifest");
    assert_eq!(manifest.assets.len(), assets::ALL.len());
    for a in assets::ALL {
        assert_eq!(manifest.url(a.logical).as_deref(), Some(a.url));
        assert_eq!(manifest.get(a.logical).map(|e| e.integrity.as_str()), Some(a.integrity));
        println!("{} {}", a.logical, a.url);
    }
    println!("entry {}", assets::APP_TS.url);
}
"#,
        );
        for (rel, content) in CRATE_FILES {
            s.write(rel, content);
        }
        s
    }

    fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        write_file(&self.dir, rel, content);
    }

    fn cargo(&self, sde: Option<&str>) -> Build {
        let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cmd.args(["build", "--offline", "-v", "--color", "never"])
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("SOURCE_DATE_EPOCH");
        if let Some(v) = sde {
            cmd.env("SOURCE_DATE_EPOCH", v);
        }
        let out = cmd.output().expect("run cargo");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "cargo build failed:\n{stderr}");
        Build { stderr }
    }

    /// The program's output.
    fn run(&self) -> String {
        let out = Command::new(self.target.join("debug").join(NAME))
            .output()
            .expect("run the sample");
        assert!(
            out.status.success(),
            "the sample failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The build script cargo compiled, and the `OUT_DIR` it gave it (a
    /// sibling directory, beside cargo's `output`).
    fn script(&self) -> (PathBuf, PathBuf) {
        (
            newest_build_dir(&self.target, NAME, "build-script-build").join("build-script-build"),
            newest_build_dir(&self.target, NAME, "output").join("out"),
        )
    }
}

/// Sets a file's mtime to now, as `touch` does.
fn touch(path: &Path) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now())
        .unwrap();
}

#[test]
fn t33_the_build_script_contract_through_cargo() {
    let s = Sample::new();
    let first = s.cargo(None);
    assert!(first.ran_script(), "{}", first.stderr);
    let out = s.run();
    assert!(out.contains("entry /static/app-"), "{out}");
    assert!(out.contains("img/logo.png /static/img/logo-"), "{out}");

    let again = s.cargo(None);
    assert!(
        again.no_op(),
        "a second build did something:\n{}",
        again.stderr
    );

    // Touching an asset: the script runs; the release is the same.
    touch(&s.dir.join("assets/img/logo.png"));
    let b = s.cargo(None);
    assert!(b.ran_script(), "touch did not rerun:\n{}", b.stderr);
    assert_eq!(s.run(), out);
    assert!(s.cargo(None).no_op());

    // Adding an asset, in a new directory.
    s.write("assets/fonts/new.woff2", "wOF2 not really\n");
    let b = s.cargo(None);
    assert!(b.ran_script(), "an added file did not rerun:\n{}", b.stderr);
    let added = s.run();
    assert!(
        added.contains("fonts/new.woff2 /static/fonts/new-"),
        "{added}"
    );
    assert!(s.cargo(None).no_op());

    // Removing it.
    std::fs::remove_file(s.dir.join("assets/fonts/new.woff2")).unwrap();
    let b = s.cargo(None);
    assert!(
        b.ran_script(),
        "a removed file did not rerun:\n{}",
        b.stderr
    );
    assert_eq!(s.run(), out);

    // Editing a source changes the entry's fingerprint.
    s.write(
        "assets/app.ts",
        "import { tiny } from \"tiny\";\nimport \"./style.css\";\nconsole.log(tiny as number, 2);\n",
    );
    let b = s.cargo(None);
    assert!(b.ran_script(), "{}", b.stderr);
    let edited = s.run();
    assert_ne!(edited, out);

    // A config edit.
    s.write("prebake.toml", "base = \"/cdn/\"\n");
    let b = s.cargo(None);
    assert!(b.ran_script(), "a config edit did not rerun:\n{}", b.stderr);
    let rebased = s.run();
    assert!(rebased.contains("entry /cdn/app-"), "{rebased}");
    assert!(s.cargo(None).no_op());

    // A package the bundle read, outside the source root.
    s.write("node_modules/tiny/index.js", "export const tiny = 3;\n");
    let b = s.cargo(None);
    assert!(
        b.ran_script(),
        "a package edit did not rerun:\n{}",
        b.stderr
    );
    assert_ne!(s.run(), rebased);
    s.write(
        "node_modules/tiny/package.json",
        "{ \"name\": \"tiny\", \"main\": \"index.js\", \"sideEffects\": false }\n",
    );
    let b = s.cargo(None);
    assert!(
        b.ran_script(),
        "a package.json edit did not rerun:\n{}",
        b.stderr
    );

    // The one environment variable it reads.
    let b = s.cargo(Some("1700000000"));
    assert!(
        b.ran_script(),
        "SOURCE_DATE_EPOCH did not rerun:\n{}",
        b.stderr
    );
    assert!(s.cargo(Some("1700000000")).no_op());

    // Writes: run the script cargo compiled, with the environment cargo
    // gives it, under strace. Every file it creates, writes, renames or
    // removes is under OUT_DIR, and the crate is left as it was.
    let (script, out_dir) = s.script();
    assert!(
        Command::new("strace").arg("-V").output().is_ok(),
        "strace is missing: tests/setup.sh installs it"
    );
    let before = read_tree(&s.dir);
    let log = s.target.join("tmp/t33-strace.log");
    let traced = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-y",
            "-s",
            "4096",
            "-e",
            "trace=open,openat,openat2,creat,write,pwrite64,writev,pwritev,pwritev2,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,rmdir,truncate,ftruncate,chmod,fchmod,fchmodat,link,linkat,symlink,symlinkat,utimensat",
            "-o",
        ])
        .arg(&log)
        .arg(&script)
        .current_dir(&s.dir)
        .env("OUT_DIR", &out_dir)
        .env("CARGO_MANIFEST_DIR", &s.dir)
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("run strace");
    let stdout = String::from_utf8_lossy(&traced.stdout);
    assert!(
        traced.status.success(),
        "the traced build script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&traced.stderr)
    );
    assert!(
        stdout.contains("cargo::rerun-if-changed="),
        "the script printed nothing:\n{stdout}"
    );
    let trace = std::fs::read_to_string(&log).unwrap();
    let outside = writes_outside(&trace, &s.dir, &out_dir);
    assert!(
        outside.is_empty(),
        "the build script wrote outside OUT_DIR ({}):\n{}",
        out_dir.display(),
        outside.join("\n")
    );
    assert!(
        trace.contains(&*out_dir.join("prebake/manifest.json").to_string_lossy()),
        "strace saw no manifest written:\n{trace}"
    );
    assert_eq!(read_tree(&s.dir), before, "the crate dir changed");
}

/// The calls of an strace log (`-f -y`) that write outside `allowed`:
/// opens for writing, creations, renames, removals, mode and time changes
/// with a path (relative paths are relative to `cwd`, `*at` paths to the
/// directory strace shows for the fd), and data writes to a file that is
/// not a pipe (stdout and stderr are pipes here).
fn writes_outside(trace: &str, cwd: &Path, allowed: &Path) -> Vec<String> {
    let mut bad = Vec::new();
    for line in trace.lines() {
        // "PID call(args) = result"
        let call = line
            .split_once(' ')
            .map_or(line, |(_, rest)| rest)
            .trim_start();
        let Some((name, args)) = call.split_once('(') else {
            continue;
        };
        let reads_only = match name {
            "open" | "openat" | "openat2" => {
                !(args.contains("O_WRONLY")
                    || args.contains("O_RDWR")
                    || args.contains("O_CREAT")
                    || args.contains("O_TRUNC"))
            }
            _ => false,
        };
        if reads_only {
            continue;
        }
        let mut base = cwd.to_path_buf();
        let mut paths = Vec::new();
        for arg in split_args(args) {
            if let Some(fd_path) = arg
                .split_once('<')
                .and_then(|(fd, rest)| fd.parse::<i32>().ok().and(rest.strip_suffix('>')))
            {
                // An fd: where it points (a file written to, or the
                // directory of the next *at path).
                if name.starts_with("write") || name.starts_with("pwrite") {
                    paths.push(PathBuf::from(fd_path));
                } else {
                    base = PathBuf::from(fd_path);
                }
            } else if arg == "AT_FDCWD" {
                base = cwd.to_path_buf();
            } else if let Some(s) = arg
                .strip_prefix('"')
                .and_then(|a| a.strip_suffix('"'))
                .filter(|_| !name.starts_with("write") && !name.starts_with("pwrite"))
            {
                paths.push(base.join(s));
            }
        }
        for p in paths {
            // `a/../b` as the kernel reads it (no symlinks are involved).
            let mut p = p.components().fold(PathBuf::new(), |mut acc, c| {
                if c == std::path::Component::ParentDir {
                    acc.pop();
                } else {
                    acc.push(c);
                }
                acc
            });
            if p.as_os_str().is_empty() {
                p.push("/");
            }
            let s = p.to_string_lossy();
            let harmless = s.starts_with("pipe:") || s.starts_with("/dev/null");
            if !harmless && !p.starts_with(allowed) {
                bad.push(line.to_string());
            }
        }
    }
    bad
}

/// strace's argument list split at top-level commas, quotes and `{…}`
/// respected, up to the closing parenthesis.
fn split_args(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut escaped = false;
    let mut depth = 0i32;
    for c in args.chars() {
        if quoted {
            cur.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            }
            continue;
        }
        match c {
            '"' => {
                quoted = true;
                cur.push(c);
            }
            '{' | '[' => {
                depth += 1;
                cur.push(c);
            }
            '}' | ']' => {
                depth -= 1;
                cur.push(c);
            }
            ')' if depth == 0 => break,
            ',' if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// The trace reader itself: what counts as a write, and where.
#[test]
fn writes_outside_reads_strace_lines() {
    let cwd = Path::new("/c");
    let out = Path::new("/c/target/out");
    let trace = r#"10 openat(AT_FDCWD, "/c/assets/app.ts", O_RDONLY|O_CLOEXEC) = 3</c/assets/app.ts>
10 openat(AT_FDCWD, "target/out/prebake/.prebake-tmp-1", O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0600) = 4</c/target/out/prebake/.prebake-tmp-1>
11 write(4</c/target/out/prebake/.prebake-tmp-1>, "/c/elsewhere", 12) = 12
11 write(1<pipe:[123]>, "cargo::rerun-if-changed=/c/assets\n", 34) = 34
11 renameat2(AT_FDCWD, "/c/target/out/a", AT_FDCWD, "/c/target/out/b", RENAME_NOREPLACE) = 0
12 openat(5</c/assets>, "x.js", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666 <unfinished ...>
12 <... openat resumed>) = 6</c/assets/x.js>
12 write(7</c/Cargo.toml>, "x", 1) = 1
12 renameat(AT_FDCWD, "/c/target/out/t", AT_FDCWD, "/c/src/t") = 0
12 unlink("../escape") = 0
12 unlink("/c/target/out/../../x") = 0
12 unlink("target/out/prebake/../old") = 0
12 +++ exited with 0 +++
"#;
    let bad = writes_outside(trace, cwd, out);
    assert_eq!(
        bad,
        [
            r#"12 openat(5</c/assets>, "x.js", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666 <unfinished ...>"#,
            r#"12 write(7</c/Cargo.toml>, "x", 1) = 1"#,
            r#"12 renameat(AT_FDCWD, "/c/target/out/t", AT_FDCWD, "/c/src/t") = 0"#,
            r#"12 unlink("../escape") = 0"#,
            r#"12 unlink("/c/target/out/../../x") = 0"#,
        ]
    );
}
