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
    pub n_children: u32,
    /// Whether the packet is delivered to this router's tile.
    pub local: bool,
}

/// Counts of one step's traffic.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NetStep {
    /// Cycles from the first injection to the last arrival (0: no packet).
    pub cycles: u64,
    pub packets: u64,
    pub hops: u64,
    pub deliveries: u64,
    /// Cycles packets spent waiting for a busy link or injection port.
    pub stall: u64,
}

pub(crate) struct Net {
    pub links: Vec<Link>,
    /// Tree of source s: tree[tree_start[s]..tree_start[s + 1]], root first.
    pub tree_start: Vec<u32>,
    pub tree: Vec<TreeNode>,
    /// Injection point of each source (dense index).
    pub inject: Vec<u32>,
    pub bandwidth: u32,
    pub inject_per_cycle: u32,
    pub hop_cycles: u64,
    // Per-link state of the current step (valid when stamp == step + 1).
    link_stamp: Vec<u64>,
    link_cycle: Vec<u64>,
    link_used: Vec<u32>,
    link_count: Vec<u32>,
    inj_stamp: Vec<u64>,
    inj_count: Vec<u32>,
    /// Tree nodes reached at each cycle of the step, in arrival order.
    buckets: Vec<Vec<u32>>,
    touched: Vec<u32>,
    /// (link, packets) of the last step, sorted by link.
    pub load: Vec<(u32, u32)>,
    /// Most packets any link carried in one step, over the emulator's life.
    pub max_load: u32,
    /// Packets per link over the emulator's life.
    pub total_load: Vec<u64>,
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
        Net {
            links,
            tree_start,
            tree,
            inject,
            bandwidth: u32::from(arch.router.link_bandwidth.max(1)),
            inject_per_cycle: u32::from(arch.router.inject_per_cycle.max(1)),
            hop_cycles: u64::from(arch.timing.hop_cycles.max(1)),
            link_stamp: vec![0; nl],
            link_cycle: vec![0; nl],
            link_used: vec![0; nl],
            link_count: vec![0; nl],
            inj_stamp: vec![0; n_inject],
            inj_count: vec![0; n_inject],
            buckets: Vec::new(),
            touched: Vec::new(),
            load: Vec::new(),
            max_load: 0,
            total_load: vec![0; nl],
        }
    }

    /// Routes the packets of one step's spikes (`sources`, in key order)
    /// and returns how long it took. Events are processed in (cycle,
    /// sequence) order, so every link serves its packets first come, first
    /// served: an event is filed in the bucket of its cycle, and since every
    /// new event lies at least one cycle ahead (`hop_cycles >= 1`) and is
    /// appended after all earlier ones, each bucket is in sequence order.
    pub fn step(&mut self, step: u64, sources: &[u32]) -> NetStep {
        let stamp = step + 1;
        let mut out = NetStep::default();
        self.touched.clear();
        let mut pending = 0usize;
        for &s in sources {
            let root = self.tree_start[s as usize];
            if root == self.tree_start[s as usize + 1] {
                continue;
            }
            let ip = self.inject[s as usize] as usize;
            if self.inj_stamp[ip] != stamp {
                self.inj_stamp[ip] = stamp;
                self.inj_count[ip] = 0;
            }
            let c = u64::from(self.inj_count[ip] / self.inject_per_cycle);
            self.inj_count[ip] += 1;
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
                for child in tn.first_child..tn.first_child + tn.n_children {
                    let l = self.tree[child as usize].link as usize;
                    if self.link_stamp[l] != stamp {
                        self.link_stamp[l] = stamp;
                        self.link_cycle[l] = c;
                        self.link_used[l] = 0;
                        self.link_count[l] = 0;
                        self.touched.push(l as u32);
                    }
                    if self.link_cycle[l] < c {
                        self.link_cycle[l] = c;
                        self.link_used[l] = 0;
                    }
                    if self.link_used[l] >= self.bandwidth {
                        self.link_cycle[l] += 1;
                        self.link_used[l] = 0;
                    }
                    self.link_used[l] += 1;
                    self.link_count[l] += 1;
                    let depart = self.link_cycle[l];
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
        self.touched.sort_unstable();
        self.load.clear();
        for &l in &self.touched {
            let n = self.link_count[l as usize];
            self.load.push((l, n));
            self.max_load = self.max_load.max(n);
            self.total_load[l as usize] += u64::from(n);
        }
        out
    }
}
