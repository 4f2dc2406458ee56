//! Loading one module of the graph: read, parse, transform (TypeScript, JSX,
//! lowering, defines, dead branches), and describe it for the linker.
//!
//! An ES module's `import` and `export` declarations are taken out of its
//! body here and recorded as data ([`Import`], [`ExportFrom`]), so the linker
//! works on tables and the emitter only renames identifiers. What is left
//! is plain statements, with `export default <expr>` turned into a
//! variable. Each module keeps its own swc `Globals` and `SourceMap`; the
//! parsed tree travels to the emit stage on another thread.

#![allow(clippy::wildcard_imports)] // the swc AST is used whole

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use swc_core::atoms::Atom;
use swc_core::common::comments::{SingleThreadedComments, SingleThreadedCommentsMapInner};
use swc_core::common::sync::Lrc;
use swc_core::common::util::take::Take;
use swc_core::common::{
    DUMMY_SP, GLOBALS, Globals, Mark, SourceFile, SourceMap, Span, SyntaxContext,
};
use swc_core::ecma::ast::*;
use swc_core::ecma::transforms::optimization::simplify::{dead_branch_remover, expr_simplifier};
use swc_core::ecma::utils::find_pat_ids;
use swc_core::ecma::visit::{Visit, VisitMut, VisitMutWith, VisitWith};

use crate::diagnostics::Diagnostic;
use crate::discover::JsKind;
use crate::js::{self, JsOptions};

/// Index of a module in the graph.
pub type ModuleId = usize;

/// How a module is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// `import … from`, `import '…'`, `export … from`.
    Static,
    /// `require('…')`.
    Require,
    /// `import('…')`.
    Dynamic,
    /// `new URL('…', import.meta.url)`.
    Url,
}

/// One specifier written in a module.
#[derive(Debug, Clone)]
pub struct Record {
    pub specifier: String,
    pub kind: RecordKind,
    /// Start of the specifier string (or the call) in the module's source
    /// map, which the emitter finds the node by.
    pub pos: u32,
    /// 1-based line and UTF-16 column of the specifier.
    pub line: usize,
    pub column: usize,
    /// Set by the graph builder.
    pub target: Target,
}

/// Where a record leads, once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Unresolved,
    Module(ModuleId),
    /// A `browser` field maps it to `false`.
    Empty,
    /// A URL, left as written.
    External,
}

/// What an import takes from its module.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Imported {
    Default,
    Named(Atom),
    Namespace,
}

impl Imported {
    pub fn name(&self) -> Option<&Atom> {
        match self {
            Imported::Named(n) => Some(n),
            _ => None,
        }
    }
}

/// `import { name as local } from records[record]`.
#[derive(Debug, Clone)]
pub struct Import {
    pub local: Id,
    pub record: usize,
    pub what: Imported,
    /// Only ever used as `local.prop` (a namespace the linker can see
    /// through without building an object).
    pub member_only: bool,
    /// How often the module reads it (for short names).
    pub count: u32,
}

/// Where an export's value comes from.
#[derive(Debug, Clone)]
pub enum ExportFrom {
    /// A top-level binding of this module (or an import of it).
    Local(Id),
    /// `export { what as name } from records[record]`.
    Record(usize, Imported),
}

/// An asset, CSS or JSON module's counterpart of [`Js`].
#[derive(Debug)]
pub enum Body {
    Js(Box<Js>),
    /// A stylesheet imported for its side effect.
    Css,
    /// A file imported for its URL.
    Asset,
    /// The `browser` field's `false`: an empty module.
    Empty,
}

/// How a JS module exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Esm,
    CommonJs,
}

/// A parsed JS module and what the linker needs to know about it. A clone
/// shares the source map and the hygiene table, which are only appended
/// to, so `prebake watch` can hand a cached module to each build.
#[derive(Clone)]
#[allow(clippy::struct_excessive_bools)] // independent facts about the module
pub struct Js {
    pub cm: Lrc<SourceMap>,
    pub fm: Lrc<SourceFile>,
    pub globals: Arc<Globals>,
    /// Shared, so a session's cached module is not copied for a build
    /// that reuses its emitted code; the emitter copies it only to change it.
    pub program: Arc<Module>,
    pub leading: Arc<SingleThreadedCommentsMapInner>,
    pub trailing: Arc<SingleThreadedCommentsMapInner>,
    pub unresolved_mark: Mark,
    pub top_level_mark: Mark,
    pub legal: Vec<String>,
    /// Source-map names by position; shared like `program`.
    pub names: Arc<HashMap<u32, Atom>>,
    pub source: Arc<str>,
    pub format: Format,
    pub imports: Vec<Import>,
    pub exports: BTreeMap<Atom, ExportFrom>,
    pub stars: Vec<usize>,
    /// Top-level bindings in declaration order, with how often each is
    /// referenced (for short names).
    pub top_level: Vec<(Id, u32)>,
    /// Names read from the global scope.
    pub globals_used: BTreeSet<Atom>,
    pub has_tla: bool,
    /// TypeScript: a missing export is taken for a type, as with isolated
    /// modules.
    pub is_ts: bool,
    /// `.mjs`/`.mts` or `"type": "module"`: `CommonJS` imports get Node's
    /// interop (`default` is always `module.exports`).
    pub node_mode: bool,
    /// A JSON file: an ES module with only a default export, whose value
    /// `require()` returns.
    pub json: bool,
    /// SHA-256 of the file's bytes, set by a session's cache (zero
    /// otherwise): what the module was made from, for its emit key.
    pub digest: [u8; 32],
    /// A TypeScript file compiled without `esModuleInterop`: `import * as
    /// ns` of a `CommonJS` module is its `module.exports` itself, as tsc
    /// emits it.
    pub raw_namespaces: bool,
    /// Namespace imports called or constructed (`ns()`, `new ns()`): the
    /// local, the byte range of the call's callee, and whether it is `new`.
    pub namespace_calls: Vec<(Id, std::ops::Range<usize>, bool)>,
    /// What will fail in the browser, found while loading (free `module`
    /// in an ES module, a `require` that cannot be bundled).
    pub warnings: Vec<Diagnostic>,
}

impl std::fmt::Debug for Js {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Js")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// A module of the graph.
#[derive(Debug)]
pub struct ModuleData {
    pub path: PathBuf,
    /// Path shown in diagnostics.
    pub shown: String,
    /// Name in source maps and generated identifiers: relative to the
    /// project, with `/`.
    pub name: String,
    pub body: Body,
    pub records: Vec<Record>,
    /// False when its package says `"sideEffects": false` (or does not
    /// list it): it is left out unless something it exports is used.
    pub side_effects: bool,
}

/// Replacements of `process.env.NODE_ENV` and user defines: dotted global
/// name → JS expression text.
pub type Defines = BTreeMap<String, String>;

/// Loads the JS module at `path` (whose text is `text`): parses and
/// transforms it (`parse`), takes its module declarations out as tables,
/// finds its top-level bindings, uses and records (`Analysis`), and what
/// will fail in the browser (`load_warnings`).
#[allow(clippy::too_many_arguments)] // one job with its inputs spelled out
pub fn load_js(
    name: &str,
    shown: &str,
    text: &str,
    kind: JsKind,
    opts: &JsOptions,
    defines: &[(Vec<String>, Expr)],
    node_mode: bool,
    json: bool,
) -> Result<(Js, Vec<Record>), Vec<Diagnostic>> {
    let globals = Arc::new(Globals::new());
    GLOBALS.set(&globals, || -> Result<_, Vec<Diagnostic>> {
        let mut f = parse(name, shown, text, kind, opts, defines, json)?;
        let program = std::mem::replace(&mut f.program, Program::Module(Module::dummy()));
        let mut module = match program {
            Program::Module(m) => m,
            Program::Script(s) => Module {
                span: s.span,
                body: s.body.into_iter().map(ModuleItem::Stmt).collect(),
                shebang: None,
            },
        };
        let unresolved = SyntaxContext::empty().apply_mark(f.unresolved_mark);
        let top = SyntaxContext::empty().apply_mark(f.top_level_mark);
        let mut a = Analysis::new(&f.fm, text, unresolved, top, name);
        a.take_module_decls(&mut module);
        let bindings = top_level_bindings(&module);
        // Top-level bindings that transforms made (a decorated class's
        // `_Foo`, inlined helpers) have contexts of their own: they are
        // counted by identity like those the source wrote.
        a.synthesized
            .extend(bindings.iter().filter(|id| id.1 != top).cloned());
        module.visit_with(&mut a.uses());
        let mut records_visitor = Records {
            a: &mut a,
            fn_depth: 0,
        };
        module.visit_with(&mut records_visitor);
        let is_esm = a.esm_syntax || a.has_import_meta;
        let warnings = load_warnings(&a, &f, name, shown, is_esm);
        let namespace_calls: Vec<(Id, std::ops::Range<usize>, bool)> = a
            .namespace_calls
            .iter()
            .map(|(id, span, new)| (id.clone(), byte_range(&f.fm, text, *span), *new))
            .collect();
        let cjs_vars = a.globals_used.contains(&Atom::from("module"))
            || a.globals_used.contains(&Atom::from("exports"));
        let format = if is_esm {
            Format::Esm
        } else if cjs_vars || matches!(kind, JsKind::Cjs | JsKind::Cts) {
            Format::CommonJs
        } else {
            Format::Esm
        };
        let top_level: Vec<(Id, u32)> = bindings
            .into_iter()
            .map(|id| {
                let n = a.counts.get(&id).copied().unwrap_or(0);
                (id, n)
            })
            .collect();
        // Imports are bindings too (the emitter replaces them).
        let member_uses = std::mem::take(&mut a.non_member);
        for imp in &mut a.imports {
            imp.member_only = !member_uses.contains(&imp.local);
            imp.count = a.counts.get(&imp.local).copied().unwrap_or(0);
        }
        let (leading, trailing) = std::mem::take(&mut f.comments).take_all();
        let leading = std::rc::Rc::try_unwrap(leading)
            .map(std::cell::RefCell::into_inner)
            .unwrap_or_default();
        let trailing = std::rc::Rc::try_unwrap(trailing)
            .map(std::cell::RefCell::into_inner)
            .unwrap_or_default();
        let is_ts = kind.is_typescript();
        let Analysis {
            imports,
            exports,
            stars,
            records,
            globals_used,
            has_tla,
            ..
        } = a;
        Ok((
            Js {
                cm: f.cm,
                fm: f.fm,
                globals: globals.clone(),
                program: Arc::new(module),
                leading: Arc::new(leading),
                trailing: Arc::new(trailing),
                unresolved_mark: f.unresolved_mark,
                top_level_mark: f.top_level_mark,
                legal: f.legal,
                names: Arc::new(f.names),
                source: f.source,
                format,
                imports,
                exports,
                stars,
                top_level,
                globals_used,
                has_tla,
                is_ts,
                node_mode,
                json,
                digest: [0; 32],
                raw_namespaces: is_ts && !opts.ts.es_module_interop,
                namespace_calls,
                warnings,
            },
            records,
        ))
    })
}

/// Parses and transforms a module (`js::front`), with the bundler's own
/// passes after the resolver: JSON's `__proto__` keys, hot-reload guards,
/// defines; and the dead branches defines make.
fn parse(
    name: &str,
    shown: &str,
    text: &str,
    kind: JsKind,
    opts: &JsOptions,
    defines: &[(Vec<String>, Expr)],
    json: bool,
) -> Result<js::Front, Vec<Diagnostic>> {
    let mut replaced = 0;
    let mut f = js::front(name, shown, text, kind, opts, &mut |program, unresolved| {
        if json {
            program.visit_mut_with(&mut ProtoKeys);
        }
        // Hot-reload guards of other bundlers are dead code here (a
        // pass only where the text can hold one).
        if text.contains(".hot") {
            let mut hot = HotGuards {
                esm: matches!(program, Program::Module(m)
                    if m.body.iter().any(ModuleItem::is_module_decl)),
                unresolved: SyntaxContext::empty().apply_mark(unresolved),
                replaced: 0,
            };
            program.visit_mut_with(&mut hot);
            replaced += hot.replaced;
        }
        if !defines.is_empty() {
            let mut d = Define {
                defines,
                unresolved: SyntaxContext::empty().apply_mark(unresolved),
                replaced: 0,
            };
            program.visit_mut_with(&mut d);
            replaced += d.replaced;
        }
    })?;
    // Constant conditions (`"production" !== "production"`) and the
    // branches they kill go before the graph is read, so a dead
    // `require` is not bundled. Only where a define made a constant:
    // the minifier folds the rest later.
    if replaced > 0 {
        f.program.mutate(expr_simplifier(
            f.unresolved_mark,
            swc_core::ecma::transforms::optimization::simplify::expr::Config::default(),
        ));
        f.program.mutate(dead_branch_remover(f.unresolved_mark));
    }
    Ok(f)
}

/// The module's bindings, in declaration order (once each).
fn top_level_bindings(module: &Module) -> Vec<Id> {
    let mut bindings: Vec<Id> = Vec::new();
    let mut seen: HashSet<Id> = HashSet::new();
    for item in &module.body {
        if let ModuleItem::Stmt(s) = item {
            for id in scope_bindings(s) {
                if seen.insert(id.clone()) {
                    bindings.push(id);
                }
            }
        }
    }
    bindings
}

/// A span as a byte range of the text.
fn byte_range(fm: &SourceFile, text: &str, span: Span) -> std::ops::Range<usize> {
    let lo = (span.lo.0.saturating_sub(fm.start_pos.0) as usize).min(text.len());
    let hi = (span.hi.0.saturating_sub(fm.start_pos.0) as usize).clamp(lo, text.len());
    lo..hi
}

/// What will throw in the browser, said where it is written; not for
/// packages, which users do not edit.
fn load_warnings(
    a: &Analysis<'_>,
    f: &js::Front,
    name: &str,
    shown: &str,
    is_esm: bool,
) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    if name.split('/').any(|c| c == "node_modules") {
        return warnings;
    }
    let at = |span: Span| {
        crate::diagnostics::Label::new(shown, f.source.clone(), byte_range(&f.fm, a.text, span))
    };
    for (global, span) in &a.free_cjs {
        if is_esm && (&**global == "module" || &**global == "exports") {
            warnings.push(
                Diagnostic::warning(
                    "COMMONJS_IN_ESM",
                    crate::diagnostics::Category::Input,
                    format!(
                        "`{global}` is not defined in an ES module (this file uses import or export): it throws a ReferenceError in the browser"
                    ),
                )
                .with_label(at(*span))
                .with_help("use `export`, or check `typeof module !== \"undefined\"` first"),
            );
        }
    }
    if let Some(span) = a.free_require {
        warnings.push(
            Diagnostic::warning(
                "UNBUNDLED_REQUIRE",
                crate::diagnostics::Category::Input,
                "this `require` cannot be bundled (it is not a call with one string literal), and browsers have no `require`",
            )
            .with_label(at(span))
            .with_help("use `import`, or `require(\"name\")` with the module's name as a literal"),
        );
    }
    warnings
}

/// Rebuilds the comments of a loaded module, for the emit stage.
pub fn comments_of(js: &mut Js) -> SingleThreadedComments {
    SingleThreadedComments::from_leading_and_trailing(
        std::rc::Rc::new(std::cell::RefCell::new(Arc::unwrap_or_clone(
            std::mem::take(&mut js.leading),
        ))),
        std::rc::Rc::new(std::cell::RefCell::new(Arc::unwrap_or_clone(
            std::mem::take(&mut js.trailing),
        ))),
    )
}

/// The bindings a top-level statement declares.
pub fn declared(s: &Stmt) -> Vec<Id> {
    match s {
        Stmt::Decl(Decl::Var(v)) => find_pat_ids(&v.decls),
        Stmt::Decl(Decl::Fn(f)) => vec![f.ident.to_id()],
        Stmt::Decl(Decl::Class(c)) => vec![c.ident.to_id()],
        Stmt::Decl(Decl::Using(u)) => find_pat_ids(&u.decls),
        _ => Vec::new(),
    }
}

/// Every binding a top-level statement puts in the module's scope: its
/// declarations, and the `var`s nested in its blocks and loops
/// (`for (var i = 0; …)` at the top level is a module binding).
pub fn scope_bindings(s: &Stmt) -> Vec<Id> {
    struct Vars(Vec<Id>);
    impl Visit for Vars {
        fn visit_var_decl(&mut self, v: &VarDecl) {
            if v.kind == VarDeclKind::Var {
                self.0.extend(find_pat_ids::<_, Id>(&v.decls));
            }
            v.visit_children_with(self);
        }
        fn visit_function(&mut self, _: &Function) {}
        fn visit_arrow_expr(&mut self, _: &ArrowExpr) {}
        fn visit_class(&mut self, _: &Class) {}
    }
    let mut ids = declared(s);
    if !matches!(s, Stmt::Decl(_)) {
        let mut v = Vars(Vec::new());
        s.visit_with(&mut v);
        for id in v.0 {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// Parses a define's value (`"production"`, `true`, `{"a":1}`) as an
/// expression.
pub fn define_expr(value: &str) -> Option<Expr> {
    use swc_core::ecma::parser::{Syntax, parse_file_as_script};
    let cm: Lrc<SourceMap> = Lrc::default();
    // In parentheses, so the whole value must be one expression.
    let fm = cm.new_source_file(
        Lrc::new(swc_core::common::FileName::Anon),
        format!("({value}\n)"),
    );
    GLOBALS.set(&Globals::new(), || {
        let mut errors = Vec::new();
        let script = parse_file_as_script(
            &fm,
            Syntax::default(),
            EsVersion::latest(),
            None,
            &mut errors,
        )
        .ok()?;
        if !errors.is_empty() || script.body.len() != 1 {
            return None;
        }
        let Some(Stmt::Expr(ExprStmt { expr, .. })) = script.body.into_iter().next() else {
            return None;
        };
        let Expr::Paren(ParenExpr { expr, .. }) = *expr else {
            return None;
        };
        let mut e = *expr;
        e.visit_mut_with(&mut DropSpans);
        Some(e)
    })
}

/// JSON's `"__proto__"` is an own property; in an object literal it would
/// set the prototype, so it becomes a computed key.
struct ProtoKeys;
impl VisitMut for ProtoKeys {
    fn visit_mut_prop_name(&mut self, p: &mut PropName) {
        if let PropName::Str(s) = p
            && s.value.as_str() == Some("__proto__")
        {
            *p = PropName::Computed(ComputedPropName {
                span: s.span,
                expr: Box::new(Expr::Lit(Lit::Str(s.clone()))),
            });
        }
    }
}

struct DropSpans;
impl VisitMut for DropSpans {
    fn visit_mut_span(&mut self, s: &mut Span) {
        *s = DUMMY_SP;
    }
}

/// Replaces global dotted names (`process.env.NODE_ENV`) by expressions.
struct Define<'a> {
    defines: &'a [(Vec<String>, Expr)],
    unresolved: SyntaxContext,
    replaced: usize,
}

impl Define<'_> {
    fn matches(&self, e: &Expr) -> Option<Expr> {
        let mut parts = Vec::new();
        let mut cur = e;
        loop {
            match cur {
                Expr::Member(m) => {
                    match &m.prop {
                        MemberProp::Ident(p) => parts.push(p.sym.as_str()),
                        MemberProp::Computed(c) => match &*c.expr {
                            Expr::Lit(Lit::Str(s)) => parts.push(s.value.as_str()?),
                            _ => return None,
                        },
                        MemberProp::PrivateName(_) => return None,
                    }
                    cur = &m.obj;
                }
                Expr::Ident(i) if i.ctxt == self.unresolved => {
                    parts.push(i.sym.as_str());
                    break;
                }
                _ => return None,
            }
        }
        parts.reverse();
        self.defines
            .iter()
            .find(|(k, _)| k.len() == parts.len() && k.iter().zip(&parts).all(|(a, b)| a == b))
            .map(|(_, v)| v.clone())
    }
}

impl VisitMut for Define<'_> {
    fn visit_mut_expr(&mut self, e: &mut Expr) {
        if matches!(e, Expr::Member(_) | Expr::Ident(_))
            && let Some(v) = self.matches(e)
        {
            *e = v;
            self.replaced += 1;
            return;
        }
        e.visit_mut_children_with(self);
    }
}

/// `import.meta.hot` (Vite's) and, in an ES module, `module.hot`
/// (webpack's): hot-reload APIs that a build never has. Both read as
/// `undefined`, so `if (module.hot) { … }` is a dead branch that goes
/// (webpack's production build does the same); a `CommonJS` module's
/// `module` is real and keeps its `hot`, which is undefined at run time.
struct HotGuards {
    esm: bool,
    unresolved: SyntaxContext,
    replaced: usize,
}

impl VisitMut for HotGuards {
    fn visit_mut_expr(&mut self, e: &mut Expr) {
        if let Expr::Member(m) = e
            && matches!(&m.prop, MemberProp::Ident(p) if &*p.sym == "hot")
        {
            let hot = match &*m.obj {
                Expr::MetaProp(mp) => mp.kind == MetaPropKind::ImportMeta,
                Expr::Ident(i) => self.esm && &*i.sym == "module" && i.ctxt == self.unresolved,
                _ => false,
            };
            if hot {
                *e = *Expr::undefined(m.span);
                self.replaced += 1;
                return;
            }
        }
        e.visit_mut_children_with(self);
    }
}

/// Collects the module's imports, exports and records.
struct Analysis<'a> {
    fm: &'a SourceFile,
    text: &'a str,
    unresolved: SyntaxContext,
    top: SyntaxContext,
    stem: String,
    imports: Vec<Import>,
    exports: BTreeMap<Atom, ExportFrom>,
    stars: Vec<usize>,
    records: Vec<Record>,
    globals_used: BTreeSet<Atom>,
    counts: HashMap<Id, u32>,
    non_member: BTreeSet<Id>,
    /// Top-level bindings whose context is not the top-level one.
    synthesized: HashSet<Id>,
    /// Where `module` and `exports` are first read as globals (not under
    /// `typeof`).
    free_cjs: BTreeMap<Atom, Span>,
    /// Where `require` is first used other than as `require("literal")`.
    free_require: Option<Span>,
    /// Namespace imports called or constructed.
    namespace_calls: Vec<(Id, Span, bool)>,
    /// The locals of `import * as` (filled before the uses are read).
    namespaces: HashSet<Id>,
    esm_syntax: bool,
    has_import_meta: bool,
    has_tla: bool,
}

impl<'a> Analysis<'a> {
    fn new(
        fm: &'a SourceFile,
        text: &'a str,
        unresolved: SyntaxContext,
        top: SyntaxContext,
        name: &str,
    ) -> Self {
        Analysis {
            fm,
            text,
            unresolved,
            top,
            stem: crate::bundle::ident_stem(name),
            imports: Vec::new(),
            exports: BTreeMap::new(),
            stars: Vec::new(),
            records: Vec::new(),
            globals_used: BTreeSet::new(),
            counts: HashMap::new(),
            non_member: BTreeSet::new(),
            synthesized: HashSet::new(),
            free_cjs: BTreeMap::new(),
            free_require: None,
            namespace_calls: Vec::new(),
            namespaces: HashSet::new(),
            esm_syntax: false,
            has_import_meta: false,
            has_tla: false,
        }
    }

    fn record(&mut self, specifier: String, kind: RecordKind, span: Span) -> usize {
        let offset = span.lo.0.saturating_sub(self.fm.start_pos.0) as usize;
        let (line, column) =
            crate::diagnostics::line_col_utf16(self.text, offset.min(self.text.len()));
        self.records.push(Record {
            specifier,
            kind,
            pos: span.lo.0,
            line,
            column,
            target: Target::Unresolved,
        });
        self.records.len() - 1
    }

    fn export_name(n: &ModuleExportName) -> Atom {
        match n {
            ModuleExportName::Ident(i) => i.sym.clone(),
            ModuleExportName::Str(s) => Atom::from(s.value.to_string_lossy().as_ref()),
        }
    }

    /// A fresh top-level binding named `<stem>_<what>`.
    fn fresh(&self, what: &str) -> Ident {
        Ident::new(format!("{}_{what}", self.stem).into(), DUMMY_SP, self.top)
    }

    /// `import … from`: a record, and an [`Import`] per specifier.
    fn take_import(&mut self, i: ImportDecl) {
        if i.type_only {
            return;
        }
        let spec = str_value(&i.src);
        let r = self.record(spec, RecordKind::Static, i.src.span);
        for s in i.specifiers {
            let (local, what) = match s {
                ImportSpecifier::Named(n) => {
                    if n.is_type_only {
                        continue;
                    }
                    let what = match &n.imported {
                        Some(m) => Self::export_name(m),
                        None => n.local.sym.clone(),
                    };
                    let what = if &*what == "default" {
                        Imported::Default
                    } else {
                        Imported::Named(what)
                    };
                    (n.local, what)
                }
                ImportSpecifier::Default(d) => (d.local, Imported::Default),
                ImportSpecifier::Namespace(n) => (n.local, Imported::Namespace),
            };
            self.imports.push(Import {
                local: local.to_id(),
                record: r,
                what,
                member_only: false,
                count: 0,
            });
        }
    }

    /// `export { … }`, `export { … } from`: an export per specifier (and a
    /// record).
    fn take_export_named(&mut self, n: NamedExport) {
        if n.type_only {
            return;
        }
        let record = n.src.as_ref().map(|s| {
            let spec = str_value(s);
            self.record(spec, RecordKind::Static, s.span)
        });
        for s in n.specifiers {
            match s {
                ExportSpecifier::Named(named) => {
                    if named.is_type_only {
                        continue;
                    }
                    let orig = Self::export_name(&named.orig);
                    let exported = named
                        .exported
                        .as_ref()
                        .map_or_else(|| orig.clone(), Self::export_name);
                    let from = match (record, &named.orig) {
                        (Some(r), _) => ExportFrom::Record(
                            r,
                            if &*orig == "default" {
                                Imported::Default
                            } else {
                                Imported::Named(orig)
                            },
                        ),
                        (None, ModuleExportName::Ident(i)) => ExportFrom::Local(i.to_id()),
                        (None, ModuleExportName::Str(_)) => continue,
                    };
                    self.exports.insert(exported, from);
                }
                ExportSpecifier::Namespace(ns) => {
                    if let Some(r) = record {
                        self.exports.insert(
                            Self::export_name(&ns.name),
                            ExportFrom::Record(r, Imported::Namespace),
                        );
                    }
                }
                ExportSpecifier::Default(d) => {
                    if let Some(r) = record {
                        self.exports.insert(
                            d.exported.sym.clone(),
                            ExportFrom::Record(r, Imported::Default),
                        );
                    }
                }
            }
        }
    }

    /// Takes every module declaration out of the body.
    fn take_module_decls(&mut self, module: &mut Module) {
        let body = std::mem::take(&mut module.body);
        let mut out = Vec::with_capacity(body.len());
        for item in body {
            let decl = match item {
                ModuleItem::Stmt(s) => {
                    out.push(ModuleItem::Stmt(s));
                    continue;
                }
                ModuleItem::ModuleDecl(d) => d,
            };
            self.esm_syntax = true;
            match decl {
                ModuleDecl::Import(i) => self.take_import(i),
                ModuleDecl::ExportDecl(e) => {
                    let stmt = Stmt::Decl(e.decl);
                    for id in declared(&stmt) {
                        self.exports.insert(id.0.clone(), ExportFrom::Local(id));
                    }
                    out.push(ModuleItem::Stmt(stmt));
                }
                ModuleDecl::ExportNamed(n) => self.take_export_named(n),
                ModuleDecl::ExportDefaultDecl(d) => match d.decl {
                    DefaultDecl::Fn(f) => {
                        let ident = f.ident.clone().unwrap_or_else(|| self.fresh("default"));
                        self.exports
                            .insert("default".into(), ExportFrom::Local(ident.to_id()));
                        out.push(ModuleItem::Stmt(Stmt::Decl(Decl::Fn(FnDecl {
                            ident,
                            declare: false,
                            function: f.function,
                        }))));
                    }
                    DefaultDecl::Class(c) => {
                        let ident = c.ident.clone().unwrap_or_else(|| self.fresh("default"));
                        self.exports
                            .insert("default".into(), ExportFrom::Local(ident.to_id()));
                        out.push(ModuleItem::Stmt(Stmt::Decl(Decl::Class(ClassDecl {
                            ident,
                            declare: false,
                            class: c.class,
                        }))));
                    }
                    DefaultDecl::TsInterfaceDecl(_) => {}
                },
                ModuleDecl::ExportDefaultExpr(e) => {
                    let ident = self.fresh("default");
                    self.exports
                        .insert("default".into(), ExportFrom::Local(ident.to_id()));
                    // `const`: the default binding has a temporal dead zone.
                    out.push(ModuleItem::Stmt(Stmt::Decl(Decl::Var(Box::new(VarDecl {
                        span: e.span,
                        ctxt: SyntaxContext::empty(),
                        kind: VarDeclKind::Const,
                        declare: false,
                        decls: vec![VarDeclarator {
                            span: e.span,
                            name: Pat::Ident(ident.into()),
                            init: Some(e.expr),
                            definite: false,
                        }],
                    })))));
                }
                ModuleDecl::ExportAll(e) => {
                    if e.type_only {
                        continue;
                    }
                    let spec = str_value(&e.src);
                    let r = self.record(spec, RecordKind::Static, e.src.span);
                    self.stars.push(r);
                }
                ModuleDecl::TsImportEquals(_)
                | ModuleDecl::TsExportAssignment(_)
                | ModuleDecl::TsNamespaceExport(_) => {}
            }
        }
        module.body = out;
    }

    fn uses(&mut self) -> Uses<'_, 'a> {
        self.namespaces = self
            .imports
            .iter()
            .filter(|imp| imp.what == Imported::Namespace)
            .map(|imp| imp.local.clone())
            .collect();
        Uses {
            a: self,
            in_member_obj: false,
        }
    }
}

pub fn str_value(s: &Str) -> String {
    s.value.to_string_lossy().into_owned()
}

/// Counts references, finds globals and namespace uses that are not
/// `ns.prop`.
struct Uses<'b, 'a> {
    a: &'b mut Analysis<'a>,
    in_member_obj: bool,
}

impl Uses<'_, '_> {
    /// A local bound by `import * as`.
    fn is_namespace(&self, i: &Ident) -> bool {
        !self.a.namespaces.is_empty() && self.a.namespaces.contains(&i.to_id())
    }
}

impl Visit for Uses<'_, '_> {
    fn visit_ident(&mut self, i: &Ident) {
        if i.ctxt == self.a.unresolved {
            match &*i.sym {
                "module" | "exports" => {
                    self.a.free_cjs.entry(i.sym.clone()).or_insert(i.span);
                }
                "require" => {
                    self.a.free_require.get_or_insert(i.span);
                }
                _ => {}
            }
            self.a.globals_used.insert(i.sym.clone());
        } else if i.ctxt == self.a.top || self.a.synthesized.contains(&i.to_id()) {
            *self.a.counts.entry(i.to_id()).or_default() += 1;
            if !self.in_member_obj {
                self.a.non_member.insert(i.to_id());
            }
        }
    }

    fn visit_member_expr(&mut self, m: &MemberExpr) {
        let static_prop = matches!(&m.prop, MemberProp::Ident(_))
            || matches!(&m.prop, MemberProp::Computed(c) if matches!(&*c.expr, Expr::Lit(Lit::Str(_))));
        if static_prop && let Expr::Ident(i) = &*m.obj {
            self.in_member_obj = true;
            self.visit_ident(i);
            self.in_member_obj = false;
        } else {
            m.obj.visit_with(self);
        }
        m.prop.visit_with(self);
    }

    // Assignments and updates through a namespace (`ns.x = 1`) still read
    // the object: keep them as uses so the object is built.
    fn visit_simple_assign_target(&mut self, t: &SimpleAssignTarget) {
        if let SimpleAssignTarget::Member(m) = t
            && let Expr::Ident(i) = &*m.obj
        {
            self.visit_ident(i);
            m.prop.visit_with(self);
            return;
        }
        t.visit_children_with(self);
    }

    fn visit_update_expr(&mut self, u: &UpdateExpr) {
        if let Expr::Member(m) = &*u.arg
            && let Expr::Ident(i) = &*m.obj
        {
            self.visit_ident(i);
        }
        u.visit_children_with(self);
    }

    // `delete ns.x` also needs the object.
    fn visit_unary_expr(&mut self, u: &UnaryExpr) {
        if u.op == UnaryOp::Delete
            && let Expr::Member(m) = &*u.arg
            && let Expr::Ident(i) = &*m.obj
        {
            self.visit_ident(i);
        }
        // `typeof module` is how code asks whether it is CommonJS: safe.
        if u.op == UnaryOp::TypeOf
            && let Expr::Ident(i) = &*u.arg
            && i.ctxt == self.a.unresolved
        {
            self.a.globals_used.insert(i.sym.clone());
            return;
        }
        u.visit_children_with(self);
    }

    fn visit_call_expr(&mut self, c: &CallExpr) {
        if let Callee::Expr(callee) = &c.callee
            && let Expr::Ident(i) = &**callee
        {
            // `require("x")` is bundled: not a free `require`.
            if &*i.sym == "require"
                && i.ctxt == self.a.unresolved
                && c.args.len() == 1
                && c.args[0].spread.is_none()
                && matches!(&*c.args[0].expr, Expr::Lit(Lit::Str(_)))
            {
                self.a.globals_used.insert(i.sym.clone());
                c.args.visit_with(self);
                return;
            }
            if self.is_namespace(i) {
                self.a.namespace_calls.push((i.to_id(), i.span, false));
            }
        }
        c.visit_children_with(self);
    }

    fn visit_new_expr(&mut self, n: &NewExpr) {
        if let Expr::Ident(i) = &*n.callee
            && self.is_namespace(i)
        {
            self.a.namespace_calls.push((i.to_id(), i.span, true));
        }
        n.visit_children_with(self);
    }

    fn visit_prop(&mut self, p: &Prop) {
        if let Prop::Shorthand(i) = p {
            self.visit_ident(i);
        } else {
            p.visit_children_with(self);
        }
    }
}

/// `require('x')`, `import('x')`, `new URL('x', import.meta.url)`,
/// `import.meta` and top-level `await`.
struct Records<'b, 'a> {
    a: &'b mut Analysis<'a>,
    fn_depth: u32,
}

impl Visit for Records<'_, '_> {
    fn visit_call_expr(&mut self, c: &CallExpr) {
        c.visit_children_with(self);
        match &c.callee {
            Callee::Import(_) => {
                if let Some(arg) = c.args.first()
                    && let Expr::Lit(Lit::Str(s)) = &*arg.expr
                    && c.args.len() <= 2
                {
                    self.a.record(str_value(s), RecordKind::Dynamic, c.span);
                }
            }
            Callee::Expr(e) => {
                if let Expr::Ident(i) = &**e
                    && &*i.sym == "require"
                    && i.ctxt == self.a.unresolved
                    && c.args.len() == 1
                    && c.args[0].spread.is_none()
                    && let Expr::Lit(Lit::Str(s)) = &*c.args[0].expr
                {
                    self.a.record(str_value(s), RecordKind::Require, c.span);
                }
            }
            Callee::Super(_) => {}
        }
    }

    fn visit_new_expr(&mut self, n: &NewExpr) {
        n.visit_children_with(self);
        if let Some((url, s)) = js::url_of_import_meta(n)
            && url.ctxt == self.a.unresolved
        {
            let spec = str_value(s);
            let local = spec.starts_with("./") || spec.starts_with("../");
            if local {
                self.a.record(spec, RecordKind::Url, s.span);
            }
        }
    }

    fn visit_meta_prop_expr(&mut self, m: &MetaPropExpr) {
        if m.kind == MetaPropKind::ImportMeta {
            self.a.has_import_meta = true;
        }
    }

    fn visit_function(&mut self, f: &Function) {
        self.fn_depth += 1;
        f.visit_children_with(self);
        self.fn_depth -= 1;
    }

    fn visit_arrow_expr(&mut self, f: &ArrowExpr) {
        self.fn_depth += 1;
        f.visit_children_with(self);
        self.fn_depth -= 1;
    }

    fn visit_class(&mut self, c: &Class) {
        self.fn_depth += 1;
        c.visit_children_with(self);
        self.fn_depth -= 1;
    }

    fn visit_await_expr(&mut self, a: &AwaitExpr) {
        if self.fn_depth == 0 {
            self.a.has_tla = true;
        }
        a.visit_children_with(self);
    }

    fn visit_for_of_stmt(&mut self, f: &ForOfStmt) {
        if f.is_await && self.fn_depth == 0 {
            self.a.has_tla = true;
        }
        f.visit_children_with(self);
    }
}

/// The nearest `package.json` above `path` says `"type": "module"`, or the
/// extension is `.mjs`/`.mts`.
pub fn is_node_mode(path: &Path, kind: JsKind, packages: &PackageCache) -> bool {
    matches!(kind, JsKind::Mjs | JsKind::Mts) || packages.get(path).is_some_and(|p| p.type_module)
}

/// What the linker needs from a package.json.
#[derive(Debug, Clone, Default)]
pub struct PackageInfo {
    pub dir: PathBuf,
    pub type_module: bool,
    /// `None`: every file has side effects.
    pub side_effects: Option<SideEffects>,
}

#[derive(Debug, Clone)]
pub enum SideEffects {
    None,
    Only(globset::GlobSet),
}

impl PackageInfo {
    pub fn has_side_effects(&self, path: &Path) -> bool {
        match &self.side_effects {
            None => true,
            Some(SideEffects::None) => false,
            Some(SideEffects::Only(set)) => {
                let rel = path.strip_prefix(&self.dir).unwrap_or(path);
                set.is_match(rel) || set.is_match(rel.file_name().unwrap_or_default())
            }
        }
    }
}

/// package.json files by directory, read once.
#[derive(Default)]
pub struct PackageCache {
    dirs: std::sync::Mutex<HashMap<PathBuf, Option<Arc<PackageInfo>>>>,
}

impl PackageCache {
    /// The package.json nearest above `file`.
    pub fn get(&self, file: &Path) -> Option<Arc<PackageInfo>> {
        let mut dir = file.parent();
        while let Some(d) = dir {
            if let Some(found) = self.at(d) {
                return Some(found);
            }
            dir = d.parent();
        }
        None
    }

    fn at(&self, dir: &Path) -> Option<Arc<PackageInfo>> {
        if let Ok(m) = self.dirs.lock()
            && let Some(v) = m.get(dir)
        {
            return v.clone();
        }
        let info = std::fs::read_to_string(dir.join("package.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .map(|v| {
                let side_effects = match v.get("sideEffects") {
                    Some(serde_json::Value::Bool(false)) => Some(SideEffects::None),
                    Some(serde_json::Value::Array(list)) => {
                        let mut b = globset::GlobSetBuilder::new();
                        for p in list.iter().filter_map(|x| x.as_str()) {
                            let p = p.strip_prefix("./").unwrap_or(p);
                            let p = if p.contains('/') {
                                p.to_string()
                            } else {
                                format!("**/{p}")
                            };
                            if let Ok(g) = globset::Glob::new(&p) {
                                b.add(g);
                            }
                        }
                        b.build().ok().map(SideEffects::Only)
                    }
                    _ => None,
                };
                Arc::new(PackageInfo {
                    dir: dir.to_path_buf(),
                    type_module: v.get("type").and_then(|t| t.as_str()) == Some("module"),
                    side_effects,
                })
            });
        if let Ok(mut m) = self.dirs.lock() {
            m.insert(dir.to_path_buf(), info.clone());
        }
        info
    }
}
