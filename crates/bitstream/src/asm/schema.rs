//! The field schema: each record type declares once (in `records`) its
//! keyword and its attributes, each with a name, how it is written and
//! read, and whether it is shown; the record's defaults are one value of
//! the type. The writer and the reader below are driven by that
//! declaration, so that a name or a default is never written twice.

use super::AsmError;
use super::err;
use super::line::{Attrs, Token};

/// When a field appears in the text.
pub(super) enum Show {
    /// Omitted when it equals the record's default (and then read as it).
    UnlessDefault,
    /// Always written; read as the default when omitted.
    Always,
    /// Always written, and must be given: the message says so.
    Required(&'static str),
}

/// How a field's value is written and read.
pub(super) enum Value<R> {
    /// `name VALUE`.
    Text {
        /// The value as text.
        write: fn(&R) -> String,
        /// Parses the value token into the record.
        read: fn(&mut R, &Token, usize) -> Result<(), AsmError>,
    },
    /// A bare `name` when true.
    Flag {
        /// Whether it is set.
        get: fn(&R) -> bool,
        /// Sets it.
        set: fn(&mut R),
    },
}

/// One attribute of a record.
pub(super) struct Field<R> {
    /// Its name on the line.
    pub name: &'static str,
    /// When it is written.
    pub show: Show,
    /// How its value is written and read.
    pub value: Value<R>,
}

/// A record with its own kind of line.
pub(super) trait Record: Sized + 'static {
    /// The keyword that starts its line.
    const KEYWORD: &'static str;
    /// Its attributes, in the order they are written.
    const FIELDS: &'static [Field<Self>];
    /// The record with every field at its default.
    fn defaults() -> Self;
}

/// The attribute names of `fields` for `parse_attrs`; `true` for those
/// that take a value.
pub(super) fn names<R>(fields: &[Field<R>]) -> impl Iterator<Item = (&'static str, bool)> + '_ {
    fields.iter().map(|f| (f.name, matches!(f.value, Value::Text { .. })))
}

/// Writes the attributes of records of one type, omitting defaults.
pub(super) struct FieldWriter<R: 'static> {
    fields: &'static [Field<R>],
    /// Each field's default as text (for `Text` fields).
    defaults: Vec<String>,
}

impl<R: 'static> FieldWriter<R> {
    /// A writer for `fields`, whose defaults are those of `defaults`.
    pub fn new(fields: &'static [Field<R>], defaults: &R) -> Self {
        let defaults = fields
            .iter()
            .map(|f| match &f.value {
                Value::Text { write, .. } => write(defaults),
                Value::Flag { .. } => String::new(),
            })
            .collect();
        FieldWriter { fields, defaults }
    }

    /// Appends ` name value` (or ` name` for a set flag) for each field of
    /// `r` that is shown.
    pub fn write(&self, r: &R, out: &mut String) {
        for (f, default) in self.fields.iter().zip(&self.defaults) {
            match &f.value {
                Value::Flag { get, .. } if get(r) => {
                    out.push(' ');
                    out.push_str(f.name);
                }
                Value::Flag { .. } => {}
                Value::Text { write, .. } => {
                    let v = write(r);
                    if matches!(f.show, Show::UnlessDefault) && v == *default {
                        continue;
                    }
                    out.push(' ');
                    out.push_str(f.name);
                    out.push(' ');
                    out.push_str(&v);
                }
            }
        }
    }
}

/// Reads the attributes `a` into `r` (which holds the defaults): first
/// that each required field is given (else its message, at `keyword_col`),
/// then each given value, in the order of `fields`.
pub(super) fn read_fields<R>(fields: &[Field<R>], a: &Attrs, r: &mut R, keyword_col: usize) -> Result<(), AsmError> {
    for f in fields {
        if let Show::Required(msg) = f.show
            && a.value(f.name).is_none()
        {
            return err(a.line, keyword_col, msg);
        }
    }
    for f in fields {
        match &f.value {
            Value::Text { read, .. } => {
                if let Some(t) = a.value(f.name) {
                    read(r, t, a.line)?;
                }
            }
            Value::Flag { set, .. } => {
                if a.flag(f.name) {
                    set(r);
                }
            }
        }
    }
    Ok(())
}

/// A `name VALUE` field.
pub(super) const fn text<R>(
    name: &'static str,
    show: Show,
    write: fn(&R) -> String,
    read: fn(&mut R, &Token, usize) -> Result<(), AsmError>,
) -> Field<R> {
    Field { name, show, value: Value::Text { write, read } }
}

/// A bare `name` flag, absent by default.
pub(super) const fn flag<R>(name: &'static str, get: fn(&R) -> bool, set: fn(&mut R)) -> Field<R> {
    Field { name, show: Show::UnlessDefault, value: Value::Flag { get, set } }
}
