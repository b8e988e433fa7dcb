//! The one definition of fpnna's arithmetic.
//!
//! Every number a neuron circuit, a volatile node, an STDP node or an on-chip
//! spike generator computes is computed here, in integers, and nowhere else:
//! the reference simulator and the cycle-level emulator both call these
//! functions, which is what lets them agree spike for spike.
//! docs/semantics.md states the same equations in prose.

use serde::{Deserialize, Serialize};

pub mod batch;
pub mod names;

/// Fractional bits of potentials, currents and weights: 1.0 is `ONE`.
pub const FRAC_BITS: u32 = 16;
/// 1.0 in potential/current/weight units.
pub const ONE: i32 = 1 << FRAC_BITS;
/// Decay factors are fractions of `DECAY_ONE` (12 bits, as on Loihi).
pub const DECAY_ONE: u16 = 4096;
/// Longest axonal delay, in timesteps (delays are 1..=MAX_DELAY).
pub const MAX_DELAY: u32 = 64;
/// A trace (STDP) saturates at this value (64.0 in trace units of `ONE`).
pub const TRACE_MAX: i32 = 64 * ONE;

/// Converts a real value to fixed point (round to nearest), or `None` when
/// it is not finite or does not fit in an `i32`.
pub fn to_fixed(x: f64) -> Option<i32> {
    let y = (x * f64::from(ONE)).round();
    (y.is_finite() && y >= f64::from(i32::MIN) && y <= f64::from(i32::MAX)).then_some(y as i32)
}

/// Converts fixed point back to the real value it stands for (exact).
pub fn from_fixed(x: i32) -> f64 {
    f64::from(x) / f64::from(ONE)
}

/// Decay factor (fraction of `DECAY_ONE` lost per step) for a time constant
/// `tau` and a timestep `dt`, both in the same unit; `tau = inf` gives 0.
pub fn decay_from_tau(tau: f64, dt: f64) -> u16 {
    if tau.is_infinite() {
        return 0;
    }
    let d = (f64::from(DECAY_ONE) * (1.0 - (-dt / tau).exp())).round();
    d.clamp(0.0, f64::from(DECAY_ONE)) as u16
}

/// One step of exponential decay: `x * (DECAY_ONE - d) / DECAY_ONE`,
/// truncated toward zero, so that positive and negative values decay alike
/// and every value reaches 0 in finitely many steps when `d > 0`.
#[inline]
pub fn decay(x: i32, d: u16) -> i32 {
    ((i64::from(x) * i64::from(DECAY_ONE - d)) / i64::from(DECAY_ONE)) as i32
}

/// Clamps an `i64` into the `i32` range.
#[inline]
pub fn saturate(x: i64) -> i32 {
    x.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// What a neuron's potential becomes when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Reset {
    /// v := 0
    Zero,
    /// v := v - threshold
    Subtract,
}

/// Parameters of one current-based LIF neuron circuit, in fixed point.
/// IF is LIF with `decay_v == 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NeuronParams {
    /// Synaptic current decay (fraction of `DECAY_ONE` per step).
    pub decay_i: u16,
    /// Membrane potential decay (fraction of `DECAY_ONE` per step).
    pub decay_v: u16,
    /// Firing threshold (fires when v >= threshold).
    pub threshold: i32,
    /// Constant input added to v every integrating step.
    pub bias: i32,
    /// Lower bound of the membrane potential.
    pub v_min: i32,
    /// Reset mode.
    pub reset: Reset,
    /// Steps after a spike during which v does not integrate.
    pub refractory: u16,
    /// Adaptive threshold (Diehl and Cook 2015's theta): added to the
    /// neuron's threshold offset at each of its spikes (>= 0; 0: none).
    pub theta_step: i32,
    /// Decay of the threshold offset per step (fraction of `DECAY_ONE`).
    pub theta_decay: u16,
}

impl NeuronParams {
    /// Whether the threshold adapts (a neuron without it keeps theta at 0).
    #[inline]
    pub fn adaptive(&self) -> bool {
        self.theta_step != 0
    }
}

/// The dynamic state of one neuron.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeuronState {
    /// Membrane potential.
    pub v: i32,
    /// Synaptic current.
    pub i: i32,
    /// Refractory steps left.
    pub refr: u16,
    /// Adaptive threshold offset (0 for a neuron without it; omitted from
    /// saved states when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub theta: i32,
}

fn is_zero(x: &i32) -> bool {
    *x == 0
}

impl NeuronState {
    /// A neuron at rest with potential `v`.
    pub fn with_v(v: i32) -> Self {
        NeuronState { v, i: 0, refr: 0, theta: 0 }
    }
}

/// Advances one neuron by one timestep given the synaptic `input` that
/// arrived in this step; returns whether it fired. Callers sum a step's
/// contributions in `i64` (so the order of summation cannot matter) and
/// [`saturate`] the sum once.
#[inline]
pub fn neuron_step(p: &NeuronParams, s: &mut NeuronState, input: i32) -> bool {
    s.i = saturate(i64::from(decay(s.i, p.decay_i)) + i64::from(input));
    s.theta = decay(s.theta, p.theta_decay);
    if s.refr > 0 {
        s.refr -= 1;
        return false;
    }
    let v = i64::from(decay(s.v, p.decay_v)) + i64::from(s.i) + i64::from(p.bias);
    let v = saturate(v).max(p.v_min);
    let threshold = saturate(i64::from(p.threshold) + i64::from(s.theta));
    if v >= threshold {
        s.v = match p.reset {
            Reset::Zero => 0,
            Reset::Subtract => saturate(i64::from(v) - i64::from(threshold)).max(p.v_min),
        };
        s.refr = p.refractory;
        s.theta = s.theta.saturating_add(p.theta_step);
        true
    } else {
        s.v = v;
        false
    }
}

/// Parameters of a volatile (short-term facilitating) node.
///
/// The node's normalised conductance `x = (G - G0) / (Gsat - G0)` lives in
/// `[0, ONE]`; it relaxes toward 0 and each presynaptic pulse pushes it
/// toward `ONE` by `gain * (ONE - x)` (DEVICE-MODEL.md's soft-bound law).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VolatileParams {
    /// Relaxation per step (fraction of `DECAY_ONE`).
    pub decay: u16,
    /// Increment per pulse, as a fraction of `ONE` of the distance to saturation.
    pub gain: i32,
    /// Gsat / G0 - 1, in units of `ONE`: the efficacy at saturation is
    /// `w * (1 + facil)`.
    pub facil: i32,
}

/// Efficacy of a volatile synapse of weight `w` whose node is at `x`:
/// `w * (1 + x * facil)`, truncated toward zero.
#[inline]
pub fn volatile_efficacy(p: &VolatileParams, w: i32, x: i32) -> i32 {
    let m = (i64::from(x) * i64::from(p.facil)) >> FRAC_BITS;
    saturate(i64::from(w) + (i64::from(w) * m) / i64::from(ONE))
}

/// Relaxes a volatile node by one step.
#[inline]
pub fn volatile_relax(p: &VolatileParams, x: i32) -> i32 {
    decay(x, p.decay)
}

/// Applies one presynaptic pulse to a volatile node.
#[inline]
pub fn volatile_pulse(p: &VolatileParams, x: i32) -> i32 {
    let dx = (i64::from(p.gain) * i64::from(ONE - x)) >> FRAC_BITS;
    (i64::from(x) + dx).clamp(0, i64::from(ONE)) as i32
}

/// How pre/post spike pairs are counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Pairing {
    /// Every pair counts: a trace accumulates (+ONE per spike).
    AllToAll,
    /// Only the nearest pair counts: a trace is reset to ONE on a spike.
    Nearest,
}

/// How weights are kept within [w_min, w_max].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Bounds {
    /// Changes are clipped at the bounds.
    Hard,
    /// Changes shrink in proportion to the distance to the bound.
    Soft,
}

/// Parameters of a pair-based STDP synapse (Song, Miller and Abbott 2000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StdpParams {
    /// Potentiation per unit of presynaptic trace (weight units).
    pub a_plus: i32,
    /// Depression per unit of postsynaptic trace (weight units).
    pub a_minus: i32,
    /// Presynaptic trace decay per step (tau_plus).
    pub decay_plus: u16,
    /// Postsynaptic trace decay per step (tau_minus).
    pub decay_minus: u16,
    /// Lowest weight (>= 0).
    pub w_min: i32,
    /// Highest weight.
    pub w_max: i32,
    /// Pair counting.
    pub pairing: Pairing,
    /// Bound handling.
    pub bounds: Bounds,
    /// Retention: the share of a learned change (w - w_programmed) lost
    /// per step, in units of 2^-32 (0: kept forever). See [`stdp_retain`].
    pub relax: u32,
}

/// `relax` for a retention time constant `tau` and a timestep `dt` (same
/// unit): `round(2^32 (1 - exp(-dt / tau)))`; `tau` 0 or infinite: 0 (no
/// relaxation).
pub fn relax_from_tau(tau: f64, dt: f64) -> u32 {
    if tau == 0.0 || tau.is_infinite() {
        return 0;
    }
    let r = (4_294_967_296.0 * (1.0 - (-dt / tau).exp())).round();
    r.clamp(0.0, f64::from(u32::MAX)) as u32
}

/// The share of a learned change kept after `k` steps of retention, in
/// units of 2^-32 (2^32: all of it): `(2^32 - relax)^k / 2^32^(k-1)`,
/// computed by binary powering with each product rounded to nearest, a
/// fixed integer procedure both simulators share.
pub fn retention_kept(relax: u32, k: u64) -> u64 {
    const ONE32: u128 = 1 << 32;
    let mul = |a: u128, b: u128| (a * b + (ONE32 >> 1)) >> 32;
    let (mut kept, mut base, mut k) = (ONE32, ONE32 - u128::from(relax), k);
    while k > 0 && kept > 0 {
        if k & 1 == 1 {
            kept = mul(kept, base);
        }
        base = mul(base, base);
        k >>= 1;
    }
    kept as u64
}

/// An STDP weight `w` whose programmed value is `w0`, last touched `k`
/// steps ago, relaxed over those steps toward `w0`: `w0 + (w - w0) *
/// kept(k)`, truncated toward `w0`. The relaxation is applied when the
/// synapse is next touched (a presynaptic arrival, a postsynaptic spike,
/// or reading the learned weights), so its result is exact over any gap.
#[inline]
pub fn stdp_retain(p: &StdpParams, w: i32, w0: i32, k: u64) -> i32 {
    if p.relax == 0 || k == 0 || w == w0 {
        return w;
    }
    let dw = i128::from(w) - i128::from(w0);
    let kept = i128::from(retention_kept(p.relax, k));
    let rel = (dw.abs() * kept) >> 32;
    (i128::from(w0) + dw.signum() * rel) as i32
}

/// A trace's value after a spike of its own side.
#[inline]
pub fn trace_bump(pairing: Pairing, t: i32) -> i32 {
    match pairing {
        Pairing::AllToAll => t.saturating_add(ONE).min(TRACE_MAX),
        Pairing::Nearest => ONE,
    }
}

/// Depression of weight `w` by a presynaptic arrival, given the
/// postsynaptic trace.
#[inline]
pub fn stdp_depress(p: &StdpParams, w: i32, post_trace: i32) -> i32 {
    let mut dw = (i64::from(p.a_minus) * i64::from(post_trace)) >> FRAC_BITS;
    if p.bounds == Bounds::Soft {
        dw = dw * i64::from(w - p.w_min) / i64::from((p.w_max - p.w_min).max(1));
    }
    (i64::from(w) - dw).clamp(i64::from(p.w_min), i64::from(p.w_max)) as i32
}

/// Potentiation of weight `w` by a postsynaptic spike, given the
/// presynaptic trace.
#[inline]
pub fn stdp_potentiate(p: &StdpParams, w: i32, pre_trace: i32) -> i32 {
    let mut dw = (i64::from(p.a_plus) * i64::from(pre_trace)) >> FRAC_BITS;
    if p.bounds == Bounds::Soft {
        dw = dw * i64::from(p.w_max - w) / i64::from((p.w_max - p.w_min).max(1));
    }
    (i64::from(w) + dw).clamp(i64::from(p.w_min), i64::from(p.w_max)) as i32
}

/// A counter-based hash (SplitMix64 finaliser over the three words): the
/// random numbers of generators and initial states depend only on
/// (seed, index, step), never on evaluation order or thread count.
#[inline]
pub fn hash3(seed: u64, a: u64, b: u64) -> u64 {
    let mut z = seed
        .wrapping_add(a.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(b.wrapping_mul(0xD1B5_4A32_D192_ED03))
        .wrapping_add(0x2545_F491_4F6C_DD1D);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// An on-chip spike generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Generator {
    /// Fires at each step with probability `p / 2^32`, independently.
    Poisson {
        /// Firing probability per step, in units of 2^-32 (0..=2^32).
        p: u64,
        /// Seed of the generator.
        seed: u64,
    },
    /// Fires at steps `phase`, `phase + period`, ...
    Regular {
        /// Steps between spikes (>= 1).
        period: u32,
        /// First step.
        phase: u32,
    },
}

impl Generator {
    /// Whether channel `index` of this generator fires at `step`.
    #[inline]
    pub fn fires(&self, index: u32, step: u64) -> bool {
        match *self {
            Generator::Poisson { p, seed } => (hash3(seed, u64::from(index), step) >> 32) < p,
            Generator::Regular { period, phase } => {
                step >= u64::from(phase) && (step - u64::from(phase)).is_multiple_of(u64::from(period.max(1)))
            }
        }
    }

    /// Probability (in 2^-32 units) for a rate in Hz at a timestep in ms.
    pub fn poisson_p(rate_hz: f64, dt_ms: f64) -> u64 {
        let p = (rate_hz * dt_ms / 1000.0).clamp(0.0, 1.0);
        (p * 4_294_967_296.0).round() as u64
    }
}

/// A seeded uniform draw in `[lo, hi]` (fixed point) for element `index`.
pub fn uniform_fixed(seed: u64, index: u64, lo: i32, hi: i32) -> i32 {
    let (lo, hi) = (i64::from(lo.min(hi)), i64::from(lo.max(hi)));
    let span = (hi - lo + 1) as u64;
    (lo + (hash3(seed, index, 0x5EED) % span) as i64) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lif() -> NeuronParams {
        NeuronParams {
            decay_i: 1024,
            decay_v: 512,
            threshold: 10 * ONE,
            bias: 0,
            v_min: -ONE,
            reset: Reset::Zero,
            refractory: 2,
            theta_step: 0,
            theta_decay: 0,
        }
    }

    #[test]
    fn decay_truncates_toward_zero_on_both_signs() {
        // 1000 * 3072 / 4096 = 750 exactly; 1001 * 3072 / 4096 = 750.75 -> 750
        assert_eq!(decay(1000, 1024), 750);
        assert_eq!(decay(1001, 1024), 750);
        assert_eq!(decay(-1001, 1024), -750);
        assert_eq!(decay(7, 0), 7);
        assert_eq!(decay(7, DECAY_ONE), 0);
    }

    #[test]
    fn decay_from_tau_matches_hand_values() {
        // 4096 * (1 - e^-1) = 2589.2 -> 2589; 4096 * (1 - e^-0.05) = 199.75 -> 200
        assert_eq!(decay_from_tau(1.0, 1.0), 2589);
        assert_eq!(decay_from_tau(20.0, 1.0), 200);
        assert_eq!(decay_from_tau(f64::INFINITY, 1.0), 0);
    }

    #[test]
    fn lif_integrates_fires_resets_and_stays_refractory() {
        let p = lif();
        let mut s = NeuronState::default();
        // step 1: i = 0*0.75 + 6 = 6; v = 0 + 6 = 6 (< 10)
        assert!(!neuron_step(&p, &mut s, 6 * ONE));
        assert_eq!((s.i, s.v), (6 * ONE, 6 * ONE));
        // step 2: i = 4.5; v = 6 * 3584/4096 + 4.5 = 5.25 + 4.5 = 9.75
        assert!(!neuron_step(&p, &mut s, 0));
        assert_eq!(s.i, 4 * ONE + ONE / 2);
        assert_eq!(s.v, 9 * ONE + 3 * ONE / 4);
        // step 3: i = 3.375; v = 9.75*0.875 + 3.375 = 11.90625 -> fires, v = 0
        assert!(neuron_step(&p, &mut s, 0));
        assert_eq!((s.v, s.refr), (0, 2));
        // two refractory steps: the current still decays, v is held
        assert!(!neuron_step(&p, &mut s, 20 * ONE));
        assert!(!neuron_step(&p, &mut s, 0));
        assert_eq!((s.v, s.refr), (0, 0));
        // then it integrates the remaining current and fires again
        assert!(neuron_step(&p, &mut s, 0));
    }

    #[test]
    fn subtractive_reset_keeps_the_excess() {
        let p = NeuronParams { reset: Reset::Subtract, refractory: 0, decay_v: 0, decay_i: DECAY_ONE, ..lif() };
        let mut s = NeuronState::with_v(9 * ONE);
        assert!(neuron_step(&p, &mut s, 3 * ONE));
        assert_eq!(s.v, 2 * ONE);
    }

    #[test]
    fn membrane_floor_and_saturation() {
        let p = NeuronParams { decay_i: DECAY_ONE, ..lif() };
        let mut s = NeuronState::default();
        neuron_step(&p, &mut s, -100 * ONE);
        assert_eq!(s.v, -ONE);
        let mut s = NeuronState { v: i32::MAX, i: i32::MAX, refr: 0, theta: 0 };
        assert!(neuron_step(&p, &mut s, i32::MAX));
        assert_eq!(s.v, 0);
    }

    #[test]
    fn adaptive_threshold_rises_per_spike_and_decays() {
        // IF, threshold 1.0, theta +0.5 per spike, decaying by half per step.
        let p = NeuronParams {
            decay_i: DECAY_ONE,
            decay_v: 0,
            threshold: ONE,
            refractory: 0,
            theta_step: ONE / 2,
            theta_decay: 2048,
            ..lif()
        };
        let mut s = NeuronState::default();
        assert!(neuron_step(&p, &mut s, ONE));
        assert_eq!((s.v, s.theta), (0, ONE / 2));
        // theta decays to 0.25 first: 1.2 < 1.25 does not fire
        assert!(!neuron_step(&p, &mut s, ONE + ONE / 5));
        assert_eq!(s.theta, ONE / 4);
        // theta 0.125: v = 1.2 + 0.0 >= 1.125 fires, theta 0.625
        assert!(neuron_step(&p, &mut s, 0));
        assert_eq!(s.theta, ONE / 8 + ONE / 2);
        // a subtractive reset takes the adapted threshold off
        let q = NeuronParams { reset: Reset::Subtract, theta_decay: 0, ..p };
        let mut s = NeuronState { v: 0, i: 0, refr: 0, theta: ONE };
        assert!(neuron_step(&q, &mut s, 3 * ONE));
        assert_eq!((s.v, s.theta), (ONE, ONE + ONE / 2));
        // without adaptation theta stays 0 whatever fires
        let mut s = NeuronState::default();
        assert!(neuron_step(&lif(), &mut s, 20 * ONE));
        assert_eq!(s.theta, 0);
    }

    #[test]
    fn retention_relaxes_learned_changes_toward_the_programmed_weight() {
        // relax for tau = 100 steps: kept per step e^-0.01
        let r = relax_from_tau(100.0, 1.0);
        assert_eq!(r, (4_294_967_296.0f64 * (1.0 - (-0.01f64).exp())).round() as u32);
        assert_eq!(relax_from_tau(0.0, 1.0), 0);
        assert_eq!(relax_from_tau(f64::INFINITY, 1.0), 0);
        // kept(k) follows e^(-k/100) to within a few 2^-32 units per factor
        for k in [1u64, 7, 100, 1000, 5000] {
            let want = (-(k as f64) / 100.0).exp() * 4_294_967_296.0;
            assert!((retention_kept(r, k) as f64 - want).abs() < 64.0, "k = {k}");
        }
        assert_eq!(retention_kept(r, 0), 1 << 32);
        assert_eq!(retention_kept(0, 1 << 40), 1 << 32);
        let p = StdpParams {
            a_plus: 0,
            a_minus: 0,
            decay_plus: 0,
            decay_minus: 0,
            w_min: 0,
            w_max: ONE,
            pairing: Pairing::AllToAll,
            bounds: Bounds::Hard,
            relax: r,
        };
        // a change of +0.5 over 0.25 keeps e^-1 of itself after 100 steps,
        // truncated toward the programmed value, on both sides
        let up = stdp_retain(&p, ONE / 4 + ONE / 2, ONE / 4, 100);
        assert_eq!(up, ONE / 4 + ((i64::from(ONE / 2) * retention_kept(r, 100) as i64) >> 32) as i32);
        let down = stdp_retain(&p, 0, ONE / 4, 100);
        assert_eq!(down, ONE / 4 - ((i64::from(ONE / 4) * retention_kept(r, 100) as i64) >> 32) as i32);
        // everything is forgotten in the end, and nothing without retention
        assert_eq!(stdp_retain(&p, ONE, 0, 1 << 30), 0);
        assert_eq!(stdp_retain(&StdpParams { relax: 0, ..p }, ONE, 0, 1 << 30), ONE);
    }

    #[test]
    fn volatile_node_facilitates_and_relaxes() {
        let p = VolatileParams { decay: 2048, gain: ONE / 4, facil: 9 * ONE };
        let x = volatile_pulse(&p, 0);
        assert_eq!(x, ONE / 4);
        // efficacy at x = 0.25: w * (1 + 0.25 * 9) = w * 3.25
        assert_eq!(volatile_efficacy(&p, 4 * ONE, x), 13 * ONE);
        assert_eq!(volatile_efficacy(&p, -4 * ONE, x), -13 * ONE);
        assert_eq!(volatile_relax(&p, x), ONE / 8);
        // soft bound: a pulse at saturation changes nothing
        assert_eq!(volatile_pulse(&p, ONE), ONE);
    }

    #[test]
    fn stdp_hard_and_soft_bounds() {
        let mut p = StdpParams {
            a_plus: ONE / 10,
            a_minus: ONE / 5,
            decay_plus: 0,
            decay_minus: 0,
            w_min: 0,
            w_max: ONE,
            pairing: Pairing::AllToAll,
            bounds: Bounds::Hard,
            relax: 0,
        };
        // a_plus = 6553 (0.1 truncated); dw = 6553 * 2.0 = 13106
        assert_eq!(stdp_potentiate(&p, ONE / 2, 2 * ONE), ONE / 2 + 13106);
        assert_eq!(stdp_potentiate(&p, ONE, 2 * ONE), ONE);
        assert_eq!(stdp_depress(&p, ONE / 10, ONE), 0);
        p.bounds = Bounds::Soft;
        // soft: dw = 13106 * (w_max - w) / (w_max - w_min) = 13106 / 2
        assert_eq!(stdp_potentiate(&p, ONE / 2, 2 * ONE), ONE / 2 + 6553);
    }

    #[test]
    fn traces_bump_by_pairing() {
        assert_eq!(trace_bump(Pairing::AllToAll, ONE / 2), ONE + ONE / 2);
        assert_eq!(trace_bump(Pairing::Nearest, ONE / 2), ONE);
        assert_eq!(trace_bump(Pairing::AllToAll, TRACE_MAX), TRACE_MAX);
    }

    #[test]
    fn generators_are_counter_based() {
        let g = Generator::Regular { period: 3, phase: 1 };
        let fired: Vec<u64> = (0..8).filter(|&t| g.fires(0, t)).collect();
        assert_eq!(fired, vec![1, 4, 7]);
        let p = Generator::Poisson { p: Generator::poisson_p(100.0, 1.0), seed: 9 };
        let n = (0..100_000).filter(|&t| p.fires(3, t)).count();
        assert!((9_000..11_000).contains(&n), "{n} spikes for p = 0.1");
        assert_eq!(Generator::poisson_p(1000.0, 1.0), 1 << 32);
        assert!(Generator::Poisson { p: 1 << 32, seed: 1 }.fires(0, 0));
    }

    #[test]
    fn uniform_stays_in_range() {
        for k in 0..1000 {
            let v = uniform_fixed(5, k, -3, 4);
            assert!((-3..=4).contains(&v));
        }
    }
}
