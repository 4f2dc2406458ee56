//! Bundling: entry points and everything they import become a few chunks.
//!
//! ```text
//! entries --load (rayon, one BFS level at a time)--> modules + records
//!         --resolve (oxc_resolver)--> module graph
//!         --link (serial)--> a plan per module and per chunk
//!         --emit (rayon: rewrite, minify, print per module)--> module code
//!         --assemble--> chunk text + map, references as placeholders
//!         --stylesheets (rayon)--> one CSS chunk per entry that imports CSS
//! ```
//!
//! [`bundle`] runs these phases in order, each a function of this module
//! (the linker's in [`link`], the emitter's in [`emit`]).
//!
//! The pipeline then fingerprints chunks like any other output: a chunk's
//! name is the hash of its final bytes, which contain the final names of
//! the chunks and assets it references.

pub mod emit;
pub mod link;
pub mod module;
pub mod resolve;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::cache::Stamp;
use crate::config::{BundleFormat, Config};
use crate::css::{self, CssOptions, CssScope};
use crate::diagnostics::{Category, Diagnostic, Label};
use crate::discover::{self, JsKind, Kind, NPM, Source, in_node_modules};
use crate::js::JsOptions;
use crate::refs::Reference;
use crate::sourcemap::Map;

use link::{LinkOptions, Linked, OutFormat};
use module::{Body, ModuleData, ModuleId, PackageCache, RecordKind, Target};
use resolve::{ModuleResolver, Request, Resolved};

/// esbuild's interop helpers, reduced. The linker renames them like any
/// other top-level binding; the minifier drops those a build does not use.
const RUNTIME: &str = include_str!("runtime.js");
const RUNTIME_NAME: &str = "prebake/runtime.js";

/// A chunk's reference to something named only at fingerprinting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkLink {
    /// Another chunk, by index.
    Chunk(usize),
    /// The stylesheet of entry point `e`, as base + name (a page loads
    /// it); becomes [`ChunkLink::CssChunk`] within the bundler.
    EntryCss(usize),
    /// A stylesheet chunk, by index, as base + name.
    CssChunk(usize),
    /// An asset file; `base`: written as base + name (a URL a page uses),
    /// else relative to the chunk.
    Asset { path: PathBuf, base: bool },
}

/// One output of the bundler.
#[derive(Debug)]
pub struct Chunk {
    /// Manifest key: an entry's own logical name, `_chunks/<name>.js` for
    /// shared chunks, `<entry>.css` for an entry's stylesheet.
    pub logical: String,
    /// In a session: a digest of everything the chunk's code and map were
    /// made from (see the pipeline's finished-output reuse).
    pub identity: Option<[u8; 32]>,
    pub css: bool,
    pub code: String,
    pub map: Option<Map>,
    /// JS: placeholders to final URLs.
    pub links: Vec<(String, ChunkLink)>,
    /// CSS: `url()` references, resolved like any stylesheet's.
    pub refs: Vec<Reference>,
    /// Static chunk imports, `import()`ed chunks and the entry's
    /// stylesheet chunks, by index.
    pub imports: Vec<usize>,
    pub dynamic_imports: Vec<usize>,
    pub stylesheets: Vec<usize>,
    pub assets: Vec<PathBuf>,
    pub warnings: Vec<Diagnostic>,
}

/// What the bundler produced.
#[derive(Debug, Default)]
pub struct Bundle {
    pub chunks: Vec<Chunk>,
    /// Files of packages (`node_modules`) the bundle references: fonts and
    /// images of a package's CSS, assets imported from a package. They are
    /// built as sources named `_npm/<package path>`.
    pub package_files: Vec<Source>,
    /// Every JS, JSON and CSS module of the graph (absolute paths): sources
    /// the bundle took in, and inputs the build read.
    pub modules: Vec<PathBuf>,
    /// The tag of the chunks' placeholders, which a session keeps from
    /// build to build: what names a chunk must not depend on.
    pub tag: String,
    /// Warnings about the modules (code that will fail in the browser).
    pub warnings: Vec<Diagnostic>,
}

/// Parsed modules kept between the builds of one `prebake watch` session,
/// by path and the SHA-256 of their bytes: an unchanged file is not parsed,
/// transformed or analysed again. Everything the result depends on besides
/// the bytes (compile options, defines) is fixed for a session; a config
/// change starts a new one. Resolution is redone every build, so added,
/// removed and renamed files are always seen.
///
/// Each module's emitted code is kept too, by a fingerprint of its source
/// and of everything the linker decided for it ([`link::Plan::fingerprint`]),
/// with the placeholder tag kept from build to build while no source
/// contains it: an edit re-emits the modules whose code changes, not the
/// graph.
#[derive(Default)]
pub struct Cache {
    modules: crate::cache::Loads<(module::Js, Vec<module::Record>)>,
    emitted: crate::cache::Memo<PathBuf, emit::Emitted>,
    tag: std::sync::Mutex<Option<String>>,
    /// The resolver (with what it learnt of the file system) and the
    /// package.json cache, kept until a file is added, removed or renamed
    /// or a JSON file changes (see [`Cache::invalidate_resolution`]).
    resolution: std::sync::Mutex<Option<Arc<Resolution>>>,
}

/// Everything besides a file's bytes that its load depends on and that can
/// change within a session: Node's interop mode (a package.json `type`)
/// and the options its tsconfig.json gives.
fn variant(node_mode: bool, opts: &JsOptions) -> u64 {
    (opts.file_key() << 1) | u64::from(node_mode)
}

type LoadResult = Result<(module::Js, Vec<module::Record>), Vec<Diagnostic>>;

impl Cache {
    /// The cached load of `path` when its stamp says it did not change.
    fn unchanged(
        &self,
        path: &Path,
        now: Stamp,
        variant: u64,
    ) -> Option<(module::Js, Vec<module::Record>)> {
        self.modules.unchanged(path, now, variant)
    }

    /// The cached load of `path` with these bytes, else `load()`'s result
    /// (kept when it succeeded).
    fn load(
        &self,
        path: &Path,
        bytes: &[u8],
        stamp: Option<Stamp>,
        variant: u64,
        load: impl FnOnce() -> LoadResult,
    ) -> LoadResult {
        let digest = crate::cache::digest(bytes);
        self.modules.load(path, digest, stamp, variant, || {
            let mut result = load();
            if let Ok((js, _)) = &mut result {
                js.digest = digest;
            }
            result
        })
    }

    pub fn clear(&self) {
        self.modules.clear();
        self.emitted.clear();
        if let Ok(mut t) = self.tag.lock() {
            *t = None;
        }
        self.invalidate_resolution();
    }

    /// Forgets what resolution learnt: the watcher calls this before a
    /// build when files were added, removed or renamed (or a package.json
    /// or tsconfig changed), which is what can change where an import
    /// leads. Content edits keep it.
    pub fn invalidate_resolution(&self) {
        if let Ok(mut r) = self.resolution.lock() {
            *r = None;
        }
    }

    pub(crate) fn resolution(&self, project: &Path) -> Arc<Resolution> {
        let fresh = || Arc::new(Resolution::new(project));
        let Ok(mut r) = self.resolution.lock() else {
            return fresh();
        };
        r.get_or_insert_with(fresh).clone()
    }

    /// The previous build's tag while no module contains it, else `fresh`.
    fn tag(&self, modules: &[ModuleData], fresh: impl FnOnce() -> String) -> String {
        let Ok(mut kept) = self.tag.lock() else {
            return fresh();
        };
        let usable = kept.as_ref().is_some_and(|t| {
            !modules.iter().any(|m| match &m.body {
                Body::Js(j) => j.source.contains(t.as_str()),
                _ => false,
            })
        });
        if !usable {
            *kept = Some(fresh());
        }
        kept.clone().unwrap_or_default()
    }

    fn emitted(&self, path: &Path, key: &[u8; 32]) -> Option<emit::Emitted> {
        self.emitted.get_keyed(&path.to_path_buf(), key)
    }

    fn keep_emitted(&self, path: &Path, key: [u8; 32], e: &emit::Emitted) {
        self.emitted
            .put(path.to_path_buf(), key, Vec::new(), e.clone());
    }

    /// Drops emitted code of modules the latest build did not emit.
    fn retain_emitted(&self, live: &std::collections::HashSet<&Path>) {
        self.emitted.retain(|p| live.contains(p.as_path()));
    }

    fn begin(&self) -> u64 {
        self.modules.begin()
    }

    /// Drops modules the build of `generation` did not load.
    fn end(&self, generation: u64) {
        self.modules.end(generation);
    }
}

/// What every compiling stage (the bundler and the per-file compile)
/// reads: the build's settings and what resolution learnt. Declared here,
/// with [`Resolution`], since the bundler is the first stage that reads it.
pub struct CompileSettings<'a> {
    pub js: &'a JsOptions,
    pub css: &'a CssOptions,
    pub css_scope: &'a CssScope<'a>,
    pub resolution: &'a Resolution,
}

/// What resolution learns of the file system: where imports lead,
/// package.json files, and the tsconfig.json of each source. A build makes
/// one; a session keeps it until files are added, removed or renamed or a
/// JSON file changes.
pub struct Resolution {
    pub modules: ModuleResolver,
    pub packages: PackageCache,
    pub tsconfigs: crate::tsconfig::TsConfigs,
}

impl Resolution {
    pub fn new(project: &Path) -> Resolution {
        Resolution {
            modules: ModuleResolver::new(project),
            packages: PackageCache::default(),
            tsconfigs: crate::tsconfig::TsConfigs::new(),
        }
    }
}

/// Prints how long each bundling phase took when `PREBAKE_TIMINGS` is set
/// (for profiling; never in normal output).
pub(crate) struct Timings {
    pub(crate) on: bool,
    last: std::time::Instant,
}

impl Timings {
    pub(crate) fn new() -> Timings {
        Timings {
            on: std::env::var_os("PREBAKE_TIMINGS").is_some(),
            last: std::time::Instant::now(),
        }
    }

    pub(crate) fn lap(&mut self, what: &str) {
        if self.on {
            eprintln!("[timings] {what}: {} ms", self.last.elapsed().as_millis());
            self.last = std::time::Instant::now();
        }
    }
}

/// A file name's stem as an identifier part: `lib/date-fns.ts` → `date_fns`.
pub fn ident_stem(name: &str) -> String {
    let file = name.rsplit('/').next().unwrap_or(name);
    let stem = match file.find('.') {
        Some(i) if i > 0 => &file[..i],
        _ => file,
    };
    let mut out: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '$' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.as_bytes()[0].is_ascii_digit() {
        out.insert(0, '_');
    }
    if out == "index" || out == "_" {
        // `index` says little: use the directory's name.
        let dir = name.rsplit('/').nth(1).unwrap_or("");
        if !dir.is_empty() && dir != ".." {
            return ident_stem(dir);
        }
    }
    out
}

/// Largest chunk (bytes of code) that gets a whole-chunk mangle pass.
const WHOLE_CHUNK_LIMIT: usize = 1024 * 1024;

/// Package files (logical name, path) as sources copied as they are.
fn static_sources(files: impl IntoIterator<Item = (String, PathBuf)>) -> Vec<Source> {
    files
        .into_iter()
        .map(|(logical, path)| Source {
            logical,
            path,
            kind: Kind::Static,
        })
        .collect()
}

/// Every file of the package that holds `rel` (a path below
/// `node_modules`), as paths below `node_modules`: what a package's
/// stylesheet may `@import`.
fn package_files_of(node_modules: &Path, rel: &str) -> BTreeSet<String> {
    let mut parts = rel.split('/');
    let first = parts.next().unwrap_or("");
    let package = if first.starts_with('@') {
        format!("{first}/{}", parts.next().unwrap_or(""))
    } else {
        first.to_string()
    };
    let dir = node_modules.join(&package);
    walkdir::WalkDir::new(&dir)
        .max_depth(8)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            e.path()
                .strip_prefix(node_modules)
                .ok()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
        })
        .take(10_000)
        .collect()
}

/// A package stylesheet's output and the package files it names (`_npm/…`
/// logical, path).
pub(crate) type PackageCss = (css::CssOutput, Vec<(String, PathBuf)>);

/// Compiles a package's stylesheet (`node_modules/…/x.css`) within its
/// package: `@import`s and `url()`s resolve among the package's own files,
/// and its references are named under `_npm/`. Returns the output and the
/// package files its references name (logical `_npm/…`, path), which must
/// be built too.
pub(crate) fn package_css(
    cfg: &Config,
    path: &Path,
    css_opts: &CssOptions,
) -> Result<PackageCss, Vec<Diagnostic>> {
    let shown = cfg.display_path(path);
    let Some((node_modules, rel)) = in_node_modules(path) else {
        return Err(vec![
            Diagnostic::error(
                "INTERNAL",
                Category::Internal,
                format!("{shown} is not a file of a package"),
            )
            .with_file(shown),
        ]);
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![
            Diagnostic::error("IO", Category::Io, format!("cannot read {shown}: {e}"))
                .with_file(shown.clone()),
        ]
    })?;
    let known = package_files_of(&node_modules, &rel);
    let display = |p: &Path| cfg.display_path(p);
    let scope = CssScope {
        root: &node_modules,
        known: &known,
        display: &display,
    };
    let mut o = crate::jobs::guarded(&shown, "lightningcss", || {
        css::compile(&rel, &text, &scope, css_opts)
    })?;
    let mut files = Vec::new();
    for r in &mut o.refs {
        if let Ok(crate::refs::Target::Local { logical, .. }) =
            crate::refs::resolve(&r.url, &r.from, &|_| true)
        {
            let file = node_modules.join(&logical);
            if file.is_file() {
                files.push((format!("{NPM}/{logical}"), file));
            }
        }
        r.from = format!("{NPM}/{}", r.from);
    }
    Ok((o, files))
}

/// A package stylesheet a page links (`logical`: its `_npm/…` name) as a
/// stylesheet chunk of its own, and the package files it names.
pub(crate) fn package_style(
    cfg: &Config,
    logical: &str,
    path: &Path,
    css_opts: &CssOptions,
) -> Result<(Chunk, Vec<Source>), Vec<Diagnostic>> {
    let (o, files) = package_css(cfg, path, css_opts)?;
    let chunk = Chunk {
        logical: logical.to_string(),
        identity: None,
        css: true,
        code: o.code,
        map: o.map,
        links: Vec::new(),
        refs: o.refs,
        imports: Vec::new(),
        dynamic_imports: Vec::new(),
        stylesheets: Vec::new(),
        assets: Vec::new(),
        warnings: o.warnings,
    };
    let files = static_sources(files);
    Ok((chunk, files))
}

/// `path` relative to `root` with `/`, with `..` when outside.
fn relative(root: &Path, path: &Path) -> String {
    let r: Vec<_> = root.components().collect();
    let p: Vec<_> = path.components().collect();
    let common = r.iter().zip(&p).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), r.len() - common).collect();
    parts.extend(
        p[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

struct Loaded {
    data: Result<ModuleData, Vec<Diagnostic>>,
    /// Resolved file of each record (None when not a file).
    files: Vec<Option<PathBuf>>,
    errors: Vec<Diagnostic>,
}

struct Ctx<'a> {
    cfg: &'a Config,
    cache: Option<&'a Cache>,
    js_opts: &'a JsOptions,
    resolver: &'a ModuleResolver,
    packages: &'a PackageCache,
    tsconfigs: &'a crate::tsconfig::TsConfigs,
    defines: &'a [(Vec<String>, swc_core::ecma::ast::Expr)],
}

fn load(ctx: &Ctx<'_>, path: &Path) -> Loaded {
    let cfg = ctx.cfg;
    let shown = cfg.display_path(path);
    let name = relative(&cfg.root, path);
    let side_effects = ctx
        .packages
        .get(path)
        .is_none_or(|p| p.has_side_effects(path));
    let fail = |d: Vec<Diagnostic>| Loaded {
        data: Err(d),
        files: Vec::new(),
        errors: Vec::new(),
    };
    let logical_kind = discover::kind_of(&name);
    let ext = discover::extension(&name).to_ascii_lowercase();
    let kind = match logical_kind {
        Kind::Js(k) => Some(k),
        _ if ext == ".json" => Some(JsKind::Mjs),
        Kind::Css => {
            return Loaded {
                data: Ok(ModuleData {
                    path: path.to_path_buf(),
                    shown,
                    name,
                    body: Body::Css,
                    records: Vec::new(),
                    side_effects: true,
                }),
                files: Vec::new(),
                errors: Vec::new(),
            };
        }
        _ => None,
    };
    let Some(kind) = kind else {
        return Loaded {
            data: Ok(ModuleData {
                path: path.to_path_buf(),
                shown,
                name,
                body: Body::Asset,
                records: Vec::new(),
                side_effects: false,
            }),
            files: Vec::new(),
            errors: Vec::new(),
        };
    };
    let node_mode = module::is_node_mode(path, kind, ctx.packages);
    // The file's own options, under its tsconfig.json.
    let ts = match ctx.tsconfigs.for_file(path) {
        Ok(ts) => ts,
        Err(d) => return fail(vec![d]),
    };
    let js_opts = ctx.js_opts.for_file(&ts, kind.is_typescript());
    // (Only a session's cache reads it.)
    let variant = ctx.cache.map_or(0, |_| variant(node_mode, &js_opts));
    // A session trusts a file it read before whose metadata is unchanged
    // (see `Stamp`): no read, no hash, no parse.
    let stamp = ctx.cache.and_then(|_| Stamp::of(path));
    let loaded = match ctx
        .cache
        .zip(stamp)
        .and_then(|(c, now)| c.unchanged(path, now, variant))
    {
        Some(l) => Ok(l),
        None => read_and_load(
            ctx, path, &name, &shown, kind, node_mode, variant, stamp, &js_opts,
        ),
    };
    let (js, mut records) = match loaded {
        Ok(r) => r,
        Err(d) => return fail(d),
    };
    let (files, errors) = resolve_records(ctx, path, &shown, &js.source, &mut records);
    Loaded {
        data: Ok(ModuleData {
            path: path.to_path_buf(),
            shown,
            name,
            body: Body::Js(Box::new(js)),
            records,
            side_effects,
        }),
        files,
        errors,
    }
}

/// Resolves the records of the module at `path` (shown as `shown`, its
/// text `source`): the file each leads to (None when not a file), the
/// others' targets set on them; and what could not be resolved.
fn resolve_records(
    ctx: &Ctx<'_>,
    path: &Path,
    shown: &str,
    source: &Arc<str>,
    records: &mut [module::Record],
) -> (Vec<Option<PathBuf>>, Vec<Diagnostic>) {
    let cfg = ctx.cfg;
    let mut files = Vec::with_capacity(records.len());
    let mut errors = Vec::new();
    for r in records {
        let request = if r.kind == RecordKind::Require {
            Request::Require
        } else {
            Request::Import
        };
        // `/src/x.ts`, `/logo.svg`: from the root (else its `public/`), as
        // Vite reads them; never a path of the machine.
        let resolved = if r.specifier.starts_with('/') && !r.specifier.starts_with("//") {
            let exists = |l: &str| cfg.root.join(l).is_file();
            match crate::refs::root_relative(&r.specifier, &exists) {
                Some(l) => Ok(Resolved::File {
                    path: cfg
                        .root
                        .join(&l)
                        .canonicalize()
                        .unwrap_or_else(|_| cfg.root.join(&l)),
                    suffix: crate::refs::split_suffix(&r.specifier).1.to_string(),
                }),
                None => Err(resolve::Unresolved {
                    message: format!(
                        "cannot find module `{}`: a root-relative specifier names a file of the source root or of its `public/` directory",
                        r.specifier
                    ),
                    looked: Vec::new(),
                }),
            }
        } else {
            ctx.resolver.resolve(path, &r.specifier, request)
        };
        match resolved {
            Ok(Resolved::File { path: p, .. }) => {
                files.push(Some(p));
            }
            Ok(Resolved::Empty) => {
                r.target = Target::Empty;
                files.push(None);
            }
            Ok(Resolved::External) => {
                r.target = Target::External;
                files.push(None);
                if r.kind == RecordKind::Static || r.kind == RecordKind::Require {
                    errors.push(
                        Diagnostic::error(
                            "EXTERNAL_IMPORT",
                            Category::Input,
                            format!(
                                "`{}` is a URL; a bundle cannot import it statically",
                                r.specifier
                            ),
                        )
                        .with_label(Label::at_line_col_utf16(
                            shown,
                            source.clone(),
                            r.line,
                            r.column,
                        ))
                        .with_help("load it with import() or a <script> tag"),
                    );
                }
            }
            Err(u) => {
                files.push(None);
                errors.push(u.diagnostic(shown, source.clone(), r.line, r.column, &|p| {
                    cfg.display_path(p)
                }));
            }
        }
    }
    (files, errors)
}

/// Reads and loads one JS (or JSON) module, through the session's cache
/// when there is one.
#[allow(clippy::too_many_arguments)] // one job with its inputs spelled out
fn read_and_load(
    ctx: &Ctx<'_>,
    path: &Path,
    name: &str,
    shown: &str,
    kind: JsKind,
    node_mode: bool,
    variant: u64,
    stamp: Option<Stamp>,
    js_opts: &JsOptions,
) -> LoadResult {
    let ext = discover::extension(name).to_ascii_lowercase();
    let bytes = std::fs::read(path).map_err(|e| {
        vec![
            Diagnostic::error("IO", Category::Io, format!("cannot read {shown}: {e}"))
                .with_file(shown),
        ]
    })?;
    let text = crate::jobs::utf8_text(&bytes, shown).map_err(|d| vec![d])?;
    let js_text: std::borrow::Cow<'_, str> = if ext == ".json" {
        if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
            let source: Arc<str> = Arc::from(text);
            return Err(vec![
                Diagnostic::error("JSON_PARSE", Category::Input, format!("invalid JSON: {e}"))
                    .with_label(Label::at_line_col_utf16(
                        shown,
                        source,
                        e.line(),
                        e.column(),
                    )),
            ]);
        }
        format!("export default {text}\n;").into()
    } else {
        text.into()
    };
    let load = || {
        crate::jobs::guarded(shown, "swc", || {
            module::load_js(
                name,
                shown,
                &js_text,
                kind,
                js_opts,
                ctx.defines,
                node_mode,
                ext == ".json",
            )
        })
    };
    match ctx.cache {
        Some(c) => c.load(path, &bytes, stamp, variant, load),
        None => load(),
    }
}

/// Bundles the entries (sources of kind JS, in config order).
///
/// The phases, each a function of this module:
/// 1. `parse_defines`: the config's `define`s as expressions;
/// 2. `load_runtime`, `load_graph`: load and resolve every module, the
///    runtime first, one BFS level at a time (in parallel);
/// 3. [`link::link`]: a plan per module and per chunk;
/// 4. `placeholder_tag`: the tag of the placeholders that stand for names
///    known only at fingerprinting;
/// 5. `take_emit_jobs`, `emit_modules`: every planned JS module rewritten,
///    minified and printed (in parallel);
/// 6. `name_chunks`, `assemble_chunks`: chunk names, then each chunk's text,
///    map and links; `minify_chunks`: a whole-chunk pass where it pays;
///    `list_static_imports`: what a page should preload;
/// 7. `package_assets`, `build_stylesheets`: files of packages, and one
///    stylesheet per entry chunk that imports CSS;
/// 8. `link_stylesheets`: `import()`ed stylesheets named by their chunks.
pub fn bundle(
    cfg: &Config,
    entries: &[&Source],
    settings: &CompileSettings<'_>,
    known_logicals: &BTreeSet<String>,
    cache: Option<&Cache>,
) -> Result<Bundle, Vec<Diagnostic>> {
    let (js_opts, css_opts, css_scope, resolution) = (
        settings.js,
        settings.css,
        settings.css_scope,
        settings.resolution,
    );
    let mut timings = Timings::new();
    let generation = cache.map(Cache::begin);
    let defines = parse_defines(cfg)?;
    let ctx = Ctx {
        cfg,
        cache,
        js_opts,
        resolver: &resolution.modules,
        packages: &resolution.packages,
        tsconfigs: &resolution.tsconfigs,
        defines: &defines,
    };

    // Load and resolve: the runtime is module 0, then the entries and
    // everything they import.
    let runtime = load_runtime(cache, js_opts)?;
    let mut diagnostics = Vec::new();
    let (mut modules, entry_ids) = load_graph(&ctx, runtime, entries, &mut diagnostics);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    if let (Some(c), Some(g)) = (cache, generation) {
        c.end(g);
    }
    let format = match cfg.format {
        BundleFormat::Esm => OutFormat::Esm,
        BundleFormat::Iife => OutFormat::Iife,
    };
    timings.lap("load + resolve");

    // Link.
    let mut warnings: Vec<Diagnostic> = modules
        .iter()
        .filter_map(|m| match &m.body {
            Body::Js(j) => Some(j.warnings.iter().cloned()),
            _ => None,
        })
        .flatten()
        .collect();
    let linked = link::link(
        &modules,
        &entry_ids,
        &LinkOptions {
            format,
            minify: cfg.minify,
            runtime: 0,
        },
    )?;
    warnings.extend(linked.warnings.iter().cloned());
    timings.lap("link");

    // Placeholders: one tag for the whole bundle.
    let tag = placeholder_tag(cache, &modules);
    let chunk_ph =
        |c: usize| crate::placeholder::bundled(crate::placeholder::Bundled::Chunk, c, &tag);
    let asset_ph =
        |m: ModuleId| crate::placeholder::bundled(crate::placeholder::Bundled::Asset, m, &tag);
    let url_ph =
        |m: ModuleId| crate::placeholder::bundled(crate::placeholder::Bundled::Url, m, &tag);
    let css_ph =
        |e: usize| crate::placeholder::bundled(crate::placeholder::Bundled::EntryCss, e, &tag);
    // The chunk of each entry point (for `import()`): entry chunk e is
    // chunk e.
    let entry_chunk_ph = |e: usize| chunk_ph(e);
    let ph = emit::Placeholders {
        css: &css_ph,
        asset: &asset_ph,
        url: &url_ph,
        chunk: &entry_chunk_ph,
    };

    // Emit every planned JS module in parallel.
    let jobs = take_emit_jobs(&mut modules, &linked);
    let stage = Stage {
        cfg,
        js_opts,
        css_opts,
        css_scope,
        cache,
        format,
        modules: &modules,
        linked: &linked,
        tag: &tag,
        ph: &ph,
    };
    let emits = emit_modules(&stage, jobs, timings.on, &mut diagnostics);
    let (mut emitted, emit_keys) = (emits.modules, emits.keys);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    if timings.on {
        eprintln!(
            "[timings] {} modules emitted, {} ms of work",
            emits.count,
            emits.micros / 1000
        );
    }
    timings.lap("emit (rewrite, minify, print)");

    // Chunks: names, then text, map and links.
    let (logicals, mut taken) = name_chunks(&stage, entries, known_logicals);
    let mut chunks = assemble_chunks(
        &stage,
        entries.len(),
        &logicals,
        &mut emitted,
        emit_keys.as_ref(),
    );
    if cfg.minify {
        minify_chunks(&stage, &mut chunks, &mut diagnostics);
    }
    list_static_imports(&linked, &mut chunks);
    timings.lap("assemble");

    // Files of packages: assets imported from JS now, CSS references with
    // the stylesheets.
    let mut package_files = package_assets(&modules);
    build_stylesheets(
        &stage,
        &logicals,
        &mut taken,
        &mut chunks,
        &mut package_files,
        &mut diagnostics,
    );
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    // Asset modules stay sources of their own (they are only referenced).
    let mut paths: Vec<PathBuf> = modules
        .iter()
        .skip(1)
        .filter(|m| !matches!(m.body, Body::Asset))
        .map(|m| m.path.clone())
        .collect();
    paths.sort();
    link_stylesheets(&mut chunks);
    let package_files = static_sources(package_files);
    Ok(Bundle {
        tag,
        chunks,
        package_files,
        modules: paths,
        warnings,
    })
}

/// The config's `define`s, as (dotted name, expression); a value that is
/// not an expression is an error.
fn parse_defines(
    cfg: &Config,
) -> Result<Vec<(Vec<String>, swc_core::ecma::ast::Expr)>, Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let mut defines = Vec::new();
    for (k, v) in &cfg.define {
        match module::define_expr(v) {
            Some(e) => defines.push((k.split('.').map(str::to_string).collect::<Vec<_>>(), e)),
            None => diagnostics.push(
                Diagnostic::error(
                    "CONFIG_VALUE",
                    Category::Config,
                    format!("define `{k}`: `{v}` is not a JavaScript expression"),
                )
                .with_help("strings need quotes inside the value: --define 'API=\"/api\"'"),
            ),
        }
    }
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    Ok(defines)
}

/// The runtime module (esbuild's helpers), through the session's cache
/// when there is one.
fn load_runtime(cache: Option<&Cache>, js_opts: &JsOptions) -> Result<ModuleData, Vec<Diagnostic>> {
    let load_runtime = || {
        module::load_js(
            RUNTIME_NAME,
            RUNTIME_NAME,
            RUNTIME,
            JsKind::Mjs,
            js_opts,
            &[],
            false,
            false,
        )
    };
    let runtime = match cache {
        Some(c) => c.load(
            Path::new(RUNTIME_NAME),
            RUNTIME.as_bytes(),
            None,
            variant(false, js_opts),
            load_runtime,
        ),
        None => load_runtime(),
    };
    let (js, records) = runtime?;
    Ok(ModuleData {
        path: PathBuf::from(RUNTIME_NAME),
        shown: RUNTIME_NAME.into(),
        name: RUNTIME_NAME.into(),
        body: Body::Js(Box::new(js)),
        records,
        side_effects: false,
    })
}

/// Loads the module graph: `runtime` as module 0, then the entries and
/// everything they import, one BFS level at a time (each level in
/// parallel), each file once. Returns the modules that loaded and the
/// entries' module ids; what failed is in `diagnostics`.
fn load_graph(
    ctx: &Ctx<'_>,
    runtime: ModuleData,
    entries: &[&Source],
    diagnostics: &mut Vec<Diagnostic>,
) -> (Vec<ModuleData>, Vec<ModuleId>) {
    let mut modules: Vec<Option<ModuleData>> = vec![Some(runtime)];
    let mut files_of: Vec<Vec<Option<PathBuf>>> = vec![Vec::new()];
    let mut index: HashMap<PathBuf, ModuleId> = HashMap::new();
    let mut frontier: Vec<(ModuleId, PathBuf)> = Vec::new();
    let mut entry_ids = Vec::new();
    for e in entries {
        let path = e.path.canonicalize().unwrap_or_else(|_| e.path.clone());
        let id = *index.entry(path.clone()).or_insert_with(|| {
            modules.push(None);
            files_of.push(Vec::new());
            frontier.push((modules.len() - 1, path.clone()));
            modules.len() - 1
        });
        entry_ids.push(id);
    }
    while !frontier.is_empty() {
        let loaded: Vec<(ModuleId, Loaded)> = frontier
            .par_iter()
            .map(|(id, p)| (*id, load(ctx, p)))
            .collect();
        frontier = Vec::new();
        for (id, l) in loaded {
            diagnostics.extend(l.errors);
            match l.data {
                Ok(mut data) => {
                    for (r, f) in data.records.iter_mut().zip(&l.files) {
                        if let Some(p) = f {
                            let t = *index.entry(p.clone()).or_insert_with(|| {
                                modules.push(None);
                                files_of.push(Vec::new());
                                frontier.push((modules.len() - 1, p.clone()));
                                modules.len() - 1
                            });
                            r.target = Target::Module(t);
                        }
                    }
                    modules[id] = Some(data);
                }
                Err(d) => diagnostics.extend(d),
            }
        }
    }
    (modules.into_iter().flatten().collect(), entry_ids)
}

/// The tag of the bundle's placeholders, from every module's source, so
/// no source can contain one. A session keeps its tag (see `Cache`);
/// chunk bytes do not depend on it once placeholders are replaced, and
/// the pipeline leaves it out of the names of chunks in an import cycle.
fn placeholder_tag(cache: Option<&Cache>, modules: &[ModuleData]) -> String {
    let fresh_tag = || {
        crate::placeholder::bundle_tag(modules.iter().filter_map(|m| match &m.body {
            Body::Js(j) => Some(&*j.source),
            _ => None,
        }))
    };
    match cache {
        Some(c) => c.tag(modules, fresh_tag),
        None => fresh_tag(),
    }
}

/// What the phases after linking read.
struct Stage<'a> {
    cfg: &'a Config,
    js_opts: &'a JsOptions,
    css_opts: &'a CssOptions,
    css_scope: &'a CssScope<'a>,
    cache: Option<&'a Cache>,
    format: OutFormat,
    /// The graph, without the code of the modules being emitted.
    modules: &'a [ModuleData],
    linked: &'a Linked,
    tag: &'a str,
    ph: &'a emit::Placeholders<'a>,
}

/// One module to emit: its id, its code, its name.
type EmitJob = (ModuleId, Box<module::Js>, String);

/// Takes the code of every module the linker planned out of the graph
/// (the emitter consumes it), largest first, so no big module starts last
/// and leaves a core idle.
fn take_emit_jobs(modules: &mut [ModuleData], linked: &Linked) -> Vec<EmitJob> {
    let mut jobs: Vec<EmitJob> = Vec::new();
    for (i, m) in modules.iter_mut().enumerate() {
        if linked.plans[i].is_some()
            && let Body::Js(_) = &m.body
            && let Body::Js(js) = std::mem::replace(&mut m.body, Body::Empty)
        {
            jobs.push((i, js, m.name.clone()));
        }
    }
    jobs.sort_by_key(|(i, js, _)| (std::cmp::Reverse(js.source.len()), *i));
    jobs
}

/// The emitted modules.
struct Emits {
    modules: HashMap<ModuleId, emit::Emitted>,
    /// Each module's emit key (in a session), for its chunk's identity;
    /// `None` if a job panicked holding them.
    keys: Option<HashMap<ModuleId, [u8; 32]>>,
    /// Jobs run, and microseconds they took together (when timed).
    count: usize,
    micros: u64,
}

/// Emits the modules of `jobs` in parallel, each from a session's cache
/// when it holds the module's emit for the same plan; failures go to
/// `diagnostics`.
fn emit_modules(
    stage: &Stage<'_>,
    jobs: Vec<EmitJob>,
    timed: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> Emits {
    let job_micros = std::sync::atomic::AtomicU64::new(0);
    let job_count = jobs.len();
    let emit_keys: std::sync::Mutex<HashMap<ModuleId, [u8; 32]>> =
        std::sync::Mutex::new(HashMap::new());
    let results: Vec<(ModuleId, Result<emit::Emitted, Vec<Diagnostic>>)> = jobs
        .into_par_iter()
        .map(|(i, js, name)| {
            let started = std::time::Instant::now();
            let (r, reused) = emit_one(stage, i, js, &name, &emit_keys);
            // (Modules taken from the cache are not counted.)
            if timed && !reused {
                let us = started.elapsed().as_micros();
                job_micros.fetch_add(
                    u64::try_from(us).unwrap_or(0),
                    std::sync::atomic::Ordering::Relaxed,
                );
                if us >= 20_000 {
                    eprintln!("[timings]   {}: {} ms", stage.modules[i].shown, us / 1000);
                }
            }
            (i, r)
        })
        .collect();
    if let Some(c) = stage.cache {
        c.retain_emitted(
            &results
                .iter()
                .map(|(i, _)| stage.modules[*i].path.as_path())
                .collect(),
        );
    }
    let mut emitted = HashMap::new();
    for (i, r) in results {
        match r {
            Ok(e) => {
                emitted.insert(i, e);
            }
            Err(d) => diagnostics.extend(d),
        }
    }
    Emits {
        modules: emitted,
        keys: emit_keys.into_inner().ok(),
        count: job_count,
        micros: job_micros.into_inner(),
    }
}

/// Emits module `i`, or takes it from the session's cache (then the
/// second value is true); records its emit key in `keys`.
fn emit_one(
    stage: &Stage<'_>,
    i: ModuleId,
    js: Box<module::Js>,
    name: &str,
    keys: &std::sync::Mutex<HashMap<ModuleId, [u8; 32]>>,
) -> (Result<emit::Emitted, Vec<Diagnostic>>, bool) {
    let (linked, cache, format) = (stage.linked, stage.cache, stage.format);
    let plan = linked.plans[i].as_ref();
    let shown = &stage.modules[i].shown;
    let key = cache
        .zip(plan)
        .map(|(_, plan)| emit_key(stage, i, &js, plan));
    if let (Some(k), Ok(mut keys)) = (key, keys.lock()) {
        keys.insert(i, k);
    }
    let emit = |js: module::Js, plan: &link::Plan| {
        crate::jobs::guarded(shown, "swc", || {
            emit::emit_module(i, js, name, plan, linked, format, stage.js_opts, stage.ph)
        })
    };
    let hit = cache
        .zip(key.as_ref())
        .and_then(|(c, k)| c.emitted(&stage.modules[i].path, k));
    // PREBAKE_CHECK_CACHE=1 (the watch tests): emit anyway, and a
    // reused module that differs from a fresh one is a bug.
    if let Some(e) = hit {
        if !crate::cache::check_cache() {
            return (Ok(e), true);
        }
        let fresh = plan.map(|plan| emit(*js, plan));
        if let Some(Ok(f)) = &fresh
            && (f.code != e.code || f.head != e.head)
        {
            return (
                Err(vec![Diagnostic::error(
                    "INTERNAL",
                    Category::Internal,
                    format!("{shown}: the emit cache returned stale code"),
                )]),
                true,
            );
        }
        return (Ok(e), true);
    }
    let r = match plan {
        Some(plan) => emit(*js, plan),
        None => Err(Vec::new()),
    };
    if let (Some(c), Some(k), Ok(e)) = (cache, key, &r) {
        c.keep_emitted(&stage.modules[i].path, k, e);
    }
    (r, false)
}

/// A module's emit key: a digest of everything its emitted code is made
/// from (its source, its plan with final names, the placeholder tag).
fn emit_key(stage: &Stage<'_>, i: ModuleId, js: &module::Js, plan: &link::Plan) -> [u8; 32] {
    use sha2::Digest as _;
    let linked = stage.linked;
    let mut h = sha2::Sha256::new();
    h.update(js.digest);
    h.update([u8::from(js.node_mode), u8::from(js.json)]);
    h.update(i.to_le_bytes());
    h.update([u8::from(stage.format == OutFormat::Iife)]);
    h.update(stage.tag.as_bytes());
    for (helper, &sym) in &linked.helpers {
        h.update(helper.as_bytes());
        h.update([0]);
        h.update(linked.names.get(sym).map_or(&b""[..], |n| n.as_bytes()));
        h.update([0]);
    }
    plan.fingerprint(&linked.names, &mut h);
    <[u8; 32]>::from(h.finalize())
}

/// Chunk names: an entry's own logical name, an `import()`ed module's
/// own, `_chunks/<stem>.js` for the others, unique among the names of
/// the build. Returns them, with the names taken (for stylesheets).
fn name_chunks(
    stage: &Stage<'_>,
    entries: &[&Source],
    known_logicals: &BTreeSet<String>,
) -> (Vec<String>, BTreeSet<String>) {
    let (modules, linked) = (stage.modules, stage.linked);
    let mut logicals: Vec<String> = Vec::new();
    // Sources the bundle took in leave their names free: an import()ed
    // module keeps its own, an entry's stylesheet may take that of the
    // stylesheet it imports.
    let consumed: BTreeSet<&str> = modules
        .iter()
        .filter(|m| !matches!(m.body, Body::Asset))
        .map(|m| m.name.as_str())
        .collect();
    let mut taken: BTreeSet<String> = known_logicals
        .iter()
        .filter(|l| !consumed.contains(l.as_str()))
        .cloned()
        .collect();
    for plan in &linked.chunks {
        let name = if let Some(e) = plan.entry {
            let m = linked.entry_points[e];
            if let Some(src) = entries.get(e) {
                src.logical.clone()
            } else {
                let n = &modules[m].name;
                if n.starts_with("../") {
                    format!("_chunks/{}.js", ident_stem(n))
                } else {
                    n.clone()
                }
            }
        } else {
            let first = plan
                .modules
                .iter()
                .find(|&&m| m != 0)
                .or(plan.modules.first());
            let stem =
                first.map_or_else(|| "shared".to_string(), |&m| ident_stem(&modules[m].name));
            format!("_chunks/{stem}.js")
        };
        let mut unique = name.clone();
        let mut k = 2;
        while plan.entry.is_none_or(|e| e >= entries.len()) && !taken.insert(unique.clone()) {
            let (stem, ext) = name.rsplit_once('.').unwrap_or((&name, "js"));
            unique = format!("{stem}-{k}.{ext}");
            k += 1;
        }
        logicals.push(unique);
    }
    (logicals, taken)
}

/// Each chunk's text and map from its modules' emitted code, with the
/// placeholders it holds (`links`) and, in a session, its identity.
fn assemble_chunks(
    stage: &Stage<'_>,
    entry_count: usize,
    logicals: &[String],
    emitted: &mut HashMap<ModuleId, emit::Emitted>,
    emit_keys: Option<&HashMap<ModuleId, [u8; 32]>>,
) -> Vec<Chunk> {
    let (cfg, linked, format) = (stage.cfg, stage.linked, stage.format);
    let mut chunks: Vec<Chunk> = Vec::new();
    for (c, plan) in linked.chunks.iter().enumerate() {
        let text = emit::assemble(
            c,
            linked,
            emitted,
            format == OutFormat::Esm || entry_count <= 1,
            format,
            if plan.entry == Some(0) || entry_count <= 1 {
                cfg.global_name.as_deref()
            } else {
                None
            },
            stage.ph.chunk,
            stage.ph.asset,
            stage.js_opts.source_map,
            cfg.minify,
        );
        let links = chunk_links(stage, plan);
        // In a session: the chunk's text (placeholders and all), what it
        // links to, and its modules' emit keys, which stand for their maps.
        let identity = stage.cache.and_then(|_| {
            use sha2::Digest as _;
            let keys = emit_keys?;
            let mut h = sha2::Sha256::new();
            h.update(logicals[c].as_bytes());
            h.update([0]);
            h.update(text.code.as_bytes());
            for m in &plan.modules {
                h.update(keys.get(m)?);
            }
            for (placeholder, link) in &links {
                h.update(placeholder.as_bytes());
                h.update(format!("{link:?}").as_bytes());
            }
            Some(<[u8; 32]>::from(h.finalize()))
        });
        chunks.push(Chunk {
            logical: logicals[c].clone(),
            identity,
            css: false,
            code: text.code,
            map: text.map,
            links,
            refs: Vec::new(),
            imports: Vec::new(),
            dynamic_imports: plan.dynamic.iter().copied().collect(),
            stylesheets: Vec::new(),
            assets: plan
                .assets
                .iter()
                .map(|&a| stage.modules[a].path.clone())
                .collect(),
            warnings: Vec::new(),
        });
    }
    chunks
}

/// The placeholders a chunk's code holds, with what each stands for, by
/// placeholder.
fn chunk_links(stage: &Stage<'_>, plan: &link::ChunkPlan) -> Vec<(String, ChunkLink)> {
    let (linked, ph) = (stage.linked, stage.ph);
    let mut links: Vec<(String, ChunkLink)> = Vec::new();
    for &other in plan.imports.keys() {
        links.push(((ph.chunk)(other), ChunkLink::Chunk(other)));
    }
    for &e in &plan.dynamic {
        links.push(((ph.chunk)(e), ChunkLink::Chunk(e)));
        if !linked.chunks[e].css.is_empty() {
            // Resolved to the stylesheet's chunk once it exists.
            links.push(((ph.css)(e), ChunkLink::EntryCss(e)));
        }
    }
    let asset_link = |a: ModuleId, base: bool| {
        let placeholder = if base { (ph.asset)(a) } else { (ph.url)(a) };
        (
            placeholder,
            ChunkLink::Asset {
                path: stage.modules[a].path.clone(),
                base,
            },
        )
    };
    // Every asset URL the chunk's code holds: imports (and namespace
    // members, entry exports) as base URLs, `new URL` relative.
    let mut asset_repls: Vec<&link::Repl> = Vec::new();
    for &m in &plan.modules {
        if let Some(p) = &linked.plans[m] {
            links.extend(p.urls.values().map(|&a| asset_link(a, false)));
            links.extend(
                p.url_chunks
                    .values()
                    .map(|&e| ((ph.chunk)(e), ChunkLink::Chunk(e))),
            );
            asset_repls.extend(p.imports.values().chain(p.members.values()));
            for pre in &p.prelude {
                if let link::Prelude::Namespace { members, .. } = pre {
                    asset_repls.extend(members.iter().map(|(_, r)| r));
                }
            }
        }
    }
    asset_repls.extend(plan.entry_exports.iter().map(|(_, r)| r));
    for r in asset_repls {
        if let link::Repl::Url(a) = r {
            links.push(asset_link(*a, true));
        }
    }
    links.sort_by(|a, b| a.0.cmp(&b.0));
    links.dedup_by(|a, b| a.0 == b.0);
    links
}

/// A whole-chunk pass where it pays: modules were mangled one by one,
/// each ranking its own names. Mangling a chunk as a whole takes 2-5%
/// off its gzip size (rxjs: 1.05 -> 0.98 of esbuild's, three.js 1.00 ->
/// 0.98) for tens of milliseconds; on chunks of megabytes it would be a
/// serial second at the end of the build. Chunks go in parallel.
fn minify_chunks(stage: &Stage<'_>, chunks: &mut [Chunk], diagnostics: &mut Vec<Diagnostic>) {
    type Pass = Result<Option<(String, Option<Map>)>, Vec<Diagnostic>>;
    let passes: Vec<Pass> = chunks
        .par_iter()
        .map(|ch| {
            if ch.css || ch.code.len() > WHOLE_CHUNK_LIMIT {
                return Ok(None);
            }
            crate::jobs::guarded(&ch.logical, "swc", || {
                crate::js::reminify(
                    &ch.logical,
                    &ch.code,
                    stage.format == OutFormat::Esm,
                    stage.js_opts,
                )
            })
            .map(Some)
        })
        .collect();
    for (ch, pass) in chunks.iter_mut().zip(passes) {
        match pass {
            Ok(Some((code, map))) => {
                ch.map = match (map, ch.map.take()) {
                    (Some(new), Some(old)) => Some(new.compose(&old)),
                    _ => None,
                };
                ch.code = code;
            }
            Ok(None) => {}
            Err(d) => diagnostics.extend(d),
        }
    }
}

/// Static imports of each chunk, transitively (what a page should
/// preload).
fn list_static_imports(linked: &Linked, chunks: &mut [Chunk]) {
    for (c, plan) in linked.chunks.iter().enumerate() {
        let mut seen = BTreeSet::new();
        let mut order = Vec::new();
        let mut stack: Vec<usize> = plan.imports.keys().rev().copied().collect();
        while let Some(x) = stack.pop() {
            if x == c || !seen.insert(x) {
                continue;
            }
            order.push(x);
            stack.extend(linked.chunks[x].imports.keys().rev().copied());
        }
        chunks[c].imports = order;
    }
}

/// Asset modules of packages, by their `_npm/…` name.
fn package_assets(modules: &[ModuleData]) -> std::collections::BTreeMap<String, PathBuf> {
    let mut package_files: std::collections::BTreeMap<String, PathBuf> =
        std::collections::BTreeMap::new();
    for m in modules {
        if matches!(m.body, Body::Asset)
            && let Some((_, rel)) = in_node_modules(&m.path)
        {
            package_files.insert(format!("{NPM}/{rel}"), m.path.clone());
        }
    }
    package_files
}

/// One stylesheet per entry chunk that imports CSS, named after the
/// entry, the stylesheets it imports compiled (in parallel) and put one
/// after the other; package files they reference go to `package_files`.
fn build_stylesheets(
    stage: &Stage<'_>,
    logicals: &[String],
    taken: &mut BTreeSet<String>,
    chunks: &mut Vec<Chunk>,
    package_files: &mut std::collections::BTreeMap<String, PathBuf>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let cfg = stage.cfg;
    let css_jobs: Vec<(usize, Vec<ModuleId>)> = stage
        .linked
        .chunks
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.css.is_empty())
        .map(|(c, p)| (c, p.css.clone()))
        .collect();
    for (c, list) in css_jobs {
        // The entry's name with `.css`, always: a file of the root that
        // already has it (and that the entry does not import) is an error,
        // not a reason to pick another name.
        let base = logicals[c]
            .rsplit_once('.')
            .map_or(logicals[c].as_str(), |(s, _)| s)
            .to_string();
        let name = format!("{base}.css");
        if taken.contains(&name) || logicals.contains(&name) {
            diagnostics.push(
                Diagnostic::error(
                    "NAME_COLLISION",
                    Category::Input,
                    format!(
                        "the stylesheet of entry `{}` (the CSS it imports) is named `{name}`, which is taken by another file of the build",
                        logicals[c]
                    ),
                )
                .with_file(cfg.display_path(&cfg.root.join(&name)))
                .with_help(format!(
                    "rename `{name}`, or import it from `{}` so its rules join the entry's stylesheet",
                    logicals[c]
                )),
            );
            continue;
        }
        taken.insert(name.clone());
        let compiled: Vec<Result<PackageCss, Vec<Diagnostic>>> = list
            .par_iter()
            .map(|&m| compile_stylesheet(stage, m))
            .collect();
        let mut code = String::new();
        let mut parts = Vec::new();
        let mut refs = Vec::new();
        let mut warnings = Vec::new();
        for r in compiled {
            match r {
                Ok((o, files)) => {
                    if let Some(map) = o.map {
                        parts.push((u32::try_from(code.matches('\n').count()).unwrap_or(0), map));
                    }
                    code.push_str(&o.code);
                    if !code.ends_with('\n') {
                        code.push('\n');
                    }
                    refs.extend(o.refs);
                    warnings.extend(o.warnings);
                    package_files.extend(files);
                }
                Err(d) => diagnostics.extend(d),
            }
        }
        let idx = chunks.len();
        chunks.push(Chunk {
            identity: None,
            logical: name,
            css: true,
            code,
            map: stage.css_opts.source_map.then(|| Map::concat(parts)),
            links: Vec::new(),
            refs,
            imports: Vec::new(),
            dynamic_imports: Vec::new(),
            stylesheets: Vec::new(),
            assets: Vec::new(),
            warnings,
        });
        chunks[c].stylesheets.push(idx);
    }
}

/// Compiles stylesheet module `m`; a package's within its package, its
/// references named under `_npm/`.
fn compile_stylesheet(stage: &Stage<'_>, m: ModuleId) -> Result<PackageCss, Vec<Diagnostic>> {
    let (md, css_opts) = (&stage.modules[m], stage.css_opts);
    if in_node_modules(&md.path).is_some() {
        return package_css(stage.cfg, &md.path, css_opts);
    }
    let text = std::fs::read_to_string(&md.path).map_err(|e| {
        vec![
            Diagnostic::error("IO", Category::Io, format!("cannot read {}: {e}", md.shown))
                .with_file(md.shown.clone()),
        ]
    })?;
    crate::jobs::guarded(&md.shown, "lightningcss", || {
        css::compile(&md.name, &text, stage.css_scope, css_opts)
    })
    .map(|o| (o, Vec::new()))
}

/// Stylesheets loaded with `import()` are chunks now: their links name
/// the stylesheet chunk.
fn link_stylesheets(chunks: &mut [Chunk]) {
    let css_of: Vec<Option<usize>> = chunks
        .iter()
        .map(|c| c.stylesheets.first().copied())
        .collect();
    for chunk in chunks {
        for (_, link) in &mut chunk.links {
            if let ChunkLink::EntryCss(e) = *link
                && let Some(Some(css)) = css_of.get(e)
            {
                *link = ChunkLink::CssChunk(*css);
            }
        }
    }
}
