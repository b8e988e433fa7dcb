//! Stage 3: tiles onto the grid, by simulated annealing (VPR's schedule).
//!
//! Each source key is a net: a pin at its source (the tile of the neuron,
//! or the injection router of an input or generator population) and one
//! pin per destination tile. Keys with the same source and destination set
//! are merged into one net whose weight is their count (every key is
//! assumed to carry the same traffic: rates are unknown at compile time).
//! Cost = sum over nets of weight * half-perimeter of the bounding box of
//! its pins. See docs/compiler.md for the schedule, the move budget and the
//! lower bound.

use crate::nets::{Nets, Pin};
use crate::partition::Partition;
use fpnna_arch::Arch;
use fpnna_bitstream::{Grid, Xy};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde::Serialize;

/// Net updates the annealer may spend (about a second of release build).
const WORK_BUDGET: u64 = 40_000_000;
/// Temperatures a capped schedule plans for.
const TEMPERATURES: u64 = 150;
/// VPR's inner_num.
const INNER_NUM: f64 = 0.5;

/// Stage 3's product: where every cluster and port went.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Placement {
    /// Tile of each cluster (indexed by `ClusterId::index`).
    pub pos: Vec<Xy>,
    /// Injection router of each port.
    pub port_pos: Vec<Xy>,
    /// What the placer did.
    pub stats: PlaceStats,
}

impl Placement {
    /// Where a pin is: its cluster's tile or its port's router.
    pub fn at(&self, pin: Pin) -> Xy {
        match pin {
            Pin::Cluster(c) => self.pos[c.index()],
            Pin::Port(p) => self.port_pos[p as usize],
        }
    }
}

/// What the placer did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PlaceStats {
    /// Clusters (tiles) placed.
    pub clusters: u32,
    /// Nets after merging keys with the same pins.
    pub nets: u32,
    /// Cost of the start placement (snake order, ports at their median).
    pub cost_initial: i64,
    /// Cost of the final placement.
    pub cost_final: i64,
    /// Cost of a seeded uniformly random placement, for comparison.
    pub cost_random: i64,
    /// A lower bound on the cost of any placement (docs/compiler.md).
    pub cost_lower_bound: i64,
    /// Moves proposed (annealing and quench).
    pub moves: u64,
    /// Moves accepted.
    pub accepted: u64,
    /// accepted / moves.
    pub acceptance: f64,
    /// Temperatures visited.
    pub temperatures: u32,
    /// Moves per temperature.
    pub moves_per_temperature: u64,
    /// Cap on the total number of annealing moves (work budget).
    pub move_cap: u64,
    /// Starting temperature.
    pub initial_temperature: f64,
    /// Whether the hot anneal ended above the start cost, so that a cold
    /// anneal refined the start instead.
    pub reannealed_cold: bool,
    /// Whether the annealer's result was worse than its start and dropped.
    pub kept_start: bool,
}

/// Places the partition's clusters and ports on the grid of `arch`.
pub(crate) fn place(part: &Partition, arch: &Arch, seed: u64, progress: crate::OnProgress<'_>) -> Placement {
    let (nets, n, ports) = (&part.nets, part.clusters.len(), part.ports as usize);
    let grid = Grid::of(arch);
    let mut a = Annealer::new(nets, n, ports, grid);
    let start = a.snake_start();
    a.set(&start);
    let mut stats = PlaceStats {
        clusters: n as u32,
        nets: nets.merged.len() as u32,
        cost_initial: a.cost,
        cost_lower_bound: lower_bound(nets, grid),
        ..PlaceStats::default()
    };
    // A random placement, for the report.
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5A5A_0F0F_1234_5678);
    let mut slots: Vec<usize> = (0..grid.cells()).collect();
    for i in (1..slots.len()).rev() {
        slots.swap(i, below(&mut rng, i as u64 + 1) as usize);
    }
    let random: Vec<Xy> = slots[..n].iter().map(|&s| grid.xy(s)).collect();
    a.set(&random);
    stats.cost_random = a.cost;
    a.set(&start);

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cold = a.anneal(&mut rng, &mut stats, false, progress);
    a.refresh_ports();
    if a.cost > stats.cost_initial && !cold {
        // The hot anneal melted a start it could not rebuild in its moves
        // (typical of networks with locality, whose snake start is near
        // optimal): refine the start instead.
        stats.reannealed_cold = true;
        a.set(&start);
        a.anneal(&mut rng, &mut stats, true, progress);
        a.refresh_ports();
    }
    let mut best = a.pos.clone();
    if a.cost > stats.cost_initial {
        stats.kept_start = true;
        a.set(&start);
        best = start;
    }
    stats.cost_final = a.cost;
    stats.acceptance = if stats.moves > 0 { stats.accepted as f64 / stats.moves as f64 } else { 0.0 };
    Placement { pos: best, port_pos: a.port_pos.clone(), stats }
}

/// A lower bound on the cost: a net touching k distinct tiles has a
/// bounding box of at least k cells, so a half-perimeter of at least
/// min over widths w of (w - 1) + (ceil(k / w) - 1).
pub(crate) fn lower_bound(nets: &Nets, grid: Grid) -> i64 {
    let (w, h) = (i64::from(grid.width), i64::from(grid.height));
    let lb = |k: i64| -> i64 {
        (1..=w.min(k.max(1))).filter(|&x| (k + x - 1) / x <= h).map(|x| x - 1 + (k + x - 1) / x - 1).min().unwrap_or(0)
    };
    let mut memo = std::collections::BTreeMap::new();
    let mut total = 0i64;
    for &(r, wt) in &nets.merged {
        let d = nets.d(r as usize);
        let src = nets.src[r as usize];
        let k = d.len() as i64 + i64::from(src.cluster().is_some_and(|c| d.binary_search(&c).is_err()));
        total += i64::from(wt) * *memo.entry(k).or_insert_with(|| lb(k));
    }
    total
}

/// Uniform integer in `0..n` (n >= 1).
pub(crate) fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    ((u128::from(rng.next_u64()) * u128::from(n)) >> 64) as u64
}

/// `e^-x` for `x >= 0` from IEEE-exact operations only (+, *, /), so that
/// acceptance decisions, hence placements, are the same on every platform
/// (libm's `exp` may differ in the last bit between systems).
fn exp_neg(x: f64) -> f64 {
    if x.is_nan() || x > 745.0 {
        return 0.0;
    }
    // e^-x = 2^-k * e^-r with x = k ln 2 + r, 0 <= r < ln 2.
    const LN2: f64 = std::f64::consts::LN_2;
    let k = (x / LN2).floor();
    let r = x - k * LN2;
    let mut term = 1.0;
    let mut sum = 1.0;
    for i in 1..=20 {
        term *= -r / f64::from(i);
        sum += term;
    }
    let mut p = sum;
    for _ in 0..k as u32 {
        p *= 0.5;
    }
    p
}

/// floor(n^(4/3)), exactly (integer cube root of n^4).
fn pow_4_3(n: u64) -> u64 {
    let n4 = u128::from(n).pow(4);
    let (mut lo, mut hi) = (0u128, 1u128 << 43);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if mid * mid * mid <= n4 { lo = mid } else { hi = mid - 1 }
    }
    lo as u64
}

fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

struct Annealer<'a> {
    nets: &'a Nets,
    grid: Grid,
    pos: Vec<Xy>,
    port_pos: Vec<Xy>,
    /// The cluster on each slot (the grid's dense index), if any.
    occupant: Vec<Option<u32>>,
    /// CSR: merged nets touching each cluster.
    cstart: Vec<usize>,
    cnets: Vec<u32>,
    /// Merged nets sourced at each port.
    port_nets: Vec<Vec<u32>>,
    bbox: Vec<BBox>,
    cost: i64,
    stamp: Vec<u64>,
    epoch: u64,
    /// Nets changed by the proposed move, with their new boxes.
    changed: Vec<(u32, BBox)>,
    /// Net visits so far (the work budget counts these).
    work: u64,
}

/// A net's bounding box, with the number of pins on each edge (VPR's
/// incremental update: only a pin leaving an edge it alone held forces a
/// recount).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct BBox {
    lo: [u16; 2],
    hi: [u16; 2],
    nlo: [u32; 2],
    nhi: [u32; 2],
}

impl BBox {
    fn half_perimeter(&self) -> i64 {
        i64::from(self.hi[0] - self.lo[0]) + i64::from(self.hi[1] - self.lo[1])
    }

    /// Adds a pin at coordinate `v` on axis `ax`, keeping the counts of
    /// pins on each edge.
    #[inline]
    fn add(&mut self, ax: usize, v: u16) {
        if v < self.lo[ax] {
            self.lo[ax] = v;
            self.nlo[ax] = 1;
        } else if v == self.lo[ax] {
            self.nlo[ax] += 1;
        }
        if v > self.hi[ax] {
            self.hi[ax] = v;
            self.nhi[ax] = 1;
        } else if v == self.hi[ax] {
            self.nhi[ax] += 1;
        }
    }

    /// Moves one pin from `old` to `new`; None when a recount is needed.
    fn moved(mut self, old: Xy, new: Xy) -> Option<BBox> {
        for (ax, (o, n)) in [(old.x, new.x), (old.y, new.y)].into_iter().enumerate() {
            self.add(ax, n);
            if o == self.lo[ax] {
                if self.nlo[ax] == 1 {
                    return None;
                }
                self.nlo[ax] -= 1;
            }
            if o == self.hi[ax] {
                if self.nhi[ax] == 1 {
                    return None;
                }
                self.nhi[ax] -= 1;
            }
        }
        Some(self)
    }
}

impl<'a> Annealer<'a> {
    fn new(nets: &'a Nets, n: usize, ports: usize, grid: Grid) -> Self {
        let mut count = vec![0usize; n + 1];
        let mut port_nets = vec![Vec::new(); ports];
        let pins = |m: usize| {
            let r = nets.merged[m].0 as usize;
            let s = nets.src[r];
            let own = s.cluster().filter(|c| nets.d(r).binary_search(c).is_err());
            nets.d(r).iter().copied().chain(own)
        };
        for m in 0..nets.merged.len() {
            for c in pins(m) {
                count[c.index() + 1] += 1;
            }
            let s = nets.src[nets.merged[m].0 as usize];
            if let Pin::Port(p) = s {
                port_nets[p as usize].push(m as u32);
            }
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        let mut fill = count.clone();
        let mut cnets = vec![0u32; count[n]];
        for m in 0..nets.merged.len() {
            for c in pins(m) {
                cnets[fill[c.index()]] = m as u32;
                fill[c.index()] += 1;
            }
        }
        Annealer {
            nets,
            grid,
            pos: vec![Xy::default(); n],
            port_pos: vec![Xy::default(); ports],
            occupant: vec![None; grid.cells()],
            cstart: count,
            cnets,
            port_nets,
            bbox: vec![BBox::default(); nets.merged.len()],
            cost: 0,
            stamp: vec![0; nets.merged.len()],
            epoch: 0,
            changed: Vec::new(),
            work: 0,
        }
    }

    /// Clusters in key order along a snake through a centred, nearly
    /// square region: neighbours in key order end up neighbours on the grid.
    fn snake_start(&self) -> Vec<Xy> {
        let n = self.pos.len();
        let (w, h) = (usize::from(self.grid.width), usize::from(self.grid.height));
        let mut rw = ((n as f64).sqrt().ceil() as usize).clamp(1, w);
        if n.div_ceil(rw) > h {
            rw = n.div_ceil(h).clamp(1, w);
        }
        let rh = n.div_ceil(rw).max(1);
        let (x0, y0) = ((w - rw) / 2, (h.saturating_sub(rh)) / 2);
        (0..n)
            .map(|c| {
                let (r, k) = (c / rw, c % rw);
                let x = if r % 2 == 0 { k } else { rw - 1 - k };
                Xy { x: (x0 + x) as u16, y: (y0 + r) as u16 }
            })
            .collect()
    }

    fn set(&mut self, pos: &[Xy]) {
        self.pos.copy_from_slice(pos);
        self.occupant.fill(None);
        for (c, &p) in pos.iter().enumerate() {
            let slot = self.slot(p);
            self.occupant[slot] = Some(c as u32);
        }
        self.port_pos = self.port_medians();
        self.recost();
    }

    fn recost(&mut self) {
        self.cost = 0;
        for m in 0..self.nets.merged.len() {
            self.bbox[m] = self.full_bbox(m);
            self.cost += self.weight(m) * self.bbox[m].half_perimeter();
        }
    }

    /// Each port at the median of its destinations (minimises the
    /// Manhattan distance to them).
    fn port_medians(&self) -> Vec<Xy> {
        self.port_nets
            .iter()
            .map(|ms| {
                let (mut xs, mut ys) = (Vec::new(), Vec::new());
                for &m in ms {
                    for &c in self.nets.d(self.nets.merged[m as usize].0 as usize) {
                        xs.push(self.pos[c.index()].x);
                        ys.push(self.pos[c.index()].y);
                    }
                }
                if xs.is_empty() {
                    return Xy::default();
                }
                let k = (xs.len() - 1) / 2;
                Xy { x: *xs.select_nth_unstable(k).1, y: *ys.select_nth_unstable(k).1 }
            })
            .collect()
    }

    /// Moves ports to their medians if that lowers the cost.
    fn refresh_ports(&mut self) {
        let new = self.port_medians();
        let old = std::mem::replace(&mut self.port_pos, new);
        let before = self.cost;
        self.recost();
        if self.cost > before {
            self.port_pos = old;
            self.recost();
        }
    }

    fn weight(&self, m: usize) -> i64 {
        i64::from(self.nets.merged[m].1)
    }

    /// Bounding box of net `m`, counted from scratch over its distinct pins.
    fn full_bbox(&self, m: usize) -> BBox {
        let r = self.nets.merged[m].0 as usize;
        let s = self.nets.src[r];
        let sp = match s {
            Pin::Port(p) => self.port_pos[p as usize],
            Pin::Cluster(c) => self.pos[c.index()],
        };
        let mut b = BBox { lo: [sp.x, sp.y], hi: [sp.x, sp.y], nlo: [1, 1], nhi: [1, 1] };
        for &c in self.nets.d(r) {
            if Pin::Cluster(c) == s {
                continue;
            }
            let p = self.pos[c.index()];
            for (ax, v) in [p.x, p.y].into_iter().enumerate() {
                b.add(ax, v);
            }
        }
        b
    }

    /// Average nets visited by one move.
    fn work_per_move(&self) -> u64 {
        let n = self.pos.len().max(1) as u64;
        (2 * self.cnets.len() as u64 / n).max(1)
    }

    /// Proposes a move of a random cluster within `rlim` (a swap when the
    /// target slot is occupied) and applies it to `pos` (not yet
    /// committed), or returns None.
    fn propose(&mut self, rng: &mut ChaCha8Rng, rlim: u16) -> Option<Move> {
        let n = self.pos.len();
        let a = below(rng, n as u64) as usize;
        let from = self.pos[a];
        let lo_x = from.x.saturating_sub(rlim);
        let hi_x = from.x.saturating_add(rlim).min(self.grid.width - 1);
        let lo_y = from.y.saturating_sub(rlim);
        let hi_y = from.y.saturating_add(rlim).min(self.grid.height - 1);
        let tx = lo_x + below(rng, u64::from(hi_x - lo_x) + 1) as u16;
        let ty = lo_y + below(rng, u64::from(hi_y - lo_y) + 1) as u16;
        let to = Xy { x: tx, y: ty };
        if to == from {
            return None;
        }
        let b = self.occupant[self.slot(to)];
        self.pos[a] = to;
        if let Some(b) = b {
            self.pos[b as usize] = from;
        }
        // Nets of a get stamp 2e, nets of both 2e + 1 (their pins only
        // swap places: unchanged).
        self.epoch += 1;
        let (ea, eb) = (2 * self.epoch, 2 * self.epoch + 1);
        for i in self.cstart[a]..self.cstart[a + 1] {
            self.stamp[self.cnets[i] as usize] = ea;
        }
        if let Some(b) = b {
            for i in self.cstart[b as usize]..self.cstart[b as usize + 1] {
                let m = self.cnets[i] as usize;
                if self.stamp[m] == ea {
                    self.stamp[m] = eb;
                }
            }
        }
        self.changed.clear();
        let mut delta = 0;
        let moves = [(Some(a as u32), from, to), (b, to, from)];
        for (k, &(c, from, to)) in moves.iter().enumerate() {
            let Some(c) = c else { continue };
            for i in self.cstart[c as usize]..self.cstart[c as usize + 1] {
                let m = self.cnets[i] as usize;
                if self.stamp[m] == eb {
                    continue;
                }
                debug_assert!(k == 1 || self.stamp[m] == ea);
                self.work += 1;
                let old = self.bbox[m];
                let new = old.moved(from, to).unwrap_or_else(|| {
                    self.work += self.nets.d(self.nets.merged[m].0 as usize).len() as u64 / 8;
                    self.full_bbox(m)
                });
                delta += self.weight(m) * (new.half_perimeter() - old.half_perimeter());
                self.changed.push((m as u32, new));
            }
        }
        Some(Move { a, b, from, to, delta })
    }

    /// The slot (dense grid index) of a tile.
    fn slot(&self, p: Xy) -> usize {
        self.grid.index(p.x, p.y)
    }

    fn commit(&mut self, mv: &Move) {
        let (to, from) = (self.slot(mv.to), self.slot(mv.from));
        self.occupant[to] = Some(mv.a as u32);
        self.occupant[from] = mv.b;
        for &(m, b) in &self.changed {
            self.bbox[m as usize] = b;
        }
        self.cost += mv.delta;
    }

    fn revert(&mut self, mv: &Move) {
        self.pos[mv.a] = mv.from;
        if let Some(b) = mv.b {
            self.pos[b as usize] = mv.to;
        }
    }

    /// One Metropolis step at temperature `t`; returns whether it was accepted.
    fn step(&mut self, rng: &mut ChaCha8Rng, rlim: u16, t: f64, stats: &mut PlaceStats) -> bool {
        stats.moves += 1;
        let Some(mv) = self.propose(rng, rlim) else { return false };
        let ok = mv.delta <= 0 || (t > 0.0 && unit(rng) < exp_neg(mv.delta as f64 / t));
        if ok {
            self.commit(&mv);
            stats.accepted += 1;
        } else {
            self.revert(&mv);
        }
        ok
    }

    /// VPR's schedule (docs/compiler.md), capped by the work budget.
    /// Returns whether the run was cold (capped or asked for).
    fn anneal(
        &mut self,
        rng: &mut ChaCha8Rng,
        stats: &mut PlaceStats,
        cold: bool,
        progress: crate::OnProgress<'_>,
    ) -> bool {
        let n = self.pos.len();
        let nets = self.nets.merged.len();
        if n == 0 || nets == 0 || self.grid.cells() < 2 {
            return true;
        }
        let vpr = ((INNER_NUM * pow_4_3(n as u64) as f64).ceil() as u64).max(1);
        let cap = (WORK_BUDGET / self.work_per_move()).max(20 * n as u64).max(2000);
        let per_temp = vpr.min((cap / TEMPERATURES).max(1));
        let cold = cold || per_temp < vpr;
        stats.moves_per_temperature = per_temp;
        stats.move_cap = cap;
        let rmax = self.grid.width.max(self.grid.height);
        // Initial temperature: 20 standard deviations of the cost change of
        // random moves (evaluated, not applied); a capped schedule starts
        // cold (a tenth of a deviation) so that it refines the start
        // placement instead of melting it, as nextpnr does after its
        // analytical placer.
        let samples = (n as u64).min(per_temp).max(16);
        let (mut s1, mut s2, mut k) = (0.0f64, 0.0f64, 0.0f64);
        for _ in 0..samples {
            if let Some(mv) = self.propose(rng, rmax) {
                let d = mv.delta as f64;
                s1 += d;
                s2 += d * d;
                k += 1.0;
                self.revert(&mv);
            }
        }
        let sigma = if k > 1.0 { ((s2 - s1 * s1 / k) / (k - 1.0)).max(0.0).sqrt() } else { 0.0 };
        let mut t = if cold { 0.1 * sigma } else { 20.0 * sigma };
        if stats.temperatures == 0 {
            stats.initial_temperature = t;
        }
        let mut rlim = f64::from(rmax);
        let mut done = 0u64;
        while t > 0.0 && t >= 0.005 * self.cost as f64 / nets as f64 && done < cap && stats.temperatures < 10_000 {
            let mut acc = 0u64;
            for _ in 0..per_temp {
                acc += u64::from(self.step(rng, rlim as u16, t, stats));
            }
            done += per_temp;
            let alpha = acc as f64 / per_temp as f64;
            t *= if alpha > 0.96 {
                0.5
            } else if alpha > 0.8 {
                0.9
            } else if alpha > 0.15 {
                0.95
            } else {
                0.8
            };
            rlim = (rlim * (1.0 - 0.44 + alpha)).clamp(1.0, f64::from(rmax));
            stats.temperatures += 1;
            if let Some(p) = progress {
                p(crate::Progress::Temperature { index: stats.temperatures, temperature: t, cost: self.cost });
            }
        }
        // Greedy quench.
        for _ in 0..per_temp {
            self.step(rng, rlim as u16, 0.0, stats);
        }
        cold
    }
}

/// A proposed move: cluster `a` from `from` to `to`, and the cluster `b`
/// that was at `to`, if any, the other way.
struct Move {
    a: usize,
    b: Option<u32>,
    from: Xy,
    to: Xy,
    delta: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nets::ClusterId;

    /// Nets from (key, source, destination clusters).
    fn nets(list: &[(u32, Pin, &[u32])]) -> Nets {
        let pairs: Vec<(u32, ClusterId)> =
            list.iter().flat_map(|&(k, _, d)| d.iter().map(move |&c| (k, ClusterId(c)))).collect();
        let src: Vec<(u32, Pin)> = list.iter().map(|&(k, s, _)| (k, s)).collect();
        Nets::new(&pairs, |k| src.iter().find(|x| x.0 == k).unwrap().1)
    }

    #[test]
    fn portable_math_matches_libm() {
        for x in [0.0, 1e-9, 0.3, 0.69, 1.0, 2.5, 10.0, 100.0, 700.0] {
            let (a, b) = (exp_neg(x), (-x).exp());
            assert!((a - b).abs() <= 1e-14 * b.max(1e-300), "{x}: {a} vs {b}");
        }
        assert_eq!(exp_neg(1000.0), 0.0);
        assert_eq!(pow_4_3(8), 16);
        assert_eq!(pow_4_3(1000), 10_000);
        assert_eq!(pow_4_3(78), 333); // 78^(4/3) = 333.5
        assert_eq!(pow_4_3(0), 0);
    }

    #[test]
    fn lower_bound_is_the_smallest_box_of_k_cells() {
        // k = 4 on 4x4: a 2x2 box, half-perimeter 2; k = 1: 0
        let g = |width, height| Grid { width, height };
        assert_eq!(lower_bound(&nets(&[(0, Pin::Port(0), &[0, 1, 2, 3])]), g(4, 4)), 2);
        assert_eq!(lower_bound(&nets(&[(0, Pin::Cluster(ClusterId(0)), &[0])]), g(4, 4)), 0);
        // source cluster 4 outside its 4 destinations: k = 5 on 2x8 -> 2x3 box = 3
        assert_eq!(lower_bound(&nets(&[(0, Pin::Cluster(ClusterId(4)), &[0, 1, 2, 3])]), g(2, 8)), 3);
    }

    #[test]
    fn keys_with_the_same_pins_merge_into_one_weighted_net() {
        let n = nets(&[
            (0, Pin::Cluster(ClusterId(0)), &[1, 2]),
            (1, Pin::Cluster(ClusterId(0)), &[1, 2]),
            (2, Pin::Cluster(ClusterId(0)), &[1]),
            (3, Pin::Port(0), &[1, 2]),
        ]);
        assert_eq!(n.len(), 4);
        assert_eq!(n.merged, vec![(0, 2), (2, 1), (3, 1)]);
    }

    #[test]
    fn snake_start_is_centred_and_contiguous() {
        let n = nets(&[]);
        let a = Annealer::new(&n, 5, 0, Grid { width: 5, height: 5 });
        // 5 clusters: 3 columns x 2 rows centred at x0 = 1, y0 = 1
        let xy = |(x, y)| Xy { x, y };
        assert_eq!(a.snake_start(), [(1, 1), (2, 1), (3, 1), (3, 2), (2, 2)].map(xy));
    }

    #[test]
    fn incremental_boxes_match_recounts() {
        let list: Vec<(u32, Pin, Vec<u32>)> = (0..40)
            .map(|k| (k, Pin::Cluster(ClusterId(k % 12)), (0..12).filter(|c| (c * 7 + k) % 5 < 2).collect()))
            .collect();
        let refs: Vec<(u32, Pin, &[u32])> = list.iter().map(|(k, s, d)| (*k, *s, d.as_slice())).collect();
        let n = nets(&refs);
        let mut a = Annealer::new(&n, 12, 0, Grid { width: 5, height: 4 });
        let start = a.snake_start();
        a.set(&start);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut stats = PlaceStats::default();
        for _ in 0..500 {
            a.step(&mut rng, 3, 2.0, &mut stats);
        }
        let cost = a.cost;
        a.recost();
        assert_eq!(cost, a.cost);
        for m in 0..n.merged.len() {
            assert_eq!(a.bbox[m], a.full_bbox(m));
        }
    }
}
