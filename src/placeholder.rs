//! Placeholders: the text that stands for a reference in compiled output
//! until the names of the files it points at are known. This module owns
//! their formats: making them, the tag that ends them, and recognising them
//! in text. How a URL is escaped when it takes a placeholder's place stays
//! with each language ([`crate::js::substitute`], [`crate::css::substitute`],
//! [`crate::html::substitute`]).
//!
//! The bytes of these formats must never change: a placeholder's text is
//! part of the hash of a file in an import cycle (the cycle's names are
//! made before its references are), so a new format renames releases.
//!
//! | Made for | Format | Stands for |
//! |---|---|---|
//! | JS ([`reference`]) | `__prebake_ref_<n>_<tag>__` | reference `n` of a file, inside a string literal |
//! | a bundle's chunks ([`bundled`]) | `__prebake_ref_<n>_<tag><k>__` | chunk, asset or entry stylesheet `n` ([`Bundled`] gives `<k>`) |
//! | pages ([`page_url`]) | `__prebake_url_<c><n>_<tag>__` | reference `n` of a page, escaped for context `<c>` ([`Context`]) |
//! | pages ([`page_sri`]) | `__prebake_sri_<n>_<tag>__` | the integrity of reference `n`'s target |
//! | stylesheets | lightningcss's own, in quotes | each `url()` and `@import`; lightningcss names them (6 characters hashed from the file name and the URL), so none is made here |
//!
//! A file's `<tag>` is [`tag`] of its source; a bundle's is made the same
//! way from all of its modules' sources ([`bundle_tag`]), and a watch session
//! keeps it while no source contains it. Neither `<n>` nor a tag holds `_`,
//! and no placeholder holds `__` after its prefix or a quote.

/// What every placeholder starts with.
pub const PREFIX: &str = "__prebake_";

/// A reference of JS (a file's or a bundle's chunk's).
const REF_PREFIX: &str = "__prebake_ref_";
/// A URL in a page.
const URL_PREFIX: &str = "__prebake_url_";
/// An integrity in a page.
const SRI_PREFIX: &str = "__prebake_sri_";

/// The first 12 hex digits of the SHA-256 of `source`: to write a
/// placeholder of its own, a file would have to contain its own hash.
pub fn tag(source: &str) -> String {
    crate::fingerprint::sha256_hex(source.as_bytes())[..12].to_string()
}

/// A bundle's tag: the first 12 hex digits of the SHA-256 of all its
/// modules' sources, each followed by a zero byte.
pub fn bundle_tag<'a>(sources: impl IntoIterator<Item = &'a str>) -> String {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    for s in sources {
        h.update(s.as_bytes());
        h.update([0]);
    }
    crate::fingerprint::hex(&h.finalize())[..12].to_string()
}

/// The placeholder that stands for reference `n` in compiled JS, inside a
/// string literal. `tag` comes from the hash of the file's own source
/// ([`tag`]), so no string a source holds can be taken for one.
pub fn reference(n: usize, tag: &str) -> String {
    format!("{REF_PREFIX}{n}_{tag}__")
}

/// What a placeholder in a bundle's chunk stands for; its letter follows
/// the bundle's tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bundled {
    /// The URL of chunk `n`.
    Chunk,
    /// The URL of asset module `n` as a page uses it (base + name).
    Asset,
    /// The URL of asset module `n` relative to the chunk
    /// (`new URL(…, import.meta.url)`).
    Url,
    /// The URL of entry point `n`'s stylesheet.
    EntryCss,
}

impl Bundled {
    fn letter(self) -> char {
        match self {
            Bundled::Chunk => 'c',
            Bundled::Asset => 'a',
            Bundled::Url => 'u',
            Bundled::EntryCss => 's',
        }
    }
}

/// The placeholder for `kind` number `n` in the chunks of the bundle whose
/// tag is `tag`: a JS [`reference`] whose tag ends with the kind's letter.
pub fn bundled(kind: Bundled, n: usize, tag: &str) -> String {
    reference(n, &format!("{tag}{}", kind.letter()))
}

/// The byte range of each JS reference placeholder in `code` (made by
/// [`reference`] or [`bundled`]), in order: whatever its tag, so the
/// caller looks it up.
pub fn references_in(code: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    code.match_indices(REF_PREFIX).filter_map(|(i, _)| {
        // `__prebake_ref_<n>_<tag>__`: the tag holds no `_`.
        let after = i + REF_PREFIX.len();
        let tag_start = code[after..].find('_').map(|k| after + k + 1)?;
        let end = code[tag_start..].find("__").map(|k| tag_start + k + 2)?;
        Some(i..end)
    })
}

/// Whether compiled JS still holds one of `placeholders` (a reference the
/// rewrite could not place: a bug, never shipped silently).
pub fn unreplaced<'a>(
    code: &str,
    placeholders: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    if !code.contains(REF_PREFIX) {
        return None;
    }
    placeholders.into_iter().find(|p| code.contains(p))
}

/// Where in a page a URL placeholder stands, which says how its URL is
/// escaped there; its letter is part of the placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Attribute,
    /// A candidate of a `srcset`.
    SrcSet,
    /// A CSS string in a `<style>` element.
    StyleText,
    /// A CSS string in a `style` attribute.
    StyleAttribute,
    /// A JSON string in an import map.
    ImportMap,
}

impl Context {
    fn letter(self) -> char {
        match self {
            Context::Attribute => 'a',
            Context::SrcSet => 's',
            Context::StyleText => 't',
            Context::StyleAttribute => 'y',
            Context::ImportMap => 'j',
        }
    }

    fn of(letter: u8) -> Option<Context> {
        match letter {
            b'a' => Some(Context::Attribute),
            b's' => Some(Context::SrcSet),
            b't' => Some(Context::StyleText),
            b'y' => Some(Context::StyleAttribute),
            b'j' => Some(Context::ImportMap),
            _ => None,
        }
    }
}

/// The placeholder for reference `n` of a page, standing in `context`:
/// `__prebake_url_<c><n>_<tag>__`.
pub fn page_url(context: Context, n: usize, tag: &str) -> String {
    format!("{URL_PREFIX}{}{n}_{tag}__", context.letter())
}

/// The context a page's URL placeholder stands in.
pub fn page_context(url_placeholder: &str) -> Option<Context> {
    url_placeholder
        .strip_prefix(URL_PREFIX)?
        .bytes()
        .next()
        .and_then(Context::of)
}

/// The integrity placeholder that goes with a page's URL placeholder.
pub fn page_sri(url_placeholder: &str) -> Option<String> {
    let rest = url_placeholder.strip_prefix(URL_PREFIX)?.get(1..)?;
    Some(format!("{SRI_PREFIX}{rest}"))
}

/// The placeholder `text` starts with, if it starts with [`PREFIX`]: up to
/// the first `__` after the prefix (a placeholder has none inside). It may
/// be text that merely looks like one; the caller looks it up.
pub fn token_at(text: &str) -> Option<&str> {
    let end = text.strip_prefix(PREFIX)?.find("__")?;
    text.get(..PREFIX.len() + end + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The formats, byte for byte: a change renames every file in an import
    // cycle.
    #[test]
    fn formats_stay_as_they_are() {
        let t = tag("export default 1;\n");
        assert_eq!(t.len(), 12);
        assert_eq!(
            t,
            crate::fingerprint::sha256_hex(b"export default 1;\n")[..12]
        );
        assert_eq!(
            reference(3, "0123456789ab"),
            "__prebake_ref_3_0123456789ab__"
        );
        assert_eq!(
            [
                Bundled::Chunk,
                Bundled::Asset,
                Bundled::Url,
                Bundled::EntryCss
            ]
            .map(|k| bundled(k, 7, "0123456789ab")),
            [
                "__prebake_ref_7_0123456789abc__",
                "__prebake_ref_7_0123456789aba__",
                "__prebake_ref_7_0123456789abu__",
                "__prebake_ref_7_0123456789abs__",
            ]
        );
        let contexts = [
            Context::Attribute,
            Context::SrcSet,
            Context::StyleText,
            Context::StyleAttribute,
            Context::ImportMap,
        ];
        assert_eq!(
            contexts.map(|c| page_url(c, 12, "0123456789ab")),
            [
                "__prebake_url_a12_0123456789ab__",
                "__prebake_url_s12_0123456789ab__",
                "__prebake_url_t12_0123456789ab__",
                "__prebake_url_y12_0123456789ab__",
                "__prebake_url_j12_0123456789ab__",
            ]
        );
        for c in contexts {
            assert_eq!(page_context(&page_url(c, 0, "t")), Some(c));
        }
        assert_eq!(
            page_sri("__prebake_url_s12_0123456789ab__").as_deref(),
            Some("__prebake_sri_12_0123456789ab__")
        );
    }

    #[test]
    fn placeholders_are_found_in_text() {
        let a = reference(0, "0123456789ab");
        let b = bundled(Bundled::Chunk, 1, "0123456789ab");
        let code = format!("x(\"{a}\");y(`{b}?v`);__prebake_ref_9");
        let found: Vec<&str> = references_in(&code).map(|r| &code[r]).collect();
        assert_eq!(found, [a.as_str(), b.as_str()]);
        assert_eq!(unreplaced(&code, [b.as_str()]), Some(b.as_str()));
        assert_eq!(unreplaced("x", [b.as_str()]), None);
        let page = page_url(Context::Attribute, 2, "0123456789ab");
        assert_eq!(token_at(&format!("{page}x__")), Some(page.as_str()));
        assert_eq!(token_at("__prebake_x"), None);
        assert_eq!(token_at("x__prebake___"), None);
    }
}
