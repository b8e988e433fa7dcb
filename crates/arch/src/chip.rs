//! The state of one physical chip: what fabrication left its crosspoints
//! as (docs/chip.md). A chip of an architecture has stuck devices spread
//! over *every* crosspoint of the array, seeded (drawn by position from
//! `seed` and the two rates, no memory per crosspoint) and measured (a
//! wafer test's list, on top). They are facts of that chip: `--ideal`
//! does not remove them. It also has a history: the crosspoints the
//! configurations applied to it formed, how often each was written (worn
//! out at the architecture's endurance: both devices stuck at G_min), and
//! the configurations themselves ([`ChipState::apply`]).
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
    /// Write pulses a formed crosspoint takes before it wears out: the
    /// architecture's `nonvolatile.endurance`, rounded up.
    pub endurance: u64,
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
            endurance: endurance_of(arch),
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
        if self.endurance != endurance_of(arch) {
            return bad(format!(
                "endurance {} writes where the architecture says {}",
                self.endurance, arch.nonvolatile.endurance
            ));
        }
        self.check_formed(arch)
    }

    /// Refuses formed tiles and nodes off the array, out of order or
    /// twice, and nodes formed by a configuration not in the history.
    fn check_formed(&self, arch: &Arch) -> Result<(), ChipError> {
        let bad = |why: String| Err(ChipError(why));
        for (i, t) in self.formed.iter().enumerate() {
            let place = format!("formed tile ({}, {})", t.x, t.y);
            if t.x >= arch.grid.width || t.y >= arch.grid.height {
                return bad(format!("{place}: not on the array"));
            }
            if i > 0 && (self.formed[i - 1].y, self.formed[i - 1].x) >= (t.y, t.x) {
                return bad(format!("{place}: listed twice, or out of order (sorted by y, x)"));
            }
            for (k, n) in t.nodes.iter().enumerate() {
                if n.row >= arch.tile.rows || n.col >= arch.tile.cols {
                    return bad(format!("{place}: node {k} (row {}, column {}) is not on the crossbar", n.row, n.col));
                }
                if k > 0 && (t.nodes[k - 1].row, t.nodes[k - 1].col) >= (n.row, n.col) {
                    return bad(format!("{place}: node {k} listed twice, or out of order (sorted by row, column)"));
                }
                if n.by as usize >= self.history.len() {
                    return bad(format!(
                        "{place}: node {k} formed by configuration {}, but the history has {}",
                        n.by,
                        self.history.len()
                    ));
                }
            }
        }
        Ok(())
    }

    /// Device `side`'s fate at `at`: worn out (both devices at G_min),
    /// else measured, else seeded.
    pub fn fate(&self, at: Crosspoint, side: Side) -> Fate {
        if self.formed_at(at).is_some_and(|n| self.worn(n)) {
            return Fate::StuckMin;
        }
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

    /// Whether formed node `n` is worn out: its writes reached the endurance.
    pub fn worn(&self, n: &FormedNode) -> bool {
        n.writes >= self.endurance
    }

    /// The formed nodes worn out, over the chip.
    pub fn worn_count(&self) -> u64 {
        self.formed.iter().flat_map(|t| &t.nodes).filter(|n| self.worn(n)).count() as u64
    }

    /// Whether any device of this chip may be stuck (fab defects or wear).
    pub fn has_defects(&self) -> bool {
        self.stuck_at_min + self.stuck_at_max > 0.0 || !self.defects.is_empty() || self.worn_count() > 0
    }

    /// Records configuration `bitstream` (hash, hex), run for `steps`, as
    /// the next history entry: the non-volatile crosspoints it wrote
    /// (`writes`, per tile, from the emulator) are formed by it unless
    /// formed before, and their write pulses add to their wear.
    pub fn apply(&mut self, bitstream: String, steps: u64, writes: &[TileWrites]) {
        let by = u32::try_from(self.history.len()).unwrap_or(u32::MAX);
        self.history.push(Applied { bitstream, steps });
        for t in writes.iter().filter(|t| !t.nodes.is_empty()) {
            let i = match self.formed.binary_search_by(|f| (f.y, f.x).cmp(&(t.y, t.x))) {
                Ok(i) => i,
                Err(i) => {
                    self.formed.insert(i, FormedTile { x: t.x, y: t.y, nodes: Vec::new() });
                    i
                }
            };
            let mut nodes = t.nodes.clone();
            nodes.sort_unstable();
            let old = std::mem::take(&mut self.formed[i].nodes);
            self.formed[i].nodes = merge_writes(old, &nodes, by);
        }
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = serde_json::to_string(self).expect("a chip state serializes");
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

/// What one configuration wrote on one tile's non-volatile crosspoints
/// (the emulator's account of programming it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TileWrites {
    /// Tile column of the grid.
    pub x: u16,
    /// Tile row of the grid.
    pub y: u16,
    /// (row line, column line, write pulses) of each node written and
    /// formed, sorted by (row, col), each once.
    pub nodes: Vec<(u16, u16, u64)>,
}

/// The name a chip's history gives a bitstream: FNV-1a (64 bits) of the
/// file's bytes, hex.
pub fn bitstream_hash(bytes: &[u8]) -> String {
    format!("{:016x}", content_hash(bytes))
}

/// The 64-bit FNV-1a hash of a bitstream's bytes: the identity of a whole
/// configuration (what [`bitstream_hash`] writes in hex).
pub fn content_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The endurance of `arch` in whole write pulses.
fn endurance_of(arch: &Arch) -> u64 {
    // `as` saturates: an endless endurance never wears out.
    arch.nonvolatile.endurance.ceil() as u64
}

/// `old` (sorted) with `writes` (sorted) added: a node present takes the
/// writes (saturating), a new one is formed by configuration `by`.
fn merge_writes(old: Vec<FormedNode>, writes: &[(u16, u16, u64)], by: u32) -> Vec<FormedNode> {
    let mut out = Vec::with_capacity(old.len() + writes.len());
    let mut old = old.into_iter().peekable();
    for &(row, col, w) in writes {
        if let Some(last) = out.last_mut().filter(|n: &&mut FormedNode| (n.row, n.col) == (row, col)) {
            last.writes = last.writes.saturating_add(w);
            continue;
        }
        while let Some(n) = old.next_if(|n| (n.row, n.col) < (row, col)) {
            out.push(n);
        }
        match old.next_if(|n| (n.row, n.col) == (row, col)) {
            Some(n) => out.push(FormedNode { writes: n.writes.saturating_add(w), ..n }),
            None => out.push(FormedNode { row, col, writes: w, by }),
        }
    }
    out.extend(old);
    out
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
    fn applied_configurations_form_wear_and_are_remembered() {
        let mut arch = Arch::default_arch();
        arch.nonvolatile.endurance = 3.0;
        let mut c = ChipState::new(&arch, 7, 0.0, 0.0, vec![]).unwrap();
        let at = |x, row, col| Crosspoint { x, y: 0, row, col };
        let tw = |x, nodes: Vec<(u16, u16, u64)>| TileWrites { x, y: 0, nodes };
        c.apply("aa".into(), 10, &[tw(2, vec![(5, 1, 1), (0, 3, 2)]), tw(1, vec![(0, 0, 1)])]);
        assert_eq!(c.formed.iter().map(|t| (t.x, t.nodes.len())).collect::<Vec<_>>(), [(1, 1), (2, 2)]);
        assert_eq!(c.formed_at(at(2, 0, 3)), Some(&FormedNode { row: 0, col: 3, writes: 2, by: 0 }));
        c.apply("bb".into(), 20, &[tw(2, vec![(0, 3, 1), (4, 4, 1)])]);
        assert_eq!(
            c.history,
            [Applied { bitstream: "aa".into(), steps: 10 }, Applied { bitstream: "bb".into(), steps: 20 }]
        );
        // Formed by the first, written again by the second: worn out.
        assert_eq!(c.formed_at(at(2, 0, 3)), Some(&FormedNode { row: 0, col: 3, writes: 3, by: 0 }));
        assert_eq!(c.formed_at(at(2, 4, 4)).map(|n| n.by), Some(1));
        assert_eq!(c.worn_count(), 1);
        assert!(c.has_defects());
        for side in [Side::Plus, Side::Minus] {
            assert_eq!(c.fate(at(2, 0, 3), side), Fate::StuckMin);
            assert_eq!(c.fate(at(2, 5, 1), side), Fate::Healthy);
        }
        c.apply("cc".into(), 1, &[tw(2, vec![(0, 3, u64::MAX)])]);
        assert_eq!(c.formed_at(at(2, 0, 3)).unwrap().writes, u64::MAX);
        let bytes = c.to_bytes();
        assert_eq!(ChipState::from_bytes(&bytes).unwrap(), c);
        assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 2, "one header line, one compact body");
        c.check(&arch).unwrap();
    }

    #[test]
    fn bitstreams_are_named_by_fnv1a() {
        assert_eq!(bitstream_hash(b""), "cbf29ce484222325");
        assert_eq!(bitstream_hash(b"a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn bad_formed_lists_are_refused() {
        let arch = Arch::default_arch();
        let mut c = ChipState::new(&arch, 7, 0.0, 0.0, vec![]).unwrap();
        c.apply("aa".into(), 1, &[TileWrites { x: 0, y: 0, nodes: vec![(1, 1, 1)] }]);
        let err = |f: &dyn Fn(&mut ChipState)| {
            let mut d = c.clone();
            f(&mut d);
            d.check(&arch).unwrap_err().0
        };
        assert!(err(&|d| d.formed[0].nodes[0].by = 1).contains("configuration 1, but the history has 1"));
        assert!(err(&|d| d.formed[0].nodes[0].row = 9999).contains("not on the crossbar"));
        assert!(err(&|d| d.formed[0].x = 999).contains("formed tile (999, 0): not on the array"));
        assert!(
            err(&|d| {
                let t = d.formed[0].clone();
                d.formed.push(t)
            })
            .contains("listed twice")
        );
        assert!(
            err(&|d| {
                let n = d.formed[0].nodes[0];
                d.formed[0].nodes.push(n)
            })
            .contains("node 1 listed twice")
        );
        assert!(err(&|d| d.endurance = 5).contains("endurance 5 writes"));
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
