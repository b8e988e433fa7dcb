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
