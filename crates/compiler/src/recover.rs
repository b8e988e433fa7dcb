//! Netlist recovery: from a bitstream alone, the network it computes.
//!
//! Populations come from the symbol section (names, key ranges, kinds), the
//! generators from the port map, neuron parameters and initial potentials
//! from the tiles' columns, and every programmed node becomes one synapse
//! (`level * scale`, negated on a negative row, with the row's delay and
//! kind). The result is the *quantized* network: simulating it without
//! quantization (`fpnna sim --exact`) reproduces the original's quantized
//! simulation spike for spike. Nodes of one (source population, target
//! population, synapse kind) become one projection; a second node for the
//! same (pre, post, delay) opens another projection, since one projection
//! holds each such synapse once.

use fpnna_bitstream::{Bitstream, PortKind, RowKind};
use fpnna_ir::{
    Network, NeuronId, NeuronModel, Neurons, PopId, PopKind, Population, Projection, SynapseKind, Synapses,
};
use fpnna_model::NeuronParams;
use std::collections::{BTreeMap, BTreeSet};

/// Why a bitstream cannot be turned back into a network.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot recover the network: {0}")]
pub struct RecoverError(pub String);

/// Weights by (tile x, tile y, row, column) of nodes: what a saved state
/// holds of the nodes that learn.
pub type NodeWeights = BTreeMap<(u16, u16, u16, u16), i32>;

/// Recovers the network a bitstream computes.
pub fn recover(b: &Bitstream) -> Result<Network, RecoverError> {
    recover_with(b, &NodeWeights::new())
}

/// [`recover`], with the nodes of `weights` (the learned STDP weights of a
/// saved state) at those weights instead of their programmed levels.
pub fn recover_with(b: &Bitstream, weights: &NodeWeights) -> Result<Network, RecoverError> {
    let err = |m: String| RecoverError(m);
    let cols = columns(b)?;
    let mut net = Network::new("decompiled", b.global.dt_ms);
    add_populations(b, &cols, &mut net)?;
    add_synapses(b, weights, &mut net)?;
    net.verify().map_err(|e| err(e.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")))?;
    Ok(net)
}

/// Neuron parameters and initial potentials by key, from the tiles' columns.
fn columns(b: &Bitstream) -> Result<BTreeMap<u32, (NeuronParams, i32)>, RecoverError> {
    let err = |m: String| RecoverError(m);
    let mut cols: BTreeMap<u32, (NeuronParams, i32)> = BTreeMap::new();
    for t in &b.tiles {
        for (c, col) in t.columns.iter().enumerate() {
            let p = *t.params.get(usize::from(col.params)).ok_or_else(|| {
                err(format!("tile ({}, {}) column {c}: parameter index {} out of range", t.x, t.y, col.params))
            })?;
            if cols.insert(col.key, (p, col.v_init)).is_some() {
                return Err(err(format!("key {} drives two neuron columns", col.key)));
            }
        }
    }
    Ok(cols)
}

/// A population per symbol, in key order (generators from their ports,
/// neurons from `cols`).
fn add_populations(
    b: &Bitstream,
    cols: &BTreeMap<u32, (NeuronParams, i32)>,
    net: &mut Network,
) -> Result<(), RecoverError> {
    let err = |m: String| RecoverError(m);
    let mut syms: Vec<_> = b.symbols.iter().collect();
    syms.sort_by_key(|s| s.key_base);
    let mut expected = 0u32;
    for s in &syms {
        if s.key_base != expected {
            return Err(err(format!(
                "symbol `{}` starts at key {} but the previous ends at {expected}",
                s.name, s.key_base
            )));
        }
        expected =
            s.key_base.checked_add(s.size).ok_or_else(|| err(format!("symbol `{}` overflows the keys", s.name)))?;
        let port = b.ports.iter().find(|p| p.name == s.name && p.kind != PortKind::Output);
        let kind = match s.kind.as_str() {
            "input" => PopKind::Input,
            "poisson" | "regular" => match port.map(|p| &p.kind) {
                Some(PortKind::Generator(g)) => PopKind::Generator(*g),
                _ => return Err(err(format!("generator `{}` has no generator port", s.name))),
            },
            "lif" | "if" => {
                let mut params = Vec::with_capacity(s.size as usize);
                let mut v_init = Vec::with_capacity(s.size as usize);
                for k in s.key_base..expected {
                    let (p, v) = cols.get(&k).ok_or_else(|| {
                        err(format!("neuron {} of `{}` (key {k}) has no column", k - s.key_base, s.name))
                    })?;
                    params.push(*p);
                    v_init.push(*v);
                }
                let model = if s.kind == "lif" { NeuronModel::Lif } else { NeuronModel::If };
                PopKind::Neurons(Neurons { model, params, v_init })
            }
            other => return Err(err(format!("symbol `{}` has the unknown kind `{other}`", s.name))),
        };
        let output = b.ports.iter().any(|p| p.name == s.name && p.kind == PortKind::Output);
        net.add_population(Population { name: s.name.clone(), size: s.size, kind, output });
    }
    Ok(())
}

/// A synapse per node, in projections of one (pre population, post
/// population, kind) each holding a (pre, post, delay) once.
fn add_synapses(b: &Bitstream, weights: &NodeWeights, net: &mut Network) -> Result<(), RecoverError> {
    let err = |m: String| RecoverError(m);
    // The symbols were added in key order, end to end from key 0: the
    // network's own numbering is the bitstream's.
    let keys = net.keys();
    let locate = |key: u32| -> Result<(PopId, u32), RecoverError> {
        keys.locate(NeuronId(key)).ok_or_else(|| RecoverError(format!("key {key} belongs to no symbol")))
    };

    // Synapses, grouped by (pre population, post population, kind).
    type Group = (PopId, PopId, SynapseKind);
    type Seen = BTreeSet<(u32, u32, u8)>;
    let mut groups: Vec<(Group, Synapses, Seen)> = Vec::new();
    let mut open: BTreeMap<(PopId, PopId, String), usize> = BTreeMap::new();
    for t in &b.tiles {
        for n in &t.nodes {
            let row = t
                .rows
                .get(usize::from(n.row))
                .ok_or_else(|| err(format!("tile ({}, {}): node row {}", t.x, t.y, n.row)))?;
            let col = t
                .columns
                .get(usize::from(n.col))
                .ok_or_else(|| err(format!("tile ({}, {}): node column {}", t.x, t.y, n.col)))?;
            let kind = match row.kind {
                RowKind::NonVolatile => SynapseKind::NonVolatile,
                RowKind::Volatile(i) => SynapseKind::Volatile(
                    *t.volatile
                        .get(usize::from(i))
                        .ok_or_else(|| err(format!("tile ({}, {}): volatile profile {i}", t.x, t.y)))?,
                ),
                RowKind::Stdp(i) => SynapseKind::Stdp(
                    *t.stdp
                        .get(usize::from(i))
                        .ok_or_else(|| err(format!("tile ({}, {}): STDP profile {i}", t.x, t.y)))?,
                ),
            };
            let (a, pre) = locate(row.key)?;
            let (c, post) = locate(col.key)?;
            let w = i64::from(n.level) * i64::from(row.scale) * if row.negative { -1 } else { 1 };
            let w = i32::try_from(w).map_err(|_| err(format!("tile ({}, {}): node weight {w} overflows", t.x, t.y)))?;
            let w = weights.get(&(t.x, t.y, n.row, n.col)).copied().unwrap_or(w);
            let tag = (a, c, format!("{kind:?}"));
            let g = match open.get(&tag) {
                Some(&g) if !groups[g].2.contains(&(pre, post, row.delay)) => g,
                _ => {
                    groups.push(((a, c, kind), Synapses::default(), BTreeSet::new()));
                    open.insert(tag, groups.len() - 1);
                    groups.len() - 1
                }
            };
            groups[g].1.push(pre, post, w, row.delay);
            groups[g].2.insert((pre, post, row.delay));
        }
    }
    for ((a, c, kind), syn, _) in groups {
        let name = format!("{} -> {}", net.pop(a).name, net.pop(c).name);
        let mut unique = name.clone();
        let mut k = 2;
        while net.projs().any(|(_, p)| p.name == unique) {
            unique = format!("{name} #{k}");
            k += 1;
        }
        net.add_projection(a, c, Projection { name: unique, kind, syn });
    }
    Ok(())
}
