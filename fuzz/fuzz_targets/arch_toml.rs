//! Any text as an architecture file: an error or a valid architecture that
//! prints and re-reads to itself; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(a) = fpnna_arch::Arch::from_toml(text, "fuzz.toml") {
        let again = fpnna_arch::Arch::from_toml(&a.to_toml(), "again.toml").expect("printed arch re-reads");
        assert_eq!(again, a);
    }
});
