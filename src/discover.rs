//! Discovery: walks the source root and returns the sorted list of sources.
//!
//! In: `&Config`. Out: [`Source`]s sorted by logical name (bytewise), the
//! same order on every machine whatever the directory order on disk.
//!
//! Skipped: hidden files and directories (`.git`, `.DS_Store`, `.#lock`),
//! editor byproducts (`*~`, `*.swp`, vim's `4913`, `JetBrains`'
//! `___jb_tmp___`, emacs' `#file#`), TypeScript declarations (`*.d.ts`) and
//! the out dir. Also skipped, at any depth, unless an `include` glob writes
//! their name out: the project's own files ([`is_project_name`]:
//! `package.json`, lock files, `tsconfig.json`, `prebake.toml`, …),
//! `node_modules`, and the config file in use. With `root = "."` these sit
//! in the root, and publishing them would leak the project's setup.
//!
//! Symlinks are followed only when their target is inside the source root;
//! a link that leaves the root is an `OUTSIDE_ROOT` error, a loop is a
//! `SYMLINK_LOOP` error.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use crate::config::{Config, canonical_prefix};
use crate::diagnostics::{Category, Diagnostic};

/// What the compile stage does with a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Js(JsKind),
    Css,
    /// An HTML page: references rewritten, name kept.
    Html,
    Static,
}

/// The JavaScript dialects, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsKind {
    /// `.js`: module or classic script, with JSX allowed.
    Js,
    /// `.mjs`
    Mjs,
    /// `.cjs`: `CommonJS`, always a script.
    Cjs,
    /// `.jsx`
    Jsx,
    /// `.ts`
    Ts,
    /// `.mts`: always a module.
    Mts,
    /// `.cts`: `CommonJS`, always a script.
    Cts,
    /// `.tsx`
    Tsx,
}

impl JsKind {
    /// `.ts`, `.tsx`, `.mts`, `.cts`.
    pub fn is_typescript(self) -> bool {
        matches!(self, JsKind::Ts | JsKind::Tsx | JsKind::Mts | JsKind::Cts)
    }
}

/// One input file.
#[derive(Debug, Clone)]
pub struct Source {
    /// Path relative to the root with `/`: the manifest key.
    pub logical: String,
    /// Absolute path to read.
    pub path: PathBuf,
    pub kind: Kind,
}

impl Kind {
    /// Extension of the output file, with the dot.
    pub fn out_ext(self, logical: &str) -> String {
        match self {
            Kind::Js(JsKind::Ts | JsKind::Tsx | JsKind::Jsx | JsKind::Js) => ".js".to_string(),
            Kind::Js(JsKind::Mjs | JsKind::Mts) => ".mjs".to_string(),
            Kind::Js(JsKind::Cjs | JsKind::Cts) => ".cjs".to_string(),
            Kind::Css => ".css".to_string(),
            Kind::Html | Kind::Static => extension(logical),
        }
    }
}

/// The extension with its dot as written (`""` when there is none).
pub fn extension(logical: &str) -> String {
    let file = logical.rsplit('/').next().unwrap_or(logical);
    match file.rfind('.') {
        Some(i) if i > 0 => file[i..].to_string(),
        _ => String::new(),
    }
}

/// The file name without its extension.
pub fn stem(logical: &str) -> &str {
    let file = logical.rsplit('/').next().unwrap_or(logical);
    match file.rfind('.') {
        Some(i) if i > 0 => &file[..i],
        _ => file,
    }
}

/// Classifies a file by its extension (case-insensitively).
pub fn kind_of(logical: &str) -> Kind {
    match extension(logical).to_ascii_lowercase().as_str() {
        ".js" => Kind::Js(JsKind::Js),
        ".mjs" => Kind::Js(JsKind::Mjs),
        ".cjs" => Kind::Js(JsKind::Cjs),
        ".jsx" => Kind::Js(JsKind::Jsx),
        ".ts" => Kind::Js(JsKind::Ts),
        ".mts" => Kind::Js(JsKind::Mts),
        ".cts" => Kind::Js(JsKind::Cts),
        ".tsx" => Kind::Js(JsKind::Tsx),
        ".css" => Kind::Css,
        ".html" | ".htm" => Kind::Html,
        _ => Kind::Static,
    }
}

/// True for names that editors and tools leave behind and that are never
/// assets, whatever `include` says.
pub fn is_byproduct(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with('~')
        || name == "4913"
        || (name.starts_with("___jb_") && name.ends_with("___"))
        // JetBrains' safe write: `app.ts___jb_tmp___`, `app.ts___jb_old___`.
        || name.ends_with("___jb_tmp___")
        || name.ends_with("___jb_old___")
        || (name.starts_with('#') && name.ends_with('#'))
        || [".swp", ".swo", ".swx"].iter().any(|e| name.ends_with(e))
        || name == "Thumbs.db"
}

/// True for names that are never watched as part of the root: byproducts,
/// and `node_modules`, which holds far more files than a project and whose
/// files a build uses are watched as its inputs instead.
pub fn is_ignored_name(name: &str) -> bool {
    is_byproduct(name) || name == "node_modules"
}

/// Files that configure the build or a package manager: never assets, and
/// with `root = "."` they sit in the root. The list is by role, not "every
/// file that is not an asset": prebake's own config, the `tsconfig` and
/// `jsconfig` files the bundler reads `paths` from, and the manifests,
/// lock files and settings of the package managers whose lock files we
/// know (npm, yarn, pnpm, bun, deno, and cargo for a crate whose build
/// script builds its own directory). Other tools' files (a `Dockerfile`,
/// `vite.config.ts`) are the user's to `exclude`.
const PROJECT_FILES: &[&str] = &[
    "prebake.toml",
    "tsconfig.json",
    "jsconfig.json",
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "bun.lock",
    "bun.lockb",
    "bunfig.toml",
    "deno.json",
    "deno.jsonc",
    "deno.lock",
    "Cargo.toml",
    "Cargo.lock",
];

/// True for the names discovery skips unless an `include` glob writes them
/// out: the project files of `PROJECT_FILES`, `tsconfig.*.json` (the
/// `tsconfig.app.json` of a Vite template) and `node_modules`. Case
/// matters, as it does to the tools that read these files.
pub fn is_project_name(name: &str) -> bool {
    name == "node_modules"
        || PROJECT_FILES.contains(&name)
        || name
            .strip_prefix("tsconfig.")
            .is_some_and(|rest| rest.strip_suffix(".json").is_some())
}

fn is_declaration(name: &str) -> bool {
    [".d.ts", ".d.mts", ".d.cts"]
        .iter()
        .any(|e| name.to_ascii_lowercase().ends_with(e))
}

/// One component of a path below the root, for [`Spelled`].
struct Part<'a> {
    name: std::borrow::Cow<'a, str>,
    /// A project name (or the config file in use): only a glob segment
    /// that writes it out matches it.
    reserved: bool,
}

/// One `/`-separated segment of an `include` glob.
enum Segment {
    /// `**`: any number of components, none of them reserved.
    Recursive,
    /// Anything else: one component. A reserved component only matches a
    /// segment that is its name verbatim, so `*.json` and `**` never
    /// publish `package.json` and never descend into `node_modules`.
    One {
        text: String,
        glob: globset::GlobMatcher,
    },
}

impl Segment {
    fn matches(&self, part: &Part) -> bool {
        match self {
            Segment::Recursive => false,
            Segment::One { text, glob } => {
                if part.reserved {
                    *text == part.name
                } else {
                    glob.is_match(part.name.as_ref())
                }
            }
        }
    }
}

/// The `include` globs split into segments, indexed as `cfg.include`, to
/// tell whether a glob writes out the reserved names of a path.
struct Spelled(Vec<Option<Vec<Segment>>>);

impl Spelled {
    fn new(globs: &[String]) -> Spelled {
        Spelled(
            globs
                .iter()
                .map(|g| {
                    g.split('/')
                        .map(|seg| {
                            if seg == "**" {
                                return Some(Segment::Recursive);
                            }
                            // A segment that does not compile on its own
                            // (a `{…}` alternative holding a `/`) spells
                            // out nothing.
                            let glob = globset::GlobBuilder::new(seg)
                                .literal_separator(true)
                                .build()
                                .ok()?
                                .compile_matcher();
                            Some(Segment::One {
                                text: seg.to_string(),
                                glob,
                            })
                        })
                        .collect()
                })
                .collect(),
        )
    }

    /// Whether a glob that `include` matches against `rel` also matches it
    /// segment by segment with its reserved names written out.
    fn names_file(&self, include: &globset::GlobSet, rel: &Path, parts: &[Part]) -> bool {
        include.matches(rel).into_iter().any(|i| {
            self.0
                .get(i)
                .and_then(Option::as_ref)
                .is_some_and(|segs| segment_match(segs, parts, false))
        })
    }

    /// Whether some glob can match a file below the directory `parts`, its
    /// reserved names written out: the walk enters only such directories
    /// of `node_modules`, not the whole tree.
    fn reaches_below(&self, parts: &[Part]) -> bool {
        self.0
            .iter()
            .flatten()
            .any(|segs| segment_match(segs, parts, true))
    }
}

/// The rule for project files, `node_modules` and the config file in use.
struct Reserved<'c> {
    cfg: &'c Config,
    /// The config file in use, canonical: reserved whatever its name.
    config_file: Option<PathBuf>,
    spelled: Spelled,
}

impl<'c> Reserved<'c> {
    fn new(cfg: &'c Config, config_file: Option<PathBuf>) -> Self {
        Reserved {
            cfg,
            config_file,
            spelled: Spelled::new(&cfg.include_globs),
        }
    }

    /// False for a path with a reserved component that no `include` glob
    /// writes out (for a directory: that no glob can reach below); true
    /// for every other path, which the usual `include`/`exclude` decide.
    fn admits(&self, path: &Path, dir: bool) -> bool {
        let Ok(rel) = path.strip_prefix(&self.cfg.root) else {
            return true;
        };
        let is_config = self.config_file.as_deref() == Some(path);
        if !is_config
            && !rel
                .components()
                .any(|c| is_project_name(&c.as_os_str().to_string_lossy()))
        {
            return true;
        }
        let mut parts: Vec<Part> = rel
            .components()
            .map(|c| {
                let name = c.as_os_str().to_string_lossy();
                Part {
                    reserved: is_project_name(&name),
                    name,
                }
            })
            .collect();
        if is_config && let Some(last) = parts.last_mut() {
            last.reserved = true;
        }
        if dir {
            self.spelled.reaches_below(&parts)
        } else {
            self.spelled.names_file(&self.cfg.include, rel, &parts)
        }
    }
}

/// Matches glob segments against path components. With `below`, the
/// components are a directory and the question is whether the glob can
/// match something inside it.
fn segment_match(segs: &[Segment], parts: &[Part], below: bool) -> bool {
    match (segs.first(), parts.first()) {
        (None, None) => !below,
        (Some(_), None) => below || segs.iter().all(|s| matches!(s, Segment::Recursive)),
        (None, Some(_)) => false,
        (Some(Segment::Recursive), Some(part)) => {
            segment_match(&segs[1..], parts, below)
                || (!part.reserved && segment_match(segs, &parts[1..], below))
        }
        (Some(seg), Some(part)) => {
            seg.matches(part) && segment_match(&segs[1..], &parts[1..], below)
        }
    }
}

/// Walks the root. Returns the sources it could list and every problem it
/// met, so the build can still report the errors of the other files.
pub fn discover(cfg: &Config) -> (Vec<Source>, Vec<Diagnostic>) {
    let out_canon = canonical_prefix(&cfg.out);
    // The out dir by identity (device, inode), so it is skipped however the
    // walk reaches it, through a symlinked parent too.
    let out_id = std::fs::metadata(&cfg.out).ok().map(|m| (m.dev(), m.ino()));
    let is_out = |e: &walkdir::DirEntry| {
        e.file_type().is_dir()
            && (out_id.is_some() && e.metadata().ok().map(|m| (m.dev(), m.ino())) == out_id
                || e.path() == out_canon)
    };
    let config_canon = cfg.config_file.as_ref().and_then(|p| p.canonicalize().ok());
    let reserved = Reserved::new(cfg, config_canon);
    let mut sources = Vec::new();
    let mut errors = Vec::new();

    // Links are checked as they are met, so a link that leaves the root is
    // reported once and never descended into.
    let link_errors = std::cell::RefCell::new(Vec::new());
    let walker = walkdir::WalkDir::new(&cfg.root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() == 0 {
                return true;
            }
            let name = e.file_name().to_string_lossy();
            if is_byproduct(&name) {
                return false;
            }
            // Project files and `node_modules` only when `include` names
            // them; pruned before a link among them is checked, so a
            // package linked from outside the root is no error.
            if !reserved.admits(e.path(), e.file_type().is_dir()) {
                return false;
            }
            // Prune excluded directories before looking inside them, so an
            // excluded vendor tree cannot fail the build.
            if e.file_type().is_dir()
                && let Ok(rel) = e.path().strip_prefix(&cfg.root)
                && (cfg.exclude.is_match(rel)
                    || cfg.exclude.is_match(rel.join("__prebake_probe__")))
            {
                return false;
            }
            if e.path_is_symlink() {
                let mut errs = link_errors.borrow_mut();
                if !check_inside(cfg, e.path(), &mut errs) {
                    return false;
                }
                // Never read the out dir back as input, even through a link.
                return !is_out(e);
            }
            !is_out(e)
        });

    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // Following links stats their targets before the filter
                // sees the name: emacs' lock file `.#app.ts` is a dangling
                // symlink, and an ignored name is never an error.
                if e.path()
                    .and_then(Path::file_name)
                    .is_some_and(|n| is_byproduct(&n.to_string_lossy()))
                {
                    continue;
                }
                // Nor is a broken link among files that `include` leaves
                // out (a dangling `node_modules/pkg` of a half install).
                if e.path()
                    .is_some_and(|p| !reserved.admits(p, true) && !reserved.admits(p, false))
                {
                    continue;
                }
                let path = e.path().map(|p| cfg.display_path(p)).unwrap_or_default();
                if e.loop_ancestor().is_some() {
                    errors.push(
                        Diagnostic::error(
                            "SYMLINK_LOOP",
                            Category::Input,
                            format!("symlink loop at {path}"),
                        )
                        .with_file(path),
                    );
                } else {
                    let d =
                        Diagnostic::error("IO", Category::Io, format!("cannot read {path}: {e}"));
                    errors.push(d.with_file(path));
                }
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue; // sockets, fifos, devices: never assets
        }
        let name = entry.file_name().to_string_lossy();
        if is_declaration(&name) {
            continue;
        }
        let path = entry.path();
        let Ok(rel) = path.strip_prefix(&cfg.root) else {
            continue;
        };
        if !cfg.include.is_match(rel) || cfg.exclude.is_match(rel) {
            continue;
        }
        let Some(rel_str) = rel.to_str() else {
            let shown = cfg.display_path(path);
            errors.push(
                Diagnostic::error(
                    "NON_UTF8_PATH",
                    Category::Input,
                    format!("file name is not valid UTF-8: {shown}"),
                )
                .with_file(shown),
            );
            continue;
        };
        let logical = rel_str.replace(std::path::MAIN_SEPARATOR, "/");
        sources.push(Source {
            kind: kind_of(&logical),
            logical,
            path: path.to_path_buf(),
        });
    }
    errors.extend(link_errors.into_inner());
    sources.sort_by(|a, b| a.logical.cmp(&b.logical));
    (sources, errors)
}

/// A followed link must stay inside the root.
fn check_inside(cfg: &Config, path: &Path, errors: &mut Vec<Diagnostic>) -> bool {
    match path.canonicalize() {
        Ok(target) if target.starts_with(&cfg.root) => true,
        Ok(target) => {
            let shown = cfg.display_path(path);
            errors.push(
                Diagnostic::error(
                    "OUTSIDE_ROOT",
                    Category::Input,
                    format!("{shown} is a symlink that leads outside the source root"),
                )
                .with_file(shown)
                .with_note(format!(
                    "it resolves to {}; prebake follows symlinks only into the source root",
                    if target.is_absolute() {
                        "a path outside the root"
                    } else {
                        "a relative path"
                    }
                )),
            );
            false
        }
        Err(e) => {
            let shown = cfg.display_path(path);
            errors.push(
                Diagnostic::error("IO", Category::Io, format!("cannot resolve {shown}: {e}"))
                    .with_file(shown),
            );
            false
        }
    }
}

/// Where files of packages are named in the release.
pub const NPM: &str = "_npm";

/// The `node_modules` directory a file is in (the innermost), and the
/// file's path below it with `/`.
pub fn in_node_modules(path: &Path) -> Option<(PathBuf, String)> {
    let parts: Vec<_> = path.components().collect();
    let at = parts
        .iter()
        .rposition(|c| c.as_os_str() == "node_modules")?;
    let dir: PathBuf = parts[..=at].iter().collect();
    let rel: Vec<String> = parts[at + 1..]
        .iter()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!rel.is_empty()).then(|| (dir, rel.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_byproducts_are_ignored() {
        for n in [
            ".x.swp",
            "a.swp",
            "a~",
            "4913",
            "___jb_tmp___",
            "app.ts___jb_tmp___",
            "app.ts___jb_old___",
            "#a.js#",
            ".#a.js",
            "node_modules",
        ] {
            assert!(is_ignored_name(n), "{n}");
        }
        for n in ["app.js", "4914", "a.swpx"] {
            assert!(!is_ignored_name(n), "{n}");
        }
        // Skipped by default, but an `include` can name it.
        assert!(!is_byproduct("node_modules"));
    }

    #[test]
    fn project_files_are_reserved_by_exact_name() {
        for n in [
            "prebake.toml",
            "package.json",
            "package-lock.json",
            "npm-shrinkwrap.json",
            "yarn.lock",
            "pnpm-lock.yaml",
            "pnpm-workspace.yaml",
            "bun.lock",
            "bun.lockb",
            "bunfig.toml",
            "deno.json",
            "deno.jsonc",
            "deno.lock",
            "tsconfig.json",
            "tsconfig.app.json",
            "tsconfig.node.json",
            "jsconfig.json",
            "Cargo.toml",
            "Cargo.lock",
            "node_modules",
        ] {
            assert!(is_project_name(n), "{n}");
        }
        // Assets that merely look alike, and other tools' files.
        for n in [
            "package.json5",
            "my-package.json",
            "Package.json",
            "tsconfig.json.txt",
            "tsconfig-app.json",
            "manifest.json",
            "data.lock",
            "Dockerfile",
            "vite.config.ts",
            "node_modules.css",
        ] {
            assert!(!is_project_name(n), "{n}");
        }
    }

    /// Whether `glob` brings in `path` (a file, or with `dir` a directory
    /// to walk into), its reserved names by [`is_project_name`].
    #[track_caller]
    fn spells(glob: &str, path: &str, dir: bool) -> bool {
        let spelled = Spelled::new(&[glob.to_string()]);
        let parts: Vec<Part> = path
            .split('/')
            .map(|n| Part {
                name: n.into(),
                reserved: is_project_name(n),
            })
            .collect();
        let segs = spelled.0[0].as_ref().expect("glob splits");
        segment_match(segs, &parts, dir)
    }

    #[test]
    fn only_a_written_out_name_brings_in_a_project_file() {
        assert!(spells("package.json", "package.json", false));
        assert!(spells("**/package.json", "web/package.json", false));
        assert!(spells("tsconfig.app.json", "tsconfig.app.json", false));
        assert!(spells("web/*", "web/app.css", false));
        // Wildcards never match a reserved name.
        assert!(!spells("**", "package.json", false));
        assert!(!spells("*.json", "package.json", false));
        assert!(!spells("tsconfig.*.json", "tsconfig.app.json", false));
        assert!(!spells("**", "web/yarn.lock", false));
        assert!(!spells("package.json", "web/package.json", false));
    }

    #[test]
    fn only_a_written_out_node_modules_is_walked() {
        let g = "node_modules/pkg/dist/**";
        assert!(spells(g, "node_modules", true));
        assert!(spells(g, "node_modules/pkg", true));
        assert!(spells(g, "node_modules/pkg/dist/a.css", false));
        assert!(spells(g, "node_modules/pkg/dist/fonts/a.woff2", false));
        // Other packages are not walked.
        assert!(!spells(g, "node_modules/other", true));
        assert!(!spells(g, "node_modules/pkg/src", true));
        // `**` below it never reaches a nested `node_modules` or a
        // package's own `package.json`.
        assert!(!spells(g, "node_modules/pkg/dist/node_modules", true));
        assert!(!spells(g, "node_modules/pkg/dist/package.json", false));
        assert!(spells(
            "**/node_modules/pkg/x.css",
            "web/node_modules",
            true
        ));
        assert!(spells(
            "**/node_modules/pkg/x.css",
            "web/node_modules/pkg/x.css",
            false
        ));
        // The default walks none.
        assert!(!spells("**", "node_modules", true));
        assert!(!spells("**", "web/node_modules", true));
        assert!(!spells("*/**", "node_modules", true));
        // A glob naming a file inside reaches no further.
        assert!(!spells(
            "node_modules/pkg/x.css",
            "node_modules/pkg/x.css",
            true
        ));
    }

    #[test]
    fn kinds_and_extensions() {
        assert_eq!(kind_of("a/b.TSX"), Kind::Js(JsKind::Tsx));
        assert_eq!(kind_of("x.css"), Kind::Css);
        assert_eq!(kind_of("LICENSE"), Kind::Static);
        assert_eq!(kind_of("a.ts").out_ext("a.ts"), ".js");
        assert_eq!(kind_of("a.mts").out_ext("a.mts"), ".mjs");
        assert_eq!(kind_of("a.png").out_ext("a.png"), ".png");
        assert_eq!(stem("dir/jquery.min.js"), "jquery.min");
        assert_eq!(stem(".env"), ".env");
        assert_eq!(extension("dir.x/LICENSE"), "");
    }
}
