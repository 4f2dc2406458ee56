//! Pages as entry points, as in Vite and Parcel.
//!
//! In: the sources (pages among them) and the module resolver. Out: a
//! [`PagePlan`], read from what every page loads before anything compiles:
//!
//! - a `<script type="module" src>` of a source is an entry point, bundled
//!   like a declared one (unless the page has an import map: its modules
//!   then resolve bare imports at run time, so they stay per-file);
//! - a classic `<script src>` runs as a classic script: a file written with
//!   `import`/`export` is bundled into one classic script (an IIFE), a file
//!   without is compiled on its own as a script (its top-level names stay
//!   globals, as other classic scripts of the page expect);
//! - a reference into a package (`node_modules/x/y.css`, or a bare
//!   `x/y.css` that no file of the root answers) resolves through the same
//!   resolver as JS imports, and the file is built under `_npm/…` like other
//!   package files a bundle references.
//!
//! A script that one page loads as a module and another as a classic script
//! is a `SCRIPT_KIND` error at the classic reference.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::bundle::resolve::{ModuleResolver, Request, Resolved};
use crate::config::Config;
use crate::diagnostics::{Category, Diagnostic, Label};
use crate::discover::{self, Kind, Source};
use crate::html::{self, Loaded};
use crate::refs::{self, Target};

/// What the pages of a build load, and how each script is built.
#[derive(Debug, Default)]
pub struct PagePlan {
    /// Scripts pages load as modules: bundled entry points (logical names,
    /// in page order).
    pub module_entries: Vec<String>,
    /// Classic scripts written with `import`/`export`: bundled into one
    /// classic script each.
    pub classic_entries: Vec<String>,
    /// Classic scripts without module syntax: compiled on their own.
    pub classic_files: BTreeSet<String>,
    /// Files of packages that pages reference, as sources named `_npm/…`.
    pub package_sources: Vec<Source>,
    /// Stylesheets of packages that pages link (paths): compiled within
    /// their package, like a bundle's.
    pub package_styles: Vec<(String, PathBuf)>,
    /// What a reference a page wrote into a package resolves to: (page,
    /// URL as written) → logical name and the `?query#fragment` kept.
    pub targets: BTreeMap<(String, String), (String, String)>,
    /// Pages that have an import map.
    pub import_map_pages: BTreeSet<String>,
    /// The specifiers import maps map, over all pages.
    pub import_map_keys: BTreeSet<String>,
    /// Scripts and where pages load them: logical → page, offset, how.
    pub loaded_by: BTreeMap<String, Vec<(String, usize, Loaded)>>,
    pub errors: Vec<Diagnostic>,
}

impl PagePlan {
    /// Records that `url`, written in `page`, names `logical` (its
    /// `?query#fragment` kept).
    fn target(&mut self, page: &Source, url: &str, logical: &str) {
        let (_, suffix) = refs::split_suffix(url);
        self.targets.insert(
            (page.logical.clone(), url.to_string()),
            (logical.to_string(), suffix.to_string()),
        );
    }

    /// Whether a bare specifier is mapped by some page's import map (a key
    /// that ends in `/` maps every specifier it starts).
    pub fn mapped(&self, specifier: &str) -> bool {
        self.import_map_keys
            .iter()
            .any(|k| k == specifier || (k.ends_with('/') && specifier.starts_with(k.as_str())))
    }
}

/// Reads every page of `sources` and plans what its references build.
pub fn plan(cfg: &Config, sources: &[Source], resolver: &ModuleResolver) -> PagePlan {
    let mut plan = PagePlan::default();
    let by_logical: BTreeMap<&str, &Source> =
        sources.iter().map(|s| (s.logical.as_str(), s)).collect();
    let exists = |l: &str| by_logical.contains_key(l);
    let mut packages: BTreeMap<String, Source> = BTreeMap::new();
    let mut styles: BTreeMap<String, PathBuf> = BTreeMap::new();
    // Module or classic, by script (first page to say wins; a second page
    // that disagrees is an error).
    let mut script_kind: BTreeMap<String, Loaded> = BTreeMap::new();
    let mut scripts: Vec<(String, PathBuf, Loaded)> = Vec::new();
    for page in sources.iter().filter(|s| s.kind == Kind::Html) {
        // A page that cannot be read is reported when it is compiled.
        let Ok(text) = std::fs::read_to_string(&page.path) else {
            continue;
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
        let scan = html::scan(&text);
        if let Some(keys) = &scan.import_map {
            plan.import_map_pages.insert(page.logical.clone());
            plan.import_map_keys.extend(keys.iter().cloned());
        }
        let source: Arc<str> = Arc::from(text.as_str());
        for r in scan.refs {
            let found = match refs::resolve(&r.url, &page.logical, &exists) {
                Ok(Target::External) => continue,
                Ok(Target::Local { logical, .. }) => {
                    let Some(src) = by_logical.get(logical.as_str()) else {
                        continue;
                    };
                    Some((logical, src.path.clone(), src.kind))
                }
                // Root-relative, as Vite writes pages (`/src/main.tsx`,
                // `/favicon.svg` from `public/`): a file of the root.
                Err(_) if refs::root_relative(&r.url, &exists).is_some() => {
                    let logical = refs::root_relative(&r.url, &exists).unwrap_or_default();
                    plan.target(page, &r.url, &logical);
                    by_logical
                        .get(logical.as_str())
                        .map(|src| (logical.clone(), src.path.clone(), src.kind))
                }
                // Not a file of the root: perhaps one of a package.
                Err(e) => package_file(
                    page,
                    &r.url,
                    resolver,
                    matches!(e, refs::ResolveError::Outside(_)),
                )
                .map(|(logical, path)| {
                    let kind = discover::kind_of(&logical);
                    plan.target(page, &r.url, &logical);
                    if kind == Kind::Css {
                        styles.insert(logical.clone(), path.clone());
                    } else if !matches!(r.loaded, Loaded::ModuleScript | Loaded::ClassicScript)
                        || !matches!(kind, Kind::Js(_))
                    {
                        packages.entry(logical.clone()).or_insert_with(|| Source {
                            logical: logical.clone(),
                            path: path.clone(),
                            kind: Kind::Static,
                        });
                    }
                    (logical, path, kind)
                }),
            };
            let Some((logical, path, kind)) = found else {
                continue;
            };
            let script = matches!(r.loaded, Loaded::ModuleScript | Loaded::ClassicScript);
            if !script || !matches!(kind, Kind::Js(_)) {
                continue;
            }
            // An import map's page keeps its modules per-file.
            if r.loaded == Loaded::ModuleScript && scan.import_map.is_some() {
                continue;
            }
            plan.loaded_by.entry(logical.clone()).or_default().push((
                page.logical.clone(),
                r.offset,
                r.loaded,
            ));
            match script_kind.get(&logical) {
                None => {
                    script_kind.insert(logical.clone(), r.loaded);
                    scripts.push((logical, path, r.loaded));
                }
                Some(k) if *k == r.loaded => {}
                Some(_) => {
                    let end = (r.offset + r.url.len()).min(source.len());
                    plan.errors.push(
                        Diagnostic::error(
                            "SCRIPT_KIND",
                            Category::Input,
                            format!(
                                "`{logical}` is loaded here as a {} script, and elsewhere as a {} script: one file cannot be both",
                                kind_name(r.loaded),
                                kind_name(script_kind[&logical]),
                            ),
                        )
                        .with_label(Label::new(
                            cfg.display_path(&page.path),
                            source.clone(),
                            r.offset..end,
                        ))
                        .with_help("load it the same way everywhere: `<script type=\"module\">` for a module"),
                    );
                }
            }
        }
    }
    for (logical, path, loaded) in scripts {
        let Kind::Js(kind) = discover::kind_of(&logical) else {
            continue;
        };
        let is_package = logical.starts_with(crate::discover::NPM);
        if loaded == Loaded::ModuleScript {
            if is_package {
                packages.entry(logical.clone()).or_insert_with(|| Source {
                    logical: logical.clone(),
                    path: path.clone(),
                    kind: Kind::Js(kind),
                });
            }
            plan.module_entries.push(logical);
            continue;
        }
        let modular = std::fs::read_to_string(&path)
            .is_ok_and(|text| crate::js::has_module_syntax(&logical, &text, kind));
        if is_package {
            packages.entry(logical.clone()).or_insert_with(|| Source {
                logical: logical.clone(),
                path: path.clone(),
                kind: Kind::Js(kind),
            });
        }
        if modular {
            plan.classic_entries.push(logical);
        } else {
            plan.classic_files.insert(logical);
        }
    }
    plan.package_sources = packages.into_values().collect();
    plan.package_styles = styles.into_iter().collect();
    plan
}

fn kind_name(l: Loaded) -> &'static str {
    match l {
        Loaded::ModuleScript => "module",
        _ => "classic",
    }
}

/// The package file a page's `url` names, as (`_npm/…` logical, path): a
/// path into a `node_modules` directory, or a bare specifier (`pkg/x.css`)
/// resolved like a JS import from the page. Nothing outside a
/// `node_modules` directory is looked at: a URL that leaves the root
/// (`outside`) is only followed into one.
fn package_file(
    page: &Source,
    url: &str,
    resolver: &ModuleResolver,
    outside: bool,
) -> Option<(String, PathBuf)> {
    let (path_part, _) = refs::split_suffix(url);
    if path_part.is_empty() || path_part.starts_with("//") || path_part.contains(':') {
        return None;
    }
    let decoded = refs::percent_decode(path_part)?;
    if decoded.starts_with('/') || decoded.contains(['\\', '\0']) {
        return None;
    }
    let dir = page.path.parent()?;
    // A path as written, relative to the page, into `node_modules` (the
    // path is checked before the disk is).
    let on_disk = normalize(&dir.join(&decoded));
    if let Some(found) = npm_logical(&on_disk)
        && on_disk.is_file()
    {
        return Some(found);
    }
    // A bare specifier: a package name, then a path in the package.
    if !outside
        && is_package_specifier(&decoded)
        && let Ok(Resolved::File { path, .. }) =
            resolver.resolve(&page.path, &decoded, Request::Import)
    {
        return npm_logical(&path);
    }
    None
}

/// `name/…` or `@scope/name/…` with npm's rules for names (lowercase,
/// not starting with `.` or `_`).
fn is_package_specifier(s: &str) -> bool {
    let ok = |seg: &str| {
        !seg.is_empty()
            && !seg.starts_with(['.', '_'])
            && seg.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | '_' | '~')
            })
    };
    let mut parts = s.split('/');
    match parts.next() {
        Some(scope) if scope.starts_with('@') => ok(&scope[1..]) && parts.next().is_some_and(ok),
        Some(name) => ok(name),
        None => false,
    }
}

/// `_npm/<path below node_modules>` for a file in a package.
fn npm_logical(path: &Path) -> Option<(String, PathBuf)> {
    let (_, rel) = crate::discover::in_node_modules(path)?;
    Some((
        format!("{}/{rel}", crate::discover::NPM),
        path.to_path_buf(),
    ))
}

/// `path` with `.` and `..` segments folded, without touching the disk.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}
