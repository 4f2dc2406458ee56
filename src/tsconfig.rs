//! TypeScript's `tsconfig.json`, read as esbuild and Vite read it.
//!
//! In: a source file's path. Out: the [`TsSettings`] of the tsconfig.json
//! that owns the file: the nearest one above it that includes it (its
//! `files`, `include` and `exclude`, or a project it `references`), with
//! `extends` followed, into packages too. Files in `node_modules` have none
//! (a package is compiled as its author shipped it), and neither has a file
//! no tsconfig.json owns. Discovery and `extends` are `oxc_resolver`'s, the
//! resolver the bundler already uses for `paths`.
//!
//! Only options that change the emitted code are read:
//! `experimentalDecorators`, `emitDecoratorMetadata`,
//! `useDefineForClassFields` (with its default from `target`), `jsx`,
//! `jsxFactory`, `jsxFragmentFactory`, `jsxImportSource`,
//! `verbatimModuleSyntax`, `preserveValueImports`, `importsNotUsedAsValues`
//! and `esModuleInterop`. Settings in `prebake.toml` and on the command line
//! win over them; per-file JSX pragmas win over both.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use oxc_resolver::{ResolveOptions, Resolver, TsconfigDiscovery};

use crate::diagnostics::{Category, Diagnostic};

/// The JSX transform a tsconfig.json asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TsJsx {
    /// `"react"`: `React.createElement` (or `jsxFactory`) calls.
    Classic,
    /// `"react-jsx"`, `"react-jsxdev"`: imports from `jsxImportSource`.
    Automatic,
}

/// What a file's tsconfig.json says about how to compile it. The default is
/// a file without one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(clippy::struct_excessive_bools)] // independent compiler options
pub struct TsSettings {
    /// The tsconfig.json these come from.
    pub file: Option<PathBuf>,
    /// `experimentalDecorators`: TypeScript's legacy decorators.
    pub experimental_decorators: bool,
    /// `emitDecoratorMetadata`: `design:type` and friends for legacy
    /// decorators (they need a `Reflect.metadata` polyfill at run time).
    pub emit_decorator_metadata: bool,
    /// `useDefineForClassFields`: class fields are defined (the standard)
    /// rather than assigned in the constructor. As esbuild decides it: the
    /// option when given, else false when `target` is given and older than
    /// ES2022, else true.
    pub use_define_for_class_fields: bool,
    /// `jsx`, except `"preserve"` and `"react-native"`, which a browser
    /// cannot run and which are ignored as esbuild ignores them.
    pub jsx: Option<TsJsx>,
    pub jsx_factory: Option<String>,
    pub jsx_fragment_factory: Option<String>,
    pub jsx_import_source: Option<String>,
    /// `verbatimModuleSyntax` or `preserveValueImports`: imports are kept
    /// unless marked `type`.
    pub verbatim_module_syntax: bool,
    /// `importsNotUsedAsValues: "preserve"` (or `"error"`, or
    /// `verbatimModuleSyntax`): an import whose names are all elided still
    /// loads its module.
    pub preserve_unused_imports: bool,
    /// `esModuleInterop`. Without it, TypeScript compiles `import * as ns
    /// from "cjs"` to `require("cjs")` itself, so `ns()` works; the bundler
    /// does the same for such files.
    pub es_module_interop: bool,
}

impl Default for TsSettings {
    fn default() -> Self {
        TsSettings {
            file: None,
            experimental_decorators: false,
            emit_decorator_metadata: false,
            use_define_for_class_fields: true,
            jsx: None,
            jsx_factory: None,
            jsx_fragment_factory: None,
            jsx_import_source: None,
            verbatim_module_syntax: false,
            preserve_unused_imports: false,
            // A file without a tsconfig.json gets the bundler's interop.
            es_module_interop: true,
        }
    }
}

/// Finds and reads the tsconfig.json of source files, once per config.
pub struct TsConfigs {
    resolver: Resolver,
    /// Settings by tsconfig.json path.
    read: Mutex<HashMap<PathBuf, Arc<TsSettings>>>,
    /// Every tsconfig.json read, with those it extends: inputs of the
    /// build (a build script reruns, a watcher rebuilds, when one changes).
    files: Mutex<std::collections::BTreeSet<PathBuf>>,
    /// Whether a directory or one above it holds a tsconfig.json: where
    /// none does, a file has none, known without asking per file (a
    /// JavaScript project's thousands of modules).
    above: Mutex<HashMap<PathBuf, bool>>,
}

/// Deepest `extends` chain followed for `esModuleInterop`.
const MAX_EXTENDS: usize = 32;

impl Default for TsConfigs {
    fn default() -> Self {
        TsConfigs::new()
    }
}

impl TsConfigs {
    pub fn new() -> TsConfigs {
        TsConfigs {
            resolver: Resolver::new(ResolveOptions {
                tsconfig: Some(TsconfigDiscovery::Auto),
                extensions: vec![".json".into()],
                main_files: vec!["tsconfig".into()],
                condition_names: vec!["default".into()],
                node_path: false,
                ..ResolveOptions::default()
            }),
            read: Mutex::new(HashMap::new()),
            files: Mutex::new(std::collections::BTreeSet::new()),
            above: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `dir` or a directory above it holds a tsconfig.json.
    fn any_above(&self, dir: &Path) -> bool {
        if let Ok(above) = self.above.lock()
            && let Some(&known) = above.get(dir)
        {
            return known;
        }
        let found =
            dir.join("tsconfig.json").is_file() || dir.parent().is_some_and(|p| self.any_above(p));
        if let Ok(mut above) = self.above.lock() {
            above.insert(dir.to_path_buf(), found);
        }
        found
    }

    /// Every tsconfig.json read so far, and every file they extend.
    pub fn files(&self) -> Vec<PathBuf> {
        self.files
            .lock()
            .map(|f| f.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The settings for the source file `file` (absolute), or a `TSCONFIG`
    /// error naming the tsconfig.json that cannot be read.
    pub fn for_file(&self, file: &Path) -> Result<Arc<TsSettings>, Diagnostic> {
        // Packages use none; nor does a file with no tsconfig.json above.
        if crate::discover::in_node_modules(file).is_some()
            || !file.parent().is_some_and(|d| self.any_above(d))
        {
            return Ok(Arc::new(TsSettings::default()));
        }
        let found = self.resolver.find_tsconfig(file).map_err(|e| {
            Diagnostic::error(
                "TSCONFIG",
                Category::Config,
                format!(
                    "cannot read the tsconfig.json that applies to {}: {e}",
                    file.display()
                ),
            )
            .with_help("fix the tsconfig.json (JSON with comments, and `extends` that resolve)")
        })?;
        let Some(ts) = found else {
            return Ok(Arc::new(TsSettings::default()));
        };
        let path = ts.path().to_path_buf();
        if let Ok(read) = self.read.lock()
            && let Some(s) = read.get(&path)
        {
            return Ok(s.clone());
        }
        let o = &ts.compiler_options;
        let old_target = o.target.as_deref().is_some_and(|t| {
            matches!(
                t.to_ascii_lowercase().as_str(),
                "es3"
                    | "es5"
                    | "es6"
                    | "es2015"
                    | "es2016"
                    | "es2017"
                    | "es2018"
                    | "es2019"
                    | "es2020"
                    | "es2021"
            )
        });
        let verbatim = o.verbatim_module_syntax == Some(true);
        let settings = Arc::new(TsSettings {
            file: Some(path.clone()),
            experimental_decorators: o.experimental_decorators == Some(true),
            emit_decorator_metadata: o.emit_decorator_metadata == Some(true),
            use_define_for_class_fields: o.use_define_for_class_fields.unwrap_or(!old_target),
            jsx: match o.jsx.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("react") => Some(TsJsx::Classic),
                Some("react-jsx" | "react-jsxdev") => Some(TsJsx::Automatic),
                _ => None,
            },
            jsx_factory: o.jsx_factory.clone().filter(|s| !s.is_empty()),
            jsx_fragment_factory: o.jsx_fragment_factory.clone().filter(|s| !s.is_empty()),
            jsx_import_source: o.jsx_import_source.clone().filter(|s| !s.is_empty()),
            verbatim_module_syntax: verbatim || o.preserve_value_imports == Some(true),
            preserve_unused_imports: verbatim
                || o.imports_not_used_as_values.as_deref().is_some_and(|v| {
                    v.eq_ignore_ascii_case("preserve") || v.eq_ignore_ascii_case("error")
                }),
            es_module_interop: self.es_module_interop(&path, 0) == Some(true),
        });
        if let Ok(mut read) = self.read.lock() {
            read.insert(path, settings.clone());
        }
        Ok(settings)
    }

    /// `compilerOptions.esModuleInterop` of the tsconfig.json at `path` or
    /// of what it extends (later `extends` entries win, as in TypeScript).
    /// `oxc_resolver` does not read this option.
    fn es_module_interop(&self, path: &Path, depth: usize) -> Option<bool> {
        if depth > MAX_EXTENDS {
            return None;
        }
        if let Ok(mut files) = self.files.lock() {
            files.insert(path.to_path_buf());
        }
        let mut bytes = std::fs::read(path).ok()?;
        // A byte-order mark, comments and trailing commas, as tsc allows.
        if bytes.starts_with(b"\xEF\xBB\xBF") {
            bytes.drain(..3);
        }
        json_strip_comments::strip_slice(&mut bytes).ok()?;
        let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        let own = json
            .get("compilerOptions")
            .and_then(|o| o.get("esModuleInterop"))
            .and_then(serde_json::Value::as_bool);
        let extends: Vec<&str> = match json.get("extends") {
            Some(serde_json::Value::String(s)) => vec![s.as_str()],
            Some(serde_json::Value::Array(list)) => {
                list.iter().filter_map(serde_json::Value::as_str).collect()
            }
            _ => Vec::new(),
        };
        let dir = path.parent()?;
        // Every file is visited (they are all inputs); the file's own value
        // wins, then the later of what it extends.
        let inherited: Vec<Option<bool>> = extends
            .iter()
            .map(|spec| {
                let base = self.extended(dir, spec)?;
                self.es_module_interop(&base, depth + 1)
            })
            .collect();
        own.or_else(|| inherited.into_iter().rev().flatten().next())
    }

    /// The file an `extends` specifier written in `dir` names: a path, or a
    /// package's file (`@tsconfig/strictest/tsconfig.json`, or a package
    /// whose `tsconfig.json` is meant).
    fn extended(&self, dir: &Path, spec: &str) -> Option<PathBuf> {
        if spec.starts_with('.') || Path::new(spec).is_absolute() {
            let p = dir.join(spec);
            if p.is_file() {
                return Some(p);
            }
            let with_json = dir.join(format!("{spec}.json"));
            return with_json.is_file().then_some(with_json);
        }
        self.resolver
            .resolve(dir, spec)
            .or_else(|_| self.resolver.resolve(dir, &format!("{spec}/tsconfig.json")))
            .ok()
            .map(|r| r.path().to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn settings_follow_extends_into_packages_and_the_target_default() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().canonicalize().unwrap();
        write(
            &d,
            "node_modules/@base/cfg/tsconfig.json",
            r#"{ "compilerOptions": { "esModuleInterop": true, "jsx": "react-jsx",
                 "jsxImportSource": "preact", // a comment
               }, }"#,
        );
        write(
            &d,
            "tsconfig.json",
            r#"{ "extends": "@base/cfg", "compilerOptions": { "experimentalDecorators": true, "target": "es2020" } }"#,
        );
        write(&d, "src/a.ts", "");
        write(
            &d,
            "legacy/tsconfig.json",
            r#"{ "compilerOptions": { "useDefineForClassFields": false, "jsx": "react", "jsxFactory": "h" } }"#,
        );
        write(&d, "legacy/b.tsx", "");
        write(&d, "node_modules/pkg/c.ts", "");
        let ts = TsConfigs::new();
        let a = ts.for_file(&d.join("src/a.ts")).unwrap();
        assert_eq!(a.file.as_deref(), Some(d.join("tsconfig.json").as_path()));
        assert!(a.experimental_decorators);
        assert!(a.es_module_interop, "from the package it extends");
        assert_eq!(a.jsx, Some(TsJsx::Automatic));
        assert_eq!(a.jsx_import_source.as_deref(), Some("preact"));
        assert!(
            !a.use_define_for_class_fields,
            "target es2020 is older than es2022"
        );
        let b = ts.for_file(&d.join("legacy/b.tsx")).unwrap();
        assert!(!b.experimental_decorators);
        assert!(!b.es_module_interop);
        assert!(!b.use_define_for_class_fields);
        assert_eq!(b.jsx, Some(TsJsx::Classic));
        assert_eq!(b.jsx_factory.as_deref(), Some("h"));
        // What was read, extended files too, are inputs of the build.
        let files = ts.files();
        assert!(files.contains(&d.join("tsconfig.json")), "{files:?}");
        assert!(
            files.contains(&d.join("node_modules/@base/cfg/tsconfig.json")),
            "{files:?}"
        );
        // Packages are compiled as shipped.
        assert_eq!(
            *ts.for_file(&d.join("node_modules/pkg/c.ts")).unwrap(),
            TsSettings::default()
        );
    }

    #[test]
    fn a_broken_tsconfig_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().canonicalize().unwrap();
        write(&d, "tsconfig.json", "{ \"compilerOptions\": { ");
        write(&d, "a.ts", "");
        let e = TsConfigs::new().for_file(&d.join("a.ts")).unwrap_err();
        assert_eq!(e.code, "TSCONFIG");
    }
}
