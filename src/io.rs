//! File output that never leaves a half-written file behind.

use crate::error::CliError;
use std::path::Path;

/// Writes `bytes` to `path` atomically: into a temporary file beside it,
/// then renamed over it. On any failure the target is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut out = Outputs::default();
    out.add(path, bytes)?;
    out.commit()
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
/// into place with the command's other outputs ([`Outputs::add_file`]);
/// dropped before, it vanishes.
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
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.is_some() {
            self.file = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// The outputs of one command, committed together: each is first written
/// whole to a temporary file beside its target; [`Outputs::commit`] renames
/// them all into place only once every one is complete, so a command that
/// fails on its second output leaves its first untouched too. Dropped
/// uncommitted, the temporaries are removed.
#[derive(Default)]
pub struct Outputs {
    /// (temporary, target) of each output written so far.
    staged: Vec<(std::path::PathBuf, std::path::PathBuf)>,
}

impl Outputs {
    /// Writes `bytes` to the temporary of `path`.
    pub fn add(&mut self, path: &Path, bytes: &[u8]) -> Result<(), CliError> {
        let mut f = AtomicFile::create(path)?;
        std::io::Write::write_all(f.writer(), bytes)
            .map_err(|e| CliError::Input(format!("{}: cannot write: {e}", path.display())))?;
        self.add_file(f)
    }

    /// Takes a streamed output, complete (flushed and synced, not yet renamed).
    pub fn add_file(&mut self, mut f: AtomicFile) -> Result<(), CliError> {
        let file = f.file.take().expect("not committed yet");
        let err = |e: std::io::Error| CliError::Input(format!("{}: cannot write: {e}", f.path.display()));
        let synced = file.into_inner().map_err(|e| err(e.into_error())).and_then(|w| w.sync_all().map_err(err));
        let (tmp, path) = (std::mem::take(&mut f.tmp), std::mem::take(&mut f.path));
        if let Err(e) = synced {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        self.staged.push((tmp, path));
        Ok(())
    }

    /// Renames every output into place.
    pub fn commit(mut self) -> Result<(), CliError> {
        for (tmp, path) in std::mem::take(&mut self.staged) {
            std::fs::rename(&tmp, &path).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                CliError::Input(format!("{}: cannot write: {e}", path.display()))
            })?;
        }
        Ok(())
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        for (tmp, _) in &self.staged {
            let _ = std::fs::remove_file(tmp);
        }
    }
}
