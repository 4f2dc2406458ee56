//! Module resolution for bundling: relative specifiers with extension and
//! `index` probing, bare specifiers from `node_modules` (package.json
//! `exports` with conditions, `browser`, `module`, `main`, the `browser`
//! field's replacements), subpath `imports` (`#internal`), and each
//! file's tsconfig `paths`.
//!
//! The algorithm is `oxc_resolver`'s (a port of webpack's enhanced-resolve,
//! used by rolldown and rspack), configured for the browser like esbuild's
//! `--platform=browser`: conditions `browser`, then `import` or `require`,
//! then `module` and `default`; main fields `browser`, `module`, `main`.
//! It never reads `NODE_PATH`, so a build does not depend on the
//! environment. Node built-ins (`fs`) are errors unless a `browser` field
//! maps them away.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use oxc_resolver::{ResolveContext, ResolveError, ResolveOptions, Resolver, TsconfigDiscovery};

use crate::diagnostics::{Category, Diagnostic, Label};

/// How a module is requested: the conditions differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// `import`, `export … from`, `import()`.
    Import,
    /// `require()`.
    Require,
}

/// Where a specifier leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A file (symlinks resolved), and the `?query#fragment` to keep.
    File { path: PathBuf, suffix: String },
    /// A `browser` field maps it to `false`: an empty module.
    Empty,
    /// A URL (`https:`, `//cdn`, `data:`), left as written.
    External,
}

/// Why a specifier did not resolve, and the paths looked at, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    pub message: String,
    pub looked: Vec<PathBuf>,
}

/// A resolver for one project. Cheap to share across threads; it caches
/// what it reads of the file system.
pub struct ModuleResolver {
    import: Resolver,
    require: Resolver,
}

/// Extensions tried for extensionless specifiers, TypeScript first.
pub const EXTENSIONS: [&str; 9] = [
    ".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".json",
];

impl ModuleResolver {
    /// A resolver for the project in `project`. Each file's tsconfig.json
    /// (the nearest that owns it, as esbuild and TypeScript find it; see
    /// [`crate::tsconfig`]) supplies `paths` (and `baseUrl`), following
    /// `extends` and project references; files in `node_modules` use none.
    pub fn new(project: &Path) -> ModuleResolver {
        let options = |conditions: [&str; 4]| ResolveOptions {
            cwd: Some(project.to_path_buf()),
            tsconfig: Some(TsconfigDiscovery::Auto),
            alias_fields: vec![vec!["browser".into()]],
            condition_names: conditions.iter().map(|c| (*c).to_string()).collect(),
            extensions: EXTENSIONS.iter().map(|e| (*e).to_string()).collect(),
            // TypeScript sources imported by their output's name.
            extension_alias: vec![
                (
                    ".js".into(),
                    vec![".ts".into(), ".tsx".into(), ".js".into()],
                ),
                (".jsx".into(), vec![".tsx".into(), ".jsx".into()]),
                (".mjs".into(), vec![".mts".into(), ".mjs".into()]),
                (".cjs".into(), vec![".cts".into(), ".cjs".into()]),
            ],
            main_fields: vec!["browser".into(), "module".into(), "main".into()],
            main_files: vec!["index".into()],
            modules: vec!["node_modules".into()],
            symlinks: true,
            node_path: false,
            // Node built-ins are resolved like packages, so a `browser`
            // field can map them away and an installed polyfill (`events`,
            // `buffer`) is used; a miss is reported as a built-in below.
            builtin_modules: false,
            ..ResolveOptions::default()
        };
        ModuleResolver {
            import: Resolver::new(options(["browser", "import", "module", "default"])),
            require: Resolver::new(options(["browser", "require", "module", "default"])),
        }
    }

    /// Resolves `specifier`, written in the file `from`.
    pub fn resolve(
        &self,
        from: &Path,
        specifier: &str,
        request: Request,
    ) -> Result<Resolved, Unresolved> {
        if is_url(specifier) {
            return Ok(Resolved::External);
        }
        let resolver = match request {
            Request::Import => &self.import,
            Request::Require => &self.require,
        };
        let dir = from.parent().unwrap_or(Path::new("/"));
        // A relative specifier is a URL to the browser that would load it
        // unbundled (`./a%20b.js` is `a b.js`): decoded when it does not
        // resolve as written.
        let decoded = (specifier.contains('%')
            && (specifier.starts_with("./") || specifier.starts_with("../")))
        .then(|| crate::refs::percent_decode(specifier))
        .flatten();
        let found = resolver.resolve_file(from, specifier);
        // (Its exact file: a decoded `?` or `#` is part of the name.)
        if let Some(d) = &decoded
            && found.is_err()
            && let Ok(path) = dir.join(d).canonicalize()
            && path.is_file()
        {
            return Ok(Resolved::File {
                path,
                suffix: String::new(),
            });
        }
        match found {
            Ok(r) => Ok(Resolved::File {
                path: r.path().to_path_buf(),
                suffix: format!(
                    "{}{}",
                    r.query().unwrap_or_default(),
                    r.fragment().unwrap_or_default()
                ),
            }),
            Err(ResolveError::Ignored(_)) => Ok(Resolved::Empty),
            Err(e) => {
                // Again, to learn where it looked (tsconfig paths aside).
                let mut ctx = ResolveContext::default();
                let _ = resolver.resolve_with_context(dir, specifier, None, &mut ctx);
                let mut looked: Vec<PathBuf> = ctx.missing_dependencies.into_iter().collect();
                looked.sort();
                looked.dedup();
                let message = if is_builtin(specifier) {
                    format!(
                        "`{specifier}` is a Node.js built-in module, which browsers do not have"
                    )
                } else {
                    message(&e, specifier)
                };
                Err(Unresolved { message, looked })
            }
        }
    }
}

/// `https:`, `http:`, `data:` and protocol-relative URLs.
fn is_url(specifier: &str) -> bool {
    specifier.starts_with("//")
        || ["http:", "https:", "data:"]
            .iter()
            .any(|s| specifier.len() >= s.len() && specifier[..s.len()].eq_ignore_ascii_case(s))
}

/// Node's built-in modules (`node:` specifiers are always built-ins).
fn is_builtin(specifier: &str) -> bool {
    const BUILTINS: &[&str] = &[
        "assert",
        "async_hooks",
        "buffer",
        "child_process",
        "cluster",
        "console",
        "constants",
        "crypto",
        "dgram",
        "diagnostics_channel",
        "dns",
        "domain",
        "events",
        "fs",
        "http",
        "http2",
        "https",
        "inspector",
        "module",
        "net",
        "os",
        "path",
        "perf_hooks",
        "process",
        "punycode",
        "querystring",
        "readline",
        "repl",
        "stream",
        "string_decoder",
        "sys",
        "timers",
        "tls",
        "trace_events",
        "tty",
        "url",
        "util",
        "v8",
        "vm",
        "wasi",
        "worker_threads",
        "zlib",
    ];
    if specifier.starts_with("node:") {
        return true;
    }
    let head = specifier.split('/').next().unwrap_or(specifier);
    BUILTINS.contains(&head)
}

fn message(e: &ResolveError, specifier: &str) -> String {
    match e {
        ResolveError::NotFound(_) => format!("cannot find module `{specifier}`"),
        other => format!("cannot resolve `{specifier}`: {other}"),
    }
}

impl Unresolved {
    /// The `UNRESOLVED_IMPORT` diagnostic for a specifier written at 1-based
    /// `line` and UTF-16 `column` of `shown` (whose text is `source`).
    /// `display` shortens the paths looked at.
    pub fn diagnostic(
        &self,
        shown: &str,
        source: Arc<str>,
        line: usize,
        column: usize,
        display: &dyn Fn(&Path) -> String,
    ) -> Diagnostic {
        let mut d = Diagnostic::error("UNRESOLVED_IMPORT", Category::Input, self.message.clone())
            .with_label(
                Label::at_line_col_utf16(shown, source, line, column).with_text("imported here"),
            );
        if !self.looked.is_empty() {
            const SHOWN: usize = 12;
            let mut list: Vec<String> =
                self.looked.iter().take(SHOWN).map(|p| display(p)).collect();
            if self.looked.len() > SHOWN {
                list.push(format!("… and {} more", self.looked.len() - SHOWN));
            }
            d = d.with_note(format!("looked for: {}", list.join(", ")));
        }
        d.with_help("check the specifier, and that the package is installed (npm install)")
    }
}
