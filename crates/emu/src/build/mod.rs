//! Configuring the array from a bitstream: every node programmed under the
//! device non-idealities (`program`), the sources of keys (`sources`), the
//! routers' tables indexed for lookups (`table`), every source's multicast
//! tree traced through them once (`trace`), and what each source's packet
//! delivers to the tiles it reaches (`deliver`; with rows read when sent,
//! as send streams: `send`). Validation has checked every rule of the
//! configuration; what is left to refuse is in the options.

mod deliver;
mod program;
mod send;
mod sources;
mod table;
mod trace;

use crate::bank::Bank;
use crate::names::SymbolIndex;
use crate::net::{NONE, Net};
use crate::stats::ConfigStats;
use crate::tile::{Arrival, RING, RowInfo, Tile};
use crate::{DeviceFigures, EmuError, EmuOptions, RouteFault, resolve_devices};
use fpnna_arch::Arch;
use fpnna_bitstream::{Bitstream, Grid, Port, RouteEntry, Symbol, Xy};
use fpnna_model::{self as m, Generator, NeuronState};
use std::collections::BTreeMap;

pub(crate) use deliver::Delivery;
pub(crate) use send::{QueuedRow, SentRows, send_groups};
pub(crate) use sources::SrcKind;

/// A configured array.
pub(crate) struct Built {
    pub arch: Arch,
    pub dev: DeviceFigures,
    pub seed: u64,
    /// Timestep, ms.
    pub dt_ms: f64,
    pub ports: Vec<Port>,
    pub symbols: Vec<Symbol>,
    /// Key -> symbol, for naming spikes.
    pub names: SymbolIndex,
    pub src: SrcTable,
    pub tiles: Vec<Tile>,
    /// Every tile's neuron columns.
    pub bank: Bank,
    /// Deliveries of source s: deliver[deliver_start[s]..deliver_start[s + 1]].
    pub deliver_start: Vec<u32>,
    pub deliver: Vec<Delivery>,
    pub deliver_rows: Vec<RowInfo>,
    /// Nodes (column, weight) of deliver_rows[i], when it is non-volatile and
    /// its tile reads directly: deliver_nodes[deliver_node_start[i]..deliver_node_start[i + 1]].
    pub deliver_node_start: Vec<u32>,
    pub deliver_nodes: Vec<(u32, i32)>,
    pub ring: ArrivalRing,
    /// Non-volatile rows are read when their spike is sent, into the
    /// input slot of their due step (`Bank::input`): their reads are exact
    /// (no noise) and a sum does not depend on its order.
    pub pre: bool,
    pub streams: SendStreams,
    pub pre_slots: PreSlots,
    pub net: Net,
    pub faults: Vec<RouteFault>,
    pub config: ConfigStats,
    /// On a chip: the non-volatile crosspoints configuring wrote and
    /// formed, per tile (`ChipState::apply` records them).
    pub chip_writes: Vec<fpnna_arch::TileWrites>,
    pub clock: Clock,
    /// The slowest tile's neuron update, cycles.
    pub max_update_cycles: u64,
    /// Identity of the configuration's structure (for saved states).
    pub fingerprint: u64,
}

/// The sources, sorted by key.
pub(crate) struct SrcTable {
    pub key: Vec<u32>,
    pub kind: Vec<SrcKind>,
    pub recorded: Vec<bool>,
    /// (source, channel, generator) of every generator channel.
    pub gens: Vec<(u32, u32, Generator)>,
}

/// With `Built::pre`, what a spike of source s sends:
/// send[send_start[s]..send_start[s + 1]], one `SendGroup` per delay
/// of its rows read when sent (their per-tile counts and their nodes,
/// side by side: one stream per spike), and
/// queued[queued_start[s]..queued_start[s + 1]], its rows read when due.
/// (`Built::deliver` is then empty: only queued rows are in `deliver_rows`.)
pub(crate) struct SendStreams {
    pub send_start: Vec<u32>,
    pub send: Vec<u32>,
    pub queued_start: Vec<u32>,
    pub queued: Vec<QueuedRow>,
    /// Synaptic events a spike of each source causes.
    pub sent_nodes: Vec<u64>,
}

/// Rows read when sent, by the step they are due at.
pub(crate) struct PreSlots {
    /// Rows and nodes of such reads due at each step (by step % RING) in
    /// each tile: count[slot * tiles + tile]; the tiles with some are
    /// touched[slot * (tiles + 1)..][..touched_len[slot]] (a fixed
    /// place per slot, so that a tile is noted without a branch).
    pub count: Vec<(u32, u32)>,
    pub touched: Vec<u32>,
    pub touched_len: Vec<usize>,
    /// Sources that spiked at each of the last RING steps (by step % RING),
    /// from which a saved state lists the rows still pending.
    pub sent: Vec<Vec<u32>>,
}

/// The arrival ring: rows due at the next RING steps.
pub(crate) struct ArrivalRing {
    /// Rows due at each step, by step % RING, in queue order: (tile, row).
    pub slots: Vec<Vec<(u32, Arrival)>>,
    /// One step's arrivals grouped by tile (see `Ctx`).
    pub due: Vec<Arrival>,
    pub due_start: Vec<u32>,
}

impl ArrivalRing {
    /// Queues row `a` of tile `tile`, due at step `due`.
    #[inline(always)]
    pub fn push(&mut self, due: u64, tile: u32, a: Arrival) {
        self.slots[(due % RING) as usize].push((tile, a));
    }

    /// The rows queued for step `due` (within RING steps from now).
    pub fn at(&self, due: u64) -> &[(u32, Arrival)] {
        &self.slots[(due % RING) as usize]
    }

    /// Whether tile `ti` has rows due in the step grouped last.
    #[inline(always)]
    pub fn has_due(&self, ti: usize) -> bool {
        !self.due.is_empty() && self.due_start[ti] < self.due_start[ti + 1]
    }
}

/// Where the array is in time.
pub(crate) struct Clock {
    /// Next step to run.
    pub now: u64,
    /// Cycles run so far.
    pub cycle: u64,
}

/// Configures the array (`content_hash`: the configuration's identity, for
/// the fingerprint).
pub(crate) fn build(bs: &Bitstream, content_hash: u64, opts: &EmuOptions) -> Result<Built, EmuError> {
    let arch = &bs.arch;
    let dev = resolve_devices(arch, opts)?;
    let key_count = bs.global.key_count;
    let grid = Grid::of(arch);
    let routers: BTreeMap<Xy, &[RouteEntry]> =
        bs.routers.iter().map(|r| (Xy { x: r.x, y: r.y }, &r.entries[..])).collect();
    if let Some(chip) = &opts.chip {
        chip.check(arch).map_err(|e| EmuError::State(format!("chip state: {e}")))?;
        program::refuse_volatile_on_formed(chip, &bs.tiles)?;
    }
    let faults = program::Faults::new(&dev, opts.seed, opts.chip.as_ref());
    let program::Programmed { tiles, mut bank, config, writes } =
        program::program(arch, &bs.tiles, &routers, &dev, opts.seed, &faults);
    let sources = sources::Sources::new(&tiles, &bs.ports, &mut bank);

    // Multicast trees, and what each delivers.
    let mut tile_index = vec![NONE; grid.cells()];
    for (ti, t) in tiles.iter().enumerate() {
        tile_index[grid.index(t.at.x, t.at.y)] = ti as u32;
    }
    let routes = table::Routes::new(&routers, grid, key_count);
    let mut tracer = trace::Tracer::new(grid, routes, &tile_index, sources.key.len());
    let (pre, slots) = deliver::read_when_sent(&tiles, bank.len(), &dev);
    let mut d = deliver::Deliveries::new(&tiles, pre, sources.key.len());
    let mut locals = Vec::new();
    for (si, (&key, &at)) in sources.key.iter().zip(&sources.inject_at).enumerate() {
        tracer.trace(si, key, at, &mut locals);
        for &ti in &locals {
            d.tile(&tiles, ti, key);
        }
        d.end_source();
    }
    let trace::Tracer { links, tree_start, tree, inject, n_inject, mut faults, .. } = tracer;
    d.undelivered(&tiles, &sources.key, &mut faults);
    let net = Net::new(links, tree_start, tree, inject, n_inject as usize, arch);

    let fingerprint = fingerprint(arch, key_count, &tiles, content_hash);
    let max_update_cycles = tiles.iter().map(|t| t.update_cycles).max().unwrap_or(0);
    bank.set_slots(slots);
    let n_tiles = tiles.len();
    Ok(Built {
        arch: arch.clone(),
        dev,
        seed: opts.seed,
        dt_ms: bs.global.dt_ms,
        ports: bs.ports.clone(),
        symbols: bs.symbols.clone(),
        names: SymbolIndex::new(&bs.symbols),
        src: SrcTable { key: sources.key, kind: sources.kind, recorded: sources.recorded, gens: sources.gens },
        tiles,
        bank,
        deliver_start: d.deliver_start,
        deliver: d.deliver,
        deliver_rows: d.deliver_rows,
        deliver_node_start: d.deliver_node_start,
        deliver_nodes: d.deliver_nodes,
        ring: ArrivalRing { slots: vec![Vec::new(); RING as usize], due: Vec::new(), due_start: vec![0; n_tiles + 1] },
        pre,
        streams: SendStreams {
            send_start: d.send_start,
            send: d.send,
            queued_start: d.queued_start,
            queued: d.queued,
            sent_nodes: d.sent_nodes,
        },
        pre_slots: PreSlots {
            count: vec![(0, 0); RING as usize * n_tiles],
            touched: vec![0; RING as usize * (n_tiles + 1)],
            touched_len: vec![0; RING as usize],
            sent: vec![Vec::new(); RING as usize],
        },
        net,
        faults: faults.into_iter().collect(),
        config,
        chip_writes: writes,
        clock: Clock { now: 0, cycle: 0 },
        max_update_cycles,
        fingerprint,
    })
}

/// Identity of the whole configuration (the architecture, the keys, each
/// tile's place, columns, rows and nodes, and the content of every field:
/// an edited threshold or level too), which a saved state must match.
fn fingerprint(arch: &Arch, key_count: u32, tiles: &[Tile], content_hash: u64) -> u64 {
    let mut fp = m::hash3(arch.hash(), u64::from(key_count), tiles.len() as u64);
    fp = m::hash3(fp, content_hash, 0);
    for t in tiles {
        fp = m::hash3(fp, u64::from(t.at.x) << 16 | u64::from(t.at.y), t.col_key.len() as u64);
        fp = m::hash3(fp, t.row_delay.len() as u64, t.node_w.len() as u64);
    }
    fp
}

impl Built {
    /// Index of the source of `key`.
    pub fn source(&self, key: u32) -> Option<usize> {
        self.src.key.binary_search(&key).ok()
    }

    /// Name and index of a key, from the symbols.
    pub fn name_of(&self, key: u32) -> Option<(&str, u32)> {
        let s = &self.symbols[self.names.lookup(key)?];
        Some((s.name.as_str(), key - s.key_base))
    }

    /// (tile, column) of neuron `key`.
    pub fn locate(&self, key: u32) -> Option<(usize, usize)> {
        match self.src.kind[self.source(key)?] {
            SrcKind::Column { tile, col } => Some((tile as usize, usize::from(col))),
            _ => None,
        }
    }

    pub fn neuron_state(&self, key: u32) -> Option<NeuronState> {
        let (t, c) = self.locate(key)?;
        Some(self.bank.state(self.tiles[t].col_lo as usize + c))
    }

    pub fn volatile_conductance_ns(&self, key: u32, step: u64) -> Option<f64> {
        let (t, c) = self.locate(key)?;
        let (sum, n) = self.tiles[t].volatile_x_sum(c, step)?;
        let v = &self.arch.volatile;
        Some(n as f64 * v.g0_ns + (sum as f64 / f64::from(m::ONE)) * (v.gsat_ns - v.g0_ns))
    }
}
