//! Real open-source apps, built by prebake with no workarounds, pass their
//! own functional spec in a browser.
//!
//! Each `tests/apps/<app>/` is an example app of the `TodoMVC` project
//! (tastejs/todomvc, MIT): the app's own sources, its `package.json` and
//! lock (run-time packages only), its page and a `prebake.toml` as a new
//! user would write it (`tests/apps/README.md` says what differs from
//! upstream). For each app
//! this test copies the directory (with its `node_modules`) to a temporary
//! directory, runs `prebake build` there with no flags (the `prebake.toml`
//! carries the settings), then `prebake check`, then serves the out dir on
//! loopback and runs `tests/apps/spec.mjs`, a port of the `TodoMVC` Cypress
//! spec, in headless Chromium. Any failed check, page error, console error,
//! failed request or HTTP status >= 400 fails the app (except the
//! `learn.json` 404 that todomvc-common's `base.js` causes).
//!
//! Needs `tests/apps/*/node_modules`, `tests/browser/node_modules` and
//! Debian's chromium, which `tests/setup.sh` installs.
//! `PREBAKE_SKIP_REAL_APPS=1` skips these tests; `PREBAKE_SKIP_BROWSER=1`
//! keeps the builds and checks but leaves out the spec.
//! `PREBAKE_REAL_APPS=react,lit` runs only those apps, and
//! `PREBAKE_REAL_APPS_BIN=<path>` builds with another prebake binary than
//! the one cargo built (e.g. a newer checkout's).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fmt::Write as _;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::repo;

/// The apps, with the out dir their `prebake.toml` names and the page in it.
const APPS: &[App] = &[
    App::new("react", "dist", "index.html"),
    App::new("preact", "dist", "index.html"),
    App::new("lit", "dist", "index.html"),
    App::new("javascript-es6", "dist", "index.html"),
    App::new("web-components", "dist", "index.html"),
    App::new("typescript-react", "dist", "index.html"),
];

/// One `prebake build` or `check` of an app (a debug binary, on 2 cores).
const PREBAKE_LIMIT: Duration = Duration::from_secs(5 * 60);
/// One run of the spec: about 32 checks, each on a fresh page.
const SPEC_LIMIT: Duration = Duration::from_secs(5 * 60);

struct App {
    name: &'static str,
    out: &'static str,
    page: &'static str,
}

impl App {
    const fn new(name: &'static str, out: &'static str, page: &'static str) -> App {
        App { name, out, page }
    }
}

fn skip() -> bool {
    if std::env::var_os("PREBAKE_SKIP_REAL_APPS").is_some() {
        eprintln!("PREBAKE_SKIP_REAL_APPS is set: real app tests skipped");
        return true;
    }
    for app in APPS {
        assert!(
            apps_dir().join(app.name).join("node_modules").is_dir(),
            "tests/apps/{}/node_modules is missing: run tests/setup.sh first (or set PREBAKE_SKIP_REAL_APPS=1)",
            app.name
        );
    }
    false
}

fn browser() -> bool {
    if std::env::var_os("PREBAKE_SKIP_BROWSER").is_some() {
        eprintln!("PREBAKE_SKIP_BROWSER is set: real apps are built and checked, not run");
        return false;
    }
    assert!(
        repo()
            .join("tests/browser/node_modules/playwright-core")
            .is_dir(),
        "tests/browser/node_modules is missing: run tests/setup.sh first (or set PREBAKE_SKIP_BROWSER=1)"
    );
    true
}

fn apps_dir() -> PathBuf {
    repo().join("tests/apps")
}

/// The prebake binary under test.
fn prebake() -> PathBuf {
    std::env::var_os("PREBAKE_REAL_APPS_BIN")
        .map_or_else(|| PathBuf::from(common::bin()), PathBuf::from)
}

/// Copies `from` to `to`, symlinks as symlinks (`node_modules/.bin`), and
/// leaves out a top-level `dist` (every app's out dir) left by a build by
/// hand.
fn copy_app(from: &Path, to: &Path) {
    let walk = walkdir::WalkDir::new(from)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !(e.depth() == 1 && e.file_name() == "dist"));
    for entry in walk {
        let entry = entry.unwrap();
        let dest = to.join(entry.path().strip_prefix(from).unwrap());
        let kind = entry.file_type();
        if kind.is_dir() {
            fs::create_dir_all(&dest).unwrap();
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path()).unwrap(), &dest).unwrap();
        } else {
            fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// A finished (or killed) process, its output read back from files, so a
/// long report cannot fill a pipe and stall it.
struct Ran {
    /// `None`: killed after the time limit.
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Ran {
    fn ok(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    fn status(&self) -> String {
        self.status
            .map_or_else(|| "timed out".to_string(), |s| s.to_string())
    }

    /// stdout and stderr, for a report.
    fn output(&self) -> String {
        let mut s = String::new();
        for (name, text) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            if !text.trim().is_empty() {
                let _ = write!(s, "--- {name}\n{}\n", text.trim_end());
            }
        }
        s
    }
}

fn run_logged(mut cmd: Command, logs: &Path, name: &str, limit: Duration) -> Ran {
    let out_path = logs.join(format!("{name}.stdout"));
    let err_path = logs.join(format!("{name}.stderr"));
    cmd.env("NO_COLOR", "1")
        .env_remove("SOURCE_DATE_EPOCH")
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ran {
        status,
        stdout: fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: fs::read_to_string(&err_path).unwrap_or_default(),
        took: start.elapsed(),
    }
}

/// The first lines of a prebake report that say what went wrong.
fn first_errors(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("error") || l.starts_with("warning"))
        .take(3)
        .collect();
    if lines.is_empty() {
        text.lines().last().unwrap_or("").to_string()
    } else {
        lines.join(" | ")
    }
}

/// The spec's summary line (`<app>: N passed, N failed, …`) and its first
/// failure.
fn spec_summary(app: &str, out: &str) -> String {
    let summary = out
        .lines()
        .rev()
        .find(|l| l.starts_with(&format!("{app}: ")))
        .unwrap_or("no summary");
    let first = out
        .lines()
        .find(|l| l.starts_with("FAIL ") || l.starts_with("  "))
        .map(str::trim);
    match first {
        Some(f) => format!("{summary}; first: {f}"),
        None => summary.to_string(),
    }
}

/// Builds, checks and (with `spec`) runs one app copied into `work`;
/// `Err` is one line saying what failed, then the details.
fn build_and_run(
    app: &App,
    source: &Path,
    work: &Path,
    spec: bool,
) -> Result<String, (String, String)> {
    let dir = work.join(app.name);
    copy_app(source, &dir);
    let logs = work.join(format!("{}-logs", app.name));
    fs::create_dir_all(&logs).unwrap();
    let prebake_cmd = |sub: &str| {
        let mut c = Command::new(prebake());
        c.current_dir(&dir).arg(sub);
        c
    };

    let build = run_logged(prebake_cmd("build"), &logs, "build", PREBAKE_LIMIT);
    if !build.ok() {
        return Err((
            format!(
                "prebake build failed ({}): {}",
                build.status(),
                first_errors(&build.stderr)
            ),
            build.output(),
        ));
    }
    let check = run_logged(prebake_cmd("check"), &logs, "check", PREBAKE_LIMIT);
    if !check.ok() {
        return Err((
            format!(
                "prebake check failed ({}): {}",
                check.status(),
                first_errors(&check.stderr)
            ),
            format!("{}{}", build.output(), check.output()),
        ));
    }
    let out = dir.join(app.out);
    if !out.join(app.page).is_file() {
        return Err((
            format!("the build wrote no {}/{}", app.out, app.page),
            build.output(),
        ));
    }
    if !spec {
        return Ok(format!("built in {:.1?}, checked", build.took));
    }
    let mut c = Command::new("node");
    c.arg(apps_dir().join("spec.mjs"))
        .arg(&out)
        .arg(app.page)
        .args(["--app", app.name]);
    let run = run_logged(c, &logs, "spec", SPEC_LIMIT);
    assert_ne!(
        run.status.and_then(|s| s.code()),
        Some(2),
        "the spec harness itself failed (run tests/setup.sh?):\n{}",
        run.output()
    );
    if !run.ok() {
        return Err((
            format!(
                "spec failed ({}): {}",
                run.status(),
                spec_summary(app.name, &run.stdout)
            ),
            format!("{}{}", build.output(), run.output()),
        ));
    }
    Ok(format!(
        "built in {:.1?}, checked, {}",
        build.took,
        spec_summary(app.name, &run.stdout)
    ))
}

#[test]
fn todomvc_apps_built_by_prebake_pass_their_spec() {
    if skip() {
        return;
    }
    let spec = browser();
    let only: Option<Vec<String>> = std::env::var("PREBAKE_REAL_APPS")
        .ok()
        .map(|s| s.split(',').map(|a| a.trim().to_string()).collect());
    let work = tempfile::Builder::new()
        .prefix("prebake-real-apps-")
        .tempdir()
        .expect("tempdir");
    let mut lines = String::new();
    let mut details = String::new();
    let mut failed = 0;
    for app in APPS {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|a| a == app.name))
        {
            continue;
        }
        let start = Instant::now();
        match build_and_run(app, &apps_dir().join(app.name), work.path(), spec) {
            Ok(note) => {
                let _ = writeln!(lines, "ok   {}: {note}", app.name);
            }
            Err((line, detail)) => {
                failed += 1;
                let _ = writeln!(lines, "FAIL {}: {line}", app.name);
                let _ = write!(details, "\n===== {}\n{detail}", app.name);
            }
        }
        eprintln!("{} done in {:.1?}", app.name, start.elapsed());
    }
    assert!(
        failed == 0,
        "{failed} real app(s) failed (prebake: {})\n{lines}{details}",
        prebake().display()
    );
    // Shown with --nocapture: one line per app.
    println!("{lines}");
}

/// What a breakage is, what it does to an app's copy, what the report must say.
type Breakage = (&'static str, fn(&Path), &'static str);

/// The harness can fail: a page with a missing file, an uncaught error or
/// a console error fails the spec, and the same page intact passes it. The
/// web-components app runs unbuilt (upstream serves it so in development),
/// so this holds whatever prebake can build.
#[test]
fn the_spec_fails_a_broken_page() {
    if skip() || !browser() {
        return;
    }
    let work = tempfile::Builder::new()
        .prefix("prebake-real-apps-spec-")
        .tempdir()
        .expect("tempdir");
    let spec = |app: &Path, name: &str| {
        let mut c = Command::new("node");
        c.arg(apps_dir().join("spec.mjs")).arg(app).args([
            "index.html",
            "--app",
            "web-components",
            "--only",
            "^Page ",
        ]);
        run_logged(c, work.path(), name, SPEC_LIMIT)
    };
    let fresh = |name: &str| {
        let app = work.path().join(name).join("web-components");
        copy_app(&apps_dir().join("web-components"), &app);
        app
    };
    let intact = spec(&fresh("intact"), "intact");
    assert!(intact.ok(), "the unbuilt app fails:\n{}", intact.output());

    let breakages: [Breakage; 3] = [
        (
            "a missing stylesheet",
            |app| fs::remove_file(app.join("styles/header.css")).unwrap(),
            "http 404",
        ),
        (
            "an uncaught error",
            |app| {
                let file = app.join("src/components/todo-app/todo-app.component.js");
                let js = fs::read_to_string(&file).unwrap();
                fs::write(
                    &file,
                    format!("{js}\nthrow new Error(\"broken on purpose\");\n"),
                )
                .unwrap();
            },
            "broken on purpose",
        ),
        (
            "a console error",
            |app| {
                let file = app.join("index.html");
                let html = fs::read_to_string(&file).unwrap().replace(
                    "</body>",
                    "<script>console.error(\"logged on purpose\")</script></body>",
                );
                fs::write(&file, html).unwrap();
            },
            "logged on purpose",
        ),
    ];
    for (what, brk, needle) in breakages {
        let name = what.replace(' ', "-");
        let app = fresh(&name);
        brk(&app);
        let run = spec(&app, &name);
        assert_eq!(
            run.status.and_then(|s| s.code()),
            Some(1),
            "{what} did not fail the spec:\n{}",
            run.output()
        );
        assert!(
            run.stdout.contains(needle),
            "the report of {what} does not say {needle:?}:\n{}",
            run.output()
        );
    }
}

/// A build error fails the app with prebake's message on the app's line.
#[test]
fn a_broken_build_fails_the_app() {
    if skip() {
        return;
    }
    let work = tempfile::Builder::new()
        .prefix("prebake-real-apps-broken-")
        .tempdir()
        .expect("tempdir");
    let source = work.path().join("source");
    copy_app(&apps_dir().join("web-components"), &source);
    let file = source.join("src/hooks/useRouter.js");
    let js = fs::read_to_string(&file).unwrap();
    fs::write(&file, format!("{js}\nexport const = ;\n")).unwrap();
    let app = &APPS[4];
    assert_eq!(app.name, "web-components");
    let (line, detail) = build_and_run(app, &source, work.path(), false)
        .expect_err("a syntax error did not fail the build");
    assert!(
        line.starts_with("prebake build failed") && detail.contains("useRouter.js"),
        "{line}\n{detail}"
    );
}
