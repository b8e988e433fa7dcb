//! The fpnna compiler: network IR + architecture -> bitstream + report.
//!
//! Stages, one module each: [`quantize`](crate::quantize()) weights to
//! device levels, `partition` neurons into tiles, `place` tiles on the grid
//! (simulated annealing), `route` a multicast tree per source key and
//! compress the tables, `bitgen` the [`Bitstream`], and a [`Report`].
//! [`check_placement`] verifies a bitstream independently of all of them.
//! docs/compiler.md documents the algorithms, the report keys and the
//! error messages. Same network, architecture and seed give the same
//! bitstream and report (timings aside).

mod bitgen;
mod check;
mod chipmap;
mod dump;
mod nets;
mod onchip;
mod partition;
mod place;
mod quantize;
mod recover;
mod report;
mod route;

pub use check::check_placement;
pub use chipmap::TileMapReport;
pub use place::PlaceStats;
pub use quantize::{ProjQuant, QuantReport};
pub use recover::{NodeWeights, RecoverError, recover, recover_with};
pub use report::{ChipReport, Report, RouterReport, TileReport, Timings};
pub use route::RouteIteration;

use fpnna_arch::{Arch, ChipState};
use fpnna_bitstream::Bitstream;
use fpnna_ir::{Network, VerifyError};
use partition::Capacity;
use quantize::Quantized;
use report::Products;
use std::time::Instant;

/// Why a network cannot be compiled for an architecture.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompileError {
    /// The IR is malformed (a bug in whatever produced it).
    #[error("invalid network: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    InvalidNetwork(Vec<VerifyError>),
    /// A projection's delay exceeds what a row table entry can hold.
    #[error(
        "projection `{proj}`: delay {delay} exceeds the tile's max_delay {max}; shorten the delay or use an architecture with tile.max_delay >= {delay}"
    )]
    DelayTooLong {
        /// Projection name.
        proj: String,
        /// Its longest delay.
        delay: u8,
        /// `arch.tile.max_delay`.
        max: u8,
    },
    /// A neuron's refractory period exceeds what the neuron circuit counts.
    #[error(
        "population `{pop}`: refractory period {refractory} exceeds the neuron circuit's max_refractory {max}; shorten it or use an architecture with neuron.max_refractory >= {refractory}"
    )]
    RefractoryTooLong {
        /// Population name.
        pop: String,
        /// Its longest refractory period, steps.
        refractory: u16,
        /// `arch.neuron.max_refractory`.
        max: u16,
    },
    /// A neuron parameter does not fit the neuron circuit's registers.
    #[error(
        "population `{pop}`: {what} {value} does not fit the neuron circuit's {bits}-bit registers (|x| < {limit}); scale the network down or use an architecture with a wider neuron.state_bits"
    )]
    TooWide {
        /// Population name.
        pop: String,
        /// Which parameter.
        what: &'static str,
        /// Its value (real units).
        value: f64,
        /// `arch.neuron.state_bits`.
        bits: u8,
        /// The largest magnitude, real units.
        limit: f64,
    },
    /// A projection needs a node mode the tiles do not offer.
    #[error(
        "projection `{proj}` is {kind} and needs {mode} nodes, but this architecture's tiles have none; enable tile.{mode}_nodes or change the synapse kind"
    )]
    NodeMode {
        /// Projection name.
        proj: String,
        /// Synapse kind label.
        kind: &'static str,
        /// `volatile` or `nonvolatile`.
        mode: &'static str,
    },
    /// One neuron's fan-in alone needs more rows than a tile has.
    #[error(
        "neuron {pop}[{index}] needs {rows} rows (one per incoming synapse), {over} more than a tile's {limit}; most come from projection `{proj_rows_name}` ({proj_rows}); reduce its fan-in or use an architecture with tile.rows >= {rows}",
        over = rows - limit,
        proj_rows_name = proj
    )]
    FanInTooLarge {
        /// Population name.
        pop: String,
        /// Index in the population.
        index: u32,
        /// Rows it needs.
        rows: usize,
        /// `arch.tile.rows`.
        limit: usize,
        /// Projection contributing most rows.
        proj: String,
        /// Rows from that projection.
        proj_rows: usize,
    },
    /// The partition needs more tiles than the grid has.
    #[error(
        "{neurons} neurons need {needed} tiles (tiles hold {cols} neurons and {rows} rows) but the grid has {available}; {hint}"
    )]
    TooManyTiles {
        /// Tiles the partition needs.
        needed: usize,
        /// Tiles of the grid.
        available: usize,
        /// Neurons to place.
        neurons: usize,
        /// `arch.tile.cols`.
        cols: usize,
        /// `arch.tile.rows`.
        rows: usize,
        /// What to change.
        hint: &'static str,
    },
    /// Routing tables overflow even after negotiated congestion.
    #[error(
        "routing failed after {iterations} iteration(s): {overused} router(s) need more than {limit} table entries ({overuse} entries too many): {routers}; busiest link {link}; use a larger preset, raise router.table_entries, or try another seed"
    )]
    Unroutable {
        /// Iterations run.
        iterations: u32,
        /// Routers over the limit.
        overused: usize,
        /// Entries beyond the limits, summed.
        overuse: u64,
        /// `arch.router.table_entries`.
        limit: u32,
        /// The worst routers.
        routers: String,
        /// The busiest link.
        link: String,
    },
    /// A tile fits on none of the chip's tiles tried, even packed tighter.
    #[error(
        "on this chip, the tile holding `{pop}`[{index}..] ({neurons} neurons, placed at ({x}, {y})) needs {rows_needed} row lines that are exact on its {cols} columns, and found {rows_placed} (stuck devices or formed crosspoints take the others), after {packings} packing(s), each tighter; use a chip with fewer defects, a larger grid, or fewer synapses per neuron",
        x = at.0,
        y = at.1
    )]
    ChipExhausted {
        /// Population of the tile's first neuron.
        pop: String,
        /// Its index.
        index: u32,
        /// Neurons of the tile.
        neurons: usize,
        /// Where it was placed.
        at: (u16, u16),
        /// Rows it needs.
        rows_needed: usize,
        /// Rows that found an exact line.
        rows_placed: usize,
        /// Its columns.
        cols: usize,
        /// Packings tried.
        packings: u32,
    },
    /// On this chip, the partition needs more tiles than the grid has.
    #[error(
        "on this chip, {pct:.1} % of the crosspoints have a device stuck at G_max, each costing its row line wherever its column holds a neuron: packed around them, the network needs {needed} tiles and the grid has {available}; use a chip with fewer defects or a larger grid",
        pct = 100.0 * p_lost
    )]
    ChipTooManyTiles {
        /// Tiles the partition needs.
        needed: usize,
        /// Tiles of the grid.
        available: usize,
        /// Chance that a crosspoint makes its row line unusable.
        p_lost: f64,
    },
    /// The chip state is of another architecture.
    #[error("chip state: {0}")]
    Chip(String),
    /// The architecture is impossible (an `Arch` built in code, unvalidated).
    #[error("invalid architecture: {0}")]
    InvalidArch(String),
    /// A size beyond what the compiler supports.
    #[error("unsupported network: {0}")]
    Unsupported(String),
}

/// The result of a compile.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The configuration.
    pub bitstream: Bitstream,
    /// What was done and how good it is.
    pub report: Report,
    /// The quantized network: what the hardware computes.
    pub quantized: Network,
}

/// Quantizes every projection of `net` to the levels of `arch` (see
/// docs/compiler.md): the returned network is what the hardware computes.
pub fn quantize(net: &Network, arch: &Arch) -> Result<(Network, QuantReport), CompileError> {
    let q = quantize_checked(net, arch)?;
    Ok((q.net, q.report))
}

/// Stage 1, after checking its inputs: the network and the architecture
/// must be well formed.
fn quantize_checked(net: &Network, arch: &Arch) -> Result<Quantized, CompileError> {
    net.verify().map_err(CompileError::InvalidNetwork)?;
    arch.validate(&format!("<arch {}>", arch.name)).map_err(|e| CompileError::InvalidArch(e.to_string()))?;
    Ok(quantize::quantize(net, arch))
}

/// Compiles `net` for `arch`: quantize, partition, place (seeded by
/// `seed`), route, bitgen. `progress` is told each stage as it starts.
pub fn compile(net: &Network, arch: &Arch, seed: u64, progress: OnProgress<'_>) -> Result<Compiled, CompileError> {
    let t0 = Instant::now();
    let mut timings = Timings::default();
    let Stages { q, part, pl, routing } = stages(net, arch, seed, progress, &mut timings)?;
    let bitstream =
        timed(progress, "bitgen", &mut timings.bitgen_ms, || bitgen::bitgen(&q, arch, &part, &pl, &routing));
    timings.total_ms = ms_since(t0);
    Ok(finish(net, arch, seed, Stages { q, part, pl, routing }, bitstream, timings))
}

/// The result of a compile: the bitstream built from `s`, and the report.
fn finish(net: &Network, arch: &Arch, seed: u64, s: Stages, bitstream: Bitstream, timings: Timings) -> Compiled {
    let products =
        Products { quantized: &s.q, partition: &s.part, placement: &s.pl, routing: &s.routing, bitstream: &bitstream };
    let report = Report::new(&net.name, arch, seed, &products, timings);
    Compiled { bitstream, report, quantized: s.q.net }
}

/// Compiles `net` for one chip of `arch` (docs/chip.md, "Compiling for a
/// chip"): as [`compile`], with every tile mapped around the chip's stuck
/// devices and formed crosspoints, so that the emulator running the
/// bitstream on that chip computes exactly the quantized network.
pub fn compile_for_chip(
    net: &Network,
    arch: &Arch,
    chip: &ChipState,
    seed: u64,
    progress: OnProgress<'_>,
) -> Result<Compiled, CompileError> {
    chip.check(arch).map_err(|e| CompileError::Chip(e.to_string()))?;
    onchip::compile_on_chip(net, arch, chip, seed, progress)
}

/// A readable text dump of what `compile` would partition, place and
/// route (neurons and rows per tile, positions, trees and tables): for the
/// stage tests and for reading a misbehaving stage.
pub fn dump_stages(net: &Network, arch: &Arch, seed: u64) -> Result<String, CompileError> {
    let s = stages(net, arch, seed, None, &mut Timings::default())?;
    Ok(format!("{}\n{}\n{}", s.part.dump(&s.q.net), s.pl.dump(), s.routing.dump(&s.q.net, &s.part)))
}

/// The products of the stages before bitgen.
struct Stages {
    q: Quantized,
    part: partition::Partition,
    pl: place::Placement,
    routing: route::Routing,
}

/// The passes up to a routed design, each timed into `timings`.
fn stages(
    net: &Network,
    arch: &Arch,
    seed: u64,
    progress: OnProgress<'_>,
    timings: &mut Timings,
) -> Result<Stages, CompileError> {
    let (q, part, pl) = placed(net, arch, seed, &Capacity::of(arch), progress, timings)?;
    let routing = timed(progress, "route", &mut timings.route_ms, || route::route(&part, &pl, arch, progress))?;
    Ok(Stages { q, part, pl, routing })
}

/// The passes up to a placed design, tiles holding at most `cap`.
fn placed(
    net: &Network,
    arch: &Arch,
    seed: u64,
    cap: &Capacity,
    progress: OnProgress<'_>,
    timings: &mut Timings,
) -> Result<(Quantized, partition::Partition, place::Placement), CompileError> {
    let q = timed(progress, "quantize", &mut timings.quantize_ms, || quantize_checked(net, arch))?;
    let part = timed(progress, "partition", &mut timings.partition_ms, || partition::partition(&q, arch, cap))?;
    let pl = timed(progress, "place", &mut timings.place_ms, || place::place(&part, arch, seed, progress));
    timings.place_moves_per_s =
        if timings.place_ms > 0.0 { pl.stats.moves as f64 / timings.place_ms * 1000.0 } else { 0.0 };
    Ok((q, part, pl))
}

/// What a compile tells its observer as it goes (the CLI's progress bars).
#[derive(Clone, Copy, Debug)]
pub enum Progress<'a> {
    /// A stage starts.
    Stage(&'a str),
    /// The placer finished a temperature: how many so far, the
    /// temperature and the cost reached.
    Temperature {
        /// 1-based, counted over the whole placement.
        index: u32,
        /// The temperature the next one runs at.
        temperature: f64,
        /// The placement's cost after it.
        cost: i64,
    },
    /// The router finished a PathFinder iteration.
    Route(&'a RouteIteration),
}

/// Where a compile reports [`Progress`], if anywhere.
pub type OnProgress<'a> = Option<&'a dyn Fn(Progress<'_>)>;

/// Runs one stage: tells `progress` its name, and times it into `ms`.
fn timed<T>(progress: OnProgress<'_>, name: &str, ms: &mut f64, run: impl FnOnce() -> T) -> T {
    if let Some(p) = progress {
        p(Progress::Stage(name))
    }
    let t = Instant::now();
    let out = run();
    *ms = ms_since(t);
    out
}

/// Milliseconds since `t`.
fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}
