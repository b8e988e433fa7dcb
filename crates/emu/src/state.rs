//! Saving and restoring the dynamic state of an array: neuron registers,
//! volatile conductances, learned STDP weights and traces, and the spikes
//! still in flight (rows due in the next steps).

use crate::EmuError;
use crate::build::{Built, Clock, SentRows, send_groups};
use crate::tile::{Arrival, RING, Tile};
use fpnna_bitstream::{RowKind, Xy};
use fpnna_model::NeuronState;
use serde::{Deserialize, Serialize};

/// The `format` field of every saved state.
pub const STATE_FORMAT: &str = "fpnna-emu-state";
/// The version this emulator writes and reads.
pub const STATE_VERSION: u32 = 1;

/// The largest step and cycle count a loaded state may hold (2^62: far
/// beyond any run, and far enough from 2^64 that no run can wrap them).
pub const MAX_STATE_CLOCK: u64 = 1 << 62;

/// The dynamic state of a configured array (serialised as JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmuState {
    /// Always [`STATE_FORMAT`].
    pub format: String,
    /// [`STATE_VERSION`] when written.
    pub version: u32,
    /// Name of the architecture.
    pub arch: String,
    /// Hash of the architecture.
    pub arch_hash: u64,
    /// Identity of the configuration's structure (tiles, rows, nodes).
    pub fingerprint: u64,
    /// Next step to run.
    pub step: u64,
    /// Cycles run so far.
    pub cycle: u64,
    /// Per programmed tile, in the bitstream's order.
    pub tiles: Vec<TileState>,
}

/// The state of one tile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TileState {
    /// Column of the grid.
    pub x: u16,
    /// Row of the grid.
    pub y: u16,
    /// Neuron registers, by column.
    pub neurons: Vec<NeuronState>,
    /// Volatile and STDP nodes, in (row, column) order.
    pub nodes: Vec<NodeState>,
    /// STDP postsynaptic traces, by (column, STDP profile).
    pub post_traces: Vec<i32>,
    /// Step up to which each post trace is current.
    pub post_steps: Vec<u64>,
    /// Rows due in later steps: (step, row).
    pub pending: Vec<(u64, u32)>,
}

/// The state of one volatile or STDP node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    /// Row in the tile.
    pub row: u16,
    /// Column in the tile.
    pub col: u16,
    /// STDP: the learned weight; volatile: the programmed weight.
    pub weight: i32,
    /// Volatile: normalised conductance x; STDP: presynaptic trace.
    pub x: i32,
    /// Step up to which `x` is current.
    pub step: u64,
}

impl EmuState {
    /// As pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a state serializes")
    }

    /// Reads JSON, checking the format and version first.
    pub fn from_json(text: &str) -> Result<EmuState, EmuError> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| EmuError::State(format!("not JSON: {e} (line {})", e.line())))?;
        let format = v.get("format").and_then(|f| f.as_str()).unwrap_or("");
        if format != STATE_FORMAT {
            return Err(EmuError::State(format!("`format` is {format:?}, expected {STATE_FORMAT:?}")));
        }
        let version = v.get("version").and_then(|f| f.as_u64()).unwrap_or(0);
        if version != u64::from(STATE_VERSION) {
            return Err(EmuError::State(format!(
                "version {version}; this emulator reads version {STATE_VERSION} (save the state again with it)"
            )));
        }
        serde_json::from_value(v).map_err(|e| EmuError::State(format!("malformed state: {e}")))
    }
}

/// The nodes of `t` a state holds (volatile and STDP), in (row, column)
/// order.
fn plastic_nodes(t: &Tile) -> impl Iterator<Item = usize> + '_ {
    (0..t.node_w.len()).filter(|&n| t.row_kind[usize::from(t.node_row[n])] != RowKind::NonVolatile)
}

fn bad(why: String) -> Result<(), EmuError> {
    Err(EmuError::State(why))
}

impl Built {
    pub fn save_state(&self) -> EmuState {
        let pending = self.pending_rows();
        let tiles = self
            .tiles
            .iter()
            .zip(pending)
            .enumerate()
            .map(|(ti, (t, pending))| TileState {
                x: t.at.x,
                y: t.at.y,
                neurons: self.bank.cols(ti).map(|c| self.bank.state(c)).collect(),
                nodes: plastic_nodes(t)
                    .map(|n| NodeState {
                        row: t.node_row[n],
                        col: t.node_col[n],
                        weight: t.node_w[n],
                        x: t.node_x[n],
                        step: t.node_t[n],
                    })
                    .collect(),
                post_traces: t.post.clone(),
                post_steps: t.post_t.clone(),
                pending,
            })
            .collect();
        EmuState {
            format: STATE_FORMAT.into(),
            version: STATE_VERSION,
            arch: self.arch.name.clone(),
            arch_hash: self.arch.hash(),
            fingerprint: self.fingerprint,
            step: self.clock.now,
            cycle: self.clock.cycle,
            tiles,
        }
    }

    /// Each tile's pending rows, by due step, in queue order (the order
    /// rows were queued: a loaded state's first, then each step's
    /// spikes'). With rows read when sent, spikes' rows are listed from
    /// the log of the last steps' spikes.
    fn pending_rows(&self) -> Vec<Vec<(u64, u32)>> {
        let mut pending: Vec<Vec<(u64, u32)>> = vec![Vec::new(); self.tiles.len()];
        for due in self.clock.now..self.clock.now + RING {
            for &(ti, r) in self.ring.at(due) {
                if !self.pre || r.delivered().is_none() {
                    pending[ti as usize].push((due, self.arrival_row(r)));
                }
            }
        }
        if self.pre {
            self.pending_sent(&mut pending);
            pending.iter_mut().for_each(|p| p.sort_by_key(|&(due, _)| due));
        }
        pending
    }

    /// With rows read when sent, adds to `pending` every row still due of
    /// the spikes of the last steps.
    fn pending_sent(&self, pending: &mut [Vec<(u64, u32)>]) {
        for sent in self.clock.now.saturating_sub(RING - 1)..self.clock.now {
            for &s in &self.pre_slots.sent[(sent % RING) as usize] {
                // Every row of the key in each tile its spike reached.
                let s = s as usize;
                let st = &self.streams;
                let (a, b) = (st.send_start[s] as usize, st.send_start[s + 1] as usize);
                let (qa, qb) = (st.queued_start[s] as usize, st.queued_start[s + 1] as usize);
                let reached = send_groups(&st.send[a..b])
                    .flat_map(|g| g.entries.iter().map(|&e| SentRows(e)))
                    .filter(|e| e.first())
                    .map(|e| e.tile())
                    .chain(st.queued[qa..qb].iter().filter(|q| q.first).map(|q| q.tile));
                let key = self.src.key[s];
                for tile in reached {
                    let t = &self.tiles[tile as usize];
                    let lo = t.row_key.partition_point(|&k| k < key);
                    let hi = t.row_key.partition_point(|&k| k <= key);
                    for r in lo..hi {
                        let due = sent + u64::from(t.row_delay[r]);
                        if due >= self.clock.now {
                            pending[tile as usize].push((due, r as u32));
                        }
                    }
                }
            }
        }
    }

    pub fn load_state(&mut self, s: &EmuState) -> Result<(), EmuError> {
        // Check everything before changing anything.
        self.check_state(s)?;
        self.apply_state(s);
        Ok(())
    }

    /// Whether `s` fits this array: its format, architecture and
    /// structure, every value within its bounds.
    fn check_state(&self, s: &EmuState) -> Result<(), EmuError> {
        if s.format != STATE_FORMAT || s.version != STATE_VERSION {
            return bad(format!(
                "format {:?} version {}; expected {STATE_FORMAT:?} version {STATE_VERSION}",
                s.format, s.version
            ));
        }
        // A run from the state must be able to count its steps and cycles.
        if s.step > MAX_STATE_CLOCK || s.cycle > MAX_STATE_CLOCK {
            return bad(format!(
                "step {} and cycle {}: beyond {MAX_STATE_CLOCK}, the counters could wrap in the next run",
                s.step, s.cycle
            ));
        }
        if s.arch_hash != self.arch.hash() {
            return bad(format!(
                "saved for architecture `{}` (hash {:016x}), but this bitstream targets `{}` (hash {:016x})",
                s.arch,
                s.arch_hash,
                self.arch.name,
                self.arch.hash()
            ));
        }
        if s.tiles.len() != self.tiles.len() {
            return bad(format!("the state has {} tiles, the bitstream programs {}", s.tiles.len(), self.tiles.len()));
        }
        for (ti, (ts, t)) in s.tiles.iter().zip(&self.tiles).enumerate() {
            check_tile(ts, t, self.bank.cols(ti).len(), s.step)?;
            for (c, n) in self.bank.cols(ti).zip(&ts.neurons) {
                if n.theta != 0 && !self.bank.params(c).adaptive() {
                    return bad(format!(
                        "tile {}: neuron column {}: threshold offset theta = {} on a neuron without an adaptive threshold",
                        t.at,
                        c - self.bank.cols(ti).start,
                        n.theta
                    ));
                }
            }
        }
        if s.fingerprint != self.fingerprint {
            return bad("the state was saved from another configuration (its fingerprint differs: another bitstream, or this one with an edited field)".into());
        }
        Ok(())
    }

    /// See `Emulator::learned_weights`.
    pub fn learned_weights(&self) -> Vec<((u16, u16, u16, u16), i32)> {
        let now = self.clock.now;
        let mut out = Vec::new();
        for t in &self.tiles {
            for n in plastic_nodes(t) {
                let RowKind::Stdp(p) = t.row_kind[usize::from(t.node_row[n])] else { continue };
                out.push(((t.at.x, t.at.y, t.node_row[n], t.node_col[n]), t.weight_at(n, usize::from(p), now)));
            }
        }
        out
    }

    /// Restores a state `check_state` accepted.
    fn apply_state(&mut self, s: &EmuState) {
        self.ring.slots.iter_mut().for_each(Vec::clear);
        self.bank.clear_input();
        self.pre_slots.count.fill((0, 0));
        self.pre_slots.touched_len.fill(0);
        self.pre_slots.sent.iter_mut().for_each(Vec::clear);
        for (ti, (ts, t)) in s.tiles.iter().zip(&mut self.tiles).enumerate() {
            for (c, &n) in self.bank.cols(ti).zip(&ts.neurons) {
                self.bank.set_state(c, n);
            }
            let plastic: Vec<usize> = plastic_nodes(t).collect();
            for (ns, n) in ts.nodes.iter().zip(plastic) {
                t.node_w[n] = ns.weight;
                t.node_x[n] = ns.x;
                t.node_t[n] = ns.step;
            }
            t.post.clone_from(&ts.post_traces);
            t.post_t.clone_from(&ts.post_steps);
            for &(due, row) in &ts.pending {
                self.ring.push(due, ti as u32, Arrival::of_tile_row(row));
            }
        }
        self.clock = Clock { now: s.step, cycle: s.cycle };
    }
}

/// Whether tile state `ts` fits tile `t` (with `ncol` columns) in a state
/// of step `step`.
fn check_tile(ts: &TileState, t: &Tile, ncol: usize, step: u64) -> Result<(), EmuError> {
    let place = format!("tile {}", t.at);
    if (Xy { x: ts.x, y: ts.y }) != t.at {
        return bad(format!("the state's tile ({}, {}) stands where the bitstream has {place}", ts.x, ts.y));
    }
    if ts.neurons.len() != ncol {
        return bad(format!("{place}: {} neurons in the state, {ncol} in the bitstream", ts.neurons.len()));
    }
    let plastic: Vec<usize> = plastic_nodes(t).collect();
    if ts.nodes.len() != plastic.len() {
        return bad(format!(
            "{place}: {} volatile/STDP nodes in the state, {} in the bitstream",
            ts.nodes.len(),
            plastic.len()
        ));
    }
    for (ns, &n) in ts.nodes.iter().zip(&plastic) {
        check_node(ns, t, n, step).map_err(|why| EmuError::State(format!("{place}: {why}")))?;
    }
    if ts.post_traces.len() != t.post.len() || ts.post_steps.len() != t.post.len() {
        return bad(format!(
            "{place}: {} post traces in the state, {} in the bitstream",
            ts.post_traces.len(),
            t.post.len()
        ));
    }
    if ts.post_traces.iter().any(|&x| !(0..=fpnna_model::TRACE_MAX).contains(&x)) {
        return bad(format!("{place}: a post trace lies outside [0, {}]", fpnna_model::TRACE_MAX));
    }
    if ts.post_steps.iter().any(|&k| k > step) {
        return bad(format!("{place}: a post trace is ahead of the state's step"));
    }
    for &(due, row) in &ts.pending {
        if row as usize >= t.row_delay.len() || due < step || due >= step + RING {
            return bad(format!("{place}: pending row {row} at step {due} does not fit"));
        }
    }
    Ok(())
}

/// Whether node state `ns` fits node `n` of tile `t` in a state of step
/// `step` (what is wrong, without the tile's place).
fn check_node(ns: &NodeState, t: &Tile, n: usize, step: u64) -> Result<(), String> {
    if (ns.row, ns.col) != (t.node_row[n], t.node_col[n]) {
        return Err(format!(
            "the state has node (row {}, column {}) where the bitstream has (row {}, column {})",
            ns.row, ns.col, t.node_row[n], t.node_col[n]
        ));
    }
    let kind = t.row_kind[usize::from(ns.row)];
    if let RowKind::Stdp(p) = kind {
        let p = &t.stdp[usize::from(p)];
        if !(p.w_min..=p.w_max).contains(&ns.weight) {
            return Err(format!(
                "node (row {}, column {}): weight {} outside the STDP bounds [{}, {}]",
                ns.row, ns.col, ns.weight, p.w_min, p.w_max
            ));
        }
    }
    let (lo, hi, what) = match kind {
        RowKind::Volatile(_) => (0, fpnna_model::ONE, "volatile conductance x"),
        _ => (0, fpnna_model::TRACE_MAX, "presynaptic trace"),
    };
    if !(lo..=hi).contains(&ns.x) {
        return Err(format!("node (row {}, column {}): {what} {} outside [{lo}, {hi}]", ns.row, ns.col, ns.x));
    }
    if ns.step > step {
        return Err(format!("node (row {}, column {}) is ahead of the state's step", ns.row, ns.col));
    }
    Ok(())
}
