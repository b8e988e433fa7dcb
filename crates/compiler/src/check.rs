//! An independent checker: from a validated bitstream and the quantized
//! network alone (none of the compiler's bookkeeping), verify that every
//! neuron is one column, every synapse is one node with the right level,
//! sign, delay and kind, and that the routing tables deliver every key to
//! exactly the tiles that have rows for it. The rules of the bitstream
//! itself (capacities, ranges, order) are validation's.

use fpnna_bitstream::{Bitstream, Dir, Grid, PortKind, RouteIndex, RowKind, Validated};
use fpnna_ir::{Network, PopKind, SynapseKind};
use fpnna_model::{StdpParams, VolatileParams};
use std::collections::{BTreeMap, BTreeSet};

/// Most problems listed before the checker stops collecting.
const MAX_PROBLEMS: usize = 50;

/// A synapse kind with its parameters, comparable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum K {
    Nv,
    Vol(VolatileParams),
    Stdp(StdpParams),
}

/// Where each neuron key lives: (tile index, column).
type Homes = BTreeMap<u32, (usize, u16)>;

/// Checks `bs` against the quantized network `net`; returns every problem
/// found (up to 50).
pub fn check_placement(net: &Network, bs: &Validated) -> Result<(), Vec<String>> {
    let mut errs: Vec<String> = Vec::new();
    let bs = bs.bitstream();
    let (offsets, total) = net.offsets();
    if bs.global.key_count != total {
        errs.push(format!("global.key_count {} but the network has {total} keys", bs.global.key_count));
    }
    let home = check_neurons(net, bs, &offsets, &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    if !check_synapses(net, bs, &offsets, &mut errs) {
        return Err(errs);
    }
    check_routes(net, bs, &offsets, &home, &mut errs);
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// Every neuron placed exactly once, with its parameters and `v_init`;
/// returns where each neuron key lives.
fn check_neurons(net: &Network, bs: &Bitstream, offsets: &[u32], errs: &mut Vec<String>) -> Homes {
    // Where each neuron key lives: (tile index, column).
    let mut home: Homes = BTreeMap::new();
    for (t, tile) in bs.tiles.iter().enumerate() {
        for (c, col) in tile.columns.iter().enumerate() {
            // One source per key (validated): no key has two columns.
            home.insert(col.key, (t, c as u16));
        }
    }
    // Every neuron placed once, with its parameters.
    for (id, p) in net.pops() {
        let Some(n) = p.neurons() else { continue };
        for i in 0..p.size {
            let key = offsets[id.0 as usize] + i;
            match home.get(&key) {
                None => errs.push(format!("neuron {}[{i}] (key {key}) is not placed", p.name)),
                Some(&(t, c)) => {
                    let col = &bs.tiles[t].columns[usize::from(c)];
                    let prm = bs.tiles[t].params.get(usize::from(col.params));
                    if prm != Some(&n.params[i as usize]) || col.v_init != n.v_init[i as usize] {
                        errs.push(format!("neuron {}[{i}]: parameters or v_init differ", p.name));
                    }
                }
            }
        }
    }
    if home.len() != net.pops().filter_map(|(_, p)| p.neurons().map(|_| p.size as usize)).sum::<usize>() {
        errs.push("the bitstream has neuron circuits the network does not".into());
    }
    home
}

/// The multiset of synapses equals the multiset of nodes; false (with the
/// differences in `errs`) when not.
fn check_synapses(net: &Network, bs: &Bitstream, offsets: &[u32], errs: &mut Vec<String>) -> bool {
    // Synapses: (pre key, post key, delay, weight, kind) as multisets; kinds
    // (with their parameters) interned to keep the tuples small.
    let mut kinds: BTreeMap<K, u32> = BTreeMap::new();
    let mut intern = |k: K| {
        let n = kinds.len() as u32;
        *kinds.entry(k).or_insert(n)
    };
    let mut want = Vec::new();
    for (id, pr) in net.projs() {
        let (s, t) = net.endpoints(id);
        let (os, ot) = (offsets[s.0 as usize], offsets[t.0 as usize]);
        let k = intern(match pr.kind {
            SynapseKind::NonVolatile => K::Nv,
            SynapseKind::Volatile(v) => K::Vol(v),
            SynapseKind::Stdp(p) => K::Stdp(p),
        });
        for j in 0..pr.syn.len() {
            want.push((os + pr.syn.pre[j], ot + pr.syn.post[j], pr.syn.delay[j], i64::from(pr.syn.weight[j]), k));
        }
    }
    let mut have = Vec::new();
    for tile in &bs.tiles {
        for n in &tile.nodes {
            let (Some(r), Some(c)) = (tile.rows.get(usize::from(n.row)), tile.columns.get(usize::from(n.col))) else {
                continue;
            };
            let mag = i64::from(n.level) * i64::from(r.scale);
            let k = intern(match r.kind {
                RowKind::NonVolatile => K::Nv,
                RowKind::Volatile(p) => K::Vol(tile.volatile[usize::from(p)]),
                RowKind::Stdp(p) => K::Stdp(tile.stdp[usize::from(p)]),
            });
            have.push((r.key, c.key, r.delay, if r.negative { -mag } else { mag }, k));
        }
    }
    want.sort_unstable();
    have.sort_unstable();
    let kind_name: BTreeMap<u32, K> = kinds.iter().map(|(k, &i)| (i, *k)).collect();
    if want != have {
        let (mut i, mut j) = (0, 0);
        while (i < want.len() || j < have.len()) && errs.len() < MAX_PROBLEMS {
            match (want.get(i), have.get(j)) {
                (Some(x), Some(y)) if x == y => {
                    i += 1;
                    j += 1;
                }
                (Some(x), y) if y.is_none_or(|y| x < y) => {
                    errs.push(format!(
                        "synapse {} -> {} delay {} weight {} {:?}: no node",
                        x.0, x.1, x.2, x.3, kind_name[&x.4]
                    ));
                    i += 1;
                }
                (_, Some(y)) => {
                    errs.push(format!(
                        "node {} -> {} delay {} weight {} {:?}: no such synapse",
                        y.0, y.1, y.2, y.3, y.4
                    ));
                    j += 1;
                }
                _ => break,
            }
        }
        return false;
    }
    true
}

/// Walks every key from its injection router: it must reach exactly the
/// tiles that have rows for it, never visit a router twice and never leave
/// the grid.
fn check_routes(net: &Network, bs: &Bitstream, offsets: &[u32], home: &Homes, errs: &mut Vec<String>) {
    let total = bs.global.key_count; // the network's (checked first)
    let grid = Grid::of(&bs.arch);
    let mut table: Vec<Option<usize>> = vec![None; grid.cells()];
    let lookups: Vec<RouteIndex> = bs.routers.iter().map(|r| RouteIndex::new(&r.entries)).collect();
    for (i, r) in bs.routers.iter().enumerate() {
        table[grid.index(r.x, r.y)] = Some(i);
    }
    // Tiles with rows per key.
    let mut rows_of: BTreeMap<u32, BTreeSet<(u16, u16)>> = BTreeMap::new();
    for tile in &bs.tiles {
        for r in &tile.rows {
            rows_of.entry(r.key).or_default().insert((tile.x, tile.y));
        }
    }
    let inject = injection_routers(net, bs, offsets, total, home, errs);
    let mut visited = vec![u32::MAX; grid.cells()];
    for key in 0..total {
        let want = rows_of.remove(&key).unwrap_or_default();
        let Some(start) = inject[key as usize] else {
            if !want.is_empty() {
                errs.push(format!("key {key}: tiles have rows for it but it has no source"));
            }
            continue;
        };
        let mut got = BTreeSet::new();
        let mut stack = vec![start];
        while let Some((x, y)) = stack.pop() {
            let r = grid.index(x, y);
            if visited[r] == key {
                errs.push(format!("key {key}: reaches router ({x},{y}) twice (loop or merge)"));
                break;
            }
            visited[r] = key;
            let Some(t) = table[r] else { continue };
            let Some(out) = lookups[t].first_match(key) else { continue };
            if out & Dir::Local.bit() != 0 {
                got.insert((x, y));
            }
            for d in Dir::LINKS {
                if out & d.bit() == 0 {
                    continue;
                }
                let Some(n) = grid.neighbour(x, y, d) else {
                    errs.push(format!("key {key}: router ({x},{y}) sends it off the grid"));
                    continue;
                };
                stack.push((n.x, n.y));
            }
        }
        if got != want {
            let missing: Vec<_> = want.difference(&got).collect();
            let extra: Vec<_> = got.difference(&want).collect();
            errs.push(format!("key {key}: not delivered to {missing:?}; delivered without rows to {extra:?}"));
        }
        if errs.len() >= MAX_PROBLEMS {
            break;
        }
    }
    if let Some((&k, _)) = rows_of.iter().next() {
        errs.push(format!("key {k}: rows for a key beyond key_count {total}"));
    }
}

/// The injection router of every key (its neuron's tile, or its input or
/// generator port); every input and generator population must have a port.
fn injection_routers(
    net: &Network,
    bs: &Bitstream,
    offsets: &[u32],
    total: u32,
    home: &Homes,
    errs: &mut Vec<String>,
) -> Vec<Option<(u16, u16)>> {
    // Injection router of every key.
    let mut inject: Vec<Option<(u16, u16)>> = vec![None; total as usize];
    for (&k, &(t, _)) in home {
        if let Some(slot) = inject.get_mut(k as usize) {
            *slot = Some((bs.tiles[t].x, bs.tiles[t].y));
        }
    }
    for p in &bs.ports {
        if matches!(p.kind, PortKind::Input | PortKind::Generator(_)) {
            for k in p.key_base..p.key_base.saturating_add(p.size).min(total) {
                inject[k as usize] = Some((p.x, p.y));
            }
        }
    }
    for (id, p) in net.pops() {
        if matches!(p.kind, PopKind::Input | PopKind::Generator(_)) {
            let has = bs.ports.iter().any(|q| {
                q.name == p.name && q.key_base == offsets[id.0 as usize] && !matches!(q.kind, PortKind::Output)
            });
            if !has {
                errs.push(format!("population `{}` has no injection port", p.name));
            }
        }
    }
    inject
}
