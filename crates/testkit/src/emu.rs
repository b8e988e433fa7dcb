//! The emulator of a hand-built bitstream (feature `emu`; the emulator's
//! own tests take it through a dev-dependency cycle, which Cargo allows for
//! integration tests).

use fpnna_bitstream::Bitstream;
use fpnna_emu::{EmuOptions, Emulator};

/// An emulator of a hand-built bitstream, validated first as every loaded
/// bitstream is; a refusal (by validation or by the emulator) as its text.
pub fn emulator(bs: &Bitstream, opts: EmuOptions) -> Result<Emulator, String> {
    let v = fpnna_bitstream::validate(bs.clone()).map_err(|e| e.to_string())?;
    Emulator::new(&v, opts).map_err(|e| e.to_string())
}
