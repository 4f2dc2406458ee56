//! The only place that sequences the stages. Each stage takes values and
//! returns values; [`run`] reads as the list of them:
//!
//! ```text
//! Options --resolve--> Config
//! output::lock               the out dir, for the whole build
//! discover                   -> sources, sorted
//! pages::plan                -> what pages load: entries, classic scripts,
//!                               package files (built under _npm/)
//! graph::build               -> bundles (the ES one: entries and pages'
//!                               module scripts; the classic one), the
//!                               sources left to compile on their own
//! fingerprint::check_collisions
//! compile::compile_all       (parallel, big stacks, catch_unwind per file)
//!                            -> products: compiled files, then chunks
//! link::resolve              -> what each placeholder names
//! link::check_bare_imports
//!        ── any error so far: stop, nothing is written ──
//! fingerprint::name_all      -> final bytes and names (link::rewrite)
//! output::assemble           -> the manifest
//! output::publish            -> files, then the manifest, atomically
//! ```
//!
//! A build with any error writes nothing: the previous release stays.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::bundle::{self, CompileSettings, Resolution, Timings};
use crate::cache::Digests;
use crate::compile::{self, Product};
use crate::config::{Config, Options, SourceMaps};
use crate::css::{CssOptions, CssScope};
use crate::diagnostics::{Category, Diagnostic};
use crate::discover;
use crate::fingerprint::{self, Unnamed};
use crate::graph;
use crate::jobs;
use crate::js::JsOptions;
use crate::link;
use crate::manifest::Manifest;
use crate::output::{self, OutLock};
use crate::sourcemap::SourceUrls;

pub use crate::compile::SLOW_AFTER;
pub use crate::jobs::STACK_SIZE;
pub use crate::output::Asset;

/// Things a build reports while it runs, for the edges to show.
#[derive(Debug)]
pub enum Event<'a> {
    /// Another build holds the out dir's lock; this one waits for it.
    WaitingForLock { out: &'a Path },
    /// A file has been compiling for `seconds` (reported every
    /// [`SLOW_AFTER`]), so a user can tell a slow file from a hang.
    SlowFile { file: &'a str, seconds: u64 },
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
/// next, so a rebuild compiles only what changed: one cache per stage
/// (the rules of reuse are in [`crate::cache`]). Every build still walks
/// the tree, reads and hashes every file, resolves every import and links
/// the whole graph: what it skips is compiling a file whose bytes it has
/// compiled before (parse, transform and analysis, or the whole per-file
/// compile), and rewriting an output whose inputs and targets' names are
/// unchanged. Settings are fixed for a session: a config change needs a
/// new one.
///
/// A build in a session also removes the previous release's files once its
/// manifest is in place (see [`output::publish`]).
#[derive(Default)]
pub struct Session {
    /// Files read before, by metadata.
    digests: Digests,
    /// The per-file compile's results.
    compiled: compile::Cache,
    /// Finished (rewritten and named) outputs.
    finished: fingerprint::Reuse,
    /// The bundle of ES modules, and that of pages' classic scripts (which
    /// loads and emits the same files under another format).
    bundle: bundle::Cache,
    classic_bundle: bundle::Cache,
    /// Held while a release is written and pruned. A signal handler takes
    /// it before exiting, so the process never stops halfway through a
    /// publish (anything before it writes nothing).
    pub publishing: Mutex<()>,
}

impl Session {
    /// Forgets where imports led (files were added, removed or renamed).
    pub fn invalidate_resolution(&self) {
        self.bundle.invalidate_resolution();
        self.classic_bundle.invalidate_resolution();
    }

    /// Forgets everything compiled (the settings changed).
    pub fn clear(&self) {
        self.compiled.clear();
        self.digests.clear();
        self.finished.clear();
        self.bundle.clear();
        self.classic_bundle.clear();
    }

    /// Forgets files that are no longer sources.
    fn keep_only(&self, sources: &[discover::Source]) {
        let live: std::collections::HashSet<&Path> =
            sources.iter().map(|s| s.path.as_path()).collect();
        self.compiled.retain(|p| live.contains(p.as_path()));
        self.digests.retain(&live);
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
    if let Err(d) = run(cfg, session, &mut out, on_event) {
        out.diagnostics.extend(d);
    }
    // Several files can report one problem (an @import cycle); say it once.
    let mut seen = std::collections::BTreeSet::new();
    out.diagnostics
        .retain(|d| seen.insert((d.code, d.message.clone(), d.position())));
    out.stats.millis = started.elapsed().as_millis();
    out
}

/// The build, stage by stage. Diagnostics gather in `out`; a stage that
/// cannot go on returns its errors.
fn run(
    cfg: &Config,
    session: Option<&Session>,
    out: &mut BuildOutput,
    on_event: &(dyn Fn(Event<'_>) + Sync),
) -> Result<(), Vec<Diagnostic>> {
    let pool = jobs::pool(cfg.threads).map_err(|d| vec![d])?;
    let lock = output::lock(cfg, &mut |dir| on_event(Event::WaitingForLock { out: dir }))
        .map_err(|d| vec![d])?;
    jobs::install_panic_hook();
    let mut timings = Timings::new();
    let diags = &mut out.diagnostics;

    // Discovery and naming problems do not stop the compile: every error
    // of the build is reported at once.
    let (sources, problems) = discover::discover(cfg);
    timings.lap("discover");
    diags.extend(cfg.warnings.iter().cloned());
    diags.extend(problems);
    out.inputs = sources.iter().map(|s| s.path.clone()).collect();

    let resolution = match session {
        Some(s) => s.bundle.resolution(cfg.project_dir()),
        None => Arc::new(Resolution::new(cfg.project_dir())),
    };
    let plan = crate::pages::plan(cfg, &sources, &resolution.modules);
    diags.extend(plan.errors.iter().cloned());

    let (js, css) = (JsOptions::from_config(cfg), css_options(cfg));
    let known = sources.iter().map(|s| s.logical.clone()).collect();
    let display = |p: &Path| cfg.display_path(p);
    let css_scope = CssScope {
        root: &cfg.root,
        known: &known,
        display: &display,
    };
    let settings = CompileSettings {
        js: &js,
        css: &css,
        css_scope: &css_scope,
        resolution: &resolution,
    };
    let caches = session.map(|s| graph::Caches {
        modules: &s.bundle,
        classic: &s.classic_bundle,
    });
    let graph = graph::build(cfg, &pool, sources, &plan, &settings, caches);
    timings.lap("bundle");
    diags.extend(graph.diagnostics);
    out.inputs.extend(graph.inputs);
    let all = graph
        .sources
        .iter()
        .chain(graph.chunks.iter().map(|c| &c.source));
    diags.extend(fingerprint::check_collisions(cfg, all));

    let reuse = session.map(|s| compile::Reuse {
        digests: &s.digests,
        compiled: &s.compiled,
    });
    let on_slow = |file: &str, seconds| on_event(Event::SlowFile { file, seconds });
    let compiled = compile::compile_all(
        cfg,
        &pool,
        &graph.sources,
        &settings,
        reuse,
        &graph.injections,
        &on_slow,
    );
    timings.lap("compile");
    // The tsconfig.json files read (and those they extend) are inputs too.
    out.inputs.extend(resolution.tsconfigs.files());
    out.inputs.sort();
    out.inputs.dedup();
    if let Some(s) = session {
        s.keep_only(&graph.sources);
    }
    let mut products = compile::products(graph.sources, compiled, diags);
    diags.extend(graph.chunk_warnings);
    products.extend(graph.chunks);

    let known = link::Known {
        targets: &plan.targets,
        failed: &graph.failed,
    };
    let links = link::resolve(cfg, &products, &known, diags);
    out.bare_imports = link::check_bare_imports(cfg, &products, &plan, diags);
    if diags.iter().any(Diagnostic::is_error) {
        return Ok(());
    }

    let named = name_all(cfg, session, &mut products, &links, &graph.tags)?;
    timings.lap("fingerprint");
    let release = output::assemble(cfg, &products, named);
    publish(cfg, &pool, lock, session, release, out)?;
    timings.lap("write");
    Ok(())
}

fn css_options(cfg: &Config) -> CssOptions {
    CssOptions {
        minify: cfg.minify,
        targets: cfg.targets,
        error_recovery: cfg.css_error_recovery,
        source_map: cfg.sourcemap != SourceMaps::None,
    }
}

/// Names the products (taking their outputs), rewriting each one's
/// placeholders once its targets are named.
fn name_all(
    cfg: &Config,
    session: Option<&Session>,
    products: &mut [Product],
    links: &[Vec<(String, crate::refs::Link)>],
    tags: &[String],
) -> Result<Vec<Option<fingerprint::Named>>, Vec<Diagnostic>> {
    let source_urls = SourceUrls::new(
        cfg.config_file
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(&cfg.cwd),
        &cfg.root,
        &cfg.out,
    );
    let outputs: Vec<Option<compile::Output>> =
        products.iter_mut().map(|p| p.output.take()).collect();
    let nodes = products
        .iter()
        .zip(outputs)
        .map(|(p, o)| {
            o.map(|o| Unnamed {
                bytes: o.bytes,
                map: o.map,
                identity: o.identity,
                chunk: p.chunk.is_some(),
            })
        })
        .collect();
    let sources: Vec<&discover::Source> = products.iter().map(|p| &p.source).collect();
    let rewrite =
        |src: &discover::Source, bytes, map, links: &[_], names: &[String], integrities: &[_]| {
            link::rewrite(cfg, src, bytes, map, links, names, integrities)
        };
    fingerprint::name_all(
        cfg,
        nodes,
        &sources,
        &fingerprint::Naming {
            links,
            tags,
            source_urls: &source_urls,
            reuse: session.map(|s| &s.finished),
            rewrite: &rewrite,
        },
    )
}

/// Writes the release and reports it in `out`.
fn publish(
    cfg: &Config,
    pool: &rayon::ThreadPool,
    lock: OutLock,
    session: Option<&Session>,
    release: output::Release,
    out: &mut BuildOutput,
) -> Result<(), Vec<Diagnostic>> {
    for a in &release.assets {
        match a.kind {
            discover::Kind::Js(_) => out.stats.js += 1,
            discover::Kind::Css => out.stats.css += 1,
            discover::Kind::Html => out.stats.html += 1,
            discover::Kind::Static => out.stats.other += 1,
        }
    }
    let json = release.manifest.to_json();
    let published = output::publish(
        cfg,
        pool,
        &lock,
        &release,
        &json,
        session.map(|s| &s.publishing),
    );
    drop(lock);
    let published = published?;
    out.stats.written = published.stats.written;
    out.stats.reused = published.stats.reused;
    out.changed = published.changed;
    out.removed = published.removed;
    out.manifest_path = Some(cfg.out.join(&cfg.manifest));
    out.manifest = Manifest::from_json(&json).ok();
    out.assets = release.assets;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
