//! Tests of the binary form, the assembly text and validation.

mod asm;
mod binary;
mod props;
mod sample;
mod validation;
