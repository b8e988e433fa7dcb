//! The `fpb` container: header, framed sections with CRCs, whole-file check.
//! docs/bitstream.md specifies it byte for byte.

use crate::codec;
use crate::config::*;
use crate::error::BitstreamError;
use crate::validate::{Validated, validate};
use fpnna_arch::Arch;

/// First 8 bytes of every bitstream file.
pub const MAGIC: [u8; 8] = *b"FPNNA\0BS";
/// Format version this crate writes and reads.
pub const FORMAT_VERSION: u16 = 3;
/// Bytes of the fixed header: magic, version, architecture hash.
pub const HEADER_LEN: usize = 18;

/// Section tags, in the order sections must appear.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Tag {
    Arch = 1,
    Global = 2,
    Tile = 3,
    Routing = 4,
    Ports = 5,
    Symbols = 6,
}

/// Tag of the end marker, followed by the whole-file CRC.
const END: u8 = 0;

impl Tag {
    const ALL: [Tag; 6] = [Tag::Arch, Tag::Global, Tag::Tile, Tag::Routing, Tag::Ports, Tag::Symbols];

    fn from_u8(t: u8) -> Option<Tag> {
        Tag::ALL.into_iter().find(|&x| x as u8 == t)
    }

    fn name(self) -> &'static str {
        match self {
            Tag::Arch => "arch",
            Tag::Global => "global",
            Tag::Tile => "tile",
            Tag::Routing => "routing",
            Tag::Ports => "ports",
            Tag::Symbols => "symbols",
        }
    }

    /// Every section except tiles appears exactly once.
    fn required(self) -> bool {
        self != Tag::Tile
    }
}

/// Bytes taken by each kind of section in an encoded bitstream.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct SectionSize {
    /// Section name (`header`, `arch`, ..., `end`).
    pub name: &'static str,
    /// Sections of this kind.
    pub count: usize,
    /// Bytes, framing (tag, length, CRC) included.
    pub bytes: usize,
}

/// Encodes a configuration into `fpb` bytes. Deterministic: the same value
/// always gives the same bytes. It does not validate: call
/// [`crate::validate`] first, as [`decode`] refuses what it refuses.
pub fn encode(b: &Bitstream) -> Vec<u8> {
    encode_with_sizes(b).0
}

pub(crate) fn encode_with_sizes(b: &Bitstream) -> (Vec<u8>, Vec<SectionSize>) {
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&b.arch.hash().to_le_bytes());
    let mut sizes = vec![SectionSize { name: "header", count: 1, bytes: HEADER_LEN }];
    let mut section = |out: &mut Vec<u8>, tag: Tag, payload: Vec<u8>| {
        let len = u32::try_from(payload.len()).expect("a section payload exceeds 4 GiB");
        let start = out.len();
        out.push(tag as u8);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&payload);
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        match sizes.iter_mut().find(|s| s.name == tag.name()) {
            Some(s) => {
                s.count += 1;
                s.bytes += out.len() - start;
            }
            None => sizes.push(SectionSize { name: tag.name(), count: 1, bytes: out.len() - start }),
        }
    };
    section(&mut out, Tag::Arch, codec::encode(&b.arch));
    section(&mut out, Tag::Global, codec::encode(&b.global));
    for t in &b.tiles {
        section(&mut out, Tag::Tile, codec::encode(t));
    }
    section(&mut out, Tag::Routing, codec::encode(&b.routers));
    section(&mut out, Tag::Ports, codec::encode(&b.ports));
    section(&mut out, Tag::Symbols, codec::encode(&b.symbols));
    out.push(END);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    sizes.push(SectionSize { name: "end", count: 1, bytes: 5 });
    (out, sizes)
}

/// Reads bytes in order, naming the section and field when they run out.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, section: &str, field: &'static str) -> Result<&'a [u8], BitstreamError> {
        match self.bytes.get(self.pos..self.pos.saturating_add(n)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(BitstreamError::Truncated {
                section: section.to_string(),
                field,
                offset: self.pos,
                needed: n,
                len: self.bytes.len(),
            }),
        }
    }

    fn array<const N: usize>(&mut self, section: &str, field: &'static str) -> Result<[u8; N], BitstreamError> {
        let s = self.take(N, section, field)?;
        // `take` returned exactly N bytes.
        Ok(s.try_into().unwrap_or([0; N]))
    }
}

/// Decodes `fpb` bytes, checking framing, CRCs and the configuration against
/// its embedded architecture (so the result is [`Validated`]). Never panics;
/// allocations are bounded by the input's size.
pub fn decode(bytes: &[u8]) -> Result<Validated, BitstreamError> {
    let magic_seen = &bytes[..bytes.len().min(MAGIC.len())];
    if magic_seen != &MAGIC[..magic_seen.len()] {
        let found = magic_seen.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
        return Err(BitstreamError::BadMagic { found });
    }
    let mut cur = Cursor { bytes, pos: 0 };
    cur.take(MAGIC.len(), "header", "magic")?;
    let version = u16::from_le_bytes(cur.array("header", "format version")?);
    if version > FORMAT_VERSION {
        return Err(BitstreamError::NewerVersion { found: version, supported: FORMAT_VERSION });
    }
    if version < FORMAT_VERSION {
        return Err(BitstreamError::OlderVersion { found: version, supported: FORMAT_VERSION });
    }
    let header_hash = u64::from_le_bytes(cur.array("header", "architecture hash")?);

    let mut arch: Option<Arch> = None;
    let mut global: Option<Global> = None;
    let mut tiles = Vec::new();
    let mut routers: Option<Vec<RouterConfig>> = None;
    let mut ports: Option<Vec<Port>> = None;
    let mut symbols: Option<Vec<Symbol>> = None;
    let mut last: Option<Tag> = None;
    // The whole-file CRC, from the bytes between payloads and each
    // payload's own CRC state (combined, so that no byte is hashed twice).
    let (mut file_crc, mut hashed) = (crc32fast::Hasher::new(), 0);
    loop {
        let offset = cur.pos;
        let [tag_byte] = cur.array::<1>("section list", "section tag")?;
        let next = if tag_byte == END {
            None
        } else {
            Some(Tag::from_u8(tag_byte).ok_or(BitstreamError::UnknownSection { tag: tag_byte, offset })?)
        };
        // Sections come in the order of their tags; only tiles repeat. A
        // required section skipped over is missing.
        let last_val = last.map_or(0, |l| l as u8);
        let allowed_min = match last {
            Some(Tag::Tile) => Tag::Tile as u8,
            _ => last_val + 1,
        };
        if let Some(t) = next
            && (t as u8) < allowed_min
        {
            return Err(BitstreamError::SectionOrder { section: t.name().into(), offset });
        }
        let upto = next.map_or(u8::MAX, |t| t as u8);
        if let Some(missing) = Tag::ALL.into_iter().find(|&t| t.required() && (t as u8) > last_val && (t as u8) < upto)
        {
            return Err(BitstreamError::MissingSection { section: missing.name(), offset });
        }
        let Some(tag) = next else { break };
        last = Some(tag);
        let name = match tag {
            Tag::Tile => format!("tile #{}", tiles.len()),
            _ => tag.name().to_string(),
        };
        let len = u32::from_le_bytes(cur.array(&name, "payload length")?);
        let payload_offset = cur.pos;
        let payload = cur.take(len as usize, &name, "payload")?;
        let stored = u32::from_le_bytes(cur.array(&name, "CRC")?);
        let mut payload_crc = crc32fast::Hasher::new();
        payload_crc.update(payload);
        file_crc.update(&bytes[hashed..payload_offset]);
        file_crc.combine(&payload_crc);
        hashed = payload_offset + payload.len();
        let computed = payload_crc.finalize();
        if stored != computed {
            return Err(BitstreamError::SectionCrc { section: name, offset, stored, computed });
        }
        let payload_of = |e: codec::CodecError| BitstreamError::Malformed {
            section: name.clone(),
            offset: payload_offset + e.offset,
            msg: e.msg,
        };
        match tag {
            Tag::Arch => arch = Some(codec::decode(payload).map_err(payload_of)?),
            Tag::Global => global = Some(codec::decode(payload).map_err(payload_of)?),
            Tag::Tile => tiles.push(codec::decode_tile(payload).map_err(payload_of)?),
            Tag::Routing => routers = Some(codec::decode_routing(payload).map_err(payload_of)?),
            Tag::Ports => ports = Some(codec::decode(payload).map_err(payload_of)?),
            Tag::Symbols => symbols = Some(codec::decode(payload).map_err(payload_of)?),
        }
    }
    let check_offset = cur.pos;
    let stored = u32::from_le_bytes(cur.array("end", "whole-file CRC")?);
    file_crc.update(&bytes[hashed..check_offset]);
    let computed = file_crc.finalize();
    if stored != computed {
        return Err(BitstreamError::FileCrc { offset: check_offset, stored, computed });
    }
    if cur.pos < bytes.len() {
        return Err(BitstreamError::TrailingBytes { offset: cur.pos, count: bytes.len() - cur.pos });
    }
    // The order check above guarantees every required section was seen.
    let (Some(arch), Some(global), Some(routers), Some(ports), Some(symbols)) = (arch, global, routers, ports, symbols)
    else {
        return Err(BitstreamError::MissingSection { section: "arch", offset: check_offset });
    };
    let embedded = arch.hash();
    if embedded != header_hash {
        return Err(BitstreamError::HeaderHash { header: header_hash, name: arch.name, embedded });
    }
    Ok(validate(Bitstream { arch, global, tiles, routers, ports, symbols })?.with_hash(fpnna_arch::content_hash(bytes)))
}

/// Checks that a bitstream was compiled for `arch` (given on the command
/// line with --arch), comparing architecture hashes.
pub fn check_arch(b: &Bitstream, arch: &Arch) -> Result<(), BitstreamError> {
    let (bitstream_hash, given_hash) = (b.arch.hash(), arch.hash());
    if bitstream_hash != given_hash {
        return Err(BitstreamError::WrongArch {
            bitstream_name: b.arch.name.clone(),
            bitstream_hash,
            given_name: arch.name.clone(),
            given_hash,
        });
    }
    Ok(())
}
