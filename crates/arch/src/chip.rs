//! The state of one physical chip: what fabrication left its crosspoints
//! as (docs/chip.md). A chip of an architecture has stuck devices spread
//! over *every* crosspoint of the array, seeded (drawn by position from
//! `seed` and the two rates, no memory per crosspoint) and measured (a
//! wafer test's list, on top). They are facts of that chip: `--ideal`
//! does not remove them.
//!
//! The file: one line `fpnna-chip-state VERSION crc32=XXXXXXXX`, then a
//! JSON body whose CRC-32 that is.

use crate::Arch;
use crate::crosspoint::{Crosspoint, Fate, Side};
use serde::{Deserialize, Serialize};

/// The first word of every chip-state file.
pub const CHIP_FORMAT: &str = "fpnna-chip-state";
/// The version this build writes and reads.
pub const CHIP_VERSION: u32 = 1;
/// The largest chip-state file read (a measured defect list of about a
/// million entries).
pub const MAX_CHIP_BYTES: usize = 64 << 20;

/// A chip: its architecture, seeded defects and measured ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChipState {
    /// Name of the architecture.
    pub arch: String,
    /// `Arch::hash` of the architecture: a chip runs only its own.
    pub arch_hash: u64,
    /// Seed of the seeded defects.
    pub seed: u64,
    /// Fraction of devices stuck at G_min, over every crosspoint.
    pub stuck_at_min: f64,
    /// Fraction of devices stuck at G_max, over every crosspoint.
    pub stuck_at_max: f64,
    /// Measured defects, sorted by place, each place once; they override
    /// the seeded fate of their device.
    pub defects: Vec<Defect>,
    /// Crosspoints formed (non-volatile for good) by the configurations
    /// applied, per tile, tiles sorted by (y, x).
    #[serde(default)]
    pub formed: Vec<FormedTile>,
    /// The configurations applied to this chip, oldest first.
    #[serde(default)]
    pub history: Vec<Applied>,
}

/// The formed crosspoints of one tile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormedTile {
    /// Tile column of the grid.
    pub x: u16,
    /// Tile row of the grid.
    pub y: u16,
    /// Sorted by (row, col), each once.
    pub nodes: Vec<FormedNode>,
}

/// One formed crosspoint: `[row, col, writes, by]` in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(u16, u16, u64, u32)", into = "(u16, u16, u64, u32)")]
pub struct FormedNode {
    /// Row line.
    pub row: u16,
    /// Column line.
    pub col: u16,
    /// Write pulses it has taken (against `nonvolatile.endurance`).
    pub writes: u64,
    /// Index in `history` of the configuration that formed it.
    pub by: u32,
}

impl From<(u16, u16, u64, u32)> for FormedNode {
    fn from((row, col, writes, by): (u16, u16, u64, u32)) -> FormedNode {
        FormedNode { row, col, writes, by }
    }
}

impl From<FormedNode> for (u16, u16, u64, u32) {
    fn from(n: FormedNode) -> Self {
        (n.row, n.col, n.writes, n.by)
    }
}

/// One configuration applied to the chip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applied {
    /// Hash of the bitstream's bytes (hex).
    pub bitstream: String,
    /// Timesteps it ran.
    pub steps: u64,
}

/// One measured defect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defect {
    /// The crosspoint.
    pub at: Crosspoint,
    /// Which device of its pair.
    pub side: Side,
    /// Stuck at G_max (true) or G_min (false).
    pub high: bool,
}

/// Why a chip state is refused (the file's name is the caller's).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ChipError(pub String);

impl ChipState {
    /// A fresh chip of `arch`, checked.
    pub fn new(
        arch: &Arch,
        seed: u64,
        stuck_at_min: f64,
        stuck_at_max: f64,
        mut defects: Vec<Defect>,
    ) -> Result<ChipState, ChipError> {
        defects.sort();
        let chip = ChipState {
            arch: arch.name.clone(),
            arch_hash: arch.hash(),
            seed,
            stuck_at_min,
            stuck_at_max,
            defects,
            formed: Vec::new(),
            history: Vec::new(),
        };
        chip.check(arch)?;
        Ok(chip)
    }

    /// Refuses rates out of range, defects off the array and places given twice.
    pub fn check(&self, arch: &Arch) -> Result<(), ChipError> {
        let bad = |why: String| Err(ChipError(why));
        if self.arch_hash != arch.hash() {
            return bad(format!(
                "a chip of architecture `{}` (hash {:016x}), not of `{}` (hash {:016x})",
                self.arch,
                self.arch_hash,
                arch.name,
                arch.hash()
            ));
        }
        let rate_ok = |x: f64| (0.0..=1.0).contains(&x);
        if !rate_ok(self.stuck_at_min) || !rate_ok(self.stuck_at_max) || self.stuck_at_min + self.stuck_at_max > 1.0 {
            return bad(format!(
                "stuck-at rates {} and {} must be fractions adding up to at most 1",
                self.stuck_at_min, self.stuck_at_max
            ));
        }
        for (i, d) in self.defects.iter().enumerate() {
            let c = d.at;
            let inside =
                c.x < arch.grid.width && c.y < arch.grid.height && c.row < arch.tile.rows && c.col < arch.tile.cols;
            if !inside {
                return bad(format!(
                    "defect {i}: tile ({}, {}) row {} column {} is not on the array",
                    c.x, c.y, c.row, c.col
                ));
            }
            if i > 0 && (self.defects[i - 1].at, self.defects[i - 1].side) >= (d.at, d.side) {
                return bad(format!("defect {i}: listed twice, or out of order (sorted by tile, row, column, device)"));
            }
        }
        Ok(())
    }

    /// Device `side`'s fate at `at`: measured, else seeded.
    pub fn fate(&self, at: Crosspoint, side: Side) -> Fate {
        match self.defects.binary_search_by(|d| (d.at, d.side).cmp(&(at, side))) {
            Ok(i) if self.defects[i].high => Fate::StuckMax,
            Ok(_) => Fate::StuckMin,
            Err(_) => at.fate(self.seed, side, self.stuck_at_min, self.stuck_at_max),
        }
    }

    /// The formed crosspoints of tile (x, y), sorted by (row, col).
    pub fn formed_in(&self, x: u16, y: u16) -> &[FormedNode] {
        match self.formed.binary_search_by(|t| (t.y, t.x).cmp(&(y, x))) {
            Ok(i) => &self.formed[i].nodes,
            Err(_) => &[],
        }
    }

    /// The crosspoint `at`, if a configuration formed it.
    pub fn formed_at(&self, at: Crosspoint) -> Option<&FormedNode> {
        let nodes = self.formed_in(at.x, at.y);
        nodes.binary_search_by(|n| (n.row, n.col).cmp(&(at.row, at.col))).ok().map(|i| &nodes[i])
    }

    /// Whether any device of this chip may be stuck.
    pub fn has_defects(&self) -> bool {
        self.stuck_at_min + self.stuck_at_max > 0.0 || !self.defects.is_empty()
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = serde_json::to_string_pretty(self).expect("a chip state serializes");
        let crc = crc32fast::hash(body.as_bytes());
        format!("{CHIP_FORMAT} {CHIP_VERSION} crc32={crc:08x}\n{body}\n").into_bytes()
    }

    /// Reads a file's bytes: the header line, the checksum, then the body.
    pub fn from_bytes(bytes: &[u8]) -> Result<ChipState, ChipError> {
        let bad = |why: String| Err(ChipError(why));
        if bytes.len() > MAX_CHIP_BYTES {
            return bad(format!("larger than the limit of {MAX_CHIP_BYTES} bytes"));
        }
        let Some(nl) = bytes.iter().position(|&b| b == b'\n') else {
            return bad(format!("line 1: expected `{CHIP_FORMAT} {CHIP_VERSION} crc32=...` (not a chip state)"));
        };
        let head = String::from_utf8_lossy(&bytes[..nl]);
        let words: Vec<&str> = head.split_whitespace().collect();
        let crc = match words.as_slice() {
            [f, v, c] if *f == CHIP_FORMAT => {
                if *v != CHIP_VERSION.to_string() {
                    return bad(format!("line 1: version {v}; this build reads version {CHIP_VERSION}"));
                }
                c.strip_prefix("crc32=").and_then(|h| u32::from_str_radix(h, 16).ok())
            }
            _ => None,
        };
        let Some(crc) = crc else {
            return bad(format!("line 1: expected `{CHIP_FORMAT} {CHIP_VERSION} crc32=...` (not a chip state)"));
        };
        let body = &bytes[nl + 1..];
        let body = body.strip_suffix(b"\n").unwrap_or(body);
        let actual = crc32fast::hash(body);
        if actual != crc {
            return bad(format!(
                "checksum {actual:08x} where line 1 says {crc:08x}: the file is damaged or was edited"
            ));
        }
        let text = std::str::from_utf8(body).map_err(|_| ChipError("the body is not UTF-8".into()))?;
        serde_json::from_str(text).map_err(|e| ChipError(format!("line {}, column {}: {e}", e.line() + 1, e.column())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chip() -> ChipState {
        let arch = Arch::default_arch();
        let d = |row, side, high| Defect { at: Crosspoint { x: 1, y: 2, row, col: 3 }, side, high };
        ChipState::new(&arch, 7, 0.01, 0.02, vec![d(5, Side::Minus, true), d(4, Side::Plus, false)]).unwrap()
    }

    #[test]
    fn measured_defects_override_the_seeded_fate_and_files_round_trip() {
        let c = chip();
        let at = |row| Crosspoint { x: 1, y: 2, row, col: 3 };
        assert_eq!(c.fate(at(5), Side::Minus), Fate::StuckMax);
        assert_eq!(c.fate(at(4), Side::Plus), Fate::StuckMin);
        let other = Crosspoint { x: 0, y: 0, row: 9, col: 9 };
        assert_eq!(c.fate(other, Side::Plus), other.fate(7, Side::Plus, 0.01, 0.02));
        assert_eq!(ChipState::from_bytes(&c.to_bytes()).unwrap(), c);
    }

    #[test]
    fn bad_files_and_bad_chips_are_refused_with_the_reason() {
        let bytes = chip().to_bytes();
        let e = |b: &[u8]| ChipState::from_bytes(b).unwrap_err().to_string();
        let mut edited = bytes.clone();
        let at = edited.len() - 10;
        edited[at] ^= 1;
        assert!(e(&edited).contains("checksum"), "{}", e(&edited));
        assert!(e(&bytes[..bytes.len() / 2]).contains("checksum"));
        assert!(e(b"hello\n{}").contains("not a chip state"));
        assert!(e(b"fpnna-chip-state 9 crc32=0\n{}").contains("version 9"));
        let arch = Arch::default_arch();
        let mut small = arch.clone();
        small.name = "other".into();
        small.grid.width = 2;
        assert!(chip().check(&small).unwrap_err().0.contains("not of `other`"));
        let off = Defect { at: Crosspoint { x: 99, y: 0, row: 0, col: 0 }, side: Side::Plus, high: true };
        assert!(ChipState::new(&arch, 1, 0.0, 0.0, vec![off]).unwrap_err().0.contains("not on the array"));
        let d = Defect { at: Crosspoint { x: 0, y: 0, row: 0, col: 0 }, side: Side::Plus, high: true };
        assert!(ChipState::new(&arch, 1, 0.0, 0.0, vec![d, d]).unwrap_err().0.contains("listed twice"));
        assert!(ChipState::new(&arch, 1, 0.7, 0.7, vec![]).unwrap_err().0.contains("at most 1"));
    }
}
