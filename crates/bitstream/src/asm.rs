//! The `fpa` assembly text: one configuration feature per line, in
//! canonical order, defaults omitted (FASM-like). docs/bitstream.md gives
//! the syntax. `assemble(disassemble(b))` encodes to the same bytes as `b`.

use crate::config::*;
use crate::error::{BitstreamError, Place, TileItem};
use crate::validate::{Validated, validate};
use fpnna_arch::{Arch, ArchError};
use fpnna_model::{Bounds, Generator, NeuronParams, Pairing, Reset, StdpParams, VolatileParams};
use std::collections::BTreeMap;
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

// ---------------------------------------------------------------------------
// Disassembly

/// Prints a configuration as assembly text, in canonical order.
pub fn disassemble(b: &Bitstream) -> String {
    let mut out = vec![
        "# fpnna bitstream assembly: one configuration feature per line (docs/bitstream.md)".to_string(),
        format!("fpa {ASM_VERSION}"),
        format!("# architecture `{}`, hash {:#018x}", b.arch.name, b.arch.hash()),
    ];
    arch_lines(&b.arch, &mut out);
    out.push(format!("global.dt_ms = {:?}", b.global.dt_ms));
    out.push(format!("global.key_count = {}", b.global.key_count));
    for t in &b.tiles {
        out.push(String::new());
        tile_lines(t, &mut out);
    }
    for r in &b.routers {
        out.push(String::new());
        out.push(format!("router {} {}", r.x, r.y));
        for e in &r.entries {
            let mut l = format!("  route value {:#x}", e.value);
            if e.mask != u32::MAX {
                l += &format!(" mask {:#x}", e.mask);
            }
            l += &format!(" out {}", dirs_to_text(e.out));
            out.push(l);
        }
    }
    if !b.ports.is_empty() || !b.symbols.is_empty() {
        out.push(String::new());
    }
    for p in &b.ports {
        let (kind, extra) = match p.kind {
            PortKind::Input => ("input", String::new()),
            PortKind::Output => ("output", String::new()),
            PortKind::Generator(Generator::Poisson { p, seed }) => {
                ("poisson", attrs(&[("p", p.into(), 0), ("seed", seed.into(), 0)]))
            }
            PortKind::Generator(Generator::Regular { period, phase }) => {
                ("regular", attrs(&[("period", period.into(), 1), ("phase", phase.into(), 0)]))
            }
        };
        let common = attrs(&[
            ("key_base", p.key_base.into(), 0),
            ("size", p.size.into(), 0),
            ("x", p.x.into(), 0),
            ("y", p.y.into(), 0),
        ]);
        out.push(format!("port {} {kind}{common}{extra}", quote(&p.name)));
    }
    for s in &b.symbols {
        let kind = if s.kind.is_empty() { String::new() } else { format!(" kind {}", quote(&s.kind)) };
        let rest = attrs(&[("key_base", s.key_base.into(), 0), ("size", s.size.into(), 0)]);
        out.push(format!("symbol {}{kind}{rest}", quote(&s.name)));
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// ` name value` for each attribute whose value is not its default.
fn attrs(list: &[(&str, i128, i128)]) -> String {
    list.iter().filter(|(_, v, d)| v != d).map(|(n, v, _)| format!(" {n} {v}")).collect()
}

fn arch_lines(arch: &Arch, out: &mut Vec<String>) {
    match toml::Value::try_from(arch) {
        Ok(toml::Value::Table(t)) => flatten("arch", &t, out),
        // An architecture is a struct of structs of scalars.
        _ => out.push("# the architecture could not be printed".into()),
    }
}

/// One `prefix.key = value` line per scalar: a table's scalars (sorted)
/// before its sub-tables (sorted), as TOML would print them.
fn flatten(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
    let mut keys: Vec<&String> = t.keys().collect();
    keys.sort();
    for k in &keys {
        if let Some(v) = t.get(*k).filter(|v| !v.is_table()) {
            let text = match v {
                toml::Value::Float(f) => format!("{f:?}"),
                toml::Value::String(s) => quote(s),
                other => other.to_string(),
            };
            out.push(format!("{prefix}.{k} = {text}"));
        }
    }
    for k in &keys {
        if let Some(toml::Value::Table(sub)) = t.get(*k) {
            flatten(&format!("{prefix}.{k}"), sub, out);
        }
    }
}

fn tile_lines(t: &TileConfig, out: &mut Vec<String>) {
    out.push(format!("tile {} {}", t.x, t.y));
    for (i, p) in t.params.iter().enumerate() {
        let mut l = format!("  param {i}");
        l += &attrs(&[
            ("decay_i", p.decay_i.into(), 0),
            ("decay_v", p.decay_v.into(), 0),
            ("threshold", p.threshold.into(), 0),
            ("bias", p.bias.into(), 0),
            ("v_min", p.v_min.into(), 0),
        ]);
        if p.reset == Reset::Subtract {
            l += " reset subtract";
        }
        l += &attrs(&[("refractory", p.refractory.into(), 0)]);
        out.push(l);
    }
    for (i, v) in t.volatile.iter().enumerate() {
        let a = attrs(&[("decay", v.decay.into(), 0), ("gain", v.gain.into(), 0), ("facil", v.facil.into(), 0)]);
        out.push(format!("  volatile {i}{a}"));
    }
    for (i, s) in t.stdp.iter().enumerate() {
        let mut l = format!("  stdp {i}");
        l += &attrs(&[
            ("a_plus", s.a_plus.into(), 0),
            ("a_minus", s.a_minus.into(), 0),
            ("decay_plus", s.decay_plus.into(), 0),
            ("decay_minus", s.decay_minus.into(), 0),
            ("w_min", s.w_min.into(), 0),
            ("w_max", s.w_max.into(), 0),
        ]);
        if s.pairing == Pairing::Nearest {
            l += " pairing nearest";
        }
        if s.bounds == Bounds::Soft {
            l += " bounds soft";
        }
        out.push(l);
    }
    for (i, c) in t.columns.iter().enumerate() {
        let a = attrs(&[("key", c.key.into(), -1), ("params", c.params.into(), 0), ("v_init", c.v_init.into(), 0)]);
        out.push(format!("  column {i}{a}"));
    }
    for (i, r) in t.rows.iter().enumerate() {
        let mut l = format!("  row {i}");
        l += &attrs(&[("key", r.key.into(), -1), ("delay", r.delay.into(), 1)]);
        if r.negative {
            l += " negative";
        }
        match r.kind {
            RowKind::NonVolatile => {}
            RowKind::Volatile(p) => l += &format!(" volatile {p}"),
            RowKind::Stdp(p) => l += &format!(" stdp {p}"),
        }
        l += &attrs(&[("scale", r.scale.into(), 0)]);
        out.push(l);
    }
    for n in &t.nodes {
        out.push(format!("  node {} {} level {}", n.row, n.col, n.level));
    }
}

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

/// Quotes a string: `"` and `\` escaped, control characters as `\u{..}`.
fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            c if c.is_control() => q.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

// ---------------------------------------------------------------------------
// Tokens

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Eq,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    col: usize,
}

fn err<T>(line: usize, col: usize, msg: impl Display) -> Result<T, AsmError> {
    Err(AsmError { line, col, msg: msg.to_string() })
}

fn tokenize(text: &str, line: usize) -> Result<Vec<Token>, AsmError> {
    let chars: Vec<char> = text.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let col = i + 1;
        match c {
            '#' => break,
            c if c.is_whitespace() => i += 1,
            '=' => {
                toks.push(Token { tok: Tok::Eq, col });
                i += 1;
            }
            '"' => {
                let (s, next) = string_at(&chars, i + 1, line, col)?;
                toks.push(Token { tok: Tok::Str(s), col });
                i = next;
            }
            _ => {
                let start = i;
                while chars.get(i).is_some_and(|&c| !(c.is_whitespace() || c == '"' || c == '#' || c == '=')) {
                    i += 1;
                }
                toks.push(Token { tok: Tok::Word(chars[start..i].iter().collect()), col });
            }
        }
    }
    Ok(toks)
}

/// Reads a quoted string whose first character is at `i`; returns it and
/// the index after the closing quote.
fn string_at(chars: &[char], mut i: usize, line: usize, open: usize) -> Result<(String, usize), AsmError> {
    let mut s = String::new();
    loop {
        let Some(&c) = chars.get(i) else {
            return err(line, open, "unterminated string: expected a closing `\"` on this line");
        };
        i += 1;
        match c {
            '"' => return Ok((s, i)),
            '\\' => {
                let esc = chars.get(i).copied();
                i += 1;
                match esc {
                    Some('"') => s.push('"'),
                    Some('\\') => s.push('\\'),
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('u') if chars.get(i) == Some(&'{') => {
                        let close = chars[i..].iter().position(|&c| c == '}');
                        let hex: Option<String> = close.map(|n| chars[i + 1..i + n].iter().collect());
                        let ch = hex.and_then(|h| u32::from_str_radix(&h, 16).ok()).and_then(char::from_u32);
                        match (ch, close) {
                            (Some(ch), Some(n)) => {
                                s.push(ch);
                                i += n + 1;
                            }
                            _ => return err(line, i - 1, "expected a Unicode escape like `\\u{1b}`"),
                        }
                    }
                    _ => return err(line, i - 1, "unknown escape: expected one of \\\" \\\\ \\n \\t \\u{..}"),
                }
            }
            c => s.push(c),
        }
    }
}

/// Integers the assembler reads, with their range for messages.
trait Int: TryFrom<i128> + Copy {
    const MIN: i128;
    const MAX: i128;
}

macro_rules! int {
    ($($t:ty),*) => {$(impl Int for $t { const MIN: i128 = <$t>::MIN as i128; const MAX: i128 = <$t>::MAX as i128; })*};
}
int!(u8, u16, u32, u64, i32);

/// Parses a decimal (optionally negative) or `0x` hexadecimal integer.
fn parse_int<T: Int>(t: &Token, line: usize) -> Result<T, AsmError> {
    let expected = || format!("expected an integer in {}..={}", T::MIN, T::MAX);
    let Tok::Word(w) = &t.tok else { return err(line, t.col, expected()) };
    // Rust's parsers accept a leading `+` (and a sign after `0x`); the
    // assembly does not, so that each number has few spellings.
    let v = match w.strip_prefix("0x") {
        Some(hex) if hex.starts_with(['+', '-']) => None,
        Some(hex) => i128::from_str_radix(hex, 16).ok(),
        None if w.starts_with('+') => None,
        None => w.parse::<i128>().ok(),
    };
    match v.and_then(|v| T::try_from(v).ok()) {
        Some(v) => Ok(v),
        None => err(line, t.col, format!("{}, found `{w}`", expected())),
    }
}

// ---------------------------------------------------------------------------
// Attributes: `name value` pairs and bare flags after a statement's
// positional arguments.

struct Attrs<'t> {
    line: usize,
    /// Name and value token (`None` for a flag).
    items: Vec<(&'static str, Option<&'t Token>)>,
}

/// `spec` lists the attribute names; `true` for those that take a value.
fn parse_attrs<'t>(toks: &'t [Token], spec: &[(&'static str, bool)], line: usize) -> Result<Attrs<'t>, AsmError> {
    let names = || spec.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    let mut items: Vec<(&'static str, Option<&'t Token>)> = Vec::new();
    let mut i = 0;
    while let Some(t) = toks.get(i) {
        let found = match &t.tok {
            Tok::Word(w) => spec.iter().find(|(n, _)| n == w),
            _ => None,
        };
        let Some(&(name, takes_value)) = found else {
            let what = match &t.tok {
                Tok::Word(w) => format!("`{w}`"),
                Tok::Str(_) => "a string".into(),
                Tok::Eq => "`=`".into(),
            };
            return err(line, t.col, format!("unexpected {what}: expected one of: {}", names()));
        };
        if items.iter().any(|(n, _)| *n == name) {
            return err(line, t.col, format!("`{name}` given twice"));
        }
        i += 1;
        let value = if takes_value {
            let Some(v) = toks.get(i).filter(|v| v.tok != Tok::Eq) else {
                return err(line, t.col + name.chars().count(), format!("expected a value after `{name}`"));
            };
            i += 1;
            Some(v)
        } else {
            None
        };
        items.push((name, value));
    }
    Ok(Attrs { line, items })
}

impl Attrs<'_> {
    fn value(&self, name: &str) -> Option<&Token> {
        self.items.iter().find(|(n, _)| *n == name).and_then(|(_, v)| *v)
    }

    fn flag(&self, name: &str) -> bool {
        self.items.iter().any(|(n, _)| *n == name)
    }

    fn int<T: Int>(&self, name: &str, default: T) -> Result<T, AsmError> {
        self.value(name).map_or(Ok(default), |t| parse_int(t, self.line))
    }

    /// A word among `choices`, or the first choice (the default).
    fn word(&self, name: &str, choices: &[&'static str]) -> Result<&'static str, AsmError> {
        let Some(t) = self.value(name) else { return Ok(choices[0]) };
        let found = match &t.tok {
            Tok::Word(w) => choices.iter().find(|c| **c == w),
            _ => None,
        };
        match found {
            Some(c) => Ok(c),
            None => err(self.line, t.col, format!("expected one of: {}", choices.join(", "))),
        }
    }

    fn string(&self, name: &str) -> Result<String, AsmError> {
        match self.value(name).map(|t| (&t.tok, t.col)) {
            None => Ok(String::new()),
            Some((Tok::Str(s), _)) => Ok(s.clone()),
            Some((_, col)) => err(self.line, col, "expected a quoted string"),
        }
    }
}

// ---------------------------------------------------------------------------
// Assembly

/// Lines where the items of a tile were written, to point validation errors
/// at them.
#[derive(Default)]
struct TileLines {
    header: usize,
    params: Vec<usize>,
    volatile: Vec<usize>,
    stdp: Vec<usize>,
    columns: Vec<usize>,
    rows: Vec<usize>,
    nodes: Vec<usize>,
}

#[derive(Clone, Copy)]
enum Ctx {
    Top,
    Tile(usize),
    Router(usize),
}

#[derive(Default)]
struct Asm {
    header_line: Option<usize>,
    /// `arch.` assignments: dotted path after `arch.` -> (value, line, col).
    arch: BTreeMap<String, (toml::Value, usize, usize)>,
    dt_ms: Option<(f64, usize)>,
    key_count: Option<(u32, usize)>,
    tiles: Vec<(TileConfig, TileLines)>,
    routers: Vec<(RouterConfig, usize, Vec<usize>)>,
    ports: Vec<(Port, usize)>,
    symbols: Vec<(Symbol, usize)>,
}

/// Assembles text into a configuration, then validates it against its
/// `arch.` lines. Errors name the line and column and say what was expected.
pub fn assemble(text: &str) -> Result<Validated, AsmError> {
    let mut asm = Asm::default();
    let mut ctx = Ctx::Top;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let toks = tokenize(raw, line)?;
        let Some(first) = toks.first() else { continue };
        let Tok::Word(word) = &first.tok else {
            return err(line, first.col, "expected a statement keyword (tile, node, router, port, ...)");
        };
        if asm.header_line.is_none() {
            if word != "fpa" {
                return err(line, first.col, format!("expected `fpa {ASM_VERSION}` as the first statement"));
            }
            match toks.get(1) {
                Some(Token { tok: Tok::Word(v), .. }) if v == ASM_VERSION && toks.len() == 2 => {}
                _ => return err(line, first.col, format!("expected `fpa {ASM_VERSION}` (assembly syntax version)")),
            }
            asm.header_line = Some(line);
            continue;
        }
        ctx = asm.statement(word, &toks, line, ctx)?;
    }
    asm.finish(text.lines().count().max(1))
}

impl Asm {
    /// Assembles one statement; returns the context for the next line.
    fn statement(&mut self, word: &str, toks: &[Token], line: usize, ctx: Ctx) -> Result<Ctx, AsmError> {
        let first = &toks[0];
        if let Some(path) = word.strip_prefix("arch.") {
            let value = assignment(toks, line)?;
            let value = arch_value(value, line)?;
            if let Some((_, l, _)) = self.arch.get(path) {
                return err(line, first.col, format!("`{word}` given twice (first on line {l})"));
            }
            self.arch.insert(path.to_string(), (value, line, first.col));
            return Ok(Ctx::Top);
        }
        match word {
            "global.dt_ms" => {
                let v = assignment(toks, line)?;
                let f = match &v.tok {
                    Tok::Word(w) => w.parse::<f64>().ok(),
                    _ => None,
                };
                let Some(f) = f else { return err(line, v.col, "expected a number (timestep in ms)") };
                once(&mut self.dt_ms, (f, line), word, line, first.col)?;
                Ok(Ctx::Top)
            }
            "global.key_count" => {
                let v = parse_int::<u32>(assignment(toks, line)?, line)?;
                once(&mut self.key_count, (v, line), word, line, first.col)?;
                Ok(Ctx::Top)
            }
            "tile" => {
                let (x, y) = two_ints::<u16>(toks, line, "tile X Y")?;
                let t = TileConfig {
                    x,
                    y,
                    params: vec![],
                    volatile: vec![],
                    stdp: vec![],
                    columns: vec![],
                    rows: vec![],
                    nodes: vec![],
                };
                self.tiles.push((t, TileLines { header: line, ..TileLines::default() }));
                Ok(Ctx::Tile(self.tiles.len() - 1))
            }
            "param" | "volatile" | "stdp" | "column" | "row" | "node" => {
                let Ctx::Tile(ti) = ctx else {
                    return err(
                        line,
                        first.col,
                        format!("`{word}` outside a tile: expected a `tile X Y` line before it"),
                    );
                };
                let Some((tile, lines)) = self.tiles.get_mut(ti) else {
                    return err(line, first.col, "internal error: lost the current tile");
                };
                tile_item(word, toks, line, tile, lines)?;
                Ok(ctx)
            }
            "router" => {
                let (x, y) = two_ints::<u16>(toks, line, "router X Y")?;
                self.routers.push((RouterConfig { x, y, entries: vec![] }, line, vec![]));
                Ok(Ctx::Router(self.routers.len() - 1))
            }
            "route" => {
                let Some((r, _, lines)) = (match ctx {
                    Ctx::Router(ri) => self.routers.get_mut(ri),
                    _ => None,
                }) else {
                    return err(line, first.col, "`route` outside a router: expected a `router X Y` line before it");
                };
                let a = parse_attrs(&toks[1..], &[("value", true), ("mask", true), ("out", true)], line)?;
                let out = match a.value("out") {
                    Some(t) => dirs_from_text(t, line)?,
                    None => return err(line, first.col, "expected `out` with directions, e.g. `out east+local`"),
                };
                r.entries.push(RouteEntry { value: a.int("value", 0)?, mask: a.int("mask", u32::MAX)?, out });
                lines.push(line);
                Ok(ctx)
            }
            "port" => {
                let (name, kind_tok) = match (toks.get(1), toks.get(2)) {
                    (Some(Token { tok: Tok::Str(n), .. }), Some(k)) => (n.clone(), k),
                    _ => return err(line, first.col, "expected `port \"NAME\" KIND ...`"),
                };
                const KINDS: &str = "input, output, poisson, regular";
                let Tok::Word(kind) = &kind_tok.tok else {
                    return err(line, kind_tok.col, format!("expected a port kind: {KINDS}"));
                };
                let common = [("key_base", true), ("size", true), ("x", true), ("y", true)];
                let extra: &[(&'static str, bool)] = match kind.as_str() {
                    "input" | "output" => &[],
                    "poisson" => &[("p", true), ("seed", true)],
                    "regular" => &[("period", true), ("phase", true)],
                    _ => return err(line, kind_tok.col, format!("expected a port kind: {KINDS}")),
                };
                let spec: Vec<_> = common.iter().chain(extra).copied().collect();
                let a = parse_attrs(&toks[3..], &spec, line)?;
                let kind = match kind.as_str() {
                    "input" => PortKind::Input,
                    "output" => PortKind::Output,
                    "poisson" => PortKind::Generator(Generator::Poisson { p: a.int("p", 0)?, seed: a.int("seed", 0)? }),
                    _ => PortKind::Generator(Generator::Regular {
                        period: a.int("period", 1)?,
                        phase: a.int("phase", 0)?,
                    }),
                };
                let port = Port {
                    name,
                    key_base: a.int("key_base", 0)?,
                    size: a.int("size", 0)?,
                    kind,
                    x: a.int("x", 0)?,
                    y: a.int("y", 0)?,
                };
                self.ports.push((port, line));
                Ok(Ctx::Top)
            }
            "symbol" => {
                let Some(Token { tok: Tok::Str(name), .. }) = toks.get(1) else {
                    return err(line, first.col, "expected `symbol \"NAME\" ...`");
                };
                let a = parse_attrs(&toks[2..], &[("kind", true), ("key_base", true), ("size", true)], line)?;
                let s = Symbol {
                    name: name.clone(),
                    key_base: a.int("key_base", 0)?,
                    size: a.int("size", 0)?,
                    kind: a.string("kind")?,
                };
                self.symbols.push((s, line));
                Ok(Ctx::Top)
            }
            "fpa" => err(line, first.col, "`fpa` given twice"),
            _ => err(
                line,
                first.col,
                format!(
                    "unknown statement `{word}`: expected arch.FIELD, global.dt_ms, global.key_count, tile, param, \
                     volatile, stdp, column, row, node, router, route, port or symbol"
                ),
            ),
        }
    }

    /// Builds the bitstream, sorts what the text may list in any order, and
    /// validates, pointing errors at the lines concerned.
    fn finish(mut self, last_line: usize) -> Result<Validated, AsmError> {
        let Some(header_line) = self.header_line else {
            return err(last_line, 1, format!("expected `fpa {ASM_VERSION}` as the first statement"));
        };
        let first_arch_line = self.arch.values().map(|(_, l, _)| *l).min().unwrap_or(header_line);
        let arch = self.build_arch(header_line)?;
        let global_line = self.dt_ms.map(|d| d.1).or(self.key_count.map(|k| k.1)).unwrap_or(header_line);
        let Some((dt_ms, _)) = self.dt_ms else { return err(header_line, 1, "missing `global.dt_ms = MS`") };
        let Some((key_count, _)) = self.key_count else {
            return err(header_line, 1, "missing `global.key_count = N`");
        };
        // Tiles, routers and nodes have a canonical order; hand-written text
        // need not follow it.
        self.tiles.sort_by_key(|(t, _)| (t.y, t.x));
        for (t, lines) in &mut self.tiles {
            let mut nodes: Vec<(Node, usize)> = t.nodes.iter().copied().zip(lines.nodes.iter().copied()).collect();
            nodes.sort_by_key(|(n, _)| (n.row, n.col));
            (t.nodes, lines.nodes) = nodes.into_iter().unzip();
        }
        self.routers.sort_by_key(|(r, _, _)| (r.y, r.x));
        let b = Bitstream {
            arch,
            global: Global { dt_ms, key_count },
            tiles: self.tiles.iter().map(|(t, _)| t.clone()).collect(),
            routers: self.routers.iter().map(|(r, _, _)| r.clone()).collect(),
            ports: self.ports.iter().map(|(p, _)| p.clone()).collect(),
            symbols: self.symbols.iter().map(|(s, _)| s.clone()).collect(),
        };
        match validate(b) {
            Ok(v) => Ok(v),
            Err(BitstreamError::Invalid { place, what }) => {
                let line = self.line_of(&place).unwrap_or(global_line);
                err(line, 1, format!("{place}: {what}"))
            }
            Err(BitstreamError::InvalidList { errors, more }) => {
                // At the first error's line, every error with its own.
                let line_of = |p: &Place| self.line_of(p).unwrap_or(global_line);
                let mut msg = format!("{} errors in the configuration:", errors.len() + more);
                for p in &errors {
                    msg.push_str(&format!("\n  line {}: {p}", line_of(&p.place)));
                }
                if more > 0 {
                    msg.push_str(&format!("\n  ... and {more} more"));
                }
                err(errors.first().map_or(global_line, |p| line_of(&p.place)), 1, msg)
            }
            Err(e) => err(first_arch_line, 1, e),
        }
    }

    fn build_arch(&self, header_line: usize) -> Result<Arch, AsmError> {
        let Some((_, (_, first, _))) = self.arch.iter().min_by_key(|(_, (_, l, _))| *l) else {
            return err(header_line, 1, "missing the architecture: expected `arch.FIELD = VALUE` lines");
        };
        // `arch.preset = "NAME"` starts from a built-in preset; the other
        // `arch.` lines override its fields.
        let mut root = match self.arch.get("preset") {
            None => toml::Table::new(),
            Some((toml::Value::String(name), line, col)) => match Arch::preset(name) {
                Ok(a) => match toml::Value::try_from(&a) {
                    Ok(toml::Value::Table(t)) => t,
                    _ => return err(*line, *col, "internal error: a preset does not print as a table"),
                },
                Err(e) => return err(*line, *col, e),
            },
            Some((_, line, col)) => return err(*line, *col, "expected `arch.preset = \"NAME\"` (a quoted name)"),
        };
        for (path, (value, line, col)) in self.arch.iter().filter(|(p, _)| *p != "preset") {
            let mut table = &mut root;
            let parts: Vec<&str> = path.split('.').collect();
            let (last, parents) = parts.split_last().unwrap_or((&"", &[]));
            for p in parents {
                let entry = table.entry(p.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
                let toml::Value::Table(t) = entry else {
                    return err(*line, *col, format!("`arch.{path}`: `{p}` is a value, not a table"));
                };
                table = t;
            }
            if last.is_empty() {
                return err(*line, *col, format!("`arch.{path}`: expected a field name after the dot"));
            }
            // Overrides a preset's value; repeated lines were refused earlier.
            table.insert(last.to_string(), value.clone());
        }
        let arch: Arch = match toml::Value::Table(root).try_into() {
            Ok(a) => a,
            Err(e) => return err(*first, 1, format!("architecture: {}", e.message().trim())),
        };
        if let Err(e) = arch.validate("architecture") {
            let line = match &e {
                ArchError::Invalid { field, .. } => self.arch.get(*field).map_or(*first, |(_, l, _)| *l),
                _ => *first,
            };
            return err(line, 1, e);
        }
        Ok(arch)
    }

    fn line_of(&self, place: &Place) -> Option<usize> {
        match place {
            Place::Global => None,
            Place::Tile { index, item, .. } => {
                let (_, l) = self.tiles.get(*index)?;
                match item {
                    None => Some(l.header),
                    Some(TileItem::Param(i)) => l.params.get(*i).copied(),
                    Some(TileItem::Volatile(i)) => l.volatile.get(*i).copied(),
                    Some(TileItem::Stdp(i)) => l.stdp.get(*i).copied(),
                    Some(TileItem::Column(i)) => l.columns.get(*i).copied(),
                    Some(TileItem::Row(i)) => l.rows.get(*i).copied(),
                    Some(TileItem::Node(i)) => l.nodes.get(*i).copied(),
                }
            }
            Place::Router { index, entry, .. } => {
                let (_, header, entries) = self.routers.get(*index)?;
                Some(entry.and_then(|e| entries.get(e).copied()).unwrap_or(*header))
            }
            Place::Port { index, .. } => self.ports.get(*index).map(|p| p.1),
            Place::Symbol { index, .. } => self.symbols.get(*index).map(|s| s.1),
        }
    }
}

/// The value token of `NAME = VALUE`.
fn assignment(toks: &[Token], line: usize) -> Result<&Token, AsmError> {
    let end = toks.last().map_or(1, |t| t.col + 1);
    match (toks.get(1), toks.get(2), toks.get(3)) {
        (Some(Token { tok: Tok::Eq, .. }), Some(v), None) if v.tok != Tok::Eq => Ok(v),
        (Some(Token { tok: Tok::Eq, .. }), Some(_), Some(extra)) => {
            err(line, extra.col, "unexpected text after the value")
        }
        (Some(Token { tok: Tok::Eq, col, .. }), _, _) => err(line, col + 1, "expected a value after `=`"),
        (Some(t), _, _) => err(line, t.col, "expected `=`"),
        (None, _, _) => err(line, end, "expected `= VALUE`"),
    }
}

fn once<T>(slot: &mut Option<(T, usize)>, v: (T, usize), name: &str, line: usize, col: usize) -> Result<(), AsmError> {
    if let Some((_, l)) = slot {
        return err(line, col, format!("`{name}` given twice (first on line {l})"));
    }
    *slot = Some(v);
    Ok(())
}

fn arch_value(t: &Token, line: usize) -> Result<toml::Value, AsmError> {
    let v = match &t.tok {
        Tok::Str(s) => Some(toml::Value::String(s.clone())),
        Tok::Word(w) if w == "true" => Some(toml::Value::Boolean(true)),
        Tok::Word(w) if w == "false" => Some(toml::Value::Boolean(false)),
        Tok::Word(w) => {
            w.parse::<i64>().map(toml::Value::Integer).ok().or_else(|| w.parse::<f64>().ok().map(toml::Value::Float))
        }
        Tok::Eq => None,
    };
    match v {
        Some(v) => Ok(v),
        None => err(line, t.col, "expected a number, true, false or a quoted string"),
    }
}

fn two_ints<T: Int>(toks: &[Token], line: usize, usage: &str) -> Result<(T, T), AsmError> {
    match toks {
        [_, a, b] => Ok((parse_int(a, line)?, parse_int(b, line)?)),
        [_, _, _, extra, ..] => err(line, extra.col, format!("unexpected text: expected `{usage}`")),
        _ => err(line, toks[0].col, format!("expected `{usage}`")),
    }
}

fn dirs_from_text(t: &Token, line: usize) -> Result<u8, AsmError> {
    const EXPECTED: &str = "expected directions joined by `+` (east, north, west, south, local) or `none`";
    let Tok::Word(w) = &t.tok else { return err(line, t.col, EXPECTED) };
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

/// Assembles one item line of a tile.
fn tile_item(
    word: &str,
    toks: &[Token],
    line: usize,
    t: &mut TileConfig,
    lines: &mut TileLines,
) -> Result<(), AsmError> {
    if word == "node" {
        let (Some(r), Some(c)) = (toks.get(1), toks.get(2)) else {
            return err(line, toks[0].col, "expected `node ROW COL level L`");
        };
        let (row, col) = (parse_int(r, line)?, parse_int(c, line)?);
        let a = parse_attrs(&toks[3..], &[("level", true)], line)?;
        t.nodes.push(Node { row, col, level: a.int("level", 0)? });
        lines.nodes.push(line);
        return Ok(());
    }
    let Some(index_tok) = toks.get(1) else {
        return err(line, toks[0].col + word.len(), format!("expected `{word} INDEX ...`"));
    };
    let index: usize = parse_int::<u64>(index_tok, line)?.try_into().unwrap_or(usize::MAX);
    let expected = match word {
        "param" => t.params.len(),
        "volatile" => t.volatile.len(),
        "stdp" => t.stdp.len(),
        "column" => t.columns.len(),
        _ => t.rows.len(),
    };
    if index != expected {
        return err(
            line,
            index_tok.col,
            format!("expected {word} {expected} here: a tile's {word} lines are numbered in order from 0"),
        );
    }
    let rest = &toks[2..];
    match word {
        "param" => {
            let spec = [
                ("decay_i", true),
                ("decay_v", true),
                ("threshold", true),
                ("bias", true),
                ("v_min", true),
                ("reset", true),
                ("refractory", true),
            ];
            let a = parse_attrs(rest, &spec, line)?;
            t.params.push(NeuronParams {
                decay_i: a.int("decay_i", 0)?,
                decay_v: a.int("decay_v", 0)?,
                threshold: a.int("threshold", 0)?,
                bias: a.int("bias", 0)?,
                v_min: a.int("v_min", 0)?,
                reset: if a.word("reset", &["zero", "subtract"])? == "zero" { Reset::Zero } else { Reset::Subtract },
                refractory: a.int("refractory", 0)?,
            });
            lines.params.push(line);
        }
        "volatile" => {
            let a = parse_attrs(rest, &[("decay", true), ("gain", true), ("facil", true)], line)?;
            t.volatile.push(VolatileParams {
                decay: a.int("decay", 0)?,
                gain: a.int("gain", 0)?,
                facil: a.int("facil", 0)?,
            });
            lines.volatile.push(line);
        }
        "stdp" => {
            let spec = [
                ("a_plus", true),
                ("a_minus", true),
                ("decay_plus", true),
                ("decay_minus", true),
                ("w_min", true),
                ("w_max", true),
                ("pairing", true),
                ("bounds", true),
            ];
            let a = parse_attrs(rest, &spec, line)?;
            t.stdp.push(StdpParams {
                a_plus: a.int("a_plus", 0)?,
                a_minus: a.int("a_minus", 0)?,
                decay_plus: a.int("decay_plus", 0)?,
                decay_minus: a.int("decay_minus", 0)?,
                w_min: a.int("w_min", 0)?,
                w_max: a.int("w_max", 0)?,
                pairing: match a.word("pairing", &["all_to_all", "nearest"])? {
                    "all_to_all" => Pairing::AllToAll,
                    _ => Pairing::Nearest,
                },
                bounds: if a.word("bounds", &["hard", "soft"])? == "hard" { Bounds::Hard } else { Bounds::Soft },
            });
            lines.stdp.push(line);
        }
        "column" => {
            let a = parse_attrs(rest, &[("key", true), ("params", true), ("v_init", true)], line)?;
            let Some(key) = a.value("key") else { return err(line, toks[0].col, "expected `key K` in a column") };
            t.columns.push(Column {
                key: parse_int(key, line)?,
                params: a.int("params", 0)?,
                v_init: a.int("v_init", 0)?,
            });
            lines.columns.push(line);
        }
        _ => {
            let spec = [
                ("key", true),
                ("delay", true),
                ("negative", false),
                ("volatile", true),
                ("stdp", true),
                ("scale", true),
            ];
            let a = parse_attrs(rest, &spec, line)?;
            let Some(key) = a.value("key") else { return err(line, toks[0].col, "expected `key K` in a row") };
            let kind = match (a.value("volatile"), a.value("stdp")) {
                (None, None) => RowKind::NonVolatile,
                (Some(p), None) => RowKind::Volatile(parse_int(p, line)?),
                (None, Some(p)) => RowKind::Stdp(parse_int(p, line)?),
                (Some(_), Some(p)) => return err(line, p.col, "a row is either `volatile P` or `stdp P`, not both"),
            };
            t.rows.push(Row {
                key: parse_int(key, line)?,
                delay: a.int("delay", 1)?,
                negative: a.flag("negative"),
                kind,
                scale: a.int("scale", 0)?,
            });
            lines.rows.push(line);
        }
    }
    Ok(())
}
