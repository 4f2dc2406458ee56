//! `prebake check`: verifies a release, for container start-up and CI.
//!
//! In: the out dir and the manifest path. Out: the verified manifest, or one
//! diagnostic per problem. The manifest must parse strictly; every entry's
//! file must be a regular file inside the out dir with the recorded size,
//! integrity, and the content hash its name carries.

use std::fs;
use std::path::Path;

use rayon::prelude::*;

use crate::diagnostics::{Category, Diagnostic};
use crate::fingerprint::sha256_hex;
use crate::manifest::{Integrity, Manifest};

/// Result of a successful check.
#[derive(Debug)]
pub struct CheckReport {
    pub manifest: Manifest,
    pub files: usize,
    pub bytes: u64,
}

/// Checks the release in `out` whose manifest is `out/manifest_rel`.
/// `shown` turns paths into display strings.
pub fn check(
    out: &Path,
    manifest_rel: &str,
    shown: &(dyn Fn(&Path) -> String + Sync),
) -> Result<CheckReport, Vec<Diagnostic>> {
    let manifest_path = out.join(manifest_rel);
    let mp = shown(&manifest_path);
    let manifest = Manifest::load(&manifest_path).map_err(|e| {
        vec![
            Diagnostic::error(
                "CHECK_MANIFEST",
                Category::Input,
                format!("cannot read manifest {mp}: {e}"),
            )
            .with_file(mp.clone()),
        ]
    })?;

    // Outputs are parsed to follow their references: big stacks, as for
    // compiling.
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(crate::jobs::STACK_SIZE)
        .build()
        .map_err(|e| {
            vec![Diagnostic::error(
                "IO",
                Category::Io,
                format!("cannot start worker threads: {e}"),
            )]
        })?;
    let problems: Vec<Diagnostic> = pool.install(|| {
        manifest
            .assets
            .par_iter()
            .filter_map(|(name, entry)| {
                let path = out.join(&entry.file);
                let p = shown(&path);
                let fail = |msg: String| {
                    Some(
                        Diagnostic::error("CHECK_FILE", Category::Input, format!("{p}: {msg}"))
                            .with_file(p.clone())
                            .with_note(format!("listed for `{name}` in {mp}")),
                    )
                };
                let meta = match fs::symlink_metadata(&path) {
                    Ok(m) => m,
                    Err(e) => return fail(format!("missing ({e})")),
                };
                if !meta.is_file() {
                    return fail("not a regular file".into());
                }
                if meta.len() != entry.size {
                    return fail(format!(
                        "size is {} bytes, manifest says {}",
                        meta.len(),
                        entry.size
                    ));
                }
                let bytes = match fs::read(&path) {
                    Ok(b) => b,
                    Err(e) => return fail(format!("cannot read: {e}")),
                };
                let Some(alg) = Integrity::parse(&entry.integrity) else {
                    return fail("malformed integrity".into());
                };
                if alg.compute(&bytes) != entry.integrity {
                    return fail(
                        "content does not match its integrity (the file was modified)".into(),
                    );
                }
                if entry.immutable
                    && !entry.cycle
                    && !name_carries_hash(&entry.file, &sha256_hex(&bytes))
                {
                    return fail("content does not match the hash in its name".into());
                }
                if let Some(map) = &entry.map
                    && let Err(msg) = check_map(out, map)
                {
                    return fail(format!("source map {map}: {msg}"));
                }
                if let Err(msg) = check_references(
                    out,
                    &manifest.base,
                    &entry.file,
                    &entry.content_type,
                    &bytes,
                ) {
                    return fail(msg);
                }
                None
            })
            .collect()
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(CheckReport {
        files: manifest.assets.len(),
        bytes: manifest.assets.values().map(|e| e.size).sum(),
        manifest,
    })
}

/// Every local reference inside a JS, CSS or HTML output must resolve to a
/// regular file inside the out dir.
fn check_references(
    out: &Path,
    base: &str,
    file: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<(), String> {
    let kind = match content_type.split(';').next().unwrap_or("").trim() {
        "text/javascript" => 0,
        "text/css" => 1,
        "text/html" => 2,
        _ => return Ok(()),
    };
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_string())?;
    let found: Vec<(String, usize, usize)> = match kind {
        0 => crate::js::references(file, text)
            .map_err(|e| format!("cannot parse: {e}"))?
            .into_iter()
            .map(|r| (r.url, r.line, r.column))
            .collect(),
        1 => crate::css::references(file, text).map_err(|e| format!("cannot parse: {e}"))?,
        _ => {
            let opts = crate::css::CssOptions {
                minify: false,
                targets: crate::config::Targets {
                    browsers: lightningcss::targets::Browsers::default(),
                },
                error_recovery: true,
                source_map: false,
            };
            crate::html::compile(file, file, text, &opts)
                .map_err(|d| {
                    format!(
                        "cannot parse: {}",
                        d.first().map_or("", |d| d.message.as_str())
                    )
                })?
                .refs
                .into_iter()
                .map(|r| (r.url, r.line, r.column))
                .collect()
        }
    };
    let exists = |logical: &str| {
        crate::manifest::is_safe_relative(logical)
            && fs::symlink_metadata(out.join(logical)).is_ok_and(|m| m.is_file())
    };
    for (url, line, column) in found {
        // `urls = "base"` writes base + path.
        let (relative, from) = match url.strip_prefix(base) {
            Some(rest) if !base.is_empty() => (rest, ""),
            _ => (url.as_str(), file),
        };
        if let Err(e) = crate::refs::resolve(relative, from, &exists) {
            let why = match e {
                crate::refs::ResolveError::Outside(how) => format!("leaves the out dir ({how})"),
                crate::refs::ResolveError::Missing(l) => {
                    format!("names {l}, which is not in the out dir")
                }
            };
            return Err(format!("reference `{url}` at {line}:{column} {why}"));
        }
    }
    Ok(())
}

/// A map file must be a plain path in the out dir, a regular file whose
/// name carries its hash, and a version 3 source map.
fn check_map(out: &Path, map: &str) -> Result<(), String> {
    if !crate::manifest::is_safe_relative(map) {
        return Err("not a plain path inside the out dir".into());
    }
    let path = out.join(map);
    match fs::symlink_metadata(&path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err("not a regular file".into()),
        Err(e) => return Err(format!("missing ({e})")),
    }
    let bytes = fs::read(&path).map_err(|e| format!("cannot read: {e}"))?;
    if !name_carries_hash(map, &sha256_hex(&bytes)) {
        return Err("content does not match the hash in its name".into());
    }
    let json: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
    if json.get("version").and_then(serde_json::Value::as_u64) != Some(3) {
        return Err("not a version 3 source map".into());
    }
    Ok(())
}

/// True when the output path holds the first [`MIN_HASH_LENGTH`] hex digits
/// of the content's SHA-256 (every name pattern has `[hash]`, which is at
/// least that long, wherever the pattern puts it).
///
/// [`MIN_HASH_LENGTH`]: crate::config::MIN_HASH_LENGTH
fn name_carries_hash(file: &str, hex: &str) -> bool {
    hex.get(..crate::config::MIN_HASH_LENGTH)
        .is_some_and(|prefix| file.contains(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_runs_in_names() {
        let hex = "0123456789abcdef0123";
        assert!(name_carries_hash("a/app-0123456789abcdef.js", hex));
        assert!(!name_carries_hash("a/app-0123456789abcdee.js", hex));
        assert!(!name_carries_hash("app.js", hex));
        assert!(name_carries_hash("0123456789abcdef0123/app.js", hex));
        assert!(name_carries_hash("code0123456789abcdef.js", hex));
    }
}
