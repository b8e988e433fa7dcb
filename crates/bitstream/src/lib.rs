//! The bitstream: the whole configuration of an array, and nothing else.
//!
//! [`Bitstream`] is the in-memory configuration (what the compiler writes and
//! the emulator loads). Only this crate knows its bytes on disk (see
//! docs/bitstream.md): [`encode`] and [`decode`] for the binary `fpb` form,
//! [`disassemble`] and [`assemble`] for the `fpa` text form, [`inspect`] to
//! explain one. `codec` is the one place that calls bincode. A
//! [`Validated`] bitstream is one that passed [`validate`] (decoding and
//! assembling validate): only this crate can make one.

#![warn(missing_docs)]

mod asm;
mod binary;
mod codec;
mod config;
mod error;
mod inspect;
mod mesh;
mod validate;

pub use asm::{AsmError, assemble, disassemble};
pub use binary::{FORMAT_VERSION, HEADER_LEN, MAGIC, SectionSize, check_arch, decode, encode};
pub use config::*;
pub use error::{BitstreamError, Place, Problem, TileItem};
pub use inspect::{Inspection, LinkLoad, PortSummary, SizeStats, TileUsage, inspect, link_loads, size_stats};
pub use mesh::{Dir, Grid, Key, RouteIndex, Xy, first_match};
pub use validate::{MAX_ERRORS, Validated, validate};

#[cfg(test)]
mod tests;
