//! The observer of a `run`: it records the spikes, writes the VCD,
//! advances the progress bar, and takes the checkpoints.

use super::checkpoint::{Checkpointer, Part};
use super::recorder::Recorder;
use super::vcd::Capped;
use crate::error::CliError;
use fpnna_emu::{Checkpoint, Observer, StepView, VcdObserver};
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

/// The VCD observer of a run, writing to its capped file.
pub type VcdWriter<'a> = VcdObserver<Capped<&'a mut BufWriter<File>>>;

/// A run's checkpoints: where they go and the part files they record.
pub struct Checkpoints {
    pub writer: Checkpointer,
    /// (flag, part file) of each streamed output.
    pub parts: Vec<(String, PathBuf)>,
}

/// Everything that watches a run, step by step.
pub struct Watch<'a> {
    pub rec: Recorder<'a>,
    pub vcd: Option<VcdWriter<'a>>,
    pub bar: &'a indicatif::ProgressBar,
    pub checkpoints: Option<Checkpoints>,
    /// Why a checkpoint failed (the run's error is then this).
    pub failed: Option<CliError>,
}

impl Observer for Watch<'_> {
    fn step(&mut self, v: &StepView<'_>) -> std::io::Result<()> {
        self.bar.inc(1);
        self.rec.step(v)?;
        match self.vcd.as_mut() {
            Some(o) => o.step(v),
            None => Ok(()),
        }
    }

    fn wants_link_load(&self) -> bool {
        self.vcd.as_ref().is_some_and(|o| o.wants_link_load())
    }

    fn checkpoint_every(&self) -> u64 {
        self.checkpoints.as_ref().map_or(0, |c| c.writer.every)
    }

    fn checkpoint(&mut self, cp: &Checkpoint) -> std::io::Result<()> {
        self.save(cp).map_err(|e| {
            let io = std::io::Error::other(e.to_string());
            self.failed = Some(e);
            io
        })
    }
}

impl Watch<'_> {
    /// Writes a checkpoint: first the streamed outputs, flushed and synced,
    /// then the checkpoint that records their lengths (so that whenever
    /// the run is killed, the last checkpoint's parts are on the disk).
    fn save(&mut self, cp: &Checkpoint) -> Result<(), CliError> {
        let Some(c) = &self.checkpoints else { return Ok(()) };
        let in_part = |(_, path): &(String, PathBuf)| {
            let path = path.clone();
            move |e: std::io::Error| CliError::Input(format!("{}: cannot write: {e}", path.display()))
        };
        let spikes = c.parts.iter().find(|(flag, _)| flag == "--spikes");
        if let Some(p) = spikes {
            self.rec.flush().map_err(in_part(p))?;
        }
        let vcd = match (self.vcd.as_mut(), c.parts.iter().find(|(flag, _)| flag == "--vcd")) {
            (Some(o), Some(p)) => Some(o.progress().map_err(in_part(p))?),
            _ => None,
        };
        let mut parts = Vec::new();
        for p in &c.parts {
            let f = File::open(&p.1).map_err(in_part(p))?;
            f.sync_all().map_err(in_part(p))?;
            let len = f.metadata().map_err(in_part(p))?.len();
            parts.push(Part { flag: p.0.clone(), len });
        }
        c.writer.save(cp, &self.rec.counts, vcd, parts)
    }
}
