//! The fpnna network language: `.fpn` sources parsed with nom, printed back,
//! and elaborated into the network IR.
//!
//! Entry points: [`load_file`] (a file and its includes → [`Network`]),
//! [`parse`] and [`print`] (source ↔ [`ast::File`]). Errors are
//! [`Diagnostics`]: every error of the sources, each with its file, span,
//! label and help, ready for a miette renderer.

pub mod ast;
mod elab;
mod emit;
mod parser;
mod printer;

pub use elab::{MAX_SEED, Options, elaborate};
pub use emit::{EmitError, emit};
pub use parser::KEYWORDS;
pub use printer::print;

use ast::Span;
use fpnna_ir::Network;
use miette::{NamedSource, SourceSpan};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One error in a source file.
#[derive(Clone, Debug, PartialEq)]
pub struct Diag {
    /// Where.
    pub span: Span,
    /// What is wrong.
    pub message: String,
    /// A short label under the span.
    pub label: Option<String>,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diag {
    /// A new error at `span`.
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Diag { span, message: message.into(), label: None, help: None }
    }
    /// Sets the label.
    pub fn label(mut self, l: impl Into<String>) -> Self {
        self.label = Some(l.into());
        self
    }
    /// Sets the help.
    pub fn help(mut self, h: impl Into<String>) -> Self {
        self.help = Some(h.into());
        self
    }
}

/// One loaded source file.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Its path as given (used in messages).
    pub name: String,
    /// Its text.
    pub text: Arc<String>,
}

/// The files of one compilation, indexed by `Span::file`.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    /// The files, in load order.
    pub files: Vec<SourceFile>,
}

impl SourceMap {
    /// Adds a file; returns its index.
    pub fn add(&mut self, name: String, text: String) -> u32 {
        self.files.push(SourceFile { name, text: Arc::new(text) });
        (self.files.len() - 1) as u32
    }

    /// 1-based line and column of a span's start.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        let text = &self.files[span.file as usize].text;
        let before = &text[..(span.start as usize).min(text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }
}

/// All the errors of a compilation, with the sources they point into.
#[derive(Clone, Debug)]
pub struct Diagnostics {
    /// The sources.
    pub map: SourceMap,
    /// The errors, in the order found.
    pub diags: Vec<Diag>,
}

/// A diagnostic ready for miette.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
struct Rendered {
    message: String,
    #[source_code]
    src: NamedSource<Snippet>,
    #[label("{}", label.as_deref().unwrap_or("here"))]
    span: SourceSpan,
    label: Option<String>,
    #[help]
    help: Option<String>,
}

/// A source text with the offsets where its lines start, so that rendering
/// a diagnostic reads only the lines around it: miette's own reading scans
/// the text from its start, which made rendering every error of a file
/// quadratic in its length.
struct Indexed {
    text: Arc<String>,
    /// Offsets of line starts after the first (miette's newlines: `\n`,
    /// `\r\n`, a lone `\r`).
    starts: Arc<Vec<usize>>,
}

impl std::fmt::Debug for Indexed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Indexed({} bytes, {} lines)", self.text.len(), self.starts.len() + 1)
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for (k, &c) in b.iter().enumerate() {
        if c == b'\n' || (c == b'\r' && b.get(k + 1) != Some(&b'\n')) {
            out.push(k + 1);
        }
    }
    out
}

impl miette::SourceCode for Indexed {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        // The window: from a line before the first context line (miette
        // looks one byte back) to a line past the last after the span;
        // miette's reading of the window is then its reading of the whole
        // text, shifted.
        let line = |off: usize| self.starts.partition_point(|&s| s <= off);
        let first = line(span.offset()).saturating_sub(before + 1);
        let last = line(span.offset() + span.len()) + after + 2;
        let base = if first == 0 { 0 } else { self.starts[first - 1] };
        let end = if last == 0 { 0 } else { self.starts.get(last - 1).copied().unwrap_or(self.text.len()) };
        let window = &self.text[base..end];
        let inner = SourceSpan::new((span.offset() - base).into(), span.len());
        let c = window.read_span(&inner, before, after)?;
        Ok(Box::new(miette::MietteSpanContents::new(
            c.data(),
            SourceSpan::new((c.span().offset() + base).into(), c.span().len()),
            c.line() + first,
            c.column(),
            c.line_count() + first,
        )))
    }
}

/// The most bytes of a source line a diagnostic shows, and of its
/// message, label and help: a longer line is shown as an excerpt around
/// the error (a 20 MiB string literal would print megabytes).
const MAX_SHOWN: usize = 240;

/// What a diagnostic shows of its source: the text (read around the
/// error through its line index), or an excerpt of an over-long line.
enum Snippet {
    Whole(Indexed),
    Excerpt(Excerpt),
}

/// A cut of one source line: its text, and the line and byte column (both
/// from 0) where it starts in the file.
struct Excerpt {
    text: String,
    line: usize,
    column: usize,
}

impl std::fmt::Debug for Snippet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Snippet::Whole(i) => i.fmt(f),
            Snippet::Excerpt(e) => write!(f, "Excerpt(line {}, column {})", e.line + 1, e.column + 1),
        }
    }
}

impl miette::SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        match self {
            Snippet::Whole(i) => i.read_span(span, before, after),
            Snippet::Excerpt(e) => {
                let c = e.text.read_span(span, before, after)?;
                Ok(Box::new(miette::MietteSpanContents::new(
                    c.data(),
                    *c.span(),
                    c.line() + e.line,
                    c.column() + e.column,
                    c.line_count(),
                )))
            }
        }
    }
}

/// The largest char boundary of `text` at or below `at`.
fn floor_char(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// `s`, cut to [`MAX_SHOWN`] bytes with a note of what was left out.
fn clipped(s: &str) -> String {
    if s.len() <= MAX_SHOWN {
        return s.to_string();
    }
    let end = floor_char(s, MAX_SHOWN);
    format!("{}... ({} more bytes)", &s[..end], s.len() - end)
}

/// For an error at `start..start + len` on or beside a line longer than
/// [`MAX_SHOWN`] (or spanning more than 8 times that), an excerpt of its line around the
/// error's start (without context lines), and the error's span in it.
fn excerpt(text: &str, starts: &[usize], start: usize, len: usize) -> Option<(Excerpt, SourceSpan)> {
    // Line k spans bounds(k).
    let bounds = |k: usize| (if k == 0 { 0 } else { starts[k - 1] }, starts.get(k).map_or(text.len(), |&s| s));
    let line = starts.partition_point(|&s| s <= start);
    let (line_start, line_end) = bounds(line);
    // The lines shown: the error's and one of context on either side.
    let long = (line.saturating_sub(1)..=(line + 1).min(starts.len())).any(|k| {
        let (a, b) = bounds(k);
        b - a > MAX_SHOWN
    });
    // A span of several short lines is shown whole, unless it is huge.
    if !long && (start + len <= line_end || len <= 8 * MAX_SHOWN) {
        return None;
    }
    let from = floor_char(text, start.saturating_sub(MAX_SHOWN / 4).max(line_start));
    let to = floor_char(text, (from + MAX_SHOWN).min(line_end));
    let cut = text[from..to].trim_end_matches(['\n', '\r']);
    let shown = (start + len).min(from + cut.len()) - start;
    let e = Excerpt { text: cut.to_string(), line, column: from - line_start };
    Some((e, SourceSpan::new((start - from).into(), shown)))
}

impl Diagnostics {
    /// The name of the file where the first error is.
    pub fn first_file(&self) -> String {
        self.diags.first().map_or_else(String::new, |d| self.map.files[d.span.file as usize].name.clone())
    }

    /// Each error as a miette report (file, line, column, source line, label).
    pub fn reports(&self) -> Vec<miette::Report> {
        self.reports_first(usize::MAX)
    }

    /// The first `n` errors as miette reports (a tool caps how many it
    /// shows: `fpnna --max-errors`).
    pub fn reports_first(&self, n: usize) -> Vec<miette::Report> {
        let mut starts: Vec<Option<Arc<Vec<usize>>>> = vec![None; self.map.files.len()];
        self.diags
            .iter()
            .take(n)
            .map(|d| {
                let f = &self.map.files[d.span.file as usize];
                let starts = starts[d.span.file as usize].get_or_insert_with(|| Arc::new(line_starts(&f.text)));
                let (start, len) = (d.span.start as usize, d.span.end.saturating_sub(d.span.start) as usize);
                let (snippet, span) = match excerpt(&f.text, starts, start, len) {
                    Some((e, span)) => (Snippet::Excerpt(e), span),
                    None => (
                        Snippet::Whole(Indexed { text: f.text.clone(), starts: starts.clone() }),
                        SourceSpan::new(start.into(), len),
                    ),
                };
                miette::Report::new(Rendered {
                    message: clipped(&d.message),
                    src: NamedSource::new(f.name.clone(), snippet),
                    span,
                    label: d.label.as_deref().map(clipped),
                    help: d.help.as_deref().map(clipped),
                })
            })
            .collect()
    }

    /// One line per error: `file:line:col: message`.
    pub fn short(&self) -> String {
        self.diags
            .iter()
            .map(|d| {
                let (l, c) = self.map.line_col(d.span);
                format!("{}:{l}:{c}: {}\n", self.map.files[d.span.file as usize].name, d.message)
            })
            .collect()
    }
}

/// Parses one source text (file index 0); returns the tree and its syntax
/// errors.
pub fn parse(text: &str) -> (ast::File, Vec<Diag>) {
    parser::parse(text, 0)
}

/// Largest source file accepted, bytes.
pub const MAX_SOURCE_BYTES: u64 = 64 << 20;

/// Loads a source file with its includes and elaborates it.
pub fn load_file(path: &Path, opts: &Options) -> Result<Network, Diagnostics> {
    let mut map = SourceMap::default();
    let mut diags = Vec::new();
    let mut files = Vec::new();
    let mut loaded = Vec::new();
    load_rec(path, None, &mut map, &mut diags, &mut files, &mut loaded);
    finish(files, map, diags, opts)
}

/// Loads a source given as text (named `name` in messages: standard input,
/// say), its includes relative to `dir`, and elaborates it.
pub fn load_text(name: &str, text: String, dir: &Path, opts: &Options) -> Result<Network, Diagnostics> {
    let mut map = SourceMap::default();
    let mut diags = Vec::new();
    let mut files = Vec::new();
    let mut loaded = Vec::new();
    parse_with_includes(name, text, dir, &mut map, &mut diags, &mut files, &mut loaded);
    finish(files, map, diags, opts)
}

/// Elaborates the parsed files, adding its errors to the syntax errors.
fn finish(files: Vec<ast::File>, map: SourceMap, mut diags: Vec<Diag>, opts: &Options) -> Result<Network, Diagnostics> {
    let items: Vec<ast::Item> = files.into_iter().flat_map(|f: ast::File| f.items).collect();
    // Elaborate what parsed even after syntax errors, so that one run
    // reports every error; without a parsed network there is nothing to do.
    if !items.iter().any(|i| matches!(i, ast::Item::Network(_))) && !diags.is_empty() {
        return Err(Diagnostics { map, diags });
    }
    match elaborate(&items, &map, opts) {
        Ok(net) if diags.is_empty() => Ok(net),
        Ok(_) => Err(Diagnostics { map, diags }),
        Err(more) => {
            diags.extend(more);
            Err(Diagnostics { map, diags })
        }
    }
}

/// Loads `path` and, first, the files it includes (each file once).
fn load_rec(
    path: &Path,
    from: Option<Span>,
    map: &mut SourceMap,
    diags: &mut Vec<Diag>,
    files: &mut Vec<ast::File>,
    loaded: &mut Vec<PathBuf>,
) {
    let canon = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if loaded.contains(&canon) {
        return;
    }
    loaded.push(canon);
    // Bounded (a device ends at the limit); an include must be a regular
    // file (a FIFO would block).
    let text = match fpnna_data::read_bounded(path, MAX_SOURCE_BYTES, from.is_some()) {
        Err(fpnna_data::ReadError::TooLarge(_)) => Err(format!("larger than {} MiB", MAX_SOURCE_BYTES >> 20)),
        Err(fpnna_data::ReadError::Io(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
        Ok(b) => String::from_utf8(b)
            .map_err(|e| format!("not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to())),
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            match from {
                Some(span) => diags.push(
                    Diag::new(span, format!("cannot include `{}`: {e}", path.display()))
                        .label("included here")
                        .help("include paths are relative to the including file"),
                ),
                None => {
                    // No source to point into: a one-line pseudo file names it.
                    let f = map.add(path.display().to_string(), String::new());
                    diags.push(Diag::new(Span { file: f, start: 0, end: 0 }, format!("cannot read source file: {e}")));
                }
            }
            return;
        }
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse_with_includes(&path.display().to_string(), text, &dir, map, diags, files, loaded);
}

/// Parses `text` (named `name`) and, first, the files it includes from `dir`.
fn parse_with_includes(
    name: &str,
    text: String,
    dir: &Path,
    map: &mut SourceMap,
    diags: &mut Vec<Diag>,
    files: &mut Vec<ast::File>,
    loaded: &mut Vec<PathBuf>,
) {
    let id = map.add(name.to_string(), text);
    let text = map.files[id as usize].text.clone();
    let (file, d) = parser::parse(&text, id);
    diags.extend(d);
    for item in &file.items {
        if let ast::Item::Include { path: p, span } = item {
            load_rec(&dir.join(p), Some(*span), map, diags, files, loaded);
        }
    }
    files.push(file);
}

#[cfg(test)]
mod indexed_tests {
    use super::*;
    use miette::SourceCode;

    #[test]
    fn the_indexed_source_reads_every_span_as_miette_reads_the_text() {
        let text = "ab\ncd\r\nef\rgh\n\nij é k\n\r\nlast".to_string();
        let indexed = Indexed { text: Arc::new(text.clone()), starts: Arc::new(line_starts(&text)) };
        // Spans within the text (miette itself panics on some beyond it).
        for off in 0..=text.len() {
            for len in (0..4).filter(|l| off + l <= text.len()) {
                for (before, after) in [(0, 0), (1, 1), (2, 3)] {
                    let span = SourceSpan::new(off.into(), len);
                    let want = text.read_span(&span, before, after);
                    let got = indexed.read_span(&span, before, after);
                    match (want, got) {
                        (Ok(w), Ok(g)) => {
                            let at = format!("{off}+{len} ({before}, {after})");
                            assert_eq!(g.data(), w.data(), "{at}");
                            assert_eq!(g.span(), w.span(), "{at}");
                            assert_eq!(
                                (g.line(), g.column(), g.line_count()),
                                (w.line(), w.column(), w.line_count()),
                                "{at}"
                            );
                        }
                        (Err(_), Err(_)) => {}
                        (w, g) => panic!("{off}+{len}: {:?} vs {:?}", w.is_ok(), g.is_ok()),
                    }
                }
            }
        }
    }
}
