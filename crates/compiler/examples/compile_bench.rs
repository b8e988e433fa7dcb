//! Compile-time benchmark on synthetic networks.
//!
//! `cargo run --release -p fpnna-compiler --example compile_bench -- N FAN_IN WINDOW PRESET [SEED] [INPUTS] [DELAYS]`
//!
//! N LIF neurons, each with FAN_IN random presynaptic neurons (positive
//! and negative weights, delay 1..=DELAYS, default 3) drawn from the whole population
//! (WINDOW = 0) or from the WINDOW neurons around it (local connectivity);
//! plus INPUTS input channels (default N / 100) driving 10 random neurons each.

use fpnna_arch::Arch;
use fpnna_compiler::{check_placement, compile};
use fpnna_ir::{Network, NeuronModel, Neurons, PopKind, Population, Projection, SynapseKind, Synapses};
use fpnna_model::{NeuronParams, ONE, Reset, hash3};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let n = arg(0, 10_000) as u32;
    let fan_in = arg(1, 100) as u32;
    let window = arg(2, 0) as u32;
    let preset = args.get(3).cloned().unwrap_or_else(|| "large".into());
    let seed = arg(4, 1);
    let inputs = arg(5, u64::from(n / 100).max(1)) as u32;
    let delays = arg(6, 3).max(1);
    let check = std::env::var_os("FPNNA_BENCH_CHECK").is_some();

    let t = Instant::now();
    let net = build(n, fan_in, window, inputs, delays);
    eprintln!("built {} synapses in {:.2} s", net.synapse_count(), t.elapsed().as_secs_f64());
    let arch = Arch::preset(&preset).expect("preset");
    let t = Instant::now();
    let progress = |p: fpnna_compiler::Progress<'_>| {
        if let fpnna_compiler::Progress::Stage(s) = p {
            eprintln!("  {:>7.2} s  {s}", t.elapsed().as_secs_f64());
        }
    };
    match compile(&net, &arch, seed, Some(&progress)) {
        Ok(c) => {
            let secs = t.elapsed().as_secs_f64();
            println!("{}", c.report);
            println!("timings: {:?}", c.report.timings);
            println!("BENCH n={n} fan_in={fan_in} window={window} preset={preset}: compiled in {secs:.2} s");
            if check {
                let t = Instant::now();
                let v = fpnna_bitstream::validate(c.bitstream.clone()).unwrap_or_else(|e| panic!("{e}"));
                let r = check_placement(&c.quantized, &v);
                println!("check_placement: {:?} in {:.2} s", r.map_err(|e| e.len()), t.elapsed().as_secs_f64());
            }
        }
        Err(e) => {
            println!(
                "BENCH n={n} fan_in={fan_in} window={window} preset={preset}: error after {:.2} s: {e}",
                t.elapsed().as_secs_f64()
            );
        }
    }
}

fn build(n: u32, fan_in: u32, window: u32, inputs: u32, delays: u64) -> Network {
    let p = NeuronParams {
        decay_i: 1024,
        decay_v: 256,
        threshold: ONE,
        bias: 0,
        v_min: -ONE,
        reset: Reset::Zero,
        refractory: 2,
        theta_step: 0,
        theta_decay: 0,
    };
    let mut net = Network::new("bench", 1.0);
    let inp = net.add_population(Population { name: "in".into(), size: inputs, kind: PopKind::Input, output: false });
    let pop = net.add_population(Population {
        name: "pop".into(),
        size: n,
        kind: PopKind::Neurons(Neurons {
            model: NeuronModel::Lif,
            params: vec![p; n as usize],
            v_init: vec![0; n as usize],
        }),
        output: true,
    });
    let mut rec = Synapses::default();
    let mut k = 0u64;
    for post in 0..n {
        for _ in 0..fan_in {
            k += 1;
            let r = hash3(7, k, 0);
            let pre = if window == 0 {
                (r % u64::from(n)) as u32
            } else {
                let lo = post.saturating_sub(window / 2).min(n.saturating_sub(window));
                lo + (r % u64::from(window.min(n))) as u32
            };
            let w = ((r >> 32) % (2 * ONE as u64)) as i32 - ONE / 2;
            rec.push(pre, post, w, 1 + ((r >> 20) % delays) as u8);
        }
    }
    let mut fwd = Synapses::default();
    for i in 0..inputs {
        for j in 0..10 {
            let r = hash3(8, u64::from(i), j);
            fwd.push(i, (r % u64::from(n)) as u32, ONE, 1);
        }
    }
    net.add_projection(inp, pop, Projection { name: "in -> pop".into(), kind: SynapseKind::NonVolatile, syn: fwd });
    net.add_projection(pop, pop, Projection { name: "pop -> pop".into(), kind: SynapseKind::NonVolatile, syn: rec });
    net
}
