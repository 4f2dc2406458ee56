//! JavaScript and TypeScript, one file at a time, with swc.
//!
//! In: the source text of one file and [`JsOptions`]. Out: the compiled text,
//! or diagnostics with byte spans.
//!
//! Pass order follows swc's own builder: `resolver` → TypeScript strip →
//! JSX → `preset_env` lowering for the browser targets → inline helpers →
//! minifier (compress + mangle, with the resolver's marks) or `hygiene` →
//! `fixer` → codegen. Every job owns its `SourceMap`, `Globals` and
//! comments, so only plain strings cross threads.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use swc_core::common::comments::{Comments, SingleThreadedComments};
use swc_core::common::errors::{DiagnosticBuilder, Emitter, HANDLER, Handler};
use swc_core::common::sync::Lrc;
use swc_core::common::{FileName, GLOBALS, Globals, Mark, SourceFile, SourceMap, Spanned};
use swc_core::ecma::ast::{
    CallExpr, Callee, EsVersion, ExportAll, Expr, ImportDecl, Lit, MemberProp, MetaPropKind,
    NamedExport, NewExpr, Program, Str,
};
use swc_core::ecma::codegen::text_writer::{JsWriter, WriteJs, omit_trailing_semi};
use swc_core::ecma::codegen::{Config as CodegenConfig, Emitter as CodeEmitter};
use swc_core::ecma::minifier::option::terser::TerserCompressorOptions;
use swc_core::ecma::minifier::option::{
    ExtraOptions, MangleOptions, MinifyOptions, TopLevelOptions,
};
use swc_core::ecma::parser::{EsSyntax, Syntax, TsSyntax};
use swc_core::ecma::preset_env::{self, Version, Versions};
use swc_core::ecma::transforms::base::assumptions::Assumptions;
use swc_core::ecma::transforms::base::fixer::fixer;
use swc_core::ecma::transforms::base::helpers::{HELPERS, Helpers, inject_helpers};
use swc_core::ecma::transforms::base::hygiene::hygiene;
use swc_core::ecma::transforms::base::resolver;
use swc_core::ecma::transforms::{proposal, react, typescript};
use swc_core::ecma::visit::{VisitMut, VisitMutWith, VisitWith as _};

use crate::config::{Decorators, Jsx, JsxUser, Targets};
use crate::diagnostics::{Category, Diagnostic, Label};
use crate::discover::JsKind;
use crate::refs::Reference;
use crate::sourcemap::Edit;
use crate::tsconfig::{TsJsx, TsSettings};

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

/// Settings of the JS stage, derived once from the config, then per file
/// from its tsconfig.json ([`JsOptions::for_file`]).
#[derive(Clone)]
pub struct JsOptions {
    pub minify: bool,
    /// The file's JSX transform (per-file pragmas are read in [`front`]).
    pub jsx: Jsx,
    pub decorators: Decorators,
    pub versions: Versions,
    /// Lowest ECMAScript level every target runs: the syntax the minifier
    /// may introduce.
    pub es: EsVersion,
    /// Produce a source map.
    pub source_map: bool,
    /// TypeScript's code-shaping options for this file.
    pub ts: TsEmit,
    /// What the user set explicitly, which tsconfig.json cannot change.
    pub jsx_user: JsxUser,
    pub decorators_user: bool,
}

/// How TypeScript code is emitted, from the file's tsconfig.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(clippy::struct_excessive_bools)] // independent compiler options
pub struct TsEmit {
    /// `useDefineForClassFields`: fields are defined on the instance (the
    /// standard); false assigns them in the constructor and drops fields
    /// without an initializer, as TypeScript did before ES2022.
    pub define_class_fields: bool,
    /// `emitDecoratorMetadata` (legacy decorators only).
    pub decorator_metadata: bool,
    /// `verbatimModuleSyntax`: imports are kept unless marked `type`.
    pub verbatim_module_syntax: bool,
    /// `importsNotUsedAsValues: "preserve"`: an import whose names are all
    /// elided still loads its module.
    pub preserve_unused_imports: bool,
    /// `esModuleInterop`: without it, `import * as ns` of a `CommonJS`
    /// module is its `module.exports` itself (the bundler reads this).
    pub es_module_interop: bool,
}

impl Default for TsEmit {
    fn default() -> Self {
        TsEmit {
            define_class_fields: true,
            decorator_metadata: false,
            verbatim_module_syntax: false,
            preserve_unused_imports: false,
            es_module_interop: true,
        }
    }
}

impl JsOptions {
    pub fn new(minify: bool, jsx: Jsx, decorators: Decorators, targets: &Targets) -> JsOptions {
        let (versions, es) = versions_of(targets);
        JsOptions {
            minify,
            jsx,
            decorators,
            versions,
            es,
            source_map: false,
            ts: TsEmit::default(),
            jsx_user: JsxUser::default(),
            decorators_user: false,
        }
    }

    /// The options of the config (what the user set explicitly is kept, so
    /// a tsconfig.json cannot override it).
    pub fn from_config(cfg: &crate::config::Config) -> JsOptions {
        let mut o = JsOptions::new(cfg.minify, cfg.jsx.clone(), cfg.decorators, &cfg.targets);
        o.source_map = cfg.sourcemap != crate::config::SourceMaps::None;
        o.jsx_user = cfg.jsx_user.clone();
        o.decorators_user = cfg.decorators_user;
        o
    }

    /// These options for one file, under its tsconfig.json: settings the
    /// user gave win, then the tsconfig.json's, then the defaults.
    /// Decorators, class fields and import elision follow it in TypeScript
    /// files only (JavaScript has the standard semantics); JSX in both, as
    /// with esbuild.
    #[must_use]
    pub fn for_file(&self, ts: &TsSettings, is_ts: bool) -> JsOptions {
        let mut o = self.clone();
        if ts.file.is_none() {
            return o;
        }
        let user = &self.jsx_user;
        let valid = |f: &Option<String>| f.clone().filter(|f| crate::config::is_member_expr(f));
        let classic = user
            .classic
            .or(ts.jsx.map(|j| j == TsJsx::Classic))
            .unwrap_or(matches!(self.jsx, Jsx::Classic { .. }));
        o.jsx = if classic {
            Jsx::Classic {
                factory: valid(&user.factory)
                    .or_else(|| valid(&ts.jsx_factory))
                    .unwrap_or_else(|| "React.createElement".into()),
                fragment: valid(&user.fragment)
                    .or_else(|| valid(&ts.jsx_fragment_factory))
                    .unwrap_or_else(|| "React.Fragment".into()),
            }
        } else {
            Jsx::Automatic {
                import_source: user
                    .import_source
                    .clone()
                    .or_else(|| {
                        ts.jsx_import_source
                            .clone()
                            .filter(|s| !s.contains(|c: char| c.is_whitespace() || c == '"'))
                    })
                    .unwrap_or_else(|| "react".into()),
            }
        };
        if is_ts {
            if !self.decorators_user {
                o.decorators = if ts.experimental_decorators {
                    Decorators::Legacy
                } else {
                    Decorators::Standard
                };
            }
            o.ts = TsEmit {
                define_class_fields: ts.use_define_for_class_fields,
                decorator_metadata: ts.emit_decorator_metadata,
                verbatim_module_syntax: ts.verbatim_module_syntax,
                preserve_unused_imports: ts.preserve_unused_imports,
                es_module_interop: ts.es_module_interop,
            };
        }
        o
    }

    /// A digest of everything that shapes a file's compiled code besides its
    /// bytes and the build-wide settings: what its tsconfig.json changed.
    pub fn file_key(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        // Deterministic within a process, which is all a session's cache
        // needs (it never reaches an output).
        let mut h = std::collections::hash_map::DefaultHasher::new();
        format!("{:?}", self.jsx).hash(&mut h);
        format!("{:?}", self.decorators).hash(&mut h);
        self.ts.hash(&mut h);
        h.finish()
    }
}

/// A browser version as `major << 16 | minor << 8`; a bare major is shifted.
fn major(n: u32) -> u32 {
    if n > 0xffff { n } else { n << 16 }
}

/// Converts the shared browser list into swc's form, and finds the lowest
/// ES level all of them support.
fn versions_of(targets: &Targets) -> (Versions, EsVersion) {
    let b = &targets.browsers;
    let v = |x: Option<u32>| {
        x.map(|n| Version {
            major: n >> 16,
            minor: (n >> 8) & 0xff,
            patch: n & 0xff,
        })
    };
    let versions = Versions {
        android: v(b.android),
        chrome: v(b.chrome),
        edge: v(b.edge),
        firefox: v(b.firefox),
        ie: v(b.ie),
        ios: v(b.ios_saf),
        opera: v(b.opera),
        safari: v(b.safari),
        samsung: v(b.samsung),
        ..Versions::default()
    };

    // First versions with full support of each level's syntax, per MDN and
    // caniuse (major << 16 | minor << 8).
    let levels: [(EsVersion, [u32; 8]); 4] = [
        // chrome, edge, firefox, safari, ios, opera, samsung, android
        (
            EsVersion::Es2022,
            [94, 94, 93, 16 << 16 | 4 << 8, 16 << 16 | 4 << 8, 80, 17, 94].map(major),
        ),
        (
            EsVersion::Es2020,
            [80, 80, 80, 14, 14, 67, 13, 80].map(major),
        ),
        (
            EsVersion::Es2017,
            [58, 16, 53, 11, 11, 45, 7, 58].map(major),
        ),
        (
            EsVersion::Es2015,
            [51, 15, 54, 10, 10, 38, 5, 51].map(major),
        ),
    ];
    let have = [
        b.chrome, b.edge, b.firefox, b.safari, b.ios_saf, b.opera, b.samsung, b.android,
    ];
    let es = if b.ie.is_some() {
        EsVersion::Es5
    } else {
        levels
            .iter()
            .find(|(_, min)| have.iter().zip(min).all(|(h, m)| h.is_none_or(|h| h >= *m)))
            .map_or(EsVersion::Es5, |(es, _)| *es)
    };
    (versions, es)
}

/// Compiles one file. `name` is the logical name (it never reaches the
/// output), `shown` the path used in diagnostics.
pub fn compile(
    name: &str,
    shown: &str,
    src: &str,
    kind: JsKind,
    opts: &JsOptions,
) -> Result<JsOutput, Vec<Diagnostic>> {
    GLOBALS.set(&Globals::new(), || {
        let mut f = front(name, shown, src, kind, opts, &mut |_, _| {})?;
        let is_module = matches!(f.program, Program::Module(_));
        optimize(&mut f, opts, is_module, is_module)?;
        // Module specifiers become placeholders the pipeline rewrites to
        // fingerprinted names; taken after the transforms, so imports that
        // TypeScript elided are not references.
        let mut specifiers = Specifiers {
            name,
            src,
            tag: placeholder_tag(src),
            start: f.fm.start_pos.0,
            refs: Vec::new(),
            bare: Vec::new(),
        };
        f.program.visit_mut_with(&mut specifiers);
        let (code, map) = print(&f, opts, name)?;
        Ok(JsOutput {
            code,
            refs: specifiers.refs,
            bare: specifiers.bare,
            map,
        })
    })
}

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
    pub names: std::collections::HashMap<u32, swc_core::atoms::Atom>,
    pub source: Arc<str>,
    pub shown: String,
}

impl Front {
    /// A diagnostic at `span` of this file.
    pub fn diagnostic(
        &self,
        code: &'static str,
        msg: String,
        span: swc_core::common::Span,
    ) -> Diagnostic {
        span_diagnostic(&self.fm, &self.shown, &self.source, code, msg, span)
    }
}

fn span_diagnostic(
    fm: &SourceFile,
    shown: &str,
    source: &Arc<str>,
    code: &'static str,
    msg: String,
    span: swc_core::common::Span,
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
    if let Some(at) = too_deep(src) {
        return Err(vec![
            Diagnostic::error(
                "JS_NESTING",
                Category::Input,
                format!(
                    "nesting too deep: more than {MAX_NESTING} open brackets, or more than {MAX_ELSE_IF} `else if` in one block"
                ),
            )
            .with_label(Label::new(shown, source, at..at + 1).with_text("limit reached here")),
        ]);
    }

    let (cm, fm) = source_file(name, src);
    let (handler, collected) = collecting_handler();
    let to_diag = |code: &'static str, msg: String, span: swc_core::common::Span| {
        span_diagnostic(&fm, shown, &source, code, msg, span)
    };

    let comments = SingleThreadedComments::default();
    let is_ts = kind.is_typescript();
    let jsx_syntax = matches!(kind, JsKind::Js | JsKind::Jsx | JsKind::Tsx);
    let syntax = syntax_of(kind);

    // Parse. Recovered errors are real syntax errors: fatal, like @swc/core.
    let mut recovered = Vec::new();
    let parsed = parse(&fm, syntax, kind, &comments, &mut recovered);
    let mut errors: Vec<Diagnostic> = recovered
        .into_iter()
        .map(|e| to_diag("JS_PARSE", e.kind().msg().into_owned(), e.span()))
        .collect();
    let mut program = match parsed {
        Ok(p) => p,
        Err(e) => {
            errors.insert(
                0,
                to_diag("JS_PARSE", e.kind().msg().into_owned(), e.span()),
            );
            return Err(dedupe(errors));
        }
    };
    if !errors.is_empty() {
        return Err(dedupe(errors));
    }
    if let Some(span) = too_complex(&program) {
        return Err(vec![
            to_diag(
                "JS_NESTING",
                format!(
                    "expression or statement nested deeper than {MAX_AST_DEPTH} levels; \
                 the optimiser's cost grows with the square of this depth"
                ),
                span,
            )
            .with_help("split the expression (long `a + b + …` chains count as nesting)"),
        ]);
    }

    let legal = legal_comments(&comments);
    // Original identifier names by position, for the map's `names`:
    // the minifier renames identifiers but keeps their spans.
    let names = if opts.source_map {
        let mut c = IdentNames::default();
        program.visit_with(&mut c);
        c.names
    } else {
        std::collections::HashMap::new()
    };
    let unresolved_mark = Mark::new();
    let top_level_mark = Mark::new();
    let program = HELPERS.set(&Helpers::new(false), || {
        HANDLER.set(&handler, || {
            program.mutate(resolver(unresolved_mark, top_level_mark, is_ts));
            after_resolver(&mut program, unresolved_mark);
            // Decorators first, while TypeScript's types are still there
            // (swc's own order); preset_env lowers neither decorators
            // nor `using`, which no target we support runs natively.
            // Passes whose syntax the text cannot hold are skipped: every
            // pass walks the whole tree, and a bundle compiles thousands
            // of modules.
            let decorators = src.contains('@');
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
            // Per-file pragmas (`/** @jsx h */`) win over every setting.
            let jsx = if jsx_syntax && src.contains("@jsx") {
                with_pragmas(&opts.jsx, &jsx_pragmas(&comments))
            } else {
                opts.jsx.clone()
            };
            if is_ts {
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
                match (&jsx, kind) {
                    (Jsx::Classic { factory, fragment }, JsKind::Tsx) => {
                        program.mutate(typescript::tsx(
                            cm.clone(),
                            ts_config,
                            typescript::TsxConfig {
                                pragma: Some(factory.clone().into()),
                                pragma_frag: Some(fragment.clone().into()),
                            },
                            &comments,
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
            }
            // TypeScript's `useDefineForClassFields: false`: fields are
            // assigned in the constructor, and fields without a value are
            // not fields at all (a decorator's accessor on the prototype
            // stays visible), after the strip has removed `declare` ones.
            if is_ts && !opts.ts.define_class_fields {
                program.mutate(
                    swc_core::ecma::transforms::compat::class_fields_use_set::class_fields_use_set(
                        false,
                    ),
                );
            }
            if jsx_syntax && src.contains('<') {
                let options = match &jsx {
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
                    cm.clone(),
                    Some(&comments),
                    options,
                    top_level_mark,
                    unresolved_mark,
                ));
            }
            if src.contains("using") {
                program
                    .mutate(proposal::explicit_resource_management::explicit_resource_management());
            }
            // `bugfixes`: where a target only has a bug in one corner of a
            // feature (Safari 16.0-16.2 and default parameters), fix that
            // corner instead of lowering the whole feature, as Babel 8 does
            // by default.
            let env = preset_env::Config {
                targets: Some(preset_env::Targets::Versions(opts.versions)),
                bugfixes: true,
                ..Default::default()
            };
            program.mutate(preset_env::transform_from_env(
                unresolved_mark,
                Some(&comments),
                env.into(),
                Assumptions::default(),
            ));
            program.mutate(inject_helpers(unresolved_mark));
            program
        })
    });
    let transform_errors: Vec<Diagnostic> = collected
        .lock()
        .map(|v| v.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|(msg, span)| to_diag("JS_TRANSFORM", msg, span))
        .collect();
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

/// Minifies (compress, dropping unused top-level declarations when
/// `top_level`; mangle, top-level names too when `mangle_top_level`)
/// or, without minification, makes names hygienic; then adds the
/// parentheses printing needs. Must run inside the `GLOBALS` of `f`.
pub(crate) fn optimize(
    f: &mut Front,
    opts: &JsOptions,
    top_level: bool,
    mangle_top_level: bool,
) -> Result<(), Vec<Diagnostic>> {
    optimize_with(f, opts, top_level, mangle_top_level, true)
}

/// [`optimize`], compressing only when `compress` (mangling always).
pub(crate) fn optimize_with(
    f: &mut Front,
    opts: &JsOptions,
    top_level: bool,
    mangle_top_level: bool,
    compress_too: bool,
) -> Result<(), Vec<Diagnostic>> {
    let (handler, collected) = collecting_handler();
    let is_module = matches!(f.program, Program::Module(_));
    let program = std::mem::replace(
        &mut f.program,
        Program::Script(swc_core::ecma::ast::Script {
            span: swc_core::common::DUMMY_SP,
            body: Vec::new(),
            shebang: None,
        }),
    );
    let mut program = HANDLER.set(&handler, || {
        let mut program = if opts.minify {
            let mut compress = TerserCompressorOptions::default().into_config(f.cm.clone());
            compress.module = is_module;
            compress.ecma = opts.es;
            // One pass, as esbuild makes: repeating until nothing changes
            // (swc's default) costs a third more time on three.js for 0.1%
            // of size.
            compress.passes = 1;
            if top_level {
                compress.top_level = Some(TopLevelOptions { functions: true });
            }
            swc_core::ecma::minifier::optimize(
                program,
                f.cm.clone(),
                Some(&f.comments),
                None,
                &MinifyOptions {
                    compress: compress_too.then_some(compress),
                    mangle: Some(MangleOptions {
                        top_level: Some(mangle_top_level),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                &ExtraOptions {
                    unresolved_mark: f.unresolved_mark,
                    top_level_mark: f.top_level_mark,
                    mangle_name_cache: None,
                },
            )
        } else {
            let mut p = program;
            p.mutate(hygiene());
            p
        };
        program.mutate(fixer(Some(&f.comments)));
        program
    });
    std::mem::swap(&mut f.program, &mut program);
    let errors: Vec<Diagnostic> = collected
        .lock()
        .map(|v| v.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|(msg, span)| f.diagnostic("JS_MINIFY", msg, span))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Prints `f` (legal comments first when minified) with its map, whose one
/// source is called `name`.
pub(crate) fn print(
    f: &Front,
    opts: &JsOptions,
    name: &str,
) -> Result<(String, Option<crate::sourcemap::Map>), Vec<Diagnostic>> {
    let mut code = Vec::with_capacity(f.source.len() / 2);
    let mut mappings = Vec::new();
    {
        let writer = JsWriter::new(
            f.cm.clone(),
            "\n",
            &mut code,
            opts.source_map.then_some(&mut mappings),
        );
        let wr: Box<dyn WriteJs> = if opts.minify {
            Box::new(omit_trailing_semi(writer))
        } else {
            Box::new(writer)
        };
        let mut emitter = CodeEmitter {
            cfg: CodegenConfig::default()
                .with_minify(opts.minify)
                .with_target(opts.es)
                .with_ascii_only(true)
                .with_omit_last_semi(opts.minify),
            cm: f.cm.clone(),
            comments: if opts.minify {
                None
            } else {
                Some(&f.comments as &dyn Comments)
            },
            wr,
        };
        if let Err(e) = emitter.emit_program(&f.program) {
            return Err(vec![
                Diagnostic::error(
                    "JS_CODEGEN",
                    Category::Internal,
                    format!("cannot print: {e}"),
                )
                .with_file(&f.shown),
            ]);
        }
    }
    let code = String::from_utf8(code).map_err(|_| {
        vec![
            Diagnostic::error(
                "JS_CODEGEN",
                Category::Internal,
                "printer produced invalid UTF-8",
            )
            .with_file(&f.shown),
        ]
    })?;
    let mut out = String::with_capacity(code.len() + 1);
    if opts.minify {
        // Minified output drops comments except legal ones, which go
        // first (esbuild keeps them too).
        for c in &f.legal {
            out.push_str(c);
            out.push('\n');
        }
    }
    let map = opts.source_map.then(|| {
        let sm =
            f.cm.build_source_map(&mappings, None, MapConfig { names: &f.names });
        let mut map = crate::sourcemap::Map::from_swc(&sm, &|_| name.to_string());
        map.contents = vec![Some(f.source.clone()); map.sources.len()];
        map.offset_lines(u32::try_from(out.matches('\n').count()).unwrap_or(u32::MAX));
        map
    });
    out.push_str(&code);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok((out, map))
}

/// Mangles already minified code once more as a whole: a bundle's chunk,
/// whose modules were minified one by one. Top-level names are mangled in
/// a module (exports keep their public names); a script's are globals and
/// stay. The map (when asked for) maps the new text to `code`; compose it
/// with `code`'s own.
pub(crate) fn reminify(
    name: &str,
    code: &str,
    is_module: bool,
    opts: &JsOptions,
) -> Result<(String, Option<crate::sourcemap::Map>), Vec<Diagnostic>> {
    GLOBALS.set(&Globals::new(), || {
        let (cm, fm) = source_file(name, code);
        let comments = SingleThreadedComments::default();
        let mut recovered = Vec::new();
        let syntax = Syntax::Es(EsSyntax::default());
        let kind = if is_module { JsKind::Mjs } else { JsKind::Cjs };
        let source: Arc<str> = Arc::from(code);
        let program = parse(&fm, syntax, kind, &comments, &mut recovered).map_err(|e| {
            vec![span_diagnostic(
                &fm,
                name,
                &source,
                "JS_MINIFY",
                format!("cannot re-parse the bundle: {}", e.kind().msg()),
                e.span(),
            )]
        })?;
        if !recovered.is_empty() {
            return Err(vec![Diagnostic::error(
                "JS_MINIFY",
                Category::Internal,
                format!("cannot re-parse the bundle {name}"),
            )]);
        }
        let legal = legal_comments(&comments);
        let unresolved_mark = Mark::new();
        let top_level_mark = Mark::new();
        let mut program = program;
        program.mutate(resolver(unresolved_mark, top_level_mark, false));
        let mut f = Front {
            cm,
            fm,
            program,
            comments,
            unresolved_mark,
            top_level_mark,
            legal,
            names: std::collections::HashMap::new(),
            source,
            shown: name.to_string(),
        };
        // Mangling only: what a second pass gains is in the names (one
        // frequency ranking across the chunk); compressing again gains
        // 0.5% on three.js for twice the time.
        optimize_with(&mut f, opts, is_module, is_module, false)?;
        let (out, map) = print(&f, opts, name)?;
        Ok((out, map))
    })
}

/// Whether a script uses module syntax (`import`, `export`,
/// `import.meta`), which a classic `<script>` cannot run. A file that does
/// not parse says false: compiling it reports the syntax error.
pub fn has_module_syntax(name: &str, src: &str, kind: JsKind) -> bool {
    if too_deep(src).is_some() {
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
    let mut specifiers = Specifiers {
        name,
        src,
        tag: placeholder_tag(src),
        start: fm.start_pos.0,
        refs: Vec::new(),
        bare: Vec::new(),
    };
    program.visit_mut_with(&mut specifiers);
    Ok(specifiers.refs)
}

/// A compiled module.
pub struct JsOutput {
    /// The code, with a placeholder string for each module reference.
    pub code: String,
    /// Relative and absolute specifiers, to resolve and rewrite.
    pub refs: Vec<Reference>,
    /// Bare specifiers (`react`), left as written for an import map.
    pub bare: Vec<Reference>,
    /// Source map of `code`, when asked for.
    pub map: Option<crate::sourcemap::Map>,
}

/// Names the one source of a file's map (the pipeline replaces it with a
/// URL relative to the map once the output's place is known), and gives
/// each mapped identifier its original name.
struct MapConfig<'a> {
    names: &'a std::collections::HashMap<u32, swc_core::atoms::Atom>,
}

impl swc_core::common::source_map::SourceMapGenConfig for MapConfig<'_> {
    fn file_name_to_source(&self, f: &FileName) -> String {
        f.to_string()
    }

    fn name_for_bytepos(&self, pos: swc_core::common::BytePos) -> Option<&str> {
        self.names.get(&pos.0).map(swc_core::atoms::Atom::as_str)
    }

    // The pipeline sets the contents from the source it already holds.
    fn inline_sources_content(&self, _: &FileName) -> bool {
        false
    }
}

/// Every identifier of the parsed program by start position.
#[derive(Default)]
struct IdentNames {
    names: std::collections::HashMap<u32, swc_core::atoms::Atom>,
}

impl swc_core::ecma::visit::Visit for IdentNames {
    fn visit_ident(&mut self, n: &swc_core::ecma::ast::Ident) {
        if !n.span.is_dummy() {
            self.names.insert(n.span.lo.0, n.sym.clone());
        }
    }
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
    for found in crate::placeholder::references_in(code) {
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

/// The placeholder formats live in [`crate::placeholder`]; these are its
/// JS reference's, under the names they had here.
pub use crate::placeholder::{reference as placeholder, tag as placeholder_tag, unreplaced};

/// Replaces each specifier of `import`/`export … from`, literal `import()`
/// and `new URL(…, import.meta.url)` that is not bare with a placeholder.
struct Specifiers<'a> {
    name: &'a str,
    src: &'a str,
    tag: String,
    start: u32,
    refs: Vec<Reference>,
    bare: Vec<Reference>,
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
        let placeholder = placeholder(self.refs.len(), &self.tag);
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

/// The span where the syntax tree first gets deeper than [`MAX_AST_DEPTH`].
fn too_complex(program: &Program) -> Option<swc_core::common::Span> {
    use swc_core::ecma::ast::{Expr, JSXElement, Stmt, TsType};
    use swc_core::ecma::visit::{Visit, VisitWith};

    struct Depth {
        depth: usize,
        hit: Option<swc_core::common::Span>,
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

/// A source map holding one file, `text` named `name`: what every parse
/// starts from.
fn source_file(name: &str, text: &str) -> (Lrc<SourceMap>, Lrc<SourceFile>) {
    let cm: Lrc<SourceMap> = Lrc::default();
    let fm = cm.new_source_file(
        Lrc::new(FileName::Custom(name.to_string())),
        text.to_string(),
    );
    (cm, fm)
}

/// The parser's syntax for a dialect: TypeScript (TSX for `.tsx`), or
/// JavaScript with JSX where the extension allows it; decorators always.
fn syntax_of(kind: JsKind) -> Syntax {
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

fn parse(
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

/// `/*! ... */`, `@license` and `@preserve` comments, in source order.
fn legal_comments(comments: &SingleThreadedComments) -> Vec<String> {
    use swc_core::common::comments::CommentKind;
    let (leading, trailing) = comments.borrow_all();
    let mut all: Vec<_> = leading
        .values()
        .chain(trailing.values())
        .flatten()
        .filter(|c| {
            c.text.starts_with('!') || c.text.contains("@license") || c.text.contains("@preserve")
        })
        .map(|c| {
            let text = match c.kind {
                CommentKind::Block => format!("/*{}*/", c.text),
                CommentKind::Line => format!("//{}", c.text),
            };
            (c.span.lo, text)
        })
        .collect();
    all.sort();
    all.dedup_by(|a, b| a.1 == b.1);
    all.into_iter().map(|(_, t)| t).collect()
}

fn dedupe(mut v: Vec<Diagnostic>) -> Vec<Diagnostic> {
    v.sort_by_key(|d| d.labels.first().map(|l| l.span.start));
    v.dedup_by(|a, b| {
        a.message == b.message
            && a.labels.first().map(|l| &l.span) == b.labels.first().map(|l| &l.span)
    });
    v
}

/// swc's errors, as (message, span).
type Collected = Arc<Mutex<Vec<(String, swc_core::common::Span)>>>;

/// A handler that keeps swc's errors, and where it keeps them.
fn collecting_handler() -> (Handler, Collected) {
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
    fn placeholders_folded_into_longer_literals_are_replaced_safely() {
        let ph = placeholder(3, "0123456789ab");
        let code = format!("a(\"{ph}\");b(\"{ph}?v=1\");c(`x${{y}}{ph}#z`);d('{ph}');");
        let url = "img/it's \"odd\" $x.svg".to_string();
        let (out, _) = substitute(&code, &[(ph.clone(), url)]);
        assert_eq!(
            out,
            "a(\"./img/it's \\\"odd\\\" $x.svg\");b(\"img/it%27s %22odd%22 %24x.svg?v=1\");\
             c(`x${y}img/it%27s %22odd%22 %24x.svg#z`);d(\"./img/it's \\\"odd\\\" $x.svg\");"
        );
        assert_eq!(unreplaced(&out, [ph.as_str()]), None);
        assert_eq!(unreplaced(&code, [ph.as_str()]), Some(ph.as_str()));
    }

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
