//! File output that never leaves a half-written file behind.

use crate::error::CliError;
use std::path::Path;

/// Writes `bytes` to `path` atomically: into a temporary file beside it,
/// then renamed over it. On any failure the target is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| CliError::Input(format!("{}: not a file name", path.display())))?;
    let tmp = dir.join(format!(".{}.tmp{}", name.to_string_lossy(), std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        CliError::Input(format!("{}: cannot write: {e}", path.display()))
    })
}

/// Reads a whole file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::Input(format!("{}: cannot read: {e}", path.display())))
}

/// Reads a whole file of at most `max` bytes (a larger one is refused
/// before it is read), naming it in the error.
pub fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, CliError> {
    use std::io::Read;
    let err = |e: std::io::Error| CliError::Input(format!("{}: cannot read: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(err)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(err)?;
    if bytes.len() as u64 > max {
        return Err(CliError::Input(format!("{}: larger than the limit of {max} bytes", path.display())));
    }
    Ok(bytes)
}

/// An output file written through a temporary file beside it and renamed
/// into place by [`AtomicFile::commit`]; dropped uncommitted, it vanishes.
pub struct AtomicFile {
    tmp: std::path::PathBuf,
    path: std::path::PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

impl AtomicFile {
    /// Creates the temporary file for `path`.
    pub fn create(path: &Path) -> Result<Self, CliError> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = path.file_name().ok_or_else(|| CliError::Input(format!("{}: not a file name", path.display())))?;
        let tmp = dir.join(format!(".{}.tmp{}", name.to_string_lossy(), std::process::id()));
        let file = std::fs::File::create(&tmp)
            .map_err(|e| CliError::Input(format!("{}: cannot write: {e}", path.display())))?;
        Ok(AtomicFile { tmp, path: path.to_path_buf(), file: Some(std::io::BufWriter::new(file)) })
    }

    /// The writer.
    pub fn writer(&mut self) -> &mut std::io::BufWriter<std::fs::File> {
        self.file.as_mut().expect("not committed yet")
    }

    /// Flushes and renames the file into place.
    pub fn commit(mut self) -> Result<(), CliError> {
        let file = self.file.take().expect("committed once");
        let err = |e: std::io::Error| CliError::Input(format!("{}: cannot write: {e}", self.path.display()));
        file.into_inner().map_err(|e| err(e.into_error()))?.sync_all().map_err(err)?;
        std::fs::rename(&self.tmp, &self.path).map_err(err)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.is_some() {
            self.file = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
