//! The central property: for random networks, random seeds and random
//! architectures (grid, tile size, link bandwidth, table size), the
//! emulator running the compiled bitstream with ideal devices produces
//! exactly the spikes the reference simulator produces for the quantized
//! network; and the independent checker accepts every placement. Networks
//! that do not fit an architecture must fail with a capacity error (a
//! `CompileError` variant, not a message). The run counts the cases that
//! compile and those that spike and asserts floors, so that the property
//! cannot pass by rejecting or idling.

use fpnna_compiler::CompileError;
use fpnna_emu::{EmuOptions, Emulator, NullObserver};
use fpnna_sim::Spike;
use fpnna_testkit::random::{Case, STEPS, arch, case, source};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use std::cell::Cell;

/// Cases run (a fixed seed keeps CI deterministic; the regression file's
/// cases run first).
const CASES: u32 = 256;
/// Of the cases, the share that must compile (measured: see docs/testing.md).
const FIT_FLOOR: f64 = 0.90;
/// Of the cases that compile, the share that must produce a spike.
const SPIKE_FLOOR: f64 = 0.85;

/// What one case came to, when it held.
enum Outcome {
    /// The network does not fit the architecture (a capacity error).
    NoFit,
    /// Emulator and simulator agreed on this many spikes.
    Ran(usize),
}

/// Whether a compile error is an acceptable one: the network does not fit
/// the architecture's capacities. Anything else is a bug.
fn is_capacity(e: &CompileError) -> bool {
    matches!(
        e,
        CompileError::TooManyTiles { .. } | CompileError::FanInTooLarge { .. } | CompileError::Unroutable { .. }
    )
}

fn check_case(c: &Case) -> Result<Outcome, TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.fpn");
    let text = source(c);
    std::fs::write(&path, &text).unwrap();
    let net = fpnna_dsl::load_file(&path, &fpnna_dsl::Options { seed: c.seed })
        .map_err(|d| TestCaseError::fail(format!("{}\n{text}", d.short())))?;
    let arch = arch(c);
    let compiled = match fpnna_compiler::compile(&net, &arch, c.seed, None) {
        Ok(x) => x,
        Err(e) if is_capacity(&e) => return Ok(Outcome::NoFit),
        Err(e) => return Err(TestCaseError::fail(format!("unexpected compile error: {e}\n{text}"))),
    };
    // Through the bytes, as a user's run goes (decoding validates).
    let b = fpnna_bitstream::decode(&fpnna_bitstream::encode(&compiled.bitstream)).unwrap();
    fpnna_compiler::check_placement(&compiled.quantized, &b).map_err(|e| TestCaseError::fail(e.join("\n")))?;

    let q = &compiled.quantized;
    let inputs: Vec<_> = q
        .pops()
        .filter(|(_, p)| p.kind == fpnna_ir::PopKind::Input)
        .map(|(id, p)| (id, p.size, p.name.clone()))
        .collect();
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
        .map(|&(t, k)| {
            let (n, i) = emu.name_of(k).unwrap();
            (t, n.to_string(), i)
        })
        .collect();
    emu_spikes.sort();
    let sim_spikes: Vec<(u64, String, u32)> =
        sim.spikes.iter().map(|s| (s.step, q.pop(s.pop).name.clone(), s.index)).collect();
    prop_assert_eq!(&emu_spikes, &sim_spikes, "source:\n{}", text);
    prop_assert_eq!(run.stats.synaptic_events_sent, sim.synaptic_events);
    Ok(Outcome::Ran(emu_spikes.len()))
}

#[test]
fn emulator_equals_reference_on_random_networks() {
    let config = fpnna_testkit::prop::fixed(CASES, 0x5eed_e9e1, file!());
    let (fit, spiking, total) = (Cell::new(0u32), Cell::new(0u32), Cell::new(0u32));
    let result = TestRunner::new(config).run(&case(), |c| {
        let outcome = check_case(&c)?;
        total.set(total.get() + 1);
        if let Outcome::Ran(n) = outcome {
            fit.set(fit.get() + 1);
            spiking.set(spiking.get() + u32::from(n > 0));
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (fit, spiking, total) = (fit.get(), spiking.get(), total.get());
    eprintln!("equivalence: {total} cases, {fit} compiled, {spiking} of those spiked");
    assert!(f64::from(fit) >= FIT_FLOOR * f64::from(total), "only {fit} of {total} cases compiled");
    assert!(f64::from(spiking) >= SPIKE_FLOOR * f64::from(fit), "only {spiking} of {fit} compiled cases spiked");
}
