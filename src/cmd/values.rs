//! Parsers of command-line values, one per kind, so that a bad value is a
//! command-line error (exit code 2) naming the flag, before any file is
//! read (docs/cli.md, "Limits").

use fpnna_arch::Range;

/// A number within a device figure's range (`fpnna_arch::Range`).
fn in_range(s: &str, range: Range) -> Result<f64, String> {
    let x: f64 = s.trim().parse().map_err(|_| format!("`{s}` is not a number"))?;
    match range.refuse(x) {
        Some(why) => Err(format!("{x}: {why}")),
        None => Ok(x),
    }
}

/// A probability or fraction: a number in [0, 1] (NaN refused).
pub fn fraction(s: &str) -> Result<f64, String> {
    in_range(s, Range::Fraction)
}

/// An exponent in [0, 1].
pub fn exponent(s: &str) -> Result<f64, String> {
    in_range(s, Range::Exponent)
}

/// A finite number above 0 (a rate, a timestep).
pub fn positive(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("`{s}` is not a positive finite number")),
    }
}

/// A neuron selection of `--trace`: `pop`, `pop[i]` or `pop[a..b]`, with a
/// name of the language's identifiers (dotted for module instances). Only
/// its form is checked here; the names are the bitstream's.
pub fn selection(s: &str) -> Result<String, String> {
    let (name, index) = match s.split_once('[') {
        Some((n, rest)) => {
            let inner =
                rest.strip_suffix(']').ok_or_else(|| format!("`{s}`: expected `name`, `name[i]` or `name[a..b]`"))?;
            (n, Some(inner))
        }
        None => (s, None),
    };
    let ident = |p: &str| {
        let mut c = p.chars();
        c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
            && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !name.split('.').all(ident) {
        return Err(format!("`{name}` is not a population or port name"));
    }
    if let Some(inner) = index {
        let num = |x: &str| x.trim().parse::<u32>().map_err(|_| format!("`{x}` is not an index"));
        match inner.split_once("..") {
            Some((a, b)) => {
                if num(a)? >= num(b)? {
                    return Err(format!("`{s}`: the range [{inner}] is empty"));
                }
            }
            None => {
                num(inner)?;
            }
        }
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_out_of_their_kind_are_refused() {
        for bad in ["NaN", "nan", "-0.1", "1.5", "inf", "x", ""] {
            assert!(fraction(bad).is_err(), "{bad}");
        }
        assert_eq!(fraction("0.25"), Ok(0.25));
        for bad in ["0", "-1", "NaN", "inf", "1e400"] {
            assert!(positive(bad).is_err(), "{bad}");
        }
        assert_eq!(positive("0.5"), Ok(0.5));
        for bad in ["", "a b", "x-y", "1abc", "é", "p[", "p[3", "p[a]", "p[4..2]", "p[2..2]", "m..p"] {
            assert!(selection(bad).is_err(), "{bad}");
        }
        for good in ["p", "m.p", "p[3]", "p[0..8]", "_x1"] {
            assert_eq!(selection(good).as_deref(), Ok(good));
        }
    }
}
