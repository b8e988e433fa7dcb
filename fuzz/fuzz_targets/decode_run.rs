//! Any bytes as a bitstream, then configured and emulated: what decodes
//! configures (or is refused with a reason) and runs a few steps without a
//! panic, ideal and noisy; its saved state reloads; and its decompiled
//! source parses and elaborates (names a source cannot declare are refused
//! by decoding, so a decompiled source always reads back).
#![no_main]

use fpnna_bitstream::decode;
use fpnna_emu::{EmuOptions, Emulator, NullObserver};
use libfuzzer_sys::fuzz_target;

#[path = "shared/crc.rs"]
mod crc;

/// Steps each accepted bitstream runs (with spikes on every input channel).
const STEPS: u64 = 12;

fuzz_target!(|data: &[u8]| {
    check(data);
    let fixed = crc::with_crcs_repaired(data);
    if fixed != data {
        check(&fixed);
    }
});

fn check(data: &[u8]) {
    let Ok(b) = decode(data) else { return };
    for opts in [EmuOptions::ideal(), EmuOptions { seed: 7, ..EmuOptions::default() }] {
        let Ok(mut emu) = Emulator::new(&b, opts) else { continue };
        let stim: Vec<(u64, u32)> = emu
            .ports()
            .iter()
            .filter(|p| p.kind == fpnna_bitstream::PortKind::Input)
            .flat_map(|p| (0..p.size.min(64)).map(move |i| (0, p.key_base + i)))
            .collect();
        let Ok(r) = emu.run(STEPS, &stim, &mut NullObserver) else { continue };
        assert_eq!(r.stats.steps, STEPS);
        let state = emu.save_state();
        let back = fpnna_emu::EmuState::from_json(&state.to_json()).expect("a saved state reads back");
        emu.load_state(&back).expect("a saved state loads into its emulator");
    }
    let Ok(net) = fpnna_compiler::recover(&b) else { return };
    let Ok(text) = fpnna_dsl::emit(&net, "fuzz") else { return };
    let (_, errors) = fpnna_dsl::parse(&text);
    assert!(errors.is_empty(), "a decompiled source does not parse: {errors:?}\n{text}");
}
