//! Stage 5: the `Bitstream`, exactly as `fpnna_bitstream` documents it:
//! tiles sorted by (y, x), rows by (key, delay, negative, kind), nodes by
//! (row, col), parameter and profile tables deduplicated and sorted.

use crate::partition::{Netlist, Partition, RowKey};
use crate::place::Placement;
use crate::quantize::Quantized;
use crate::route::Routing;
use fpnna_arch::Arch;
use fpnna_bitstream::{
    Bitstream, Column, Global, Node, Port, PortKind, RouterConfig, Row, RowKind, Symbol, TileConfig, Xy,
};
use fpnna_ir::{KeyMap, Network, NeuronId, NeuronModel, PopKind, SynapseKind};
use fpnna_model::{Generator, NeuronParams, StdpParams, VolatileParams};
use std::ops::Range;

/// Stage 5: builds the bitstream from the products of the stages before.
pub(crate) fn bitgen(q: &Quantized, arch: &Arch, part: &Partition, place: &Placement, routing: &Routing) -> Bitstream {
    assemble(q, arch, part, place, routing, tiles(q, part, place))
}

/// Every cluster's tile configuration at its place, in cluster order.
pub(crate) fn tiles(q: &Quantized, part: &Partition, place: &Placement) -> Vec<TileConfig> {
    let net = &q.net;
    let keys = net.keys();
    let tg = TileGen {
        net,
        keys: &keys,
        nl: &part.netlist,
        part,
        kinds: net.projs().map(|(_, p)| p.kind).collect(),
        scales: &q.scales,
    };
    (0..part.clusters.len()).map(|c| tg.tile(c, place.pos[c])).collect()
}

/// The bitstream of the tile configurations `tiles` (as [`tiles`] gives
/// them, line maps possibly set) and the routing.
pub(crate) fn assemble(
    q: &Quantized,
    arch: &Arch,
    part: &Partition,
    place: &Placement,
    routing: &Routing,
    mut tiles: Vec<TileConfig>,
) -> Bitstream {
    let net = &q.net;
    let keys = net.keys();
    tiles.sort_by_key(|t| (t.y, t.x));
    let routers = routing
        .tables
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.is_empty())
        .map(|(r, t)| {
            let Xy { x, y } = routing.grid.xy(r);
            RouterConfig { x, y, entries: t.clone() }
        })
        .collect();
    let (ports, symbols) = ports_and_symbols(net, &keys, part, place);
    Bitstream {
        arch: arch.clone(),
        global: Global { dt_ms: net.dt_ms, key_count: keys.len() },
        tiles,
        routers,
        ports,
        symbols,
    }
}

/// What every tile's configuration is made from.
struct TileGen<'a> {
    net: &'a Network,
    keys: &'a KeyMap,
    nl: &'a Netlist,
    part: &'a Partition,
    /// Synapse kind per projection.
    kinds: Vec<SynapseKind>,
    /// Weight of one level per projection.
    scales: &'a [i32],
}

/// A row in bitstream order, with its projection, duplicate index and row
/// key (for lookup).
type TileRow = (Row, u32, u32, RowKey);

impl TileGen<'_> {
    /// Parameters and initial potential of neuron `key`.
    fn neuron(&self, key: u32) -> (NeuronParams, i32) {
        let (p, i) = self.keys.locate(NeuronId(key)).expect("a key of the network");
        let n = self.net.pop(p).neurons().expect("a neuron population");
        (n.params[i as usize], n.v_init[i as usize])
    }

    /// The configuration of cluster `c`, placed at `at`.
    fn tile(&self, c: usize, at: Xy) -> TileConfig {
        let range = self.part.clusters[c].clone();
        let keys = &self.nl.neurons[range.clone()];
        let mut params: Vec<NeuronParams> = keys.iter().map(|&k| self.neuron(k).0).collect();
        params.sort_unstable();
        params.dedup();
        let columns: Vec<Column> = keys
            .iter()
            .map(|&k| {
                let (p, v) = self.neuron(k);
                Column { key: k, params: params.binary_search(&p).expect("deduplicated") as u16, v_init: v }
            })
            .collect();
        let (volatile, stdp) = self.profiles(c);
        let rows = self.rows(c, &volatile, &stdp);
        let nodes = self.nodes(range, &rows);
        TileConfig {
            x: at.x,
            y: at.y,
            params,
            volatile,
            stdp,
            columns,
            rows: rows.into_iter().map(|r| r.0).collect(),
            nodes,
            row_lines: Vec::new(),
            col_lines: Vec::new(),
        }
    }

    /// The volatile and STDP profiles of cluster `c`'s rows, deduplicated
    /// and sorted.
    fn profiles(&self, c: usize) -> (Vec<VolatileParams>, Vec<StdpParams>) {
        let mut volatile: Vec<VolatileParams> = Vec::new();
        let mut stdp: Vec<StdpParams> = Vec::new();
        for &r in &self.part.rows[c] {
            match self.kinds[self.nl.classes[r.class()].proj as usize] {
                SynapseKind::Volatile(v) => volatile.push(v),
                SynapseKind::Stdp(s) => stdp.push(s),
                SynapseKind::NonVolatile => {}
            }
        }
        volatile.sort_unstable();
        volatile.dedup();
        stdp.sort_unstable();
        stdp.dedup();
        (volatile, stdp)
    }

    /// Cluster `c`'s rows in bitstream order.
    fn rows(&self, c: usize, volatile: &[VolatileParams], stdp: &[StdpParams]) -> Vec<TileRow> {
        let mut rows: Vec<TileRow> = self.part.rows[c]
            .iter()
            .map(|&rk| {
                let (key, dup) = (rk.src().get(), rk.dup());
                let cl = self.nl.classes[rk.class()];
                let kind = match self.kinds[cl.proj as usize] {
                    SynapseKind::NonVolatile => RowKind::NonVolatile,
                    SynapseKind::Volatile(v) => RowKind::Volatile(volatile.binary_search(&v).expect("profile") as u16),
                    SynapseKind::Stdp(s) => RowKind::Stdp(stdp.binary_search(&s).expect("profile") as u16),
                };
                let row =
                    Row { key, delay: cl.delay, negative: cl.negative, kind, scale: self.scales[cl.proj as usize] };
                (row, cl.proj, dup, rk)
            })
            .collect();
        rows.sort_by(|a, b| {
            let k = |r: &TileRow| (r.0.key, r.0.delay, r.0.negative, r.0.kind, r.0.scale, r.1, r.2);
            k(a).cmp(&k(b))
        });
        rows
    }

    /// The nodes of the neurons `range` (the tile's columns, in order) on
    /// `rows`, sorted by (row, column).
    fn nodes(&self, range: Range<usize>, rows: &[TileRow]) -> Vec<Node> {
        let nl = self.nl;
        let mut index: Vec<(RowKey, u16)> = rows.iter().enumerate().map(|(i, r)| (r.3, i as u16)).collect();
        index.sort_unstable();
        // Counting sort by row; columns are visited in order, so each row's
        // nodes come out sorted by column.
        let syn = &nl.incoming[nl.start[range.start]..nl.start[range.end]];
        let mut at = vec![0usize; rows.len() + 1];
        let mut row_of = Vec::with_capacity(syn.len());
        for &(rk, _) in syn {
            let row = index[index.binary_search_by_key(&rk, |&(k, _)| k).expect("row of the tile")].1;
            at[usize::from(row) + 1] += 1;
            row_of.push(row);
        }
        for r in 0..rows.len() {
            at[r + 1] += at[r];
        }
        let mut nodes = vec![Node { row: 0, col: 0, level: 0 }; syn.len()];
        let mut j = 0;
        for (col, i) in range.enumerate() {
            for &(_, level) in &nl.incoming[nl.start[i]..nl.start[i + 1]] {
                let row = row_of[j];
                nodes[at[usize::from(row)]] = Node { row, col: col as u16, level };
                at[usize::from(row)] += 1;
                j += 1;
            }
        }
        nodes
    }
}

/// The ports (an injection port per input or generator population, an
/// output port per recorded population) and the symbols, in population
/// order.
fn ports_and_symbols(net: &Network, keys: &KeyMap, part: &Partition, place: &Placement) -> (Vec<Port>, Vec<Symbol>) {
    let nl = &part.netlist;
    let recorded = net.recorded();
    let mut ports = Vec::new();
    let mut symbols = Vec::new();
    let mut port_index = 0usize;
    // Tile of the first neuron of each neuron population (for output ports).
    let first_tile = |key: u32| -> Xy {
        let i = nl.neurons.partition_point(|&k| k < key);
        let c = part.clusters.partition_point(|r| r.end <= i);
        place.pos.get(c).copied().unwrap_or_default()
    };
    for (id, p) in net.pops() {
        let key_base = keys.base(id);
        let kind = match &p.kind {
            PopKind::Input => "input",
            PopKind::Generator(Generator::Poisson { .. }) => "poisson",
            PopKind::Generator(Generator::Regular { .. }) => "regular",
            PopKind::Neurons(n) if n.model == NeuronModel::Lif => "lif",
            PopKind::Neurons(_) => "if",
        };
        symbols.push(Symbol { name: p.name.clone(), key_base, size: p.size, kind: kind.to_string() });
        let at = match &p.kind {
            PopKind::Neurons(_) => first_tile(key_base),
            _ => {
                let at = place.port_pos[port_index];
                port_index += 1;
                at
            }
        };
        let mut port =
            |kind: PortKind| ports.push(Port { name: p.name.clone(), key_base, size: p.size, kind, x: at.x, y: at.y });
        match &p.kind {
            PopKind::Input => port(PortKind::Input),
            PopKind::Generator(g) => port(PortKind::Generator(*g)),
            PopKind::Neurons(_) => {}
        }
        if recorded[id.0 as usize] {
            port(PortKind::Output);
        }
    }
    (ports, symbols)
}
