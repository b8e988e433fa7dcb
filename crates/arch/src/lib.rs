//! The architecture model: one description of an FPNNA array, read from
//! TOML, with built-in presets. Every field is documented with its unit in
//! docs/architecture.md.

use serde::{Deserialize, Serialize};
use std::path::Path;

mod chip;
mod crosspoint;
pub use chip::{
    Applied, CHIP_FORMAT, CHIP_VERSION, ChipError, ChipState, Defect, FormedNode, FormedTile, MAX_CHIP_BYTES,
    TileWrites, bitstream_hash, content_hash,
};
mod device;
pub use crosspoint::{Crosspoint, Fate, Side, effective_level};
pub use device::{DeviceFigures, DeviceOverrides, FIGURES, Figure, FigureError, Range, SetError};

/// A whole array.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arch {
    /// Name of this architecture.
    pub name: String,
    /// The mesh of tiles.
    pub grid: Grid,
    /// One tile's crossbar.
    pub tile: Tile,
    /// The CMOS neuron circuit.
    pub neuron: NeuronCircuit,
    /// Non-volatile node physics.
    pub nonvolatile: NonVolatile,
    /// Volatile node physics.
    pub volatile: Volatile,
    /// Routers and links.
    pub router: Router,
    /// Latencies and clock.
    pub timing: Timing,
    /// Energy per event.
    pub energy: Energy,
}

/// The mesh.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    /// Tiles along x.
    pub width: u16,
    /// Tiles along y.
    pub height: u16,
}

/// One tile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tile {
    /// Axon rows of the crossbar.
    pub rows: u16,
    /// Neuron columns of the crossbar.
    pub cols: u16,
    /// Whether nodes can be left volatile (short-term and STDP synapses).
    pub volatile_nodes: bool,
    /// Whether nodes can be formed non-volatile.
    pub nonvolatile_nodes: bool,
    /// Longest delay a row table entry can hold, in timesteps (1..=64).
    pub max_delay: u8,
}

/// The neuron circuit's fixed point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuronCircuit {
    /// Width of the membrane potential and current registers, bits (8..=32).
    pub state_bits: u8,
    /// Longest refractory period, timesteps.
    pub max_refractory: u16,
}

/// Non-volatile (formed) nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NonVolatile {
    /// Conductance levels (>= 2).
    pub levels: u16,
    /// Lowest conductance, nS.
    pub g_min_ns: f64,
    /// Highest conductance, nS.
    pub g_max_ns: f64,
    /// Programming error, standard deviation as a fraction of the range.
    pub program_error: f64,
    /// Read noise, standard deviation as a fraction of G per read.
    pub read_noise: f64,
    /// Drift exponent nu of G(t) = G0 (t / t0)^-nu (0 = none).
    pub drift_nu: f64,
    /// Fraction of nodes stuck at G_min.
    pub stuck_at_min: f64,
    /// Fraction of nodes stuck at G_max.
    pub stuck_at_max: f64,
    /// Fraction of forming pulses that succeed (failures are stuck at G_min).
    pub forming_yield: f64,
    /// Write cycles a node endures.
    pub endurance: f64,
    /// Write-verify iterations at most, when programming error is modelled.
    pub write_verify_max: u16,
}

/// Volatile nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Volatile {
    /// Resting conductance G0, nS.
    pub g0_ns: f64,
    /// Saturation conductance Gsat, nS.
    pub gsat_ns: f64,
    /// Shortest relaxation time constant the node offers, ms.
    pub tau_min_ms: f64,
    /// Longest relaxation time constant the node offers, ms.
    pub tau_max_ms: f64,
    /// Cycle-to-cycle noise of an increment, fraction of the increment.
    pub c2c_noise: f64,
    /// Device-to-device spread of tau, fraction.
    pub d2d_tau_spread: f64,
    /// Device-to-device spread of G0, fraction.
    pub d2d_g0_spread: f64,
    /// Retention of a learned (STDP) change: the time constant with which
    /// it relaxes back toward the programmed conductance, ms; 0: kept
    /// (absent from a file: 0).
    #[serde(default)]
    pub retention_ms: f64,
}

/// Routers and links of the mesh.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Router {
    /// Entries of a router's multicast table.
    pub table_entries: u32,
    /// Packets a link carries per cycle.
    pub link_bandwidth: u16,
    /// Spike packets a tile injects per cycle.
    pub inject_per_cycle: u16,
}

/// Latencies and clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// Clock frequency, MHz.
    pub clock_mhz: f64,
    /// Cycles a packet takes per hop.
    pub hop_cycles: u16,
    /// Rows a tile reads per cycle.
    pub rows_per_cycle: u16,
    /// Neuron columns a tile updates per cycle.
    pub neurons_per_cycle: u16,
    /// Cycles of the end-of-step barrier.
    pub barrier_cycles: u16,
}

/// Energy per event, pJ.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Energy {
    /// Reading one crossbar row (all its programmed nodes), pJ.
    pub row_read_pj: f64,
    /// One synaptic event (one node read into a column), pJ.
    pub synop_pj: f64,
    /// Updating one neuron circuit for one step, pJ.
    pub neuron_update_pj: f64,
    /// One packet crossing one link, pJ.
    pub hop_pj: f64,
    /// One write pulse on a node, pJ.
    pub node_write_pj: f64,
    /// One forming pulse, pJ.
    pub forming_pj: f64,
    /// Static power of the whole array, mW.
    pub static_mw: f64,
}

/// Built-in architecture presets.
pub const PRESETS: &[&str] = &["small", "default", "large"];

const DEFAULT_TOML: &str = include_str!("../presets/default.toml");
const SMALL_TOML: &str = include_str!("../presets/small.toml");
const LARGE_TOML: &str = include_str!("../presets/large.toml");

/// Errors reading or checking an architecture.
#[derive(Debug, thiserror::Error)]
pub enum ArchError {
    /// The file could not be read.
    #[error("{path}: cannot read architecture file: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The TOML is malformed or a field is missing, unknown or mistyped.
    #[error("{path}:{line}:{col}: {msg}")]
    Toml {
        /// File.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What the TOML parser said.
        msg: String,
    },
    /// A value is impossible.
    #[error("{path}: `{field}` = {value}: {why}")]
    Invalid {
        /// File.
        path: String,
        /// Dotted field name.
        field: &'static str,
        /// Value found.
        value: String,
        /// Why it is refused.
        why: &'static str,
    },
    /// No such preset.
    #[error("unknown preset `{0}` (presets: small, default, large)")]
    UnknownPreset(String),
}

/// Largest architecture file read (a preset is about 2 KB).
pub const MAX_ARCH_BYTES: u64 = 1 << 20;

impl Arch {
    /// A built-in preset by name.
    pub fn preset(name: &str) -> Result<Arch, ArchError> {
        let text = Self::preset_toml(name)?;
        Arch::from_toml(text, &format!("<preset {name}>"))
    }

    /// The TOML text of a built-in preset.
    pub fn preset_toml(name: &str) -> Result<&'static str, ArchError> {
        match name {
            "default" => Ok(DEFAULT_TOML),
            "small" => Ok(SMALL_TOML),
            "large" => Ok(LARGE_TOML),
            _ => Err(ArchError::UnknownPreset(name.to_string())),
        }
    }

    /// The default architecture embedded in the binary.
    pub fn default_arch() -> Arch {
        Arch::preset("default").expect("the embedded default architecture is valid")
    }

    /// Reads (at most [`MAX_ARCH_BYTES`], so that a device such as
    /// `/dev/zero` ends too) and validates an architecture file.
    pub fn from_file(path: &Path) -> Result<Arch, ArchError> {
        use std::io::Read;
        let io = |source| ArchError::Io { path: path.display().to_string(), source };
        let mut bytes = Vec::new();
        std::fs::File::open(path).and_then(|f| f.take(MAX_ARCH_BYTES + 1).read_to_end(&mut bytes)).map_err(io)?;
        if bytes.len() as u64 > MAX_ARCH_BYTES {
            return Err(io(std::io::Error::other(format!("larger than the limit of {MAX_ARCH_BYTES} bytes"))));
        }
        let text = String::from_utf8(bytes).map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
        Arch::from_toml(&text, &path.display().to_string())
    }

    /// Parses and validates TOML text; `path` names it in errors.
    pub fn from_toml(text: &str, path: &str) -> Result<Arch, ArchError> {
        let arch: Arch = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            ArchError::Toml { path: path.to_string(), line, col, msg: e.message().to_string() }
        })?;
        arch.validate(path)?;
        Ok(arch)
    }

    /// Prints as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("an architecture serializes")
    }

    /// Refuses impossible values, naming the field and the reason.
    pub fn validate(&self, path: &str) -> Result<(), ArchError> {
        let bad = |field: &'static str, value: String, why: &'static str| {
            Err(ArchError::Invalid { path: path.to_string(), field, value, why })
        };
        let g = &self.grid;
        if g.width == 0 || g.height == 0 || u32::from(g.width) * u32::from(g.height) > 65_536 {
            return bad("grid", format!("{}x{}", g.width, g.height), "needs 1 to 65536 tiles");
        }
        if self.tile.rows == 0 || self.tile.rows > 4096 {
            return bad("tile.rows", self.tile.rows.to_string(), "must be 1..=4096");
        }
        if self.tile.cols == 0 || self.tile.cols > 4096 {
            return bad("tile.cols", self.tile.cols.to_string(), "must be 1..=4096");
        }
        if self.tile.max_delay == 0 || u32::from(self.tile.max_delay) > fpnna_model::MAX_DELAY {
            return bad("tile.max_delay", self.tile.max_delay.to_string(), "must be 1..=64");
        }
        if !self.tile.volatile_nodes && !self.tile.nonvolatile_nodes {
            return bad("tile.nonvolatile_nodes", "false".into(), "a tile must offer at least one node mode");
        }
        if !(8..=32).contains(&self.neuron.state_bits) {
            return bad("neuron.state_bits", self.neuron.state_bits.to_string(), "must be 8..=32");
        }
        let nv = &self.nonvolatile;
        if nv.levels < 2 || nv.levels > 1024 {
            return bad("nonvolatile.levels", nv.levels.to_string(), "must be 2..=1024");
        }
        if !(nv.g_min_ns >= 0.0 && nv.g_max_ns > nv.g_min_ns) {
            return bad("nonvolatile.g_max_ns", nv.g_max_ns.to_string(), "must exceed g_min_ns >= 0");
        }
        if let Err(e) = self.devices().check() {
            return bad(e.figure.path, e.value, e.why);
        }
        if nv.endurance.is_nan() || nv.endurance < 1.0 {
            return bad("nonvolatile.endurance", nv.endurance.to_string(), "must be >= 1");
        }
        let v = &self.volatile;
        if !(v.g0_ns > 0.0 && v.gsat_ns > v.g0_ns) {
            return bad("volatile.gsat_ns", v.gsat_ns.to_string(), "must exceed g0_ns > 0");
        }
        if !(v.tau_min_ms > 0.0 && v.tau_max_ms >= v.tau_min_ms) {
            return bad("volatile.tau_max_ms", v.tau_max_ms.to_string(), "needs 0 < tau_min_ms <= tau_max_ms");
        }
        if !(v.retention_ms >= 0.0 && v.retention_ms.is_finite()) {
            return bad("volatile.retention_ms", v.retention_ms.to_string(), "must be >= 0 ms (0: no relaxation)");
        }
        let r = &self.router;
        if r.table_entries == 0 {
            return bad("router.table_entries", "0".into(), "a router needs at least one entry");
        }
        if r.link_bandwidth == 0 {
            return bad("router.link_bandwidth", "0".into(), "a link must carry at least one packet per cycle");
        }
        if r.inject_per_cycle == 0 {
            return bad("router.inject_per_cycle", "0".into(), "a tile must inject at least one packet per cycle");
        }
        let t = &self.timing;
        if !(t.clock_mhz > 0.0 && t.clock_mhz.is_finite()) {
            return bad("timing.clock_mhz", t.clock_mhz.to_string(), "must be positive");
        }
        if t.hop_cycles == 0 || t.rows_per_cycle == 0 || t.neurons_per_cycle == 0 {
            return bad("timing", "0".into(), "hop_cycles, rows_per_cycle and neurons_per_cycle must be >= 1");
        }
        let e = &self.energy;
        for (field, x) in [
            ("energy.row_read_pj", e.row_read_pj),
            ("energy.synop_pj", e.synop_pj),
            ("energy.neuron_update_pj", e.neuron_update_pj),
            ("energy.hop_pj", e.hop_pj),
            ("energy.node_write_pj", e.node_write_pj),
            ("energy.forming_pj", e.forming_pj),
            ("energy.static_mw", e.static_mw),
        ] {
            if !(x >= 0.0 && x.is_finite()) {
                return bad(field, x.to_string(), "energies must be finite and >= 0");
            }
        }
        Ok(())
    }

    /// A stable 64-bit identity of this architecture (FNV-1a of its
    /// canonical TOML), written into bitstreams.
    pub fn hash(&self) -> u64 {
        self.to_toml().bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
    }

    /// Number of tiles.
    pub fn tiles(&self) -> u32 {
        u32::from(self.grid.width) * u32::from(self.grid.height)
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_architecture_file_is_read_up_to_its_limit_only() {
        let e = Arch::from_file(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(e.contains("/dev/zero") && e.contains("larger than the limit"), "{e}");
    }

    #[test]
    fn presets_are_valid_and_round_trip() {
        for name in PRESETS {
            let a = Arch::preset(name).unwrap();
            assert_eq!(&a.name, name);
            assert_eq!(Arch::from_toml(&a.to_toml(), "x").unwrap(), a);
        }
        assert!(Arch::preset("large").unwrap().tiles() > Arch::preset("small").unwrap().tiles());
    }

    #[test]
    fn toml_errors_carry_line_and_column() {
        let text = DEFAULT_TOML.replace("rows = ", "rows = \"many\" # ");
        let e = Arch::from_toml(&text, "a.toml").unwrap_err().to_string();
        assert!(e.starts_with("a.toml:"), "{e}");
        let line = text.lines().position(|l| l.contains("\"many\"")).unwrap() + 1;
        assert!(e.contains(&format!(":{line}:")), "{e}");
    }

    #[test]
    fn impossible_values_are_refused_with_the_reason() {
        let cases = [
            ("rows = ", "rows = 0 #", "tile.rows"),
            ("levels = ", "levels = 1 #", "nonvolatile.levels"),
            ("hop_pj = ", "hop_pj = -1.0 #", "energy.hop_pj"),
        ];
        for (from, to, field) in cases {
            let text = DEFAULT_TOML.replacen(from, to, 1);
            let e = Arch::from_toml(&text, "a.toml").unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
        let text = DEFAULT_TOML.replacen("[grid]", "[grid]\ncolour = 3", 1);
        assert!(Arch::from_toml(&text, "a.toml").unwrap_err().to_string().contains("colour"));
    }

    #[test]
    fn hash_tells_architectures_apart() {
        let a = Arch::preset("default").unwrap();
        let mut b = a.clone();
        b.router.table_entries += 1;
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hash(), Arch::preset("default").unwrap().hash());
    }
}
