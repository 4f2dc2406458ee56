//! Configuration: built-in defaults < `prebake.toml` < command-line flags.
//!
//! [`Options`] is what the CLI and the build-script helper fill in; it holds
//! only overrides. [`Options::resolve`] reads the config file, merges, checks
//! every value once and returns a [`Config`]. Later stages read `&Config` and
//! never look at the environment, arguments or working directory themselves.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use globset::{GlobSet, GlobSetBuilder};
use lightningcss::targets::Browsers;

use crate::diagnostics::{Category, Diagnostic, Label};

/// Default source root, relative to the project directory.
pub const DEFAULT_ROOT: &str = "assets";
/// Default output directory, relative to the project directory.
pub const DEFAULT_OUT: &str = "public/assets";
/// Default public URL prefix of the output directory.
pub const DEFAULT_BASE: &str = "/assets/";
/// Default browserslist query: the "widely available" web platform baseline
/// (the browsers Vite 7 targets by default).
pub const DEFAULT_TARGETS: &str = "chrome >= 107, edge >= 107, firefox >= 104, safari >= 16";
/// Default output name pattern.
pub const DEFAULT_NAMES: &str = "[dir]/[name]-[hash][ext]";
/// Default number of hex digits of SHA-256 in output names (64 bits).
pub const DEFAULT_HASH_LENGTH: usize = 16;
/// Fewest hex digits allowed in names: 64 bits keeps accidental collisions
/// out of reach for any realistic number of releases.
pub const MIN_HASH_LENGTH: usize = 16;
/// Default manifest path inside the out dir.
pub const DEFAULT_MANIFEST: &str = "manifest.json";
/// Name of the config file looked for in the project directory.
pub const CONFIG_FILE: &str = "prebake.toml";

/// Subresource-integrity hash algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sri {
    Sha256,
    Sha384,
    Sha512,
}

impl Sri {
    pub fn name(self) -> &'static str {
        match self {
            Sri::Sha256 => "sha256",
            Sri::Sha384 => "sha384",
            Sri::Sha512 => "sha512",
        }
    }

    fn parse(s: &str) -> Option<Sri> {
        match s {
            "sha256" => Some(Sri::Sha256),
            "sha384" => Some(Sri::Sha384),
            "sha512" => Some(Sri::Sha512),
            _ => None,
        }
    }
}

/// JSX transform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Jsx {
    /// `react/jsx-runtime` style imports from `import_source`.
    Automatic { import_source: String },
    /// `React.createElement` style calls.
    Classic { factory: String, fragment: String },
}

/// The JSX settings a user gave (`prebake.toml` or flags), which win over
/// a file's tsconfig.json; `None` where the tsconfig.json or the default
/// decides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsxUser {
    /// `jsx`: true for classic.
    pub classic: Option<bool>,
    pub import_source: Option<String>,
    pub factory: Option<String>,
    pub fragment: Option<String>,
}

/// Which decorator semantics to compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decorators {
    /// TC39 stage-3 decorators as TypeScript 5 emits them (2022-03).
    Standard,
    /// TypeScript's `experimentalDecorators`.
    Legacy,
}

/// How rewritten references are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlStyle {
    /// Relative to the referring file's own output (`../img/a-1.png`):
    /// works under any `base` and mount point.
    Relative,
    /// `base` + the file's path (`/assets/img/a-1.png`).
    Base,
}

/// How bundles load: ES modules (with code splitting), or one classic
/// script per entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleFormat {
    Esm,
    Iife,
}

/// ASCII JavaScript identifier (no reserved-word check).
pub fn is_js_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c == '$' || c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '$' || c == '_' || c.is_ascii_alphanumeric())
}

/// Whether and how source maps are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceMaps {
    None,
    /// A fingerprinted `.map` file beside each JS and CSS output, named in a
    /// `sourceMappingURL` comment and in the manifest (`map`).
    Linked,
    /// The `.map` file and its manifest entry, but no comment: for error
    /// trackers, without telling browsers.
    Hidden,
    /// The map inside the output, as a `data:` URL.
    Inline,
}

/// Output format of diagnostics and events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
}

/// Overrides from the command line or a build script. `None` means "not set
/// here": the config file or the default decides.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Directory relative paths given here are resolved against; also where
    /// `prebake.toml` is looked for. Defaults to the current directory.
    pub cwd: Option<PathBuf>,
    /// Explicit config file (`--config`). It must exist.
    pub config: Option<PathBuf>,
    /// Do not look for `prebake.toml` when no `config` is given.
    pub no_config: bool,
    pub settings: Settings,
    /// Worker threads (default: available parallelism).
    pub threads: Option<usize>,
    /// `SOURCE_DATE_EPOCH`: mtime given to every output.
    pub source_date_epoch: Option<u64>,
    /// Which settings stand between the config file and the flags.
    pub profile: Profile,
}

/// A set of defaults laid over the config file (flags still win).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Profile {
    /// `prebake build`, `prebake watch --release`: the file's settings.
    #[default]
    Release,
    /// `prebake watch`: no minification, linked maps unless the file asks
    /// for another kind, `process.env.NODE_ENV` "development", and no
    /// fsync (a dev release need not survive a power cut; readers still
    /// see whole files and an atomic manifest).
    Dev,
}

/// The keys of `prebake.toml`; every field is optional so that files and
/// flags can be layered.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub root: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub base: Option<String>,
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
    pub targets: Option<String>,
    pub minify: Option<bool>,
    pub names: Option<String>,
    pub hash_length: Option<usize>,
    pub manifest: Option<String>,
    pub sri: Option<String>,
    pub jsx: Option<String>,
    pub jsx_import_source: Option<String>,
    pub jsx_factory: Option<String>,
    pub jsx_fragment: Option<String>,
    pub css_error_recovery: Option<bool>,
    pub decorators: Option<String>,
    pub strict: Option<bool>,
    pub urls: Option<String>,
    pub sourcemap: Option<String>,
    pub sources_content: Option<bool>,
    pub entries: Option<Vec<String>>,
    pub format: Option<String>,
    pub global_name: Option<String>,
    pub define: Option<BTreeMap<String, String>>,
}

/// Every key `prebake.toml` accepts, for "unknown key" messages.
pub const KEYS: &[&str] = &[
    "root",
    "out",
    "base",
    "include",
    "exclude",
    "targets",
    "minify",
    "names",
    "hash-length",
    "manifest",
    "sri",
    "jsx",
    "jsx-import-source",
    "jsx-factory",
    "jsx-fragment",
    "css-error-recovery",
    "decorators",
    "strict",
    "urls",
    "sourcemap",
    "sources-content",
    "entries",
    "format",
    "global-name",
    "define",
];

/// Browser versions resolved from the `targets` query, shared by the JS and
/// CSS stages so both see the same browsers.
#[derive(Debug, Clone, Copy)]
pub struct Targets {
    pub browsers: Browsers,
}

/// Validated configuration; the only input later stages read.
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools)] // independent on/off settings
pub struct Config {
    /// Canonical source root.
    pub root: PathBuf,
    /// Absolute out dir (it may not exist yet).
    pub out: PathBuf,
    /// Path of the config file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// Directory used to shorten paths in messages.
    pub cwd: PathBuf,
    pub base: String,
    pub include: GlobSet,
    /// The `include` globs as written, in the order of `include`'s
    /// indices: discovery reads which names a glob spells out.
    pub include_globs: Vec<String>,
    pub exclude: GlobSet,
    pub targets: Targets,
    pub targets_query: String,
    pub minify: bool,
    pub names: NamePattern,
    pub hash_length: usize,
    /// Manifest path relative to the out dir, with `/`.
    pub manifest: String,
    pub sri: Sri,
    pub jsx: Jsx,
    /// The JSX settings given explicitly, which win over tsconfig.json.
    pub jsx_user: JsxUser,
    pub css_error_recovery: bool,
    pub decorators: Decorators,
    /// `decorators` was given explicitly (it wins over tsconfig.json's
    /// `experimentalDecorators`).
    pub decorators_user: bool,
    /// Bare imports are errors.
    pub strict: bool,
    pub urls: UrlStyle,
    pub sourcemap: SourceMaps,
    /// Maps carry the original sources (`sourcesContent`).
    pub sources_content: bool,
    /// Entry points to bundle: logical names (relative to the root).
    pub entries: Vec<String>,
    pub format: BundleFormat,
    /// Global variable an IIFE bundle assigns its exports to.
    pub global_name: Option<String>,
    /// Global names replaced at build time (`process.env.NODE_ENV`) by JS
    /// expressions.
    pub define: BTreeMap<String, String>,
    pub threads: usize,
    pub source_date_epoch: Option<u64>,
    /// Files, directories and the manifest are fsynced before the manifest
    /// is renamed (off in the dev profile).
    pub durable: bool,
    /// Settings that have no effect (reported as warnings by the build).
    pub warnings: Vec<Diagnostic>,
}

impl Config {
    /// The project directory: the config file's, else the working
    /// directory. Its `tsconfig.json` supplies import `paths`.
    pub fn project_dir(&self) -> &Path {
        self.config_file
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(&self.cwd)
    }

    /// A path for messages: relative to the working directory when below it.
    pub fn display_path(&self, path: &Path) -> String {
        display_relative(&self.cwd, path)
    }

    /// Display path of a source given by its logical name.
    pub fn display_source(&self, logical: &str) -> String {
        self.display_path(&self.root.join(logical))
    }
}

pub(crate) fn display_relative(base: &Path, path: &Path) -> String {
    let shown = path.strip_prefix(base).unwrap_or(path);
    let s = shown.to_string_lossy().replace('\\', "/");
    if s.is_empty() { ".".to_string() } else { s }
}

/// A parsed output name pattern such as `[dir]/[name]-[hash][ext]`.
#[derive(Debug, Clone)]
pub struct NamePattern {
    parts: Vec<Part>,
    source: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    Dir,
    Name,
    Hash,
    Ext,
}

impl NamePattern {
    /// Parses a pattern; it must contain `[name]` and `[hash]`.
    pub fn parse(s: &str) -> Result<NamePattern, String> {
        let mut parts = Vec::new();
        let mut rest = s;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('[') {
                let Some(end) = after.find(']') else {
                    return Err(format!("unclosed `[` in name pattern `{s}`"));
                };
                let part = match &after[..end] {
                    "dir" => Part::Dir,
                    "name" => Part::Name,
                    "hash" => Part::Hash,
                    "ext" => Part::Ext,
                    other => {
                        return Err(format!(
                            "unknown placeholder `[{other}]` in name pattern `{s}` (expected [dir], [name], [hash], [ext])"
                        ));
                    }
                };
                parts.push(part);
                rest = &after[end + 1..];
            } else {
                let end = rest.find('[').unwrap_or(rest.len());
                let lit = &rest[..end];
                if lit.contains(['\\', ']', '?', '#', '%']) || lit.split('/').any(|seg| seg == "..")
                {
                    return Err(format!(
                        "name pattern `{s}` contains `{lit}`; use plain characters, `/`, `-`, `_` and `.`"
                    ));
                }
                parts.push(Part::Lit(lit.to_string()));
                rest = &rest[end..];
            }
        }
        // References are written relative to the referring file's own
        // directory, which must be known before its hash is.
        if let Some(h) = parts.iter().position(|p| *p == Part::Hash)
            && parts[h..]
                .iter()
                .any(|p| *p == Part::Dir || matches!(p, Part::Lit(l) if l.contains('/')))
        {
            return Err(format!(
                "name pattern `{s}` puts [hash] in a directory; it must be in the file name, after the last `/`"
            ));
        }
        if !parts.contains(&Part::Name) || !parts.contains(&Part::Hash) {
            return Err(format!(
                "name pattern `{s}` must contain both [name] and [hash]"
            ));
        }
        Ok(NamePattern {
            parts,
            source: s.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Renders a relative output path. Empty segments (an empty `[dir]`)
    /// collapse, so `[dir]/x` at the root gives `x`.
    pub fn render(&self, dir: &str, name: &str, hash: &str, ext: &str) -> String {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(l) => s.push_str(l),
                Part::Dir => s.push_str(dir),
                Part::Name => s.push_str(name),
                Part::Hash => s.push_str(hash),
                Part::Ext => s.push_str(ext),
            }
        }
        s.split('/')
            .filter(|seg| !seg.is_empty() && *seg != ".")
            .collect::<Vec<_>>()
            .join("/")
    }
}

struct Loaded {
    cwd: PathBuf,
    config_path: Option<PathBuf>,
    file_settings: Settings,
    file_dir: PathBuf,
    /// Where each key's value stands in the config file, for code frames.
    spans: Option<Spans>,
}

/// A config file's text and the byte span of each key's value.
pub struct Spans {
    shown: String,
    text: Arc<str>,
    values: BTreeMap<String, std::ops::Range<usize>>,
}

impl Spans {
    fn label(&self, key: &str) -> Option<Label> {
        self.values
            .get(key)
            .map(|span| Label::new(&self.shown, self.text.clone(), span.clone()))
    }
}

impl Options {
    /// Finds and parses the config file.
    fn load(&self) -> Result<Loaded, Vec<Diagnostic>> {
        let cwd = match &self.cwd {
            Some(c) => c.clone(),
            None => std::env::current_dir().map_err(|e| {
                vec![Diagnostic::error(
                    "IO",
                    Category::Io,
                    format!("cannot read the current directory: {e}"),
                )]
            })?,
        };
        let cwd = absolute(&cwd, Path::new("."));
        let config_path = match &self.config {
            Some(p) => Some(absolute(&cwd, p)),
            None if self.no_config => None,
            None => {
                let p = cwd.join(CONFIG_FILE);
                p.is_file().then_some(p)
            }
        };
        let (file_settings, file_dir, spans) = match &config_path {
            Some(p) => {
                let shown = display_relative(&cwd, p);
                let text = std::fs::read_to_string(p).map_err(|e| {
                    vec![
                        Diagnostic::error(
                            "CONFIG_READ",
                            Category::Config,
                            format!("cannot read config file {shown}: {e}"),
                        )
                        .with_file(shown.clone()),
                    ]
                })?;
                let (settings, spans) = parse_config_spanned(&text, &shown)?;
                let dir = p.parent().map_or_else(|| cwd.clone(), Path::to_path_buf);
                (settings, dir, Some(spans))
            }
            None => (Settings::default(), cwd.clone(), None),
        };
        Ok(Loaded {
            cwd,
            config_path,
            file_settings,
            file_dir,
            spans,
        })
    }

    /// Just where a release lives: the out dir, the manifest path inside it,
    /// and the working directory (for display). Used by `prebake check`,
    /// which must not need the sources.
    pub fn resolve_release(&self) -> Result<(PathBuf, String, PathBuf), Vec<Diagnostic>> {
        let l = self.load()?;
        let out = match (&self.settings.out, &l.file_settings.out) {
            (Some(f), _) => absolute(&l.cwd, f),
            (None, Some(f)) => absolute(&l.file_dir, f),
            (None, None) => absolute(&l.file_dir, Path::new(DEFAULT_OUT)),
        };
        let manifest = self
            .settings
            .manifest
            .clone()
            .or(l.file_settings.manifest)
            .unwrap_or_else(|| DEFAULT_MANIFEST.to_string());
        if !is_clean_relative(&manifest) {
            return Err(vec![Diagnostic::error(
                "CONFIG_VALUE",
                Category::Config,
                format!("manifest: `{manifest}` must be a relative path inside the out dir"),
            )]);
        }
        Ok((out, manifest, l.cwd))
    }

    /// Reads the config file, layers the overrides on it and validates
    /// everything once. Errors name the key and the file.
    pub fn resolve(&self) -> Result<Config, Vec<Diagnostic>> {
        let Loaded {
            cwd,
            config_path,
            file_settings,
            file_dir,
            spans,
        } = self.load()?;

        // 2. Layer: flags win; paths are relative to where they were written.
        let flags = &self.settings;
        let pick_path =
            |flag: &Option<PathBuf>, file: &Option<PathBuf>, default: &str| -> PathBuf {
                match (flag, file) {
                    (Some(f), _) => absolute(&cwd, f),
                    (None, Some(f)) => absolute(&file_dir, f),
                    (None, None) => absolute(&file_dir, Path::new(default)),
                }
            };
        let root = pick_path(&flags.root, &file_settings.root, DEFAULT_ROOT);
        let out = pick_path(&flags.out, &file_settings.out, DEFAULT_OUT);
        let s = merge(flags, &file_settings);
        let origin = |key: &str| -> String {
            if flag_set(flags, key) {
                format!("--{key}")
            } else if let Some(p) = &config_path {
                format!("`{key}` in {}", display_relative(&cwd, p))
            } else {
                format!("default `{key}`")
            }
        };
        let errors = std::cell::RefCell::new(Vec::new());
        // A bad value from the file points at it in a code frame.
        let bad = |key: &str, msg: String| {
            let mut d = Diagnostic::error(
                "CONFIG_VALUE",
                Category::Config,
                format!("{}: {msg}", origin(key)),
            );
            match spans
                .as_ref()
                .filter(|_| !flag_set(flags, key))
                .and_then(|s| s.label(key))
            {
                Some(label) => d = d.with_label(label),
                None if flag_set(flags, key) => {}
                None => {
                    if let Some(p) = &config_path {
                        d = d.with_file(display_relative(&cwd, p));
                    }
                }
            }
            errors.borrow_mut().push(d);
        };

        // 3. Validate.
        let root = match root.canonicalize() {
            Ok(r) if r.is_dir() => Some(r),
            Ok(_) => {
                bad(
                    "root",
                    format!(
                        "source root {} is not a directory",
                        display_relative(&cwd, &root)
                    ),
                );
                None
            }
            Err(e) => {
                let mut d = Diagnostic::error(
                    "ROOT_MISSING",
                    Category::Config,
                    format!(
                        "source root {} cannot be read: {e}",
                        display_relative(&cwd, &root)
                    ),
                );
                if flags.root.is_none() && file_settings.root.is_none() {
                    d = d.with_help(format!(
                        "pass --root DIR or set `root` in {CONFIG_FILE} (the default is `{DEFAULT_ROOT}`)"
                    ));
                }
                errors.borrow_mut().push(d);
                None
            }
        };
        let out = normalize(&out);
        if let Some(root) = &root {
            let out_canon = canonical_prefix(&out);
            if root.starts_with(&out_canon) {
                bad(
                    "out",
                    format!(
                        "out dir {} contains the source root; pick an out dir beside or inside it",
                        display_relative(&cwd, &out)
                    ),
                );
            }
        }

        let mut base = s.base.clone().unwrap_or_else(|| DEFAULT_BASE.to_string());
        if base.is_empty() || base.chars().any(|c| c.is_whitespace() || c.is_control()) {
            bad(
                "base",
                format!("`{base}` is not a URL prefix such as `/assets/`"),
            );
        }
        if !base.ends_with('/') {
            base.push('/');
        }

        let include_globs = s.include.clone().unwrap_or_else(|| vec!["**".to_string()]);
        let include = build_globs(&include_globs)
            .map_err(|m| bad("include", m))
            .ok();
        let exclude = build_globs(s.exclude.as_deref().unwrap_or(&[]))
            .map_err(|m| bad("exclude", m))
            .ok();

        let query = s
            .targets
            .clone()
            .unwrap_or_else(|| DEFAULT_TARGETS.to_string());
        let targets = match Browsers::from_browserslist([query.as_str()]) {
            Ok(Some(browsers)) => Some(Targets { browsers }),
            Ok(None) => {
                bad(
                    "targets",
                    format!("browserslist query `{query}` matches no browsers"),
                );
                None
            }
            Err(e) => {
                bad(
                    "targets",
                    format!("invalid browserslist query `{query}`: {e}"),
                );
                None
            }
        };

        let names = NamePattern::parse(s.names.as_deref().unwrap_or(DEFAULT_NAMES))
            .map_err(|m| bad("names", m))
            .ok();

        let hash_length = s.hash_length.unwrap_or(DEFAULT_HASH_LENGTH);
        if !(MIN_HASH_LENGTH..=64).contains(&hash_length) {
            bad(
                "hash-length",
                format!("{hash_length} is out of range: use {MIN_HASH_LENGTH} to 64 hex digits"),
            );
        }

        let manifest = s
            .manifest
            .clone()
            .unwrap_or_else(|| DEFAULT_MANIFEST.to_string());
        if !is_clean_relative(&manifest)
            || manifest.split('/').any(|seg| seg.starts_with(".prebake"))
        {
            bad(
                "manifest",
                format!("`{manifest}` must be a relative path inside the out dir"),
            );
        }

        let sri = match s.sri.as_deref() {
            None => Some(Sri::Sha384),
            Some(v) => Sri::parse(v).or_else(|| {
                bad(
                    "sri",
                    format!("unknown algorithm `{v}` (expected sha256, sha384 or sha512)"),
                );
                None
            }),
        };

        let jsx = match s.jsx.as_deref().unwrap_or("automatic") {
            "automatic" => {
                let src = s
                    .jsx_import_source
                    .clone()
                    .unwrap_or_else(|| "react".to_string());
                if src.is_empty()
                    || src
                        .chars()
                        .any(|c| c.is_whitespace() || c == '"' || c == '\'')
                {
                    bad(
                        "jsx-import-source",
                        format!("`{src}` is not a module specifier"),
                    );
                }
                Some(Jsx::Automatic { import_source: src })
            }
            "classic" => {
                let factory = s
                    .jsx_factory
                    .clone()
                    .unwrap_or_else(|| "React.createElement".into());
                let fragment = s
                    .jsx_fragment
                    .clone()
                    .unwrap_or_else(|| "React.Fragment".into());
                if !is_member_expr(&factory) {
                    bad(
                        "jsx-factory",
                        format!(
                            "`{factory}` must be an identifier or a dotted name like `React.createElement`"
                        ),
                    );
                }
                if !is_member_expr(&fragment) {
                    bad(
                        "jsx-fragment",
                        format!(
                            "`{fragment}` must be an identifier or a dotted name like `React.Fragment`"
                        ),
                    );
                }
                Some(Jsx::Classic { factory, fragment })
            }
            other => {
                bad(
                    "jsx",
                    format!("unknown JSX runtime `{other}` (expected automatic or classic)"),
                );
                None
            }
        };

        let decorators = match s.decorators.as_deref().unwrap_or("standard") {
            "standard" => Some(Decorators::Standard),
            "legacy" => Some(Decorators::Legacy),
            other => {
                bad(
                    "decorators",
                    format!("unknown decorators `{other}` (expected standard or legacy)"),
                );
                None
            }
        };

        let urls = match s.urls.as_deref().unwrap_or("relative") {
            "relative" => Some(UrlStyle::Relative),
            "base" => Some(UrlStyle::Base),
            other => {
                bad(
                    "urls",
                    format!("unknown URL style `{other}` (expected relative or base)"),
                );
                None
            }
        };

        let dev = self.profile == Profile::Dev;
        let sourcemap_default = if dev { "linked" } else { "none" };
        // The dev profile keeps a file's hidden or inline maps, and turns
        // `none` into linked ones; a flag always wins.
        let sourcemap_setting = match (&flags.sourcemap, s.sourcemap.as_deref()) {
            (None, Some("none")) if dev => None,
            _ => s.sourcemap.as_deref(),
        };
        let sourcemap = match sourcemap_setting.unwrap_or(sourcemap_default) {
            "none" => Some(SourceMaps::None),
            "linked" => Some(SourceMaps::Linked),
            "hidden" => Some(SourceMaps::Hidden),
            "inline" => Some(SourceMaps::Inline),
            other => {
                bad(
                    "sourcemap",
                    format!(
                        "unknown source map mode `{other}` (expected none, linked, hidden or inline)"
                    ),
                );
                None
            }
        };

        let format = match s.format.as_deref().unwrap_or("esm") {
            "esm" => BundleFormat::Esm,
            "iife" => BundleFormat::Iife,
            other => {
                bad(
                    "format",
                    format!("unknown bundle format `{other}` (expected esm or iife)"),
                );
                BundleFormat::Esm
            }
        };
        if let Some(g) = &s.global_name
            && !is_js_identifier(g)
        {
            bad(
                "global-name",
                format!("`{g}` is not a JavaScript identifier"),
            );
        }
        // Entries are logical names: relative to the root, with `/`.
        let entries: Vec<String> = s
            .entries
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                let e = e.replace('\\', "/");
                let e = e.trim_start_matches("./").to_string();
                if e.starts_with('/') || e.split('/').any(|c| c == "..") {
                    bad(
                        "entries",
                        format!("entry `{e}` must be a path inside the root"),
                    );
                }
                e
            })
            .collect();
        let mut define: BTreeMap<String, String> = BTreeMap::new();
        let node_env = match self.profile {
            Profile::Release => "\"production\"",
            Profile::Dev => "\"development\"",
        };
        define.insert("process.env.NODE_ENV".into(), node_env.into());
        for (k, v) in s.define.clone().unwrap_or_default() {
            if k.is_empty() || !k.split('.').all(is_js_identifier) {
                bad(
                    "define",
                    format!("`{k}` is not a dotted global name (like process.env.API_URL)"),
                );
            }
            define.insert(k, v);
        }

        let threads = match self.threads {
            Some(0) => {
                errors.borrow_mut().push(Diagnostic::error(
                    "CONFIG_VALUE",
                    Category::Config,
                    "--threads: must be at least 1",
                ));
                1
            }
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        };

        let (
            Some(sourcemap),
            Some(decorators),
            Some(urls),
            Some(root),
            Some(include),
            Some(exclude),
            Some(targets),
            Some(names),
            Some(sri),
            Some(jsx),
        ) = (
            sourcemap, decorators, urls, root, include, exclude, targets, names, sri, jsx,
        )
        else {
            return Err(errors.into_inner());
        };
        let errors = errors.into_inner();
        if !errors.is_empty() {
            return Err(errors);
        }
        // Keys that the chosen JSX runtime ignores: say so rather than
        // silently doing nothing.
        let ignored: &[&str] = match jsx {
            Jsx::Automatic { .. } => &["jsx-factory", "jsx-fragment"],
            Jsx::Classic { .. } => &["jsx-import-source"],
        };
        let warnings = ignored
            .iter()
            .filter(|k| flag_set(flags, k) || flag_set(&file_settings, k))
            .map(|k| {
                Diagnostic::warning(
                    "CONFIG_IGNORED",
                    Category::Config,
                    format!(
                        "{}: has no effect with the {} JSX runtime",
                        origin(k),
                        if matches!(jsx, Jsx::Automatic { .. }) {
                            "automatic"
                        } else {
                            "classic"
                        }
                    ),
                )
            })
            .collect();
        Ok(Config {
            root,
            out,
            config_file: config_path,
            cwd,
            base,
            include,
            include_globs,
            exclude,
            targets,
            targets_query: query,
            minify: if dev {
                flags.minify.unwrap_or(false)
            } else {
                s.minify.unwrap_or(true)
            },
            names,
            hash_length,
            manifest,
            sri,
            jsx_user: JsxUser {
                classic: s.jsx.as_deref().map(|j| j == "classic"),
                import_source: s.jsx_import_source.clone(),
                factory: s.jsx_factory.clone(),
                fragment: s.jsx_fragment.clone(),
            },
            jsx,
            css_error_recovery: s.css_error_recovery.unwrap_or(false),
            decorators,
            decorators_user: s.decorators.is_some(),
            strict: s.strict.unwrap_or(false),
            urls,
            sourcemap,
            sources_content: s.sources_content.unwrap_or(true),
            entries,
            format,
            global_name: s.global_name.clone(),
            define,
            threads,
            source_date_epoch: self.source_date_epoch,
            durable: !dev,
            warnings,
        })
    }
}

fn flag_set(s: &Settings, key: &str) -> bool {
    match key {
        "root" => s.root.is_some(),
        "out" => s.out.is_some(),
        "base" => s.base.is_some(),
        "include" => s.include.is_some(),
        "exclude" => s.exclude.is_some(),
        "targets" => s.targets.is_some(),
        "minify" => s.minify.is_some(),
        "names" => s.names.is_some(),
        "hash-length" => s.hash_length.is_some(),
        "manifest" => s.manifest.is_some(),
        "sri" => s.sri.is_some(),
        "jsx" => s.jsx.is_some(),
        "jsx-import-source" => s.jsx_import_source.is_some(),
        "jsx-factory" => s.jsx_factory.is_some(),
        "jsx-fragment" => s.jsx_fragment.is_some(),
        "css-error-recovery" => s.css_error_recovery.is_some(),
        "decorators" => s.decorators.is_some(),
        "strict" => s.strict.is_some(),
        "urls" => s.urls.is_some(),
        "sourcemap" => s.sourcemap.is_some(),
        "sources-content" => s.sources_content.is_some(),
        "entries" => s.entries.is_some(),
        "format" => s.format.is_some(),
        "global-name" => s.global_name.is_some(),
        "define" => s.define.is_some(),
        _ => false,
    }
}

fn merge(flags: &Settings, file: &Settings) -> Settings {
    #[allow(clippy::ref_option)] // called with the fields as they are
    fn or<T: Clone>(a: &Option<T>, b: &Option<T>) -> Option<T> {
        a.clone().or_else(|| b.clone())
    }
    Settings {
        root: None,
        out: None,
        base: or(&flags.base, &file.base),
        include: or(&flags.include, &file.include),
        exclude: or(&flags.exclude, &file.exclude),
        targets: or(&flags.targets, &file.targets),
        minify: or(&flags.minify, &file.minify),
        names: or(&flags.names, &file.names),
        hash_length: or(&flags.hash_length, &file.hash_length),
        manifest: or(&flags.manifest, &file.manifest),
        sri: or(&flags.sri, &file.sri),
        jsx: or(&flags.jsx, &file.jsx),
        jsx_import_source: or(&flags.jsx_import_source, &file.jsx_import_source),
        jsx_factory: or(&flags.jsx_factory, &file.jsx_factory),
        jsx_fragment: or(&flags.jsx_fragment, &file.jsx_fragment),
        css_error_recovery: or(&flags.css_error_recovery, &file.css_error_recovery),
        decorators: or(&flags.decorators, &file.decorators),
        strict: or(&flags.strict, &file.strict),
        urls: or(&flags.urls, &file.urls),
        sourcemap: or(&flags.sourcemap, &file.sourcemap),
        sources_content: or(&flags.sources_content, &file.sources_content),
        entries: or(&flags.entries, &file.entries),
        format: or(&flags.format, &file.format),
        global_name: or(&flags.global_name, &file.global_name),
        // Flags add to (and override) the file's defines.
        define: match (&flags.define, &file.define) {
            (None, None) => None,
            (a, b) => {
                let mut m = b.clone().unwrap_or_default();
                m.extend(a.clone().unwrap_or_default());
                Some(m)
            }
        },
    }
}

/// Parses `prebake.toml`. Unknown keys and values of the wrong type are
/// errors that name the key, with a code frame in the file.
pub fn parse_config(text: &str, shown: &str) -> Result<Settings, Vec<Diagnostic>> {
    parse_config_spanned(text, shown).map(|(s, _)| s)
}

/// [`parse_config`], also returning where each value stands.
fn parse_config_spanned(text: &str, shown: &str) -> Result<(Settings, Spans), Vec<Diagnostic>> {
    let source: Arc<str> = Arc::from(text);
    let table: BTreeMap<String, toml::Spanned<toml::Value>> =
        toml::from_str(text).map_err(|e| {
            let mut d = Diagnostic::error(
                "CONFIG_SYNTAX",
                Category::Config,
                format!("{shown}: {}", e.message()),
            )
            .with_file(shown);
            if let Some(span) = e.span() {
                d = d.with_label(Label::new(shown, source.clone(), span));
            }
            vec![d]
        })?;

    let mut s = Settings::default();
    let mut errors = Vec::new();
    for (key, value) in &table {
        let span = value.span();
        let v = value.get_ref();
        let fail = |expected: &str| {
            Diagnostic::error(
                "CONFIG_VALUE",
                Category::Config,
                format!(
                    "{shown}: key `{key}` must be {expected}, found {}",
                    v.type_str()
                ),
            )
            .with_label(Label::new(shown, source.clone(), span.clone()))
        };
        let string = || {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| fail("a string"))
        };
        let boolean = || v.as_bool().ok_or_else(|| fail("true or false"));
        let strings = || -> Result<Vec<String>, Diagnostic> {
            match v {
                toml::Value::String(s) => Ok(vec![s.clone()]),
                toml::Value::Array(a) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| fail("an array of strings"))
                    })
                    .collect(),
                _ => Err(fail("a string or an array of strings")),
            }
        };
        let result: Result<(), Diagnostic> = (|| {
            match key.as_str() {
                "root" => s.root = Some(PathBuf::from(string()?)),
                "out" => s.out = Some(PathBuf::from(string()?)),
                "base" => s.base = Some(string()?),
                "include" => s.include = Some(strings()?),
                "exclude" => s.exclude = Some(strings()?),
                "targets" => {
                    s.targets = Some(match v {
                        toml::Value::Array(_) => strings()?.join(", "),
                        _ => string()?,
                    });
                }
                "minify" => s.minify = Some(boolean()?),
                "names" => s.names = Some(string()?),
                "hash-length" => {
                    let n = v
                        .as_integer()
                        .and_then(|n| usize::try_from(n).ok())
                        .ok_or_else(|| fail("a positive integer"))?;
                    s.hash_length = Some(n);
                }
                "manifest" => s.manifest = Some(string()?),
                "sri" => s.sri = Some(string()?),
                "jsx" => s.jsx = Some(string()?),
                "jsx-import-source" => s.jsx_import_source = Some(string()?),
                "jsx-factory" => s.jsx_factory = Some(string()?),
                "jsx-fragment" => s.jsx_fragment = Some(string()?),
                "css-error-recovery" => s.css_error_recovery = Some(boolean()?),
                "decorators" => s.decorators = Some(string()?),
                "strict" => s.strict = Some(boolean()?),
                "urls" => s.urls = Some(string()?),
                "sourcemap" => s.sourcemap = Some(string()?),
                "sources-content" => s.sources_content = Some(boolean()?),
                "entries" => s.entries = Some(strings()?),
                "format" => s.format = Some(string()?),
                "global-name" => s.global_name = Some(string()?),
                "define" => {
                    let table = v.as_table().ok_or_else(|| fail("a table of strings"))?;
                    let mut define = BTreeMap::new();
                    for (name, value) in table {
                        let value = value.as_str().ok_or_else(|| fail("a table of strings"))?;
                        define.insert(name.clone(), value.to_string());
                    }
                    s.define = Some(define);
                }
                _ => {
                    let mut d = Diagnostic::error(
                        "CONFIG_UNKNOWN_KEY",
                        Category::Config,
                        format!("{shown}: unknown key `{key}`"),
                    )
                    .with_label(key_label(shown, &source, key, span.clone()))
                    .with_note(format!("known keys: {}", KEYS.join(", ")));
                    if let Some(similar) = KEYS.iter().find(|k| similar(k, key)) {
                        d = d.with_help(format!("did you mean `{similar}`?"));
                    }
                    return Err(d);
                }
            }
            Ok(())
        })();
        if let Err(d) = result {
            errors.push(d);
        }
    }
    if errors.is_empty() {
        let spans = Spans {
            shown: shown.to_string(),
            text: source,
            values: table.iter().map(|(k, v)| (k.clone(), v.span())).collect(),
        };
        Ok((s, spans))
    } else {
        Err(errors)
    }
}

/// Points at the key itself when it can be found on the value's line.
fn key_label(
    shown: &str,
    source: &Arc<str>,
    key: &str,
    value_span: std::ops::Range<usize>,
) -> Label {
    let line_start = source[..value_span.start.min(source.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = &source[line_start..value_span.start.min(source.len())];
    match line.find(key) {
        Some(i) => Label::new(
            shown,
            source.clone(),
            line_start + i..line_start + i + key.len(),
        ),
        None => Label::new(shown, source.clone(), value_span),
    }
}

fn similar(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.replace('_', "-").to_ascii_lowercase();
    let (a, b) = (norm(a), norm(b));
    if a == b {
        return true;
    }
    // One edit apart.
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short
        .iter()
        .zip(long.iter())
        .take_while(|(x, y)| x == y)
        .count();
    let suffix_short = &short[prefix..];
    let suffix_long = &long[prefix + 1..];
    if short.len() == long.len() {
        suffix_short.get(1..) == Some(suffix_long)
    } else {
        suffix_short == suffix_long
    }
}

fn build_globs(globs: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        if g.starts_with('/') || g.split('/').any(|seg| seg == "..") {
            return Err(format!("glob `{g}` must be relative to the source root"));
        }
        let glob = globset::GlobBuilder::new(g)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("invalid glob `{g}`: {e}"))?;
        b.add(glob);
    }
    b.build().map_err(|e| e.to_string())
}

/// A JSX factory such as `h` or `React.createElement`: identifiers joined
/// by dots.
pub fn is_member_expr(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
                && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        })
}

fn is_clean_relative(p: &str) -> bool {
    let path = Path::new(p);
    !p.is_empty()
        && !p.contains('\\')
        && path.components().all(|c| matches!(c, Component::Normal(_)))
}

/// `base.join(p)` for relative `p`, lexically normalised.
pub(crate) fn absolute(base: &Path, p: &Path) -> PathBuf {
    normalize(&base.join(p))
}

/// Removes `.` and resolves `..` lexically.
pub(crate) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Canonicalises the longest existing prefix of `p` and appends the rest, so
/// an out dir that does not exist yet can still be compared with the root.
pub(crate) fn canonical_prefix(p: &Path) -> PathBuf {
    let mut existing = p.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (
            existing.file_name().map(std::ffi::OsStr::to_os_string),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return p.to_path_buf(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_renders_and_collapses_empty_dir() {
        let p = NamePattern::parse(DEFAULT_NAMES).unwrap();
        assert_eq!(p.render("", "app", "abc", ".js"), "app-abc.js");
        assert_eq!(
            p.render("css/x", "site", "abc", ".css"),
            "css/x/site-abc.css"
        );
    }

    #[test]
    fn pattern_needs_name_and_hash() {
        assert!(NamePattern::parse("[name][ext]").is_err());
        assert!(NamePattern::parse("[hash][ext]").is_err());
        assert!(NamePattern::parse("[dir]/[nme]-[hash]").is_err());
        assert!(NamePattern::parse("../[name]-[hash]").is_err());
        assert!(NamePattern::parse("[hash]/[name][ext]").is_err());
        assert!(NamePattern::parse("[dir]/[hash]-[name][ext]").is_ok());
    }

    #[test]
    fn unknown_key_names_key_and_file() {
        let errs = parse_config("root = \"a\"\nminfy = true\n", "prebake.toml").unwrap_err();
        assert_eq!(errs.len(), 1);
        let d = &errs[0];
        assert_eq!(d.code, "CONFIG_UNKNOWN_KEY");
        assert!(
            d.message.contains("`minfy`") && d.message.contains("prebake.toml"),
            "{}",
            d.message
        );
        assert_eq!(d.location(), Some((2, 1)));
        assert_eq!(d.help.as_deref(), Some("did you mean `minify`?"));
    }

    #[test]
    fn bad_value_names_key() {
        let errs = parse_config("minify = \"yes\"\n", "p.toml").unwrap_err();
        assert!(errs[0].message.contains("`minify`"), "{}", errs[0].message);
        assert_eq!(errs[0].location(), Some((1, 10)));
    }

    #[test]
    fn similar_keys() {
        assert!(similar("minify", "minfy"));
        assert!(similar("hash-length", "hash_length"));
        assert!(!similar("root", "base"));
    }
}
