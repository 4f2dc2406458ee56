//! The front half of the JS stage, for one file: parse (with the bounds of
//! [`limits`](super::limits)), then resolver and the transforms of
//! [`passes`](super::passes), up to (not including) minification, into a
//! [`Front`]. Also what every parse needs: the source map of one file,
//! the parser's syntax for a dialect, and swc's errors collected as
//! diagnostics; and [`has_module_syntax`], which only parses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use swc_core::common::comments::{Comments, SingleThreadedComments};
use swc_core::common::errors::{DiagnosticBuilder, Emitter, HANDLER, Handler};
use swc_core::common::sync::Lrc;
use swc_core::common::{FileName, GLOBALS, Globals, Mark, SourceFile, SourceMap, Span, Spanned};
use swc_core::ecma::ast::{EsVersion, MetaPropKind, Program};
use swc_core::ecma::parser::{EsSyntax, Syntax, TsSyntax};
use swc_core::ecma::transforms::base::helpers::{HELPERS, Helpers};
use swc_core::ecma::transforms::base::resolver;
use swc_core::ecma::visit::VisitWith as _;

use super::limits;
use super::options::JsOptions;
use super::passes::Passes;
use super::print::{legal_comments, original_names};
use crate::diagnostics::{Category, Diagnostic, Label};
use crate::discover::JsKind;

/// A parsed and transformed (not yet minified) file. Lives inside the
/// `GLOBALS` it was made in.
pub(crate) struct Front {
    pub cm: Lrc<SourceMap>,
    pub fm: Lrc<SourceFile>,
    pub program: Program,
    pub comments: SingleThreadedComments,
    pub unresolved_mark: Mark,
    pub top_level_mark: Mark,
    /// Legal comments, printed first in minified output.
    pub legal: Vec<String>,
    /// Original identifier names by position, for the map.
    pub names: HashMap<u32, swc_core::atoms::Atom>,
    pub source: Arc<str>,
    pub shown: String,
}

impl Front {
    /// A diagnostic at `span` of this file.
    pub fn diagnostic(&self, code: &'static str, msg: String, span: Span) -> Diagnostic {
        span_diagnostic(&self.fm, &self.shown, &self.source, code, msg, span)
    }
}

/// An error with `code` at `span` of the file `fm` (shown as `shown`,
/// whose text is `source`), or on the file when the span is not in it.
pub(super) fn span_diagnostic(
    fm: &SourceFile,
    shown: &str,
    source: &Arc<str>,
    code: &'static str,
    msg: String,
    span: Span,
) -> Diagnostic {
    let lo = (span.lo.0.saturating_sub(fm.start_pos.0)) as usize;
    let hi = (span.hi.0.saturating_sub(fm.start_pos.0)) as usize;
    let d = Diagnostic::error(code, Category::Input, msg);
    if span.is_dummy() || lo > source.len() {
        d.with_file(shown)
    } else {
        d.with_label(Label::new(
            shown,
            source.clone(),
            lo..hi.clamp(lo, source.len()),
        ))
    }
}

/// Parses and transforms one file up to (not including) minification:
/// resolver, `after_resolver` (the bundler's defines), decorators,
/// TypeScript, JSX, `using`, `preset_env`, inline helpers. Must run inside
/// `GLOBALS.set`.
pub(crate) fn front(
    name: &str,
    shown: &str,
    src: &str,
    kind: JsKind,
    opts: &JsOptions,
    after_resolver: &mut dyn FnMut(&mut Program, Mark),
) -> Result<Front, Vec<Diagnostic>> {
    let source: Arc<str> = Arc::from(src);
    limits::check_text(src, shown, &source)?;

    let (cm, fm) = source_file(name, src);
    let (handler, collected) = collecting_handler();
    let to_diag = |code: &'static str, msg: String, span: Span| {
        span_diagnostic(&fm, shown, &source, code, msg, span)
    };

    let comments = SingleThreadedComments::default();
    let mut program = parse_checked(&fm, kind, &comments, &to_diag)?;
    limits::check_tree(&program, &to_diag)?;

    let legal = legal_comments(&comments);
    // Original identifier names by position, for the map's `names`:
    // the minifier renames identifiers but keeps their spans.
    let names = if opts.source_map {
        original_names(&program)
    } else {
        HashMap::new()
    };
    let unresolved_mark = Mark::new();
    let top_level_mark = Mark::new();
    let passes = Passes {
        cm: &cm,
        comments: &comments,
        src,
        kind,
        opts,
        unresolved_mark,
        top_level_mark,
    };
    HELPERS.set(&Helpers::new(false), || {
        HANDLER.set(&handler, || {
            program.mutate(resolver(
                unresolved_mark,
                top_level_mark,
                kind.is_typescript(),
            ));
            after_resolver(&mut program, unresolved_mark);
            passes.run(&mut program);
        });
    });
    let transform_errors = collected_errors(&collected, "JS_TRANSFORM", &to_diag);
    if !transform_errors.is_empty() {
        return Err(transform_errors);
    }
    Ok(Front {
        cm,
        fm,
        program,
        comments,
        unresolved_mark,
        top_level_mark,
        legal,
        names,
        source,
        shown: shown.to_string(),
    })
}

/// Parses one file of `kind`. Recovered errors are real syntax errors:
/// fatal, like @swc/core.
fn parse_checked(
    fm: &SourceFile,
    kind: JsKind,
    comments: &SingleThreadedComments,
    to_diag: &dyn Fn(&'static str, String, Span) -> Diagnostic,
) -> Result<Program, Vec<Diagnostic>> {
    let mut recovered = Vec::new();
    let parsed = parse(fm, syntax_of(kind), kind, comments, &mut recovered);
    let mut errors: Vec<Diagnostic> = recovered
        .into_iter()
        .map(|e| to_diag("JS_PARSE", e.kind().msg().into_owned(), e.span()))
        .collect();
    match parsed {
        Ok(program) if errors.is_empty() => Ok(program),
        Ok(_) => Err(dedupe(errors)),
        Err(e) => {
            errors.insert(
                0,
                to_diag("JS_PARSE", e.kind().msg().into_owned(), e.span()),
            );
            Err(dedupe(errors))
        }
    }
}

/// Whether a script uses module syntax (`import`, `export`,
/// `import.meta`), which a classic `<script>` cannot run. A file that does
/// not parse says false: compiling it reports the syntax error.
pub fn has_module_syntax(name: &str, src: &str, kind: JsKind) -> bool {
    if limits::too_deep(src).is_some() {
        return false;
    }
    GLOBALS.set(&Globals::new(), || {
        let (_cm, fm) = source_file(name, src);
        let comments = SingleThreadedComments::default();
        let syntax = syntax_of(kind);
        let mut recovered = Vec::new();
        match parse(&fm, syntax, kind, &comments, &mut recovered) {
            Ok(Program::Module(m)) => {
                struct Meta(bool);
                impl swc_core::ecma::visit::Visit for Meta {
                    fn visit_meta_prop_expr(&mut self, m: &swc_core::ecma::ast::MetaPropExpr) {
                        self.0 |= m.kind == MetaPropKind::ImportMeta;
                    }
                }
                let mut meta = Meta(false);
                m.visit_with(&mut meta);
                matches!(kind, JsKind::Mjs | JsKind::Mts)
                    || m.body
                        .iter()
                        .any(swc_core::ecma::ast::ModuleItem::is_module_decl)
                    || meta.0
            }
            _ => matches!(kind, JsKind::Mjs | JsKind::Mts),
        }
    })
}

/// A source map holding one file, `text` named `name`: what every parse
/// starts from.
pub(super) fn source_file(name: &str, text: &str) -> (Lrc<SourceMap>, Lrc<SourceFile>) {
    let cm: Lrc<SourceMap> = Lrc::default();
    let fm = cm.new_source_file(
        Lrc::new(FileName::Custom(name.to_string())),
        text.to_string(),
    );
    (cm, fm)
}

/// The parser's syntax for a dialect: TypeScript (TSX for `.tsx`), or
/// JavaScript with JSX where the extension allows it; decorators always.
pub(super) fn syntax_of(kind: JsKind) -> Syntax {
    if kind.is_typescript() {
        Syntax::Typescript(TsSyntax {
            tsx: kind == JsKind::Tsx,
            decorators: true,
            ..Default::default()
        })
    } else {
        Syntax::Es(EsSyntax {
            jsx: matches!(kind, JsKind::Js | JsKind::Jsx),
            decorators: true,
            import_attributes: true,
            ..Default::default()
        })
    }
}

/// Parses `fm` as a file of `kind` with `syntax` (a `CommonJS` file may
/// not use module syntax); the errors the parser recovered from go to
/// `recovered`.
pub(super) fn parse(
    fm: &SourceFile,
    syntax: Syntax,
    kind: JsKind,
    comments: &SingleThreadedComments,
    recovered: &mut Vec<swc_core::ecma::parser::error::Error>,
) -> Result<Program, swc_core::ecma::parser::error::Error> {
    use swc_core::ecma::parser::error::{Error, SyntaxError};
    use swc_core::ecma::parser::{parse_file_as_module, parse_file_as_program};
    let c: Option<&dyn Comments> = Some(comments);
    match kind {
        JsKind::Mjs | JsKind::Mts => {
            parse_file_as_module(fm, syntax, EsVersion::latest(), c, recovered).map(Program::Module)
        }
        JsKind::Cjs | JsKind::Cts => {
            // CommonJS: `import`/`export` would be a syntax error where the
            // file runs. swc's script parser lets them through in TypeScript
            // mode, so parse as a program and check.
            match parse_file_as_program(fm, syntax, EsVersion::latest(), c, recovered)? {
                Program::Module(m) => {
                    let span = m
                        .body
                        .iter()
                        .find(|item| item.is_module_decl())
                        .map_or(m.span, Spanned::span);
                    Err(Error::new(span, SyntaxError::ImportExportInScript))
                }
                script @ Program::Script(_) => Ok(script),
            }
        }
        JsKind::Js | JsKind::Jsx | JsKind::Ts | JsKind::Tsx => {
            parse_file_as_program(fm, syntax, EsVersion::latest(), c, recovered)
        }
    }
}

/// `v` in source order, each message at a place once.
fn dedupe(mut v: Vec<Diagnostic>) -> Vec<Diagnostic> {
    v.sort_by_key(|d| d.labels.first().map(|l| l.span.start));
    v.dedup_by(|a, b| {
        a.message == b.message
            && a.labels.first().map(|l| &l.span) == b.labels.first().map(|l| &l.span)
    });
    v
}

/// swc's errors, as (message, span).
pub(super) type Collected = Arc<Mutex<Vec<(String, Span)>>>;

/// A handler that keeps swc's errors, and where it keeps them.
pub(super) fn collecting_handler() -> (Handler, Collected) {
    let collected = Arc::new(Mutex::new(Vec::new()));
    let handler = Handler::with_emitter(
        true,
        false,
        Box::new(Collect {
            out: collected.clone(),
        }),
    );
    (handler, collected)
}

/// Collects swc's transform diagnostics as (message, span).
struct Collect {
    out: Collected,
}

impl Emitter for Collect {
    fn emit(&mut self, db: &mut DiagnosticBuilder<'_>) {
        use swc_core::common::errors::Level;
        if !matches!(
            db.level,
            Level::Bug | Level::Fatal | Level::PhaseFatal | Level::Error
        ) {
            return;
        }
        let span = db.span.primary_span().unwrap_or_default();
        if let Ok(mut v) = self.out.lock() {
            v.push((db.message(), span));
        }
    }
}

/// The errors `collected` holds, as diagnostics with `code`, placed by
/// `to_diag`.
pub(super) fn collected_errors(
    collected: &Collected,
    code: &'static str,
    to_diag: &dyn Fn(&'static str, String, Span) -> Diagnostic,
) -> Vec<Diagnostic> {
    collected
        .lock()
        .map(|v| v.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|(msg, span)| to_diag(code, msg, span))
        .collect()
}
