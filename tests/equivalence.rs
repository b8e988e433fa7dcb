//! The central property: for random networks, random seeds and random
//! architectures (grid, tile size, link bandwidth, table size), the
//! emulator running the compiled bitstream with ideal devices produces
//! exactly the spikes the reference simulator produces for the quantized
//! network; and the independent checker accepts every placement. Networks
//! that do not fit an architecture must fail with a capacity error.

use fpnna_emu::{EmuOptions, Emulator, NullObserver};
use fpnna_sim::Spike;
use fpnna_testkit::random::{STEPS, arch, case, source};
use proptest::prelude::*;

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
        fpnna_compiler::check_placement(&compiled.quantized, &compiled.bitstream)
            .map_err(|e| TestCaseError::fail(e.join("\n")))?;
        // Through the bytes, as a user's run goes.
        let b = fpnna_bitstream::decode(&fpnna_bitstream::encode(&compiled.bitstream)).unwrap();

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
