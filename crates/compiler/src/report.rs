//! Stage 6: the compile report (JSON via serde, and a human summary).
//! Every key is documented in docs/compiler.md.

use crate::chipmap::TileMapReport;
use crate::partition::Partition;
use crate::place::{PlaceStats, Placement};
use crate::quantize::{QuantReport, Quantized};
use crate::route::{RouteIteration, Routing};
use fpnna_arch::Arch;
use fpnna_bitstream::{Bitstream, RowKind};
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
    /// How the configuration maps around a chip's defects and history
    /// (`compile --device`); absent for a perfect array.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip: Option<ChipReport>,
    /// Wall-clock times: in the printed summary, left out of the JSON so
    /// that identical runs write identical reports.
    #[serde(skip)]
    pub timings: Timings,
}

/// The mapping onto one chip (docs/chip.md, "Compiling for a chip").
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChipReport {
    /// Crosspoints that would conduct a wrong weight under the blind
    /// mapping (rows and columns on lines 0, 1, ... of the same tiles).
    pub defects_avoided: u64,
    /// Stuck devices on crosspoints in use, where they are harmless.
    pub defects_in_use: u64,
    /// Row lines tried that no row fitted.
    pub lines_lost: u64,
    /// Non-volatile nodes on virgin crosspoints.
    pub nodes_formed: u64,
    /// Non-volatile nodes on crosspoints formed before.
    pub nodes_reused: u64,
    /// The smallest share of usable row lines of a tile.
    pub usable_share_min: f64,
    /// Partitions tried (each packing fewer rows per tile).
    pub packings: u32,
    /// Share of the expected usable rows the final packing filled.
    pub fill: f64,
    /// Per programmed tile, sorted by (y, x).
    pub tiles: Vec<TileMapReport>,
}

impl ChipReport {
    /// The totals of `tiles`.
    pub(crate) fn new(mut tiles: Vec<TileMapReport>, packings: u32, fill: f64) -> ChipReport {
        tiles.sort_by_key(|t| (t.y, t.x));
        let sum = |f: fn(&TileMapReport) -> u32| tiles.iter().map(|t| u64::from(f(t))).sum::<u64>();
        ChipReport {
            defects_avoided: sum(|t| t.defects_avoided),
            defects_in_use: sum(|t| t.defects_in_use),
            lines_lost: sum(|t| t.lines_lost),
            nodes_formed: sum(|t| t.nodes_formed),
            nodes_reused: sum(|t| t.nodes_reused),
            usable_share_min: tiles.iter().map(|t| t.usable_share).fold(1.0, f64::min),
            packings,
            fill,
            tiles,
        }
    }
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
    /// Mapping onto a chip (`compile --device`).
    pub map_ms: f64,
    /// Whole compile.
    pub total_ms: f64,
}

/// What the report is built from: the products of every stage.
pub(crate) struct Products<'a> {
    /// Stage 1.
    pub quantized: &'a Quantized,
    /// Stage 2.
    pub partition: &'a Partition,
    /// Stage 3.
    pub placement: &'a Placement,
    /// Stage 4.
    pub routing: &'a Routing,
    /// Stage 5.
    pub bitstream: &'a Bitstream,
}

impl Report {
    /// The report of a compile of network `network` for `arch` with `seed`.
    pub(crate) fn new(network: &str, arch: &Arch, seed: u64, p: &Products, timings: Timings) -> Report {
        let (qr, part, ps, routed) = (&p.quantized.report, p.partition, &p.placement.stats, p.routing);
        let nets = &part.nets;
        let tiles = tile_reports(p.bitstream, routed);
        let mut hist = std::collections::BTreeMap::new();
        for &l in routed.link_load.iter().filter(|&&l| l > 0) {
            *hist.entry(l).or_insert(0u64) += 1;
        }
        Report {
            network: network.to_string(),
            arch: arch.name.clone(),
            arch_hash: format!("{:016x}", arch.hash()),
            seed,
            neurons: part.netlist.neurons.len() as u64,
            synapses: part.netlist.incoming.len() as u64,
            keys: part.netlist.key_count,
            tiles_used: part.clusters.len() as u32,
            tiles_available: arch.tiles(),
            rows_used: tiles.iter().map(|t| u64::from(t.rows)).sum(),
            nodes_volatile: tiles.iter().map(|t| u64::from(t.nodes_volatile)).sum(),
            nodes_nonvolatile: tiles.iter().map(|t| u64::from(t.nodes_nonvolatile)).sum(),
            fanout_total: nets.dests.len() as u64,
            fanout_max: (0..nets.len()).map(|i| nets.d(i).len() as u32).max().unwrap_or(0),
            quantization_max_error: qr.max_abs_error,
            quantization_max_rel_error: qr.max_rel_error,
            warnings: qr.warnings.clone(),
            chip: None,
            quantization: qr.clone(),
            placement_cost_initial: ps.cost_initial,
            placement_cost_final: ps.cost_final,
            placement_cost_random: ps.cost_random,
            placement_cost_lower_bound: ps.cost_lower_bound,
            placement: ps.clone(),
            route_iterations: routed.iterations.len() as u32,
            route_history: routed.iterations.clone(),
            total_hops: routed.total_hops,
            max_hops: routed.max_hops,
            max_link_load: routed.link_load.iter().copied().max().unwrap_or(0),
            link_load_histogram: hist.into_iter().collect(),
            max_table_entries: routed.tables.iter().map(|t| t.len() as u32).max().unwrap_or(0),
            table_entries_limit: arch.router.table_entries,
            table_entries_total: routed.tables.iter().map(|t| t.len() as u64).sum(),
            table_entries_uncompressed: routed.uncompressed.iter().map(|&u| u64::from(u)).sum(),
            max_latency_cycles: u64::from(routed.max_hops) * u64::from(arch.timing.hop_cycles),
            tiles,
            routers: routed
                .tables
                .iter()
                .enumerate()
                .filter(|(_, t)| !t.is_empty())
                .map(|(r, t)| RouterReport {
                    x: routed.grid.xy(r).x,
                    y: routed.grid.xy(r).y,
                    entries: t.len() as u32,
                    uncompressed: routed.uncompressed[r],
                })
                .collect(),
            timings,
        }
    }
}

/// One report per programmed tile, in bitstream order.
fn tile_reports(bitstream: &Bitstream, routed: &Routing) -> Vec<TileReport> {
    bitstream
        .tiles
        .iter()
        .map(|tile| {
            let nonvolatile =
                tile.nodes.iter().filter(|n| tile.rows[usize::from(n.row)].kind == RowKind::NonVolatile).count() as u32;
            TileReport {
                x: tile.x,
                y: tile.y,
                neurons: tile.columns.len() as u32,
                rows: tile.rows.len() as u32,
                nodes_volatile: tile.nodes.len() as u32 - nonvolatile,
                nodes_nonvolatile: nonvolatile,
                table_entries: routed.tables[routed.grid.index(tile.x, tile.y)].len() as u32,
            }
        })
        .collect()
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
            "  quantize  : {} levels, max error {:.6}, RMS error {:.2}% of the weights, {} non-zero weight(s) \
             rounded to level 0",
            self.quantization.levels,
            self.quantization_max_error,
            100.0 * self.quantization.rms_rel_error,
            self.quantization.zeroed
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
        if let Some(c) = &self.chip {
            writeln!(
                f,
                "  chip      : {} defect(s) avoided, {} harmless in use, {} row line(s) lost, {} node(s) formed, {} reused, \
                 usable rows {:.1}% at worst ({} packing(s), fill {:.0}%)",
                c.defects_avoided,
                c.defects_in_use,
                c.lines_lost,
                c.nodes_formed,
                c.nodes_reused,
                100.0 * c.usable_share_min,
                c.packings,
                100.0 * c.fill
            )?;
        }
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
