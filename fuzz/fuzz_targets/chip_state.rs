//! Any bytes as a chip-state file: an error, or a chip that writes back to
//! the same bytes; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(chip) = fpnna_arch::ChipState::from_bytes(bytes) {
        let again = fpnna_arch::ChipState::from_bytes(&chip.to_bytes()).expect("a written chip re-reads");
        assert_eq!(again, chip);
    }
});
