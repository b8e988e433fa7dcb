//! Command-line behaviour: bad stimulus files, exit codes, and no output
//! file left behind by a command that fails.

mod common;
use common::*;

const GATE: &str = "examples/and_gate/and_gate.fpn";

fn sim_with_stimulus(stimulus: &str) -> (std::process::Output, std::path::PathBuf, tempfile::TempDir) {
    let tmp = tempdir();
    let stim = tmp.path().join("stim.csv");
    std::fs::write(&stim, stimulus).unwrap();
    let out_csv = tmp.path().join("out.csv");
    let out = fpnna(&[
        "sim",
        GATE,
        "--steps",
        "20",
        "--stimulus",
        stim.to_str().unwrap(),
        "--spikes",
        out_csv.to_str().unwrap(),
    ]);
    (out, out_csv, tmp)
}

#[test]
fn bad_stimulus_lines_are_located_and_nothing_is_written() {
    let cases = [
        ("step,population,index\n3,c,0\n", ":2:", "`c` is not an input port (input ports: a, b)"),
        ("step,population,index\n3,a,0\n4,a,7\n", ":3:", "index 7 is out of range for `a` (size 1)"),
        ("step,population,index\n3,a\n", ":2:", "expected 3 fields"),
        ("step,population,index\nx,a,0\n", ":2:", "step `x` is not a whole number"),
        ("step,population,index\n25,a,0\n", ":2:", "beyond the run"),
        ("time,pop,i\n", ":1:", "expected the header"),
        ("", ":1:", "empty file"),
    ];
    for (text, place, msg) in cases {
        let (out, out_csv, _tmp) = sim_with_stimulus(text);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{text:?}: {err}");
        assert!(err.contains(&format!("stim.csv{place}")), "{text:?}: {err}");
        assert!(err.contains(msg), "{text:?}: {err}");
        assert!(!out_csv.exists(), "{text:?}: an output file was left behind");
    }
}

#[test]
fn a_failing_command_leaves_an_existing_output_untouched() {
    let tmp = tempdir();
    let out_csv = tmp.path().join("out.csv");
    std::fs::write(&out_csv, "precious").unwrap();
    let out =
        fpnna(&["sim", "tests/diagnostics/several_errors.fpn", "--steps", "5", "--spikes", out_csv.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&out_csv).unwrap(), "precious");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1, "a temporary file was left behind");
}

#[test]
fn sim_without_spikes_prints_a_rate_summary() {
    let out = fpnna(&["sim", "examples/synfire/synfire.fpn", "--steps", "100"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    // g0 fires 20 neurons at steps 3 and 53: 40 spikes in 0.1 s -> 20 Hz each.
    let g0 = text.lines().find(|l| l.starts_with("g0 ")).expect("a g0 row");
    assert!(g0.contains(" 40 ") && g0.ends_with("20.000"), "{g0}");
}

#[test]
fn usage_errors_exit_2() {
    let out = fpnna(&["sim", GATE]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = fpnna(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn same_seed_same_spikes_other_seed_other_network() {
    // An unseeded projection draws its seed from --seed.
    let tmp = tempdir();
    let src = tmp.path().join("n.fpn");
    std::fs::write(
        &src,
        "network n { source s[20] : poisson { rate = 200, seed = 1 }; population p[20] : lif { tau_m = 5 };\n\
         connect s -> p : fixed_probability(0.3) weight 0.6; output p; }\n",
    )
    .unwrap();
    let run = |seed: &str| {
        let o = tmp.path().join(format!("o{seed}.csv"));
        let out =
            fpnna(&["sim", src.to_str().unwrap(), "--steps", "200", "--seed", seed, "--spikes", o.to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
        std::fs::read_to_string(o).unwrap()
    };
    assert_eq!(run("5"), run("5"));
    assert_ne!(run("5"), run("6"));
}
