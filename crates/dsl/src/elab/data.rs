//! Data files: paths relative to the source that names them, read by
//! `fpnna-data` (text tables, `.npy`, one array of an `.npz` named as
//! `"w.npz:name"`) into the rows that matrices and per-neuron values are
//! made of.

use super::Elab;
use crate::Diag;
use crate::ast::Span;
use fpnna_data::{Array, DataError, Format, Source};
use std::path::Path as FsPath;

/// Rows of numbers, each with its 1-based number (see [`Numbering`]).
pub(super) type Rows = Vec<(usize, Vec<f64>)>;

/// What a row's number counts, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Numbering {
    /// Lines of a text file (or positions in a matrix written in the source).
    Lines,
    /// Rows of an array, named 0-based as NumPy does.
    Rows,
}

impl Numbering {
    /// Row `n` (1-based) as a place in a message.
    pub(super) fn row(self, n: usize) -> String {
        match self {
            Numbering::Lines => format!("row at line {n}"),
            Numbering::Rows => format!("row {}", n - 1),
        }
    }

    /// Entry `n` (1-based) of a list of entries (`sparse`) as a place.
    pub(super) fn entry(self, n: usize) -> String {
        match self {
            Numbering::Lines => format!("line {n}"),
            Numbering::Rows => format!("row {}", n - 1),
        }
    }
}

/// A data file's rows: a text table's lines, or an array's rows (a 1-D
/// array is one column).
pub(super) struct Data {
    /// The rows.
    pub rows: Rows,
    /// What their numbers count.
    pub numbering: Numbering,
}

/// An array as rows; the first NaN or infinity is an error naming it.
fn array_rows(file: &str, a: Array) -> Result<Data, DataError> {
    if let Some((k, x)) = a.first_non_finite() {
        return Err(DataError::at(file, format!("element {}", a.index_of(k)), format!("{x} is not a finite number")));
    }
    let Some((rows, cols)) = a.matrix() else {
        return Err(DataError::at(file, "", format!("shape {:?}: expected a 1-D or 2-D array", a.shape)));
    };
    let rows = if cols == 0 {
        (1..=rows).map(|r| (r, Vec::new())).collect()
    } else {
        a.values.chunks(cols).enumerate().map(|(r, v)| (r + 1, v.to_vec())).collect()
    };
    Ok(Data { rows, numbering: Numbering::Rows })
}

impl Elab<'_> {
    /// Reads the data file named `file` in the source at `span` (relative
    /// to that source; `"w.npz:name"` names an array of an archive);
    /// errors point at `span`.
    pub(super) fn data_file(&mut self, span: Span, file: &str) -> Option<Data> {
        let src = FsPath::new(&self.map.files[span.file as usize].name);
        let named: Result<Source, String> = file.parse();
        let named = match named {
            Ok(s) => s,
            Err(e) => {
                self.err(Diag::new(span, format!("data file {e}")).label("this file"));
                return None;
            }
        };
        let path = src.parent().unwrap_or(FsPath::new("")).join(&named.path);
        let shown = Source { path: path.clone(), array: named.array.clone() }.to_string();
        let bytes = match fpnna_data::read_file(&path) {
            Ok(b) => b,
            Err(e) => {
                self.err(
                    Diag::new(span, e.to_string())
                        .label("this file")
                        .help("data paths are relative to the source file"),
                );
                return None;
            }
        };
        let read = match Format::of(&path) {
            Format::Npy => fpnna_data::read_npy(&shown, &bytes).and_then(|a| array_rows(&shown, a)),
            Format::Npz => {
                let archive = path.display().to_string();
                let a = fpnna_data::read_npz(&archive, named.array.as_deref(), &bytes);
                a.and_then(|a| array_rows(&shown, a))
            }
            Format::Text => {
                fpnna_data::parse_text(&shown, &bytes).map(|t| Data { rows: t.rows, numbering: Numbering::Lines })
            }
        };
        match read {
            Ok(d) => Some(d),
            Err(e) => {
                self.err(Diag::new(span, e.to_string()).label("in this file"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_become_rows_numbered_from_zero_and_refuse_nan() {
        let a = Array { shape: vec![2, 2], values: vec![1.0, 2.0, 3.0, 4.0] };
        let d = array_rows("w.npy", a).unwrap();
        assert_eq!(d.rows, vec![(1, vec![1.0, 2.0]), (2, vec![3.0, 4.0])]);
        assert_eq!((d.numbering.row(2), Numbering::Lines.row(2)), ("row 1".into(), "row at line 2".into()));
        let col = array_rows("t.npy", Array { shape: vec![3], values: vec![1.0, 2.0, 3.0] }).unwrap();
        assert_eq!(col.rows, vec![(1, vec![1.0]), (2, vec![2.0]), (3, vec![3.0])]);
        let nan = Array { shape: vec![2, 2], values: vec![1.0, 2.0, f64::NAN, 4.0] };
        assert_eq!(
            array_rows("w.npy", nan).err().unwrap().to_string(),
            "w.npy: element [1, 0]: NaN is not a finite number"
        );
        let cube = Array { shape: vec![1, 1, 1], values: vec![1.0] };
        assert_eq!(
            array_rows("w.npy", cube).err().unwrap().to_string(),
            "w.npy: shape [1, 1, 1]: expected a 1-D or 2-D array"
        );
    }
}
