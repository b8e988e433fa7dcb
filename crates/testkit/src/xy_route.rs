//! The dimension-ordered (x, then y) route of hand-built test and bench
//! bitstreams (shared by [`crate::hand`] and the emulator's `examples/bench.rs`).

use fpnna_bitstream::dir;

/// Calls `mark(x, y, out)` for every router on the x-then-y path from
/// `from` to `to`, with the direction the packet leaves it (`LOCAL` at `to`).
pub fn xy_route(from: (u16, u16), to: (u16, u16), mut mark: impl FnMut(u16, u16, u8)) {
    let ((mut x, mut y), (tx, ty)) = (from, to);
    loop {
        let out = if x < tx {
            dir::EAST
        } else if x > tx {
            dir::WEST
        } else if y < ty {
            dir::NORTH
        } else if y > ty {
            dir::SOUTH
        } else {
            dir::LOCAL
        };
        mark(x, y, out);
        match out {
            dir::EAST => x += 1,
            dir::WEST => x -= 1,
            dir::NORTH => y += 1,
            dir::SOUTH => y -= 1,
            _ => break,
        }
    }
}
