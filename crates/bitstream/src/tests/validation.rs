//! Semantic validation: each check, with the place and reason it reports.

use super::sample::sample;
use crate::*;
use fpnna_model::Generator;

/// Applies `edit` to the sample and returns the validation message.
fn invalid(edit: impl FnOnce(&mut Bitstream)) -> String {
    let mut b = sample();
    edit(&mut b);
    match validate(b) {
        Err(e @ (BitstreamError::Invalid { .. } | BitstreamError::InvalidList { .. })) => e.to_string(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn the_sample_is_valid() {
    assert_eq!(validate(sample()).map(|_| ()), Ok(()));
}

#[test]
fn each_check_names_the_place_and_the_reason() {
    type Edit = fn(&mut Bitstream);
    let cases: &[(Edit, &str)] = &[
        (|b| b.global.dt_ms = 0.0, "section `global`: dt_ms = 0.0 must be a positive finite number"),
        (|b| b.global.dt_ms = f64::NAN, "dt_ms = NaN"),
        (|b| b.tiles[1].x = 4, "tile (4, 1): coordinates (4, 1) outside the 4x4 grid of `small`"),
        (|b| b.tiles[1].y = 9, "tile (2, 9): coordinates (2, 9) outside the 4x4 grid"),
        (|b| b.tiles.swap(0, 1), "tile (0, 0): follows tile (2, 1): tiles must be sorted by (y, x)"),
        (
            |b| {
                let t = b.tiles[0].clone();
                b.tiles.insert(0, t)
            },
            "tile (0, 0): follows tile (0, 0)",
        ),
        (|b| b.tiles[1].rows = vec![b.tiles[1].rows[0]; 65], "tile (2, 1): 65 rows exceed arch.tile.rows = 64"),
        (|b| b.tiles[1].row_lines = vec![64], "tile (2, 1): row 0 on line 64: the tile has 64 row lines"),
        (|b| b.tiles[1].col_lines = vec![1, 2], "tile (2, 1): 2 column lines given for 1 columns"),
        (
            |b| b.tiles[0].col_lines = vec![4, 0, 4],
            "tile (0, 0): column 2 on line 4, which another column already uses",
        ),
        (
            |b| b.tiles[1].columns = vec![b.tiles[1].columns[0]; 33],
            "tile (2, 1): 33 columns exceed arch.tile.cols = 32",
        ),
        (|b| b.tiles[0].params[1].decay_v = 4097, "tile (0, 0) param 1: decay_v = 4097 exceeds 4096"),
        (
            |b| b.tiles[0].params[0].refractory = 1024,
            "tile (0, 0) param 0: refractory = 1024 exceeds arch.neuron.max_refractory = 1023",
        ),
        (|b| b.tiles[0].volatile[0].decay = 5000, "tile (0, 0) volatile profile 0: decay = 5000 exceeds 4096"),
        (|b| b.tiles[0].stdp[0].decay_minus = 4097, "tile (0, 0) stdp profile 0: decay_minus = 4097"),
        (|b| b.tiles[0].stdp[0].w_min = -1, "tile (0, 0) stdp profile 0: needs 0 <= w_min <= w_max"),
        (|b| b.tiles[0].columns[2].key = 14, "tile (0, 0) column 2: key 14 is not below global.key_count = 14"),
        (
            |b| b.tiles[0].columns[1].params = 2,
            "tile (0, 0) column 1: params index 2 out of range (the tile has 2 params)",
        ),
        (|b| b.tiles[0].rows[3].key = 99, "tile (0, 0) row 3: key 99 is not below global.key_count"),
        (|b| b.tiles[0].rows[0].delay = 0, "tile (0, 0) row 0: delay 0 outside 1..=64 (arch.tile.max_delay)"),
        (|b| b.tiles[0].rows[0].delay = 65, "tile (0, 0) row 0: delay 65 outside 1..=64"),
        (
            |b| b.tiles[0].rows[2].kind = RowKind::Volatile(1),
            "tile (0, 0) row 2: volatile profile 1 out of range (the tile has 1)",
        ),
        (|b| b.tiles[1].rows[0].kind = RowKind::Stdp(0), "tile (2, 1) row 0: stdp profile 0 out of range"),
        (|b| b.tiles[0].rows.swap(0, 2), "tile (0, 0) row 1: rows must be sorted by (key, delay, sign, kind)"),
        (|b| b.tiles[0].rows.swap(0, 1), "tile (0, 0) row 1: rows must be sorted by (key, delay, sign, kind)"),
        (
            |b| b.arch.tile.volatile_nodes = false,
            "tile (0, 0) row 2: volatile row, but arch.tile.volatile_nodes = false",
        ),
        (
            |b| b.arch.tile.nonvolatile_nodes = false,
            "tile (0, 0) row 0: nonvolatile row, but arch.tile.nonvolatile_nodes = false",
        ),
        (|b| b.tiles[0].nodes[5].row = 4, "tile (0, 0) node #5: row 4 out of range (the tile uses 4 rows)"),
        (|b| b.tiles[0].nodes[5].col = 3, "tile (0, 0) node #5: column 3 out of range (the tile uses 3 columns)"),
        (
            |b| b.tiles[0].nodes[1].level = 40,
            "tile (0, 0) node #1: (row 0, col 2) level 40 is not below arch.nonvolatile.levels = 32",
        ),
        (
            |b| b.tiles[0].nodes.swap(1, 2),
            "tile (0, 0) node #2: (row 0, col 2) follows (row 1, col 1): nodes must be sorted by (row, col)",
        ),
        (
            |b| b.tiles[0].nodes[1] = b.tiles[0].nodes[0],
            "tile (0, 0) node #1: (row 0, col 0) follows (row 0, col 0): duplicate node",
        ),
        (|b| b.routers[2].y = 4, "router (1, 4): coordinates (1, 4) outside the 4x4 grid"),
        (
            // Off the grid, a local route is not an error of its own.
            |b| {
                b.routers.truncate(1);
                b.routers[0].entries.truncate(1);
                b.routers[0].x = 9
            },
            "router (9, 0): coordinates (9, 0) outside the 4x4 grid of `small`",
        ),
        (|b| b.routers.swap(0, 1), "router (0, 0): follows router (1, 0): routers must be sorted"),
        (
            |b| b.routers[0].entries = vec![b.routers[0].entries[0]; 65],
            "router (0, 0): 65 entries exceed arch.router.table_entries = 64",
        ),
        (|b| b.routers[0].entries[1].out = 0x20, "router (0, 0) entry 1: out = 0x20 has bits outside the five"),
        (|b| b.routers[0].entries[1].out = dir::WEST, "router (0, 0) entry 1: routes west, off the edge of the grid"),
        (|b| b.routers[0].entries[1].out = dir::SOUTH, "routes south, off the edge"),
        (
            |b| {
                b.routers[2].x = 3;
                b.routers[2].y = 3
            },
            "router (3, 3) entry 0: routes east, off the edge",
        ),
        (|b| b.routers[1].entries[0].mask = 0xf0, "router (1, 0) entry 0: value 0x0000000a has bits outside mask"),
        (|b| b.ports[1].x = 7, "port `noise`: coordinates (7, 0) outside the 4x4 grid"),
        (|b| b.ports[3].size = 5, "port `out_x`: keys 10..15 exceed global.key_count = 14"),
        (|b| b.ports[3].name = "network".into(), "port `network`: `network` is a keyword of the language"),
        (|b| b.ports[0].name = "x-y".into(), "port `x-y`: \"x-y\" is not a name"),
        (|b| b.symbols[2].name = "1abc".into(), "symbol `1abc`: \"1abc\" is not a name"),
        (|b| b.symbols[0].name = "é".into(), "symbol `é`: \"é\" is not a name"),
        (|b| b.ports[0].key_base = u32::MAX, "port `stim`: keys 4294967295..4294967297 exceed"),
        (
            |b| b.ports[2].kind = PortKind::Generator(Generator::Regular { period: 0, phase: 0 }),
            "port `clock`: regular generator with period 0",
        ),
        (
            |b| b.ports[1].kind = PortKind::Generator(Generator::Poisson { p: (1 << 32) + 1, seed: 0 }),
            "port `noise`: poisson probability p = 4294967297 exceeds 2^32",
        ),
        (|b| b.symbols[2].size = 100, "symbol `exc`: keys 10..110 exceed global.key_count = 14"),
        (
            |b| (b.tiles[0].stdp[0].a_plus, b.tiles[0].stdp[0].w_max) = (1 << 30, i32::MAX),
            "tile (0, 0) stdp profile 0: a_plus or a_minus is too large for the weight range (the update overflows)",
        ),
        (
            |b| b.tiles[0].rows[3].scale = 4096,
            "tile (0, 0) node #4: (row 3, col 1) STDP weight 81920 lies outside the profile's bounds [0, 65536]",
        ),
        (
            |b| b.tiles[1].columns[0].key = 11,
            "tile (2, 1) column 0: key 11 is also driven by tile (0, 0) column 1: a key has one source",
        ),
        (|b| b.tiles[0].columns[0].key = 0, "port `stim`: key 0 is also driven by tile (0, 0) column 0"),
    ];
    for (edit, expected) in cases {
        let msg = invalid(edit);
        assert!(msg.contains(expected), "expected `{expected}` in `{msg}`");
    }
}

#[test]
fn edges_of_the_ranges_are_accepted() {
    let mut b = sample();
    b.tiles[0].nodes[0].level = 31;
    b.tiles[0].rows[0].delay = 64;
    b.tiles[0].params[0].decay_i = 4096;
    b.tiles[0].params[0].refractory = 1023;
    b.ports[3].size = 4;
    b.ports[1].kind = PortKind::Generator(Generator::Poisson { p: 1 << 32, seed: 0 });
    b.routers[2].x = 2; // east now leads to x = 3, still in the grid
    b.tiles.clear(); // no programmed tile at all is a valid (empty) configuration
    assert_eq!(validate(b).map(|_| ()), Ok(()));
}

#[test]
fn every_error_is_listed_each_on_its_line() {
    let mut b = sample();
    b.tiles[0].rows[0].delay = 0;
    b.tiles[0].nodes[1].level = 40;
    b.ports[1].x = 7;
    let msg = validate(b).unwrap_err().to_string();
    let expected = "3 errors in the configuration:\n  \
                    tile (0, 0) row 0: delay 0 outside 1..=64 (arch.tile.max_delay)\n  \
                    tile (0, 0) node #1: (row 0, col 2) level 40 is not below arch.nonvolatile.levels = 32\n  \
                    port `noise`: coordinates (7, 0) outside the 4x4 grid of `small`";
    assert_eq!(msg, expected);
}

#[test]
fn the_list_stops_at_max_errors_and_counts_the_rest() {
    let mut b = sample();
    let node = b.tiles[0].nodes[0];
    b.tiles[0].nodes = vec![Node { level: 40, ..node }; MAX_ERRORS + 20];
    match validate(b) {
        Err(BitstreamError::InvalidList { errors, more }) => {
            assert_eq!(errors.len(), MAX_ERRORS);
            // Every node is at level 40, every one after the first a duplicate.
            assert_eq!(more, 2 * (MAX_ERRORS + 20) - 1 - MAX_ERRORS);
        }
        other => panic!("expected a list, got {other:?}"),
    }
}
