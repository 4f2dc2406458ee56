//! The command line: flags → [`Options`], then renders what the library
//! returns. Exit codes: 0 success, 1 the build (or check) found errors in
//! the input, 2 usage, configuration or I/O failure.

use std::ffi::OsString;
use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{Format, Options, Settings};
use crate::diagnostics::{self, Category, Diagnostic};
use crate::pipeline::{self, Event};

#[derive(Parser, Debug)]
#[command(
    name = "prebake",
    version,
    about = "Compile, minify and fingerprint JS/TS/CSS into an immutable release with a read-only manifest",
    long_about = "prebake moves asset compilation into the build stage. `prebake build` turns a \
source tree into a directory of minified, content-hashed, read-only files plus manifest.json; \
a running app only reads the manifest.\n\nSettings come from built-in defaults, then \
prebake.toml in the current directory (or --config), then flags.",
    after_help = "Exit codes: 0 success, 1 errors in the input, 2 usage, config or I/O failure."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)] // parsed once per process
enum Command {
    /// Build a release: compile, minify, fingerprint, write files and manifest.
    Build(BuildArgs),
    /// Verify a release: the manifest parses and every file matches its size, hash and integrity.
    Check(CheckArgs),
    /// Build, then rebuild on every change (dev profile: no minification, linked maps, `NODE_ENV=development`).
    Watch(WatchArgs),
    /// Write a commented prebake.toml with every key and its default.
    Init(InitArgs),
}

#[derive(Args, Debug)]
struct WatchArgs {
    #[command(flatten)]
    build: BuildArgs,
    /// Watch with the production settings: minified as configured, `NODE_ENV=production`, fsync
    #[arg(long)]
    release: bool,
    /// Poll for changes instead of using inotify (for filesystems that send no events)
    #[arg(long)]
    poll: bool,
    /// How often to poll, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 300)]
    poll_interval: u64,
    /// Quiet time after the last change before a build starts, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 20)]
    debounce: u64,
}

#[derive(Args, Debug)]
struct InitArgs {
    /// Where to write it
    #[arg(long, value_name = "FILE", default_value = crate::config::CONFIG_FILE)]
    config: PathBuf,
}

/// The `prebake init` scaffold.
pub const CONFIG_TEMPLATE: &str = include_str!("../templates/prebake.toml");

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Human,
    Json,
}

#[derive(Args, Debug)]
struct Common {
    /// Config file [default: ./prebake.toml if it exists]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Do not read prebake.toml
    #[arg(long, conflicts_with = "config")]
    no_config: bool,
    /// How to print diagnostics and results
    #[arg(long, value_enum, default_value = "human")]
    format: FormatArg,
    /// Print only errors and warnings
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct BuildArgs {
    #[command(flatten)]
    common: Common,
    /// A flag for every `prebake.toml` key.
    #[command(flatten)]
    settings: SettingFlags<false>,
    /// Worker threads [default: number of CPUs]
    #[arg(long, short = 'j', value_name = "N")]
    threads: Option<usize>,
}

/// The flags of the `prebake.toml` keys, made from the key table
/// (`config/keys.rs`): all of them, or with `RELEASE` only those that say
/// where a release lives (`--out`, `--manifest`), for `prebake check`.
#[derive(Debug, Clone, Default)]
struct SettingFlags<const RELEASE: bool>(Settings);

impl<const RELEASE: bool> SettingFlags<RELEASE> {
    fn keep(key: &str) -> bool {
        !RELEASE || crate::config::RELEASE_KEYS.contains(&key)
    }
}

impl<const RELEASE: bool> clap::FromArgMatches for SettingFlags<RELEASE> {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Settings::from_flags(m, Self::keep).map(SettingFlags)
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl<const RELEASE: bool> Args for SettingFlags<RELEASE> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        Settings::add_flags(cmd, Self::keep)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

#[derive(Args, Debug)]
struct CheckArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    release: SettingFlags<true>,
}

/// Runs the CLI and returns the process exit code.
pub fn run<I: IntoIterator<Item = OsString>>(args: I) -> u8 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Command::Build(b) => build(&b),
        Command::Watch(w) => watch(&w),
        Command::Check(c) => check(&c),
        Command::Init(i) => init(&i),
    }
}

/// One JSON object per line on stdout, flushed so readers see it at once.
///
/// Machine output has one vocabulary for every command: each object's
/// `"reason"` names what it reports, as in cargo's `--message-format json`
/// (what set a thing off is a `"cause"`). The reasons: `diagnostic`
/// (`diagnostics::to_json`), `waiting-for-lock`, `slow-file`,
/// `build-finished`, `check-finished`; and in watch: `watching`,
/// `build-start`, `build-end`, `rescan`, `exit`. Watch lines said
/// `"event"` before; no alias is kept: the key is weeks old and its only
/// readers were our tests and bench driver, changed with it.
fn print_json(v: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}");
    let _ = out.flush();
}

struct Printer {
    format: Format,
    color: bool,
    quiet: bool,
}

impl Printer {
    fn new(c: &Common) -> Printer {
        let format = match c.format {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
        };
        Printer {
            format,
            color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            quiet: c.quiet,
        }
    }

    fn diagnostics(&self, diags: &[Diagnostic]) {
        match self.format {
            Format::Human => {
                let mut err = std::io::stderr().lock();
                for d in diags {
                    let _ = err.write_all(diagnostics::render_human(d, self.color).as_bytes());
                }
            }
            Format::Json => {
                for d in diags {
                    print_json(&diagnostics::to_json(d));
                }
            }
        }
    }

    /// A cargo-style status line: right-aligned green verb.
    fn status(&self, verb: &str, text: &str) {
        if self.quiet || self.format == Format::Json {
            return;
        }
        let verb = if self.color {
            format!("\x1b[1;32m{verb:>12}\x1b[0m")
        } else {
            format!("{verb:>12}")
        };
        eprintln!("{verb} {text}");
    }

    fn failure(&self, text: &str) {
        if self.format == Format::Json {
            return;
        }
        if self.color {
            eprintln!("\x1b[1;31merror\x1b[0m: {text}");
        } else {
            eprintln!("error: {text}");
        }
    }
}

fn source_date_epoch() -> Result<Option<u64>, Diagnostic> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|&s| {
                std::time::UNIX_EPOCH
                    .checked_add(std::time::Duration::from_secs(s))
                    .is_some()
            })
            .map(Some)
            .ok_or_else(|| {
                Diagnostic::error(
                    "CONFIG_VALUE",
                    Category::Config,
                    format!(
                        "SOURCE_DATE_EPOCH: `{v}` is not a usable number of seconds since 1970"
                    ),
                )
            }),
        _ => Ok(None),
    }
}

/// The build's options from its flags.
fn build_options(a: &BuildArgs, profile: crate::config::Profile) -> Result<Options, Diagnostic> {
    let sde = source_date_epoch()?;
    Ok(Options {
        cwd: None,
        config: a.common.config.clone(),
        no_config: a.common.no_config,
        threads: a.threads,
        source_date_epoch: sde,
        profile,
        settings: a.settings.0.clone(),
    })
}

/// A build's progress, as it happens.
fn progress(p: &Printer, e: &Event<'_>) {
    match *e {
        Event::WaitingForLock { out } => match p.format {
            // Shown even with --quiet: a build that waits must say so.
            Format::Human => eprintln!(
                "{:>12} waiting for file lock on out dir {}",
                "Blocking",
                crate::config::display_relative(&std::env::current_dir().unwrap_or_default(), out)
            ),
            Format::Json => print_json(&serde_json::json!({
                "reason": "waiting-for-lock",
                "out": out.to_string_lossy(),
            })),
        },
        Event::SlowFile { file, seconds } => match p.format {
            Format::Human => eprintln!("{:>12} {file} has been compiling for {seconds} s", "Slow"),
            Format::Json => print_json(&serde_json::json!({
                "reason": "slow-file", "file": file, "seconds": seconds,
            })),
        },
    }
}

fn build(a: &BuildArgs) -> u8 {
    let p = Printer::new(&a.common);
    let opts = match build_options(a, crate::config::Profile::Release) {
        Ok(o) => o,
        Err(d) => {
            p.diagnostics(&[d]);
            return 2;
        }
    };
    let out = pipeline::build_with(&opts, &|e| progress(&p, &e));
    p.diagnostics(&out.diagnostics);
    let code = out.exit_code();
    let shown_manifest = out
        .manifest_path
        .as_ref()
        .map(|m| crate::config::display_relative(&std::env::current_dir().unwrap_or_default(), m));
    if p.format == Format::Json {
        print_json(&serde_json::json!({
            "reason": "build-finished",
            "success": code == 0,
            "exit_code": code,
            "manifest": shown_manifest,
            "assets": out.assets.len(),
            "written": out.stats.written,
            "reused": out.stats.reused,
            "errors": out.diagnostics.iter().filter(|d| d.is_error()).count(),
            "warnings": out.diagnostics.iter().filter(|d| !d.is_error()).count(),
            "duration_ms": out.stats.millis,
            "bare_imports": out.bare_imports,
        }));
    } else if code == 0 {
        let s = out.stats;
        p.status(
            "Finished",
            &format!(
                "{} assets ({} js, {} css, {}{} other; {} written, {} unchanged) in {:.2}s",
                out.assets.len(),
                s.js,
                s.css,
                if s.html > 0 {
                    format!("{} html, ", s.html)
                } else {
                    String::new()
                },
                s.other,
                s.written,
                s.reused,
                Duration::from_millis(u64::try_from(s.millis).unwrap_or(u64::MAX)).as_secs_f64()
            ),
        );
        if let Some(m) = shown_manifest {
            p.status("Manifest", &m);
        }
        if !out.bare_imports.is_empty() {
            let list: Vec<&str> = out.bare_imports.iter().map(String::as_str).collect();
            p.status(
                "Note",
                &format!(
                    "bare imports left as written, for an import map: {}",
                    list.join(", ")
                ),
            );
        }
    } else {
        let summary = diagnostics::summary(&out.diagnostics);
        p.failure(&format!(
            "build failed ({summary}); the previous release, if any, is untouched"
        ));
    }
    code
}

fn check(a: &CheckArgs) -> u8 {
    let p = Printer::new(&a.common);
    let opts = Options {
        config: a.common.config.clone(),
        no_config: a.common.no_config,
        settings: a.release.0.clone(),
        ..Options::default()
    };
    let (out, manifest, cwd) = match opts.resolve_release() {
        Ok(r) => r,
        Err(d) => {
            p.diagnostics(&d);
            return 2;
        }
    };
    let shown = |path: &std::path::Path| crate::config::display_relative(&cwd, path);
    match crate::check::check(&out, &manifest, &shown) {
        Ok(report) => {
            if p.format == Format::Json {
                print_json(&serde_json::json!({
                    "reason": "check-finished", "success": true,
                    "files": report.files, "bytes": report.bytes,
                }));
            } else {
                p.status(
                    "Checked",
                    &format!(
                        "{} files ({} bytes) in {}: ok",
                        report.files,
                        report.bytes,
                        shown(&out)
                    ),
                );
            }
            0
        }
        Err(diags) => {
            p.diagnostics(&diags);
            if p.format == Format::Json {
                print_json(&serde_json::json!({
                    "reason": "check-finished", "success": false, "errors": diags.len(),
                }));
            } else {
                p.failure(&format!(
                    "release in {} is not valid ({})",
                    shown(&out),
                    diagnostics::summary(&diags)
                ));
            }
            1
        }
    }
}

fn init(a: &InitArgs) -> u8 {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&a.config);
    let result = file.and_then(|mut f| f.write_all(CONFIG_TEMPLATE.as_bytes()));
    match result {
        Ok(()) => {
            eprintln!("{:>12} {}", "Created", a.config.display());
            0
        }
        Err(e) => {
            let why = if e.kind() == std::io::ErrorKind::AlreadyExists {
                "it already exists; prebake init never overwrites".to_string()
            } else {
                e.to_string()
            };
            eprintln!("error: cannot write {}: {why}", a.config.display());
            2
        }
    }
}

fn watch(a: &WatchArgs) -> u8 {
    use crate::watch::{Report, WatchOptions};
    let p = Printer::new(&a.build.common);
    let profile = if a.release {
        crate::config::Profile::Release
    } else {
        crate::config::Profile::Dev
    };
    let opts = match build_options(&a.build, profile) {
        Ok(o) => o,
        Err(d) => {
            p.diagnostics(&[d]);
            return 2;
        }
    };
    let wopts = WatchOptions {
        poll: a.poll,
        poll_interval: Duration::from_millis(a.poll_interval.max(10)),
        debounce: Duration::from_millis(a.debounce),
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let dev = !a.release;
    let reporter: crate::watch::Reporter = std::sync::Arc::new(move |r: Report<'_>| match r {
        Report::Watching { cfg, polling } => {
            let mode = if polling { "poll" } else { "inotify" };
            let profile = if dev { "dev" } else { "release" };
            if p.format == Format::Json {
                print_json(&serde_json::json!({
                    "reason": "watching",
                    "mode": mode,
                    "profile": profile,
                    "root": crate::config::display_relative(&cwd, &cfg.root),
                    "out": crate::config::display_relative(&cwd, &cfg.out),
                }));
            } else {
                p.status(
                    "Watching",
                    &format!(
                        "{} ({mode}, {profile} profile); Ctrl-C stops",
                        cfg.display_path(&cfg.root)
                    ),
                );
            }
        }
        Report::BuildStart {
            build,
            reason,
            changed,
        } => {
            if p.format == Format::Json {
                print_json(&serde_json::json!({
                    "reason": "build-start",
                    "build": build,
                    "cause": reason.as_str(),
                    "changed": changed,
                }));
            } else if reason != crate::watch::Reason::Initial {
                let what = match changed {
                    [] => reason.as_str().to_string(),
                    [one] => one.clone(),
                    [first, rest @ ..] => format!("{first} and {} more", rest.len()),
                };
                p.status("Rebuilding", &what);
            }
        }
        Report::BuildEnd {
            build,
            output,
            pending,
        } => {
            let ok = !output.has_errors();
            if p.format == Format::Json {
                print_json(&serde_json::json!({
                    "reason": "build-end",
                    "build": build,
                    "ok": ok,
                    "pending": pending,
                    "duration_ms": output.stats.millis,
                    "manifest": output.manifest_path.as_ref().map(|m| crate::config::display_relative(&cwd, m)),
                    "changed": output.changed,
                    "removed": output.removed,
                    "written": output.stats.written,
                    "errors": output.diagnostics.iter().filter(|d| d.is_error()).count(),
                    "warnings": output.diagnostics.iter().filter(|d| !d.is_error()).count(),
                    "diagnostics": output.diagnostics.iter().map(diagnostics::to_json).collect::<Vec<_>>(),
                }));
                return;
            }
            p.diagnostics(&output.diagnostics);
            if ok {
                p.status(
                    if build <= 1 { "Finished" } else { "Rebuilt" },
                    &format!(
                        "{} assets, {} changed{} in {} ms",
                        output.assets.len(),
                        output.changed.len(),
                        if output.removed.is_empty() {
                            String::new()
                        } else {
                            format!(", {} old files removed", output.removed.len())
                        },
                        output.stats.millis
                    ),
                );
            } else {
                p.failure(&format!(
                    "build failed ({}); the last good release stays in place",
                    diagnostics::summary(&output.diagnostics)
                ));
            }
        }
        Report::Progress(e) => progress(&p, &e),
        Report::Rescan => {
            if p.format == Format::Json {
                print_json(&serde_json::json!({ "reason": "rescan", "cause": "overflow" }));
            } else {
                p.status(
                    "Rescanning",
                    "file events were lost; looking at everything again",
                );
            }
        }
        Report::Warning(d) => {
            if p.format == Format::Json {
                print_json(&diagnostics::to_json(&d));
            } else {
                p.diagnostics(&[d]);
            }
        }
        Report::Exit { signal } => {
            if p.format == Format::Json {
                print_json(&serde_json::json!({ "reason": "exit", "signal": signal }));
            } else {
                p.status("Stopping", &format!("on {signal}"));
            }
        }
    });
    crate::watch::run(&opts, &wopts, &reporter)
}
