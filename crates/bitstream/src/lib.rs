//! The bitstream: the whole configuration of an array, and nothing else.
//!
//! [`Bitstream`] is the in-memory configuration (what the compiler writes and
//! the emulator loads). Only this crate knows its bytes on disk (see
//! docs/bitstream.md); `codec` is the one place that calls bincode.

mod config;

pub use config::*;
