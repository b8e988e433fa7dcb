//! A small hand-made configuration that uses every feature, and a proptest
//! strategy for valid random ones.

use crate::*;
use fpnna_arch::Arch;
use fpnna_model::{Bounds, Generator, NeuronParams, Pairing, Reset, StdpParams, VolatileParams};
use proptest::prelude::*;

/// Every kind of item at least once, on the `small` preset.
pub fn sample() -> Bitstream {
    let arch = Arch::preset("small").unwrap();
    let lif = NeuronParams {
        decay_i: 410,
        decay_v: 205,
        threshold: 65536,
        bias: 0,
        v_min: -65536,
        reset: Reset::Subtract,
        refractory: 2,
        theta_step: 0,
        theta_decay: 0,
    };
    let tile0 = TileConfig {
        x: 0,
        y: 0,
        params: vec![lif, NeuronParams { decay_v: 0, reset: Reset::Zero, theta_step: 3277, theta_decay: 1, ..lif }],
        volatile: vec![VolatileParams { decay: 41, gain: 13107, facil: 65536 }],
        stdp: vec![StdpParams {
            a_plus: 655,
            a_minus: 700,
            decay_plus: 200,
            decay_minus: 210,
            w_min: 0,
            w_max: 65536,
            pairing: Pairing::Nearest,
            bounds: Bounds::Soft,
            relax: 429_454,
        }],
        columns: vec![
            Column { key: 10, params: 0, v_init: 0 },
            Column { key: 11, params: 1, v_init: -300 },
            Column { key: 12, params: 0, v_init: 5 },
        ],
        rows: vec![
            Row { key: 0, delay: 1, negative: false, kind: RowKind::NonVolatile, scale: 2048 },
            Row { key: 0, delay: 1, negative: true, kind: RowKind::NonVolatile, scale: 2048 },
            Row { key: 1, delay: 3, negative: false, kind: RowKind::Volatile(0), scale: 1024 },
            Row { key: 2, delay: 64, negative: false, kind: RowKind::Stdp(0), scale: 512 },
        ],
        nodes: vec![
            Node { row: 0, col: 0, level: 31 },
            Node { row: 0, col: 2, level: 7 },
            Node { row: 1, col: 1, level: 0 },
            Node { row: 2, col: 0, level: 16 },
            Node { row: 3, col: 1, level: 20 },
            Node { row: 3, col: 2, level: 1 },
        ],
        row_lines: vec![],
        col_lines: vec![],
    };
    let tile1 = TileConfig {
        x: 2,
        y: 1,
        params: vec![lif],
        volatile: vec![],
        stdp: vec![],
        columns: vec![Column { key: 13, params: 0, v_init: 0 }],
        rows: vec![Row { key: 10, delay: 2, negative: false, kind: RowKind::NonVolatile, scale: 4096 }],
        nodes: vec![Node { row: 0, col: 0, level: 12 }],
        // Mapped off lines 0 (as around a defect).
        row_lines: vec![5],
        col_lines: vec![3],
    };
    Bitstream {
        arch,
        global: Global { dt_ms: 1.0, key_count: 14 },
        tiles: vec![tile0, tile1],
        routers: vec![
            RouterConfig {
                x: 0,
                y: 0,
                entries: vec![
                    RouteEntry { value: 0, mask: 0xffff_fffc, out: dir::LOCAL },
                    RouteEntry { value: 10, mask: u32::MAX, out: dir::EAST },
                ],
            },
            RouterConfig { x: 1, y: 0, entries: vec![RouteEntry { value: 10, mask: u32::MAX, out: dir::NORTH }] },
            RouterConfig {
                x: 1,
                y: 1,
                entries: vec![RouteEntry { value: 8, mask: 0xffff_fff8, out: dir::EAST | dir::LOCAL }],
            },
        ],
        ports: vec![
            Port { name: "stim".into(), key_base: 0, size: 2, kind: PortKind::Input, x: 0, y: 0 },
            Port {
                name: "noise".into(),
                key_base: 2,
                size: 1,
                kind: PortKind::Generator(Generator::Poisson { p: 42_949_673, seed: 7 }),
                x: 0,
                y: 0,
            },
            Port {
                name: "clock".into(),
                key_base: 3,
                size: 1,
                kind: PortKind::Generator(Generator::Regular { period: 10, phase: 3 }),
                x: 0,
                y: 0,
            },
            Port { name: "out_x".into(), key_base: 10, size: 4, kind: PortKind::Output, x: 0, y: 0 },
        ],
        symbols: vec![
            Symbol { name: "stim".into(), key_base: 0, size: 2, kind: "input".into() },
            Symbol { name: "noise".into(), key_base: 2, size: 1, kind: "poisson".into() },
            Symbol { name: "exc".into(), key_base: 10, size: 4, kind: "lif".into() },
        ],
    }
}

/// A valid architecture derived from the `small` preset.
fn arch_strategy() -> impl Strategy<Value = Arch> {
    let shape = (1..=4u16, 1..=4u16, 1..=10u16, 1..=10u16, 2..=40u16, 1..=64u8, 1..=5u32);
    let other = ("[a-z\"\\\\ é]{1,8}", 0.0..50.0f64, 1.0..100.0f64, 0..=1023u16);
    (shape, other).prop_map(|((w, h, rows, cols, levels, max_delay, entries), (name, g_min, span, refr))| {
        let mut a = Arch::preset("small").unwrap();
        a.name = name;
        a.grid.width = w;
        a.grid.height = h;
        a.tile.rows = rows;
        a.tile.cols = cols;
        a.nonvolatile.levels = levels;
        a.tile.max_delay = max_delay;
        a.router.table_entries = entries;
        a.nonvolatile.g_min_ns = g_min;
        a.nonvolatile.g_max_ns = g_min + span;
        a.neuron.max_refractory = refr;
        a
    })
}

fn params_strategy(max_refractory: u16) -> impl Strategy<Value = NeuronParams> {
    (0..=4096u16, 0..=4096u16, any::<i32>(), any::<i32>(), any::<i32>(), any::<bool>(), 0..=max_refractory).prop_map(
        |(decay_i, decay_v, threshold, bias, v_min, sub, refractory)| NeuronParams {
            decay_i,
            decay_v,
            threshold,
            bias,
            v_min,
            reset: if sub { Reset::Subtract } else { Reset::Zero },
            refractory,
            theta_step: 0,
            theta_decay: 0,
        },
    )
}

fn volatile_strategy() -> impl Strategy<Value = VolatileParams> {
    (0..=4096u16, any::<i32>(), any::<i32>()).prop_map(|(decay, gain, facil)| VolatileParams { decay, gain, facil })
}

fn stdp_strategy() -> impl Strategy<Value = StdpParams> {
    (any::<i32>(), any::<i32>(), 0..=4096u16, 0..=4096u16, 0..=i32::MAX, 0..=i32::MAX, any::<bool>(), any::<bool>())
        .prop_map(|(a_plus, a_minus, decay_plus, decay_minus, w1, w2, near, soft)| StdpParams {
            a_plus,
            a_minus,
            decay_plus,
            decay_minus,
            w_min: w1.min(w2),
            w_max: w1.max(w2).min(w1.min(w2).saturating_add(widest_range(a_plus, a_minus))),
            pairing: if near { Pairing::Nearest } else { Pairing::AllToAll },
            bounds: if soft { Bounds::Soft } else { Bounds::Hard },
            relax: 0,
        })
}

/// The widest weight range the rates allow (validation refuses a range on
/// which a soft-bounded update would overflow).
fn widest_range(a_plus: i32, a_minus: i32) -> i32 {
    let a = i128::from(a_plus.unsigned_abs().max(a_minus.unsigned_abs()).max(1));
    (((1i128 << 62) - 1) / (64 * a)).min(i128::from(i32::MAX)) as i32
}

/// Whether a node's programmed weight lies within its STDP row's bounds
/// (true off STDP rows).
fn stdp_weight_ok(t: &TileConfig, n: &Node) -> bool {
    let r = &t.rows[usize::from(n.row)];
    let RowKind::Stdp(p) = r.kind else { return true };
    let p = &t.stdp[usize::from(p)];
    let w = fpnna_model::saturate(i64::from(n.level) * i64::from(r.scale));
    let w = if r.negative { fpnna_model::saturate(-i64::from(w)) } else { w };
    (p.w_min..=p.w_max).contains(&w)
}

/// Makes every key driven by one source: a column whose key is taken
/// moves to a free key (or, with none left, the tile's columns end there),
/// a port whose channels are taken becomes an output.
fn one_source_per_key(b: &mut Bitstream) {
    let n = b.global.key_count;
    let mut used = std::collections::BTreeSet::new();
    for t in &mut b.tiles {
        for c in 0..t.columns.len() {
            let k = t.columns[c].key;
            match (k..n).chain(0..k).find(|k| !used.contains(k)) {
                Some(free) => {
                    t.columns[c].key = free;
                    used.insert(free);
                }
                None => {
                    t.columns.truncate(c);
                    t.nodes.retain(|node| usize::from(node.col) < c);
                    break;
                }
            }
        }
    }
    for p in &mut b.ports {
        if p.kind == PortKind::Output {
            continue;
        }
        let keys = p.key_base..p.key_base + p.size;
        if keys.clone().any(|k| used.contains(&k)) {
            p.kind = PortKind::Output;
        } else {
            used.extend(keys);
        }
    }
}

fn tile_strategy(arch: &Arch, key_count: u32, x: u16, y: u16) -> impl Strategy<Value = TileConfig> + use<> {
    let (levels, max_delay, refr) = (arch.nonvolatile.levels, arch.tile.max_delay, arch.neuron.max_refractory);
    let counts = (1..=3usize, 0..=2usize, 0..=2usize, 0..=arch.tile.cols as usize, 0..=arch.tile.rows as usize);
    counts.prop_flat_map(move |(np, nv, ns, nc, nr)| {
        let column =
            (0..key_count, 0..np as u16, any::<i32>()).prop_map(|(key, params, v_init)| Column { key, params, v_init });
        let row = (
            0..key_count,
            1..=max_delay,
            any::<bool>(),
            0..3u8,
            0..nv.max(1) as u16,
            0..ns.max(1) as u16,
            any::<i32>(),
        )
            .prop_map(move |(key, delay, negative, k, v, s, scale)| {
                let kind = match k {
                    1 if nv > 0 => RowKind::Volatile(v),
                    2 if ns > 0 => RowKind::Stdp(s),
                    _ => RowKind::NonVolatile,
                };
                Row { key, delay, negative, kind, scale }
            });
        let nodes =
            proptest::collection::vec(proptest::option::weighted(0.3, 0..levels), nr * nc).prop_map(move |cells| {
                cells
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, level)| Some(Node { row: (i / nc) as u16, col: (i % nc) as u16, level: level? }))
                    .collect::<Vec<_>>()
            });
        (
            proptest::collection::vec(params_strategy(refr), np),
            proptest::collection::vec(volatile_strategy(), nv),
            proptest::collection::vec(stdp_strategy(), ns),
            proptest::collection::vec(column, nc),
            proptest::collection::vec(row, nr),
            nodes,
        )
            .prop_map(move |(params, volatile, stdp, columns, mut rows, nodes)| {
                rows.sort_by_key(Row::order);
                let mut t = TileConfig {
                    x,
                    y,
                    params,
                    volatile,
                    stdp,
                    columns,
                    rows,
                    nodes: Vec::new(),
                    row_lines: Vec::new(),
                    col_lines: Vec::new(),
                };
                t.nodes = nodes.into_iter().filter(|n| stdp_weight_ok(&t, n)).collect();
                t
            })
    })
}

fn router_strategy(arch: &Arch, x: u16, y: u16) -> impl Strategy<Value = RouterConfig> + use<> {
    let mut allowed = dir::LOCAL;
    if x + 1 < arch.grid.width {
        allowed |= dir::EAST;
    }
    if y + 1 < arch.grid.height {
        allowed |= dir::NORTH;
    }
    if x > 0 {
        allowed |= dir::WEST;
    }
    if y > 0 {
        allowed |= dir::SOUTH;
    }
    let entry = (any::<u32>(), prop_oneof![Just(u32::MAX), any::<u32>()], any::<u8>())
        .prop_map(move |(raw, mask, out)| RouteEntry { value: raw & mask, mask, out: out & allowed });
    proptest::collection::vec(entry, 1..=arch.router.table_entries as usize).prop_map(move |entries| RouterConfig {
        x,
        y,
        entries,
    })
}

fn key_range(key_count: u32) -> impl Strategy<Value = (u32, u32)> {
    (0..=key_count).prop_flat_map(move |base| (Just(base), 0..=key_count - base))
}

/// Any string: a symbol's kind (quotes, escapes, `#` and `=` in assembly).
const TEXT: &str = "[a-z_\"\\\\\n\té#=]{0,6}";
/// A name validation accepts (`fpnna_model::names`): never a keyword.
const NAME: &str = "n_[a-z0-9_]{0,4}";

fn port_strategy(arch: &Arch, key_count: u32) -> impl Strategy<Value = Port> + use<> {
    let kind = prop_oneof![
        Just(PortKind::Input),
        Just(PortKind::Output),
        (0..=1u64 << 32, any::<u64>()).prop_map(|(p, seed)| PortKind::Generator(Generator::Poisson { p, seed })),
        (1..=u32::MAX, any::<u32>())
            .prop_map(|(period, phase)| PortKind::Generator(Generator::Regular { period, phase })),
    ];
    (NAME, key_range(key_count), kind, 0..arch.grid.width, 0..arch.grid.height)
        .prop_map(|(name, (key_base, size), kind, x, y)| Port { name, key_base, size, kind, x, y })
}

fn symbol_strategy(key_count: u32) -> impl Strategy<Value = Symbol> {
    (NAME, key_range(key_count), TEXT).prop_map(|(name, (key_base, size), kind)| Symbol { name, key_base, size, kind })
}

/// Valid random configurations on random small architectures.
pub fn bitstream_strategy() -> impl Strategy<Value = Bitstream> {
    (arch_strategy(), 1..=300u32, 0.001..100.0f64).prop_flat_map(|(arch, key_count, dt_ms)| {
        let coords: Vec<(u16, u16)> =
            (0..arch.grid.height).flat_map(|y| (0..arch.grid.width).map(move |x| (x, y))).collect();
        let n = coords.len();
        let a = arch.clone();
        let tiles = proptest::sample::subsequence(coords.clone(), 0..=n).prop_flat_map(move |cs| {
            cs.into_iter().map(|(x, y)| tile_strategy(&a, key_count, x, y)).collect::<Vec<_>>()
        });
        let a = arch.clone();
        let routers = proptest::sample::subsequence(coords, 0..=n)
            .prop_flat_map(move |cs| cs.into_iter().map(|(x, y)| router_strategy(&a, x, y)).collect::<Vec<_>>());
        let ports = proptest::collection::vec(port_strategy(&arch, key_count), 0..4);
        let symbols = proptest::collection::vec(symbol_strategy(key_count), 0..4);
        (Just(arch), tiles, routers, ports, symbols).prop_map(move |(arch, tiles, routers, ports, symbols)| {
            let global = Global { dt_ms, key_count };
            let mut b = Bitstream { arch, global, tiles, routers, ports, symbols };
            one_source_per_key(&mut b);
            b
        })
    })
}
