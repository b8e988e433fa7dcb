//! Round trips of random valid configurations.

use super::sample::bitstream_strategy;
use crate::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn generated_bitstreams_are_valid(b in bitstream_strategy()) {
        // Guards the strategy itself: the round trips below must run on
        // configurations decode accepts.
        prop_assert_eq!(validate(&b), Ok(()));
    }

    #[test]
    fn decode_inverts_encode(b in bitstream_strategy()) {
        let bytes = encode(&b);
        prop_assert_eq!(&encode(&b), &bytes, "encode is deterministic");
        prop_assert_eq!(decode(&bytes), Ok(b));
    }

    #[test]
    fn assembly_round_trips_byte_for_byte(b in bitstream_strategy()) {
        let text = disassemble(&b);
        let back = assemble(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(encode(&back), encode(&b));
        prop_assert_eq!(disassemble(&back), text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Damage behind repaired CRCs reaches the payload decoder and
    /// validation: they must refuse it or accept exactly canonical bytes,
    /// never panic. (The fuzz target bitstream_decode does the same at scale.)
    #[test]
    fn damaged_payloads_never_panic_and_never_decode_to_other_bytes(
        b in bitstream_strategy(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = encode(&b);
        for (at, value) in edits {
            // Leave the header alone: its damage is caught before any payload.
            let i = HEADER_LEN + at.index(bytes.len() - HEADER_LEN);
            bytes[i] = value;
        }
        super::binary::repair_crcs(&mut bytes);
        if let Ok(d) = decode(&bytes) {
            prop_assert_eq!(encode(&d), bytes);
        }
    }
}
