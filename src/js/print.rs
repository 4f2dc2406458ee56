//! The back end of the JS stage: printing a [`Front`] as text (legal
//! comments first when minified) with its source map, whose `names` are
//! the identifiers as written ([`original_names`]).

use std::collections::HashMap;

use swc_core::common::FileName;
use swc_core::common::comments::{Comments, SingleThreadedComments};
use swc_core::ecma::ast::Program;
use swc_core::ecma::codegen::text_writer::{JsWriter, WriteJs, omit_trailing_semi};
use swc_core::ecma::codegen::{Config as CodegenConfig, Emitter as CodeEmitter};
use swc_core::ecma::visit::VisitWith as _;

use super::front::Front;
use super::options::JsOptions;
use crate::diagnostics::{Category, Diagnostic};

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

/// `/*! ... */`, `@license` and `@preserve` comments, in source order.
pub(super) fn legal_comments(comments: &SingleThreadedComments) -> Vec<String> {
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

/// Names the one source of a file's map (the pipeline replaces it with a
/// URL relative to the map once the output's place is known), and gives
/// each mapped identifier its original name.
struct MapConfig<'a> {
    names: &'a HashMap<u32, swc_core::atoms::Atom>,
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

/// Collects [`original_names`].
#[derive(Default)]
struct IdentNames {
    names: HashMap<u32, swc_core::atoms::Atom>,
}

impl swc_core::ecma::visit::Visit for IdentNames {
    fn visit_ident(&mut self, n: &swc_core::ecma::ast::Ident) {
        if !n.span.is_dummy() {
            self.names.insert(n.span.lo.0, n.sym.clone());
        }
    }
}

/// Every identifier of the parsed `program` by start position.
pub(super) fn original_names(program: &Program) -> HashMap<u32, swc_core::atoms::Atom> {
    let mut c = IdentNames::default();
    program.visit_with(&mut c);
    c.names
}
