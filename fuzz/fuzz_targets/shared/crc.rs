//! Shared by the targets that decode bitstreams: random bytes rarely get
//! past the CRCs, so each input is also tried with them repaired.

use fpnna_bitstream::HEADER_LEN;

/// Walks the section framing (as far as it goes) and rewrites each
/// section's CRC and the whole-file CRC to match.
pub fn with_crcs_repaired(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    let mut pos = HEADER_LEN;
    while pos < out.len() {
        if out[pos] == 0 {
            if out.len() >= pos + 5 {
                let crc = crc32(&out[..pos + 1]);
                out[pos + 1..pos + 5].copy_from_slice(&crc.to_le_bytes());
            }
            break;
        }
        let Some(len) = out.get(pos + 1..pos + 5) else { break };
        let len = u32::from_le_bytes(len.try_into().unwrap()) as usize;
        let start = pos + 5;
        let Some(end) = start.checked_add(len).filter(|&e| e + 4 <= out.len()) else { break };
        let crc = crc32(&out[start..end]);
        out[end..end + 4].copy_from_slice(&crc.to_le_bytes());
        pos = end + 4;
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    // Bitwise CRC-32 (IEEE), as docs/bitstream.md specifies: no need for a
    // dependency here.
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
