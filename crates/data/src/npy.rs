//! `.npy` files: float, integer and bool dtypes, C or Fortran order, read
//! into a C-order [`Array`] after the header's claims are checked against
//! the bytes there.

use crate::{Array, DataError, MAX_ELEMENTS};

/// The longest `.npy` header read (NumPy writes well under 256 bytes for a
/// plain array, padded to a multiple of 64).
const MAX_HEADER: usize = 4096;

/// The deepest bracket nesting of a header read: a plain array's is 2
/// (the dict, the shape tuple). npyz's header parser backtracks
/// exponentially on deep nesting (found by fuzzing: 30 `[` took minutes).
const MAX_HEADER_DEPTH: usize = 3;

/// Reads a whole `.npy` file in memory; `file` names it in errors. The
/// header's declared length is checked against the bytes there before the
/// header is read (npyz allocates it as declared), and the shape against
/// [`MAX_ELEMENTS`] and the data bytes before the data is.
pub fn read_npy(file: &str, bytes: &[u8]) -> Result<Array, DataError> {
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
    read_data(file, npyz::NpyFile::with_header(h, data), data.len())
}

/// Reads an array after checking its header; `available` is the number
/// of data bytes after the header.
fn read_data<R: std::io::Read>(file: &str, npy: npyz::NpyFile<R>, available: usize) -> Result<Array, DataError> {
    let header = |why: String| DataError::at(file, "header", why);
    let fortran = npy.order() == npyz::Order::Fortran;
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
    let shape: Vec<usize> = shape.into_iter().map(|d| d as usize).collect();
    let values = if fortran { fortran_to_c(&shape, &values) } else { values };
    Ok(Array { shape, values })
}

/// The elements of a Fortran-order (first axis fastest) array in C order
/// (last axis fastest).
fn fortran_to_c(shape: &[usize], f: &[f64]) -> Vec<f64> {
    // Fortran strides: axis k steps over the product of the axes before it.
    let mut stride = vec![1usize; shape.len()];
    for k in 1..shape.len() {
        stride[k] = stride[k - 1] * shape[k - 1];
    }
    let mut idx = vec![0usize; shape.len()];
    let mut out = Vec::with_capacity(f.len());
    for _ in 0..f.len() {
        out.push(f[idx.iter().zip(&stride).map(|(i, s)| i * s).sum::<usize>()]);
        // Advance the C-order index: last axis fastest.
        for k in (0..shape.len()).rev() {
            idx[k] += 1;
            if idx[k] < shape[k] {
                break;
            }
            idx[k] = 0;
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use npyz::WriterBuilder;

    /// An `.npy` of `values` (given in C order) stored in `order`.
    pub(crate) fn npy<T: npyz::AutoSerialize + Copy>(shape: &[u64], values: &[T], order: npyz::Order) -> Vec<u8> {
        let c_index = |f: usize| -> usize {
            // The C-order position of the element at Fortran position f.
            let (mut rest, mut c, mut c_stride) = (f, 0usize, 1usize);
            let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
            let mut idx = vec![0; dims.len()];
            for (k, &d) in dims.iter().enumerate() {
                idx[k] = rest % d;
                rest /= d;
            }
            for k in (0..dims.len()).rev() {
                c += idx[k] * c_stride;
                c_stride *= dims[k];
            }
            c
        };
        let stored: Vec<T> = match order {
            npyz::Order::C => values.to_vec(),
            npyz::Order::Fortran => (0..values.len()).map(|f| values[c_index(f)]).collect(),
        };
        let mut out = Vec::new();
        let mut w = npyz::WriteOptions::<T>::new()
            .default_dtype()
            .shape(shape)
            .order(order)
            .writer(&mut out)
            .begin_nd()
            .unwrap();
        w.extend(stored).unwrap();
        w.finish().unwrap();
        out
    }

    #[test]
    fn c_and_fortran_order_and_every_dtype_read_to_the_same_array() {
        let c: Vec<f64> = (0..24).map(f64::from).collect();
        let want = Array { shape: vec![2, 3, 4], values: c.clone() };
        let i32s: Vec<i32> = (0..24).collect();
        let u8s: Vec<u8> = (0..24).collect();
        for bytes in [
            npy(&[2, 3, 4], &c, npyz::Order::C),
            npy(&[2, 3, 4], &c, npyz::Order::Fortran),
            npy(&[2, 3, 4], &i32s, npyz::Order::Fortran),
            npy(&[2, 3, 4], &u8s, npyz::Order::C),
            npy(&[2, 3, 4], &i32s.iter().map(|&x| x as f32).collect::<Vec<_>>(), npyz::Order::Fortran),
        ] {
            assert_eq!(read_npy("x.npy", &bytes).unwrap(), want);
        }
        let m = npy(&[2, 3], &[1i64, 2, 3, 4, 5, 6], npyz::Order::Fortran);
        assert_eq!(read_npy("m.npy", &m).unwrap().values, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn bad_npy_files_are_refused_with_the_file_and_place() {
        let e = |b: &[u8]| read_npy("x.npy", b).unwrap_err().to_string();
        assert!(e(b"not numpy").starts_with("x.npy: header: not a .npy file"));
        // Found by fuzzing: a version-3 header that declares 2.8 GB (npyz
        // would allocate it before reading).
        let mut lying = b"\x93NUMPY\x03\x00\x76\x00\x7b\xa7{'descr'".to_vec();
        lying.extend([0u8; 20]);
        assert!(e(&lying).contains("declares 2809856118 header bytes"), "{}", e(&lying));
        // Found by fuzzing too: deep nesting sends npyz's header parser
        // into exponential backtracking.
        let mut deep = b"\x93NUMPY\x01\x00\x40\x00".to_vec();
        deep.extend(format!("{:<63}\n", format!("{}{{'descr': '<i8'", "[".repeat(30))).bytes());
        assert!(e(&deep).contains("brackets nested 31 deep"), "{}", e(&deep));
        // A header that claims more than the file holds is refused before reading.
        let mut bytes = npy(&[2, 3], &[0.0f32; 6], npyz::Order::C);
        bytes.truncate(bytes.len() - 4);
        assert!(e(&bytes).contains("needs 24 bytes of data; the file holds 20"), "{}", e(&bytes));
        // (A header edited to claim 9 x 2^20 x 2^20 elements.)
        let mut huge = npy::<f32>(&[0, 1 << 20, 1 << 20], &[], npyz::Order::C);
        let at = huge.windows(3).position(|w| w == b"(0,").unwrap();
        huge[at + 1] = b'9';
        assert!(e(&huge).contains("exceeds the limit"), "{}", e(&huge));
        let complex = b"\x93NUMPY\x01\x00\x76\x00{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }";
        let mut complex = complex.to_vec();
        complex.resize(10 + 0x76, b' ');
        complex.extend([0u8; 16]);
        assert!(e(&complex).contains("<c16"), "{}", e(&complex));
    }
}
