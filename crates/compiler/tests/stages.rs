//! Stage file tests: every `tests/stages/*.fpn` goes through partition,
//! placement and routing, and the readable dump of the three products
//! (`fpnna_compiler::dump_stages`) must equal the `.expected` file beside
//! it. A first line `// arch: WxH cols C rows R entries E` changes those
//! fields of the small preset. Regenerate with `UPDATE_GOLDEN=1` and review
//! the diff.

use fpnna_arch::Arch;
use std::path::Path;

/// The small preset with the fields of the source's `// arch:` line.
fn arch_of(text: &str) -> Arch {
    let mut a = Arch::preset("small").expect("preset");
    let Some(spec) = text.lines().next().and_then(|l| l.strip_prefix("// arch:")) else { return a };
    let mut words = spec.split_whitespace();
    let grid = words.next().expect("WxH");
    let (w, h) = grid.split_once('x').expect("WxH");
    (a.grid.width, a.grid.height) = (w.parse().expect("width"), h.parse().expect("height"));
    let words: Vec<&str> = words.collect();
    for pair in words.chunks(2) {
        match pair {
            ["cols", v] => a.tile.cols = v.parse().expect("cols"),
            ["rows", v] => a.tile.rows = v.parse().expect("rows"),
            ["entries", v] => a.router.table_entries = v.parse().expect("entries"),
            other => panic!("unknown arch field {other:?}"),
        }
    }
    a
}

#[test]
fn stage_dumps_match_the_expected_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stages");
    let mut sources: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/stages")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "fpn"))
        .collect();
    sources.sort();
    assert!(sources.len() >= 3, "stage sources in {}", dir.display());
    for src in &sources {
        let text = std::fs::read_to_string(src).expect("source");
        let net = fpnna_dsl::load_file(src, &fpnna_dsl::Options::default())
            .unwrap_or_else(|d| panic!("{}: {}", src.display(), d.short()));
        let dump = fpnna_compiler::dump_stages(&net, &arch_of(&text), 1).expect("compiles");
        fpnna_testkit::golden::check(&src.with_extension("expected"), &dump);
    }
}
