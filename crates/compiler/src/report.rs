//! Stage 6: the compile report (JSON via serde, and a human summary).
//! Every key is documented in docs/compiler.md.

use crate::place::PlaceStats;
use crate::quantize::QuantReport;
use crate::route::RouteIteration;
use serde::Serialize;
use std::fmt;

/// What the compiler did and how good it is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Network name.
    pub network: String,
    /// Architecture name.
    pub arch: String,
    /// Architecture hash (hex), as in the bitstream.
    pub arch_hash: String,
    /// Placement seed.
    pub seed: u64,
    /// Neuron circuits used.
    pub neurons: u64,
    /// Synapses (programmed nodes).
    pub synapses: u64,
    /// Keys (all populations).
    pub keys: u32,
    /// Tiles programmed.
    pub tiles_used: u32,
    /// Tiles of the grid.
    pub tiles_available: u32,
    /// Rows used, all tiles.
    pub rows_used: u64,
    /// Nodes left volatile (volatile and STDP synapses).
    pub nodes_volatile: u64,
    /// Nodes formed non-volatile.
    pub nodes_nonvolatile: u64,
    /// Sum over source keys of distinct destination tiles.
    pub fanout_total: u64,
    /// Most destination tiles of one key.
    pub fanout_max: u32,
    /// Largest absolute quantization error, real units.
    pub quantization_max_error: f64,
    /// Largest relative quantization error.
    pub quantization_max_rel_error: f64,
    /// Per-projection quantization.
    pub quantization: QuantReport,
    /// Placement cost (weighted bounding-box half-perimeter) at the start.
    pub placement_cost_initial: i64,
    /// Placement cost at the end.
    pub placement_cost_final: i64,
    /// Cost of a seeded random placement.
    pub placement_cost_random: i64,
    /// Lower bound on the placement cost.
    pub placement_cost_lower_bound: i64,
    /// Annealer statistics.
    pub placement: PlaceStats,
    /// PathFinder iterations (1 = the dimension-ordered baseline sufficed).
    pub route_iterations: u32,
    /// Per routing iteration.
    pub route_history: Vec<RouteIteration>,
    /// Links used, summed over all multicast trees.
    pub total_hops: u64,
    /// Longest path from a source to one of its tiles, hops.
    pub max_hops: u32,
    /// Most trees crossing one directed link.
    pub max_link_load: u32,
    /// Histogram of used-link loads: `[load, links]` pairs, ascending.
    pub link_load_histogram: Vec<(u32, u64)>,
    /// Largest compressed routing table.
    pub max_table_entries: u32,
    /// Entries a router holds (`router.table_entries`).
    pub table_entries_limit: u32,
    /// Compressed entries, all routers.
    pub table_entries_total: u64,
    /// Entries before compression, all routers.
    pub table_entries_uncompressed: u64,
    /// Longest path in cycles: `max_hops * timing.hop_cycles`.
    pub max_latency_cycles: u64,
    /// Per programmed tile, sorted by (y, x).
    pub tiles: Vec<TileReport>,
    /// Per router with at least one entry, sorted by (y, x).
    pub routers: Vec<RouterReport>,
    /// Warnings (quantization).
    pub warnings: Vec<String>,
    /// Wall-clock times: in the printed summary, left out of the JSON so
    /// that identical runs write identical reports.
    #[serde(skip)]
    pub timings: Timings,
}

/// One programmed tile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TileReport {
    /// Grid column.
    pub x: u16,
    /// Grid row.
    pub y: u16,
    /// Neuron columns used.
    pub neurons: u32,
    /// Rows used.
    pub rows: u32,
    /// Volatile nodes (volatile and STDP synapses).
    pub nodes_volatile: u32,
    /// Non-volatile nodes.
    pub nodes_nonvolatile: u32,
    /// Entries of this tile's router.
    pub table_entries: u32,
}

/// One router's table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RouterReport {
    /// Grid column.
    pub x: u16,
    /// Grid row.
    pub y: u16,
    /// Entries after compression.
    pub entries: u32,
    /// Entries before compression (trees through the router).
    pub uncompressed: u32,
}

/// Wall-clock milliseconds per stage.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Quantization.
    pub quantize_ms: f64,
    /// Netlist and partition.
    pub partition_ms: f64,
    /// Placement.
    pub place_ms: f64,
    /// Annealer moves per second.
    pub place_moves_per_s: f64,
    /// Routing.
    pub route_ms: f64,
    /// Bitstream generation.
    pub bitgen_ms: f64,
    /// Whole compile.
    pub total_ms: f64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "compiled `{}` for `{}` (seed {})", self.network, self.arch, self.seed)?;
        writeln!(
            f,
            "  resources : {} neurons, {} synapses ({} volatile, {} non-volatile nodes), {} rows",
            self.neurons, self.synapses, self.nodes_volatile, self.nodes_nonvolatile, self.rows_used
        )?;
        writeln!(f, "  tiles     : {} of {} used", self.tiles_used, self.tiles_available)?;
        writeln!(
            f,
            "  quantize  : {} levels, max error {:.6} (relative {:.2}%)",
            self.quantization.levels,
            self.quantization_max_error,
            100.0 * self.quantization_max_rel_error
        )?;
        writeln!(
            f,
            "  fan-out   : {} destination tiles in total, at most {} per key",
            self.fanout_total, self.fanout_max
        )?;
        writeln!(
            f,
            "  placement : cost {} -> {} (random {}, lower bound {}), {} moves, {:.1}% accepted",
            self.placement_cost_initial,
            self.placement_cost_final,
            self.placement_cost_random,
            self.placement_cost_lower_bound,
            self.placement.moves,
            100.0 * self.placement.acceptance
        )?;
        writeln!(
            f,
            "  routing   : {} iteration(s), {} hops (max {} per path), max link load {}, table entries max {} of {} ({} compressed from {})",
            self.route_iterations,
            self.total_hops,
            self.max_hops,
            self.max_link_load,
            self.max_table_entries,
            self.table_entries_limit,
            self.table_entries_total,
            self.table_entries_uncompressed
        )?;
        // A few warnings say what is wrong; the report holds them all.
        const SHOWN: usize = 5;
        for w in self.warnings.iter().take(SHOWN) {
            writeln!(f, "  warning   : {w}")?;
        }
        if self.warnings.len() > SHOWN {
            writeln!(f, "  warning   : ... and {} more (all in the JSON report)", self.warnings.len() - SHOWN)?;
        }
        write!(f, "  time      : {:.1} ms", self.timings.total_ms)
    }
}
