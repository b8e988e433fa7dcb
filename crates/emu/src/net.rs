//! The mesh: every source's multicast tree (traced once through the routing
//! tables when the array is configured) and the cycle model of one step's
//! traffic (links of limited bandwidth, hop latency, queueing).

/// No link / no node.
pub(crate) const NONE: u32 = u32::MAX;

/// A directed link that some route uses: the output `dir` of router (x, y).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Link {
    pub x: u16,
    pub y: u16,
    pub dir: u8,
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
}

/// Bits of a tree node's depth in `Net::flow` (the link id above them:
/// grids have at most 65,536 routers, so 2^18 links).
const DEPTH_BITS: u32 = 14;

/// Most packets a link's record holds for the free-flow check; a link
/// that more packets cross in one step sends the step to the full model.
const SEEN: usize = 5;

/// The packets that cross a link in one step, by the cycle each would
/// cross it if none waited (valid when stamp is the step's).
/// (16 bytes, so that four share a cache line.)
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    stamp: u32,
    n: u16,
    at: [u16; SEEN],
}

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
    /// Injection point of each source (dense index).
    pub inject: Vec<u32>,
    cost: Vec<TreeCost>,
    /// Per tree node, `link << DEPTH_BITS | depth` (what the free-flow
    /// check reads, 4 bytes instead of a `TreeNode`); a source with a node
    /// too deep for it has `TreeCost::depth == u64::MAX`.
    flow: Vec<u32>,
    seen: Vec<Seen>,
    /// Stamp of the current free-flow check (`Seen::stamp`), never 0.
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
        // One pass over the trees: each tree's cost, each node's flow word.
        let mut cost = Vec::with_capacity(tree_start.len().saturating_sub(1));
        let mut flow = Vec::with_capacity(tree.len());
        for w in tree_start.windows(2) {
            let (mut depth, mut locals, mut fit) = (0, 0, true);
            for (k, n) in tree[w[0] as usize..w[1] as usize].iter().enumerate() {
                depth = depth.max(u64::from(n.depth));
                locals += u64::from(n.local);
                let fits = u32::from(n.depth) < 1 << DEPTH_BITS && n.link < 1 << (32 - DEPTH_BITS);
                fit &= fits || k == 0;
                flow.push(if fits { n.link << DEPTH_BITS | u32::from(n.depth) } else { 0 });
            }
            cost.push(TreeCost { depth: if fit { depth } else { u64::MAX }, locals });
        }
        Net {
            links,
            tree_start,
            tree,
            inject,
            cost,
            flow,
            seen: vec![Seen::default(); nl],
            epoch: 0,
            bandwidth: u32::from(arch.router.link_bandwidth.max(1)),
            inject_per_cycle: u32::from(arch.router.inject_per_cycle.max(1)),
            hop_cycles: u64::from(arch.timing.hop_cycles.max(1)),
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
                    let n = if free.is_some() && want_load { u32::from(self.seen[l].n) } else { self.link[l].count };
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
    /// (some link is contended, or crossed by more than `SEEN` packets).
    /// Injection ports are modelled exactly: a packet that waits to be
    /// injected shifts its whole tree.
    fn free_flow(&mut self, stamp: u64, sources: &[u32], want_load: bool) -> Option<NetStep> {
        let mut out = NetStep::default();
        // With no more packets than a link's bandwidth, no link can be
        // contended; then per-link bookkeeping is needed only to list the
        // loads or to find a new maximum load.
        let k = sources.len() as u32;
        let per_link = want_load || k > self.bandwidth || k > self.max_load.max(1);
        if !per_link && k == 1 && self.tree_start[sources[0] as usize + 1] - self.tree_start[sources[0] as usize] > 1 {
            self.max_load = self.max_load.max(1);
        }
        if per_link {
            self.epoch = self.epoch.wrapping_add(1);
            if self.epoch == 0 {
                self.seen.fill(Seen::default());
                self.epoch = 1;
            }
        }
        let epoch = self.epoch;
        let mut last = None;
        for &s in sources {
            let (a, b) = (self.tree_start[s as usize] as usize, self.tree_start[s as usize + 1] as usize);
            if a == b {
                continue;
            }
            let c0 = self.inject_cycle(stamp, s);
            let cost = self.cost[s as usize];
            if cost.depth == u64::MAX {
                return None;
            }
            out.stall += u64::from(c0);
            out.packets += 1;
            out.hops += (b - a - 1) as u64;
            out.deliveries += cost.locals;
            last = last.max(Some(u64::from(c0) + cost.depth * self.hop_cycles));
            if !per_link {
                continue;
            }
            for &f in &self.flow[a + 1..b] {
                // The cycle it leaves its parent.
                let depth = f & ((1 << DEPTH_BITS) - 1);
                let at = u64::from(c0) + u64::from(depth - 1) * self.hop_cycles;
                let at = u16::try_from(at).ok()?;
                let l = (f >> DEPTH_BITS) as usize;
                let seen = &mut self.seen[l];
                if seen.stamp != epoch {
                    *seen = Seen { stamp: epoch, n: 0, at: [0; SEEN] };
                    if want_load {
                        self.touched[l / 64] |= 1 << (l % 64);
                    }
                }
                let n = seen.n as usize;
                if n == SEEN || seen.at[..n].iter().filter(|&&c| c == at).count() >= self.bandwidth as usize {
                    return None;
                }
                seen.at[n] = at;
                seen.n += 1;
                self.max_load = self.max_load.max(u32::from(seen.n));
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
