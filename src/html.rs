//! HTML pages: every asset reference follows the fingerprints.
//!
//! In: the text of one page. Out: the page with a placeholder for each
//! local reference, the references to resolve, and diagnostics. Pages are
//! rewritten by `lol_html`'s streaming tokenizer, never with regular
//! expressions, and keep their names: they are the entry points a browser
//! asks for by a stable URL.
//!
//! Rewritten: `<script src>`, `<link href>` for stylesheets, icons,
//! preloads, module preloads and web app manifests (and `imagesrcset`),
//! `<img src/srcset>`, `<source src/srcset>`, `<video src/poster>`,
//! `<audio src>`, `<track src>`, `<input type=image src>`, and the
//! `url()`s of `<style>` elements and `style=""` attributes (compiled like
//! any stylesheet), and the module URLs of an import map. Scripts, stylesheets and module preloads of local files
//! get `integrity` and, unless the page sets one, `crossorigin="anonymous"`
//! (SRI needs a CORS request).
//!
//! A placeholder says how its URL must be escaped where it stands (its
//! [`Context`]: an attribute, a `srcset` candidate, a CSS string in
//! `<style>` or in a `style` attribute, a JSON string in an import map);
//! another stands for the integrity of a reference's target. Their formats
//! are in [`crate::placeholder`]; the escaping is here ([`substitute`]).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use lol_html::errors::RewritingError;
use lol_html::html_content::{ContentType, DocumentEnd, Element, TextChunk};
use lol_html::{HtmlRewriter, Settings, element, end, text};

use crate::css::{self, CssOptions};
use crate::diagnostics::{Category, Diagnostic, Label};
use crate::placeholder::{self, Context};
use crate::refs::{self, Reference, Target};

/// A compiled page.
pub struct HtmlOutput {
    pub code: String,
    pub refs: Vec<Reference>,
    pub warnings: Vec<Diagnostic>,
}

/// Link relations whose `href` is an asset of the page.
const ASSET_RELS: &[&str] = &[
    "stylesheet",
    "icon",
    "shortcut",
    "apple-touch-icon",
    "apple-touch-icon-precomposed",
    "mask-icon",
    "preload",
    "modulepreload",
    "prefetch",
    "manifest",
];

struct State<'a> {
    /// Logical name, which references resolve against.
    logical: &'a str,
    /// Path shown in messages.
    shown: &'a str,
    html: &'a str,
    css: &'a CssOptions,
    refs: Vec<Reference>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    /// Text of the `<style>` or import map element being read, and where
    /// it started.
    style: String,
    style_start: Option<usize>,
    /// Ends every placeholder ([`placeholder::tag`]).
    tag: String,
}

impl State<'_> {
    /// The placeholder for `url`, written at byte `offset` of the page, or
    /// `None` when the URL is external and stays as written.
    fn take(&mut self, url: &str, offset: usize, context: Context) -> Option<String> {
        if is_external(url, self.logical) {
            return None;
        }
        let placeholder = placeholder::page_url(context, self.refs.len(), &self.tag);
        self.push(url.to_string(), placeholder.clone(), offset);
        Some(placeholder)
    }

    fn push(&mut self, url: String, placeholder: String, offset: usize) {
        let (line, column) = crate::diagnostics::line_col_utf16(self.html, offset);
        self.refs.push(Reference {
            url,
            placeholder,
            line,
            column,
            from: self.logical.to_string(),
        });
    }

    /// Inline CSS problems at 1-based line and column of a text starting
    /// at byte `base` (css chose code, severity and text); `errors` when
    /// the text failed, to go with the page's errors.
    fn css_problems(&mut self, problems: Vec<css::InlineProblem>, base: usize, errors: bool) {
        for (d, line, column) in problems {
            let offset = offset_in(self.html, base, line, column);
            let d = d.with_label(Label::new(
                self.shown,
                Arc::from(self.html),
                offset..offset + 1,
            ));
            if errors {
                self.errors.push(d);
            } else {
                self.warnings.push(d);
            }
        }
    }
}

/// Byte offset in `html` of 1-based `line` and UTF-16 `column` of a text
/// that starts at byte `base` of `html`.
fn offset_in(html: &str, base: usize, line: usize, column: usize) -> usize {
    let base = base.min(html.len());
    base + crate::diagnostics::offset_of_utf16(html.get(base..).unwrap_or(""), line, column)
}

/// URLs that stay as written: `https:`, `//cdn`, `data:`, `#frag`.
fn is_external(url: &str, logical: &str) -> bool {
    matches!(refs::resolve(url, logical, &|_| true), Ok(Target::External))
}

/// Compiles the page `name` (its logical name; `shown` in messages).
pub fn compile(
    name: &str,
    shown: &str,
    html: &str,
    css: &CssOptions,
) -> Result<HtmlOutput, Vec<Diagnostic>> {
    compile_with(name, shown, html, css, &[])
}

/// What a page's entry scripts load besides themselves, for the page to
/// start fetching at once: `<link rel="modulepreload">` for each chunk a
/// module script imports statically, `<link rel="stylesheet">` for each
/// stylesheet its imports produced. `url` is relative to the page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Inject {
    pub rel: &'static str,
    pub url: String,
}

/// Compiles a page and adds `inject`'s tags, with integrity, at the end of
/// its `<head>` (after the page's own stylesheets, which the entry's may
/// override), or before `<body>`, or before the first script, when the page
/// has no `<head>` tag.
pub fn compile_with(
    name: &str,
    shown: &str,
    html: &str,
    css: &CssOptions,
    inject: &[Inject],
) -> Result<HtmlOutput, Vec<Diagnostic>> {
    let page = Rewrite {
        state: RefCell::new(State {
            logical: name,
            shown,
            html,
            css,
            refs: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            style: String::new(),
            style_start: None,
            tag: placeholder::tag(html),
        }),
        inject,
        injected: std::rc::Rc::new(std::cell::Cell::new(inject.is_empty())),
        head: std::cell::Cell::new(false),
        tags: RefCell::new(None),
    };
    let result = rewrite(&page, html);
    finish(result, page.state.into_inner(), shown)
}

/// What the handlers of one page's rewrite share.
struct Rewrite<'a> {
    state: RefCell<State<'a>>,
    /// The tags to add to the page.
    inject: &'a [Inject],
    /// `inject`'s tags are in (or there are none).
    injected: std::rc::Rc<std::cell::Cell<bool>>,
    /// A `<head>` start tag was seen: its end takes the tags.
    head: std::cell::Cell<bool>,
    /// The tags, made once (their placeholders are references of the page).
    tags: RefCell<Option<std::rc::Rc<str>>>,
}

impl Rewrite<'_> {
    /// Replaces the URL (or each URL of a `srcset`) of `attribute` with its
    /// placeholder; whether any was replaced (external URLs are not).
    fn attr(&self, el: &mut Element<'_, '_>, attribute: &str, context: Context) -> bool {
        let Some((value, offset)) = attribute_of(el, attribute) else {
            return false;
        };
        let mut s = self.state.borrow_mut();
        let taken = if context == Context::SrcSet {
            let mut changed = false;
            let mut new = String::with_capacity(value.len());
            let mut done = 0;
            for (start, end) in srcset_urls(&value) {
                new.push_str(&value[done..start]);
                // (Exact unless a character reference comes first.)
                match s.take(&value[start..end], offset + start, context) {
                    Some(p) => {
                        new.push_str(&p);
                        changed = true;
                    }
                    None => new.push_str(&value[start..end]),
                }
                done = end;
            }
            new.push_str(&value[done..]);
            changed.then_some(new)
        } else {
            s.take(value.trim(), offset, context)
        };
        drop(s);
        match taken {
            Some(v) => {
                // Attribute values are written with their character
                // references; lol_html quotes them with `"`.
                let _ = el.set_attribute(attribute, &escape_attribute(&v));
                true
            }
            None => false,
        }
    }

    /// `inject`'s tags, their references taken at byte `offset` of the
    /// page the first time.
    fn tags_at(&self, offset: usize) -> std::rc::Rc<str> {
        use std::fmt::Write as _;
        if let Some(t) = self.tags.borrow().as_ref() {
            return t.clone();
        }
        let mut s = self.state.borrow_mut();
        let mut html = String::new();
        for i in self.inject {
            let Some(p) = s.take(&i.url, offset, Context::Attribute) else {
                continue;
            };
            let sri = placeholder::page_sri(&p).unwrap_or_default();
            let _ = write!(
                html,
                "<link rel=\"{}\" href=\"{p}\" integrity=\"{sri}\" crossorigin=\"anonymous\">",
                i.rel
            );
        }
        let t: std::rc::Rc<str> = html.into();
        *self.tags.borrow_mut() = Some(t.clone());
        t
    }

    /// The tags before `el`, unless they are in already.
    fn inject_before(&self, el: &mut Element<'_, '_>) {
        if !self.injected.get() {
            let html = self.tags_at(el.source_location().bytes().start);
            el.before(&html, ContentType::Html);
            self.injected.set(true);
        }
    }

    /// The first `<head>`: the tags go before its end tag.
    fn head(&self, el: &mut Element<'_, '_>) {
        if !self.injected.get() && !self.head.replace(true) {
            let html = self.tags_at(el.source_location().bytes().start);
            let done = self.injected.clone();
            // An implied end (no `</head>`) never calls this:
            // `<body>` or the first script takes the tags.
            let handler: lol_html::EndTagHandler<'static> = Box::new(move |end| {
                if !done.get() {
                    end.before(&html, ContentType::Html);
                    done.set(true);
                }
                Ok(())
            });
            let _ = el.on_end_tag(handler);
        }
    }

    /// `<script src>`: the tags before it when the page has no `<head>`,
    /// then its URL and integrity.
    fn script(&self, el: &mut Element<'_, '_>) {
        if !self.head.get() {
            self.inject_before(el);
        }
        if self.attr(el, "src", Context::Attribute) {
            integrity(el, "src");
        }
    }

    /// `<link>` to an asset: its URLs, and integrity for what runs or
    /// styles the page.
    fn link(&self, el: &mut Element<'_, '_>) {
        let rel = el
            .get_attribute("rel")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let rels: Vec<&str> = rel.split_ascii_whitespace().collect();
        if !rels.iter().any(|r| ASSET_RELS.contains(r)) {
            return;
        }
        let as_ = el
            .get_attribute("as")
            .unwrap_or_default()
            .to_ascii_lowercase();
        if self.attr(el, "href", Context::Attribute)
            && (rels.contains(&"stylesheet")
                || rels.contains(&"modulepreload")
                || (rels.contains(&"preload") && matches!(as_.as_str(), "script" | "style")))
        {
            integrity(el, "href");
        }
        self.attr(el, "imagesrcset", Context::SrcSet);
    }

    /// The end of a page whose tags no `<head>` end, `<body>` or script
    /// took: they go last (`len` is the page's length).
    fn end(&self, end: &mut DocumentEnd<'_>, len: usize) {
        if !self.injected.get() {
            let html = self.tags_at(len);
            end.append(&html, ContentType::Html);
            self.injected.set(true);
        }
    }
}

/// `integrity` (and `crossorigin`, unless set) for the placeholder in
/// `attribute`, if it has one.
fn integrity(el: &mut Element<'_, '_>, attribute: &str) {
    let Some(value) = el.get_attribute(attribute) else {
        return;
    };
    let Some(sri) = placeholder::page_sri(&value) else {
        return;
    };
    let _ = el.set_attribute("integrity", &sri);
    if !el.has_attribute("crossorigin") {
        let _ = el.set_attribute("crossorigin", "anonymous");
    }
}

/// Streams `html` through `lol_html` with `page`'s handlers: the rewritten
/// page, or why it could not be rewritten.
fn rewrite(page: &Rewrite<'_>, html: &str) -> Result<Vec<u8>, RewritingError> {
    let mut out = Vec::with_capacity(html.len() + 256);
    let mut rewriter = HtmlRewriter::new(
        Settings {
            element_content_handlers: vec![
                element!("head", |el| {
                    page.head(el);
                    Ok(())
                }),
                element!("body", |el| {
                    page.inject_before(el);
                    Ok(())
                }),
                element!("script[src]", |el| {
                    page.script(el);
                    Ok(())
                }),
                element!("link", |el| {
                    page.link(el);
                    Ok(())
                }),
                element!("img, source", |el| {
                    page.attr(el, "src", Context::Attribute);
                    page.attr(el, "srcset", Context::SrcSet);
                    Ok(())
                }),
                element!("video", |el| {
                    page.attr(el, "src", Context::Attribute);
                    page.attr(el, "poster", Context::Attribute);
                    Ok(())
                }),
                element!("audio[src], track[src], input[type=image][src]", |el| {
                    page.attr(el, "src", Context::Attribute);
                    Ok(())
                }),
                element!("[style]", |el| {
                    style_attribute(el, &page.state);
                    Ok(())
                }),
                text!("style", |t| {
                    style_text(t, &page.state);
                    Ok(())
                }),
                text!("script[type=importmap]", |t| {
                    import_map(t, &page.state);
                    Ok(())
                }),
            ],
            document_content_handlers: vec![end!(|end| {
                page.end(end, html.len());
                Ok(())
            })],
            ..Settings::new()
        },
        |c: &[u8]| out.extend_from_slice(c),
    );
    rewriter
        .write(html.as_bytes())
        .and_then(|()| rewriter.end())?;
    Ok(out)
}

/// The compiled page, or the rewrite's error, or the errors the handlers
/// collected.
fn finish(
    result: Result<Vec<u8>, RewritingError>,
    state: State<'_>,
    shown: &str,
) -> Result<HtmlOutput, Vec<Diagnostic>> {
    let out = match result {
        Ok(out) => out,
        Err(e) => {
            return Err(vec![
                Diagnostic::error(
                    "HTML_REWRITE",
                    Category::Input,
                    format!("cannot rewrite: {e}"),
                )
                .with_file(shown),
            ]);
        }
    };
    if !state.errors.is_empty() {
        return Err(state.errors);
    }
    let code = String::from_utf8(out).map_err(|_| {
        vec![
            Diagnostic::error(
                "HTML_REWRITE",
                Category::Internal,
                "the rewriter produced invalid UTF-8",
            )
            .with_file(shown),
        ]
    })?;
    Ok(HtmlOutput {
        code,
        refs: state.refs,
        warnings: state.warnings,
    })
}

/// How a page loads a file it references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loaded {
    /// `<script type="module" src>`.
    ModuleScript,
    /// `<script src>` without a module type: run as a classic script.
    ClassicScript,
    /// `<link rel="stylesheet" href>`.
    Stylesheet,
    /// Any other asset reference (`<img src>`, `<link rel="icon">`, …).
    Asset,
}

/// A reference a page makes, as written (entities decoded), and where.
#[derive(Debug, Clone)]
pub struct PageRef {
    pub url: String,
    pub loaded: Loaded,
    /// Byte offset of the value in the page.
    pub offset: usize,
}

/// What the pipeline needs of a page before anything is compiled: what it
/// loads (to find entry points), and whether it has an import map (its
/// module scripts then resolve bare imports at run time, unbundled).
#[derive(Debug, Clone, Default)]
pub struct PageScan {
    pub refs: Vec<PageRef>,
    /// The specifiers an import map maps (`imports` and every scope's).
    pub import_map: Option<std::collections::BTreeSet<String>>,
}

/// Lists what a page references, without rewriting it. A page that cannot
/// be tokenized gives what was read; compiling it reports the error.
pub fn scan(html: &str) -> PageScan {
    let found = RefCell::new(PageScan::default());
    let map_text = RefCell::new(String::new());
    let push = |el: &Element<'_, '_>, attribute: &str, loaded: Loaded| {
        if let Some((url, offset)) = attribute_of(el, attribute) {
            found.borrow_mut().refs.push(PageRef {
                url: url.trim().to_string(),
                loaded,
                offset,
            });
        }
    };
    let mut rewriter = HtmlRewriter::new(
        Settings {
            element_content_handlers: vec![
                element!("script[src]", |el| {
                    let kind = el
                        .get_attribute("type")
                        .unwrap_or_default()
                        .trim()
                        .to_ascii_lowercase();
                    let loaded = match kind.as_str() {
                        "module" => Some(Loaded::ModuleScript),
                        // The HTML standard's JavaScript MIME types.
                        ""
                        | "text/javascript"
                        | "application/javascript"
                        | "application/ecmascript"
                        | "text/ecmascript"
                        | "text/jscript" => Some(Loaded::ClassicScript),
                        _ => None,
                    };
                    if let Some(loaded) = loaded {
                        push(el, "src", loaded);
                    }
                    Ok(())
                }),
                element!("link[href]", |el| {
                    let rel = el
                        .get_attribute("rel")
                        .unwrap_or_default()
                        .to_ascii_lowercase();
                    let rels: Vec<&str> = rel.split_ascii_whitespace().collect();
                    if rels.contains(&"stylesheet") {
                        push(el, "href", Loaded::Stylesheet);
                    } else if rels.iter().any(|r| ASSET_RELS.contains(r)) {
                        push(el, "href", Loaded::Asset);
                    }
                    Ok(())
                }),
                element!(
                    "img[src], source[src], video[src], video[poster], audio[src], track[src], input[type=image][src]",
                    |el| {
                        push(el, "src", Loaded::Asset);
                        push(el, "poster", Loaded::Asset);
                        Ok(())
                    }
                ),
                text!("script[type=importmap]", |t| {
                    map_text.borrow_mut().push_str(t.as_str());
                    if t.last_in_text_node() {
                        let text = std::mem::take(&mut *map_text.borrow_mut());
                        let mut keys = std::collections::BTreeSet::new();
                        if let Ok(map) = serde_json::from_str::<serde_json::Value>(&text) {
                            let mut add = |v: Option<&serde_json::Value>| {
                                if let Some(serde_json::Value::Object(o)) = v {
                                    keys.extend(o.keys().cloned());
                                }
                            };
                            add(map.get("imports"));
                            if let Some(serde_json::Value::Object(scopes)) = map.get("scopes") {
                                for scope in scopes.values() {
                                    add(Some(scope));
                                }
                            }
                        }
                        found
                            .borrow_mut()
                            .import_map
                            .get_or_insert_with(Default::default)
                            .extend(keys);
                    }
                    Ok(())
                }),
            ],
            ..Settings::new()
        },
        |_: &[u8]| {},
    );
    let _ = rewriter
        .write(html.as_bytes())
        .and_then(|()| rewriter.end());
    found.into_inner()
}

/// The decoded value of `attribute` and the byte offset of its value in
/// the page.
fn attribute_of(el: &Element<'_, '_>, attribute: &str) -> Option<(String, usize)> {
    let a = el
        .attributes()
        .iter()
        .find(|a| a.name().eq_ignore_ascii_case(attribute))?;
    let offset = a
        .value_source_location()
        .map_or(el.source_location().bytes().start, |l| l.bytes().start);
    Some((
        html_escape::decode_html_entities(&a.value()).into_owned(),
        offset,
    ))
}

/// Byte ranges of the URLs of a `srcset` (WHATWG "parse a srcset
/// attribute": a candidate's URL is a run of non-space characters, with
/// trailing commas cut; its descriptors run to the next comma).
fn srcset_urls(value: &str) -> Vec<(usize, usize)> {
    let b = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut end = i;
        while end > start && b[end - 1] == b',' {
            end -= 1;
        }
        if end > start {
            out.push((start, end));
        }
        if end < i {
            // The URL ended in commas: no descriptors.
            continue;
        }
        // Descriptors, up to a comma outside parentheses.
        let mut depth = 0usize;
        while i < b.len() {
            match b[i] {
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                b',' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
    }
    out
}

/// `style=""`: compiled as declarations, with placeholders for its URLs.
fn style_attribute(el: &mut Element<'_, '_>, state: &RefCell<State<'_>>) {
    let Some((value, offset)) = attribute_of(el, "style") else {
        return;
    };
    let mut s = state.borrow_mut();
    let Some(code) = inline_css(&mut s, &value, offset, Context::StyleAttribute) else {
        return;
    };
    drop(s);
    let _ = el.set_attribute("style", &escape_attribute(&code));
}

/// `<style>` text, gathered over its chunks and compiled as a stylesheet.
fn style_text(t: &mut TextChunk<'_>, state: &RefCell<State<'_>>) {
    let mut s = state.borrow_mut();
    if s.style_start.is_none() {
        s.style_start = Some(t.source_location().bytes().start);
    }
    s.style.push_str(t.as_str());
    if !t.last_in_text_node() {
        t.remove();
        return;
    }
    let text = std::mem::take(&mut s.style);
    let offset = s.style_start.take().unwrap_or(0);
    match inline_css(&mut s, &text, offset, Context::StyleText) {
        // `</style` inside a CSS string would end the element.
        Some(code) => t.replace(&code.replace("</", "<\\/"), ContentType::Html),
        // The build fails; the text goes back as it was all the same.
        None => t.replace(&text, ContentType::Html),
    }
}

/// `<script type=importmap>`: the module URLs it maps to (the values of
/// `imports` and of each scope) follow the fingerprints. The JSON is
/// written back compact, with keys sorted.
fn import_map(t: &mut TextChunk<'_>, state: &RefCell<State<'_>>) {
    let mut s = state.borrow_mut();
    if s.style_start.is_none() {
        s.style_start = Some(t.source_location().bytes().start);
    }
    s.style.push_str(t.as_str());
    if !t.last_in_text_node() {
        t.remove();
        return;
    }
    let text = std::mem::take(&mut s.style);
    let offset = s.style_start.take().unwrap_or(0);
    let mut map: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            let at = offset_in(s.html, offset, e.line(), e.column());
            let label = Label::new(s.shown, Arc::from(s.html), at..at + 1);
            s.errors.push(
                Diagnostic::error(
                    "HTML_IMPORTMAP",
                    Category::Input,
                    format!("invalid import map: {}", json_message(&e)),
                )
                .with_label(label),
            );
            return;
        }
    };
    let mut changed = false;
    let mut rewrite = |s: &mut State<'_>, targets: Option<&mut serde_json::Value>| {
        let Some(serde_json::Value::Object(targets)) = targets else {
            return;
        };
        for value in targets.values_mut() {
            let Some(url) = value.as_str().map(str::to_string) else {
                continue;
            };
            // A prefix mapping (`"lib/": "./lib/"`) names a directory,
            // whose files' fingerprinted names it cannot follow.
            if url.ends_with('/') {
                continue;
            }
            // Where the value is written, for messages.
            let at = text
                .find(&format!("\"{url}\""))
                .map_or(offset, |i| offset + i + 1);
            if let Some(p) = s.take(&url, at, Context::ImportMap) {
                *value = serde_json::Value::String(p);
                changed = true;
            }
        }
    };
    rewrite(&mut s, map.get_mut("imports"));
    if let Some(serde_json::Value::Object(scopes)) = map.get_mut("scopes") {
        for scope in scopes.values_mut() {
            rewrite(&mut s, Some(scope));
        }
    }
    if changed {
        // `<` only stands in strings; escaped, `</script` cannot end the
        // element early.
        let json = map.to_string().replace('<', "\\u003c");
        t.replace(&json, ContentType::Html);
    } else {
        t.replace(&text, ContentType::Html);
    }
}

/// `serde_json`'s message without its position (the label shows it in the
/// page).
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Compiles CSS written at byte `offset` of the page, recording its
/// references; `None` after an error.
fn inline_css(s: &mut State<'_>, text: &str, offset: usize, context: Context) -> Option<String> {
    let opts = *s.css;
    let logical = s.logical;
    let first = s.refs.len();
    let tag = s.tag.clone();
    let mut count = 0;
    let compiled = css::compile_inline(
        s.shown,
        text,
        context == Context::StyleAttribute,
        &opts,
        &|url| is_external(url, logical),
        &mut |_| {
            count += 1;
            placeholder::page_url(context, first + count - 1, &tag)
        },
        if context == Context::StyleAttribute {
            '\''
        } else {
            '"'
        },
    );
    match compiled {
        Ok(c) => {
            for (url, placeholder, line, column) in c.refs {
                let at = offset_in(s.html, offset, line, column);
                s.push(url, placeholder, at);
            }
            s.css_problems(c.recovered, offset, false);
            Some(c.code)
        }
        Err(errors) => {
            s.css_problems(errors, offset, true);
            None
        }
    }
}

/// `&` and `"` as character references, for a double-quoted attribute.
fn escape_attribute(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;")
}

/// Replaces each placeholder of a compiled page: URL placeholders with
/// their URL escaped for where they stand, integrity placeholders with the
/// integrity of the reference's target. `replacements` holds, per
/// reference placeholder, its URL and the target's integrity (`None` when
/// it has none). An integrity placeholder whose target has no integrity is
/// an error naming the URL.
pub fn substitute(
    code: &str,
    replacements: &[(String, String, Option<String>)],
) -> Result<String, String> {
    // Every token this page may hold, and what replaces it (`Err`: the URL
    // of a target without integrity).
    let mut tokens: BTreeMap<String, Result<String, &str>> = BTreeMap::new();
    for (ph, url, integrity) in replacements {
        if let Some(c) = placeholder::page_context(ph) {
            tokens.insert(ph.clone(), Ok(escape_url(url, c)));
        }
        if let Some(sri) = placeholder::page_sri(ph) {
            tokens.insert(sri, integrity.clone().ok_or(url.as_str()));
        }
    }
    let mut out = String::with_capacity(code.len() + replacements.len() * 48);
    let mut rest = code;
    while let Some(i) = rest.find(placeholder::PREFIX) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        // Text that merely starts like a placeholder is copied a byte at a
        // time, so a real placeholder after it is still found.
        let token = placeholder::token_at(tail);
        match token.and_then(|t| tokens.get(t).map(|r| (t, r))) {
            Some((t, Ok(text))) => {
                out.push_str(text);
                rest = &tail[t.len()..];
            }
            Some((_, Err(url))) => {
                return Err(format!(
                    "`{url}` is loaded as a script or stylesheet, but it is a page, whose integrity cannot be known here"
                ));
            }
            None => {
                out.push('_');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// `url` escaped for its place in the page.
fn escape_url(url: &str, context: Context) -> String {
    match context {
        Context::Attribute => escape_attribute(url),
        // A space or comma would split the candidate list.
        Context::SrcSet => escape_attribute(&url.replace(' ', "%20").replace(',', "%2C")),
        Context::StyleText => {
            let s = css::css_string(url, '"');
            s[1..s.len() - 1].replace('<', "\\3c ")
        }
        Context::StyleAttribute => {
            let s = css::css_string(url, '\'');
            escape_attribute(&s[1..s.len() - 1])
        }
        Context::ImportMap => {
            // A mapped URL that is not `./`, `../` or `/` would read as a
            // bare specifier.
            let url = if url.starts_with("./")
                || url.starts_with("../")
                || url.starts_with('/')
                || url.contains(':')
            {
                url.to_string()
            } else {
                format!("./{url}")
            };
            let s = serde_json::Value::String(url).to_string();
            s[1..s.len() - 1].replace('<', "\\u003c")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srcset_candidates() {
        let v = "a.png 1x, b c.png, d.png,e.png 2x ,  f(1).png 100w";
        let urls: Vec<&str> = srcset_urls(v).into_iter().map(|(s, e)| &v[s..e]).collect();
        // A comma inside a URL does not split it (the spec's rule).
        assert_eq!(urls, vec!["a.png", "b", "d.png,e.png", "f(1).png"]);
        let v = "x.png, y.png 2x,z.png";
        let urls: Vec<&str> = srcset_urls(v).into_iter().map(|(s, e)| &v[s..e]).collect();
        assert_eq!(urls, vec!["x.png", "y.png", "z.png"]);
    }

    #[test]
    fn urls_are_escaped_for_their_context() {
        assert_eq!(
            escape_url("a&b\".png", Context::Attribute),
            "a&amp;b&quot;.png"
        );
        assert_eq!(escape_url("a b,c.png", Context::SrcSet), "a%20b%2Cc.png");
        assert_eq!(escape_url("a\"</x", Context::StyleText), "a\\\"\\3c /x");
        assert_eq!(escape_url("a'&", Context::StyleAttribute), "a\\'&amp;");
    }
}
