//! Emulator speed on synthetic bitstreams built by hand (no compiler):
//!
//!   cargo run --release -p fpnna-emu --example bench [steps] [cuba]
//!
//! (`cuba`: only the single-threaded CUBA measurement.)
//!
//! 1. CUBA-like: 4000 LIF neurons (80 % excitatory), random 2 % connectivity
//!    (fan-in 80), dt = 0.1 ms, 16 tiles of 250 neurons on a 4x4 grid.
//! 2. The same small network (400 neurons on 4 tiles at the grid's corner)
//!    on a 4x4 and on a 32x32 grid: the ratio shows that cost follows the
//!    programmed network, not the array's capacity.
//!
//! Prints one JSON line per measurement.

use fpnna_arch::{Arch, Grid};
use fpnna_bitstream::{Bitstream, Column, Global, Node, RouteEntry, RouterConfig, Row, RowKind, Symbol, TileConfig};
use fpnna_emu::{EmuOptions, Emulator, NullObserver};
use fpnna_model::{self as m, NeuronParams, ONE, Reset};
use std::collections::BTreeMap;
use std::time::Instant;

use fpnna_testkit::xy_route::xy_route;

/// A CUBA-like network of `n` neurons, `cols` per tile, tile t at `at(t)`.
fn cuba(n: u32, cols: u32, grid: (u16, u16), at: &dyn Fn(u32) -> (u16, u16), seed: u64) -> Bitstream {
    let mut arch = Arch::preset("default").unwrap();
    arch.grid = Grid { width: grid.0, height: grid.1 };
    arch.tile.rows = 4096;
    arch.tile.cols = cols as u16;
    arch.router.table_entries = 1 << 16;
    let (dt, fanin) = (0.1, 80.0);
    let decay_v = m::decay_from_tau(20.0, dt);
    let decay_i = m::decay_from_tau(5.0, dt);
    let params = NeuronParams {
        decay_i,
        decay_v,
        threshold: 10 * ONE,
        // Rest 11 mV above reset (El = -49 mV, Vr = -60 mV, Vt = -50 mV).
        bias: (11 * i64::from(ONE) * i64::from(decay_v) / 4096) as i32,
        v_min: -100 * ONE,
        reset: Reset::Zero,
        refractory: 50,
        theta_step: 0,
        theta_decay: 0,
    };
    // Total charge of one spike as in Brian2's CUBA: we * taue / taum = 0.405 mV,
    // wi * taui / taum = -4.5 mV, spread over the current's ~4096 / decay_i steps.
    let steps_i = 4096.0 / f64::from(decay_i);
    let we = m::to_fixed(0.405 / steps_i).unwrap();
    let wi = m::to_fixed(4.5 / steps_i).unwrap();
    let ne = n * 4 / 5;
    let p = (fanin / f64::from(n) * 4_294_967_296.0) as u64;
    let ntiles = n.div_ceil(cols);
    let mut tiles: Vec<TileConfig> = (0..ntiles)
        .map(|t| {
            let (x, y) = at(t);
            let cols_here = cols.min(n - t * cols);
            TileConfig {
                x,
                y,
                params: vec![params],
                volatile: vec![],
                stdp: vec![],
                columns: (0..cols_here)
                    .map(|c| {
                        let k = t * cols + c;
                        Column { key: k, params: 0, v_init: m::uniform_fixed(seed, u64::from(k), 0, 10 * ONE - 1) }
                    })
                    .collect(),
                rows: vec![],
                nodes: vec![],
                row_lines: vec![],
                col_lines: vec![],
            }
        })
        .collect();
    let mut routes: BTreeMap<(u16, u16), BTreeMap<u32, u8>> = BTreeMap::new();
    for s in 0..n {
        let exc = s < ne;
        let mut dest_tiles = Vec::new();
        for j in 0..n {
            if m::hash3(seed, u64::from(s), u64::from(j)) >> 32 >= p {
                continue;
            }
            let t = &mut tiles[(j / cols) as usize];
            if t.rows.last().is_none_or(|r| r.key != s) {
                t.rows.push(Row {
                    key: s,
                    delay: 1,
                    negative: !exc,
                    kind: RowKind::NonVolatile,
                    scale: if exc { we } else { wi },
                });
                dest_tiles.push(j / cols);
            }
            let row = (t.rows.len() - 1) as u16;
            t.nodes.push(Node { row, col: (j % cols) as u16, level: 1 });
        }
        let (sx, sy) = at(s / cols);
        for d in dest_tiles {
            let (tx, ty) = at(d);
            xy_route((sx, sy), (tx, ty), |x, y, out| *routes.entry((y, x)).or_default().entry(s).or_insert(0) |= out);
        }
    }
    tiles.sort_by_key(|t| (t.y, t.x));
    let routers = routes
        .into_iter()
        .map(|((y, x), e)| RouterConfig {
            x,
            y,
            entries: e.into_iter().map(|(k, out)| RouteEntry { value: k, mask: u32::MAX, out }).collect(),
        })
        .collect();
    Bitstream {
        arch,
        global: Global { dt_ms: dt, key_count: n },
        tiles,
        routers,
        ports: vec![],
        symbols: vec![Symbol { name: "P".into(), key_base: 0, size: n, kind: "lif".into() }],
    }
}

fn measure(label: &str, bs: &Bitstream, steps: u64, threads: usize) -> f64 {
    let bs = bs.clone();
    // Loading is validating (as decoding does) and configuring.
    let t0 = Instant::now();
    let bs = fpnna_bitstream::validate(bs).unwrap();
    let mut emu = Emulator::new(&bs, EmuOptions { threads, ..EmuOptions::ideal() }).unwrap();
    let load = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let r = emu.run(steps, &[], &mut NullObserver).unwrap();
    let wall = t1.elapsed().as_secs_f64();
    let s = &r.stats;
    // Fingerprint of the outputs (FNV-1a of the spikes' and the stats' JSON):
    // an optimisation must leave it unchanged.
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in serde_json::to_string(&r.spikes).unwrap().bytes().chain(serde_json::to_string(s).unwrap().bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    let neurons: u64 = bs.tiles.iter().map(|t| t.columns.len() as u64).sum();
    let secs = steps as f64 * bs.global.dt_ms / 1000.0;
    println!(
        "{{\"bench\":\"{label}\",\"threads\":{threads},\"steps\":{steps},\"neurons\":{neurons},\"load_s\":{load:.3},\
         \"wall_s\":{wall:.3},\"rate_hz\":{:.2},\"synaptic_events\":{},\"events_per_s\":{:.3e},\"steps_per_s\":{:.0},\
         \"hops\":{},\"cycles_per_step_mean\":{:.1},\"energy_uj\":{:.3},\"fingerprint\":\"{h:016x}\"}}",
        s.neuron_spikes as f64 / neurons as f64 / secs,
        s.synaptic_events,
        s.synaptic_events as f64 / wall,
        steps as f64 / wall,
        s.hops,
        s.cycles_per_step.mean,
        s.energy_pj.total_pj * 1e-6,
    );
    wall
}

fn main() {
    let steps: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let big = cuba(4000, 250, (4, 4), &|t| ((t % 4) as u16, (t / 4) as u16), 12345);
    measure("cuba-4000", &big, steps, 1);
    if std::env::args().nth(2).as_deref() == Some("cuba") {
        // Quick mode: the single-threaded CUBA run only.
        return;
    }
    measure("cuba-4000", &big, steps, 2);
    let corner = |t: u32| ((t % 2) as u16, (t / 2) as u16);
    let small4 = cuba(400, 100, (4, 4), &corner, 7);
    let small32 = cuba(400, 100, (32, 32), &corner, 7);
    let a = measure("small-400-on-4x4", &small4, steps, 1);
    let b = measure("small-400-on-32x32", &small32, steps, 1);
    println!("{{\"bench\":\"grid-ratio\",\"wall_32x32_over_4x4\":{:.3}}}", b / a);
}
