//! Minification of a [`Front`]: swc's compressor and mangler with the
//! resolver's marks ([`optimize`]), or `hygiene` without minification,
//! then `fixer`; and [`reminify`], which mangles a bundle's chunk once
//! more as a whole.

use std::sync::Arc;

use swc_core::common::comments::SingleThreadedComments;
use swc_core::common::errors::HANDLER;
use swc_core::common::{GLOBALS, Globals, Mark, Spanned as _};
use swc_core::ecma::ast::Program;
use swc_core::ecma::minifier::option::terser::TerserCompressorOptions;
use swc_core::ecma::minifier::option::{
    ExtraOptions, MangleOptions, MinifyOptions, TopLevelOptions,
};
use swc_core::ecma::parser::{EsSyntax, Syntax};
use swc_core::ecma::transforms::base::fixer::fixer;
use swc_core::ecma::transforms::base::hygiene::hygiene;
use swc_core::ecma::transforms::base::resolver;

use super::front::{
    Front, collected_errors, collecting_handler, parse, source_file, span_diagnostic,
};
use super::options::JsOptions;
use super::print::{legal_comments, print};
use crate::diagnostics::{Category, Diagnostic};
use crate::discover::JsKind;

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

/// [`optimize`], compressing only when `compress_too` (mangling always).
fn optimize_with(
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
    let errors = collected_errors(&collected, "JS_MINIFY", &|code, msg, span| {
        f.diagnostic(code, msg, span)
    });
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
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
