//! The one place that knows how payloads become bytes (serde + bincode 2,
//! standard configuration: little endian, variable-length integers).
//! Replacing bincode means rewriting this file and docs/bitstream.md, nothing
//! else.

use bincode::config::{Config, standard};
use bincode::de::read::Reader;
use bincode::error::DecodeError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Bytes that strings in one payload may claim before they are read. bincode
/// allocates a string's buffer before reading it, so an unchecked length
/// prefix of 2^60 would abort the process; this bound keeps a hostile length
/// to a harmless allocation.
const STRING_LIMIT: usize = 16 << 20;

fn encode_config() -> impl Config {
    standard()
}

fn decode_config() -> impl Config {
    standard().with_limit::<STRING_LIMIT>()
}

/// A payload that does not decode: where (byte offset inside the payload)
/// and why.
#[derive(Debug)]
pub(crate) struct CodecError {
    pub offset: usize,
    pub msg: String,
}

/// Encodes a payload.
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Our types have no maps with non-string keys, no unsized sequences, and
    // the config has no limit: bincode cannot fail on them.
    bincode::serde::encode_to_vec(value, encode_config()).expect("configuration types always encode")
}

/// Decodes a payload that must consist of exactly one canonical encoding of
/// a `T`: no trailing bytes, and re-encoding gives the same bytes (so two
/// different files never decode to the same bitstream).
pub(crate) fn decode<T: DeserializeOwned + Serialize>(payload: &[u8]) -> Result<T, CodecError> {
    let mut reader = CountingReader { data: payload, pos: 0 };
    let value: T = match bincode::serde::decode_from_reader(&mut reader, decode_config()) {
        Ok(v) => v,
        Err(e) => return Err(CodecError { offset: reader.pos, msg: describe(&e) }),
    };
    if reader.pos != payload.len() {
        let extra = payload.len() - reader.pos;
        return Err(CodecError { offset: reader.pos, msg: format!("{extra} unused byte(s) after the value") });
    }
    let again = encode(&value);
    if again != payload {
        let offset = again.iter().zip(payload).position(|(a, b)| a != b).unwrap_or(again.len().min(payload.len()));
        return Err(CodecError { offset, msg: "non-canonical encoding (e.g. an over-long integer)".into() });
    }
    Ok(value)
}

fn describe(e: &DecodeError) -> String {
    match e {
        DecodeError::UnexpectedEnd { .. } => "payload ends in the middle of a value".into(),
        DecodeError::LimitExceeded => format!("strings longer than {STRING_LIMIT} bytes in total"),
        DecodeError::Utf8 { .. } => "a string is not valid UTF-8".into(),
        other => other.to_string(),
    }
}

/// A slice reader that remembers how far it got, to report where a payload
/// went wrong.
struct CountingReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader for CountingReader<'_> {
    fn read(&mut self, bytes: &mut [u8]) -> Result<(), DecodeError> {
        let end = self.pos.checked_add(bytes.len()).filter(|&e| e <= self.data.len());
        match end {
            Some(end) => {
                bytes.copy_from_slice(&self.data[self.pos..end]);
                self.pos = end;
                Ok(())
            }
            None => Err(DecodeError::UnexpectedEnd { additional: bytes.len() }),
        }
    }

    fn peek_read(&mut self, n: usize) -> Option<&[u8]> {
        self.data.get(self.pos..self.pos.checked_add(n)?)
    }

    fn consume(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.data.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The encoding docs/bitstream.md describes, so that a reader written
    /// from the docs agrees with bincode.
    #[test]
    fn encoding_is_as_documented() {
        assert_eq!(encode(&250u32), [250]);
        assert_eq!(encode(&251u32), [0xFB, 251, 0]);
        assert_eq!(encode(&0xFFFFu16), [0xFB, 0xFF, 0xFF]);
        assert_eq!(encode(&0x1_0000u32), [0xFC, 0, 0, 1, 0]);
        assert_eq!(encode(&(1u64 << 32)), [0xFD, 0, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(encode(&200u8), [200]);
        assert_eq!(encode(&[0i32, -1, 1, -2, i32::MIN]), [0, 1, 2, 3, 0xFC, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(encode(&true), [1]);
        assert_eq!(encode(&1.0f64), 1.0f64.to_le_bytes());
        assert_eq!(encode(&"hé".to_string()), [3, b'h', 0xC3, 0xA9]);
        assert_eq!(encode(&vec![1u16, 300]), [2, 1, 0xFB, 0x2C, 0x01]);
        assert_eq!(encode(&crate::RowKind::Stdp(5)), [2, 5]);
        assert_eq!(encode(&(7u16, false)), [7, 0]);
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn bools_other_than_0_and_1_are_refused() {
        assert!(decode::<bool>(&[2]).is_err());
    }

    #[test]
    fn over_long_integers_are_refused() {
        // 5 as a one-byte varint is canonical; 251 + u16 5 is the same value, longer.
        assert_eq!(decode::<u32>(&[5]).unwrap(), 5);
        let e = decode::<u32>(&[251, 5, 0]).unwrap_err();
        assert!(e.msg.contains("non-canonical"), "{}", e.msg);
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let e = decode::<u32>(&[5, 0]).unwrap_err();
        assert_eq!(e.offset, 1);
    }

    #[test]
    fn huge_string_lengths_do_not_allocate() {
        // A length prefix of u64::MAX / 2 followed by nothing.
        let mut bytes = vec![253];
        bytes.extend((u64::MAX / 2).to_le_bytes());
        let e = decode::<String>(&bytes).unwrap_err();
        assert!(e.msg.contains("longer than"), "{}", e.msg);
        // A huge element count for a sequence fails on the missing bytes.
        let e = decode::<Vec<u32>>(&bytes).unwrap_err();
        assert!(e.msg.contains("ends"), "{}", e.msg);
    }
}
