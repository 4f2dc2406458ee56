//! CSS, one file at a time, with lightningcss.
//!
//! In: the source text of one stylesheet. Out: the printed stylesheet,
//! lowered for the browser targets (nesting, prefixes, colour fallbacks) and
//! minified when asked, or diagnostics. lightningcss borrows its input, so
//! parse, transform and print all happen inside this one call.

use std::sync::{Arc, RwLock};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lightningcss::bundler::{
    BundleErrorKind, Bundler, FileProvider, ResolveResult, SourceProvider,
};
use lightningcss::dependencies::{Dependency, DependencyOptions};
use lightningcss::error::{ErrorLocation, ParserError};
use lightningcss::stylesheet::{
    MinifyOptions, ParserFlags, ParserOptions, PrinterOptions, StyleSheet,
};
use lightningcss::targets::Targets as CssTargets;

use crate::config::Targets;
use crate::diagnostics::{Category, Diagnostic, Label};
use crate::refs::{self, Reference, ResolveError, Target};
use crate::sourcemap::Edit;

mod lenient;

/// Deepest nesting of blocks, parentheses and brackets accepted.
pub const MAX_NESTING: usize = 500;

#[derive(Debug, Clone, Copy)]
pub struct CssOptions {
    pub minify: bool,
    pub targets: Targets,
    /// Recovered syntax errors are warnings instead of errors.
    pub error_recovery: bool,
    /// Produce a source map.
    pub source_map: bool,
}

/// Compiled stylesheet and the warnings produced on the way.
pub struct CssOutput {
    /// The stylesheet, with every `url()` and `@import` URL replaced by a
    /// quoted placeholder, lightningcss's own (see [`crate::placeholder`]
    /// and [`substitute`]).
    pub code: String,
    pub warnings: Vec<Diagnostic>,
    /// Every `url()` and `@import` of the file, deduplicated by placeholder.
    pub refs: Vec<Reference>,
    /// The source text, for diagnostics about references.
    pub source: Arc<str>,
    /// Source map of `code` (columns in UTF-16 units), when asked for.
    pub map: Option<crate::sourcemap::Map>,
    /// Every file the output was made from (the stylesheet and what it
    /// `@import`s), with the SHA-256 of the bytes that were read.
    pub inputs: Vec<(PathBuf, [u8; 32])>,
}

/// Where the stylesheets of a build live, for resolving `@import`.
pub struct CssScope<'a> {
    /// Canonical source root.
    pub root: &'a Path,
    /// Logical names of this build's sources.
    pub known: &'a BTreeSet<String>,
    /// Turns an absolute path into the path shown in messages.
    pub display: &'a (dyn Fn(&Path) -> String + Sync),
}

impl CssScope<'_> {
    fn logical_of(&self, path: &Path) -> String {
        path.strip_prefix(self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }
}

/// Reads stylesheets for lightningcss's bundler and resolves `@import` with
/// the same rules as every other reference: never out of the root, only
/// to files of the build.
struct RootProvider<'a> {
    files: FileProvider,
    scope: &'a CssScope<'a>,
    /// `@import` edges seen, by logical name, to find cycles (which
    /// lightningcss's bundler silently drops).
    imports: std::sync::Mutex<BTreeMap<String, BTreeSet<String>>>,
}

#[derive(Debug)]
enum ProviderError {
    Io(std::io::Error),
    Resolve(String, ResolveError),
    TooDeep(std::path::PathBuf, usize),
}

impl std::fmt::Display for ProviderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProviderError::Io(e) => write!(f, "{e}"),
            ProviderError::Resolve(spec, e) => write!(f, "{spec}: {e:?}"),
            ProviderError::TooDeep(..) => write!(f, "nesting deeper than {MAX_NESTING} levels"),
        }
    }
}

impl std::error::Error for ProviderError {}

impl SourceProvider for RootProvider<'_> {
    type Error = ProviderError;

    fn read<'a>(&'a self, file: &Path) -> Result<&'a str, ProviderError> {
        let text = self.files.read(file).map_err(ProviderError::Io)?;
        // Checked before lightningcss parses it: deep nesting would
        // overflow the stack, which cannot be caught.
        match too_deep(text) {
            Some(at) => Err(ProviderError::TooDeep(file.to_path_buf(), at)),
            None => Ok(text.strip_prefix('\u{feff}').unwrap_or(text)),
        }
    }

    fn resolve(&self, specifier: &str, from: &Path) -> Result<ResolveResult, ProviderError> {
        let from = self.scope.logical_of(from);
        match refs::resolve(specifier, &from, &|l| self.scope.known.contains(l)) {
            Ok(Target::External) => Ok(ResolveResult::External(specifier.to_string())),
            Ok(Target::Local { logical, .. }) => {
                if let Ok(mut edges) = self.imports.lock() {
                    edges.entry(from).or_default().insert(logical.clone());
                }
                Ok(ResolveResult::File(self.scope.root.join(logical)))
            }
            Err(e) => Err(ProviderError::Resolve(specifier.to_string(), e)),
        }
    }
}

/// Compiles the stylesheet `name` (a logical name): local `@import`s are
/// inlined, then the sheet is lowered, minified and printed with a
/// placeholder for every remaining URL.
pub fn compile(
    name: &str,
    text: &str,
    scope: &CssScope<'_>,
    opts: &CssOptions,
) -> Result<CssOutput, Vec<Diagnostic>> {
    let entry = scope.root.join(name);
    let shown = (scope.display)(&entry);
    let provider = RootProvider {
        files: FileProvider::new(),
        scope,
        imports: std::sync::Mutex::new(BTreeMap::new()),
    };
    let warnings = Arc::new(RwLock::new(Vec::new()));
    // Sources are named relative to the root: logical names.
    let mut sm = parcel_sourcemap::SourceMap::new(&scope.root.to_string_lossy());
    let mut sheet = bundle(name, &entry, &shown, &provider, &warnings)?;
    let inputs = input_hashes(&sheet, &provider);
    if opts.source_map {
        add_map_sources(&mut sm, &sheet, &provider);
    }
    check_import_cycle(&provider, name)?;
    // The text the pipeline already read (and checked is UTF-8).
    let source: Arc<str> = Arc::from(text);
    let recovered = recovered_problems(
        &mut sheet, &provider, &warnings, &entry, &shown, &source, opts,
    );
    if recovered.iter().any(Diagnostic::is_error) {
        return Err(recovered);
    }
    let targets = lower(&mut sheet, opts, scope, &shown)?;
    let (code, refs) = print_sheet(&sheet, opts, targets, &mut sm, scope, &shown)?;
    let map = opts.source_map.then(|| {
        let mut map = map_of(&sm, scope);
        map.columns_to_utf16(&code);
        map
    });
    Ok(CssOutput {
        code,
        warnings: recovered,
        refs,
        source,
        map,
        inputs,
    })
}

/// The syntax errors lightningcss recovered from, as its parser collects
/// them.
type Warnings<'i> = Arc<RwLock<Vec<lightningcss::error::Error<ParserError<'i>>>>>;

/// An error of lightningcss, placed where it says (in any file of the
/// bundle), or on the stylesheet `shown`.
fn locate(
    d: Diagnostic,
    loc: Option<&ErrorLocation>,
    scope: &CssScope<'_>,
    shown: &str,
) -> Diagnostic {
    match loc {
        // Diagnostics may point into any file of the bundle; each is read
        // again only when a message needs its text.
        Some(loc) => {
            let path = Path::new(&loc.filename);
            let text: Arc<str> = std::fs::read_to_string(path).map_or_else(
                |_| Arc::from(""),
                |t| Arc::from(t.strip_prefix('\u{feff}').unwrap_or(&t)),
            );
            d.with_label(Label::at_line_col_utf16(
                (scope.display)(path),
                text,
                loc.line as usize + 1,
                loc.column as usize,
            ))
        }
        None => d.with_file(shown),
    }
}

/// The stylesheet `entry` with its local `@import`s inlined by
/// lightningcss's bundler, which reads every file through `provider` and
/// collects the syntax errors it recovered from in `warnings`; or the
/// diagnostic of why it could not.
fn bundle<'a>(
    name: &str,
    entry: &Path,
    shown: &str,
    provider: &'a RootProvider<'_>,
    warnings: &Warnings<'a>,
) -> Result<StyleSheet<'a>, Vec<Diagnostic>> {
    // The bundler is given no map: it numbers files in the order it starts
    // loading them but adds them to the map in the order they finish
    // parsing, which differs from run to run (loads are parallel), so
    // mappings pointed at the wrong files. The map's sources are added
    // later (`add_map_sources`), in the stylesheet's own numbering.
    let mut bundler = Bundler::new(
        provider,
        None,
        ParserOptions {
            filename: name.to_string(),
            // Always recover, so every syntax error of the file is reported
            // at once; whether they fail the build is decided later
            // (`recovered_problems`).
            error_recovery: true,
            warnings: Some(warnings.clone()),
            flags: ParserFlags::empty(),
            ..ParserOptions::default()
        },
    );
    bundler
        .bundle(entry)
        .map_err(|e| vec![bundle_error(&e, entry, shown, provider.scope)])
}

/// The diagnostic of a failed bundle: an `@import` that does not resolve,
/// a file nested too deep, a file that cannot be read, or a parse error.
fn bundle_error(
    e: &lightningcss::error::Error<BundleErrorKind<'_, ProviderError>>,
    entry: &Path,
    shown: &str,
    scope: &CssScope<'_>,
) -> Diagnostic {
    let at = |d: Diagnostic| locate(d, e.loc.as_ref(), scope, shown);
    match &e.kind {
        BundleErrorKind::ResolverError(ProviderError::Resolve(spec, r)) => {
            let (file, line, column) = e
                .loc
                .as_ref()
                .map_or((entry.to_string_lossy().into_owned(), 0, 1), |l| {
                    (l.filename.clone(), l.line, l.column)
                });
            let path = Path::new(&file);
            let text: Arc<str> =
                std::fs::read_to_string(path).map_or_else(|_| Arc::from(""), Arc::from);
            let reference = Reference {
                url: spec.clone(),
                placeholder: String::new(),
                line: line as usize + 1,
                column: column as usize,
                from: scope.logical_of(path),
            };
            r.diagnostic(
                &reference,
                &(scope.display)(path),
                &text,
                &(scope.display)(scope.root),
            )
            .with_note("in an @import")
        }
        BundleErrorKind::ResolverError(ProviderError::TooDeep(path, offset)) => {
            let text: Arc<str> =
                std::fs::read_to_string(path).map_or_else(|_| Arc::from(""), Arc::from);
            Diagnostic::error(
                "CSS_NESTING",
                Category::Input,
                format!("nesting deeper than {MAX_NESTING} levels"),
            )
            .with_label(
                Label::new((scope.display)(path), text, *offset..*offset + 1)
                    .with_text("too deep here"),
            )
        }
        BundleErrorKind::ResolverError(ProviderError::Io(io)) => at(Diagnostic::error(
            "IO",
            Category::Io,
            format!("cannot read a stylesheet: {io}"),
        )),
        kind => at(Diagnostic::error(
            "CSS_PARSE",
            Category::Input,
            kind.to_string(),
        )),
    }
}

/// Every file of the bundle with the SHA-256 of the bytes that were read.
fn input_hashes(sheet: &StyleSheet<'_>, provider: &RootProvider<'_>) -> Vec<(PathBuf, [u8; 32])> {
    sheet
        .sources
        .iter()
        .map(|file| {
            use sha2::Digest as _;
            let text = provider.files.read(Path::new(file)).unwrap_or_default();
            (
                PathBuf::from(file),
                sha2::Sha256::digest(text.as_bytes()).into(),
            )
        })
        .collect()
}

/// Adds the files of the bundle to the source map `sm`, with their text,
/// in the stylesheet's own numbering.
fn add_map_sources(
    sm: &mut parcel_sourcemap::SourceMap,
    sheet: &StyleSheet<'_>,
    provider: &RootProvider<'_>,
) {
    for (i, file) in sheet.sources.iter().enumerate() {
        let index = sm.add_source(file) as usize;
        debug_assert_eq!(index, i);
        if let Ok(text) = provider.read(Path::new(file)) {
            let _ = sm.set_source_content(index, text);
        }
    }
}

/// An error when the stylesheets of the bundle `@import` each other in a
/// cycle (which lightningcss's bundler silently drops).
fn check_import_cycle(provider: &RootProvider<'_>, name: &str) -> Result<(), Vec<Diagnostic>> {
    let scope = provider.scope;
    if let Some(cycle) = provider
        .imports
        .lock()
        .ok()
        .and_then(|e| import_cycle(&e, name))
    {
        return Err(vec![
            Diagnostic::error(
                "REFERENCE_CYCLE",
                Category::Input,
                format!(
                    "stylesheets @import each other in a cycle: {}",
                    cycle.join(" -> ")
                ),
            )
            .with_file((scope.display)(&scope.root.join(&cycle[0])))
            .with_help(
                "remove one of the @import rules; browsers ignore the one that closes the cycle",
            ),
        ]);
    }
    Ok(())
}

/// The syntax errors the parser recovered from in the entry stylesheet
/// (whose text is `source`), as warnings, or errors unless
/// `opts.error_recovery`; rules for other browsers are matched first, as
/// lenient browsers would, to tell what became of each.
fn recovered_problems(
    sheet: &mut StyleSheet<'_>,
    provider: &RootProvider<'_>,
    warnings: &Warnings<'_>,
    entry: &Path,
    shown: &str,
    source: &Arc<str>,
    opts: &CssOptions,
) -> Vec<Diagnostic> {
    let label_at = |line: u32, column: u32| {
        Label::at_line_col_utf16(shown, source.clone(), line as usize + 1, column as usize)
    };

    // Each file of the bundle as lightningcss read it (without a BOM), by
    // source index, for the rules' locations.
    let texts: Vec<&str> = sheet
        .sources
        .iter()
        .map(|file| provider.read(Path::new(file)).unwrap_or_default())
        .collect();
    let spans = lenient::match_browsers(&mut sheet.rules.0, &texts);
    let entry_index = sheet
        .sources
        .iter()
        .position(|s| Path::new(s) == entry)
        .and_then(|i| u32::try_from(i).ok());
    warnings
        .read()
        .map(|w| w.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|e| {
            e.loc
                .as_ref()
                .is_none_or(|l| Path::new(&l.filename) == entry)
        })
        .map(|e| {
            let text = entry_index.and_then(|i| Some((i, *texts.get(i as usize)?)));
            let fate = match (&e.loc, text) {
                (Some(loc), Some((i, text))) => spans.fate(i, text, loc.line, loc.column),
                _ => lenient::Fate::Unknown,
            };
            let d = lenient::problem(&e.kind, fate, opts.error_recovery);
            match &e.loc {
                Some(loc) => d.with_label(label_at(loc.line, loc.column)),
                None => d.with_file(shown),
            }
        })
        .collect()
}

/// Lowers the sheet for the browser targets and minifies it, and returns
/// the targets for printing.
fn lower(
    sheet: &mut StyleSheet<'_>,
    opts: &CssOptions,
    scope: &CssScope<'_>,
    shown: &str,
) -> Result<CssTargets, Vec<Diagnostic>> {
    let targets = CssTargets::from(opts.targets.browsers);
    // Like lightningcss's CLI: always run `minify`, which also lowers for the
    // targets; only the printer's whitespace depends on `minify`.
    if let Err(e) = sheet.minify(MinifyOptions {
        targets,
        ..MinifyOptions::default()
    }) {
        let d = Diagnostic::error("CSS_MINIFY", Category::Input, e.kind.to_string());
        return Err(vec![locate(d, e.loc.as_ref(), scope, shown)]);
    }
    Ok(targets)
}

/// Prints the sheet (ending with a newline), with a placeholder for every
/// `url()` and `@import` URL and mappings into `sm` when `opts.source_map`,
/// and returns it with its references, one per placeholder.
fn print_sheet(
    sheet: &StyleSheet<'_>,
    opts: &CssOptions,
    targets: CssTargets,
    sm: &mut parcel_sourcemap::SourceMap,
    scope: &CssScope<'_>,
    shown: &str,
) -> Result<(String, Vec<Reference>), Vec<Diagnostic>> {
    let printed = sheet.to_css(PrinterOptions {
        minify: opts.minify,
        source_map: opts.source_map.then_some(sm),
        targets,
        analyze_dependencies: Some(DependencyOptions {
            remove_imports: false,
        }),
        ..PrinterOptions::default()
    });
    match printed {
        Ok(res) => {
            let mut code = res.code;
            if !code.ends_with('\n') {
                code.push('\n');
            }
            let found = dependency_references(res.dependencies.unwrap_or_default(), scope);
            Ok((code, found))
        }
        Err(e) => {
            let d = Diagnostic::error("CSS_PRINT", Category::Input, e.kind.to_string());
            Err(vec![locate(d, e.loc.as_ref(), scope, shown)])
        }
    }
}

/// The references of the printer's `dependencies`, one per placeholder, in
/// the order they appear.
fn dependency_references(dependencies: Vec<Dependency>, scope: &CssScope<'_>) -> Vec<Reference> {
    let mut found: Vec<Reference> = dependencies
        .into_iter()
        .map(|d| {
            let (url, placeholder, loc) = match d {
                Dependency::Url(u) => (u.url, u.placeholder, u.loc),
                Dependency::Import(i) => (i.url, i.placeholder, i.loc),
            };
            Reference {
                url,
                placeholder,
                line: loc.start.line as usize,
                column: loc.start.column as usize,
                from: scope.logical_of(Path::new(&loc.file_path)),
            }
        })
        .collect();
    // Prefixed fallbacks repeat a url(); one entry per placeholder.
    found.sort_by(|a, b| a.placeholder.cmp(&b.placeholder).then(a.line.cmp(&b.line)));
    found.dedup_by(|a, b| a.placeholder == b.placeholder);
    found.sort_by_key(|r| (r.line, r.column));
    found
}

/// `s` as a CSS string in `quote`s.
pub fn css_string(s: &str, quote: char) -> String {
    let mut t = String::with_capacity(s.len() + 2);
    t.push(quote);
    for c in s.chars() {
        match c {
            '\\' => t.push_str("\\\\"),
            '\n' => t.push_str("\\a "),
            c if c == quote => {
                t.push('\\');
                t.push(c);
            }
            // Any other control character (a form feed is a CSS newline)
            // as a hex escape; the space ends it.
            c if c.is_control() => {
                use std::fmt::Write as _;
                let _ = write!(t, "\\{:x} ", u32::from(c));
            }
            c => t.push(c),
        }
    }
    t.push(quote);
    t
}

/// CSS written inside an HTML page: a `<style>` element's text, or a
/// `style=""` attribute's declarations.
pub struct InlineCss {
    /// Printed CSS; every URL that is not external is the quoted
    /// placeholder `placeholder(n)` chose for it.
    pub code: String,
    /// Each URL, with its placeholder and 1-based line and column in the
    /// inline text.
    pub refs: Vec<(String, String, usize, usize)>,
    /// Warnings about what lightningcss recovered from (classified as in
    /// [`compile`]), with their 1-based line and column.
    pub recovered: Vec<InlineProblem>,
}

/// A diagnostic about inline CSS, without a label, and its 1-based line
/// and column in the inline text.
pub type InlineProblem = (Diagnostic, usize, usize);

/// Compiles inline CSS like a stylesheet (lowered, minified), without
/// `@import` inlining. `external` says which URLs stay as written;
/// `placeholder` names the others; strings use `quote`. Problems
/// lightningcss recovered from are classified as in [`compile`]; an error
/// among them fails the whole text (with the warnings beside it), and so
/// does every other error.
pub fn compile_inline(
    name: &str,
    text: &str,
    attribute: bool,
    opts: &CssOptions,
    external: &dyn Fn(&str) -> bool,
    placeholder: &mut dyn FnMut(&str) -> String,
    quote: char,
) -> Result<InlineCss, Vec<InlineProblem>> {
    let warnings = Arc::new(RwLock::new(Vec::new()));
    let parser = ParserOptions {
        filename: name.to_string(),
        error_recovery: true,
        warnings: Some(warnings.clone()),
        flags: ParserFlags::empty(),
        ..ParserOptions::default()
    };
    let targets = CssTargets::from(opts.targets.browsers);
    let print_options = PrinterOptions {
        minify: opts.minify,
        targets,
        analyze_dependencies: Some(DependencyOptions {
            remove_imports: false,
        }),
        ..PrinterOptions::default()
    };
    let at = |loc: Option<&lightningcss::error::ErrorLocation>| {
        loc.map_or((1, 1), |l| (l.line as usize + 1, l.column as usize))
    };
    let error = |message: String, (line, column): (usize, usize)| {
        vec![(
            Diagnostic::error("CSS_PARSE", Category::Input, message),
            line,
            column,
        )]
    };
    if let Some(offset) = too_deep(text) {
        return Err(error(
            format!("nesting deeper than {MAX_NESTING} levels"),
            crate::diagnostics::line_col_utf16(text, offset),
        ));
    }
    let mut spans = lenient::Spans::default();
    let printed = if attribute {
        let mut style = lightningcss::stylesheet::StyleAttribute::parse(text, parser)
            .map_err(|e| error(e.kind.to_string(), at(e.loc.as_ref())))?;
        style.minify(MinifyOptions {
            targets,
            ..MinifyOptions::default()
        });
        style.to_css(print_options)
    } else {
        let mut sheet = lightningcss::stylesheet::StyleSheet::parse(text, parser)
            .map_err(|e| error(e.kind.to_string(), at(e.loc.as_ref())))?;
        spans = lenient::match_browsers(&mut sheet.rules.0, &[text]);
        sheet
            .minify(MinifyOptions {
                targets,
                ..MinifyOptions::default()
            })
            .map_err(|e| error(e.kind.to_string(), at(e.loc.as_ref())))?;
        sheet.to_css(print_options)
    };
    let recovered: Vec<InlineProblem> = warnings
        .read()
        .map(|w| w.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            let fate = e.loc.as_ref().map_or(lenient::Fate::Unknown, |l| {
                spans.fate(0, text, l.line, l.column)
            });
            let (line, column) = at(e.loc.as_ref());
            (
                lenient::problem(&e.kind, fate, opts.error_recovery),
                line,
                column,
            )
        })
        .collect();
    if recovered.iter().any(|(d, _, _)| d.is_error()) {
        return Err(recovered);
    }
    let result = printed.map_err(|e| error(e.kind.to_string(), at(e.loc.as_ref())))?;
    let mut replacements = Vec::new();
    let mut refs = Vec::new();
    for d in result.dependencies.unwrap_or_default() {
        let (url, ph, loc) = match d {
            Dependency::Url(u) => (u.url, u.placeholder, u.loc),
            Dependency::Import(i) => (i.url, i.placeholder, i.loc),
        };
        if replacements.iter().any(|(p, _)| *p == ph) {
            continue;
        }
        if external(&url) {
            replacements.push((ph, url));
        } else {
            let ours = placeholder(&url);
            refs.push((
                url,
                ours.clone(),
                loc.start.line as usize,
                loc.start.column as usize,
            ));
            replacements.push((ph, ours));
        }
    }
    let (code, _) = substitute_with(&result.code, &replacements, false, quote);
    Ok(InlineCss {
        code,
        refs,
        recovered,
    })
}

/// The URLs of every `url()` and `@import` of a printed stylesheet, with
/// 1-based line and column, for `prebake check`.
pub fn references(name: &str, text: &str) -> Result<Vec<(String, usize, usize)>, String> {
    if too_deep(text).is_some() {
        return Err(format!("nesting deeper than {MAX_NESTING} levels"));
    }
    let sheet = StyleSheet::parse(
        text,
        ParserOptions {
            filename: name.to_string(),
            // Only the URLs matter here; rules the build kept under
            // `css-error-recovery` may not parse again.
            error_recovery: true,
            ..ParserOptions::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let printed = sheet
        .to_css(PrinterOptions {
            analyze_dependencies: Some(DependencyOptions {
                remove_imports: false,
            }),
            ..PrinterOptions::default()
        })
        .map_err(|e| e.to_string())?;
    Ok(printed
        .dependencies
        .unwrap_or_default()
        .into_iter()
        .map(|d| match d {
            Dependency::Url(u) => (
                u.url,
                u.loc.start.line as usize,
                u.loc.start.column as usize,
            ),
            Dependency::Import(i) => (
                i.url,
                i.loc.start.line as usize,
                i.loc.start.column as usize,
            ),
        })
        .collect())
}

/// lightningcss's map in our form (generated columns still in bytes).
fn map_of(sm: &parcel_sourcemap::SourceMap, scope: &CssScope<'_>) -> crate::sourcemap::Map {
    let tokens = sm
        .get_mappings()
        .into_iter()
        .map(|m| {
            let (src_line, src_col, src_id, name_id) = m.original.map_or((0, 0, !0, !0), |o| {
                (
                    o.original_line,
                    o.original_column,
                    o.source,
                    o.name.unwrap_or(!0),
                )
            });
            swc_sourcemap::RawToken {
                dst_line: m.generated_line,
                dst_col: m.generated_column,
                src_line,
                src_col,
                src_id,
                name_id,
                is_range: false,
            }
        })
        .collect();
    let contents = sm.get_sources_content();
    let mut map = crate::sourcemap::Map {
        tokens,
        sources: sm
            .get_sources()
            .iter()
            .map(|s| scope.logical_of(&scope.root.join(s)))
            .collect(),
        contents: (0..sm.get_sources().len())
            .map(|i| contents.get(i).map(|c| Arc::from(c.as_str())))
            .collect(),
        names: sm.get_names().clone(),
    };
    map.canonical_sources();
    map
}

/// Byte offset where `{`, `(` or `[` nesting first exceeds [`MAX_NESTING`].
/// Strings and comments are skipped.
pub fn too_deep(src: &str) -> Option<usize> {
    let b = src.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' | b'(' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => i = skip_string_or_comment(b, i),
        }
        i += 1;
    }
    None
}

/// Where the escape, string or comment that starts at `b[i]` ends (the
/// index of its last byte), or `i` when none starts there: what a scan for
/// CSS brackets and delimiters passes over.
pub(crate) fn skip_string_or_comment(b: &[u8], mut i: usize) -> usize {
    match b[i] {
        b'\\' => i + 1,
        b'"' | b'\'' => {
            let q = b[i];
            i += 1;
            while i < b.len() && b[i] != q && b[i] != b'\n' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i
        }
        b'/' if b.get(i + 1) == Some(&b'*') => {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i + 1
        }
        _ => i,
    }
}

/// A cycle of `@import`s reachable from `entry`, as logical names starting
/// at the smallest one (so every stylesheet of the cycle reports it alike)
/// and ending where it started.
fn import_cycle(edges: &BTreeMap<String, BTreeSet<String>>, entry: &str) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle: Vec<String> = stack[at..].to_vec();
            let min = cycle
                .iter()
                .enumerate()
                .min_by_key(|(_, n)| *n)
                .map_or(0, |(i, _)| i);
            cycle.rotate_left(min);
            cycle.push(cycle[0].clone());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    visit(entry, edges, &mut Vec::new(), &mut BTreeSet::new())
}

/// Replaces each quoted placeholder in `code` (see [`crate::placeholder`])
/// with its URL. Inside `url()`
/// a URL that needs no quotes is written bare, as the minifier would;
/// elsewhere (`image-set("…" 1x)`, `@import "…"`) it stays a string.
pub fn substitute(code: &str, replacements: &[(String, String)]) -> (String, Vec<Edit>) {
    substitute_with(code, replacements, true, '"')
}

/// [`substitute`], choosing whether a URL may be written bare in `url()`,
/// and the quote for strings.
pub fn substitute_with(
    code: &str,
    replacements: &[(String, String)],
    bare: bool,
    quote: char,
) -> (String, Vec<Edit>) {
    let by_placeholder: BTreeMap<&str, &str> = replacements
        .iter()
        .map(|(p, u)| (p.as_str(), u.as_str()))
        .collect();
    let mut spans = Vec::new();
    let mut from = 0;
    // Each `"` opens a candidate; placeholders hold no quotes.
    while let Some(q) = code[from..].find('"').map(|q| q + from) {
        let Some(len) = code[q + 1..].find('"') else {
            break;
        };
        let inner = &code[q + 1..q + 1 + len];
        let Some(url) = by_placeholder.get(inner) else {
            from = q + 1;
            continue;
        };
        let in_url = code[..q].ends_with("url(");
        let bare_ok = !url.is_empty()
            && !url.chars().any(|c| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '(' | ')' | '\\') || c.is_control()
            });
        let text = if bare && in_url && bare_ok {
            (*url).to_string()
        } else {
            css_string(url, quote)
        };
        spans.push((q, q + len + 2, text));
        from = q + len + 2;
    }
    crate::sourcemap::splice(code, spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Severity;
    use lightningcss::error::{ParserError, SelectorError};
    use lightningcss::properties::custom::Token;

    fn options(error_recovery: bool) -> CssOptions {
        let browsers =
            lightningcss::targets::Browsers::from_browserslist([crate::config::DEFAULT_TARGETS])
                .unwrap()
                .unwrap();
        CssOptions {
            minify: true,
            targets: Targets { browsers },
            error_recovery,
            source_map: false,
        }
    }

    /// `css` compiled as a `<style>` element: the output, or `None` after
    /// an error, and each problem as code, severity and 1-based line:column.
    #[track_caller]
    fn inline(css: &str, error_recovery: bool) -> (Option<String>, Vec<String>) {
        let problems = |p: Vec<InlineProblem>| -> Vec<String> {
            p.into_iter()
                .map(|(d, line, column)| {
                    let severity = if d.is_error() { "error" } else { "warning" };
                    format!("{severity}[{}] {line}:{column}", d.code)
                })
                .collect()
        };
        match compile_inline(
            "test.css",
            css,
            false,
            &options(error_recovery),
            &|_| true,
            &mut |u| u.to_string(),
            '"',
        ) {
            Ok(c) => (Some(c.code), problems(c.recovered)),
            Err(e) => (None, problems(e)),
        }
    }

    /// The code and severity [`lenient::problem`] gives `kind`.
    fn class(kind: &ParserError<'_>, error_recovery: bool) -> (&'static str, Severity) {
        let d = lenient::problem(kind, lenient::Fate::Kept, error_recovery);
        (d.code, d.severity)
    }

    #[test]
    fn unknown_pseudo_classes_and_elements_are_warnings() {
        for recovery in [false, true] {
            for kind in [
                SelectorError::UnsupportedPseudoElement("input-placeholder".into()),
                SelectorError::UnsupportedPseudoClass("hoverr".into()),
            ] {
                assert_eq!(
                    class(&ParserError::SelectorError(kind), recovery),
                    ("CSS_IGNORED_SELECTOR", Severity::Warning)
                );
            }
        }
    }

    #[test]
    fn unknown_at_rules_are_warnings() {
        for recovery in [false, true] {
            assert_eq!(
                class(&ParserError::AtRuleInvalid("foo".into()), recovery),
                ("CSS_UNKNOWN_AT_RULE", Severity::Warning)
            );
        }
    }

    #[test]
    fn other_selector_errors_are_errors_unless_recovery_is_on() {
        for kind in [
            SelectorError::ClassNeedsIdent(Token::Delim('.')),
            SelectorError::EmptySelector,
            SelectorError::DanglingCombinator,
        ] {
            let kind = ParserError::SelectorError(kind);
            assert_eq!(class(&kind, false), ("CSS_PARSE", Severity::Error));
            assert_eq!(class(&kind, true), ("CSS_RECOVERED", Severity::Warning));
        }
    }

    #[test]
    fn syntax_errors_in_blocks_are_errors_unless_recovery_is_on() {
        for kind in [
            ParserError::EndOfInput,
            ParserError::UnexpectedToken(Token::Semicolon),
            ParserError::InvalidDeclaration,
            ParserError::InvalidMediaQuery,
            ParserError::UnexpectedImportRule,
            ParserError::AtRuleBodyInvalid,
        ] {
            assert_eq!(class(&kind, false), ("CSS_PARSE", Severity::Error));
            assert_eq!(class(&kind, true), ("CSS_RECOVERED", Severity::Warning));
        }
    }

    #[test]
    fn each_class_as_lightningcss_reports_it() {
        // One stylesheet per class, through the parser: what lightningcss
        // calls each problem, and where.
        for (css, expected) in [
            (
                ".a::input-placeholder { color: red }",
                "warning[CSS_IGNORED_SELECTOR] 1:4",
            ),
            (
                ".a:hoverr { color: red }",
                "warning[CSS_IGNORED_SELECTOR] 1:4",
            ),
            ("@foo bar;", "warning[CSS_UNKNOWN_AT_RULE] 1:5"),
            (".a..b { color: red }", "error[CSS_PARSE] 1:4"),
            (
                ".a { color: red }\n}\n.b { color: red }",
                "error[CSS_PARSE] 2:1",
            ),
            (
                ".a { color: red; @@@ ; background: blue }",
                "error[CSS_PARSE] 1:22",
            ),
            (
                ".a { width: calc(1px + 2px; }\n.b { color: red }",
                "error[CSS_PARSE] 1:29",
            ),
        ] {
            assert_eq!(inline(css, false).1, [expected], "{css}");
        }
    }

    #[test]
    fn todomvc_placeholder_rules_keep_what_chromium_keeps() {
        // todomvc-app-css 2.4.3, lines 50-66. Chromium keeps the first rule
        // and ignores the other two; the output must not add a rule it
        // would keep (lightningcss printed `::-moz-placeholder` as
        // `::placeholder`) nor make it drop one.
        let css = ".todoapp input::-webkit-input-placeholder {
\tfont-style: italic;
\tfont-weight: 400;
\tcolor: rgba(0, 0, 0, 0.4);
}

.todoapp input::-moz-placeholder {
\tfont-style: italic;
\tfont-weight: 400;
\tcolor: rgba(0, 0, 0, 0.4);
}

.todoapp input::input-placeholder {
\tfont-style: italic;
\tfont-weight: 400;
\tcolor: rgba(0, 0, 0, 0.4);
}
";
        let (code, problems) = inline(css, false);
        assert_eq!(problems, ["warning[CSS_IGNORED_SELECTOR] 13:16"]);
        assert_eq!(
            code.as_deref(),
            Some(concat!(
                ".todoapp input::-webkit-input-placeholder{color:#0006;font-style:italic;font-weight:400}",
                ".todoapp input::-moz-placeholder{color:#0006;font-style:italic;font-weight:400}",
                ".todoapp input::input-placeholder{color:#0006;font-style:italic;font-weight:400}",
            ))
        );
    }

    #[test]
    fn vendor_placeholder_selectors_are_kept_as_written() {
        // lightningcss alone prints `::-moz-placeholder` for the second and
        // `:-ms-placeholder-shown` for the third.
        let css = "a::-moz-placeholder{color:red}b::-ms-input-placeholder{color:red}\
                   c:-ms-input-placeholder{color:red}d:-moz-placeholder{color:red}\
                   e:not(:-ms-input-placeholder){color:red}";
        let (code, problems) = inline(css, false);
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(code.as_deref(), Some(css.replace(' ', "").as_str()));
    }

    #[test]
    fn a_selector_list_with_an_unknown_part_is_dropped_whole() {
        // Browsers drop `.b` with `.a::input-placeholder`; lightningcss
        // alone split the list and `.b` got red.
        let (code, problems) = inline(
            ".a::input-placeholder, .b { color: red }\n.c { color: red }",
            false,
        );
        assert_eq!(problems, ["warning[CSS_IGNORED_SELECTOR] 1:4"]);
        assert_eq!(code.as_deref(), Some(".c{color:red}"));
    }

    #[test]
    fn an_unknown_part_inside_is_is_forgiven() {
        // `:is()` forgives `:foo`, so `.j` and `.b` keep matching; the
        // printer would write `:is(:foo)` as `:foo`, which would not.
        let (code, problems) = inline(
            ".i:is(:foo), .j { color: red }\n.a:is(.x, :foo), .b { color: blue }",
            false,
        );
        assert_eq!(
            problems,
            [
                "warning[CSS_IGNORED_SELECTOR] 1:8",
                "warning[CSS_IGNORED_SELECTOR] 2:12"
            ]
        );
        assert_eq!(
            code.as_deref(),
            Some(".j{color:red}.a:is(.x,:foo),.b{color:#00f}")
        );
    }

    #[test]
    fn a_lone_unknown_selector_is_never_merged_into_another_list() {
        // Kept alone, `.k:foo` is ignored by itself; merged into `.n`'s
        // list it would take `.n` with it. lightningcss merges `:is(:foo)`
        // and `:host(:foo)`, so those rules (which match nothing) go.
        let (code, _) = inline(
            ".k:foo { color: red }\n.k:is(:foo) { color: red }\n:host(:foo) { color: red }\n.n { color: red }",
            false,
        );
        assert_eq!(code.as_deref(), Some(".k:foo{color:red}.n{color:red}"));
    }

    #[test]
    fn css_strings_escape_quotes_and_control_characters() {
        assert_eq!(
            css_string("a\"b\\c\nd\u{c}e", '"'),
            "\"a\\\"b\\\\c\\a d\\c e\""
        );
        assert_eq!(css_string("it's", '\''), "'it\\'s'");
    }

    #[test]
    fn substitution_keeps_strings_where_needed() {
        let code = r#"a{background:url("P1")}b{background-image:image-set("P2" 1x)}@import "P3";c{d:url("P4")}"#;
        let r = |a: &str, b: &str| (a.to_string(), b.to_string());
        let (out, _) = substitute(
            code,
            &[
                r("P1", "x-1.png"),
                r("P2", "y-2.png"),
                r("P3", "z-3.css"),
                r("P4", "data:image/svg+xml,<svg a=\"b\">"),
            ],
        );
        assert_eq!(
            out,
            r#"a{background:url(x-1.png)}b{background-image:image-set("y-2.png" 1x)}@import "z-3.css";c{d:url("data:image/svg+xml,<svg a=\"b\">")}"#
        );
    }
}
