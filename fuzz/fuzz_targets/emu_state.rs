//! Any bytes as a saved emulator state (`run --load-state`), loaded into
//! the emulator of the sample bitstream: an error, or a state that loads,
//! runs on, and saves to a state that reads back to itself.
#![no_main]

use fpnna_emu::{EmuOptions, EmuState, Emulator, NullObserver};
use libfuzzer_sys::fuzz_target;

/// The sample bitstream of the other targets' seeds.
const SAMPLE: &[u8] = include_bytes!("../seeds/bitstream_decode/sample.fpb");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(state) = EmuState::from_json(text) else { return };
    let b = fpnna_bitstream::decode(SAMPLE).expect("the sample decodes");
    let mut emu = Emulator::new(&b, EmuOptions::ideal()).expect("the sample configures");
    if emu.load_state(&state).is_err() {
        return;
    }
    let _ = emu.run(4, &[], &mut NullObserver);
    let saved = emu.save_state().to_json();
    let again = EmuState::from_json(&saved).expect("a saved state reads back");
    assert_eq!(again.to_json(), saved);
});
