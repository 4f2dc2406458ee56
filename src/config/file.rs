//! Reading `prebake.toml`: text in, [`Settings`] out, with the byte span
//! of each value so that later messages can point at it. Which keys exist
//! and how each value is read comes from the key table (`keys.rs`).

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use super::declare::Reject;
use super::keys::{KEYS, Settings};
use crate::diagnostics::{Category, Diagnostic, Label};

/// A config file's text and the byte span of each key's value.
pub struct Spans {
    shown: String,
    text: Arc<str>,
    values: BTreeMap<String, Range<usize>>,
}

impl Spans {
    /// A label at `key`'s value.
    pub(super) fn label(&self, key: &str) -> Option<Label> {
        self.values
            .get(key)
            .map(|span| Label::new(&self.shown, self.text.clone(), span.clone()))
    }
}

/// A config file read: its settings, where each value stands, and the
/// values refused for being outside their key's set (`sri = "md5"`), by
/// key. Those are reported when the configuration is resolved, with its
/// other value errors, and only if no flag overrides the key.
pub(super) struct Parsed {
    pub settings: Settings,
    pub spans: Spans,
    pub rejected: BTreeMap<String, Diagnostic>,
}

/// Parses `prebake.toml`. Unknown keys and values of the wrong type are
/// errors that name the key, with a code frame in the file.
pub fn parse_config(text: &str, shown: &str) -> Result<Settings, Vec<Diagnostic>> {
    let parsed = parse_config_spanned(text, shown)?;
    if parsed.rejected.is_empty() {
        Ok(parsed.settings)
    } else {
        Err(parsed.rejected.into_values().collect())
    }
}

/// [`parse_config`], also returning where each value stands and the
/// values refused for being outside their set.
pub(super) fn parse_config_spanned(text: &str, shown: &str) -> Result<Parsed, Vec<Diagnostic>> {
    let source: Arc<str> = Arc::from(text);
    let table: BTreeMap<String, toml::Spanned<toml::Value>> =
        toml::from_str(text).map_err(|e| {
            let mut d = Diagnostic::error(
                "CONFIG_SYNTAX",
                Category::Config,
                format!("{shown}: {}", e.message()),
            )
            .with_file(shown);
            if let Some(span) = e.span() {
                d = d.with_label(Label::new(shown, source.clone(), span));
            }
            vec![d]
        })?;

    let mut settings = Settings::default();
    let mut errors = Vec::new();
    let mut rejected = BTreeMap::new();
    for (key, value) in &table {
        let span = value.span();
        let v = value.get_ref();
        let value_label = || Label::new(shown, source.clone(), span.clone());
        match settings.set_from_toml(key, v) {
            Some(Ok(())) => {}
            Some(Err(Reject::Type(expected))) => errors.push(
                Diagnostic::error(
                    "CONFIG_VALUE",
                    Category::Config,
                    format!(
                        "{shown}: key `{key}` must be {expected}, found {}",
                        v.type_str()
                    ),
                )
                .with_label(value_label()),
            ),
            Some(Err(Reject::Value(why))) => {
                rejected.insert(
                    key.clone(),
                    Diagnostic::error(
                        "CONFIG_VALUE",
                        Category::Config,
                        format!("`{key}` in {shown}: {why}"),
                    )
                    .with_label(value_label()),
                );
            }
            None => errors.push(unknown_key(shown, &source, key, span.clone())),
        }
    }
    if errors.is_empty() {
        let spans = Spans {
            shown: shown.to_string(),
            text: source,
            values: table.iter().map(|(k, v)| (k.clone(), v.span())).collect(),
        };
        Ok(Parsed {
            settings,
            spans,
            rejected,
        })
    } else {
        Err(errors)
    }
}

fn unknown_key(shown: &str, source: &Arc<str>, key: &str, span: Range<usize>) -> Diagnostic {
    let mut d = Diagnostic::error(
        "CONFIG_UNKNOWN_KEY",
        Category::Config,
        format!("{shown}: unknown key `{key}`"),
    )
    .with_label(key_label(shown, source, key, span))
    .with_note(format!("known keys: {}", KEYS.join(", ")));
    if let Some(similar) = KEYS.iter().find(|k| similar(k, key)) {
        d = d.with_help(format!("did you mean `{similar}`?"));
    }
    d
}

/// Points at the key itself when it can be found on the value's line.
fn key_label(shown: &str, source: &Arc<str>, key: &str, value_span: Range<usize>) -> Label {
    let line_start = source[..value_span.start.min(source.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = &source[line_start..value_span.start.min(source.len())];
    match line.find(key) {
        Some(i) => Label::new(
            shown,
            source.clone(),
            line_start + i..line_start + i + key.len(),
        ),
        None => Label::new(shown, source.clone(), value_span),
    }
}

fn similar(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.replace('_', "-").to_ascii_lowercase();
    let (a, b) = (norm(a), norm(b));
    if a == b {
        return true;
    }
    // One edit apart.
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short
        .iter()
        .zip(long.iter())
        .take_while(|(x, y)| x == y)
        .count();
    let suffix_short = &short[prefix..];
    let suffix_long = &long[prefix + 1..];
    if short.len() == long.len() {
        suffix_short.get(1..) == Some(suffix_long)
    } else {
        suffix_short == suffix_long
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_key_and_file() {
        let errs = parse_config("root = \"a\"\nminfy = true\n", "prebake.toml").unwrap_err();
        assert_eq!(errs.len(), 1);
        let d = &errs[0];
        assert_eq!(d.code, "CONFIG_UNKNOWN_KEY");
        assert!(
            d.message.contains("`minfy`") && d.message.contains("prebake.toml"),
            "{}",
            d.message
        );
        assert_eq!(d.location(), Some((2, 1)));
        assert_eq!(d.help.as_deref(), Some("did you mean `minify`?"));
    }

    #[test]
    fn bad_value_names_key() {
        let errs = parse_config("minify = \"yes\"\n", "p.toml").unwrap_err();
        assert!(errs[0].message.contains("`minify`"), "{}", errs[0].message);
        assert_eq!(errs[0].location(), Some((1, 10)));
    }

    #[test]
    fn similar_keys() {
        assert!(similar("minify", "minfy"));
        assert!(similar("hash-length", "hash_length"));
        assert!(!similar("root", "base"));
    }
}
