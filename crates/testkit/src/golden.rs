//! Golden files: expected outputs kept in the repository, compared byte for
//! byte. With `UPDATE_GOLDEN=1` in the environment a check rewrites its file
//! instead (then review the diff before committing); this is the only
//! update switch of the workspace.

use std::fmt::Write;
use std::path::Path;

/// The environment variable that turns checks into rewrites.
pub const UPDATE_VAR: &str = "UPDATE_GOLDEN";

/// Lines of context shown before the first difference.
const CONTEXT: usize = 3;
/// Lines of each side shown from the first difference on.
const SHOWN: usize = 12;

/// Whether goldens are being rewritten (`UPDATE_GOLDEN` is set).
pub fn updating() -> bool {
    std::env::var_os(UPDATE_VAR).is_some()
}

/// Compares the text `actual` with the golden file at `path`, or rewrites
/// the file when updating; panics with a line diff when they differ.
pub fn check(path: &Path, actual: &str) {
    if updating() {
        write(path, actual.as_bytes());
        return;
    }
    let expected = read(path);
    let expected = String::from_utf8(expected).unwrap_or_else(|e| panic!("{}: not UTF-8: {e}", path.display()));
    if expected != actual {
        panic!("{}", text_diff(path, &expected, actual));
    }
}

/// Compares the bytes `actual` with the golden file at `path`, or rewrites
/// the file when updating; panics naming the first differing offset.
pub fn check_bytes(path: &Path, actual: &[u8]) {
    if updating() {
        write(path, actual);
        return;
    }
    let expected = read(path);
    if expected != actual {
        panic!("{}", bytes_diff(path, &expected, actual));
    }
}

fn write(path: &Path, bytes: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}; run with {UPDATE_VAR}=1 to create it", path.display()))
}

/// A readable account of how `actual` differs from `expected`: the lines
/// between the common head and the common tail of both (at most [`SHOWN`]
/// of each side), with a few lines of context around them.
pub fn text_diff(path: &Path, expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    // A difference only in the final newline shows as no differing line.
    let first = e.iter().zip(&a).position(|(x, y)| x != y).unwrap_or(e.len().min(a.len()));
    let tail = e[first..].iter().rev().zip(a[first..].iter().rev()).take_while(|(x, y)| x == y).count();
    let mut out = format!(
        "{} differs from the output at line {} ({} expected lines, {} actual). \
         Run with {UPDATE_VAR}=1 and review the diff.\n",
        path.display(),
        first + 1,
        e.len(),
        a.len()
    );
    for (i, line) in e.iter().enumerate().take(first).skip(first.saturating_sub(CONTEXT)) {
        let _ = writeln!(out, "  {:>5} | {line}", i + 1);
    }
    for (mark, side) in [('-', &e), ('+', &a)] {
        let end = side.len() - tail;
        for (i, line) in side.iter().enumerate().take(end.min(first + SHOWN)).skip(first) {
            let _ = writeln!(out, "{mark} {:>5} | {line}", i + 1);
        }
        if end > first + SHOWN {
            let _ = writeln!(out, "{mark}   ... {} more differing lines", end - first - SHOWN);
        }
    }
    let after = a.len() - tail;
    for (i, line) in a.iter().enumerate().skip(after).take(CONTEXT) {
        let _ = writeln!(out, "  {:>5} | {line}", i + 1);
    }
    if e.len() == a.len() && first == e.len() {
        out.push_str("(the files differ only in their final newline)\n");
    }
    out
}

/// A readable account of how two byte strings differ: lengths, the first
/// differing offset and a hex excerpt of each side from there.
pub fn bytes_diff(path: &Path, expected: &[u8], actual: &[u8]) -> String {
    let first = expected.iter().zip(actual).position(|(x, y)| x != y).unwrap_or(expected.len().min(actual.len()));
    let hex = |b: &[u8]| b.iter().skip(first).take(16).map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ");
    format!(
        "{} differs from the output at byte {first} ({} expected bytes, {} actual). \
         Run with {UPDATE_VAR}=1 and review the change.\n- {}\n+ {}\n",
        path.display(),
        expected.len(),
        actual.len(),
        hex(expected),
        hex(actual)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_diff_names_the_first_differing_line_with_context() {
        let d = text_diff(Path::new("g.txt"), "a\nb\nc\nd\ne\n", "a\nb\nc\nX\ne\n");
        assert!(d.contains("at line 4"), "{d}");
        assert!(d.contains("      3 | c"), "{d}");
        assert!(d.contains("-     4 | d"), "{d}");
        assert!(d.contains("+     4 | X"), "{d}");
        assert!(d.contains("      5 | e"), "{d}");
        assert!(!d.contains("-     5"), "only the differing lines are marked: {d}");
    }

    #[test]
    fn a_longer_output_shows_its_extra_lines() {
        let d = text_diff(Path::new("g.txt"), "a\n", "a\nb\n");
        assert!(d.contains("at line 2"), "{d}");
        assert!(d.contains("+     2 | b"), "{d}");
    }

    #[test]
    fn only_a_final_newline_is_said_so() {
        let d = text_diff(Path::new("g.txt"), "a\n", "a");
        assert!(d.contains("final newline"), "{d}");
    }

    #[test]
    fn the_bytes_diff_names_the_offset() {
        let d = bytes_diff(Path::new("g.bin"), &[1, 2, 3], &[1, 2, 4, 5]);
        assert!(d.contains("at byte 2 (3 expected bytes, 4 actual)"), "{d}");
        assert!(d.contains("- 03\n+ 04 05"), "{d}");
    }
}
