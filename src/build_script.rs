//! Building a release from a crate's `build.rs`, with exact
//! `rerun-if-changed` lines and a generated module of typed asset constants.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), prebake::build_script::Error> {
//!     prebake::build_script::Builder::new("assets").entry("app.ts").run()?;
//!     Ok(())
//! }
//! ```
//!
//! ```ignore
//! // src/main.rs
//! mod assets {
//!     include!(concat!(env!("OUT_DIR"), "/assets.rs"));
//! }
//! let script = assets::APP_TS.url; // "/assets/app-3f2a9c0d1e4b5a69.js"
//! ```
//!
//! * The release goes to `$OUT_DIR/prebake` unless [`Builder::out_dir`]
//!   names another directory (an app that serves files from disk).
//!   Nothing is written anywhere else, besides `$OUT_DIR/assets.rs`.
//! * Cargo is told to run the script again when the source root (any file
//!   in it, added or removed), the config file, a package file the bundle
//!   read, the `package.json` nearest above any file read, the project's
//!   `tsconfig.json` or `SOURCE_DATE_EPOCH` changes, and never because of
//!   an output.
//! * Diagnostics become `cargo::warning` lines, and `cargo::error` lines for
//!   errors; [`Builder::run`] returns them as an [`Error`] instead of
//!   panicking.
//! * `assets.rs` (rendered from `templates/assets.rs`) has a constant per
//!   logical name (`img/logo.png` → `IMG_LOGO_PNG`) with its URL,
//!   integrity, type, size and, for an entry point, the `<head>` tags; `ALL`
//!   sorted by name and `get(logical)`. Two names that make one constant
//!   are an error naming both.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::config::{Options, Settings};
use crate::diagnostics::{self, Category, Diagnostic};
use crate::manifest::Manifest;
use crate::pipeline;

/// The template `assets.rs` is rendered from.
const TEMPLATE: &str = include_str!("../templates/assets.rs");

/// A release built from a build script.
#[derive(Debug, Clone)]
pub struct Builder {
    root: PathBuf,
    out: Option<PathBuf>,
    settings: Settings,
    config: Option<PathBuf>,
    no_config: bool,
    embed: bool,
}

/// What [`Builder::run`] produced.
#[derive(Debug)]
pub struct Release {
    /// The release directory.
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// The generated module (`$OUT_DIR/assets.rs`).
    pub module: PathBuf,
}

/// A build that failed: its diagnostics (already printed for cargo).
#[derive(Debug)]
pub struct Error {
    pub diagnostics: Vec<Diagnostic>,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "prebake: the asset build failed ({})",
            diagnostics::summary(&self.diagnostics)
        )
    }
}

impl std::error::Error for Error {}

impl Builder {
    /// Builds the sources under `root` (relative to the crate).
    pub fn new(root: impl Into<PathBuf>) -> Builder {
        Builder {
            root: root.into(),
            out: None,
            settings: Settings::default(),
            config: None,
            no_config: false,
            embed: false,
        }
    }

    /// Bundles this entry point (relative to the root); repeat for more.
    #[must_use]
    pub fn entry(mut self, logical: impl Into<String>) -> Builder {
        self.settings
            .entries
            .get_or_insert_with(Vec::new)
            .push(logical.into());
        self
    }

    /// Writes the release here instead of `$OUT_DIR/prebake`.
    #[must_use]
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.out = Some(dir.into());
        self
    }

    /// The public URL prefix the app serves the release under.
    #[must_use]
    pub fn base(mut self, base: impl Into<String>) -> Builder {
        self.settings.base = Some(base.into());
        self
    }

    /// Reads this config file (relative to the crate).
    #[must_use]
    pub fn config(mut self, path: impl Into<PathBuf>) -> Builder {
        self.config = Some(path.into());
        self
    }

    /// Does not read `prebake.toml`.
    #[must_use]
    pub fn no_config(mut self) -> Builder {
        self.no_config = true;
        self
    }

    /// Replaces a global name by a JS expression in bundles.
    #[must_use]
    pub fn define(mut self, name: impl Into<String>, expr: impl Into<String>) -> Builder {
        self.settings
            .define
            .get_or_insert_with(BTreeMap::new)
            .insert(name.into(), expr.into());
        self
    }

    /// Any other setting, as `prebake.toml` names it.
    #[must_use]
    pub fn settings(mut self, f: impl FnOnce(&mut Settings)) -> Builder {
        f(&mut self.settings);
        self
    }

    /// Embeds every file's bytes in the generated module
    /// (`include_bytes!`), for a single-binary deploy.
    #[must_use]
    pub fn embed(mut self, yes: bool) -> Builder {
        self.embed = yes;
        self
    }

    /// Builds the release, prints cargo's instructions and writes
    /// `$OUT_DIR/assets.rs`. Reads `OUT_DIR`, `CARGO_MANIFEST_DIR` and
    /// `SOURCE_DATE_EPOCH`, as cargo sets them for a build script.
    pub fn run(self) -> Result<Release, Error> {
        let mut stdout = std::io::stdout().lock();
        let Some(out_dir) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
            let diagnostics = vec![Diagnostic::error(
                "CONFIG_VALUE",
                Category::Config,
                "OUT_DIR is not set: prebake::build_script runs from a build script",
            )];
            print_diagnostics(&mut stdout, &diagnostics);
            return Err(Error { diagnostics });
        };
        let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        let source_date_epoch = std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok());
        self.run_in(&out_dir, &crate_dir, source_date_epoch, &mut stdout)
    }

    /// [`Builder::run`] with cargo's environment given, writing cargo's
    /// instructions to `cargo`.
    pub fn run_in(
        self,
        out_dir: &Path,
        crate_dir: &Path,
        source_date_epoch: Option<u64>,
        cargo: &mut dyn std::io::Write,
    ) -> Result<Release, Error> {
        let fail = |diagnostics: Vec<Diagnostic>, cargo: &mut dyn std::io::Write| {
            print_diagnostics(cargo, &diagnostics);
            Err(Error { diagnostics })
        };
        let _ = writeln!(cargo, "cargo::rerun-if-env-changed=SOURCE_DATE_EPOCH");
        let mut settings = self.settings;
        settings.root = Some(self.root);
        settings.out = Some(self.out.unwrap_or_else(|| out_dir.join("prebake")));
        let opts = Options {
            cwd: Some(crate_dir.to_path_buf()),
            config: self.config,
            no_config: self.no_config,
            settings,
            threads: None,
            source_date_epoch,
            profile: crate::config::Profile::Release,
        };
        let cfg = match opts.resolve() {
            Ok(c) => c,
            Err(d) => return fail(d, cargo),
        };
        if let Some(c) = &cfg.config_file {
            let _ = writeln!(cargo, "cargo::rerun-if-changed={}", c.display());
        }
        if cfg.out.starts_with(&cfg.root) {
            return fail(
                vec![Diagnostic::error(
                    "CONFIG_VALUE",
                    Category::Config,
                    "the release directory is inside the source root: every build would change the sources and run the build script again",
                )
                .with_help("write the release outside the root (the default is $OUT_DIR/prebake)")],
                cargo,
            );
        }
        // The root as a whole: cargo looks at every file in it, so an
        // added or removed file reruns the script too.
        let _ = writeln!(cargo, "cargo::rerun-if-changed={}", cfg.root.display());
        let built = pipeline::build_config(&cfg, None, &|_| {});
        for input in external_inputs(&cfg, &built.inputs) {
            let _ = writeln!(cargo, "cargo::rerun-if-changed={}", input.display());
        }
        print_diagnostics(cargo, &built.diagnostics);
        let failed = built.has_errors();
        let Some(manifest) = built.manifest.filter(|_| !failed) else {
            return Err(Error {
                diagnostics: built.diagnostics,
            });
        };
        let module = out_dir.join("assets.rs");
        let text = match render_module(&manifest, &cfg.out, &cfg.entries, self.embed) {
            Ok(t) => t,
            Err(d) => return fail(vec![d], cargo),
        };
        // Written only when it changed, so the crate is not rebuilt for
        // nothing.
        if std::fs::read_to_string(&module).ok().as_deref() != Some(text.as_str())
            && let Err(e) = std::fs::write(&module, text)
        {
            return fail(
                vec![Diagnostic::error(
                    "IO",
                    Category::Io,
                    format!("cannot write {}: {e}", module.display()),
                )],
                cargo,
            );
        }
        Ok(Release {
            dir: cfg.out,
            manifest,
            module,
        })
    }
}

/// What cargo must watch besides the root and the config file: the
/// files the build read outside the root (packages), the `package.json`
/// nearest above every file read (its `type`, `sideEffects`, `main` and
/// `exports` shape the output) and the project's `tsconfig.json` (its
/// `paths`). Only files that exist: cargo reruns a script on every build
/// while a path it was given is missing.
fn external_inputs(cfg: &crate::config::Config, inputs: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut searched = BTreeSet::new();
    for input in inputs {
        if !input.starts_with(&cfg.root) {
            out.insert(input.clone());
        }
        let mut dir = input.parent();
        while let Some(d) = dir {
            if !searched.insert(d.to_path_buf()) {
                break;
            }
            let package = d.join("package.json");
            if package.is_file() {
                if !package.starts_with(&cfg.root) {
                    out.insert(package);
                }
                break;
            }
            dir = d.parent();
        }
    }
    let tsconfig = cfg.project_dir().join("tsconfig.json");
    if tsconfig.is_file() && !tsconfig.starts_with(&cfg.root) {
        out.insert(tsconfig);
    }
    out
}

/// Each diagnostic as cargo shows it: every line of the rendered message as
/// a `cargo::warning=` (or `cargo::error=`) line.
fn print_diagnostics(out: &mut dyn std::io::Write, diags: &[Diagnostic]) {
    for d in diags {
        let kind = if d.is_error() { "error" } else { "warning" };
        for line in diagnostics::render_human(d, false).lines() {
            let _ = writeln!(out, "cargo::{kind}={line}");
        }
    }
}

/// The constant a logical name becomes: ASCII letters and digits
/// uppercased, anything else `_`, and `_` before a leading digit
/// (`img/logo.png` → `IMG_LOGO_PNG`, `404.html` → `_404_HTML`).
pub fn constant_name(logical: &str) -> String {
    let mut name: String = logical
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// Items of the module that a constant may not be called.
const TAKEN: [&str; 5] = ["ALL", "BASE", "RELEASE_DIR", "_", "SELF"];

/// `assets.rs` for a release in `dir` whose entry points are `entries`.
pub fn render_module(
    manifest: &Manifest,
    dir: &Path,
    entries: &[String],
    embed: bool,
) -> Result<String, Diagnostic> {
    let mut names: BTreeMap<String, &str> = BTreeMap::new();
    let mut constants = String::new();
    let mut all = String::new();
    for (logical, entry) in &manifest.assets {
        let name = constant_name(logical);
        if TAKEN.contains(&name.as_str()) {
            return Err(Diagnostic::error(
                "NAME_COLLISION",
                Category::Input,
                format!("`{logical}` would be the constant `{name}`, which the generated module already has"),
            )
            .with_help("rename the file"));
        }
        if let Some(other) = names.insert(name.clone(), logical) {
            return Err(Diagnostic::error(
                "NAME_COLLISION",
                Category::Input,
                format!("`{other}` and `{logical}` would both be the constant `{name}`"),
            )
            .with_help("rename one of the files"));
        }
        let url = manifest.url(logical).unwrap_or_default();
        let bytes = if embed {
            format!(
                "Some(include_bytes!({}))",
                rust_str(&dir.join(&entry.file).to_string_lossy())
            )
        } else {
            "None".to_string()
        };
        let tags = if entries.contains(logical) {
            manifest.entry_tags(logical).unwrap_or_default()
        } else {
            String::new()
        };
        let _ = write!(
            constants,
            "/// `{}`\n#[allow(dead_code)]\npub const {name}: Asset = Asset {{\n    logical: {},\n    url: {},\n    file: {},\n    integrity: {},\n    content_type: {},\n    size: {},\n    immutable: {},\n    tags: {},\n    bytes: {bytes},\n}};\n\n",
            logical.replace('`', "'"),
            rust_str(logical),
            rust_str(&url),
            rust_str(&entry.file),
            rust_str(&entry.integrity),
            rust_str(&entry.content_type),
            entry.size,
            entry.immutable,
            rust_str(&tags),
        );
        let _ = writeln!(all, "    {name},");
    }
    Ok(TEMPLATE
        .replace("{{release_dir}}", &rust_str(&dir.to_string_lossy()))
        .replace("{{base}}", &rust_str(&manifest.base))
        .replace("{{constants}}", &constants)
        .replace("{{all}}", &all))
}

/// A Rust string literal of `s`.
fn rust_str(s: &str) -> String {
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Entry, Integrity};

    fn manifest(names: &[&str]) -> Manifest {
        let mut m = Manifest::new("/assets/");
        for n in names {
            m.assets.insert(
                (*n).to_string(),
                Entry::new(
                    format!("{n}-0123456789abcdef"),
                    Integrity::Sha384.compute(n.as_bytes()),
                    7,
                    "text/javascript",
                ),
            );
        }
        m
    }

    #[test]
    fn constant_names_are_predictable_identifiers() {
        assert_eq!(constant_name("app.ts"), "APP_TS");
        assert_eq!(constant_name("img/logo.png"), "IMG_LOGO_PNG");
        assert_eq!(constant_name("404.html"), "_404_HTML");
        assert_eq!(constant_name("_chunks/a-b.js"), "_CHUNKS_A_B_JS");
        assert_eq!(constant_name("caf\u{e9} \"x\".css"), "CAF___X__CSS");
    }

    #[test]
    fn two_names_for_one_constant_are_an_error_naming_both() {
        let e = render_module(
            &manifest(&["a-b.js", "a_b.js"]),
            Path::new("/r"),
            &[],
            false,
        )
        .unwrap_err();
        assert!(
            e.message.contains("`a-b.js`") && e.message.contains("`a_b.js`"),
            "{}",
            e.message
        );
        let e = render_module(&manifest(&["all"]), Path::new("/r"), &[], false).unwrap_err();
        assert!(e.message.contains("`ALL`"), "{}", e.message);
    }

    #[test]
    fn the_module_lists_every_asset_sorted() {
        let m = manifest(&["b.js", "a \"q\".css"]);
        let text = render_module(&m, Path::new("/release"), &["b.js".into()], true).unwrap();
        assert!(text.contains("pub const B_JS: Asset = Asset {"), "{text}");
        assert!(
            text.contains("url: \"/assets/b.js-0123456789abcdef\","),
            "{text}"
        );
        // Quotes in names are escaped in the literals.
        assert!(text.contains("logical: \"a \\\"q\\\".css\","), "{text}");
        assert!(
            text.contains("include_bytes!(\"/release/b.js-0123456789abcdef\")"),
            "{text}"
        );
        let a = text.find("    A__Q__CSS,").unwrap();
        let b = text.find("    B_JS,").unwrap();
        assert!(a < b, "ALL is not sorted by logical name");
        assert!(!text.contains("{{"), "a placeholder was left:\n{text}");
        // The entry point's tags, and none for the stylesheet.
        let tags = m.entry_tags("b.js").unwrap();
        assert!(tags.contains("<script type=\"module\""), "{tags}");
        assert!(text.contains(&format!("tags: {tags:?},")), "{text}");
        assert_eq!(text.matches("tags: \"\",").count(), 1, "{text}");
    }
}
