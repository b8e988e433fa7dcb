//! The central property: for random networks, random seeds and random
//! architectures (grid, tile size, link bandwidth, table size), the
//! emulator running the compiled bitstream with ideal devices produces
//! exactly the spikes the reference simulator produces for the quantized
//! network; and the independent checker accepts every placement. Networks
//! that do not fit an architecture must fail with a capacity error.

use fpnna_arch::Arch;
use fpnna_emu::{EmuOptions, Emulator, NullObserver};
use fpnna_sim::Spike;
use proptest::prelude::*;
use std::fmt::Write;

#[derive(Debug, Clone)]
struct Pop {
    size: u32,
    tau_m: f64,
    tau_syn: f64,
    threshold: f64,
    bias: f64,
    subtract: bool,
    refractory: u32,
}

#[derive(Debug, Clone)]
struct Conn {
    from: usize,
    to: usize,
    connector: u8,
    p: f64,
    seed: u32,
    lo: f64,
    hi: f64,
    delay: u32,
    kind: u8,
    tau: f64,
    gain: f64,
}

#[derive(Debug, Clone)]
struct Case {
    dt: f64,
    inputs: Vec<u32>,
    poisson: Option<(u32, f64, u32)>,
    pops: Vec<Pop>,
    conns: Vec<Conn>,
    stimulus: Vec<(u64, usize, u32)>,
    grid: (u16, u16),
    rows: u16,
    cols: u16,
    bandwidth: u16,
    table: u32,
    rows_per_cycle: u16,
    seed: u64,
}

const STEPS: u64 = 120;

fn pop() -> impl Strategy<Value = Pop> {
    (1u32..20, 2.0f64..30.0, 0.0f64..8.0, 0.4f64..2.0, -0.05f64..0.08, any::<bool>(), 0u32..4).prop_map(
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

fn conn() -> impl Strategy<Value = Conn> {
    (
        (0usize..8, 0usize..8, 0u8..4, 0.1f64..0.9, any::<u32>()),
        (-1.0f64..0.0, 0.0f64..1.5, 1u32..7, 0u8..10, 1.0f64..20.0, 0.05f64..0.5),
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

fn case() -> impl Strategy<Value = Case> {
    (
        (prop_oneof![Just(0.5), Just(1.0)], prop::collection::vec(1u32..8, 1..3)),
        prop::option::of((1u32..8, 20.0f64..300.0, any::<u32>())),
        prop::collection::vec(pop(), 1..4),
        prop::collection::vec(conn(), 1..7),
        prop::collection::vec((0u64..STEPS, 0usize..2, 0u32..8), 0..40),
        ((2u16..6, 2u16..6), 8u16..96, 2u16..24, 1u16..4, 4u32..64, 1u16..6, any::<u64>()),
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

/// The source text of a case, and its stimulus resolved to (step, input, index).
fn source(c: &Case) -> String {
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

fn arch(c: &Case) -> Arch {
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, max_global_rejects: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn emulator_equals_reference_on_random_networks(c in case()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("random.fpn");
        let text = source(&c);
        std::fs::write(&path, &text).unwrap();
        let net = fpnna_dsl::load_file(&path, &fpnna_dsl::Options { seed: c.seed })
            .map_err(|d| TestCaseError::fail(format!("{}\n{text}", d.short())))?;
        let arch = arch(&c);
        let compiled = match fpnna_compiler::compile(&net, &arch, c.seed, None) {
            Ok(x) => x,
            Err(e) => {
                // Only capacity errors are acceptable failures.
                let msg = e.to_string();
                prop_assert!(
                    msg.contains("tile") || msg.contains("rout") || msg.contains("row") || msg.contains("table"),
                    "unexpected compile error: {msg}"
                );
                return Err(TestCaseError::reject("does not fit"));
            }
        };
        // Through the bytes, as a user's run goes (decoding validates).
        let b = fpnna_bitstream::decode(&fpnna_bitstream::encode(&compiled.bitstream)).unwrap();
        fpnna_compiler::check_placement(&compiled.quantized, &b)
            .map_err(|e| TestCaseError::fail(e.join("\n")))?;

        let q = &compiled.quantized;
        let inputs: Vec<_> = q.pops().filter(|(_, p)| p.kind == fpnna_ir::PopKind::Input).map(|(id, p)| (id, p.size, p.name.clone())).collect();
        let mut stim = Vec::new();
        let mut keyed = Vec::new();
        let mut emu = Emulator::new(&b, EmuOptions::ideal()).unwrap();
        for &(step, which, index) in &c.stimulus {
            let (id, size, name) = &inputs[which % inputs.len()];
            let index = index % size;
            stim.push(Spike { step, pop: *id, index });
            keyed.push((step, emu.port(name).unwrap().key_base + index));
        }
        let sim = fpnna_sim::simulate(q, STEPS, &stim).unwrap();
        let run = emu.run(STEPS, &keyed, &mut NullObserver).unwrap();
        let mut emu_spikes: Vec<(u64, String, u32)> = run
            .spikes
            .iter()
            .map(|&(t, k)| { let (n, i) = emu.name_of(k).unwrap(); (t, n.to_string(), i) })
            .collect();
        emu_spikes.sort();
        let sim_spikes: Vec<(u64, String, u32)> =
            sim.spikes.iter().map(|s| (s.step, q.pop(s.pop).name.clone(), s.index)).collect();
        prop_assert_eq!(emu_spikes, sim_spikes, "source:\n{}", text);
        prop_assert_eq!(run.stats.synaptic_events_sent, sim.synaptic_events);
    }
}
