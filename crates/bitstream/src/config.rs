//! The configuration of an array, as plain data.
//!
//! Spike sources are identified by a *key* (u32): the global neuron id of
//! the network the bitstream was compiled from (populations laid end to end,
//! generator and input channels included). Packets carry keys; routers match
//! them; rows are selected by them.

use fpnna_arch::Arch;
use fpnna_model::{Generator, NeuronParams, StdpParams, VolatileParams};
use serde::{Deserialize, Serialize};

/// A whole configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bitstream {
    /// The architecture it was compiled for (embedded: a bitstream runs
    /// without its source files).
    pub arch: Arch,
    /// Array-wide settings.
    pub global: Global,
    /// Programmed tiles, sorted by (y, x); unprogrammed tiles are absent.
    pub tiles: Vec<TileConfig>,
    /// Routers with at least one entry, sorted by (y, x).
    pub routers: Vec<RouterConfig>,
    /// Where spikes enter and leave the array.
    pub ports: Vec<Port>,
    /// Debug info: names of populations and their key ranges. Tools read it
    /// to name neurons; the hardware ignores it.
    pub symbols: Vec<Symbol>,
}

/// Array-wide settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Global {
    /// Timestep, ms (for rates and reports).
    pub dt_ms: f64,
    /// Number of keys in use (sources are 0..key_count).
    pub key_count: u32,
}

/// The configuration of one tile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TileConfig {
    /// Column of the grid.
    pub x: u16,
    /// Row of the grid.
    pub y: u16,
    /// Neuron parameter table (deduplicated); columns index into it.
    pub params: Vec<NeuronParams>,
    /// Volatile profiles used by rows of this tile.
    pub volatile: Vec<VolatileParams>,
    /// STDP profiles used by rows of this tile.
    pub stdp: Vec<StdpParams>,
    /// Used neuron columns, column `c` at index `c`.
    pub columns: Vec<Column>,
    /// Used rows, row `r` at index `r`, sorted by (key, delay, sign, kind).
    pub rows: Vec<Row>,
    /// Programmed nodes, sorted by (row, col); unprogrammed nodes cost no bytes.
    pub nodes: Vec<Node>,
    /// The physical row line of each row (`row_lines[r]`), distinct and
    /// below `arch.tile.rows`; empty: row `r` is on line `r`. A compiler
    /// that maps around a chip's defects (`compile --device`) sets it.
    pub row_lines: Vec<u16>,
    /// The physical column line of each column, as `row_lines`.
    pub col_lines: Vec<u16>,
}

impl TileConfig {
    /// The physical row line of row `r`.
    #[inline]
    pub fn row_line(&self, r: u16) -> u16 {
        self.row_lines.get(usize::from(r)).copied().unwrap_or(r)
    }

    /// The physical column line of column `c`.
    #[inline]
    pub fn col_line(&self, c: u16) -> u16 {
        self.col_lines.get(usize::from(c)).copied().unwrap_or(c)
    }
}

/// One neuron circuit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Key this neuron's spikes carry.
    pub key: u32,
    /// Index into the tile's parameter table.
    pub params: u16,
    /// Initial membrane potential.
    pub v_init: i32,
}

/// What the nodes of a row are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RowKind {
    /// Formed, fixed levels.
    NonVolatile,
    /// Volatile, facilitating; index into the tile's volatile profiles.
    Volatile(u16),
    /// Volatile, plastic by STDP; index into the tile's STDP profiles.
    Stdp(u16),
}

/// One axon row of the crossbar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// Source key that drives it.
    pub key: u32,
    /// Delay, timesteps (1..=arch.tile.max_delay).
    pub delay: u8,
    /// true: the row drives the negative line of the differential pair.
    pub negative: bool,
    /// Synapse kind of its nodes.
    pub kind: RowKind,
    /// Weight of one conductance level, fixed point (weight = level * scale).
    pub scale: i32,
}

impl Row {
    /// The key of a tile's row order (rows are sorted by it, so that the
    /// rows a key selects are consecutive).
    pub fn order(&self) -> (u32, u8, bool, RowKind) {
        (self.key, self.delay, self.negative, self.kind)
    }
}

/// One programmed node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Row index in the tile.
    pub row: u16,
    /// Column index in the tile.
    pub col: u16,
    /// Conductance level, 0..arch.nonvolatile.levels (for STDP rows: the
    /// initial level).
    pub level: u16,
}

/// One router's multicast table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouterConfig {
    /// Column of the grid.
    pub x: u16,
    /// Row of the grid.
    pub y: u16,
    /// Entries, matched in order: the first whose `key & mask == value` wins.
    pub entries: Vec<RouteEntry>,
}

/// Output directions of a route entry, as bits (aliases of [`crate::Dir`]'s table).
pub mod dir {
    use crate::Dir;
    /// To the tile at x + 1.
    pub const EAST: u8 = Dir::East.bit();
    /// To the tile at y + 1.
    pub const NORTH: u8 = Dir::North.bit();
    /// To the tile at x - 1.
    pub const WEST: u8 = Dir::West.bit();
    /// To the tile at y - 1.
    pub const SOUTH: u8 = Dir::South.bit();
    /// Into this tile's rows.
    pub const LOCAL: u8 = Dir::Local.bit();
}

/// One routing table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEntry {
    /// Key pattern.
    pub value: u32,
    /// Mask: bits that must match.
    pub mask: u32,
    /// Output directions (bits of [`dir`]).
    pub out: u8,
}

/// Where a population's spikes enter or leave the array.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Port {
    /// Population name (as in the source).
    pub name: String,
    /// First key.
    pub key_base: u32,
    /// Number of channels.
    pub size: u32,
    /// What the port is.
    pub kind: PortKind,
    /// Router where its spikes are injected (inputs and generators).
    pub x: u16,
    /// Router where its spikes are injected (inputs and generators).
    pub y: u16,
}

/// Kinds of port.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PortKind {
    /// Stimulus spikes enter here.
    Input,
    /// An on-chip generator drives these keys.
    Generator(Generator),
    /// Spikes of these keys (neurons) are recorded.
    Output,
}

/// Debug info for one population.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Symbol {
    /// Population name.
    pub name: String,
    /// First key.
    pub key_base: u32,
    /// Number of neurons or channels.
    pub size: u32,
    /// `input`, `poisson`, `regular`, `lif` or `if`.
    pub kind: String,
}
