//! The pins of a design: each source key's source and destination
//! clusters, the hypergraph the placer and the router work on.

use fpnna_bitstream::Key;
use std::fmt;

/// A cluster of the partition (the neurons of one tile), by its index in
/// `Partition::clusters`, which is also its index in `Placement::pos`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ClusterId(pub u32);

impl ClusterId {
    /// Its index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a key is injected: a neuron's cluster (tile) or a port (an input
/// or generator population's injection router). Clusters order before
/// ports, which fixes the order of merged nets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Pin {
    /// A cluster (a tile of the partition).
    Cluster(ClusterId),
    /// Port index (input and generator populations, in id order).
    Port(u32),
}

impl Pin {
    /// The cluster, when the pin is one.
    pub fn cluster(self) -> Option<ClusterId> {
        match self {
            Pin::Cluster(c) => Some(c),
            Pin::Port(_) => None,
        }
    }
}

/// Per-key nets, plus their merged form for placement.
pub(crate) struct Nets {
    /// Source key of each raw net (ascending).
    pub key: Vec<Key>,
    /// Source of each raw net.
    pub src: Vec<Pin>,
    /// CSR into `dests`.
    pub start: Vec<usize>,
    /// Destination clusters, sorted, distinct.
    pub dests: Vec<ClusterId>,
    /// Merged nets: a representative raw net and a weight.
    pub merged: Vec<(u32, u32)>,
}

impl Nets {
    /// Builds raw nets from (source key, destination cluster) pairs, sorted
    /// and distinct.
    pub fn new(pairs: &[(u32, ClusterId)], src_of: impl Fn(u32) -> Pin) -> Nets {
        let mut n = Nets { key: Vec::new(), src: Vec::new(), start: vec![0], dests: Vec::new(), merged: Vec::new() };
        for (i, &(k, c)) in pairs.iter().enumerate() {
            if i == 0 || pairs[i - 1].0 != k {
                if i > 0 {
                    n.start.push(n.dests.len());
                }
                n.key.push(Key::new(k));
                n.src.push(src_of(k));
            }
            n.dests.push(c);
        }
        if !pairs.is_empty() {
            n.start.push(n.dests.len());
        }
        let mut order: Vec<u32> = (0..n.key.len() as u32).collect();
        order.sort_by(|&a, &b| (n.src[a as usize], n.d(a as usize)).cmp(&(n.src[b as usize], n.d(b as usize))));
        for (i, &r) in order.iter().enumerate() {
            let same = i > 0 && {
                let p = order[i - 1] as usize;
                n.src[p] == n.src[r as usize] && n.d(p) == n.d(r as usize)
            };
            if same {
                n.merged.last_mut().expect("a previous net").1 += 1;
            } else {
                n.merged.push((r, 1));
            }
        }
        n.merged.sort_unstable();
        n
    }

    /// Destinations of raw net `i`.
    pub fn d(&self, i: usize) -> &[ClusterId] {
        &self.dests[self.start[i]..self.start[i + 1]]
    }

    /// Number of raw nets.
    pub fn len(&self) -> usize {
        self.key.len()
    }
}
