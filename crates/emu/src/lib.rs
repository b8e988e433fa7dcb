//! The cycle-level emulator: loads a [`fpnna_bitstream::Validated`] bitstream and runs the array.
//!
//! The *function* of a run (which neuron spikes when) is defined by the step
//! semantics of the reference simulator (docs/semantics.md), computed with
//! `fpnna-model`'s arithmetic; the *cycle model* (routers, links, row reads,
//! neuron updates, barrier) only measures how long each step takes on the
//! hardware. Congestion costs cycles, never correctness. docs/emulator.md
//! states the timing model, the energy model and the device non-idealities.
//!
//! The emulator is event driven: a step costs time in proportion to the rows
//! read, the nodes touched, the packets routed and the programmed neurons,
//! never to the size of the array.

mod bank;
mod build;
mod checkpoint;
mod names;
mod net;
mod noise;
mod reset;
mod run;
mod state;
mod stats;
mod tile;
mod vcd_out;

use fpnna_bitstream::{Port, Validated};
use serde::{Deserialize, Serialize};
use std::ops::Range;

pub use checkpoint::{Checkpoint, RunProgress};
pub use reset::{Plastic, ResetCost};
pub use state::{EmuState, MAX_STATE_CLOCK, STATE_FORMAT, STATE_VERSION};
pub use stats::{ConfigStats, EnergyItem, EnergyReport, MAX_SERIES_ENTRIES, MinMeanMax, PerStep, Stats, TileActivity};
pub use vcd_out::{Timescale, VcdObserver, VcdOptions, VcdProgress};

use build::Built;

/// Errors of the emulator; each names the place it is about.
#[derive(Debug, thiserror::Error)]
pub enum EmuError {
    /// A device figure (from the architecture or an override) is impossible.
    #[error("device figure {0}")]
    Device(fpnna_arch::FigureError),
    /// The bitstream describes something the array cannot be configured with.
    #[error("bitstream: {place}: {why}")]
    Invalid {
        /// Where (tile, row, node, router, port, ...).
        place: String,
        /// What is wrong, and what would be accepted.
        why: String,
    },
    /// A stimulus spike is refused.
    #[error("stimulus spike {n} (step {step}, key {key}): {why}")]
    Stimulus {
        /// Index of the spike in the stimulus list.
        n: usize,
        /// Its step (relative to the start of the run).
        step: u64,
        /// Its key.
        key: u32,
        /// Why.
        why: String,
    },
    /// A saved state does not fit this emulator, or is not a state file.
    #[error("state: {0}")]
    State(String),
    /// The observer (e.g. the VCD writer) failed to write.
    #[error("waveform output: {0}")]
    Observer(#[from] std::io::Error),
}

pub use fpnna_arch::{DeviceFigures, DeviceOverrides};

/// How to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmuOptions {
    /// Ideal devices: every non-ideality off but those `devices` sets
    /// (with none set, the run equals the reference simulator spike for
    /// spike).
    pub ideal: bool,
    /// Seed of every random draw (counter-based: independent of threads).
    pub seed: u64,
    /// Worker threads for the tile phases (0 or 1: the calling thread;
    /// at most one per tile is started).
    pub threads: usize,
    /// Device figures overriding the architecture's.
    pub devices: DeviceOverrides,
    /// The chip the bitstream is applied to: its stuck devices replace
    /// the stuck-at figures (and stay with `ideal`: they are facts of it).
    pub chip: Option<fpnna_arch::ChipState>,
}

impl Default for EmuOptions {
    fn default() -> Self {
        EmuOptions { ideal: false, seed: 1, threads: 1, devices: DeviceOverrides::default(), chip: None }
    }
}

impl EmuOptions {
    /// Ideal devices, one thread.
    pub fn ideal() -> Self {
        EmuOptions { ideal: true, ..EmuOptions::default() }
    }
}

/// The device figures in force for a run: the architecture's, or ideal
/// ones with `ideal`, then the explicit overrides (on top of ideal devices
/// too: `--ideal --stuck-at-min 0.05` is one non-ideality alone).
pub(crate) fn resolve_devices(arch: &fpnna_arch::Arch, opts: &EmuOptions) -> Result<DeviceFigures, EmuError> {
    let base = if opts.ideal { DeviceFigures::ideal() } else { arch.devices() };
    let dev = base.with(&opts.devices);
    dev.check().map_err(EmuError::Device)?;
    Ok(dev)
}

/// A routing problem found when the emulator traced every source's
/// multicast tree through the routing tables. The packets concerned are
/// dropped (or not duplicated); each problem is reported once.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RouteFault {
    /// Key of the packet.
    pub key: u32,
    /// Router (x, y) where it happened.
    pub at: (u16, u16),
    /// What happened.
    pub what: String,
}

impl std::fmt::Display for RouteFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "router ({}, {}): packet of key {}: {}", self.at.0, self.at.1, self.key, self.what)
    }
}

/// What a run produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Emulator step at which the run started (0 for a fresh emulator);
    /// stimulus and output steps are relative to it.
    pub first_step: u64,
    /// Recorded spikes (keys of output ports, or of every neuron when the
    /// bitstream has no output port), as (step, key), sorted.
    pub spikes: Vec<(u64, u32)>,
    /// Counts, cycles and energy of the run.
    pub stats: Stats,
}

/// What an observer sees at the end of each step.
pub struct StepView<'a> {
    /// Emulator step (absolute).
    pub step: u64,
    /// First cycle of this step (cycles counted from the emulator's start).
    pub cycle_start: u64,
    /// Cycles this step took.
    pub cycles: u64,
    /// Keys that spiked at this step (every source), sorted.
    pub spikes: &'a [u32],
    /// The recorded ones among them (output ports), sorted: what the run's
    /// `RunResult::spikes` holds of this step.
    pub recorded: &'a [u32],
    /// Packets that crossed each link this step: (link index, count),
    /// links as listed by [`Emulator::links`] (empty when the observer
    /// says it does not want them, [`Observer::wants_link_load`]).
    pub link_load: &'a [(u32, u32)],
    emu: &'a Built,
}

impl StepView<'_> {
    /// Membrane potential and synaptic current of neuron `key`, after this step.
    pub fn neuron(&self, key: u32) -> Option<fpnna_model::NeuronState> {
        self.emu.neuron_state(key)
    }

    /// Sum of the conductances (nS) of the volatile nodes feeding neuron
    /// `key`, relaxed to this step; `None` when it has none.
    pub fn volatile_conductance_ns(&self, key: u32) -> Option<f64> {
        self.emu.volatile_conductance_ns(key, self.step)
    }
}

/// Receives every step of a run (waveform writers, live plots).
pub trait Observer {
    /// Called once per step, after the step's spikes are routed.
    fn step(&mut self, view: &StepView<'_>) -> std::io::Result<()>;

    /// Whether `StepView::link_load` is read (listing every link's packets
    /// each step costs time; without it the list is empty).
    fn wants_link_load(&self) -> bool {
        true
    }

    /// Steps between the run's checkpoints (0: none): after every this
    /// many steps of a run, except its last, [`Observer::checkpoint`] is
    /// called.
    fn checkpoint_every(&self) -> u64 {
        0
    }

    /// Called at each checkpoint, between two steps, with where the run
    /// stands; an error stops the run as a failing `step` does.
    fn checkpoint(&mut self, _cp: &Checkpoint) -> std::io::Result<()> {
        Ok(())
    }
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullObserver;

impl Observer for NullObserver {
    fn step(&mut self, _: &StepView<'_>) -> std::io::Result<()> {
        Ok(())
    }

    fn wants_link_load(&self) -> bool {
        false
    }
}

/// A configured array, ready to run.
pub struct Emulator {
    b: Built,
    pool: Option<rayon::ThreadPool>,
    /// The state right after configuration, what [`Emulator::reset`] restores.
    initial: Box<EmuState>,
}

impl Emulator {
    /// Configures an array with `bs` (validated, so every index in it
    /// holds): checks `opts`, programs the nodes (with the non-idealities
    /// of `opts`) and traces every source's route.
    pub fn new(bs: &Validated, opts: EmuOptions) -> Result<Emulator, EmuError> {
        let b = build::build(bs.bitstream(), bs.content_hash(), &opts)?;
        // A phase's work is split by tile: more threads than tiles cannot
        // help (the output is the same for any count).
        let threads = opts.threads.min(b.tiles.len());
        let pool = if threads > 1 {
            Some(rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| EmuError::Invalid {
                place: "option `threads`".into(),
                why: format!("cannot start threads: {e}"),
            })?)
        } else {
            None
        };
        let initial = Box::new(b.save_state());
        Ok(Emulator { b, pool, initial })
    }

    /// The port called `name`.
    pub fn port(&self, name: &str) -> Option<&Port> {
        self.b.ports.iter().find(|p| p.name == name)
    }

    /// All ports.
    pub fn ports(&self) -> &[Port] {
        &self.b.ports
    }

    /// The key range of the port or population called `name` (ports first,
    /// then the bitstream's symbols).
    pub fn keys(&self, name: &str) -> Option<Range<u32>> {
        if let Some(p) = self.port(name) {
            return Some(p.key_base..p.key_base.saturating_add(p.size));
        }
        self.b.symbols.iter().find(|s| s.name == name).map(|s| s.key_base..s.key_base.saturating_add(s.size))
    }

    /// Resolves a selection `name`, `name[i]` or `name[a..b]` (ports and
    /// populations) to a key range, for stimulus files and `--trace`.
    pub fn select(&self, spec: &str) -> Result<Range<u32>, EmuError> {
        let bad = |why: String| EmuError::Invalid { place: format!("selection `{spec}`"), why };
        let (name, index) = match spec.split_once('[') {
            Some((n, rest)) => {
                let inner = rest.strip_suffix(']').ok_or_else(|| bad("expected `name[i]` or `name[a..b]`".into()))?;
                (n.trim(), Some(inner))
            }
            None => (spec.trim(), None),
        };
        let all = self.keys(name).ok_or_else(|| bad(format!("no port or population is called `{name}`")))?;
        let Some(inner) = index else { return Ok(all) };
        let num = |s: &str| s.trim().parse::<u32>().map_err(|_| bad(format!("`{s}` is not an index")));
        let (a, b) = match inner.split_once("..") {
            Some((a, b)) => (num(a)?, num(b)?),
            None => {
                let i = num(inner)?;
                (i, i.saturating_add(1))
            }
        };
        let size = all.end - all.start;
        if a >= b || b > size {
            return Err(bad(format!("{name} has {size} channels; [{inner}] is empty or beyond them")));
        }
        Ok(all.start + a..all.start + b)
    }

    /// The name and index of a key (from the symbols), for display.
    pub fn name_of(&self, key: u32) -> Option<(&str, u32)> {
        self.b.name_of(key)
    }

    /// The directed links that carry traffic: (router x, router y, direction
    /// bit of `fpnna_bitstream::dir`), indexed as in [`StepView::link_load`].
    pub fn links(&self) -> Vec<(u16, u16, u8)> {
        self.b.net.links.iter().map(|l| (l.at.x, l.at.y, l.dir.bit())).collect()
    }

    /// Keys of the neurons of each programmed tile: ((x, y), keys by column).
    pub fn tile_neurons(&self) -> Vec<((u16, u16), Vec<u32>)> {
        self.b.tiles.iter().map(|t| ((t.at.x, t.at.y), t.col_key.clone())).collect()
    }

    /// Emulator step the next run starts at.
    pub fn now(&self) -> u64 {
        self.b.clock.now
    }

    /// What configuring the array cost (forming, writes, write-verify).
    pub fn config_stats(&self) -> &ConfigStats {
        &self.b.config
    }

    /// Routing problems found when loading (each reported once).
    pub fn route_faults(&self) -> &[RouteFault] {
        &self.b.faults
    }

    /// The device figures in force.
    pub fn devices(&self) -> &DeviceFigures {
        &self.b.dev
    }

    /// Runs `steps` steps. `stimulus` lists spikes on input ports as (step
    /// relative to the start of this run, key), in any order; duplicates
    /// count once. The observer sees every step.
    pub fn run(
        &mut self,
        steps: u64,
        stimulus: &[(u64, u32)],
        observer: &mut dyn Observer,
    ) -> Result<RunResult, EmuError> {
        self.run_keeping(steps, stimulus, observer, run::Keep::Spikes)
    }

    /// Runs like [`Emulator::run`] but keeps no spikes: the observer sees
    /// each step's recorded spikes (`StepView::recorded`) and
    /// `RunResult::spikes` is empty, so that a run of any length holds no
    /// more than a step's spikes in memory.
    pub fn run_streamed(
        &mut self,
        steps: u64,
        stimulus: &[(u64, u32)],
        observer: &mut dyn Observer,
    ) -> Result<RunResult, EmuError> {
        self.run_keeping(steps, stimulus, observer, run::Keep::Nothing)
    }

    /// Goes on with the run a checkpoint was taken of, streamed like
    /// [`Emulator::run_streamed`]: loads the checkpoint's state, then runs
    /// the rest of its steps with the same `stimulus` (steps relative to
    /// the run's start, as the run was given it). Its result (and what the
    /// observer sees from here) is the uninterrupted run's.
    pub fn resume(
        &mut self,
        cp: &Checkpoint,
        stimulus: &[(u64, u32)],
        observer: &mut dyn Observer,
    ) -> Result<RunResult, EmuError> {
        let p = &cp.progress;
        let fits = p.done <= p.steps
            && p.first.checked_add(p.done) == Some(cp.state.step)
            && [&p.packets_in, &p.run_rows, &p.run_syn, &p.run_busy].iter().all(|v| v.len() == self.b.tiles.len())
            && p.start_act.len() == self.b.tiles.len()
            && p.act.len() == self.b.tiles.len()
            && p.stats.per_step.fits(p.done);
        if !fits {
            return Err(EmuError::State(format!(
                "the checkpoint's progress (steps {} of {} from step {}) does not fit its state (step {}) and this \
                 bitstream's {} tiles",
                p.done,
                p.steps,
                p.first,
                cp.state.step,
                self.b.tiles.len()
            )));
        }
        self.b.load_state(&cp.state)?;
        let stim = self.b.check_stimulus_from(p.first, p.steps, stimulus)?;
        self.b.run(p.steps, &stim, observer, self.pool.as_ref(), run::Keep::Nothing, Some(p.clone()))
    }

    fn run_keeping(
        &mut self,
        steps: u64,
        stimulus: &[(u64, u32)],
        observer: &mut dyn Observer,
        keep: run::Keep,
    ) -> Result<RunResult, EmuError> {
        let stim = self.b.check_stimulus_from(self.b.clock.now, steps, stimulus)?;
        self.b.run(steps, &stim, observer, self.pool.as_ref(), keep, None)
    }

    /// On a chip (`EmuOptions.chip`): what configuring it wrote, per tile,
    /// as (row line, column line, write pulses) of every non-volatile node
    /// written and formed (reused or newly formed; a failed forming is
    /// left out), for `ChipState::apply`. Empty without a chip.
    pub fn chip_writes(&self) -> &[fpnna_arch::TileWrites] {
        &self.b.chip_writes
    }

    /// The dynamic state (neurons, volatile nodes, learned STDP weights,
    /// traces, spikes in flight), to continue later or to consolidate.
    pub fn save_state(&self) -> EmuState {
        self.b.save_state()
    }

    /// The weight of every STDP node now, retention applied (without
    /// touching the state): ((tile x, tile y, row, column), weight), in
    /// tile and node order. What a learned state means: what `plot
    /// weights --state` draws and what consolidation programs.
    pub fn learned_weights(&self) -> Vec<((u16, u16, u16, u16), i32)> {
        self.b.learned_weights()
    }

    /// Restores a state saved from an emulator of the same bitstream;
    /// errors name what does not match.
    pub fn load_state(&mut self, s: &EmuState) -> Result<(), EmuError> {
        self.b.load_state(s)
    }
}
