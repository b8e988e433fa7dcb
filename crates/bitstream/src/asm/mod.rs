//! The `fpa` assembly text: one configuration feature per line, in
//! canonical order, defaults omitted (FASM-like). docs/bitstream.md gives
//! the syntax. `assemble(disassemble(b))` encodes to the same bytes as `b`.
//!
//! Each record's keyword, attribute names, formats and defaults are
//! declared once, in `records`; the disassembler (`write`) and the
//! assembler (`read`) are both driven by those declarations.

mod arch;
mod line;
mod read;
mod records;
mod schema;
mod write;

pub use read::assemble;
pub use write::disassemble;

use std::fmt::Display;

/// Version of the assembly syntax, on the `fpa` line.
const ASM_VERSION: &str = "1";

/// A line of assembly that cannot be assembled: where, and what was expected.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("line {line}, column {col}: {msg}")]
pub struct AsmError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub col: usize,
    /// What is wrong, and what was expected.
    pub msg: String,
}

/// An [`AsmError`] at `line`, `col`.
fn err<T>(line: usize, col: usize, msg: impl Display) -> Result<T, AsmError> {
    Err(AsmError { line, col, msg: msg.to_string() })
}
