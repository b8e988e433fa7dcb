//! `fpnna eval` and `fpnna sweep` as a user runs them, on the digits
//! example: the reference simulator and the ideal emulator agree on every
//! sample, threads change nothing, faults cost accuracy, bad input is
//! refused with the file and the place.

mod common;
use common::*;
use std::path::Path;

const NET: &str = "examples/digits/digits.fpn";
const DATA: &str = "examples/digits/test_x.npy";
const LABELS: &str = "examples/digits/test_y.npy";

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// `eval FILE` on the digits data with `extra` flags; the predictions CSV
/// and the report.
fn eval(file: &str, dir: &Path, name: &str, extra: &[&str]) -> (String, serde_json::Value) {
    let (p, r) = (dir.join(format!("{name}.csv")), dir.join(format!("{name}.json")));
    let mut args: Vec<String> =
        ["eval", file, "--data", DATA, "--labels", LABELS, "--input", "pixels"].iter().map(|x| x.to_string()).collect();
    args.extend(["--output", "class", "--steps-per-sample", "100", "--encode", "bernoulli"].map(String::from));
    args.extend(["--predictions".into(), s(&p), "--report".into(), s(&r)]);
    args.extend(extra.iter().map(|x| x.to_string()));
    fpnna_ok(&args);
    let report = serde_json::from_str(&std::fs::read_to_string(&r).unwrap()).unwrap();
    (std::fs::read_to_string(&p).unwrap(), report)
}

/// The columns both targets have: sample, label, predicted, tie, decided step, spikes.
fn decisions(csv: &str) -> Vec<String> {
    csv.lines().map(|l| l.split(',').take(6).collect::<Vec<_>>().join(",")).collect()
}

fn compile(dir: &Path) -> String {
    let fpb = s(&dir.join("digits.fpb"));
    fpnna_ok(&["compile".into(), NET.into(), "-o".into(), fpb.clone()]);
    fpb
}

#[test]
fn simulator_and_ideal_emulator_agree_on_every_sample() {
    let tmp = tempdir();
    let fpb = compile(tmp.path());
    let (sim, sim_report) = eval(NET, tmp.path(), "sim", &[]);
    let (emu, emu_report) = eval(&fpb, tmp.path(), "emu", &["--ideal"]);
    assert_eq!(sim.lines().count(), 361);
    assert_eq!(decisions(&sim), decisions(&emu));
    let acc = |r: &serde_json::Value| r["scores"]["accuracy"].as_f64().unwrap();
    assert_eq!(acc(&sim_report), acc(&emu_report));
    // The converted MLP keeps its accuracy (the float MLP scores 0.967).
    assert!(acc(&sim_report) > 0.93, "{}", acc(&sim_report));
    let scores = &emu_report["scores"];
    assert_eq!(scores["samples"], 360);
    let confusion: u64 = scores["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|x| x.as_u64().unwrap())
        .sum();
    assert_eq!(confusion + scores["silent"].as_u64().unwrap(), 360);
    // Cost per inference on the array: cycles, energy, the reset.
    let per = &scores["per_inference"];
    assert!(per["energy_pj"].as_f64().unwrap() > 0.0 && per["reset_cycles"].as_f64().unwrap() > 0.0, "{per}");
    assert!(per["latency_cycles"].as_f64().unwrap() < per["cycles"].as_f64().unwrap(), "{per}");
    assert!(sim_report["scores"]["per_inference"]["energy_pj"].is_null());
}

#[test]
fn threads_change_nothing_and_faults_cost_accuracy() {
    let tmp = tempdir();
    let fpb = compile(tmp.path());
    let noisy = ["--read-noise", "0.05", "--stuck-at-min", "0.1", "--seed", "3"];
    let (one, r1) = eval(&fpb, tmp.path(), "t1", &[&noisy[..], &["--threads", "1"]].concat());
    let (two, r2) = eval(&fpb, tmp.path(), "t2", &[&noisy[..], &["--threads", "2"]].concat());
    assert_eq!(one, two);
    // The report is the same but for its provenance, which records the
    // command line as given (`--threads 1` or `2`).
    let body = |r: &serde_json::Value| {
        let mut r = r.clone();
        r.as_object_mut().unwrap().remove("provenance");
        r
    };
    assert_eq!(body(&r1), body(&r2));
    assert_ne!(r1["provenance"]["command"], r2["provenance"]["command"]);
    let (_, ideal) = eval(&fpb, tmp.path(), "ideal", &["--ideal"]);
    let acc = |r: &serde_json::Value| r["scores"]["accuracy"].as_f64().unwrap();
    assert!(acc(&r1) < acc(&ideal), "faulty {} vs ideal {}", acc(&r1), acc(&ideal));
    // An explicit device flag applies on top of --ideal; the report counts
    // the faults apart from forming failures.
    let (_, stuck) = eval(&fpb, tmp.path(), "stuck", &["--ideal", "--stuck-at-min", "0.3"]);
    assert!(acc(&stuck) < acc(&ideal), "{} vs {}", acc(&stuck), acc(&ideal));
    let array = &stuck["array"];
    let (nodes, min) = (array["programmed_nodes"].as_u64().unwrap(), array["stuck_at_min"].as_u64().unwrap());
    // Two devices per crosspoint, each stuck at G_min with probability 0.3.
    assert!(min * 10 > 2 * nodes * 2 && min * 10 < 2 * nodes * 4, "{array}");
    assert_eq!((array["stuck_at_max"].as_u64(), array["forming_failures"].as_u64()), (Some(0), Some(0)));
    let (_, forming) = eval(&fpb, tmp.path(), "forming", &["--ideal", "--forming-yield", "0.9"]);
    assert!(forming["array"]["forming_failures"].as_u64().unwrap() > 0, "{}", forming["array"]);
    assert_eq!(forming["array"]["stuck_at_min"].as_u64(), Some(0));
}

#[test]
fn assignment_labels_the_output_neurons_on_a_split() {
    let tmp = tempdir();
    let (csv, r) = eval(NET, tmp.path(), "assign", &["--assign-on", "120"]);
    assert_eq!(r["scores"]["samples"], 240);
    // The trained readout's neurons are found to answer their own class.
    let classes = r["neuron_classes"].as_array().unwrap();
    let own = classes.iter().enumerate().filter(|(i, c)| c.as_u64() == Some(*i as u64)).count();
    assert!(own >= 9, "{classes:?}");
    let scored = csv.lines().skip(1).filter(|l| l.ends_with(",1")).count();
    assert_eq!(scored, 240);
}

#[test]
fn a_sweep_writes_its_table_and_plot() {
    let tmp = tempdir();
    let fpb = compile(tmp.path());
    // The first 60 samples, as CSV (the data path users without NumPy take).
    let x = fpnna_eval::data::parse(&DATA.parse().unwrap(), &std::fs::read(DATA).unwrap()).unwrap();
    let y = fpnna_eval::data::parse(&LABELS.parse().unwrap(), &std::fs::read(LABELS).unwrap()).unwrap();
    let rows: String = x
        .values
        .chunks(64)
        .take(60)
        .map(|r| r.iter().map(f64::to_string).collect::<Vec<_>>().join(",") + "\n")
        .collect();
    let labels: String = y.values.iter().take(60).map(|l| format!("{l}\n")).collect();
    let (xc, yc) = (tmp.path().join("x.csv"), tmp.path().join("y.csv"));
    std::fs::write(&xc, rows).unwrap();
    std::fs::write(&yc, labels).unwrap();
    let (out, svg) = (tmp.path().join("sweep.csv"), tmp.path().join("sweep.svg"));
    let sweep = |file: &str, extra: &[&str]| {
        let mut args = vec!["sweep", file, "--data", &s(&xc), "--labels", &s(&yc)]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        let task = ["--input", "pixels", "--output", "class", "--steps-per-sample", "100", "--ideal"];
        args.extend(task.iter().chain(extra).map(|x| x.to_string()));
        fpnna_ok(&args);
    };
    sweep(&fpb, &["--vary", "stuck-rate=0,0.3", "--seeds", "3", "-o", &s(&out), "--plot", &s(&svg)]);
    let table = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0],
        "stuck_rate,seeds,accuracy_mean,accuracy_std,accuracy_min,accuracy_max,energy_pj_mean,energy_pj_std,energy_pj_min,energy_pj_max"
    );
    assert_eq!(lines.len(), 3);
    let col = |l: &str, i: usize| l.split(',').nth(i).unwrap().parse::<f64>().unwrap();
    // Ideal devices: every seed the same; at 30 % stuck, lower and spread.
    assert_eq!(col(lines[1], 3), 0.0);
    assert!(col(lines[2], 2) < col(lines[1], 2), "{table}");
    assert!(col(lines[2], 3) > 0.0, "{table}");
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.starts_with("<svg") && picture.contains("stuck_rate") && picture.trim_end().ends_with("</svg>"));
    // From the source, the number of levels is an axis too (one compile per value).
    let json = tmp.path().join("levels.json");
    sweep(NET, &["--vary", "levels=2,32", "--seeds", "1", "-o", &s(&json)]);
    let sweep: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let acc = |i: usize| sweep["points"][i]["accuracy"]["mean"].as_f64().unwrap();
    assert_eq!(sweep["points"][1]["values"][0], 32.0);
    assert!(acc(0) < acc(1), "{sweep}");
    let refused = fpnna(&[
        "sweep",
        &fpb,
        "--data",
        DATA,
        "--labels",
        LABELS,
        "--input",
        "pixels",
        "--output",
        "class",
        "--steps-per-sample",
        "10",
        "--vary",
        "levels=4",
        "-o",
        "x.csv",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("--vary levels need the source network"), "{}", stderr(&refused));
}

#[test]
fn bad_requests_name_the_file_and_the_place() {
    let tmp = tempdir();
    let fpb = compile(tmp.path());
    let bad = s(&tmp.path().join("bad.csv"));
    std::fs::write(&bad, format!("{}\n{}2\n", vec!["0"; 64].join(","), "0,".repeat(63))).unwrap();
    let two = s(&tmp.path().join("two.csv"));
    std::fs::write(&two, "1\n2\n").unwrap();
    // (file, data, labels, extra flags, exit code, message)
    type Case<'a> = (&'a str, &'a str, &'a str, &'a [&'a str], i32, &'a str);
    let cases: &[Case] = &[
        (NET, &bad, LABELS, &[], 1, "bad.csv: sample 1, channel 63: 2 lies outside [0, 1] (rate coding)"),
        (NET, DATA, &two, &[], 2, "2 labels for 360 samples"),
        (&fpb, DATA, &two, &[], 2, "2 labels for 360 samples"),
        (NET, LABELS, LABELS, &[], 1, "test_y.npy: shape [360]: features are samples x channels"),
        (NET, "nowhere.npy", LABELS, &[], 1, "nowhere.npy: cannot read"),
        (NET, DATA, LABELS, &["--read-noise", "0.1"], 2, "device flags apply to a bitstream"),
        (&fpb, DATA, LABELS, &["--input", "pix"], 2, "--input pix: no such input port (input ports: pixels)"),
        (&fpb, DATA, LABELS, &["--output", "nothing"], 2, "--output nothing: no population or output port"),
        (NET, DATA, LABELS, &["--output", "hidden2"], 2, "--output hidden2: no such neuron population"),
        (NET, DATA, LABELS, &["--assign-on", "360"], 2, "--assign-on 360: leaves no sample to score"),
        (NET, DATA, LABELS, &["--encode", "spikes", "--rate-max", "5"], 2, "--rate-max applies to --encode poisson"),
        (&fpb, DATA, LABELS, &["--read-noise", "2"], 2, "--read-noise"),
        (NET, "x.npz:", LABELS, &[], 2, "name the array after the colon"),
    ];
    for &(file, data, labels, extra, code, want) in cases {
        let mut args = vec!["eval", file, "--data", data, "--labels", labels, "--steps-per-sample", "20"];
        for (flag, default) in [("--input", "pixels"), ("--output", "class")] {
            if !extra.contains(&flag) {
                args.extend([flag, default]);
            }
        }
        args.extend(extra);
        let out = fpnna(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: expected `{want}` in: {err}");
    }
}
