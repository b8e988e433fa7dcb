//! The assembler: text to a configuration, each record's line read by its
//! declaration in `records`, then sorted where the text may list things in
//! any order, and validated with errors pointing at lines.

use super::arch::{ArchLines, arch_value, build_arch};
use super::line::{Attrs, Tok, Token, assignment, parse_attrs, parse_int, tokenize, two_ints};
use super::records::PORT_KINDS;
use super::schema::{Field, Record, Show, Value, names, read_fields};
use super::{ASM_VERSION, AsmError, err};
use crate::config::*;
use crate::error::{BitstreamError, Place, TileItem};
use crate::validate::{Validated, validate};
use fpnna_model::{NeuronParams, StdpParams, VolatileParams};

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

/// What the previous statements opened: item lines belong to it.
#[derive(Clone, Copy)]
enum Ctx {
    Top,
    Tile(usize),
    Router(usize),
}

/// What has been read so far, each piece with the line(s) it came from.
#[derive(Default)]
struct Asm {
    header_line: Option<usize>,
    arch: ArchLines,
    /// The global fields read so far (the others at their defaults).
    global: Option<Global>,
    /// The line of each global field, in `Global::FIELDS` order (`None`: not given).
    global_lines: Vec<Option<usize>>,
    tiles: Vec<(TileConfig, TileLines)>,
    routers: Vec<(RouterConfig, usize, Vec<usize>)>,
    ports: Vec<(Port, usize)>,
    symbols: Vec<(Symbol, usize)>,
}

/// Keywords of the items of a tile.
const TILE_ITEMS: [&str; 8] = [
    NeuronParams::KEYWORD,
    VolatileParams::KEYWORD,
    StdpParams::KEYWORD,
    Column::KEYWORD,
    Row::KEYWORD,
    Node::KEYWORD,
    ROW_LINES,
    COL_LINES,
];
/// `row_lines L L ...`: the physical lines of the tile's next rows (the
/// statement may repeat; each continues the list).
pub(super) const ROW_LINES: &str = "row_lines";
/// `col_lines L L ...`: as `row_lines`, for columns.
pub(super) const COL_LINES: &str = "col_lines";

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

/// The attributes after a statement's `skip` leading tokens, checked against
/// the names of `fields` (and of `more`).
fn attrs<'t, R, S>(
    toks: &'t [Token],
    skip: usize,
    fields: &[Field<R>],
    more: &[Field<S>],
    line: usize,
) -> Result<Attrs<'t>, AsmError> {
    let spec: Vec<_> = names(fields).chain(names(more)).collect();
    parse_attrs(toks.get(skip..).unwrap_or(&[]), &spec, line)
}

/// A record of type `R` from the attributes after `skip` tokens.
fn record<R: Record>(toks: &[Token], skip: usize, line: usize) -> Result<R, AsmError> {
    let a = attrs::<R, R>(toks, skip, R::FIELDS, &[], line)?;
    let mut r = R::defaults();
    read_fields(R::FIELDS, &a, &mut r, toks[0].col)?;
    Ok(r)
}

/// The message for a keyword the assembler does not know: every statement.
fn unknown_statement(word: &str) -> String {
    let mut all = vec!["arch.FIELD".to_string()];
    all.extend(Global::FIELDS.iter().map(|f| format!("{}.{}", Global::KEYWORD, f.name)));
    all.push(TileConfig::KEYWORD.into());
    all.extend(TILE_ITEMS.iter().map(|k| k.to_string()));
    all.extend([RouterConfig::KEYWORD, RouteEntry::KEYWORD, Port::KEYWORD, Symbol::KEYWORD].map(String::from));
    let last = all.pop().unwrap_or_default();
    format!("unknown statement `{word}`: expected {} or {last}", all.join(", "))
}

impl Asm {
    /// Assembles one statement; returns the context for the next line.
    fn statement(&mut self, word: &str, toks: &[Token], line: usize, ctx: Ctx) -> Result<Ctx, AsmError> {
        let first = &toks[0];
        if let Some(path) = word.strip_prefix("arch.") {
            let value = arch_value(assignment(toks, line)?, line)?;
            if let Some((_, l, _)) = self.arch.get(path) {
                return err(line, first.col, format!("`{word}` given twice (first on line {l})"));
            }
            self.arch.insert(path.to_string(), (value, line, first.col));
            return Ok(Ctx::Top);
        }
        if let Some(name) = word.strip_prefix("global.")
            && let Some(i) = Global::FIELDS.iter().position(|f| f.name == name)
        {
            self.global_field(i, word, toks, line)?;
            return Ok(Ctx::Top);
        }
        match word {
            TileConfig::KEYWORD => {
                let (x, y) = two_ints::<u16>(toks, line, "tile X Y")?;
                let t = TileConfig { x, y, ..TileConfig::defaults() };
                self.tiles.push((t, TileLines { header: line, ..TileLines::default() }));
                Ok(Ctx::Tile(self.tiles.len() - 1))
            }
            w if TILE_ITEMS.contains(&w) => {
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
            RouterConfig::KEYWORD => {
                let (x, y) = two_ints::<u16>(toks, line, "router X Y")?;
                self.routers.push((RouterConfig { x, y, ..RouterConfig::defaults() }, line, vec![]));
                Ok(Ctx::Router(self.routers.len() - 1))
            }
            RouteEntry::KEYWORD => {
                let Some((r, _, lines)) = (match ctx {
                    Ctx::Router(ri) => self.routers.get_mut(ri),
                    _ => None,
                }) else {
                    return err(line, first.col, "`route` outside a router: expected a `router X Y` line before it");
                };
                r.entries.push(record(toks, 1, line)?);
                lines.push(line);
                Ok(ctx)
            }
            Port::KEYWORD => {
                self.ports.push((port(toks, line)?, line));
                Ok(Ctx::Top)
            }
            Symbol::KEYWORD => {
                let Some(Token { tok: Tok::Str(name), .. }) = toks.get(1) else {
                    return err(line, first.col, "expected `symbol \"NAME\" ...`");
                };
                let s = Symbol { name: name.clone(), ..record(toks, 2, line)? };
                self.symbols.push((s, line));
                Ok(Ctx::Top)
            }
            "fpa" => err(line, first.col, "`fpa` given twice"),
            _ => err(line, first.col, unknown_statement(word)),
        }
    }

    /// `global.NAME = VALUE` for the `i`th global field, given at most once.
    fn global_field(&mut self, i: usize, word: &str, toks: &[Token], line: usize) -> Result<(), AsmError> {
        let value = assignment(toks, line)?;
        let global = self.global.get_or_insert_with(Global::defaults);
        if let Value::Text { read, .. } = &Global::FIELDS[i].value {
            read(global, value, line)?;
        }
        self.global_lines.resize(Global::FIELDS.len(), None);
        if let Some(l) = self.global_lines[i] {
            return err(line, toks[0].col, format!("`{word}` given twice (first on line {l})"));
        }
        self.global_lines[i] = Some(line);
        Ok(())
    }

    /// Builds the bitstream, sorts what the text may list in any order, and
    /// validates, pointing errors at the lines concerned.
    fn finish(mut self, last_line: usize) -> Result<Validated, AsmError> {
        let Some(header_line) = self.header_line else {
            return err(last_line, 1, format!("expected `fpa {ASM_VERSION}` as the first statement"));
        };
        let first_arch_line = self.arch.values().map(|(_, l, _)| *l).min().unwrap_or(header_line);
        let arch = build_arch(&self.arch, header_line)?;
        self.global_lines.resize(Global::FIELDS.len(), None);
        let global_line = self.global_lines.iter().flatten().next().copied().unwrap_or(header_line);
        for (f, given) in Global::FIELDS.iter().zip(&self.global_lines) {
            if let (Show::Required(msg), None) = (&f.show, given) {
                return err(header_line, 1, msg);
            }
        }
        let global = self.global.take().unwrap_or_else(Global::defaults);
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
            global,
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

    /// The line of the item a validation error names.
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

/// `port "NAME" KIND ...`: the kind's own fields are read first.
fn port(toks: &[Token], line: usize) -> Result<Port, AsmError> {
    let first = &toks[0];
    let (name, kind_tok) = match (toks.get(1), toks.get(2)) {
        (Some(Token { tok: Tok::Str(n), .. }), Some(k)) => (n.clone(), k),
        _ => return err(line, first.col, "expected `port \"NAME\" KIND ...`"),
    };
    let expected = || {
        let words: Vec<&str> = PORT_KINDS.iter().map(|k| k.word).collect();
        format!("expected a port kind: {}", words.join(", "))
    };
    let Tok::Word(word) = &kind_tok.tok else { return err(line, kind_tok.col, expected()) };
    let Some(schema) = PORT_KINDS.iter().find(|k| k.word == word) else {
        return err(line, kind_tok.col, expected());
    };
    let a = attrs(toks, 3, Port::FIELDS, schema.fields, line)?;
    let mut kind = schema.defaults.clone();
    read_fields(schema.fields, &a, &mut kind, first.col)?;
    let mut port = Port { name, kind, ..Port::defaults() };
    read_fields(Port::FIELDS, &a, &mut port, first.col)?;
    Ok(port)
}

/// Assembles one item line of a tile.
fn tile_item(
    word: &str,
    toks: &[Token],
    line: usize,
    t: &mut TileConfig,
    lines: &mut TileLines,
) -> Result<(), AsmError> {
    if word == Node::KEYWORD {
        let (Some(r), Some(c)) = (toks.get(1), toks.get(2)) else {
            return err(line, toks[0].col, "expected `node ROW COL level L`");
        };
        let (row, col) = (parse_int(r, line)?, parse_int(c, line)?);
        t.nodes.push(Node { row, col, ..record(toks, 3, line)? });
        lines.nodes.push(line);
        return Ok(());
    }
    if word == ROW_LINES || word == COL_LINES {
        let map = if word == ROW_LINES { &mut t.row_lines } else { &mut t.col_lines };
        for tok in &toks[1..] {
            map.push(parse_int(tok, line)?);
        }
        return Ok(());
    }
    match word {
        NeuronParams::KEYWORD => numbered(toks, line, &mut t.params, &mut lines.params),
        VolatileParams::KEYWORD => numbered(toks, line, &mut t.volatile, &mut lines.volatile),
        StdpParams::KEYWORD => numbered(toks, line, &mut t.stdp, &mut lines.stdp),
        Column::KEYWORD => numbered(toks, line, &mut t.columns, &mut lines.columns),
        _ => numbered(toks, line, &mut t.rows, &mut lines.rows),
    }
}

/// `KEYWORD INDEX ...`, the next item of a tile table: the index must be
/// the table's length, so items (rows too) stay in the order written.
fn numbered<R: Record>(
    toks: &[Token],
    line: usize,
    items: &mut Vec<R>,
    lines: &mut Vec<usize>,
) -> Result<(), AsmError> {
    let word = R::KEYWORD;
    let Some(index_tok) = toks.get(1) else {
        return err(line, toks[0].col + word.len(), format!("expected `{word} INDEX ...`"));
    };
    let index: usize = parse_int::<u64>(index_tok, line)?.try_into().unwrap_or(usize::MAX);
    let expected = items.len();
    if index != expected {
        return err(
            line,
            index_tok.col,
            format!("expected {word} {expected} here: a tile's {word} lines are numbered in order from 0"),
        );
    }
    items.push(record(toks, 2, line)?);
    lines.push(line);
    Ok(())
}
