//! References between assets: classify, resolve and rewrite them.
//!
//! In: the references a compile stage found in one file (a URL as written,
//! the placeholder standing for it in the output, and where it was written).
//! Out: for each, either "external, keep as written" or the logical name of
//! the target inside the source root plus the query and fragment to keep; or
//! a diagnostic (`OUTSIDE_ROOT`, `MISSING_TARGET`).
//!
//! Rewritten URLs are relative to the referring file's own output location,
//! so a release works under any `base` and any mount point.

use std::sync::Arc;

use crate::diagnostics::{Category, Diagnostic, Label};

/// A reference found in a compiled file.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The URL as written in the source.
    pub url: String,
    /// The text standing for it in the compiled output (quoted in CSS).
    pub placeholder: String,
    /// 1-based line and UTF-16 column where it was written.
    pub line: usize,
    pub column: usize,
    /// Logical name of the file it was written in (after `@import`
    /// inlining, not always the file being compiled).
    pub from: String,
}

/// What a reference points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Not ours (`https:`, `//cdn`, `data:`, `#frag`): kept byte for byte.
    External,
    /// A file in the source root, and the `?query#fragment` to keep.
    Local { logical: String, suffix: String },
}

/// Where a placeholder of an output goes, once every output is known.
#[derive(Debug, Clone)]
pub enum Link {
    /// An external URL, written back as it was.
    Keep(String),
    /// Output `j`, plus the query and fragment to keep.
    To(usize, String),
    /// Output `j` as base + name, whatever the URL style (an asset URL
    /// that JS hands to the page).
    Base(usize),
}

impl Link {
    /// The output it names, if any.
    pub fn target(&self) -> Option<usize> {
        match self {
            Link::To(j, _) | Link::Base(j) => Some(*j),
            Link::Keep(_) => None,
        }
    }
}

/// The file of the root a root-relative URL (`/src/main.tsx`) names, as
/// Vite reads pages: from the root, else from its `public/` directory
/// (`/favicon.svg`). `None` for anything else, which stays an
/// `OUTSIDE_ROOT` error.
pub fn root_relative(url: &str, exists: &dyn Fn(&str) -> bool) -> Option<String> {
    let rest = url.strip_prefix('/').filter(|r| !r.starts_with('/'))?;
    let (path, _) = split_suffix(rest);
    let decoded = percent_decode(path)?;
    if decoded.contains(['\\', '\0']) {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    let logical = parts.join("/");
    if logical.is_empty() {
        return None;
    }
    [logical.clone(), format!("public/{logical}")]
        .into_iter()
        .find(|l| exists(l))
}

/// Classifies and resolves `url`, written in the file `from` (a logical
/// name). `exists` says whether a logical name is a source of this build.
pub fn resolve(
    url: &str,
    from: &str,
    exists: &dyn Fn(&str) -> bool,
) -> Result<Target, ResolveError> {
    let trimmed = url.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("//") {
        return Ok(Target::External);
    }
    if let Some(scheme) = scheme_of(trimmed) {
        return if scheme.eq_ignore_ascii_case("file") {
            Err(ResolveError::Outside("a `file:` URL".into()))
        } else {
            Ok(Target::External)
        };
    }
    let (path, suffix) = split_suffix(trimmed);
    let decoded =
        percent_decode(path).ok_or_else(|| ResolveError::Outside("a malformed %-escape".into()))?;
    if decoded.contains('\\') {
        return Err(ResolveError::Outside("a backslash".into()));
    }
    if decoded.starts_with('/') {
        return Err(ResolveError::Outside("an absolute path".into()));
    }
    if decoded.contains('\0') {
        return Err(ResolveError::Outside("a NUL byte".into()));
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop(); // the referring file's own name
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(ResolveError::Outside("`..` past the source root".into()));
                }
            }
            s => parts.push(s),
        }
    }
    let logical = parts.join("/");
    if logical.is_empty() || !exists(&logical) {
        return Err(ResolveError::Missing(logical));
    }
    Ok(Target::Local {
        logical,
        suffix: suffix.to_string(),
    })
}

/// Like [`resolve`], for module specifiers: an exact file, else the
/// TypeScript source of a `.js` specifier, else the path with a module
/// extension, else a directory's `index` file.
pub fn resolve_module(
    url: &str,
    from: &str,
    exists: &dyn Fn(&str) -> bool,
) -> Result<Target, ResolveError> {
    const EXTS: [&str; 9] = [
        ".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".json",
    ];
    let (logical, suffix) = match resolve(url, from, &|_| true) {
        Ok(Target::Local { logical, suffix }) => (logical, suffix),
        other => return other,
    };
    let mut candidates = vec![logical.clone()];
    for (js, ts) in [
        (".js", ".ts"),
        (".js", ".tsx"),
        (".jsx", ".tsx"),
        (".mjs", ".mts"),
        (".cjs", ".cts"),
    ] {
        if let Some(stem) = logical.strip_suffix(js) {
            candidates.push(format!("{stem}{ts}"));
        }
    }
    candidates.extend(EXTS.iter().map(|e| format!("{logical}{e}")));
    candidates.extend(EXTS.iter().map(|e| format!("{logical}/index{e}")));
    match candidates.into_iter().find(|c| exists(c)) {
        Some(found) => Ok(Target::Local {
            logical: found,
            suffix,
        }),
        None => Err(ResolveError::Missing(logical)),
    }
}

/// Why a reference could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// It leaves the source root; the text says how.
    Outside(String),
    /// No source has this logical name.
    Missing(String),
}

impl ResolveError {
    /// The diagnostic for a reference written at `r` in `shown`, whose text
    /// is `source`. `root_shown` is the source root as shown to the user.
    pub fn diagnostic(
        &self,
        r: &Reference,
        shown: &str,
        source: &Arc<str>,
        root_shown: &str,
    ) -> Diagnostic {
        let label = Label::at_line_col_utf16(shown, source.clone(), r.line, r.column);
        match self {
            ResolveError::Outside(how) => Diagnostic::error(
                "OUTSIDE_ROOT",
                Category::Input,
                format!("`{}` leaves the source root ({how})", r.url),
            )
            .with_label(label.with_text("points outside the source root"))
            .with_help("reference files inside the source root with a relative path"),
            ResolveError::Missing(logical) => Diagnostic::error(
                "MISSING_TARGET",
                Category::Input,
                format!("`{}` points to a file that is not part of the build", r.url),
            )
            .with_label(label.with_text("not found"))
            .with_note(format!("looked for {root_shown}/{logical}"))
            .with_help("check the path, and that `include`/`exclude` do not leave the file out"),
        }
    }
}

/// A URL's path and its `?query#fragment` (empty when it has none).
pub fn split_suffix(url: &str) -> (&str, &str) {
    url.split_at(url.find(['?', '#']).unwrap_or(url.len()))
}

/// `scheme` of `scheme:rest`, if `url` starts with a URL scheme.
fn scheme_of(url: &str) -> Option<&str> {
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        // A one-letter "scheme" is a Windows drive (`C:\x`): absolute.
        && scheme.len() > 1)
        .then_some(scheme)
}

/// `s` with `%XX` escapes decoded, if they are well formed and give UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The URL of output `to` as seen from output `from` (paths relative to the
/// out dir, with `/`), percent-encoded.
pub fn relative_url(from: &str, to: &str) -> String {
    let from_dir: Vec<&str> = {
        let mut v: Vec<&str> = from.split('/').collect();
        v.pop();
        v
    };
    let to_parts: Vec<&str> = to.split('/').collect();
    let common = from_dir
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count()
        .min(to_parts.len().saturating_sub(1));
    let mut url = "../".repeat(from_dir.len() - common);
    url.push_str(&to_parts[common..].join("/"));
    let url = crate::manifest::encode_path(&url);
    // A first segment with a colon would read as a scheme.
    if !url.starts_with("../") && url.split('/').next().is_some_and(|s| s.contains(':')) {
        format!("./{url}")
    } else {
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::unnecessary_wraps)] // compared with resolve()'s result
    fn local(logical: &str, suffix: &str) -> Result<Target, ResolveError> {
        Ok(Target::Local {
            logical: logical.into(),
            suffix: suffix.into(),
        })
    }

    #[test]
    fn externals_stay() {
        let any = |_: &str| true;
        for url in [
            "https://x/y.png",
            "http://x",
            "//cdn/x.css",
            "data:image/png;base64,AA",
            "#m",
            "about:blank",
            "blob:x",
            "",
        ] {
            assert_eq!(
                resolve(url, "css/a.css", &any),
                Ok(Target::External),
                "{url}"
            );
        }
    }

    #[test]
    fn local_paths_resolve_with_query_and_fragment() {
        let exists = |l: &str| l == "fonts/x.woff2" || l == "css/img.png" || l == "a b.png";
        assert_eq!(
            resolve("../fonts/x.woff2?#iefix", "css/a.css", &exists),
            local("fonts/x.woff2", "?#iefix")
        );
        assert_eq!(
            resolve("./img.png#frag", "css/a.css", &exists),
            local("css/img.png", "#frag")
        );
        assert_eq!(
            resolve("img.png?v=3", "css/a.css", &exists),
            local("css/img.png", "?v=3")
        );
        assert_eq!(resolve("a%20b.png", "x.css", &exists), local("a b.png", ""));
        assert_eq!(
            resolve("nope.png", "css/a.css", &exists),
            Err(ResolveError::Missing("css/nope.png".into()))
        );
    }

    #[test]
    fn escapes_are_outside_root() {
        let any = |_: &str| true;
        for url in [
            "../../x.png",
            "%2e%2e/%2e%2e/x.png",
            "..\\x.png",
            "/etc/passwd",
            "file:///etc/passwd",
            "C:\\x.png",
            "%zz",
        ] {
            assert!(
                matches!(
                    resolve(url, "css/a.css", &any),
                    Err(ResolveError::Outside(_))
                ),
                "{url}"
            );
        }
    }

    #[test]
    fn module_specifiers_probe_extensions_and_index() {
        let files = ["lib/a.ts", "lib/index.tsx", "lib/b.js", "c.json", "d.mts"];
        let exists = |l: &str| files.contains(&l);
        assert_eq!(
            resolve_module("./lib/a", "main.ts", &exists),
            local("lib/a.ts", "")
        );
        assert_eq!(
            resolve_module("./lib/a.js", "main.ts", &exists),
            local("lib/a.ts", "")
        );
        assert_eq!(
            resolve_module("./lib", "main.ts", &exists),
            local("lib/index.tsx", "")
        );
        assert_eq!(
            resolve_module("./lib/b.js?x", "main.ts", &exists),
            local("lib/b.js", "?x")
        );
        assert_eq!(
            resolve_module("../c.json", "lib/a.ts", &exists),
            local("c.json", "")
        );
        assert_eq!(
            resolve_module("./d.mjs", "x.ts", &exists),
            local("d.mts", "")
        );
        assert_eq!(
            resolve_module("./zz", "x.ts", &exists),
            Err(ResolveError::Missing("zz".into()))
        );
        assert_eq!(
            resolve_module("https://x/y.js", "x.ts", &exists),
            Ok(Target::External)
        );
    }

    #[test]
    fn relative_urls_between_outputs() {
        assert_eq!(
            relative_url("css/a-1.css", "fonts/x-2.woff2"),
            "../fonts/x-2.woff2"
        );
        assert_eq!(relative_url("css/a-1.css", "css/b-2.png"), "b-2.png");
        assert_eq!(relative_url("a-1.css", "img/b-2.png"), "img/b-2.png");
        assert_eq!(relative_url("a/b/c-1.css", "a/x-2.png"), "../x-2.png");
        assert_eq!(relative_url("a-1.css", "sp ace#1.png"), "sp%20ace%231.png");
        assert_eq!(relative_url("a-1.css", "c:d.png"), "./c:d.png");
    }
}
