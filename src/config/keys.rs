//! Every key of `prebake.toml`, declared once: its type, its flag, its
//! default and its help. The config file reader, the flags (clap), the
//! layering of flags over the file, `prebake init`'s template check, the
//! README check and the messages that name a key or a flag are all made
//! from this table.
//!
//! To add a key: add a row here, then read its value in
//! `Options::resolve` (`config/mod.rs`), and document it in
//! `templates/prebake.toml` and the README's configuration table (a test
//! fails until both name it).
//!
//! A row reads `"toml-name" => settings_field: Type { flag, default, help }`:
//! * `flag`: `Flag::value("--name", "VALUE_NAME")`, `Flag::repeat(..)` (a
//!   list, one value per flag), `Flag::on("--name")`, `Flag::off("--no-name",
//!   help)` or `Flag::on_off(..)` for a bool.
//! * `default` (optional): the release profile's default; keys without one
//!   are unset unless given.
//! * `toml` (optional): a reader for the file's value other than the
//!   type's own.
//! * `help`: the flag's help; a value flag's gets its default appended.
//!
//! Enums are declared with `choice!`: the names the file and the flag
//! accept, in the order messages list them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::DEFAULT_TARGETS;
use super::declare::{Flag, Reject, SettingValue};

settings! {
    "root" => root: PathBuf {
        flag: Flag::value("--root", "DIR"),
        default: "assets".into(),
        help: "Source root",
    },
    "out" => out: PathBuf {
        flag: Flag::value("--out", "DIR"),
        default: "public/assets".into(),
        help: "Output directory",
    },
    "base" => base: String {
        flag: Flag::value("--base", "URL"),
        default: "/assets/".into(),
        help: "Public URL prefix of the out dir",
    },
    "include" => include: Vec<String> {
        flag: Flag::repeat("--include", "GLOB"),
        default: vec!["**".into()],
        help: "Only build files matching this glob (repeatable)",
    },
    "exclude" => exclude: Vec<String> {
        flag: Flag::repeat("--exclude", "GLOB"),
        default: Vec::new(),
        help: "Skip files matching this glob (repeatable)",
    },
    "targets" => targets: String {
        flag: Flag::value("--targets", "QUERY"),
        default: DEFAULT_TARGETS.into(),
        toml: query_from_toml,
        help: "Browserslist query for JS and CSS",
    },
    "minify" => minify: bool {
        flag: Flag::on_off("--minify", "--no-minify", "Do not minify"),
        default: true,
        help: "Minify JS and CSS (the default)",
    },
    "names" => names: String {
        flag: Flag::value("--names", "PATTERN"),
        default: "[dir]/[name]-[hash][ext]".into(),
        help: "Output name pattern",
    },
    "hash-length" => hash_length: usize {
        flag: Flag::value("--hash-length", "N"),
        default: 16,
        help: "Hex digits of SHA-256 in names, 16 to 64",
    },
    "manifest" => manifest: String {
        flag: Flag::value("--manifest", "PATH"),
        default: "manifest.json".into(),
        help: "Manifest path inside the out dir",
    },
    "sri" => sri: Sri {
        flag: Flag::value("--sri", "ALG"),
        default: Sri::Sha384,
        help: "Integrity algorithm",
    },
    // Left unset, a file's tsconfig.json decides, then the default.
    "jsx" => jsx: JsxRuntime {
        flag: Flag::value("--jsx", "RUNTIME"),
        default: JsxRuntime::Automatic,
        help: "JSX runtime",
    },
    "jsx-import-source" => jsx_import_source: String {
        flag: Flag::value("--jsx-import-source", "MODULE"),
        default: "react".into(),
        help: "Module the automatic JSX runtime imports from",
    },
    "jsx-factory" => jsx_factory: String {
        flag: Flag::value("--jsx-factory", "EXPR"),
        default: "React.createElement".into(),
        help: "Classic JSX factory",
    },
    "jsx-fragment" => jsx_fragment: String {
        flag: Flag::value("--jsx-fragment", "EXPR"),
        default: "React.Fragment".into(),
        help: "Classic JSX fragment",
    },
    "css-error-recovery" => css_error_recovery: bool {
        flag: Flag::on("--css-error-recovery"),
        default: false,
        help: "Drop invalid CSS rules with a warning instead of failing",
    },
    // Left unset, a TypeScript file's tsconfig.json decides, then the default.
    "decorators" => decorators: Decorators {
        flag: Flag::value("--decorators", "KIND"),
        default: Decorators::Standard,
        help: "Decorator semantics: TC39 standard, or TypeScript's experimentalDecorators",
    },
    "strict" => strict: bool {
        flag: Flag::on("--strict"),
        default: false,
        help: "Bare imports (`react`) are errors instead of being left for an import map",
    },
    "urls" => urls: UrlStyle {
        flag: Flag::value("--urls", "STYLE"),
        default: UrlStyle::Relative,
        help: "How rewritten references are written: relative to the referring file, or base + path",
    },
    // `prebake watch` makes linked maps the default, and of `none`.
    "sourcemap" => sourcemap: SourceMaps {
        flag: Flag::value("--sourcemap", "MODE"),
        default: SourceMaps::None,
        help: "Source maps: a linked `.map` file, a hidden one (manifest only), inline, or none",
    },
    "sources-content" => sources_content: bool {
        flag: Flag::off(
            "--no-sources-content",
            "Leave the original sources out of source maps (`sourcesContent`)",
        ),
        default: true,
        help: "Put the original sources in source maps (`sourcesContent`)",
    },
    "entries" => entries: Vec<String> {
        flag: Flag::repeat("--entry", "FILE"),
        default: Vec::new(),
        help: "Bundle this entry point (relative to the root); repeat for more",
    },
    "format" => format: BundleFormat {
        flag: Flag::value("--bundle-format", "FORMAT"),
        default: BundleFormat::Esm,
        help: "Bundle format: ES modules with code splitting, or one IIFE script per entry",
    },
    "global-name" => global_name: String {
        flag: Flag::value("--global-name", "NAME"),
        help: "Global variable an IIFE bundle assigns the entry's exports to",
    },
    // No default here: the profile defines `process.env.NODE_ENV`.
    "define" => define: BTreeMap<String, String> {
        flag: Flag::repeat("--define", "NAME=EXPR"),
        help: "Replace a global name by a JS expression, e.g. --define 'process.env.API=\"/api\"'",
    },
}

/// `targets`: one browserslist query, or an array of them joined by commas.
fn query_from_toml(v: &toml::Value) -> Result<String, Reject> {
    match v {
        toml::Value::Array(_) => Ok(Vec::<String>::from_toml(v)?.join(", ")),
        _ => String::from_toml(v),
    }
}

choice! {
    /// Subresource-integrity hash algorithm.
    pub enum Sri("algorithm") {
        Sha256 = "sha256",
        Sha384 = "sha384",
        Sha512 = "sha512",
    }
}

choice! {
    /// The JSX runtime a user asked for (`jsx`).
    pub enum JsxRuntime("JSX runtime") {
        /// `react/jsx-runtime` style imports from `jsx-import-source`.
        Automatic = "automatic",
        /// `React.createElement` style calls of `jsx-factory`.
        Classic = "classic",
    }
}

choice! {
    /// Which decorator semantics to compile.
    pub enum Decorators("decorators") {
        /// TC39 stage-3 decorators as TypeScript 5 emits them (2022-03).
        Standard = "standard",
        /// TypeScript's `experimentalDecorators`.
        Legacy = "legacy",
    }
}

choice! {
    /// How rewritten references are written.
    pub enum UrlStyle("URL style") {
        /// Relative to the referring file's own output (`../img/a-1.png`):
        /// works under any `base` and mount point.
        Relative = "relative",
        /// `base` + the file's path (`/assets/img/a-1.png`).
        Base = "base",
    }
}

choice! {
    /// Whether and how source maps are written.
    pub enum SourceMaps("source map mode") {
        None = "none",
        /// A fingerprinted `.map` file beside each JS and CSS output, named
        /// in a `sourceMappingURL` comment and in the manifest (`map`).
        Linked = "linked",
        /// The `.map` file and its manifest entry, but no comment: for
        /// error trackers, without telling browsers.
        Hidden = "hidden",
        /// The map inside the output, as a `data:` URL.
        Inline = "inline",
    }
}

choice! {
    /// How bundles load: ES modules (with code splitting), or one classic
    /// script per entry.
    pub enum BundleFormat("bundle format") {
        Esm = "esm",
        Iife = "iife",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::declare::choice_from_toml;

    #[test]
    fn keys_are_the_table_in_order() {
        let names: Vec<&str> = KEY_TABLE.iter().map(|k| k.name).collect();
        assert_eq!(names, KEYS);
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "a key is declared twice");
    }

    /// Each default survives being written as TOML and read back, so the
    /// template and the README show what the reader accepts.
    #[test]
    fn defaults_read_back_from_toml() {
        for key in KEY_TABLE {
            let Some(value) = key.default_toml() else {
                continue;
            };
            let mut s = Settings::default();
            let read = s.set_from_toml(key.name, &value);
            assert!(matches!(read, Some(Ok(()))), "{}: {read:?}", key.name);
            assert!(s.is_set(key.name), "{}", key.name);
        }
    }

    #[test]
    fn flags_are_named_as_typed() {
        let s = Settings {
            entries: Some(vec!["a.js".into()]),
            format: Some(BundleFormat::Iife),
            minify: Some(false),
            sources_content: Some(false),
            strict: Some(true),
            ..Settings::default()
        };
        assert_eq!(s.flag_of("entries"), Some("--entry"));
        assert_eq!(s.flag_of("format"), Some("--bundle-format"));
        assert_eq!(s.flag_of("minify"), Some("--no-minify"));
        assert_eq!(s.flag_of("sources-content"), Some("--no-sources-content"));
        assert_eq!(s.flag_of("strict"), Some("--strict"));
        assert_eq!(s.flag_of("root"), None);
        let on = Settings {
            minify: Some(true),
            ..Settings::default()
        };
        assert_eq!(on.flag_of("minify"), Some("--minify"));
    }

    #[test]
    fn enum_values_outside_the_set_name_the_set() {
        let v = toml::Value::String("cjs".into());
        match choice_from_toml::<BundleFormat>(&v) {
            Err(Reject::Value(why)) => {
                assert_eq!(why, "unknown bundle format `cjs` (expected esm or iife)");
            }
            other => panic!("{other:?}"),
        }
        let v = toml::Value::String("md5".into());
        match choice_from_toml::<Sri>(&v) {
            Err(Reject::Value(why)) => assert_eq!(
                why,
                "unknown algorithm `md5` (expected sha256, sha384 or sha512)"
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            choice_from_toml::<Sri>(&toml::Value::Integer(1)),
            Err(Reject::Type("a string"))
        ));
    }

    #[test]
    fn flags_layer_over_the_file() {
        let file = Settings {
            base: Some("/file/".into()),
            minify: Some(true),
            define: Some(BTreeMap::from([
                ("A".into(), "1".into()),
                ("B".into(), "2".into()),
            ])),
            ..Settings::default()
        };
        let flags = Settings {
            minify: Some(false),
            define: Some(BTreeMap::from([("B".into(), "3".into())])),
            ..Settings::default()
        };
        let s = Settings::layer(&flags, &file);
        assert_eq!(s.base.as_deref(), Some("/file/"));
        assert_eq!(s.minify, Some(false));
        assert_eq!(
            s.define,
            Some(BTreeMap::from([
                ("A".into(), "1".into()),
                ("B".into(), "3".into())
            ]))
        );
        assert!(
            Settings::layer(&Settings::default(), &Settings::default())
                .define
                .is_none()
        );
    }

    /// Every key has a flag, clap accepts the command they make, and each
    /// flag's value comes back in its key.
    #[cfg(feature = "cli")]
    #[test]
    fn every_key_has_a_working_flag() {
        let cmd = Settings::add_flags(clap::Command::new("t"), |_| true);
        cmd.clone().debug_assert();
        for key in KEY_TABLE {
            for flag in key.flag.names() {
                let id = flag.trim_start_matches("--");
                assert!(
                    cmd.get_arguments().any(|a| a.get_long() == Some(id)),
                    "{}: no {flag}",
                    key.name
                );
            }
        }
        let m = cmd
            .try_get_matches_from([
                "t",
                "--root",
                "src",
                "--no-minify",
                "--entry",
                "a.ts",
                "--entry",
                "b.ts",
                "--bundle-format",
                "iife",
                "--hash-length",
                "20",
                "--define",
                "A=1",
                "--define",
                "B",
                "--no-sources-content",
                "--strict",
            ])
            .unwrap();
        let s = Settings::from_flags(&m, |_| true).unwrap();
        assert_eq!(s.root, Some(PathBuf::from("src")));
        assert_eq!(s.minify, Some(false));
        assert_eq!(s.entries, Some(vec!["a.ts".into(), "b.ts".into()]));
        assert_eq!(s.format, Some(BundleFormat::Iife));
        assert_eq!(s.hash_length, Some(20));
        assert_eq!(
            s.define,
            Some(BTreeMap::from([
                ("A".into(), "1".into()),
                ("B".into(), "true".into())
            ]))
        );
        assert_eq!(s.sources_content, Some(false));
        assert_eq!(s.strict, Some(true));
        assert_eq!(s.css_error_recovery, None);
        assert_eq!(s.sri, None);
        assert_eq!(s.include, None);
    }
}
