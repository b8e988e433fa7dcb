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
mod partition;
mod place;
mod quantize;
mod recover;
mod report;
mod route;

pub use check::check_placement;
pub use place::PlaceStats;
pub use quantize::{ProjQuant, QuantReport};
pub use recover::{RecoverError, recover};
pub use report::{Report, RouterReport, TileReport, Timings};
pub use route::RouteIteration;

use fpnna_arch::Arch;
use fpnna_bitstream::{Bitstream, RowKind};
use fpnna_ir::{Network, VerifyError};
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
    net.verify().map_err(CompileError::InvalidNetwork)?;
    arch.validate(&format!("<arch {}>", arch.name)).map_err(|e| CompileError::InvalidArch(e.to_string()))?;
    Ok(quantize::quantize(net, arch))
}

/// Compiles `net` for `arch`: quantize, partition, place (seeded by
/// `seed`), route, bitgen. `progress` is told each stage as it starts.
pub fn compile(
    net: &Network,
    arch: &Arch,
    seed: u64,
    progress: Option<&dyn Fn(&str)>,
) -> Result<Compiled, CompileError> {
    let say = |s: &str| {
        if let Some(p) = progress {
            p(s)
        }
    };
    let t0 = Instant::now();
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    let mut timings = Timings::default();

    say("quantize");
    let t = Instant::now();
    let (q, qr) = quantize(net, arch)?;
    timings.quantize_ms = ms(t);

    say("partition");
    let t = Instant::now();
    let scales: Vec<i32> = qr.projections.iter().map(|p| p.scale).collect();
    let nl = partition::netlist(&q, arch, &scales)?;
    let part = partition::partition(&nl, arch)?;
    // Ports: input and generator populations, in id order.
    let (offsets, _) = q.offsets();
    let mut port_of_key = vec![u32::MAX; nl.key_count as usize];
    let mut ports = 0u32;
    for (id, p) in q.pops() {
        if partition::is_port_source(&p.kind) {
            let o = offsets[id.0 as usize];
            port_of_key[o as usize..(o + p.size) as usize].fill(ports);
            ports += 1;
        }
    }
    let mut cluster_of_key = vec![u32::MAX; nl.key_count as usize];
    for (c, r) in part.members.iter().enumerate() {
        for &k in &nl.neurons[r.clone()] {
            cluster_of_key[k as usize] = c as u32;
        }
    }
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(part.rows.iter().map(Vec::len).sum());
    for (c, rows) in part.rows.iter().enumerate() {
        for &r in rows {
            pairs.push((partition::unpack(r).0, c as u32));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let src_of = |k: u32| {
        if port_of_key[k as usize] != u32::MAX {
            place::PORT | port_of_key[k as usize]
        } else {
            cluster_of_key[k as usize]
        }
    };
    let nets = place::Nets::new(&pairs, src_of);
    drop(pairs);
    timings.partition_ms = ms(t);

    say("place");
    let t = Instant::now();
    let (w, h) = (arch.grid.width, arch.grid.height);
    let (pl, ps) = place::place(&nets, part.members.len(), ports as usize, w, h, seed);
    timings.place_ms = ms(t);
    timings.place_moves_per_s = if timings.place_ms > 0.0 { ps.moves as f64 / timings.place_ms * 1000.0 } else { 0.0 };

    say("route");
    let t = Instant::now();
    let router = |(x, y): (u16, u16)| u32::from(y) * u32::from(w) + u32::from(x);
    let dest_routers: Vec<Vec<u32>> = (0..nets.len())
        .map(|i| {
            let mut d: Vec<u32> = nets.d(i).iter().map(|&c| router(pl.pos[c as usize])).collect();
            d.sort_unstable();
            d
        })
        .collect();
    let rnets: Vec<route::Net> = (0..nets.len())
        .map(|i| {
            let s = nets.src[i];
            let at = if s & place::PORT != 0 { pl.port_pos[(s & !place::PORT) as usize] } else { pl.pos[s as usize] };
            route::Net { key: nets.key[i], src: router(at), dests: &dest_routers[i] }
        })
        .collect();
    // Keys that are injected somewhere but go nowhere.
    let mut idle = Vec::new();
    let mut has_net = vec![false; nl.key_count as usize];
    nets.key.iter().for_each(|&k| has_net[k as usize] = true);
    for k in 0..nl.key_count {
        let at = if port_of_key[k as usize] != u32::MAX {
            pl.port_pos[port_of_key[k as usize] as usize]
        } else if cluster_of_key[k as usize] != u32::MAX {
            pl.pos[cluster_of_key[k as usize] as usize]
        } else {
            continue;
        };
        if !has_net[k as usize] {
            idle.push((router(at), k));
        }
    }
    let routed = route::route(&rnets, &idle, w, h, arch.router.table_entries)?;
    timings.route_ms = ms(t);

    say("bitgen");
    let t = Instant::now();
    let bitstream = bitgen::bitgen(&q, arch, &nl, &part, &pl, &scales, &routed.tables);
    timings.bitgen_ms = ms(t);

    let mut tiles = Vec::with_capacity(bitstream.tiles.len());
    let (mut nv, mut vol, mut rows_used) = (0u64, 0u64, 0u64);
    for tile in &bitstream.tiles {
        let (mut tv, mut tn) = (0u32, 0u32);
        for n in &tile.nodes {
            if tile.rows[usize::from(n.row)].kind == RowKind::NonVolatile {
                tn += 1;
            } else {
                tv += 1;
            }
        }
        nv += u64::from(tn);
        vol += u64::from(tv);
        rows_used += tile.rows.len() as u64;
        tiles.push(TileReport {
            x: tile.x,
            y: tile.y,
            neurons: tile.columns.len() as u32,
            rows: tile.rows.len() as u32,
            nodes_volatile: tv,
            nodes_nonvolatile: tn,
            table_entries: routed.tables[router((tile.x, tile.y)) as usize].len() as u32,
        });
    }
    let mut hist = std::collections::BTreeMap::new();
    for &l in routed.link_load.iter().filter(|&&l| l > 0) {
        *hist.entry(l).or_insert(0u64) += 1;
    }
    timings.total_ms = ms(t0);
    let report = Report {
        network: net.name.clone(),
        arch: arch.name.clone(),
        arch_hash: format!("{:016x}", arch.hash()),
        seed,
        neurons: nl.neurons.len() as u64,
        synapses: nl.incoming.len() as u64,
        keys: nl.key_count,
        tiles_used: part.members.len() as u32,
        tiles_available: arch.tiles(),
        rows_used,
        nodes_volatile: vol,
        nodes_nonvolatile: nv,
        fanout_total: nets.dests.len() as u64,
        fanout_max: (0..nets.len()).map(|i| nets.d(i).len() as u32).max().unwrap_or(0),
        quantization_max_error: qr.max_abs_error,
        quantization_max_rel_error: qr.max_rel_error,
        warnings: qr.warnings.clone(),
        quantization: qr,
        placement_cost_initial: ps.cost_initial,
        placement_cost_final: ps.cost_final,
        placement_cost_random: ps.cost_random,
        placement_cost_lower_bound: ps.cost_lower_bound,
        placement: ps,
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
                x: (r % usize::from(w)) as u16,
                y: (r / usize::from(w)) as u16,
                entries: t.len() as u32,
                uncompressed: routed.uncompressed[r],
            })
            .collect(),
        timings,
    };
    Ok(Compiled { bitstream, report, quantized: q })
}
