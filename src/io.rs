//! Input and output files: `-` is standard input or output, outputs never
//! leave a half-written file behind, and an existing device or FIFO is
//! written in place, never renamed over (docs/cli.md, "Streams").

use crate::error::CliError;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether an output of this command goes to standard output: the printed
/// result then goes to standard error ([`print_result`]).
static STDOUT_TAKEN: AtomicBool = AtomicBool::new(false);

/// Whether standard input was read (it can be only once).
static STDIN_TAKEN: AtomicBool = AtomicBool::new(false);

/// Whether `path` names standard input or output.
pub fn is_std(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// A path as messages name it (`-` is `standard output` or `standard input`).
pub fn shown(path: &Path, what: &str) -> String {
    if is_std(path) { what.to_string() } else { path.display().to_string() }
}

/// Prints a command's result: to standard output, or to standard error
/// when an output file of the same command took standard output.
pub fn print_result(text: &str) {
    if STDOUT_TAKEN.load(Ordering::Relaxed) {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
}

/// Writes `bytes` to `path` atomically: into a temporary file beside it,
/// then renamed over it. On any failure the target is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut out = Outputs::default();
    out.add(path, bytes)?;
    out.commit()
}

/// The most bytes read from each kind of input (docs/cli.md, "Limits").
pub mod limits {
    /// A bitstream (`.fpb`).
    pub const BITSTREAM: u64 = 1 << 30;
    /// An assembly text (`.fpa`).
    pub const ASSEMBLY: u64 = 1 << 30;
    /// A stimulus file.
    pub const STIMULUS: u64 = fpnna_data::MAX_FILE_BYTES;
    /// A saved emulator state.
    pub const STATE: u64 = 1 << 30;
    /// A run's statistics (`run --stats`, read by `plot activity`).
    pub const STATS: u64 = 1 << 30;
    /// An architecture file (a preset is about 2 KB).
    pub const ARCH: u64 = fpnna_arch::MAX_ARCH_BYTES;
}

/// Reads a whole file (`-`: standard input) of at most `max` bytes (a
/// larger one is refused at the limit), naming it in the error.
pub fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, CliError> {
    use std::io::Read;
    let name = shown(path, "standard input");
    let err = |e: std::io::Error| CliError::Input(format!("{name}: cannot read: {e}"));
    let mut bytes = Vec::new();
    if is_std(path) {
        if STDIN_TAKEN.swap(true, Ordering::Relaxed) {
            return Err(CliError::Usage("`-` names standard input twice: it can be read only once".into()));
        }
        std::io::stdin().lock().take(max.saturating_add(1)).read_to_end(&mut bytes).map_err(err)?;
        if bytes.len() as u64 > max {
            return Err(CliError::Input(format!("{name}: larger than the limit of {max} bytes")));
        }
        Ok(bytes)
    } else {
        fpnna_data::read_bounded(path, max, false).map_err(|e| CliError::Input(format!("{name}: {e}")))
    }
}

/// Where a finished output goes.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    /// A regular file (or none yet): renamed over from a temporary beside it.
    Rename(PathBuf),
    /// An existing device, FIFO or socket: written in place.
    InPlace(PathBuf),
    /// Standard output (`-`, `/dev/stdout`).
    Stdout,
}

impl Target {
    fn of(path: &Path) -> Target {
        if is_std(path) || path == Path::new("/dev/stdout") {
            return Target::Stdout;
        }
        match std::fs::metadata(path) {
            Ok(m) if !m.is_file() && !m.is_dir() => Target::InPlace(path.to_path_buf()),
            _ => Target::Rename(through_links(path)),
        }
    }

    fn name(&self) -> String {
        match self {
            Target::Rename(p) | Target::InPlace(p) => p.display().to_string(),
            Target::Stdout => "standard output".into(),
        }
    }
}

/// The file a path names, following symbolic links (a dangling one to the
/// file it would name), so that an output is written through a link, not
/// over it.
fn through_links(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    // A bounded walk: a loop of links ends at the limit, and the write
    // then fails on it with the system's message.
    for _ in 0..40 {
        match std::fs::read_link(&p) {
            Ok(to) => p = p.parent().map_or(to.clone(), |d| d.join(&to)),
            Err(_) => break,
        }
    }
    p
}

/// An output file written first to a temporary file (beside a regular
/// target, in the system's temporary directory for a stream) and put in
/// place with the command's other outputs ([`Outputs::add_file`]);
/// dropped before, it vanishes.
pub struct AtomicFile {
    tmp: PathBuf,
    target: Target,
    file: Option<std::io::BufWriter<std::fs::File>>,
    /// A part of a checkpointed run: kept when dropped uncommitted.
    part: bool,
}

impl AtomicFile {
    /// Creates the temporary file for `path`.
    pub fn create(path: &Path) -> Result<Self, CliError> {
        let target = Target::of(path);
        let tmp = match &target {
            Target::Rename(file) => {
                let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                let name =
                    file.file_name().ok_or_else(|| CliError::Input(format!("{}: not a file name", path.display())))?;
                crate::temporaries::beside(dir, &name.to_string_lossy())
            }
            Target::InPlace(_) | Target::Stdout => crate::temporaries::for_stream(),
        };
        let file = std::fs::File::create(&tmp).map_err(|e| {
            crate::temporaries::gone(&tmp);
            CliError::Input(format!("{}: cannot write: {e}", shown(path, "standard output")))
        })?;
        Ok(AtomicFile { tmp, target, file: Some(std::io::BufWriter::new(file)), part: false })
    }

    /// The output `path` of a checkpointed run, streamed to its part file
    /// `.NAME.fpnna-part` beside it: a stable name that `run --resume`
    /// finds again, neither swept nor removed on a signal or a failure
    /// (the checkpoint needs it). `resume_at`: go on with the part a
    /// checkpoint recorded, cut back to the length it recorded; else a new
    /// part. Only a regular file (or none yet) can be the target.
    pub fn part(path: &Path, flag: &str, resume_at: Option<u64>) -> Result<Self, CliError> {
        let target = Target::of(path);
        let Target::Rename(file) = &target else {
            return Err(CliError::Usage(format!(
                "{flag} {}: a checkpointed run streams this output to a file beside it: give a file, not a stream",
                path.display()
            )));
        };
        let tmp = part_of(file)?;
        let err = |e: std::io::Error| CliError::Input(format!("{}: cannot write: {e}", tmp.display()));
        let f = match resume_at {
            None => std::fs::File::create(&tmp).map_err(err)?,
            Some(len) => {
                let f = std::fs::OpenOptions::new().append(true).open(&tmp).map_err(err)?;
                let has = f.metadata().map_err(err)?.len();
                if has < len {
                    return Err(CliError::Input(format!(
                        "{}: {has} bytes, but the checkpoint recorded {len}: the part file was cut or replaced",
                        tmp.display()
                    )));
                }
                f.set_len(len).map_err(err)?;
                f
            }
        };
        Ok(AtomicFile { tmp, target, file: Some(std::io::BufWriter::new(f)), part: true })
    }

    /// The file written to (until committed).
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    /// The writer.
    pub fn writer(&mut self) -> &mut std::io::BufWriter<std::fs::File> {
        self.file.as_mut().expect("not committed yet")
    }
}

/// Whether `path` names a regular file (or none yet), not a stream.
pub fn is_file_target(path: &Path) -> bool {
    matches!(Target::of(path), Target::Rename(_))
}

/// The part file of the output `file` (`.NAME.fpnna-part` beside it).
pub fn part_of(file: &Path) -> Result<PathBuf, CliError> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = file.file_name().ok_or_else(|| CliError::Input(format!("{}: not a file name", file.display())))?;
    Ok(dir.join(format!(".{}.fpnna-part", name.to_string_lossy())))
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.is_some() && !self.part {
            self.file = None;
            remove(&self.tmp);
        }
    }
}

/// The outputs of one command, committed together: each is first written
/// whole to a temporary file; [`Outputs::commit`] puts them all in place
/// only once every one is complete (streams first, written in place, then
/// regular files renamed), so a command that fails on its second output
/// leaves its first untouched too. Dropped uncommitted, the temporaries
/// are removed.
#[derive(Default)]
pub struct Outputs {
    /// (temporary, target) of each output written so far.
    staged: Vec<(PathBuf, Target)>,
    /// The part files among them (kept if the command fails).
    parts: Vec<PathBuf>,
}

impl Outputs {
    /// Writes `bytes` to the temporary of `path`.
    pub fn add(&mut self, path: &Path, bytes: &[u8]) -> Result<(), CliError> {
        let mut f = AtomicFile::create(path)?;
        f.writer().write_all(bytes).map_err(|e| CliError::Input(format!("{}: cannot write: {e}", f.target.name())))?;
        self.add_file(f)
    }

    /// Takes a streamed output, complete (flushed and synced, not yet in place).
    pub fn add_file(&mut self, mut f: AtomicFile) -> Result<(), CliError> {
        let file = f.file.take().expect("not committed yet");
        let tmp = std::mem::take(&mut f.tmp);
        let target = f.target.clone();
        if f.part {
            self.parts.push(tmp.clone());
        }
        let err = |e: std::io::Error| CliError::Input(format!("{}: cannot write: {e}", target.name()));
        let synced = file.into_inner().map_err(|e| err(e.into_error())).and_then(|w| w.sync_all().map_err(err));
        if let Err(e) = synced {
            if !f.part {
                remove(&tmp);
            }
            return Err(e);
        }
        if target == Target::Stdout {
            if self.staged.iter().any(|(_, t)| *t == Target::Stdout) {
                remove(&tmp);
                return Err(CliError::Usage("two outputs name standard output: give one of them a file".into()));
            }
            STDOUT_TAKEN.store(true, Ordering::Relaxed);
        }
        self.staged.push((tmp, target));
        Ok(())
    }

    /// Puts every output in place: streams are written in place first
    /// (a stream that fails leaves every file untouched), then files are
    /// renamed.
    pub fn commit(mut self) -> Result<(), CliError> {
        let staged = std::mem::take(&mut self.staged);
        let (streams, files): (Vec<_>, Vec<_>) = staged.iter().partition(|(_, t)| !matches!(t, Target::Rename(_)));
        let result = (|| {
            for (tmp, target) in streams {
                let err = |e: std::io::Error| CliError::Input(format!("{}: cannot write: {e}", target.name()));
                let mut from = std::fs::File::open(tmp).map_err(err)?;
                match target {
                    Target::Stdout => {
                        let mut out = std::io::stdout().lock();
                        std::io::copy(&mut from, &mut out).and_then(|_| out.flush()).map_err(err)?;
                    }
                    Target::InPlace(p) => {
                        let mut out = std::fs::OpenOptions::new().write(true).open(p).map_err(err)?;
                        std::io::copy(&mut from, &mut out).and_then(|_| out.flush()).map_err(err)?;
                    }
                    Target::Rename(_) => unreachable!("partitioned out"),
                }
            }
            for (tmp, target) in files {
                let Target::Rename(path) = target else { unreachable!("partitioned out") };
                let err = |e: std::io::Error| CliError::Input(format!("{}: cannot write: {e}", path.display()));
                // An existing output keeps its permissions.
                if let Ok(m) = std::fs::metadata(path) {
                    std::fs::set_permissions(tmp, m.permissions()).map_err(err)?;
                }
                std::fs::rename(tmp, path).map_err(err)?;
                crate::temporaries::gone(tmp);
            }
            Ok(())
        })();
        for (tmp, _) in staged.iter().filter(|(t, _)| !self.parts.contains(t)) {
            remove(tmp);
        }
        result
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        for (tmp, _) in self.staged.iter().filter(|(t, _)| !self.parts.contains(t)) {
            remove(tmp);
        }
    }
}

/// Removes a temporary (if it is still there).
fn remove(tmp: &Path) {
    let _ = std::fs::remove_file(tmp);
    crate::temporaries::gone(tmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_rename_regular_files_and_write_fifos_in_place() {
        assert_eq!(Target::of(Path::new("-")), Target::Stdout);
        assert_eq!(Target::of(Path::new("/dev/stdout")), Target::Stdout);
        assert_eq!(Target::of(Path::new("no/such/out.csv")), Target::Rename("no/such/out.csv".into()));
        let dir = std::env::temp_dir().join(format!("fpnna-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("f");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert_eq!(Target::of(&fifo), Target::InPlace(fifo.clone()));
        std::fs::write(dir.join("r"), "x").unwrap();
        assert_eq!(Target::of(&dir.join("r")), Target::Rename(dir.join("r")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
