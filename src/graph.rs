//! The graph stage: what is built, and how. Pages' plan and the declared
//! entries go to the bundler, whose chunks stand in for the modules it took
//! in; every other source is compiled on its own.
//!
//! In: the discovered sources and the pages' plan. Out: a [`Graph`]: the
//! sources left for the per-file compile, the chunks (as products), the
//! tags each page gets, and every file read on the way.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::bundle::CompileSettings;
use crate::bundle::{self, Chunk, ChunkLink};
use crate::compile::{ChunkFacts, ChunkTarget, Output, Product};
use crate::config::{BundleFormat, Config};
use crate::diagnostics::{Category, Diagnostic};
use crate::discover::{JsKind, Kind, Source};
use crate::html;
use crate::pages::PagePlan;
use crate::refs;

/// What the graph stage gives the rest of the build.
#[derive(Default)]
pub struct Graph {
    /// Sources compiled on their own, sorted as discovered, with the files
    /// pages and bundles reference added.
    pub sources: Vec<Source>,
    /// The bundles' chunks.
    pub chunks: Vec<Product>,
    /// Warnings of the chunks, reported after those of the per-file
    /// compile.
    pub chunk_warnings: Vec<Diagnostic>,
    /// Each bundle's placeholder tag.
    pub tags: Vec<String>,
    /// Per page, the tags its entry scripts need.
    pub injections: BTreeMap<String, Vec<html::Inject>>,
    /// Entries of bundles that failed: references to them are not
    /// reported as missing too.
    pub failed: BTreeSet<String>,
    /// Files read besides the discovered sources (absolute paths).
    pub inputs: Vec<PathBuf>,
    pub diagnostics: Vec<Diagnostic>,
}

/// A session's caches of the two bundles (ES modules, classic scripts).
#[derive(Clone, Copy)]
pub struct Caches<'a> {
    pub modules: &'a bundle::Cache,
    pub classic: &'a bundle::Cache,
}

/// Bundles what `plan` and the config name, and decides what else is
/// compiled on its own.
pub fn build(
    cfg: &Config,
    pool: &rayon::ThreadPool,
    sources: Vec<Source>,
    plan: &PagePlan,
    settings: &CompileSettings<'_>,
    caches: Option<Caches<'_>>,
) -> Graph {
    let known: BTreeSet<String> = sources.iter().map(|s| s.logical.clone()).collect();
    let mut g = Graph {
        sources,
        ..Graph::default()
    };
    g.add_sources(plan.package_sources.iter().cloned());
    let bundled = pool.install(|| bundle_all(cfg, &g.sources, plan, settings, &known, caches));
    g.diagnostics.extend(bundled.diagnostics);
    // Modules outside the sources too: packages, in or out of the root.
    g.inputs.extend(bundled.taken.iter().cloned());
    let any_entries = bundled.entries > 0;
    // With entries, JS is built only through them, as with esbuild or
    // Vite: a file no entry reaches may import what the bundle took in,
    // which is no file of its own. Classic scripts of pages are built on
    // their own; so are the modules of pages with an import map.
    let taken = &bundled.taken;
    g.sources.retain(|s| {
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
    g.tags = bundled.tags;
    g.failed = bundled.failed;
    g.add_sources(bundled.package_files);
    // Stylesheets of packages that pages link, compiled within their
    // package (as a bundle compiles those it imports).
    for (logical, path) in &plan.package_styles {
        match bundle::package_style(cfg, logical, path, settings.css) {
            Ok((chunk, files)) => {
                g.inputs.push(path.clone());
                g.add_sources(files);
                chunks.push(chunk);
            }
            Err(d) => g.diagnostics.extend(d),
        }
    }
    // What each page's entry scripts load besides themselves: module
    // preloads and stylesheets, which the page gets as tags.
    g.injections = page_injections(plan, &chunks);
    let names: Vec<String> = chunks.iter().map(|c| c.logical.clone()).collect();
    for c in chunks {
        let (product, warnings) = chunk_product(cfg, c, &names);
        g.chunk_warnings.extend(warnings);
        g.chunks.push(product);
    }
    g
}

impl Graph {
    /// Adds `more` to the sources (and their paths to the inputs), but for
    /// logical names the build has already.
    fn add_sources(&mut self, more: impl IntoIterator<Item = Source>) {
        let mut have: BTreeSet<String> = self.sources.iter().map(|s| s.logical.clone()).collect();
        for s in more {
            if have.insert(s.logical.clone()) {
                self.inputs.push(s.path.clone());
                self.sources.push(s);
            }
        }
    }
}

/// A chunk as a product: its links and manifest facts by the logical
/// names of the chunks (`logicals`, by index) they point at.
fn chunk_product(cfg: &Config, c: Chunk, logicals: &[String]) -> (Product, Vec<Diagnostic>) {
    let named = |list: &[usize]| -> Vec<String> {
        list.iter()
            .filter_map(|&i| logicals.get(i).cloned())
            .collect()
    };
    let links = c
        .links
        .into_iter()
        .filter_map(|(placeholder, link)| {
            let target = match link {
                ChunkLink::Chunk(i) => ChunkTarget::Chunk(logicals.get(i)?.clone()),
                ChunkLink::CssChunk(i) => ChunkTarget::Css(logicals.get(i)?.clone()),
                ChunkLink::EntryCss(_) => return None,
                ChunkLink::Asset { path, base } => ChunkTarget::Asset { path, base },
            };
            Some((placeholder, target))
        })
        .collect();
    let facts = ChunkFacts {
        imports: named(&c.imports),
        dynamic_imports: named(&c.dynamic_imports),
        css: named(&c.stylesheets),
        assets: c.assets,
        links,
    };
    let product = Product {
        source: Source {
            path: cfg.root.join(&c.logical),
            kind: if c.css {
                Kind::Css
            } else {
                Kind::Js(JsKind::Js)
            },
            logical: c.logical,
        },
        output: Some(Output {
            bytes: c.code.into_bytes(),
            refs: c.refs,
            source: None,
            bare: Vec::new(),
            map: c.map,
            inputs: Vec::new(),
            identity: c.identity,
        }),
        chunk: Some(facts),
    };
    (product, c.warnings)
}

/// What bundling gives the graph.
#[derive(Default)]
struct Bundled {
    /// Every bundle's chunks, their indices made global.
    chunks: Vec<Chunk>,
    tags: Vec<String>,
    /// Modules the bundles took in (absolute paths).
    taken: BTreeSet<PathBuf>,
    package_files: Vec<Source>,
    /// Entry points bundled (or tried).
    entries: usize,
    failed: BTreeSet<String>,
    diagnostics: Vec<Diagnostic>,
}

/// Bundles the declared entries and the module scripts of pages as ES
/// modules (or the configured format), and the classic scripts of pages
/// written as modules into one classic script each (IIFE).
fn bundle_all(
    cfg: &Config,
    sources: &[Source],
    plan: &PagePlan,
    settings: &CompileSettings<'_>,
    known: &BTreeSet<String>,
    caches: Option<Caches<'_>>,
) -> Bundled {
    let classic: BTreeSet<&String> = plan
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
    if cfg.format == BundleFormat::Iife {
        for e in classics.drain(..) {
            if !modules.contains(&e) {
                modules.push(e);
            }
        }
    }
    let iife = Config {
        format: BundleFormat::Iife,
        global_name: None,
        ..cfg.clone()
    };
    let mut out = Bundled {
        entries: modules.len() + classics.len(),
        ..Bundled::default()
    };
    let mut known = known.clone();
    let jobs: [(&Config, &[String], Option<&bundle::Cache>); 2] = [
        (cfg, &modules, caches.map(|c| c.modules)),
        (&iife, &classics, caches.map(|c| c.classic)),
    ];
    for (c, names, cache) in jobs {
        if names.is_empty() {
            continue;
        }
        match bundle_entries(c, sources, names, settings, &known, cache) {
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

/// Finds the named entries among the sources and bundles them.
fn bundle_entries(
    cfg: &Config,
    sources: &[Source],
    names: &[String],
    settings: &CompileSettings<'_>,
    known: &BTreeSet<String>,
    cache: Option<&bundle::Cache>,
) -> Result<bundle::Bundle, Vec<Diagnostic>> {
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
    let known: BTreeSet<String> = known
        .iter()
        .filter(|l| !names.contains(l))
        .cloned()
        .collect();
    bundle::bundle(cfg, &entries, settings, &known, cache)
}

/// Moves a chunk's references to other chunks of its bundle by `offset`,
/// where its bundle's chunks start among all chunks.
fn offset_chunk(chunk: &mut Chunk, offset: usize) {
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
fn page_injections(plan: &PagePlan, chunks: &[Chunk]) -> BTreeMap<String, Vec<html::Inject>> {
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
