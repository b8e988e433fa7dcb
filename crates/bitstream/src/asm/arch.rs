//! The `arch.` lines: the embedded architecture, one scalar per line, as
//! its TOML form prints it (the architecture crate owns its fields).

use super::line::{Tok, Token};
use super::{AsmError, err};
use fpnna_arch::{Arch, ArchError};
use std::collections::BTreeMap;

/// `arch.` assignments: dotted path after `arch.` -> (value, line, col).
pub(super) type ArchLines = BTreeMap<String, (toml::Value, usize, usize)>;

/// One `arch.PATH = VALUE` line per scalar of the architecture.
pub(super) fn arch_lines(arch: &Arch, out: &mut Vec<String>) {
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
                toml::Value::String(s) => super::line::quote(s),
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

/// Builds the architecture from its lines (a preset, then overrides), pointing
/// errors at the line of the field concerned.
pub(super) fn build_arch(lines: &ArchLines, header_line: usize) -> Result<Arch, AsmError> {
    let Some((_, (_, first, _))) = lines.iter().min_by_key(|(_, (_, l, _))| *l) else {
        return err(header_line, 1, "missing the architecture: expected `arch.FIELD = VALUE` lines");
    };
    // `arch.preset = "NAME"` starts from a built-in preset; the other
    // `arch.` lines override its fields.
    let mut root = match lines.get("preset") {
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
    for (path, (value, line, col)) in lines.iter().filter(|(p, _)| *p != "preset") {
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
            ArchError::Invalid { field, .. } => lines.get(*field).map_or(*first, |(_, l, _)| *l),
            _ => *first,
        };
        return err(line, 1, e);
    }
    Ok(arch)
}

/// The value of an `arch.` line.
pub(super) fn arch_value(t: &Token, line: usize) -> Result<toml::Value, AsmError> {
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
