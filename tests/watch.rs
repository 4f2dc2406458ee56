//! `prebake watch` (RELIABILITY.md T15, T24–T30, T32). Each test runs the
//! real binary with `--format json` and synchronises only on its events;
//! sleeps appear only as settle windows that prove nothing happened. After
//! every successful build the out dir must equal a clean `prebake build`
//! with the watch's dev-profile flags, and hold nothing but that release.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Test code: messages are built up with format!, names are T-numbers.
#![allow(
    clippy::doc_markdown,
    clippy::similar_names,
    clippy::format_push_string,
    clippy::cast_possible_truncation
)]

mod common;

use common::{Project, bin, generated_tree, read_tree};
use serde_json::Value;
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead as _, BufReader, Read as _};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// The watch's dev profile, spelled as `prebake build` flags: a clean build
/// with these equals what the watch publishes.
const DEV: &[&str] = &[
    "--no-minify",
    "--sourcemap",
    "linked",
    "--define",
    "process.env.NODE_ENV=\"development\"",
];

/// Generous: CI machines are shared and slow. Only T15's exit bounds and
/// the reported figures are about speed.
const T: Duration = Duration::from_secs(20);

/// How long "no further build" is watched for once a build has ended.
const QUIET: Duration = Duration::from_millis(400);

/// The bundled entry of [`app_project`], relative to the root.
const ENTRY: &[&str] = &["--entry", "app.ts"];

/// Held from spawning a watch until it prints `watching`, so that no watch
/// creates its inotify instance while T30 has shrunk the kernel's queue.
static INOTIFY_QUEUE: Mutex<()> = Mutex::new(());

fn inotify_lock() -> MutexGuard<'static, ()> {
    INOTIFY_QUEUE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `watch --root <root> --out <out> --format json <extra>`.
fn watch_args(root: &str, out: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["watch", "--root", root, "--out", out, "--format", "json"]
        .into_iter()
        .map(String::from)
        .collect();
    args.extend(extra.iter().copied().map(String::from));
    args
}

/// The flags of `extra` that `prebake build` takes too (the watch-only
/// ones dropped).
fn build_flags_of(extra: &[&str]) -> Vec<String> {
    let mut flags = Vec::new();
    let mut it = extra.iter().copied();
    while let Some(f) = it.next() {
        match f {
            "--poll" | "--release" => {}
            "--poll-interval" | "--debounce" => {
                it.next();
            }
            _ => flags.push(f.to_string()),
        }
    }
    flags
}

/// A running `prebake watch`; killed (SIGKILL) on drop, so a failing test
/// never leaves a process behind.
struct Watch {
    child: Child,
    /// The prebake process: `child` itself, or its child under `unshare -f`.
    pid: u32,
    rx: Receiver<Result<Value, String>>,
    /// Every event read so far, with the time it was read.
    history: Vec<(Instant, Value)>,
    /// Events before this index were looked at by a wait.
    cursor: usize,
    stderr: Arc<Mutex<Vec<u8>>>,
    dir: PathBuf,
    root: String,
    out: String,
    /// Watching with `--release`: a clean build takes no dev flags.
    release: bool,
    /// The watch's flags that `prebake build` takes too.
    build_flags: Vec<String>,
    cleans: Cell<u32>,
}

impl Watch {
    /// `prebake watch --root src --out out --format json <extra>` in `p`;
    /// returns once it printed `watching`.
    fn start(p: &Project, extra: &[&str]) -> Watch {
        Watch::start_in(p, "src", "out", extra)
    }

    /// [`Watch::start`], then the first build: it succeeded and equals a
    /// clean build.
    fn start_good(p: &Project, extra: &[&str]) -> Watch {
        let mut w = Watch::start(p, extra);
        let first = w.initial_end();
        w.assert_good(p, &first);
        w
    }

    /// The same with another root and out dir.
    fn start_in(p: &Project, root: &str, out: &str, extra: &[&str]) -> Watch {
        let _queue = inotify_lock();
        Watch::start_unlocked(p, root, out, extra)
    }

    /// [`Watch::start_in`] without taking [`INOTIFY_QUEUE`] (for T30,
    /// which holds it).
    fn start_unlocked(p: &Project, root: &str, out: &str, extra: &[&str]) -> Watch {
        let mut cmd = p.cmd(&[]);
        cmd.args(watch_args(root, out, extra));
        let mut w = Watch::launch(cmd, p, root, out, extra);
        w.next_event("watching", T);
        w
    }

    /// Spawns `cmd` (which runs a watch of `root` into `out` with `extra`
    /// in `p`) with its output captured. Does not wait for anything.
    fn launch(mut cmd: Command, p: &Project, root: &str, out: &str, extra: &[&str]) -> Watch {
        // Every module the emit cache reuses is also emitted afresh and
        // compared; a difference fails the build.
        cmd.env("PREBAKE_CHECK_CACHE", "1");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn prebake watch");
        let stdout = child.stdout.take().unwrap();
        let mut stderr_pipe = child.stderr.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.trim().is_empty() {
                    continue;
                }
                let msg = serde_json::from_str::<Value>(&line).map_err(|_| line);
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match stderr_pipe.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .extend_from_slice(&buf[..n]),
                }
            }
        });
        let pid = child.id();
        Watch {
            child,
            pid,
            rx,
            history: Vec::new(),
            cursor: 0,
            stderr,
            dir: p.path().to_path_buf(),
            root: root.to_string(),
            out: out.to_string(),
            release: extra.contains(&"--release"),
            build_flags: build_flags_of(extra),
            cleans: Cell::new(0),
        }
    }

    fn out_path(&self) -> PathBuf {
        self.dir.join(&self.out)
    }

    /// The manifest entry of `logical` and the text of its file.
    fn output(&self, logical: &str) -> (Value, String) {
        let entry = read_manifest(&self.out_path())["assets"][logical].clone();
        let file = entry["file"]
            .as_str()
            .unwrap_or_else(|| panic!("{logical} is not in the manifest"));
        let text = fs::read_to_string(self.out_path().join(file)).unwrap();
        (entry, text)
    }

    fn stderr_text(&self) -> String {
        let buf = self.stderr.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Panics with `msg`, the watch's state, its events and its stderr.
    fn fail(&mut self, msg: &str) -> ! {
        while let Ok(m) = self.rx.try_recv() {
            let v = m.unwrap_or_else(|line| Value::String(format!("<not JSON> {line}")));
            self.history.push((Instant::now(), v));
        }
        let state = match self.child.try_wait() {
            Ok(Some(s)) => format!("exited ({s})"),
            Ok(None) => String::from("still running"),
            Err(e) => format!("in an unknown state ({e})"),
        };
        let events: Vec<String> = self.history.iter().map(|(_, e)| e.to_string()).collect();
        let skip = events.len().saturating_sub(80);
        panic!(
            "{msg}\n--- the watch is {state}; {} events, the last {}:\n{}\n--- stderr\n{}",
            events.len(),
            events.len() - skip,
            events[skip..].join("\n"),
            self.stderr_text()
        );
    }

    fn push(&mut self, msg: Result<Value, String>) {
        match msg {
            Ok(v) => self.history.push((Instant::now(), v)),
            Err(line) => self.fail(&format!("a stdout line is not JSON: {line:?}")),
        }
    }

    /// Takes in what the watch printed so far, without waiting.
    fn drain(&mut self) {
        while let Ok(msg) = self.rx.try_recv() {
            self.push(msg);
        }
    }

    /// Reads one more event; false on timeout or at the end of the output.
    fn pull(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(msg) => {
                self.push(msg);
                true
            }
            Err(_) => false,
        }
    }

    /// The next event not yet looked at that matches `pred`, or `None`
    /// after `timeout` (or once the watch's output ended).
    fn poll_for(&mut self, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            while self.cursor < self.history.len() {
                let i = self.cursor;
                self.cursor += 1;
                if pred(&self.history[i].1) {
                    return Some(self.history[i].1.clone());
                }
            }
            if !self.pull(deadline) {
                return None;
            }
        }
    }

    /// [`Watch::poll_for`], failing the test on timeout.
    fn wait_until(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let Some(v) = self.poll_for(timeout, pred) else {
            self.fail(&format!("no {what} within {timeout:?}"))
        };
        v
    }

    /// The next event of `kind`.
    fn next_event(&mut self, kind: &str, timeout: Duration) -> Value {
        self.wait_until(kind, timeout, |e| e["reason"] == kind)
    }

    /// The next `build-end`.
    fn wait_build_end(&mut self, timeout: Duration) -> Value {
        self.next_event("build-end", timeout)
    }

    /// The first event matching `pred`, including those already looked at.
    fn find_any(&mut self, what: &str, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some((_, e)) = self.history.iter().find(|(_, e)| pred(e)) {
            return e.clone();
        }
        self.wait_until(what, timeout, pred)
    }

    /// The initial build's `build-end` (printed before `watching`).
    fn initial_end(&mut self) -> Value {
        let start = self.find_any("initial build-start", T, |e| e["reason"] == "build-start");
        assert_eq!(start["cause"], "initial", "{start}");
        self.find_any("initial build-end", T, |e| e["reason"] == "build-end")
    }

    /// The highest build number started so far; builds a change causes
    /// have higher numbers. Everything read so far counts as looked at.
    fn mark(&mut self) -> u64 {
        self.drain();
        self.cursor = self.history.len();
        self.history
            .iter()
            .filter(|(_, e)| e["reason"] == "build-start")
            .filter_map(|(_, e)| e["build"].as_u64())
            .max()
            .unwrap_or(0)
    }

    /// Once a change was made after `mark`: waits for a build that started
    /// after it to end, then for any follow-ups, until no build starts for
    /// [`QUIET`]. Returns the last `build-end`.
    fn settle(&mut self, mark: u64, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        let first = self.wait_until("build-end after the change", timeout, |e| {
            is_end_after(e, mark)
        });
        self.quiet_after(first, deadline)
    }

    /// From the `build-end` `last`: follows further builds until none
    /// starts for [`QUIET`]; the last `build-end`.
    fn quiet_after(&mut self, mut last: Value, deadline: Instant) -> Value {
        loop {
            let n = last["build"].as_u64().unwrap_or(0);
            let next = self.poll_for(QUIET, |e| {
                e["reason"] == "build-start" && e["build"].as_u64() > Some(n)
            });
            if next.is_none() {
                return last;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                self.fail("builds kept starting: the watch did not settle");
            }
            last = self.wait_until("build-end of a follow-up build", left, |e| {
                is_end_after(e, n)
            });
        }
    }

    /// Marks, runs `f` (the change), settles; the last `build-end`.
    fn change(&mut self, f: impl FnOnce(), timeout: Duration) -> Value {
        let mark = self.mark();
        f();
        self.settle(mark, timeout)
    }

    /// `build-start` events of builds after `mark`.
    fn starts_since(&self, mark: u64) -> Vec<Value> {
        self.history
            .iter()
            .filter(|(_, e)| e["reason"] == "build-start" && e["build"].as_u64() > Some(mark))
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// When `event` was read.
    fn received(&self, event: &Value) -> Instant {
        self.history
            .iter()
            .rev()
            .find(|(_, e)| e == event)
            .map(|(t, _)| *t)
            .expect("an event of this watch")
    }

    fn assert_running(&mut self) {
        if self.child.try_wait().expect("try_wait").is_some() {
            self.fail("the watch exited");
        }
    }

    /// A clean `prebake build` with the watch's root, dev profile and
    /// flags into a fresh `clean-N` beside the out dir; its tree must
    /// equal the out dir's byte for byte (the lock file aside).
    fn assert_equals_clean(&self, p: &Project) {
        let n = self.cleans.get() + 1;
        self.cleans.set(n);
        let clean = format!("clean-{n}");
        // Another watch of the same project may have left one.
        let _ = fs::remove_dir_all(p.path().join(&clean));
        let mut args: Vec<&str> = vec![
            "build",
            "--root",
            self.root.as_str(),
            "--out",
            clean.as_str(),
            "--quiet",
        ];
        if !self.release {
            args.extend_from_slice(DEV);
        }
        args.extend(self.build_flags.iter().map(String::as_str));
        p.run(&args).assert_code(0);
        assert_trees_equal(&self.out_path(), &p.path().join(&clean));
    }

    /// `end` is a successful build-end whose `removed` files are gone and
    /// whose `changed` names are in the manifest; the out dir holds exactly
    /// the release and equals a clean build.
    fn assert_good(&mut self, p: &Project, end: &Value) {
        if !is_ok(end) {
            self.fail(&format!("the build failed: {end}"));
        }
        assert!(
            end["manifest"]
                .as_str()
                .is_some_and(|m| m.ends_with("manifest.json")),
            "{end}"
        );
        let out = self.out_path();
        let manifest = read_manifest(&out);
        for name in end["removed"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap();
            assert!(
                !out.join(name).exists(),
                "{name} is listed as removed but exists"
            );
        }
        for name in end["changed"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap();
            assert!(
                manifest["assets"].get(name).is_some(),
                "{name} is listed as changed but is not in the manifest"
            );
        }
        assert_release_exact(&out);
        self.assert_equals_clean(p);
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            if self.pid != self.child.id() {
                let _ = Command::new("kill")
                    .args(["-KILL", &self.pid.to_string()])
                    .status();
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn is_ok(e: &Value) -> bool {
    e["ok"].as_bool() == Some(true)
}

fn is_end_after(e: &Value, mark: u64) -> bool {
    e["reason"] == "build-end" && e["build"].as_u64().is_some_and(|b| b > mark)
}

#[track_caller]
fn assert_failed(end: &Value) {
    assert_eq!(
        end["ok"].as_bool(),
        Some(false),
        "expected a failed build: {end}"
    );
    assert!(end["manifest"].is_null(), "{end}");
    assert!(end["errors"].as_u64().is_some_and(|n| n > 0), "{end}");
}

/// The diagnostic of `end` whose file ends with `file`.
#[track_caller]
fn diagnostic_for(end: &Value, file: &str) -> Value {
    end["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["file"].as_str().is_some_and(|f| f.ends_with(file)))
        .cloned()
        .unwrap_or_else(|| panic!("no diagnostic for {file}: {end}"))
}

/// The diagnostic of `end` with `code`.
#[track_caller]
fn diagnostic_with_code(end: &Value, code: &str) -> Value {
    end["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["code"] == code)
        .cloned()
        .unwrap_or_else(|| panic!("no {code} diagnostic: {end}"))
}

fn read_manifest(out: &Path) -> Value {
    serde_json::from_slice(&fs::read(out.join("manifest.json")).expect("manifest.json"))
        .expect("the manifest is JSON")
}

/// The out dir holds the manifest, the files and maps it names, and
/// nothing else (the lock file aside): no temp file, no stale release.
#[track_caller]
fn assert_release_exact(out: &Path) {
    let tree = read_tree(out);
    let temps: Vec<&String> = tree
        .keys()
        .filter(|k| {
            k.rsplit('/')
                .next()
                .is_some_and(|n| n.starts_with(".prebake-tmp-"))
        })
        .collect();
    assert!(
        temps.is_empty(),
        "temp files left in the out dir: {temps:?}"
    );
    let manifest = read_manifest(out);
    let mut named = BTreeSet::from([String::from("manifest.json")]);
    for entry in manifest["assets"].as_object().expect("assets").values() {
        named.insert(entry["file"].as_str().expect("file").to_string());
        if let Some(map) = entry["map"].as_str() {
            named.insert(map.to_string());
        }
    }
    let stray: Vec<&String> = tree.keys().filter(|k| !named.contains(*k)).collect();
    let missing: Vec<&String> = named.iter().filter(|k| !tree.contains_key(*k)).collect();
    assert!(
        stray.is_empty() && missing.is_empty(),
        "the out dir is not exactly the release\nfiles no manifest entry names: {stray:?}\nnamed but missing: {missing:?}"
    );
}

/// Byte-for-byte equality of two out dirs, with a diff of names on failure.
#[track_caller]
fn assert_trees_equal(watched: &Path, clean: &Path) {
    let a = read_tree(watched);
    let b = read_tree(clean);
    if a == b {
        return;
    }
    let only_watch: Vec<&String> = a.keys().filter(|k| !b.contains_key(*k)).collect();
    let only_clean: Vec<&String> = b.keys().filter(|k| !a.contains_key(*k)).collect();
    let differ: Vec<&String> = a
        .iter()
        .filter(|(k, v)| b.get(*k).is_some_and(|c| c != *v))
        .map(|(k, _)| k)
        .collect();
    let manifest = |t: &BTreeMap<String, Vec<u8>>| {
        t.get("manifest.json").map_or_else(
            || String::from("(none)"),
            |m| String::from_utf8_lossy(m).into_owned(),
        )
    };
    panic!(
        "{} differs from a clean build ({})\nonly in the watch's out dir: {only_watch:?}\nonly in the clean build: {only_clean:?}\ndifferent bytes: {differ:?}\n--- the watch's manifest\n{}\n--- the clean manifest\n{}",
        watched.display(),
        clean.display(),
        manifest(&a),
        manifest(&b)
    );
}

/// `kill -<sig> <pid>`.
fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill -{sig} {pid} failed");
}

impl Watch {
    /// Sends `sig` to the prebake process; its exit status and the time
    /// from sending to exit (waits up to `limit` + 10 s, to report the
    /// figure).
    fn signal_and_wait(&mut self, sig: &str, limit: Duration) -> (ExitStatus, Duration) {
        let t0 = Instant::now();
        signal(self.pid, sig);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return (status, t0.elapsed());
            }
            if t0.elapsed() > limit + Duration::from_secs(10) {
                let msg = format!("still running {:?} after SIG{sig}", t0.elapsed());
                self.fail(&msg);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Children of every thread of `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut kids = Vec::new();
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return kids;
    };
    for task in tasks.flatten() {
        let list = fs::read_to_string(task.path().join("children")).unwrap_or_default();
        kids.extend(
            list.split_whitespace()
                .filter_map(|s| s.parse::<u32>().ok()),
        );
    }
    kids
}

/// User plus system CPU time of `pid` (all threads), in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/<pid>/stat");
    // After the command name in parentheses: field 3 (state) onwards;
    // utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')').expect("comm") + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

const APP_TS: &str = "import { a } from \"./lib/a.ts\";\nimport { b } from \"./lib/b.ts\";\nimport \"./style.css\";\nconsole.log(a(1), b);\nif (process.env.NODE_ENV !== \"production\") console.log(\"development build\");\n";

/// A bundled entry (`app.ts`, see [`ENTRY`]) importing two modules and a
/// stylesheet that `@import`s a partial and names an image; a
/// `prebake.toml` exists from the start, so config edits are changes.
fn app_project() -> Project {
    let p = Project::new();
    p.write("prebake.toml", "hash-length = 16\n");
    p.write("src/app.ts", APP_TS);
    p.write(
        "src/lib/a.ts",
        "export function a(n: number): number {\n  return n + 1;\n}\n",
    );
    p.write("src/lib/b.ts", "export const b: string = \"b\";\n");
    p.write(
        "src/style.css",
        "@import \"./css/_partial.css\";\n.app { background: url(\"./img/x.png\"); }\n",
    );
    p.write("src/css/_partial.css", ".partial { color: red; }\n");
    p.write("src/img/x.png", b"\x89PNG not really an image\n");
    p
}

/// T24: edit, syntax error, fix, delete, add, rename and config change;
/// after each successful build the out dir equals a clean build, and a
/// failed build leaves it untouched.
#[test]
fn t24_watch_equals_clean_through_an_edit_session() {
    let p = app_project();
    let mut w = Watch::start_good(&p, ENTRY);

    // An edit.
    let end = w.change(
        || {
            p.write(
                "src/lib/a.ts",
                "export function a(n: number): number {\n  return n + 2;\n}\n",
            );
        },
        T,
    );
    w.assert_good(&p, &end);

    // A syntax error: a failed build naming the file and position; the
    // last good release stays, manifest and all.
    // (The previous step settled, so the next build-end is this change's.)
    let good = read_tree(&w.out_path());
    w.mark();
    p.write(
        "src/lib/a.ts",
        "export function a(n: number): number {\n  return n +;\n}\n",
    );
    let end = w.wait_build_end(T);
    assert_failed(&end);
    let d = diagnostic_for(&end, "lib/a.ts");
    assert_eq!(d["code"], "JS_PARSE", "{d}");
    assert_eq!(d["line"].as_u64(), Some(2), "{d}");
    assert!(d["column"].as_u64().is_some_and(|c| c > 0), "{d}");
    assert!(
        read_tree(&w.out_path()) == good,
        "a failed build changed the out dir"
    );
    w.assert_running();

    // The fix.
    let end = w.change(
        || {
            p.write(
                "src/lib/a.ts",
                "export function a(n: number): number {\n  return n * 3;\n}\n",
            );
        },
        T,
    );
    w.assert_good(&p, &end);

    // Delete a module and its import.
    let end = w.change(
        || {
            p.write(
                "src/app.ts",
                "import { a } from \"./lib/a.ts\";\nimport \"./style.css\";\nconsole.log(a(1));\n",
            );
            fs::remove_file(p.path().join("src/lib/b.ts")).unwrap();
        },
        T,
    );
    w.assert_good(&p, &end);

    // Add a module and import it.
    let end = w.change(
        || {
            p.write("src/lib/c.ts", "export const c: number = 3;\n");
            p.write(
                "src/app.ts",
                "import { a } from \"./lib/a.ts\";\nimport { c } from \"./lib/c.ts\";\nimport \"./style.css\";\nconsole.log(a(c));\n",
            );
        },
        T,
    );
    w.assert_good(&p, &end);

    // Rename a module and an image, and update their references.
    let end = w.change(
        || {
            let src = p.path().join("src");
            fs::rename(src.join("lib/a.ts"), src.join("lib/alpha.ts")).unwrap();
            fs::rename(src.join("img/x.png"), src.join("img/y.png")).unwrap();
            p.write(
                "src/app.ts",
                "import { a } from \"./lib/alpha.ts\";\nimport { c } from \"./lib/c.ts\";\nimport \"./style.css\";\nconsole.log(a(c));\n",
            );
            p.write(
                "src/style.css",
                "@import \"./css/_partial.css\";\n.app { background: url(\"./img/y.png\"); }\n",
            );
        },
        T,
    );
    w.assert_good(&p, &end);
    assert!(
        read_manifest(&w.out_path())["assets"]
            .get("img/x.png")
            .is_none(),
        "the renamed image is still in the manifest"
    );

    // A config change: a build for reason "config", equal to a clean build
    // that reads the same prebake.toml.
    let mark = w.mark();
    p.write("prebake.toml", "hash-length = 20\n");
    let end = w.settle(mark, T);
    let starts = w.starts_since(mark);
    assert!(
        starts.iter().any(|s| s["cause"] == "config"),
        "no build-start with reason \"config\": {starts:?}"
    );
    w.assert_good(&p, &end);
    let app = read_manifest(&w.out_path())["assets"]["app.ts"]["file"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.len(),
        "app-".len() + 20 + ".js".len(),
        "hash-length = 20 not applied: {app}"
    );
    w.assert_running();
}

/// T25: a broken file keeps the last good release (which still checks)
/// and is reported at file:line; the fix recovers within 2 s (asserted
/// at 5 s for CI noise; the figure is printed); the watch never exits.
#[test]
fn t25_a_broken_file_keeps_the_last_good_release() {
    let p = app_project();
    let mut w = Watch::start_good(&p, ENTRY);
    let good = read_tree(&w.out_path());

    for round in 0..2 {
        let end = w.change(
            || {
                p.write(
                    "src/lib/b.ts",
                    format!("export const b: string = \"b{round}\"\nexport const c = ;\n"),
                );
            },
            T,
        );
        assert_failed(&end);
        let d = diagnostic_for(&end, "lib/b.ts");
        assert_eq!(d["line"].as_u64(), Some(2), "{d}");
        assert!(
            d["rendered"]
                .as_str()
                .is_some_and(|r| r.contains("lib/b.ts:2:")),
            "no file:line in the rendered diagnostic: {d}"
        );
        assert!(
            read_tree(&w.out_path()) == good,
            "a failed build changed the out dir"
        );
        p.run(&["check", "--out", "out"]).assert_code(0);
        w.assert_running();
    }

    let mark = w.mark();
    let t0 = Instant::now();
    p.write("src/lib/b.ts", "export const b: string = \"fixed\";\n");
    let end = w.wait_until("successful build-end after the fix", T, |e| {
        is_end_after(e, mark) && is_ok(e)
    });
    let took = w.received(&end) - t0;
    eprintln!("T25: from the fixing write to build-end ok: {took:?} (spec: 2 s)");
    assert!(
        took < Duration::from_secs(5),
        "the fix took {took:?} to recover (spec: 2 s)"
    );
    let end = w.quiet_after(end, Instant::now() + T);
    w.assert_good(&p, &end);
    w.assert_running();
}

/// Names editors leave beside `app.ts`; none may reach a release.
const BYPRODUCTS: &[&str] = &[
    ".app.ts.swp",
    ".app.ts.swo",
    "4913",
    "app.ts~",
    ".app.ts.tmp123",
    "app.ts___jb_tmp___",
    "app.ts___jb_old___",
    "#app.ts#",
    ".#app.ts",
];

/// No manifest entry comes from an editor byproduct (and, with
/// [`assert_release_exact`], no file either).
#[track_caller]
fn assert_no_byproducts(out: &Path) {
    let manifest = read_manifest(out);
    for name in manifest["assets"].as_object().unwrap().keys() {
        let base = name.rsplit('/').next().unwrap_or(name);
        assert!(
            !BYPRODUCTS.contains(&base)
                && !base.ends_with('~')
                && !base.contains("___jb_")
                && !base.starts_with('#')
                && !base.starts_with('.'),
            "editor byproduct {name:?} in the release"
        );
    }
}

/// T26: vim, VS Code (atomic rename), JetBrains and emacs save sequences
/// on the entry; after each the release equals a clean build and holds no
/// editor byproduct.
#[test]
fn t26_editor_save_patterns_equal_clean() {
    let p = app_project();
    let mut w = Watch::start_good(&p, ENTRY);
    let src = p.path().join("src");
    let app = src.join("app.ts");
    let body = |v: u32| {
        format!(
            "import {{ a }} from \"./lib/a.ts\";\nimport {{ b }} from \"./lib/b.ts\";\nimport \"./style.css\";\nconsole.log(a({v}), b);\n"
        )
    };
    let check = |w: &mut Watch, end: &Value, editor: &str| {
        eprintln!("T26: {editor}: build {} ok={}", end["build"], end["ok"]);
        w.assert_good(&p, end);
        assert_no_byproducts(&w.out_path());
    };

    // vim (writebackup, backupcopy=no): swap file, the 4913 probe, the
    // original renamed to the backup, a new file written.
    let end = w.change(
        || {
            fs::write(src.join(".app.ts.swp"), "vim swap").unwrap();
            fs::write(src.join("4913"), "").unwrap();
            fs::rename(&app, src.join("app.ts~")).unwrap();
            fs::write(&app, body(2)).unwrap();
            fs::remove_file(src.join("4913")).unwrap();
        },
        T,
    );
    check(&mut w, &end, "vim");

    // VS Code and other atomic writers: a temp file renamed over.
    let end = w.change(
        || {
            let tmp = src.join(".app.ts.tmp123");
            fs::write(&tmp, body(3)).unwrap();
            fs::rename(&tmp, &app).unwrap();
        },
        T,
    );
    check(&mut w, &end, "atomic rename");

    // JetBrains safe write.
    let end = w.change(
        || {
            let tmp = src.join("app.ts___jb_tmp___");
            let old = src.join("app.ts___jb_old___");
            fs::write(&tmp, body(4)).unwrap();
            fs::rename(&app, &old).unwrap();
            fs::rename(&tmp, &app).unwrap();
            fs::remove_file(&old).unwrap();
        },
        T,
    );
    check(&mut w, &end, "JetBrains");

    // emacs: the lock symlink (dangling by design), an autosave, the
    // backup, then the write. The lock stays while the build runs, as it
    // does while any buffer has unsaved changes.
    let end = w.change(
        || {
            symlink("user@host.1234:1700000000", src.join(".#app.ts")).unwrap();
            fs::write(src.join("#app.ts#"), body(5)).unwrap();
            fs::rename(&app, src.join("app.ts~")).unwrap();
            fs::write(&app, body(5)).unwrap();
            fs::remove_file(src.join("#app.ts#")).unwrap();
        },
        T,
    );
    check(&mut w, &end, "emacs");
    fs::remove_file(src.join(".#app.ts")).unwrap();
    fs::remove_file(src.join(".app.ts.swp")).unwrap();

    // Every byproduct at once (an editor that crashed, or several open),
    // then a real save: built, and none of them in the release.
    let end = w.change(
        || {
            for name in BYPRODUCTS {
                if *name == ".#app.ts" {
                    symlink("user@host.1234:1700000000", src.join(name)).unwrap();
                } else {
                    fs::write(src.join(name), "byproduct").unwrap();
                }
            }
            fs::write(&app, body(6)).unwrap();
        },
        T,
    );
    check(&mut w, &end, "all byproducts present");
    w.assert_running();
}

/// T26 (no-op half): writing only editor byproducts (swap, probe, backup,
/// autosave, lock, JetBrains temp names) starts no build.
#[test]
fn t26_editor_byproducts_alone_start_no_build() {
    let p = app_project();
    let mut w = Watch::start(&p, ENTRY);
    let first = w.initial_end();
    assert!(is_ok(&first), "{first}");
    let src = p.path().join("src");
    for name in BYPRODUCTS {
        let mark = w.mark();
        let path = src.join(name);
        if *name == ".#app.ts" {
            symlink("user@host.1234:1700000000", &path).unwrap();
        } else {
            fs::write(&path, "byproduct 1").unwrap();
            fs::write(&path, "byproduct 2, changed").unwrap();
        }
        fs::remove_file(&path).unwrap();
        let start = w.poll_for(Duration::from_millis(500), |e| {
            e["reason"] == "build-start" && e["build"].as_u64() > Some(mark)
        });
        assert!(
            start.is_none(),
            "writing and deleting {name:?} started a build: {}",
            start.unwrap_or_default()
        );
    }
    // A swap file that only changes: still nothing.
    fs::write(src.join(".app.ts.swp"), "swap 1").unwrap();
    let mark = w.mark();
    fs::write(src.join(".app.ts.swp"), "swap 2, longer").unwrap();
    let start = w.poll_for(Duration::from_millis(500), |e| {
        e["reason"] == "build-start" && e["build"].as_u64() > Some(mark)
    });
    assert!(start.is_none(), "a swap-file change started a build");
    w.assert_running();
}

/// `git -c … <args>` in `p`, isolated from the machine's git config.
fn git(p: &Project, args: &[&str]) {
    let o = Command::new("git")
        .args([
            "-c",
            "user.name=prebake-test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.hooksPath=/dev/null",
        ])
        .args(args)
        .current_dir(p.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run git");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// 500 modules under `src/d0..d9`, each naming `tag`.
fn write_500(p: &Project, tag: &str) {
    for i in 0..500 {
        p.write(
            &format!("src/d{}/f{i}.ts", i % 10),
            format!("export const v{i}: string = \"{tag}-{i}\";\n"),
        );
    }
}

/// T27: a git checkout changing 500 files, then a directory deleted and
/// recreated (and one moved): the watch converges to a clean build in a
/// few builds (spec 5 s; asserted at 20 s, the figures are printed).
#[test]
fn t27_bulk_changes_converge_to_clean() {
    let p = Project::new();
    git(&p, &["init", "-q", "-b", "main"]);
    write_500(&p, "main");
    git(&p, &["add", "src"]);
    git(&p, &["commit", "-q", "-m", "main"]);
    git(&p, &["checkout", "-q", "-b", "other"]);
    write_500(&p, "other");
    git(&p, &["commit", "-q", "-a", "-m", "other"]);
    git(&p, &["checkout", "-q", "main"]);

    let mut w = Watch::start_good(&p, &[]);

    let mark = w.mark();
    let t0 = Instant::now();
    git(&p, &["checkout", "-q", "other"]);
    let end = w.settle(mark, T);
    let took = w.received(&end) - t0;
    let builds = w.starts_since(mark).len();
    eprintln!(
        "T27: git checkout of 500 files converged in {took:?} with {builds} build(s) (spec: 5 s)"
    );
    w.assert_good(&p, &end);
    assert!(took < T, "converged only after {took:?}");
    assert!(builds <= 5, "{builds} builds for one checkout");

    let mark = w.mark();
    let t0 = Instant::now();
    fs::remove_dir_all(p.path().join("src/d3")).unwrap();
    for i in 0..50 {
        p.write(
            &format!("src/d3/new{i}.ts"),
            format!("export const n{i}: number = {i};\n"),
        );
    }
    fs::rename(p.path().join("src/d4"), p.path().join("src/d4-moved")).unwrap();
    p.write("src/d4-moved/extra.ts", "export const extra: number = 1;\n");
    let end = w.settle(mark, T);
    let took = w.received(&end) - t0;
    let builds = w.starts_since(mark).len();
    eprintln!(
        "T27: delete/recreate/move of directories converged in {took:?} with {builds} build(s)"
    );
    w.assert_good(&p, &end);
    let manifest = read_manifest(&w.out_path());
    assert!(manifest["assets"].get("d4-moved/extra.ts").is_some());
    assert!(manifest["assets"].get("d4/f4.ts").is_none());
    assert!(manifest["assets"].get("d3/f3.ts").is_none());
    w.assert_running();
}

/// T28: an edit while a build runs gets a follow-up build after it, and
/// the last build-end is a success for the tree with the edit.
#[test]
fn t28_a_change_during_a_build_gets_a_follow_up() {
    let p = Project::new();
    generated_tree(&p, 150, 1);
    let mut w = Watch::start(&p, &[]);
    assert!(is_ok(&w.initial_end()));

    // Every file changes, so the build takes a while whatever the watch caches.
    let mark = w.mark();
    generated_tree(&p, 150, 2);
    let start = w.wait_until("build-start after the change", T, |e| {
        e["reason"] == "build-start" && e["build"].as_u64() > Some(mark)
    });
    let b = start["build"].as_u64().unwrap();
    p.write(
        "src/mod0/file0.ts",
        "export const marker: string = \"SECOND_EDIT\";\n",
    );
    w.drain();
    let mid_build = !w.history.iter().any(|(_, e)| is_end_after(e, b - 1));
    eprintln!("T28: the second edit landed while build {b} ran: {mid_build}");

    let end = w.settle(b, T);
    // Builds never overlap: the follow-up started after build b ended.
    let end_b = w
        .history
        .iter()
        .position(|(_, e)| e["reason"] == "build-end" && e["build"].as_u64() == Some(b));
    let next_start = w
        .history
        .iter()
        .position(|(_, e)| e["reason"] == "build-start" && e["build"].as_u64() > Some(b));
    assert!(
        end_b.is_some() && next_start.is_some() && end_b < next_start,
        "no follow-up build after build {b} ended"
    );
    w.assert_good(&p, &end);
    let out = w.out_path();
    let file = read_manifest(&out)["assets"]["mod0/file0.ts"]["file"]
        .as_str()
        .unwrap()
        .to_string();
    let text = fs::read_to_string(out.join(&file)).unwrap();
    assert!(
        text.contains("SECOND_EDIT"),
        "the last build-end is ok for a tree without the second edit"
    );
    w.assert_running();
}

/// T29: an out dir inside the watched root: idle is zero builds and
/// near-zero CPU, after the initial build and after a later one; writes
/// into the out dir (a stray file, a prebake temp name, a touched
/// manifest) start nothing.
#[test]
fn t29_an_out_dir_inside_the_root_never_triggers_a_build() {
    let p = Project::new();
    p.write("app.ts", "export const x: number = 1;\n");
    p.write("style.css", ".a { background: url(\"img/x.png\"); }\n");
    p.write("img/x.png", "not really a png");
    let mut w = Watch::start_in(&p, ".", "public/assets", &[]);
    let first = w.initial_end();
    assert!(is_ok(&first), "{first}");
    let any_start = |e: &Value| e["reason"] == "build-start";

    w.mark();
    let start = w.poll_for(Duration::from_millis(1500), any_start);
    assert!(
        start.is_none(),
        "a build started while idle after the initial build"
    );

    let out = p.path().join("public/assets");
    fs::write(out.join("stray.txt"), "x").unwrap();
    fs::write(out.join(".prebake-tmp-x"), "x").unwrap();
    fs::remove_file(out.join(".prebake-tmp-x")).unwrap();
    fs::File::open(out.join("manifest.json"))
        .unwrap()
        .set_modified(SystemTime::now())
        .unwrap();
    let start = w.poll_for(Duration::from_secs(1), any_start);
    assert!(start.is_none(), "a write into the out dir started a build");
    fs::remove_file(out.join("stray.txt")).unwrap();

    // A real change builds once, and its own writes start nothing more.
    let end = w.change(
        || {
            p.write("app.ts", "export const x: number = 2;\n");
        },
        T,
    );
    assert!(is_ok(&end), "{end}");
    p.run(&["check", "--out", "public/assets"]).assert_code(0);
    let start = w.poll_for(Duration::from_millis(1500), any_start);
    assert!(start.is_none(), "the watch rebuilt after its own build");

    let before = cpu_ticks(w.pid);
    let start = w.poll_for(Duration::from_secs(1), any_start);
    let ticks = cpu_ticks(w.pid) - before;
    eprintln!("T29: CPU over 1 s idle: {ticks} clock ticks");
    assert!(start.is_none(), "a build started while idle");
    assert!(ticks < 5, "{ticks} clock ticks of CPU in 1 s of idle");
    w.assert_running();
}

/// Restores a sysctl on drop, even when the test panics.
struct Sysctl {
    path: &'static str,
    old: String,
}

impl Drop for Sysctl {
    fn drop(&mut self) {
        let _ = fs::write(self.path, &self.old);
    }
}

/// Sends SIGCONT on drop, so a stopped watch never stays stopped.
struct Resume(u32);

impl Drop for Resume {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.0.to_string()])
            .status();
    }
}

/// T30: more changes than the inotify queue holds. The watch is stopped
/// (SIGSTOP) while the files are created, so the queue overflows for
/// sure; then a `rescan` event and a release equal to a clean build. As
/// root the queue is shrunk to 32 for the watch (restored as soon as its
/// instance exists); otherwise the default queue is overflowed with
/// max_queued_events + 100 files.
#[test]
fn t30_event_overflow_rescans_and_equals_clean() {
    const QUEUE: &str = "/proc/sys/fs/inotify/max_queued_events";
    let Ok(old) = fs::read_to_string(QUEUE) else {
        eprintln!("T30 skipped: {QUEUE} is not readable");
        return;
    };
    let queued: usize = old.trim().parse().unwrap_or(16_384);
    let p = Project::new();
    p.write("src/app.ts", "export const x: number = 1;\n");
    p.write("src/many/seed.txt", "seed");

    let lock = inotify_lock();
    let restore = fs::write(QUEUE, "32\n")
        .is_ok()
        .then(|| Sysctl { path: QUEUE, old });
    let shrunk = restore.is_some();
    let mut w = Watch::start_unlocked(&p, "src", "out", &[]);
    // inotify read the limit when the watch created its instance.
    drop(restore);
    drop(lock);
    let first = w.initial_end();
    assert!(is_ok(&first), "{first}");

    let n = if shrunk { 400 } else { queued + 100 };
    if n > 20_000 {
        eprintln!("T30 skipped: not root, and max_queued_events is {queued}");
        return;
    }
    eprintln!("T30: queue {}, {n} files", if shrunk { 32 } else { queued });
    let mark = w.mark();
    let resume = Resume(w.pid);
    signal(w.pid, "STOP");
    for i in 0..n {
        fs::write(
            p.path().join(format!("src/many/f{i}.txt")),
            format!("file {i}\n"),
        )
        .unwrap();
    }
    drop(resume);
    let end = w.settle(mark, Duration::from_secs(90));
    let rescan = w
        .history
        .iter()
        .any(|(_, e)| e["reason"] == "rescan" && e["cause"] == "overflow");
    assert!(rescan, "no rescan event after an overflow");
    w.assert_good(&p, &end);
    let manifest = read_manifest(&w.out_path());
    assert!(
        manifest["assets"]
            .get(format!("many/f{}.txt", n - 1).as_str())
            .is_some()
    );
    w.assert_running();
}

/// inotify watches exhausted (the user namespace's limit set to 1): a
/// WATCH_POLLING warning naming fs.inotify.max_user_watches, then edits
/// are still picked up. Skipped without `unshare -Ur`.
#[test]
fn watch_limit_exhausted_warns_and_polls() {
    let script = "echo 1 > /proc/sys/user/max_inotify_watches";
    let probe = Command::new("unshare")
        .args(["-Ur", "sh", "-c", script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("skipped: `unshare -Ur` cannot set user.max_inotify_watches here");
        return;
    }
    let p = Project::new();
    for d in ["a", "b", "c", "d/e", "d/f"] {
        p.write(
            &format!("src/{d}/m.ts"),
            format!("export const m: string = \"{d}\";\n"),
        );
    }
    let mut cmd = Command::new("unshare");
    cmd.current_dir(p.path())
        .env_remove("SOURCE_DATE_EPOCH")
        .env("NO_COLOR", "1")
        .args([
            "-Ur",
            "sh",
            "-c",
            "echo 1 > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\"",
            bin(),
        ])
        .args(watch_args("src", "out", &[]));
    let mut w = Watch::launch(cmd, &p, "src", "out", &[]);
    let watching = w.next_event("watching", T);
    let warning = w.find_any("WATCH_POLLING warning", T, |e| {
        e["reason"] == "diagnostic" && e["code"] == "WATCH_POLLING"
    });
    eprintln!("watch limit: {warning}\n{watching}");
    // The contract puts the sysctl in the message; the help line is
    // accepted too.
    let names_sysctl = |k: &str| {
        warning[k]
            .as_str()
            .is_some_and(|m| m.contains("fs.inotify.max_user_watches"))
    };
    assert!(
        names_sysctl("message") || names_sysctl("help"),
        "the warning does not name fs.inotify.max_user_watches: {warning}"
    );
    let first = w.initial_end();
    w.assert_good(&p, &first);

    let end = w.change(
        || {
            p.write("src/d/f/m.ts", "export const m: string = \"edited\";\n");
        },
        T,
    );
    w.assert_good(&p, &end);
    let end = w.change(
        || {
            p.write("src/c/new.ts", "export const n: number = 1;\n");
        },
        T,
    );
    w.assert_good(&p, &end);
    w.assert_running();
}

/// `--poll`: no inotify; edits, additions and deletions are picked up.
#[test]
fn poll_mode_picks_up_changes() {
    let p = app_project();
    let mut w = Watch::start(&p, &["--entry", "app.ts", "--poll"]);
    let watching = w.find_any("watching", T, |e| e["reason"] == "watching");
    assert_eq!(watching["mode"], "poll", "{watching}");
    let first = w.initial_end();
    w.assert_good(&p, &first);

    // Same length as before: only the content and mtime change.
    let end = w.change(
        || {
            p.write(
                "src/lib/a.ts",
                "export function a(n: number): number {\n  return n + 7;\n}\n",
            );
        },
        T,
    );
    w.assert_good(&p, &end);
    let end = w.change(
        || {
            p.write("src/img/new.png", "another image");
        },
        T,
    );
    w.assert_good(&p, &end);
    let end = w.change(
        || {
            fs::remove_file(p.path().join("src/img/new.png")).unwrap();
        },
        T,
    );
    w.assert_good(&p, &end);
    w.assert_running();
}

/// T32: symlinks in the sources. A loop is a SYMLINK_LOOP error and never
/// a hang (the watch answers: removing it builds); a link out of the root
/// is OUTSIDE_ROOT; a failed build leaves the release; a link inside the
/// root is followed; a dangling link gets what `prebake build` gives it.
#[test]
fn t32_symlinks_in_sources() {
    let p = Project::new();
    p.write("src/app.ts", "export const x: number = 1;\n");
    p.write("src/lib/x.ts", "export const y: number = 2;\n");
    p.write("outside/secret.txt", "secret");
    let src = p.path().join("src");
    symlink("..", src.join("lib/loop")).unwrap();

    let mut w = Watch::start(&p, &[]);
    let first = w.initial_end();
    assert_failed(&first);
    let d = diagnostic_with_code(&first, "SYMLINK_LOOP");
    assert!(
        d["file"].as_str().is_some_and(|f| f.ends_with("lib/loop")),
        "{d}"
    );

    let end = w.change(|| fs::remove_file(src.join("lib/loop")).unwrap(), T);
    w.assert_good(&p, &end);
    let good = read_tree(&w.out_path());

    // A loop made while watching.
    let end = w.change(|| symlink("..", src.join("lib/loop2")).unwrap(), T);
    assert_failed(&end);
    diagnostic_with_code(&end, "SYMLINK_LOOP");
    assert!(
        read_tree(&w.out_path()) == good,
        "a failed build changed the out dir"
    );
    let end = w.change(|| fs::remove_file(src.join("lib/loop2")).unwrap(), T);
    w.assert_good(&p, &end);

    // A link out of the root.
    let end = w.change(|| symlink("../outside", src.join("escape")).unwrap(), T);
    assert_failed(&end);
    let d = diagnostic_with_code(&end, "OUTSIDE_ROOT");
    assert!(
        d["file"].as_str().is_some_and(|f| f.ends_with("escape")),
        "{d}"
    );
    assert!(
        read_tree(&w.out_path()) == good,
        "a failed build changed the out dir"
    );
    let end = w.change(|| fs::remove_file(src.join("escape")).unwrap(), T);
    w.assert_good(&p, &end);

    // A link to a file inside the root is followed.
    let end = w.change(|| symlink("lib/x.ts", src.join("alias.ts")).unwrap(), T);
    w.assert_good(&p, &end);
    assert!(
        read_manifest(&w.out_path())["assets"]
            .get("alias.ts")
            .is_some()
    );
    let end = w.change(|| fs::remove_file(src.join("alias.ts")).unwrap(), T);
    w.assert_good(&p, &end);

    // A dangling link: whatever `prebake build` does with it, the watch
    // does too (README: not yet documented; today an IO error).
    let end = w.change(
        || symlink("missing.txt", src.join("dangling.txt")).unwrap(),
        T,
    );
    let build = p.run(&[
        "build",
        "--root",
        "src",
        "--out",
        "probe-dangling",
        "--quiet",
    ]);
    eprintln!(
        "T32: dangling link: watch ok={}, build exit {:?}",
        end["ok"], build.code
    );
    assert_eq!(
        is_ok(&end),
        build.code == Some(0),
        "the watch and prebake build disagree on a dangling link: {end}\n{}",
        build.stderr
    );
    if is_ok(&end) {
        w.assert_good(&p, &end);
    } else {
        assert_failed(&end);
        diagnostic_for(&end, "dangling.txt");
        assert!(build.stderr.contains("dangling.txt"), "{}", build.stderr);
        assert!(
            read_tree(&w.out_path()) == good,
            "a failed build changed the out dir"
        );
    }
    // Its target appears: the link resolves.
    let end = w.change(
        || {
            p.write("src/missing.txt", "here now");
        },
        T,
    );
    w.assert_good(&p, &end);
    assert!(
        read_manifest(&w.out_path())["assets"]
            .get("dangling.txt")
            .is_some()
    );
    w.assert_running();
}

/// T15 (idle): SIGTERM and SIGINT exit 0 within 1 s of the signal, after
/// an `exit` event, with an intact release; prebake runs no child process.
#[test]
fn t15_sigterm_and_sigint_when_idle_exit_within_1s() {
    for sig in ["TERM", "INT"] {
        let p = app_project();
        let mut w = Watch::start_good(&p, ENTRY);
        let kids = children_of(w.pid);
        assert!(kids.is_empty(), "prebake runs child processes: {kids:?}");

        let (status, took) = w.signal_and_wait(sig, Duration::from_secs(1));
        eprintln!("T15: SIG{sig} when idle: {status} after {took:?} (spec: 1 s)");
        assert_eq!(status.code(), Some(0), "SIG{sig}: {status}");
        assert!(
            took <= Duration::from_secs(1),
            "SIG{sig}: exit took {took:?} (spec: 1 s)"
        );
        let exit = w.next_event("exit", Duration::from_secs(5));
        assert!(exit["signal"] == format!("SIG{sig}"), "{exit}");
        prebake::Manifest::load(p.path().join("out/manifest.json")).expect("the manifest loads");
        p.run(&["check", "--out", "out"]).assert_code(0);
        assert_release_exact(&w.out_path());
    }
}

/// T15 (mid-build): SIGTERM while a build runs exits 0 within 2 s; the
/// release is the complete old or new one, checks, and has no temp file.
#[test]
fn t15_sigterm_mid_build_exits_within_2s_with_a_complete_release() {
    let p = Project::new();
    generated_tree(&p, 150, 1);
    let mut w = Watch::start(&p, &[]);
    assert!(is_ok(&w.initial_end()));
    let old = fs::read(p.path().join("out/manifest.json")).unwrap();

    let mark = w.mark();
    generated_tree(&p, 150, 2);
    let start = w.wait_until("build-start after the change", T, |e| {
        e["reason"] == "build-start" && e["build"].as_u64() > Some(mark)
    });
    let b = start["build"].as_u64().unwrap();
    let kids = children_of(w.pid);
    let (status, took) = w.signal_and_wait("TERM", Duration::from_secs(2));
    let finished = w.history.iter().any(|(_, e)| is_end_after(e, b - 1));
    eprintln!(
        "T15: SIGTERM mid-build: {status} after {took:?} (spec: 2 s); build {b} ended before the signal was handled: {finished}"
    );
    assert_eq!(status.code(), Some(0), "{status}");
    assert!(
        took <= Duration::from_secs(2),
        "exit took {took:?} (spec: 2 s)"
    );
    assert!(kids.is_empty(), "prebake runs child processes: {kids:?}");
    w.next_event("exit", Duration::from_secs(5));

    p.run(&["check", "--out", "out"]).assert_code(0);
    assert_release_exact(&w.out_path());
    let now = fs::read(p.path().join("out/manifest.json")).unwrap();
    if now != old {
        // Then it is the complete new release.
        w.assert_equals_clean(&p);
    }
}

/// The pid of the only child of `pid` (`unshare -f`'s forked child).
fn only_child(pid: u32, timeout: Duration) -> Option<u32> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(&kid) = children_of(pid).first() {
            return Some(kid);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

/// T15 (PID 1): in a new PID namespace the kernel delivers SIGTERM to
/// PID 1 only if it installed a handler; prebake must exit 0 within 1 s.
/// Skipped without `unshare -Urfp --mount-proc`.
#[test]
fn t15_sigterm_as_pid_1_exits_within_1s() {
    let probe = Command::new("unshare")
        .args(["-Urfp", "--mount-proc", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("skipped: `unshare -Urfp --mount-proc` is not available here");
        return;
    }
    let p = app_project();
    let mut cmd = Command::new("unshare");
    cmd.current_dir(p.path())
        .env_remove("SOURCE_DATE_EPOCH")
        .env("NO_COLOR", "1")
        .args(["-Urfp", "--mount-proc", bin()])
        .args(watch_args("src", "out", ENTRY));
    let lock = inotify_lock();
    let mut w = Watch::launch(cmd, &p, "src", "out", ENTRY);
    let unshare = w.child.id();
    let Some(pid) = only_child(unshare, T) else {
        w.fail("unshare forked no child")
    };
    w.pid = pid;
    w.next_event("watching", T);
    drop(lock);
    let first = w.initial_end();
    w.assert_good(&p, &first);

    let proc_status = fs::read_to_string(format!("/proc/{}/status", w.pid)).unwrap();
    let nspid = proc_status
        .lines()
        .find(|l| l.starts_with("NSpid:"))
        .and_then(|l| l.split_whitespace().next_back())
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        nspid, "1",
        "prebake is not PID 1 in its namespace:\n{proc_status}"
    );

    let (status, took) = w.signal_and_wait("TERM", Duration::from_secs(1));
    eprintln!("T15: SIGTERM as PID 1: {status} after {took:?} (spec: 1 s)");
    assert_eq!(status.code(), Some(0), "{status}");
    assert!(
        took <= Duration::from_secs(1),
        "exit took {took:?} (spec: 1 s)"
    );
    w.next_event("exit", Duration::from_secs(5));
    p.run(&["check", "--out", "out"]).assert_code(0);
}

/// The dev profile by default: unminified, linked maps, and
/// `process.env.NODE_ENV` "development", so the development branch stays.
/// `--release` publishes exactly what `prebake build` does: minified, no
/// maps, the branch folded away.
#[test]
fn dev_profile_by_default_and_release_on_request() {
    let p = app_project();
    {
        let mut w = Watch::start(&p, ENTRY);
        assert_eq!(
            w.find_any("watching", T, |e| e["reason"] == "watching")["profile"],
            "dev"
        );
        let first = w.initial_end();
        w.assert_good(&p, &first);
        let (entry, js) = w.output("app.ts");
        assert!(entry["map"].is_string(), "dev builds link maps: {entry}");
        assert!(
            js.contains("development build"),
            "NODE_ENV is not development:\n{js}"
        );
        assert!(js.contains("\n  "), "dev builds are not minified:\n{js}");
    }
    fs::remove_dir_all(p.path().join("out")).unwrap();
    let mut w = Watch::start(&p, &["--entry", "app.ts", "--release"]);
    assert_eq!(
        w.find_any("watching", T, |e| e["reason"] == "watching")["profile"],
        "release"
    );
    let first = w.initial_end();
    // Equal to a clean `prebake build` without the dev flags.
    w.assert_good(&p, &first);
    let (entry, js) = w.output("app.ts");
    assert!(
        entry["map"].is_null(),
        "release builds have no maps here: {entry}"
    );
    assert!(
        !js.contains("development build"),
        "NODE_ENV is not production:\n{js}"
    );
}

/// Packages the graph reads are watched, though `node_modules` is not: an
/// edit to a package file the bundle took in rebuilds, and a file of the
/// package the graph never read does not.
#[test]
fn a_package_the_graph_uses_is_watched() {
    let p = Project::new();
    p.write(
        "node_modules/tiny/package.json",
        "{ \"name\": \"tiny\", \"version\": \"1.0.0\", \"main\": \"lib/index.js\" }\n",
    );
    p.write(
        "node_modules/tiny/lib/index.js",
        "export const tiny = \"one\";\n",
    );
    p.write("node_modules/other/index.js", "export const other = 1;\n");
    p.write(
        "src/app.ts",
        "import { tiny } from \"tiny\";\nconsole.log(tiny);\n",
    );
    let mut w = Watch::start_good(&p, ENTRY);

    let end = w.change(
        || {
            p.write(
                "node_modules/tiny/lib/index.js",
                "export const tiny = \"two\";\n",
            );
        },
        T,
    );
    w.assert_good(&p, &end);
    let (_, js) = w.output("app.ts");
    assert!(
        js.contains("\"two\""),
        "the package edit is not in the bundle:\n{js}"
    );

    // A package nothing imports starts no build.
    w.mark();
    p.write("node_modules/other/index.js", "export const other = 2;\n");
    assert!(
        w.poll_for(Duration::from_millis(500), |e| e["reason"] == "build-start")
            .is_none(),
        "a package the graph does not use started a build"
    );
    w.assert_running();
}

/// The semantic cases of the bundler (cycles, live bindings, `export *`,
/// CommonJS interop, `import()`, JSON, name collisions...) through a watch
/// session: sources are edited in turn (an ES module gains an export named
/// like one in an earlier edit, so names move in modules nobody edited; a
/// CommonJS one a comment), every module whose code the emit cache reuses
/// is also emitted afresh and compared (PREBAKE_CHECK_CACHE), and each
/// build equals a clean one.
#[test]
fn reused_modules_equal_fresh_ones_across_the_bundler_cases() {
    let cases = common::repo().join("fixtures/bundle-exec");
    let mut names: Vec<PathBuf> = fs::read_dir(&cases)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("main.js").is_file())
        .collect();
    names.sort();
    assert!(
        names.len() >= 8,
        "bundler cases not found in {}",
        cases.display()
    );
    for case in names {
        let p = Project::new();
        p.copy_tree(&case, "src");
        let mut w = Watch::start_good(&p, &["--entry", "main.js"]);
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(p.path().join("src"))
            .sort_by_file_name()
            .into_iter()
            .flatten()
            .map(walkdir::DirEntry::into_path)
            .filter(|f| {
                f.extension()
                    .is_some_and(|e| ["js", "cjs", "mjs", "ts"].contains(&&*e.to_string_lossy()))
            })
            .collect();
        files.truncate(5);
        for (n, f) in files.iter().enumerate() {
            let end = w.change(
                || {
                    let mut text = fs::read_to_string(f).unwrap();
                    let commonjs = text.contains("module.exports")
                        || text.contains("exports.")
                        || text.contains("require(")
                        || f.extension().is_some_and(|e| e == "cjs");
                    match (commonjs, borrowed_name(&files, f, &text)) {
                        (false, Some(name)) => {
                            // A name another module declares at top level:
                            // one of the two is renamed, in a module this
                            // edit did not touch when it comes later.
                            text.push_str(&format!(
                                "\nconst {name} = {n};\nexport {{ {name} as edited{n} }};\n"
                            ));
                        }
                        _ => text.push_str("\n// edited\n"),
                    }
                    fs::write(f, text).unwrap();
                },
                T,
            );
            w.assert_good(&p, &end);
        }
    }
}

/// A top-level name (`function f`, `const c`, `let l`, `class K`) that
/// another of `files` declares and `text` does not mention at all.
fn borrowed_name(files: &[PathBuf], this: &Path, text: &str) -> Option<String> {
    for f in files.iter().filter(|f| f.as_path() != this) {
        let other = fs::read_to_string(f).ok()?;
        for line in other.lines() {
            for kw in [
                "function ",
                "const ",
                "let ",
                "class ",
                "export function ",
                "export const ",
            ] {
                let Some(rest) = line.strip_prefix(kw) else {
                    continue;
                };
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty()
                    && !name.starts_with(|c: char| c.is_ascii_digit())
                    && !text.contains(&name)
                {
                    return Some(name);
                }
            }
        }
    }
    None
}

/// A stylesheet is reused only while every file it `@import`s reads the
/// same: editing only the partial rebuilds the stylesheets that import it.
#[test]
fn editing_an_imported_partial_rebuilds_its_importers() {
    let p = app_project();
    p.write(
        "src/other.css",
        "@import \"./css/_partial.css\";\n.other { color: blue; }\n",
    );
    let mut w = Watch::start_good(&p, ENTRY);
    let end = w.change(
        || {
            p.write("src/css/_partial.css", ".partial { color: green; }\n");
        },
        T,
    );
    w.assert_good(&p, &end);
    let changed: BTreeSet<&str> = end["changed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for name in ["css/_partial.css", "other.css", "app.css"] {
        assert!(changed.contains(name), "{name} not rebuilt: {end}");
    }
    let (_, css) = w.output("other.css");
    assert!(
        css.contains("green"),
        "other.css kept the old partial:\n{css}"
    );
}

/// A config file broken while watching is a failed build: the release and
/// the settings in force stay, the error names the key, and fixing the file
/// rebuilds with the new settings.
#[test]
fn a_broken_config_keeps_the_release_until_it_is_fixed() {
    let p = app_project();
    let mut w = Watch::start_good(&p, ENTRY);
    let before = read_tree(&w.out_path());

    let end = w.change(
        || {
            p.write("prebake.toml", "hash-length = \"long\"\n");
        },
        T,
    );
    assert_eq!(end["ok"], false, "{end}");
    let text = end["diagnostics"].to_string();
    assert!(
        text.contains("hash-length"),
        "the error does not name the key: {end}"
    );
    assert_eq!(
        read_tree(&w.out_path()),
        before,
        "a failed config reload touched the release"
    );
    w.assert_running();

    let end = w.change(
        || {
            p.write("prebake.toml", "hash-length = 20\n");
        },
        T,
    );
    w.assert_good(&p, &end);
    let m = read_manifest(&w.out_path());
    let file = m["assets"]["app.ts"]["file"].as_str().unwrap();
    assert!(
        file.len() == "app-".len() + 20 + ".js".len(),
        "the fixed config is not in force: {file}"
    );
}

/// An output whose own code is unchanged is still rebuilt when a file it
/// links to gets a new name: a stylesheet when only its image changes, an
/// entry chunk when only the chunk it imports changes.
#[test]
fn an_unchanged_output_follows_the_new_names_of_what_it_links_to() {
    let p = app_project();
    p.write(
        "src/app.ts",
        "import { a } from \"./lib/a.ts\";\nimport \"./style.css\";\nconsole.log(a(1));\nexport const later = () => import(\"./lazy.ts\");\n",
    );
    p.write("src/lazy.ts", "export const lazy = \"one\";\n");
    let mut w = Watch::start_good(&p, ENTRY);
    let end = w.change(
        || {
            p.write("src/img/x.png", b"\x89PNG another image\n");
        },
        T,
    );
    w.assert_good(&p, &end);
    let end = w.change(
        || {
            p.write("src/lazy.ts", "export const lazy = \"two\";\n");
        },
        T,
    );
    w.assert_good(&p, &end);
    let changed = end["changed"].to_string();
    assert!(
        changed.contains("\"app.ts\""),
        "the entry did not follow its chunk: {end}"
    );
}

/// The whole root deleted (the build fails, the release stays) and made
/// again: the watch sees it come back and builds it.
#[test]
fn a_root_deleted_and_made_again_is_built() {
    let p = app_project();
    // No config file, whose directory (the root's parent here) would be
    // watched anyway.
    fs::remove_file(p.path().join("prebake.toml")).unwrap();
    let mut w = Watch::start_good(&p, &["--entry", "app.ts", "--no-config"]);
    let before = read_tree(&w.out_path());
    let saved = tempfile::tempdir().unwrap();
    common::copy_tree(&p.path().join("src"), saved.path());
    let end = w.change(
        || {
            fs::remove_dir_all(p.path().join("src")).unwrap();
        },
        T,
    );
    assert_eq!(end["ok"], false, "{end}");
    assert_eq!(
        read_tree(&w.out_path()),
        before,
        "a failed build touched the release"
    );
    let end = w.change(
        || {
            common::copy_tree(saved.path(), &p.path().join("src"));
            p.write("src/lib/b.ts", "export const b: string = \"back\";\n");
        },
        T,
    );
    w.assert_good(&p, &end);
    w.assert_running();
}

/// Where an import leads is remembered between builds only until a file is
/// added, removed or renamed: a new `util.ts` takes over `./util` from
/// `util.js` (TypeScript first), and removing it gives `./util` back.
#[test]
fn a_new_file_can_change_where_an_import_leads() {
    let p = Project::new();
    p.write(
        "src/app.ts",
        "import { util } from \"./util\";\nconsole.log(util);\n",
    );
    p.write("src/util.js", "export const util = \"from js\";\n");
    let mut w = Watch::start_good(&p, ENTRY);
    let end = w.change(
        || {
            p.write("src/util.ts", "export const util: string = \"from ts\";\n");
        },
        T,
    );
    w.assert_good(&p, &end);
    assert!(
        w.output("app.ts").1.contains("from ts"),
        "./util still leads to util.js"
    );
    let end = w.change(
        || {
            fs::remove_file(p.path().join("src/util.ts")).unwrap();
        },
        T,
    );
    w.assert_good(&p, &end);
    assert!(
        w.output("app.ts").1.contains("from js"),
        "./util still leads to util.ts"
    );
}
