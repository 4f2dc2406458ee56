//! CSS, one file at a time, with lightningcss.
//!
//! In: the source text of one stylesheet. Out: the printed stylesheet,
//! lowered for the browser targets (nesting, prefixes, colour fallbacks) and
//! minified when asked, or diagnostics. lightningcss borrows its input, so
//! parse, transform and print all happen inside this one call.

use std::sync::{Arc, RwLock};

use lightningcss::dependencies::{Dependency, DependencyOptions};
use lightningcss::stylesheet::{
    MinifyOptions, ParserFlags, ParserOptions, PrinterOptions, StyleSheet,
};
use lightningcss::targets::Targets as CssTargets;

use crate::config::Targets;
use crate::diagnostics::{Category, Diagnostic, Label};
use crate::refs::Reference;

/// Deepest nesting of blocks, parentheses and brackets accepted.
pub const MAX_NESTING: usize = 500;

#[derive(Debug, Clone, Copy)]
pub struct CssOptions {
    pub minify: bool,
    pub targets: Targets,
    /// Recovered syntax errors are warnings instead of errors.
    pub error_recovery: bool,
}

/// Compiled stylesheet and the warnings produced on the way.
pub struct CssOutput {
    /// The stylesheet, with every `url()` and `@import` URL replaced by a
    /// quoted placeholder (see [`substitute`]).
    pub code: String,
    pub warnings: Vec<Diagnostic>,
    /// Every `url()` and `@import` of the file, deduplicated by placeholder.
    pub refs: Vec<Reference>,
    /// The source text, for diagnostics about references.
    pub source: Arc<str>,
}

pub fn compile(
    name: &str,
    shown: &str,
    src: &str,
    opts: &CssOptions,
) -> Result<CssOutput, Vec<Diagnostic>> {
    let source: Arc<str> = Arc::from(src);
    let label_at = |line: u32, column: u32| {
        Label::at_line_col_utf16(shown, source.clone(), line as usize + 1, column as usize)
    };
    if let Some(at) = too_deep(src) {
        return Err(vec![
            Diagnostic::error(
                "CSS_NESTING",
                Category::Input,
                format!("nesting deeper than {MAX_NESTING} levels"),
            )
            .with_label(Label::new(shown, source.clone(), at..at + 1).with_text("too deep here")),
        ]);
    }

    let warnings = Arc::new(RwLock::new(Vec::new()));
    let parsed = StyleSheet::parse(
        src,
        ParserOptions {
            filename: name.to_string(),
            // Always recover, so every syntax error of the file is reported
            // at once; whether they fail the build is decided below.
            error_recovery: true,
            warnings: Some(warnings.clone()),
            flags: ParserFlags::empty(),
            ..ParserOptions::default()
        },
    );
    let mut sheet = match parsed {
        Ok(s) => s,
        Err(e) => {
            let mut d = Diagnostic::error("CSS_PARSE", Category::Input, e.kind.to_string());
            d = match &e.loc {
                Some(loc) => d.with_label(label_at(loc.line, loc.column)),
                None => d.with_file(shown),
            };
            return Err(vec![d]);
        }
    };
    let recovered: Vec<Diagnostic> = warnings
        .read()
        .map(|w| {
            w.iter()
                .map(|e| {
                    let d = if opts.error_recovery {
                        Diagnostic::warning("CSS_RECOVERED", Category::Input, format!("{} (rule dropped)", e.kind))
                    } else {
                        Diagnostic::error("CSS_PARSE", Category::Input, e.kind.to_string()).with_help(
                            "fix the syntax, or set `css-error-recovery = true` to drop invalid rules with a warning",
                        )
                    };
                    match &e.loc {
                        Some(loc) => d.with_label(label_at(loc.line, loc.column)),
                        None => d.with_file(shown),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    if !opts.error_recovery && !recovered.is_empty() {
        return Err(recovered);
    }

    let targets = CssTargets::from(opts.targets.browsers);
    // Like lightningcss's CLI: always run `minify`, which also lowers for the
    // targets; only the printer's whitespace depends on `minify`.
    if let Err(e) = sheet.minify(MinifyOptions {
        targets,
        ..MinifyOptions::default()
    }) {
        let mut d = Diagnostic::error("CSS_MINIFY", Category::Input, e.kind.to_string());
        d = match &e.loc {
            Some(loc) => d.with_label(label_at(loc.line, loc.column)),
            None => d.with_file(shown),
        };
        return Err(vec![d]);
    }
    let printed = sheet.to_css(PrinterOptions {
        minify: opts.minify,
        targets,
        analyze_dependencies: Some(DependencyOptions {
            remove_imports: false,
        }),
        ..PrinterOptions::default()
    });
    match printed {
        Ok(res) => {
            let mut code = res.code;
            if !code.ends_with('\n') {
                code.push('\n');
            }
            let mut found: Vec<Reference> = res
                .dependencies
                .unwrap_or_default()
                .into_iter()
                .map(|d| {
                    let (url, placeholder, loc) = match d {
                        Dependency::Url(u) => (u.url, u.placeholder, u.loc),
                        Dependency::Import(i) => (i.url, i.placeholder, i.loc),
                    };
                    Reference {
                        url,
                        placeholder,
                        line: loc.start.line as usize,
                        column: loc.start.column as usize,
                    }
                })
                .collect();
            // Prefixed fallbacks repeat a url(); one entry per placeholder.
            found.sort_by(|a, b| a.placeholder.cmp(&b.placeholder).then(a.line.cmp(&b.line)));
            found.dedup_by(|a, b| a.placeholder == b.placeholder);
            found.sort_by_key(|r| (r.line, r.column));
            Ok(CssOutput {
                code,
                warnings: recovered,
                refs: found,
                source,
            })
        }
        Err(e) => {
            let mut d = Diagnostic::error("CSS_PRINT", Category::Input, e.kind.to_string());
            d = match &e.loc {
                Some(loc) => d.with_label(label_at(loc.line, loc.column)),
                None => d.with_file(shown),
            };
            Err(vec![d])
        }
    }
}

/// Byte offset where `{`, `(` or `[` nesting first exceeds [`MAX_NESTING`].
/// Strings and comments are skipped.
pub fn too_deep(src: &str) -> Option<usize> {
    let b = src.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' | b'(' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            b'\\' => i += 1,
            b'"' | b'\'' => {
                let q = b[i];
                i += 1;
                while i < b.len() && b[i] != q && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Replaces each quoted placeholder in `code` with its URL. Inside `url()`
/// a URL that needs no quotes is written bare, as the minifier would;
/// elsewhere (`image-set("…" 1x)`, `@import "…"`) it stays a string.
pub fn substitute(code: &str, replacements: &[(String, String)]) -> String {
    let mut out = String::with_capacity(code.len() + replacements.len() * 32);
    let mut rest = code;
    loop {
        let next = replacements
            .iter()
            .filter_map(|(ph, url)| {
                let quoted = format!("\"{ph}\"");
                rest.find(&quoted).map(|i| (i, quoted.len(), url))
            })
            .min_by_key(|(i, _, _)| *i);
        let Some((i, len, url)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..i]);
        let in_url = out.ends_with("url(");
        let bare_ok = !url.is_empty()
            && !url.chars().any(|c| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '(' | ')' | '\\') || c.is_control()
            });
        if in_url && bare_ok {
            out.push_str(url);
        } else {
            out.push('"');
            for c in url.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\a "),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        rest = &rest[i + len..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_keeps_strings_where_needed() {
        let code = r#"a{background:url("P1")}b{background-image:image-set("P2" 1x)}@import "P3";c{d:url("P4")}"#;
        let r = |a: &str, b: &str| (a.to_string(), b.to_string());
        let out = substitute(
            code,
            &[
                r("P1", "x-1.png"),
                r("P2", "y-2.png"),
                r("P3", "z-3.css"),
                r("P4", "data:image/svg+xml,<svg a=\"b\">"),
            ],
        );
        assert_eq!(
            out,
            r#"a{background:url(x-1.png)}b{background-image:image-set("y-2.png" 1x)}@import "z-3.css";c{d:url("data:image/svg+xml,<svg a=\"b\">")}"#
        );
    }
}
