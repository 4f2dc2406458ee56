//! Bounds on how deep JS may nest, checked before swc sees a file: on the
//! text ([`too_deep`]: brackets and `else if` chains, with a scanner that
//! skips strings, templates, comments and regular expressions), then on the
//! parsed tree ([`too_complex`]). Deeper input is an error, not a stack
//! overflow or a hang.

use std::sync::Arc;

use swc_core::common::{Span, Spanned};
use swc_core::ecma::ast::Program;

use crate::diagnostics::{Category, Diagnostic, Label};

/// Deepest bracket nesting accepted in JS. Real code stays far below; the
/// bound keeps hostile input from exhausting the stack (which aborts the
/// process and cannot be caught).
pub const MAX_NESTING: usize = 1000;

/// Most `else if` clauses accepted in one block (see [`too_deep`]).
pub const MAX_ELSE_IF: usize = 10_000;

/// Deepest syntax tree accepted: nested expressions (including long
/// operator chains, which are left-nested), statements, types and JSX. swc's
/// parser, JSX transform and compressor are quadratic in this depth (a
/// 9,000-deep `else if` chain or JSX tree takes 44 s), so deeper input is an
/// error rather than a hang; at this bound the worst shape takes about 2 s.
pub const MAX_AST_DEPTH: usize = 2_000;

/// The error for a text [`too_deep`] refuses, if it does.
pub(super) fn check_text(src: &str, shown: &str, source: &Arc<str>) -> Result<(), Vec<Diagnostic>> {
    let Some(at) = too_deep(src) else {
        return Ok(());
    };
    let label = Label::new(shown, source.clone(), at..at + 1).with_text("limit reached here");
    Err(vec![
        Diagnostic::error(
            "JS_NESTING",
            Category::Input,
            format!(
                "nesting too deep: more than {MAX_NESTING} open brackets, or more than {MAX_ELSE_IF} `else if` in one block"
            ),
        )
        .with_label(label),
    ])
}

/// The error for a tree [`too_complex`] refuses, if it does, placed by
/// `to_diag`.
pub(super) fn check_tree(
    program: &Program,
    to_diag: &dyn Fn(&'static str, String, Span) -> Diagnostic,
) -> Result<(), Vec<Diagnostic>> {
    let Some(span) = too_complex(program) else {
        return Ok(());
    };
    Err(vec![
        to_diag(
            "JS_NESTING",
            format!(
                "expression or statement nested deeper than {MAX_AST_DEPTH} levels; \
                 the optimiser's cost grows with the square of this depth"
            ),
            span,
        )
        .with_help("split the expression (long `a + b + …` chains count as nesting)"),
    ])
}

/// The span where the syntax tree first gets deeper than [`MAX_AST_DEPTH`].
fn too_complex(program: &Program) -> Option<Span> {
    use swc_core::ecma::ast::{Expr, JSXElement, Stmt, TsType};
    use swc_core::ecma::visit::{Visit, VisitWith};

    struct Depth {
        depth: usize,
        hit: Option<Span>,
    }
    impl Depth {
        fn enter<N: VisitWith<Self> + Spanned>(&mut self, n: &N) {
            if self.hit.is_some() {
                return;
            }
            self.depth += 1;
            if self.depth > MAX_AST_DEPTH {
                self.hit = Some(n.span());
            } else {
                n.visit_children_with(self);
            }
            self.depth -= 1;
        }
    }
    impl Visit for Depth {
        fn visit_expr(&mut self, n: &Expr) {
            self.enter(n);
        }
        fn visit_stmt(&mut self, n: &Stmt) {
            self.enter(n);
        }
        fn visit_ts_type(&mut self, n: &TsType) {
            self.enter(n);
        }
        fn visit_jsx_element(&mut self, n: &JSXElement) {
            self.enter(n);
        }
    }
    let mut d = Depth {
        depth: 0,
        hit: None,
    };
    program.visit_with(&mut d);
    d.hit
}

/// Byte offset where bracket nesting first exceeds [`MAX_NESTING`], if it
/// does. Strings, template text and comments are skipped; regular
/// expressions are not recognised, which can only miscount by the brackets a
/// regex holds.
pub fn too_deep(src: &str) -> Option<usize> {
    let b = src.as_bytes();
    let mut depth: usize = 0;
    // Stack of open template literals' brace depths.
    let mut templates: Vec<usize> = Vec::new();
    // `else if` seen per bracket depth: swc's parser is quadratic in the
    // length of an `else if` chain, before any AST check can run.
    let mut else_ifs: Vec<usize> = vec![0];
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
                else_ifs.truncate(depth);
                else_ifs.push(0);
            }
            b'e' if b[i..].starts_with(b"else") && (i == 0 || !is_ident_byte(b[i - 1])) => {
                let mut j = i + 4;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                if b[j..].starts_with(b"if")
                    && !b.get(j + 2).is_some_and(|&c| is_ident_byte(c))
                    && let Some(n) = else_ifs.get_mut(depth)
                {
                    *n += 1;
                    if *n > MAX_ELSE_IF {
                        return Some(i);
                    }
                }
                i = j;
                continue;
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            b'}' => {
                if templates.last() == Some(&depth) {
                    templates.pop();
                    depth = depth.saturating_sub(1);
                    i = skip_template(b, i + 1, &mut templates, &mut depth);
                    continue;
                }
                depth = depth.saturating_sub(1);
            }
            b'\'' | b'"' => {
                // A JS string ends on its line. A quote with no partner on
                // the line is not a string (an apostrophe in JSX text): it
                // must not hide the brackets after it.
                let q = b[i];
                let mut j = i + 1;
                while j < b.len() && b[j] != q && b[j] != b'\n' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                if j < b.len() && b[j] == q {
                    i = j;
                }
            }
            b'`' => {
                i = skip_template(b, i + 1, &mut templates, &mut depth);
                if depth > MAX_NESTING {
                    return Some(i.min(b.len().saturating_sub(1)));
                }
                continue;
            }
            b'/' if b.get(i + 1) != Some(&b'/')
                && b.get(i + 1) != Some(&b'*')
                && regex_allowed(&b[..i]) =>
            {
                // A regular expression literal: skip it, with its classes,
                // so quotes and brackets inside it count for nothing.
                let mut j = i + 1;
                let mut class = false;
                while j < b.len() && b[j] != b'\n' {
                    match b[j] {
                        b'\\' => j += 1,
                        b'[' => class = true,
                        b']' => class = false,
                        b'/' if !class => break,
                        _ => {}
                    }
                    j += 1;
                }
                if j < b.len() && b[j] == b'/' {
                    i = j;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
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

/// Whether a `/` after `before` starts a regular expression rather than a
/// division: the classic heuristic on the previous significant character
/// or keyword.
fn regex_allowed(before: &[u8]) -> bool {
    let text = before.trim_ascii_end();
    let Some(&last) = text.last() else {
        return true;
    };
    if b"(,=:[!&|?{};+-*%<>~^".contains(&last) {
        return true;
    }
    if !is_ident_byte(last) {
        return false;
    }
    let start = text
        .iter()
        .rposition(|&c| !is_ident_byte(c))
        .map_or(0, |p| p + 1);
    matches!(
        &text[start..],
        b"return"
            | b"typeof"
            | b"instanceof"
            | b"in"
            | b"of"
            | b"new"
            | b"delete"
            | b"void"
            | b"throw"
            | b"case"
            | b"do"
            | b"else"
            | b"yield"
            | b"await"
    )
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// Skips template text from `i` to the closing backtick or to a `${`, which
/// opens a substitution (pushed on `templates`). Returns the next index.
fn skip_template(b: &[u8], mut i: usize, templates: &mut Vec<usize>, depth: &mut usize) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'`' => return i + 1,
            b'$' if b.get(i + 1) == Some(&b'{') => {
                *depth += 1;
                templates.push(*depth);
                return i + 2;
            }
            _ => i += 1,
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_brackets_but_not_strings_or_comments() {
        let deep = "(".repeat(MAX_NESTING + 1);
        assert_eq!(too_deep(&deep), Some(MAX_NESTING));
        let ok = format!("'{deep}' // {deep}\n/* {deep} */ `{deep}`");
        assert_eq!(too_deep(&ok), None);
        let nested_tpl = "`${`${`${1}`}`}`";
        assert_eq!(too_deep(nested_tpl), None);
        let chain = "if (a) b; else ".repeat(MAX_ELSE_IF + 2);
        assert!(too_deep(&chain).is_some());
        let separate = "{ if (a) b; else if (c) d; }\n".repeat(MAX_ELSE_IF + 1);
        assert_eq!(too_deep(&separate), None);
        assert_eq!(too_deep("elsewhere; x.else_if = 1; else iffy"), None);
        // Quotes inside regexes and JSX text must not hide brackets.
        let hidden = format!("x = /'/; y = {}0;", "(".repeat(MAX_NESTING + 1));
        assert!(too_deep(&hidden).is_some());
        let jsx = format!("x = <p>Don't</p>; y = {}0;", "(".repeat(MAX_NESTING + 1));
        assert!(too_deep(&jsx).is_some());
        let tick = format!("x = /`/;\n{}0;", "(\n".repeat(MAX_NESTING + 1));
        assert!(too_deep(&tick).is_some());
        // Division is not a regex.
        assert_eq!(too_deep("a = b / c; d = e / f;"), None);
    }
}
