//! Fingerprints: content hashes, output names, integrity and MIME types.
//!
//! # Naming
//!
//! An output's name is the name pattern (default `[dir]/[name]-[hash][ext]`)
//! with `[hash]` = the first `hash-length` (default 16, at least 16) lowercase
//! hex digits of the SHA-256 of the output's **final** bytes: 64 bits or
//! more, so two different contents never share a name in practice, and the
//! name changes whenever a byte does.
//!
//! # Collisions
//!
//! Before anything is compiled, every source's name is rendered with an
//! empty hash, lowercased and put in Unicode NFC. Two sources with the same
//! key (`a.ts` and `a.js`; `Logo.png` and `logo.png`; `café` composed and
//! decomposed) would overwrite each other on some filesystem or confuse a
//! CDN, so they are an error naming both (T21).

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};
use unicode_normalization::UnicodeNormalization as _;

use crate::config::{Config, Sri};
use crate::diagnostics::{Category, Diagnostic};
use crate::discover::{Kind, Source, stem};
use crate::manifest::Integrity;

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of a digest.
pub fn hex(digest: &[u8]) -> String {
    let mut s = String::with_capacity(digest.len() * 2);
    for b in digest {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The directory part of a logical name (`""` at the root).
pub fn dir_of(logical: &str) -> &str {
    logical.rfind('/').map_or("", |i| &logical[..i])
}

/// The output path of a source whose final bytes hash to `hash`.
pub fn output_name(cfg: &Config, src: &Source, hash: &str) -> String {
    if src.kind == Kind::Html {
        // Pages are asked for by stable URLs.
        return src.logical.clone();
    }
    cfg.names.render(
        dir_of(&src.logical),
        stem(&src.logical),
        hash,
        &src.kind.out_ext(&src.logical),
    )
}

/// Errors for sources that would map to one output name, or whose name
/// would not be a safe path inside the out dir.
pub fn check_collisions(cfg: &Config, sources: &[Source]) -> Vec<Diagnostic> {
    let flat = !cfg.names.as_str().contains("[dir]");
    let probe = "0".repeat(cfg.hash_length);
    let mut seen: BTreeMap<String, &Source> = BTreeMap::new();
    let mut errors = Vec::new();
    for src in sources {
        let name = output_name(cfg, src, &probe);
        if !crate::manifest::is_safe_relative(&name)
            || name.split('/').any(|seg| seg.starts_with(".prebake"))
        {
            errors.push(
                Diagnostic::error(
                    "NAME_UNSAFE",
                    Category::Input,
                    format!(
                        "`{}` would be written as `{name}`, which is not a plain path inside the out dir",
                        src.logical
                    ),
                )
                .with_file(cfg.display_source(&src.logical))
                .with_help(format!("check the `names` pattern `{}`", cfg.names.as_str())),
            );
            continue;
        }
        // Names differ by hash anyway; what must not collide is the name a
        // person (or a case-insensitive filesystem) sees without it. With a
        // flat pattern, files in different directories are told apart by
        // their hash, as in Vite.
        let mut key = fold(&output_name(cfg, src, ""));
        if flat {
            key = format!("{}\0{key}", fold(dir_of(&src.logical)));
        }
        if let Some(first) = seen.get(&key) {
            let why = if first.logical == src.logical {
                "they have the same name"
            } else if first.logical.nfc().collect::<String>()
                == src.logical.nfc().collect::<String>()
            {
                "their names differ only in Unicode normalisation (NFC vs NFD)"
            } else if first.logical.to_lowercase() == src.logical.to_lowercase() {
                "their names differ only in case, and case-insensitive filesystems and CDNs treat them as one"
            } else {
                "they compile to the same output name"
            };
            errors.push(
                Diagnostic::error(
                    "NAME_COLLISION",
                    Category::Input,
                    format!(
                        "`{}` and `{}` map to one output name `{}`",
                        first.logical,
                        src.logical,
                        output_name(cfg, src, "[hash]")
                    ),
                )
                .with_file(cfg.display_source(&src.logical))
                .with_note(why.to_string())
                .with_help("rename one of them, or exclude one with `exclude`"),
            );
        } else {
            seen.insert(key, src);
        }
    }
    errors
}

fn fold(name: &str) -> String {
    name.nfc().collect::<String>().to_lowercase()
}

/// `alg-base64` integrity of `bytes`.
pub fn integrity(sri: Sri, bytes: &[u8]) -> String {
    match sri {
        Sri::Sha256 => Integrity::Sha256,
        Sri::Sha384 => Integrity::Sha384,
        Sri::Sha512 => Integrity::Sha512,
    }
    .compute(bytes)
}

/// MIME type by output extension. Scripts are `text/javascript` (RFC 9239).
pub fn mime_type(file: &str) -> String {
    let ext = crate::discover::extension(file).to_ascii_lowercase();
    match ext.as_str() {
        ".js" | ".mjs" | ".cjs" => "text/javascript".into(),
        ".css" => "text/css".into(),
        ".map" | ".json" => "application/json".into(),
        ".wasm" => "application/wasm".into(),
        ".webmanifest" => "application/manifest+json".into(),
        ".svg" => "image/svg+xml".into(),
        ".woff2" => "font/woff2".into(),
        ".woff" => "font/woff".into(),
        ".avif" => "image/avif".into(),
        ".webp" => "image/webp".into(),
        _ => mime_guess::from_path(file)
            .first_raw()
            .unwrap_or("application/octet-stream")
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_sha256() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn folding_catches_case_and_nfd() {
        assert_eq!(fold("Logo.PNG"), fold("logo.png"));
        assert_eq!(fold("caf\u{e9}.css"), fold("cafe\u{301}.css"));
    }

    #[test]
    fn mime_types() {
        assert_eq!(mime_type("a/b-1.js"), "text/javascript");
        assert_eq!(mime_type("x.png"), "image/png");
        assert_eq!(mime_type("LICENSE"), "application/octet-stream");
    }
}
