//! The binary container: framing, CRCs, truncation, every error variant.

use super::sample::sample;
use crate::*;
use fpnna_arch::Arch;

/// Builds a file from raw sections with correct CRCs, to reach the checks
/// behind the CRCs.
fn frame(version: u16, hash: u64, sections: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend(version.to_le_bytes());
    out.extend(hash.to_le_bytes());
    for (tag, payload) in sections {
        out.push(*tag);
        out.extend((payload.len() as u32).to_le_bytes());
        out.extend(payload);
        out.extend(crc32fast::hash(payload).to_le_bytes());
    }
    out.push(0);
    let crc = crc32fast::hash(&out);
    out.extend(crc.to_le_bytes());
    out
}

/// Rewrites the CRCs of a (possibly damaged) file so that they match, as far
/// as its framing can be followed: damage then reaches the payload decoder
/// and validation instead of stopping at a CRC.
pub fn repair_crcs(bytes: &mut [u8]) {
    let mut pos = HEADER_LEN;
    while pos < bytes.len() {
        if bytes[pos] == 0 {
            if bytes.len() >= pos + 5 {
                let crc = crc32fast::hash(&bytes[..pos + 1]);
                bytes[pos + 1..pos + 5].copy_from_slice(&crc.to_le_bytes());
            }
            return;
        }
        let Some(len) = bytes.get(pos + 1..pos + 5) else { return };
        let start = pos + 5;
        let end = start + u32::from_le_bytes(len.try_into().unwrap()) as usize;
        if end + 4 > bytes.len() {
            return;
        }
        let crc = crc32fast::hash(&bytes[start..end]);
        bytes[end..end + 4].copy_from_slice(&crc.to_le_bytes());
        pos = end + 4;
    }
}

/// The sections of the sample, as (tag, payload).
fn sample_sections() -> Vec<(u8, Vec<u8>)> {
    let b = sample();
    let mut s = vec![(1, crate::codec::encode(&b.arch)), (2, crate::codec::encode(&b.global))];
    s.extend(b.tiles.iter().map(|t| (3, crate::codec::encode(t))));
    s.push((4, crate::codec::encode(&b.routers)));
    s.push((5, crate::codec::encode(&b.ports)));
    s.push((6, crate::codec::encode(&b.symbols)));
    s
}

fn sample_hash() -> u64 {
    sample().arch.hash()
}

#[test]
fn frame_builds_what_encode_writes() {
    // Guards the helper: the error tests below rely on it being faithful.
    assert_eq!(frame(FORMAT_VERSION, sample_hash(), &sample_sections()), encode(&sample()));
}

#[test]
fn header_layout() {
    let bytes = encode(&sample());
    assert_eq!(&bytes[..8], b"FPNNA\0BS");
    assert_eq!(&bytes[8..10], &FORMAT_VERSION.to_le_bytes());
    assert_eq!(&bytes[10..18], &sample_hash().to_le_bytes());
    assert_eq!(bytes[18], 1, "the arch section comes first");
    let n = bytes.len();
    assert_eq!(bytes[n - 5], 0, "end marker");
    assert_eq!(&bytes[n - 4..], &crc32fast::hash(&bytes[..n - 4]).to_le_bytes());
}

#[test]
fn sample_round_trips_and_encoding_is_deterministic() {
    let b = sample();
    let bytes = encode(&b);
    assert_eq!(encode(&b.clone()), bytes);
    assert_eq!(decode(&bytes).unwrap(), b);
}

#[test]
fn unprogrammed_nodes_and_tiles_cost_no_bytes() {
    let mut b = sample();
    let full = encode(&b).len();
    b.tiles[0].nodes.pop();
    let fewer_nodes = encode(&b).len();
    assert!(fewer_nodes < full);
    b.tiles.pop();
    assert!(encode(&b).len() < fewer_nodes);
}

#[test]
fn every_single_bit_flip_is_an_error() {
    let bytes = encode(&sample());
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut bad = bytes.clone();
            bad[i] ^= 1 << bit;
            assert!(decode(&bad).is_err(), "flipping bit {bit} of byte {i} went unnoticed");
        }
    }
}

#[test]
fn every_truncation_is_an_error_naming_the_offset() {
    let bytes = encode(&sample());
    for len in 0..bytes.len() {
        match decode(&bytes[..len]) {
            Err(BitstreamError::Truncated { offset, len: l, .. }) => {
                assert_eq!(l, len);
                assert!(offset <= len, "offset {offset} beyond the end {len}");
            }
            other => panic!("truncated to {len} bytes: {other:?}"),
        }
    }
}

fn err_of(bytes: &[u8]) -> (BitstreamError, String) {
    let e = decode(bytes).unwrap_err();
    let msg = e.to_string();
    (e, msg)
}

#[test]
fn truncation_names_section_and_field() {
    let bytes = encode(&sample());
    let (_, msg) = err_of(&bytes[..12]);
    assert!(msg.contains("header architecture hash at byte 10"), "{msg}");
    let (_, msg) = err_of(&bytes[..30]);
    assert!(msg.contains("arch payload at byte 23"), "{msg}");
    let (_, msg) = err_of(&bytes[..bytes.len() - 2]);
    assert!(msg.contains("end whole-file CRC"), "{msg}");
}

#[test]
fn bad_magic() {
    let (e, msg) = err_of(b"PK\x03\x04 a zip file");
    assert!(matches!(e, BitstreamError::BadMagic { .. }));
    assert!(msg.contains("not an fpnna bitstream") && msg.contains("50 4b 03 04"), "{msg}");
    assert!(matches!(decode(b"FPX").unwrap_err(), BitstreamError::BadMagic { .. }));
    assert!(matches!(decode(b"").unwrap_err(), BitstreamError::Truncated { .. }));
}

#[test]
fn newer_and_older_versions_have_their_own_errors() {
    let (e, msg) = err_of(&frame(FORMAT_VERSION + 1, sample_hash(), &sample_sections()));
    assert_eq!(e, BitstreamError::NewerVersion { found: FORMAT_VERSION + 1, supported: FORMAT_VERSION });
    assert!(msg.contains("newer") && msg.contains("use a newer fpnna"), "{msg}");
    let (e, msg) = err_of(&frame(FORMAT_VERSION - 1, sample_hash(), &sample_sections()));
    assert_eq!(e, BitstreamError::OlderVersion { found: FORMAT_VERSION - 1, supported: FORMAT_VERSION });
    assert!(msg.contains("older"), "{msg}");
}

#[test]
fn section_crc_mismatch_names_section_and_offset() {
    let mut bytes = encode(&sample());
    bytes[30] ^= 0x40; // inside the arch payload
    let (e, msg) = err_of(&bytes);
    assert!(matches!(e, BitstreamError::SectionCrc { offset: 18, .. }), "{e:?}");
    assert!(msg.contains("section `arch` at byte 18"), "{msg}");

    // The second tile's payload.
    let mut bytes = encode(&sample());
    let s = sample_sections();
    let tile1 = 18 + s[..3].iter().map(|(_, p)| p.len() + 9).sum::<usize>();
    bytes[tile1 + 6] ^= 1;
    let (_, msg) = err_of(&bytes);
    assert!(msg.contains(&format!("section `tile #1` at byte {tile1}")), "{msg}");
}

#[test]
fn whole_file_check_mismatch() {
    let mut bytes = encode(&sample());
    let n = bytes.len();
    bytes[n - 1] ^= 0x80;
    let (e, msg) = err_of(&bytes);
    assert!(matches!(e, BitstreamError::FileCrc { offset, .. } if offset == n - 4), "{e:?}");
    assert!(msg.contains("whole-file check"), "{msg}");
    // The header is covered by the whole-file check only.
    let mut bytes = encode(&sample());
    bytes[12] ^= 1;
    assert!(matches!(decode(&bytes).unwrap_err(), BitstreamError::FileCrc { .. }));
}

#[test]
fn malformed_payload_names_section_and_offset() {
    let mut s = sample_sections();
    s[1].1.push(0); // a byte after the global settings
    let (e, msg) = err_of(&frame(FORMAT_VERSION, sample_hash(), &s));
    let global_payload = 18 + s[0].1.len() + 9 + 5;
    assert!(
        matches!(&e, BitstreamError::Malformed { section, offset, .. } if section == "global" && *offset == global_payload + 9),
        "{e:?}"
    );
    assert!(msg.contains("section `global`: malformed payload") && msg.contains("unused byte"), "{msg}");

    // An enum variant that does not exist (RowKind has three).
    let mut s = sample_sections();
    let mut tile = sample().tiles[1].clone();
    tile.rows[0].kind = RowKind::Stdp(0);
    let mut payload = crate::codec::encode(&tile);
    let at = payload.iter().rposition(|&b| b == 2).unwrap(); // the Stdp variant index
    payload[at] = 7;
    s[3].1 = payload;
    let (e, msg) = err_of(&frame(FORMAT_VERSION, sample_hash(), &s));
    assert!(matches!(&e, BitstreamError::Malformed { section, .. } if section == "tile #1"), "{e:?}: {msg}");

    // An over-long varint: same value, more bytes.
    let mut s = sample_sections();
    s[1].1 = {
        let mut p = 1.0f64.to_le_bytes().to_vec();
        p.extend([251, 14, 0]);
        p
    };
    let (_, msg) = err_of(&frame(FORMAT_VERSION, sample_hash(), &s));
    assert!(msg.contains("non-canonical"), "{msg}");

    // The same in a tile (read by the hand-written decoder): the last
    // node's level, 1 byte, written as FB + u16.
    let mut s = sample_sections();
    let tile = &mut s[3].1;
    let level = tile.pop().unwrap();
    assert!(level < 251);
    tile.extend([251, level, 0]);
    let at = tile.len() - 3;
    let (e, msg) = err_of(&frame(FORMAT_VERSION, sample_hash(), &s));
    let tile1_payload = 18 + s[..3].iter().map(|(_, p)| p.len() + 9).sum::<usize>() + 5;
    assert!(
        matches!(&e, BitstreamError::Malformed { section, offset, .. } if section == "tile #1" && *offset == tile1_payload + at),
        "{e:?}"
    );
    assert!(msg.contains("non-canonical"), "{msg}");
}

#[test]
fn unknown_section_tag() {
    let mut s = sample_sections();
    s.insert(2, (9, vec![1, 2, 3]));
    let (e, msg) = err_of(&frame(FORMAT_VERSION, sample_hash(), &s));
    let offset = 18 + s[0].1.len() + 9 + s[1].1.len() + 9;
    assert_eq!(e, BitstreamError::UnknownSection { tag: 9, offset });
    assert!(msg.contains("unknown section tag 0x09"), "{msg}");
}

#[test]
fn sections_out_of_order_or_repeated() {
    let mut s = sample_sections();
    s.swap(0, 1);
    let (e, msg) = err_of(&frame(FORMAT_VERSION, sample_hash(), &s));
    // global first: arch is missing before it.
    assert!(matches!(e, BitstreamError::MissingSection { section: "arch", offset: 18 }), "{e:?}");
    assert!(msg.contains("missing required section `arch`"), "{msg}");

    let mut s = sample_sections();
    let arch = s[0].clone();
    s.insert(2, arch);
    let (e, msg) = err_of(&frame(FORMAT_VERSION, sample_hash(), &s));
    assert!(matches!(&e, BitstreamError::SectionOrder { section, .. } if section == "arch"), "{e:?}");
    assert!(msg.contains("repeated or out of order"), "{msg}");

    let mut s = sample_sections();
    let tile = s[2].clone();
    s.push(tile); // a tile after the symbols
    assert!(matches!(err_of(&frame(FORMAT_VERSION, sample_hash(), &s)).0, BitstreamError::SectionOrder { .. }));
}

#[test]
fn missing_sections() {
    for (index, name) in [(4, "routing"), (5, "ports"), (6, "symbols"), (1, "global")] {
        let mut s = sample_sections();
        s.remove(index);
        let (e, msg) = err_of(&frame(FORMAT_VERSION, sample_hash(), &s));
        assert!(matches!(e, BitstreamError::MissingSection { section, .. } if section == name), "{e:?}");
        assert!(msg.contains(&format!("`{name}`")), "{msg}");
    }
    assert!(matches!(err_of(&frame(FORMAT_VERSION, 0, &[])).0, BitstreamError::MissingSection { section: "arch", .. }));
}

#[test]
fn trailing_bytes() {
    let mut bytes = encode(&sample());
    let n = bytes.len();
    bytes.extend([0, 0]);
    assert_eq!(decode(&bytes).unwrap_err(), BitstreamError::TrailingBytes { offset: n, count: 2 });
}

#[test]
fn header_hash_must_match_the_embedded_architecture() {
    let (e, msg) = err_of(&frame(FORMAT_VERSION, 1234, &sample_sections()));
    assert!(matches!(&e, BitstreamError::HeaderHash { header: 1234, name, .. } if name == "small"), "{e:?}");
    assert!(msg.contains("byte 10"), "{msg}");
}

#[test]
fn invalid_embedded_architecture() {
    let mut b = sample();
    b.arch.tile.rows = 0;
    let (e, msg) = err_of(&encode(&b));
    assert!(matches!(e, BitstreamError::InvalidArch(_)), "{e:?}");
    assert!(msg.contains("tile.rows"), "{msg}");
}

#[test]
fn semantic_errors_are_caught_by_decode() {
    let mut b = sample();
    b.tiles[1].nodes[0].level = 32;
    let (e, msg) = err_of(&encode(&b));
    assert!(matches!(e, BitstreamError::Invalid { .. }), "{e:?}");
    assert_eq!(msg, "tile (2, 1) node #0: (row 0, col 0) level 32 is not below arch.nonvolatile.levels = 32");
}

#[test]
fn wrong_architecture_names_both() {
    let b = sample();
    assert_eq!(check_arch(&b, &Arch::preset("small").unwrap()), Ok(()));
    let e = check_arch(&b, &Arch::preset("default").unwrap()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, BitstreamError::WrongArch { .. }));
    assert!(msg.contains("`small`") && msg.contains("`default`") && msg.contains("--arch"), "{msg}");
    // Same name, one parameter changed: still another architecture.
    let mut other = Arch::preset("small").unwrap();
    other.router.table_entries = 65;
    assert!(check_arch(&b, &other).is_err());
}

#[test]
fn huge_announced_lengths_fail_without_allocating() {
    // A section claiming 4 GiB, in a 30-byte file.
    let mut bytes = MAGIC.to_vec();
    bytes.extend(FORMAT_VERSION.to_le_bytes());
    bytes.extend(0u64.to_le_bytes());
    bytes.push(1);
    bytes.extend(u32::MAX.to_le_bytes());
    bytes.extend([0; 7]);
    assert!(matches!(decode(&bytes).unwrap_err(), BitstreamError::Truncated { field: "payload", .. }));

    // A payload whose vector claims 2^62 elements, behind a correct CRC.
    let mut s = sample_sections();
    let mut p = vec![253];
    p.extend((1u64 << 62).to_le_bytes());
    s[4].1 = p;
    assert!(matches!(err_of(&frame(FORMAT_VERSION, sample_hash(), &s)).0, BitstreamError::Malformed { .. }));

    // A symbol name claiming 2^40 bytes.
    let mut s = sample_sections();
    let mut p = vec![1, 253];
    p.extend((1u64 << 40).to_le_bytes());
    s[6].1 = p;
    assert!(matches!(err_of(&frame(FORMAT_VERSION, sample_hash(), &s)).0, BitstreamError::Malformed { .. }));
}

#[test]
fn size_stats_add_up() {
    let b = sample();
    let st = size_stats(&b);
    assert_eq!(st.total_bytes, encode(&b).len());
    assert_eq!(st.sections.iter().map(|s| s.bytes).sum::<usize>(), st.total_bytes);
    assert_eq!(st.nodes, 7);
    let tiles = st.sections.iter().find(|s| s.name == "tile").unwrap();
    assert_eq!(tiles.count, 2);
    assert!((st.tile_bytes_per_node - tiles.bytes as f64 / 7.0).abs() < 1e-12);
}

#[test]
fn inspection_counts_nodes_by_mode() {
    let i = inspect(&sample());
    assert_eq!((i.nodes_nonvolatile, i.nodes_volatile, i.nodes_stdp), (4, 1, 2));
    assert_eq!((i.tiles_programmed, i.tiles_total), (2, 16));
    assert_eq!((i.route_entries_total, i.route_entries_max, i.routers_used), (4, 2, 3));
    assert_eq!(i.tiles[0].rows_used, 4);
    assert_eq!(i.tiles[0].columns_used, 3);
    assert_eq!(i.ports.len(), 4);
    let text = i.to_string();
    assert!(text.contains("architecture `small`"), "{text}");
    assert!(text.contains("tiles programmed: 2 of 16"), "{text}");
    assert!(text.contains("nodes: 7 programmed (4 nonvolatile, 1 volatile, 2 stdp)"), "{text}");
}

#[test]
fn link_loads_follow_each_key_from_its_source() {
    // Key 10 (a column of tile (0, 0)) goes east, north, then east and
    // local; the ports' keys stay local; keys 11..=13 match no entry.
    let at = |x, y, dir, keys| LinkLoad { from: Xy { x, y }, dir, keys };
    assert_eq!(link_loads(&sample()), [at(0, 0, Dir::East, 1), at(1, 0, Dir::North, 1), at(1, 1, Dir::East, 1)]);
    // A second tree over the first link counts twice; a loop counts each
    // router once.
    let mut b = sample();
    b.routers[0].entries.insert(0, RouteEntry { value: 11, mask: u32::MAX, out: dir::EAST });
    b.routers[1].entries.push(RouteEntry { value: 11, mask: u32::MAX, out: dir::WEST });
    let loads = link_loads(&b);
    assert_eq!(loads[0], at(0, 0, Dir::East, 2));
    assert_eq!(loads[1], at(1, 0, Dir::North, 1));
    assert_eq!(loads[2], at(1, 0, Dir::West, 1));
}

/// The sample's bytes and text are pinned in files: any change of the
/// format (including of a struct in fpnna-model or fpnna-arch that a payload
/// serializes) shows up here and must come with a format version decision.
/// Regenerate with `UPDATE_GOLDEN=1 cargo test -p fpnna-bitstream golden`.
#[test]
fn golden_sample_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let (fpb, fpa) = (encode(&sample()), disassemble(&sample()));
    // A change of the binary bytes needs a FORMAT_VERSION bump (or a reason).
    fpnna_testkit::golden::check_bytes(&dir.join("sample.fpb"), &fpb);
    fpnna_testkit::golden::check(&dir.join("sample.fpa"), &fpa);
    let golden_fpb = std::fs::read(dir.join("sample.fpb")).unwrap();
    let golden_fpa = std::fs::read_to_string(dir.join("sample.fpa")).unwrap();
    assert_eq!(decode(&golden_fpb).unwrap(), sample());
    assert_eq!(encode(&assemble(&golden_fpa).unwrap()), golden_fpb);
}

#[test]
fn inspection_and_size_stats_serialize_to_json() {
    let json = serde_json::to_value(inspect(&sample())).unwrap();
    assert_eq!(json["arch_name"], "small");
    assert_eq!(json["arch_hash"], format!("{:#018x}", sample().arch.hash()));
    assert_eq!(json["tiles"][1]["x"], 2);
    assert_eq!(json["ports"][1]["kind"], "poisson");
    let json = serde_json::to_value(size_stats(&sample())).unwrap();
    assert_eq!(json["nodes"], 7);
    assert_eq!(json["sections"][0]["name"], "header");
}
