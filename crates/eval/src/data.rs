//! Datasets as users bring them: NumPy `.npy`, one array of an `.npz`
//! (`file.npz:name`), or a text table, read by `fpnna-data` (the one reader
//! of these formats) into a dense row-major [`Array`]; and labels.

pub use fpnna_data::{Array, DataError, MAX_ELEMENTS, Source, parse};

/// Labels: a 1-D array (or one column) of non-negative integers.
pub fn labels(file: &str, a: &Array) -> Result<Vec<u32>, DataError> {
    let Some((rows, 1)) = a.matrix() else {
        return Err(DataError::at(file, "", format!("shape {:?}: labels are one column of integers", a.shape)));
    };
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

    #[test]
    fn labels_are_one_column_of_non_negative_integers() {
        assert_eq!(labels("y.csv", &parse(&src("y.csv"), b"label\n3\n0\n").unwrap()).unwrap(), vec![3, 0]);
        let l = labels("y.csv", &parse(&src("y.csv"), b"1\n2.5\n").unwrap()).unwrap_err().to_string();
        assert_eq!(l, "y.csv: label 1: 2.5 is not a non-negative integer");
        let two = parse(&src("y.csv"), b"1,2\n").unwrap();
        assert_eq!(
            labels("y.csv", &two).unwrap_err().to_string(),
            "y.csv: shape [1, 2]: labels are one column of integers"
        );
    }
}
