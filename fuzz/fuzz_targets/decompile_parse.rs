//! A decompiled source always parses. Bytes that start with the bitstream
//! magic are decoded (also with CRCs repaired); any other bytes are a
//! source, elaborated and (when small) compiled for the `small` preset.
//! Each bitstream is decompiled (`fpnna_compiler::recover`, then
//! `fpnna_dsl::emit`), and the text must parse without an error.
//! (`decode_run` checks the same of decoded bitstreams; this target also
//! reaches the bitstreams the compiler makes.)
#![no_main]

use fpnna_bitstream::{Bitstream, MAGIC};
use libfuzzer_sys::fuzz_target;

#[path = "shared/crc.rs"]
mod crc;

/// Largest network compiled (neurons, synapses): keeps runs fast.
const MAX_NEURONS: u32 = 2_000;
const MAX_SYNAPSES: u64 = 4_000;

fuzz_target!(|data: &[u8]| {
    if data.starts_with(&MAGIC) {
        if let Ok(b) = fpnna_bitstream::decode(data) {
            check(b.bitstream());
        }
        if let Ok(b) = fpnna_bitstream::decode(&crc::with_crcs_repaired(data)) {
            check(b.bitstream());
        }
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let dir = std::env::temp_dir().join(format!("fpnna-fuzz-decompile-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let Ok(net) = fpnna_dsl::load_text("fuzz.fpn", text.to_string(), &dir, &fpnna_dsl::Options::default()) else {
        return;
    };
    if net.keys().len() > MAX_NEURONS || net.synapse_count() > MAX_SYNAPSES {
        return;
    }
    let arch = fpnna_arch::Arch::preset("small").expect("a preset");
    if let Ok(c) = fpnna_compiler::compile(&net, &arch, 1, None) {
        check(&c.bitstream);
    }
});

fn check(b: &Bitstream) {
    let Ok(net) = fpnna_compiler::recover(b) else { return };
    let Ok(text) = fpnna_dsl::emit(&net, "fuzz") else { return };
    let (_, errors) = fpnna_dsl::parse(&text);
    assert!(errors.is_empty(), "a decompiled source does not parse: {errors:?}\n{text}");
}
