//! [`neuron_step`] of many neurons that share their parameters, laid out as
//! a structure of arrays, in a form the compiler vectorises.
//!
//! The result is exactly that of calling [`neuron_step`] on each neuron (the
//! unit and property tests check it). The batch works in 32-bit lanes,
//! which is exact while no sum leaves the `i32` range: each block of
//! [`BLOCK`] neurons is computed speculatively, with one test per neuron
//! that its values are small enough (below 2^29, 8192 in Q16 units) for no
//! sum to overflow; a block that fails it is redone with every addition's
//! overflow collected into one flag, and a block whose flag is set, which
//! takes potentials near 2^31 in Q16 units (32,768), is redone neuron by
//! neuron with [`neuron_step`], whose `i64` sums saturate.
//!
//! The functions are `#[inline(always)]`, so that a caller that compiles
//! its loop for a wider vector unit (runtime dispatch) gets them compiled
//! for it too.

use crate::{DECAY_ONE, NeuronParams, NeuronState, Reset, neuron_step};

/// Neurons computed together (and redone together when one overflows).
pub const BLOCK: usize = 256;

/// The state of a run of neurons: `v[k]`, `i[k]`, `refr[k]`, `theta[k]`
/// are neuron k's (`theta` stays 0, and is not touched, for parameters
/// without an adaptive threshold).
pub struct Lanes<'a> {
    pub v: &'a [i32],
    pub i: &'a [i32],
    pub refr: &'a [u16],
    pub theta: &'a [i32],
}

/// Where a step writes the new state of the same neurons (double
/// buffering: no copy of the old state is needed to redo a block).
pub struct LanesMut<'a> {
    pub v: &'a mut [i32],
    pub i: &'a mut [i32],
    pub refr: &'a mut [u16],
    pub theta: &'a mut [i32],
}

/// [`crate::decay`] in 32-bit arithmetic, exact for every `x` and every
/// factor `k = DECAY_ONE - d` in `0..=DECAY_ONE`: with `x = hi * 4096 + lo`
/// (`lo` in `0..4096`), `x * k / 4096` is `hi * k + lo * k / 4096`, whose
/// floor needs no 64-bit product; truncation toward zero of a negative
/// product is the floor of the product plus 4095, which adds to the low
/// part only (`hi * k * 4096` is a multiple of 4096).
#[inline(always)]
pub fn decay32(x: i32, k: i32) -> i32 {
    let hi = x >> 12;
    let lo = x & 4095;
    let p = lo * k + ((x >> 31) & 4095);
    hi.wrapping_mul(k).wrapping_add(p >> 12)
}

/// `a + b` wrapped, and a word whose sign bit is set iff it overflowed.
#[inline(always)]
fn add_flag(a: i32, b: i32) -> (i32, i32) {
    let s = a.wrapping_add(b);
    (s, (a ^ s) & (b ^ s))
}

/// `a - b` wrapped, and a word whose sign bit is set iff it overflowed.
#[inline(always)]
fn sub_flag(a: i32, b: i32) -> (i32, i32) {
    let s = a.wrapping_sub(b);
    (s, (a ^ b) & (a ^ s))
}

/// One step of every neuron of `from`, written into `to`, with its summed
/// input of the step (`input[k]`, the `i64` sum already saturated into
/// `i32`, reset to 0); calls `fired(k)` for each neuron that fires, in
/// increasing `k`. All slices have the same length.
#[inline(always)]
pub fn neuron_steps(
    p: &NeuronParams,
    from: Lanes<'_>,
    to: LanesMut<'_>,
    input: &mut [i32],
    mut fired: impl FnMut(usize),
) {
    let n = from.v.len();
    let same = [from.i.len(), from.refr.len(), to.v.len(), to.i.len(), to.refr.len(), input.len()];
    assert!(same.iter().all(|&m| m == n), "lanes of different lengths");
    if p.adaptive() {
        return adaptive_steps(p, from, to, input, fired);
    }
    let bounded = p.bias.unsigned_abs() < BIAS_BOUND && (p.reset == Reset::Zero || p.threshold >= 0);
    let mut lo = 0;
    while lo < n {
        let hi = (lo + BLOCK).min(n);
        let old = Lanes { v: &from.v[lo..hi], i: &from.i[lo..hi], refr: &from.refr[lo..hi], theta: &[] };
        let mut new =
            LanesMut { v: &mut to.v[lo..hi], i: &mut to.i[lo..hi], refr: &mut to.refr[lo..hi], theta: &mut [] };
        let input = &mut input[lo..hi];
        // The bounded block when the parameters allow it; the flagged one
        // when some value is out of its bounds; neuron by neuron when some
        // sum leaves the i32 range.
        let done = (bounded && block::<true>(p, &old, new.reborrow(), input, &mut |k| fired(lo + k)))
            || block::<false>(p, &old, new.reborrow(), input, &mut |k| fired(lo + k));
        if !done {
            for (k, x) in input.iter_mut().enumerate() {
                let mut s = NeuronState { v: old.v[k], i: old.i[k], refr: old.refr[k], theta: 0 };
                debug_assert!(from.theta.get(lo + k).is_none_or(|&t| t == 0), "theta without adaptation");
                let f = neuron_step(p, &mut s, std::mem::take(x));
                (to.v[lo + k], to.i[lo + k], to.refr[lo + k]) = (s.v, s.i, s.refr);
                if f {
                    fired(lo + k);
                }
            }
        }
        lo = hi;
    }
    // Blocks redone neuron by neuron have taken their inputs already.
    input.fill(0);
}

/// [`neuron_steps`] for parameters with an adaptive threshold: neuron by
/// neuron, with [`neuron_step`] (such populations are small: a layer that
/// learns, not the bulk of a network).
fn adaptive_steps(
    p: &NeuronParams,
    from: Lanes<'_>,
    to: LanesMut<'_>,
    input: &mut [i32],
    mut fired: impl FnMut(usize),
) {
    assert!(from.theta.len() == input.len() && to.theta.len() == input.len(), "lanes of different lengths");
    for (k, x) in input.iter_mut().enumerate() {
        let mut s = NeuronState { v: from.v[k], i: from.i[k], refr: from.refr[k], theta: from.theta[k] };
        let f = neuron_step(p, &mut s, std::mem::take(x));
        (to.v[k], to.i[k], to.refr[k], to.theta[k]) = (s.v, s.i, s.refr, s.theta);
        if f {
            fired(k);
        }
    }
}

impl LanesMut<'_> {
    fn reborrow(&mut self) -> LanesMut<'_> {
        LanesMut { v: self.v, i: self.i, refr: self.refr, theta: self.theta }
    }
}

/// When every state and input of a block is below `VALUE_BOUND` in
/// magnitude and the bias below `BIAS_BOUND`, no sum of the step leaves the
/// `i32` range: `|decay(i) + input| < 2^30`, `|decay(v) + i + bias| < 2^29 +
/// 2^30 + 2^28 < 2^31` (a decay never grows a value), and a subtractive
/// reset `u - threshold` with `u >= threshold >= 0` lies in `0..=u`.
const VALUE_BOUND: u32 = 1 << 29;
/// See [`VALUE_BOUND`].
const BIAS_BOUND: u32 = 1 << 28;

/// One block of at most [`BLOCK`] neurons in 32-bit lanes (leaving `input`
/// as it was). Returns false when it cannot vouch for the result: with
/// `BOUNDED` (for parameters with `|bias| < BIAS_BOUND` and a threshold of
/// at least 0 under a subtractive reset), when some state or input is not
/// below [`VALUE_BOUND`] in magnitude, which takes one test per lane;
/// otherwise when some sum left the `i32` range, which takes one test per
/// addition. Conditions are lane masks (0 or -1), so that every lane runs
/// the same instructions.
#[inline(always)]
fn block<const BOUNDED: bool>(
    p: &NeuronParams,
    old: &Lanes<'_>,
    new: LanesMut<'_>,
    input: &mut [i32],
    fired: &mut impl FnMut(usize),
) -> bool {
    let n = old.v.len().min(old.i.len()).min(old.refr.len()).min(input.len()).min(BLOCK);
    let n = n.min(new.v.len()).min(new.i.len()).min(new.refr.len());
    let (v, i, refr, input) = (&old.v[..n], &old.i[..n], &old.refr[..n], &mut input[..n]);
    let (nv, ni, nr) = (&mut new.v[..n], &mut new.i[..n], &mut new.refr[..n]);
    let ki = i32::from(DECAY_ONE - p.decay_i);
    let kv = i32::from(DECAY_ONE - p.decay_v);
    let (thr, bias, v_min, refractory) = (p.threshold, p.bias, p.v_min, i32::from(p.refractory));
    let subtract = -i32::from(p.reset == Reset::Subtract);
    let mut nf = [0u8; BLOCK];
    // Sign bit set: some sum overflowed; -1: some neuron fired; bits at or
    // above VALUE_BOUND: some value is too large for BOUNDED.
    let mut over = 0i32;
    let mut any = 0i32;
    let mut big = 0u32;
    for k in 0..n {
        let (ik, o1) = add_flag(decay32(i[k], ki), input[k]);
        let (s, o2) = add_flag(decay32(v[k], kv), ik);
        let (s, o3) = add_flag(s, bias);
        let u = s.max(v_min);
        let (sub, o4) = sub_flag(u, thr);
        let reset = subtract & sub.max(v_min);
        if BOUNDED {
            big |= i[k].unsigned_abs() | input[k].unsigned_abs() | v[k].unsigned_abs();
        } else {
            over |= o1 | o2 | o3 | (o4 & subtract);
        }
        let r = i32::from(refr[k]);
        let idle = -i32::from(r != 0);
        let f = !idle & -i32::from(u >= thr);
        nv[k] = (idle & v[k]) | (!idle & ((f & reset) | (!f & u)));
        nr[k] = ((idle & (r - 1)) | (f & refractory)) as u16;
        ni[k] = ik;
        nf[k] = f as u8;
        any = any.min(f);
    }
    if over < 0 || big >= VALUE_BOUND {
        return false;
    }
    if any != 0 {
        // Eight lanes' flags at a time (a flag is 0 or 0xFF; past `n` they
        // are 0).
        for (j, w) in nf[..n.next_multiple_of(8)].chunks_exact(8).enumerate() {
            let mut w = u64::from_le_bytes(w.try_into().expect("eight bytes"));
            while w != 0 {
                let b = w.trailing_zeros() / 8;
                fired(j * 8 + b as usize);
                w &= !(0xFF << (b * 8));
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decay;
    use proptest::prelude::*;

    #[test]
    fn decay32_equals_decay_at_the_edges() {
        let xs = [0, 1, -1, 4095, -4095, 4096, -4096, 4097, -4097, i32::MAX, i32::MIN, i32::MAX - 1, i32::MIN + 1];
        for &x in &xs {
            for d in [0u16, 1, 2, 81, 2048, 4095, 4096] {
                assert_eq!(decay32(x, i32::from(DECAY_ONE - d)), decay(x, d), "x = {x}, d = {d}");
            }
        }
    }

    /// States, inputs and parameters at the edges of the bounded block
    /// (2^28 for the bias, 2^29 for the rest), of the i32 range, and of the
    /// sign of the threshold: every neuron equals `neuron_step`.
    #[test]
    fn batch_equals_neuron_step_at_the_bounds() {
        let edges = [0, (1 << 29) - 1, 1 << 29, (1 << 30) - 1, i32::MAX, -(1 << 29) + 1, -(1 << 29), i32::MIN];
        let mut states = Vec::new();
        for &v in &edges {
            for &i in &edges {
                states.extend(edges.iter().map(|&x| (v, i, x)));
            }
        }
        let mut all = Vec::new();
        for bias in [0, (1 << 28) - 1, 1 << 28, -(1 << 28) + 1, -(1 << 28), 1 << 30, -(1 << 30)] {
            for threshold in [-(1 << 30), 0, 1 << 30] {
                for reset in [Reset::Zero, Reset::Subtract] {
                    all.extend([0, 300].map(|decay| (bias, threshold, reset, decay)));
                }
            }
        }
        for (bias, threshold, reset, decay) in all {
            let p = NeuronParams {
                decay_i: decay,
                decay_v: decay,
                threshold,
                bias,
                v_min: i32::MIN,
                reset,
                refractory: 1,
                theta_step: 0,
                theta_decay: 0,
            };
            // One neuron per batch, so that no other lane sends its block
            // to the slower paths.
            for &(v, i, x) in &states {
                let (mut v2, mut i2, mut refr2, mut input) = ([0], [0], [0], [x]);
                let mut fired = false;
                let from = Lanes { v: &[v], i: &[i], refr: &[0], theta: &[0] };
                let to = LanesMut { v: &mut v2, i: &mut i2, refr: &mut refr2, theta: &mut [0] };
                neuron_steps(&p, from, to, &mut input, |_| fired = true);
                let mut s = NeuronState { v, i, refr: 0, theta: 0 };
                let f = neuron_step(&p, &mut s, x);
                assert_eq!((v2[0], i2[0], refr2[0], fired), (s.v, s.i, s.refr, f), "{:?} with {p:?}", (v, i, x));
            }
        }
    }

    fn params() -> impl Strategy<Value = NeuronParams> {
        let word = prop_oneof![any::<i32>(), -(1i32 << 22)..(1 << 22), Just(i32::MIN), Just(i32::MAX)];
        // Mostly a bias below the bounded block's limit (2^28), sometimes not.
        let bias = prop_oneof![3 => word.clone().prop_map(|b| b >> 4), 1 => word.clone()];
        (0u16..=4096, 0u16..=4096, word.clone(), bias, word, any::<bool>(), 0u16..4).prop_map(
            |(decay_i, decay_v, threshold, bias, v_min, zero, refractory)| NeuronParams {
                decay_i,
                decay_v,
                threshold,
                bias,
                v_min: v_min.min(0),
                reset: if zero { Reset::Zero } else { Reset::Subtract },
                refractory,
                theta_step: 0,
                theta_decay: 0,
            },
        )
    }

    /// Mostly small, sometimes around the bounded block's limit (2^29) or
    /// anywhere.
    fn word() -> impl Strategy<Value = i32> {
        prop_oneof![
            60 => -(1i32 << 22)..(1 << 22),
            2 => (1i32 << 28)..(1 << 30),
            2 => -(1i32 << 30)..-(1 << 28),
            1 => any::<i32>(),
            1 => Just(i32::MIN),
            1 => Just(i32::MAX),
        ]
    }

    proptest! {
        #![proptest_config(fpnna_testkit::prop::fixed(256, 0xba7c_0001, file!()))]

        /// Random parameters, states and inputs (mostly small, now and then
        /// near or beyond the i32 range), several steps: the batch equals
        /// `neuron_step` neuron by neuron, fired neurons included.
        #[test]
        fn batch_equals_neuron_step(
            p in params(),
            init in prop::collection::vec((word(), word(), 0u16..4), 0..600),
            inputs in prop::collection::vec(
                prop_oneof![300 => -(1i32 << 20)..(1 << 20), 2 => (1i32 << 28)..(1 << 30), 1 => any::<i32>()],
                600,
            ),
        ) {
            let n = init.len();
            let mut v: Vec<i32> = init.iter().map(|s| s.0).collect();
            let mut i: Vec<i32> = init.iter().map(|s| s.1).collect();
            let mut refr: Vec<u16> = init.iter().map(|s| s.2).collect();
            let mut reference: Vec<NeuronState> = init.iter().map(|&(v, i, refr)| NeuronState { v, i, refr, theta: 0 }).collect();
            for step in 0..4 {
                let mut input: Vec<i32> = (0..n).map(|k| inputs[(step * 151 + k) % inputs.len()]).collect();
                let mut fired = Vec::new();
                let (mut v2, mut i2, mut refr2, mut theta2) = (vec![7; n], vec![7; n], vec![7; n], vec![0; n]);
                let from = Lanes { v: &v, i: &i, refr: &refr, theta: &vec![0; n] };
                let to = LanesMut { v: &mut v2, i: &mut i2, refr: &mut refr2, theta: &mut theta2 };
                neuron_steps(&p, from, to, &mut input, |k| fired.push(k));
                (v, i, refr) = (v2, i2, refr2);
                let mut expect = Vec::new();
                for (k, s) in reference.iter_mut().enumerate() {
                    let x = inputs[(step * 151 + k) % inputs.len()];
                    if neuron_step(&p, s, x) {
                        expect.push(k);
                    }
                }
                prop_assert_eq!(fired, expect);
                prop_assert!(input.iter().all(|&x| x == 0));
                for (k, s) in reference.iter().enumerate() {
                    prop_assert_eq!((v[k], i[k], refr[k]), (s.v, s.i, s.refr), "neuron {} at step {}", k, step);
                }
            }
        }

        #[test]
        fn decay32_equals_decay(x in any::<i32>(), d in 0u16..=4096) {
            prop_assert_eq!(decay32(x, i32::from(DECAY_ONE - d)), decay(x, d));
        }
    }
}
