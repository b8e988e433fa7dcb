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
    /// Emulator and simulator agreed on this many spikes (and the mapping
    /// avoided a defect that the blind mapping would have hit).
    Ran(usize, bool),
}

/// Whether a compile error is an acceptable one: the network does not fit
/// the architecture's capacities. Anything else is a bug.
fn is_capacity(e: &CompileError) -> bool {
    matches!(
        e,
        CompileError::TooManyTiles { .. } | CompileError::FanInTooLarge { .. } | CompileError::Unroutable { .. }
    )
}

/// A chip for a case: seeded defects at `rate` (the share `high` of them
/// at G_max), `measured` extra defects and `formed` crosspoints formed by
/// an earlier configuration, all placed from `salt`.
#[derive(Clone, Debug)]
struct ChipCase {
    rate: f64,
    high: f64,
    measured: u32,
    formed: u32,
    salt: u64,
}

fn chip_case() -> impl Strategy<Value = ChipCase> {
    (0.0..0.10f64, 0.0..1.0f64, 0..40u32, 0..200u32, any::<u64>())
        .prop_map(|(rate, high, measured, formed, salt)| ChipCase { rate, high, measured, formed, salt })
}

/// The chip of `cc` for `arch`.
fn chip_of(cc: &ChipCase, arch: &fpnna_arch::Arch) -> fpnna_arch::ChipState {
    use fpnna_arch::{Crosspoint, Defect, FormedNode, FormedTile, Side};
    let draw = |i: u64, n: u16| (fpnna_model::hash3(cc.salt, i, 0) % u64::from(n)) as u16;
    let place = |i: u64| Crosspoint {
        x: draw(4 * i, arch.grid.width),
        y: draw(4 * i + 1, arch.grid.height),
        row: draw(4 * i + 2, arch.tile.rows),
        col: draw(4 * i + 3, arch.tile.cols),
    };
    let mut defects: Vec<Defect> = (0..u64::from(cc.measured))
        .map(|i| Defect { at: place(i), side: if i % 2 == 0 { Side::Plus } else { Side::Minus }, high: i % 3 == 0 })
        .collect();
    defects.sort();
    defects.dedup_by_key(|d| (d.at, d.side));
    let (min, max) = (cc.rate * (1.0 - cc.high), cc.rate * cc.high);
    let mut chip = fpnna_arch::ChipState::new(arch, cc.salt, min, max, defects).unwrap();
    let mut formed: Vec<Crosspoint> = (0..u64::from(cc.formed)).map(|i| place(1000 + i)).collect();
    formed.sort_by_key(|c| (c.y, c.x, c.row, c.col));
    formed.dedup();
    for c in formed {
        let node = FormedNode { row: c.row, col: c.col, writes: 1, by: 0 };
        match chip.formed.last_mut() {
            Some(t) if (t.x, t.y) == (c.x, c.y) => t.nodes.push(node),
            _ => chip.formed.push(FormedTile { x: c.x, y: c.y, nodes: vec![node] }),
        }
    }
    if !chip.formed.is_empty() {
        chip.history.push(fpnna_arch::Applied { bitstream: "earlier".into(), steps: 1 });
    }
    chip
}

fn check_case(c: &Case, chip: Option<&ChipCase>) -> Result<Outcome, TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.fpn");
    let text = source(c);
    std::fs::write(&path, &text).unwrap();
    let net = fpnna_dsl::load_file(&path, &fpnna_dsl::Options { seed: c.seed })
        .map_err(|d| TestCaseError::fail(format!("{}\n{text}", d.short())))?;
    let arch = arch(c);
    let chip = chip.map(|cc| chip_of(cc, &arch));
    let compiled = match &chip {
        Some(chip) => fpnna_compiler::compile_for_chip(&net, &arch, chip, c.seed, None),
        None => fpnna_compiler::compile(&net, &arch, c.seed, None),
    };
    let compiled = match compiled {
        Ok(x) => x,
        Err(e) if is_capacity(&e) => return Ok(Outcome::NoFit),
        Err(CompileError::ChipExhausted { .. } | CompileError::ChipTooManyTiles { .. }) if chip.is_some() => {
            return Ok(Outcome::NoFit);
        }
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
    let mut emu = Emulator::new(&b, EmuOptions { chip, ..EmuOptions::ideal() }).unwrap();
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
    let avoided = compiled.report.chip.as_ref().is_some_and(|r| r.defects_avoided > 0);
    Ok(Outcome::Ran(emu_spikes.len(), avoided))
}

#[test]
fn emulator_equals_reference_on_random_networks() {
    run_property(CASES, 0x5eed_e9e1, FIT_FLOOR, &case().prop_map(|c| (c, None)));
}

/// The same on a chip with stuck devices (0 to 10 %, both kinds, seeded and
/// measured) and crosspoints formed by an earlier configuration: a network
/// compiled for that chip runs on it exactly as the reference simulator.
#[test]
fn a_network_compiled_for_a_defective_chip_equals_reference_on_it() {
    run_property(CHIP_CASES, 0xc41b_0001, CHIP_FIT_FLOOR, &(case(), chip_case()).prop_map(|(c, cc)| (c, Some(cc))));
}

/// Of the compiled chip cases, the share whose blind mapping would hit a defect.
const AVOIDED_FLOOR: f64 = 0.5;
/// Cases of the chip property.
const CHIP_CASES: u32 = 128;
/// Of those, the share that must compile (fewer: defects cost capacity).
const CHIP_FIT_FLOOR: f64 = 0.75;

/// Runs `cases` cases of `strategy`, asserting that a share `fit_floor`
/// compiled and that enough of those spiked.
fn run_property(cases: u32, seed: u64, fit_floor: f64, strategy: &impl Strategy<Value = (Case, Option<ChipCase>)>) {
    let config = fpnna_testkit::prop::fixed(cases, seed, file!());
    let counts = Cell::new([0u32; 4]);
    let on_chip = Cell::new(false);
    let result = TestRunner::new(config).run(strategy, |(c, cc)| {
        on_chip.set(cc.is_some());
        let outcome = check_case(&c, cc.as_ref())?;
        let mut n = counts.get();
        n[0] += 1;
        if let Outcome::Ran(spikes, avoided) = outcome {
            n[1] += 1;
            n[2] += u32::from(spikes > 0);
            n[3] += u32::from(avoided);
        }
        counts.set(n);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let [total, fit, spiking, avoided] = counts.get();
    eprintln!(
        "equivalence: {total} cases, {fit} compiled, {spiking} of those spiked, {avoided} mapped around a defect"
    );
    assert!(f64::from(fit) >= fit_floor * f64::from(total), "only {fit} of {total} cases compiled");
    assert!(f64::from(spiking) >= SPIKE_FLOOR * f64::from(fit), "only {spiking} of {fit} compiled cases spiked");
    // On a chip, the mapping must have had defects to avoid.
    if on_chip.get() {
        assert!(f64::from(avoided) >= AVOIDED_FLOOR * f64::from(fit), "only {avoided} of {fit} met a defect");
    }
}
