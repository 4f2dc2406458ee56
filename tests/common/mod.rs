//! Helpers shared by the integration tests: temp projects, running the real
//! binary, reading an out dir back.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a test failure
#![allow(clippy::cast_possible_truncation, clippy::format_push_string)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_prebake")
}

/// Repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch project directory, removed on drop.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        Project {
            dir: tempfile::Builder::new()
                .prefix("prebake-test-")
                .tempdir()
                .expect("tempdir"),
        }
    }

    /// A project under `parent` (e.g. `/dev/shm`, where tmpfs lists a
    /// directory in reverse creation order).
    pub fn new_in(parent: &Path) -> Project {
        Project {
            dir: tempfile::Builder::new()
                .prefix("prebake-test-")
                .tempdir_in(parent)
                .expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating parents), relative to the project.
    #[track_caller]
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Project {
        write_file(self.path(), rel, content);
        self
    }

    /// Copies a tree into the project at `rel`.
    pub fn copy_tree(&self, from: &Path, rel: &str) -> &Project {
        copy_tree(from, &self.path().join(rel));
        self
    }

    /// `prebake <args>` with the project as working directory.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.current_dir(self.path())
            .args(args)
            .env_remove("SOURCE_DATE_EPOCH")
            .env("NO_COLOR", "1");
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().expect("spawn prebake"))
    }

    /// `prebake build --root src --out out <extra>`; `extra` may name
    /// another `--out`.
    pub fn build(&self, extra: &[&str]) -> Run {
        let mut args = vec!["build", "--root", "src"];
        if !extra.contains(&"--out") {
            args.extend_from_slice(&["--out", "out"]);
        }
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from).sort_by_file_name() {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            fs::create_dir_all(&dest).unwrap();
        } else {
            fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// A finished process.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn assert_stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n--- stderr\n{}",
            self.stderr
        );
        self
    }
}

/// Runs `cmd` to completion, or kills it after `limit` and returns `None`,
/// so a hang fails one test instead of stalling the suite.
pub fn output_within(mut cmd: Command, limit: std::time::Duration) -> Option<Output> {
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return Some(child.wait_with_output().expect("output"));
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Every file below `dir` (relative path with `/` → bytes), skipping the
/// lock file, which is not part of a release.
pub fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == ".prebake.lock" {
            continue;
        }
        out.insert(rel, fs::read(entry.path()).unwrap());
    }
    out
}

/// Names of leftover temporary files in an out dir.
pub fn temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".prebake-tmp-"))
                .collect()
        })
        .unwrap_or_default()
}

/// A tiny deterministic PRNG (xorshift) so tests need no extra crate and
/// failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A project with `n` generated TS/CSS/static files under src/ whose
/// content depends on `version`, big enough that a build takes a while.
pub fn generated_tree(p: &Project, n: usize, version: u32) {
    for i in 0..n {
        let mut body = String::new();
        for j in 0..40 {
            body.push_str(&format!(
                "export class Widget{j}_{i}<T> {{\n  private items: T[] = [];\n  constructor(readonly name: string = \"w{j}-{version}\") {{}}\n  add(x: T): number {{ this.items.push(x); return this.items.length * {version}; }}\n  async load(url: string): Promise<string | undefined> {{ const r = await fetch(url); return r.ok ? r.text() : undefined; }}\n}}\n"
            ));
        }
        p.write(&format!("src/mod{}/file{i}.ts", i % 7), body);
        p.write(
            &format!("src/styles/s{i}.css"),
            format!(".a{i} {{ color: red; & .b {{ user-select: none; margin: {version}px; }} }}\n"),
        );
    }
    p.write("src/static/data.bin", vec![version as u8; 4096]);
}

/// File names that break naive escaping (T22): spaces, quotes, parentheses,
/// `#`, `?`, `%`, `</script>` (a directory `<` holding `script>`), U+2028
/// and non-ASCII. Each is an image under `img/`, with this extension.
pub const ODD_NAMES: &[&str] = &[
    "a b",
    "q\"uote",
    "it's",
    "p(aren)",
    "hash#",
    "what?",
    "pct%41",
    "</script>",
    "line\u{2028}sep",
    "\u{fc}n\u{ef}",
];

/// `s` percent-encoded except for unreserved characters and `/`: how a
/// URL written in a source names a file.
pub fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A project whose every kind of reference names the [`ODD_NAMES`]: a
/// stylesheet (`url()`), a module (`new URL`, and an import of a module
/// with an odd name), and a page (`<img src>`, `<link>`, `<script src>`).
/// The module sets `data-prebake-ran` once every image fetched fine.
pub fn escaping_project() -> Project {
    let p = Project::new();
    let mut css = String::new();
    let mut js = String::from("import { ok } from \"./lib%20%231%20'x'.ts\";\nconst urls = [\n");
    let mut imgs = String::new();
    for (i, name) in ODD_NAMES.iter().enumerate() {
        p.write(&format!("src/img/{name}.png"), format!("image {i}"));
        let url = pct(&format!("img/{name}.png"));
        css.push_str(&format!(".i{i} {{ background: url(\"{url}\"); }}\n"));
        js.push_str(&format!("  new URL(\"./{url}\", import.meta.url),\n"));
        imgs.push_str(&format!("<div class=\"i{i}\" data-bg></div>\n"));
    }
    js.push_str(
        "];\nPromise.all(urls.map((u) => fetch(u).then((r) => r.ok))).then((all) => {\n  \
         if (all.every(Boolean) && ok) document.documentElement.dataset.prebakeRan = \"1\";\n});\n",
    );
    p.write("src/odd (1) 'x'.css", css);
    p.write("src/app's \"main\".ts", js);
    p.write("src/lib #1 'x'.ts", "export const ok: boolean = true;\n");
    p.write(
        "src/index.html",
        format!(
            "<!doctype html>\n<meta charset=\"utf-8\">\n\
             <link rel=\"stylesheet\" href=\"{}\">\n\
             <script type=\"module\" src=\"{}\"></script>\n{imgs}",
            pct("odd (1) 'x'.css"),
            pct("app's \"main\".ts"),
        ),
    );
    p
}

/// The target dir the tests were built in (cargo's `CARGO_TARGET_TMPDIR`
/// is its `tmp/`).
pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The newest `debug/build/<package>-*/` directory of `target` that holds
/// `file`: where cargo compiled a build script (`build-script-build`) or
/// ran it (`output`, with `out/` beside it).
pub fn newest_build_dir(target: &Path, package: &str, file: &str) -> PathBuf {
    let prefix = format!("{package}-");
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for e in fs::read_dir(target.join("debug/build")).unwrap() {
        let e = e.unwrap();
        if !e.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        if let Ok(m) = fs::metadata(e.path().join(file)) {
            let t = m.modified().unwrap();
            if best.as_ref().is_none_or(|(b, _)| t > *b) {
                best = Some((t, e.path()));
            }
        }
    }
    best.unwrap_or_else(|| panic!("no {package}-*/{file} under debug/build"))
        .1
}

/// Writes a file below `dir` (creating parents).
#[track_caller]
pub fn write_file(dir: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, content).unwrap();
}

/// The assets of a crate that builds them with `prebake::build_script`:
/// an entry importing a package and a stylesheet, which references an
/// image; the package under `node_modules`; a `prebake.toml` giving the
/// base `/static/`.
pub const CRATE_FILES: [(&str, &[u8]); 6] = [
    ("prebake.toml", b"base = \"/static/\"\n"),
    (
        "assets/app.ts",
        b"import { tiny } from \"tiny\";\nimport \"./style.css\";\nconsole.log(tiny);\n",
    ),
    (
        "assets/style.css",
        b".a { background: url(\"./img/logo.png\"); }\n",
    ),
    ("assets/img/logo.png", b"\x89PNG not really\n"),
    (
        "node_modules/tiny/package.json",
        b"{ \"name\": \"tiny\", \"main\": \"index.js\" }\n",
    ),
    ("node_modules/tiny/index.js", b"export const tiny = 1;\n"),
];
