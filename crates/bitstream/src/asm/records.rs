//! The declaration of every record of the assembly: its keyword, and each
//! attribute's name, format, parser and (through `defaults`) default.
//! Field names are the struct's field names (`stringify!`).

use super::line::{Int, Token, parse_int, parse_string, parse_word, quote};
use super::schema::{Field, Record, Show, flag, text};
use super::{AsmError, err};
use crate::config::*;
use fpnna_model::{Bounds, Generator, NeuronParams, Pairing, Reset, StdpParams, VolatileParams};

/// An integer field `$f` of `$R`, in decimal (`hex`: `0x` hexadecimal).
macro_rules! int {
    ($R:ty, $f:ident) => {
        int!($R, $f, Show::UnlessDefault)
    };
    ($R:ty, $f:ident, $show:expr) => {
        int!($R, $f, $show, dec)
    };
    ($R:ty, $f:ident, $show:expr, $fmt:ident) => {
        text(stringify!($f), $show, |r: &$R| $fmt(r.$f), |r: &mut $R, t, line| set_int(&mut r.$f, t, line))
    };
}

/// A field `$f` of `$R` that is one of a few words.
macro_rules! choice {
    ($R:ty, $f:ident, [$($v:path => $w:literal),+ $(,)?]) => {
        text(
            stringify!($f),
            Show::UnlessDefault,
            |r: &$R| match r.$f { $($v => $w),+ }.to_string(),
            |r: &mut $R, t, line| {
                let w = parse_word(t, &[$($w),+], line)?;
                for (v, name) in [$(($v, $w)),+] {
                    if name == w {
                        r.$f = v;
                    }
                }
                Ok(())
            },
        )
    };
}

/// A field `$f` of the generator variant `$v` of a port kind.
macro_rules! generator {
    ($v:ident, $f:ident) => {
        text(
            stringify!($f),
            Show::UnlessDefault,
            |k: &PortKind| match k {
                PortKind::Generator(Generator::$v { $f, .. }) => $f.to_string(),
                _ => String::new(),
            },
            |k: &mut PortKind, t, line| match k {
                PortKind::Generator(Generator::$v { $f, .. }) => set_int($f, t, line),
                _ => Ok(()),
            },
        )
    };
}

/// An integer in decimal.
fn dec<T: std::fmt::Display>(v: T) -> String {
    v.to_string()
}

/// An integer in `0x` hexadecimal.
fn hex<T: std::fmt::LowerHex>(v: T) -> String {
    format!("{v:#x}")
}

/// Parses an integer into `slot`.
fn set_int<T: Int>(slot: &mut T, t: &Token, line: usize) -> Result<(), AsmError> {
    *slot = parse_int(t, line)?;
    Ok(())
}

impl Record for Global {
    const KEYWORD: &'static str = "global";
    const FIELDS: &'static [Field<Self>] = &[
        text("dt_ms", Show::Required("missing `global.dt_ms = MS`"), |g| format!("{:?}", g.dt_ms), read_dt_ms),
        int!(Global, key_count, Show::Required("missing `global.key_count = N`")),
    ];
    fn defaults() -> Self {
        Global { dt_ms: 0.0, key_count: 0 }
    }
}

fn read_dt_ms(g: &mut Global, t: &Token, line: usize) -> Result<(), AsmError> {
    let f = match &t.tok {
        super::line::Tok::Word(w) => w.parse::<f64>().ok(),
        _ => None,
    };
    let Some(f) = f else { return err(line, t.col, "expected a number (timestep in ms)") };
    g.dt_ms = f;
    Ok(())
}

impl Record for TileConfig {
    const KEYWORD: &'static str = "tile";
    const FIELDS: &'static [Field<Self>] = &[];
    fn defaults() -> Self {
        TileConfig {
            x: 0,
            y: 0,
            params: vec![],
            volatile: vec![],
            stdp: vec![],
            columns: vec![],
            rows: vec![],
            nodes: vec![],
            row_lines: vec![],
            col_lines: vec![],
        }
    }
}

impl Record for NeuronParams {
    const KEYWORD: &'static str = "param";
    const FIELDS: &'static [Field<Self>] = &[
        int!(NeuronParams, decay_i),
        int!(NeuronParams, decay_v),
        int!(NeuronParams, threshold),
        int!(NeuronParams, bias),
        int!(NeuronParams, v_min),
        choice!(NeuronParams, reset, [Reset::Zero => "zero", Reset::Subtract => "subtract"]),
        int!(NeuronParams, refractory),
        int!(NeuronParams, theta_step),
        int!(NeuronParams, theta_decay),
    ];
    fn defaults() -> Self {
        NeuronParams {
            decay_i: 0,
            decay_v: 0,
            threshold: 0,
            bias: 0,
            v_min: 0,
            reset: Reset::Zero,
            refractory: 0,
            theta_step: 0,
            theta_decay: 0,
        }
    }
}

impl Record for VolatileParams {
    const KEYWORD: &'static str = "volatile";
    const FIELDS: &'static [Field<Self>] =
        &[int!(VolatileParams, decay), int!(VolatileParams, gain), int!(VolatileParams, facil)];
    fn defaults() -> Self {
        VolatileParams { decay: 0, gain: 0, facil: 0 }
    }
}

impl Record for StdpParams {
    const KEYWORD: &'static str = "stdp";
    const FIELDS: &'static [Field<Self>] = &[
        int!(StdpParams, a_plus),
        int!(StdpParams, a_minus),
        int!(StdpParams, decay_plus),
        int!(StdpParams, decay_minus),
        int!(StdpParams, w_min),
        int!(StdpParams, w_max),
        choice!(StdpParams, pairing, [Pairing::AllToAll => "all_to_all", Pairing::Nearest => "nearest"]),
        choice!(StdpParams, bounds, [Bounds::Hard => "hard", Bounds::Soft => "soft"]),
        int!(StdpParams, relax),
    ];
    fn defaults() -> Self {
        StdpParams {
            a_plus: 0,
            a_minus: 0,
            decay_plus: 0,
            decay_minus: 0,
            w_min: 0,
            w_max: 0,
            pairing: Pairing::AllToAll,
            bounds: Bounds::Hard,
            relax: 0,
        }
    }
}

impl Record for Column {
    const KEYWORD: &'static str = "column";
    const FIELDS: &'static [Field<Self>] = &[
        int!(Column, key, Show::Required("expected `key K` in a column")),
        int!(Column, params),
        int!(Column, v_init),
    ];
    fn defaults() -> Self {
        Column { key: 0, params: 0, v_init: 0 }
    }
}

impl Record for Row {
    const KEYWORD: &'static str = "row";
    const FIELDS: &'static [Field<Self>] = &[
        int!(Row, key, Show::Required("expected `key K` in a row")),
        int!(Row, delay),
        flag("negative", |r| r.negative, |r| r.negative = true),
        text(
            "volatile",
            Show::UnlessDefault,
            |r| row_profile(r, false),
            |r, t, line| set_row_profile(r, false, t, line),
        ),
        text("stdp", Show::UnlessDefault, |r| row_profile(r, true), |r, t, line| set_row_profile(r, true, t, line)),
        int!(Row, scale),
    ];
    fn defaults() -> Self {
        Row { key: 0, delay: 1, negative: false, kind: RowKind::NonVolatile, scale: 0 }
    }
}

/// The profile of a volatile (`stdp`: STDP) row as text, or nothing.
fn row_profile(r: &Row, stdp: bool) -> String {
    match (r.kind, stdp) {
        (RowKind::Volatile(p), false) | (RowKind::Stdp(p), true) => p.to_string(),
        _ => String::new(),
    }
}

/// Makes a row volatile (`stdp`: STDP) with profile `t`; a row is one or
/// the other (`volatile` is read first).
fn set_row_profile(r: &mut Row, stdp: bool, t: &Token, line: usize) -> Result<(), AsmError> {
    let p = match (r.kind, stdp) {
        (RowKind::Volatile(_), true) => return err(line, t.col, "a row is either `volatile P` or `stdp P`, not both"),
        _ => parse_int(t, line)?,
    };
    r.kind = if stdp { RowKind::Stdp(p) } else { RowKind::Volatile(p) };
    Ok(())
}

/// `node ROW COL level L`: the row and column are positional.
impl Record for Node {
    const KEYWORD: &'static str = "node";
    const FIELDS: &'static [Field<Self>] = &[int!(Node, level, Show::Always)];
    fn defaults() -> Self {
        Node { row: 0, col: 0, level: 0 }
    }
}

impl Record for RouterConfig {
    const KEYWORD: &'static str = "router";
    const FIELDS: &'static [Field<Self>] = &[];
    fn defaults() -> Self {
        RouterConfig { x: 0, y: 0, entries: vec![] }
    }
}

impl Record for RouteEntry {
    const KEYWORD: &'static str = "route";
    const FIELDS: &'static [Field<Self>] = &[
        int!(RouteEntry, value, Show::Always, hex),
        int!(RouteEntry, mask, Show::UnlessDefault, hex),
        text(
            "out",
            Show::Required("expected `out` with directions, e.g. `out east+local`"),
            |e| dirs_to_text(e.out),
            |e, t, line| {
                e.out = dirs_from_text(t, line)?;
                Ok(())
            },
        ),
    ];
    fn defaults() -> Self {
        RouteEntry { value: 0, mask: u32::MAX, out: 0 }
    }
}

/// `port "NAME" KIND ...`: the name and kind are positional; the kind's
/// own fields (in [`PORT_KINDS`]) follow these.
impl Record for Port {
    const KEYWORD: &'static str = "port";
    const FIELDS: &'static [Field<Self>] = &[int!(Port, key_base), int!(Port, size), int!(Port, x), int!(Port, y)];
    fn defaults() -> Self {
        Port { name: String::new(), key_base: 0, size: 0, kind: PortKind::Input, x: 0, y: 0 }
    }
}

/// One kind of port: its word, and its own fields.
pub(super) struct PortKindSchema {
    /// The word after the port's name.
    pub word: &'static str,
    /// Whether a kind is this one.
    pub is: fn(&PortKind) -> bool,
    /// This kind with its fields at their defaults.
    pub defaults: PortKind,
    /// Its own fields, written after the port's.
    pub fields: &'static [Field<PortKind>],
}

/// Every kind of port, in the order messages list them.
pub(super) const PORT_KINDS: [PortKindSchema; 4] = [
    PortKindSchema { word: "input", is: |k| matches!(k, PortKind::Input), defaults: PortKind::Input, fields: &[] },
    PortKindSchema { word: "output", is: |k| matches!(k, PortKind::Output), defaults: PortKind::Output, fields: &[] },
    PortKindSchema {
        word: "poisson",
        is: |k| matches!(k, PortKind::Generator(Generator::Poisson { .. })),
        defaults: PortKind::Generator(Generator::Poisson { p: 0, seed: 0 }),
        fields: &[generator!(Poisson, p), generator!(Poisson, seed)],
    },
    PortKindSchema {
        word: "regular",
        is: |k| matches!(k, PortKind::Generator(Generator::Regular { .. })),
        defaults: PortKind::Generator(Generator::Regular { period: 1, phase: 0 }),
        fields: &[generator!(Regular, period), generator!(Regular, phase)],
    },
];

/// `symbol "NAME" ...`: the name is positional.
impl Record for Symbol {
    const KEYWORD: &'static str = "symbol";
    const FIELDS: &'static [Field<Self>] = &[
        text(
            "kind",
            Show::UnlessDefault,
            |s| quote(&s.kind),
            |s, t, line| {
                s.kind = parse_string(t, line)?;
                Ok(())
            },
        ),
        int!(Symbol, key_base),
        int!(Symbol, size),
    ];
    fn defaults() -> Self {
        Symbol { name: String::new(), key_base: 0, size: 0, kind: String::new() }
    }
}

/// Route directions and their words, in the order they are written.
/// (bit, name) of every direction, from the one table.
const DIRS: [(u8, &str); 5] = {
    const fn d(d: crate::Dir) -> (u8, &'static str) {
        (d.bit(), d.name())
    }
    let a = crate::Dir::ALL;
    [d(a[0]), d(a[1]), d(a[2]), d(a[3]), d(a[4])]
};

fn dirs_to_text(out: u8) -> String {
    let known = DIRS.iter().fold(0, |a, (b, _)| a | b);
    if out & !known != 0 {
        // Not a valid bitstream, but print it faithfully.
        return format!("{out:#x}");
    }
    if out == 0 {
        return "none".into();
    }
    DIRS.iter().filter(|(b, _)| out & b != 0).map(|(_, n)| *n).collect::<Vec<_>>().join("+")
}

fn dirs_from_text(t: &Token, line: usize) -> Result<u8, AsmError> {
    const EXPECTED: &str = "expected directions joined by `+` (east, north, west, south, local) or `none`";
    let super::line::Tok::Word(w) = &t.tok else { return err(line, t.col, EXPECTED) };
    if w == "none" {
        return Ok(0);
    }
    if w.starts_with("0x") {
        return parse_int::<u8>(t, line);
    }
    let mut out = 0;
    for part in w.split('+') {
        match DIRS.iter().find(|(_, n)| *n == part) {
            Some((b, _)) if out & b == 0 => out |= b,
            Some(_) => return err(line, t.col, format!("direction `{part}` given twice")),
            None => return err(line, t.col, format!("unknown direction `{part}`: {EXPECTED}")),
        }
    }
    Ok(out)
}
