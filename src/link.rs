//! The link stage: every placeholder of every product resolved to what it
//! names ([`resolve`]), bare imports checked ([`check_bare_imports`]), and,
//! once the names are known, each output's placeholders written as final
//! URLs ([`rewrite`]).
//!
//! `refs` classifies one URL; this module applies it to whole outputs, so
//! it can call each language's substitution (which `refs`, used by the
//! compilers, cannot).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use crate::compile::{ChunkTarget, Product};
use crate::config::{Config, UrlStyle};
use crate::css;
use crate::diagnostics::{Category, Diagnostic, Label};
use crate::discover::{Kind, Source};
use crate::fingerprint;
use crate::html;
use crate::js;
use crate::pages::PagePlan;
use crate::refs::{self, Link, Reference, Target};
use crate::sourcemap::Map;

/// What reference resolution knows besides the products.
pub struct Known<'a> {
    /// References pages wrote into packages: (page, URL) → logical name
    /// and suffix.
    pub targets: &'a BTreeMap<(String, String), (String, String)>,
    /// Entries whose bundle failed (already reported).
    pub failed: &'a BTreeSet<String>,
}

/// Each product's links (placeholder → target), by index; one error per
/// bad reference.
pub fn resolve(
    cfg: &Config,
    products: &[Product],
    known: &Known<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Vec<(String, Link)>> {
    let index: BTreeMap<&str, usize> = products
        .iter()
        .enumerate()
        .map(|(i, p)| (p.source.logical.as_str(), i))
        .collect();
    let root_shown = cfg.display_path(&cfg.root);
    let mut links: Vec<Vec<(String, Link)>> = products
        .iter()
        .map(|p| resolve_references(cfg, p, &index, known, &root_shown, diagnostics))
        .collect();
    // The bundler's own placeholders, reported after every file's. Asset
    // paths are looked up among the files only if a chunk has one.
    let by_path = std::cell::LazyCell::new(|| crate::compile::by_path(products));
    for (i, p) in products.iter().enumerate() {
        let Some(chunk) = &p.chunk else { continue };
        for (placeholder, target) in &chunk.links {
            let to = match target {
                ChunkTarget::Chunk(l) => index.get(l.as_str()).map(|&j| Link::To(j, String::new())),
                ChunkTarget::Css(l) => index.get(l.as_str()).map(|&j| Link::Base(j)),
                ChunkTarget::Asset { path, base } => match by_path.get(path) {
                    Some(&j) if *base => Some(Link::Base(j)),
                    Some(&j) => Some(Link::To(j, String::new())),
                    None => {
                        diagnostics.push(asset_outside_root(cfg, path));
                        None
                    }
                },
            };
            links[i].extend(to.map(|to| (placeholder.clone(), to)));
        }
    }
    links
}

fn asset_outside_root(cfg: &Config, path: &Path) -> Diagnostic {
    Diagnostic::error(
        "ASSET_OUTSIDE_ROOT",
        Category::Input,
        format!(
            "{} is imported as an asset but is not a file of the root",
            cfg.display_path(path)
        ),
    )
    .with_file(cfg.display_path(path))
    .with_help("copy the file into the root, or include it")
}

/// The links of one product's references (URLs its compiler found).
fn resolve_references(
    cfg: &Config,
    product: &Product,
    index: &BTreeMap<&str, usize>,
    known: &Known<'_>,
    root_shown: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<(String, Link)> {
    let src = &product.source;
    let Some(o) = &product.output else {
        return Vec::new();
    };
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
                (Some((logical, _)), _) => Err(refs::ResolveError::Missing(logical.clone())),
                (None, Kind::Js(_)) => refs::resolve_module(&r.url, &r.from, &exists),
                (None, _) => refs::resolve(&r.url, &r.from, &exists),
            };
            match resolved {
                Ok(Target::External) => Some((r.placeholder.clone(), Link::Keep(r.url.clone()))),
                Ok(Target::Local { logical, suffix }) => {
                    let j = index.get(logical.as_str()).copied()?;
                    Some((r.placeholder.clone(), Link::To(j, suffix)))
                }
                // The bundle that would have made it failed, and said why.
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
                    diagnostics.push(e.diagnostic(r, &shown, &text, root_shown));
                    None
                }
            }
        })
        .collect()
}

/// The bare module specifiers the outputs leave as written (for an import
/// map), and what is wrong with them: `--strict` makes each an error;
/// pages with import maps warn about those no map names.
pub fn check_bare_imports(
    cfg: &Config,
    products: &[Product],
    plan: &PagePlan,
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeSet<String> {
    let mut bare = BTreeSet::new();
    for p in products {
        let Some(o) = &p.output else { continue };
        bare.extend(o.bare.iter().map(|r| r.url.clone()));
        let text = o.source.clone().unwrap_or_else(|| Arc::from(""));
        let at = |r: &Reference, what: &str| {
            Label::at_line_col_utf16(
                cfg.display_path(&p.source.path),
                text.clone(),
                r.line,
                r.column,
            )
            .with_text(what)
        };
        if cfg.strict {
            for r in &o.bare {
                diagnostics.push(
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
                diagnostics.push(
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
    bare
}

/// Replaces the placeholders of one output with the final URLs of their
/// targets (`names`), relative to the output's own location; a page's
/// tags also get their target's integrity.
pub fn rewrite(
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
