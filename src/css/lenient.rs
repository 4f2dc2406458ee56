//! What browsers ignore, handled the way browsers handle it.
//!
//! In: a parsed stylesheet and the problems lightningcss recovered from
//! while parsing it (it always parses with `error_recovery` on). Out: the
//! rules adjusted so the printed sheet keeps what browsers keep
//! ([`match_browsers`]), and one diagnostic per problem ([`problem`]): a
//! warning where the output still means what a browser makes of the input,
//! an error where lightningcss's recovery would change it.

use lightningcss::error::{ParserError, SelectorError};
use lightningcss::rules::{CssRule, Location, style::StyleRule};
use lightningcss::selector::{Component, PseudoClass, PseudoElement, Selector};
use lightningcss::vendor_prefix::VendorPrefix;

use crate::diagnostics::{Category, Diagnostic};

/// What became of the rule a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// The rule is in the output, as written but for selectors that match
    /// nothing.
    Kept,
    /// [`match_browsers`] removed the rule, as browsers would.
    Dropped,
    /// The problem is in no prelude [`match_browsers`] saw: it is in an
    /// at-rule's prelude (`@supports selector(…)`), or lightningcss dropped
    /// its rule for another reason.
    Unknown,
}

/// The diagnostic (without a location) for one problem lightningcss
/// recovered from; `fate` is what became of its rule ([`Spans::fate`]).
///
/// Only problems where lightningcss keeps the input as written are
/// warnings: the browser then meets the same text and ignores it by its
/// own rules. Wherever lightningcss's recovery drops something, it may drop
/// something else than a browser would (see the table), so the problem is
/// an error, or a `CSS_RECOVERED` warning under `css-error-recovery`.
///
/// | lightningcss reports | it does | browsers do | prebake |
/// |---|---|---|---|
/// | `SelectorError::UnsupportedPseudoClass`, `UnsupportedPseudoElement` (`:hoverr`, `::input-placeholder`; vendor-prefixed names are never reported) | keeps the selector, but splits a selector list or wraps it in `:is()` | drop the whole rule, or only that argument of `:is()`/`:where()` | `CSS_IGNORED_SELECTOR` warning; a lone selector is kept as written, a list with an unknown part is dropped ([`match_browsers`]) |
/// | `AtRuleInvalid` (`@foo`) | keeps an unknown at-rule as written; drops one where no at-rule is allowed (a `style` attribute) | ignore the at-rule and its block | `CSS_UNKNOWN_AT_RULE` warning |
/// | any other `SelectorError` (`.a..b`, a stray `}` read as an empty selector) | drops the rule; inside a style rule also every declaration before it | drop the rule, or only the nested rule | `CSS_PARSE` error |
/// | `UnexpectedToken`, `EndOfInput`, `InvalidDeclaration`, … in a block | drops the declarations before it in the same rule | drop one declaration | `CSS_PARSE` error |
/// | `EndOfInput` from an unclosed `(`, `[` or string | drops everything after it | the same, silently | `CSS_PARSE` error |
/// | `InvalidMediaQuery`, `UnexpectedImportRule`, `UnexpectedNamespaceRule`, `AtRuleBodyInvalid`, … | keeps some as written, drops others | various | `CSS_PARSE` error |
pub fn problem(kind: &ParserError<'_>, fate: Fate, error_recovery: bool) -> Diagnostic {
    match kind {
        ParserError::SelectorError(SelectorError::UnsupportedPseudoClass(name)) => {
            ignored_selector(&format!("pseudo-class `:{name}`"), fate)
        }
        ParserError::SelectorError(SelectorError::UnsupportedPseudoElement(name)) => {
            ignored_selector(&format!("pseudo-element `::{name}`"), fate)
        }
        ParserError::AtRuleInvalid(name) => {
            let what = if fate == Fate::Kept {
                "it is kept as written"
            } else {
                "it is dropped"
            };
            Diagnostic::warning(
                "CSS_UNKNOWN_AT_RULE",
                Category::Input,
                format!("unknown at-rule `@{name}`: browsers that do not know it ignore it; {what}"),
            )
            .with_help("check the spelling, and that an at-rule is allowed here")
        }
        _ if error_recovery => Diagnostic::warning(
            "CSS_RECOVERED",
            Category::Input,
            format!("{kind} (rule dropped)"),
        ),
        _ => Diagnostic::error("CSS_PARSE", Category::Input, kind.to_string()).with_help(
            "fix the syntax, or set `css-error-recovery = true` to drop invalid rules with a warning",
        ),
    }
}

fn ignored_selector(what: &str, fate: Fate) -> Diagnostic {
    let message = match fate {
        Fate::Kept => {
            format!("unknown {what}: browsers ignore the selector it is in; the rule is kept")
        }
        Fate::Dropped => format!(
            "unknown {what}: browsers ignore the selector it is in, and with it the whole rule; the rule is dropped as they do"
        ),
        Fate::Unknown => format!("unknown {what}: browsers ignore the selector it is in"),
    };
    Diagnostic::warning("CSS_IGNORED_SELECTOR", Category::Input, message).with_help(
        "check the spelling; vendor-prefixed names (`::-webkit-…`) are kept without a warning",
    )
}

/// Where the preludes of the rules [`match_browsers`] saw are, by source
/// index, as byte ranges, with what became of each rule.
#[derive(Debug, Default)]
pub struct Spans {
    preludes: Vec<(u32, std::ops::Range<usize>, Fate)>,
    /// Byte offset of each line start, by source index: lightningcss gives
    /// lines and columns, and finding each from the top of the text would
    /// take time quadratic in the size of a stylesheet.
    lines: Vec<Vec<usize>>,
}

impl Spans {
    /// What became of the rule whose prelude holds 0-based `line` and
    /// 1-based UTF-16 `column` of source `source` (text `text`).
    pub fn fate(&self, source: u32, text: &str, line: u32, column: u32) -> Fate {
        let at = self.offset(source, text, line, column);
        self.preludes
            .iter()
            .find(|(s, range, _)| *s == source && range.contains(&at))
            .map_or(Fate::Unknown, |(_, _, fate)| *fate)
    }

    /// Byte offset in `text` (source `source`) of 0-based `line` and
    /// 1-based UTF-16 `column`, as lightningcss counts them.
    fn offset(&self, source: u32, text: &str, line: u32, column: u32) -> usize {
        let start = self
            .lines
            .get(source as usize)
            .and_then(|l| l.get(line as usize))
            .copied()
            .unwrap_or(text.len());
        let mut units = 1;
        for (i, c) in text.get(start..).unwrap_or("").char_indices() {
            if units >= column as usize || c == '\n' {
                return start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    }
}

/// Adjusts `rules` (sources `texts`, by source index) so the printed sheet
/// keeps what browsers keep, where lightningcss's minifier would not.
///
/// A selector "browsers reject" has a pseudo-class or pseudo-element that
/// lightningcss does not know (it keeps those as written), not
/// vendor-prefixed, outside the forgiving `:is()` and `:where()`.
///
/// - A style rule with such a selector in a list of several is removed:
///   browsers drop the whole rule, but the minifier would split the list
///   (or wrap it in the forgiving `:is()`) and the other selectors would
///   start to match.
/// - A selector whose `:is()` or `:where()` has only such arguments
///   matches nothing; it is removed from its list, and a rule left with
///   none is removed. The printer writes `:is(X)` as `X`, which would turn
///   a selector browsers ignore into one that invalidates its list.
/// - A rule with one such selector stays as written (browsers ignore it
///   themselves, and one that knows a newer pseudo-class still can use it)
///   when the minifier keeps it apart ([`kept_apart`]); otherwise it could
///   merge it into a neighbour's list, and it is removed.
/// - Vendor placeholder selectors (`::-webkit-input-placeholder`,
///   `::-moz-placeholder`, `::-ms-input-placeholder`, `:-ms-input-placeholder`,
///   `:-moz-placeholder`) are kept as written. lightningcss reads them as
///   prefixed `::placeholder` and `:placeholder-shown`, then prints
///   `::-ms-input-placeholder` as `::-moz-placeholder` and
///   `:-ms-input-placeholder` as `:-ms-placeholder-shown` (which no browser
///   knows), and prints the second of two merged prefixed rules unprefixed.
///
/// Returns the preludes seen, for [`Spans::fate`].
pub fn match_browsers<R>(rules: &mut Vec<CssRule<'_, R>>, texts: &[&str]) -> Spans {
    let mut spans = Spans {
        preludes: Vec::new(),
        lines: texts
            .iter()
            .map(|t| {
                std::iter::once(0)
                    .chain(t.match_indices('\n').map(|(i, _)| i + 1))
                    .collect()
            })
            .collect(),
    };
    walk(rules, texts, false, &mut spans);
    spans
}

fn walk<R>(rules: &mut Vec<CssRule<'_, R>>, texts: &[&str], dropped: bool, spans: &mut Spans) {
    rules.retain_mut(|rule| match rule {
        CssRule::Style(style) => style_rule(style, texts, dropped, spans),
        CssRule::Nesting(nesting) => style_rule(&mut nesting.style, texts, dropped, spans),
        CssRule::Unknown(unknown) => {
            if let Some((source, range, _)) = prelude(texts, spans, &unknown.loc) {
                let fate = if dropped { Fate::Dropped } else { Fate::Kept };
                spans.preludes.push((source, range, fate));
            }
            true
        }
        CssRule::Media(r) => {
            walk(&mut r.rules.0, texts, dropped, spans);
            true
        }
        CssRule::Supports(r) => {
            walk(&mut r.rules.0, texts, dropped, spans);
            true
        }
        CssRule::Container(r) => {
            walk(&mut r.rules.0, texts, dropped, spans);
            true
        }
        CssRule::LayerBlock(r) => {
            walk(&mut r.rules.0, texts, dropped, spans);
            true
        }
        CssRule::Scope(r) => {
            walk(&mut r.rules.0, texts, dropped, spans);
            true
        }
        CssRule::StartingStyle(r) => {
            walk(&mut r.rules.0, texts, dropped, spans);
            true
        }
        CssRule::MozDocument(r) => {
            walk(&mut r.rules.0, texts, dropped, spans);
            true
        }
        _ => true,
    });
}

/// Whether to keep `style` (see [`match_browsers`]); `dropped` when a rule
/// around it is dropped.
fn style_rule<R>(
    style: &mut StyleRule<'_, R>,
    texts: &[&str],
    dropped: bool,
    spans: &mut Spans,
) -> bool {
    let selectors = &mut style.selectors.0;
    let drop = dropped
        || if selectors.len() > 1 {
            selectors.iter().any(browsers_reject) || selectors.iter().all(never_matches)
        } else {
            selectors
                .iter()
                .all(|s| never_matches(s) || (browsers_reject(s) && !kept_apart(s)))
        };
    if !drop {
        selectors.retain(|s| !never_matches(s));
    }
    if let Some((source, range, text)) = prelude(texts, spans, &style.loc) {
        let fate = if drop { Fate::Dropped } else { Fate::Kept };
        spans.preludes.push((source, range, fate));
        keep_vendor_placeholders(selectors, text);
    }
    walk(&mut style.rules.0, texts, drop, spans);
    !drop
}

/// Whether browsers reject `selector` (see [`match_browsers`]).
/// (`:has()` and `:nth-child(… of …)` are not forgiving in browsers,
/// though lightningcss parses them so.)
fn browsers_reject(selector: &Selector<'_>) -> bool {
    selector.iter_raw_match_order().any(|c| match c {
        Component::NonTSPseudoClass(
            PseudoClass::Custom { name } | PseudoClass::CustomFunction { name, .. },
        )
        | Component::PseudoElement(
            PseudoElement::Custom { name } | PseudoElement::CustomFunction { name, .. },
        ) => !name.starts_with('-'),
        Component::Negation(list) | Component::Has(list) | Component::Any(_, list) => {
            list.iter().any(browsers_reject)
        }
        Component::NthOf(nth) => nth.selectors().iter().any(browsers_reject),
        Component::Slotted(s) | Component::Host(Some(s)) => browsers_reject(s),
        _ => false,
    })
}

/// Whether lightningcss's minifier treats `selector` as unsupported by any
/// browser, and so never merges it into the selector list of another rule:
/// it has a pseudo-class or pseudo-element lightningcss does not know, or
/// `:-webkit-any()`, outside `:is()`, `:where()`, `:host()` and
/// `::slotted()` (which it takes on trust).
fn kept_apart(selector: &Selector<'_>) -> bool {
    selector.iter_raw_match_order().any(|c| match c {
        Component::NonTSPseudoClass(
            PseudoClass::Custom { .. } | PseudoClass::CustomFunction { .. },
        )
        | Component::PseudoElement(
            PseudoElement::Custom { .. } | PseudoElement::CustomFunction { .. },
        )
        | Component::Any(..) => true,
        Component::Negation(list) | Component::Has(list) => list.iter().any(kept_apart),
        Component::NthOf(nth) => nth.selectors().iter().any(kept_apart),
        _ => false,
    })
}

/// Whether `selector` has an `:is()` or `:where()` (not inside another
/// pseudo-class) whose every argument browsers reject: it matches nothing.
fn never_matches(selector: &Selector<'_>) -> bool {
    selector.iter_raw_match_order().any(|c| match c {
        Component::Is(list) | Component::Where(list) => list.iter().all(browsers_reject),
        _ => false,
    })
}

/// The source index, byte range and text of the prelude of the rule at
/// `loc`: up to its `{` or `;`, outside strings, comments and brackets.
fn prelude<'t>(
    texts: &[&'t str],
    spans: &Spans,
    loc: &Location,
) -> Option<(u32, std::ops::Range<usize>, &'t str)> {
    let text = *texts.get(loc.source_index as usize)?;
    let start = spans.offset(loc.source_index, text, loc.line, loc.column);
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'{' | b';' if depth == 0 => break,
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => i = super::skip_string_or_comment(b, i),
        }
        i += 1;
    }
    // The `{` or `;` too: lightningcss places some problems on it.
    let end = (i + 1).min(b.len());
    Some((loc.source_index, start..end, text.get(start..end)?))
}

/// Turns the vendor placeholder selectors of `selectors` (prelude text
/// `text`) back into the names written; see [`match_browsers`].
fn keep_vendor_placeholders(selectors: &mut [Selector<'_>], text: &str) {
    // `::-moz-placeholder` and `::-ms-input-placeholder` both parse as
    // `Placeholder(Moz)`; the prelude says which was written, in order.
    let parsed = selectors
        .iter()
        .flat_map(Selector::iter_raw_match_order)
        .filter(|c| {
            matches!(c, Component::PseudoElement(PseudoElement::Placeholder(p)) if *p == VendorPrefix::Moz)
        })
        .count();
    let mut written = if parsed == 0 {
        Vec::new()
    } else {
        moz_or_ms_placeholders(text)
    }
    .into_iter();
    let in_step = parsed == written.len();
    for selector in selectors {
        for c in selector.iter_mut_raw_match_order() {
            let Component::PseudoElement(PseudoElement::Placeholder(p)) = c else {
                keep_vendor_pseudo_classes(c);
                continue;
            };
            let name = match *p {
                VendorPrefix::WebKit => "-webkit-input-placeholder",
                VendorPrefix::Moz => match written.next() {
                    Some(name) if in_step => name,
                    _ => "-moz-placeholder",
                },
                VendorPrefix::Ms => "-ms-input-placeholder",
                _ => continue,
            };
            *c = Component::PseudoElement(PseudoElement::Custom { name: name.into() });
        }
    }
}

/// `:-ms-input-placeholder` and `:-moz-placeholder` as written, in `c` and
/// the selectors inside it.
fn keep_vendor_pseudo_classes(c: &mut Component<'_>) {
    match c {
        Component::NonTSPseudoClass(PseudoClass::PlaceholderShown(p)) => {
            let name = match *p {
                VendorPrefix::Ms => "-ms-input-placeholder",
                VendorPrefix::Moz => "-moz-placeholder",
                _ => return,
            };
            *c = Component::NonTSPseudoClass(PseudoClass::Custom { name: name.into() });
        }
        Component::Negation(list)
        | Component::Has(list)
        | Component::Any(_, list)
        | Component::Is(list)
        | Component::Where(list) => {
            for s in list.iter_mut() {
                for inner in s.iter_mut_raw_match_order() {
                    keep_vendor_pseudo_classes(inner);
                }
            }
        }
        _ => {}
    }
}

/// The names `-moz-placeholder` and `-ms-input-placeholder` written after
/// `::` in `text`, in order (ASCII case-insensitive, whole names only).
fn moz_or_ms_placeholders(text: &str) -> Vec<&'static str> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find("::").map(|i| i + from) {
        let rest = &lower[at + 2..];
        for name in ["-moz-placeholder", "-ms-input-placeholder"] {
            let whole = rest.strip_prefix(name).is_some_and(|after| {
                !after.chars().next().is_some_and(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '\\') || !c.is_ascii()
                })
            });
            if whole {
                found.push(name);
            }
        }
        from = at + 2;
    }
    found
}
