//! Emitting: each module is rewritten by its [`Plan`], minified (with the
//! chunk-level names it must keep) and printed on its own thread; a chunk
//! is its modules' code in evaluation order between the chunk's imports
//! and exports, and its map is theirs, moved down by lines.

#![allow(clippy::wildcard_imports)] // the swc AST is used whole
#![allow(clippy::too_many_arguments)] // one job with its inputs spelled out
#![allow(clippy::similar_names)] // rest/ret, own/own_names are what they say
#![allow(clippy::implicit_hasher)] // internal maps
#![allow(clippy::format_push_string)] // a few short lines per chunk

use std::collections::{HashMap, HashSet};

use swc_core::atoms::Atom;
use swc_core::common::util::take::Take;
use swc_core::common::{DUMMY_SP, GLOBALS, Mark, SyntaxContext};
use swc_core::ecma::ast::*;
use swc_core::ecma::utils::{ExprFactory, find_pat_ids};
use swc_core::ecma::visit::{VisitMut, VisitMutWith};

use super::link::{CallRepl, Linked, OutFormat, Plan, Prelude, Repl, SymId, Wrap};
use super::module::{Js, ModuleId, comments_of, declared, scope_bindings};
use crate::diagnostics::Diagnostic;
use crate::js::{self, Front, JsOptions};
use crate::sourcemap::Map;

/// A module's emitted code.
#[derive(Clone)]
pub struct Emitted {
    /// Statements that run before any module of the chunk (namespace
    /// objects).
    pub head: String,
    pub code: String,
    pub map: Option<Map>,
}

/// How the emitter writes references it cannot know yet.
pub struct Placeholders<'a> {
    /// The URL of an asset module, as a page uses it (base + name).
    pub asset: &'a (dyn Fn(ModuleId) -> String + Sync),
    /// The URL of an asset module relative to the chunk
    /// (`new URL(…, import.meta.url)`).
    pub url: &'a (dyn Fn(ModuleId) -> String + Sync),
    /// The URL (base + name) of an entry point's stylesheet.
    pub css: &'a (dyn Fn(usize) -> String + Sync),
    /// The URL of an entry point's chunk.
    pub chunk: &'a (dyn Fn(usize) -> String + Sync),
}

/// Rewrites, optimises and prints one module, in steps:
/// 1. rewrite its code by the plan (`Rewrite`: imports, calls, `this`,
///    renamed bindings);
/// 2. `prelude_stmts`: the statements of its preludes and postludes, and
///    its namespace objects for the chunk's head;
/// 3. `body_stmts`: its own statements (the unminified runtime's shaken);
/// 4. `wrap_stmts`: all of it in the module's closure, if any;
/// 5. `mark_kept`: what the rest of the build reads, for the minifier
///    (or the dead-code pass);
/// 6. optimise (`js::optimize`), then `rename_moved_bindings`: top-level
///    bindings the minifier made get names of their own;
/// 7. print the code, and `print_head`: the namespace objects.
pub fn emit_module(
    module_index: ModuleId,
    mut js: Js,
    name: &str,
    plan: &Plan,
    linked: &Linked,
    format: OutFormat,
    opts: &JsOptions,
    ph: &Placeholders<'_>,
) -> Result<Emitted, Vec<Diagnostic>> {
    let globals = js.globals.clone();
    GLOBALS.set(&globals, || {
        let comments = comments_of(&mut js);
        let free = SyntaxContext::empty().apply_mark(js.unresolved_mark);
        let top = SyntaxContext::empty().apply_mark(js.top_level_mark);
        let idents = Idents::new(plan, linked, top, free);
        // Imports, calls, `this` and renamed bindings, by the plan.
        let is_cjs = matches!(plan.wrap, Some(Wrap::Cjs(_)));
        let mut module = std::sync::Arc::unwrap_or_clone(std::mem::take(&mut js.program));
        let mut rw = Rewrite {
            plan,
            idents: &idents,
            ph,
            free,
            top,
            this_repl: if is_cjs {
                Some(Expr::Ident(Ident::new("exports".into(), DUMMY_SP, free)))
            } else {
                Some(*Expr::undefined(DUMMY_SP))
            },
            iife: format == OutFormat::Iife,
            fn_depth: 0,
            names: &linked.names,
        };
        module.visit_mut_with(&mut rw);

        // Preludes and the chunk head's namespace objects; the module's
        // own statements; all of it in its closure.
        let stmts = prelude_stmts(plan, &idents, &rw);
        let body = body_stmts(&mut module, module_index, plan, &idents, opts);
        let items = wrap_stmts(plan, &idents, stmts.prelude, stmts.postlude, body);
        module.body = items.into_iter().map(ModuleItem::Stmt).collect();
        // What the rest of the build reads stays; then minify.
        let module = mark_kept(module, plan, &idents, js.unresolved_mark, opts);
        let mut f = Front {
            cm: js.cm.clone(),
            fm: js.fm.clone(),
            program: Program::Module(module),
            comments,
            unresolved_mark: js.unresolved_mark,
            top_level_mark: js.top_level_mark,
            legal: std::mem::take(&mut js.legal),
            names: std::sync::Arc::unwrap_or_clone(std::mem::take(&mut js.names)),
            source: js.source.clone(),
            shown: name.to_string(),
        };
        js::optimize(&mut f, opts, true, false)?;
        // The export list of kept names goes; bindings the minifier moved
        // to the top level get names of their own.
        if let Program::Module(m) = &mut f.program {
            m.body
                .retain(|item| !matches!(item, ModuleItem::ModuleDecl(_)));
            rename_moved_bindings(m, &idents, module_index);
        }
        // Print the code, and the head apart.
        let (code, map) = js::print(&f, opts, name)?;
        let head = print_head(f, stmts.head, opts, name)?;
        Ok(Emitted { head, code, map })
    })
}

/// Chunk-level names as identifiers of one module: its own in its
/// top-level context, the others' free.
struct Idents<'a> {
    names: &'a [Atom],
    helpers: &'a std::collections::BTreeMap<&'static str, SymId>,
    /// Names this module declares at chunk level.
    own: HashSet<SymId>,
    top: SyntaxContext,
    free: SyntaxContext,
}

impl<'a> Idents<'a> {
    fn new(plan: &Plan, linked: &'a Linked, top: SyntaxContext, free: SyntaxContext) -> Self {
        let mut own: HashSet<SymId> = plan.renames.values().copied().collect();
        if let Some(Wrap::Cjs(s) | Wrap::Esm(s)) = plan.wrap {
            own.insert(s);
        }
        for p in plan.prelude.iter().chain(&plan.postlude) {
            match p {
                Prelude::ImportVar { var, .. } | Prelude::Namespace { var, .. } => {
                    own.insert(*var);
                }
                Prelude::Init(_) => {}
            }
        }
        Idents {
            names: &linked.names,
            helpers: &linked.helpers,
            own,
            top,
            free,
        }
    }

    fn ident(&self, s: SymId) -> Ident {
        let ctxt = if self.own.contains(&s) {
            self.top
        } else {
            self.free
        };
        Ident::new(
            self.names.get(s).cloned().unwrap_or_default(),
            DUMMY_SP,
            ctxt,
        )
    }

    /// The runtime's helper `h`.
    fn helper(&self, h: &str) -> Expr {
        Expr::Ident(self.ident(self.helpers.get(h).copied().unwrap_or(0)))
    }

    /// The final names of the symbols this module declares that `keep`
    /// holds.
    fn own_kept<'k>(
        &'k self,
        keep: &'k std::collections::BTreeSet<SymId>,
    ) -> impl Iterator<Item = SymId> + 'k {
        keep.iter().copied().filter(|s| self.own.contains(s))
    }
}

/// A module's statements besides its own code.
struct Stmts {
    /// Before its code (inside its closure).
    prelude: Vec<Stmt>,
    /// After its closure: `import_x` variables of its ES importers.
    postlude: Vec<Stmt>,
    /// Namespace objects, which exist before any module runs (as a module
    /// namespace does): they go to the chunk's head.
    head: Vec<Stmt>,
}

/// The statements of the plan's preludes and postludes.
fn prelude_stmts(plan: &Plan, idents: &Idents<'_>, rw: &Rewrite<'_>) -> Stmts {
    let mut prelude: Vec<Stmt> = Vec::new();
    let mut postlude: Vec<Stmt> = Vec::new();
    let mut head: Vec<Stmt> = Vec::new();
    for (p, to_post) in plan
        .prelude
        .iter()
        .map(|p| (p, false))
        .chain(plan.postlude.iter().map(|p| (p, true)))
    {
        let prelude = if to_post { &mut postlude } else { &mut prelude };
        match p {
            Prelude::ImportVar {
                var,
                require,
                node_mode,
                interop,
            } => {
                let exports = Expr::Ident(idents.ident(*require)).as_call(DUMMY_SP, vec![]);
                if !*interop {
                    prelude.push(var_stmt(idents.ident(*var), exports));
                    continue;
                }
                let mut args = vec![exports.as_arg()];
                if *node_mode {
                    args.push(Expr::Lit(Lit::Num(Number::from(1.0))).as_arg());
                }
                prelude.push(var_stmt(
                    idents.ident(*var),
                    idents.helper("__toESM").as_call(DUMMY_SP, args),
                ));
            }
            Prelude::Init(s) => {
                prelude.push(
                    Expr::Ident(idents.ident(*s))
                        .as_call(DUMMY_SP, vec![])
                        .into_stmt(),
                );
            }
            Prelude::Namespace { var, members } => {
                namespace_stmts(*var, members, idents, rw, &mut head);
            }
        }
    }
    Stmts {
        prelude,
        postlude,
        head,
    }
}

/// `var x_exports = {}; __export(x_exports, { name: () => value, … });`
fn namespace_stmts(
    var: SymId,
    members: &[(Atom, Repl)],
    idents: &Idents<'_>,
    rw: &Rewrite<'_>,
    out: &mut Vec<Stmt>,
) {
    out.push(var_stmt(
        idents.ident(var),
        Expr::Object(ObjectLit {
            span: DUMMY_SP,
            props: vec![],
        }),
    ));
    if members.is_empty() {
        return;
    }
    let props = members
        .iter()
        .map(|(name, r)| {
            let value = match rw.repl_expr(r) {
                // `() => ({})`, not a block.
                e @ Expr::Object(_) => Expr::Paren(ParenExpr {
                    span: DUMMY_SP,
                    expr: Box::new(e),
                }),
                e => e,
            };
            PropOrSpread::Prop(Box::new(Prop::KeyValue(KeyValueProp {
                key: prop_name(name),
                value: Box::new(arrow(vec![], ArrowFunctionBody::Expr(Box::new(value)))),
            })))
        })
        .collect();
    out.push(
        idents
            .helper("__export")
            .as_call(
                DUMMY_SP,
                vec![
                    Expr::Ident(idents.ident(var)).as_arg(),
                    Expr::Object(ObjectLit {
                        span: DUMMY_SP,
                        props,
                    })
                    .as_arg(),
                ],
            )
            .into_stmt(),
    );
}

/// The module's own statements (its declarations were taken out when it
/// was loaded). Without the minifier nothing drops unused helpers: of
/// the runtime, the declarations the build uses, and what they use.
fn body_stmts(
    module: &mut Module,
    module_index: ModuleId,
    plan: &Plan,
    idents: &Idents<'_>,
    opts: &JsOptions,
) -> Vec<Stmt> {
    let body: Vec<Stmt> = module
        .body
        .drain(..)
        .filter_map(|item| match item {
            ModuleItem::Stmt(s) => Some(s),
            ModuleItem::ModuleDecl(_) => None,
        })
        .collect();
    if module_index == 0 && !opts.minify {
        let kept: HashSet<Atom> = plan
            .keep
            .iter()
            .filter_map(|&s| idents.names.get(s).cloned())
            .collect();
        shake_runtime(body, kept)
    } else {
        body
    }
}

/// The module's statements in its closure: `__commonJS` (its postlude
/// after), `__esm` (bindings hoisted out), or none.
fn wrap_stmts(
    plan: &Plan,
    idents: &Idents<'_>,
    prelude: Vec<Stmt>,
    postlude: Vec<Stmt>,
    body: Vec<Stmt>,
) -> Vec<Stmt> {
    let mut items: Vec<Stmt> = Vec::new();
    match plan.wrap {
        Some(Wrap::Cjs(s)) => {
            let mut inner = prelude;
            inner.extend(body);
            let param = |n: &str| Param {
                span: DUMMY_SP,
                decorators: vec![],
                pat: Pat::Ident(Ident::new(n.into(), DUMMY_SP, idents.free).into()),
            };
            let f = Expr::Fn(FnExpr {
                ident: None,
                function: Box::new(Function {
                    params: vec![param("exports"), param("module")],
                    decorators: vec![],
                    span: DUMMY_SP,
                    ctxt: SyntaxContext::empty(),
                    body: Some(FunctionBody {
                        span: DUMMY_SP,
                        stmts: inner,
                    }),
                    this_param: None,
                    is_generator: false,
                    is_async: false,
                    type_params: None,
                    return_type: None,
                }),
            });
            items.push(var_stmt(
                idents.ident(s),
                idents
                    .helper("__commonJS")
                    .as_call(DUMMY_SP, vec![f.as_arg()]),
            ));
            items.extend(postlude);
        }
        Some(Wrap::Esm(s)) => {
            let EsmSplit {
                hoisted,
                outside,
                inner,
            } = hoist(prelude, body);
            if !hoisted.is_empty() {
                items.push(Stmt::Decl(Decl::Var(Box::new(VarDecl {
                    span: DUMMY_SP,
                    ctxt: SyntaxContext::empty(),
                    kind: VarDeclKind::Var,
                    declare: false,
                    decls: hoisted
                        .into_iter()
                        .map(|i| VarDeclarator {
                            span: DUMMY_SP,
                            name: Pat::Ident(i.into()),
                            init: None,
                            definite: false,
                        })
                        .collect(),
                }))));
            }
            items.extend(outside);
            let f = arrow(
                vec![],
                ArrowFunctionBody::FunctionBody(FunctionBody {
                    span: DUMMY_SP,
                    stmts: inner,
                }),
            );
            items.push(var_stmt(
                idents.ident(s),
                idents.helper("__esm").as_call(DUMMY_SP, vec![f.as_arg()]),
            ));
        }
        _ => {
            items.extend(prelude);
            items.extend(body);
        }
    }
    items
}

/// An `__esm` module's statements, split.
struct EsmSplit {
    /// Bindings declared outside the closure, so other modules can name
    /// them.
    hoisted: Vec<Ident>,
    /// Function declarations, moved out whole.
    outside: Vec<Stmt>,
    /// The closure's body: declarations become assignments.
    inner: Vec<Stmt>,
}

/// Bindings are hoisted out of the closure so other modules can name
/// them; functions move out whole.
fn hoist(prelude: Vec<Stmt>, body: Vec<Stmt>) -> EsmSplit {
    let mut hoisted: Vec<Ident> = Vec::new();
    let mut outside: Vec<Stmt> = Vec::new();
    let mut inner: Vec<Stmt> = prelude;
    for stmt in body {
        match stmt {
            Stmt::Decl(Decl::Fn(_)) => outside.push(stmt),
            Stmt::Decl(Decl::Class(c)) => {
                hoisted.push(c.ident.clone());
                let id = c.ident.clone();
                inner.push(
                    AssignExpr {
                        span: DUMMY_SP,
                        op: AssignOp::Assign,
                        left: AssignTarget::Simple(SimpleAssignTarget::Ident(id.into())),
                        right: Box::new(Expr::Class(ClassExpr {
                            ident: Some(c.ident),
                            class: c.class,
                        })),
                    }
                    .into_stmt(),
                );
            }
            Stmt::Decl(Decl::Var(v)) => {
                for d in v.decls {
                    for id in find_pat_ids::<_, Id>(&d.name) {
                        hoisted.push(Ident::new(id.0, DUMMY_SP, id.1));
                    }
                    if let Some(init) = d.init {
                        match AssignTarget::try_from(d.name) {
                            Ok(left) => inner.push(
                                AssignExpr {
                                    span: DUMMY_SP,
                                    op: AssignOp::Assign,
                                    left,
                                    right: init,
                                }
                                .into_stmt(),
                            ),
                            Err(_) => inner.push(Stmt::Expr(ExprStmt {
                                span: DUMMY_SP,
                                expr: init,
                            })),
                        }
                    }
                }
            }
            mut other => {
                // `for (var i …)` and other nested `var`s are
                // module bindings too: declared outside,
                // assigned inside.
                let nested: Vec<Id> = scope_bindings(&other);
                if !nested.is_empty() {
                    other.visit_mut_with(&mut VarsToAssignments);
                    hoisted.extend(
                        nested
                            .into_iter()
                            .map(|id| Ident::new(id.0, DUMMY_SP, id.1)),
                    );
                }
                inner.push(other);
            }
        }
    }
    EsmSplit {
        hoisted,
        outside,
        inner,
    }
}

/// Tells the minifier which chunk-level names the rest of the build
/// reads (an export list it drops after); everything else at the top
/// level may go if unused. Without the minifier, a dead-code pass drops
/// unused top-level declarations and keeps those.
fn mark_kept(
    mut module: Module,
    plan: &Plan,
    idents: &Idents<'_>,
    unresolved_mark: Mark,
    opts: &JsOptions,
) -> Module {
    let keep: Vec<ExportSpecifier> = idents
        .own_kept(&plan.keep)
        .map(|s| {
            ExportSpecifier::Named(ExportNamedSpecifier {
                span: DUMMY_SP,
                orig: ModuleExportName::Ident(idents.ident(s)),
                exported: None,
                is_type_only: false,
            })
        })
        .collect();
    if !opts.minify {
        let retain: Vec<Atom> = idents
            .own_kept(&plan.keep)
            .filter_map(|s| idents.names.get(s).cloned())
            .collect();
        let mut program = Program::Module(std::mem::replace(&mut module, Module::dummy()));
        program.mutate(
            swc_core::ecma::transforms::optimization::simplify::dce::dce(
                swc_core::ecma::transforms::optimization::simplify::dce::Config {
                    top_level: true,
                    top_retain: retain,
                    ..Default::default()
                },
                unresolved_mark,
            ),
        );
        if let Program::Module(m) = program {
            module = m;
        }
    }
    if opts.minify && !keep.is_empty() {
        module
            .body
            .push(ModuleItem::ModuleDecl(ModuleDecl::ExportNamed(
                NamedExport {
                    span: DUMMY_SP,
                    specifiers: keep,
                    src: None,
                    type_only: false,
                    with: None,
                },
            )));
    }
    module
}

/// The minifier can move bindings to the top level (inlining a function
/// called once); they would share the chunk's scope with every other
/// module, so they get names no other module can have.
fn rename_moved_bindings(m: &mut Module, idents: &Idents<'_>, module_index: ModuleId) {
    let own_names: HashSet<Atom> = idents
        .own
        .iter()
        .filter_map(|&s| idents.names.get(s).cloned())
        .collect();
    let mut fresh: HashMap<Id, Atom> = HashMap::new();
    for item in &m.body {
        if let ModuleItem::Stmt(s) = item {
            for id in scope_bindings(s) {
                if !own_names.contains(&id.0) {
                    let name = Atom::from(format!("{}${}", id.0, module_index));
                    fresh.insert(id, name);
                }
            }
        }
    }
    if !fresh.is_empty() {
        m.visit_mut_with(&mut Fresh { names: &fresh });
    }
}

/// The chunk-head statements (namespace objects), printed without a map.
fn print_head(
    mut f: Front,
    head: Vec<Stmt>,
    opts: &JsOptions,
    name: &str,
) -> Result<String, Vec<Diagnostic>> {
    if head.is_empty() {
        return Ok(String::new());
    }
    let mut head_opts = opts.clone();
    head_opts.source_map = false;
    f.program = Program::Module(Module {
        span: DUMMY_SP,
        body: head.into_iter().map(ModuleItem::Stmt).collect(),
        shebang: None,
    });
    f.comments = swc_core::common::comments::SingleThreadedComments::default();
    f.legal = Vec::new();
    Ok(js::print(&f, &head_opts, name)?.0)
}

/// `(params) => body`.
fn arrow(params: Vec<Pat>, body: ArrowFunctionBody) -> Expr {
    Expr::Arrow(ArrowExpr {
        span: DUMMY_SP,
        ctxt: SyntaxContext::empty(),
        params,
        body: Box::new(body),
        is_async: false,
        is_generator: false,
        type_params: None,
        return_type: None,
    })
}

fn var_stmt(name: Ident, init: Expr) -> Stmt {
    Stmt::Decl(Decl::Var(Box::new(VarDecl {
        span: DUMMY_SP,
        ctxt: SyntaxContext::empty(),
        kind: VarDeclKind::Var,
        declare: false,
        decls: vec![VarDeclarator {
            span: DUMMY_SP,
            name: Pat::Ident(name.into()),
            init: Some(Box::new(init)),
            definite: false,
        }],
    })))
}

fn prop_name(name: &Atom) -> PropName {
    if is_identifier(name) {
        PropName::Ident(IdentName::new(name.clone(), DUMMY_SP))
    } else {
        PropName::Str(Str {
            span: DUMMY_SP,
            value: name.as_str().into(),
            raw: None,
        })
    }
}

pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c == '$' || c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '$' || c == '_' || c.is_ascii_alphanumeric())
}

struct Rewrite<'a> {
    plan: &'a Plan,
    idents: &'a Idents<'a>,
    ph: &'a Placeholders<'a>,
    free: SyntaxContext,
    /// The module's top-level context, which every renamed binding takes:
    /// bindings that transforms made (a decorated class's `_Foo`, an
    /// inlined helper) have contexts of their own, and the minifier only
    /// keeps top-level bindings of this context, and only matches the
    /// names the build keeps against it.
    top: SyntaxContext,
    this_repl: Option<Expr>,
    iife: bool,
    fn_depth: u32,
    names: &'a [Atom],
}

impl Rewrite<'_> {
    fn repl_expr(&self, r: &Repl) -> Expr {
        match r {
            Repl::Sym(s) => Expr::Ident(self.idents.ident(*s)),
            Repl::Member(s, prop) => Expr::Ident(self.idents.ident(*s))
                .make_member(IdentName::new(prop.clone(), DUMMY_SP))
                .into(),
            Repl::Url(m) => Expr::Lit(Lit::Str(Str {
                span: DUMMY_SP,
                value: (self.ph.asset)(*m).as_str().into(),
                raw: None,
            })),
            Repl::Undefined => *Expr::undefined(DUMMY_SP),
            Repl::EmptyObject => Expr::Object(ObjectLit {
                span: DUMMY_SP,
                props: vec![],
            }),
        }
    }

    fn member_repl(&self, m: &MemberExpr) -> Option<&Repl> {
        let Expr::Ident(obj) = &*m.obj else {
            return None;
        };
        let prop: Atom = match &m.prop {
            MemberProp::Ident(p) => p.sym.clone(),
            MemberProp::Computed(c) => match &*c.expr {
                Expr::Lit(Lit::Str(s)) => Atom::from(s.value.to_string_lossy().as_ref()),
                _ => return None,
            },
            MemberProp::PrivateName(_) => return None,
        };
        let id = obj.to_id();
        if !self.plan.imports.contains_key(&id) {
            return None;
        }
        // A namespace seen through: a name it does not export reads as
        // undefined.
        let any = self.plan.members.keys().any(|(l, _)| *l == id);
        match self.plan.members.get(&(id, prop)) {
            Some(r) => Some(r),
            None if any => Some(&Repl::Undefined),
            None => None,
        }
    }

    fn call_repl(&self, c: &CallRepl) -> Expr {
        match c {
            CallRepl::Call(s) => Expr::Ident(self.idents.ident(*s)).as_call(DUMMY_SP, vec![]),
            CallRepl::Value(s) => Expr::Ident(self.idents.ident(*s)),
            CallRepl::ToCommonJs { init, ns } => {
                let conv = self
                    .idents
                    .helper("__toCommonJS")
                    .as_call(DUMMY_SP, vec![Expr::Ident(self.idents.ident(*ns)).as_arg()]);
                match init {
                    Some(i) => seq(vec![
                        Expr::Ident(self.idents.ident(*i)).as_call(DUMMY_SP, vec![]),
                        conv,
                    ]),
                    None => conv,
                }
            }
            CallRepl::Empty => Expr::Object(ObjectLit {
                span: DUMMY_SP,
                props: vec![],
            }),
            CallRepl::Chunk { entry, ns, css } => {
                let str_lit = |v: String| {
                    Expr::Lit(Lit::Str(Str {
                        span: DUMMY_SP,
                        value: v.as_str().into(),
                        raw: None,
                    }))
                };
                let mut load = Expr::Call(CallExpr {
                    span: DUMMY_SP,
                    ctxt: SyntaxContext::empty(),
                    callee: Callee::Import(Import {
                        span: DUMMY_SP,
                        phase: ImportPhase::Evaluation,
                    }),
                    args: vec![str_lit((self.ph.chunk)(*entry)).as_arg()],
                    type_args: None,
                });
                if *css {
                    // Promise.all([import(chunk), __loadCss(url)]): the
                    // module resolves once its stylesheet applies.
                    let both = Expr::Array(ArrayLit {
                        span: DUMMY_SP,
                        elems: vec![
                            Some(load.as_arg()),
                            Some(
                                self.idents
                                    .helper("__loadCss")
                                    .as_call(
                                        DUMMY_SP,
                                        vec![str_lit((self.ph.css)(*entry)).as_arg()],
                                    )
                                    .as_arg(),
                            ),
                        ],
                    });
                    load = Expr::Ident(Ident::new("Promise".into(), DUMMY_SP, self.free))
                        .make_member(IdentName::new("all".into(), DUMMY_SP))
                        .as_call(DUMMY_SP, vec![both.as_arg()]);
                }
                if !*ns && !*css {
                    return load;
                }
                let m = Ident::new(
                    "m".into(),
                    DUMMY_SP,
                    SyntaxContext::empty().apply_mark(Mark::new()),
                );
                let module: Expr = if *css {
                    Expr::Ident(m.clone())
                        .computed_member(Expr::Lit(Lit::Num(Number::from(0.0))))
                        .into()
                } else {
                    Expr::Ident(m.clone())
                };
                let value: Expr = if *ns {
                    module
                        .make_member(IdentName::new(super::link::NS_EXPORT.into(), DUMMY_SP))
                        .into()
                } else {
                    module
                };
                let callback = arrow(
                    vec![Pat::Ident(m.into())],
                    ArrowFunctionBody::Expr(Box::new(value)),
                );
                load.make_member(IdentName::new("then".into(), DUMMY_SP))
                    .as_call(DUMMY_SP, vec![callback.as_arg()])
            }
            CallRepl::InlineCjs { require, node_mode } => {
                let mut args = vec![
                    Expr::Ident(self.idents.ident(*require))
                        .as_call(DUMMY_SP, vec![])
                        .as_arg(),
                ];
                if *node_mode {
                    args.push(Expr::Lit(Lit::Num(Number::from(1.0))).as_arg());
                }
                let value = self.idents.helper("__toESM").as_call(DUMMY_SP, args);
                promise_then(value, self.free)
            }
            CallRepl::Inline { init, ns } => {
                let value = match init {
                    Some(i) => seq(vec![
                        Expr::Ident(self.idents.ident(*i)).as_call(DUMMY_SP, vec![]),
                        Expr::Ident(self.idents.ident(*ns)),
                    ]),
                    None => Expr::Ident(self.idents.ident(*ns)),
                };
                promise_then(value, self.free)
            }
        }
    }
}

/// `Promise.resolve().then(() => value)`
fn promise_then(value: Expr, free: SyntaxContext) -> Expr {
    let resolved = Expr::Ident(Ident::new("Promise".into(), DUMMY_SP, free))
        .make_member(IdentName::new("resolve".into(), DUMMY_SP))
        .as_call(DUMMY_SP, vec![]);
    let callback = arrow(vec![], ArrowFunctionBody::Expr(Box::new(value)));
    resolved
        .make_member(IdentName::new("then".into(), DUMMY_SP))
        .as_call(DUMMY_SP, vec![callback.as_arg()])
}

impl Rewrite<'_> {
    /// An identifier's replacement, if it is an import or renamed.
    fn ident_expr(&self, i: &Ident) -> Option<Expr> {
        let id = i.to_id();
        if let Some(r) = self.plan.imports.get(&id) {
            return Some(self.repl_expr(r));
        }
        self.plan.renames.get(&id).map(|&s| {
            Expr::Ident(Ident::new(
                self.names.get(s).cloned().unwrap_or_default(),
                i.span,
                self.top,
            ))
        })
    }
}

fn seq(exprs: Vec<Expr>) -> Expr {
    Expr::Paren(ParenExpr {
        span: DUMMY_SP,
        expr: Box::new(Expr::Seq(SeqExpr {
            span: DUMMY_SP,
            exprs: exprs.into_iter().map(Box::new).collect(),
        })),
    })
}

/// `(0, a.b)`: a member call without `this`.
fn detached(e: Expr) -> Expr {
    if matches!(e, Expr::Member(_)) {
        seq(vec![Expr::Lit(Lit::Num(Number::from(0.0))), e])
    } else {
        e
    }
}

impl VisitMut for Rewrite<'_> {
    fn visit_mut_expr(&mut self, e: &mut Expr) {
        match e {
            Expr::Ident(i) => {
                if let Some(r) = self.ident_expr(i) {
                    *e = r;
                }
                return;
            }
            Expr::Member(m) => {
                if let Some(r) = self.member_repl(m) {
                    *e = self.repl_expr(&r.clone());
                    return;
                }
            }
            Expr::This(_) if self.fn_depth == 0 => {
                if let Some(r) = &self.this_repl {
                    *e = r.clone();
                }
                return;
            }
            Expr::MetaProp(m) if self.iife && m.kind == MetaPropKind::ImportMeta => {
                *e = Expr::Object(ObjectLit {
                    span: DUMMY_SP,
                    props: vec![],
                });
                return;
            }
            Expr::Call(c) => {
                // `import(…)` or `require(…)` itself, not a call that starts
                // at the same place (`require("x").f()`).
                let own_call = match &c.callee {
                    Callee::Import(_) => true,
                    Callee::Expr(callee) => {
                        matches!(&**callee, Expr::Ident(i) if &*i.sym == "require" && i.ctxt == self.free)
                    }
                    Callee::Super(_) => false,
                };
                if own_call && let Some(r) = self.plan.calls.get(&c.span.lo.0) {
                    *e = self.call_repl(&r.clone());
                    return;
                }
            }
            Expr::New(n) => {
                if let Some(args) = &mut n.args
                    && let Some(first) = args.first_mut()
                    && let Expr::Lit(Lit::Str(s)) = &mut *first.expr
                {
                    if let Some(&m) = self.plan.urls.get(&s.span.lo.0) {
                        s.value = (self.ph.url)(m).as_str().into();
                        s.raw = None;
                    } else if let Some(&e) = self.plan.url_chunks.get(&s.span.lo.0) {
                        s.value = (self.ph.chunk)(e).as_str().into();
                        s.raw = None;
                    }
                }
            }
            _ => {}
        }
        e.visit_mut_children_with(self);
    }

    fn visit_mut_callee(&mut self, c: &mut Callee) {
        if let Callee::Expr(e) = c {
            let replaced = match &**e {
                Expr::Ident(i) => self.ident_expr(i),
                Expr::Member(m) => self.member_repl(m).map(|r| self.repl_expr(&r.clone())),
                _ => None,
            };
            if let Some(r) = replaced {
                **e = detached(r);
                return;
            }
        }
        c.visit_mut_children_with(self);
    }

    fn visit_mut_tagged_tpl(&mut self, t: &mut TaggedTpl) {
        let replaced = match &*t.tag {
            Expr::Ident(i) => self.ident_expr(i),
            Expr::Member(m) => self.member_repl(m).map(|r| self.repl_expr(&r.clone())),
            _ => None,
        };
        if let Some(r) = replaced {
            *t.tag = detached(r);
            t.tpl.visit_mut_with(self);
            return;
        }
        t.visit_mut_children_with(self);
    }

    fn visit_mut_ident(&mut self, i: &mut Ident) {
        if let Some(&s) = self.plan.renames.get(&i.to_id()) {
            i.sym = self.names.get(s).cloned().unwrap_or_default();
            i.ctxt = self.top;
        }
    }

    fn visit_mut_prop(&mut self, p: &mut Prop) {
        if let Prop::Shorthand(i) = p
            && let Some(value) = self.ident_expr(i)
        {
            *p = Prop::KeyValue(KeyValueProp {
                key: PropName::Ident(IdentName::new(i.sym.clone(), i.span)),
                value: Box::new(value),
            });
            return;
        }
        p.visit_mut_children_with(self);
    }

    fn visit_mut_object_pat_prop(&mut self, p: &mut ObjectPatProp) {
        if let ObjectPatProp::Assign(a) = p
            && self.plan.renames.contains_key(&a.key.id.to_id())
        {
            let key = PropName::Ident(IdentName::new(a.key.id.sym.clone(), a.key.id.span));
            let mut binding = a.key.clone();
            binding.visit_mut_with(self);
            let mut value = match a.value.take() {
                Some(default) => Pat::Assign(AssignPat {
                    span: DUMMY_SP,
                    left: Box::new(Pat::Ident(binding)),
                    right: default,
                }),
                None => Pat::Ident(binding),
            };
            value.visit_mut_children_with(self);
            *p = ObjectPatProp::KeyValue(KeyValuePatProp {
                key,
                value: Box::new(value),
            });
            return;
        }
        p.visit_mut_children_with(self);
    }

    fn visit_mut_function(&mut self, f: &mut Function) {
        self.fn_depth += 1;
        f.visit_mut_children_with(self);
        self.fn_depth -= 1;
    }

    fn visit_mut_class(&mut self, c: &mut Class) {
        // `this` in field initialisers and static blocks is the class.
        self.fn_depth += 1;
        c.visit_mut_children_with(self);
        self.fn_depth -= 1;
    }

    // Statements that declare chunk-level names keep their shape.
    fn visit_mut_stmt(&mut self, s: &mut Stmt) {
        s.visit_mut_children_with(self);
    }
}

/// The runtime's statements that declare `kept` names, and those they
/// read, transitively.
fn shake_runtime(body: Vec<Stmt>, mut kept: HashSet<Atom>) -> Vec<Stmt> {
    use swc_core::ecma::visit::{Visit, VisitWith};
    struct Names<'a>(&'a mut HashSet<Atom>);
    impl Visit for Names<'_> {
        fn visit_ident(&mut self, i: &Ident) {
            self.0.insert(i.sym.clone());
        }
    }
    let mut take = vec![false; body.len()];
    loop {
        let mut changed = false;
        for (i, stmt) in body.iter().enumerate() {
            if !take[i] && declared(stmt).iter().any(|id| kept.contains(&id.0)) {
                take[i] = true;
                changed = true;
                stmt.visit_with(&mut Names(&mut kept));
            }
        }
        if !changed {
            break;
        }
    }
    body.into_iter()
        .zip(take)
        .filter_map(|(s, t)| t.then_some(s))
        .collect()
}

/// Turns the `var` declarations of a statement (not those of functions
/// inside it) into assignments, for a module whose bindings are hoisted out
/// of its `__esm` closure.
struct VarsToAssignments;

impl VarsToAssignments {
    /// `a = 1, b = 2` for the declarators that have a value.
    fn assignments(v: &mut VarDecl) -> Option<Expr> {
        let exprs: Vec<Box<Expr>> = v
            .decls
            .drain(..)
            .filter_map(|d| {
                let init = d.init?;
                let left = AssignTarget::try_from(d.name).ok()?;
                Some(Box::new(Expr::Assign(AssignExpr {
                    span: DUMMY_SP,
                    op: AssignOp::Assign,
                    left,
                    right: init,
                })))
            })
            .collect();
        match exprs.len() {
            0 => None,
            1 => exprs.into_iter().next().map(|e| *e),
            _ => Some(Expr::Seq(SeqExpr {
                span: DUMMY_SP,
                exprs,
            })),
        }
    }
}

impl VisitMut for VarsToAssignments {
    fn visit_mut_stmt(&mut self, s: &mut Stmt) {
        s.visit_mut_children_with(self);
        if let Stmt::Decl(Decl::Var(v)) = s
            && v.kind == VarDeclKind::Var
        {
            *s = match Self::assignments(v) {
                Some(e) => Stmt::Expr(ExprStmt {
                    span: DUMMY_SP,
                    expr: Box::new(e),
                }),
                None => Stmt::Empty(EmptyStmt { span: DUMMY_SP }),
            };
        }
    }

    fn visit_mut_for_stmt(&mut self, f: &mut ForStmt) {
        f.visit_mut_children_with(self);
        if let Some(VarDeclOrExpr::VarDecl(v)) = &mut f.init
            && v.kind == VarDeclKind::Var
        {
            f.init = Self::assignments(v).map(|e| VarDeclOrExpr::Expr(Box::new(e)));
        }
    }

    fn visit_mut_for_head(&mut self, h: &mut ForHead) {
        h.visit_mut_children_with(self);
        if let ForHead::VarDecl(v) = h
            && v.kind == VarDeclKind::Var
            && v.decls.len() == 1
            && v.decls[0].init.is_none()
        {
            let name = std::mem::replace(
                &mut v.decls[0].name,
                Pat::Invalid(Invalid { span: DUMMY_SP }),
            );
            *h = ForHead::Pat(Box::new(name));
        }
    }

    fn visit_mut_function(&mut self, _: &mut Function) {}
    fn visit_mut_arrow_expr(&mut self, _: &mut ArrowExpr) {}
    fn visit_mut_class(&mut self, _: &mut Class) {}
}

/// Renames bindings by id.
struct Fresh<'a> {
    names: &'a HashMap<Id, Atom>,
}

impl VisitMut for Fresh<'_> {
    fn visit_mut_ident(&mut self, i: &mut Ident) {
        if let Some(n) = self.names.get(&i.to_id()) {
            i.sym = n.clone();
        }
    }

    fn visit_mut_prop(&mut self, p: &mut Prop) {
        if let Prop::Shorthand(i) = p
            && let Some(n) = self.names.get(&i.to_id())
        {
            *p = Prop::KeyValue(KeyValueProp {
                key: PropName::Ident(IdentName::new(i.sym.clone(), i.span)),
                value: Box::new(Expr::Ident(Ident::new(n.clone(), i.span, i.ctxt))),
            });
            return;
        }
        p.visit_mut_children_with(self);
    }
}

/// The chunk's code: its imports, its modules' code, its exports.
pub struct ChunkText {
    pub code: String,
    pub map: Option<Map>,
}

/// Joins emitted modules into a chunk.
#[allow(clippy::too_many_arguments)]
pub fn assemble(
    chunk: usize,
    linked: &Linked,
    emitted: &mut HashMap<ModuleId, Emitted>,
    // Each module is in this chunk only: its map can be moved, not copied.
    owned: bool,
    format: OutFormat,
    global_name: Option<&str>,
    chunk_placeholder: &dyn Fn(usize) -> String,
    asset_placeholder: &dyn Fn(ModuleId) -> String,
    maps: bool,
    minify: bool,
) -> ChunkText {
    let plan = &linked.chunks[chunk];
    let names = &linked.names;
    let nl = "\n";
    let mut code = String::new();
    let mut parts: Vec<(u32, Map)> = Vec::new();
    let mut lines: u32 = 0;
    let push = |code: &mut String, lines: &mut u32, text: &str| {
        code.push_str(text);
        *lines += u32::try_from(text.matches('\n').count()).unwrap_or(0);
    };
    // One module's code, ended so the next cannot continue it: minified
    // code omits its last semicolon, and `let f=function(){}` followed by
    // a module that starts with `(0,x.g)(…)` would be a call of `f`. (The
    // `;` goes at the end of the last line, which moves no mapping.)
    let statements = |code: &mut String, lines: &mut u32, text: &str| {
        let body = text.trim_end();
        push(code, lines, body);
        if !body.is_empty() && !body.ends_with(';') {
            push(code, lines, ";");
        }
        push(code, lines, nl);
    };
    if format == OutFormat::Iife {
        let open = match global_name {
            Some(g) => format!("var {g}=(()=>{{{nl}"),
            None => format!("(()=>{{{nl}"),
        };
        push(&mut code, &mut lines, &open);
    }
    for (other, syms) in &plan.imports {
        let spec = crate::js::js_string(&chunk_placeholder(*other));
        let text = if syms.is_empty() {
            format!("import {spec};{nl}")
        } else {
            let list: Vec<String> = syms.iter().map(|s| names[*s].to_string()).collect();
            format!("import{{{}}}from{spec};{nl}", list.join(","))
        };
        push(&mut code, &mut lines, &text);
    }
    // The runtime first (the heads call its `__export`), then every
    // namespace object, then the modules' code.
    let mut append = |e: &mut Emitted, code: &mut String, lines: &mut u32| {
        let map = if owned { e.map.take() } else { e.map.clone() };
        if let Some(map) = map {
            parts.push((*lines, map));
        }
        statements(code, lines, &e.code);
    };
    let (runtime, rest): (Vec<ModuleId>, Vec<ModuleId>) =
        plan.modules.iter().partition(|&&m| m == 0);
    for m in &runtime {
        if let Some(e) = emitted.get_mut(m) {
            append(e, &mut code, &mut lines);
        }
    }
    for m in &rest {
        if let Some(e) = emitted.get(m)
            && !e.head.is_empty()
        {
            statements(&mut code, &mut lines, &e.head);
        }
    }
    for m in &rest {
        if let Some(e) = emitted.get_mut(m) {
            append(e, &mut code, &mut lines);
        }
    }
    // Exports: the entry's public names, and names other chunks import.
    let mut specs: Vec<String> = Vec::new();
    let mut temps = String::new();
    let mut public: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for (k, (name, repl)) in plan.entry_exports.iter().enumerate() {
        let local = match repl {
            Repl::Sym(s) => names[*s].to_string(),
            other => {
                let temp = format!("__prebake_export{k}");
                let value = match other {
                    Repl::Member(s, p) => format!("{}[{}]", names[*s], crate::js::js_string(p)),
                    Repl::Url(m) => crate::js::js_string(&asset_placeholder(*m)),
                    Repl::EmptyObject => "{}".to_string(),
                    _ => "void 0".to_string(),
                };
                temps.push_str(&format!("var {temp}={value};{nl}")); // cold path
                temp
            }
        };
        public.insert(name.to_string(), local);
    }
    push(&mut code, &mut lines, &temps);
    if let Some(r) = plan.entry_cjs {
        // A CommonJS entry runs when its chunk loads; its exports are the
        // chunk's default export (or the IIFE's value).
        let call = format!("{}()", names[r]);
        match format {
            OutFormat::Esm => {
                push(
                    &mut code,
                    &mut lines,
                    &format!("var __prebake_cjs={call};{nl}"),
                );
                public.insert("default".into(), "__prebake_cjs".into());
            }
            OutFormat::Iife => {
                let stmt = if global_name.is_some() {
                    format!("return {call};{nl}")
                } else {
                    format!("{call};{nl}")
                };
                push(&mut code, &mut lines, &stmt);
            }
        }
    }
    if format == OutFormat::Esm {
        for (name, local) in &public {
            let exported = if is_identifier(name) {
                name.clone()
            } else {
                crate::js::js_string(name)
            };
            if *local == exported {
                specs.push(local.clone());
            } else {
                specs.push(format!("{local} as {exported}"));
            }
        }
        for s in &plan.exports {
            let n = names[*s].to_string();
            if !public.contains_key(&n) || public.get(&n) != Some(&n) {
                if public.contains_key(&n) {
                    continue;
                }
                specs.push(n);
            }
        }
        if !specs.is_empty() {
            let sep = if minify { "," } else { ", " };
            push(
                &mut code,
                &mut lines,
                &format!("export{{{}}};{nl}", specs.join(sep)),
            );
        }
    } else {
        if global_name.is_some() && plan.entry_cjs.is_none() {
            let ret = match plan.entry_namespace {
                Some(ns) => names[ns].to_string(),
                None => "{}".to_string(),
            };
            push(&mut code, &mut lines, &format!("return {ret};{nl}"));
        }
        push(&mut code, &mut lines, &format!("}})();{nl}"));
    }
    let map = maps.then(|| Map::concat(parts));
    ChunkText { code, map }
}
