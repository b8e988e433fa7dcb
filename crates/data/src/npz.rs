//! `.npz` archives: zips of `.npy` members named `NAME.npy`, stored
//! (`np.savez`) or deflated (`np.savez_compressed`). Read one array by
//! name, or every array; written deterministically (fixed timestamps,
//! members in the order added).

use crate::{Array, DataError, MAX_ELEMENTS, read_npy};
use std::io::{Cursor, Write};

/// The most bytes inflated from one archive: a zip bomb stops here.
const MAX_INFLATED: u64 = MAX_ELEMENTS * 8 + (1 << 16);

/// An archive read from memory.
type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

/// Opens an archive, with the names of its arrays, sorted.
fn open<'a>(file: &str, bytes: &'a [u8]) -> Result<(Archive<'a>, Vec<String>), DataError> {
    let err = |why: String| DataError::at(file, "", why);
    let z = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| err(format!("not an .npz archive: {e}")))?;
    let mut names: Vec<String> =
        z.file_names().filter_map(|n| n.ok().and_then(|n| n.strip_suffix(".npy").map(str::to_string))).collect();
    names.sort();
    Ok((z, names))
}

/// Inflates member `name` (its `.npy` bytes), at most `budget` bytes.
fn member(file: &str, z: &mut Archive<'_>, names: &[String], name: &str, budget: u64) -> Result<Vec<u8>, DataError> {
    let err = |why: String| DataError::at(file, "", why);
    let mut m = match z.by_name(&format!("{name}.npy")) {
        Ok(m) => m,
        Err(zip::result::ZipError::FileNotFound) => {
            return Err(err(format!("no array `{name}` in the archive (it holds: {})", names.join(", "))));
        }
        Err(e) => return Err(err(format!("array `{name}`: {e}"))),
    };
    // The member's declared size bounds what is inflated (and a size that
    // lies is caught by the .npy checks).
    if m.size() > budget {
        return Err(err(format!("array `{name}`: {} bytes, over the limit of {budget}", m.size())));
    }
    let mut npy = Vec::with_capacity(m.size() as usize);
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut m, budget), &mut npy)
        .map_err(|e| err(format!("array `{name}`: {e}")))?;
    Ok(npy)
}

/// Reads array `want` of an `.npz` (`None`: the archive's only array);
/// `file` names the archive in errors, and `file:NAME` a member's.
pub fn read_npz(file: &str, want: Option<&str>, bytes: &[u8]) -> Result<Array, DataError> {
    let (mut z, names) = open(file, bytes)?;
    let name = match want {
        Some(n) => n.to_string(),
        None if names.len() == 1 => names[0].clone(),
        None => {
            return Err(DataError::at(
                file,
                "",
                format!(
                    "the archive holds {} arrays ({}): name one, as `{file}:NAME`",
                    names.len(),
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                ),
            ));
        }
    };
    let npy = member(file, &mut z, &names, &name, MAX_INFLATED)?;
    read_npy(&format!("{file}:{name}"), &npy)
}

/// Every array of an `.npz`, sorted by name; together they may inflate to
/// no more than one array's limit.
pub fn npz_arrays(file: &str, bytes: &[u8]) -> Result<Vec<(String, Array)>, DataError> {
    let (mut z, names) = open(file, bytes)?;
    let mut budget = MAX_INFLATED;
    let mut out = Vec::with_capacity(names.len());
    for name in &names {
        let npy = member(file, &mut z, &names, name, budget)?;
        budget -= npy.len() as u64;
        out.push((name.clone(), read_npy(&format!("{file}:{name}"), &npy)?));
    }
    Ok(out)
}

/// Writes an `.npz` of `uint8` arrays (spike counts), deflated as
/// `np.savez_compressed` does; the same arrays give the same bytes.
pub struct NpzWriter {
    z: zip::ZipWriter<Cursor<Vec<u8>>>,
}

impl Default for NpzWriter {
    fn default() -> Self {
        NpzWriter { z: zip::ZipWriter::new(Cursor::new(Vec::new())) }
    }
}

impl NpzWriter {
    /// Adds array `name` of shape `[rows, cols]`, C order, `fill(r, row)`
    /// writing row `r` (zeroed before each call).
    pub fn add_u8(
        &mut self,
        name: &str,
        rows: usize,
        cols: usize,
        mut fill: impl FnMut(usize, &mut [u8]),
    ) -> std::io::Result<()> {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .large_file(rows as u64 * cols as u64 > u64::from(u32::MAX) / 2);
        self.z.start_file(format!("{name}.npy"), opts).map_err(std::io::Error::other)?;
        self.z.write_all(&npy_header("|u1", &[rows, cols]))?;
        let mut row = vec![0u8; cols];
        for r in 0..rows {
            row.fill(0);
            fill(r, &mut row);
            self.z.write_all(&row)?;
        }
        Ok(())
    }

    /// The archive's bytes.
    pub fn finish(self) -> std::io::Result<Vec<u8>> {
        Ok(self.z.finish().map_err(std::io::Error::other)?.into_inner())
    }
}

/// A version 1.0 `.npy` header for a C-order array: the magic, the
/// version, the length, and the dict padded with spaces to a multiple of
/// 64 bytes, ending in a newline.
fn npy_header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let tuple = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple}, }}");
    let total = 10 + dict.len() + 1;
    dict.push_str(&" ".repeat(total.next_multiple_of(64) - total));
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((dict.len() as u16).to_le_bytes());
    out.extend(dict.bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::tests::npy;

    fn archive(members: &[(&str, Vec<u8>, bool)]) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut buf);
        for (name, bytes, deflate) in members {
            let m = if *deflate { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
            z.start_file(*name, zip::write::SimpleFileOptions::default().compression_method(m)).unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap();
        buf.into_inner()
    }

    #[test]
    fn members_are_read_by_name_stored_or_deflated() {
        let x = npy(&[2, 2], &[0.0f32, 0.5, 1.0, 0.25], npyz::Order::C);
        let y = npy(&[2], &[3.0f32, 1.0], npyz::Order::C);
        let bytes = archive(&[("x.npy", x, true), ("y.npy", y, false)]);
        let a = read_npz("d.npz", Some("x"), &bytes).unwrap();
        assert_eq!((a.shape, a.values), (vec![2, 2], vec![0.0, 0.5, 1.0, 0.25]));
        let all = npz_arrays("d.npz", &bytes).unwrap();
        assert_eq!(all.iter().map(|(n, a)| (n.as_str(), a.values.len())).collect::<Vec<_>>(), [("x", 4), ("y", 2)]);
        let e = |w: Option<&str>, b: &[u8]| read_npz("d.npz", w, b).unwrap_err().to_string();
        assert_eq!(e(None, &bytes), "d.npz: the archive holds 2 arrays (x, y): name one, as `d.npz:NAME`");
        assert_eq!(e(Some("z"), &bytes), "d.npz: no array `z` in the archive (it holds: x, y)");
        // A member's own errors name it.
        let bad = archive(&[("x.npy", b"\x93NUMPY garbage".to_vec(), false)]);
        assert!(e(None, &bad).starts_with("d.npz:x: header: "), "{}", e(None, &bad));
        assert!(npz_arrays("d.npz", &bad).unwrap_err().to_string().starts_with("d.npz:x: header: "));
        assert!(e(Some("x"), b"PK not a zip").contains("not an .npz archive"));
    }

    #[test]
    fn written_archives_read_back_and_are_reproducible() {
        let write = || {
            let mut w = NpzWriter::default();
            w.add_u8("out", 3, 4, |r, row| row[r] = 1).unwrap();
            w.add_u8("l1.e", 2, 1, |r, row| row[0] = r as u8 * 2).unwrap();
            w.finish().unwrap()
        };
        let bytes = write();
        assert_eq!(bytes, write());
        let all = npz_arrays("s.npz", &bytes).unwrap();
        assert_eq!(all[0].0, "l1.e");
        assert_eq!(all[0].1, Array { shape: vec![2, 1], values: vec![0.0, 2.0] });
        let out = &all[1].1;
        assert_eq!(out.shape, vec![3, 4]);
        assert_eq!(out.values, [[1., 0., 0., 0.], [0., 1., 0., 0.], [0., 0., 1., 0.]].concat());
        // npyz, an independent reader, agrees on the header.
        let npy = member("s.npz", &mut open("s.npz", &bytes).unwrap().0, &[], "out", MAX_INFLATED).unwrap();
        let f = npyz::NpyFile::new(&npy[..]).unwrap();
        assert_eq!((f.shape().to_vec(), f.dtype().descr()), (vec![3, 4], "'|u1'".to_string()));
        assert_eq!(npy_header("|u1", &[5]).len() % 64, 0);
    }
}
