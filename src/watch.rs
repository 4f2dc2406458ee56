//! `prebake watch`: an initial build, then a rebuild after every change.
//!
//! ```text
//! notify (inotify, or polling) ──events──┐
//!                                         ├─> channel ─> relevant? ─> debounce ─> build
//! SIGINT/SIGTERM ─> wait for any publish ─> exit
//! ```
//!
//! * Every build is a whole build of the tree as it is when the build
//!   starts, through one [`Session`] that skips compiling what it has
//!   compiled before: so a rebuild's release is the one a clean build would
//!   write, and events decide *when* to build, not *what*. The one thing
//!   events also decide is when resolution results are forgotten: on any
//!   file added, removed or renamed, any JSON file changed, and any rescan
//!   (a lost event is an overflow, which rescans).
//! * The out dir, prebake's temporary files, hidden files, `node_modules`
//!   and editor byproducts never trigger a build. Files of packages that
//!   the last build read do.
//! * Directories are watched one by one (not recursively), so the out dir
//!   and `node_modules` cost no watches, and symlinks are never followed:
//!   a symlink loop cannot hang the watcher (the build reports it).
//! * A change while a build runs is queued, and a follow-up build runs
//!   when it ends; that build-end says `pending`.
//! * An inotify queue overflow is a rescan: every directory is watched
//!   again and a build runs. When inotify runs out of watches (or
//!   instances) the watcher falls back to polling and says which sysctl to
//!   raise.
//! * A failed build writes nothing: the last good release stays, and the
//!   watcher waits for the next change.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use notify::event::{CreateKind, EventKind, ModifyKind, RenameMode};
use notify::{RecursiveMode, Watcher as _};

use crate::config::{Config, Options};
use crate::diagnostics::{Category, Diagnostic};
use crate::discover;
use crate::output;
use crate::pipeline::{self, BuildOutput, Event, Session};

/// How `prebake watch` watches.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Poll instead of using inotify.
    pub poll: bool,
    pub poll_interval: Duration,
    /// Quiet time after the last relevant event before a build starts.
    pub debounce: Duration,
}

/// Why a build runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Initial,
    Change,
    /// The event queue overflowed: changes may have been lost.
    Rescan,
    /// The config file changed: everything is rebuilt from scratch.
    Config,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Initial => "initial",
            Reason::Change => "change",
            Reason::Rescan => "rescan",
            Reason::Config => "config",
        }
    }
}

/// What the watcher reports, for the command line to print.
#[derive(Debug)]
pub enum Report<'a> {
    /// Watches are in place (after the first build).
    Watching {
        cfg: &'a Config,
        polling: bool,
    },
    BuildStart {
        build: u64,
        reason: Reason,
        /// Changed paths, shown relative to the working directory.
        changed: &'a [String],
    },
    BuildEnd {
        build: u64,
        output: &'a BuildOutput,
        /// More changes arrived during the build: a follow-up build runs.
        pending: bool,
    },
    /// A build's progress (waiting for the lock, a slow file).
    Progress(Event<'a>),
    /// Events were lost; everything is looked at again.
    Rescan,
    Warning(Diagnostic),
    /// A signal stops the watcher; the process exits right after.
    Exit {
        signal: &'static str,
    },
}

/// Reports are printed from the watch loop and the signal thread.
pub type Reporter = Arc<dyn Fn(Report<'_>) + Send + Sync>;

/// What the watcher sends: an event, or an error (which means a rescan).
type Msg = notify::Result<notify::Event>;

/// Runs until a signal stops the process. Returns only when the watcher
/// cannot start: 2 with the configuration's errors or a watcher failure.
pub fn run(opts: &Options, wopts: &WatchOptions, report: &Reporter) -> u8 {
    let cfg = match opts.resolve() {
        Ok(c) => c,
        Err(diags) => {
            let output = BuildOutput {
                diagnostics: diags,
                ..BuildOutput::default()
            };
            report(Report::BuildEnd {
                build: 0,
                output: &output,
                pending: false,
            });
            return pipeline::exit_code(&output.diagnostics).max(2);
        }
    };
    let session = Arc::new(Session::default());
    if let Err(e) = handle_signals(&session, report) {
        report(Report::Warning(Diagnostic::warning(
            "WATCH_SIGNALS",
            Category::Io,
            format!("cannot handle SIGINT/SIGTERM: {e}; they will stop the watcher abruptly"),
        )));
    }
    let (tx, rx) = mpsc::channel();
    let watches = match Watches::new(&tx, wopts) {
        Ok((w, warning)) => {
            if let Some(d) = warning {
                report(Report::Warning(d));
            }
            w
        }
        Err(d) => {
            report(Report::Warning(d));
            return 2;
        }
    };
    let mut w = Loop {
        opts,
        cfg,
        session,
        watches,
        tx,
        rx,
        wopts: wopts.clone(),
        report: report.clone(),
        builds: 0,
        external: BTreeSet::new(),
        out_real: PathBuf::new(),
    };
    w.watch_all();
    w.build(Reason::Initial, &[], &mut Pending::default());
    report(Report::Watching {
        cfg: &w.cfg,
        polling: w.watches.polling,
    });
    w.run();
    0
}

/// Changes seen since the last build started.
#[derive(Default)]
struct Pending {
    paths: BTreeSet<PathBuf>,
    config: bool,
    rescan: bool,
    /// A file was added, removed or renamed, or a JSON file (package.json,
    /// tsconfig) changed: where imports lead may have changed.
    structural: bool,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.paths.is_empty() && !self.config && !self.rescan
    }
}

struct Loop<'a> {
    opts: &'a Options,
    cfg: Config,
    session: Arc<Session>,
    watches: Watches,
    /// Kept so a fallback watcher can be given a sender.
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    wopts: WatchOptions,
    report: Reporter,
    builds: u64,
    /// Directories outside the watched tree that hold inputs (packages).
    external: BTreeSet<PathBuf>,
    /// The out dir as events name it (symlinks resolved), once it exists.
    out_real: PathBuf,
}

impl Loop<'_> {
    fn run(&mut self) {
        let mut pending = Pending::default();
        loop {
            if pending.is_empty() {
                match self.rx.recv() {
                    Ok(m) => self.take(m, &mut pending),
                    Err(_) => return,
                }
                continue;
            }
            // Trailing debounce: build once the events stop for a moment.
            loop {
                match self.rx.recv_timeout(self.wopts.debounce) {
                    Ok(m) => self.take(m, &mut pending),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            let now = std::mem::take(&mut pending);
            let reason = if now.config {
                Reason::Config
            } else if now.rescan {
                Reason::Rescan
            } else {
                Reason::Change
            };
            if now.config && !self.reload() {
                continue;
            }
            if now.rescan {
                (self.report)(Report::Rescan);
                self.watch_all();
            }
            if now.rescan || now.structural {
                self.session.invalidate_resolution();
            }
            let shown: Vec<String> = now.paths.iter().map(|p| self.cfg.display_path(p)).collect();
            self.build(reason, &shown, &mut pending);
        }
    }

    /// Reads the config again. A bad one is a failed build; the previous
    /// configuration stays in force until the file is fixed.
    fn reload(&mut self) -> bool {
        match self.opts.resolve() {
            Ok(cfg) => {
                self.cfg = cfg;
                // Compiled results depend on the settings.
                self.session.clear();
                self.external.clear();
                self.watch_all();
                true
            }
            Err(diagnostics) => {
                self.builds += 1;
                (self.report)(Report::BuildStart {
                    build: self.builds,
                    reason: Reason::Config,
                    changed: &[],
                });
                let output = BuildOutput {
                    diagnostics,
                    ..BuildOutput::default()
                };
                (self.report)(Report::BuildEnd {
                    build: self.builds,
                    output: &output,
                    pending: false,
                });
                false
            }
        }
    }

    fn build(&mut self, reason: Reason, changed: &[String], pending: &mut Pending) {
        self.builds += 1;
        let build = self.builds;
        (self.report)(Report::BuildStart {
            build,
            reason,
            changed,
        });
        let report = self.report.clone();
        let output = pipeline::build_config(&self.cfg, Some(&self.session), &move |e| {
            report(Report::Progress(e));
        });
        // Changes that arrived during the build: it says so, and a
        // follow-up build runs.
        while let Ok(m) = self.rx.try_recv() {
            self.take(m, pending);
        }
        (self.report)(Report::BuildEnd {
            build,
            output: &output,
            pending: !pending.is_empty(),
        });
        self.watch_inputs(&output.inputs);
        if self.out_real.as_os_str().is_empty() {
            self.out_real = self.cfg.out.canonicalize().unwrap_or_default();
        }
    }

    /// Sorts one watcher message into the pending changes.
    fn take(&mut self, m: Msg, pending: &mut Pending) {
        let event = match m {
            Ok(e) => e,
            Err(e) => {
                // An error from the watcher: look at everything again.
                if !matches!(e.kind, notify::ErrorKind::PathNotFound) {
                    pending.rescan = true;
                }
                return;
            }
        };
        if event.need_rescan() {
            pending.rescan = true;
            return;
        }
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        for path in &event.paths {
            match self.classify(path) {
                Relevance::Ignore => {}
                Relevance::Config => pending.config = true,
                Relevance::Source => {
                    let edit = matches!(
                        event.kind,
                        EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Metadata(_))
                    );
                    if !edit || path.extension().is_some_and(|e| e == "json") {
                        pending.structural = true;
                    }
                    // A directory created or moved in: watch it (and
                    // what is already inside) before the build lists it.
                    let new_dir = matches!(
                        event.kind,
                        EventKind::Create(CreateKind::Folder | CreateKind::Any)
                            | EventKind::Modify(ModifyKind::Name(
                                RenameMode::To | RenameMode::Both | RenameMode::Any
                            ))
                    );
                    if new_dir
                        && std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
                        && path.starts_with(&self.cfg.root)
                    {
                        self.watch_tree(path);
                    }
                    pending.paths.insert(path.clone());
                }
            }
        }
    }

    fn classify(&self, path: &Path) -> Relevance {
        if path.starts_with(&self.out_real) && !self.out_real.as_os_str().is_empty() {
            return Relevance::Ignore;
        }
        classify(&self.cfg, &self.external, path)
    }

    /// Watches every directory of the root (again), the root's parent, and
    /// the config file's directory.
    fn watch_all(&mut self) {
        let root = self.cfg.root.clone();
        self.watch_tree(&root);
        // The root's own directory, so a root deleted and made again (a
        // checkout, a generator) is seen.
        if let Some(parent) = root.parent() {
            self.watch_dir(parent);
        }
        if let Some(dir) = self
            .cfg
            .config_file
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
        {
            self.watch_dir(&dir);
        }
        for d in self.external.clone() {
            self.watch_dir(&d);
        }
    }

    /// Watches `top` and the directories below it that can hold sources.
    fn watch_tree(&mut self, top: &Path) {
        self.out_real = self.cfg.out.canonicalize().unwrap_or_default();
        let (out, out_real) = (self.cfg.out.clone(), self.out_real.clone());
        let walk = walkdir::WalkDir::new(top)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| {
                e.file_type().is_dir()
                    && (e.depth() == 0
                        || !discover::is_ignored_name(&e.file_name().to_string_lossy()))
                    && !e.path().starts_with(&out)
                    && (out_real.as_os_str().is_empty() || !e.path().starts_with(&out_real))
            });
        for entry in walk.flatten() {
            self.watch_dir(&entry.into_path());
        }
    }

    fn watch_dir(&mut self, dir: &Path) {
        if let Err(fallback) = self.watches.add(dir) {
            // Out of inotify watches: poll everything from now on.
            (self.report)(Report::Warning(fallback));
            match Watches::polling(&self.tx, &self.wopts) {
                Ok(w) => {
                    self.watches = w;
                    self.watch_all();
                }
                Err(d) => (self.report)(Report::Warning(d)),
            }
        }
    }

    /// Watches the directories of inputs outside the watched tree
    /// (packages), up to their package root, so that editing or
    /// reinstalling a package the graph uses rebuilds.
    fn watch_inputs(&mut self, inputs: &[PathBuf]) {
        let mut wanted = BTreeSet::new();
        for input in inputs {
            if !is_external(&self.cfg, input) {
                continue;
            }
            let mut dir = input.parent();
            while let Some(d) = dir {
                if d.file_name().is_some_and(|n| n == "node_modules") || d == self.cfg.root {
                    break;
                }
                wanted.insert(d.to_path_buf());
                // A scoped package's root is two levels below node_modules;
                // package.json marks it anyway.
                if d.join("package.json").is_file() {
                    break;
                }
                dir = d.parent();
            }
        }
        for d in wanted.difference(&self.external.clone()) {
            self.watch_dir(d);
        }
        self.external = wanted;
    }
}

/// Whether an input lies outside the watched tree (a package).
fn is_external(cfg: &Config, path: &Path) -> bool {
    !path.starts_with(&cfg.root)
        || path
            .strip_prefix(&cfg.root)
            .is_ok_and(|rel| rel.components().any(|c| c.as_os_str() == "node_modules"))
}

#[derive(Debug, PartialEq, Eq)]
enum Relevance {
    Ignore,
    Config,
    Source,
}

/// Whether a change to `path` can change the release.
fn classify(cfg: &Config, external: &BTreeSet<PathBuf>, path: &Path) -> Relevance {
    if cfg.config_file.as_deref() == Some(path) {
        return Relevance::Config;
    }
    if path.starts_with(&cfg.out) {
        return Relevance::Ignore;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    if name.starts_with(output::TEMP_PREFIX) || name == output::LOCK_FILE {
        return Relevance::Ignore;
    }
    if path.parent().is_some_and(|d| external.contains(d)) {
        return Relevance::Source;
    }
    match path.strip_prefix(&cfg.root) {
        Ok(rel) => {
            let hidden = rel
                .components()
                .any(|c| discover::is_ignored_name(&c.as_os_str().to_string_lossy()));
            if hidden {
                Relevance::Ignore
            } else {
                Relevance::Source
            }
        }
        // The root itself, or something outside everything we track.
        Err(_) if path == cfg.root => Relevance::Source,
        Err(_) => Relevance::Ignore,
    }
}

/// The notify watcher and how it watches.
struct Watches {
    watcher: Box<dyn notify::Watcher + Send>,
    polling: bool,
}

impl Watches {
    /// inotify unless polling is asked for; polling, with a warning naming
    /// the sysctl, when inotify cannot start.
    fn new(
        tx: &Sender<Msg>,
        wopts: &WatchOptions,
    ) -> Result<(Watches, Option<Diagnostic>), Diagnostic> {
        if wopts.poll {
            return Watches::polling(tx, wopts).map(|w| (w, None));
        }
        let sender = tx.clone();
        match notify::RecommendedWatcher::new(
            move |e| {
                let _ = sender.send(e);
            },
            notify::Config::default().with_follow_symlinks(false),
        ) {
            Ok(w) => Ok((
                Watches {
                    watcher: Box::new(w),
                    polling: false,
                },
                None,
            )),
            Err(e) => {
                let warning = limit_warning(
                    "fs.inotify.max_user_instances",
                    &format!("cannot start inotify ({e})"),
                );
                Watches::polling(tx, wopts).map(|w| (w, Some(warning)))
            }
        }
    }

    fn polling(tx: &Sender<Msg>, wopts: &WatchOptions) -> Result<Watches, Diagnostic> {
        let sender = tx.clone();
        notify::PollWatcher::new(
            move |e| {
                let _ = sender.send(e);
            },
            // notify's poller keeps mtimes in whole seconds: a second save
            // within the same second, of the same size, would go unseen.
            // Comparing contents costs a read of the tree per poll, which
            // is what polling is for.
            notify::Config::default()
                .with_poll_interval(wopts.poll_interval)
                .with_compare_contents(true)
                .with_follow_symlinks(false),
        )
        .map(|w| Watches {
            watcher: Box::new(w),
            polling: true,
        })
        .map_err(|e| {
            Diagnostic::error(
                "WATCH_FAILED",
                Category::Io,
                format!("cannot start a polling watcher: {e}"),
            )
        })
    }

    /// Watches one directory. `Err` with a warning when inotify has run
    /// out of watches (the caller switches to polling); other failures
    /// (the directory went away) are left to the next event or rescan.
    fn add(&mut self, dir: &Path) -> Result<(), Diagnostic> {
        match self.watcher.watch(dir, RecursiveMode::NonRecursive) {
            Err(e) if !self.polling && matches!(e.kind, notify::ErrorKind::MaxFilesWatch) => Err(
                limit_warning("fs.inotify.max_user_watches", "inotify ran out of watches"),
            ),
            _ => Ok(()),
        }
    }
}

fn limit_warning(sysctl: &str, what: &str) -> Diagnostic {
    Diagnostic::warning(
        "WATCH_POLLING",
        Category::Io,
        format!("{what}; polling for changes instead, which is slower"),
    )
    .with_help(format!(
        "raise the limit, e.g. `sysctl -w {sysctl}=524288` (and in /etc/sysctl.conf to keep it), or pass --poll to skip inotify"
    ))
}

/// SIGINT and SIGTERM stop the watcher: the signal thread waits for a
/// publish in progress (never more than the write of one release), reports
/// and exits. A build that has not started writing is simply dropped: it
/// wrote nothing. Handlers are installed, so this holds as PID 1 too.
fn handle_signals(session: &Arc<Session>, report: &Reporter) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    let report = report.clone();
    let session = session.clone();
    std::thread::Builder::new()
        .name("prebake-signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let _publishing = session
                    .publishing
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                report(Report::Exit {
                    signal: if sig == SIGINT { "SIGINT" } else { "SIGTERM" },
                });
                std::process::exit(0);
            }
        })?;
    Ok(())
}
