//! One line of assembly as tokens, with the column of each, and the
//! lexical forms of values: quoted strings, integers, `name value`
//! attributes and `NAME = VALUE` assignments.

use super::{AsmError, err};

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    /// A run of characters up to a space, quote, `#` or `=`.
    Word(String),
    /// A quoted string, unescaped.
    Str(String),
    /// `=`.
    Eq,
}

/// A token and the 1-based column where it starts.
#[derive(Clone, Debug)]
pub(super) struct Token {
    /// What it is.
    pub tok: Tok,
    /// Where it starts.
    pub col: usize,
}

/// Splits a line into tokens; `#` starts a comment.
pub(super) fn tokenize(text: &str, line: usize) -> Result<Vec<Token>, AsmError> {
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
pub(super) trait Int: TryFrom<i128> + Copy {
    const MIN: i128;
    const MAX: i128;
}

macro_rules! int {
    ($($t:ty),*) => {$(impl Int for $t { const MIN: i128 = <$t>::MIN as i128; const MAX: i128 = <$t>::MAX as i128; })*};
}
int!(u8, u16, u32, u64, i32);

/// Parses a decimal (optionally negative) or `0x` hexadecimal integer.
pub(super) fn parse_int<T: Int>(t: &Token, line: usize) -> Result<T, AsmError> {
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

/// Quotes a string: `"` and `\` escaped, control characters as `\u{..}`.
pub(super) fn quote(s: &str) -> String {
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
// Attributes: `name value` pairs and bare flags after a statement's
// positional arguments.

/// A statement's attributes, checked against the names it allows.
pub(super) struct Attrs<'t> {
    /// The line they are on.
    pub line: usize,
    /// Name and value token (`None` for a flag).
    items: Vec<(&'static str, Option<&'t Token>)>,
}

/// `spec` lists the attribute names; `true` for those that take a value.
pub(super) fn parse_attrs<'t>(
    toks: &'t [Token],
    spec: &[(&'static str, bool)],
    line: usize,
) -> Result<Attrs<'t>, AsmError> {
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
    /// The value token of attribute `name`, if given.
    pub fn value(&self, name: &str) -> Option<&Token> {
        self.items.iter().find(|(n, _)| *n == name).and_then(|(_, v)| *v)
    }

    /// Whether attribute (or flag) `name` is given.
    pub fn flag(&self, name: &str) -> bool {
        self.items.iter().any(|(n, _)| *n == name)
    }
}

/// A word among `choices`.
pub(super) fn parse_word(t: &Token, choices: &[&'static str], line: usize) -> Result<&'static str, AsmError> {
    let found = match &t.tok {
        Tok::Word(w) => choices.iter().find(|c| **c == w),
        _ => None,
    };
    match found {
        Some(c) => Ok(c),
        None => err(line, t.col, format!("expected one of: {}", choices.join(", "))),
    }
}

/// A quoted string.
pub(super) fn parse_string(t: &Token, line: usize) -> Result<String, AsmError> {
    match &t.tok {
        Tok::Str(s) => Ok(s.clone()),
        _ => err(line, t.col, "expected a quoted string"),
    }
}

/// The value token of `NAME = VALUE`.
pub(super) fn assignment(toks: &[Token], line: usize) -> Result<&Token, AsmError> {
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

/// The two integers of `KEYWORD A B` (`usage` names them in messages).
pub(super) fn two_ints<T: Int>(toks: &[Token], line: usize, usage: &str) -> Result<(T, T), AsmError> {
    match toks {
        [_, a, b] => Ok((parse_int(a, line)?, parse_int(b, line)?)),
        [_, _, _, extra, ..] => err(line, extra.col, format!("unexpected text: expected `{usage}`")),
        _ => err(line, toks[0].col, format!("expected `{usage}`")),
    }
}
