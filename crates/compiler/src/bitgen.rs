//! Stage 5: the `Bitstream`, exactly as `fpnna_bitstream` documents it:
//! tiles sorted by (y, x), rows by (key, delay, negative, kind), nodes by
//! (row, col), parameter and profile tables deduplicated and sorted.

use crate::partition::{Partition, unpack};
use crate::place::Placement;
use crate::quantize::Quantized;
use crate::route::Routing;
use fpnna_arch::Arch;
use fpnna_bitstream::{
    Bitstream, Column, Global, Node, Port, PortKind, RouterConfig, Row, RowKind, Symbol, TileConfig, Xy,
};
use fpnna_ir::{NeuronId, NeuronModel, PopKind, SynapseKind};
use fpnna_model::{Generator, NeuronParams, StdpParams, VolatileParams};

/// Stage 5: builds the bitstream from the products of the stages before.
pub(crate) fn bitgen(q: &Quantized, arch: &Arch, part: &Partition, place: &Placement, routing: &Routing) -> Bitstream {
    let (net, nl, scales, tables) = (&q.net, &part.netlist, &q.scales, &routing.tables);
    let keys = net.keys();
    // Parameters and initial potential per neuron key.
    let neuron = |key: u32| -> (NeuronParams, i32) {
        let (p, i) = keys.locate(NeuronId(key)).expect("a key of the network");
        let n = net.pop(p).neurons().expect("a neuron population");
        (n.params[i as usize], n.v_init[i as usize])
    };
    let kinds: Vec<SynapseKind> = net.projs().map(|(_, p)| p.kind).collect();
    let mut tiles = Vec::with_capacity(part.clusters.len());
    for (c, range) in part.clusters.iter().enumerate() {
        let Xy { x, y } = place.pos[c];
        let keys = &nl.neurons[range.clone()];
        let mut params: Vec<NeuronParams> = keys.iter().map(|&k| neuron(k).0).collect();
        params.sort_unstable();
        params.dedup();
        let columns: Vec<Column> = keys
            .iter()
            .map(|&k| {
                let (p, v) = neuron(k);
                Column { key: k, params: params.binary_search(&p).expect("deduplicated") as u16, v_init: v }
            })
            .collect();
        let mut volatile: Vec<VolatileParams> = Vec::new();
        let mut stdp: Vec<StdpParams> = Vec::new();
        for &r in &part.rows[c] {
            match kinds[nl.classes[unpack(r).1 as usize].proj as usize] {
                SynapseKind::Volatile(v) => volatile.push(v),
                SynapseKind::Stdp(s) => stdp.push(s),
                SynapseKind::NonVolatile => {}
            }
        }
        volatile.sort_unstable();
        volatile.dedup();
        stdp.sort_unstable();
        stdp.dedup();
        // Rows in bitstream order, with their row keys for lookup.
        let mut rows: Vec<(Row, u32, u32, u64)> = part.rows[c]
            .iter()
            .map(|&rk| {
                let (key, class, dup) = unpack(rk);
                let cl = nl.classes[class as usize];
                let kind = match kinds[cl.proj as usize] {
                    SynapseKind::NonVolatile => RowKind::NonVolatile,
                    SynapseKind::Volatile(v) => RowKind::Volatile(volatile.binary_search(&v).expect("profile") as u16),
                    SynapseKind::Stdp(s) => RowKind::Stdp(stdp.binary_search(&s).expect("profile") as u16),
                };
                let row = Row { key, delay: cl.delay, negative: cl.negative, kind, scale: scales[cl.proj as usize] };
                (row, cl.proj, dup, rk)
            })
            .collect();
        rows.sort_by(|a, b| {
            let k = |r: &(Row, u32, u32, u64)| (r.0.key, r.0.delay, r.0.negative, r.0.kind, r.0.scale, r.1, r.2);
            k(a).cmp(&k(b))
        });
        let mut index: Vec<(u64, u16)> = rows.iter().enumerate().map(|(i, r)| (r.3, i as u16)).collect();
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
        for (col, i) in range.clone().enumerate() {
            for &(_, level) in &nl.incoming[nl.start[i]..nl.start[i + 1]] {
                let row = row_of[j];
                nodes[at[usize::from(row)]] = Node { row, col: col as u16, level };
                at[usize::from(row)] += 1;
                j += 1;
            }
        }
        tiles.push(TileConfig {
            x,
            y,
            params,
            volatile,
            stdp,
            columns,
            rows: rows.into_iter().map(|r| r.0).collect(),
            nodes,
        });
    }
    tiles.sort_by_key(|t| (t.y, t.x));
    let routers = tables
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.is_empty())
        .map(|(r, t)| {
            let Xy { x, y } = routing.grid.xy(r);
            RouterConfig { x, y, entries: t.clone() }
        })
        .collect();
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
    Bitstream {
        arch: arch.clone(),
        global: Global { dt_ms: net.dt_ms, key_count: keys.len() },
        tiles,
        routers,
        ports,
        symbols,
    }
}
