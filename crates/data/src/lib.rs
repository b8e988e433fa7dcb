//! Numeric data files as users bring them: NumPy `.npy`, the arrays of an
//! `.npz`, and text tables (comma- or whitespace-delimited, as
//! `np.savetxt` writes them). Every read is bounded: a file larger than
//! [`MAX_FILE_BYTES`] or an array claiming more than [`MAX_ELEMENTS`] is
//! refused before anything is allocated from its claims. `.npz` archives of
//! spike counts are written by [`NpzWriter`].
//!
//! The one reader of these formats for the language (weights, per-neuron
//! values), the evaluation (datasets) and the command line (stimulus and
//! spike files, parsed here by [`parse_stimulus`] and [`spike_csv_rows`]).

mod npy;
mod npz;
mod spikes;
mod text;

pub use npy::read_npy;
pub use npz::{NpzWriter, npz_arrays, read_npz};
pub use spikes::{SPIKE_HEADER, SpikeFileError, SpikeFileNames, SpikeRow, parse_stimulus, sniff, spike_csv_rows};
pub use text::{Table, parse_text};

use std::path::{Path, PathBuf};

/// The most elements one array may hold (512 MiB as f64): a header that
/// claims more is refused before its data is read.
pub const MAX_ELEMENTS: u64 = 1 << 26;

/// The largest data file read (1 GiB).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// A dense array of numbers, row-major (C order), whatever order the file
/// stored it in.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Length of each axis.
    pub shape: Vec<usize>,
    /// The elements, last axis fastest.
    pub values: Vec<f64>,
}

impl Array {
    /// The array as a matrix (rows x columns): 2-D, or 1-D as one column;
    /// `None` for any other rank.
    pub fn matrix(&self) -> Option<(usize, usize)> {
        match self.shape.as_slice() {
            [n] => Some((*n, 1)),
            [r, c] => Some((*r, *c)),
            _ => None,
        }
    }

    /// The multi-index of the element at `flat` (C order), as NumPy
    /// prints it: `[2, 3]`.
    pub fn index_of(&self, flat: usize) -> String {
        let mut idx = vec![0; self.shape.len()];
        let mut rest = flat;
        for (k, &d) in self.shape.iter().enumerate().rev() {
            if d > 0 {
                idx[k] = rest % d;
                rest /= d;
            }
        }
        let parts: Vec<String> = idx.iter().map(usize::to_string).collect();
        format!("[{}]", parts.join(", "))
    }

    /// The first element that is NaN or infinite, as (flat index, value).
    pub fn first_non_finite(&self) -> Option<(usize, f64)> {
        self.values.iter().position(|x| !x.is_finite()).map(|k| (k, self.values[k]))
    }
}

/// A refused data file: which file, where in it, and why.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{file}: {place}{why}")]
pub struct DataError {
    /// The file (as the user named it, with the array of an `.npz`).
    pub file: String,
    /// Where (`line 3, column 2: `, `header: `, `element [1, 0]: `), or empty.
    pub place: String,
    /// What is wrong.
    pub why: String,
}

impl DataError {
    /// An error at `place` of `file`.
    pub fn at(file: &str, place: impl Into<String>, why: impl Into<String>) -> DataError {
        let place = place.into();
        let place = if place.is_empty() { place } else { format!("{place}: ") };
        DataError { file: file.into(), place, why: why.into() }
    }
}

/// A data file argument: a path, and for an `.npz` the array in it
/// (`digits.npz:x`); `None` takes the archive's only array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The file.
    pub path: PathBuf,
    /// The array of an `.npz`.
    pub array: Option<String>,
}

impl std::str::FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Source, String> {
        if s.is_empty() {
            return Err("empty file name".into());
        }
        match s.rsplit_once(".npz:") {
            Some((stem, name)) if !name.is_empty() => {
                Ok(Source { path: format!("{stem}.npz").into(), array: Some(name.to_string()) })
            }
            Some(_) => Err(format!("`{s}`: name the array after the colon (`file.npz:x`)")),
            None => Ok(Source { path: s.into(), array: None }),
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.array {
            Some(a) => write!(f, "{}:{a}", self.path.display()),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

/// The format of a data file, by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `.npy`.
    Npy,
    /// `.npz`.
    Npz,
    /// Anything else: a text table.
    Text,
}

impl Format {
    /// The format of `path` by its extension (case-insensitive).
    pub fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("npy") => Format::Npy,
            Some("npz") => Format::Npz,
            _ => Format::Text,
        }
    }
}

/// Parses the bytes of `src` by its extension: `.npy`, one array of an
/// `.npz`, or a text table that must be rectangular.
pub fn parse(src: &Source, bytes: &[u8]) -> Result<Array, DataError> {
    let file = src.to_string();
    match Format::of(&src.path) {
        Format::Npy => read_npy(&file, bytes),
        Format::Npz => read_npz(&src.path.display().to_string(), src.array.as_deref(), bytes),
        Format::Text => parse_text(&file, bytes)?.into_array(&file),
    }
}

/// Reads a whole data file of at most [`MAX_FILE_BYTES`] (a larger one is
/// refused at the limit); only a regular file (a FIFO would block).
pub fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    read_bounded(path, MAX_FILE_BYTES, true).map_err(|e| DataError::at(&path.display().to_string(), "", e.to_string()))
}

/// Reads a whole file of at most `max` bytes.
pub fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, DataError> {
    read_bounded(path, max, false).map_err(|e| DataError::at(&path.display().to_string(), "", e.to_string()))
}

/// Why a file was not read whole (the caller names the file).
#[derive(Debug)]
pub enum ReadError {
    /// Opening or reading failed.
    Io(std::io::Error),
    /// More bytes than the limit (read no further than one past it).
    TooLarge(u64),
    /// A FIFO, device or socket where only a regular file is taken.
    NotRegular,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "cannot read: {e}"),
            ReadError::TooLarge(max) => write!(f, "larger than the limit of {max} bytes"),
            ReadError::NotRegular => {
                write!(f, "not a regular file (a FIFO, device or socket could block or never end): refused")
            }
        }
    }
}

/// The one bounded reader of input files: reads at most `max + 1` bytes
/// (`Read::take`, so that a device such as `/dev/zero` ends too) and
/// refuses more than `max`; with `regular_only`, refuses anything but a
/// regular file before opening it (a FIFO would block).
pub fn read_bounded(path: &Path, max: u64, regular_only: bool) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    if regular_only && !std::fs::metadata(path).map_err(ReadError::Io)?.is_file() {
        return Err(ReadError::NotRegular);
    }
    let f = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::new();
    f.take(max.saturating_add(1)).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge(max));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_name_an_npz_array_after_a_colon() {
        let s: Source = "d.npz:y".parse().unwrap();
        assert_eq!(s, Source { path: "d.npz".into(), array: Some("y".into()) });
        assert_eq!(s.to_string(), "d.npz:y");
        assert!("x.npz:".parse::<Source>().is_err());
        assert_eq!("w.csv".parse::<Source>().unwrap().array, None);
        assert_eq!(Format::of(Path::new("W.NPY")), Format::Npy);
        assert_eq!(Format::of(Path::new("w.txt")), Format::Text);
    }

    #[test]
    fn indices_are_printed_as_numpy_does() {
        let a = Array { shape: vec![2, 3], values: vec![0.0, 1.0, 2.0, 3.0, f64::NAN, 5.0] };
        assert_eq!(a.first_non_finite().map(|(k, _)| a.index_of(k)), Some("[1, 1]".into()));
        assert_eq!(Array { shape: vec![4], values: vec![0.0; 4] }.index_of(3), "[3]");
        assert_eq!(a.matrix(), Some((2, 3)));
        assert_eq!(Array { shape: vec![1, 1, 1], values: vec![0.0] }.matrix(), None);
    }

    #[test]
    fn files_over_the_limit_are_refused_before_reading() {
        let dir = std::env::temp_dir().join(format!("fpnna-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("big.csv");
        std::fs::write(&p, "1,2,3\n").unwrap();
        let e = read_limited(&p, 4).unwrap_err().to_string();
        assert!(e.ends_with("big.csv: larger than the limit of 4 bytes"), "{e}");
        assert_eq!(read_limited(&p, 6).unwrap(), b"1,2,3\n");
        assert!(read_file(&dir.join("none.csv")).unwrap_err().to_string().contains("none.csv: cannot read"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
