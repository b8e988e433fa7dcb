//! Data files: paths relative to the source that names them, and the CSV of
//! numbers that matrices and per-neuron values are read from.

use super::Elab;
use crate::Diag;
use crate::ast::Span;
use std::path::{Path as FsPath, PathBuf};

/// Rows of numbers, each with its 1-based line number.
pub(super) type Rows = Vec<(usize, Vec<f64>)>;

/// A cell of a CSV that is not a number.
#[derive(Clone, Debug, PartialEq)]
struct NotANumber {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The cell's text, trimmed.
    pub cell: String,
}

/// Parses a CSV of numbers. Blank lines, `#` comments and a non-numeric
/// first line (a header) are skipped.
fn parse_csv(text: &str) -> Result<Rows, NotANumber> {
    let mut rows = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cells: Result<Vec<f64>, (usize, &str)> = line
            .split(',')
            .enumerate()
            .map(|(c, s)| s.trim().parse::<f64>().ok().filter(|x| x.is_finite()).ok_or((c, s.trim())))
            .collect();
        match cells {
            Ok(v) => rows.push((k + 1, v)),
            Err(_) if rows.is_empty() && k == 0 => {} // header
            Err((c, s)) => return Err(NotANumber { line: k + 1, column: c + 1, cell: s.to_string() }),
        }
    }
    Ok(rows)
}

impl Elab<'_> {
    /// A data file named in the source at `span`: relative to that source.
    pub(super) fn data_path(&self, span: Span, file: &str) -> PathBuf {
        let src = FsPath::new(&self.map.files[span.file as usize].name);
        src.parent().unwrap_or(FsPath::new("")).join(file)
    }

    /// Reads a CSV of numbers ([`parse_csv`]); errors point at `span`.
    pub(super) fn csv(&mut self, span: Span, path: &FsPath) -> Option<Rows> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                self.err(
                    Diag::new(span, format!("cannot read `{}`: {e}", path.display()))
                        .label("this file")
                        .help("data paths are relative to the source file"),
                );
                return None;
            }
        };
        match parse_csv(&text) {
            Ok(rows) => Some(rows),
            Err(NotANumber { line, column, cell }) => {
                self.err(
                    Diag::new(span, format!("{}:{line}: column {column}: `{cell}` is not a number", path.display()))
                        .label("in this file"),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_skips_blank_lines_comments_and_a_header_and_keeps_line_numbers() {
        let rows = parse_csv("pre,post\n\n# note\n1, 2.5\n3,4\n").unwrap();
        assert_eq!(rows, vec![(4, vec![1.0, 2.5]), (5, vec![3.0, 4.0])]);
    }

    #[test]
    fn csv_cell_that_is_not_a_number_is_located() {
        let e = parse_csv("1,2\n3,x\n").unwrap_err();
        assert_eq!(e, NotANumber { line: 2, column: 2, cell: "x".into() });
    }

    #[test]
    fn csv_header_is_only_the_first_line() {
        // A non-numeric line after a comment is line 2, not a header.
        assert_eq!(parse_csv("# c\nw\n").unwrap_err().line, 2);
        assert_eq!(parse_csv("inf\n").unwrap(), vec![]);
    }
}
