//! The transforms of [`front`](super::front) after the resolver, in swc's
//! order: decorators, TypeScript, JSX, `using`, `preset_env` lowering for
//! the targets, inline helpers. Also the passes of our own they need: a
//! file's JSX pragmas, and keeping the written names of decorated classes.

use swc_core::common::comments::SingleThreadedComments;
use swc_core::common::sync::Lrc;
use swc_core::common::{Mark, SourceMap};
use swc_core::ecma::ast::{CallExpr, Callee, Expr, Lit, MemberProp, Program, Str};
use swc_core::ecma::preset_env;
use swc_core::ecma::transforms::base::assumptions::Assumptions;
use swc_core::ecma::transforms::base::helpers::inject_helpers;
use swc_core::ecma::transforms::{proposal, react, typescript};
use swc_core::ecma::visit::{VisitMut, VisitMutWith};

use super::options::JsOptions;
use crate::config::{Decorators, Jsx};
use crate::discover::JsKind;

/// One file's transforms, and what they need besides its program.
pub(super) struct Passes<'a> {
    pub cm: &'a Lrc<SourceMap>,
    pub comments: &'a SingleThreadedComments,
    pub src: &'a str,
    pub kind: JsKind,
    pub opts: &'a JsOptions,
    pub unresolved_mark: Mark,
    pub top_level_mark: Mark,
}

impl Passes<'_> {
    /// Runs every transform on `program`, which the resolver has marked.
    /// Must run inside `HELPERS.set` and `HANDLER.set`.
    ///
    /// Decorators first, while TypeScript's types are still there (swc's
    /// own order); `preset_env` lowers neither decorators nor `using`,
    /// which no target we support runs natively. Passes whose syntax the
    /// text cannot hold are skipped: every pass walks the whole tree, and a
    /// bundle compiles thousands of modules.
    pub fn run(&self, program: &mut Program) {
        self.decorators(program);
        // Per-file pragmas (`/** @jsx h */`) win over every setting.
        let jsx_syntax = matches!(self.kind, JsKind::Js | JsKind::Jsx | JsKind::Tsx);
        let jsx = if jsx_syntax && self.src.contains("@jsx") {
            with_pragmas(&self.opts.jsx, &jsx_pragmas(self.comments))
        } else {
            self.opts.jsx.clone()
        };
        if self.kind.is_typescript() {
            self.typescript(program, &jsx);
        }
        if jsx_syntax && self.src.contains('<') {
            self.jsx(program, &jsx);
        }
        if self.src.contains("using") {
            program.mutate(proposal::explicit_resource_management::explicit_resource_management());
        }
        self.lower(program);
        program.mutate(inject_helpers(self.unresolved_mark));
    }

    /// Standard or legacy decorators, with the passes that keep decorated
    /// classes' names.
    fn decorators(&self, program: &mut Program) {
        let (opts, unresolved_mark) = (self.opts, self.unresolved_mark);
        let decorators = self.src.contains('@');
        match opts.decorators {
            _ if !decorators => {}
            Decorators::Standard => {
                program.mutate(proposal::decorator_2022_03::decorator_2022_03());
                program.visit_mut_with(&mut KeepDecoratedClassNames {
                    classes: Vec::new(),
                    free: swc_core::common::SyntaxContext::empty().apply_mark(unresolved_mark),
                });
            }
            Decorators::Legacy => {
                program.visit_mut_with(&mut KeepLegacyDecoratedClassNames {
                    free: swc_core::common::SyntaxContext::empty().apply_mark(unresolved_mark),
                });
                program.mutate(proposal::decorators::decorators(
                    proposal::decorators::Config {
                        legacy: true,
                        emit_metadata: opts.ts.decorator_metadata,
                        use_define_for_class_fields: opts.ts.define_class_fields,
                    },
                ));
            }
        }
    }

    /// Strips TypeScript (with the classic JSX pragmas a `.tsx` file's
    /// strip needs), then, for `useDefineForClassFields: false`, turns
    /// fields into assignments.
    fn typescript(&self, program: &mut Program, jsx: &Jsx) {
        let (opts, unresolved_mark, top_level_mark) =
            (self.opts, self.unresolved_mark, self.top_level_mark);
        let ts_config = typescript::Config {
            native_class_properties: opts.ts.define_class_fields,
            verbatim_module_syntax: opts.ts.verbatim_module_syntax,
            import_not_used_as_values: if opts.ts.preserve_unused_imports {
                typescript::ImportsNotUsedAsValues::Preserve
            } else {
                typescript::ImportsNotUsedAsValues::Remove
            },
            ..Default::default()
        };
        match (jsx, self.kind) {
            (Jsx::Classic { factory, fragment }, JsKind::Tsx) => {
                program.mutate(typescript::tsx(
                    self.cm.clone(),
                    ts_config,
                    typescript::TsxConfig {
                        pragma: Some(factory.clone().into()),
                        pragma_frag: Some(fragment.clone().into()),
                    },
                    self.comments,
                    unresolved_mark,
                    top_level_mark,
                ));
            }
            _ => program.mutate(typescript::typescript(
                ts_config,
                unresolved_mark,
                top_level_mark,
            )),
        }
        // TypeScript's `useDefineForClassFields: false`: fields are
        // assigned in the constructor, and fields without a value are
        // not fields at all (a decorator's accessor on the prototype
        // stays visible), after the strip has removed `declare` ones.
        if !opts.ts.define_class_fields {
            program.mutate(
                swc_core::ecma::transforms::compat::class_fields_use_set::class_fields_use_set(
                    false,
                ),
            );
        }
    }

    /// JSX to calls, with the file's runtime.
    fn jsx(&self, program: &mut Program, jsx: &Jsx) {
        let options = match jsx {
            Jsx::Automatic { import_source } => react::Options {
                runtime: Some(react::Runtime::Automatic),
                import_source: Some(import_source.as_str().into()),
                development: Some(false),
                ..Default::default()
            },
            Jsx::Classic { factory, fragment } => react::Options {
                runtime: Some(react::Runtime::Classic),
                pragma: Some(factory.clone().into()),
                pragma_frag: Some(fragment.clone().into()),
                development: Some(false),
                ..Default::default()
            },
        };
        program.mutate(react::react(
            self.cm.clone(),
            Some(self.comments),
            options,
            self.top_level_mark,
            self.unresolved_mark,
        ));
    }

    /// `preset_env` for the browser targets.
    fn lower(&self, program: &mut Program) {
        // `bugfixes`: where a target only has a bug in one corner of a
        // feature (Safari 16.0-16.2 and default parameters), fix that
        // corner instead of lowering the whole feature, as Babel 8 does
        // by default.
        let env = preset_env::Config {
            targets: Some(preset_env::Targets::Versions(self.opts.versions)),
            bugfixes: true,
            ..Default::default()
        };
        program.mutate(preset_env::transform_from_env(
            self.unresolved_mark,
            Some(self.comments),
            env.into(),
            Assumptions::default(),
        ));
    }
}

/// A file's JSX pragmas: `@jsx h`, `@jsxFrag Fragment`, `@jsxRuntime
/// classic|automatic` and `@jsxImportSource preact`, in any comment, as
/// TypeScript, Babel and esbuild read them.
#[derive(Debug, Default, PartialEq, Eq)]
struct JsxPragmas {
    /// `@jsxRuntime`: true for classic.
    classic: Option<bool>,
    factory: Option<String>,
    fragment: Option<String>,
    import_source: Option<String>,
}

fn jsx_pragmas(comments: &SingleThreadedComments) -> JsxPragmas {
    let (leading, trailing) = comments.borrow_all();
    let mut all: Vec<_> = leading
        .values()
        .chain(trailing.values())
        .flatten()
        .collect();
    all.sort_by_key(|c| c.span.lo);
    let mut p = JsxPragmas::default();
    for c in all {
        let mut words = c
            .text
            .split(|ch: char| ch.is_whitespace() || ch == '*')
            .filter(|w| !w.is_empty());
        while let Some(w) = words.next() {
            let value = || words.clone().next().map(str::to_string);
            match w {
                "@jsxRuntime" => match value().as_deref() {
                    Some("classic") => p.classic = Some(true),
                    Some("automatic") => p.classic = Some(false),
                    _ => {}
                },
                // A factory that is not a dotted name is ignored (swc
                // would fail on it).
                "@jsx" => {
                    p.factory = value().filter(|v| crate::config::is_member_expr(v));
                }
                "@jsxFrag" => {
                    p.fragment = value().filter(|v| crate::config::is_member_expr(v));
                }
                "@jsxImportSource" => p.import_source = value(),
                _ => {}
            }
        }
    }
    p
}

/// `jsx` under a file's pragmas. `@jsx` alone means the classic runtime
/// with that factory (as in TypeScript, Babel's classic default and
/// esbuild's), `@jsxImportSource` alone the automatic one.
fn with_pragmas(jsx: &Jsx, p: &JsxPragmas) -> Jsx {
    let classic = p.classic.unwrap_or(if p.factory.is_some() {
        true
    } else if p.import_source.is_some() {
        false
    } else {
        matches!(jsx, Jsx::Classic { .. })
    });
    match (classic, jsx) {
        (true, Jsx::Classic { factory, fragment }) => Jsx::Classic {
            factory: p.factory.clone().unwrap_or_else(|| factory.clone()),
            fragment: p.fragment.clone().unwrap_or_else(|| fragment.clone()),
        },
        (true, Jsx::Automatic { .. }) => Jsx::Classic {
            factory: p
                .factory
                .clone()
                .unwrap_or_else(|| "React.createElement".into()),
            fragment: p
                .fragment
                .clone()
                .unwrap_or_else(|| "React.Fragment".into()),
        },
        (false, Jsx::Automatic { import_source }) => Jsx::Automatic {
            import_source: p
                .import_source
                .clone()
                .unwrap_or_else(|| import_source.clone()),
        },
        (false, Jsx::Classic { .. }) => Jsx::Automatic {
            import_source: p.import_source.clone().unwrap_or_else(|| "react".into()),
        },
    }
}

/// Standard class decorators get their context's `name` from the class's
/// `name` property at run time (swc's helper, like Babel's and TypeScript's,
/// reads `targetClass.name`), which the bundler and the minifier rename.
/// The spec's `name` is the class's name as written (esbuild passes it as a
/// string), so a decorated class is given back its written name before its
/// decorators run, as esbuild's `--keep-names` does.
struct KeepDecoratedClassNames {
    /// Written names of the classes being visited (`None`: anonymous or
    /// made by a transform).
    classes: Vec<Option<swc_core::atoms::Atom>>,
    /// The context of global names (`Object`).
    free: swc_core::common::SyntaxContext,
}

impl KeepDecoratedClassNames {
    fn written(ident: Option<&swc_core::ecma::ast::Ident>) -> Option<swc_core::atoms::Atom> {
        ident.filter(|i| !i.span.is_dummy()).map(|i| i.sym.clone())
    }
}

impl VisitMut for KeepDecoratedClassNames {
    fn visit_mut_class_decl(&mut self, n: &mut swc_core::ecma::ast::ClassDecl) {
        self.classes.push(Self::written(Some(&n.ident)));
        n.class.visit_mut_with(self);
        self.classes.pop();
    }

    fn visit_mut_class_expr(&mut self, n: &mut swc_core::ecma::ast::ClassExpr) {
        self.classes.push(Self::written(n.ident.as_ref()));
        n.class.visit_mut_with(self);
        self.classes.pop();
    }

    fn visit_mut_call_expr(&mut self, n: &mut CallExpr) {
        use swc_core::ecma::ast::SeqExpr;
        n.visit_mut_children_with(self);
        let Some(Some(name)) = self.classes.last() else {
            return;
        };
        let is_helper = matches!(&n.callee, Callee::Expr(e)
            if matches!(&**e, Expr::Ident(i) if i.sym.starts_with("_apply_decs_2203")));
        let Some(first) = n.args.first_mut() else {
            return;
        };
        if !is_helper || !matches!(&*first.expr, Expr::This(_)) {
            return;
        }
        let define = set_name(first.expr.clone(), name, self.free);
        let this = first.expr.clone();
        *first.expr = Expr::Seq(SeqExpr {
            span: swc_core::common::DUMMY_SP,
            exprs: vec![Box::new(define), this],
        });
    }
}

/// `Object.defineProperty(target, "name", { value: "<name>" })`, with
/// `Object` in the global context `free`.
fn set_name(target: Box<Expr>, name: &str, free: swc_core::common::SyntaxContext) -> Expr {
    use swc_core::ecma::ast::{
        ExprOrSpread, Ident, IdentName, KeyValueProp, MemberExpr, ObjectLit, Prop, PropName,
        PropOrSpread,
    };
    let span = swc_core::common::DUMMY_SP;
    let str_lit = |v: &str| {
        Box::new(Expr::Lit(Lit::Str(Str {
            span,
            value: v.into(),
            raw: None,
        })))
    };
    let arg = |expr| ExprOrSpread { spread: None, expr };
    Expr::Call(CallExpr {
        span,
        callee: Callee::Expr(Box::new(Expr::Member(MemberExpr {
            span,
            obj: Box::new(Expr::Ident(Ident::new("Object".into(), span, free))),
            prop: MemberProp::Ident(IdentName::new("defineProperty".into(), span)),
        }))),
        args: vec![
            arg(target),
            arg(str_lit("name")),
            arg(Box::new(Expr::Object(ObjectLit {
                span,
                props: vec![PropOrSpread::Prop(Box::new(Prop::KeyValue(KeyValueProp {
                    key: PropName::Ident(IdentName::new("value".into(), span)),
                    value: str_lit(name),
                })))],
            }))),
        ],
        ..Default::default()
    })
}

/// Legacy decorators read a class's `name` at run time too (a class
/// decorator gets the constructor; `TypeORM` names tables after it): a class
/// with any of them keeps its written name, set in a static block that runs
/// before they are applied, whatever the bundle or the minifier call it.
struct KeepLegacyDecoratedClassNames {
    free: swc_core::common::SyntaxContext,
}

impl KeepLegacyDecoratedClassNames {
    fn decorated(class: &swc_core::ecma::ast::Class) -> bool {
        use swc_core::ecma::ast::{ClassMember, ParamOrTsParamProp};
        !class.decorators.is_empty()
            || class.body.iter().any(|m| match m {
                ClassMember::ClassProp(p) => !p.decorators.is_empty(),
                ClassMember::PrivateProp(p) => !p.decorators.is_empty(),
                ClassMember::Method(m) => {
                    !m.function.decorators.is_empty()
                        || m.function.params.iter().any(|p| !p.decorators.is_empty())
                }
                ClassMember::Constructor(c) => c.params.iter().any(|p| match p {
                    ParamOrTsParamProp::Param(p) => !p.decorators.is_empty(),
                    ParamOrTsParamProp::TsParamProp(p) => !p.decorators.is_empty(),
                }),
                _ => false,
            })
    }

    fn keep(
        &self,
        class: &mut swc_core::ecma::ast::Class,
        ident: Option<&swc_core::ecma::ast::Ident>,
    ) {
        use swc_core::ecma::ast::{BlockStmt, ClassMember, StaticBlock, Stmt, ThisExpr};
        let Some(name) = KeepDecoratedClassNames::written(ident) else {
            return;
        };
        if !Self::decorated(class) {
            return;
        }
        let span = swc_core::common::DUMMY_SP;
        let this = Box::new(Expr::This(ThisExpr { span }));
        class.body.insert(
            0,
            ClassMember::StaticBlock(StaticBlock {
                span,
                body: BlockStmt {
                    stmts: vec![Stmt::Expr(swc_core::ecma::ast::ExprStmt {
                        span,
                        expr: Box::new(set_name(this, &name, self.free)),
                    })],
                    ..Default::default()
                },
            }),
        );
    }
}

impl VisitMut for KeepLegacyDecoratedClassNames {
    fn visit_mut_class_decl(&mut self, n: &mut swc_core::ecma::ast::ClassDecl) {
        n.class.visit_mut_with(self);
        self.keep(&mut n.class, Some(&n.ident));
    }

    fn visit_mut_class_expr(&mut self, n: &mut swc_core::ecma::ast::ClassExpr) {
        n.class.visit_mut_with(self);
        self.keep(&mut n.class, n.ident.as_ref());
    }
}
