//! Readable text dumps of the stage products, one function per product:
//! what the stage tests (`tests/stages.rs`) compare, and what to read when
//! a stage misbehaves. Keys are named `population[index]`.

use crate::nets::Pin;
use crate::partition::Partition;
use crate::place::Placement;
use crate::route::Routing;
use fpnna_bitstream::Dir;
use fpnna_ir::{KeyMap, Network, NeuronId, ProjId};
use std::fmt::Write;

/// `population[index]` of a key.
fn name(net: &Network, keys: &KeyMap, key: u32) -> String {
    match keys.locate(NeuronId(key)) {
        Some((p, i)) => format!("{}[{i}]", net.pop(p).name),
        None => format!("key{key}"),
    }
}

/// The directions of an out-set, as letters (the first of each name in
/// upper case: `L` is the local tile).
fn outs(o: u8) -> String {
    Dir::ALL.iter().filter(|d| o & d.bit() != 0).map(|d| d.name().as_bytes()[0].to_ascii_uppercase() as char).collect()
}

impl Partition {
    /// Per tile (cluster): its neurons, and its rows as (source, delay,
    /// sign, projection, duplicate).
    pub(crate) fn dump(&self, net: &Network) -> String {
        let keys = net.keys();
        let nl = &self.netlist;
        let mut s = format!("partition: {} tile(s), {} port(s)\n", self.clusters.len(), self.ports);
        for (c, range) in self.clusters.iter().enumerate() {
            let neurons: Vec<String> = nl.neurons[range.clone()].iter().map(|&k| name(net, &keys, k)).collect();
            let _ = writeln!(s, "tile {c}: neurons {}", neurons.join(" "));
            let _ = writeln!(s, "  rows {}", self.rows[c].len());
            for &r in &self.rows[c] {
                let (key, dup) = (r.src().get(), r.dup());
                let cl = nl.classes[r.class()];
                let sign = if cl.negative { '-' } else { '+' };
                let proj = net.proj(ProjId(cl.proj));
                let dup = if dup > 0 { format!(" dup {dup}") } else { String::new() };
                let (src, kind) = (name(net, &keys, key), proj.kind.label());
                let _ = writeln!(s, "    {src} d{} {sign} `{}` {kind}{dup}", cl.delay, proj.name);
            }
        }
        s
    }
}

impl Placement {
    /// Every tile's and port's position, and the placement cost.
    pub(crate) fn dump(&self) -> String {
        let mut s = format!("placement: cost {} -> {}\n", self.stats.cost_initial, self.stats.cost_final);
        for (c, p) in self.pos.iter().enumerate() {
            let _ = writeln!(s, "tile {c} at {p}");
        }
        for (i, p) in self.port_pos.iter().enumerate() {
            let _ = writeln!(s, "port {i} at {p}");
        }
        s
    }
}

impl Routing {
    /// Each source key's tree (router and out-set, from its source pin),
    /// then every router's compressed table.
    pub(crate) fn dump(&self, net: &Network, part: &Partition) -> String {
        let keys = net.keys();
        let nets = &part.nets;
        let mut s = format!("routing: {} iteration(s), {} hops\n", self.iterations.len(), self.total_hops);
        for (i, tree) in self.trees.iter().enumerate() {
            let from = match nets.src[i] {
                Pin::Cluster(c) => format!("tile {c}"),
                Pin::Port(p) => format!("port {p}"),
            };
            let hops: Vec<String> =
                tree.iter().map(|&(r, o)| format!("{} {}", self.grid.xy(r as usize), outs(o))).collect();
            let _ = writeln!(s, "{} from {from}: {}", name(net, &keys, nets.key[i].get()), hops.join(", "));
        }
        for (r, t) in self.tables.iter().enumerate().filter(|(_, t)| !t.is_empty()) {
            let _ = writeln!(s, "router {}: {} entries", self.grid.xy(r), t.len());
            for e in t {
                let _ = writeln!(s, "  {:#010x}/{:#010x} -> {}", e.value, e.mask, outs(e.out));
            }
        }
        s
    }
}
