//! CSS, one file at a time, with lightningcss.
//!
//! In: the source text of one stylesheet. Out: the printed stylesheet,
//! lowered for the browser targets (nesting, prefixes, colour fallbacks) and
//! minified when asked, or diagnostics. lightningcss borrows its input, so
//! parse, transform and print all happen inside this one call.

use std::sync::{Arc, RwLock};

use lightningcss::stylesheet::{
    MinifyOptions, ParserFlags, ParserOptions, PrinterOptions, StyleSheet,
};
use lightningcss::targets::Targets as CssTargets;

use crate::config::Targets;
use crate::diagnostics::{Category, Diagnostic, Label};

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
    pub code: String,
    pub warnings: Vec<Diagnostic>,
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
        ..PrinterOptions::default()
    });
    match printed {
        Ok(res) => {
            let mut code = res.code;
            if !code.ends_with('\n') {
                code.push('\n');
            }
            Ok(CssOutput {
                code,
                warnings: recovered,
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
