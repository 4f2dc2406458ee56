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
//!
//! [`compile`] is that sequence for one file; the bundler runs its steps
//! itself ([`front`], [`optimize`], [`print`], then [`reminify`] per
//! chunk). By job:
//!
//! - `options`: [`JsOptions`] and [`TsEmit`], the browser targets;
//! - `limits`: the nesting bounds ([`too_deep`] and the tree's depth);
//! - `front`: parse and transform into a [`Front`];
//! - `passes`: the transforms, JSX pragmas, decorated classes' names;
//! - `minify`: [`optimize`] and [`reminify`];
//! - `print`: code, source map and legal comments;
//! - `refs`: module references as placeholders, and the URLs written back
//!   ([`substitute`]).

mod front;
mod limits;
mod minify;
mod options;
mod passes;
mod print;
mod refs;

use swc_core::common::{GLOBALS, Globals};
use swc_core::ecma::ast::Program;
use swc_core::ecma::visit::VisitMutWith as _;

use crate::diagnostics::Diagnostic;
use crate::discover::JsKind;
use crate::refs::Reference;

pub use self::front::has_module_syntax;
pub(crate) use self::front::{Front, front};
pub use self::limits::{MAX_AST_DEPTH, MAX_ELSE_IF, MAX_NESTING, too_deep};
pub(crate) use self::minify::{optimize, reminify};
pub use self::options::{JsOptions, TsEmit};
pub(crate) use self::print::print;
pub(crate) use self::refs::url_of_import_meta;
pub use self::refs::{js_string, references, substitute};
/// The placeholder formats live in [`crate::placeholder`]; these are its
/// JS reference's, under the names they had here.
pub use crate::placeholder::{reference as placeholder, tag as placeholder_tag, unreplaced};

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
        let mut specifiers = refs::Specifiers::new(name, src, f.fm.start_pos.0);
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
