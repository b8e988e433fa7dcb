//! Checkpoints of a run: where a run stands after some of its steps (the
//! array's state and what the run has added up so far), so that a run
//! stopped there and resumed ends exactly as if it had not stopped: the
//! same spikes, statistics and state (docs/emulator.md, "Checkpoints").

use crate::EmuState;
use crate::stats::{Stats, TileActivity};
use serde::{Deserialize, Serialize};

/// What a run has added up after its first `done` steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunProgress {
    /// Emulator step the run started at.
    pub first: u64,
    /// Steps of the whole run.
    pub steps: u64,
    /// Steps run so far.
    pub done: u64,
    /// The run's statistics so far (totals and per-step series).
    pub(crate) stats: Stats,
    /// Fewest and most cycles of a step so far.
    pub(crate) cmin: u64,
    pub(crate) cmax: u64,
    /// Most packets a link carried in a step so far.
    pub(crate) max_load: u32,
    /// Per tile: packets received, rows and synaptic events read when
    /// sent, busy cycles of those reads (added to the tiles at the end).
    pub(crate) packets_in: Vec<u64>,
    pub(crate) run_rows: Vec<u64>,
    pub(crate) run_syn: Vec<u64>,
    pub(crate) run_busy: Vec<u64>,
    /// The tiles' activity when the run started, and now.
    pub(crate) start_act: Vec<TileActivity>,
    pub(crate) act: Vec<TileActivity>,
}

/// A run's checkpoint: the array's state and the run's progress, taken
/// between two steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The array's dynamic state (as `Emulator::save_state` gives it).
    pub state: EmuState,
    /// What the run has added up.
    pub progress: RunProgress,
}
