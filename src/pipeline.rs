//! The only place that sequences the stages:
//!
//! ```text
//! Options --resolve--> Config
//! lock(out dir)
//! discover(&Config)          -> Vec<Source>     sorted
//! pages::plan                -> what pages load: entries, classic scripts,
//!                               package files (built under _npm/)
//! bundle_all                 -> chunks: the ES bundle (declared entries and
//!                               pages' module scripts) and the classic one
//! check_collisions           -> names are unique
//! compile (rayon, big stacks, catch_unwind per file) -> bytes per source
//! fingerprint                -> names, integrity, manifest
//! write_release              -> files, then the manifest, atomically
//! ```
//!
//! A build with any error writes nothing: the previous release stays.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Instant;

use rayon::prelude::*;
use sha2::Digest as _;

use crate::config::{Config, Options, SourceMaps, UrlStyle};
use crate::css::{self, CssOptions, CssScope};
use crate::diagnostics::{Category, Diagnostic};
use crate::discover::{self, Kind, Source};
use crate::fingerprint;
use crate::html;
use crate::js::{self, JsOptions};
use crate::manifest::{Entry, Manifest};
use crate::output::{self, OutFile};
use crate::refs::{self, Reference, Target};
use crate::sourcemap::{self, Map, SourceUrls};

/// Stack size of compile threads. swc and lightningcss recurse about 3 KiB
/// per nesting level and a stack overflow aborts the process, so the stack
/// is large (it is virtual memory: only touched pages are committed) and
/// nesting is bounded before parsing.
pub const STACK_SIZE: usize = 1 << 30;

/// How long a file may compile before it is reported as slow, and how often
/// after that.
pub const SLOW_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

/// Things a build reports while it runs, for the edges to show.
#[derive(Debug)]
pub enum Event<'a> {
    /// Another build holds the out dir's lock; this one waits for it.
    WaitingForLock { out: &'a Path },
    /// A file has been compiling for `seconds` (reported every
    /// [`SLOW_AFTER`]), so a user can tell a slow file from a hang.
    SlowFile { file: &'a str, seconds: u64 },
}

/// One output of a build.
#[derive(Debug, Clone)]
pub struct Asset {
    pub logical: String,
    /// Path relative to the out dir.
    pub file: String,
    pub kind: Kind,
    pub entry: Entry,
}

/// Counts for the summary line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub js: usize,
    pub css: usize,
    pub html: usize,
    pub other: usize,
    pub written: usize,
    pub reused: usize,
    pub millis: u128,
}

/// Everything a build produced. No printing happened.
#[derive(Debug, Default)]
pub struct BuildOutput {
    /// The release's manifest when the build succeeded.
    pub manifest: Option<Manifest>,
    /// Path of the manifest that was written.
    pub manifest_path: Option<PathBuf>,
    pub assets: Vec<Asset>,
    /// Errors and warnings, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// Every input file read (absolute paths), for rerun-if-changed.
    pub inputs: Vec<PathBuf>,
    /// Bare module specifiers (`react`) left as written, for an import map.
    pub bare_imports: std::collections::BTreeSet<String>,
    pub stats: Stats,
    /// Logical names whose output differs from the previous release's (a
    /// session build only).
    pub changed: Vec<String>,
    /// Files of the previous release removed after the manifest was
    /// replaced (a session build only), relative to the out dir.
    pub removed: Vec<String>,
}

impl BuildOutput {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// 0 success, 1 build errors, 2 configuration or I/O failure.
    pub fn exit_code(&self) -> u8 {
        exit_code(&self.diagnostics)
    }
}

/// 0 success, 1 build errors, 2 configuration or I/O failure.
pub fn exit_code(diags: &[Diagnostic]) -> u8 {
    let errors = || diags.iter().filter(|d| d.is_error());
    if errors().any(|d| matches!(d.category, Category::Config | Category::Io)) {
        2
    } else {
        u8::from(errors().next().is_some())
    }
}

/// What a long-lived process (`prebake watch`) keeps from one build to the
/// next, so a rebuild compiles only what changed. Every build still walks
/// the tree, reads and hashes every file, resolves every import and links
/// the whole graph: what it skips is compiling a file whose bytes it has
/// compiled before (parse, transform and analysis, or the whole per-file
/// compile). Results are keyed by path and the SHA-256 of the bytes, under
/// settings that are fixed for a session: a config change needs a new one.
///
/// A build in a session also removes the previous release's files once its
/// manifest is in place (see [`output::remove_superseded`]).
#[derive(Default)]
pub struct Session {
    files: Mutex<std::collections::HashMap<PathBuf, CachedFile>>,
    /// Finished outputs by logical name: the key they were made under,
    /// the output and its integrity.
    finished: Mutex<std::collections::HashMap<String, Memo>>,
    /// Files read before, by metadata: their digest without a read.
    stamps: Mutex<std::collections::HashMap<PathBuf, (crate::bundle::Stamp, [u8; 32])>>,
    bundle: crate::bundle::Cache,
    /// The cache of the bundle of pages' classic scripts (IIFE), which
    /// loads and emits the same files under another format.
    classic_bundle: crate::bundle::Cache,
    /// Held while a release is written and pruned. A signal handler takes
    /// it before exiting, so the process never stops halfway through a
    /// publish (anything before it writes nothing).
    pub publishing: Mutex<()>,
}

/// A finished output, the key it was made under, and its integrity.
type Memo = ([u8; 32], Finished, String);

struct CachedFile {
    digest: [u8; 32],
    logical: String,
    kind: Kind,
    /// The options its tsconfig.json gave ([`JsOptions::file_key`]).
    variant: u64,
    compiled: Compiled,
}

impl Session {
    /// The compiled result of `src` with these bytes, if it is still what
    /// a compile would give: for a stylesheet, every file it `@import`s
    /// (read by lightningcss) must still read the same.
    fn reusable(&self, src: &Source, digest: &[u8; 32], variant: u64) -> Option<Compiled> {
        let hit = {
            let files = self.files.lock().ok()?;
            let c = files.get(&src.path)?;
            (c.digest == *digest
                && c.logical == src.logical
                && c.kind == src.kind
                && c.variant == variant)
                .then(|| c.compiled.clone())?
        };
        if src.kind != Kind::Css {
            return Some(hit);
        }
        let inputs = hit.0.as_ref().map_or(&[][..], |o| &o.inputs[..]);
        let current = |(path, d): &(PathBuf, [u8; 32])| self.digest(path).as_ref() == Some(d);
        (!inputs.is_empty() && inputs.iter().all(current)).then_some(hit)
    }

    fn finished(&self, logical: &str, key: &[u8; 32]) -> Option<(Finished, String)> {
        let memo = self.finished.lock().ok()?;
        let (k, done, integrity) = memo.get(logical)?;
        (k == key).then(|| (done.clone(), integrity.clone()))
    }

    fn keep_finished(&self, logical: &str, key: [u8; 32], done: &Finished, integrity: &str) {
        if let Ok(mut memo) = self.finished.lock() {
            memo.insert(
                logical.to_string(),
                (key, done.clone(), integrity.to_string()),
            );
        }
    }

    /// The SHA-256 of `path` now, and its bytes when they had to be read:
    /// a file whose metadata matches the stamp recorded with its digest is
    /// not opened (see `bundle::Stamp`).
    fn read(&self, path: &Path) -> std::io::Result<([u8; 32], Option<Vec<u8>>)> {
        let stamp = crate::bundle::Stamp::of(path);
        if let Some(now) = stamp
            && let Ok(stamps) = self.stamps.lock()
            && let Some((recorded, digest)) = stamps.get(path)
            && *recorded == now
        {
            return Ok((*digest, None));
        }
        let bytes = std::fs::read(path)?;
        let digest: [u8; 32] = sha2::Sha256::digest(&bytes).into();
        if let (Some(stamp), Ok(mut stamps)) = (stamp, self.stamps.lock()) {
            stamps.insert(path.to_path_buf(), (stamp, digest));
        }
        Ok((digest, Some(bytes)))
    }

    /// The SHA-256 of `path` now.
    fn digest(&self, path: &Path) -> Option<[u8; 32]> {
        self.read(path).ok().map(|(d, _)| d)
    }

    fn store(&self, src: &Source, digest: [u8; 32], variant: u64, compiled: &Compiled) {
        if let Ok(mut files) = self.files.lock() {
            files.insert(
                src.path.clone(),
                CachedFile {
                    digest,
                    logical: src.logical.clone(),
                    kind: src.kind,
                    variant,
                    compiled: compiled.clone(),
                },
            );
        }
    }

    /// Forgets where imports led (files were added, removed or renamed).
    pub fn invalidate_resolution(&self) {
        self.bundle.invalidate_resolution();
        self.classic_bundle.invalidate_resolution();
    }

    /// Forgets everything compiled (the settings changed).
    pub fn clear(&self) {
        if let Ok(mut files) = self.files.lock() {
            files.clear();
        }
        if let Ok(mut stamps) = self.stamps.lock() {
            stamps.clear();
        }
        if let Ok(mut memo) = self.finished.lock() {
            memo.clear();
        }
        self.bundle.clear();
        self.classic_bundle.clear();
    }

    /// Forgets files that are no longer sources.
    fn keep_only(&self, sources: &[Source]) {
        let live: std::collections::HashSet<&Path> =
            sources.iter().map(|s| s.path.as_path()).collect();
        if let Ok(mut files) = self.files.lock() {
            files.retain(|p, _| live.contains(p.as_path()));
        }
        if let Ok(mut stamps) = self.stamps.lock() {
            stamps.retain(|p, _| live.contains(p.as_path()));
        }
    }
}

/// Runs a build. See [`build_with`] for progress events.
pub fn build(opts: &Options) -> BuildOutput {
    build_with(opts, &|_| {})
}

/// Runs a build, reporting progress through `on_event`.
pub fn build_with(opts: &Options, on_event: &(dyn Fn(Event<'_>) + Sync)) -> BuildOutput {
    match opts.resolve() {
        Ok(cfg) => build_config(&cfg, None, on_event),
        Err(diagnostics) => BuildOutput {
            diagnostics,
            ..BuildOutput::default()
        },
    }
}

/// Runs a build of a resolved configuration, in a session when one is
/// given (`prebake watch`).
pub fn build_config(
    cfg: &Config,
    session: Option<&Session>,
    on_event: &(dyn Fn(Event<'_>) + Sync),
) -> BuildOutput {
    let started = Instant::now();
    let mut out = BuildOutput::default();
    run(cfg, session, &mut out, on_event);
    // Several files can report one problem (an @import cycle); say it once.
    let mut seen = std::collections::BTreeSet::new();
    out.diagnostics
        .retain(|d| seen.insert((d.code, d.message.clone(), d.position())));
    out.stats.millis = started.elapsed().as_millis();
    out
}

fn run(
    cfg: &Config,
    session: Option<&Session>,
    out: &mut BuildOutput,
    on_event: &(dyn Fn(Event<'_>) + Sync),
) {
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .stack_size(STACK_SIZE)
        .thread_name(|i| format!("prebake-{i}"))
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            out.diagnostics.push(Diagnostic::error(
                "IO",
                Category::Io,
                format!("cannot start worker threads: {e}"),
            ));
            return;
        }
    };

    let lock = match output::lock(cfg, &mut |dir| on_event(Event::WaitingForLock { out: dir })) {
        Ok(l) => l,
        Err(d) => {
            out.diagnostics.push(d);
            return;
        }
    };

    let mut timings = crate::bundle::Timings::new();
    // Discovery and naming problems do not stop the compile: every error of
    // the build is reported at once. Nothing is written if there are any.
    let (mut sources, problems) = discover::discover(cfg);
    timings.lap("discover");
    out.diagnostics.extend(cfg.warnings.iter().cloned());
    out.diagnostics.extend(problems);
    out.inputs = sources.iter().map(|s| s.path.clone()).collect();

    let maps = cfg.sourcemap != SourceMaps::None;
    let js_opts = JsOptions::from_config(cfg);
    // Where imports lead, package.json files and tsconfig.json files, as
    // far as this build (or this session, until files move) learns them.
    let resolution = match session {
        Some(s) => s.bundle.resolution(cfg.project_dir()),
        None => Arc::new(crate::bundle::Resolution::new(cfg.project_dir())),
    };
    let css_opts = CssOptions {
        minify: cfg.minify,
        targets: cfg.targets,
        error_recovery: cfg.css_error_recovery,
        source_map: maps,
    };
    install_panic_hook();
    let known: std::collections::BTreeSet<String> =
        sources.iter().map(|s| s.logical.clone()).collect();
    let display = |p: &Path| cfg.display_path(p);
    let css_scope = CssScope {
        root: &cfg.root,
        known: &known,
        display: &display,
    };
    // Pages: what they load makes entry points (module scripts, classic
    // scripts written as modules), per-file classic scripts and package
    // files.
    let plan = crate::pages::plan(cfg, &sources, &resolution.modules);
    out.diagnostics.extend(plan.errors.iter().cloned());
    add_sources(
        &mut sources,
        &mut out.inputs,
        plan.package_sources.iter().cloned(),
    );
    // Bundling: entries and the modules they reach become chunks, which
    // stand in for those sources from here on.
    let stage = Stage {
        js_opts: &js_opts,
        css_opts: &css_opts,
        css_scope: &css_scope,
        known: &known,
        session,
        resolution: &resolution,
    };
    let bundled = pool.install(|| bundle_all(cfg, &sources, &plan, &stage));
    out.diagnostics.extend(bundled.diagnostics);
    // Modules outside the sources too: packages, in or out of the root.
    out.inputs.extend(bundled.taken.iter().cloned());
    let taken = &bundled.taken;
    let any_entries = bundled.entries > 0;
    // With entries, JS is built only through them, as with esbuild or
    // Vite: a file no entry reaches may import what the bundle took in,
    // which is no file of its own. Classic scripts of pages are built on
    // their own; so are the modules of pages with an import map.
    sources.retain(|s| {
        let is_taken =
            taken.contains(&s.path) || s.path.canonicalize().is_ok_and(|c| taken.contains(&c));
        match s.kind {
            Kind::Html => true,
            _ if is_taken => false,
            Kind::Js(_) => {
                !any_entries
                    || !plan.import_map_pages.is_empty()
                    || plan.classic_files.contains(&s.logical)
            }
            _ => true,
        }
    });
    let mut chunks = bundled.chunks;
    let bundle_tags = bundled.tags;
    let failed_entries = bundled.failed;
    add_sources(&mut sources, &mut out.inputs, bundled.package_files);
    // Stylesheets of packages that pages link, compiled within their
    // package (as a bundle compiles those it imports).
    for (logical, path) in &plan.package_styles {
        match crate::bundle::package_style(cfg, logical, path, &css_opts) {
            Ok((chunk, files)) => {
                out.inputs.push(path.clone());
                add_sources(&mut sources, &mut out.inputs, files);
                chunks.push(chunk);
            }
            Err(d) => out.diagnostics.extend(d),
        }
    }
    // What each page's entry scripts load besides themselves: module
    // preloads and stylesheets, which the page gets as tags.
    let injections = page_injections(&plan, &chunks);
    timings.lap("bundle");
    let real_sources = sources.len();
    for c in &chunks {
        sources.push(Source {
            logical: c.logical.clone(),
            path: cfg.root.join(&c.logical),
            kind: if c.css {
                Kind::Css
            } else {
                Kind::Js(discover::JsKind::Js)
            },
        });
    }
    out.diagnostics
        .extend(fingerprint::check_collisions(cfg, &sources));

    // Files being compiled, with their start times, for the slow-file watch.
    let running: Mutex<BTreeMap<usize, (String, Instant)>> = Mutex::new(BTreeMap::new());
    let finished = AtomicBool::new(false);
    let compiled: Vec<Compiled> = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| watch_slow_files(&running, &finished, on_event));
        let compiled = pool.install(|| {
            sources[..real_sources]
                .par_iter()
                .enumerate()
                .map(|(i, src)| {
                    if let Ok(mut r) = running.lock() {
                        r.insert(i, (cfg.display_path(&src.path), Instant::now()));
                    }
                    let inject = injections.get(&src.logical).map_or(&[][..], Vec::as_slice);
                    let result = compile_one(cfg, src, &stage, inject);
                    if let Ok(mut r) = running.lock() {
                        r.remove(&i);
                    }
                    result
                })
                .collect()
        });
        finished.store(true, Ordering::Release);
        // Wake the watcher now rather than at its next tick, so a build
        // never waits on it.
        watcher.thread().unpark();
        compiled
    });

    timings.lap("compile");
    // The tsconfig.json files read (and those they extend) are inputs too.
    out.inputs.extend(resolution.tsconfigs.files());
    if let Some(s) = session {
        s.keep_only(&sources[..real_sources]);
    }
    out.inputs.sort();
    out.inputs.dedup();
    let mut outputs: Vec<Option<Output>> = Vec::with_capacity(sources.len());
    for (result, warnings) in compiled {
        out.diagnostics.extend(warnings);
        match result {
            Ok(o) => outputs.push(Some(o)),
            Err(diags) => {
                out.diagnostics.extend(diags);
                outputs.push(None);
            }
        }
    }
    let mut chunk_links = Vec::with_capacity(chunks.len());
    let mut chunk_meta: Vec<ChunkMeta> = Vec::with_capacity(chunks.len());
    for c in chunks {
        out.diagnostics.extend(c.warnings);
        chunk_links.push(c.links);
        chunk_meta.push(ChunkMeta {
            imports: c.imports,
            dynamic_imports: c.dynamic_imports,
            css: c.stylesheets,
            assets: c.assets,
        });
        outputs.push(Some(Output {
            bytes: c.code.into_bytes(),
            refs: c.refs,
            source: None,
            bare: Vec::new(),
            map: c.map,
            inputs: Vec::new(),
            identity: c.identity,
        }));
    }
    let mut links = resolve_references(
        cfg,
        &sources,
        &outputs,
        &Known {
            targets: &plan.targets,
            failed: &failed_entries,
        },
        &mut out.diagnostics,
    );
    let by_path: std::collections::HashMap<PathBuf, usize> = sources[..real_sources]
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            let canonical = s.path.canonicalize().ok();
            std::iter::once((s.path.clone(), i)).chain(canonical.map(|c| (c, i)))
        })
        .collect();
    for (k, list) in chunk_links.into_iter().enumerate() {
        let i = real_sources + k;
        for (placeholder, link) in list {
            let to = match link {
                crate::bundle::ChunkLink::Chunk(c) => Link::To(real_sources + c, String::new()),
                crate::bundle::ChunkLink::CssChunk(c) => Link::Base(real_sources + c),
                crate::bundle::ChunkLink::EntryCss(_) => continue,
                crate::bundle::ChunkLink::Asset { path, base } => match by_path.get(&path) {
                    Some(&j) if base => Link::Base(j),
                    Some(&j) => Link::To(j, String::new()),
                    None => {
                        out.diagnostics.push(
                            Diagnostic::error(
                                "ASSET_OUTSIDE_ROOT",
                                Category::Input,
                                format!(
                                    "{} is imported as an asset but is not a file of the root",
                                    cfg.display_path(&path)
                                ),
                            )
                            .with_file(cfg.display_path(&path))
                            .with_help("copy the file into the root, or include it"),
                        );
                        continue;
                    }
                },
            };
            links[i].push((placeholder, to));
        }
    }
    let asset_logical = |p: &Path| by_path.get(p).map(|&j| sources[j].logical.clone());
    if out.has_errors() {
        return;
    }
    for (src, o) in sources.iter().zip(&outputs) {
        let Some(o) = o else { continue };
        out.bare_imports
            .extend(o.bare.iter().map(|r| r.url.clone()));
        let text = o.source.clone().unwrap_or_else(|| Arc::from(""));
        let at = |r: &Reference, what: &str| {
            crate::diagnostics::Label::at_line_col_utf16(
                cfg.display_path(&src.path),
                text.clone(),
                r.line,
                r.column,
            )
            .with_text(what)
        };
        if cfg.strict {
            for r in &o.bare {
                out.diagnostics.push(
                    Diagnostic::error(
                        "BARE_IMPORT",
                        Category::Input,
                        format!("`{}` is a bare import, which per-file builds leave to an import map", r.url),
                    )
                    .with_label(at(r, "bare specifier"))
                    .with_help("bundle this entry (declare it in `entries`), or drop --strict and provide an import map"),
                );
            }
        } else if !plan.import_map_pages.is_empty() {
            // Modules of pages with import maps resolve bare imports at
            // run time: one that no map names cannot load.
            for r in o.bare.iter().filter(|r| !plan.mapped(&r.url)) {
                out.diagnostics.push(
                    Diagnostic::warning(
                        "BARE_UNMAPPED",
                        Category::Input,
                        format!(
                            "`{}` is a bare import that no page's import map names: the browser cannot load it",
                            r.url
                        ),
                    )
                    .with_label(at(r, "no import map maps this"))
                    .with_help(format!(
                        "add `\"{}\"` to the import map, or remove the import map so the page's module scripts are bundled",
                        r.url
                    )),
                );
            }
        }
    }
    if out.has_errors() {
        return;
    }

    // Fingerprint in dependency order: a file's references are rewritten to
    // the final names of their targets before the file itself is hashed, so
    // its name is the hash of its final bytes and covers everything it
    // points at (a new image renames every stylesheet that reaches it, and
    // nothing else). Files in an import cycle cannot each contain the
    // others' final names and be named by their own final bytes; they are
    // named by the hash of the whole cycle (every member's bytes with
    // placeholders, and the final names of what the cycle points out to),
    // so one name still never stands for two contents.
    let source_urls = SourceUrls::new(
        cfg.config_file
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(&cfg.cwd),
        &cfg.root,
        &cfg.out,
    );
    let mut finished: Vec<Option<Finished>> = (0..sources.len()).map(|_| None).collect();
    // Pages keep their names; everything else is named once its bytes are
    // final.
    let mut names: Vec<String> = sources
        .iter()
        .map(|s| {
            if s.kind == Kind::Html {
                s.logical.clone()
            } else {
                String::new()
            }
        })
        .collect();
    // Integrity of each finished output, for the pages that load it.
    let mut integrities: Vec<Option<String>> = vec![None; sources.len()];
    let mut in_cycle = vec![false; sources.len()];
    for component in strongly_connected(&links) {
        let cyclic = component.len() > 1
            || links[component[0]]
                .iter()
                .any(|(_, l)| l.target() == Some(component[0]));
        if cyclic {
            let mut h = sha2::Sha256::new();
            for &i in &component {
                h.update(sources[i].logical.as_bytes());
                h.update([0]);
                let bytes = outputs[i].as_ref().map_or(&[][..], |o| &o.bytes);
                if i >= real_sources && !bundle_tags.is_empty() {
                    // A chunk's placeholders carry its bundle's tag, which a
                    // watch session keeps while a clean build derives it
                    // from the sources: it must not reach the name.
                    let mut text = String::from_utf8_lossy(bytes).into_owned();
                    for tag in &bundle_tags {
                        text = text.replace(tag.as_str(), "");
                    }
                    h.update(text.as_bytes());
                } else {
                    h.update(bytes);
                }
                h.update([0]);
                // The map is not in the bytes (hidden maps are not even
                // named there), yet it is part of what the name stands for.
                if let Some(map) = outputs[i].as_ref().and_then(|o| o.map.as_ref()) {
                    h.update(map.to_json(&|l| l.to_string(), cfg.sources_content));
                    h.update([0]);
                }
                for (_, link) in &links[i] {
                    if let Some(j) = link.target()
                        && !component.contains(&j)
                    {
                        let suffix = match link {
                            Link::To(_, s) => s.as_str(),
                            _ => "",
                        };
                        h.update(names[j].as_bytes());
                        h.update(suffix.as_bytes());
                        h.update([0]);
                    }
                }
            }
            let cycle_hash = fingerprint::hex(&h.finalize());
            for &i in component.iter().filter(|&&i| sources[i].kind != Kind::Html) {
                let own = fingerprint::sha256_hex(
                    format!("{}\0{cycle_hash}", sources[i].logical).as_bytes(),
                );
                names[i] = fingerprint::output_name(cfg, &sources[i], &own[..cfg.hash_length]);
                in_cycle[i] = true;
            }
        }
        // Pages last: they carry the integrity of what they load.
        let mut order = component.clone();
        order.sort_by_key(|&i| sources[i].kind == Kind::Html);
        for i in order {
            let Some(o) = outputs[i].take() else { continue };
            // A session reuses a finished output made from the same things
            // and linking to the same names (not in a cycle, whose names
            // depend on each other).
            let memo = session
                .filter(|_| !cyclic)
                .zip(o.identity)
                .map(|(_, id)| memo_key(&id, &links[i], &names, &integrities));
            let reused = session
                .zip(memo.as_ref())
                .and_then(|(s, k)| s.finished(&sources[i].logical, k));
            if let Some((done, integrity)) = reused.clone()
                && !check_cache()
            {
                names[i].clone_from(&done.file);
                integrities[i] = Some(integrity);
                finished[i] = Some(done);
                continue;
            }
            let (bytes, map) = match rewrite(
                cfg,
                &sources[i],
                o.bytes,
                o.map,
                &links[i],
                &names,
                &integrities,
            ) {
                Ok(r) => r,
                Err(d) => {
                    out.diagnostics.push(d);
                    continue;
                }
            };
            let (bytes, map) = attach_map(cfg, &sources[i], bytes, map, &source_urls);
            integrities[i] = Some(fingerprint::integrity(cfg.sri, &bytes));
            if !cyclic && sources[i].kind != Kind::Html {
                let hash = fingerprint::sha256_hex(&bytes);
                names[i] = fingerprint::output_name(cfg, &sources[i], &hash[..cfg.hash_length]);
            }
            let done = Finished {
                file: names[i].clone(),
                bytes,
                map,
            };
            if let Some((old, _)) = &reused
                && old != &done
            {
                out.diagnostics.push(Diagnostic::error(
                    "INTERNAL",
                    Category::Internal,
                    format!(
                        "{}: a reused output differs from a fresh one",
                        sources[i].logical
                    ),
                ));
            }
            if let (Some(s), Some(k), Some(integrity)) = (session, memo, &integrities[i]) {
                s.keep_finished(&sources[i].logical, k, &done, integrity);
            }
            finished[i] = Some(done);
        }
    }
    if out.has_errors() {
        return;
    }

    timings.lap("fingerprint");
    let mut assets = Vec::with_capacity(sources.len());
    let mut bytes_of = Vec::with_capacity(sources.len());
    let mut map_files = Vec::new();
    for (i, (src, slot)) in sources.iter().zip(finished).enumerate() {
        let Some(Finished { file, bytes, map }) = slot else {
            continue;
        };
        let meta = i.checked_sub(real_sources).and_then(|k| chunk_meta.get(k));
        let chunk_names = |list: &[usize]| -> Vec<String> {
            list.iter()
                .map(|&c| sources[real_sources + c].logical.clone())
                .collect()
        };
        let entry = Entry {
            imports: meta.map(|m| chunk_names(&m.imports)).unwrap_or_default(),
            dynamic_imports: meta
                .map(|m| chunk_names(&m.dynamic_imports))
                .unwrap_or_default(),
            css: meta.map(|m| chunk_names(&m.css)).unwrap_or_default(),
            assets: meta
                .map(|m| m.assets.iter().filter_map(|p| asset_logical(p)).collect())
                .unwrap_or_default(),
            cycle: in_cycle[i] && src.kind != Kind::Html,
            immutable: src.kind != Kind::Html,
            map: map.as_ref().map(|(name, _)| name.clone()),
            content_type: fingerprint::mime_type(&file),
            integrity: integrities[i]
                .take()
                .unwrap_or_else(|| fingerprint::integrity(cfg.sri, &bytes)),
            size: bytes.len() as u64,
            file: file.clone(),
        };
        match src.kind {
            Kind::Js(_) => out.stats.js += 1,
            Kind::Css => out.stats.css += 1,
            Kind::Html => out.stats.html += 1,
            Kind::Static => out.stats.other += 1,
        }
        assets.push(Asset {
            logical: src.logical.clone(),
            file,
            kind: src.kind,
            entry,
        });
        bytes_of.push(bytes);
        map_files.extend(map);
    }

    let mut manifest = Manifest::new(cfg.base.clone());
    for a in &assets {
        manifest.assets.insert(a.logical.clone(), a.entry.clone());
    }
    let json = manifest.to_json();
    let files: Vec<OutFile<'_>> = assets
        .iter()
        .zip(&bytes_of)
        .map(|(a, b)| OutFile {
            rel: &a.file,
            bytes: b,
            stable: !a.entry.immutable,
        })
        .chain(map_files.iter().map(|(name, json)| OutFile {
            rel: name,
            bytes: json,
            stable: false,
        }))
        .collect();
    // A session replaces the previous release: the manifest on disk now.
    let publishing = session.map(|s| s.publishing.lock());
    let previous = session.and_then(|_| {
        std::fs::read(cfg.out.join(&cfg.manifest))
            .ok()
            .and_then(|b| Manifest::from_json(&String::from_utf8_lossy(&b)).ok())
    });
    let written = pool.install(|| output::write_release(cfg, &lock, &files, json.as_bytes()));
    if written.is_ok() && session.is_some() {
        out.changed = manifest
            .assets
            .iter()
            .filter(|(k, e)| {
                previous
                    .as_ref()
                    .and_then(|p| p.assets.get(*k))
                    .is_none_or(|old| old.file != e.file || old.map != e.map)
            })
            .map(|(k, _)| k.clone())
            .collect();
        if let Some(old) = &previous {
            out.removed = output::remove_superseded(cfg, &lock, old, &manifest);
        }
    }
    drop(publishing);
    drop(lock);
    timings.lap("write");
    match written {
        Ok(stats) => {
            out.stats.written = stats.written;
            out.stats.reused = stats.reused;
            out.manifest_path = Some(cfg.out.join(&cfg.manifest));
            out.manifest = Manifest::from_json(&json).ok();
            out.assets = assets;
        }
        Err(diags) => out.diagnostics.extend(diags),
    }
}

/// Where a placeholder goes.
enum Link {
    /// An external URL, written back as it was.
    Keep(String),
    /// Source `j`'s output, plus the query and fragment to keep.
    To(usize, String),
    /// Source `j`'s output as base + name, whatever the URL style (an
    /// asset URL that JS hands to the page).
    Base(usize),
}

impl Link {
    fn target(&self) -> Option<usize> {
        match self {
            Link::To(j, _) | Link::Base(j) => Some(*j),
            Link::Keep(_) => None,
        }
    }
}

/// What reference resolution knows besides the sources.
struct Known<'a> {
    /// References pages wrote into packages: (page, URL) → logical name
    /// and suffix.
    targets: &'a BTreeMap<(String, String), (String, String)>,
    /// Entries whose bundle failed (already reported).
    failed: &'a std::collections::BTreeSet<String>,
}

/// Resolves every reference of every output; one error per bad reference.
fn resolve_references(
    cfg: &Config,
    sources: &[Source],
    outputs: &[Option<Output>],
    known: &Known<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Vec<(String, Link)>> {
    let index: BTreeMap<&str, usize> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.logical.as_str(), i))
        .collect();
    let root_shown = cfg.display_path(&cfg.root);
    sources
        .iter()
        .zip(outputs)
        .map(|(src, o)| {
            let Some(o) = o else { return Vec::new() };
            o.refs
                .iter()
                .filter_map(|r| {
                    let exists = |l: &str| index.contains_key(l);
                    let package = known
                        .targets
                        .get(&(r.from.clone(), r.url.clone()))
                        .filter(|_| src.kind == Kind::Html);
                    let resolved = match (package, src.kind) {
                        (Some((logical, suffix)), _) if exists(logical) => Ok(Target::Local {
                            logical: logical.clone(),
                            suffix: suffix.clone(),
                        }),
                        (Some((logical, _)), _) => {
                            Err(refs::ResolveError::Missing(logical.clone()))
                        }
                        (None, Kind::Js(_)) => refs::resolve_module(&r.url, &r.from, &exists),
                        (None, _) => refs::resolve(&r.url, &r.from, &exists),
                    };
                    match resolved {
                        Ok(Target::External) => {
                            Some((r.placeholder.clone(), Link::Keep(r.url.clone())))
                        }
                        Ok(Target::Local { logical, suffix }) => {
                            let j = index.get(logical.as_str()).copied()?;
                            Some((r.placeholder.clone(), Link::To(j, suffix)))
                        }
                        // The bundle that would have made it failed, and
                        // said why.
                        Err(refs::ResolveError::Missing(l)) if known.failed.contains(&l) => None,
                        Err(e) => {
                            // Written in this file, or in one it inlined.
                            let (shown, text) = if r.from == src.logical {
                                let text = o.source.clone().unwrap_or_else(|| Arc::from(""));
                                (cfg.display_path(&src.path), text)
                            } else {
                                let path = cfg.root.join(&r.from);
                                let text: Arc<str> = std::fs::read_to_string(&path)
                                    .map_or_else(|_| Arc::from(""), Arc::from);
                                (cfg.display_path(&path), text)
                            };
                            diagnostics.push(e.diagnostic(r, &shown, &text, &root_shown));
                            None
                        }
                    }
                })
                .collect()
        })
        .collect()
}

/// Replaces the placeholders of one output with the final URLs of their
/// targets (`names`), relative to the output's own location.
fn rewrite(
    cfg: &Config,
    src: &Source,
    bytes: Vec<u8>,
    mut map: Option<Map>,
    links: &[(String, Link)],
    names: &[String],
    integrities: &[Option<String>],
) -> Result<(Vec<u8>, Option<Map>), Diagnostic> {
    if links.is_empty() {
        return Ok((bytes, map));
    }
    // [hash] is in the file name, so any hash gives the right directory.
    let own = fingerprint::output_name(cfg, src, "0");
    let replacements: Vec<(String, String)> = links
        .iter()
        .map(|(placeholder, target)| {
            let url = match target {
                Link::Keep(url) => url.clone(),
                Link::Base(j) => format!("{}{}", cfg.base, refs::relative_url("", &names[*j])),
                Link::To(j, suffix) => match cfg.urls {
                    UrlStyle::Relative => {
                        format!("{}{suffix}", refs::relative_url(&own, &names[*j]))
                    }
                    UrlStyle::Base => {
                        format!("{}{}{suffix}", cfg.base, refs::relative_url("", &names[*j]))
                    }
                },
            };
            (placeholder.clone(), url)
        })
        .collect();
    let text = String::from_utf8_lossy(&bytes);
    if src.kind == Kind::Html {
        let with_integrity: Vec<(String, String, Option<String>)> = replacements
            .into_iter()
            .zip(links)
            .map(|((placeholder, url), (_, link))| {
                let integrity = link.target().and_then(|j| integrities[j].clone());
                (placeholder, url, integrity)
            })
            .collect();
        return match html::substitute(&text, &with_integrity) {
            Ok(page) => Ok((page.into_bytes(), map)),
            Err(message) => Err(Diagnostic::error("PAGE_INTEGRITY", Category::Input, message)
                .with_file(cfg.display_source(&src.logical))
                .with_help("load pages with <a> or <iframe>, not as a script, stylesheet or module preload")),
        };
    }
    let (text, edits) = match src.kind {
        Kind::Js(_) => js::substitute(&text, &replacements),
        _ => css::substitute(&text, &replacements),
    };
    if matches!(src.kind, Kind::Js(_))
        && let Some(p) = js::unreplaced(&text, replacements.iter().map(|(p, _)| p.as_str()))
    {
        return Err(Diagnostic::error(
            "INTERNAL",
            Category::Internal,
            format!(
                "a reference in the output of {} could not be rewritten ({p})",
                src.logical
            ),
        )
        .with_file(cfg.display_source(&src.logical))
        .with_help("this is a bug; please report it with the file that triggers it"));
    }
    if let Some(map) = &mut map {
        map.apply(&edits);
    }
    Ok((text.into_bytes(), map))
}

/// What a finished output depends on besides its identity: the name (and,
/// for pages, the integrity) each of its placeholders becomes.
fn memo_key(
    identity: &[u8; 32],
    links: &[(String, Link)],
    names: &[String],
    integrities: &[Option<String>],
) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    h.update(identity);
    for (placeholder, link) in links {
        h.update(placeholder.as_bytes());
        h.update([0]);
        match link {
            Link::Keep(url) => h.update(url.as_bytes()),
            Link::To(j, suffix) => {
                h.update(names[*j].as_bytes());
                h.update([1]);
                h.update(suffix.as_bytes());
            }
            Link::Base(j) => h.update(names[*j].as_bytes()),
        }
        h.update([0]);
        if let Some(j) = link.target() {
            h.update(integrities[j].as_deref().unwrap_or("").as_bytes());
        }
        h.update([0]);
    }
    h.finalize().into()
}

/// `PREBAKE_CHECK_CACHE=1`: whatever a session would reuse is made again
/// and compared (the watch tests run with it).
pub(crate) fn check_cache() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("PREBAKE_CHECK_CACHE").is_some())
}

/// What the manifest says of a chunk: indices of chunks, and asset paths.
struct ChunkMeta {
    imports: Vec<usize>,
    dynamic_imports: Vec<usize>,
    css: Vec<usize>,
    assets: Vec<PathBuf>,
}

/// Finds the named entries among the sources and bundles them.
fn bundle_entries(
    cfg: &Config,
    sources: &[Source],
    names: &[String],
    stage: &Stage<'_>,
    known: &std::collections::BTreeSet<String>,
    cache: Option<&crate::bundle::Cache>,
) -> Result<crate::bundle::Bundle, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut entries = Vec::new();
    for e in names {
        match sources.iter().find(|s| s.logical == *e) {
            Some(s) if matches!(s.kind, Kind::Js(_)) => entries.push(s),
            Some(_) => errors.push(
                Diagnostic::error(
                    "ENTRY_KIND",
                    Category::Config,
                    format!("entry `{e}` is not a JavaScript or TypeScript file"),
                )
                .with_help("entries are JS/TS modules; stylesheets are imported from them or built on their own"),
            ),
            None => errors.push(
                Diagnostic::error(
                    "ENTRY_NOT_FOUND",
                    Category::Config,
                    format!("entry `{e}` is not a file of the root {}", cfg.display_path(&cfg.root)),
                )
                .with_help("entries are paths relative to the root (`app.ts` for <root>/app.ts), and must not be excluded"),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let known: std::collections::BTreeSet<String> = known
        .iter()
        .filter(|l| !names.contains(l))
        .cloned()
        .collect();
    crate::bundle::bundle(
        cfg,
        &entries,
        stage.js_opts,
        stage.css_opts,
        stage.css_scope,
        &known,
        cache,
        stage.resolution,
    )
}

/// The settings and shared state the bundling and compile stages read.
struct Stage<'a> {
    js_opts: &'a JsOptions,
    css_opts: &'a CssOptions,
    css_scope: &'a CssScope<'a>,
    known: &'a std::collections::BTreeSet<String>,
    session: Option<&'a Session>,
    resolution: &'a crate::bundle::Resolution,
}

/// Adds `more` to the sources (and their paths to the build's inputs),
/// but for logical names the build has already.
fn add_sources(
    sources: &mut Vec<Source>,
    inputs: &mut Vec<PathBuf>,
    more: impl IntoIterator<Item = Source>,
) {
    let mut have: std::collections::BTreeSet<String> =
        sources.iter().map(|s| s.logical.clone()).collect();
    for s in more {
        if have.insert(s.logical.clone()) {
            inputs.push(s.path.clone());
            sources.push(s);
        }
    }
}

/// What bundling gives the rest of the build.
#[derive(Default)]
struct Bundled {
    /// Every bundle's chunks, their indices made global.
    chunks: Vec<crate::bundle::Chunk>,
    /// Each bundle's placeholder tag.
    tags: Vec<String>,
    /// Modules the bundles took in (absolute paths).
    taken: std::collections::BTreeSet<PathBuf>,
    package_files: Vec<Source>,
    /// Entry points bundled (or tried).
    entries: usize,
    /// Entries of bundles that failed: references to them are not
    /// reported as missing too.
    failed: std::collections::BTreeSet<String>,
    diagnostics: Vec<Diagnostic>,
}

/// Bundles the declared entries and the module scripts of pages as ES
/// modules (or the configured format), and the classic scripts of pages
/// written as modules into one classic script each (IIFE).
fn bundle_all(
    cfg: &Config,
    sources: &[Source],
    plan: &crate::pages::PagePlan,
    stage: &Stage<'_>,
) -> Bundled {
    let classic: std::collections::BTreeSet<&String> = plan
        .classic_files
        .iter()
        .chain(&plan.classic_entries)
        .collect();
    // Declared entries a page loads as classic scripts are built as it
    // loads them.
    let mut modules: Vec<String> = cfg
        .entries
        .iter()
        .filter(|e| !classic.contains(e))
        .cloned()
        .collect();
    for e in &plan.module_entries {
        if !modules.contains(e) {
            modules.push(e.clone());
        }
    }
    let mut classics: Vec<String> = plan.classic_entries.clone();
    if cfg.format == crate::config::BundleFormat::Iife {
        for e in classics.drain(..) {
            if !modules.contains(&e) {
                modules.push(e);
            }
        }
    }
    let iife = Config {
        format: crate::config::BundleFormat::Iife,
        global_name: None,
        ..cfg.clone()
    };
    let mut out = Bundled {
        entries: modules.len() + classics.len(),
        ..Bundled::default()
    };
    let mut known = stage.known.clone();
    let jobs: [(&Config, &[String], Option<&crate::bundle::Cache>); 2] = [
        (cfg, &modules, stage.session.map(|s| &s.bundle)),
        (&iife, &classics, stage.session.map(|s| &s.classic_bundle)),
    ];
    for (c, names, cache) in jobs {
        if names.is_empty() {
            continue;
        }
        match bundle_entries(c, sources, names, stage, &known, cache) {
            Ok(mut b) => {
                let offset = out.chunks.len();
                for chunk in &mut b.chunks {
                    offset_chunk(chunk, offset);
                    known.insert(chunk.logical.clone());
                }
                out.chunks.extend(b.chunks);
                out.tags.push(b.tag);
                out.taken.extend(b.modules);
                out.package_files.extend(b.package_files);
                out.diagnostics.extend(b.warnings);
            }
            Err(d) => {
                out.diagnostics.extend(d);
                out.failed.extend(names.iter().cloned());
            }
        }
    }
    out
}

/// Moves a chunk's references to other chunks of its bundle by `offset`,
/// where its bundle's chunks start among all chunks.
fn offset_chunk(chunk: &mut crate::bundle::Chunk, offset: usize) {
    use crate::bundle::ChunkLink;
    for (_, link) in &mut chunk.links {
        match link {
            ChunkLink::Chunk(c) | ChunkLink::CssChunk(c) | ChunkLink::EntryCss(c) => *c += offset,
            ChunkLink::Asset { .. } => {}
        }
    }
    for list in [
        &mut chunk.imports,
        &mut chunk.dynamic_imports,
        &mut chunk.stylesheets,
    ] {
        for c in list {
            *c += offset;
        }
    }
}

/// Per page, the tags its entry scripts need: a module preload for each
/// chunk a module script imports statically, a stylesheet for each one
/// its imports produced (classic scripts: stylesheets only).
fn page_injections(
    plan: &crate::pages::PagePlan,
    chunks: &[crate::bundle::Chunk],
) -> BTreeMap<String, Vec<html::Inject>> {
    let by_logical: BTreeMap<&str, usize> = chunks
        .iter()
        .enumerate()
        .map(|(i, c)| (c.logical.as_str(), i))
        .collect();
    let mut out: BTreeMap<String, Vec<html::Inject>> = BTreeMap::new();
    for (script, loads) in &plan.loaded_by {
        let Some(&c) = by_logical.get(script.as_str()) else {
            continue;
        };
        for (page, _, loaded) in loads {
            let list = out.entry(page.clone()).or_default();
            let mut add = |rel: &'static str, target: usize| {
                let url = refs::relative_url(page, &chunks[target].logical);
                let tag = html::Inject { rel, url };
                if !list.contains(&tag) {
                    list.push(tag);
                }
            };
            if *loaded == html::Loaded::ModuleScript {
                for &i in &chunks[c].imports {
                    add("modulepreload", i);
                }
            }
            for &i in &chunks[c].stylesheets {
                add("stylesheet", i);
            }
        }
    }
    out
}

/// A file's final name and bytes, and its map file (name and bytes).
#[derive(Clone, PartialEq)]
struct Finished {
    file: String,
    bytes: Vec<u8>,
    map: Option<(String, Vec<u8>)>,
}

/// Encodes the map of a finished output: appended as a `data:` URL
/// (inline), or returned as a file named by its own hash, which a linked
/// output names in a comment (so the output's hash covers the map too).
fn attach_map(
    cfg: &Config,
    src: &Source,
    mut bytes: Vec<u8>,
    map: Option<Map>,
    urls: &SourceUrls,
) -> (Vec<u8>, Option<(String, Vec<u8>)>) {
    let Some(map) = map else {
        return (bytes, None);
    };
    let css = src.kind == Kind::Css;
    // [hash] is in the file name, so any hash gives the right directory.
    let own = fingerprint::output_name(cfg, src, "0");
    let json = map.to_json(&|logical| urls.url(&own, logical), cfg.sources_content);
    match cfg.sourcemap {
        SourceMaps::None => (bytes, None),
        SourceMaps::Inline => {
            bytes.extend_from_slice(
                sourcemap::link_comment(css, &sourcemap::data_url(&json)).as_bytes(),
            );
            (bytes, None)
        }
        SourceMaps::Linked | SourceMaps::Hidden => {
            let hash = fingerprint::sha256_hex(&json);
            let name = format!(
                "{}.map",
                fingerprint::output_name(cfg, src, &hash[..cfg.hash_length])
            );
            if cfg.sourcemap == SourceMaps::Linked {
                let url = refs::relative_url(&own, &name);
                bytes.extend_from_slice(sourcemap::link_comment(css, &url).as_bytes());
            }
            (bytes, Some((name, json)))
        }
    }
}

/// The strongly connected components of the reference graph (Tarjan's
/// algorithm, iterative), each sorted, in dependency order: a component
/// comes after every component it references. Deterministic: nodes and
/// edges are visited in index (logical name) order.
fn strongly_connected(links: &[Vec<(String, Link)>]) -> Vec<Vec<usize>> {
    let n = links.len();
    let edges: Vec<Vec<usize>> = links
        .iter()
        .map(|l| {
            let mut e: Vec<usize> = l.iter().filter_map(|(_, link)| link.target()).collect();
            e.sort_unstable();
            e.dedup();
            e
        })
        .collect();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, position in its edge list)
        let mut work = vec![(root, 0usize)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut pos)) = work.last_mut() {
            if let Some(&w) = edges[v].get(*pos) {
                *pos += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                component.sort_unstable();
                components.push(component);
            }
        }
    }
    components
}

/// Reports files that compile for longer than [`SLOW_AFTER`], until
/// `finished` is set.
fn watch_slow_files(
    running: &Mutex<BTreeMap<usize, (String, Instant)>>,
    finished: &AtomicBool,
    on_event: &(dyn Fn(Event<'_>) + Sync),
) {
    let tick = std::time::Duration::from_millis(100);
    let mut reported: BTreeMap<usize, u64> = BTreeMap::new();
    while !finished.load(Ordering::Acquire) {
        std::thread::park_timeout(tick);
        if finished.load(Ordering::Acquire) {
            return;
        }
        let Ok(r) = running.lock() else { return };
        for (i, (file, start)) in r.iter() {
            let periods = start.elapsed().as_secs() / SLOW_AFTER.as_secs();
            if periods > 0 && reported.get(i) != Some(&periods) {
                reported.insert(*i, periods);
                on_event(Event::SlowFile {
                    file,
                    seconds: periods * SLOW_AFTER.as_secs(),
                });
            }
        }
    }
}

/// A source's output bytes (or its errors), and its warnings.
type Compiled = (Result<Output, Vec<Diagnostic>>, Vec<Diagnostic>);

/// A compiled file before fingerprinting.
#[derive(Clone)]
struct Output {
    /// Final bytes, except that each reference is still its placeholder.
    bytes: Vec<u8>,
    /// References to rewrite (CSS `url()` and `@import` for now).
    refs: Vec<Reference>,
    /// Source text, for diagnostics about references.
    source: Option<Arc<str>>,
    /// Bare module specifiers, left for an import map.
    bare: Vec<Reference>,
    /// Source map of `bytes`, when maps are on.
    map: Option<Map>,
    /// Stylesheets: the files it was made from and the SHA-256 of each
    /// (a session reuses it while they all read the same).
    inputs: Vec<(PathBuf, [u8; 32])>,
    /// In a session: a digest of everything `bytes` and `map` were made
    /// from, so the finished output can be reused while it and the names
    /// it links to are unchanged.
    identity: Option<[u8; 32]>,
}

impl Output {
    fn plain(bytes: Vec<u8>) -> Output {
        Output {
            bytes,
            refs: Vec::new(),
            source: None,
            bare: Vec::new(),
            map: None,
            inputs: Vec::new(),
            identity: None,
        }
    }
}

/// Reads and compiles one source. Returns the output bytes (or errors) and
/// any warnings. A panic in a compiler becomes an `INTERNAL` error.
fn compile_one(cfg: &Config, src: &Source, stage: &Stage<'_>, inject: &[html::Inject]) -> Compiled {
    let (css_opts, css_scope, session) = (stage.css_opts, stage.css_scope, stage.session);
    let shown = cfg.display_path(&src.path);
    // A script's own options, under its tsconfig.json.
    let own_opts;
    let js_opts = match src.kind {
        Kind::Js(kind) => match stage.resolution.tsconfigs.for_file(&src.path) {
            Ok(ts) => {
                own_opts = stage.js_opts.for_file(&ts, kind.is_typescript());
                &own_opts
            }
            Err(d) => return (Err(vec![d]), Vec::new()),
        },
        _ => stage.js_opts,
    };
    let read_error = |e: std::io::Error| {
        (
            Err(vec![
                Diagnostic::error("IO", Category::Io, format!("cannot read {shown}: {e}"))
                    .with_file(shown.clone()),
            ]),
            Vec::new(),
        )
    };
    let Some(session) = session else {
        return match std::fs::read(&src.path) {
            Ok(bytes) => compile_bytes(src, bytes, &shown, js_opts, css_opts, css_scope, inject),
            Err(e) => read_error(e),
        };
    };
    let (digest, read) = match session.read(&src.path) {
        Ok(r) => r,
        Err(e) => return read_error(e),
    };
    // What the output depends on besides the bytes: a script's options, a
    // page's tags.
    let variant = match src.kind {
        Kind::Html => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            inject.hash(&mut h);
            h.finish()
        }
        _ => js_opts.file_key(),
    };
    if let Some(hit) = session.reusable(src, &digest, variant) {
        return with_identity(hit, src, &digest);
    }
    // Known by its metadata, but never compiled like this: read it now,
    // and name the result by what was read.
    let (digest, bytes) = match read {
        Some(bytes) => (digest, bytes),
        None => match std::fs::read(&src.path) {
            Ok(b) => (sha2::Sha256::digest(&b).into(), b),
            Err(e) => return read_error(e),
        },
    };
    let compiled = compile_bytes(src, bytes, &shown, js_opts, css_opts, css_scope, inject);
    session.store(src, digest, variant, &compiled);
    with_identity(compiled, src, &digest)
}

/// Gives a session's compiled output its identity: the source's bytes,
/// name and kind, and the files a stylesheet `@import`ed.
fn with_identity(mut c: Compiled, src: &Source, digest: &[u8; 32]) -> Compiled {
    if let Ok(o) = &mut c.0 {
        let mut h = sha2::Sha256::new();
        h.update(digest);
        h.update(src.logical.as_bytes());
        h.update([0]);
        h.update(format!("{:?}", src.kind).as_bytes());
        for (path, d) in &o.inputs {
            h.update(path.as_os_str().as_encoded_bytes());
            h.update([0]);
            h.update(d);
        }
        o.identity = Some(h.finalize().into());
    }
    c
}

fn compile_bytes(
    src: &Source,
    bytes: Vec<u8>,
    shown: &str,
    js_opts: &JsOptions,
    css_opts: &CssOptions,
    css_scope: &CssScope<'_>,
    inject: &[html::Inject],
) -> Compiled {
    let shown = shown.to_string();
    if src.kind == Kind::Static {
        return (Ok(Output::plain(bytes)), Vec::new());
    }
    let text = match utf8_text(&bytes, &shown) {
        Ok(t) => t,
        Err(d) => return (Err(vec![d]), Vec::new()),
    };

    let stage = match src.kind {
        Kind::Js(_) => "swc",
        Kind::Html => "lol_html",
        _ => "lightningcss",
    };
    let mut warnings = Vec::new();
    let result = guarded(&shown, stage, || match src.kind {
        Kind::Js(kind) => js::compile(&src.logical, &shown, text, kind, js_opts).map(|o| Output {
            bytes: o.code.into_bytes(),
            refs: o.refs,
            source: Some(Arc::from(text)),
            bare: o.bare,
            map: o.map,
            inputs: Vec::new(),
            identity: None,
        }),
        Kind::Css => css::compile(&src.logical, text, css_scope, css_opts).map(|o| {
            warnings = o.warnings;
            Output {
                bytes: o.code.into_bytes(),
                refs: o.refs,
                source: Some(o.source),
                bare: Vec::new(),
                map: o.map,
                inputs: o.inputs,
                identity: None,
            }
        }),
        Kind::Html => html::compile_with(&src.logical, &shown, text, css_opts, inject).map(|o| {
            warnings = o.warnings;
            Output {
                bytes: o.code.into_bytes(),
                refs: o.refs,
                source: Some(Arc::from(text)),
                bare: Vec::new(),
                map: None,
                inputs: Vec::new(),
                identity: None,
            }
        }),
        Kind::Static => Ok(Output::plain(bytes.clone())),
    });
    (result, warnings)
}

/// A source file's text (a UTF-8 byte-order mark dropped), or an
/// `ENCODING` error naming the first invalid byte.
pub(crate) fn utf8_text<'a>(bytes: &'a [u8], shown: &str) -> Result<&'a str, Diagnostic> {
    match std::str::from_utf8(bytes) {
        Ok(t) => Ok(t.strip_prefix('\u{feff}').unwrap_or(t)),
        Err(e) => Err(Diagnostic::error(
            "ENCODING",
            Category::Input,
            format!(
                "{shown} is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
        .with_file(shown)
        .with_help("save the file as UTF-8")),
    }
}

/// Runs a compiler job: a panic becomes an `INTERNAL` error naming the
/// file and the compiler (`stage`), and is not printed.
pub(crate) fn guarded<T>(
    shown: &str,
    stage: &str,
    job: impl FnOnce() -> Result<T, Vec<Diagnostic>>,
) -> Result<T, Vec<Diagnostic>> {
    install_panic_hook();
    let was = IN_JOB.with(|f| f.replace(true));
    let result = std::panic::catch_unwind(AssertUnwindSafe(job));
    IN_JOB.with(|f| f.set(was));
    match result {
        Ok(r) => r,
        Err(payload) => {
            let msg = PANIC_MESSAGE
                .with(|m| m.borrow_mut().take())
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(vec![
                Diagnostic::error(
                    "INTERNAL",
                    Category::Internal,
                    format!("internal compiler error ({stage}) while compiling {shown}"),
                )
                .with_file(shown)
                .with_note(msg)
                .with_help("this is a bug; please report it with the file that triggers it"),
            ])
        }
    }
}

thread_local! {
    static IN_JOB: Cell<bool> = const { Cell::new(false) };
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Inside compile jobs a panic is recorded for the diagnostic instead of
/// being printed; elsewhere the previous hook runs.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_JOB.with(Cell::get) {
                let text = info.to_string();
                PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(text));
            } else {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_files_are_reported_once_per_period() {
        let start = Instant::now()
            .checked_sub(SLOW_AFTER * 2 + std::time::Duration::from_secs(1))
            .unwrap();
        let running = Mutex::new(BTreeMap::from([
            (0, ("src/slow.js".to_string(), start)),
            (1, ("src/fast.js".to_string(), Instant::now())),
        ]));
        let finished = AtomicBool::new(false);
        let seen = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(std::time::Duration::from_millis(350));
                finished.store(true, Ordering::Release);
            });
            watch_slow_files(&running, &finished, &|e| {
                if let Event::SlowFile { file, seconds } = e {
                    seen.lock().unwrap().push((file.to_string(), seconds));
                }
            });
        });
        let expected = 2 * SLOW_AFTER.as_secs();
        assert_eq!(
            seen.into_inner().unwrap(),
            [("src/slow.js".to_string(), expected)]
        );
    }

    #[test]
    fn exit_codes_follow_the_worst_category() {
        let input = Diagnostic::error("JS_PARSE", Category::Input, "x");
        let io = Diagnostic::error("IO", Category::Io, "y");
        let warn = Diagnostic::warning("CSS_RECOVERED", Category::Input, "z");
        assert_eq!(exit_code(&[]), 0);
        assert_eq!(exit_code(std::slice::from_ref(&warn)), 0);
        assert_eq!(exit_code(&[input.clone(), warn]), 1);
        assert_eq!(exit_code(&[input, io]), 2);
    }
}
