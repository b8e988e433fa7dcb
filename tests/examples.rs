//! Every example through the whole flow, as a user runs it:
//! check; sim (quantized for the example's preset) against its golden spike
//! file; compile (twice: same bytes, same report); run on the emulator with
//! ideal devices: exactly the sim's spikes; disasm and asm back to the same
//! bytes; decompile, then `sim --exact` of the recovered source: again the
//! same spikes. Golden files live in tests/golden (UPDATE_GOLDEN=1 rewrites
//! them, to be reviewed as a diff).

mod common;
use common::*;
use std::path::Path;

fn s(x: &Path) -> String {
    x.display().to_string()
}

#[test]
fn examples_check() {
    for ex in examples() {
        let out = fpnna(&["check", ex.source.to_str().unwrap()]);
        assert!(out.status.success(), "{}: {}", ex.name, stderr(&out));
        let summary = String::from_utf8(out.stdout).unwrap();
        assert!(summary.contains("neurons"), "{summary}");
    }
}

#[test]
fn examples_through_the_whole_flow() {
    let tmp = tempdir();
    for ex in examples() {
        let t = |suffix: &str| tmp.path().join(format!("{}.{suffix}", ex.name));
        let preset = vec!["--preset".to_string(), ex.preset.clone()];

        // Reference simulation of the quantized network: golden.
        let mut args = vec!["sim".to_string(), s(&ex.source), "--spikes".into(), s(&t("sim.csv"))];
        args.extend(ex.run_args());
        args.extend(preset.clone());
        fpnna_ok(&args);
        let sim = std::fs::read_to_string(t("sim.csv")).unwrap();
        assert!(sim.lines().count() > 1, "{}: no spikes at all", ex.name);
        check_golden(&Path::new("tests/golden").join(format!("{}.sim.csv", ex.name)), &sim);

        // Compile twice: identical bitstreams and reports.
        for (fpb, report) in [("fpb", "report.json"), ("again.fpb", "again.json")] {
            let mut args = vec!["compile".to_string(), s(&ex.source), "-o".into(), s(&t(fpb))];
            args.extend(["--report".to_string(), s(&t(report))]);
            args.extend(preset.clone());
            fpnna_ok(&args);
        }
        let bytes = std::fs::read(t("fpb")).unwrap();
        assert_eq!(bytes, std::fs::read(t("again.fpb")).unwrap(), "{}: bitstream not reproducible", ex.name);
        let report = json_body(&std::fs::read_to_string(t("report.json")).unwrap());
        let again = json_body(&std::fs::read_to_string(t("again.json")).unwrap());
        assert_eq!(report, again, "{}: report not reproducible", ex.name);
        let r: serde_json::Value = serde_json::from_str(&report).unwrap();
        let (fin, rnd) = (r["placement_cost_final"].as_f64().unwrap(), r["placement_cost_random"].as_f64().unwrap());
        assert!(fin <= rnd, "{}: annealed cost {fin} above a random placement's {rnd}", ex.name);
        if r["tiles_used"].as_u64().unwrap() > 1 {
            assert!(fin < rnd, "{}: annealed cost {fin} not below a random placement's {rnd}", ex.name);
        }
        if ["and_gate", "facilitation", "classifier"].contains(&ex.name.as_str()) {
            check_golden(&Path::new("tests/golden").join(format!("{}.report.json", ex.name)), &report);
        }

        // The emulator, ideal devices: the same spikes (the central test).
        let mut args = vec!["run".to_string(), s(&t("fpb")), "--ideal".into(), "--spikes".into(), s(&t("run.csv"))];
        args.extend(ex.run_args());
        fpnna_ok(&args);
        let run = std::fs::read_to_string(t("run.csv")).unwrap();
        assert!(run == sim, "{}: emulator spikes differ from the reference simulator", ex.name);
        // Two threads: the same bytes out, spikes and statistics alike.
        let mut stats = Vec::new();
        for threads in ["1", "2"] {
            let (csv, json) = (t(&format!("t{threads}.csv")), t(&format!("t{threads}.json")));
            let mut args = vec!["run".to_string(), s(&t("fpb")), "--threads".into(), threads.into()];
            args.extend(["--seed".into(), "7".into(), "--spikes".into(), s(&csv), "--stats".into(), s(&json)]);
            args.extend(ex.run_args());
            fpnna_ok(&args);
            stats.push((std::fs::read(csv).unwrap(), json_body(&std::fs::read_to_string(json).unwrap())));
        }
        assert!(stats[0] == stats[1], "{}: --threads 2 changed the output", ex.name);

        // Assembly round trip.
        fpnna_ok(&["disasm".into(), s(&t("fpb")), "-o".into(), s(&t("fpa"))]);
        fpnna_ok(&["asm".into(), s(&t("fpa")), "-o".into(), s(&t("re.fpb"))]);
        assert!(bytes == std::fs::read(t("re.fpb")).unwrap(), "{}: asm(disasm(b)) != b", ex.name);

        // Decompile: the recovered source computes the same thing.
        fpnna_ok(&["decompile".into(), s(&t("fpb")), "-o".into(), s(&t("dec.fpn"))]);
        let mut args = vec!["sim".to_string(), s(&t("dec.fpn")), "--exact".into(), "--spikes".into(), s(&t("dec.csv"))];
        args.extend(ex.run_args());
        fpnna_ok(&args);
        let dec = std::fs::read_to_string(t("dec.csv")).unwrap();
        assert!(dec == sim, "{}: the decompiled network simulates differently", ex.name);
    }
}

#[test]
fn a_hand_edited_level_changes_the_bitstream_and_the_run() {
    let tmp = tempdir();
    let p = |x: &str| tmp.path().join(x).display().to_string();
    let src = "examples/and_gate/and_gate.fpn";
    fpnna_ok(&["compile".into(), src.into(), "-o".into(), p("g.fpb")]);
    fpnna_ok(&["disasm".into(), p("g.fpb"), "-o".into(), p("g.fpa")]);
    let text = std::fs::read_to_string(p("g.fpa")).unwrap();
    // Both inputs' nodes hold the top level; with one lowered to 0 even the
    // coincident pairs stay below threshold, and the gate falls silent.
    let line = text.lines().find(|l| l.trim_start().starts_with("node ")).expect("a node line").to_string();
    let (head, level) = line.rsplit_once(' ').unwrap();
    assert_ne!(level, "0", "{line}");
    let edited = text.replacen(&line, &format!("{head} 0"), 1);
    std::fs::write(p("e.fpa"), edited).unwrap();
    fpnna_ok(&["asm".into(), p("e.fpa"), "-o".into(), p("e.fpb")]);
    let (a, b) = (std::fs::read(p("g.fpb")).unwrap(), std::fs::read(p("e.fpb")).unwrap());
    assert_eq!(a.len(), b.len());
    assert_ne!(a, b);
    let stim = "examples/and_gate/stimulus.csv";
    for (fpb, csv) in [("g.fpb", "g.csv"), ("e.fpb", "e.csv")] {
        fpnna_ok(&[
            "run".into(),
            p(fpb),
            "--ideal".into(),
            "--steps".into(),
            "60".into(),
            "--stimulus".into(),
            stim.into(),
            "--spikes".into(),
            p(csv),
        ]);
    }
    let before = std::fs::read_to_string(p("g.csv")).unwrap();
    let after = std::fs::read_to_string(p("e.csv")).unwrap();
    assert_eq!(before.lines().count(), 3, "{before}");
    assert_eq!(after.lines().count(), 1, "the edited gate still fires:\n{after}");
}
