//! Configuring the array from a bitstream: validation (every refusal names
//! its place), node programming with the device non-idealities, and the
//! tracing of every source's multicast tree through the routing tables.

use crate::bank::Bank;
use crate::net::{Link, NONE, Net, TreeNode};
use crate::noise;
use crate::stats::{ConfigStats, TileActivity};
use crate::tile::{RING, RowInfo, Tile};
use crate::{DeviceFigures, EmuError, EmuOptions, RouteFault, resolve_devices};
use fpnna_arch::Arch;
use fpnna_bitstream::{Bitstream, Dir, Grid, Port, PortKind, RouteEntry, RowKind, Symbol, dir};
use fpnna_model::{self as m, DECAY_ONE, Generator, NeuronState, VolatileParams};
use std::collections::{BTreeMap, BTreeSet};

/// What drives a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SrcKind {
    /// Neuron column `col` of tile `tile` (index into `Built::tiles`).
    Column { tile: u32, col: u16 },
    /// A channel of an input port.
    Input,
    /// A channel of a generator port.
    Generator,
}

/// Rows of tile `tile` that a source's packet selects:
/// `Built::deliver_rows[lo..hi]` (a copy of the descriptions of the tile's
/// rows of the key, so that a source's rows of all tiles lie side by side).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Delivery {
    pub tile: u32,
    pub lo: u32,
    pub hi: u32,
    /// Nodes on those rows (synaptic events one packet will cause).
    pub nodes: u32,
}

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
    pub names: crate::names::SymbolIndex,
    /// Sources sorted by key.
    pub src_key: Vec<u32>,
    pub src_kind: Vec<SrcKind>,
    pub recorded: Vec<bool>,
    /// (source, channel, generator) of every generator channel.
    pub gens: Vec<(u32, u32, Generator)>,
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
    /// Rows due at each step, by step % RING, in queue order: (tile, index
    /// into `deliver_rows`, or `LOCAL | row` of the tile).
    pub arrivals: Vec<Vec<(u32, u32)>>,
    /// Non-volatile rows are read when their spike is sent, into the
    /// input slot of their due step (`Bank::input`): their reads are exact
    /// (no noise) and a sum does not depend on its order.
    pub pre: bool,
    /// With `pre`, what a spike of source s sends:
    /// send[send_start[s]..send_start[s + 1]], one [`SendGroup`] per delay
    /// of its rows read when sent (their per-tile counts and their nodes,
    /// side by side: one stream per spike), and
    /// queued[queued_start[s]..queued_start[s + 1]], its rows read when due.
    /// (`deliver` is then empty: only queued rows are in `deliver_rows`.)
    pub send_start: Vec<u32>,
    pub send: Vec<u32>,
    pub queued_start: Vec<u32>,
    pub queued: Vec<QueuedRow>,
    /// Synaptic events a spike of each source causes.
    pub sent_nodes: Vec<u64>,
    /// Rows and nodes of such reads due at each step (by step % RING) in
    /// each tile: pre_count[slot * tiles + tile]; the tiles with some are
    /// pre_touched[slot * (tiles + 1)..][..pre_touched_len[slot]] (a fixed
    /// place per slot, so that a tile is noted without a branch).
    pub pre_count: Vec<(u32, u32)>,
    pub pre_touched: Vec<u32>,
    pub pre_touched_len: Vec<usize>,
    /// Sources that spiked at each of the last RING steps (by step % RING),
    /// from which a saved state lists the rows still pending.
    pub sent: Vec<Vec<u32>>,
    /// One step's arrivals grouped by tile (see `Ctx`).
    pub due: Vec<u32>,
    pub due_start: Vec<u32>,
    pub net: Net,
    pub faults: Vec<RouteFault>,
    pub config: ConfigStats,
    /// Next step to run.
    pub now: u64,
    /// Cycles run so far.
    pub cycle_now: u64,
    /// The slowest tile's neuron update, cycles.
    pub max_update_cycles: u64,
    /// Identity of the configuration's structure (for saved states).
    pub fingerprint: u64,
}

/// A value of a group: (value, index of its first entry, that entry's outputs).
type Value = (u32, u32, u8);

/// A router's table, indexed for tracing: its entries grouped by mask, each
/// group sorted by value (with the index of the first entry of each value),
/// so that the first matching entry is the earliest of one search per
/// distinct mask (compressed tables use few masks). Trees are traced in
/// increasing key order, so each group keeps a cursor: the search usually
/// moves it forward by a step or two instead of bisecting the whole group.
struct Table {
    /// (mask, [(value, index and outputs of its first entry)] sorted by value).
    groups: Vec<(u32, Vec<Value>)>,
    /// Per group: every value before it is below the last value looked up.
    cursor: Vec<usize>,
}

/// Index of the first element of `values` (sorted by `.0`) whose value is
/// not below `v`, given that every element before `*cur` is below the
/// previous `v` (or `*cur == 0`); `*cur` becomes that index.
#[inline]
fn seek(values: &[Value], cur: &mut usize, v: u32) -> usize {
    let mut c = *cur;
    if c > 0 && values[c - 1].0 >= v {
        // The key went back (or down, under a mask): search from the start.
        c = 0;
    }
    let rest = &values[c..];
    let near = rest.len().min(4);
    c += match rest[..near].iter().position(|e| e.0 >= v) {
        Some(k) => k,
        None => near + rest[near..].partition_point(|e| e.0 < v),
    };
    *cur = c;
    c
}

impl Table {
    fn new(entries: &[RouteEntry]) -> Table {
        // Group the entries by mask, in table order; entries with value bits
        // outside the mask match no key.
        let mut groups: Vec<(u32, Vec<Value>)> = Vec::new();
        let mut g = 0;
        for (i, e) in entries.iter().enumerate() {
            if e.value & !e.mask != 0 {
                continue;
            }
            if groups.get(g).is_none_or(|x| x.0 != e.mask) {
                g = match groups.iter().position(|x| x.0 == e.mask) {
                    Some(g) => g,
                    None => {
                        groups.push((e.mask, Vec::new()));
                        groups.len() - 1
                    }
                };
            }
            groups[g].1.push((e.value, i as u32, e.out));
        }
        for (_, values) in &mut groups {
            // Stable: equal values stay in table order, the first is kept.
            // (Compiled tables list their entries in value order already.)
            if !values.is_sorted_by_key(|e| e.0) {
                values.sort_by_key(|e| e.0);
            }
            values.dedup_by_key(|e| e.0);
        }
        let cursor = vec![0; groups.len()];
        Table { groups, cursor }
    }

    /// `best[key]` = (index, outputs) of the first entry that matches `key`,
    /// for every key below `key_count` (`(u32::MAX, NO_OUT)`: none). A
    /// group whose mask is a prefix (ones, then zeros) matches a range of
    /// keys with each value; those ranges are filled, other masks are
    /// looked up key by key.
    fn outputs(&mut self, key_count: u32, best: &mut Vec<(u32, u8)>) {
        best.clear();
        best.resize(key_count as usize, (u32::MAX, NO_OUT));
        for (g, (mask, values)) in self.groups.iter().enumerate() {
            if is_prefix(*mask) {
                for &(value, i, out) in values {
                    for b in &mut best[prefix_keys(value, *mask, key_count)] {
                        if i < b.0 {
                            *b = (i, out);
                        }
                    }
                }
            } else {
                let cur = &mut self.cursor[g];
                for (key, b) in best.iter_mut().enumerate() {
                    let v = key as u32 & mask;
                    if let Some(e) = values.get(seek(values, cur, v)).filter(|e| e.0 == v && e.1 < b.0) {
                        *b = (e.1, e.2);
                    }
                }
                *cur = 0;
            }
        }
    }

    /// The outputs of the first entry whose `key & mask == value`.
    fn lookup(&mut self, key: u32) -> Option<u8> {
        let mut first = (u32::MAX, None);
        for ((mask, values), cur) in self.groups.iter().zip(&mut self.cursor) {
            let v = key & mask;
            let i = seek(values, cur, v);
            if let Some(e) = values.get(i).filter(|e| e.0 == v && e.1 < first.0) {
                first = (e.1, Some(e.2));
            }
        }
        first.1
    }
}

/// No entry matches (in a table of outputs, which use bits 0..5).
const NO_OUT: u8 = 0xFF;

/// Whether a mask is a prefix (ones, then zeros): an entry with it matches
/// a range of keys.
fn is_prefix(mask: u32) -> bool {
    mask.leading_ones() + mask.trailing_zeros() == 32
}

/// The keys below `key_count` that `key & mask == value` matches, for a
/// prefix `mask` and a `value` within it.
fn prefix_keys(value: u32, mask: u32, key_count: u32) -> std::ops::Range<usize> {
    let lo = u64::from(value).min(u64::from(key_count));
    let hi = (u64::from(value) + u64::from(!mask) + 1).min(u64::from(key_count));
    lo as usize..hi as usize
}

/// The outputs of the first entry of each router (`routers[r]`, its
/// entries) that matches each key below `key_count` (`NO_OUT`: none),
/// key-major: `[key * routers.len() + r]`, so that the routers a tree
/// visits lie side by side. Tables whose masks are all prefixes (ones, then
/// zeros: what the compiler writes) are filled range by range from their
/// last entry to their first, so that the first match is written last;
/// others are indexed by [`Table`].
fn dense_outputs(routers: &[&[RouteEntry]], key_count: u32) -> Vec<u8> {
    let nr = routers.len();
    let mut dense = vec![NO_OUT; nr * key_count as usize];
    let mut best = Vec::new();
    for (r, entries) in routers.iter().enumerate() {
        if entries.iter().all(|e| is_prefix(e.mask)) {
            for e in entries.iter().rev().filter(|e| e.value & !e.mask == 0) {
                for key in prefix_keys(e.value, e.mask, key_count) {
                    dense[key * nr + r] = e.out;
                }
            }
        } else {
            Table::new(entries).outputs(key_count, &mut best);
            for (key, &(_, out)) in best.iter().enumerate() {
                dense[key * nr + r] = out;
            }
        }
    }
    dense
}

/// Marks the first entry of a tile in a source's send groups or queued
/// rows (the tile's one packet).
const FIRST: u32 = 1 << 15;
/// Most rows and nodes one [`SentRows`] entry counts.
const ENTRY_ROWS: u32 = 0x7F;
const ENTRY_NODES: u32 = 0xFF;
/// Most entries one [`SendGroup`] holds (its head's 24 bits).
const GROUP_ENTRIES: usize = (1 << 24) - 1;

/// Consecutive rows of one tile that a source's spike reaches with one
/// delay, read when sent: `tile << 16 | FIRST? | rows << 8 | nodes` (rows
/// and nodes beyond the fields' range take further entries).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SentRows(pub u32);

impl SentRows {
    pub fn tile(self) -> u32 {
        self.0 >> 16
    }

    pub fn first(self) -> bool {
        self.0 & FIRST != 0
    }

    pub fn rows(self) -> u32 {
        (self.0 >> 8) & ENTRY_ROWS
    }

    pub fn nodes(self) -> u32 {
        self.0 & ENTRY_NODES
    }
}

/// A row read when due (volatile or STDP), as a spike sends it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QueuedRow {
    pub tile: u32,
    pub delay: u8,
    /// The tile's first entry for the source (see [`FIRST`]).
    pub first: bool,
    /// Index into `Built::deliver_rows`.
    pub row: u32,
}

/// One delay's part of a source's send stream, as words: `delay | entries
/// << 8`, `nodes`, then `entries` [`SentRows`], then `nodes` pairs (global
/// column, weight as u32).
pub(crate) struct SendGroup<'a> {
    pub delay: u64,
    pub entries: &'a [u32],
    pub nodes: &'a [u32],
}

/// The groups of a source's send stream.
pub(crate) fn send_groups(mut words: &[u32]) -> impl Iterator<Item = SendGroup<'_>> {
    std::iter::from_fn(move || {
        let (&head, rest) = words.split_first()?;
        let (&nodes, rest) = rest.split_first()?;
        let (entries, rest) = rest.split_at((head >> 8) as usize);
        let (nodes, rest) = rest.split_at(2 * nodes as usize);
        words = rest;
        Some(SendGroup { delay: u64::from(head & 0xFF), entries, nodes })
    })
}

/// One source's rows read when sent, gathered while its tree is traced and
/// then written as its send stream, grouped by delay.
#[derive(Default)]
struct SendBuilder {
    /// (delay, entry).
    entries: Vec<(u8, u32)>,
    /// The rows' nodes, as (global column, weight as u32) pairs.
    nodes: Vec<u32>,
    /// (delay, first word in `nodes`, words) of each row.
    rows: Vec<(u8, u32, u32)>,
}

impl SendBuilder {
    /// Row of `tile` with `delay` and `nodes` (global column, weight),
    /// merged into the previous entry when that is the same tile's with the
    /// same delay and has room.
    fn row(&mut self, tile: u32, delay: u8, first: bool, nodes: &[u16], weights: &[i32], col_lo: u32) {
        let start = self.nodes.len() as u32;
        for (&c, &w) in nodes.iter().zip(weights) {
            self.nodes.extend([col_lo + u32::from(c), w as u32]);
        }
        self.rows.push((delay, start, 2 * nodes.len() as u32));
        let (mut left, mut rows, mut first) = (nodes.len() as u32, 1, first);
        loop {
            let n = left.min(ENTRY_NODES);
            match self.entries.last_mut() {
                Some((d, e))
                    if *d == delay
                        && SentRows(*e).tile() == tile
                        && SentRows(*e).rows() + rows <= ENTRY_ROWS
                        && SentRows(*e).nodes() + n <= ENTRY_NODES =>
                {
                    *e += rows << 8 | n;
                }
                _ => self.entries.push((delay, tile << 16 | if first { FIRST } else { 0 } | rows << 8 | n)),
            }
            (left, rows, first) = (left - n, 0, false);
            if left == 0 {
                break;
            }
        }
    }

    /// Appends the stream (one group per delay, in increasing delay; a
    /// delay with more entries than a group's head counts takes further
    /// groups) to `out`, and empties the builder.
    fn finish(&mut self, out: &mut Vec<u32>) {
        self.finish_groups(out, GROUP_ENTRIES);
    }

    /// [`Self::finish`] with at most `max_entries` entries per group.
    fn finish_groups(&mut self, out: &mut Vec<u32>, max_entries: usize) {
        // Rows come in trace order; sorted by delay (stably) unless they
        // are already, as they usually are (one delay): then each delay's
        // nodes lie in one piece.
        let in_order = self.entries.is_sorted_by_key(|e| e.0);
        if !in_order {
            self.entries.sort_by_key(|e| e.0);
            self.rows.sort_by_key(|r| r.0);
        }
        let mut rows = &self.rows[..];
        for g in self.entries.chunk_by(|a, b| a.0 == b.0) {
            let delay = g[0].0;
            let (mine, rest) = rows.split_at(rows.iter().take_while(|r| r.0 == delay).count());
            rows = rest;
            let words: u32 = mine.iter().map(|r| r.2).sum();
            for (i, chunk) in g.chunks(max_entries).enumerate() {
                let nodes = if i == 0 { words / 2 } else { 0 };
                out.extend([u32::from(delay) | (chunk.len() as u32) << 8, nodes]);
                out.extend(chunk.iter().map(|e| e.1));
                if i > 0 {
                    continue;
                }
                match (in_order, mine.first(), mine.last()) {
                    (true, Some(a), Some(b)) => out.extend_from_slice(&self.nodes[a.1 as usize..(b.1 + b.2) as usize]),
                    _ => mine.iter().for_each(|&(_, start, n)| {
                        out.extend_from_slice(&self.nodes[start as usize..(start + n) as usize])
                    }),
                }
            }
        }
        self.entries.clear();
        self.nodes.clear();
        self.rows.clear();
    }
}

/// Most input sums kept for rows read when their spike is sent (slots x
/// columns, 4 bytes each).
const PRE_INPUTS_MAX: usize = 1 << 24;

/// Most bytes of the key-major table of every router's outputs.
const DENSE_MAX: usize = 1 << 25;

/// (bit, dx, dy, name) of the four link directions, from the one table.
const DIRS: [(u8, i32, i32, &str); 4] = {
    const fn d(d: Dir) -> (u8, i32, i32, &'static str) {
        (d.bit(), d.dx(), d.dy(), d.name())
    }
    let l = Dir::LINKS;
    [d(l[0]), d(l[1]), d(l[2]), d(l[3])]
};

/// Volatile parameters of one node with device-to-device spread.
fn spread_volatile(p: &VolatileParams, dev: &DeviceFigures, seed: u64, g: u64) -> VolatileParams {
    let mut q = *p;
    if dev.d2d_tau_spread > 0.0 && p.decay > 0 && p.decay < DECAY_ONE {
        // tau in steps from the decay factor, perturbed, back to a factor.
        let tau = -1.0 / (1.0 - f64::from(p.decay) / f64::from(DECAY_ONE)).ln();
        let f = 1.0 + dev.d2d_tau_spread * noise::gauss(seed, noise::D2D_TAU, g, 0);
        q.decay = m::decay_from_tau((tau * f).max(1e-3), 1.0);
    }
    if dev.d2d_g0_spread > 0.0 {
        // facil = Gsat / G0 - 1; G0 -> G0 (1 + e).
        let e = (dev.d2d_g0_spread * noise::gauss(seed, noise::D2D_G0, g, 0)).max(-0.9);
        let f = (1.0 + m::from_fixed(p.facil)) / (1.0 + e) - 1.0;
        q.facil = m::to_fixed(f).unwrap_or(p.facil);
    }
    q
}

/// Configures the array. Validation has checked every rule of the
/// configuration; what is left to refuse is in the options.
pub(crate) fn build(bs: &Bitstream, opts: &EmuOptions) -> Result<Built, EmuError> {
    let arch = &bs.arch;
    let dev = resolve_devices(arch, opts)?;
    let seed = opts.seed;
    let (gw, gh) = (arch.grid.width, arch.grid.height);
    let key_count = bs.global.key_count;

    // Routers.
    let mut routers: BTreeMap<(u16, u16), &[RouteEntry]> = BTreeMap::new();
    for r in &bs.routers {
        routers.insert((r.x, r.y), &r.entries);
    }

    // Tiles.
    let levels = arch.nonvolatile.levels;
    let top = f64::from(levels - 1);
    let mut tiles = Vec::with_capacity(bs.tiles.len());
    let mut tile_at: BTreeMap<(u16, u16), u32> = BTreeMap::new();
    let mut cfg = ConfigStats {
        assumption: "tiles configure in parallel; per tile one cycle per table word (neuron parameters, columns, \
                     rows, routing entries) and per pulse (forming, write, verify read); forming at energy.forming_pj, \
                     writes at energy.node_write_pj, verify reads at energy.synop_pj (projected)"
            .into(),
        ..ConfigStats::default()
    };
    let mut node_base = 0u64;
    let mut bank = Bank::default();
    let mut config_cycles = 0u64;
    for tc in &bs.tiles {
        tile_at.insert((tc.x, tc.y), tiles.len() as u32);
        let mut col_params = Vec::with_capacity(tc.columns.len());
        for col in &tc.columns {
            col_params.push(tc.params[usize::from(col.params)]);
        }
        // Sorted by (row, col), each once (validated).
        let nodes = &tc.nodes[..];

        // Program the nodes.
        let nn = nodes.len();
        let (mut node_row, mut node_col, mut node_w) = (Vec::with_capacity(nn), Vec::with_capacity(nn), vec![0; nn]);
        // Per-node state of volatile and STDP nodes: none in a tile of
        // non-volatile rows only.
        let plastic = if tc.rows.iter().any(|r| r.kind != RowKind::NonVolatile) { nn } else { 0 };
        let mut node_vp = vec![0u32; plastic];
        let mut vparams = tc.volatile.clone();
        let mut row_start = vec![0u32; tc.rows.len() + 1];
        let (mut pulses, before) = (0u64, cfg.clone());
        for (k, n) in nodes.iter().enumerate() {
            let g = node_base + k as u64;
            let row = &tc.rows[usize::from(n.row)];
            row_start[usize::from(n.row) + 1] += 1;
            node_row.push(n.row);
            node_col.push(n.col);
            let nv = row.kind == RowKind::NonVolatile;
            let mut stuck = None;
            if nv {
                cfg.forming_pulses += 1;
                if dev.forming_yield < 1.0 && noise::uniform(seed, noise::FORMING, g, 0) >= dev.forming_yield {
                    cfg.forming_failures += 1;
                    stuck = Some(0.0);
                } else if dev.stuck_at_min + dev.stuck_at_max > 0.0 {
                    let u = noise::uniform(seed, noise::STUCK, g, 0);
                    if u < dev.stuck_at_min {
                        cfg.stuck_at_min += 1;
                        stuck = Some(0.0);
                    } else if u < dev.stuck_at_min + dev.stuck_at_max {
                        cfg.stuck_at_max += 1;
                        stuck = Some(top);
                    }
                }
            }
            let level = match stuck {
                Some(l) => {
                    cfg.write_pulses += 1;
                    Some(l)
                }
                None if dev.program_error > 0.0 => {
                    let sigma = dev.program_error * top;
                    let mut err = 0.0;
                    for it in 1..=u64::from(dev.write_verify_max.max(1)) {
                        err = sigma * noise::gauss(seed, noise::PROGRAM, g, it);
                        cfg.write_pulses += 1;
                        cfg.verify_reads += u64::from(dev.write_verify_max > 0);
                        if err.abs() <= 0.5 {
                            break;
                        }
                    }
                    Some((f64::from(n.level) + err).clamp(0.0, top))
                }
                None => {
                    cfg.write_pulses += 1;
                    None
                }
            };
            let w = match level {
                None => m::saturate(i64::from(n.level) * i64::from(row.scale)),
                Some(l) => noise::scale_i32(row.scale, l),
            };
            let mut w = if row.negative { m::saturate(-i64::from(w)) } else { w };
            match row.kind {
                RowKind::Stdp(pi) => {
                    let p = &tc.stdp[usize::from(pi)];
                    // Validation checked the exact weight; a noisy one may stray.
                    w = w.clamp(p.w_min, p.w_max);
                }
                RowKind::Volatile(vi) => {
                    node_vp[k] = u32::from(vi);
                    if dev.d2d_tau_spread > 0.0 || dev.d2d_g0_spread > 0.0 {
                        node_vp[k] = vparams.len() as u32;
                        vparams.push(spread_volatile(&tc.volatile[usize::from(vi)], &dev, seed, g));
                    }
                }
                RowKind::NonVolatile => {}
            }
            node_w[k] = w;
        }
        cfg.programmed_nodes += nn as u64;
        pulses += (cfg.forming_pulses - before.forming_pulses)
            + (cfg.write_pulses - before.write_pulses)
            + (cfg.verify_reads - before.verify_reads);
        for r in 0..tc.rows.len() {
            row_start[r + 1] += row_start[r];
        }
        let words = (tc.params.len() + tc.volatile.len() + tc.stdp.len() + tc.columns.len() + tc.rows.len()) as u64
            + routers.get(&(tc.x, tc.y)).map_or(0, |e| e.len() as u64);
        cfg.table_words += words;
        config_cycles = config_cycles.max(words + pulses);

        // Column indexes of the STDP and volatile nodes.
        let ncol = tc.columns.len();
        let csr = |want: &dyn Fn(RowKind) -> bool| {
            let mut start = vec![0u32; ncol + 1];
            if plastic == 0 || !tc.rows.iter().any(|r| want(r.kind)) {
                return (start, Vec::new());
            }
            for k in 0..nn {
                if want(tc.rows[usize::from(node_row[k])].kind) {
                    start[usize::from(node_col[k]) + 1] += 1;
                }
            }
            for c in 0..ncol {
                start[c + 1] += start[c];
            }
            let mut fill = start.clone();
            let mut list = vec![0u32; start[ncol] as usize];
            for k in 0..nn {
                if want(tc.rows[usize::from(node_row[k])].kind) {
                    let c = usize::from(node_col[k]);
                    list[fill[c] as usize] = k as u32;
                    fill[c] += 1;
                }
            }
            (start, list)
        };
        let (col_stdp_start, col_stdp) = csr(&|k| matches!(k, RowKind::Stdp(_)));
        let (col_vol_start, col_vol) = csr(&|k| matches!(k, RowKind::Volatile(_)));
        let nstdp = tc.stdp.len();
        let col_lo = bank.len() as u32;
        bank.push_tile(&col_params, tc.columns.iter().map(|c| NeuronState::with_v(c.v_init)));
        tiles.push(Tile {
            x: tc.x,
            y: tc.y,
            node_base,
            col_key: tc.columns.iter().map(|c| c.key).collect(),
            col_lo,
            row_delay: tc.rows.iter().map(|r| r.delay).collect(),
            row_kind: tc.rows.iter().map(|r| r.kind).collect(),
            row_start,
            row_key: tc.rows.iter().map(|r| r.key).collect(),
            node_row,
            node_col,
            node_w,
            node_x: vec![0; plastic],
            node_t: vec![0; plastic],
            node_vp,
            vparams,
            stdp: tc.stdp.clone(),
            post: vec![0; ncol * nstdp],
            post_t: vec![0; ncol * nstdp],
            col_stdp_start,
            col_stdp,
            col_vol_start,
            col_vol,
            direct_nv: !dev.noisy_reads(),
            carry: Vec::new(),
            rows_read: 0,
            syn: 0,
            writes: 0,
            update_cycles: (ncol as u64).div_ceil(u64::from(arch.timing.neurons_per_cycle)),
            act: TileActivity { x: tc.x, y: tc.y, ..TileActivity::default() },
        });
        node_base += nn as u64;
    }
    for (xy, e) in &routers {
        if !tile_at.contains_key(xy) {
            cfg.table_words += e.len() as u64;
            config_cycles = config_cycles.max(e.len() as u64);
        }
    }
    cfg.config_cycles = config_cycles;
    cfg.config_energy_pj = cfg.forming_pulses as f64 * arch.energy.forming_pj
        + cfg.write_pulses as f64 * arch.energy.node_write_pj
        + cfg.verify_reads as f64 * arch.energy.synop_pj;

    // Sources: neuron columns, input and generator channels.
    // (key, kind, injection router x, y, generator channel)
    type Source = (u32, SrcKind, u16, u16, Option<(u32, Generator)>);
    let mut sources: Vec<Source> = Vec::new();
    for (ti, t) in tiles.iter().enumerate() {
        for (c, &key) in t.col_key.iter().enumerate() {
            sources.push((key, SrcKind::Column { tile: ti as u32, col: c as u16 }, t.x, t.y, None));
        }
    }
    let mut outputs: Vec<(u32, u32)> = Vec::new();
    for p in &bs.ports {
        // Within global.key_count (validated).
        let end = p.key_base + p.size;
        let kind = match p.kind {
            PortKind::Output => {
                outputs.push((p.key_base, end));
                continue;
            }
            PortKind::Input => SrcKind::Input,
            PortKind::Generator(_) => SrcKind::Generator,
        };
        let generator = match p.kind {
            PortKind::Generator(g) => Some(g),
            _ => None,
        };
        for ch in 0..p.size {
            sources.push((p.key_base + ch, kind, p.x, p.y, generator.map(|g| (ch, g))));
        }
    }
    if !sources.is_sorted_by_key(|s| s.0) {
        sources.sort_by_key(|s| s.0);
    }
    // One source per key (validated).
    let src_key: Vec<u32> = sources.iter().map(|s| s.0).collect();
    let src_kind: Vec<SrcKind> = sources.iter().map(|s| s.1).collect();
    let recorded: Vec<bool> = if outputs.is_empty() {
        src_kind.iter().map(|k| matches!(k, SrcKind::Column { .. })).collect()
    } else {
        src_key.iter().map(|&k| outputs.iter().any(|&(a, b)| (a..b).contains(&k))).collect()
    };
    let mut gens = Vec::new();
    for (s, src) in sources.iter().enumerate() {
        if let SrcKind::Column { tile, col } = src.1 {
            bank.col_source[(tiles[tile as usize].col_lo + u32::from(col)) as usize] = s as u32;
        }
        if let Some((ch, g)) = src.4 {
            gens.push((s as u32, ch, g));
        }
    }

    // Multicast trees.
    let mut faults: BTreeSet<RouteFault> = BTreeSet::new();
    // Dense indexes over the grid (at most 65536 positions).
    let grid = Grid::of(arch);
    let cells = grid.cells();
    let cell = |x: u16, y: u16| grid.index(x, y);
    let mut router_at = vec![NONE; cells];
    let mut entries = Vec::with_capacity(routers.len());
    for ((x, y), e) in routers {
        router_at[cell(x, y)] = entries.len() as u32;
        entries.push(e);
    }
    // Every router's outputs for every key, when that is not too large;
    // otherwise the tables, indexed.
    let nr = entries.len();
    let dense = if nr * key_count as usize <= DENSE_MAX { dense_outputs(&entries, key_count) } else { Vec::new() };
    let mut tables: Vec<Table> =
        if dense.is_empty() { entries.iter().map(|e| Table::new(e)).collect() } else { Vec::new() };
    // The outputs of the router at cell `c` for `key` (`row`: the key's
    // row of `dense`, when there is one).
    #[inline(always)]
    fn lookup(router_at: &[u32], tables: &mut [Table], c: usize, key: u32, row: &[u8]) -> Option<u8> {
        match router_at[c] {
            NONE => None,
            r if !row.is_empty() => Some(row[r as usize]).filter(|&o| o != NO_OUT),
            r => tables[r as usize].lookup(key),
        }
    }
    // Neighbour cell of each cell in each direction (NONE: off the grid).
    let neighbour: Vec<u32> = (0..cells)
        .flat_map(|c| {
            let (x, y) = ((c % usize::from(gw)) as i32, (c / usize::from(gw)) as i32);
            DIRS.map(|(_, dx, dy, _)| {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= i32::from(gw) || ny >= i32::from(gh) {
                    NONE
                } else {
                    cell(nx as u16, ny as u16) as u32
                }
            })
        })
        .collect();
    let xy = |c: usize| {
        let p = grid.xy(c);
        (p.x, p.y)
    };
    let mut tile_index = vec![NONE; cells];
    for (&(x, y), &ti) in &tile_at {
        tile_index[cell(x, y)] = ti;
    }
    // Link id of each (router, direction), in order of discovery.
    let mut link_id = vec![NONE; cells * 4];
    let mut links: Vec<Link> = Vec::new();
    let mut inject_id = vec![NONE; cells];
    let mut n_inject = 0u32;
    // visited[cell] == source index + 1: the router is on that source's tree.
    let mut visited = vec![0u32; cells];
    let (mut tree_start, mut tree, mut inject) = (vec![0u32], Vec::new(), Vec::new());
    let (mut deliver_start, mut deliver, mut deliver_rows) = (vec![0u32], Vec::new(), Vec::new());
    let (mut deliver_node_start, mut deliver_nodes) = (vec![0u32], Vec::new());
    // Non-volatile rows are read when sent (into the input slot of their
    // due step) unless reads are noisy or the slots take too much memory.
    let nv_delay = tiles
        .iter()
        .flat_map(|t| t.row_kind.iter().zip(&t.row_delay))
        .filter(|&(&kind, _)| kind == RowKind::NonVolatile)
        .map(|(_, &delay)| usize::from(delay))
        .max();
    let pre = !dev.noisy_reads()
        && nv_delay.is_some_and(|d| (d + 1).next_power_of_two() * bank.len() <= PRE_INPUTS_MAX)
        && tiles.len() <= 1 << 16;
    let (mut send_start, mut send, mut sent_nodes, mut sent_nodes_s) = (vec![0u32], Vec::new(), Vec::new(), 0);
    let (mut queued_start, mut queued) = (vec![0u32], Vec::new());
    let mut builder = SendBuilder::default();
    // Whether some route delivers the key of tiles[t].row_key[i] (first row of each key).
    let mut reached: Vec<Vec<bool>> = tiles.iter().map(|t| vec![false; t.row_key.len()]).collect();
    // Rows of each tile that some route delivers (all of them: no fault to look for).
    let mut reached_rows = vec![0usize; tiles.len()];
    // Cell of each router of the current tree, in tree order.
    let mut at: Vec<u32> = Vec::new();
    // Per tile: its rows before this index have keys below the current source's.
    let mut key_cursor = vec![0usize; tiles.len()];
    // Every (tile, key) with rows is delivered at most once, every row at
    // most once: these bounds are usually close, and untouched capacity
    // costs nothing.
    let all_rows = tiles.iter().map(|t| t.row_key.len()).sum();
    let nodes_all: usize = tiles.iter().filter(|t| t.direct_nv).map(|t| t.node_w.len()).sum();
    if pre {
        send.reserve(all_rows + 2 * nodes_all + 2 * sources.len());
    } else {
        deliver.reserve(tiles.iter().map(|t| t.row_key.chunk_by(|a, b| a == b).count()).sum());
        deliver_rows.reserve(all_rows);
        deliver_node_start.reserve(all_rows);
        deliver_nodes.reserve(nodes_all);
    }
    for (si, &(key, _, sx, sy, _)) in sources.iter().enumerate() {
        if si == 64 {
            // The trees' total size, extrapolated from the first ones (with
            // some slack), so that `tree` need not grow by doubling (copies
            // and fresh pages).
            tree.reserve(tree.len() / 64 * (sources.len() - 64) / 8 * 9);
        }
        let stamp = si as u32 + 1;
        let ip = &mut inject_id[cell(sx, sy)];
        if *ip == NONE {
            *ip = n_inject;
            n_inject += 1;
        }
        inject.push(*ip);
        let base = tree.len();
        at.clear();
        let row = if dense.is_empty() { &[][..] } else { &dense[key as usize * nr..][..nr] };
        let root = cell(sx, sy);
        if lookup(&router_at, &mut tables, root, key, row).is_some() {
            tree.push(TreeNode { link: NONE, first_child: 0, n_children: 0, local: false, depth: 0 });
            at.push(root as u32);
            visited[root] = stamp;
        }
        let mut i = 0;
        while base + i < tree.len() {
            let c = at[i] as usize;
            let Some(out) = lookup(&router_at, &mut tables, c, key, row) else {
                faults.insert(RouteFault {
                    key,
                    at: xy(c),
                    what: "no routing entry matches; the packet is dropped".into(),
                });
                i += 1;
                continue;
            };
            let first = tree.len() as u32;
            let depth = tree[base + i].depth;
            let mut n_children = 0;
            // The direction bits, east (d = 0) to south (d = 3).
            let mut dirs = out & 0xF;
            while dirs != 0 {
                let d = dirs.trailing_zeros() as usize;
                dirs &= dirs - 1;
                let (bit, name) = (DIRS[d].0, DIRS[d].3);
                let n = neighbour[c * 4 + d];
                if n == NONE {
                    faults.insert(RouteFault {
                        key,
                        at: xy(c),
                        what: format!("routed {name}, off the {gw}x{gh} grid; that copy is dropped"),
                    });
                    continue;
                }
                if std::mem::replace(&mut visited[n as usize], stamp) == stamp {
                    faults.insert(RouteFault {
                        key,
                        at: xy(n as usize),
                        what: "reached twice (routing loop or converging paths); the second copy is dropped".into(),
                    });
                    continue;
                }
                let l = &mut link_id[c * 4 + d];
                if *l == NONE {
                    *l = links.len() as u32;
                    let (x, y) = xy(c);
                    links.push(Link { x, y, dir: bit });
                }
                let l = *l;
                tree.push(TreeNode { link: l, first_child: 0, n_children: 0, local: false, depth: depth + 1 });
                at.push(n);
                n_children += 1;
            }
            let node = &mut tree[base + i];
            node.first_child = first;
            node.n_children = n_children;
            node.local = out & dir::LOCAL != 0;
            let ti = tile_index[c];
            if node.local && ti != NONE {
                // Keys come in increasing order: the tile's cursor has passed
                // exactly its rows of smaller keys.
                let t = &tiles[ti as usize];
                let rk = &t.row_key;
                let cur = &mut key_cursor[ti as usize];
                while *cur < rk.len() && rk[*cur] < key {
                    *cur += 1;
                }
                let lo = *cur;
                while *cur < rk.len() && rk[*cur] == key {
                    *cur += 1;
                }
                let hi = *cur;
                if hi > lo && pre {
                    // See `Built::send`.
                    for r in lo..hi {
                        let (delay, kind) = (t.row_delay[r], t.row_kind[r]);
                        let (a, b) = (t.row_start[r] as usize, t.row_start[r + 1] as usize);
                        sent_nodes_s += (b - a) as u64;
                        if kind == RowKind::NonVolatile {
                            builder.row(ti, delay, r == lo, &t.node_col[a..b], &t.node_w[a..b], t.col_lo);
                        } else {
                            let row = deliver_rows.len() as u32;
                            queued.push(QueuedRow { tile: ti, delay, first: r == lo, row });
                            deliver_rows.push(t.row_info(r));
                            deliver_node_start.push(deliver_nodes.len() as u32);
                        }
                    }
                } else if hi > lo {
                    let nodes = t.row_start[hi] - t.row_start[lo];
                    let first = deliver_rows.len() as u32;
                    for r in lo..hi {
                        let row = t.row_info(r);
                        if t.direct_nv && row.kind == RowKind::NonVolatile {
                            let (a, b) = (row.lo as usize, row.hi as usize);
                            let (cols, ws) = (&t.node_col[a..b], &t.node_w[a..b]);
                            deliver_nodes.extend(cols.iter().zip(ws).map(|(&c, &w)| (u32::from(c), w)));
                        }
                        deliver_rows.push(row);
                        deliver_node_start.push(deliver_nodes.len() as u32);
                    }
                    deliver.push(Delivery { tile: ti, lo: first, hi: deliver_rows.len() as u32, nodes });
                }
                if hi > lo {
                    reached[ti as usize][lo] = true;
                    reached_rows[ti as usize] += hi - lo;
                }
            }
            i += 1;
        }
        tree_start.push(tree.len() as u32);
        deliver_start.push(deliver.len() as u32);
        sent_nodes.push(std::mem::take(&mut sent_nodes_s));
        builder.finish(&mut send);
        send_start.push(send.len() as u32);
        queued_start.push(queued.len() as u32);
    }
    for (ti, t) in tiles.iter().enumerate().filter(|&(ti, t)| reached_rows[ti] < t.row_key.len()) {
        let mut last = None;
        // Both row_key and src_key are sorted: walk them together.
        let mut j = 0;
        for (i, &key) in t.row_key.iter().enumerate() {
            if last == Some(key) {
                continue;
            }
            last = Some(key);
            while j < src_key.len() && src_key[j] < key {
                j += 1;
            }
            let what = if src_key.get(j) != Some(&key) {
                "the tile has rows for this key, which no neuron, input or generator drives"
            } else if !reached[ti][i] {
                "the tile has rows for this key, but no route delivers it here"
            } else {
                continue;
            };
            faults.insert(RouteFault { key, at: (t.x, t.y), what: what.into() });
        }
    }
    let net = Net::new(links, tree_start, tree, inject, n_inject as usize, arch);

    let mut fp = m::hash3(arch.hash(), u64::from(key_count), tiles.len() as u64);
    for t in &tiles {
        fp = m::hash3(fp, u64::from(t.x) << 16 | u64::from(t.y), t.col_key.len() as u64);
        fp = m::hash3(fp, t.row_delay.len() as u64, t.node_w.len() as u64);
    }
    let max_update_cycles = tiles.iter().map(|t| t.update_cycles).max().unwrap_or(0);
    bank.set_slots(if pre { nv_delay.unwrap_or(0) + 1 } else { 1 });
    let n_tiles = tiles.len();
    Ok(Built {
        arch: arch.clone(),
        dev,
        seed,
        dt_ms: bs.global.dt_ms,
        ports: bs.ports.clone(),
        symbols: bs.symbols.clone(),
        names: crate::names::SymbolIndex::new(&bs.symbols),
        src_key,
        src_kind,
        recorded,
        gens,
        tiles,
        bank,
        deliver_start,
        deliver,
        deliver_rows,
        deliver_node_start,
        deliver_nodes,
        arrivals: vec![Vec::new(); RING as usize],
        pre,
        send_start,
        send,
        queued_start,
        queued,
        sent_nodes,
        pre_count: vec![(0, 0); RING as usize * n_tiles],
        pre_touched: vec![0; RING as usize * (n_tiles + 1)],
        pre_touched_len: vec![0; RING as usize],
        sent: vec![Vec::new(); RING as usize],
        due: Vec::new(),
        due_start: vec![0; n_tiles + 1],
        net,
        faults: faults.into_iter().collect(),
        config: cfg,
        now: 0,
        cycle_now: 0,
        max_update_cycles,
        fingerprint: fp,
    })
}

impl Built {
    /// Index of the source of `key`.
    pub fn source(&self, key: u32) -> Option<usize> {
        self.src_key.binary_search(&key).ok()
    }

    /// Name and index of a key, from the symbols.
    pub fn name_of(&self, key: u32) -> Option<(&str, u32)> {
        let s = &self.symbols[self.names.lookup(key)?];
        Some((s.name.as_str(), key - s.key_base))
    }

    /// (tile, column) of neuron `key`.
    pub fn locate(&self, key: u32) -> Option<(usize, usize)> {
        match self.src_kind[self.source(key)?] {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A source's rows, over several tiles and delays, some with more rows
    /// or nodes than one entry counts: the stream has one group per delay
    /// (increasing), each tile's rows and nodes of that delay add up, each
    /// tile is marked first exactly once, and the nodes keep their order.
    #[test]
    fn send_stream_counts_every_row_and_node_once() {
        // (tile, delay, nodes), in trace order (a tile's rows together).
        let mut mixed: Vec<(u32, u8, usize)> = vec![(3, 2, 1), (3, 2, 0), (3, 1, 300), (0, 1, 2)];
        mixed.extend((0..200).map(|k| (7, 1 + (k % 3 == 0) as u8, k % 5)));
        // (The last row's delay is the first's, other delays in between.)
        mixed.extend([(65_535, 4, 600), (65_535, 4, 255), (65_535, 4, 1), (9, 2, 3)]);
        // Rows already in delay order.
        let mut ordered = mixed.clone();
        ordered.sort_by_key(|r| r.1);
        // Groups of any size, and groups of at most 3 entries (a delay then
        // takes several groups).
        for max in [GROUP_ENTRIES, 3] {
            send_stream_case(max, &mixed);
            send_stream_case(max, &ordered);
        }
    }

    fn send_stream_case(max: usize, rows: &[(u32, u8, usize)]) {
        let mut b = SendBuilder::default();
        let mut want_nodes: BTreeMap<u8, Vec<u32>> = BTreeMap::new();
        let mut want_counts: BTreeMap<(u8, u32), (u32, u32)> = BTreeMap::new();
        let mut serial = 0u16;
        for (k, &(tile, delay, n)) in rows.iter().enumerate() {
            let cols: Vec<u16> = (0..n)
                .map(|_| {
                    serial = serial.wrapping_add(1);
                    serial
                })
                .collect();
            let ws: Vec<i32> = cols.iter().map(|&c| -i32::from(c)).collect();
            let first = k == 0 || rows[k - 1].0 != tile;
            b.row(tile, delay, first, &cols, &ws, 10);
            want_nodes
                .entry(delay)
                .or_default()
                .extend(cols.iter().flat_map(|&c| [10 + u32::from(c), -i32::from(c) as u32]));
            let e = want_counts.entry((delay, tile)).or_default();
            (e.0, e.1) = (e.0 + 1, e.1 + n as u32);
        }
        let mut out = vec![99];
        b.finish_groups(&mut out, max);
        assert!(b.entries.is_empty() && b.nodes.is_empty() && b.rows.is_empty());
        let groups: Vec<SendGroup> = send_groups(&out[1..]).collect();
        let mut delays: Vec<u64> = groups.iter().map(|g| g.delay).collect();
        assert!(delays.is_sorted(), "{delays:?}");
        delays.dedup();
        assert_eq!(delays, [1, 2, 4]);
        let mut counts: BTreeMap<(u8, u32), (u32, u32)> = BTreeMap::new();
        let mut firsts = Vec::new();
        let mut nodes: BTreeMap<u8, Vec<u32>> = BTreeMap::new();
        for g in &groups {
            assert!(g.entries.len() <= max);
            nodes.entry(g.delay as u8).or_default().extend_from_slice(g.nodes);
            for &e in g.entries {
                let e = SentRows(e);
                let c = counts.entry((g.delay as u8, e.tile())).or_default();
                (c.0, c.1) = (c.0 + e.rows(), c.1 + e.nodes());
                if e.first() {
                    firsts.push(e.tile());
                }
            }
        }
        assert_eq!(counts, want_counts);
        assert_eq!(nodes, want_nodes);
        firsts.sort_unstable();
        let mut want_firsts: Vec<u32> =
            rows.iter().enumerate().filter(|&(k, r)| k == 0 || rows[k - 1].0 != r.0).map(|(_, r)| r.0).collect();
        want_firsts.sort_unstable();
        assert_eq!(firsts, want_firsts);
    }

    /// The indexed table (looked up, or as a table of all keys) finds the
    /// same entry as a scan in table order, with exact, prefix and other
    /// masks mixed and repeated values.
    #[test]
    fn indexed_lookup_equals_first_match_scan() {
        let mut h = 5u64;
        let mut rnd = move || {
            h = m::hash3(h, 1, 1);
            h
        };
        for _ in 0..500 {
            let n = (rnd() % 12) as usize;
            let entries: Vec<RouteEntry> = (0..n)
                .map(|_| {
                    let mask = match rnd() % 3 {
                        0 => u32::MAX,
                        1 => (rnd() % 16) as u32,
                        _ => u32::MAX << (rnd() % 5),
                    };
                    // Now and then a value with bits outside its mask (it matches nothing).
                    let value = if rnd() % 8 == 0 { (rnd() % 20) as u32 } else { (rnd() % 20) as u32 & mask };
                    RouteEntry { value, mask, out: (rnd() % 32) as u8 }
                })
                .collect();
            let mut t = Table::new(&entries);
            // Increasing keys (as in tracing), then keys in any order (the
            // cursors must also find entries behind them).
            let any: Vec<u32> = (0..24).map(|_| (rnd() % 24) as u32).collect();
            for key in (0..24).chain(any) {
                let scan = entries.iter().find(|e| key & e.mask == e.value).map(|e| e.out);
                assert_eq!(t.lookup(key), scan, "key {key} in {entries:?}");
            }
            // The table of every key's outputs, and the dense table of
            // this router and one of its prefix entries only (filled range
            // by range), side by side.
            let mut best = Vec::new();
            t.outputs(24, &mut best);
            let prefix: Vec<RouteEntry> = entries.iter().copied().filter(|e| is_prefix(e.mask)).collect();
            let dense = dense_outputs(&[&entries, &prefix], 24);
            for (key, &(_, out)) in best.iter().enumerate() {
                let scan =
                    |es: &[RouteEntry]| es.iter().find(|e| key as u32 & e.mask == e.value).map_or(NO_OUT, |e| e.out);
                assert_eq!(out, scan(&entries), "key {key} in {entries:?}");
                assert_eq!(dense[key * 2], scan(&entries), "key {key} in {entries:?}");
                assert_eq!(dense[key * 2 + 1], scan(&prefix), "key {key} in {prefix:?}");
            }
        }
    }
}
