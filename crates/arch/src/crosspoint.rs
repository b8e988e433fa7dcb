//! The stuck-at fault model of the crossbars: faults live on crosspoints,
//! not on the synapses a configuration happens to program. Every crosspoint
//! of the array (tile, row line, column line) holds a differential pair of
//! devices, and each device has a fate drawn once from a counter-based hash
//! of (seed, position, device): no memory per crosspoint, the same fate
//! whichever configuration is loaded, and fault sets nested across rates
//! (common random numbers: a device stuck at a lower rate is stuck at every
//! higher rate with the same seed).

use fpnna_model::hash3;
use serde::{Deserialize, Serialize};

/// A crosspoint of the array.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Crosspoint {
    /// Tile column of the grid.
    pub x: u16,
    /// Tile row of the grid.
    pub y: u16,
    /// Row line of the tile's crossbar.
    pub row: u16,
    /// Column line of the tile's crossbar.
    pub col: u16,
}

/// One device of a crosspoint's differential pair: the weight is
/// G(plus) - G(minus); a positive weight is programmed on `Plus` with
/// `Minus` at G_min, a negative one the other way round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The device whose conductance adds.
    Plus,
    /// The device whose conductance subtracts.
    Minus,
}

/// What fabrication left a device as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fate {
    /// It programs as asked.
    Healthy,
    /// It conducts at G_min whatever it is programmed to.
    StuckMin,
    /// It conducts at G_max whatever it is programmed to, programmed or not.
    StuckMax,
}

/// Stream of the stuck-at draws (apart from every other draw of a seed).
const STREAM: u64 = 0x57AC_0002;

impl Crosspoint {
    /// The uniform draw in [0, 1) that decides device `side`'s fate.
    pub fn draw(self, seed: u64, side: Side) -> f64 {
        let place =
            (u64::from(self.x) << 48) | (u64::from(self.y) << 32) | (u64::from(self.row) << 16) | u64::from(self.col);
        let h = hash3(hash3(seed, STREAM, place), side as u64, 0);
        (h >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Device `side`'s fate at stuck-at rates `min` and `max` (per device):
    /// stuck at G_min below `min`, at G_max below `min + max`.
    pub fn fate(self, seed: u64, side: Side, min: f64, max: f64) -> Fate {
        if min + max <= 0.0 {
            return Fate::Healthy;
        }
        let u = self.draw(seed, side);
        if u < min {
            Fate::StuckMin
        } else if u < min + max {
            Fate::StuckMax
        } else {
            Fate::Healthy
        }
    }
}

/// The level (in units of the row's scale, signed) a crosspoint conducts
/// when `level` is programmed on the `on` side and the other side is left
/// at G_min (level 0), with the fates of both devices; `top` is the highest
/// level.
pub fn effective_level(level: f64, on: Side, fates: [Fate; 2], top: f64) -> f64 {
    let device = |side: Side, programmed: f64| match fates[side as usize] {
        Fate::Healthy => programmed,
        Fate::StuckMin => 0.0,
        Fate::StuckMax => top,
    };
    let (plus, minus) = match on {
        Side::Plus => (level, 0.0),
        Side::Minus => (0.0, level),
    };
    device(Side::Plus, plus) - device(Side::Minus, minus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fates_are_nested_across_rates_and_follow_the_rate() {
        let mut stuck = [0u32; 3];
        for i in 0..20_000u16 {
            let c = Crosspoint { x: i % 7, y: i / 7 % 5, row: i, col: i / 3 };
            for side in [Side::Plus, Side::Minus] {
                let low = c.fate(9, side, 0.01, 0.01);
                let high = c.fate(9, side, 0.05, 0.05);
                if low != Fate::Healthy {
                    // Stuck at the lower rate: stuck at the higher one, and
                    // at G_min there if it was at G_min here.
                    assert_ne!(high, Fate::Healthy);
                    if low == Fate::StuckMin {
                        assert_eq!(high, Fate::StuckMin);
                    }
                }
                stuck[0] += u32::from(low != Fate::Healthy);
                stuck[1] += u32::from(high != Fate::Healthy);
                stuck[2] += u32::from(c.fate(10, side, 0.05, 0.05) != c.fate(9, side, 0.05, 0.05));
            }
        }
        // 40,000 devices: 2 % and 10 % stuck, and another seed another map.
        assert!((650..950).contains(&stuck[0]), "{stuck:?}");
        assert!((3700..4300).contains(&stuck[1]), "{stuck:?}");
        assert!(stuck[2] > 5000, "{stuck:?}");
    }

    #[test]
    fn a_pair_conducts_the_difference_of_its_devices() {
        use Fate::*;
        let top = 31.0;
        assert_eq!(effective_level(5.0, Side::Plus, [Healthy, Healthy], top), 5.0);
        assert_eq!(effective_level(5.0, Side::Minus, [Healthy, Healthy], top), -5.0);
        assert_eq!(effective_level(5.0, Side::Plus, [StuckMin, Healthy], top), 0.0);
        assert_eq!(effective_level(5.0, Side::Plus, [StuckMax, Healthy], top), 31.0);
        // The reference device stuck high pulls the weight down.
        assert_eq!(effective_level(5.0, Side::Plus, [Healthy, StuckMax], top), -26.0);
        assert_eq!(effective_level(0.0, Side::Plus, [StuckMax, StuckMax], top), 0.0);
        assert_eq!(effective_level(0.0, Side::Minus, [Healthy, StuckMax], top), -31.0);
    }
}
