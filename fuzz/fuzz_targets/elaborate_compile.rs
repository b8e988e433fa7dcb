//! Any source: parsed, elaborated and, when small (at most a few thousand
//! neurons and synapses), compiled for the `small` and `default` presets:
//! never a panic; a compile either gives a bitstream that encodes and
//! decodes to itself or fails with a `CompileError`.
#![no_main]

use fpnna_arch::Arch;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// Largest network compiled (neurons, synapses): keeps runs fast.
const MAX_NEURONS: u32 = 2_000;
const MAX_SYNAPSES: u64 = 4_000;

fn presets() -> &'static [Arch] {
    static ARCHS: OnceLock<Vec<Arch>> = OnceLock::new();
    ARCHS.get_or_init(|| ["small", "default"].iter().map(|p| Arch::preset(p).expect("a preset")).collect())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let dir = std::env::temp_dir().join(format!("fpnna-fuzz-compile-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let Ok(net) = fpnna_dsl::load_text("fuzz.fpn", text.to_string(), &dir, &fpnna_dsl::Options::default()) else {
        return;
    };
    if net.keys().len() > MAX_NEURONS || net.synapse_count() > MAX_SYNAPSES {
        return;
    }
    for arch in presets() {
        let Ok(c) = fpnna_compiler::compile(&net, arch, 1, None) else { continue };
        let bytes = fpnna_bitstream::encode(&c.bitstream);
        let back = fpnna_bitstream::decode(&bytes).expect("a compiled bitstream decodes");
        assert_eq!(fpnna_bitstream::encode(back.bitstream()), bytes, "a compiled bitstream re-encodes differently");
    }
});
