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
//!
//! # Naming a release ([`name_all`])
//!
//! Outputs are named in dependency order: an output's references are
//! rewritten to the final names of their targets before the output itself
//! is hashed, so its name is the hash of its final bytes and covers
//! everything it points at (a new image renames every stylesheet that
//! reaches it, and nothing else). Outputs in a reference cycle cannot each
//! contain the others' final names and be named by their own final bytes;
//! they are named by the hash of the whole cycle (every member's bytes with
//! placeholders, and the final names of what the cycle points out to), so
//! one name still never stands for two contents.

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};
use unicode_normalization::UnicodeNormalization as _;

use crate::cache::{self, Memo};
use crate::config::{Config, SourceMaps, Sri};
use crate::diagnostics::{Category, Diagnostic};
use crate::discover::{Kind, Source, stem};
use crate::manifest::Integrity;
use crate::refs::{self, Link};
use crate::sourcemap::{self, Map, SourceUrls};

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

/// An output whose references are still placeholders.
pub struct Unnamed {
    pub bytes: Vec<u8>,
    pub map: Option<Map>,
    /// In a session: a digest of everything `bytes` and `map` were made
    /// from (see [`Reuse`]).
    pub identity: Option<[u8; 32]>,
    /// A bundle chunk: its placeholders carry its bundle's tag.
    pub chunk: bool,
}

/// A file's final name and bytes, and its map file (name and bytes).
#[derive(Clone, PartialEq)]
pub struct Finished {
    pub file: String,
    pub bytes: Vec<u8>,
    pub map: Option<(String, Vec<u8>)>,
}

/// A named output.
pub struct Named {
    pub done: Finished,
    pub integrity: String,
    /// Named with the other members of a reference cycle.
    pub cycle: bool,
}

/// A session's finished outputs by logical name, under a key of their
/// identity and of the names they link to.
pub type Reuse = Memo<String, (Finished, String)>;

/// Writes an output's placeholders as the final names of their targets
/// (`link::rewrite`): the output, its links, every name so far and every
/// integrity so far.
pub type Rewrite<'a> = dyn Fn(
        &Source,
        Vec<u8>,
        Option<Map>,
        &[(String, Link)],
        &[String],
        &[Option<String>],
    ) -> Result<(Vec<u8>, Option<Map>), Diagnostic>
    + 'a;

/// What [`name_all`] needs besides the outputs.
pub struct Naming<'a> {
    /// Each output's links, by index.
    pub links: &'a [Vec<(String, Link)>],
    /// Each bundle's placeholder tag, which never reaches a name.
    pub tags: &'a [String],
    pub source_urls: &'a SourceUrls,
    pub reuse: Option<&'a Reuse>,
    pub rewrite: &'a Rewrite<'a>,
}

/// Names every output (see the module doc): `nodes[i]` is `None` where an
/// output failed. Pages keep their names and are finished last in their
/// component, since they carry the integrity of what they load.
pub fn name_all(
    cfg: &Config,
    mut nodes: Vec<Option<Unnamed>>,
    sources: &[&Source],
    naming: &Naming<'_>,
) -> Result<Vec<Option<Named>>, Vec<Diagnostic>> {
    let links = naming.links;
    let n = nodes.len();
    let mut errors = Vec::new();
    let mut finished: Vec<Option<Finished>> = (0..n).map(|_| None).collect();
    // Pages keep their names; everything else is named once its bytes are
    // final.
    let mut names: Vec<String> = sources
        .iter()
        .map(|s| {
            if s.kind == Kind::Html {
                s.logical.clone()
            } else {
                String::new()
            }
        })
        .collect();
    // Integrity of each finished output, for the pages that load it.
    let mut integrities: Vec<Option<String>> = vec![None; n];
    let mut in_cycle = vec![false; n];
    for component in strongly_connected(links) {
        let cyclic = component.len() > 1
            || links[component[0]]
                .iter()
                .any(|(_, l)| l.target() == Some(component[0]));
        if cyclic {
            let cycle_hash = cycle_hash(cfg, &component, &nodes, sources, naming, &names);
            for &i in component.iter().filter(|&&i| sources[i].kind != Kind::Html) {
                let own = sha256_hex(format!("{}\0{cycle_hash}", sources[i].logical).as_bytes());
                names[i] = output_name(cfg, sources[i], &own[..cfg.hash_length]);
                in_cycle[i] = true;
            }
        }
        // Pages last: they carry the integrity of what they load.
        let mut order = component.clone();
        order.sort_by_key(|&i| sources[i].kind == Kind::Html);
        for i in order {
            let Some(node) = nodes[i].take() else {
                continue;
            };
            // A session reuses a finished output made from the same things
            // and linking to the same names (not in a cycle, whose names
            // depend on each other).
            let memo = naming
                .reuse
                .filter(|_| !cyclic)
                .zip(node.identity)
                .map(|(memo, id)| {
                    let key = reuse_key(&id, &links[i], &names, &integrities);
                    let hit = memo.get_keyed(&sources[i].logical, &key);
                    (memo, key, hit)
                });
            if let Some((_, _, Some((done, integrity)))) = &memo
                && !cache::check_cache()
            {
                names[i].clone_from(&done.file);
                integrities[i] = Some(integrity.clone());
                finished[i] = Some(done.clone());
                continue;
            }
            let (bytes, map) = match (naming.rewrite)(
                sources[i],
                node.bytes,
                node.map,
                &links[i],
                &names,
                &integrities,
            ) {
                Ok(r) => r,
                Err(d) => {
                    errors.push(d);
                    continue;
                }
            };
            let (bytes, map) = attach_map(cfg, sources[i], bytes, map, naming.source_urls);
            let integrity = integrity(cfg.sri, &bytes);
            if !cyclic && sources[i].kind != Kind::Html {
                let hash = sha256_hex(&bytes);
                names[i] = output_name(cfg, sources[i], &hash[..cfg.hash_length]);
            }
            let done = Finished {
                file: names[i].clone(),
                bytes,
                map,
            };
            if let Some((memo, key, reused)) = memo {
                if let Some((old, _)) = &reused
                    && old != &done
                {
                    errors.push(Diagnostic::error(
                        "INTERNAL",
                        Category::Internal,
                        format!(
                            "{}: a reused output differs from a fresh one",
                            sources[i].logical
                        ),
                    ));
                }
                memo.put(
                    sources[i].logical.clone(),
                    key,
                    Vec::new(),
                    (done.clone(), integrity.clone()),
                );
            }
            integrities[i] = Some(integrity);
            finished[i] = Some(done);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(finished
        .into_iter()
        .zip(integrities)
        .enumerate()
        .map(|(i, (done, integrity))| {
            let done = done?;
            Some(Named {
                integrity: integrity.unwrap_or_else(|| self::integrity(cfg.sri, &done.bytes)),
                done,
                cycle: in_cycle[i] && sources[i].kind != Kind::Html,
            })
        })
        .collect())
}

/// The hash a reference cycle's members are named by: every member's
/// name, bytes (placeholders and all, but no bundle tag) and map, and
/// the final names of what the cycle points out to.
fn cycle_hash(
    cfg: &Config,
    component: &[usize],
    nodes: &[Option<Unnamed>],
    sources: &[&Source],
    naming: &Naming<'_>,
    names: &[String],
) -> String {
    let mut h = Sha256::new();
    for &i in component {
        h.update(sources[i].logical.as_bytes());
        h.update([0]);
        let node = nodes[i].as_ref();
        let bytes = node.map_or(&[][..], |o| &o.bytes);
        if node.is_some_and(|o| o.chunk) && !naming.tags.is_empty() {
            // A chunk's placeholders carry its bundle's tag, which a
            // watch session keeps while a clean build derives it from the
            // sources: it must not reach the name.
            let mut text = String::from_utf8_lossy(bytes).into_owned();
            for tag in naming.tags {
                text = text.replace(tag.as_str(), "");
            }
            h.update(text.as_bytes());
        } else {
            h.update(bytes);
        }
        h.update([0]);
        // The map is not in the bytes (hidden maps are not even named
        // there), yet it is part of what the name stands for.
        if let Some(map) = node.and_then(|o| o.map.as_ref()) {
            h.update(map.to_json(&|l| l.to_string(), cfg.sources_content));
            h.update([0]);
        }
        for (_, link) in &naming.links[i] {
            if let Some(j) = link.target()
                && !component.contains(&j)
            {
                let suffix = match link {
                    Link::To(_, s) => s.as_str(),
                    _ => "",
                };
                h.update(names[j].as_bytes());
                h.update(suffix.as_bytes());
                h.update([0]);
            }
        }
    }
    hex(&h.finalize())
}

/// What a finished output depends on besides its identity: the name (and,
/// for pages, the integrity) each of its placeholders becomes.
fn reuse_key(
    identity: &[u8; 32],
    links: &[(String, Link)],
    names: &[String],
    integrities: &[Option<String>],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(identity);
    for (placeholder, link) in links {
        h.update(placeholder.as_bytes());
        h.update([0]);
        match link {
            Link::Keep(url) => h.update(url.as_bytes()),
            Link::To(j, suffix) => {
                h.update(names[*j].as_bytes());
                h.update([1]);
                h.update(suffix.as_bytes());
            }
            Link::Base(j) => h.update(names[*j].as_bytes()),
        }
        h.update([0]);
        if let Some(j) = link.target() {
            h.update(integrities[j].as_deref().unwrap_or("").as_bytes());
        }
        h.update([0]);
    }
    h.finalize().into()
}

/// Encodes the map of a finished output: appended as a `data:` URL
/// (inline), or returned as a file named by its own hash, which a linked
/// output names in a comment (so the output's hash covers the map too).
fn attach_map(
    cfg: &Config,
    src: &Source,
    mut bytes: Vec<u8>,
    map: Option<Map>,
    urls: &SourceUrls,
) -> (Vec<u8>, Option<(String, Vec<u8>)>) {
    let Some(map) = map else {
        return (bytes, None);
    };
    let css = src.kind == Kind::Css;
    // [hash] is in the file name, so any hash gives the right directory.
    let own = output_name(cfg, src, "0");
    let json = map.to_json(&|logical| urls.url(&own, logical), cfg.sources_content);
    match cfg.sourcemap {
        SourceMaps::None => (bytes, None),
        SourceMaps::Inline => {
            bytes.extend_from_slice(
                sourcemap::link_comment(css, &sourcemap::data_url(&json)).as_bytes(),
            );
            (bytes, None)
        }
        SourceMaps::Linked | SourceMaps::Hidden => {
            let hash = sha256_hex(&json);
            let name = format!("{}.map", output_name(cfg, src, &hash[..cfg.hash_length]));
            if cfg.sourcemap == SourceMaps::Linked {
                let url = refs::relative_url(&own, &name);
                bytes.extend_from_slice(sourcemap::link_comment(css, &url).as_bytes());
            }
            (bytes, Some((name, json)))
        }
    }
}

/// The strongly connected components of the reference graph (Tarjan's
/// algorithm, iterative), each sorted, in dependency order: a component
/// comes after every component it references. Deterministic: nodes and
/// edges are visited in index (logical name) order.
fn strongly_connected(links: &[Vec<(String, Link)>]) -> Vec<Vec<usize>> {
    let n = links.len();
    let edges: Vec<Vec<usize>> = links
        .iter()
        .map(|l| {
            let mut e: Vec<usize> = l.iter().filter_map(|(_, link)| link.target()).collect();
            e.sort_unstable();
            e.dedup();
            e
        })
        .collect();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, position in its edge list)
        let mut work = vec![(root, 0usize)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut pos)) = work.last_mut() {
            if let Some(&w) = edges[v].get(*pos) {
                *pos += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                component.sort_unstable();
                components.push(component);
            }
        }
    }
    components
}

/// Errors for sources that would map to one output name, or whose name
/// would not be a safe path inside the out dir.
pub fn check_collisions<'a>(
    cfg: &Config,
    sources: impl IntoIterator<Item = &'a Source>,
) -> Vec<Diagnostic> {
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
