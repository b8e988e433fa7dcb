//! Every example checks, and simulates to its golden spike file
//! (tests/golden/NAME.sim.csv; regenerate with UPDATE_GOLDEN=1).

mod common;
use common::*;

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
fn examples_simulate_to_their_golden_spikes() {
    let tmp = tempdir();
    for ex in examples() {
        let out_csv = tmp.path().join(format!("{}.csv", ex.name));
        let steps = ex.steps.to_string();
        let mut args =
            vec!["sim", ex.source.to_str().unwrap(), "--steps", &steps, "--spikes", out_csv.to_str().unwrap()];
        if let Some(s) = &ex.stimulus {
            args.extend(["--stimulus", s.to_str().unwrap()]);
        }
        let out = fpnna(&args);
        assert!(out.status.success(), "{}: {}", ex.name, stderr(&out));
        let spikes = std::fs::read_to_string(&out_csv).unwrap();
        assert!(spikes.lines().count() > 1, "{}: no spikes at all", ex.name);
        check_golden(&std::path::Path::new("tests/golden").join(format!("{}.sim.csv", ex.name)), &spikes);
    }
}
