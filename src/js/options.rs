//! The JS stage's settings: [`JsOptions`] from the config and each file's
//! tsconfig.json, [`TsEmit`] (TypeScript's code-shaping options), and the
//! browser targets in swc's form with the ECMAScript level they all run.

use swc_core::ecma::ast::EsVersion;
use swc_core::ecma::preset_env::{Version, Versions};

use crate::config::{Decorators, Jsx, JsxUser, Targets};
use crate::tsconfig::{TsJsx, TsSettings};

/// Settings of the JS stage, derived once from the config, then per file
/// from its tsconfig.json ([`JsOptions::for_file`]).
#[derive(Clone)]
pub struct JsOptions {
    pub minify: bool,
    /// The file's JSX transform (per-file pragmas are read in [`front`](super::front)).
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
