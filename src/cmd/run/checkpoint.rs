//! `run --checkpoint FILE`: what a checkpoint file holds beside the
//! emulator's [`Checkpoint`] (the run's command line and working
//! directory, the content hashes of its inputs, the recorder's counts, the
//! VCD's progress and the lengths of the streamed outputs' part files), how
//! it is written (atomically, after the parts are synced, so that a kill at
//! any moment leaves a checkpoint that the parts hold), and how `run
//! --resume FILE` reads it back and checks it. docs/cli.md, "Checkpoints".

use crate::error::CliError;
use crate::io::{limits, read_limited, write_atomic};
use fpnna_emu::{Checkpoint, VcdProgress};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The `format` of a checkpoint file.
const FORMAT: &str = "fpnna-run-checkpoint";

/// The version of the layout below.
const VERSION: u32 = 1;

/// A checkpoint file.
#[derive(Serialize, Deserialize)]
pub struct Saved {
    format: String,
    version: u32,
    /// The fpnna that wrote it (a resume by another is refused: the
    /// timing model may differ).
    fpnna_version: String,
    /// The run's command line after `fpnna`, parsed again on resume.
    pub args: Vec<String>,
    /// The directory the run started in: `args` name paths from it.
    pub cwd: PathBuf,
    /// The inputs the run read, with their content hashes.
    inputs: Vec<Input>,
    /// The emulator's checkpoint.
    pub run: Checkpoint,
    /// Spikes per recorded population so far.
    pub counts: Vec<u64>,
    /// Where the VCD stands, with `--vcd`.
    pub vcd: Option<VcdProgress>,
    /// The streamed outputs: their part files' lengths at the checkpoint.
    pub parts: Vec<Part>,
}

/// An input of the run and its content hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// The flag (or `bitstream`).
    what: String,
    path: PathBuf,
    hash: String,
}

impl Input {
    /// The bitstream, by the hash of its decoded content.
    pub fn bitstream(path: &Path, hash: &str) -> Input {
        Input { what: "bitstream".into(), path: path.to_path_buf(), hash: hash.to_string() }
    }

    /// A file read by `flag`, by the hash of its bytes.
    pub fn file(flag: &str, path: &Path, limit: u64) -> Result<Input, CliError> {
        let bytes = read_limited(path, limit)?;
        let hash = format!("{:016x}", fpnna_arch::content_hash(&bytes));
        Ok(Input { what: flag.into(), path: path.to_path_buf(), hash })
    }
}

/// A streamed output's part file, as long as it was at the checkpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Part {
    /// The flag of the output (`--spikes`, `--vcd`).
    pub flag: String,
    /// Bytes the checkpoint holds.
    pub len: u64,
}

/// What writes a run's checkpoints: the file, how often, and what every
/// checkpoint of this run repeats.
pub struct Checkpointer {
    pub path: PathBuf,
    pub every: u64,
    args: Vec<String>,
    cwd: PathBuf,
    inputs: Vec<Input>,
}

impl Checkpointer {
    /// The checkpoints of this process's run into `path`.
    pub fn new(path: &Path, every: u64, inputs: Vec<Input>) -> Result<Self, CliError> {
        if !crate::io::is_file_target(path) {
            return Err(CliError::Usage(format!("--checkpoint {}: must name a file", path.display())));
        }
        let args =
            std::env::args_os().skip(1).map(|a| a.into_string()).collect::<Result<Vec<_>, _>>().map_err(|a| {
                CliError::Usage(format!(
                    "--checkpoint: argument {a:?} is not UTF-8 (a checkpoint keeps the command line as text)"
                ))
            })?;
        let cwd = std::env::current_dir()
            .map_err(|e| CliError::Input(format!("--checkpoint: the working directory: {e}")))?;
        Ok(Checkpointer { path: path.to_path_buf(), every, args, cwd, inputs })
    }

    /// The checkpoint of a resumed run: it goes on writing to the same file.
    pub fn resumed(saved: &Saved, path: &Path, every: u64) -> Checkpointer {
        Checkpointer {
            path: path.to_path_buf(),
            every,
            args: saved.args.clone(),
            cwd: saved.cwd.clone(),
            inputs: saved.inputs.clone(),
        }
    }

    /// Writes a checkpoint (whole, then renamed over the last one).
    pub fn save(
        &self,
        run: &Checkpoint,
        counts: &[u64],
        vcd: Option<VcdProgress>,
        parts: Vec<Part>,
    ) -> Result<(), CliError> {
        let saved = Saved {
            format: FORMAT.into(),
            version: VERSION,
            fpnna_version: env!("CARGO_PKG_VERSION").into(),
            args: self.args.clone(),
            cwd: self.cwd.clone(),
            inputs: self.inputs.clone(),
            run: run.clone(),
            counts: counts.to_vec(),
            vcd,
            parts,
        };
        let json = serde_json::to_vec(&saved).map_err(|e| CliError::Bug(format!("checkpoint: {e}")))?;
        write_atomic(&self.path, &json)
    }
}

/// Reads a checkpoint file, checking its format and version.
pub fn read(path: &Path) -> Result<Saved, CliError> {
    let bad = |why: String| CliError::Input(format!("{}: {why}", path.display()));
    let bytes = read_limited(path, limits::STATE)?;
    // What it is, first: another JSON file is named as such.
    #[derive(Deserialize)]
    struct Head {
        format: String,
        version: u32,
    }
    let head: Head =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a run checkpoint (format `{FORMAT}`): {e}")))?;
    if head.format != FORMAT || head.version != VERSION {
        return Err(bad(format!(
            "format `{}` version {}: not a run checkpoint of version {VERSION} (format `{FORMAT}`)",
            head.format, head.version
        )));
    }
    let saved: Saved = serde_json::from_slice(&bytes).map_err(|e| bad(format!("a damaged checkpoint: {e}")))?;
    if saved.fpnna_version != env!("CARGO_PKG_VERSION") {
        return Err(bad(format!(
            "written by fpnna {}, this is {}: resume it with the fpnna that wrote it",
            saved.fpnna_version,
            env!("CARGO_PKG_VERSION")
        )));
    }
    Ok(saved)
}

/// Refuses a resume whose inputs are not the ones the run started with.
pub fn check_inputs(file: &Path, saved: &Saved, now: &[Input]) -> Result<(), CliError> {
    for (was, is) in saved.inputs.iter().zip(now) {
        if was != is {
            return Err(CliError::Input(format!(
                "{}: the {} {} changed since the checkpoint (content hash {} then, {} now): a checkpoint \
                 resumes only the run it was taken of",
                file.display(),
                was.what,
                was.path.display(),
                was.hash,
                is.hash
            )));
        }
    }
    if saved.inputs.len() != now.len() {
        return Err(CliError::Input(format!("{}: field `inputs`: not the run's inputs", file.display())));
    }
    Ok(())
}

/// The length the checkpoint recorded for the part of `flag`.
pub fn part_len(file: &Path, saved: &Saved, flag: &str) -> Result<u64, CliError> {
    saved
        .parts
        .iter()
        .find(|p| p.flag == flag)
        .map(|p| p.len)
        .ok_or_else(|| CliError::Input(format!("{}: field `parts`: no part recorded for {flag}", file.display())))
}
