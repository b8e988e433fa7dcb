//! Any text as a `--trace` selection (`name`, `name[i]`, `name[a..b]`) on
//! the sample bitstream's emulator: an error, or a non-empty key range
//! within the named port or population.
#![no_main]

use fpnna_emu::{EmuOptions, Emulator};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The sample bitstream of the other targets' seeds.
const SAMPLE: &[u8] = include_bytes!("../seeds/bitstream_decode/sample.fpb");

fn emulator() -> &'static Emulator {
    static EMU: OnceLock<Emulator> = OnceLock::new();
    EMU.get_or_init(|| {
        let b = fpnna_bitstream::decode(SAMPLE).expect("the sample decodes");
        Emulator::new(&b, EmuOptions::ideal()).expect("the sample configures")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = std::str::from_utf8(data) else { return };
    let emu = emulator();
    let Ok(range) = emu.select(spec) else { return };
    assert!(range.start < range.end, "`{spec}` selects nothing: {range:?}");
    let name = spec.split_once('[').map_or(spec, |(n, _)| n).trim();
    let all = emu.keys(name).expect("a selection names a port or population");
    assert!(all.start <= range.start && range.end <= all.end, "`{spec}`: {range:?} beyond {all:?}");
});
