//! Discovery: walks the source root and returns the sorted list of sources.
//!
//! In: `&Config`. Out: [`Source`]s sorted by logical name (bytewise), the
//! same order on every machine whatever the directory order on disk.
//!
//! Skipped: hidden files and directories (`.git`, `.DS_Store`, `.#lock`),
//! `node_modules`, editor byproducts (`*~`, `*.swp`, vim's `4913`,
//! `JetBrains`' `___jb_tmp___`, emacs' `#file#`), TypeScript declarations
//! (`*.d.ts`), the out dir and the config file.
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
/// assets.
pub fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.')
        || name == "node_modules"
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

fn is_declaration(name: &str) -> bool {
    [".d.ts", ".d.mts", ".d.cts"]
        .iter()
        .any(|e| name.to_ascii_lowercase().ends_with(e))
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
            if is_ignored_name(&name) {
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
                    .is_some_and(|n| is_ignored_name(&n.to_string_lossy()))
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
        if config_canon.as_deref() == Some(path) {
            continue;
        }
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
