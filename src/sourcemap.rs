//! Source maps, kept decoded from compile to write.
//!
//! A compiler hands over its mappings with generated columns in UTF-16 code
//! units (what browsers count). Placeholder substitution then changes the
//! length of some strings on a line, and [`Map::apply`] moves every later
//! mapping on that line by the same amount, so the map stays exact. Only
//! when the output's place is known are `sources` made relative to the map
//! and the map encoded (by `swc_sourcemap`, which swc already builds with).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use swc_sourcemap::RawToken;

/// A decoded source map. `sources` are logical names (relative to the
/// source root, with `/`).
#[derive(Debug, Clone, Default)]
pub struct Map {
    /// Sorted by generated line, then column.
    pub tokens: Vec<RawToken>,
    pub sources: Vec<String>,
    pub contents: Vec<Option<Arc<str>>>,
    pub names: Vec<String>,
}

/// One replacement in generated text: on `line`, the `old_len` UTF-16
/// units from `col` became `new_len` units. Replacements never span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edit {
    pub line: u32,
    pub col: u32,
    pub old_len: u32,
    pub new_len: u32,
}

/// Where the writer is in generated text, in lines and UTF-16 columns.
#[derive(Debug, Clone, Copy, Default)]
struct Cursor {
    line: u32,
    col: u32,
}

impl Cursor {
    fn advance(&mut self, s: &str) {
        match s.rfind('\n') {
            Some(i) => {
                self.line += u32::try_from(s.matches('\n').count()).unwrap_or(u32::MAX);
                self.col = utf16_len(&s[i + 1..]);
            }
            None => self.col += utf16_len(s),
        }
    }
}

fn utf16_len(s: &str) -> u32 {
    if s.is_ascii() {
        u32::try_from(s.len()).unwrap_or(u32::MAX)
    } else {
        u32::try_from(s.encode_utf16().count()).unwrap_or(u32::MAX)
    }
}

/// Replaces the byte ranges of `code` given by `spans` (sorted, disjoint,
/// each on one line) with their new text, and records each change.
pub fn splice(code: &str, spans: Vec<(usize, usize, String)>) -> (String, Vec<Edit>) {
    let mut out = String::with_capacity(code.len() + spans.len() * 32);
    let mut edits = Vec::with_capacity(spans.len());
    let mut at = Cursor::default();
    let mut done = 0;
    for (start, end, text) in spans {
        let before = &code[done..start];
        at.advance(before);
        out.push_str(before);
        let old_len = utf16_len(&code[start..end]);
        let new_len = utf16_len(&text);
        edits.push(Edit {
            line: at.line,
            col: at.col,
            old_len,
            new_len,
        });
        out.push_str(&text);
        at.col += old_len;
        done = end;
    }
    out.push_str(&code[done..]);
    (out, edits)
}

impl Map {
    /// Takes swc's map of one file; `logical` names its sources.
    pub fn from_swc(sm: &swc_sourcemap::SourceMap, logical: &dyn Fn(&str) -> String) -> Map {
        Map {
            tokens: sm.tokens().map(|t| t.get_raw_token()).collect(),
            sources: sm.sources().map(|s| logical(s)).collect(),
            contents: sm
                .source_contents()
                .map(|c| c.map(|c| Arc::from(&**c)))
                .collect(),
            names: sm.names().map(ToString::to_string).collect(),
        }
    }

    /// Joins maps of pieces of one output, each starting on the given line
    /// (and column 0); sources and names are merged by name.
    pub fn concat(parts: Vec<(u32, Map)>) -> Map {
        let mut out = Map::default();
        out.tokens
            .reserve(parts.iter().map(|(_, p)| p.tokens.len()).sum());
        let mut source_ids: std::collections::HashMap<String, u32> =
            std::collections::HashMap::new();
        let mut name_ids: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        for (line, part) in parts {
            let srcs: Vec<u32> = part
                .sources
                .iter()
                .zip(
                    part.contents
                        .iter()
                        .map(Some)
                        .chain(std::iter::repeat(None)),
                )
                .map(|(s, c)| {
                    *source_ids.entry(s.clone()).or_insert_with(|| {
                        out.sources.push(s.clone());
                        out.contents.push(c.cloned().flatten());
                        u32::try_from(out.sources.len() - 1).unwrap_or(u32::MAX)
                    })
                })
                .collect();
            let names: Vec<u32> = part
                .names
                .iter()
                .map(|n| {
                    *name_ids.entry(n.clone()).or_insert_with(|| {
                        out.names.push(n.clone());
                        u32::try_from(out.names.len() - 1).unwrap_or(u32::MAX)
                    })
                })
                .collect();
            for mut t in part.tokens {
                t.dst_line += line;
                if let Some(&s) = srcs.get(t.src_id as usize) {
                    t.src_id = s;
                }
                if t.name_id != !0 {
                    t.name_id = names.get(t.name_id as usize).copied().unwrap_or(!0);
                }
                out.tokens.push(t);
            }
        }
        out
    }

    /// The map of a transformation applied to already mapped text: `self`
    /// maps the new text to the old one, `old` maps the old text to the
    /// sources. Each new position takes the source of the nearest old
    /// mapping at or before the old position it came from.
    #[must_use]
    pub fn compose(self, old: &Map) -> Map {
        let mut out = Map {
            tokens: Vec::with_capacity(self.tokens.len()),
            sources: old.sources.clone(),
            contents: old.contents.clone(),
            names: old.names.clone(),
        };
        // Old tokens by line, for lookups.
        let mut line_start: Vec<usize> = Vec::new();
        for (i, t) in old.tokens.iter().enumerate() {
            while line_start.len() <= t.dst_line as usize {
                line_start.push(i);
            }
        }
        line_start.push(old.tokens.len());
        for t in &self.tokens {
            if t.src_id == !0 {
                continue;
            }
            let line = t.src_line as usize;
            let (Some(&from), Some(&to)) = (line_start.get(line), line_start.get(line + 1)) else {
                continue;
            };
            let on_line = &old.tokens[from..to];
            let k = on_line.partition_point(|o| o.dst_col <= t.src_col);
            let Some(o) = k.checked_sub(1).and_then(|k| on_line.get(k)) else {
                continue;
            };
            if o.src_id == !0 {
                continue;
            }
            let mut n = *o;
            n.dst_line = t.dst_line;
            n.dst_col = t.dst_col;
            out.tokens.push(n);
        }
        out
    }

    /// Moves every mapping `n` lines down (for text put before the code).
    /// Orders `sources` by first use in the generated text (unused ones
    /// last, by name), whatever order a compiler met them in: lightningcss
    /// loads `@import`s in parallel and numbers files as they arrive.
    pub fn canonical_sources(&mut self) {
        let n = self.sources.len();
        let mut order: Vec<usize> = Vec::with_capacity(n);
        let mut seen = vec![false; n];
        for t in &self.tokens {
            let i = t.src_id as usize;
            if i < n && !seen[i] {
                seen[i] = true;
                order.push(i);
            }
        }
        let mut unused: Vec<usize> = (0..n).filter(|&i| !seen[i]).collect();
        unused.sort_by(|&a, &b| self.sources[a].cmp(&self.sources[b]));
        order.extend(unused);
        let mut new_id = vec![0u32; n];
        for (new, &old) in order.iter().enumerate() {
            new_id[old] = u32::try_from(new).unwrap_or(u32::MAX);
        }
        for t in &mut self.tokens {
            if let Some(&id) = new_id.get(t.src_id as usize) {
                t.src_id = id;
            }
        }
        self.sources = order.iter().map(|&i| self.sources[i].clone()).collect();
        self.contents = order
            .iter()
            .map(|&i| self.contents.get(i).cloned().flatten())
            .collect();
    }

    pub fn offset_lines(&mut self, n: u32) {
        for t in &mut self.tokens {
            t.dst_line += n;
        }
    }

    /// Makes generated columns count UTF-16 units instead of bytes, on the
    /// lines of `code` that are not ASCII (lightningcss counts bytes).
    pub fn columns_to_utf16(&mut self, code: &str) {
        let lines: Vec<&str> = code.split('\n').collect();
        for t in &mut self.tokens {
            let Some(line) = lines.get(t.dst_line as usize) else {
                continue;
            };
            if line.is_ascii() {
                continue;
            }
            let byte = (t.dst_col as usize).min(line.len());
            let mut b = byte;
            while !line.is_char_boundary(b) {
                b -= 1;
            }
            t.dst_col = utf16_len(&line[..b]);
        }
    }

    /// Shifts mappings after each edit on its line by the edit's change in
    /// length. Mappings inside a replaced range stay at its start.
    pub fn apply(&mut self, edits: &[Edit]) {
        if edits.is_empty() {
            return;
        }
        let mut e = 0;
        let mut line = u32::MAX;
        let mut shift: i64 = 0;
        for t in &mut self.tokens {
            if t.dst_line != line {
                line = t.dst_line;
                shift = 0;
                while e < edits.len() && edits[e].line < line {
                    e += 1;
                }
            }
            // Every edit of this line that ends at or before the token.
            while e < edits.len()
                && edits[e].line == line
                && edits[e].col + edits[e].old_len <= t.dst_col
            {
                shift += i64::from(edits[e].new_len) - i64::from(edits[e].old_len);
                e += 1;
            }
            // Inside a replaced range: at its start.
            let col = match edits.get(e) {
                Some(edit) if edit.line == line && edit.col < t.dst_col => {
                    i64::from(edit.col) + shift
                }
                _ => i64::from(t.dst_col) + shift,
            };
            t.dst_col = u32::try_from(col.max(0)).unwrap_or(u32::MAX);
        }
    }

    /// Encodes the map. `source_url` turns a logical name into the URL
    /// written in `sources`.
    pub fn to_json(&self, source_url: &dyn Fn(&str) -> String, sources_content: bool) -> Vec<u8> {
        // Written directly (not through a map builder): a bundle's map has
        // millions of tokens, and every copy of them is memory touched.
        fn json_str(out: &mut String, s: &str) {
            out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
        }
        let mut out = String::with_capacity(self.tokens.len() * 6 + 256);
        out.push_str("{\"version\":3,\"sources\":[");
        for (i, s) in self.sources.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_str(&mut out, &source_url(s));
        }
        out.push(']');
        if sources_content {
            out.push_str(",\"sourcesContent\":[");
            for i in 0..self.sources.len() {
                if i > 0 {
                    out.push(',');
                }
                match self.contents.get(i).cloned().flatten() {
                    Some(c) => json_str(&mut out, &c),
                    None => out.push_str("null"),
                }
            }
            out.push(']');
        }
        out.push_str(",\"names\":[");
        for (i, n) in self.names.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_str(&mut out, n);
        }
        out.push_str("],\"mappings\":\"");
        encode_mappings(&mut out, &self.tokens);
        out.push_str("\"}");
        out.into_bytes()
    }
}

/// The `mappings` string: base64 VLQ, one `;` per generated line, fields
/// relative to the previous segment (the column to the previous one on the
/// same line).
fn encode_mappings(out: &mut String, tokens: &[RawToken]) {
    fn vlq(out: &mut String, value: i64) {
        const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut v = if value < 0 {
            ((-value) << 1) | 1
        } else {
            value << 1
        };
        loop {
            let mut digit = v & 31;
            v >>= 5;
            if v > 0 {
                digit |= 32;
            }
            out.push(B64[usize::try_from(digit).unwrap_or(0)] as char);
            if v == 0 {
                break;
            }
        }
    }
    let (mut line, mut col, mut src, mut src_line, mut src_col, mut name) =
        (0u32, 0i64, 0i64, 0i64, 0i64, 0i64);
    let mut first_on_line = true;
    for t in tokens {
        while line < t.dst_line {
            out.push(';');
            line += 1;
            col = 0;
            first_on_line = true;
        }
        if !first_on_line {
            out.push(',');
        }
        first_on_line = false;
        vlq(out, i64::from(t.dst_col) - col);
        col = i64::from(t.dst_col);
        if t.src_id != !0 {
            vlq(out, i64::from(t.src_id) - src);
            src = i64::from(t.src_id);
            vlq(out, i64::from(t.src_line) - src_line);
            src_line = i64::from(t.src_line);
            vlq(out, i64::from(t.src_col) - src_col);
            src_col = i64::from(t.src_col);
            if t.name_id != !0 {
                vlq(out, i64::from(t.name_id) - name);
                name = i64::from(t.name_id);
            }
        }
    }
}

/// How a map names its sources: relative to the map's own directory when
/// the source root and the out dir both sit in the project directory (so
/// the path is the same on every checkout), else as `prebake:///` plus the
/// logical name (an absolute path would leak the machine's layout).
pub struct SourceUrls {
    /// From the out dir up to the source root, `None` for the fallback.
    out_to_root: Option<String>,
}

impl SourceUrls {
    pub fn new(project: &Path, root: &Path, out: &Path) -> SourceUrls {
        let (project, root, out) = (real(project), real(root), real(out));
        let out_to_root = match (root.strip_prefix(&project), out.strip_prefix(&project)) {
            (Ok(r), Ok(o)) => {
                let mut url = "../".repeat(o.components().count());
                for c in r.components() {
                    url.push_str(&c.as_os_str().to_string_lossy());
                    url.push('/');
                }
                Some(url)
            }
            _ => None,
        };
        SourceUrls { out_to_root }
    }

    /// URL of source `logical` in a map written at `map` (relative to the
    /// out dir).
    pub fn url(&self, map: &str, logical: &str) -> String {
        match &self.out_to_root {
            Some(prefix) => {
                let depth = map.matches('/').count();
                let path = format!("{}{prefix}{logical}", "../".repeat(depth));
                crate::manifest::encode_path(&path)
            }
            None => format!("prebake:///{}", crate::manifest::encode_path(logical)),
        }
    }
}

/// `path` with symlinks resolved as far as it exists (the out dir may not
/// exist yet), and `.` and `..` resolved lexically after that.
fn real(path: &Path) -> PathBuf {
    let path = normal(path);
    let mut existing = path.as_path();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            let rest = path.strip_prefix(existing).unwrap_or(Path::new(""));
            return canonical.join(rest);
        }
        match existing.parent() {
            Some(parent) => existing = parent,
            None => return path,
        }
    }
}

/// `path` with `.` and `..` resolved lexically.
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// The comment that links an output to its map, for JS or CSS.
pub fn link_comment(css: bool, url: &str) -> String {
    if css {
        format!("/*# sourceMappingURL={url} */\n")
    } else {
        format!("//# sourceMappingURL={url}\n")
    }
}

/// `data:` URL of an encoded map, for inline maps.
pub fn data_url(json: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "data:application/json;charset=utf-8;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(json)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(dst_line: u32, dst_col: u32) -> RawToken {
        RawToken {
            dst_line,
            dst_col,
            src_line: 0,
            src_col: 0,
            src_id: 0,
            name_id: !0,
            is_range: false,
        }
    }

    #[test]
    fn edits_shift_later_mappings_on_their_line_only() {
        let code = "a(\"P1\");b(\"P2\")\nc(\"P3\")";
        let spans = vec![
            (3, 5, "long-name.js".to_string()),
            (11, 13, "x".to_string()),
            (19, 21, "yy".to_string()),
        ];
        let (out, edits) = splice(code, spans);
        assert_eq!(out, "a(\"long-name.js\");b(\"x\")\nc(\"yy\")");
        let mut map = Map {
            tokens: vec![tok(0, 0), tok(0, 8), tok(0, 9), tok(1, 0), tok(1, 2)],
            sources: vec!["a.js".into()],
            contents: vec![None],
            names: Vec::new(),
        };
        map.apply(&edits);
        let cols: Vec<(u32, u32)> = map.tokens.iter().map(|t| (t.dst_line, t.dst_col)).collect();
        // `;` moved from 7 to 17, `b` from 8 to 18; line 2 starts fresh.
        assert_eq!(cols, vec![(0, 0), (0, 18), (0, 19), (1, 0), (1, 2)]);
        assert_eq!(&out[18..19], "b");
    }

    #[test]
    fn columns_count_utf16_units() {
        let code = "a{content:\"é😀\"}b{}";
        let mut map = Map {
            tokens: vec![tok(0, 19)],
            ..Map::default()
        };
        // `b` is byte 19 (é is 2 bytes, 😀 4) but UTF-16 unit 16 (é is
        // one unit, 😀 two).
        map.columns_to_utf16(code);
        assert_eq!(map.tokens[0].dst_col, 16);
    }

    #[test]
    fn sources_are_relative_to_the_map_inside_the_project() {
        let urls = SourceUrls::new(
            Path::new("/p"),
            Path::new("/p/assets"),
            Path::new("/p/public/assets"),
        );
        assert_eq!(
            urls.url("js/app-1.js.map", "js/app.ts"),
            "../../../assets/js/app.ts"
        );
        assert_eq!(urls.url("app-1.js.map", "a b.ts"), "../../assets/a%20b.ts");
        let outside = SourceUrls::new(
            Path::new("/p"),
            Path::new("/p/assets"),
            Path::new("/srv/out"),
        );
        assert_eq!(outside.url("app-1.js.map", "app.ts"), "prebake:///app.ts");
    }

    #[test]
    fn concatenated_maps_encode_and_decode_to_the_same_tokens() {
        type Decoded = (u32, u32, u32, u32, Option<String>, Option<String>);
        let raw = |dst_line, dst_col, src_line, src_col, src_id, name_id| RawToken {
            dst_line,
            dst_col,
            src_line,
            src_col,
            src_id,
            name_id,
            is_range: false,
        };
        let a = Map {
            tokens: vec![
                raw(0, 0, 0, 0, 0, !0),
                raw(0, 9, 2, 4, 0, 0),
                raw(1, 3, 7, 1, 0, !0),
            ],
            sources: vec!["a.ts".into()],
            contents: vec![Some(Arc::from("let a = \"é\";"))],
            names: vec!["alpha".into()],
        };
        let b = Map {
            tokens: vec![
                raw(0, 2, 40, 12, 0, 1),
                raw(0, 30, 1, 0, 1, 0),
                raw(0, 31, 0, 0, !0, !0),
            ],
            sources: vec!["b.ts".into(), "a.ts".into()],
            contents: vec![None, Some(Arc::from("let a = \"é\";"))],
            names: vec!["beta".into(), "alpha".into()],
        };
        let map = Map::concat(vec![(0, a), (5, b)]);
        assert_eq!(map.sources, ["a.ts", "b.ts"]);
        assert_eq!(map.names, ["alpha", "beta"]);
        let json = map.to_json(&|s| s.to_string(), true);
        let back = swc_sourcemap::SourceMap::from_slice(&json).unwrap();
        let tokens: Vec<Decoded> = back
            .tokens()
            .map(|t| {
                (
                    t.get_dst_line(),
                    t.get_dst_col(),
                    t.get_src_line(),
                    t.get_src_col(),
                    t.get_source().map(ToString::to_string),
                    t.get_name().map(ToString::to_string),
                )
            })
            .collect();
        assert_eq!(
            tokens,
            [
                (0, 0, 0, 0, Some("a.ts".into()), None),
                (0, 9, 2, 4, Some("a.ts".into()), Some("alpha".into())),
                (1, 3, 7, 1, Some("a.ts".into()), None),
                (5, 2, 40, 12, Some("b.ts".into()), Some("alpha".into())),
                (5, 30, 1, 0, Some("a.ts".into()), Some("beta".into())),
                (5, 31, !0, !0, None, None),
            ]
        );
        assert_eq!(
            back.get_source_contents(0).map(ToString::to_string),
            Some("let a = \"é\";".into())
        );
        assert!(back.get_source_contents(1).is_none());
    }
}
