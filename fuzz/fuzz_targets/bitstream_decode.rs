//! Any bytes: decode never panics, and what it accepts is canonical (it
//! re-encodes to the same bytes) and survives the assembly round trip.
//!
//! Random bytes rarely get past the CRCs, so each input is also decoded with
//! its CRCs repaired, to reach the payload decoder and validation.
#![no_main]

use fpnna_bitstream::{assemble, decode, disassemble, encode, inspect, size_stats};
use libfuzzer_sys::fuzz_target;

#[path = "shared/crc.rs"]
mod crc;
use crc::with_crcs_repaired;

fuzz_target!(|data: &[u8]| {
    check(data);
    let fixed = with_crcs_repaired(data);
    if fixed != data {
        check(&fixed);
    }
});

fn check(data: &[u8]) {
    let Ok(b) = decode(data) else { return };
    assert_eq!(encode(&b), data, "decode accepted non-canonical bytes");
    let text = disassemble(&b);
    let back = assemble(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(encode(&back), data, "assembly round trip changed the bytes");
    let _ = inspect(&b).to_string();
    let _ = size_stats(&b).to_string();
}
