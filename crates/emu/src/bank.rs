//! Every neuron column of the array in one structure of arrays, tile after
//! tile (tile `t`'s columns are `col_lo[t]..col_lo[t + 1]`).
//!
//! Tiles add their row reads into `input`; then one pass updates every
//! column with `fpnna_model::batch` over runs of columns that share their
//! parameters, whatever tile they belong to. The hardware updates tiles in
//! parallel and every column independently, so one pass over all of them
//! computes the same thing, and does it in vector lanes.

use fpnna_model::batch::{self, Lanes, LanesMut};
use fpnna_model::{NeuronParams, NeuronState};
use rayon::prelude::*;

/// Consecutive columns `lo..hi` with the same parameters.
#[derive(Clone, Debug)]
pub(crate) struct Run {
    pub lo: u32,
    pub hi: u32,
    pub params: NeuronParams,
}

/// Columns below which one thread updates them all (rayon's hand-off costs
/// more than updating a few thousand columns).
const PAR_MIN: usize = 1 << 15;

/// The neuron state of every column.
#[derive(Clone, Default)]
pub(crate) struct States {
    pub v: Vec<i32>,
    pub i: Vec<i32>,
    pub refr: Vec<u16>,
    /// Adaptive threshold offsets (0 for columns without adaptation).
    pub theta: Vec<i32>,
}

#[derive(Default)]
pub(crate) struct Bank {
    /// Two copies of the state: a step reads `now[cur]` and writes the
    /// other, which becomes current (no column is left out of a step).
    pub now: [States; 2],
    pub cur: usize,
    /// Columns from which the update is split over threads.
    pub par_min: usize,
    /// The summed synaptic input of each column for the next `slots` steps
    /// (step t's is slot `t % slots`: `input[slot * n..][..n]`), summed
    /// modulo 2^32 with the wraps noted in `carry[slot]` (global column,
    /// turns) and settled before the update, which takes each sum
    /// saturated into `i32`. Tiles add the rows they read at step t into
    /// slot t; rows known when a spike is sent (non-volatile, read without
    /// noise) are added into their due step's slot right away.
    pub input: Vec<i32>,
    pub slots: usize,
    pub carry: Vec<Vec<(u32, i64)>>,
    /// Runs of columns with equal parameters, in column order.
    pub runs: Vec<Run>,
    /// First column of each tile, and the number of columns at the end.
    pub col_lo: Vec<u32>,
    /// Tile and source (index into `Built::src.key`) of each column.
    pub col_tile: Vec<u32>,
    pub col_source: Vec<u32>,
}

impl Bank {
    /// Appends a tile's columns (its parameters and initial states).
    pub fn push_tile(&mut self, params: &[NeuronParams], init: impl Iterator<Item = NeuronState>) {
        if self.col_lo.is_empty() {
            self.col_lo.push(0);
        }
        let tile = self.col_lo.len() as u32 - 1;
        for p in params {
            let c = self.len() as u32;
            match self.runs.last_mut() {
                Some(r) if r.params == *p && r.hi == c => r.hi += 1,
                _ => self.runs.push(Run { lo: c, hi: c + 1, params: *p }),
            }
            self.col_tile.push(tile);
            self.col_source.push(0);
        }
        let n = self.col_tile.len();
        self.col_lo.push(n as u32);
        for s in &mut self.now {
            s.v.resize(n, 0);
            s.i.resize(n, 0);
            s.refr.resize(n, 0);
            s.theta.resize(n, 0);
        }
        self.par_min = PAR_MIN;
        for (c, s) in (self.col_lo[tile as usize] as usize..n).zip(init) {
            self.set_state(c, s);
        }
    }

    /// Sets the number of input slots (at least 1 + the longest delay of a
    /// row added when its spike is sent; 1: no such row; rounded up to a
    /// power of two) and empties them.
    pub fn set_slots(&mut self, slots: usize) {
        self.slots = slots.max(1).next_power_of_two();
        self.input = vec![0; self.slots * self.len()];
        self.carry = vec![Vec::new(); self.slots];
    }

    /// Empties every input slot.
    pub fn clear_input(&mut self) {
        self.input.fill(0);
        self.carry.iter_mut().for_each(Vec::clear);
    }

    /// The input slot of step `t`, and its wraps.
    pub fn slot(&mut self, t: u64) -> (&mut [i32], &mut Vec<(u32, i64)>) {
        let (n, k) = (self.len(), (t as usize) & (self.slots - 1));
        (&mut self.input[k * n..(k + 1) * n], &mut self.carry[k])
    }

    /// Columns of tile `t`.
    pub fn cols(&self, t: usize) -> std::ops::Range<usize> {
        self.col_lo[t] as usize..self.col_lo[t + 1] as usize
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.col_tile.len()
    }

    /// The parameters of column `c`.
    pub fn params(&self, c: usize) -> &NeuronParams {
        &self.runs[self.runs.partition_point(|r| r.hi as usize <= c)].params
    }

    pub fn state(&self, c: usize) -> NeuronState {
        let s = &self.now[self.cur];
        NeuronState { v: s.v[c], i: s.i[c], refr: s.refr[c], theta: s.theta[c] }
    }

    pub fn set_state(&mut self, c: usize, n: NeuronState) {
        let s = &mut self.now[self.cur];
        (s.v[c], s.i[c], s.refr[c], s.theta[c]) = (n.v, n.i, n.refr, n.theta);
    }

    /// Phases (c) and (d) of step `t`: every column integrates its input
    /// (which is settled, then reset to 0); the columns that fire are
    /// appended to `fired` in increasing order, whatever the number of
    /// threads.
    pub fn update(&mut self, t: u64, fired: &mut Vec<u32>, pool: Option<&rayon::ThreadPool>) {
        let n = self.len();
        let k = (t as usize) & (self.slots - 1);
        let input = &mut self.input[k * n..(k + 1) * n];
        settle(input, &mut self.carry[k]);
        let [a, b] = &mut self.now;
        let (from, to) = if self.cur == 0 { (&*a, b) } else { (&*b, a) };
        self.cur ^= 1;
        let parts = match pool {
            Some(p) if n >= self.par_min => (p.current_num_threads() * 4).min(n / batch::BLOCK).max(1),
            _ => 1,
        };
        let runs = &self.runs[..];
        if parts == 1 {
            let to = LanesMut { v: &mut to.v, i: &mut to.i, refr: &mut to.refr, theta: &mut to.theta };
            pulp::Arch::new().dispatch(Part { runs, lo: 0, from: lanes(from, 0..n), to, input, fired });
            return;
        }
        // Split the columns into parts of whole blocks, updated in parallel,
        // their fired columns concatenated in order.
        let step = n.div_ceil(parts).next_multiple_of(batch::BLOCK);
        let mut work = Vec::with_capacity(parts);
        let (mut v, mut i, mut refr, mut theta, mut input) =
            (&mut to.v[..], &mut to.i[..], &mut to.refr[..], &mut to.theta[..], input);
        let mut lo = 0;
        while lo < n {
            let k = step.min(n - lo);
            let (a, b) = std::mem::take(&mut v).split_at_mut(k);
            let (c, d) = std::mem::take(&mut i).split_at_mut(k);
            let (e, f) = std::mem::take(&mut refr).split_at_mut(k);
            let (g, h) = std::mem::take(&mut input).split_at_mut(k);
            let (x, y) = std::mem::take(&mut theta).split_at_mut(k);
            work.push((lo, lanes(from, lo..lo + k), LanesMut { v: a, i: c, refr: e, theta: x }, g));
            (v, i, refr, theta, input) = (b, d, f, y, h);
            lo += k;
        }
        let lists: Vec<Vec<u32>> = pool.expect("parts > 1 only with a pool").install(|| {
            work.into_par_iter()
                .map(|(lo, from, to, input)| {
                    let mut fired = Vec::new();
                    pulp::Arch::new().dispatch(Part { runs, lo, from, to, input, fired: &mut fired });
                    fired
                })
                .collect()
        });
        lists.iter().for_each(|l| fired.extend_from_slice(l));
    }
}

/// The state of columns `r`.
fn lanes(s: &States, r: std::ops::Range<usize>) -> Lanes<'_> {
    Lanes { v: &s.v[r.clone()], i: &s.i[r.clone()], refr: &s.refr[r.clone()], theta: &s.theta[r] }
}

/// Adds `w` into `input[c]` modulo 2^32, noting a wrap (+1: past
/// `i32::MAX`, -1: past `i32::MIN`) in `carry` as (`carry_col`, turns): the
/// exact sum is the wrapped one plus 2^32 times the column's turns.
#[inline(always)]
pub(crate) fn add_in(input: &mut [i32], carry: &mut Vec<(u32, i64)>, c: usize, carry_col: u32, w: i32) {
    let (s, wrapped) = input[c].overflowing_add(w);
    input[c] = s;
    if wrapped {
        carry.push((carry_col, if w < 0 { -1 } else { 1 }));
    }
}

/// Replaces the input of every column that wrapped by its exact sum,
/// saturated into `i32` (what `neuron_step` takes), whatever the order of
/// the additions.
fn settle(input: &mut [i32], carry: &mut Vec<(u32, i64)>) {
    if carry.is_empty() {
        return;
    }
    carry.sort_unstable_by_key(|&(c, _)| c);
    for g in carry.chunk_by(|a, b| a.0 == b.0) {
        let c = g[0].0 as usize;
        let turns: i64 = g.iter().map(|&(_, d)| d).sum();
        input[c] = fpnna_model::saturate(i64::from(input[c]) + (turns << 32));
    }
    carry.clear();
}

/// The update of columns `lo..lo + len` (the slices start at column `lo`),
/// compiled for each vector unit pulp knows and run with the best one the
/// CPU has (the results are the same: integer arithmetic).
struct Part<'a> {
    runs: &'a [Run],
    lo: usize,
    from: Lanes<'a>,
    to: LanesMut<'a>,
    input: &'a mut [i32],
    fired: &'a mut Vec<u32>,
}

impl pulp::WithSimd for Part<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Part { runs, lo, from, to, input, fired } = self;
        let hi = lo + input.len();
        let first = runs.partition_point(|r| r.hi as usize <= lo);
        for r in &runs[first..] {
            let (a, b) = ((r.lo as usize).max(lo), (r.hi as usize).min(hi));
            if a >= b {
                break;
            }
            let (x, y) = (a - lo, b - lo);
            let old = Lanes { v: &from.v[x..y], i: &from.i[x..y], refr: &from.refr[x..y], theta: &from.theta[x..y] };
            let new = LanesMut {
                v: &mut to.v[x..y],
                i: &mut to.i[x..y],
                refr: &mut to.refr[x..y],
                theta: &mut to.theta[x..y],
            };
            batch::neuron_steps(&r.params, old, new, &mut input[x..y], |k| fired.push((a + k) as u32));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fpnna_model::{NeuronParams, Reset};

    /// Tiles with two kinds of neurons and several input slots: split over
    /// threads (in parts smaller than the runs and than the tiles), the
    /// update fires the same columns in the same order and leaves the same
    /// state as one thread.
    #[test]
    fn threads_update_like_one_thread() {
        let p = |threshold, refractory| NeuronParams {
            decay_i: 300,
            decay_v: 100,
            threshold,
            bias: 900,
            v_min: -(1 << 20),
            reset: Reset::Subtract,
            refractory,
            theta_step: 0,
            theta_decay: 0,
        };
        let (a, b) = (p(20_000, 2), p(35_000, 0));
        let mut one = Bank::default();
        for t in 0..7u32 {
            let params: Vec<NeuronParams> =
                (0..150 + 40 * t).map(|c| if (c / 50 + t) % 2 == 0 { a } else { b }).collect();
            one.push_tile(&params, (0..).map(|c: i32| NeuronState::with_v((c * 7919) % 30_000)));
        }
        one.set_slots(3);
        let mut two =
            Bank { now: one.now.clone(), runs: one.runs.clone(), col_lo: one.col_lo.clone(), ..Bank::default() };
        two.col_tile.clone_from(&one.col_tile);
        two.set_slots(3);
        two.par_min = 64;
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let n = one.len();
        let mut spikes = 0;
        for t in 0..60u64 {
            for bank in [&mut one, &mut two] {
                let (input, _) = bank.slot(t + 1);
                for (c, x) in input.iter_mut().enumerate() {
                    *x = ((c as i32 * 31 + t as i32 * 17) % 23 - 9) * 150;
                }
            }
            let (mut f1, mut f2) = (Vec::new(), Vec::new());
            one.update(t, &mut f1, None);
            two.update(t, &mut f2, Some(&pool));
            assert_eq!(f1, f2, "step {t}");
            spikes += f1.len();
            assert!((0..n).all(|c| one.state(c) == two.state(c)), "state after step {t}");
        }
        assert!(spikes > 100, "the columns fire ({spikes} spikes)");
    }

    /// Sums near and beyond the i32 range, added in many orders: the
    /// settled input is the exact i64 sum, saturated.
    #[test]
    fn wrapped_sums_settle_to_the_saturated_exact_sum() {
        let big = [i32::MAX, i32::MIN, i32::MAX - 5, i32::MIN + 7, 1 << 30, -(1 << 30), 3, -2, 0];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2000 {
            let n = (next() % 7) as usize;
            let ws: Vec<(usize, i32)> = (0..n).map(|_| ((next() % 2) as usize, big[(next() % 9) as usize])).collect();
            let mut input = [0i32; 2];
            let mut carry = Vec::new();
            for &(c, w) in &ws {
                add_in(&mut input, &mut carry, c, c as u32, w);
            }
            settle(&mut input, &mut carry);
            for (c, &got) in input.iter().enumerate() {
                let exact: i64 = ws.iter().filter(|w| w.0 == c).map(|w| i64::from(w.1)).sum();
                assert_eq!(got, fpnna_model::saturate(exact), "column {c} of {ws:?}");
            }
        }
    }
}
