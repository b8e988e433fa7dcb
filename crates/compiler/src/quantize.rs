//! Stage 1: weights to device levels.
//!
//! Each projection gets one scale (the weight of one conductance level), so
//! that its largest weight lands on the top level `L - 1`; every weight
//! becomes `sign * level * scale`. The quantized network is what the
//! hardware computes: the emulator is held to it spike for spike.

use fpnna_arch::Arch;
use fpnna_ir::{Network, SynapseKind};
use fpnna_model::{ONE, StdpParams};
use serde::Serialize;

/// What quantization did to one projection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProjQuant {
    /// Projection name.
    pub name: String,
    /// Synapse kind label (`nonvolatile`, `volatile`, `stdp`).
    pub kind: &'static str,
    /// Weight of one level, fixed point (`ONE` = 1.0).
    pub scale: i32,
    /// Largest |quantized - original| weight, real units.
    pub max_abs_error: f64,
    /// Largest |quantized - original| / |original| over the weights kept
    /// (non-zero before and after: a weight rounded to level 0 is counted
    /// in `zeroed`, not here, where it would always read 100 %).
    pub max_rel_error: f64,
    /// Non-zero weights that became level 0.
    pub zeroed: u64,
    /// Whether every level is 0 although some weight was not.
    pub silenced: bool,
}

/// What quantization did to the network.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuantReport {
    /// Conductance levels of the architecture.
    pub levels: u16,
    /// Per projection, in projection id order.
    pub projections: Vec<ProjQuant>,
    /// Largest absolute error over all projections, real units.
    pub max_abs_error: f64,
    /// Largest relative error over all projections (of the weights kept).
    pub max_rel_error: f64,
    /// Non-zero weights rounded to level 0, over all projections.
    pub zeroed: u64,
    /// sqrt(sum (q - w)^2 / sum w^2) over every weight: the error relative
    /// to the weights' size (a weight near half a level has a relative
    /// error near 100 % however fine the levels, so the maximum says little).
    pub rms_rel_error: f64,
    /// Human-readable warnings (silenced projections, zeroed weights).
    pub warnings: Vec<String>,
}

/// Stage 1's product: the network the hardware computes, and the device
/// levels behind its weights (which the later stages program).
pub(crate) struct Quantized {
    /// The quantized network: every weight is `sign * level * scale`.
    pub net: Network,
    /// What quantization did.
    pub report: QuantReport,
    /// Weight of one level, per projection (id order).
    pub scales: Vec<i32>,
    /// Level of each synapse's weight magnitude, per projection (id order).
    pub levels: Vec<Vec<u16>>,
}

/// Quantizes every projection of `net` to the levels of `arch`, and gives
/// its STDP projections the architecture's retention: the network the
/// hardware computes, its levels, and what changed.
pub(crate) fn quantize(net: &Network, arch: &Arch) -> Quantized {
    let lmax = i64::from(arch.nonvolatile.levels.max(2)) - 1;
    let mut out = net.clone();
    let mut projections = Vec::with_capacity(net.proj_count());
    let mut all_levels = Vec::with_capacity(net.proj_count());
    let mut warnings = Vec::new();
    let (mut max_abs, mut max_rel) = (0.0f64, 0.0f64);
    let (mut err2, mut w2) = (0.0f64, 0.0f64);
    for (id, pr) in net.projs() {
        let stdp = match pr.kind {
            SynapseKind::Stdp(p) => Some(p),
            _ => None,
        };
        let (scale, levels) = quantize_levels(&pr.syn.weight, lmax, stdp.as_ref());
        let q = signed(&pr.syn.weight, scale, &levels);
        let scale = scale as i32;
        let mut pq = ProjQuant {
            name: pr.name.clone(),
            kind: pr.kind.label(),
            scale,
            max_abs_error: 0.0,
            max_rel_error: 0.0,
            zeroed: 0,
            silenced: false,
        };
        let mut all_zero = true;
        let mut any_nonzero = false;
        for (&w, &qw) in pr.syn.weight.iter().zip(&q) {
            let err = (i64::from(qw) - i64::from(w)).unsigned_abs() as f64;
            err2 += err * err;
            w2 += f64::from(w) * f64::from(w);
            pq.max_abs_error = pq.max_abs_error.max(err / f64::from(ONE));
            if w != 0 {
                any_nonzero = true;
                if qw == 0 {
                    pq.zeroed += 1;
                } else {
                    pq.max_rel_error = pq.max_rel_error.max(err / (i64::from(w).unsigned_abs() as f64));
                }
            }
            all_zero &= qw == 0;
        }
        pq.silenced = any_nonzero && all_zero;
        if pq.silenced {
            warnings.push(format!(
                "projection `{}` is silenced: every weight quantized to level 0 (scale {})",
                pr.name, scale
            ));
        } else if pq.zeroed > 0 {
            warnings.push(format!(
                "projection `{}`: {} non-zero weight(s) quantized to level 0 (scale {}; {} levels)",
                pr.name,
                pq.zeroed,
                scale,
                lmax + 1
            ));
        }
        max_abs = max_abs.max(pq.max_abs_error);
        max_rel = max_rel.max(pq.max_rel_error);
        let out_proj = out.proj_mut(id);
        out_proj.syn.weight = q;
        // Retention is the device's: a learned change relaxes with the
        // architecture's time constant, whatever the source said.
        if let SynapseKind::Stdp(p) = &mut out_proj.kind {
            p.relax = fpnna_model::relax_from_tau(arch.volatile.retention_ms, net.dt_ms);
        }
        projections.push(pq);
        all_levels.push(levels);
    }
    let scales = projections.iter().map(|p| p.scale).collect();
    let zeroed = projections.iter().map(|p| p.zeroed).sum();
    let report = QuantReport {
        levels: (lmax + 1) as u16,
        projections,
        max_abs_error: max_abs,
        max_rel_error: max_rel,
        zeroed,
        rms_rel_error: if w2 > 0.0 { (err2 / w2).sqrt() } else { 0.0 },
        warnings,
    };
    Quantized { net: out, report, scales, levels: all_levels }
}

/// The level of weight magnitude `a` at `scale` (round half up, clamped to
/// `lmax`, and small enough that `level * scale` fits an `i32`).
fn level_of(a: i64, scale: i64, lmax: i64) -> i64 {
    let mut l = ((2 * a + scale) / (2 * scale)).min(lmax);
    while l > 0 && l * scale > i64::from(i32::MAX) {
        l -= 1;
    }
    l
}

/// Scale and levels (of the magnitudes) of one projection's weights. Every
/// level is at most `lmax`, and `level * scale` fits an `i32`.
fn quantize_levels(w: &[i32], lmax: i64, stdp: Option<&StdpParams>) -> (i64, Vec<u16>) {
    let maxw = w.iter().map(|&x| i64::from(x).abs()).max().unwrap_or(0);
    let mut scale = ((maxw + lmax - 1) / lmax).max(1);
    if let Some(p) = stdp {
        scale = stdp_scale(scale, i64::from(p.w_min), i64::from(p.w_max), lmax);
    }
    let q = w
        .iter()
        .map(|&x| {
            let a = i64::from(x).abs();
            let mut l = level_of(a, scale, lmax);
            if let Some(p) = stdp {
                // Keep the initial weight inside the STDP bounds: the
                // simulator clamps every update into [w_min, w_max].
                let (lo, hi) = (i64::from(p.w_min), i64::from(p.w_max));
                if l * scale < lo {
                    l = (lo + scale - 1) / scale;
                }
                if l * scale > hi {
                    l = hi / scale;
                }
            }
            l as u16
        })
        .collect();
    (scale, q)
}

/// The quantized weights: each original's sign times `level * scale`.
fn signed(w: &[i32], scale: i64, levels: &[u16]) -> Vec<i32> {
    w.iter()
        .zip(levels)
        .map(|(&x, &l)| {
            let v = i64::from(l) * scale;
            (if x < 0 { -v } else { v }) as i32
        })
        .collect()
}

/// The smallest scale >= `base` for which some level `0..=lmax` lands in
/// `[w_min, w_max]` (always exists: level 1 at scale `max(base, w_min)`).
fn stdp_scale(base: i64, w_min: i64, w_max: i64, lmax: i64) -> i64 {
    if w_min == 0 || (w_max - w_min + 1) >= base {
        return base;
    }
    let mut best = i64::MAX;
    for k in 1..=lmax {
        let s = base.max((w_min + k - 1) / k);
        if s * k <= w_max {
            best = best.min(s);
        }
    }
    if best == i64::MAX { base.max(w_min) } else { best }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scale and quantized weights of one projection.
    fn quantize_weights(w: &[i32], lmax: i64, stdp: Option<&StdpParams>) -> (i32, Vec<i32>) {
        let (scale, levels) = quantize_levels(w, lmax, stdp);
        (scale as i32, signed(w, scale, &levels))
    }

    #[test]
    fn levels_round_to_nearest_and_scale_covers_the_maximum() {
        // 5 levels (lmax 4): max 100 -> scale 25; 30 -> level 1 (25), 40 -> 2 (50: 1.6 rounds up)
        let (s, q) = quantize_weights(&[100, 30, 40, -60, 0, 12, 13], 4, None);
        assert_eq!(s, 25);
        assert_eq!(q, vec![100, 25, 50, -50, 0, 0, 25]);
    }

    #[test]
    fn scale_is_at_least_one_and_ceil() {
        assert_eq!(quantize_weights(&[0, 0], 31, None), (1, vec![0, 0]));
        // ceil(101 / 4) = 26; 101 -> round(3.88) = 4 -> 104
        assert_eq!(quantize_weights(&[101], 4, None), (26, vec![104]));
    }

    #[test]
    fn extreme_weights_do_not_overflow() {
        let (s, q) = quantize_weights(&[i32::MIN, i32::MAX], 31, None);
        assert!(s > 0);
        assert!(q[1] > 0 && q[0] < 0);
    }

    #[test]
    fn stdp_initial_weights_stay_within_bounds() {
        let p = StdpParams {
            a_plus: 1,
            a_minus: 1,
            decay_plus: 0,
            decay_minus: 0,
            w_min: 100_000,
            w_max: 100_000,
            pairing: fpnna_model::Pairing::AllToAll,
            bounds: fpnna_model::Bounds::Hard,
            relax: 0,
        };
        let (s, q) = quantize_weights(&[100_000, 100_000], 31, Some(&p));
        assert!(q.iter().all(|&x| x == 100_000), "{s} {q:?}");
        let p2 = StdpParams { w_min: 10, w_max: 1000, ..p };
        let (s, q) = quantize_weights(&[10, 1000, 500], 31, Some(&p2));
        assert_eq!(s, 33);
        assert!(q.iter().all(|&x| (10..=1000).contains(&x)), "{q:?}");
        assert_eq!(q[0], 33);
    }
}
