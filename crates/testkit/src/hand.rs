//! Builds small bitstreams by hand (the compiler is not a dependency of the
//! emulator): neurons placed on given tiles, synapses as rows and nodes,
//! dimension-ordered (x then y) multicast routes with exact-key entries.

use fpnna_arch::{Arch, Grid};
use fpnna_bitstream::{
    Bitstream, Column, Global, Node, Port, PortKind, RouteEntry, RouterConfig, Row, RowKind, Symbol, TileConfig,
};
use fpnna_model::{DECAY_ONE, Generator, NeuronParams, ONE, Reset, StdpParams, VolatileParams};
use std::collections::BTreeMap;

use crate::xy_route::xy_route;

/// A neuron whose potential is its input of the step (no memory):
/// it fires exactly when the step's input reaches `threshold`.
pub fn memoryless(threshold: i32) -> NeuronParams {
    NeuronParams {
        decay_i: DECAY_ONE,
        decay_v: DECAY_ONE,
        threshold,
        bias: 0,
        v_min: -100 * ONE,
        reset: Reset::Zero,
        refractory: 0,
        theta_step: 0,
        theta_decay: 0,
    }
}

/// A leaky integrate-and-fire neuron.
pub fn lif(threshold: i32) -> NeuronParams {
    NeuronParams {
        decay_i: 1024,
        decay_v: 256,
        threshold,
        bias: 0,
        v_min: -10 * ONE,
        reset: Reset::Zero,
        refractory: 2,
        theta_step: 0,
        theta_decay: 0,
    }
}

/// The STDP profile of the emulator's tests (all-to-all, hard bounds).
pub fn stdp_profile() -> StdpParams {
    StdpParams {
        a_plus: ONE / 10,
        a_minus: ONE / 10,
        decay_plus: 400,
        decay_minus: 300,
        w_min: 0,
        w_max: ONE,
        pairing: fpnna_model::Pairing::AllToAll,
        bounds: fpnna_model::Bounds::Hard,
        relax: 0,
    }
}

/// The volatile (facilitating) profile of the emulator's tests.
pub fn volatile_profile() -> VolatileParams {
    VolatileParams { decay: 2048, gain: ONE / 4, facil: 9 * ONE }
}

/// The synapse kinds the builder knows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A non-volatile row.
    Static,
    /// A volatile row of these parameters.
    Volatile(VolatileParams),
    /// An STDP row of these parameters.
    Stdp(StdpParams),
}

/// A bitstream under construction: populations, ports and synapses are
/// added one by one, the routes follow from them in [`Builder::build`].
pub struct Builder {
    /// The bitstream so far (its architecture may be changed before building).
    pub bs: Bitstream,
    /// key -> (x, y) where its spikes enter the mesh.
    src_at: BTreeMap<u32, (u16, u16)>,
    /// key -> (tile index, column).
    col_of: BTreeMap<u32, (usize, u16)>,
    /// (x, y, key) -> out bits.
    routes: BTreeMap<(u16, u16, u32), u8>,
    next_key: u32,
}

impl Builder {
    /// A w x h grid of the default architecture.
    pub fn new(w: u16, h: u16) -> Builder {
        let mut arch = Arch::preset("default").unwrap();
        arch.grid = Grid { width: w, height: h };
        Builder::with_arch(arch)
    }

    /// An empty bitstream for `arch`.
    pub fn with_arch(arch: Arch) -> Builder {
        Builder {
            bs: Bitstream {
                arch,
                global: Global { dt_ms: 1.0, key_count: 0 },
                tiles: Vec::new(),
                routers: Vec::new(),
                ports: Vec::new(),
                symbols: Vec::new(),
            },
            src_at: BTreeMap::new(),
            col_of: BTreeMap::new(),
            routes: BTreeMap::new(),
            next_key: 0,
        }
    }

    fn tile(&mut self, x: u16, y: u16) -> usize {
        if let Some(i) = self.bs.tiles.iter().position(|t| (t.x, t.y) == (x, y)) {
            return i;
        }
        self.bs.tiles.push(TileConfig {
            x,
            y,
            params: Vec::new(),
            volatile: Vec::new(),
            stdp: Vec::new(),
            columns: Vec::new(),
            rows: Vec::new(),
            nodes: Vec::new(),
            row_lines: Vec::new(),
            col_lines: Vec::new(),
        });
        self.bs.tiles.len() - 1
    }

    /// A population of `n` neurons on tile (x, y); returns its first key.
    pub fn neurons(&mut self, name: &str, n: u32, x: u16, y: u16, p: NeuronParams) -> u32 {
        let base = self.next_key;
        let ti = self.tile(x, y);
        for k in 0..n {
            let t = &mut self.bs.tiles[ti];
            let pi = match t.params.iter().position(|q| *q == p) {
                Some(i) => i,
                None => {
                    t.params.push(p);
                    t.params.len() - 1
                }
            };
            t.columns.push(Column { key: base + k, params: pi as u16, v_init: 0 });
            self.col_of.insert(base + k, (ti, (t.columns.len() - 1) as u16));
            self.src_at.insert(base + k, (x, y));
        }
        self.bs.symbols.push(Symbol { name: name.into(), key_base: base, size: n, kind: "lif".into() });
        self.next_key += n;
        base
    }

    fn port(&mut self, name: &str, n: u32, x: u16, y: u16, kind: PortKind, sym: &str) -> u32 {
        let base = self.next_key;
        self.bs.ports.push(Port { name: name.into(), key_base: base, size: n, kind, x, y });
        self.bs.symbols.push(Symbol { name: name.into(), key_base: base, size: n, kind: sym.into() });
        for k in 0..n {
            self.src_at.insert(base + k, (x, y));
        }
        self.next_key += n;
        base
    }

    /// An input port of `n` channels entering at (x, y); returns its first key.
    pub fn input(&mut self, name: &str, n: u32, x: u16, y: u16) -> u32 {
        self.port(name, n, x, y, PortKind::Input, "input")
    }

    /// A generator port of `n` channels at (x, y); returns its first key.
    pub fn generator(&mut self, name: &str, n: u32, x: u16, y: u16, g: Generator) -> u32 {
        self.port(name, n, x, y, PortKind::Generator(g), "poisson")
    }

    /// An output port over the keys `base..base + n`.
    pub fn output(&mut self, name: &str, base: u32, n: u32) {
        self.bs.ports.push(Port { name: name.into(), key_base: base, size: n, kind: PortKind::Output, x: 0, y: 0 });
    }

    /// A synapse from `pre` to neuron `post` of weight `level * scale`; a
    /// negative level puts the node on a negative row.
    pub fn syn(&mut self, pre: u32, post: u32, delay: u8, level: i32, scale: i32, kind: Kind) {
        let (negative, level) = (level < 0, level.unsigned_abs() as u16);
        let (ti, col) = self.col_of[&post];
        let t = &mut self.bs.tiles[ti];
        let row_kind = match kind {
            Kind::Static => RowKind::NonVolatile,
            Kind::Volatile(v) => RowKind::Volatile(match t.volatile.iter().position(|q| *q == v) {
                Some(i) => i as u16,
                None => {
                    t.volatile.push(v);
                    (t.volatile.len() - 1) as u16
                }
            }),
            Kind::Stdp(s) => RowKind::Stdp(match t.stdp.iter().position(|q| *q == s) {
                Some(i) => i as u16,
                None => {
                    t.stdp.push(s);
                    (t.stdp.len() - 1) as u16
                }
            }),
        };
        let want = Row { key: pre, delay, negative, kind: row_kind, scale };
        let r = match t.rows.iter().position(|r| *r == want) {
            Some(r) => r,
            None => {
                t.rows.push(want);
                t.rows.len() - 1
            }
        };
        t.nodes.push(Node { row: r as u16, col, level });
        let (tx, ty) = (t.x, t.y);
        self.route(pre, tx, ty);
    }

    /// Adds the x-then-y route of `key` from its source to tile (tx, ty).
    fn route(&mut self, key: u32, tx: u16, ty: u16) {
        let routes = &mut self.routes;
        xy_route(self.src_at[&key], (tx, ty), |x, y, out| *routes.entry((x, y, key)).or_insert(0) |= out);
    }

    /// The finished bitstream: routes as exact-key entries, tiles, rows and
    /// nodes in the bitstream's order.
    pub fn build(mut self) -> Bitstream {
        self.bs.global.key_count = self.next_key;
        let mut routers: BTreeMap<(u16, u16), Vec<RouteEntry>> = BTreeMap::new();
        for (&(x, y, key), &out) in &self.routes {
            routers.entry((y, x)).or_default().push(RouteEntry { value: key, mask: u32::MAX, out });
        }
        self.bs.routers = routers.into_iter().map(|((y, x), entries)| RouterConfig { x, y, entries }).collect();
        self.bs.tiles.sort_by_key(|t| (t.y, t.x));
        for t in &mut self.bs.tiles {
            // Rows in the bitstream's order (by key, delay, sign, kind), the
            // nodes renumbered to follow them.
            let mut order: Vec<usize> = (0..t.rows.len()).collect();
            order.sort_by_key(|&r| t.rows[r].order());
            let mut new_index = vec![0u16; order.len()];
            for (new, &old) in order.iter().enumerate() {
                new_index[old] = new as u16;
            }
            t.rows = order.iter().map(|&r| t.rows[r]).collect();
            t.nodes.iter_mut().for_each(|n| n.row = new_index[usize::from(n.row)]);
            t.nodes.sort_by_key(|n| (n.row, n.col));
        }
        self.bs
    }
}

/// An input and a generator driving 24 LIF neurons over static and
/// volatile synapses, plus recurrent STDP, on a 2x2 grid.
pub fn busy() -> (Bitstream, u32) {
    let mut b = Builder::new(2, 2);
    let inp = b.input("in", 4, 0, 0);
    let g = Generator::Poisson { p: Generator::poisson_p(100.0, 1.0), seed: 3 };
    let gen_ = b.generator("noise", 8, 1, 1, g);
    let mut pops = Vec::new();
    for (i, (x, y)) in [(0, 0), (1, 0), (0, 1), (1, 1)].into_iter().enumerate() {
        pops.push(b.neurons(&format!("p{i}"), 6, x, y, lif(2 * ONE)));
    }
    let mut h = 12345u64;
    let mut next = || {
        h = fpnna_model::hash3(h, 1, 2);
        h
    };
    for &p in &pops {
        for j in 0..6 {
            let post = p + j;
            for s in 0..8 {
                if next() % 3 == 0 {
                    b.syn(gen_ + s, post, 1 + (next() % 3) as u8, 10 + (next() % 20) as i32, ONE / 16, Kind::Static);
                }
            }
            for s in 0..4 {
                if next() % 2 == 0 {
                    b.syn(inp + s, post, 2, 20, ONE / 16, Kind::Volatile(volatile_profile()));
                }
            }
            for &q in &pops {
                for k in 0..6 {
                    let r = next() % 10;
                    if q + k != post && r < 2 {
                        b.syn(q + k, post, 1 + (next() % 4) as u8, 8, ONE / 32, Kind::Stdp(stdp_profile()));
                    } else if q + k != post && r == 2 {
                        b.syn(q + k, post, 1 + (next() % 5) as u8, -6, ONE / 8, Kind::Static);
                    }
                }
            }
        }
    }
    (b.build(), inp)
}

/// The stimulus of [`busy`]: its input channels in turn, 3 steps out of 7.
pub fn busy_stim(inp: u32, steps: u64) -> Vec<(u64, u32)> {
    (0..steps).filter(|t| t % 7 < 3).map(|t| (t, inp + (t % 4) as u32)).collect()
}
