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
use fpnna_bitstream::{RouteEntry, dir};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const MAX_ITERATIONS: u32 = 40;
/// Iterations without a new best total overuse before giving up.
const STALL: u32 = 6;
const MARGIN: i32 = 3;

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
    /// Compressed table of each router (index y * W + x).
    pub tables: Vec<Vec<RouteEntry>>,
    /// Uncompressed entries per router.
    pub uncompressed: Vec<u32>,
    /// Load per directed link, index router * 4 + direction (E, N, W, S).
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
    pub key: u32,
    pub src: u32,
    pub dests: &'a [u32],
}

/// (bit, dx, dy) of the four link directions, from the one table.
const DIRS: [(u8, i32, i32); 4] = {
    const fn d(d: fpnna_bitstream::Dir) -> (u8, i32, i32) {
        (d.bit(), d.dx(), d.dy())
    }
    let l = fpnna_bitstream::Dir::LINKS;
    [d(l[0]), d(l[1]), d(l[2]), d(l[3])]
};

struct Grid {
    w: i32,
    h: i32,
}

impl Grid {
    fn xy(&self, r: u32) -> (i32, i32) {
        (r as i32 % self.w, r as i32 / self.w)
    }
    fn id(&self, x: i32, y: i32) -> u32 {
        (y * self.w + x) as u32
    }
}

/// Routes every net of the placed partition on the grid of `arch`.
pub(crate) fn route(part: &Partition, pl: &Placement, arch: &Arch) -> Result<Routing, CompileError> {
    let (w, h) = (arch.grid.width, arch.grid.height);
    let router = |(x, y): (u16, u16)| u32::from(y) * u32::from(w) + u32::from(x);
    let nets = &part.nets;
    let dest_routers: Vec<Vec<u32>> = (0..nets.len())
        .map(|i| {
            let mut d: Vec<u32> = nets.d(i).iter().map(|&c| router(pl.pos[c as usize])).collect();
            d.sort_unstable();
            d
        })
        .collect();
    let rnets: Vec<Net> = (0..nets.len())
        .map(|i| Net { key: nets.key[i], src: router(pl.at(nets.src[i])), dests: &dest_routers[i] })
        .collect();
    // Keys that are injected somewhere but go nowhere.
    let mut has_net = vec![false; part.source.len()];
    nets.key.iter().for_each(|&k| has_net[k as usize] = true);
    let idle: Vec<(u32, u32)> = (0..part.source.len() as u32)
        .filter_map(|k| part.source[k as usize].filter(|_| !has_net[k as usize]).map(|pin| (router(pl.at(pin)), k)))
        .collect();
    route_nets(&rnets, &idle, w, h, arch.router.table_entries)
}

/// Routes every net; `cap` is the table size of a router.
fn route_nets(nets: &[Net], idle: &[(u32, u32)], w: u16, h: u16, cap: u32) -> Result<Routing, CompileError> {
    let g = Grid { w: i32::from(w), h: i32::from(h) };
    let nr = (g.w * g.h) as usize;
    let mut scratch = vec![0u8; nr];
    let mut trees: Vec<Vec<(u32, u8)>> = nets.iter().map(|n| dor_best(&g, n, &mut scratch)).collect();
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
            return Err(unroutable(&g, &tables, &link, cap, iterations.len() as u32, over));
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
            trees[i] = astar.tree(&g, n, &cost);
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
        if over < best {
            best = over;
            stall = 0;
        } else {
            stall += 1;
        }
    }
    let max_hops = nets.iter().zip(&trees).map(|(n, t)| depth(&g, n.src, t)).max().unwrap_or(0);
    let total_hops = hops(&trees);
    Ok(Routing { trees, tables, uncompressed: occ, link_load: link, total_hops, max_hops, iterations })
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
    trees.iter().flatten().map(|&(_, o)| u64::from((o & 15).count_ones())).sum()
}

fn add_tree(t: &[(u32, u8)], occ: &mut [u32], link: &mut [u32], sign: i32) {
    for &(r, o) in t {
        occ[r as usize] = occ[r as usize].wrapping_add_signed(sign);
        for (d, &(bit, _, _)) in DIRS.iter().enumerate() {
            if o & bit != 0 {
                let l = r as usize * 4 + d;
                link[l] = link[l].wrapping_add_signed(sign);
            }
        }
    }
}

/// Longest path from the source through the tree, in hops.
fn depth(g: &Grid, src: u32, t: &[(u32, u8)]) -> u32 {
    let mut best = 0;
    let mut stack = vec![(src, 0u32)];
    while let Some((r, d)) = stack.pop() {
        best = best.max(d);
        let Ok(i) = t.binary_search_by_key(&r, |&(x, _)| x) else { continue };
        let (x, y) = g.xy(r);
        for &(bit, dx, dy) in &DIRS {
            if t[i].1 & bit != 0 {
                stack.push((g.id(x + dx, y + dy), d + 1));
            }
        }
    }
    best
}

/// The smaller of the x-first and y-first dimension-ordered trees.
fn dor_best(g: &Grid, n: &Net, scratch: &mut [u8]) -> Vec<(u32, u8)> {
    if n.dests.is_empty() {
        return Vec::new();
    }
    let a = dor(g, n, true, scratch);
    let b = dor(g, n, false, scratch);
    if b.len() < a.len() { b } else { a }
}

fn dor(g: &Grid, n: &Net, x_first: bool, mark: &mut [u8]) -> Vec<(u32, u8)> {
    let mut touched = Vec::new();
    let (sx, sy) = g.xy(n.src);
    let mut set = |x: i32, y: i32, bit: u8, touched: &mut Vec<u32>| {
        let r = g.id(x, y);
        if mark[r as usize] == 0 {
            touched.push(r);
        }
        mark[r as usize] |= bit;
    };
    for &d in n.dests {
        let (dx, dy) = g.xy(d);
        let (mut x, mut y) = (sx, sy);
        for phase in 0..2 {
            if (phase == 0) == x_first {
                while x != dx {
                    let (bit, s) = if dx > x { (dir::EAST, 1) } else { (dir::WEST, -1) };
                    set(x, y, bit, &mut touched);
                    x += s;
                }
            } else {
                while y != dy {
                    let (bit, s) = if dy > y { (dir::NORTH, 1) } else { (dir::SOUTH, -1) };
                    set(x, y, bit, &mut touched);
                    y += s;
                }
            }
        }
        set(dx, dy, dir::LOCAL, &mut touched);
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
        }
    }

    fn tree(&mut self, g: &Grid, n: &Net, cost: &dyn Fn(usize, usize) -> f64) -> Vec<(u32, u8)> {
        if n.dests.is_empty() {
            return Vec::new();
        }
        let fx = |c: f64| (c * 1024.0) as u64;
        self.tree_epoch += 1;
        let te = self.tree_epoch;
        let (sx, sy) = g.xy(n.src);
        let (mut x0, mut x1, mut y0, mut y1) = (sx, sx, sy, sy);
        for &d in n.dests {
            let (x, y) = g.xy(d);
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
        let (x0, x1) = ((x0 - MARGIN).max(0), (x1 + MARGIN).min(g.w - 1));
        let (y0, y1) = ((y0 - MARGIN).max(0), (y1 + MARGIN).min(g.h - 1));
        let mut nodes = vec![n.src];
        self.in_tree[n.src as usize] = te;
        self.out[n.src as usize] = 0;
        let mut sinks: Vec<u32> = n.dests.to_vec();
        sinks.sort_by_key(|&d| {
            let (x, y) = g.xy(d);
            ((x - sx).abs() + (y - sy).abs(), d)
        });
        let mut heap = BinaryHeap::new();
        for &s in &sinks {
            if self.in_tree[s as usize] != te {
                self.epoch += 1;
                let e = self.epoch;
                let (tx, ty) = g.xy(s);
                let h = |r: u32| {
                    let (x, y) = g.xy(r);
                    ((x - tx).abs() + (y - ty).abs()) as u64 * 1024
                };
                heap.clear();
                // Start from the tree nodes nearest the sink (within two
                // hops of the nearest): cheap, and nearly always where the
                // best connection starts.
                let hmin = nodes.iter().map(|&r| h(r)).min().unwrap_or(0);
                for &r in &nodes {
                    if h(r) <= hmin + 2 * 1024 {
                        self.seen[r as usize] = e;
                        self.g_cost[r as usize] = 0;
                        self.from[r as usize] = u32::MAX;
                        heap.push(Reverse((h(r), 0u64, r)));
                    }
                }
                while let Some(Reverse((_, gc, r))) = heap.pop() {
                    if r == s {
                        break;
                    }
                    if gc > self.g_cost[r as usize] {
                        continue;
                    }
                    let (x, y) = g.xy(r);
                    for (d, &(_, dx, dy)) in DIRS.iter().enumerate() {
                        let (nx, ny) = (x + dx, y + dy);
                        if nx < x0 || nx > x1 || ny < y0 || ny > y1 {
                            continue;
                        }
                        let v = g.id(nx, ny);
                        if self.in_tree[v as usize] == te {
                            continue;
                        }
                        let ng = gc + fx(cost(v as usize, r as usize * 4 + d));
                        if self.seen[v as usize] != e || ng < self.g_cost[v as usize] {
                            self.seen[v as usize] = e;
                            self.g_cost[v as usize] = ng;
                            self.from[v as usize] = r;
                            heap.push(Reverse((ng + h(v), ng, v)));
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
                    let (ux, uy) = g.xy(u);
                    let (vx, vy) = g.xy(v);
                    let bit = DIRS.iter().find(|&&(_, dx, dy)| ux + dx == vx && uy + dy == vy).expect("neighbours").0;
                    self.out[u as usize] |= bit;
                }
            }
            self.out[s as usize] |= dir::LOCAL;
        }
        nodes.sort_unstable();
        nodes.into_iter().map(|r| (r, self.out[r as usize])).collect()
    }
}

/// Compresses every router's table. `idle` lists (router, key) of keys
/// injected at a router that have no tree: they reach that router, so no
/// block may cover them there.
fn compress_all(nets: &[Net], trees: &[Vec<(u32, u8)>], idle: &[(u32, u32)], nr: usize) -> Vec<Vec<RouteEntry>> {
    let mut per: Vec<Vec<(u32, u8)>> = vec![Vec::new(); nr];
    for (n, t) in nets.iter().zip(trees) {
        for &(r, o) in t {
            per[r as usize].push((n.key, o));
        }
    }
    for &(r, k) in idle {
        per[r as usize].push((k, 0));
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

fn unroutable(g: &Grid, tables: &[Vec<RouteEntry>], link: &[u32], cap: u32, iters: u32, over: u64) -> CompileError {
    let mut worst: Vec<(usize, u32)> =
        tables.iter().enumerate().filter(|(_, t)| t.len() as u32 > cap).map(|(r, t)| (t.len(), r as u32)).collect();
    worst.sort_by_key(|&(n, r)| (Reverse(n), r));
    let routers: Vec<String> = worst
        .iter()
        .take(5)
        .map(|&(n, r)| {
            let (x, y) = g.xy(r);
            format!("({x},{y}) needs {n}")
        })
        .collect();
    let (l, load) = link.iter().enumerate().max_by_key(|&(l, &v)| (v, Reverse(l))).map_or((0, 0), |(l, &v)| (l, v));
    let (x, y) = g.xy((l / 4) as u32);
    let (_, dx, dy) = DIRS[l % 4];
    CompileError::Unroutable {
        iterations: iters,
        overused: worst.len(),
        overuse: over,
        limit: cap,
        routers: routers.join(", "),
        link: format!("({x},{y})->({},{}) carries {load} trees", x + dx, y + dy),
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
        let g = Grid { w: 4, h: 4 };
        let mut s = vec![0u8; 16];
        let n = Net { key: 0, src: g.id(0, 0), dests: &[g.id(2, 1)] };
        let t = dor(&g, &n, true, &mut s);
        assert_eq!(
            t,
            vec![(g.id(0, 0), dir::EAST), (g.id(1, 0), dir::EAST), (g.id(2, 0), dir::NORTH), (g.id(2, 1), dir::LOCAL)]
        );
        assert_eq!(depth(&g, n.src, &t), 3);
    }

    #[test]
    fn astar_tree_reaches_every_sink() {
        let g = Grid { w: 5, h: 5 };
        let dests = [g.id(4, 4), g.id(0, 4), g.id(2, 2)];
        let n = Net { key: 0, src: g.id(2, 0), dests: &dests };
        let mut a = AStar::new(25);
        let t = a.tree(&g, &n, &|_, _| 1.0);
        let locals = t.iter().filter(|&&(_, o)| o & dir::LOCAL != 0).count();
        assert_eq!(locals, 3);
        assert_eq!(hops(std::slice::from_ref(&t)) as usize, t.len() - 1);
    }
}
