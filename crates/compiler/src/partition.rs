//! Stage 2: neurons into tiles.
//!
//! A tile row is driven by one (source key, delay, sign, projection) — and
//! a duplicate synapse (same pre, post, delay, sign and projection) gets a
//! row of its own, since each node holds one synapse's state. So a neuron
//! needs exactly as many rows as it has incoming synapses, and a tile needs
//! the union of its neurons' rows. Neurons are taken in key order (which
//! keeps the neighbours of layered and convolutional networks together) and
//! packed greedily: a tile is closed when the next neuron would overflow its
//! columns or rows.

use crate::CompileError;
use crate::nets::{ClusterId, Nets, Pin};
use crate::quantize::Quantized;
use fpnna_arch::Arch;
use fpnna_bitstream::Key;
use fpnna_ir::{KeyMap, Network, PopKind, SynapseKind};
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

/// A fast multiplicative hasher for row keys (membership only: the set is
/// never iterated into output unsorted).
#[derive(Default)]
struct RowHasher(u64);

impl Hasher for RowHasher {
    fn finish(&self) -> u64 {
        // Fold the high bits down: hashbrown indexes buckets by the low bits,
        // and row keys differ mostly in their high bits.
        let z = (self.0 ^ (self.0 >> 31)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

type RowSet = HashSet<RowKey, BuildHasherDefault<RowHasher>>;

/// Bits of a row key: source key (24) | class (28) | duplicate index (12).
const CLASS_SHIFT: u32 = 12;
const KEY_SHIFT: u32 = 40;
const DUP_MASK: u64 = (1 << CLASS_SHIFT) - 1;
const CLASS_MASK: u64 = (1 << (KEY_SHIFT - CLASS_SHIFT)) - 1;

/// A row class: what a row is, apart from its source key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Class {
    /// Projection index.
    pub proj: u32,
    /// Delay, timesteps.
    pub delay: u8,
    /// Negative line of the differential pair.
    pub negative: bool,
}

/// A tile row: its source key, its class (index into `Netlist::classes`)
/// and its duplicate index, packed so that row keys sort by source key,
/// then class, then duplicate (and hash as one `u64`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct RowKey(u64);

impl RowKey {
    /// The row key of (source key, class, duplicate index).
    pub fn new(src: u32, class: u32, dup: u32) -> RowKey {
        RowKey((u64::from(src) << KEY_SHIFT) | (u64::from(class) << CLASS_SHIFT) | u64::from(dup))
    }

    /// The key of the row's source.
    pub fn src(self) -> Key {
        Key::new((self.0 >> KEY_SHIFT) as u32)
    }

    /// The row's class: an index into `Netlist::classes`.
    pub fn class(self) -> usize {
        ((self.0 >> CLASS_SHIFT) & CLASS_MASK) as usize
    }

    /// The duplicate index: 0 unless a synapse of the same (source,
    /// class) to the same neuron came before.
    pub fn dup(self) -> u32 {
        (self.0 & DUP_MASK) as u32
    }

    /// Whether two row keys differ in their duplicate index only.
    fn same_but_dup(self, other: RowKey) -> bool {
        self.0 & !DUP_MASK == other.0 & !DUP_MASK
    }

    /// This row key (of duplicate index 0) with duplicate index `dup`.
    fn with_dup(self, dup: u64) -> RowKey {
        RowKey(self.0 | dup)
    }
}

/// The incoming synapses of every neuron, as row keys with their levels.
pub(crate) struct Netlist {
    /// Number of keys (all populations).
    pub key_count: u32,
    /// Row classes, indexed by the class field of a row key.
    pub classes: Vec<Class>,
    /// Keys of the neurons to place, in order.
    pub neurons: Vec<u32>,
    /// CSR over `neurons`: incoming (row key, level) of neuron `i` are
    /// `incoming[start[i]..start[i + 1]]`, sorted by row key.
    pub start: Vec<usize>,
    /// See `start`.
    pub incoming: Vec<(RowKey, u16)>,
}

/// Refuses neuron parameters that a `bits`-wide register cannot hold (the
/// model computes in 32 bits; narrower circuits must never see more).
fn check_width(pop: &str, n: &fpnna_ir::Neurons, bits: u8) -> Result<(), CompileError> {
    let limit = 1i64 << (bits.clamp(8, 32) - 1);
    let fits = |x: i32| i64::from(x) > -limit && i64::from(x) < limit;
    let values = n.params.iter().flat_map(|q| {
        let floor = (q.v_min != i32::MIN).then_some(("v_min", q.v_min));
        [("threshold", q.threshold), ("bias", q.bias)].into_iter().chain(floor)
    });
    for (what, x) in values.chain(n.v_init.iter().map(|&v| ("v_init", v))) {
        if !fits(x) {
            return Err(CompileError::TooWide {
                pop: pop.to_string(),
                what,
                value: fpnna_model::from_fixed(x),
                bits,
                limit: limit as f64 / f64::from(fpnna_model::ONE),
            });
        }
    }
    Ok(())
}

/// The keys of the neurons to place, in key order, and the index of each
/// neuron key among them; refuses refractory periods and parameters the
/// neuron circuit cannot hold.
fn neurons_to_place(net: &Network, keys: &KeyMap, arch: &Arch) -> Result<(Vec<u32>, Vec<u32>), CompileError> {
    // Index of each neuron key among the neurons to place.
    let mut slot = vec![u32::MAX; keys.len() as usize];
    let mut neurons = Vec::new();
    for (id, p) in net.pops() {
        if let Some(n) = p.neurons() {
            let refractory = n.params.iter().map(|q| q.refractory).max().unwrap_or(0);
            if refractory > arch.neuron.max_refractory {
                return Err(CompileError::RefractoryTooLong {
                    pop: p.name.clone(),
                    refractory,
                    max: arch.neuron.max_refractory,
                });
            }
            check_width(&p.name, n, arch.neuron.state_bits)?;
            let o = keys.base(id);
            for k in o..o + p.size {
                slot[k as usize] = neurons.len() as u32;
                neurons.push(k);
            }
        }
    }
    Ok((slot, neurons))
}

/// Builds the netlist of the quantized network, checking what no placement
/// can fix: register widths, delays beyond the tile's, node modes the tile
/// lacks, and a neuron whose fan-in alone needs more rows than a tile has.
fn netlist(q: &Quantized, arch: &Arch) -> Result<Netlist, CompileError> {
    let net = &q.net;
    let keys = net.keys();
    let key_count = keys.len();
    let (slot, neurons) = neurons_to_place(net, &keys, arch)?;
    let mut classes: Vec<Class> = Vec::new();
    let mut counts = vec![0usize; neurons.len() + 1];
    for (id, pr) in net.projs() {
        let max = pr.syn.delay.iter().copied().max().unwrap_or(1);
        if max > arch.tile.max_delay {
            return Err(CompileError::DelayTooLong { proj: pr.name.clone(), delay: max, max: arch.tile.max_delay });
        }
        let needs_volatile = pr.kind != SynapseKind::NonVolatile;
        if !pr.syn.is_empty() && needs_volatile && !arch.tile.volatile_nodes {
            return Err(CompileError::NodeMode { proj: pr.name.clone(), kind: pr.kind.label(), mode: "volatile" });
        }
        if !pr.syn.is_empty() && !needs_volatile && !arch.tile.nonvolatile_nodes {
            return Err(CompileError::NodeMode { proj: pr.name.clone(), kind: pr.kind.label(), mode: "nonvolatile" });
        }
        let ob = keys.base(net.endpoints(id).1);
        for &post in &pr.syn.post {
            counts[slot[(ob + post) as usize] as usize + 1] += 1;
        }
    }
    for i in 0..neurons.len() {
        counts[i + 1] += counts[i];
    }
    let start = counts.clone();
    let mut fill = counts;
    let mut incoming = vec![(RowKey::default(), 0u16); start[neurons.len()]];
    for (id, pr) in net.projs() {
        let (a, b) = net.endpoints(id);
        let (oa, ob) = (keys.base(a), keys.base(b));
        // Class index per (delay, sign) of this projection, in first-use order.
        let mut local = [[u32::MAX; 2]; 256];
        let levels = &q.levels[id.0 as usize];
        for k in 0..pr.syn.len() {
            let w = pr.syn.weight[k];
            let (d, neg) = (pr.syn.delay[k], w < 0);
            let c = &mut local[d as usize][usize::from(neg)];
            if *c == u32::MAX {
                *c = classes.len() as u32;
                classes.push(Class { proj: id.0, delay: d, negative: neg });
            }
            let n = slot[(ob + pr.syn.post[k]) as usize] as usize;
            incoming[fill[n]] = (RowKey::new(oa + pr.syn.pre[k], *c, 0), levels[k]);
            fill[n] += 1;
        }
    }
    if classes.len() as u64 > CLASS_MASK {
        return Err(CompileError::Unsupported(format!(
            "{} distinct (projection, delay, sign) row classes; at most {CLASS_MASK} are supported",
            classes.len()
        )));
    }
    // Sort each neuron's synapses and number duplicates. Numbering keeps the
    // order: a duplicate's index lies below the next row key's class bits,
    // and the indices rise with the (already sorted) levels of a run.
    let rows_limit = usize::from(arch.tile.rows);
    for i in 0..neurons.len() {
        let seg = &mut incoming[start[i]..start[i + 1]];
        if seg.len() > rows_limit {
            return Err(fan_in_error(net, &classes, neurons[i], seg, rows_limit));
        }
        seg.sort_unstable();
        let mut dup = 0u64;
        for j in 1..seg.len() {
            if seg[j].0.same_but_dup(seg[j - 1].0) {
                dup += 1;
                seg[j].0 = seg[j].0.with_dup(dup);
            } else {
                dup = 0;
            }
        }
    }
    Ok(Netlist { key_count, classes, neurons, start, incoming })
}

fn fan_in_error(net: &Network, classes: &[Class], key: u32, seg: &[(RowKey, u16)], limit: usize) -> CompileError {
    let (pop, index) = net.keys().locate(fpnna_ir::NeuronId(key)).expect("a key of the network");
    let p = net.pop(pop);
    let mut per_proj = std::collections::BTreeMap::new();
    for &(r, _) in seg {
        *per_proj.entry(classes[r.class()].proj).or_insert(0usize) += 1;
    }
    let (&proj, &n) = per_proj.iter().max_by_key(|(p, n)| (**n, std::cmp::Reverse(**p))).expect("non-empty");
    CompileError::FanInTooLarge {
        pop: p.name.clone(),
        index,
        rows: seg.len(),
        limit,
        proj: net.proj(fpnna_ir::ProjId(proj)).name.clone(),
        proj_rows: n,
    }
}

/// Stage 2's product: neurons grouped into tiles, and the pins between them.
pub(crate) struct Partition {
    /// The incoming synapses of every neuron.
    pub netlist: Netlist,
    /// Per cluster: range into `Netlist::neurons`.
    pub clusters: Vec<Range<usize>>,
    /// Per cluster: its distinct row keys, sorted.
    pub rows: Vec<Vec<RowKey>>,
    /// Ports: the input and generator populations, in id order.
    pub ports: u32,
    /// Per key: where it is injected (its neuron's cluster or its port).
    pub source: Vec<Option<Pin>>,
    /// Per source key that reaches a tile: its source and destinations.
    pub nets: Nets,
}

/// Builds the netlist of the quantized network, packs it into tiles and
/// lists the pins of every key.
pub(crate) fn partition(q: &Quantized, arch: &Arch, cap: &Capacity) -> Result<Partition, CompileError> {
    let netlist = netlist(q, arch)?;
    let (clusters, rows) = pack(&netlist, arch, cap)?;
    let (source, ports) = sources(&q.net, &netlist, &clusters);
    let nets = nets(&source, &rows);
    Ok(Partition { netlist, clusters, rows, ports, source, nets })
}

/// Per key, where it is injected; and the number of ports.
fn sources(net: &Network, nl: &Netlist, clusters: &[Range<usize>]) -> (Vec<Option<Pin>>, u32) {
    let keys = net.keys();
    let mut source = vec![None; nl.key_count as usize];
    let mut ports = 0u32;
    for (id, p) in net.pops() {
        if is_port_source(&p.kind) {
            let o = keys.base(id);
            source[o as usize..(o + p.size) as usize].fill(Some(Pin::Port(ports)));
            ports += 1;
        }
    }
    for (c, r) in clusters.iter().enumerate() {
        for &k in &nl.neurons[r.clone()] {
            source[k as usize] = Some(Pin::Cluster(ClusterId(c as u32)));
        }
    }
    (source, ports)
}

/// The nets: every (source key, destination cluster) pair of the rows.
fn nets(source: &[Option<Pin>], rows: &[Vec<RowKey>]) -> Nets {
    let mut pairs: Vec<(u32, ClusterId)> = Vec::with_capacity(rows.iter().map(Vec::len).sum());
    for (c, rows) in rows.iter().enumerate() {
        for &r in rows {
            pairs.push((r.src().get(), ClusterId(c as u32)));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    Nets::new(&pairs, |k| source[k as usize].expect("a row's key is injected somewhere"))
}

/// How much a tile may hold: neurons, and rows for a given number of
/// neurons. A perfect array offers every line; on a chip with stuck
/// devices a row line is usable by a tile of k neurons only if none of
/// the k column crosspoints conducts unasked (docs/chip.md), so a tile of
/// more neurons has fewer usable rows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Capacity {
    /// Neurons per tile.
    pub cols: usize,
    /// Row lines per tile.
    pub rows: usize,
    /// Chance that one crosspoint makes its row line unusable.
    pub p_lost: f64,
    /// Share of the expected usable rows the packer fills.
    pub fill: f64,
}

impl Capacity {
    /// The whole tile of `arch`.
    pub fn of(arch: &Arch) -> Capacity {
        Capacity { cols: usize::from(arch.tile.cols), rows: usize::from(arch.tile.rows), p_lost: 0.0, fill: 1.0 }
    }

    /// Rows a tile of `k` neurons may use.
    pub fn rows_for(&self, k: usize) -> usize {
        if self.p_lost <= 0.0 && self.fill >= 1.0 {
            return self.rows;
        }
        let expected = self.rows as f64 * (1.0 - self.p_lost).powi(k.min(i32::MAX as usize) as i32) * self.fill;
        (expected as usize).clamp(1, self.rows)
    }
}

/// Greedy packing in key order (see the module doc): per cluster its
/// neurons and its sorted row keys.
#[allow(clippy::type_complexity)]
fn pack(nl: &Netlist, arch: &Arch, cap: &Capacity) -> Result<(Vec<Range<usize>>, Vec<Vec<RowKey>>), CompileError> {
    let (cols, rows_cap) = (cap.cols, cap.rows);
    let mut members = Vec::new();
    let mut rows = Vec::new();
    let mut set = RowSet::default();
    let mut first = 0usize;
    for i in 0..nl.neurons.len() {
        let seg = &nl.incoming[nl.start[i]..nl.start[i + 1]];
        let new = seg.iter().filter(|(r, _)| !set.contains(r)).count();
        if i > first && (i - first >= cols || set.len() + new > cap.rows_for(i - first + 1)) {
            members.push(first..i);
            rows.push(take_sorted(&mut set));
            first = i;
        }
        set.extend(seg.iter().map(|&(r, _)| r));
    }
    if nl.neurons.len() > first {
        members.push(first..nl.neurons.len());
        rows.push(take_sorted(&mut set));
    }
    let available = arch.tiles() as usize;
    if members.len() > available {
        return Err(CompileError::TooManyTiles {
            needed: members.len(),
            available,
            neurons: nl.neurons.len(),
            cols,
            rows: rows_cap,
            hint: if available < 1024 {
                "use a larger preset (e.g. `large`) or a larger grid"
            } else {
                "use an architecture with a larger grid, or more rows per tile if the fan-in of the neurons limits how many share a tile"
            },
        });
    }
    Ok((members, rows))
}

fn take_sorted(set: &mut RowSet) -> Vec<RowKey> {
    let mut v: Vec<RowKey> = set.drain().collect();
    v.sort_unstable();
    v
}

/// Whether a population is a spike source injected at a port.
fn is_port_source(kind: &PopKind) -> bool {
    !matches!(kind, PopKind::Neurons(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_keys_round_trip_and_sort_by_key_first() {
        let a = RowKey::new(5, 7, 1);
        assert_eq!((a.src(), a.class(), a.dup()), (Key::new(5), 7, 1));
        assert!(RowKey::new(5, 9, 0) < RowKey::new(6, 0, 0));
        assert!(RowKey::new(5, 7, 0) < a);
        assert!(a.same_but_dup(RowKey::new(5, 7, 0)) && RowKey::new(5, 7, 0).with_dup(1) == a);
    }
}
