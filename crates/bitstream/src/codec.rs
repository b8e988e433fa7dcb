//! The one place that knows how payloads become bytes (serde + bincode 2,
//! standard configuration: little endian, variable-length integers).
//! Replacing bincode means rewriting this file and docs/bitstream.md, nothing
//! else.
//!
//! The large payloads (tiles, routing) are decoded by a hand-written strict
//! reader of the same encoding ([`decode_tile`], [`decode_routing`]): serde
//! costs a few calls per field, and the canonical-form check of [`decode`]
//! a second pass that re-encodes the whole value; together they made loading
//! a big bitstream several times slower than it needs to be.

use crate::config::{Column, Node, RouteEntry, RouterConfig, Row, RowKind, TileConfig};
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

/// Decodes a tile payload. Same bytes accepted and same value as
/// [`decode`]`::<TileConfig>`, but the big vectors (columns, rows, nodes)
/// are read by hand with [`Strict`], which refuses non-canonical integers as
/// it reads them, so they need no re-encoding; only the small parameter
/// tables (types of fpnna-model) go through serde.
pub(crate) fn decode_tile(payload: &[u8]) -> Result<TileConfig, CodecError> {
    tile(payload).map_err(|e| *e)
}

fn tile(payload: &[u8]) -> Read<TileConfig> {
    let mut r = Strict { data: payload, pos: 0 };
    let x = r.u16()?;
    let y = r.u16()?;
    let params = r.serde_part()?;
    let volatile = r.serde_part()?;
    let stdp = r.serde_part()?;
    let columns = r.vec(3, Strict::column)?;
    let rows = r.vec(5, Strict::row)?;
    let nodes = r.vec(3, Strict::node)?;
    let row_lines = r.vec(1, Strict::u16)?;
    let col_lines = r.vec(1, Strict::u16)?;
    r.finish()?;
    Ok(TileConfig { x, y, params, volatile, stdp, columns, rows, nodes, row_lines, col_lines })
}

/// Decodes the routing payload, like [`decode`]`::<Vec<RouterConfig>>`
/// (see [`decode_tile`]).
pub(crate) fn decode_routing(payload: &[u8]) -> Result<Vec<RouterConfig>, CodecError> {
    routing(payload).map_err(|e| *e)
}

fn routing(payload: &[u8]) -> Read<Vec<RouterConfig>> {
    let mut r = Strict { data: payload, pos: 0 };
    let routers = r.vec(3, |r| {
        let x = r.u16()?;
        let y = r.u16()?;
        let entries = r.vec(3, Strict::route_entry)?;
        Ok(RouterConfig { x, y, entries })
    })?;
    r.finish()?;
    Ok(routers)
}

/// A strict reader of the encoding of docs/bitstream.md section 1.1 (what
/// bincode's standard configuration writes): it accepts only the shortest
/// form of each integer, so a value it reads is exactly the bytes encode
/// writes for it. Its layouts of config.rs types must follow their field
/// order (the round-trip tests and `strict_decoder_agrees_with_serde`
/// check it).
struct Strict<'a> {
    data: &'a [u8],
    pos: usize,
}

/// Boxed so that the hot path returns results in registers.
type Read<T> = Result<T, Box<CodecError>>;

impl Strict<'_> {
    #[cold]
    fn error(&self, offset: usize, msg: String) -> Box<CodecError> {
        Box::new(CodecError { offset, msg })
    }

    #[cold]
    fn end(&self) -> Box<CodecError> {
        self.error(self.pos, "payload ends in the middle of a value".into())
    }

    #[inline(always)]
    fn byte(&mut self) -> Read<u8> {
        match self.data.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.end()),
        }
    }

    /// An unsigned varint of a type whose largest value is `max`.
    #[inline(always)]
    fn varint(&mut self, max: u64) -> Read<u64> {
        match self.byte()? {
            b @ 0..=250 => Ok(u64::from(b)),
            marker => self.varint_long(marker, max),
        }
    }

    /// The rest of a varint after its marker byte: the value little endian
    /// in 2, 4 or 8 bytes, refused if it would fit a shorter form.
    #[inline(never)]
    fn varint_long(&mut self, marker: u8, max: u64) -> Read<u64> {
        let start = self.pos - 1;
        let (v, min) = match marker {
            0xFB => (self.array().map(|b| u64::from(u16::from_le_bytes(b)))?, 251),
            0xFC if max > 0xFFFF => (self.array().map(|b| u64::from(u32::from_le_bytes(b)))?, 1 << 16),
            0xFD if max > 0xFFFF_FFFF => (self.array().map(u64::from_le_bytes)?, 1 << 32),
            _ => {
                let msg = format!("invalid varint marker {marker:#04x} for an integer up to {max}");
                return Err(self.error(start, msg));
            }
        };
        if v < min {
            return Err(self.error(start, "non-canonical encoding (e.g. an over-long integer)".into()));
        }
        Ok(v)
    }

    #[inline(always)]
    fn array<const N: usize>(&mut self) -> Read<[u8; N]> {
        match self.data.get(self.pos..self.pos + N).and_then(|s| <[u8; N]>::try_from(s).ok()) {
            Some(a) => {
                self.pos += N;
                Ok(a)
            }
            None => Err(self.end()),
        }
    }

    #[inline(always)]
    fn u16(&mut self) -> Read<u16> {
        // `varint` returns at most the given maximum.
        self.varint(u64::from(u16::MAX)).map(|v| v as u16)
    }

    #[inline(always)]
    fn u32(&mut self) -> Read<u32> {
        self.varint(u64::from(u32::MAX)).map(|v| v as u32)
    }

    /// Zigzag, then varint.
    #[inline]
    fn i32(&mut self) -> Read<i32> {
        let n = self.u32()?;
        Ok(((n >> 1) as i32) ^ -((n & 1) as i32))
    }

    fn bool(&mut self) -> Read<bool> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(self.error(self.pos - 1, format!("invalid bool value {b} (must be 0 or 1)"))),
        }
    }

    /// A sequence: element count, then the elements. `min_bytes` is the
    /// fewest bytes an element takes, so that a hostile count allocates no
    /// more than the payload could hold.
    #[inline]
    fn vec<T>(&mut self, min_bytes: usize, mut element: impl FnMut(&mut Self) -> Read<T>) -> Read<Vec<T>> {
        let start = self.pos;
        let count = self.varint(u64::MAX)?;
        let count = usize::try_from(count)
            .map_err(|_| self.error(start, format!("sequence of {count} elements does not fit in memory")))?;
        let room = (self.data.len() - self.pos) / min_bytes;
        let mut v = Vec::with_capacity(count.min(room));
        for _ in 0..count {
            v.push(element(self)?);
        }
        Ok(v)
    }

    /// Reads an element through a [`Window`] when at least [`WINDOW`] bytes
    /// are left; `None` (near the end of the payload, or on anything
    /// unusual) leaves the position alone, and the caller reads the element
    /// again with the checked methods, which report the error if there is
    /// one.
    #[inline(always)]
    fn fast<T>(&mut self, read: impl FnOnce(&mut Window<'_>) -> Option<T>) -> Option<T> {
        let w = self.data.get(self.pos..self.pos + WINDOW)?.try_into().ok()?;
        let mut window = Window { w, i: 0 };
        let value = read(&mut window)?;
        self.pos += window.i;
        Some(value)
    }

    #[inline(always)]
    fn node(&mut self) -> Read<Node> {
        match self.fast(|w| Some(Node { row: w.u16()?, col: w.u16()?, level: w.u16()? })) {
            Some(n) => Ok(n),
            None => Ok(Node { row: self.u16()?, col: self.u16()?, level: self.u16()? }),
        }
    }

    #[inline(always)]
    fn column(&mut self) -> Read<Column> {
        match self.fast(|w| Some(Column { key: w.u32()?, params: w.u16()?, v_init: w.i32()? })) {
            Some(c) => Ok(c),
            None => Ok(Column { key: self.u32()?, params: self.u16()?, v_init: self.i32()? }),
        }
    }

    #[inline(always)]
    fn route_entry(&mut self) -> Read<RouteEntry> {
        match self.fast(|w| Some(RouteEntry { value: w.u32()?, mask: w.u32()?, out: w.byte() })) {
            Some(e) => Ok(e),
            None => Ok(RouteEntry { value: self.u32()?, mask: self.u32()?, out: self.byte()? }),
        }
    }

    #[inline(always)]
    fn row(&mut self) -> Read<Row> {
        let fast = self.fast(|w| {
            let (key, delay, negative) = (w.u32()?, w.byte(), w.bool()?);
            let kind = match w.u32()? {
                0 => RowKind::NonVolatile,
                1 => RowKind::Volatile(w.u16()?),
                2 => RowKind::Stdp(w.u16()?),
                _ => return None,
            };
            Some(Row { key, delay, negative, kind, scale: w.i32()? })
        });
        match fast {
            Some(r) => Ok(r),
            None => self.row_checked(),
        }
    }

    #[inline(never)]
    fn row_checked(&mut self) -> Read<Row> {
        let key = self.u32()?;
        let delay = self.byte()?;
        let negative = self.bool()?;
        let at = self.pos;
        let kind = match self.u32()? {
            0 => RowKind::NonVolatile,
            1 => RowKind::Volatile(self.u16()?),
            2 => RowKind::Stdp(self.u16()?),
            v => return Err(self.error(at, format!("invalid RowKind variant index {v} (expected 0, 1 or 2)"))),
        };
        let scale = self.i32()?;
        Ok(Row { key, delay, negative, kind, scale })
    }

    /// A value of a type without a hand-written layout, through serde and
    /// bincode, then re-encoded to check that its bytes are canonical.
    fn serde_part<T: DeserializeOwned + Serialize>(&mut self) -> Read<T> {
        let start = self.pos;
        let mut reader = CountingReader { data: self.data, pos: start };
        let value: T = bincode::serde::decode_from_reader(&mut reader, decode_config())
            .map_err(|e| self.error(reader.pos, describe(&e)))?;
        let used = &self.data[start..reader.pos];
        let again = encode(&value);
        if again != used {
            let at = again.iter().zip(used).position(|(a, b)| a != b).unwrap_or(again.len().min(used.len()));
            return Err(self.error(start + at, "non-canonical encoding (e.g. an over-long integer)".into()));
        }
        self.pos = reader.pos;
        Ok(value)
    }

    /// The payload must end here.
    fn finish(&self) -> Read<()> {
        let extra = self.data.len() - self.pos;
        if extra != 0 {
            return Err(self.error(self.pos, format!("{extra} unused byte(s) after the value")));
        }
        Ok(())
    }
}

/// Bytes of a [`Window`]: more than the longest hand-read element (a row:
/// key 5, delay 1, sign 1, kind 5 + 3, scale 5).
const WINDOW: usize = 32;

/// The fast path of [`Strict`]: reads an element from a fixed array of
/// [`WINDOW`] bytes, without bounds checks or error values. It accepts the
/// same canonical forms as `Strict`, and gives up (`None`) on everything
/// else, including what `Strict` would refuse.
struct Window<'w> {
    w: &'w [u8; WINDOW],
    i: usize,
}

impl Window<'_> {
    /// The byte `k` after the position. Elements are shorter than the
    /// window, so the index never wraps; the modulo only spares the check.
    #[inline(always)]
    fn at(&self, k: usize) -> u8 {
        self.w[(self.i + k) % WINDOW]
    }

    #[inline(always)]
    fn byte(&mut self) -> u8 {
        let b = self.at(0);
        self.i += 1;
        b
    }

    /// A varint up to `max` in its shortest form (no 8-byte forms here).
    #[inline(always)]
    fn varint(&mut self, max: u32) -> Option<u32> {
        match self.at(0) {
            b @ 0..=250 => {
                self.i += 1;
                Some(b.into())
            }
            0xFB => {
                let v = u16::from_le_bytes([self.at(1), self.at(2)]);
                self.i += 3;
                (v >= 251).then_some(v.into())
            }
            0xFC if max > 0xFFFF => {
                let v = u32::from_le_bytes([self.at(1), self.at(2), self.at(3), self.at(4)]);
                self.i += 5;
                (v > 0xFFFF).then_some(v)
            }
            _ => None,
        }
    }

    #[inline(always)]
    fn u16(&mut self) -> Option<u16> {
        self.varint(u16::MAX.into()).map(|v| v as u16)
    }

    #[inline(always)]
    fn u32(&mut self) -> Option<u32> {
        self.varint(u32::MAX)
    }

    #[inline(always)]
    fn i32(&mut self) -> Option<i32> {
        let n = self.u32()?;
        Some(((n >> 1) as i32) ^ -((n & 1) as i32))
    }

    #[inline(always)]
    fn bool(&mut self) -> Option<bool> {
        match self.byte() {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
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
