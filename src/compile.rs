//! The per-file compile stage, and the value every later stage works on.
//!
//! [`compile_all`] compiles each source on its own (in parallel, each job
//! guarded: a compiler panic is that file's `INTERNAL` error), reusing a
//! session's earlier result while everything it was made from reads the
//! same. Its results and the bundler's chunks both become [`Product`]s:
//! one list, in one order, that reference resolution, fingerprinting and
//! the manifest read without knowing where an output came from.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::bundle::CompileSettings;
use crate::cache::{self, Digests, Memo};
use crate::config::Config;
use crate::css;
use crate::diagnostics::{Category, Diagnostic};
use crate::discover::{Kind, Source};
use crate::html;
use crate::jobs;
use crate::js::{self, JsOptions};
use crate::refs::Reference;
use crate::sourcemap::Map;

/// How long a file may compile before it is reported as slow, and how often
/// after that.
pub const SLOW_AFTER: Duration = Duration::from_secs(10);

/// A session's compiled files: by path, under a key of the bytes and
/// everything else the result depends on.
pub type Cache = Memo<PathBuf, Compiled>;

/// What a session lends the compile stage.
#[derive(Clone, Copy)]
pub struct Reuse<'a> {
    pub digests: &'a Digests,
    pub compiled: &'a Cache,
}

/// A source's output bytes (or its errors), and its warnings.
pub type Compiled = (Result<Output, Vec<Diagnostic>>, Vec<Diagnostic>);

/// An output before fingerprinting.
#[derive(Clone)]
pub struct Output {
    /// Final bytes, except that each reference is still its placeholder.
    pub bytes: Vec<u8>,
    /// References to rewrite.
    pub refs: Vec<Reference>,
    /// Source text, for diagnostics about references.
    pub source: Option<Arc<str>>,
    /// Bare module specifiers, left for an import map.
    pub bare: Vec<Reference>,
    /// Source map of `bytes`, when maps are on.
    pub map: Option<Map>,
    /// Files it was made from besides its own (a stylesheet's `@import`s,
    /// and the stylesheet itself) and the SHA-256 of each: a session
    /// reuses it while they all read the same.
    pub inputs: Vec<(PathBuf, [u8; 32])>,
    /// In a session: a digest of everything `bytes` and `map` were made
    /// from, so the finished output can be reused while it and the names
    /// it links to are unchanged.
    pub identity: Option<[u8; 32]>,
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

/// One output on its way to the release: a compiled source or a bundle
/// chunk (whose `source.path` is where it would be in the root).
pub struct Product {
    pub source: Source,
    /// `None` when it failed (and said why).
    pub output: Option<Output>,
    /// What only a chunk knows.
    pub chunk: Option<ChunkFacts>,
}

/// A chunk's manifest facts and the placeholders the bundler wrote, by
/// the logical names of other products.
#[derive(Default)]
pub struct ChunkFacts {
    pub imports: Vec<String>,
    pub dynamic_imports: Vec<String>,
    pub css: Vec<String>,
    /// Asset files it imports (absolute paths), for the manifest.
    pub assets: Vec<PathBuf>,
    /// Placeholder → what it names.
    pub links: Vec<(String, ChunkTarget)>,
}

/// What a chunk's placeholder names.
pub enum ChunkTarget {
    /// Another chunk's output, relative to this one.
    Chunk(String),
    /// A stylesheet chunk as base + name.
    Css(String),
    /// An asset file; `base`: as base + name, else relative.
    Asset { path: PathBuf, base: bool },
}

/// Compiles every source (in `pool`, reporting slow files through
/// `on_slow`), with the tags `injections` gives each page. Results are in
/// the order of `sources`.
pub fn compile_all(
    cfg: &Config,
    pool: &rayon::ThreadPool,
    sources: &[Source],
    settings: &CompileSettings<'_>,
    reuse: Option<Reuse<'_>>,
    injections: &BTreeMap<String, Vec<html::Inject>>,
    on_slow: &(dyn Fn(&str, u64) + Sync),
) -> Vec<Compiled> {
    // Files being compiled, with their start times, for the slow-file watch.
    let running: Mutex<BTreeMap<usize, (String, Instant)>> = Mutex::new(BTreeMap::new());
    let finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| watch_slow_files(&running, &finished, on_slow));
        let compiled = pool.install(|| {
            sources
                .par_iter()
                .enumerate()
                .map(|(i, src)| {
                    if let Ok(mut r) = running.lock() {
                        r.insert(i, (cfg.display_path(&src.path), Instant::now()));
                    }
                    let inject = injections.get(&src.logical).map_or(&[][..], Vec::as_slice);
                    let result = compile_one(cfg, src, settings, reuse, inject);
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
    })
}

/// Reports files that compile for longer than [`SLOW_AFTER`], until
/// `finished` is set.
fn watch_slow_files(
    running: &Mutex<BTreeMap<usize, (String, Instant)>>,
    finished: &AtomicBool,
    on_slow: &(dyn Fn(&str, u64) + Sync),
) {
    let tick = Duration::from_millis(100);
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
                on_slow(file, periods * SLOW_AFTER.as_secs());
            }
        }
    }
}

/// Reads and compiles one source. Returns the output bytes (or errors) and
/// any warnings. A panic in a compiler becomes an `INTERNAL` error.
fn compile_one(
    cfg: &Config,
    src: &Source,
    settings: &CompileSettings<'_>,
    reuse: Option<Reuse<'_>>,
    inject: &[html::Inject],
) -> Compiled {
    let shown = cfg.display_path(&src.path);
    // A script's own options, under its tsconfig.json.
    let own_opts;
    let js_opts = match src.kind {
        Kind::Js(kind) => match settings.resolution.tsconfigs.for_file(&src.path) {
            Ok(ts) => {
                own_opts = settings.js.for_file(&ts, kind.is_typescript());
                &own_opts
            }
            Err(d) => return (Err(vec![d]), Vec::new()),
        },
        _ => settings.js,
    };
    let job = Job {
        src,
        shown: &shown,
        js_opts,
        settings,
        inject,
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
    let Some(reuse) = reuse else {
        return match std::fs::read(&src.path) {
            Ok(bytes) => job.run(bytes),
            Err(e) => read_error(e),
        };
    };
    let (digest, read) = match reuse.digests.read(&src.path) {
        Ok(r) => r,
        Err(e) => return read_error(e),
    };
    if let Some(hit) = reuse
        .compiled
        .get(&src.path, &job.key(&digest), reuse.digests)
    {
        return with_identity(hit, src, &digest);
    }
    // Known by its metadata, but never compiled like this: read it now,
    // and name the result by what was read.
    let (digest, bytes) = match read {
        Some(bytes) => (digest, bytes),
        None => match std::fs::read(&src.path) {
            Ok(b) => (cache::digest(&b), b),
            Err(e) => return read_error(e),
        },
    };
    let compiled = job.run(bytes);
    // Only a result that compiled is kept: a failed one may have failed
    // on a file it read besides its own, which it cannot name.
    if let Ok(o) = &compiled.0 {
        reuse.compiled.put(
            src.path.clone(),
            job.key(&digest),
            o.inputs.clone(),
            compiled.clone(),
        );
    }
    with_identity(compiled, src, &digest)
}

/// Gives a session's compiled output its identity: the source's bytes,
/// name and kind, and the files a stylesheet `@import`ed.
fn with_identity(mut c: Compiled, src: &Source, digest: &[u8; 32]) -> Compiled {
    use sha2::Digest as _;
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

/// One source's compile and everything it depends on.
struct Job<'a> {
    src: &'a Source,
    shown: &'a str,
    js_opts: &'a JsOptions,
    settings: &'a CompileSettings<'a>,
    inject: &'a [html::Inject],
}

impl Job<'_> {
    /// What the output depends on besides the files it read: the bytes
    /// (`digest`), name and kind, a script's options, a page's tags.
    fn key(&self, digest: &[u8; 32]) -> [u8; 32] {
        let variant = match self.src.kind {
            Kind::Html => {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                self.inject.hash(&mut h);
                h.finish()
            }
            _ => self.js_opts.file_key(),
        };
        cache::key([
            &digest[..],
            self.src.logical.as_bytes(),
            format!("{:?}", self.src.kind).as_bytes(),
            &variant.to_le_bytes(),
        ])
    }

    fn run(&self, bytes: Vec<u8>) -> Compiled {
        let src = self.src;
        if src.kind == Kind::Static {
            return (Ok(Output::plain(bytes)), Vec::new());
        }
        let text = match jobs::utf8_text(&bytes, self.shown) {
            Ok(t) => t,
            Err(d) => return (Err(vec![d]), Vec::new()),
        };
        let (css_opts, css_scope) = (self.settings.css, self.settings.css_scope);
        let compiler = match src.kind {
            Kind::Js(_) => "swc",
            Kind::Html => "lol_html",
            _ => "lightningcss",
        };
        let mut warnings = Vec::new();
        let result = jobs::guarded(self.shown, compiler, || match src.kind {
            Kind::Js(kind) => {
                js::compile(&src.logical, self.shown, text, kind, self.js_opts).map(|o| Output {
                    bytes: o.code.into_bytes(),
                    refs: o.refs,
                    source: Some(Arc::from(text)),
                    bare: o.bare,
                    map: o.map,
                    inputs: Vec::new(),
                    identity: None,
                })
            }
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
            Kind::Html => html::compile_with(&src.logical, self.shown, text, css_opts, self.inject)
                .map(|o| {
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
}

/// The products of compiled sources, in order, with their diagnostics.
pub fn products(
    sources: Vec<Source>,
    compiled: Vec<Compiled>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Product> {
    sources
        .into_iter()
        .zip(compiled)
        .map(|(source, (result, warnings))| {
            diagnostics.extend(warnings);
            let output = match result {
                Ok(o) => Some(o),
                Err(d) => {
                    diagnostics.extend(d);
                    None
                }
            };
            Product {
                source,
                output,
                chunk: None,
            }
        })
        .collect()
}

/// Where a path's file is among `products`, by its path as given and
/// canonical.
pub fn by_path(products: &[Product]) -> std::collections::HashMap<PathBuf, usize> {
    products
        .iter()
        .enumerate()
        .filter(|(_, p)| p.chunk.is_none())
        .flat_map(|(i, p)| {
            let canonical = p.source.path.canonicalize().ok();
            std::iter::once((p.source.path.clone(), i)).chain(canonical.map(|c| (c, i)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_files_are_reported_once_per_period() {
        let start = Instant::now()
            .checked_sub(SLOW_AFTER * 2 + Duration::from_secs(1))
            .unwrap();
        let running = Mutex::new(BTreeMap::from([
            (0, ("src/slow.js".to_string(), start)),
            (1, ("src/fast.js".to_string(), Instant::now())),
        ]));
        let finished = AtomicBool::new(false);
        let seen = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(350));
                finished.store(true, Ordering::Release);
            });
            watch_slow_files(&running, &finished, &|file, seconds| {
                seen.lock().unwrap().push((file.to_string(), seconds));
            });
        });
        let expected = 2 * SLOW_AFTER.as_secs();
        assert_eq!(
            seen.into_inner().unwrap(),
            [("src/slow.js".to_string(), expected)]
        );
    }
}
