//! Round trips of random valid configurations.

use super::sample::bitstream_strategy;
use crate::*;
use proptest::collection::vec;
use proptest::prelude::*;

proptest! {
    #![proptest_config(fpnna_testkit::prop::fixed(128, 0xb175_0001, file!()))]

    #[test]
    fn generated_bitstreams_are_valid(b in bitstream_strategy()) {
        // Guards the strategy itself: the round trips below must run on
        // configurations decode accepts.
        prop_assert_eq!(validate(b.clone()).map(|_| ()), Ok(()));
    }

    #[test]
    fn decode_inverts_encode(b in bitstream_strategy()) {
        let bytes = encode(&b);
        prop_assert_eq!(&encode(&b), &bytes, "encode is deterministic");
        prop_assert_eq!(decode(&bytes).map(Validated::into_inner), Ok(b));
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
    #![proptest_config(fpnna_testkit::prop::fixed(256, 0xb175_0002, file!()))]

    /// Damage behind repaired CRCs reaches the payload decoder and
    /// validation: they must refuse it or accept exactly canonical bytes,
    /// never panic. (The fuzz target bitstream_decode does the same at scale.)
    #[test]
    fn damaged_payloads_never_panic_and_never_decode_to_other_bytes(
        b in bitstream_strategy(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
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

/// Tiles and routers with arbitrary field values (not necessarily valid),
/// to reach every width of every varint.
fn any_tile() -> impl Strategy<Value = TileConfig> {
    let column =
        (any::<u32>(), any::<u16>(), any::<i32>()).prop_map(|(key, params, v_init)| Column { key, params, v_init });
    let kind = prop_oneof![
        Just(RowKind::NonVolatile),
        any::<u16>().prop_map(RowKind::Volatile),
        any::<u16>().prop_map(RowKind::Stdp)
    ];
    let row = (any::<u32>(), any::<u8>(), any::<bool>(), kind, any::<i32>())
        .prop_map(|(key, delay, negative, kind, scale)| Row { key, delay, negative, kind, scale });
    let node = (any::<u16>(), any::<u16>(), any::<u16>()).prop_map(|(row, col, level)| Node { row, col, level });
    (any::<u16>(), any::<u16>(), any::<bool>(), vec(column, 0..8), vec(row, 0..12), vec(node, 0..40)).prop_map(
        |(x, y, tables, columns, rows, nodes)| {
            let s = super::sample::sample();
            let t = &s.tiles[0];
            let (params, volatile, stdp) =
                if tables { (t.params.clone(), t.volatile.clone(), t.stdp.clone()) } else { Default::default() };
            TileConfig { x, y, params, volatile, stdp, columns, rows, nodes, row_lines: vec![], col_lines: vec![] }
        },
    )
}

fn any_routing() -> impl Strategy<Value = Vec<RouterConfig>> {
    let entry =
        (any::<u32>(), any::<u32>(), any::<u8>()).prop_map(|(value, mask, out)| RouteEntry { value, mask, out });
    let router =
        (any::<u16>(), any::<u16>(), vec(entry, 0..10)).prop_map(|(x, y, entries)| RouterConfig { x, y, entries });
    vec(router, 0..4)
}

/// Damage to a payload: set a byte, re-encode a byte as an over-long varint
/// (`b` becomes `FB b 00`), or cut the payload short.
fn damage(mut p: Vec<u8>, edits: &[(prop::sample::Index, u8, u8)]) -> Vec<u8> {
    for (at, value, how) in edits {
        if p.is_empty() {
            break;
        }
        let i = at.index(p.len());
        match how % 3 {
            0 => p[i] = *value,
            1 => {
                p.insert(i + 1, 0);
                p.insert(i, 0xFB);
            }
            _ => p.truncate(i),
        }
    }
    p
}

proptest! {
    #![proptest_config(fpnna_testkit::prop::fixed(512, 0xb175_0003, file!()))]

    /// The hand-written decoders of tile and routing payloads (the large
    /// sections) accept exactly the bytes the serde path accepts (bincode,
    /// then re-encoding to refuse non-canonical forms), with the same value.
    #[test]
    fn strict_decoder_agrees_with_serde(
        tile in any_tile(),
        routing in any_routing(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>(), any::<u8>()), 0..4),
    ) {
        let bytes = crate::codec::encode(&tile);
        prop_assert_eq!(crate::codec::decode_tile(&bytes).ok(), Some(tile));
        let bad = damage(bytes, &edits);
        prop_assert_eq!(crate::codec::decode_tile(&bad).ok(), crate::codec::decode::<TileConfig>(&bad).ok());

        let bytes = crate::codec::encode(&routing);
        prop_assert_eq!(crate::codec::decode_routing(&bytes).ok(), Some(routing));
        let bad = damage(bytes, &edits);
        prop_assert_eq!(
            crate::codec::decode_routing(&bad).ok(),
            crate::codec::decode::<Vec<RouterConfig>>(&bad).ok()
        );
    }
}
