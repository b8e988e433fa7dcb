//! Random networks as source text, with random architectures: the
//! generator of the end-to-end property (emulator = reference simulator).

use fpnna_arch::Arch;
use proptest::prelude::*;
use std::fmt::Write;

#[derive(Debug, Clone)]
/// A random LIF population.
pub struct Pop {
    pub size: u32,
    pub tau_m: f64,
    pub tau_syn: f64,
    pub threshold: f64,
    pub bias: f64,
    pub subtract: bool,
    pub refractory: u32,
}

#[derive(Debug, Clone)]
/// A random connection (its endpoints are taken modulo what exists).
pub struct Conn {
    pub from: usize,
    pub to: usize,
    pub connector: u8,
    pub p: f64,
    pub seed: u32,
    pub lo: f64,
    pub hi: f64,
    pub delay: u32,
    pub kind: u8,
    pub tau: f64,
    pub gain: f64,
}

#[derive(Debug, Clone)]
/// A random network, its stimulus and an architecture to compile it for.
pub struct Case {
    pub dt: f64,
    pub inputs: Vec<u32>,
    pub poisson: Option<(u32, f64, u32)>,
    pub pops: Vec<Pop>,
    pub conns: Vec<Conn>,
    pub stimulus: Vec<(u64, usize, u32)>,
    pub grid: (u16, u16),
    pub rows: u16,
    pub cols: u16,
    pub bandwidth: u16,
    pub table: u32,
    pub rows_per_cycle: u16,
    pub seed: u64,
}

/// Steps each case runs.
pub const STEPS: u64 = 120;

/// A random population.
pub fn pop() -> impl Strategy<Value = Pop> {
    (1u32..20, 2.0f64..30.0, 0.0f64..8.0, 0.4f64..2.0, -0.02f64..0.08, any::<bool>(), 0u32..4).prop_map(
        |(size, tau_m, tau_syn, threshold, bias, subtract, refractory)| Pop {
            size,
            tau_m,
            tau_syn,
            threshold,
            bias,
            subtract,
            refractory,
        },
    )
}

/// A random connection.
pub fn conn() -> impl Strategy<Value = Conn> {
    (
        (0usize..8, 0usize..8, 0u8..4, 0.1f64..0.9, any::<u32>()),
        (-1.0f64..0.0, 0.3f64..1.5, 1u32..7, 0u8..10, 1.0f64..20.0, 0.05f64..0.5),
    )
        .prop_map(|((from, to, connector, p, seed), (lo, hi, delay, kind, tau, gain))| Conn {
            from,
            to,
            connector,
            p,
            seed,
            lo,
            hi,
            delay,
            kind,
            tau,
            gain,
        })
}

/// A random case. The ranges are shaped so that most cases fit their
/// architecture (tiles of at least 16 rows and 4 columns, tables of at
/// least 8 entries) and most that fit spike (positive upper weights, a
/// bias mostly above zero, 10 to 60 stimulus spikes): about 95 % compile
/// and about 93 % of those spike (docs/testing.md).
pub fn case() -> impl Strategy<Value = Case> {
    (
        (prop_oneof![Just(0.5), Just(1.0)], prop::collection::vec(1u32..8, 1..3)),
        prop::option::of((1u32..8, 20.0f64..300.0, any::<u32>())),
        prop::collection::vec(pop(), 1..4),
        prop::collection::vec(conn(), 1..7),
        prop::collection::vec((0u64..STEPS, 0usize..2, 0u32..8), 10..60),
        ((2u16..6, 2u16..6), 16u16..128, 4u16..24, 1u16..4, 8u32..64, 1u16..6, any::<u64>()),
    )
        .prop_map(
            |((dt, inputs), poisson, pops, conns, stimulus, (grid, rows, cols, bandwidth, table, rpc, seed))| Case {
                dt,
                inputs,
                poisson,
                pops,
                conns,
                stimulus,
                grid,
                rows,
                cols,
                bandwidth,
                table,
                rows_per_cycle: rpc,
                seed,
            },
        )
}

/// The source text of a case.
pub fn source(c: &Case) -> String {
    let mut s = format!("network random {{\n    dt = {};\n", c.dt);
    let mut names: Vec<(String, u32)> = Vec::new();
    for (k, &n) in c.inputs.iter().enumerate() {
        let _ = writeln!(s, "    input in{k}[{n}];");
        names.push((format!("in{k}"), n));
    }
    if let Some((n, rate, seed)) = c.poisson {
        let _ = writeln!(s, "    source noise[{n}] : poisson {{ rate = {rate}, seed = {seed} }};");
        names.push(("noise".into(), n));
    }
    let first_neurons = names.len();
    for (k, p) in c.pops.iter().enumerate() {
        let _ = writeln!(
            s,
            "    population p{k}[{}] : lif {{ tau_m = {}, tau_syn = {}, threshold = {}, bias = {}, reset = {}, \
             refractory = {}, v_init = uniform(0, 0.5, seed = {k}) }};",
            p.size,
            p.tau_m,
            p.tau_syn,
            p.threshold,
            p.bias,
            if p.subtract { "subtract" } else { "zero" },
            p.refractory
        );
        names.push((format!("p{k}"), p.size));
    }
    for cn in &c.conns {
        let (from, nf) = &names[cn.from % names.len()];
        let (to, nt) = &names[first_neurons + cn.to % c.pops.len()];
        let connector = match cn.connector {
            0 => "all_to_all".to_string(),
            1 if nf == nt => "one_to_one".to_string(),
            2 => format!("fixed_fan_in({}, seed = {})", 1 + cn.seed % nf, cn.seed),
            _ => format!("fixed_probability({}, seed = {})", cn.p, cn.seed),
        };
        let (weight, kind) = match cn.kind {
            0..=5 => (format!("uniform({}, {}, seed = {})", cn.lo, cn.hi, cn.seed), String::new()),
            6 | 7 => (
                format!("uniform({}, {}, seed = {})", cn.lo, cn.hi, cn.seed),
                format!(" volatile {{ tau = {}, gain = {}, sat = 4 }}", cn.tau, cn.gain),
            ),
            _ => (
                format!("uniform(0, {}, seed = {})", cn.hi.min(1.0), cn.seed),
                format!(
                    " stdp {{ a_plus = {}, a_minus = {}, tau_plus = {}, tau_minus = {}, w_max = 1.5, pairing = {}, \
                     bounds = {} }}",
                    cn.gain / 10.0,
                    cn.gain / 9.0,
                    cn.tau,
                    cn.tau * 1.5,
                    if cn.seed % 2 == 0 { "all" } else { "nearest" },
                    if cn.seed % 3 == 0 { "soft" } else { "hard" }
                ),
            ),
        };
        let _ = writeln!(s, "    connect {from} -> {to} : {connector} weight {weight} delay {}{kind};", cn.delay);
    }
    s.push_str("}\n");
    s
}

/// The architecture of a case: the small preset with its sizes.
pub fn arch(c: &Case) -> Arch {
    let mut a = Arch::preset("small").unwrap();
    a.name = "random".into();
    (a.grid.width, a.grid.height) = c.grid;
    a.tile.rows = c.rows;
    a.tile.cols = c.cols;
    a.router.link_bandwidth = c.bandwidth;
    a.router.table_entries = c.table;
    a.timing.rows_per_cycle = c.rows_per_cycle;
    a.validate("random").unwrap();
    a
}
