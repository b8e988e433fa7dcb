//! The recorded spikes of a run, step by step as the emulator makes them:
//! written to the spike CSV at once (so a run of any length holds one
//! step's spikes, not all of them), counted per recorded population, and
//! kept only for an `.npz` (which needs them all, and is bounded).
//! docs/cli.md, "Spike files".

use fpnna_bitstream::PortKind;
use fpnna_emu::{Emulator, StepView};
use std::io::Write;

/// One step's recorded spike: (rank of its port by name, index, port).
type Spike = (usize, u32, usize);

/// What records a run's spikes, step by step.
pub struct Recorder<'a> {
    /// The recorded populations (output ports): name, size.
    pub ports: Vec<(String, u32)>,
    /// Spikes per recorded population.
    pub counts: Vec<u64>,
    /// Every spike as (step, population, index), when kept.
    pub rows: Option<Vec<(u64, String, u32)>>,
    /// Whether writing the CSV failed (the run's error is then the CSV's).
    pub csv_failed: bool,
    /// (key base, port) sorted by key base: a key's port in one search.
    bases: Vec<(u32, usize)>,
    /// A port's rank by name: the spike file's order within a step.
    rank: Vec<usize>,
    /// The run's first step: the spike file counts from it.
    first: u64,
    csv: Option<&'a mut dyn Write>,
    step: Vec<Spike>,
}

impl<'a> Recorder<'a> {
    /// A recorder of `emu`'s next run (from `first`, the emulator step the
    /// run starts at, which the spike file numbers 0): to `csv`, keeping
    /// the rows if `keep`.
    pub fn new(emu: &Emulator, first: u64, csv: Option<&'a mut dyn Write>, keep: bool) -> Self {
        let outputs: Vec<_> = emu.ports().iter().filter(|p| p.kind == PortKind::Output).collect();
        let ports: Vec<(String, u32)> = outputs.iter().map(|p| (p.name.clone(), p.size)).collect();
        let mut bases: Vec<(u32, usize)> = outputs.iter().enumerate().map(|(k, p)| (p.key_base, k)).collect();
        bases.sort();
        let mut by_name: Vec<usize> = (0..ports.len()).collect();
        by_name.sort_by(|&x, &y| ports[x].0.cmp(&ports[y].0));
        let mut rank = vec![0; ports.len()];
        for (r, &k) in by_name.iter().enumerate() {
            rank[k] = r;
        }
        Recorder {
            counts: vec![0; ports.len()],
            ports,
            rows: keep.then(Vec::new),
            csv_failed: false,
            bases,
            rank,
            first,
            csv,
            step: Vec::new(),
        }
    }

    /// Writes the spike file's header (a new file; a resumed one has it).
    pub fn header(&mut self) -> std::io::Result<()> {
        match self.csv.as_mut() {
            Some(w) => writeln!(w, "{}", crate::spikes::HEADER),
            None => Ok(()),
        }
    }

    /// Flushes the spike file.
    pub fn flush(&mut self) -> std::io::Result<()> {
        match self.csv.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }

    /// The port of `key` and its index there, if it is recorded.
    fn port_of(&self, key: u32) -> Option<(usize, u32)> {
        let at = self.bases.partition_point(|&(base, _)| base <= key).checked_sub(1)?;
        let (base, k) = self.bases[at];
        (key - base < self.ports[k].1).then_some((k, key - base))
    }
}

impl Recorder<'_> {
    /// Records a step's spikes.
    pub fn step(&mut self, v: &StepView<'_>) -> std::io::Result<()> {
        let mut spikes = std::mem::take(&mut self.step);
        spikes.clear();
        for &key in v.recorded {
            if let Some((k, index)) = self.port_of(key) {
                spikes.push((self.rank[k], index, k));
            }
        }
        spikes.sort_unstable();
        let step = v.step - self.first;
        for &(_, index, k) in &spikes {
            self.counts[k] += 1;
            if let Some(w) = self.csv.as_mut()
                && let Err(e) = writeln!(w, "{step},{},{index}", self.ports[k].0)
            {
                self.csv_failed = true;
                return Err(e);
            }
            if let Some(rows) = self.rows.as_mut() {
                rows.push((step, self.ports[k].0.clone(), index));
            }
        }
        self.step = spikes;
        Ok(())
    }
}
