//! The manifest schema (version 1): written by the builder, read strictly by
//! `prebake check` and by running apps.
//!
//! This module needs only `serde`, `serde_json`, `sha2` and `base64`, so apps can
//! read manifests without compiling swc or lightningcss.
//!
//! ```json
//! {
//!   "assets": {
//!     "app.ts": {
//!       "file": "app-3f2a9c0d1e4b5a69.js",
//!       "integrity": "sha384-…",
//!       "size": 1234,
//!       "type": "text/javascript"
//!     }
//!   },
//!   "base": "/assets/",
//!   "digest": "sha256-…",
//!   "version": 1
//! }
//! ```
//!
//! Keys are sorted at every level. `digest` is the SHA-256 of the compact
//! JSON serialisation of the manifest without the `digest` key; a reader
//! recomputes it, so truncation or a flipped bit is an error, never a
//! partial map.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::path::Path;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256, Sha384, Sha512};

/// The schema version this crate writes and reads.
pub const VERSION: u32 = 1;

/// A release: logical names to fingerprinted files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Logical name (path relative to the source root, with `/`) to entry.
    #[serde(deserialize_with = "unique_keys")]
    pub assets: BTreeMap<String, Entry>,
    /// Public URL prefix of the out dir, ending in `/`.
    pub base: String,
    /// `sha256-<base64>` of the manifest without this key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    /// Schema version, always [`VERSION`].
    pub version: u32,
}

/// One output file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Entry chunks: assets its modules import (logical names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<String>,
    /// Entry chunks: the stylesheets its modules import, to load with
    /// `<link rel=stylesheet>` (logical names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub css: Vec<String>,
    /// The file is part of an import cycle: its `[hash]` covers the whole
    /// cycle's sources instead of its own final bytes (which must contain
    /// the other members' names). `integrity` still covers its bytes.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cycle: bool,
    /// Chunks it may load with `import()` (logical names).
    #[serde(
        default,
        rename = "dynamicImports",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub dynamic_imports: Vec<String>,
    /// Path relative to the out dir (and to `base`), with `/`.
    pub file: String,
    /// `false` for files that keep their name from build to build (HTML
    /// pages): serve them with revalidation, not `immutable`. Absent
    /// (true) for every fingerprinted file.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub immutable: bool,
    /// Chunks it imports statically, to preload with `<link
    /// rel=modulepreload>` (logical names, in load order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<String>,
    /// Subresource-integrity value: `sha384-<base64>` by default.
    pub integrity: String,
    /// The file's source map, relative to the out dir, when maps are
    /// written as files (`sourcemap = "linked"` or `"hidden"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// MIME type.
    #[serde(rename = "type")]
    pub content_type: String,
}

impl Entry {
    /// A fingerprinted file with no map and no bundle metadata (the other
    /// fields can be set afterwards).
    pub fn new(
        file: impl Into<String>,
        integrity: impl Into<String>,
        size: u64,
        content_type: impl Into<String>,
    ) -> Entry {
        Entry {
            assets: Vec::new(),
            css: Vec::new(),
            cycle: false,
            dynamic_imports: Vec::new(),
            file: file.into(),
            immutable: true,
            imports: Vec::new(),
            integrity: integrity.into(),
            map: None,
            size,
            content_type: content_type.into(),
        }
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if signature
fn is_false(b: &bool) -> bool {
    !*b
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if signature
fn is_true(b: &bool) -> bool {
    *b
}

fn yes() -> bool {
    true
}

/// Why a manifest could not be read.
#[derive(Debug)]
pub enum ManifestError {
    Io(std::io::Error),
    /// Not valid JSON, or not this schema; carries `serde_json`'s line and column.
    Parse {
        message: String,
        line: usize,
        column: usize,
    },
    /// Parsed, but a value is wrong.
    Invalid(String),
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::Io(e) => write!(f, "{e}"),
            ManifestError::Parse {
                message,
                line,
                column,
            } => write!(f, "{message} at line {line} column {column}"),
            ManifestError::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ManifestError {}

impl Manifest {
    /// An empty manifest with this base.
    pub fn new(base: impl Into<String>) -> Manifest {
        Manifest {
            assets: BTreeMap::new(),
            base: base.into(),
            digest: String::new(),
            version: VERSION,
        }
    }

    /// Serialises with sorted keys, two-space indent, the digest filled in,
    /// and a final newline.
    pub fn to_json(&self) -> String {
        let mut m = self.clone();
        m.digest = m.compute_digest();
        let mut s = serde_json::to_string_pretty(&m).unwrap_or_default();
        s.push('\n');
        s
    }

    fn compute_digest(&self) -> String {
        // The manifest without `digest`, borrowed: the same fields in the
        // same order as `Manifest`, whose empty digest is skipped.
        #[derive(Serialize)]
        struct Bare<'a> {
            assets: &'a BTreeMap<String, Entry>,
            base: &'a str,
            version: u32,
        }
        let compact = serde_json::to_vec(&Bare {
            assets: &self.assets,
            base: &self.base,
            version: self.version,
        })
        .unwrap_or_default();
        format!(
            "sha256-{}",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&compact))
        )
    }

    /// Parses strictly: unknown keys, duplicate keys, a wrong version, a
    /// digest mismatch or an unsafe file name are errors.
    pub fn from_json(text: &str) -> Result<Manifest, ManifestError> {
        let m: Manifest = serde_json::from_str(text).map_err(|e| ManifestError::Parse {
            message: e.to_string(),
            line: e.line(),
            column: e.column(),
        })?;
        if m.version != VERSION {
            return Err(ManifestError::Invalid(format!(
                "manifest version {} is not supported (this reader knows version {VERSION})",
                m.version
            )));
        }
        if m.digest.is_empty() {
            return Err(ManifestError::Invalid("manifest has no digest".into()));
        }
        if m.digest != m.compute_digest() {
            return Err(ManifestError::Invalid(
                "manifest digest does not match its content: the file is corrupt or was edited"
                    .into(),
            ));
        }
        for (name, e) in &m.assets {
            if !is_safe_relative(&e.file) {
                return Err(ManifestError::Invalid(format!(
                    "asset `{name}`: file `{}` is not a relative path inside the release",
                    e.file
                )));
            }
            if Integrity::parse(&e.integrity).is_none() {
                return Err(ManifestError::Invalid(format!(
                    "asset `{name}`: malformed integrity `{}`",
                    e.integrity
                )));
            }
        }
        Ok(m)
    }

    /// Reads and parses a manifest file. Never writes.
    pub fn load(path: impl AsRef<Path>) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(ManifestError::Io)?;
        Manifest::from_json(&text)
    }

    /// The public URL of a logical name: `base` + `file`, with the file's
    /// path percent-encoded (`a b.css` → `a%20b-….css`).
    pub fn url(&self, logical: &str) -> Option<String> {
        self.assets
            .get(logical)
            .map(|e| format!("{}{}", self.base, encode_path(&e.file)))
    }

    /// The entry of a logical name.
    pub fn get(&self, logical: &str) -> Option<&Entry> {
        self.assets.get(logical)
    }

    /// `<script type="module" src=… integrity=… crossorigin>` for an entry
    /// point.
    pub fn script_tag(&self, logical: &str) -> Option<String> {
        let e = self.assets.get(logical)?;
        Some(format!(
            "<script type=\"module\" src=\"{}\" integrity=\"{}\" crossorigin=\"anonymous\"></script>",
            attr(&self.url(logical)?),
            attr(&e.integrity)
        ))
    }

    /// `<link rel="modulepreload">` for every chunk an entry point imports
    /// statically, in load order, so the browser fetches them in parallel.
    pub fn preload_tags(&self, logical: &str) -> Option<String> {
        self.link_tags(logical, "modulepreload", |e| &e.imports)
    }

    /// `<link rel="stylesheet">` for every stylesheet an entry point's
    /// modules import, in order.
    pub fn stylesheet_tags(&self, logical: &str) -> Option<String> {
        self.link_tags(logical, "stylesheet", |e| &e.css)
    }

    /// Everything a page needs for an entry point, for its `<head>`: its
    /// stylesheets, its chunks' preloads, then the script. `None` when the
    /// entry or anything it names is not in the manifest.
    pub fn entry_tags(&self, logical: &str) -> Option<String> {
        Some(format!(
            "{}{}{}\n",
            self.stylesheet_tags(logical)?,
            self.preload_tags(logical)?,
            self.script_tag(logical)?
        ))
    }

    fn link_tags(
        &self,
        logical: &str,
        rel: &str,
        list: impl Fn(&Entry) -> &Vec<String>,
    ) -> Option<String> {
        let mut out = String::new();
        for name in list(self.assets.get(logical)?) {
            let e = self.assets.get(name)?;
            let _ = writeln!(
                out,
                "<link rel=\"{rel}\" href=\"{}\" integrity=\"{}\" crossorigin=\"anonymous\">",
                attr(&self.url(name)?),
                attr(&e.integrity)
            );
        }
        Some(out)
    }
}

/// Escapes a double-quoted HTML attribute value.
fn attr(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Reads the `assets` object, refusing a name given twice (which
/// `serde_json` would otherwise merge, keeping the last).
fn unique_keys<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Entry>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = BTreeMap<String, Entry>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of assets")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((name, entry)) = map.next_entry::<String, Entry>()? {
                if out.contains_key(&name) {
                    return Err(serde::de::Error::custom(format!(
                        "asset `{name}` is listed twice"
                    )));
                }
                out.insert(name, entry);
            }
            Ok(out)
        }
    }
    d.deserialize_map(V)
}

/// Percent-encodes what may not stand as written in a URL path: spaces,
/// `#`, `?`, `%`, quotes, controls and non-ASCII (as UTF-8 bytes).
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A relative path with `/` and no `.`, `..` or empty segments.
pub fn is_safe_relative(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\\')
        && !p.contains('\0')
        && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}

/// A parsed subresource-integrity value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integrity {
    Sha256,
    Sha384,
    Sha512,
}

impl Integrity {
    /// Parses `alg-base64`, checking the digest length.
    pub fn parse(s: &str) -> Option<Integrity> {
        let (alg, b64) = s.split_once('-')?;
        let (kind, len) = match alg {
            "sha256" => (Integrity::Sha256, 32),
            "sha384" => (Integrity::Sha384, 48),
            "sha512" => (Integrity::Sha512, 64),
            _ => return None,
        };
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        (bytes.len() == len).then_some(kind)
    }

    /// `alg-base64` of `bytes`.
    pub fn compute(self, bytes: &[u8]) -> String {
        let (name, digest) = match self {
            Integrity::Sha256 => ("sha256", Sha256::digest(bytes).to_vec()),
            Integrity::Sha384 => ("sha384", Sha384::digest(bytes).to_vec()),
            Integrity::Sha512 => ("sha512", Sha512::digest(bytes).to_vec()),
        };
        format!(
            "{name}-{}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let mut m = Manifest::new("/assets/");
        for (name, file) in [
            ("app.js", "app-0123456789abcdef.js"),
            ("a b.css", "a b-0123456789abcdef.css"),
        ] {
            m.assets.insert(
                name.into(),
                Entry::new(
                    file,
                    Integrity::Sha384.compute(name.as_bytes()),
                    3,
                    "text/javascript",
                ),
            );
        }
        m
    }

    #[test]
    fn round_trips_with_sorted_keys() {
        let m = sample();
        let text = m.to_json();
        let back = Manifest::from_json(&text).unwrap();
        assert_eq!(back.assets, m.assets);
        let a = text.find("\"a b.css\"").unwrap();
        let b = text.find("\"app.js\"").unwrap();
        assert!(a < b);
        assert!(text.find("\"assets\"").unwrap() < text.find("\"version\"").unwrap());
    }

    #[test]
    fn every_truncation_is_an_error() {
        let text = sample().to_json();
        for i in 0..text.len() - 1 {
            if text.is_char_boundary(i) {
                assert!(
                    Manifest::from_json(&text[..i]).is_err(),
                    "prefix {i} parsed"
                );
            }
        }
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let text = sample().to_json().replace("\"a b.css\"", "\"app.js\"");
        assert!(Manifest::from_json(&text).is_err());
    }

    #[test]
    fn urls_are_percent_encoded() {
        let mut m = sample();
        assert_eq!(
            m.url("app.js").as_deref(),
            Some("/assets/app-0123456789abcdef.js")
        );
        assert_eq!(
            m.url("a b.css").as_deref(),
            Some("/assets/a%20b-0123456789abcdef.css")
        );
        m.assets.get_mut("app.js").unwrap().file = "caf\u{e9}#1?.js".into();
        assert_eq!(
            m.url("app.js").as_deref(),
            Some("/assets/caf%C3%A9%231%3F.js")
        );
        assert_eq!(m.url("missing"), None);
    }

    #[test]
    fn entry_tags_carry_urls_integrity_preloads_and_stylesheets() {
        let mut m = sample();
        let mut chunk = m.assets["app.js"].clone();
        chunk.file = "_chunks/shared-0123456789abcdef.js".into();
        m.assets.insert("_chunks/shared.js".into(), chunk);
        let app = m.assets.get_mut("app.js").unwrap();
        app.imports = vec!["_chunks/shared.js".into()];
        app.css = vec!["a b.css".into()];
        let tags = m.entry_tags("app.js").unwrap();
        let integrity = |n: &str| m.assets[n].integrity.clone();
        assert_eq!(
            tags,
            format!(
                "<link rel=\"stylesheet\" href=\"/assets/a%20b-0123456789abcdef.css\" integrity=\"{}\" crossorigin=\"anonymous\">\n\
                 <link rel=\"modulepreload\" href=\"/assets/_chunks/shared-0123456789abcdef.js\" integrity=\"{}\" crossorigin=\"anonymous\">\n\
                 <script type=\"module\" src=\"/assets/app-0123456789abcdef.js\" integrity=\"{}\" crossorigin=\"anonymous\"></script>\n",
                integrity("a b.css"),
                integrity("_chunks/shared.js"),
                integrity("app.js"),
            )
        );
        assert_eq!(m.entry_tags("missing.js"), None);
        // A name the entry lists but the manifest lacks: no half a head.
        m.assets
            .get_mut("app.js")
            .unwrap()
            .imports
            .push("gone.js".into());
        assert_eq!(m.entry_tags("app.js"), None);
    }

    #[test]
    fn attributes_are_escaped() {
        let mut m = sample();
        m.base = "/a\"<b>&/".into();
        let tag = m.script_tag("app.js").unwrap();
        assert!(tag.contains("src=\"/a&quot;&lt;b&gt;&amp;/app-"), "{tag}");
    }

    #[test]
    fn unsafe_files_are_errors() {
        for bad in ["../x.js", "/etc/passwd", "a//b", "a\\b", ""] {
            assert!(!is_safe_relative(bad), "{bad}");
        }
    }
}
