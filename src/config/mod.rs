//! Configuration: built-in defaults < `prebake.toml` < command-line flags.
//!
//! [`Options`] is what the CLI and the build-script helper fill in; it holds
//! only overrides. [`Options::resolve`] reads the config file, merges, checks
//! every value once and returns a [`Config`]. Later stages read `&Config` and
//! never look at the environment, arguments or working directory themselves.
//!
//! Every key is declared once, in the table in `keys.rs`: its type, flag,
//! default and help. `file.rs` reads `prebake.toml`; this module layers
//! the flags over the file and checks each value.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use globset::{GlobSet, GlobSetBuilder};
use lightningcss::targets::Browsers;

use crate::diagnostics::{Category, Diagnostic};

#[macro_use]
mod declare;
mod file;
mod keys;

pub use declare::{Flag, Key};
pub use file::{Spans, parse_config};
pub use keys::{
    BundleFormat, Decorators, Defaults, JsxRuntime, KEY_TABLE, KEYS, Settings, SourceMaps, Sri,
    UrlStyle,
};

/// Default browserslist query: the "widely available" web platform baseline
/// (the browsers Vite 7 targets by default).
pub const DEFAULT_TARGETS: &str = "chrome >= 107, edge >= 107, firefox >= 104, safari >= 16";
/// Fewest hex digits allowed in names: 64 bits keeps accidental collisions
/// out of reach for any realistic number of releases.
pub const MIN_HASH_LENGTH: usize = 16;
/// Name of the config file looked for in the project directory.
pub const CONFIG_FILE: &str = "prebake.toml";

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

/// ASCII JavaScript identifier (no reserved-word check).
pub fn is_js_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c == '$' || c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '$' || c == '_' || c.is_ascii_alphanumeric())
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

/// The keys `prebake check` reads: where a release lives.
pub const RELEASE_KEYS: &[&str] = &["out", "manifest"];

struct Loaded {
    cwd: PathBuf,
    config_path: Option<PathBuf>,
    file_settings: Settings,
    file_dir: PathBuf,
    /// Where each key's value stands in the config file, for code frames.
    spans: Option<Spans>,
    /// Values the file gave outside their key's set, by key.
    rejected: BTreeMap<String, Diagnostic>,
}

impl Loaded {
    /// A path setting: a flag's is relative to the working directory, the
    /// file's and the default to the file's directory.
    fn path(
        &self,
        flags: &Settings,
        pick: fn(&Settings) -> Option<&PathBuf>,
        default: &Path,
    ) -> PathBuf {
        match (pick(flags), pick(&self.file_settings)) {
            (Some(f), _) => absolute(&self.cwd, f),
            (None, Some(f)) => absolute(&self.file_dir, f),
            (None, None) => absolute(&self.file_dir, default),
        }
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
        let Some(p) = &config_path else {
            return Ok(Loaded {
                file_dir: cwd.clone(),
                cwd,
                config_path,
                file_settings: Settings::default(),
                spans: None,
                rejected: BTreeMap::new(),
            });
        };
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
        let parsed = file::parse_config_spanned(&text, &shown)?;
        Ok(Loaded {
            file_dir: p.parent().map_or_else(|| cwd.clone(), Path::to_path_buf),
            cwd,
            config_path,
            file_settings: parsed.settings,
            spans: Some(parsed.spans),
            rejected: parsed.rejected,
        })
    }

    /// Just where a release lives: the out dir, the manifest path inside it,
    /// and the working directory (for display). Used by `prebake check`,
    /// which must not need the sources.
    pub fn resolve_release(&self) -> Result<(PathBuf, String, PathBuf), Vec<Diagnostic>> {
        let l = self.load()?;
        let d = Defaults::default();
        let out = l.path(&self.settings, |s| s.out.as_ref(), &d.out);
        let manifest = self
            .settings
            .manifest
            .clone()
            .or(l.file_settings.manifest)
            .unwrap_or(d.manifest);
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
    /// everything once. Errors name the key and the file, or the flag.
    pub fn resolve(&self) -> Result<Config, Vec<Diagnostic>> {
        let mut r = Resolver::new(self, self.load()?);
        let root = r.root();
        let out = r.out(root.as_deref());
        let base = r.base();
        let (include_globs, include, exclude) = r.globs();
        let (targets_query, targets) = r.targets();
        let names = r.names();
        let hash_length = r.hash_length();
        let manifest = r.manifest();
        let sri = r.choice("sri", r.s.sri, r.d.sri);
        let jsx = r.jsx();
        let decorators = r.choice("decorators", r.s.decorators, r.d.decorators);
        let urls = r.choice("urls", r.s.urls, r.d.urls);
        let sourcemap = r.sourcemap();
        let format = r.choice("format", r.s.format, r.d.format);
        r.global_name();
        let entries = r.entries();
        let define = r.define();
        let threads = r.threads();

        let errors = r.take_errors();
        let (
            Some(root),
            Some(include),
            Some(exclude),
            Some(targets),
            Some(names),
            Some(sri),
            Some(jsx),
            Some(decorators),
            Some(urls),
            Some(sourcemap),
            Some(format),
        ) = (
            root, include, exclude, targets, names, sri, jsx, decorators, urls, sourcemap, format,
        )
        else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let s = &r.s;
        Ok(Config {
            root,
            out,
            config_file: r.l.config_path.clone(),
            cwd: r.l.cwd.clone(),
            base,
            include,
            include_globs,
            exclude,
            targets,
            targets_query,
            minify: r.minify(),
            names,
            hash_length,
            manifest,
            sri,
            jsx_user: JsxUser {
                classic: s.jsx.map(|j| j == JsxRuntime::Classic),
                import_source: s.jsx_import_source.clone(),
                factory: s.jsx_factory.clone(),
                fragment: s.jsx_fragment.clone(),
            },
            warnings: r.ignored(&jsx),
            jsx,
            css_error_recovery: s.css_error_recovery.unwrap_or(r.d.css_error_recovery),
            decorators,
            decorators_user: s.decorators.is_some(),
            strict: s.strict.unwrap_or(r.d.strict),
            urls,
            sourcemap,
            sources_content: s.sources_content.unwrap_or(r.d.sources_content),
            entries,
            format,
            global_name: s.global_name.clone(),
            define,
            threads,
            source_date_epoch: self.source_date_epoch,
            durable: !r.dev,
        })
    }
}

/// One resolution under way: the layers, and the errors found so far.
/// Each method reads one key (or a few that go together) and reports what
/// is wrong with it.
struct Resolver<'a> {
    opts: &'a Options,
    l: Loaded,
    /// The flags laid over the file.
    s: Settings,
    d: Defaults,
    dev: bool,
    errors: Vec<Diagnostic>,
}

impl<'a> Resolver<'a> {
    fn new(opts: &'a Options, l: Loaded) -> Resolver<'a> {
        Resolver {
            s: Settings::layer(&opts.settings, &l.file_settings),
            d: Defaults::default(),
            dev: opts.profile == Profile::Dev,
            opts,
            l,
            errors: Vec::new(),
        }
    }

    fn flags(&self) -> &Settings {
        &self.opts.settings
    }

    /// Where `key`'s value came from, for messages: the flag as typed, the
    /// key in the config file, or the default.
    fn origin(&self, key: &str) -> String {
        if let Some(flag) = self.flags().flag_of(key) {
            flag.to_string()
        } else if let Some(p) = &self.l.config_path {
            format!("`{key}` in {}", display_relative(&self.l.cwd, p))
        } else {
            format!("default `{key}`")
        }
    }

    /// Reports a bad value; one from the file points at it in a code frame.
    fn bad(&mut self, key: &str, msg: impl std::fmt::Display) {
        let mut d = Diagnostic::error(
            "CONFIG_VALUE",
            Category::Config,
            format!("{}: {msg}", self.origin(key)),
        );
        if !self.flags().is_set(key) {
            match self.l.spans.as_ref().and_then(|s| s.label(key)) {
                Some(label) => d = d.with_label(label),
                None => {
                    if let Some(p) = &self.l.config_path {
                        d = d.with_file(display_relative(&self.l.cwd, p));
                    }
                }
            }
        }
        self.errors.push(d);
    }

    /// An enum key's value; `None` when the file's was outside the set
    /// (reported here, in key order, unless a flag overrides it).
    fn choice<T: Copy>(&mut self, key: &str, value: Option<T>, default: T) -> Option<T> {
        if !self.flags().is_set(key)
            && let Some(d) = self.l.rejected.remove(key)
        {
            self.errors.push(d);
            return None;
        }
        Some(value.unwrap_or(default))
    }

    /// The errors found, with any refused file value not read above.
    fn take_errors(&mut self) -> Vec<Diagnostic> {
        let mut errors = std::mem::take(&mut self.errors);
        let rejected = std::mem::take(&mut self.l.rejected);
        errors.extend(
            rejected
                .into_iter()
                .filter(|(key, _)| !self.flags().is_set(key))
                .map(|(_, d)| d),
        );
        errors
    }

    fn root(&mut self) -> Option<PathBuf> {
        let root = self.l.path(self.flags(), |s| s.root.as_ref(), &self.d.root);
        match root.canonicalize() {
            Ok(r) if r.is_dir() => Some(r),
            Ok(_) => {
                let shown = display_relative(&self.l.cwd, &root);
                self.bad("root", format!("source root {shown} is not a directory"));
                None
            }
            Err(e) => {
                let mut d = Diagnostic::error(
                    "ROOT_MISSING",
                    Category::Config,
                    format!(
                        "source root {} cannot be read: {e}",
                        display_relative(&self.l.cwd, &root)
                    ),
                );
                if !self.flags().is_set("root") && !self.l.file_settings.is_set("root") {
                    d = d.with_help(format!(
                        "pass --root DIR or set `root` in {CONFIG_FILE} (the default is `{}`)",
                        self.d.root.display()
                    ));
                }
                self.errors.push(d);
                None
            }
        }
    }

    /// The out dir; it may not contain the root (it would be read back).
    fn out(&mut self, root: Option<&Path>) -> PathBuf {
        let out = normalize(&self.l.path(self.flags(), |s| s.out.as_ref(), &self.d.out));
        if let Some(root) = root
            && root.starts_with(canonical_prefix(&out))
        {
            let shown = display_relative(&self.l.cwd, &out);
            self.bad(
                "out",
                format!(
                    "out dir {shown} contains the source root; pick an out dir beside or inside it"
                ),
            );
        }
        out
    }

    fn base(&mut self) -> String {
        let mut base = self.s.base.clone().unwrap_or_else(|| self.d.base.clone());
        if base.is_empty() || base.chars().any(|c| c.is_whitespace() || c.is_control()) {
            self.bad(
                "base",
                format!("`{base}` is not a URL prefix such as `/assets/`"),
            );
        }
        if !base.ends_with('/') {
            base.push('/');
        }
        base
    }

    /// The include globs as written, and both sets compiled.
    fn globs(&mut self) -> (Vec<String>, Option<GlobSet>, Option<GlobSet>) {
        let include_globs = self
            .s
            .include
            .clone()
            .unwrap_or_else(|| self.d.include.clone());
        let include = build_globs(&include_globs)
            .map_err(|m| self.bad("include", m))
            .ok();
        let exclude_globs = self
            .s
            .exclude
            .clone()
            .unwrap_or_else(|| self.d.exclude.clone());
        let exclude = build_globs(&exclude_globs)
            .map_err(|m| self.bad("exclude", m))
            .ok();
        (include_globs, include, exclude)
    }

    /// The browserslist query and the browsers it names.
    fn targets(&mut self) -> (String, Option<Targets>) {
        let query = self
            .s
            .targets
            .clone()
            .unwrap_or_else(|| self.d.targets.clone());
        let targets = match Browsers::from_browserslist([query.as_str()]) {
            Ok(Some(browsers)) => Some(Targets { browsers }),
            Ok(None) => {
                self.bad(
                    "targets",
                    format!("browserslist query `{query}` matches no browsers"),
                );
                None
            }
            Err(e) => {
                self.bad(
                    "targets",
                    format!("invalid browserslist query `{query}`: {e}"),
                );
                None
            }
        };
        (query, targets)
    }

    fn names(&mut self) -> Option<NamePattern> {
        NamePattern::parse(self.s.names.as_deref().unwrap_or(&self.d.names))
            .map_err(|m| self.bad("names", m))
            .ok()
    }

    fn hash_length(&mut self) -> usize {
        let hash_length = self.s.hash_length.unwrap_or(self.d.hash_length);
        if !(MIN_HASH_LENGTH..=64).contains(&hash_length) {
            self.bad(
                "hash-length",
                format!("{hash_length} is out of range: use {MIN_HASH_LENGTH} to 64 hex digits"),
            );
        }
        hash_length
    }

    fn manifest(&mut self) -> String {
        let manifest = self
            .s
            .manifest
            .clone()
            .unwrap_or_else(|| self.d.manifest.clone());
        if !is_clean_relative(&manifest)
            || manifest.split('/').any(|seg| seg.starts_with(".prebake"))
        {
            self.bad(
                "manifest",
                format!("`{manifest}` must be a relative path inside the out dir"),
            );
        }
        manifest
    }

    /// The JSX runtime with its import source, or factory and fragment.
    fn jsx(&mut self) -> Option<Jsx> {
        match self.choice("jsx", self.s.jsx, self.d.jsx)? {
            JsxRuntime::Automatic => {
                let src = self
                    .s
                    .jsx_import_source
                    .clone()
                    .unwrap_or_else(|| self.d.jsx_import_source.clone());
                if src.is_empty()
                    || src
                        .chars()
                        .any(|c| c.is_whitespace() || c == '"' || c == '\'')
                {
                    self.bad(
                        "jsx-import-source",
                        format!("`{src}` is not a module specifier"),
                    );
                }
                Some(Jsx::Automatic { import_source: src })
            }
            JsxRuntime::Classic => {
                let factory = self
                    .s
                    .jsx_factory
                    .clone()
                    .unwrap_or_else(|| self.d.jsx_factory.clone());
                let fragment = self
                    .s
                    .jsx_fragment
                    .clone()
                    .unwrap_or_else(|| self.d.jsx_fragment.clone());
                if !is_member_expr(&factory) {
                    self.bad(
                        "jsx-factory",
                        format!(
                            "`{factory}` must be an identifier or a dotted name like `React.createElement`"
                        ),
                    );
                }
                if !is_member_expr(&fragment) {
                    self.bad(
                        "jsx-fragment",
                        format!(
                            "`{fragment}` must be an identifier or a dotted name like `React.Fragment`"
                        ),
                    );
                }
                Some(Jsx::Classic { factory, fragment })
            }
        }
    }

    /// The dev profile makes linked maps the default and turns the file's
    /// `none` into linked ones, but keeps its hidden or inline maps; a
    /// flag always wins.
    fn sourcemap(&mut self) -> Option<SourceMaps> {
        let value = match (self.flags().sourcemap, self.s.sourcemap) {
            (None, Some(SourceMaps::None)) if self.dev => None,
            (_, value) => value,
        };
        let default = if self.dev {
            SourceMaps::Linked
        } else {
            self.d.sourcemap
        };
        self.choice("sourcemap", value, default)
    }

    /// The dev profile does not minify unless a flag says so.
    fn minify(&self) -> bool {
        if self.dev {
            self.flags().minify.unwrap_or(false)
        } else {
            self.s.minify.unwrap_or(self.d.minify)
        }
    }

    fn global_name(&mut self) {
        if let Some(g) = self.s.global_name.clone()
            && !is_js_identifier(&g)
        {
            self.bad(
                "global-name",
                format!("`{g}` is not a JavaScript identifier"),
            );
        }
    }

    /// Entries are logical names: relative to the root, with `/`.
    fn entries(&mut self) -> Vec<String> {
        let entries = self
            .s
            .entries
            .clone()
            .unwrap_or_else(|| self.d.entries.clone());
        entries
            .into_iter()
            .map(|e| {
                let e = e.replace('\\', "/");
                let e = e.trim_start_matches("./").to_string();
                if e.starts_with('/') || e.split('/').any(|c| c == "..") {
                    self.bad(
                        "entries",
                        format!("entry `{e}` must be a path inside the root"),
                    );
                }
                e
            })
            .collect()
    }

    /// The profile's `process.env.NODE_ENV`, then the settings' defines.
    fn define(&mut self) -> BTreeMap<String, String> {
        let mut define = BTreeMap::new();
        let node_env = match self.opts.profile {
            Profile::Release => "\"production\"",
            Profile::Dev => "\"development\"",
        };
        define.insert("process.env.NODE_ENV".into(), node_env.into());
        for (k, v) in self.s.define.clone().unwrap_or_default() {
            if k.is_empty() || !k.split('.').all(is_js_identifier) {
                self.bad(
                    "define",
                    format!("`{k}` is not a dotted global name (like process.env.API_URL)"),
                );
            }
            define.insert(k, v);
        }
        define
    }

    fn threads(&mut self) -> usize {
        match self.opts.threads {
            Some(0) => {
                self.errors.push(Diagnostic::error(
                    "CONFIG_VALUE",
                    Category::Config,
                    "--threads: must be at least 1",
                ));
                1
            }
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        }
    }

    /// Keys that the chosen JSX runtime ignores: say so rather than
    /// silently doing nothing.
    fn ignored(&self, jsx: &Jsx) -> Vec<Diagnostic> {
        let (ignored, runtime): (&[&str], &str) = match jsx {
            Jsx::Automatic { .. } => (&["jsx-factory", "jsx-fragment"], "automatic"),
            Jsx::Classic { .. } => (&["jsx-import-source"], "classic"),
        };
        ignored
            .iter()
            .filter(|k| self.flags().is_set(k) || self.l.file_settings.is_set(k))
            .map(|k| {
                Diagnostic::warning(
                    "CONFIG_IGNORED",
                    Category::Config,
                    format!(
                        "{}: has no effect with the {runtime} JSX runtime",
                        self.origin(k)
                    ),
                )
            })
            .collect()
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
        let p = NamePattern::parse(&Defaults::default().names).unwrap();
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
}
