//! The binary container: framing, CRCs, truncation, every error variant.

use super::sample::sample;
use crate::*;

#[test]
fn print_sample() {
    let b = sample();
    println!("{}", disassemble(&b));
    println!("{}", inspect(&b));
    println!("{}", size_stats(&b));
    println!("{}", encode(&b).len());
}
