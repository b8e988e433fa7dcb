//! The assembly text: round trips, hand edits, and errors with line and
//! column.

use super::sample::sample;
use crate::*;

fn asm_err(text: &str) -> AsmError {
    match assemble(text) {
        Err(e) => e,
        Ok(_) => panic!("assembled:\n{text}"),
    }
}

/// The sample's text with `from` replaced by `to` (exactly once).
fn edited(from: &str, to: &str) -> String {
    let text = disassemble(&sample());
    assert_eq!(text.matches(from).count(), 1, "`{from}` must occur once");
    text.replacen(from, to, 1)
}

/// Line (1-based) of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn sample_round_trips_byte_for_byte() {
    let b = sample();
    let text = disassemble(&b);
    let back = assemble(&text).unwrap();
    assert_eq!(back, b);
    assert_eq!(encode(&back), encode(&b));
}

#[test]
fn canonical_order_and_defaults_omitted() {
    let text = disassemble(&sample());
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    assert_eq!(lines[0], "fpa 1");
    assert_eq!(lines[1], "arch.name = \"small\"");
    let pos = |needle: &str| text.find(needle).unwrap();
    assert!(pos("arch.") < pos("global.") && pos("global.") < pos("\ntile 0 0"));
    assert!(pos("\ntile 0 0") < pos("\ntile 2 1") && pos("\ntile 2 1") < pos("\nrouter 0 0"));
    assert!(pos("\nrouter ") < pos("\nport ") && pos("\nport ") < pos("\nsymbol "));
    // delay 1, positive sign, nonvolatile kind, params 0 and v_init 0 are defaults.
    assert!(text.contains("\n  row 0 key 0 scale 2048\n"), "{text}");
    assert!(text.contains("\n  column 0 key 10\n"), "{text}");
    assert!(text.contains("\n  node 0 2 level 7\n"), "{text}");
    assert!(text.contains("route value 0xa out east\n"), "{text}");
}

#[test]
fn changing_one_level_changes_only_that_node() {
    let b = sample();
    let text = edited("node 0 2 level 7", "node 0 2 level 8");
    let changed = assemble(&text).unwrap();
    let mut expected = b.clone();
    expected.tiles[0].nodes[1].level = 8;
    assert_eq!(changed, expected);
    // In the binary form only the first tile's section (payload byte, its
    // CRC) and the whole-file check differ.
    let (old, new) = (encode(&b), encode(&changed));
    assert_eq!(old.len(), new.len());
    let diffs: Vec<usize> = (0..old.len()).filter(|&i| old[i] != new[i]).collect();
    let tile0 = 18 + 9 + crate::codec::encode(&b.arch).len() + 9 + crate::codec::encode(&b.global).len();
    let tile0_end = tile0 + 9 + crate::codec::encode(&b.tiles[0]).len();
    assert!(diffs.iter().all(|&i| (tile0..tile0_end).contains(&i) || i >= old.len() - 4), "{diffs:?}");
}

#[test]
fn hand_written_text_may_list_nodes_tiles_and_routers_in_any_order() {
    let text = disassemble(&sample());
    let moved = text.replacen("  node 0 0 level 31\n", "", 1).replacen(
        "  node 3 2 level 1\n",
        "  node 3 2 level 1\n  node 0 0 level 31 # moved to the end\n",
        1,
    );
    assert_eq!(assemble(&moved).unwrap(), sample());
}

#[test]
fn comments_blank_lines_and_spacing_are_ignored() {
    let text = disassemble(&sample())
        .replace("tile 2 1", "  tile   2\t1   # the second tile")
        .replace("global.key_count = 14", "global.key_count=14");
    assert_eq!(assemble(&format!("# header comment\n\n{text}\n\n# end\n")).unwrap(), sample());
}

#[test]
fn strings_with_quotes_escapes_and_unicode_round_trip() {
    let mut b = sample();
    // Names are identifiers (validation); a symbol's kind is any string.
    b.symbols[0].kind = "a \"b\" \\ c\nd\te # f = g é \u{1}".into();
    b.symbols[1].kind = String::new();
    let back = assemble(&disassemble(&b)).unwrap();
    assert_eq!(back, b);
}

#[test]
fn float_values_are_printed_shortest_and_round_trip() {
    let mut b = sample();
    b.global.dt_ms = 0.1 + 0.2;
    b.arch.nonvolatile.g_min_ns = 1e-300;
    b.arch.nonvolatile.g_max_ns = 1.0e16;
    let text = disassemble(&b);
    assert!(text.contains("global.dt_ms = 0.30000000000000004\n"), "{text}");
    assert!(text.contains("arch.nonvolatile.g_min_ns = 1e-300\n"), "{text}");
    assert_eq!(encode(&assemble(&text).unwrap()), encode(&b));
}

#[test]
fn syntax_errors_carry_line_column_and_what_is_expected() {
    let text = disassemble(&sample());
    let node = line_of(&text, "node 0 2 level 7");
    let cases: Vec<(String, usize, usize, &str)> = vec![
        (String::new(), 1, 1, "expected `fpa 1`"),
        ("tile 0 0\n".into(), 1, 1, "expected `fpa 1` as the first statement"),
        ("fpa 2\n".into(), 1, 1, "expected `fpa 1`"),
        (
            edited("node 0 2 level 7", "node 0 2 level seven"),
            node,
            18,
            "expected an integer in 0..=65535, found `seven`",
        ),
        (edited("node 0 2 level 7", "node 0 2 level 70000"), node, 18, "in 0..=65535"),
        (edited("node 0 2 level 7", "node 0 2 level 0x-7"), node, 18, "found `0x-7`"),
        (edited("node 0 2 level 7", "node 0 2 level +7"), node, 18, "found `+7`"),
        (edited("node 0 2 level 7", "node 0 2 level -1"), node, 18, "in 0..=65535"),
        (edited("node 0 2 level 7", "node 0 2 level"), node, 17, "expected a value after `level`"),
        (edited("node 0 2 level 7", "node 0 2 lvl 7"), node, 12, "unexpected `lvl`: expected one of: level"),
        (edited("node 0 2 level 7", "node 0 2 level 7 level 8"), node, 20, "`level` given twice"),
        (edited("node 0 2 level 7", "nod 0 2 level 7"), node, 3, "unknown statement `nod`"),
        (edited("column 1 key 11", "column 2 key 11"), line_of(&text, "column 1 key 11"), 10, "expected column 1 here"),
        (edited("port \"stim\" input", "port \"stim input"), line_of(&text, "port \"stim\""), 6, "unterminated string"),
        (
            edited("port \"stim\" input", "port \"stim\" inbound"),
            line_of(&text, "port \"stim\""),
            13,
            "expected a port kind",
        ),
        (edited("out east+local", "out east+up"), line_of(&text, "out east+local"), 39, "unknown direction `up`"),
        (
            edited("row 2 key 1 delay 3 volatile 0", "row 2 key 1 delay 3 volatile 0 stdp 0"),
            line_of(&text, "row 2 key 1"),
            39,
            "either `volatile P` or `stdp P`",
        ),
        (
            edited("global.key_count = 14", "global.key_count = "),
            line_of(&text, "global.key_count"),
            19,
            "expected a value after `=`",
        ),
        (
            edited("global.key_count = 14", "global.key_count 14"),
            line_of(&text, "global.key_count"),
            18,
            "expected `=`",
        ),
        (
            edited("global.key_count = 14", "global.key_count = 14 15"),
            line_of(&text, "global.key_count"),
            23,
            "unexpected text after the value",
        ),
        (
            edited("arch.grid.width = 4", "arch.grid.width = wide"),
            line_of(&text, "arch.grid.width"),
            19,
            "expected a number, true, false",
        ),
    ];
    for (text, line, col, msg) in cases {
        let e = asm_err(&text);
        assert!(e.msg.contains(msg), "expected `{msg}` in `{e}`");
        assert_eq!((e.line, e.col), (line, col), "{e}");
    }
}

#[test]
fn context_errors() {
    let e = asm_err("fpa 1\nnode 0 0 level 1\n");
    assert_eq!((e.line, e.col), (2, 1));
    assert!(e.msg.contains("outside a tile: expected a `tile X Y` line before it"), "{e}");
    let e = asm_err("fpa 1\ntile 0 0\nroute out local\n");
    assert!(e.msg.contains("`route` outside a router"), "{e}");
    let e = asm_err("fpa 1\ntile 0 0\nport \"p\" input\nnode 0 0\n");
    assert_eq!(e.line, 4, "a port line ends the tile: {e}");
}

#[test]
fn missing_and_repeated_global_settings() {
    let text = disassemble(&sample());
    let e = asm_err(&text.replace("global.key_count = 14\n", ""));
    assert!(e.msg.contains("missing `global.key_count = N`"), "{e}");
    let e = asm_err(&text.replace("global.key_count = 14\n", "global.key_count = 14\nglobal.key_count = 15\n"));
    assert!(e.msg.contains("given twice (first on line"), "{e}");
    let e = asm_err("fpa 1\nglobal.dt_ms = 1.0\nglobal.key_count = 3\n");
    assert!(e.msg.contains("missing the architecture"), "{e}");
}

#[test]
fn architecture_errors_point_at_the_field() {
    let text = disassemble(&sample());
    let e = asm_err(&edited("arch.tile.rows = 64", "arch.tile.rows = 0"));
    assert_eq!(e.line, line_of(&text, "arch.tile.rows"), "{e}");
    assert!(e.msg.contains("tile.rows") && e.msg.contains("must be 1..=4096"), "{e}");
    let e = asm_err(&text.replace("arch.grid.width = 4\n", ""));
    assert!(e.msg.contains("width"), "{e}");
    let e = asm_err(&edited("arch.grid.width = 4", "arch.grid.width = 4\narch.grid.depth = 2"));
    assert!(e.msg.contains("depth"), "{e}");
    let e = asm_err(&edited("arch.grid.width = 4", "arch.grid.width = 4\narch.grid.width = 5"));
    assert!(e.msg.contains("given twice"), "{e}");
    // Integers are accepted where the architecture wants a float.
    let b = assemble(&edited("arch.energy.hop_pj = 5.0", "arch.energy.hop_pj = 5")).unwrap();
    assert_eq!(b.arch.energy.hop_pj, 5.0);
}

#[test]
fn validation_errors_point_at_the_offending_line() {
    let text = disassemble(&sample());
    let e = asm_err(&edited("node 0 2 level 7", "node 0 2 level 32"));
    assert_eq!(e.line, line_of(&text, "node 0 2 level 7"), "{e}");
    assert!(e.msg.contains("level 32 is not below arch.nonvolatile.levels = 32"), "{e}");

    let e = asm_err(&edited("node 1 1 level 0", "node 0 2 level 0"));
    assert_eq!(e.line, line_of(&text, "node 1 1 level 0"), "{e}");
    assert!(e.msg.contains("duplicate node"), "{e}");

    let e = asm_err(&edited("row 3 key 2 delay 64", "row 3 key 2 delay 65"));
    assert_eq!(e.line, line_of(&text, "row 3 key 2"), "{e}");

    let e = asm_err(&edited("route value 0xa out north", "route value 0xa out south"));
    assert_eq!(e.line, line_of(&text, "route value 0xa out north"), "{e}");
    assert!(e.msg.contains("router (1, 0) entry 0: routes south"), "{e}");

    let e = asm_err(&edited("tile 2 1", "tile 2 7"));
    assert_eq!(e.line, line_of(&text, "tile 2 1"), "{e}");
    assert!(e.msg.contains("outside the 4x4 grid"), "{e}");

    let e = asm_err(&edited("port \"clock\" regular key_base 3", "port \"clock\" regular key_base 14"));
    assert_eq!(e.line, line_of(&text, "port \"clock\""), "{e}");
}

#[test]
fn the_example_in_the_docs_assembles_and_round_trips() {
    let doc = include_str!("../../../../docs/bitstream.md");
    let start = doc.find("```fpa\n").expect("docs/bitstream.md has an ```fpa example") + 7;
    let len = doc[start..].find("```").unwrap();
    let example = &doc[start..start + len];
    let b = assemble(example).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(encode(&assemble(&disassemble(&b)).unwrap()), encode(&b));
}

#[test]
fn a_preset_with_overrides_gives_the_architecture() {
    let b = assemble("fpa 1\narch.preset = \"small\"\narch.grid.width = 2\nglobal.dt_ms = 1.0\nglobal.key_count = 1\n")
        .unwrap();
    let mut expected = fpnna_arch::Arch::preset("small").unwrap();
    expected.grid.width = 2;
    assert_eq!(b.arch, expected);
    let e = asm_err("fpa 1\narch.preset = \"tiny\"\nglobal.dt_ms = 1.0\nglobal.key_count = 1\n");
    assert_eq!((e.line, e.col), (2, 1));
    assert!(e.msg.contains("unknown preset `tiny`"), "{e}");
}

#[test]
fn hexadecimal_and_negative_integers() {
    let text = edited("column 1 key 11 params 1 v_init -300", "column 1 key 0xb params 0x1 v_init -0x12c");
    // `-0x12c` is not an integer spelling the assembly accepts.
    let e = asm_err(&text);
    assert!(e.msg.contains("found `-0x12c`"), "{e}");
    let text = edited("column 1 key 11 params 1 v_init -300", "column 1 key 0xb params 0x1 v_init -300");
    assert_eq!(assemble(&text).unwrap(), sample());
}

#[test]
fn enumerated_attributes_name_their_choices() {
    let e = asm_err(&edited("reset subtract refractory 2\n  param 1", "reset sub refractory 2\n  param 1"));
    assert!(e.msg.contains("expected one of: zero, subtract"), "{e}");
    let e = asm_err(&edited("pairing nearest", "pairing \"nearest\""));
    assert!(e.msg.contains("expected one of: all_to_all, nearest"), "{e}");
}
