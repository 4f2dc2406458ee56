//! A JS file's module references: finding them ([`Specifiers`], which
//! turns each specifier that is not bare into a placeholder of
//! [`crate::placeholder`]; [`references`] for `prebake check`), and writing
//! the final URLs back into compiled code ([`substitute`], [`js_string`]).

use std::collections::BTreeMap;

use swc_core::common::comments::SingleThreadedComments;
use swc_core::ecma::ast::{
    CallExpr, Callee, ExportAll, Expr, ImportDecl, Lit, MemberProp, MetaPropKind, NamedExport,
    NewExpr, Str,
};
use swc_core::ecma::parser::{EsSyntax, Syntax};
use swc_core::ecma::visit::{VisitMut, VisitMutWith};

use super::front::{parse, source_file};
use super::limits::too_deep;
use crate::discover::JsKind;
use crate::placeholder;
use crate::refs::Reference;
use crate::sourcemap::Edit;

/// The module references (`import`, `export … from`, literal `import()`,
/// `new URL(…, import.meta.url)`) of already compiled JS, for `prebake
/// check`; bare specifiers are left out.
pub fn references(name: &str, src: &str) -> Result<Vec<Reference>, String> {
    if let Some(at) = too_deep(src) {
        return Err(format!("nesting too deep at byte {at}"));
    }
    let (_cm, fm) = source_file(name, src);
    let comments = SingleThreadedComments::default();
    let mut recovered = Vec::new();
    let mut program = parse(
        &fm,
        Syntax::Es(EsSyntax {
            import_attributes: true,
            ..Default::default()
        }),
        JsKind::Mjs,
        &comments,
        &mut recovered,
    )
    .or_else(|_| {
        recovered.clear();
        parse(
            &fm,
            Syntax::Es(EsSyntax::default()),
            JsKind::Js,
            &comments,
            &mut recovered,
        )
    })
    .map_err(|e| e.kind().msg().into_owned())?;
    if let Some(e) = recovered.first() {
        return Err(e.kind().msg().into_owned());
    }
    let mut specifiers = Specifiers::new(name, src, fm.start_pos.0);
    program.visit_mut_with(&mut specifiers);
    Ok(specifiers.refs)
}

/// Replaces each placeholder string literal in compiled JS with its URL as
/// a double-quoted string, and says where the text changed (for the source
/// map). A relative URL gets `./`, or it would be a bare specifier.
pub fn substitute(code: &str, replacements: &[(String, String)]) -> (String, Vec<Edit>) {
    let by_placeholder: BTreeMap<&str, &str> = replacements
        .iter()
        .map(|(p, u)| (p.as_str(), u.as_str()))
        .collect();
    let mut spans = Vec::new();
    let bytes = code.as_bytes();
    for found in placeholder::references_in(code) {
        let (i, end) = (found.start, found.end);
        let Some(url) = by_placeholder.get(&code[found]) else {
            continue;
        };
        let quote = i.checked_sub(1).and_then(|q| bytes.get(q)).copied();
        let whole = matches!(quote, Some(b'"' | b'\'')) && bytes.get(end).copied() == quote;
        if whole {
            // The whole literal: a specifier or URL. Relative (`./`,
            // `../`), rooted (`/static/…`, `//cdn`) and scheme URLs stand
            // as they are; a bare name would be a package specifier.
            let url = if url.starts_with("./")
                || url.starts_with("../")
                || url.starts_with('/')
                || url.contains(':')
            {
                (*url).to_string()
            } else {
                format!("./{url}")
            };
            spans.push((i - 1, end + 1, js_string(&url)));
        } else {
            // Inside a longer string or a template (the minifier folded
            // `url + "?v"`): the URL goes in as it is, with every character
            // that could end or escape a literal percent-encoded.
            spans.push((i, end, embeddable_url(url)));
        }
    }
    crate::sourcemap::splice(code, spans)
}

/// `url` with the characters that mean something inside a JS string or
/// template literal (`"` `'` `` ` `` `\` `$` `<`, controls) percent-encoded,
/// which leaves the URL's meaning unchanged.
fn embeddable_url(url: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '"' | '\'' | '`' | '\\' | '$' | '<' => {
                let _ = write!(out, "%{:02X}", u32::from(c));
            }
            c if c.is_ascii_control() => {
                let _ = write!(out, "%{:02X}", u32::from(c));
            }
            c if !c.is_ascii() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "%{b:02X}");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// `s` as a double-quoted JS string literal in ASCII (the output is ASCII
/// only), safe in any context a string can stand.
pub fn js_string(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '<' => out.push_str("\\x3C"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04X}");
                }
            }
        }
    }
    out.push('"');
    out
}

/// Replaces each specifier of `import`/`export … from`, literal `import()`
/// and `new URL(…, import.meta.url)` that is not bare with a placeholder.
pub(super) struct Specifiers<'a> {
    name: &'a str,
    src: &'a str,
    tag: String,
    start: u32,
    /// Relative and absolute specifiers, now placeholders.
    pub refs: Vec<Reference>,
    /// Bare specifiers, left as written.
    pub bare: Vec<Reference>,
}

impl<'a> Specifiers<'a> {
    /// Specifiers of the file `name` whose text is `src`, starting at
    /// `start` in its source map; placeholders get the tag of `src`.
    pub(super) fn new(name: &'a str, src: &'a str, start: u32) -> Self {
        Specifiers {
            name,
            src,
            tag: placeholder::tag(src),
            start,
            refs: Vec::new(),
            bare: Vec::new(),
        }
    }
}

impl Specifiers<'_> {
    fn take(&mut self, s: &mut Str) {
        let Some(value) = s.value.as_atom().map(|a| a.as_str().to_string()) else {
            return;
        };
        let is_path = value.starts_with("./") || value.starts_with("../") || value.starts_with('/');
        let has_scheme = value.split_once(':').is_some_and(|(scheme, _)| {
            scheme.len() > 1
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        });
        let offset = (s.span.lo.0.saturating_sub(self.start)) as usize;
        let (line, column) = crate::diagnostics::line_col_utf16(self.src, offset);
        if !is_path && !has_scheme && value != "." && value != ".." {
            self.bare.push(Reference {
                url: value,
                placeholder: String::new(),
                line,
                column,
                from: self.name.to_string(),
            });
            return;
        }
        let placeholder = placeholder::reference(self.refs.len(), &self.tag);
        self.refs.push(Reference {
            url: value,
            placeholder: placeholder.clone(),
            line,
            column,
            from: self.name.to_string(),
        });
        s.value = placeholder.as_str().into();
        s.raw = None;
    }
}

impl VisitMut for Specifiers<'_> {
    fn visit_mut_import_decl(&mut self, n: &mut ImportDecl) {
        self.take(&mut n.src);
    }

    fn visit_mut_export_all(&mut self, n: &mut ExportAll) {
        self.take(&mut n.src);
    }

    fn visit_mut_named_export(&mut self, n: &mut NamedExport) {
        if let Some(src) = &mut n.src {
            self.take(src);
        }
    }

    fn visit_mut_call_expr(&mut self, n: &mut CallExpr) {
        n.visit_mut_children_with(self);
        if matches!(n.callee, Callee::Import(_))
            && let Some(arg) = n.args.first_mut()
            && let Expr::Lit(Lit::Str(s)) = &mut *arg.expr
        {
            self.take(s);
        }
    }

    fn visit_mut_new_expr(&mut self, n: &mut NewExpr) {
        n.visit_mut_children_with(self);
        if url_of_import_meta(n).is_none() {
            return;
        }
        if let Some(args) = &mut n.args
            && let Some(first) = args.first_mut()
            && let Expr::Lit(Lit::Str(s)) = &mut *first.expr
        {
            self.take(s);
        }
    }
}

/// `new URL("…", import.meta.url)`: the `URL` identifier and the string,
/// when the expression has that shape.
pub(crate) fn url_of_import_meta(n: &NewExpr) -> Option<(&swc_core::ecma::ast::Ident, &Str)> {
    let Expr::Ident(url) = &*n.callee else {
        return None;
    };
    let args = n.args.as_ref()?;
    let meta_url = args.get(1).is_some_and(|a| {
        matches!(&*a.expr, Expr::Member(m)
            if matches!(&*m.obj, Expr::MetaProp(mp) if mp.kind == MetaPropKind::ImportMeta)
                && matches!(&m.prop, MemberProp::Ident(p) if &*p.sym == "url"))
    });
    match args.first().map(|a| &*a.expr) {
        Some(Expr::Lit(Lit::Str(s))) if &*url.sym == "URL" && meta_url && args.len() == 2 => {
            Some((url, s))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_folded_into_longer_literals_are_replaced_safely() {
        let ph = placeholder::reference(3, "0123456789ab");
        let code = format!("a(\"{ph}\");b(\"{ph}?v=1\");c(`x${{y}}{ph}#z`);d('{ph}');");
        let url = "img/it's \"odd\" $x.svg".to_string();
        let (out, _) = substitute(&code, &[(ph.clone(), url)]);
        assert_eq!(
            out,
            "a(\"./img/it's \\\"odd\\\" $x.svg\");b(\"img/it%27s %22odd%22 %24x.svg?v=1\");\
             c(`x${y}img/it%27s %22odd%22 %24x.svg#z`);d(\"./img/it's \\\"odd\\\" $x.svg\");"
        );
        assert_eq!(placeholder::unreplaced(&out, [ph.as_str()]), None);
        assert_eq!(
            placeholder::unreplaced(&code, [ph.as_str()]),
            Some(ph.as_str())
        );
    }
}
