//! What can be wrong with a bitstream, and where.

use std::fmt;

/// Why a bitstream was refused. Every variant says where (byte offset and
/// section, or the tile/router/port concerned) and, where it helps, what to
/// do.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BitstreamError {
    /// The file ends before a field it announces.
    #[error("truncated: {section} {field} at byte {offset} needs {needed} byte(s), but the file ends at byte {len}")]
    Truncated {
        /// Section being read (`header` for the fixed header).
        section: String,
        /// Field being read.
        field: &'static str,
        /// Byte offset of the field.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Length of the file.
        len: usize,
    },
    /// The file does not start with [`crate::MAGIC`].
    #[error("not an fpnna bitstream: byte 0 starts with {found} instead of the magic \"FPNNA\\0BS\"")]
    BadMagic {
        /// The first bytes found, in hex.
        found: String,
    },
    /// Written by a newer fpnna.
    #[error("format version {found} at byte 8 is newer than this fpnna reads ({supported}): use a newer fpnna")]
    NewerVersion {
        /// Version in the file.
        found: u16,
        /// Version this crate reads and writes.
        supported: u16,
    },
    /// Written in an old format this fpnna no longer reads.
    #[error("format version {found} at byte 8 is older than this fpnna reads ({supported}): recompile the network")]
    OlderVersion {
        /// Version in the file.
        found: u16,
        /// Version this crate reads and writes.
        supported: u16,
    },
    /// A section's payload does not match its CRC.
    #[error(
        "section `{section}` at byte {offset}: CRC mismatch (stored {stored:#010x}, computed {computed:#010x}): the file is corrupt"
    )]
    SectionCrc {
        /// Section.
        section: String,
        /// Byte offset of the section's tag.
        offset: usize,
        /// CRC stored in the file.
        stored: u32,
        /// CRC of the payload as read.
        computed: u32,
    },
    /// The whole-file check at the end does not match.
    #[error(
        "whole-file check at byte {offset}: CRC mismatch (stored {stored:#010x}, computed {computed:#010x}): the file is corrupt"
    )]
    FileCrc {
        /// Byte offset of the check.
        offset: usize,
        /// CRC stored in the file.
        stored: u32,
        /// CRC of everything before it.
        computed: u32,
    },
    /// A payload's CRC is right but its content does not decode.
    #[error("section `{section}`: malformed payload at byte {offset}: {msg}")]
    Malformed {
        /// Section.
        section: String,
        /// Byte offset (in the file) where decoding stopped.
        offset: usize,
        /// What is wrong.
        msg: String,
    },
    /// A section tag this version does not know.
    #[error(
        "unknown section tag {tag:#04x} at byte {offset} (known: 0 end, 1 arch, 2 global, 3 tile, 4 routing, 5 ports, 6 symbols)"
    )]
    UnknownSection {
        /// The tag.
        tag: u8,
        /// Byte offset of the tag.
        offset: usize,
    },
    /// A section appears twice or out of the canonical order.
    #[error(
        "section `{section}` at byte {offset} is repeated or out of order (order: arch, global, tile..., routing, ports, symbols, end)"
    )]
    SectionOrder {
        /// Section.
        section: String,
        /// Byte offset of its tag.
        offset: usize,
    },
    /// A required section is absent.
    #[error("missing required section `{section}` (before byte {offset})")]
    MissingSection {
        /// Section.
        section: &'static str,
        /// Byte offset where it was expected.
        offset: usize,
    },
    /// Bytes after the whole-file check.
    #[error("{count} unexpected byte(s) after the end of the bitstream at byte {offset}")]
    TrailingBytes {
        /// Byte offset where the extra bytes start.
        offset: usize,
        /// How many.
        count: usize,
    },
    /// The header's architecture hash is not the hash of the embedded architecture.
    #[error(
        "header: architecture hash {header:#018x} at byte 10 is not the hash of the embedded architecture `{name}` ({embedded:#018x}): the file is corrupt"
    )]
    HeaderHash {
        /// Hash in the header.
        header: u64,
        /// Name of the embedded architecture.
        name: String,
        /// Hash of the embedded architecture.
        embedded: u64,
    },
    /// The embedded architecture is impossible.
    #[error("section `arch`: embedded architecture is invalid: {0}")]
    InvalidArch(String),
    /// The configuration does not fit its architecture, or contradicts itself.
    #[error("{place}: {what}")]
    Invalid {
        /// What is wrong.
        place: Place,
        /// Why.
        what: String,
    },
    /// Several semantic errors: each on its own line, as
    /// [`BitstreamError::Invalid`] renders it (a single error is an `Invalid`).
    #[error("{}", render_list(errors, *more))]
    InvalidList {
        /// The errors, in the order validation finds them (at most
        /// [`crate::MAX_ERRORS`]).
        errors: Vec<Problem>,
        /// How many more were found but not listed.
        more: usize,
    },
    /// The bitstream was built for a different architecture than the one given.
    #[error(
        "the bitstream was compiled for architecture `{bitstream_name}` (hash {bitstream_hash:#018x}), but the given architecture is `{given_name}` (hash {given_hash:#018x}): recompile for `{given_name}`, or drop --arch to use the embedded one"
    )]
    WrongArch {
        /// Name of the embedded architecture.
        bitstream_name: String,
        /// Its hash.
        bitstream_hash: u64,
        /// Name of the architecture given.
        given_name: String,
        /// Its hash.
        given_hash: u64,
    },
}

/// One semantic error: where, and why.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Problem {
    /// What is wrong.
    pub place: Place,
    /// Why.
    pub what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.what)
    }
}

/// The text of [`BitstreamError::InvalidList`]: a count, then one error a line.
fn render_list(errors: &[Problem], more: usize) -> String {
    let mut s = format!("{} errors in the configuration:", errors.len() + more);
    for p in errors {
        s.push_str(&format!("\n  {p}"));
    }
    if more > 0 {
        s.push_str(&format!("\n  ... and {more} more"));
    }
    s
}

/// A place in a configuration, named in validation errors.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    /// The global settings.
    Global,
    /// A tile (index in `Bitstream::tiles`, coordinates), or an item inside it.
    Tile {
        /// Index in `Bitstream::tiles`.
        index: usize,
        /// Column of the grid.
        x: u16,
        /// Row of the grid.
        y: u16,
        /// The item concerned; `None` for the tile as a whole.
        item: Option<TileItem>,
    },
    /// A router (index in `Bitstream::routers`), or one of its entries.
    Router {
        /// Index in `Bitstream::routers`.
        index: usize,
        /// Column of the grid.
        x: u16,
        /// Row of the grid.
        y: u16,
        /// Entry index; `None` for the router as a whole.
        entry: Option<usize>,
    },
    /// A port.
    Port {
        /// Index in `Bitstream::ports`.
        index: usize,
        /// Its name.
        name: String,
    },
    /// A symbol.
    Symbol {
        /// Index in `Bitstream::symbols`.
        index: usize,
        /// Its name.
        name: String,
    },
}

/// An item of a tile, by index in its vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TileItem {
    /// Entry of the neuron parameter table.
    Param(usize),
    /// Volatile profile.
    Volatile(usize),
    /// STDP profile.
    Stdp(usize),
    /// Neuron column.
    Column(usize),
    /// Axon row.
    Row(usize),
    /// Programmed node (index in `TileConfig::nodes`).
    Node(usize),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Global => write!(f, "section `global`"),
            Place::Tile { x, y, item, .. } => {
                write!(f, "tile ({x}, {y})")?;
                match item {
                    None => Ok(()),
                    Some(TileItem::Param(i)) => write!(f, " param {i}"),
                    Some(TileItem::Volatile(i)) => write!(f, " volatile profile {i}"),
                    Some(TileItem::Stdp(i)) => write!(f, " stdp profile {i}"),
                    Some(TileItem::Column(i)) => write!(f, " column {i}"),
                    Some(TileItem::Row(i)) => write!(f, " row {i}"),
                    Some(TileItem::Node(i)) => write!(f, " node #{i}"),
                }
            }
            Place::Router { x, y, entry, .. } => {
                write!(f, "router ({x}, {y})")?;
                match entry {
                    Some(e) => write!(f, " entry {e}"),
                    None => Ok(()),
                }
            }
            Place::Port { name, .. } => write!(f, "port `{name}`"),
            Place::Symbol { name, .. } => write!(f, "symbol `{name}`"),
        }
    }
}
