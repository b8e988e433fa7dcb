//! fpnna's test kit, a dev-only crate: the one golden-file check (and its
//! one update variable, `UPDATE_GOLDEN=1`), hand-built bitstreams for the
//! emulator's tests and benchmark (feature `bitstream`), and random network
//! generators for the compiler's and the end-to-end tests (feature `ir`).

pub mod golden;

#[cfg(feature = "emu")]
pub mod emu;
#[cfg(feature = "bitstream")]
pub mod hand;
#[cfg(feature = "bitstream")]
pub mod xy_route;

#[cfg(feature = "ir")]
pub mod ir;
#[cfg(feature = "prop")]
pub mod prop;
#[cfg(feature = "ir")]
pub mod random;
