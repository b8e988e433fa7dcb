//! The mesh: every source's multicast tree (traced once through the routing
//! tables when the array is configured) and the cycle model of one step's
//! traffic (links of limited bandwidth, hop latency, queueing).

/// No link / no node.
pub(crate) const NONE: u32 = u32::MAX;

use fpnna_bitstream::{Dir, Xy};

/// A directed link that some route uses: the output `dir` (one of
/// [`Dir::LINKS`]) of router `at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Link {
    pub at: Xy,
    pub dir: Dir,
}

/// A router visited by a multicast tree, in breadth-first order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TreeNode {
    /// Link the packet took to get here (`NONE` at the root).
    pub link: u32,
    /// Children: tree[first_child..first_child + n_children].
    pub first_child: u32,
    pub n_children: u8,
    /// Whether the packet is delivered to this router's tile.
    pub local: bool,
    /// Hops from the root (a tree visits each of at most 65,536 routers
    /// once).
    pub depth: u16,
}

/// What a tree costs when no packet waits.
#[derive(Clone, Copy, Debug, Default)]
struct TreeCost {
    /// Hops of the deepest router.
    depth: u64,
    /// Routers that deliver to their tile.
    locals: u64,
    /// Whether its packet, injected at cycle 0, leaves its last link within
    /// the free-flow check's window (otherwise its flow words are 0).
    fits: bool,
}

/// Most cells of the free-flow check's (link, cycle) table: links times
/// the window of cycles it covers (a power of two, shrunk to fit; a tree
/// deeper than the window sends its steps to the full model).
const CELLS_MAX: usize = 1 << 22;

/// Bits of a cell's count (the stamp of its step above them).
const COUNT_BITS: u32 = 8;

/// Counts of one step's traffic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct NetStep {
    /// Cycles from the first injection to the last arrival (0: no packet).
    pub cycles: u64,
    pub packets: u64,
    pub hops: u64,
    pub deliveries: u64,
    /// Cycles packets spent waiting for a busy link or injection port.
    pub stall: u64,
}

/// What one step has done with a link so far (together: one cache line).
#[derive(Clone, Copy, Debug, Default)]
struct LinkState {
    stamp: u64,
    /// The cycle the link is serving, and how many packets it has sent in it.
    cycle: u64,
    used: u32,
    /// Packets it has carried in this step.
    count: u32,
}

pub(crate) struct Net {
    pub links: Vec<Link>,
    /// Tree of source s: tree[tree_start[s]..tree_start[s + 1]], root first.
    pub tree_start: Vec<u32>,
    pub tree: Vec<TreeNode>,
    /// Injection port of each source: one per router that injects, numbered
    /// in order of discovery (`n_inject` of `Net::new`).
    pub inject: Vec<u32>,
    cost: Vec<TreeCost>,
    /// Per tree node but the root, its cell in `cells` when its packet is
    /// injected at cycle 0: `link << win_bits | (depth - 1) * hop_cycles`
    /// (the cycle it leaves its parent; what the free-flow check reads, 4
    /// bytes instead of a `TreeNode`).
    flow: Vec<u32>,
    win_bits: u32,
    /// The free-flow check's (link, cycle a packet leaves on it) table:
    /// `stamp << COUNT_BITS | packets`, valid when the stamp is the check's.
    cells: Vec<u32>,
    /// Per link, (stamp, packets in the step), when the check counts them.
    per_link: Vec<(u32, u32)>,
    /// Stamp of the current free-flow check, never 0 (below 2^24).
    epoch: u32,
    pub bandwidth: u32,
    pub inject_per_cycle: u32,
    pub hop_cycles: u64,
    /// Per-link state of the current step (valid when stamp == step + 1).
    link: Vec<LinkState>,
    inj_stamp: Vec<u64>,
    inj_count: Vec<u32>,
    /// Tree nodes reached at each cycle of the step, in arrival order.
    buckets: Vec<Vec<u32>>,
    /// Links used in this step: bit l of word l / 64 (so that they are
    /// listed in order without sorting).
    touched: Vec<u64>,
    /// (link, packets) of the last step, sorted by link.
    pub load: Vec<(u32, u32)>,
    /// Most packets any link carried in one step, over the emulator's life.
    pub max_load: u32,
}

impl Net {
    /// Files tree node `node` as reached at cycle `c` of the step.
    #[inline]
    fn file(&mut self, c: u64, node: u32) {
        let c = c as usize;
        if c >= self.buckets.len() {
            self.buckets.resize_with(c + 1, Vec::new);
        }
        self.buckets[c].push(node);
    }

    pub fn new(
        links: Vec<Link>,
        tree_start: Vec<u32>,
        tree: Vec<TreeNode>,
        inject: Vec<u32>,
        n_inject: usize,
        arch: &fpnna_arch::Arch,
    ) -> Net {
        let nl = links.len();
        let hop_cycles = u64::from(arch.timing.hop_cycles.max(1));
        // The window: twice the cycles of the deepest tree (room for
        // packets that wait to be injected), within CELLS_MAX cells.
        let deepest = tree.iter().map(|n| u64::from(n.depth)).max().unwrap_or(0);
        let mut win_bits = (2 * deepest * hop_cycles + 2).next_power_of_two().trailing_zeros();
        while win_bits > 0 && nl << win_bits > CELLS_MAX {
            win_bits -= 1;
        }
        // One pass over the trees: each tree's cost, each node's flow word.
        let mut cost = Vec::with_capacity(tree_start.len().saturating_sub(1));
        let mut flow = Vec::with_capacity(tree.len());
        for w in tree_start.windows(2) {
            let (mut depth, mut locals) = (0, 0);
            for (k, n) in tree[w[0] as usize..w[1] as usize].iter().enumerate() {
                depth = depth.max(u64::from(n.depth));
                locals += u64::from(n.local);
                let leaves = (u64::from(n.depth).max(1) - 1) * hop_cycles;
                flow.push(if k > 0 && leaves >> win_bits == 0 { n.link << win_bits | leaves as u32 } else { 0 });
            }
            let fits = (depth.saturating_sub(1) * hop_cycles) >> win_bits == 0;
            cost.push(TreeCost { depth, locals, fits });
        }
        Net {
            links,
            tree_start,
            tree,
            inject,
            cost,
            flow,
            win_bits,
            cells: vec![0; nl << win_bits],
            per_link: vec![(0, 0); nl],
            epoch: 0,
            bandwidth: u32::from(arch.router.link_bandwidth.max(1)),
            inject_per_cycle: u32::from(arch.router.inject_per_cycle.max(1)),
            hop_cycles,
            link: vec![LinkState::default(); nl],
            inj_stamp: vec![0; n_inject],
            inj_count: vec![0; n_inject],
            buckets: Vec::new(),
            touched: vec![0; nl.div_ceil(64)],
            load: Vec::new(),
            max_load: 0,
        }
    }

    /// The cycle in which source `s`'s packet of this step (`stamp`) leaves
    /// its injection port, which injects `inject_per_cycle` packets a cycle
    /// in source order.
    #[inline]
    fn inject_cycle(&mut self, stamp: u64, s: u32) -> u32 {
        let ip = self.inject[s as usize] as usize;
        if self.inj_stamp[ip] != stamp {
            self.inj_stamp[ip] = stamp;
            self.inj_count[ip] = 0;
        }
        self.inj_count[ip] += 1;
        (self.inj_count[ip] - 1) / self.inject_per_cycle
    }

    /// Reads a word of every cache line of source `s`'s flow words (see
    /// `Built::prefetch`).
    pub fn touch(&self, s: u32) -> u32 {
        let (a, b) = (self.tree_start[s as usize] as usize, self.tree_start[s as usize + 1] as usize);
        (a..b).step_by(16).fold(0, |x, i| x ^ self.flow[i])
    }

    /// Routes the packets of one step's spikes (`sources`, in key order)
    /// and returns how long it took; with `want_load`, lists the packets
    /// each link carried in `load`.
    pub fn step(&mut self, step: u64, sources: &[u32], want_load: bool) -> NetStep {
        let max_before = self.max_load;
        let free = self.free_flow(2 * step + 1, sources, want_load);
        let out = match free {
            Some(out) => out,
            None => self.queued(2 * step + 2, sources),
        };
        // Tests and debug builds check the shortcut against the full model.
        #[cfg(debug_assertions)]
        if free.is_some() {
            assert_eq!(out, self.queued(2 * step + 2, sources), "free-flow shortcut differs at step {step}");
        }
        self.load.clear();
        if free.is_none() || want_load || cfg!(debug_assertions) {
            let mut step_max = 0;
            for (w, bits) in self.touched.iter_mut().enumerate() {
                while *bits != 0 {
                    let l = w * 64 + bits.trailing_zeros() as usize;
                    *bits &= *bits - 1;
                    // (Without `want_load` the loop runs only after the full
                    // model, whose counts are then current.)
                    let n = if free.is_some() && want_load { self.per_link[l].1 } else { self.link[l].count };
                    debug_assert_eq!(n, self.link[l].count, "packets on link {l} at step {step}");
                    if want_load {
                        self.load.push((l as u32, n));
                    }
                    step_max = step_max.max(n);
                }
            }
            if free.is_none() {
                self.max_load = self.max_load.max(step_max);
            }
            // The free-flow check keeps the maximum itself (with shortcuts
            // when a step cannot raise it): debug builds check it.
            debug_assert_eq!(self.max_load, max_before.max(step_max), "most packets on a link, step {step}");
        }
        out
    }

    /// The step's traffic when no packet waits for a link: every router of
    /// a tree is reached `depth * hop_cycles` after its injection, which
    /// holds when no link is asked for by more than `bandwidth` packets in
    /// one cycle of that schedule (by induction over the cycles, nothing
    /// then ever waits). Checks that and returns the counts, or `None`
    /// (some link is contended, or a packet leaves a link past the cycle
    /// window). Injection ports are modelled exactly: a packet that waits
    /// to be injected shifts its whole tree.
    fn free_flow(&mut self, stamp: u64, sources: &[u32], want_load: bool) -> Option<NetStep> {
        let mut out = NetStep::default();
        // With no more packets than a link's bandwidth, no link can be
        // contended; links are counted only to list their loads or to find
        // a new maximum load.
        let k = sources.len() as u32;
        let check = k > self.bandwidth;
        let count = want_load || k > self.max_load;
        if check && self.bandwidth >= (1 << COUNT_BITS) - 1 {
            return None;
        }
        if check || count {
            self.epoch += 1;
            if self.epoch == 1 << (32 - COUNT_BITS) {
                self.cells.fill(0);
                self.per_link.fill((0, 0));
                self.epoch = 1;
            }
        }
        let (epoch, bandwidth, window) = (self.epoch, self.bandwidth, 1u64 << self.win_bits);
        let mut last = None;
        for &s in sources {
            let (a, b) = (self.tree_start[s as usize] as usize, self.tree_start[s as usize + 1] as usize);
            if a == b {
                continue;
            }
            let c0 = self.inject_cycle(stamp, s);
            let cost = self.cost[s as usize];
            out.stall += u64::from(c0);
            out.packets += 1;
            out.hops += (b - a - 1) as u64;
            out.deliveries += cost.locals;
            last = last.max(Some(u64::from(c0) + cost.depth * self.hop_cycles));
            let flow = &self.flow[a + 1..b];
            // (A tree deeper than the window has no flow words to read.)
            if !cost.fits && (check || count) {
                return None;
            }
            if check {
                // The cell of the cycle each packet leaves its parent.
                if u64::from(c0) + cost.depth.saturating_sub(1) * self.hop_cycles >= window {
                    return None;
                }
                for &f in flow {
                    let cell = &mut self.cells[(f + c0) as usize];
                    let n = if *cell >> COUNT_BITS == epoch { *cell & ((1 << COUNT_BITS) - 1) } else { 0 };
                    if n >= bandwidth {
                        return None;
                    }
                    *cell = epoch << COUNT_BITS | (n + 1);
                }
            }
            if count {
                for &f in flow {
                    let l = (f >> self.win_bits) as usize;
                    let pl = &mut self.per_link[l];
                    let n = if pl.0 == epoch { pl.1 + 1 } else { 1 };
                    *pl = (epoch, n);
                    self.max_load = self.max_load.max(n);
                    if want_load && n == 1 {
                        self.touched[l / 64] |= 1 << (l % 64);
                    }
                }
            }
        }
        out.cycles = last.map_or(0, |c| c + 1);
        Some(out)
    }

    /// The step's traffic with queueing. Events are processed in (cycle,
    /// sequence) order, so every link serves its packets first come, first
    /// served: an event is filed in the bucket of its cycle, and since every
    /// new event lies at least one cycle ahead (`hop_cycles >= 1`) and is
    /// appended after all earlier ones, each bucket is in sequence order.
    fn queued(&mut self, stamp: u64, sources: &[u32]) -> NetStep {
        let mut out = NetStep::default();
        let mut pending = 0usize;
        for &s in sources {
            let root = self.tree_start[s as usize];
            if root == self.tree_start[s as usize + 1] {
                continue;
            }
            let c = u64::from(self.inject_cycle(stamp, s));
            out.stall += c;
            out.packets += 1;
            self.file(c, root);
            pending += 1;
        }
        let mut last = None;
        let mut c = 0u64;
        while pending > 0 {
            let bucket = std::mem::take(&mut self.buckets[c as usize]);
            pending -= bucket.len();
            if !bucket.is_empty() {
                last = Some(c);
            }
            for &node in &bucket {
                let tn = self.tree[node as usize];
                out.deliveries += u64::from(tn.local);
                for child in tn.first_child..tn.first_child + u32::from(tn.n_children) {
                    let l = self.tree[child as usize].link as usize;
                    let ls = &mut self.link[l];
                    if ls.stamp != stamp {
                        *ls = LinkState { stamp, cycle: c, used: 0, count: 0 };
                        self.touched[l / 64] |= 1 << (l % 64);
                    }
                    if ls.cycle < c {
                        ls.cycle = c;
                        ls.used = 0;
                    }
                    if ls.used >= self.bandwidth {
                        ls.cycle += 1;
                        ls.used = 0;
                    }
                    ls.used += 1;
                    ls.count += 1;
                    let depart = ls.cycle;
                    out.stall += depart - c;
                    out.hops += 1;
                    self.file(depart + self.hop_cycles, child);
                    pending += 1;
                }
            }
            let mut bucket = bucket;
            bucket.clear();
            self.buckets[c as usize] = bucket;
            c += 1;
        }
        out.cycles = last.map_or(0, |c| c + 1);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chain of `n` hops over links `first..first + n`, delivered at its end.
    fn chain(tree: &mut Vec<TreeNode>, first: u32, n: u32) {
        let base = tree.len() as u32;
        for d in 0..=n {
            let link = if d == 0 { NONE } else { first + d - 1 };
            let (first_child, n_children) = if d < n { (base + d + 1, 1) } else { (0, 0) };
            tree.push(TreeNode { link, first_child, n_children, local: d == n, depth: d as u16 });
        }
    }

    /// With so many links that the free-flow window shrinks below a tree's
    /// depth, that tree's steps take the full model, also when nothing can
    /// be contended but the links' loads are listed (the check must not
    /// count links it has no flow words for); shallow trees keep the
    /// shortcut. Debug builds compare the shortcut with the full model at
    /// every step.
    #[test]
    fn trees_deeper_than_the_window_take_the_full_model() {
        let nl = CELLS_MAX / 4;
        let links = vec![Link { at: Xy { x: 0, y: 0 }, dir: Dir::East }; nl];
        let mut tree = Vec::new();
        chain(&mut tree, 10, 9);
        chain(&mut tree, 100, 2);
        let tree_start = vec![0, 10, 13];
        let arch = fpnna_arch::Arch::preset("small").expect("preset");
        let mut net = Net::new(links, tree_start, tree, vec![0, 1], 2, &arch);
        assert!(1 << net.win_bits < 9, "window of {} cycles", 1 << net.win_bits);
        assert!(!net.cost[0].fits && net.cost[1].fits);
        for (step, sources) in [(0, vec![0]), (1, vec![1]), (2, vec![0, 1]), (3, vec![0])] {
            let out = net.step(step, &sources, true);
            let hops: u64 = sources.iter().map(|&s| if s == 0 { 9 } else { 2 }).sum();
            assert_eq!((out.packets, out.hops), (sources.len() as u64, hops), "step {step}");
            let mut want: Vec<(u32, u32)> =
                sources.iter().flat_map(|&s| if s == 0 { 10..19 } else { 100..102 }).map(|l| (l, 1)).collect();
            want.sort_unstable();
            assert_eq!(net.load, want, "step {step}");
        }
        assert_eq!(net.max_load, 1);
    }
}
