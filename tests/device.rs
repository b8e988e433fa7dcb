//! Chip states as a user makes and uses them: `device new`, `inspect`,
//! `run --device` and `eval --device`; bad chip files refused.

mod common;
use common::*;

fn s(p: &std::path::Path) -> String {
    p.display().to_string()
}

#[test]
fn a_chip_is_made_inspected_and_its_defects_are_its_own() {
    let tmp = tempdir();
    let (chip, defects) = (tmp.path().join("chip.state"), tmp.path().join("defects.csv"));
    std::fs::write(&defects, "tile_x,tile_y,row,col,device,kind\n7,7,0,1,+,max\n# a comment\n7,7,3,2,-,min\n").unwrap();
    fpnna_ok(
        &["device", "new", "--stuck-rate", "0.02", "--seed", "5", "--defects", &s(&defects), "-o", &s(&chip)]
            .map(String::from),
    );
    let out = fpnna(&["device", "inspect", &s(&chip)]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("seed 5): 0.01 of devices stuck at G_min, 0.01 at G_max"), "{text}");
    assert!(text.contains("measured defects: 2 (1 at G_max, 1 at G_min)") && text.contains("tile (7, 7): 2"), "{text}");
    let json: serde_json::Value =
        serde_json::from_slice(&fpnna(&["device", "inspect", &s(&chip), "--json"]).stdout).unwrap();
    assert_eq!(json["defects"][0]["at"]["col"], 1);

    // A chip without measured defects is the stuck-at figures drawn with
    // its seed: the same evaluation, sample for sample.
    let plain = tmp.path().join("plain.state");
    fpnna_ok(&["device", "new", "--stuck-rate", "0.02", "--seed", "5", "-o", &s(&plain)].map(String::from));
    let fpb = s(&tmp.path().join("digits.fpb"));
    fpnna_ok(&["compile", "examples/digits/digits.fpn", "-o", &fpb].map(String::from));
    let eval = |extra: &[&str], name: &str| {
        let p = tmp.path().join(name);
        let mut args = vec!["eval", &fpb, "--data", "examples/digits/test_x.npy", "--labels"];
        args.extend(["examples/digits/test_y.npy", "--input", "pixels", "--output", "class", "--ideal"]);
        args.extend(["--steps-per-sample", "50", "--predictions", p.to_str().unwrap()]);
        args.extend(extra);
        fpnna_ok(&args.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        std::fs::read_to_string(p).unwrap()
    };
    let on_chip = eval(&["--device", &s(&plain)], "chip.csv");
    assert_eq!(on_chip, eval(&["--stuck-at-min", "0.01", "--stuck-at-max", "0.01", "--seed", "5"], "flags.csv"));
    // --ideal keeps the chip's defects: they cost accuracy.
    let ideal = eval(&[], "ideal.csv");
    let correct = |csv: &str| csv.lines().skip(1).filter(|l| l.split(',').nth(1) == l.split(',').nth(2)).count();
    assert!(correct(&on_chip) < correct(&ideal), "{} vs {}", correct(&on_chip), correct(&ideal));
    // The measured defects change the run too.
    assert_ne!(eval(&["--device", &s(&chip)], "measured.csv"), on_chip);
}

#[test]
fn bad_chips_are_refused_with_the_file_and_the_reason() {
    let tmp = tempdir();
    let chip = tmp.path().join("chip.state");
    fpnna_ok(&["device", "new", "--preset", "large", "-o", &s(&chip)].map(String::from));
    let fpb = s(&tmp.path().join("gate.fpb"));
    fpnna_ok(&["compile", "examples/and_gate/and_gate.fpn", "-o", &fpb].map(String::from));
    let run = |chip: &str| {
        let out = fpnna(&["run", &fpb, "--steps", "10", "--ideal", "--device", chip]);
        (out.status.code(), stderr(&out))
    };
    let (code, err) = run(&s(&chip));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("chip state: a chip of architecture `large`") && err.contains("not of `default`"), "{err}");
    let mut bytes = std::fs::read(&chip).unwrap();
    let at = bytes.len() - 5;
    bytes[at] ^= 1;
    let edited = tmp.path().join("edited.state");
    std::fs::write(&edited, &bytes).unwrap();
    let (code, err) = run(&s(&edited));
    assert_eq!(code, Some(1));
    assert!(err.contains("edited.state: checksum") && err.contains("damaged or was edited"), "{err}");
    let junk = tmp.path().join("junk.state");
    std::fs::write(&junk, "hello\n").unwrap();
    assert!(run(&s(&junk)).1.contains("junk.state: line 1: expected `fpnna-chip-state 1 crc32=...`"));
    for (csv, want) in [
        ("7,7,0\n", "defects.csv:1: expected 6 fields"),
        ("tile_x,tile_y,row,col,device,kind\n7,7,0,1,x,max\n", "defects.csv:2: device `x`: expected `+` or `-`"),
        ("99,0,0,1,+,max\n", "defects.csv: defect 0: tile (99, 0) row 0 column 1 is not on the array"),
        ("1,1,0,1,+,max\n1,1,0,1,+,min\n", "listed twice"),
    ] {
        let d = tmp.path().join("defects.csv");
        std::fs::write(&d, csv).unwrap();
        let out = fpnna(&["device", "new", "--defects", &s(&d), "-o", &s(&tmp.path().join("x.state"))]);
        assert_eq!(out.status.code(), Some(1), "{csv}");
        assert!(stderr(&out).contains(want), "{csv}: {}", stderr(&out));
    }
    assert!(!tmp.path().join("x.state").exists());
    let out = fpnna(&["device", "new", "--stuck-at-min", "0.7", "--stuck-at-max", "0.7", "-o", "y.state"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Runs the AND gate (`fpb`) on `chip` with `extra`; its stats' config.
fn run_gate(fpb: &str, chip: &str, extra: &[&str], dir: &std::path::Path) -> (serde_json::Value, String) {
    let (stats, spikes) = (dir.join("s.json"), dir.join("o.csv"));
    let mut args = vec!["run", fpb, "--steps", "60", "--stimulus", "examples/and_gate/stimulus.csv", "--ideal"];
    args.extend(["--device", chip, "--stats", stats.to_str().unwrap(), "--spikes", spikes.to_str().unwrap()]);
    args.extend(extra);
    fpnna_ok(&args.iter().map(|x| x.to_string()).collect::<Vec<_>>());
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(stats).unwrap()).unwrap();
    (json["config"].clone(), std::fs::read_to_string(spikes).unwrap())
}

fn life(chip: &std::path::Path) -> serde_json::Value {
    let out = fpnna_ok(&["device", "inspect", &s(chip), "--json"].map(String::from));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["life"].clone()
}

#[test]
fn a_run_forms_the_chip_and_the_next_run_reuses_what_it_formed() {
    let tmp = tempdir();
    let chip = tmp.path().join("chip.state");
    fpnna_ok(&["device", "new", "-o", &s(&chip)].map(String::from));
    let fpb = s(&tmp.path().join("gate.fpb"));
    fpnna_ok(&["compile", "examples/and_gate/and_gate.fpn", "-o", &fpb].map(String::from));
    let (first, spikes) = run_gate(&fpb, &s(&chip), &[], tmp.path());
    let n = first["forming_pulses"].as_u64().unwrap();
    assert!(n > 0 && first["formed_nodes"] == n && first["reused_nodes"] == 0, "{first}");
    let l = life(&chip);
    assert_eq!((l["formed"].as_u64(), l["max_writes"].as_u64(), l["worn_out"].as_u64()), (Some(n), Some(1), Some(0)));
    let hash = fpnna_arch::bitstream_hash(&std::fs::read(&fpb).unwrap());
    assert_eq!(l["history"][0]["bitstream"], hash.as_str());
    assert_eq!((l["history"][0]["steps"].as_u64(), l["history"][0]["formed"].as_u64()), (Some(60), Some(n)));

    // The same bitstream again: nothing formed, every node reprogrammed.
    let (second, again) = run_gate(&fpb, &s(&chip), &[], tmp.path());
    assert_eq!((second["forming_pulses"].as_u64(), second["reused_nodes"].as_u64()), (Some(0), Some(n)), "{second}");
    assert_eq!(again, spikes);
    let l = life(&chip);
    assert_eq!((l["formed"].as_u64(), l["writes"].as_u64(), l["max_writes"].as_u64()), (Some(n), Some(2 * n), Some(2)));
    assert_eq!(l["history"][1]["formed"], 0);
    let text = String::from_utf8(fpnna_ok(&["device", "inspect", &s(&chip)].map(String::from)).stdout).unwrap();
    assert!(text.contains(&format!("formed crosspoints: {n}; writes {}", 2 * n)), "{text}");
    assert!(text.contains(&format!("1: bitstream {hash}, 60 steps, formed 0")), "{text}");

    // --device-readonly and a failed run leave the file as it was.
    let before = std::fs::read(&chip).unwrap();
    run_gate(&fpb, &s(&chip), &["--device-readonly"], tmp.path());
    assert_eq!(std::fs::read(&chip).unwrap(), before);
    let stim = tmp.path().join("bad.csv");
    std::fs::write(&stim, "step,population,index\n1,nope,0\n").unwrap();
    let out = fpnna(&["run", &fpb, "--steps", "60", "--stimulus", &s(&stim), "--device", &s(&chip)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(std::fs::read(&chip).unwrap(), before);
}

#[test]
fn worn_out_crosspoints_are_stuck_at_g_min() {
    let tmp = tempdir();
    let arch = tmp.path().join("tired.toml");
    let text = String::from_utf8(fpnna(&["arch"]).stdout).unwrap();
    assert!(text.contains("endurance = 100000.0"));
    std::fs::write(&arch, text.replace("endurance = 100000.0", "endurance = 2")).unwrap();
    let (chip, fpb) = (tmp.path().join("chip.state"), s(&tmp.path().join("gate.fpb")));
    fpnna_ok(&["device", "new", "--arch", &s(&arch), "-o", &s(&chip)].map(String::from));
    fpnna_ok(&["compile", "examples/and_gate/and_gate.fpn", "--arch", &s(&arch), "-o", &fpb].map(String::from));
    let (first, spikes) = run_gate(&fpb, &s(&chip), &[], tmp.path());
    let n = first["formed_nodes"].as_u64().unwrap();
    assert!(spikes.lines().count() > 1, "{spikes}");
    // The second run's writes reach the endurance of 2: worn out after it.
    let (second, again) = run_gate(&fpb, &s(&chip), &[], tmp.path());
    assert_eq!((second["stuck_at_min"].as_u64(), again), (Some(0), spikes.clone()));
    assert_eq!((life(&chip)["worn_out"].as_u64(), life(&chip)["wear"].as_f64()), (Some(n), Some(1.0)));
    // Then every device of those crosspoints is stuck at G_min, --ideal or not: no output spikes.
    let (third, dead) = run_gate(&fpb, &s(&chip), &[], tmp.path());
    assert_eq!(third["stuck_at_min"].as_u64(), Some(2 * n), "{third}");
    assert_ne!(dead, spikes);
    assert_eq!(dead.lines().count(), 1, "{dead}");
    let text = String::from_utf8(fpnna_ok(&["device", "inspect", &s(&chip)].map(String::from)).stdout).unwrap();
    assert!(
        text.contains(&format!("worn out (stuck at G_min): {n}")) && text.contains("measured defects: 0"),
        "{text}"
    );
}

#[test]
fn a_volatile_node_on_a_formed_crosspoint_is_refused_naming_the_configuration() {
    use fpnna_bitstream::RowKind;
    let tmp = tempdir();
    let (chip, fpb) = (tmp.path().join("chip.state"), tmp.path().join("f.fpb"));
    fpnna_ok(&["device", "new", "-o", &s(&chip)].map(String::from));
    fpnna_ok(&["compile", "examples/facilitation/facilitation.fpn", "-o", &s(&fpb)].map(String::from));
    // Another configuration formed a crosspoint the volatile row uses.
    let b = fpnna_bitstream::decode(&std::fs::read(&fpb).unwrap()).unwrap();
    let tc = b.bitstream().tiles.iter().find(|t| t.rows.iter().any(|r| r.kind != RowKind::NonVolatile)).unwrap();
    let n = tc.nodes.iter().find(|n| tc.rows[usize::from(n.row)].kind != RowKind::NonVolatile).unwrap();
    let (row, col) = (tc.row_line(n.row), tc.col_line(n.col));
    let mut state = fpnna_arch::ChipState::from_bytes(&std::fs::read(&chip).unwrap()).unwrap();
    let writes = fpnna_arch::TileWrites { x: tc.x, y: tc.y, nodes: vec![(row, col, 1)] };
    state.apply("00000000deadbeef".into(), 5, &[writes]);
    std::fs::write(&chip, state.to_bytes()).unwrap();
    let before = std::fs::read(&chip).unwrap();
    let out = fpnna(&["run", &s(&fpb), "--steps", "10", "--ideal", "--device", &s(&chip)]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let place = format!("tile ({}, {}), row line {row}, column line {col}", tc.x, tc.y);
    assert!(err.contains(&place) && err.contains("configuration 0 (bitstream 00000000deadbeef)"), "{err}");
    assert_eq!(std::fs::read(&chip).unwrap(), before);
}
