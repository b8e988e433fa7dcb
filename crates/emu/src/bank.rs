//! Every neuron column of the array in one structure of arrays, tile after
//! tile (tile `t`'s columns are `col_lo[t]..col_lo[t + 1]`).
//!
//! Tiles add their row reads into `input`; then one pass updates every
//! column with `fpnna_model::batch` over runs of columns that share their
//! parameters, whatever tile they belong to. The hardware updates tiles in
//! parallel and every column independently, so one pass over all of them
//! computes the same thing, and does it in vector lanes.

use fpnna_model::batch::{self, Lanes};
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

#[derive(Default)]
pub(crate) struct Bank {
    pub v: Vec<i32>,
    pub i: Vec<i32>,
    pub refr: Vec<u16>,
    /// This step's summed synaptic input of each column, saturated into
    /// `i32` (tiles sum modulo 2^32 and settle the rare wraps, see
    /// `Tile::read_rows`).
    pub input: Vec<i32>,
    /// Runs of columns with equal parameters, in column order.
    pub runs: Vec<Run>,
    /// First column of each tile, and the number of columns at the end.
    pub col_lo: Vec<u32>,
    /// Tile and source (index into `Built::src_key`) of each column.
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
            let c = self.v.len() as u32;
            match self.runs.last_mut() {
                Some(r) if r.params == *p && r.hi == c => r.hi += 1,
                _ => self.runs.push(Run { lo: c, hi: c + 1, params: *p }),
            }
            self.col_tile.push(tile);
            self.col_source.push(0);
            self.v.push(0);
        }
        let n = self.v.len();
        self.col_lo.push(n as u32);
        self.i.resize(n, 0);
        self.refr.resize(n, 0);
        self.input.resize(n, 0);
        for (c, s) in (self.col_lo[tile as usize] as usize..n).zip(init) {
            self.set_state(c, s);
        }
    }

    /// Columns of tile `t`.
    pub fn cols(&self, t: usize) -> std::ops::Range<usize> {
        self.col_lo[t] as usize..self.col_lo[t + 1] as usize
    }

    pub fn state(&self, c: usize) -> NeuronState {
        NeuronState { v: self.v[c], i: self.i[c], refr: self.refr[c] }
    }

    pub fn set_state(&mut self, c: usize, s: NeuronState) {
        (self.v[c], self.i[c], self.refr[c]) = (s.v, s.i, s.refr);
    }

    /// Phases (c) and (d) of a step: every column integrates its input
    /// (which is reset to 0); the columns that fire are appended to `fired`
    /// in increasing order, whatever the number of threads.
    pub fn update(&mut self, fired: &mut Vec<u32>, pool: Option<&rayon::ThreadPool>) {
        let n = self.v.len();
        let parts = match pool {
            Some(p) if n >= PAR_MIN => (p.current_num_threads() * 4).min(n / batch::BLOCK).max(1),
            _ => 1,
        };
        if parts == 1 {
            let cols = (&mut self.v[..], &mut self.i[..], &mut self.refr[..], &mut self.input[..]);
            pulp::Arch::new().dispatch(Part { runs: &self.runs, lo: 0, cols, fired });
            return;
        }
        // Split the columns into parts of whole blocks, updated in parallel,
        // their fired columns concatenated in order.
        let step = n.div_ceil(parts).next_multiple_of(batch::BLOCK);
        let mut slices = Vec::with_capacity(parts);
        let (mut v, mut i, mut refr, mut input) =
            (&mut self.v[..], &mut self.i[..], &mut self.refr[..], &mut self.input[..]);
        let mut lo = 0;
        while !v.is_empty() {
            let k = step.min(v.len());
            let (a, b) = v.split_at_mut(k);
            let (c, d) = i.split_at_mut(k);
            let (e, f) = refr.split_at_mut(k);
            let (g, h) = input.split_at_mut(k);
            slices.push((lo, (a, c, e, g)));
            (v, i, refr, input) = (b, d, f, h);
            lo += k;
        }
        let runs = &self.runs;
        let lists: Vec<Vec<u32>> = pool.expect("parts > 1 only with a pool").install(|| {
            slices
                .into_par_iter()
                .map(|(lo, cols)| {
                    let mut fired = Vec::new();
                    pulp::Arch::new().dispatch(Part { runs, lo, cols, fired: &mut fired });
                    fired
                })
                .collect()
        });
        lists.iter().for_each(|l| fired.extend_from_slice(l));
    }
}

type Cols<'a> = (&'a mut [i32], &'a mut [i32], &'a mut [u16], &'a mut [i32]);

/// The update of columns `lo..lo + len` (the slices start at column `lo`),
/// compiled for each vector unit pulp knows and run with the best one the
/// CPU has (the results are the same: integer arithmetic).
struct Part<'a> {
    runs: &'a [Run],
    lo: usize,
    cols: Cols<'a>,
    fired: &'a mut Vec<u32>,
}

impl pulp::WithSimd for Part<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Part { runs, lo, cols: (v, i, refr, input), fired } = self;
        update_part(runs, lo, (v, i, refr, input), fired);
    }
}

#[inline(always)]
fn update_part(runs: &[Run], lo: usize, (v, i, refr, input): Cols<'_>, fired: &mut Vec<u32>) {
    let hi = lo + v.len();
    let first = runs.partition_point(|r| r.hi as usize <= lo);
    for r in &runs[first..] {
        let (a, b) = ((r.lo as usize).max(lo), (r.hi as usize).min(hi));
        if a >= b {
            break;
        }
        let (x, y) = (a - lo, b - lo);
        let lanes = Lanes { v: &mut v[x..y], i: &mut i[x..y], refr: &mut refr[x..y] };
        batch::neuron_steps(&r.params, lanes, &mut input[x..y], |k| fired.push((a + k) as u32));
    }
}
