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

use std::collections::{BTreeMap, btree_map};
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
    /// The files of the out dir this entry owns: its file, then its map.
    /// Pruning, `prebake check` and watch's change detection all read
    /// this list, so a new sibling file is added here once.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.file.as_str()).chain(self.map.as_deref())
    }

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

    /// `sha256-<base64>` of the manifest's compact JSON without `digest`.
    fn compute_digest(&self) -> String {
        format!(
            "sha256-{}",
            base64::engine::general_purpose::STANDARD.encode(DigestWriter::manifest(self))
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
///
/// The builder writes names sorted, and while each name sorts after the
/// last none can repeat: such entries go to a `Vec`, one comparison each,
/// and the map is built from it at the end in one pass. Looking every name
/// up in a growing map, then inserting it, cost 2 ms of a 10,000-entry load
/// (names share long prefixes, and each walk compares dozens). The first
/// name out of order moves what was read into a map, which checks the rest
/// one by one, so a hand-edited order still loads.
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
            let mut sorted: Vec<(String, Entry)> = Vec::new();
            let mut unsorted: Option<BTreeMap<String, Entry>> = None;
            while let Some((name, entry)) = map.next_entry::<String, Entry>()? {
                if unsorted.is_none() && sorted.last().is_none_or(|(last, _)| *last < name) {
                    sorted.push((name, entry));
                    continue;
                }
                let out = unsorted
                    .get_or_insert_with(|| std::mem::take(&mut sorted).into_iter().collect());
                match out.entry(name) {
                    btree_map::Entry::Occupied(o) => {
                        return Err(serde::de::Error::custom(format!(
                            "asset `{}` is listed twice",
                            o.key()
                        )));
                    }
                    btree_map::Entry::Vacant(v) => {
                        v.insert(entry);
                    }
                }
            }
            // Already sorted and unique: `collect` builds the tree bottom up.
            Ok(unsorted.unwrap_or_else(|| sorted.into_iter().collect()))
        }
    }
    d.deserialize_map(V)
}

/// Feeds the compact JSON of a manifest without `digest` to SHA-256: the
/// bytes `serde_json::to_vec` writes for it (the documented digest input),
/// written by hand through a 16 KiB buffer that stays in cache. Serialising
/// with serde into a 3 MB `Vec` and hashing that took about 6 ms for 10,000
/// entries (1.7 of it hashing); this takes about 3. serde looks up every
/// byte of a string in its escape table; here a string with nothing to
/// escape (every name in practice) is checked in a vectorised pass and
/// copied whole. A test checks the digest against hashing `serde_json`'s
/// bytes, on escaping-heavy names.
struct DigestWriter {
    hasher: Sha256,
    buf: Vec<u8>,
}

impl DigestWriter {
    const CAPACITY: usize = 16 * 1024;

    /// The SHA-256 of `m`'s digest input.
    fn manifest(m: &Manifest) -> [u8; 32] {
        let mut w = DigestWriter {
            hasher: Sha256::new(),
            buf: Vec::with_capacity(Self::CAPACITY),
        };
        m.write_bare(&mut w);
        w.hasher.update(&w.buf);
        w.hasher.finalize().into()
    }

    /// Appends `b`. Inlined: most pieces are a few bytes, and a call for
    /// each cost 0.25 ms per 10,000 entries.
    #[inline]
    fn bytes(&mut self, b: &[u8]) {
        if b.len() <= Self::CAPACITY - self.buf.len() {
            self.buf.extend_from_slice(b);
        } else {
            self.spill(b);
        }
    }

    #[cold]
    fn spill(&mut self, b: &[u8]) {
        self.hasher.update(&self.buf);
        self.buf.clear();
        if b.len() > Self::CAPACITY {
            self.hasher.update(b);
        } else {
            self.buf.extend_from_slice(b);
        }
    }

    /// `,` unless this is the object's first key, then `key`, written
    /// `"name":` (the schema's own names, which need no escaping).
    fn key(&mut self, first: &mut bool, key: &[u8]) {
        if !std::mem::take(first) {
            self.bytes(b",");
        }
        self.bytes(key);
    }

    /// A JSON string escaped as `serde_json` escapes it: `"`, `\\`, and
    /// the controls below U+0020 (`\b \f \n \r \t` or `\u00xx`); nothing
    /// else, not even U+2028 or `/`.
    fn str(&mut self, s: &str) {
        let bytes = s.as_bytes();
        self.bytes(b"\"");
        // No early exit and no branches (`|`, not `||`), so the compiler
        // checks many bytes at a time.
        #[allow(clippy::needless_bitwise_bool)]
        let plain = !bytes.iter().fold(false, |esc, &b| {
            esc | (b < 0x20) | (b == b'"') | (b == b'\\')
        });
        if plain {
            self.bytes(bytes);
        } else {
            let mut run = 0;
            for (i, &b) in bytes.iter().enumerate() {
                let hex = |n: u8| b"0123456789abcdef"[usize::from(n)];
                let control;
                let escaped: &[u8] = match b {
                    b'"' => b"\\\"",
                    b'\\' => b"\\\\",
                    0x08 => b"\\b",
                    0x0c => b"\\f",
                    b'\n' => b"\\n",
                    b'\r' => b"\\r",
                    b'\t' => b"\\t",
                    0..0x20 => {
                        control = [b'\\', b'u', b'0', b'0', hex(b >> 4), hex(b & 0xf)];
                        &control
                    }
                    _ => continue,
                };
                self.bytes(&bytes[run..i]);
                self.bytes(escaped);
                run = i + 1;
            }
            self.bytes(&bytes[run..]);
        }
        self.bytes(b"\"");
    }

    fn list(&mut self, items: &[String]) {
        self.bytes(b"[");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.bytes(b",");
            }
            self.str(item);
        }
        self.bytes(b"]");
    }

    fn u64(&mut self, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            #[allow(clippy::cast_possible_truncation)] // a digit, below 10
            {
                digits[at] = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.bytes(&digits[at..]);
    }
}

impl Manifest {
    /// Writes `{"assets":{…},"base":…,"version":…}`: the fields and rules of
    /// the serde derives above, in their order. The struct patterns name
    /// every field, so a field added to `Manifest` or `Entry` does not
    /// compile until it is written here too.
    fn write_bare(&self, w: &mut DigestWriter) {
        let Manifest {
            assets,
            base,
            digest: _,
            version,
        } = self;
        w.bytes(b"{\"assets\":{");
        for (i, (name, entry)) in assets.iter().enumerate() {
            if i > 0 {
                w.bytes(b",");
            }
            w.str(name);
            w.bytes(b":");
            entry.write(w);
        }
        w.bytes(b"},\"base\":");
        w.str(base);
        w.bytes(b",\"version\":");
        w.u64(u64::from(*version));
        w.bytes(b"}");
    }
}

impl Entry {
    fn write(&self, w: &mut DigestWriter) {
        let Entry {
            assets,
            css,
            cycle,
            dynamic_imports,
            file,
            immutable,
            imports,
            integrity,
            map,
            size,
            content_type,
        } = self;
        let first = &mut true;
        w.bytes(b"{");
        if !assets.is_empty() {
            w.key(first, b"\"assets\":");
            w.list(assets);
        }
        if !css.is_empty() {
            w.key(first, b"\"css\":");
            w.list(css);
        }
        if *cycle {
            w.key(first, b"\"cycle\":");
            w.bytes(b"true");
        }
        if !dynamic_imports.is_empty() {
            w.key(first, b"\"dynamicImports\":");
            w.list(dynamic_imports);
        }
        w.key(first, b"\"file\":");
        w.str(file);
        if !*immutable {
            w.key(first, b"\"immutable\":");
            w.bytes(b"false");
        }
        if !imports.is_empty() {
            w.key(first, b"\"imports\":");
            w.list(imports);
        }
        w.key(first, b"\"integrity\":");
        w.str(integrity);
        if let Some(map) = map {
            w.key(first, b"\"map\":");
            w.str(map);
        }
        w.key(first, b"\"size\":");
        w.u64(*size);
        w.key(first, b"\"type\":");
        w.str(content_type);
        w.bytes(b"}");
    }
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

    /// The digest as it was first defined: `serde_json`'s compact bytes of
    /// the manifest without `digest`, then SHA-256.
    fn serde_digest(m: &Manifest) -> String {
        #[derive(Serialize)]
        struct Bare<'a> {
            assets: &'a BTreeMap<String, Entry>,
            base: &'a str,
            version: u32,
        }
        let compact = serde_json::to_vec(&Bare {
            assets: &m.assets,
            base: &m.base,
            version: m.version,
        })
        .unwrap();
        format!(
            "sha256-{}",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&compact))
        )
    }

    /// Names that every escaping rule touches: quotes, backslashes, every
    /// control character, `</script>`, U+2028/U+2029 (which `serde_json`
    /// leaves alone), DEL, non-ASCII and an emoji.
    fn odd() -> Manifest {
        let controls: String = (0u8..0x20).map(char::from).collect();
        let mut m = Manifest::new("/a\"b\\c/\u{2028}é/");
        for (i, name) in [
            "q\"uote.js".to_string(),
            "back\\slash.js".into(),
            "</script><script>alert(1)</script>.js".into(),
            "line\u{2028}para\u{2029}.js".into(),
            format!("ctl{controls}\u{7f}.js"),
            "café/日本語/🦀.css".into(),
            "plain/name.js".into(),
        ]
        .into_iter()
        .enumerate()
        {
            // Files may hold all of it but `\` and NUL (unsafe).
            let mut e = Entry::new(
                format!("{}-{i:016x}", name.replace(['\\', '\0'], "_")),
                Integrity::Sha384.compute(name.as_bytes()),
                u64::MAX - i as u64,
                "text/javascript; charset=\"utf-8\"",
            );
            if i % 2 == 0 {
                // Every optional field present, in the odd ones too.
                e.assets = vec![name.clone(), "img/\u{2028}.png".into()];
                e.css = vec![format!("{name}.css")];
                e.cycle = true;
                e.dynamic_imports = vec![name.clone()];
                e.immutable = false;
                e.imports = vec!["q\"uote.js".into(), "a\nb".into()];
                e.map = Some(format!("{name}.map"));
            }
            m.assets.insert(name, e);
        }
        m
    }

    #[test]
    fn digest_is_sha256_of_serde_json_compact_bytes() {
        let mut big = sample();
        // Pieces longer than the writer's buffer, a run of escapes across
        // its boundaries, and enough entries to refill it many times.
        big.assets.insert(
            "x".repeat(3 * DigestWriter::CAPACITY),
            big.assets["app.js"].clone(),
        );
        big.assets.insert(
            "\"".repeat(DigestWriter::CAPACITY + 7),
            big.assets["app.js"].clone(),
        );
        for i in 0..2000 {
            big.assets
                .insert(format!("n/{i}\t.js"), big.assets["app.js"].clone());
        }
        let mut versions = sample();
        versions.version = u32::MAX;
        let mut zero = Manifest::new("");
        zero.version = 0;
        for m in [sample(), odd(), big, versions, zero, Manifest::new("/")] {
            assert_eq!(
                m.compute_digest(),
                serde_digest(&m),
                "{}",
                serde_json::to_string(&m).unwrap()
            );
        }
        // And the whole text `to_json` writes is what serde writes.
        let m = odd();
        let mut signed = m.clone();
        signed.digest = serde_digest(&m);
        assert_eq!(
            m.to_json(),
            format!("{}\n", serde_json::to_string_pretty(&signed).unwrap())
        );
        assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), signed);
    }

    #[test]
    fn names_out_of_order_load_and_a_name_twice_anywhere_is_an_error() {
        let m = odd();
        let digest = m.compute_digest();
        let names: Vec<&String> = m.assets.keys().collect();
        // The builder's order is sorted; a hand-written file need not be.
        let text = |order: &[usize]| {
            let assets: Vec<String> = order
                .iter()
                .map(|&i| {
                    format!(
                        "{}:{}",
                        serde_json::to_string(names[i]).unwrap(),
                        serde_json::to_string(&m.assets[names[i]]).unwrap()
                    )
                })
                .collect();
            format!(
                "{{\"version\":1,\"digest\":\"{digest}\",\"base\":{},\"assets\":{{{}}}}}",
                serde_json::to_string(&m.base).unwrap(),
                assets.join(",")
            )
        };
        let n = names.len();
        for order in [
            (0..n).collect::<Vec<_>>(),
            (0..n).rev().collect(),
            vec![1, 2, 0, 3, 4, 5, 6],
            vec![0, 1, 2, 3, 4, 6, 5],
        ] {
            let back = Manifest::from_json(&text(&order)).unwrap();
            assert_eq!(back.assets, m.assets, "{order:?}");
        }
        for order in [
            vec![0, 0],
            vec![0, 1, 2, 3, 4, 5, 6, 6],
            vec![0, 1, 2, 0],
            vec![3, 2, 1, 2],
            vec![6, 5, 4, 3, 2, 1, 0, 6],
        ] {
            let err = Manifest::from_json(&text(&order)).unwrap_err().to_string();
            assert!(err.contains("is listed twice"), "{order:?}: {err}");
        }
    }

    #[test]
    fn every_bit_flip_is_an_error_or_the_same_manifest() {
        // One flip can spell the same content (`\u001f` as `\u001F`), and
        // that may load; nothing else may, least of all a different map.
        let good = odd().to_json().into_bytes();
        let expected = Manifest::from_json(std::str::from_utf8(&good).unwrap()).unwrap();
        for at in 0..good.len() {
            for bit in 0..8 {
                let mut bad = good.clone();
                bad[at] ^= 1 << bit;
                if let Ok(m) = Manifest::from_json(&String::from_utf8_lossy(&bad)) {
                    assert_eq!(m, expected, "flip of bit {bit} at {at}");
                    assert!(
                        good[at].is_ascii_hexdigit() && bad[at] == good[at].to_ascii_uppercase(),
                        "flip of bit {bit} at {at} loaded"
                    );
                }
            }
        }
    }

    #[test]
    fn strict_errors() {
        let invalid = |m: &Manifest| match Manifest::from_json(&m.to_json()) {
            Err(ManifestError::Invalid(e)) => e,
            other => panic!("{other:?}"),
        };
        let text = sample().to_json();
        for (from, to) in [
            ("\"base\"", "\"extra\": 1,\n  \"base\""),
            ("\"size\"", "\"extra\": 1,\n      \"size\""),
            ("\"version\": 1", "\"version\": 1, \"version\": 1"),
        ] {
            let bad = text.replacen(from, to, 1);
            assert!(
                matches!(Manifest::from_json(&bad), Err(ManifestError::Parse { .. })),
                "{bad}"
            );
        }
        let digest = |t: &str| -> String {
            let at = t.find("\"sha256-").unwrap();
            t[at..=at + t[at + 1..].find('"').unwrap() + 1].to_string()
        };
        let without = text.replace(&format!("\"digest\": {},\n  ", digest(&text)), "");
        assert!(
            Manifest::from_json(&without)
                .unwrap_err()
                .to_string()
                .contains("no digest")
        );
        let mut other = sample();
        other.base = "/other/".into();
        let wrong = text.replace(&digest(&text), &digest(&other.to_json()));
        assert!(
            Manifest::from_json(&wrong)
                .unwrap_err()
                .to_string()
                .contains("does not match")
        );
        let mut m = sample();
        m.version = 2;
        assert!(invalid(&m).contains("version 2"));
        let mut m = sample();
        m.assets.get_mut("app.js").unwrap().file = "../app.js".into();
        assert!(invalid(&m).contains("not a relative path"));
        let mut m = sample();
        m.assets.get_mut("app.js").unwrap().integrity = "sha384-AAAA".into();
        assert!(invalid(&m).contains("malformed integrity"));
        // An unsafe name in a corrupt file: the digest is what is reported.
        let corrupt = m.to_json().replace("\"size\": 3", "\"size\": 4");
        assert!(
            Manifest::from_json(&corrupt)
                .unwrap_err()
                .to_string()
                .contains("does not match")
        );
    }
}
