//! The disassembler: a configuration as assembly text, in canonical order,
//! each record's line written from its declaration in `records`.

use super::ASM_VERSION;
use super::line::quote;
use super::records::PORT_KINDS;
use super::schema::{FieldWriter, Record, Value};
use crate::config::*;

/// Prints a configuration as assembly text, in canonical order.
pub fn disassemble(b: &Bitstream) -> String {
    let mut out = vec![
        "# fpnna bitstream assembly: one configuration feature per line (docs/bitstream.md)".to_string(),
        format!("fpa {ASM_VERSION}"),
        format!("# architecture `{}`, hash {:#018x}", b.arch.name, b.arch.hash()),
    ];
    super::arch::arch_lines(&b.arch, &mut out);
    global_lines(&b.global, &mut out);
    for t in &b.tiles {
        out.push(String::new());
        tile_lines(t, &mut out);
    }
    let route = Lines::<RouteEntry>::new();
    for r in &b.routers {
        out.push(String::new());
        out.push(format!("{} {} {}", RouterConfig::KEYWORD, r.x, r.y));
        for e in &r.entries {
            out.push(route.line(format!("  {}", RouteEntry::KEYWORD), e));
        }
    }
    if !b.ports.is_empty() || !b.symbols.is_empty() {
        out.push(String::new());
    }
    port_lines(&b.ports, &mut out);
    let symbol = Lines::<Symbol>::new();
    for s in &b.symbols {
        out.push(symbol.line(format!("{} {}", Symbol::KEYWORD, quote(&s.name)), s));
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// Writes the lines of one record type.
struct Lines<R: Record>(FieldWriter<R>);

impl<R: Record> Lines<R> {
    fn new() -> Self {
        Lines(FieldWriter::new(R::FIELDS, &R::defaults()))
    }

    /// `start` (keyword and positional arguments), then the attributes.
    fn line(&self, start: String, r: &R) -> String {
        let mut l = start;
        self.0.write(r, &mut l);
        l
    }

    /// `  KEYWORD INDEX ...` for each item of a tile table.
    fn numbered(&self, items: &[R], out: &mut Vec<String>) {
        for (i, r) in items.iter().enumerate() {
            out.push(self.line(format!("  {} {i}", R::KEYWORD), r));
        }
    }
}

/// `global.NAME = VALUE` for each global field (all are always written).
fn global_lines(g: &Global, out: &mut Vec<String>) {
    for f in Global::FIELDS {
        if let Value::Text { write, .. } = &f.value {
            out.push(format!("{}.{} = {}", Global::KEYWORD, f.name, write(g)));
        }
    }
}

fn tile_lines(t: &TileConfig, out: &mut Vec<String>) {
    out.push(format!("{} {} {}", TileConfig::KEYWORD, t.x, t.y));
    Lines::new().numbered(&t.params, out);
    Lines::new().numbered(&t.volatile, out);
    Lines::new().numbered(&t.stdp, out);
    Lines::new().numbered(&t.columns, out);
    Lines::new().numbered(&t.rows, out);
    let node = Lines::<Node>::new();
    for n in &t.nodes {
        out.push(node.line(format!("  {} {} {}", Node::KEYWORD, n.row, n.col), n));
    }
    for (word, map) in [(super::read::ROW_LINES, &t.row_lines), (super::read::COL_LINES, &t.col_lines)] {
        for chunk in map.chunks(32) {
            let lines: Vec<String> = chunk.iter().map(u16::to_string).collect();
            out.push(format!("  {word} {}", lines.join(" ")));
        }
    }
}

fn port_lines(ports: &[Port], out: &mut Vec<String>) {
    let port = Lines::<Port>::new();
    let kinds: Vec<_> = PORT_KINDS.iter().map(|k| (k, FieldWriter::new(k.fields, &k.defaults))).collect();
    for p in ports {
        let Some((kind, writer)) = kinds.iter().find(|(k, _)| (k.is)(&p.kind)) else { continue };
        let mut l = port.line(format!("{} {} {}", Port::KEYWORD, quote(&p.name), kind.word), p);
        writer.write(&p.kind, &mut l);
        out.push(l);
    }
}
