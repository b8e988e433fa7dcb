//! Any text: assemble never panics, and what it accepts encodes, decodes
//! and disassembles back to the same configuration.
#![no_main]

use fpnna_bitstream::{assemble, decode, disassemble, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(b) = assemble(text) else { return };
    let bytes = encode(&b);
    assert_eq!(decode(&bytes).as_ref(), Ok(&b), "an assembled configuration does not decode");
    let again = assemble(&disassemble(&b)).expect("disassembly assembles");
    assert_eq!(encode(&again), bytes, "assembly round trip changed the bytes");
});
