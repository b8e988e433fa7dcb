//! The one rule of names: what the language (docs/language.md) accepts as
//! an identifier, and its keywords. The DSL's lexer, the bitstream's
//! validation (port and symbol names, which a decompiled source declares)
//! and the NIR import all apply it, so that a name accepted anywhere is a
//! name a source can spell.

/// Words that cannot name anything.
pub const KEYWORDS: &[&str] = &[
    "network",
    "module",
    "const",
    "include",
    "input",
    "population",
    "source",
    "output",
    "connect",
    "inst",
    "weight",
    "delay",
    "nonvolatile",
    "volatile",
    "stdp",
    "dt",
];

/// Whether `c` can begin an identifier: an ASCII letter or `_`.
pub fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

/// Whether `c` can continue an identifier: an ASCII letter, digit or `_`.
pub fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `s` is an identifier that is not a keyword.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(is_ident_start) && chars.all(is_ident_char) && !KEYWORDS.contains(&s)
}

/// Why `s` is not a name a source can give a population or port (an
/// identifier, or identifiers joined by `.` for populations of module
/// instances); `None` when it is one.
pub fn refuse_name(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("a name cannot be empty".into());
    }
    for part in s.split('.') {
        if KEYWORDS.contains(&part) {
            return Some(format!("`{part}` is a keyword of the language and cannot be a name"));
        }
        if !is_identifier(part) {
            return Some(format!(
                "{:?} is not a name: names are letters, digits and `_`, not starting with a digit (joined by `.` for module instances)",
                s
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_identifiers_joined_by_dots() {
        for good in ["a", "_x", "exc", "m.exc", "s1.first.e", "A_1"] {
            assert_eq!(refuse_name(good), None, "{good}");
        }
        for bad in ["", "network", "a b", "x-y", "é", "1abc", "m.", ".m", "m..p", "m.dt", "out \"x\"", "a\n"] {
            assert!(refuse_name(bad).is_some(), "{bad:?}");
        }
    }
}
