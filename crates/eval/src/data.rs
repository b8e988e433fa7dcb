//! Datasets as users bring them: NumPy `.npy`, one array of an `.npz`
//! (`file.npz:name`), or CSV; read into a dense row-major [`Array`] whose
//! size is checked against [`MAX_ELEMENTS`] before anything is allocated.

use std::io::Cursor;

/// The most elements one array may hold (512 MiB as f64): a header that
/// claims more is refused before its data is read.
pub const MAX_ELEMENTS: u64 = 1 << 26;

/// A dense array of numbers, row-major (C order).
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Length of each axis.
    pub shape: Vec<usize>,
    /// The elements, last axis fastest.
    pub values: Vec<f64>,
}

/// A refused dataset file: which file, where in it, and why.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{file}: {place}{why}")]
pub struct DataError {
    /// The file (as the user named it).
    pub file: String,
    /// Where (`line 3, column 2: `, `header: `, ...), or empty.
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

/// A dataset argument: a path, and for an `.npz` the array in it
/// (`digits.npz:x`); `None` takes the archive's only array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The file.
    pub path: std::path::PathBuf,
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

/// Parses the bytes of `src` by its extension: `.npy`, `.npz` or CSV
/// (anything else).
pub fn parse(src: &Source, bytes: &[u8]) -> Result<Array, DataError> {
    let file = src.to_string();
    let ext = src.path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "npy" => read_npy_bytes(&file, bytes),
        "npz" => read_npz(&src.path.display().to_string(), src.array.as_deref(), bytes),
        _ => parse_csv(&file, bytes),
    }
}

fn read_npz(file: &str, want: Option<&str>, bytes: &[u8]) -> Result<Array, DataError> {
    let err = |why: String| DataError::at(file, "", why);
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| err(format!("not an .npz archive: {e}")))?;
    let mut names: Vec<String> =
        z.file_names().filter_map(|n| n.ok().and_then(|n| n.strip_suffix(".npy").map(str::to_string))).collect();
    names.sort();
    let name = match want {
        Some(n) => n.to_string(),
        None if names.len() == 1 => names[0].clone(),
        None => {
            return Err(err(format!(
                "the archive holds {} arrays ({}): name one, as `{file}:NAME`",
                names.len(),
                names.join(", ")
            )));
        }
    };
    let mut member = match z.by_name(&format!("{name}.npy")) {
        Ok(m) => m,
        Err(zip::result::ZipError::FileNotFound) => {
            return Err(err(format!("no array `{name}` in the archive (it holds: {})", names.join(", "))));
        }
        Err(e) => return Err(err(format!("array `{name}`: {e}"))),
    };
    // The member's declared size bounds what is inflated (a zip bomb stops
    // at the limit, and a size that lies is caught by the .npy checks).
    let limit = MAX_ELEMENTS * 8 + (1 << 16);
    if member.size() > limit {
        return Err(err(format!("array `{name}`: {} bytes, over the limit of {limit}", member.size())));
    }
    let mut npy = Vec::with_capacity(member.size() as usize);
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut member, limit), &mut npy)
        .map_err(|e| err(format!("array `{name}`: {e}")))?;
    read_npy_bytes(&format!("{file}:{name}"), &npy)
}

/// The longest `.npy` header read (NumPy writes well under 256 bytes for a
/// plain array, padded to a multiple of 64).
const MAX_HEADER: usize = 4096;

/// The deepest bracket nesting of a header read: a plain array's is 2
/// (the dict, the shape tuple). npyz's header parser backtracks
/// exponentially on deep nesting (found by fuzzing: 30 `[` took minutes).
const MAX_HEADER_DEPTH: usize = 3;

/// A whole `.npy` file in memory: its header's declared length is checked
/// against the bytes there before the header is read (npyz allocates it
/// as declared).
fn read_npy_bytes(file: &str, bytes: &[u8]) -> Result<Array, DataError> {
    let header = |why: String| DataError::at(file, "header", why);
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(header("not a .npy file (no \\x93NUMPY magic)".into()));
    }
    let (len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => return Err(header(format!("format version {v} (this reads 1, 2 and 3)"))),
    };
    if len > MAX_HEADER || start + len > bytes.len() {
        return Err(header(format!(
            "declares {len} header bytes; the file holds {} after the preamble (at most {MAX_HEADER} read)",
            bytes.len().saturating_sub(start)
        )));
    }
    let text = &bytes[start..start + len];
    let depth = text
        .iter()
        .scan(0usize, |d, &c| {
            match c {
                b'(' | b'[' | b'{' => *d += 1,
                b')' | b']' | b'}' => *d = d.saturating_sub(1),
                _ => {}
            }
            Some(*d)
        })
        .max()
        .unwrap_or(0);
    if depth > MAX_HEADER_DEPTH {
        return Err(header(format!("brackets nested {depth} deep: not a plain array's header")));
    }
    let mut data = bytes;
    let h = npyz::NpyHeader::from_reader(&mut data).map_err(|e| header(e.to_string()))?;
    read_npy(file, npyz::NpyFile::with_header(h, data), data.len())
}

/// Reads an array after checking its header; `available` is the number
/// of data bytes after the header.
fn read_npy<R: std::io::Read>(file: &str, npy: npyz::NpyFile<R>, available: usize) -> Result<Array, DataError> {
    let header = |why: String| DataError::at(file, "header", why);
    if npy.order() == npyz::Order::Fortran {
        return Err(header("Fortran-ordered array: save it with np.ascontiguousarray first".into()));
    }
    let shape: Vec<u64> = npy.shape().to_vec();
    let n = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d)).filter(|&n| n <= MAX_ELEMENTS);
    let Some(n) = n else {
        return Err(header(format!("shape {shape:?} exceeds the limit of {MAX_ELEMENTS} elements")));
    };
    let dtype = npy.dtype().descr();
    let size = match npy.dtype() {
        npyz::DType::Plain(t) => t.size_field(),
        _ => return Err(header(format!("dtype {dtype} is not a plain number type"))),
    };
    if n.saturating_mul(size) > available as u64 {
        return Err(header(format!(
            "shape {shape:?} of {dtype} needs {} bytes of data; the file holds {available}",
            n.saturating_mul(size)
        )));
    }
    let data = |e: std::io::Error| DataError::at(file, "data", e.to_string());
    let values: Vec<f64> = match dtype.trim_matches('\'') {
        "<f8" | ">f8" => npy.into_vec::<f64>().map_err(data)?,
        "<f4" | ">f4" => npy.into_vec::<f32>().map_err(data)?.into_iter().map(f64::from).collect(),
        "|u1" => npy.into_vec::<u8>().map_err(data)?.into_iter().map(f64::from).collect(),
        "|i1" => npy.into_vec::<i8>().map_err(data)?.into_iter().map(f64::from).collect(),
        "<u2" | ">u2" => npy.into_vec::<u16>().map_err(data)?.into_iter().map(f64::from).collect(),
        "<i2" | ">i2" => npy.into_vec::<i16>().map_err(data)?.into_iter().map(f64::from).collect(),
        "<i4" | ">i4" => npy.into_vec::<i32>().map_err(data)?.into_iter().map(f64::from).collect(),
        "<u4" | ">u4" => npy.into_vec::<u32>().map_err(data)?.into_iter().map(f64::from).collect(),
        "<i8" | ">i8" => npy.into_vec::<i64>().map_err(data)?.into_iter().map(|x| x as f64).collect(),
        "<u8" | ">u8" => npy.into_vec::<u64>().map_err(data)?.into_iter().map(|x| x as f64).collect(),
        "|b1" => npy.into_vec::<bool>().map_err(data)?.into_iter().map(|b| f64::from(u8::from(b))).collect(),
        other => return Err(header(format!("dtype {other}: expected a float, integer or bool type"))),
    };
    if values.len() as u64 != n {
        return Err(DataError::at(file, "data", format!("{} elements where the shape says {n}", values.len())));
    }
    Ok(Array { shape: shape.into_iter().map(|d| d as usize).collect(), values })
}

/// CSV: one row per line, numbers separated by commas; `#` lines and blank
/// lines are skipped, and a first line that is not numbers is a header.
fn parse_csv(file: &str, bytes: &[u8]) -> Result<Array, DataError> {
    let text = std::str::from_utf8(bytes).map_err(|e| DataError::at(file, "", format!("not UTF-8 text ({e})")))?;
    let (mut values, mut width, mut rows) = (Vec::new(), None, 0usize);
    let mut first = true;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let header = std::mem::take(&mut first) && cells.iter().any(|c| c.parse::<f64>().is_err());
        if header {
            continue;
        }
        if *width.get_or_insert(cells.len()) != cells.len() {
            let w = width.unwrap_or(0);
            return Err(DataError::at(
                file,
                format!("line {}", n + 1),
                format!("{} values, earlier rows have {w}", cells.len()),
            ));
        }
        for (c, cell) in cells.iter().enumerate() {
            let x: f64 = cell.parse().map_err(|_| {
                DataError::at(file, format!("line {}, column {}", n + 1, c + 1), format!("`{cell}` is not a number"))
            })?;
            values.push(x);
        }
        if values.len() as u64 > MAX_ELEMENTS {
            return Err(DataError::at(file, format!("line {}", n + 1), format!("more than {MAX_ELEMENTS} values")));
        }
        rows += 1;
    }
    Ok(Array { shape: vec![rows, width.unwrap_or(0)], values })
}

impl Array {
    /// The array as a matrix (rows x columns): 2-D, or 1-D as one column.
    pub fn matrix(&self) -> (usize, usize) {
        match self.shape.as_slice() {
            [n] => (*n, 1),
            [r, c] => (*r, *c),
            _ => (0, 0),
        }
    }
}

/// Labels: a 1-D array (or one column) of non-negative integers.
pub fn labels(file: &str, a: &Array) -> Result<Vec<u32>, DataError> {
    let (rows, cols) = a.matrix();
    if cols != 1 || a.shape.len() > 2 {
        return Err(DataError::at(file, "", format!("shape {:?}: labels are one column of integers", a.shape)));
    }
    (0..rows)
        .map(|i| {
            let x = a.values[i];
            if x.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&x) {
                Ok(x as u32)
            } else {
                Err(DataError::at(file, format!("label {i}"), format!("{x} is not a non-negative integer")))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(s: &str) -> Source {
        s.parse().unwrap()
    }

    fn npy_f32(shape: &[u64], values: &[f32]) -> Vec<u8> {
        let mut out = Vec::new();
        use npyz::WriterBuilder;
        let mut w = npyz::WriteOptions::<f32>::new().default_dtype().shape(shape).writer(&mut out).begin_nd().unwrap();
        w.extend(values.iter().copied()).unwrap();
        w.finish().unwrap();
        out
    }

    #[test]
    fn npy_and_csv_read_to_the_same_array() {
        let bytes = npy_f32(&[2, 3], &[0.0, 0.5, 1.0, 0.25, 0.75, 1.0]);
        let a = parse(&src("x.npy"), &bytes).unwrap();
        let csv = parse(&src("x.csv"), b"# features\na,b,c\n0,0.5,1\n\n0.25, 0.75, 1\n").unwrap();
        assert_eq!(a, csv);
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(labels("y.csv", &parse(&src("y.csv"), b"label\n3\n0\n").unwrap()).unwrap(), vec![3, 0]);
    }

    #[test]
    fn npz_members_are_read_by_name_stored_or_deflated() {
        use std::io::Write;
        let mut buf = Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut buf);
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let deflated = stored.compression_method(zip::CompressionMethod::Deflated);
        z.start_file("x.npy", deflated).unwrap();
        z.write_all(&npy_f32(&[2, 2], &[0.0, 0.5, 1.0, 0.25])).unwrap();
        z.start_file("y.npy", stored).unwrap();
        z.write_all(&npy_f32(&[2], &[3.0, 1.0])).unwrap();
        z.finish().unwrap();
        let bytes = buf.into_inner();
        let x = parse(&src("d.npz:x"), &bytes).unwrap();
        assert_eq!((x.shape.clone(), x.values.clone()), (vec![2, 2], vec![0.0, 0.5, 1.0, 0.25]));
        assert_eq!(labels("d.npz:y", &parse(&src("d.npz:y"), &bytes).unwrap()).unwrap(), vec![3, 1]);
        let e = |s: &str| parse(&src(s), &bytes).unwrap_err().to_string();
        assert_eq!(e("d.npz"), "d.npz: the archive holds 2 arrays (x, y): name one, as `d.npz:NAME`");
        assert_eq!(e("d.npz:z"), "d.npz: no array `z` in the archive (it holds: x, y)");
        assert!(e("e.npz").starts_with("e.npz: the archive holds 2"));
        // A member's own errors name it.
        let mut buf = Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut buf);
        z.start_file("x.npy", stored).unwrap();
        z.write_all(b"\x93NUMPY garbage").unwrap();
        z.finish().unwrap();
        let bad = parse(&src("b.npz"), &buf.into_inner()).unwrap_err().to_string();
        assert!(bad.starts_with("b.npz:x: header: "), "{bad}");
        assert!(parse(&src("d.npz:x"), b"PK not a zip").unwrap_err().to_string().contains("not an .npz archive"));
    }

    #[test]
    fn bad_files_are_refused_with_the_file_and_place() {
        let e = |s: &str, b: &[u8]| parse(&src(s), b).unwrap_err().to_string();
        assert_eq!(e("x.csv", b"1,2\n3\n"), "x.csv: line 2: 1 values, earlier rows have 2");
        assert_eq!(e("x.csv", b"1,2\n3,zz\n"), "x.csv: line 2, column 2: `zz` is not a number");
        assert!(e("x.npy", b"not numpy").starts_with("x.npy: header: not a .npy file"));
        // Found by fuzzing: a version-3 header that declares 2.8 GB (npyz
        // would allocate it before reading).
        let mut lying = b"\x93NUMPY\x03\x00\x76\x00\x7b\xa7{'descr'".to_vec();
        lying.extend([0u8; 20]);
        assert!(e("x.npy", &lying).contains("declares 2809856118 header bytes"), "{}", e("x.npy", &lying));
        // Found by fuzzing too: deep nesting sends npyz's header parser
        // into exponential backtracking.
        let mut deep = b"\x93NUMPY\x01\x00\x40\x00".to_vec();
        deep.extend(format!("{:<63}\n", format!("{}{{'descr': '<i8'", "[".repeat(30))).bytes());
        assert!(e("x.npy", &deep).contains("brackets nested 31 deep"), "{}", e("x.npy", &deep));
        // A header that claims more than the file holds is refused before reading.
        let mut bytes = npy_f32(&[2, 3], &[0.0; 6]);
        bytes.truncate(bytes.len() - 4);
        assert!(e("x.npy", &bytes).contains("needs 24 bytes of data; the file holds 20"), "{}", e("x.npy", &bytes));
        // (A header edited to claim 9 x 2^20 x 2^20 elements.)
        let mut huge = npy_f32(&[0, 1 << 20, 1 << 20], &[]);
        let at = huge.windows(3).position(|w| w == b"(0,").unwrap();
        huge[at + 1] = b'9';
        assert!(e("x.npy", &huge).contains("exceeds the limit"), "{}", e("x.npy", &huge));
        let l = labels("y.csv", &parse(&src("y.csv"), b"1\n2.5\n").unwrap()).unwrap_err().to_string();
        assert_eq!(l, "y.csv: label 1: 2.5 is not a non-negative integer");
        assert!("x.npz:".parse::<Source>().is_err());
        assert_eq!(src("d.npz:y"), Source { path: "d.npz".into(), array: Some("y".into()) });
    }
}
