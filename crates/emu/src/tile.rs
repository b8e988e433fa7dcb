//! One tile: its rows and nodes (structure of arrays), and the per-step work
//! of phases (a), (b) and (e) of the step semantics. The neuron columns'
//! state, and phases (c) and (d), are in `Bank`, for all tiles together.
//!
//! Volatile nodes and STDP traces are relaxed lazily: a node remembers the
//! step up to which its state is current and applies the per-step function
//! once per missed step when it is next touched (stopping at a fixed point,
//! e.g. zero), which gives exactly the per-step result.

use crate::bank::add_in;
use crate::noise;
use crate::stats::TileActivity;
use fpnna_bitstream::{RowKind, Xy};
use fpnna_model::{self as m, StdpParams, VolatileParams};

/// Slots of the arrival ring (delays are 1..=MAX_DELAY).
pub(crate) const RING: u64 = m::MAX_DELAY as u64 + 1;

/// What the tile phases need besides the tile.
pub(crate) struct Ctx<'a> {
    pub seed: u64,
    /// This step's arrivals of every tile, grouped by tile (in queue order
    /// within a tile): tile i's are `due[due_start[i]..due_start[i + 1]]`,
    /// each an [`Arrival`].
    pub due: &'a [Arrival],
    pub due_start: &'a [u32],
    pub deliver_rows: &'a [RowInfo],
    pub deliver_node_start: &'a [u32],
    pub deliver_nodes: &'a [(u32, i32)],
    /// Read noise, fraction of the weight (0: none).
    pub read_noise: f64,
    /// Drift factor of non-volatile weights at this step (1: none).
    pub drift: f64,
    /// Whether non-volatile reads are perturbed at all.
    pub noisy_nv: bool,
    /// Cycle-to-cycle noise of volatile increments.
    pub c2c: f64,
}

/// A row due at a step, as the arrival ring holds it (one word): a
/// delivered row (an index into `deliver_rows`), or a row of the tile
/// itself (queued by a loaded state), told apart by the top bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub(crate) struct Arrival(u32);

impl Arrival {
    /// The bit that marks a row of the tile.
    const LOCAL: u32 = 1 << 31;

    /// The delivered row `deliver_rows[i]`.
    #[inline(always)]
    pub fn of_delivered(i: u32) -> Arrival {
        debug_assert!(i & Self::LOCAL == 0, "delivered row {i}");
        Arrival(i)
    }

    /// Row `r` of the tile itself (queued by a loaded state).
    #[inline(always)]
    pub fn of_tile_row(r: u32) -> Arrival {
        debug_assert!(r & Self::LOCAL == 0, "tile row {r}");
        Arrival(Self::LOCAL | r)
    }

    /// The delivered row `deliver_rows[i]`, when it names one.
    #[inline(always)]
    pub fn delivered(self) -> Option<u32> {
        (self.0 & Self::LOCAL == 0).then_some(self.0)
    }

    /// The row of the tile itself it names, when it is not a delivered row.
    #[inline(always)]
    pub fn tile_row(self) -> u32 {
        debug_assert!(self.delivered().is_none());
        self.0 & !Self::LOCAL
    }
}

/// A row: its index, its nodes (`lo..hi`), kind and delay, all that its
/// read needs in one place (what a delivery list holds).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowInfo {
    pub row: u32,
    pub lo: u32,
    pub hi: u32,
    pub kind: RowKind,
    pub delay: u8,
}

pub(crate) struct Tile {
    /// Its place in the grid.
    pub at: Xy,
    /// Global id of node 0 (for counter-based noise).
    pub node_base: u64,
    // Columns (their neuron state is in `Bank`, from column `col_lo` on).
    pub col_key: Vec<u32>,
    pub col_lo: u32,
    // Rows.
    pub row_delay: Vec<u8>,
    pub row_kind: Vec<RowKind>,
    /// Nodes of row r: row_start[r]..row_start[r + 1].
    pub row_start: Vec<u32>,
    /// Key of each row (rows are sorted by key: the rows an arriving key
    /// selects are consecutive).
    pub row_key: Vec<u32>,
    // Nodes, sorted by row.
    pub node_row: Vec<u16>,
    pub node_col: Vec<u16>,
    /// Effective weight (programmed, possibly perturbed); STDP: current weight.
    pub node_w: Vec<i32>,
    /// Volatile: normalised conductance x; STDP: presynaptic trace. (This
    /// and the next two are empty in a tile without volatile or STDP rows.)
    pub node_x: Vec<i32>,
    /// Step up to which node_x is current (and, for an STDP node, up to
    /// which its weight's retention has been applied).
    pub node_t: Vec<u64>,
    /// The programmed weight of each node, which a learned STDP weight
    /// relaxes toward (empty when no STDP profile of the tile relaxes).
    pub node_w0: Vec<i32>,
    /// Volatile: index into `vparams` (per row profile, or per node with spread).
    pub node_vp: Vec<u32>,
    pub vparams: Vec<VolatileParams>,
    pub stdp: Vec<StdpParams>,
    /// Postsynaptic traces, index col * stdp.len() + profile.
    pub post: Vec<i32>,
    pub post_t: Vec<u64>,
    /// STDP nodes of each column (CSR).
    pub col_stdp_start: Vec<u32>,
    pub col_stdp: Vec<u32>,
    /// Volatile nodes of each column (CSR), for waveforms.
    pub col_vol_start: Vec<u32>,
    pub col_vol: Vec<u32>,
    /// Non-volatile reads are exact (no read noise or drift): the row read
    /// streams through the row's (column, weight) pairs in its source's
    /// delivery list (`Built::deliver_nodes`) or send stream.
    pub direct_nv: bool,
    /// Wraps of the input sums during a step's row reads (global column,
    /// turns: see `bank::add_in`), handed to the bank after the reads.
    pub carry: Vec<(u32, i64)>,
    // Outputs of the last step's row reads.
    pub rows_read: u64,
    pub syn: u64,
    pub writes: u64,
    /// Cycles to update all columns once.
    pub update_cycles: u64,
    pub act: TileActivity,
}

/// Applies `f` to `x` once per step from `from` to `to`, stopping early at a
/// fixed point (a state `f` leaves unchanged stays unchanged).
#[inline]
fn catch_up(mut x: i32, from: u64, to: u64, f: impl Fn(i32) -> i32) -> i32 {
    let mut k = from;
    while k < to {
        let y = f(x);
        if y == x {
            break;
        }
        x = y;
        k += 1;
    }
    x
}

/// Adds a non-volatile row's weights into its columns' inputs (`input`
/// starts at column `base`, which wraps are noted against).
#[inline(always)]
pub(crate) fn add_row(input: &mut [i32], carry: &mut Vec<(u32, i64)>, base: u32, nodes: &[(u32, i32)]) {
    for &(c, w) in nodes {
        add_in(input, carry, c as usize, base + c, w);
    }
}

impl Tile {
    /// Row r's description.
    pub fn row_info(&self, r: usize) -> RowInfo {
        RowInfo {
            row: r as u32,
            lo: self.row_start[r],
            hi: self.row_start[r + 1],
            kind: self.row_kind[r],
            delay: self.row_delay[r],
        }
    }

    #[inline]
    fn noisy(&self, ctx: &Ctx, n: usize, t: u64, w: i32, drift: f64) -> i32 {
        let mut f = drift;
        if ctx.read_noise > 0.0 {
            f *= 1.0 + ctx.read_noise * noise::gauss(ctx.seed, noise::READ, self.node_base + n as u64, t);
        }
        if f == 1.0 { w } else { noise::scale_i32(w, f) }
    }

    /// The postsynaptic trace (col, profile) brought up to step `t`.
    #[inline]
    fn post_at(&mut self, col: usize, p: usize, t: u64) -> i32 {
        let k = col * self.stdp.len() + p;
        let d = self.stdp[p].decay_minus;
        let v = catch_up(self.post[k], self.post_t[k], t, |x| m::decay(x, d));
        self.post[k] = v;
        self.post_t[k] = t;
        v
    }

    /// The presynaptic trace of STDP node `n` brought up to step `t`.
    #[inline]
    fn pre_at(&mut self, n: usize, p: usize, t: u64) -> i32 {
        let d = self.stdp[p].decay_plus;
        let v = catch_up(self.node_x[n], self.node_t[n], t, |x| m::decay(x, d));
        self.node_x[n] = v;
        self.node_t[n] = t;
        v
    }

    /// STDP node `n` (profile `p`) brought up to step `t`: its presynaptic
    /// trace, and its weight relaxed toward the programmed one (retention).
    #[inline]
    fn stdp_at(&mut self, n: usize, p: usize, t: u64) -> (i32, i32) {
        let w = self.weight_at(n, p, t);
        (self.pre_at(n, p, t), w)
    }

    /// The weight of STDP node `n` (profile `p`) at step `t`, relaxed
    /// toward the programmed one since its last touch (not stored).
    #[inline]
    pub fn weight_at(&self, n: usize, p: usize, t: u64) -> i32 {
        match self.node_w0.get(n) {
            Some(&w0) => m::stdp_retain(&self.stdp[p], self.node_w[n], w0, t - self.node_t[n]),
            None => self.node_w[n],
        }
    }

    /// Phases (a) and (b) of step `t`: the rows due now are read (their
    /// arrivals), adding into the columns' `input` (this tile's part of
    /// `Bank::input`).
    pub fn read_rows(&mut self, ti: usize, t: u64, ctx: &Ctx, input: &mut [i32]) {
        let mut carry = std::mem::take(&mut self.carry);
        let due = &ctx.due[ctx.due_start[ti] as usize..ctx.due_start[ti + 1] as usize];
        let (rows_before, syn_before, writes_before) = (self.rows_read, self.syn, self.writes);
        self.rows_read += due.len() as u64;
        for &arrival in due {
            let delivered = arrival.delivered();
            let RowInfo { lo, hi, kind, .. } = match delivered {
                Some(i) => ctx.deliver_rows[i as usize],
                None => self.row_info(arrival.tile_row() as usize),
            };
            let (lo, hi) = (lo as usize, hi as usize);
            self.syn += (hi - lo) as u64;
            match (kind, delivered) {
                (RowKind::NonVolatile, Some(i)) if self.direct_nv => {
                    let (a, b) = (ctx.deliver_node_start[i as usize], ctx.deliver_node_start[i as usize + 1]);
                    add_row(input, &mut carry, self.col_lo, &ctx.deliver_nodes[a as usize..b as usize]);
                }
                (RowKind::NonVolatile, _) if !ctx.noisy_nv => {
                    for (&c, &w) in self.node_col[lo..hi].iter().zip(&self.node_w[lo..hi]) {
                        add_in(input, &mut carry, usize::from(c), self.col_lo + u32::from(c), w);
                    }
                }
                (RowKind::NonVolatile, _) => {
                    for n in lo..hi {
                        let w = self.noisy(ctx, n, t, self.node_w[n], ctx.drift);
                        add_in(
                            input,
                            &mut carry,
                            self.node_col[n] as usize,
                            self.col_lo + u32::from(self.node_col[n]),
                            w,
                        );
                    }
                }
                (RowKind::Volatile(_), _) => self.read_volatile(ctx, t, lo..hi, input, &mut carry),
                (RowKind::Stdp(pi), _) => self.read_stdp(ctx, t, pi as usize, lo..hi, input, &mut carry),
            }
        }

        self.carry = carry;
        self.act.row_reads += self.rows_read - rows_before;
        self.act.synaptic_events += self.syn - syn_before;
        self.act.node_writes += self.writes - writes_before;
    }

    /// Volatile nodes `nodes` read at step `t`: each adds its efficacy
    /// (relaxed to `t`) and takes a pulse.
    #[inline(always)]
    fn read_volatile(
        &mut self,
        ctx: &Ctx,
        t: u64,
        nodes: std::ops::Range<usize>,
        input: &mut [i32],
        carry: &mut Vec<(u32, i64)>,
    ) {
        for n in nodes {
            let p = self.vparams[self.node_vp[n] as usize];
            let x = catch_up(self.node_x[n], self.node_t[n], t, |x| m::volatile_relax(&p, x));
            let mut e = m::volatile_efficacy(&p, self.node_w[n], x);
            if ctx.read_noise > 0.0 {
                e = self.noisy(ctx, n, t, e, 1.0);
            }
            add_in(input, carry, self.node_col[n] as usize, self.col_lo + u32::from(self.node_col[n]), e);
            let pulse = if ctx.c2c > 0.0 {
                let g = noise::gauss(ctx.seed, noise::C2C, self.node_base + n as u64, t);
                VolatileParams { gain: noise::scale_i32(p.gain, 1.0 + ctx.c2c * g), ..p }
            } else {
                p
            };
            self.node_x[n] = m::volatile_pulse(&pulse, x);
            self.node_t[n] = t;
        }
    }

    /// STDP nodes `nodes` (profile `pi`) read at step `t`: each adds its
    /// weight, is depressed by its column's post trace, and bumps its pre
    /// trace.
    #[inline(always)]
    fn read_stdp(
        &mut self,
        ctx: &Ctx,
        t: u64,
        pi: usize,
        nodes: std::ops::Range<usize>,
        input: &mut [i32],
        carry: &mut Vec<(u32, i64)>,
    ) {
        let p = self.stdp[pi];
        for n in nodes {
            let col = self.node_col[n] as usize;
            let (pre, w) = self.stdp_at(n, pi, t);
            let post = self.post_at(col, pi, t);
            let e = if ctx.read_noise > 0.0 { self.noisy(ctx, n, t, w, 1.0) } else { w };
            add_in(input, carry, col, self.col_lo + col as u32, e);
            let nw = m::stdp_depress(&p, w, post);
            self.writes += u64::from(nw != w);
            self.node_w[n] = nw;
            self.node_x[n] = m::trace_bump(p.pairing, pre);
        }
    }

    /// Phase (e) for column `c`, which fired at step `t`: potentiation of
    /// its STDP inputs, and its post traces. Returns the nodes written.
    pub fn fired(&mut self, c: usize, t: u64) -> u64 {
        self.act.spikes += 1;
        if self.stdp.is_empty() {
            return 0;
        }
        let mut writes = 0;
        for j in self.col_stdp_start[c] as usize..self.col_stdp_start[c + 1] as usize {
            let n = self.col_stdp[j] as usize;
            let RowKind::Stdp(pi) = self.row_kind[self.node_row[n] as usize] else { continue };
            let (pre, w) = self.stdp_at(n, pi as usize, t);
            let nw = m::stdp_potentiate(&self.stdp[pi as usize], w, pre);
            writes += u64::from(nw != w);
            self.node_w[n] = nw;
        }
        for p in 0..self.stdp.len() {
            let v = self.post_at(c, p, t);
            self.post[c * self.stdp.len() + p] = m::trace_bump(self.stdp[p].pairing, v);
        }
        self.act.node_writes += writes;
        writes
    }

    /// Sum of the normalised conductances x of column `c`'s volatile nodes at
    /// step `t` (without touching the state); `None` when it has none.
    pub fn volatile_x_sum(&self, c: usize, t: u64) -> Option<(i64, usize)> {
        let (lo, hi) = (self.col_vol_start[c] as usize, self.col_vol_start[c + 1] as usize);
        if lo == hi {
            return None;
        }
        let mut s = 0i64;
        for &n in &self.col_vol[lo..hi] {
            let n = n as usize;
            let p = self.vparams[self.node_vp[n] as usize];
            s += i64::from(catch_up(self.node_x[n], self.node_t[n], t, |x| m::volatile_relax(&p, x)));
        }
        Some((s, hi - lo))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An arrival names a delivered row or a row of the tile, never both,
    /// over the whole range of either.
    #[test]
    fn an_arrival_names_one_kind_of_row() {
        for i in [0, 1, 12_345, Arrival::LOCAL - 1] {
            assert_eq!(Arrival::of_delivered(i).delivered(), Some(i));
            let local = Arrival::of_tile_row(i);
            assert_eq!((local.delivered(), local.tile_row()), (None, i));
        }
    }
}
