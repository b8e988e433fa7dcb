//! The connectors, each a pure function from its resolved inputs (the two
//! sizes, the weights, the delay, the seed, the data rows, the synapse
//! budget) to the synapse list. Checking the source's arguments and turning
//! errors into diagnostics is `connect.rs`'s business.
//!
//! Synapses come out in a fixed order (by source, then target, except
//! `sparse`, in the order of its rows), which is what makes the IR, and
//! the uniform weight of synapse `k`, reproducible.

use fpnna_ir::Synapses;
use fpnna_model::{self as m, MAX_DELAY};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::collections::BTreeSet;
use std::fmt;

/// The names of the connectors, for suggestions.
pub(super) const CONNECTORS: &[&str] =
    &["all_to_all", "one_to_one", "fixed_probability", "fixed_fan_in", "dense", "sparse"];

/// Every connector with its arguments.
pub(super) const CONNECTORS_HELP: &str = "connectors: all_to_all, one_to_one, fixed_probability(p, seed = s), fixed_fan_in(k, seed = s), dense(matrix or \"file.csv\" | \"file.npy\"), sparse(list or \"file.csv\" | \"file.npy\")";

/// The sizes of a projection's two ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Shape {
    /// Source population size.
    pub n_pre: u32,
    /// Target population size.
    pub n_post: u32,
}

impl Shape {
    /// Number of (source, target) pairs.
    fn pairs(self) -> u64 {
        u64::from(self.n_pre) * u64::from(self.n_post)
    }
}

/// The weights of a generated connector, in fixed point: `lo == hi` is a
/// constant; otherwise synapse `k` draws `uniform_fixed(seed, k, lo, hi)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Weights {
    /// Lowest weight.
    pub lo: i32,
    /// Highest weight.
    pub hi: i32,
    /// Seed of the uniform draw (unused for a constant).
    pub seed: u64,
}

impl Weights {
    /// The same weight for every synapse.
    #[cfg(test)]
    pub fn constant(w: i32) -> Self {
        Weights { lo: w, hi: w, seed: 0 }
    }

    /// The weight of the `k`-th synapse made.
    fn at(self, k: u64) -> i32 {
        if self.lo == self.hi { self.lo } else { m::uniform_fixed(self.seed, k, self.lo, self.hi) }
    }
}

/// Why a connector makes no synapse list.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum ConnectorError {
    /// It would make this many synapses, more than the budget.
    TooMany(u64),
    /// `one_to_one` between populations of different sizes.
    SizesDiffer,
    /// `fixed_fan_in(k)` with `k` above the source size.
    FanInAboveSource,
    /// `dense` with this many rows, not one per source neuron.
    DenseRows(usize),
    /// `dense`: the row at `line` has `columns` values, not one per target.
    DenseColumns {
        /// 1-based line (or row) of the data.
        line: usize,
        /// Its number of values.
        columns: usize,
    },
    /// A weight that does not fit the fixed point.
    Weight(f64),
    /// `sparse`: the entry at `line` is wrong.
    Sparse {
        /// 1-based line (or row) of the data.
        line: usize,
        /// What is wrong with it.
        problem: SparseProblem,
    },
}

/// What is wrong with one `sparse` entry `pre,post,weight[,delay]`.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum SparseProblem {
    /// Not 3 or 4 values.
    Values(usize),
    /// The source index is outside `0..n_pre`.
    Pre(f64, u32),
    /// The target index is outside `0..n_post`.
    Post(f64, u32),
    /// The delay is outside `1..=MAX_DELAY`.
    Delay(f64),
    /// The same (pre, post, delay) was given before.
    Duplicate(u32, u32, u8),
}

impl fmt::Display for SparseProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SparseProblem::Values(n) => write!(f, "{n} values"),
            SparseProblem::Pre(x, n) => write!(f, "pre index {x} outside 0..{n}"),
            SparseProblem::Post(x, n) => write!(f, "post index {x} outside 0..{n}"),
            SparseProblem::Delay(x) => write!(f, "delay {x} outside 1..={MAX_DELAY}"),
            SparseProblem::Duplicate(i, j, d) => write!(f, "duplicate synapse {i} -> {j} with delay {d}"),
        }
    }
}

/// Every source to every target.
pub(super) fn all_to_all(shape: Shape, w: Weights, delay: u8, budget: u64) -> Result<Synapses, ConnectorError> {
    if shape.pairs() > budget {
        return Err(ConnectorError::TooMany(shape.pairs()));
    }
    let mut syn = Synapses::default();
    for i in 0..shape.n_pre {
        for j in 0..shape.n_post {
            let k = syn.len() as u64;
            syn.push(i, j, w.at(k), delay);
        }
    }
    Ok(syn)
}

/// Source `i` to target `i`, between populations of one size.
pub(super) fn one_to_one(shape: Shape, w: Weights, delay: u8) -> Result<Synapses, ConnectorError> {
    if shape.n_pre != shape.n_post {
        return Err(ConnectorError::SizesDiffer);
    }
    let mut syn = Synapses::default();
    for i in 0..shape.n_pre {
        syn.push(i, i, w.at(u64::from(i)), delay);
    }
    Ok(syn)
}

/// The number of synapses `fixed_probability(p)` makes on average: what is
/// checked against the budget before any is drawn.
pub(super) fn fixed_probability_expected(shape: Shape, p: f64) -> u64 {
    (shape.pairs() as f64 * p) as u64
}

/// Each pair independently with probability `p` in [0, 1], drawn from
/// `seed`.
pub(super) fn fixed_probability(
    shape: Shape,
    p: f64,
    seed: u64,
    w: Weights,
    delay: u8,
    budget: u64,
) -> Result<Synapses, ConnectorError> {
    let expected = fixed_probability_expected(shape, p);
    if expected > budget {
        return Err(ConnectorError::TooMany(expected));
    }
    let pairs = shape.pairs();
    let n_post = u64::from(shape.n_post);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut syn = Synapses::default();
    // Geometric skipping: cost is proportional to the synapses made, not to
    // the pairs considered.
    let ln_q = (1.0 - p).ln();
    let mut at: u64 = 0;
    while p > 0.0 && at < pairs {
        if p < 1.0 {
            let u = (f64::from(rng.next_u32()) + 1.0) / 4_294_967_297.0;
            let skip = (u.ln() / ln_q).floor();
            if skip >= (pairs - at) as f64 {
                break;
            }
            at += skip as u64;
        }
        let k = syn.len() as u64;
        if k >= budget {
            return Err(ConnectorError::TooMany(k + 1));
        }
        syn.push((at / n_post) as u32, (at % n_post) as u32, w.at(k), delay);
        at += 1;
    }
    Ok(syn)
}

/// The number of synapses `fixed_fan_in(k)` makes.
pub(super) fn fixed_fan_in_count(shape: Shape, k: u32) -> u64 {
    u64::from(k) * u64::from(shape.n_post)
}

/// Each target from `k` distinct sources (k <= the source size), drawn
/// from `seed`; a target's sources in increasing order.
pub(super) fn fixed_fan_in(
    shape: Shape,
    k: u32,
    seed: u64,
    w: Weights,
    delay: u8,
    budget: u64,
) -> Result<Synapses, ConnectorError> {
    let Shape { n_pre, n_post } = shape;
    if k > n_pre {
        return Err(ConnectorError::FanInAboveSource);
    }
    let count = fixed_fan_in_count(shape, k);
    if count > budget {
        return Err(ConnectorError::TooMany(count));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut mark = vec![u32::MAX; n_pre as usize];
    let mut chosen = Vec::with_capacity(k as usize);
    let mut syn = Synapses::default();
    let (pre, post, wv, dl) = (&mut syn.pre, &mut syn.post, &mut syn.weight, &mut syn.delay);
    pre.reserve(count as usize);
    post.reserve(count as usize);
    wv.reserve(count as usize);
    dl.reserve(count as usize);
    for j in 0..n_post {
        // Floyd's algorithm: k distinct sources.
        chosen.clear();
        for t in (n_pre - k)..n_pre {
            let r = ((u64::from(rng.next_u32()) * u64::from(t + 1)) >> 32) as u32;
            let pick = if mark[r as usize] == j { t } else { r };
            mark[pick as usize] = j;
            chosen.push(pick);
        }
        chosen.sort_unstable();
        for &i in &chosen {
            let kk = pre.len() as u64;
            pre.push(i);
            post.push(j);
            wv.push(w.at(kk));
            dl.push(delay);
        }
    }
    Ok(syn)
}

/// A weight matrix, one row per source and one column per target, each row
/// with its line; zeros make no synapse. (It is at most one synapse per
/// pair, so no budget check: populations are bounded.)
pub(super) fn dense(shape: Shape, rows: &[(usize, Vec<f64>)], delay: u8) -> Result<Synapses, ConnectorError> {
    if rows.len() != shape.n_pre as usize {
        return Err(ConnectorError::DenseRows(rows.len()));
    }
    let mut syn = Synapses::default();
    for (i, (line, r)) in rows.iter().enumerate() {
        if r.len() != shape.n_post as usize {
            return Err(ConnectorError::DenseColumns { line: *line, columns: r.len() });
        }
        for (j, &w) in r.iter().enumerate() {
            if w != 0.0 {
                let wf = m::to_fixed(w).ok_or(ConnectorError::Weight(w))?;
                syn.push(i as u32, j as u32, wf, delay);
            }
        }
    }
    Ok(syn)
}

/// Synapses listed one per row as `pre,post,weight[,delay]`, in that order;
/// a row without a delay takes `delay`. The first wrong row is the error.
pub(super) fn sparse(
    shape: Shape,
    rows: &[(usize, Vec<f64>)],
    delay: u8,
    budget: u64,
) -> Result<Synapses, ConnectorError> {
    let mut seen = BTreeSet::new();
    let mut syn = Synapses::default();
    for (line, r) in rows {
        let (pre, post, w, dl) =
            sparse_entry(shape, r, delay).map_err(|problem| ConnectorError::Sparse { line: *line, problem })?;
        if !seen.insert((pre, post, dl)) {
            let problem = SparseProblem::Duplicate(pre, post, dl);
            return Err(ConnectorError::Sparse { line: *line, problem });
        }
        let wf = m::to_fixed(w).ok_or(ConnectorError::Weight(w))?;
        syn.push(pre, post, wf, dl);
    }
    if syn.len() as u64 > budget {
        return Err(ConnectorError::TooMany(syn.len() as u64));
    }
    Ok(syn)
}

/// One `sparse` row checked: (pre, post, weight, delay).
fn sparse_entry(shape: Shape, r: &[f64], delay: u8) -> Result<(u32, u32, f64, u8), SparseProblem> {
    if !(3..=4).contains(&r.len()) {
        return Err(SparseProblem::Values(r.len()));
    }
    let ok_index = |x: f64, n: u32| x.fract() == 0.0 && x >= 0.0 && x < f64::from(n);
    if !ok_index(r[0], shape.n_pre) {
        return Err(SparseProblem::Pre(r[0], shape.n_pre));
    }
    if !ok_index(r[1], shape.n_post) {
        return Err(SparseProblem::Post(r[1], shape.n_post));
    }
    let dl = match r.get(3) {
        None => delay,
        Some(&x) if x.fract() == 0.0 && x >= 1.0 && x <= f64::from(MAX_DELAY) => x as u8,
        Some(&x) => return Err(SparseProblem::Delay(x)),
    };
    Ok((r[0] as u32, r[1] as u32, r[2], dl))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fpnna_model::ONE;

    const W: Weights = Weights { lo: ONE, hi: ONE, seed: 0 };
    const NO_LIMIT: u64 = u64::MAX;

    fn shape(n_pre: u32, n_post: u32) -> Shape {
        Shape { n_pre, n_post }
    }

    fn pairs(s: &Synapses) -> Vec<(u32, u32)> {
        s.pre.iter().zip(&s.post).map(|(&i, &j)| (i, j)).collect()
    }

    #[test]
    fn all_to_all_of_2_by_3_is_every_pair_by_source_then_target() {
        let s = all_to_all(shape(2, 3), W, 4, NO_LIMIT).unwrap();
        assert_eq!(pairs(&s), [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]);
        assert_eq!(s.weight, [ONE; 6]);
        assert_eq!(s.delay, [4; 6]);
    }

    #[test]
    fn all_to_all_of_a_population_onto_one_of_its_size_includes_the_diagonal() {
        // There is no self-connection rule: (i, i) is made like any pair.
        let s = all_to_all(shape(2, 2), W, 1, NO_LIMIT).unwrap();
        assert_eq!(pairs(&s), [(0, 0), (0, 1), (1, 0), (1, 1)]);
    }

    #[test]
    fn all_to_all_over_the_budget_reports_its_count() {
        assert_eq!(all_to_all(shape(3, 4), W, 1, 11), Err(ConnectorError::TooMany(12)));
        assert_eq!(all_to_all(shape(3, 4), W, 1, 12).unwrap().len(), 12);
    }

    #[test]
    fn one_to_one_of_sizes_3_is_the_diagonal() {
        let s = one_to_one(shape(3, 3), W, 2).unwrap();
        assert_eq!(pairs(&s), [(0, 0), (1, 1), (2, 2)]);
        assert_eq!(s.delay, [2; 3]);
        assert_eq!(one_to_one(shape(3, 4), W, 1), Err(ConnectorError::SizesDiffer));
    }

    #[test]
    fn uniform_weights_draw_synapse_k_from_the_seed_and_k() {
        let w = Weights { lo: 0, hi: ONE, seed: 9 };
        let s = one_to_one(shape(3, 3), w, 1).unwrap();
        let expect: Vec<i32> = (0..3).map(|k| m::uniform_fixed(9, k, 0, ONE)).collect();
        assert_eq!(s.weight, expect);
        assert!(s.weight.iter().all(|&x| (0..=ONE).contains(&x)));
        assert_eq!(Weights::constant(5).at(7), 5);
    }

    #[test]
    fn fixed_probability_is_reproducible_for_a_seed_and_differs_across_seeds() {
        let a = fixed_probability(shape(40, 50), 0.1, 3, W, 1, NO_LIMIT).unwrap();
        let b = fixed_probability(shape(40, 50), 0.1, 3, W, 1, NO_LIMIT).unwrap();
        let c = fixed_probability(shape(40, 50), 0.1, 4, W, 1, NO_LIMIT).unwrap();
        assert_eq!(a, b);
        assert_ne!(pairs(&a), pairs(&c));
    }

    #[test]
    fn fixed_probability_makes_about_p_of_the_pairs_each_once_in_order() {
        // 2000 pairs at p = 0.1: mean 200, standard deviation about 13.4;
        // 150..=250 is more than 3.7 deviations either side.
        let s = fixed_probability(shape(40, 50), 0.1, 3, W, 1, NO_LIMIT).unwrap();
        assert!((150..=250).contains(&s.len()), "{} synapses", s.len());
        let keys: Vec<u64> = pairs(&s).iter().map(|&(i, j)| u64::from(i) * 50 + u64::from(j)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "pairs repeat or go back");
        assert!(pairs(&s).iter().all(|&(i, j)| i < 40 && j < 50));
    }

    #[test]
    fn fixed_probability_0_makes_none_and_1_makes_every_pair() {
        assert!(fixed_probability(shape(5, 5), 0.0, 1, W, 1, NO_LIMIT).unwrap().is_empty());
        let all = fixed_probability(shape(2, 3), 1.0, 1, W, 1, NO_LIMIT).unwrap();
        assert_eq!(pairs(&all), pairs(&all_to_all(shape(2, 3), W, 1, NO_LIMIT).unwrap()));
    }

    #[test]
    fn fixed_probability_over_the_budget_reports_the_expected_then_the_drawn_count() {
        assert_eq!(fixed_probability_expected(shape(10, 10), 0.5), 50);
        assert_eq!(fixed_probability(shape(10, 10), 0.5, 1, W, 1, 49), Err(ConnectorError::TooMany(50)));
        // Within the expected count but drawing past the budget: the count
        // at the first synapse that does not fit.
        let seed = (1..100)
            .find(|&s| fixed_probability(shape(10, 10), 0.5, s, W, 1, NO_LIMIT).unwrap().len() > 50)
            .expect("a seed that draws more than the mean");
        assert_eq!(fixed_probability(shape(10, 10), 0.5, seed, W, 1, 50), Err(ConnectorError::TooMany(51)));
    }

    #[test]
    fn fixed_fan_in_gives_each_target_k_distinct_sources_in_order() {
        let s = fixed_fan_in(shape(10, 4), 3, 5, W, 1, NO_LIMIT).unwrap();
        assert_eq!(s.len(), 12);
        for j in 0..4 {
            let from: Vec<u32> = pairs(&s).iter().filter(|p| p.1 == j).map(|p| p.0).collect();
            assert_eq!(from.len(), 3);
            assert!(from.windows(2).all(|w| w[0] < w[1]), "target {j}: {from:?}");
            assert!(from.iter().all(|&i| i < 10));
        }
        assert_eq!(s, fixed_fan_in(shape(10, 4), 3, 5, W, 1, NO_LIMIT).unwrap());
    }

    #[test]
    fn fixed_fan_in_of_the_whole_source_is_every_pair_target_by_target() {
        let s = fixed_fan_in(shape(2, 2), 2, 1, W, 1, NO_LIMIT).unwrap();
        assert_eq!(pairs(&s), [(0, 0), (1, 0), (0, 1), (1, 1)]);
        assert_eq!(fixed_fan_in(shape(2, 2), 3, 1, W, 1, NO_LIMIT), Err(ConnectorError::FanInAboveSource));
        assert_eq!(fixed_fan_in(shape(2, 3), 2, 1, W, 1, 5), Err(ConnectorError::TooMany(6)));
    }

    #[test]
    fn dense_makes_a_synapse_per_nonzero_entry() {
        let rows = vec![(1, vec![0.0, 0.5]), (2, vec![-1.0, 0.0])];
        let s = dense(shape(2, 2), &rows, 3).unwrap();
        assert_eq!(pairs(&s), [(0, 1), (1, 0)]);
        assert_eq!(s.weight, [ONE / 2, -ONE]);
        assert_eq!(s.delay, [3, 3]);
    }

    #[test]
    fn dense_of_the_wrong_shape_names_the_rows_or_the_line() {
        let rows = vec![(1, vec![1.0, 1.0])];
        assert_eq!(dense(shape(2, 2), &rows, 1), Err(ConnectorError::DenseRows(1)));
        let rows = vec![(2, vec![1.0, 1.0]), (5, vec![1.0])];
        assert_eq!(dense(shape(2, 2), &rows, 1), Err(ConnectorError::DenseColumns { line: 5, columns: 1 }));
        let rows = vec![(1, vec![40000.0])];
        assert_eq!(dense(shape(1, 1), &rows, 1), Err(ConnectorError::Weight(40000.0)));
    }

    #[test]
    fn sparse_keeps_the_rows_order_and_their_delays() {
        let rows = vec![(1, vec![1.0, 0.0, 0.25]), (2, vec![0.0, 1.0, 1.0, 7.0])];
        let s = sparse(shape(2, 2), &rows, 2, NO_LIMIT).unwrap();
        assert_eq!(pairs(&s), [(1, 0), (0, 1)]);
        assert_eq!(s.weight, [ONE / 4, ONE]);
        assert_eq!(s.delay, [2, 7]);
    }

    #[test]
    fn sparse_entry_out_of_range_gives_its_line_and_what() {
        let err = |r: Vec<f64>| match sparse(shape(2, 3), &[(1, vec![0.0, 0.0, 1.0]), (4, r)], 1, NO_LIMIT) {
            Err(ConnectorError::Sparse { line: 4, problem }) => problem.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(err(vec![2.0, 0.0, 1.0]), "pre index 2 outside 0..2");
        assert_eq!(err(vec![0.0, 3.0, 1.0]), "post index 3 outside 0..3");
        assert_eq!(err(vec![0.5, 0.0, 1.0]), "pre index 0.5 outside 0..2");
        assert_eq!(err(vec![0.0, 1.0, 1.0, 0.0]), format!("delay 0 outside 1..={MAX_DELAY}"));
        assert_eq!(err(vec![0.0, 1.0]), "2 values");
        assert_eq!(err(vec![0.0, 0.0, 2.0]), "duplicate synapse 0 -> 0 with delay 1");
    }

    #[test]
    fn sparse_same_pair_with_another_delay_is_not_a_duplicate() {
        let rows = vec![(1, vec![0.0, 0.0, 1.0]), (2, vec![0.0, 0.0, 1.0, 2.0])];
        assert_eq!(sparse(shape(1, 1), &rows, 1, NO_LIMIT).unwrap().len(), 2);
        assert_eq!(sparse(shape(1, 1), &rows, 1, 1), Err(ConnectorError::TooMany(2)));
    }
}
