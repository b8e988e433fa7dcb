//! Text tables of numbers: one row per line, cells separated by commas or
//! by whitespace (what `np.savetxt` writes by default). Blank lines and
//! `#` comments are skipped; the first other line is a header only if no
//! cell of it holds a number at all, so a malformed number there (`NaN`,
//! `inf`, an empty cell, `1.2.3`) is an error naming its cell.

use crate::{Array, DataError, MAX_ELEMENTS};

/// The rows of a text table, each with its 1-based line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// (line, values) of every data row, in file order.
    pub rows: Vec<(usize, Vec<f64>)>,
}

/// Whether a cell is written as a number, well or not: digits, a sign or
/// point before digits, or NaN and infinity as NumPy writes them.
fn looks_numeric(cell: &str) -> bool {
    let s = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    let s = s.strip_prefix('.').unwrap_or(s);
    s.starts_with(|c: char| c.is_ascii_digit()) || matches!(s.to_ascii_lowercase().as_str(), "nan" | "inf" | "infinity")
}

/// Parses a text table; `file` names it in errors. The delimiter is the
/// first data line's: commas if it has one, whitespace otherwise.
pub fn parse_text(file: &str, bytes: &[u8]) -> Result<Table, DataError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        DataError::at(
            file,
            "",
            format!(
                "not UTF-8 text (byte {}): a binary file? .npy and .npz are read by their extension",
                e.valid_up_to()
            ),
        )
    })?;
    let mut rows = Vec::new();
    let (mut commas, mut first, mut count) = (None, true, 0u64);
    for (k, line) in text.lines().enumerate() {
        let n = k + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let commas = *commas.get_or_insert_with(|| line.contains(','));
        let cells: Vec<&str> =
            if commas { line.split(',').map(str::trim).collect() } else { line.split_whitespace().collect() };
        if std::mem::take(&mut first) && !cells.iter().any(|c| looks_numeric(c)) {
            continue; // the header
        }
        let mut values = Vec::with_capacity(cells.len());
        for (c, cell) in cells.iter().enumerate() {
            let at = format!("line {n}, column {}", c + 1);
            let why = match cell.parse::<f64>() {
                Ok(x) if x.is_finite() => {
                    values.push(x);
                    continue;
                }
                Ok(_) => format!("`{cell}` is not a finite number"),
                Err(_) if cell.is_empty() => "an empty cell is not a number".to_string(),
                Err(_) => format!("`{cell}` is not a number"),
            };
            return Err(DataError::at(file, at, why));
        }
        count += values.len() as u64;
        if count > MAX_ELEMENTS {
            return Err(DataError::at(file, format!("line {n}"), format!("more than {MAX_ELEMENTS} values")));
        }
        rows.push((n, values));
    }
    Ok(Table { rows })
}

impl Table {
    /// The table as a `[rows, columns]` array: every row as long as the
    /// first.
    pub fn into_array(self, file: &str) -> Result<Array, DataError> {
        let width = self.rows.first().map_or(0, |(_, r)| r.len());
        let mut values = Vec::with_capacity(self.rows.len() * width);
        let rows = self.rows.len();
        for (line, r) in self.rows {
            if r.len() != width {
                return Err(DataError::at(
                    file,
                    format!("line {line}"),
                    format!("{} values, earlier rows have {width}", r.len()),
                ));
            }
            values.extend(r);
        }
        Ok(Array { shape: vec![rows, width], values })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<(usize, Vec<f64>)> {
        parse_text("w.csv", text.as_bytes()).unwrap().rows
    }

    fn err(text: &str) -> String {
        parse_text("w.csv", text.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn blank_lines_comments_and_a_header_are_skipped_and_lines_kept() {
        assert_eq!(rows("pre,post\n\n# note\n1, 2.5\n3,4\n"), vec![(4, vec![1.0, 2.5]), (5, vec![3.0, 4.0])]);
        // A header after comments is still the first data line.
        assert_eq!(rows("# weights\npre,post\n1,2\n"), vec![(3, vec![1.0, 2.0])]);
        // An index column left blank in a header (pandas) is still a header.
        assert_eq!(rows(",a,b\n0,1,2\n"), vec![(2, vec![0.0, 1.0, 2.0])]);
    }

    #[test]
    fn whitespace_delimited_tables_read_as_savetxt_writes_them() {
        let savetxt = "# w\n1.000000000000000000e+00 -2.500000000000000000e-01\n\t3   4\n";
        assert_eq!(rows(savetxt), vec![(2, vec![1.0, -0.25]), (3, vec![3.0, 4.0])]);
        assert_eq!(rows(savetxt), rows("1, -0.25\n3,4\n").into_iter().map(|(l, r)| (l + 1, r)).collect::<Vec<_>>());
        assert_eq!(rows("pre post w\n0 1 0.5\n"), vec![(2, vec![0.0, 1.0, 0.5])]);
    }

    #[test]
    fn a_malformed_number_in_line_one_is_an_error_not_a_header() {
        assert_eq!(err("0.5,NaN,1\n"), "w.csv: line 1, column 2: `NaN` is not a finite number");
        assert_eq!(err("inf 1\n"), "w.csv: line 1, column 1: `inf` is not a finite number");
        assert_eq!(err("1,,2\n"), "w.csv: line 1, column 2: an empty cell is not a number");
        assert_eq!(err("1.2.3\n"), "w.csv: line 1, column 1: `1.2.3` is not a number");
        assert_eq!(err("w,1\n"), "w.csv: line 1, column 1: `w` is not a number");
        // A second header-like line is data.
        assert_eq!(err("a,b\nc,d\n"), "w.csv: line 2, column 1: `c` is not a number");
        assert_eq!(err("1,2\n3,x\n"), "w.csv: line 2, column 2: `x` is not a number");
        assert!(parse_text("w.npy", b"\x93NUMPY\x01\xff").unwrap_err().to_string().contains("by their extension"));
    }

    #[test]
    fn arrays_from_tables_are_rectangular() {
        let t = parse_text("x.csv", b"# f\na,b,c\n0,0.5,1\n\n0.25 , 0.75, 1\n").unwrap();
        assert_eq!(
            t.into_array("x.csv").unwrap(),
            Array { shape: vec![2, 3], values: vec![0.0, 0.5, 1.0, 0.25, 0.75, 1.0] }
        );
        let e = parse_text("x.csv", b"1,2\n3\n").unwrap().into_array("x.csv").unwrap_err();
        assert_eq!(e.to_string(), "x.csv: line 2: 1 values, earlier rows have 2");
        assert_eq!(Table::default().into_array("e.csv").unwrap().shape, vec![0, 0]);
    }
}
