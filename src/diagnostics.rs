//! Diagnostics are data: every stage returns them, only the edges (CLI, build
//! script helper) render them.
//!
//! A [`Diagnostic`] carries a stable code, a message and labels. A label holds
//! the file's display path, a byte span and the source text it points into, so
//! line and column are computed when rendering, never stored twice.

use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// What a failure was about; decides the exit code (1 for input, 2 for
/// config and I/O, like cargo and most Unix tools).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// The sources: syntax, names, references. Exit code 1.
    Input,
    /// The configuration or command line. Exit code 2.
    Config,
    /// Reading or writing the filesystem. Exit code 2.
    Io,
    /// A compiler panic caught at a job boundary. Exit code 1.
    Internal,
}

/// A place in a source file.
#[derive(Debug, Clone)]
pub struct Label {
    /// Path as shown to the user (relative to the working directory when possible).
    pub file: String,
    /// Byte range into `source`.
    pub span: Range<usize>,
    /// The text the span points into.
    pub source: Arc<str>,
    /// Short text under the caret.
    pub text: String,
}

/// One message of a build.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Stable, documented code such as `JS_PARSE`.
    pub code: &'static str,
    pub severity: Severity,
    pub category: Category,
    pub message: String,
    /// File named without a location (I/O errors, collisions).
    pub file: Option<String>,
    pub labels: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, category: Category, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            category,
            message: message.into(),
            file: None,
            labels: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: &'static str, category: Category, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, category, message)
        }
    }

    #[must_use]
    pub fn with_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    #[must_use]
    pub fn with_label(mut self, label: Label) -> Self {
        if self.file.is_none() {
            self.file = Some(label.file.clone());
        }
        self.labels.push(label);
        self
    }

    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// 1-based line and column (in characters) of the first label.
    pub fn location(&self) -> Option<(usize, usize)> {
        self.labels
            .first()
            .map(|l| line_col(&l.source, l.span.start))
    }

    /// `file:line:col` or `file`, for one-line summaries.
    pub fn position(&self) -> Option<String> {
        let file = self.file.as_deref()?;
        Some(match self.location() {
            Some((line, col)) => format!("{file}:{line}:{col}"),
            None => file.to_string(),
        })
    }
}

impl Label {
    /// A label at `span`, clamped into the source and onto char boundaries.
    pub fn new(file: impl Into<String>, source: Arc<str>, span: Range<usize>) -> Self {
        let span = clamp_span(&source, span);
        Label {
            file: file.into(),
            span,
            source,
            text: String::new(),
        }
    }

    /// A label at 1-based `line`, and `col` counted in UTF-16 code units from 1
    /// (the convention of cssparser and therefore lightningcss).
    pub fn at_line_col_utf16(
        file: impl Into<String>,
        source: Arc<str>,
        line: usize,
        col_utf16: usize,
    ) -> Self {
        let start = offset_of_utf16(&source, line, col_utf16);
        let end = next_char_boundary(&source, start);
        Label::new(file, source, start..end)
    }

    #[must_use]
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }
}

fn clamp_span(source: &str, span: Range<usize>) -> Range<usize> {
    let mut start = span.start.min(source.len());
    if start == source.len() {
        // "Unexpected end of input": point at the last visible character,
        // which a code frame can show.
        let trimmed = source.trim_end();
        if let Some(c) = trimmed.chars().next_back() {
            let at = trimmed.len() - c.len_utf8();
            return at..trimmed.len();
        }
    }
    while !source.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = span.end.clamp(start, source.len());
    while !source.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

fn next_char_boundary(source: &str, at: usize) -> usize {
    source[at..]
        .chars()
        .next()
        .map_or(at, |c| at + c.len_utf8())
}

fn memchr_count(bytes: &[u8]) -> usize {
    bytes.split(|&b| b == b'\n').count() - 1
}

/// 1-based line and column (counted in chars) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source.as_bytes()[..offset];
    let line = memchr_count(before) + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let col = source
        .get(line_start..offset)
        .map_or(0, |s| s.chars().count())
        + 1;
    (line, col)
}

/// 1-based line and 1-based UTF-16 column of a byte offset (the inverse of
/// [`offset_of_utf16`]).
pub fn line_col_utf16(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = memchr_count(before.as_bytes()) + 1;
    let column = before[line_start..].encode_utf16().count() + 1;
    (line, column)
}

/// Byte offset of a 1-based line and 1-based UTF-16 column.
pub fn offset_of_utf16(source: &str, line: usize, col_utf16: usize) -> usize {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match source[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return source.len(),
        }
    }
    let mut units = 1;
    for (i, c) in source[start..].char_indices() {
        if units >= col_utf16 || c == '\n' {
            return start + i;
        }
        units += c.len_utf16();
    }
    source.len()
}

/// Renders diagnostics the way rustc and cargo do.
pub fn render_human(d: &Diagnostic, color: bool) -> String {
    use annotate_snippets::{Level, Renderer, Snippet};

    let level = match d.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
    };
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
    .term_width(120);

    let header_file;
    let mut message = level.title(&d.message).id(d.code);
    // Frames show only the lines of the span, and a window of very long
    // lines (minified input), so rendering stays cheap on any input.
    let excerpts: Vec<Excerpt> = d.labels.iter().map(Excerpt::of).collect();
    for (label, ex) in d.labels.iter().zip(&excerpts) {
        message = message.snippet(
            Snippet::source(&ex.text)
                .line_start(ex.line)
                .origin(&label.file)
                .annotation(level.span(ex.span.clone()).label(&label.text)),
        );
    }
    if d.labels.is_empty()
        && let Some(file) = &d.file
    {
        header_file = format!("in {file}");
        message = message.footer(Level::Note.title(&header_file));
    }
    for note in &d.notes {
        message = message.footer(Level::Note.title(note));
    }
    if let Some(help) = &d.help {
        message = message.footer(Level::Help.title(help));
    }
    let mut out = renderer.render(message).to_string();
    // The renderer counts columns inside the excerpt; put the real ones in.
    let mut from = 0;
    for (label, ex) in d.labels.iter().zip(&excerpts) {
        let Some(arrow) = out[from..].find("-->").map(|i| i + from) else {
            break;
        };
        let Some(start) = out[arrow..].find(label.file.as_str()).map(|i| i + arrow) else {
            break;
        };
        let end = out[start..].find('\n').map_or(out.len(), |i| i + start);
        let real = format!("{}:{}:{}", label.file, ex.line, ex.col);
        out.replace_range(start..end, &real);
        from = start + real.len();
    }
    out.push('\n');
    out
}

/// The part of a source a frame shows.
struct Excerpt {
    text: String,
    span: Range<usize>,
    line: usize,
    col: usize,
}

impl Excerpt {
    /// Longest line shown whole; longer lines are cut to a window.
    const MAX_LINE: usize = 160;
    const CONTEXT: usize = 60;

    fn of(label: &Label) -> Excerpt {
        let src = &*label.source;
        let start = label.span.start.min(src.len());
        let (line, col) = line_col(src, start);
        let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = src[start..].find('\n').map_or(src.len(), |i| i + start);
        let end = label.span.end.clamp(start, line_end);
        let text = &src[line_start..line_end];
        if text.len() <= Self::MAX_LINE {
            return Excerpt {
                text: text.to_string(),
                span: start - line_start..end - line_start,
                line,
                col,
            };
        }
        let floor = |mut i: usize| {
            while !src.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let from = floor(start.saturating_sub(Self::CONTEXT).max(line_start));
        let to = floor((start + Self::CONTEXT).min(line_end));
        let end = end.min(to);
        let lead = if from > line_start { "..." } else { "" };
        let tail = if to < line_end { "..." } else { "" };
        Excerpt {
            text: format!("{lead}{}{tail}", &src[from..to]),
            span: lead.len() + start - from..lead.len() + end - from,
            line,
            col,
        }
    }
}

/// One JSON object per diagnostic, for `--format json`.
pub fn to_json(d: &Diagnostic) -> serde_json::Value {
    let (line, column) = d.location().unzip();
    serde_json::json!({
        "reason": "diagnostic",
        "code": d.code,
        "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "message": d.message,
        "file": d.file,
        "line": line,
        "column": column,
        "notes": d.notes,
        "help": d.help,
        "rendered": render_human(d, false),
    })
}

/// A short summary line such as `2 errors, 1 warning`.
pub fn summary(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let mut s = String::new();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if errors > 0 {
        let _ = write!(s, "{errors} error{}", plural(errors));
    }
    if warnings > 0 {
        if !s.is_empty() {
            s.push_str(", ");
        }
        let _ = write!(s, "{warnings} warning{}", plural(warnings));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars_from_one() {
        let src = "ab\ncé d";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 3), (2, 1));
        // 'é' is two bytes but one column.
        assert_eq!(line_col(src, 6), (2, 3));
    }

    #[test]
    fn utf16_columns_map_to_bytes() {
        let src = "a\n😀x";
        // '😀' is two UTF-16 units: x is at column 3.
        assert_eq!(offset_of_utf16(src, 2, 3), 2 + 4);
        assert_eq!(offset_of_utf16(src, 9, 1), src.len());
    }

    #[test]
    fn rendered_frame_has_location_and_code() {
        let src: Arc<str> = Arc::from("let a = ;\n");
        let d = Diagnostic::error("JS_PARSE", Category::Input, "Expression expected")
            .with_label(Label::new("app.js", src, 8..9));
        let text = render_human(&d, false);
        assert!(
            text.contains("error[JS_PARSE]: Expression expected"),
            "{text}"
        );
        assert!(text.contains("app.js:1:9"), "{text}");
        assert_eq!(d.position().as_deref(), Some("app.js:1:9"));
    }

    #[test]
    fn long_lines_are_windowed_with_real_columns() {
        let src: Arc<str> = Arc::from(format!(
            "{}BAD{}\n",
            "x".repeat(100_000),
            "y".repeat(100_000)
        ));
        let d = Diagnostic::error("JS_PARSE", Category::Input, "bad").with_label(Label::new(
            "min.js",
            src,
            100_000..100_003,
        ));
        let text = render_human(&d, false);
        assert!(text.contains("min.js:1:100001"), "{text}");
        assert!(text.contains("BAD") && text.len() < 1000, "{text}");
    }

    #[test]
    fn spans_are_clamped_to_char_boundaries() {
        let src: Arc<str> = Arc::from("é");
        let l = Label::new("x", src, 1..99);
        assert_eq!(l.span, 0..2);
        let eof = Label::new("x", Arc::from("let a = (\n"), 10..10);
        assert_eq!(eof.span, 8..9);
    }
}
