//! Stage 4: a multicast tree per source key, and the routing tables.
//!
//! Baseline: dimension-ordered trees (x then y, or y then x, whichever uses
//! fewer routers). Every router of a tree needs one table entry for the key
//! (there are no default routes), so the hard resource is table entries per
//! router; tables are compressed into aligned key/mask blocks. When a
//! compressed table still overflows, PathFinder negotiated congestion
//! (VPR) rips up and reroutes the trees through overused routers, with A*
//! grown Steiner trees inside the net's bounding box plus a margin of 3.
//! Link load (trees crossing a link, i.e. packets per step if every key
//! fires once) is a soft cost that steers trees away from busy links.

use crate::CompileError;
use crate::partition::Partition;
use crate::place::Placement;
use fpnna_arch::Arch;
use fpnna_bitstream::{Dir, Grid, Key, RouteEntry, Xy};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const MAX_ITERATIONS: u32 = 40;
/// Iterations without a new best total overuse before giving up.
const STALL: u32 = 6;
const MARGIN: u16 = 3;

/// One PathFinder iteration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RouteIteration {
    /// 1-based; iteration 1 is the dimension-ordered baseline.
    pub iteration: u32,
    /// Routers whose compressed table exceeds `router.table_entries`.
    pub overused_routers: u32,
    /// Sum over routers of entries beyond the limit.
    pub total_overuse: u64,
    /// Links used, summed over trees.
    pub total_hops: u64,
    /// Trees ripped up and rerouted in this iteration.
    pub rerouted: u32,
}

/// Stage 4's product: a routed design.
pub(crate) struct Routing {
    /// Per net of the partition (`Nets` order): its tree, as (router,
    /// out-set) sorted by router.
    pub trees: Vec<Vec<(u32, u8)>>,
    /// The grid: routers are numbered by its dense index.
    pub grid: Grid,
    /// Compressed table of each router (by dense index).
    pub tables: Vec<Vec<RouteEntry>>,
    /// Uncompressed entries per router.
    pub uncompressed: Vec<u32>,
    /// Load per directed link, index router * 4 + direction (`Dir::LINKS` order).
    pub link_load: Vec<u32>,
    /// Per iteration.
    pub iterations: Vec<RouteIteration>,
    /// Links used, summed over trees.
    pub total_hops: u64,
    /// Longest source-to-destination path, hops.
    pub max_hops: u32,
}

/// One source key to route: from router `src` to routers `dests`.
pub(crate) struct Net<'a> {
    pub key: Key,
    pub src: u32,
    pub dests: &'a [u32],
}

/// The direction bits of the four links (every bit but `Local`).
const LINK_BITS: u8 = Dir::ALL_BITS & !Dir::Local.bit();

/// Router number of the router at `p` (the grid's dense index).
fn id(g: Grid, p: Xy) -> u32 {
    g.index(p.x, p.y) as u32
}

/// Coordinates of router `r`.
fn at(g: Grid, r: u32) -> Xy {
    g.xy(r as usize)
}

/// The router next to router `r` in direction `d`; `None` off the grid.
fn step(g: Grid, r: u32, d: Dir) -> Option<u32> {
    let p = at(g, r);
    g.neighbour(p.x, p.y, d).map(|n| id(g, n))
}

/// Manhattan distance between two routers, hops.
fn manhattan(a: Xy, b: Xy) -> i32 {
    (i32::from(a.x) - i32::from(b.x)).abs() + (i32::from(a.y) - i32::from(b.y)).abs()
}

/// Routes every net of the placed partition on the grid of `arch`.
pub(crate) fn route(
    part: &Partition,
    pl: &Placement,
    arch: &Arch,
    progress: crate::OnProgress<'_>,
) -> Result<Routing, CompileError> {
    let grid = Grid::of(arch);
    let router = |p: Xy| id(grid, p);
    let nets = &part.nets;
    let dest_routers: Vec<Vec<u32>> = (0..nets.len())
        .map(|i| {
            let mut d: Vec<u32> = nets.d(i).iter().map(|&c| router(pl.pos[c.index()])).collect();
            d.sort_unstable();
            d
        })
        .collect();
    let rnets: Vec<Net> = (0..nets.len())
        .map(|i| Net { key: nets.key[i], src: router(pl.at(nets.src[i])), dests: &dest_routers[i] })
        .collect();
    // Keys that are injected somewhere but go nowhere.
    let mut has_net = vec![false; part.source.len()];
    nets.key.iter().for_each(|&k| has_net[k.get() as usize] = true);
    let idle: Vec<(u32, Key)> = (0..part.source.len() as u32)
        .filter_map(|k| {
            part.source[k as usize].filter(|_| !has_net[k as usize]).map(|pin| (router(pl.at(pin)), Key::new(k)))
        })
        .collect();
    route_nets(&rnets, &idle, grid, arch.router.table_entries, progress)
}

/// Routes every net; `cap` is the table size of a router.
fn route_nets(
    nets: &[Net],
    idle: &[(u32, Key)],
    g: Grid,
    cap: u32,
    progress: crate::OnProgress<'_>,
) -> Result<Routing, CompileError> {
    let nr = g.cells();
    let mut scratch = vec![0u8; nr];
    let mut trees: Vec<Vec<(u32, u8)>> = nets.iter().map(|n| dor_best(g, n, &mut scratch)).collect();
    let mut occ = vec![0u32; nr];
    let mut link = vec![0u32; nr * 4];
    for t in &trees {
        add_tree(t, &mut occ, &mut link, 1);
    }
    let mut tables = compress_all(nets, &trees, idle, nr);
    let mut iterations = Vec::new();
    let (mut over, mut over_n) = overuse(&tables, cap);
    iterations.push(RouteIteration {
        iteration: 1,
        overused_routers: over_n,
        total_overuse: over,
        total_hops: hops(&trees),
        rerouted: 0,
    });
    let mut hist = vec![0f64; nr];
    let mut pres_fac = 0.5;
    let (mut best, mut stall) = (over, 0u32);
    let mut astar = AStar::new(nr);
    while over > 0 {
        let it = iterations.len() as u32 + 1;
        if it > MAX_ITERATIONS || stall >= STALL {
            return Err(unroutable(g, &tables, &link, cap, iterations.len() as u32, over));
        }
        // Estimated compressed occupancy: uncompressed count times the
        // compression ratio of the last iteration.
        let ratio: Vec<f64> =
            (0..nr).map(|r| if occ[r] == 0 { 1.0 } else { tables[r].len() as f64 / f64::from(occ[r]) }).collect();
        for r in 0..nr {
            let c = tables[r].len() as u32;
            if c > cap {
                hist[r] += f64::from(c - cap) / f64::from(cap);
            }
        }
        let hot: Vec<bool> = (0..nr).map(|r| tables[r].len() as u32 > cap).collect();
        let mut rerouted = 0;
        let max_link = link.iter().copied().max().unwrap_or(0).max(1);
        for (i, n) in nets.iter().enumerate() {
            if !trees[i].iter().any(|&(r, _)| hot[r as usize]) {
                continue;
            }
            add_tree(&trees[i], &mut occ, &mut link, -1);
            let cost = |r: usize, l: usize| {
                let o = f64::from(occ[r]) * ratio[r] + 1.0 - f64::from(cap);
                let pres = 1.0 + pres_fac * 10.0 * o.max(0.0) / f64::from(cap);
                (1.0 + hist[r]) * pres + 0.5 * f64::from(link[l]) / f64::from(max_link)
            };
            trees[i] = astar.tree(g, n, &cost);
            add_tree(&trees[i], &mut occ, &mut link, 1);
            rerouted += 1;
        }
        pres_fac *= 1.3;
        tables = compress_all(nets, &trees, idle, nr);
        (over, over_n) = overuse(&tables, cap);
        iterations.push(RouteIteration {
            iteration: it,
            overused_routers: over_n,
            total_overuse: over,
            total_hops: hops(&trees),
            rerouted,
        });
        if let Some(p) = progress {
            p(crate::Progress::Route(iterations.last().expect("just pushed")));
        }
        if over < best {
            best = over;
            stall = 0;
        } else {
            stall += 1;
        }
    }
    let max_hops = nets.iter().zip(&trees).map(|(n, t)| depth(g, n.src, t)).max().unwrap_or(0);
    let total_hops = hops(&trees);
    Ok(Routing { grid: g, trees, tables, uncompressed: occ, link_load: link, total_hops, max_hops, iterations })
}

fn overuse(tables: &[Vec<RouteEntry>], cap: u32) -> (u64, u32) {
    let mut total = 0u64;
    let mut n = 0u32;
    for t in tables {
        if t.len() as u32 > cap {
            total += t.len() as u64 - u64::from(cap);
            n += 1;
        }
    }
    (total, n)
}

fn hops(trees: &[Vec<(u32, u8)>]) -> u64 {
    trees.iter().flatten().map(|&(_, o)| u64::from((o & LINK_BITS).count_ones())).sum()
}

fn add_tree(t: &[(u32, u8)], occ: &mut [u32], link: &mut [u32], sign: i32) {
    for &(r, o) in t {
        occ[r as usize] = occ[r as usize].wrapping_add_signed(sign);
        for (d, dir) in Dir::LINKS.iter().enumerate() {
            if o & dir.bit() != 0 {
                let l = r as usize * 4 + d;
                link[l] = link[l].wrapping_add_signed(sign);
            }
        }
    }
}

/// Longest path from the source through the tree, in hops.
fn depth(g: Grid, src: u32, t: &[(u32, u8)]) -> u32 {
    let mut best = 0;
    let mut stack = vec![(src, 0u32)];
    while let Some((r, d)) = stack.pop() {
        best = best.max(d);
        let Ok(i) = t.binary_search_by_key(&r, |&(x, _)| x) else { continue };
        for dir in Dir::LINKS {
            if t[i].1 & dir.bit() != 0 {
                stack.push((step(g, r, dir).expect("a tree stays on the grid"), d + 1));
            }
        }
    }
    best
}

/// The smaller of the x-first and y-first dimension-ordered trees.
fn dor_best(g: Grid, n: &Net, scratch: &mut [u8]) -> Vec<(u32, u8)> {
    if n.dests.is_empty() {
        return Vec::new();
    }
    let a = dor(g, n, true, scratch);
    let b = dor(g, n, false, scratch);
    if b.len() < a.len() { b } else { a }
}

/// The direction that brings coordinate `from` closer to `to` (`up` when
/// it must grow, `down` when it must shrink); `None` once there.
fn toward(from: u16, to: u16, up: Dir, down: Dir) -> Option<Dir> {
    match from.cmp(&to) {
        std::cmp::Ordering::Less => Some(up),
        std::cmp::Ordering::Greater => Some(down),
        std::cmp::Ordering::Equal => None,
    }
}

/// The dimension-ordered multicast tree of `n` (x then y, or y then x).
/// `mark` is all zeros, and is left so.
fn dor(g: Grid, n: &Net, x_first: bool, mark: &mut [u8]) -> Vec<(u32, u8)> {
    let mut touched = Vec::new();
    let src = at(g, n.src);
    let mut set = |p: Xy, d: Dir, touched: &mut Vec<u32>| {
        let r = id(g, p);
        if mark[r as usize] == 0 {
            touched.push(r);
        }
        mark[r as usize] |= d.bit();
    };
    for &d in n.dests {
        let to = at(g, d);
        let mut p = src;
        for phase in 0..2 {
            let along_x = (phase == 0) == x_first;
            loop {
                let dir = if along_x {
                    toward(p.x, to.x, Dir::East, Dir::West)
                } else {
                    toward(p.y, to.y, Dir::North, Dir::South)
                };
                let Some(dir) = dir else { break };
                set(p, dir, &mut touched);
                p = g.neighbour(p.x, p.y, dir).expect("towards a router of the grid");
            }
        }
        set(to, Dir::Local, &mut touched);
    }
    touched.sort_unstable();
    touched
        .into_iter()
        .map(|r| {
            let o = mark[r as usize];
            mark[r as usize] = 0;
            (r, o)
        })
        .collect()
}

/// A* search that grows a Steiner tree one sink at a time, from the whole
/// current tree, inside the bounding box plus a margin.
struct AStar {
    g_cost: Vec<u64>,
    from: Vec<u32>,
    seen: Vec<u32>,
    epoch: u32,
    out: Vec<u8>,
    in_tree: Vec<u32>,
    tree_epoch: u32,
    /// Open set: (estimate, cost so far, router).
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
}

/// The routers a search may visit: a net's bounding box plus the margin,
/// within the grid.
struct Window {
    x: (u16, u16),
    y: (u16, u16),
}

impl Window {
    /// The window of a net from `src` to `dests`.
    fn of(g: Grid, src: Xy, dests: &[u32]) -> Window {
        let (mut x0, mut x1, mut y0, mut y1) = (src.x, src.x, src.y, src.y);
        for &d in dests {
            let p = at(g, d);
            (x0, x1, y0, y1) = (x0.min(p.x), x1.max(p.x), y0.min(p.y), y1.max(p.y));
        }
        let widen = |lo: u16, hi: u16, size: u16| (lo.saturating_sub(MARGIN), hi.saturating_add(MARGIN).min(size - 1));
        Window { x: widen(x0, x1, g.width), y: widen(y0, y1, g.height) }
    }

    fn contains(&self, p: Xy) -> bool {
        (self.x.0..=self.x.1).contains(&p.x) && (self.y.0..=self.y.1).contains(&p.y)
    }
}

/// A router's cost in A*'s fixed point (1.0 = 1024).
fn fixed(c: f64) -> u64 {
    (c * 1024.0) as u64
}

impl AStar {
    fn new(nr: usize) -> Self {
        AStar {
            g_cost: vec![0; nr],
            from: vec![0; nr],
            seen: vec![0; nr],
            epoch: 0,
            out: vec![0; nr],
            in_tree: vec![0; nr],
            tree_epoch: 0,
            heap: BinaryHeap::new(),
        }
    }

    /// The tree of `n`: sinks joined nearest first; `cost(router, link)`
    /// is the cost of entering `router` over `link`.
    fn tree(&mut self, g: Grid, n: &Net, cost: &dyn Fn(usize, usize) -> f64) -> Vec<(u32, u8)> {
        if n.dests.is_empty() {
            return Vec::new();
        }
        self.tree_epoch += 1;
        let te = self.tree_epoch;
        let src = at(g, n.src);
        let window = Window::of(g, src, n.dests);
        let mut nodes = vec![n.src];
        self.in_tree[n.src as usize] = te;
        self.out[n.src as usize] = 0;
        let mut sinks: Vec<u32> = n.dests.to_vec();
        sinks.sort_by_key(|&d| (manhattan(at(g, d), src), d));
        for &s in &sinks {
            if self.in_tree[s as usize] != te {
                self.connect(g, s, &window, &mut nodes, cost);
            }
            self.out[s as usize] |= Dir::Local.bit();
        }
        nodes.sort_unstable();
        nodes.into_iter().map(|r| (r, self.out[r as usize])).collect()
    }

    /// Joins sink `s` to the tree (`nodes`) by the cheapest path inside
    /// `window`, and adds the path to the tree.
    fn connect(&mut self, g: Grid, s: u32, window: &Window, nodes: &mut Vec<u32>, cost: &dyn Fn(usize, usize) -> f64) {
        let te = self.tree_epoch;
        self.epoch += 1;
        let e = self.epoch;
        let target = at(g, s);
        let h = |r: u32| manhattan(at(g, r), target) as u64 * 1024;
        self.heap.clear();
        // Start from the tree nodes nearest the sink (within two hops of
        // the nearest): cheap, and nearly always where the best connection
        // starts.
        let hmin = nodes.iter().map(|&r| h(r)).min().unwrap_or(0);
        for &r in nodes.iter() {
            if h(r) <= hmin + 2 * 1024 {
                self.seen[r as usize] = e;
                self.g_cost[r as usize] = 0;
                self.from[r as usize] = u32::MAX;
                self.heap.push(Reverse((h(r), 0u64, r)));
            }
        }
        while let Some(Reverse((_, gc, r))) = self.heap.pop() {
            if r == s {
                break;
            }
            if gc > self.g_cost[r as usize] {
                continue;
            }
            let p = at(g, r);
            for (d, &dir) in Dir::LINKS.iter().enumerate() {
                let Some(q) = g.neighbour(p.x, p.y, dir).filter(|&q| window.contains(q)) else { continue };
                let v = id(g, q);
                if self.in_tree[v as usize] == te {
                    continue;
                }
                let ng = gc + fixed(cost(v as usize, r as usize * 4 + d));
                if self.seen[v as usize] != e || ng < self.g_cost[v as usize] {
                    self.seen[v as usize] = e;
                    self.g_cost[v as usize] = ng;
                    self.from[v as usize] = r;
                    self.heap.push(Reverse((ng + h(v), ng, v)));
                }
            }
        }
        // Walk back to the tree, then add the path.
        let mut path = Vec::new();
        let mut v = s;
        while self.in_tree[v as usize] != te {
            path.push(v);
            v = self.from[v as usize];
        }
        for &v in &path {
            self.in_tree[v as usize] = te;
            self.out[v as usize] = 0;
            nodes.push(v);
        }
        for &v in &path {
            let u = self.from[v as usize];
            let dir = Dir::LINKS.into_iter().find(|&d| step(g, u, d) == Some(v)).expect("neighbours");
            self.out[u as usize] |= dir.bit();
        }
    }
}

/// Compresses every router's table. `idle` lists (router, key) of keys
/// injected at a router that have no tree: they reach that router, so no
/// block may cover them there.
fn compress_all(nets: &[Net], trees: &[Vec<(u32, u8)>], idle: &[(u32, Key)], nr: usize) -> Vec<Vec<RouteEntry>> {
    let mut per: Vec<Vec<(u32, u8)>> = vec![Vec::new(); nr];
    for (n, t) in nets.iter().zip(trees) {
        for &(r, o) in t {
            per[r as usize].push((n.key.get(), o));
        }
    }
    for &(r, k) in idle {
        per[r as usize].push((k.get(), 0));
    }
    per.iter_mut()
        .map(|e| {
            e.sort_unstable();
            compress(e)
        })
        .collect()
}

/// Covers a router's (key, out) pairs, sorted by key, with aligned
/// key/mask blocks. Keys absent from the list never reach this router, so
/// a block may cover them ("don't care"); blocks never cover a key present
/// with another out-set, so they do not overlap and their order is free.
/// Keys with out-set 0 (injected here, going nowhere) get no entry: a key
/// that matches no entry is dropped.
pub(crate) fn compress(e: &[(u32, u8)]) -> Vec<RouteEntry> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < e.len() {
        let o = e[i].1;
        let mut j = i;
        while j + 1 < e.len() && e[j + 1].1 == o {
            j += 1;
        }
        // Keys lo..=hi may be covered: bounded by the neighbouring keys of
        // other out-sets.
        let lo = if i == 0 { 0u64 } else { u64::from(e[i - 1].0) + 1 };
        let hi = if j + 1 == e.len() { u64::from(u32::MAX) } else { u64::from(e[j + 1].0) - 1 };
        let last = u64::from(e[j].0);
        let mut k = i;
        while k <= j && o != 0 {
            let cur = u64::from(e[k].0);
            // Largest aligned block containing cur within [lo, hi].
            let mut size = 1u64;
            while size < (1 << 32) {
                let s2 = size * 2;
                let start = cur & !(s2 - 1);
                if start < lo || start + s2 - 1 > hi {
                    break;
                }
                size = s2;
            }
            let start = cur & !(size - 1);
            let end = start + size - 1;
            out.push(RouteEntry { value: start as u32, mask: !((size - 1) as u32), out: o });
            if end >= last {
                break;
            }
            while k <= j && u64::from(e[k].0) <= end {
                k += 1;
            }
        }
        i = j + 1;
    }
    out
}

fn unroutable(g: Grid, tables: &[Vec<RouteEntry>], link: &[u32], cap: u32, iters: u32, over: u64) -> CompileError {
    let mut worst: Vec<(usize, u32)> =
        tables.iter().enumerate().filter(|(_, t)| t.len() as u32 > cap).map(|(r, t)| (t.len(), r as u32)).collect();
    worst.sort_by_key(|&(n, r)| (Reverse(n), r));
    let routers: Vec<String> = worst
        .iter()
        .take(5)
        .map(|&(n, r)| {
            let p = at(g, r);
            format!("({},{}) needs {n}", p.x, p.y)
        })
        .collect();
    let (l, load) = link.iter().enumerate().max_by_key(|&(l, &v)| (v, Reverse(l))).map_or((0, 0), |(l, &v)| (l, v));
    let (p, d) = (at(g, (l / 4) as u32), Dir::LINKS[l % 4]);
    let (x, y) = (i32::from(p.x), i32::from(p.y));
    CompileError::Unroutable {
        iterations: iters,
        overused: worst.len(),
        overuse: over,
        limit: cap,
        routers: routers.join(", "),
        link: format!("({x},{y})->({},{}) carries {load} trees", x + d.dx(), y + d.dy()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers(e: &RouteEntry, k: u32) -> bool {
        k & e.mask == e.value
    }

    #[test]
    fn compression_merges_aligned_runs_and_uses_dont_cares() {
        // keys 4..8 east, 9 north, 10..12 east
        let e: Vec<(u32, u8)> = vec![(4, 1), (5, 1), (6, 1), (7, 1), (9, 2), (10, 1), (11, 1)];
        let c = compress(&e);
        for &(k, o) in &e {
            let m: Vec<_> = c.iter().filter(|x| covers(x, k)).collect();
            assert_eq!(m.len(), 1, "key {k}: {c:?}");
            assert_eq!(m[0].out, o);
        }
        // 0..=7 (keys 0..4 are don't-cares), 8..=9 and 10..=11
        assert_eq!(c.len(), 3, "{c:?}");
    }

    #[test]
    fn dor_tree_is_x_then_y() {
        let g = Grid { width: 4, height: 4 };
        let r = |x, y| id(g, Xy { x, y });
        let mut s = vec![0u8; 16];
        let n = Net { key: Key::new(0), src: r(0, 0), dests: &[r(2, 1)] };
        let t = dor(g, &n, true, &mut s);
        let (e, no, l) = (Dir::East.bit(), Dir::North.bit(), Dir::Local.bit());
        assert_eq!(t, vec![(r(0, 0), e), (r(1, 0), e), (r(2, 0), no), (r(2, 1), l)]);
        assert_eq!(depth(g, n.src, &t), 3);
    }

    #[test]
    fn astar_tree_reaches_every_sink() {
        let g = Grid { width: 5, height: 5 };
        let r = |x, y| id(g, Xy { x, y });
        let dests = [r(4, 4), r(0, 4), r(2, 2)];
        let n = Net { key: Key::new(0), src: r(2, 0), dests: &dests };
        let mut a = AStar::new(25);
        let t = a.tree(g, &n, &|_, _| 1.0);
        let locals = t.iter().filter(|&&(_, o)| o & Dir::Local.bit() != 0).count();
        assert_eq!(locals, 3);
        assert_eq!(hops(std::slice::from_ref(&t)) as usize, t.len() - 1);
    }
}
