//! Counter-based random numbers: every draw is a function of (seed, stream,
//! element, step), never of evaluation order, so runs are identical for any
//! thread count.

use fpnna_model::hash3;

/// Streams (one per kind of draw).
pub(crate) const FORMING: u64 = 1;
// (2 was the stuck-at stream: stuck devices are fpnna_arch::Crosspoint's.)
pub(crate) const PROGRAM: u64 = 3;
pub(crate) const READ: u64 = 4;
pub(crate) const C2C: u64 = 5;
pub(crate) const D2D_TAU: u64 = 6;
pub(crate) const D2D_G0: u64 = 7;

fn word(seed: u64, stream: u64, a: u64, b: u64) -> u64 {
    hash3(hash3(seed, stream, 0xD1CE), a, b)
}

/// Uniform in [0, 1).
pub(crate) fn uniform(seed: u64, stream: u64, a: u64, b: u64) -> f64 {
    (word(seed, stream, a, b) >> 11) as f64 / (1u64 << 53) as f64
}

/// Standard normal (Box-Muller on two counter-based uniforms).
pub(crate) fn gauss(seed: u64, stream: u64, a: u64, b: u64) -> f64 {
    let h = word(seed, stream, a, b);
    let u1 = ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let u2 = (hash3(h, 0x6A55, b) >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Scales an integer by `f`, rounding to nearest and saturating.
pub(crate) fn scale_i32(x: i32, f: f64) -> i32 {
    let y = (f64::from(x) * f).round();
    if y.is_nan() { x } else { y.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_repeatable_and_roughly_normal() {
        assert_eq!(gauss(3, READ, 7, 9), gauss(3, READ, 7, 9));
        assert_ne!(gauss(3, READ, 7, 9), gauss(4, READ, 7, 9));
        let n = 20_000;
        let xs: Vec<f64> = (0..n).map(|k| gauss(1, READ, k, 0)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.05 && (var - 1.0).abs() < 0.05, "mean {mean} var {var}");
        assert!((0..1000).all(|k| (0.0..1.0).contains(&uniform(1, FORMING, k, 0))));
    }

    #[test]
    fn scaling_saturates() {
        assert_eq!(scale_i32(10, 1.26), 13);
        assert_eq!(scale_i32(i32::MAX, 2.0), i32::MAX);
        assert_eq!(scale_i32(-7, f64::NAN), -7);
    }
}
