//! Command-line behaviour: bad stimulus files, exit codes, and no output
//! file left behind by a command that fails.

mod common;
use common::*;

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
fn sim_prints_a_rate_summary_to_stderr() {
    let out = fpnna(&["sim", "examples/synfire/synfire.fpn", "--steps", "100"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "a summary on stdout");
    let text = stderr(&out);
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

fn run_fpb(fpb: &std::path::Path, extra: &[&str], spikes: &std::path::Path) -> std::process::Output {
    let mut args = vec!["run", fpb.to_str().unwrap(), "--steps", "60", "--ideal", "--spikes", spikes.to_str().unwrap()];
    args.extend(extra);
    fpnna(&args)
}

#[test]
fn corrupt_bitstreams_are_refused_with_the_place() {
    let tmp = tempdir();
    let fpb = compiled_gate(tmp.path());
    let good = std::fs::read(&fpb).unwrap();
    let spikes = tmp.path().join("out.csv");
    let bad = tmp.path().join("bad.fpb");
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x10;
    let mut magic = good.clone();
    magic[0] = b'X';
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (flipped, "byte"),
        (good[..good.len() - 7].to_vec(), "truncated"),
        (magic, "not an fpnna bitstream"),
        (Vec::new(), "truncated"),
    ];
    for (bytes, msg) in cases {
        std::fs::write(&bad, &bytes).unwrap();
        let out = run_fpb(&bad, &[], &spikes);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("bad.fpb") && err.contains(msg), "expected `{msg}` in: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!spikes.exists());
        for cmd in ["inspect", "disasm"] {
            let out = fpnna(&[cmd, bad.to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(1), "{cmd}: {}", stderr(&out));
        }
    }
}

#[test]
fn a_bitstream_for_another_architecture_is_named() {
    let tmp = tempdir();
    let fpb = compiled_gate(tmp.path());
    let small = tmp.path().join("small.toml");
    std::fs::write(&small, fpnna(&["arch", "--preset", "small"]).stdout).unwrap();
    let spikes = tmp.path().join("out.csv");
    let out = run_fpb(&fpb, &["--arch", small.to_str().unwrap()], &spikes);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("default") && err.contains("small"), "{err}");
    assert!(!spikes.exists());
}

#[test]
fn run_refuses_a_bad_stimulus_with_file_and_line() {
    let tmp = tempdir();
    let fpb = compiled_gate(tmp.path());
    let stim = tmp.path().join("stim.csv");
    let spikes = tmp.path().join("out.csv");
    for (text, msg) in [
        ("step,population,index\n1,a,0\n2,y,0\n", "stim.csv:3: `y` is not an input port"),
        ("step,population,index\n1,b,3\n", "stim.csv:2: index 3 is out of range"),
        ("step,population,index\n60,a,0\n", "stim.csv:2: step 60 is beyond the run"),
        ("step,population,index\n1;a;0\n", "stim.csv:2: expected 3 fields"),
    ] {
        std::fs::write(&stim, text).unwrap();
        let out = run_fpb(&fpb, &["--stimulus", stim.to_str().unwrap()], &spikes);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(msg), "expected `{msg}` in: {err}");
        assert!(!spikes.exists());
    }
}

#[test]
fn designs_that_do_not_fit_say_what_and_by_how_much() {
    let tmp = tempdir();
    let big = tmp.path().join("big.fpn");
    std::fs::write(&big, "network big { population huge[100000] : lif; }\n").unwrap();
    let out = fpnna(&["compile", big.to_str().unwrap(), "--preset", "small"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("big.fpn") && err.contains("tiles") && err.contains("preset"), "{err}");

    // A delay beyond the architecture's maximum names the projection.
    let arch = tmp.path().join("short.toml");
    let text = String::from_utf8(fpnna(&["arch"]).stdout).unwrap().replace("max_delay = 64", "max_delay = 4");
    std::fs::write(&arch, text).unwrap();
    let out = fpnna(&["compile", "examples/synfire/synfire.fpn", "--arch", arch.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("g6 -> g7") && err.contains("delay 5") && err.contains("max_delay 4"), "{err}");
}

#[test]
fn run_prints_a_summary_and_writes_stats_and_a_vcd() {
    let tmp = tempdir();
    let fpb = compiled_gate(tmp.path());
    let (stats, vcd, spikes) = (tmp.path().join("s.json"), tmp.path().join("w.vcd"), tmp.path().join("o.csv"));
    let out = run_fpb(
        &fpb,
        &[
            "--stimulus",
            "examples/and_gate/stimulus.csv",
            "--stats",
            stats.to_str().unwrap(),
            "--vcd",
            vcd.to_str().unwrap(),
            "--trace",
            "y[0]",
        ],
        &spikes,
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    for word in ["60 steps", "cycles", "ms at 100 MHz", "pJ per synaptic event", "wall", "events/s"] {
        assert!(err.contains(word), "summary lacks `{word}`: {err}");
    }
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(stats).unwrap()).unwrap();
    for key in ["steps", "cycles_total", "cycles_per_step", "spikes", "synaptic_events", "packets", "hops", "row_reads"]
    {
        assert!(s.get(key).is_some(), "stats lack `{key}`");
    }
    assert_eq!(s["steps"], 60);
    assert_eq!(s["synaptic_events"], 8, "8 input spikes, one synapse each");
    assert!(s["energy_pj"]["items"].as_array().unwrap().iter().all(|i| i["assumption"].is_string()));
    assert!(s.get("config_cycles").is_some() && s.get("config_energy_pj").is_some());
    let vcd = std::fs::read_to_string(vcd).unwrap();
    assert!(vcd.contains("$timescale") && vcd.contains("$enddefinitions") && vcd.contains("y_0"), "{vcd}");
}

#[test]
fn a_malformed_architecture_file_is_located() {
    let tmp = tempdir();
    let bad = tmp.path().join("bad.toml");
    let text = String::from_utf8(fpnna(&["arch"]).stdout).unwrap().replacen("rows = 512", "rows = \"many\"", 1);
    std::fs::write(&bad, &text).unwrap();
    let line = text.lines().position(|l| l.contains("\"many\"")).unwrap() + 1;
    for args in [vec!["arch", "--check"], vec!["compile", GATE, "--arch"], vec!["sim", GATE, "--steps", "5", "--arch"]]
    {
        let mut args = args.clone();
        args.push(bad.to_str().unwrap());
        let out = fpnna(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(&format!("bad.toml:{line}:")), "{args:?}: {err}");
    }
}

#[test]
fn learned_state_is_saved_and_reloaded() {
    let tmp = tempdir();
    let p = |x: &str| tmp.path().join(x).display().to_string();
    fpnna_ok(&["compile".into(), "examples/stdp/stdp.fpn".into(), "-o".into(), p("s.fpb")]);
    let stim = "examples/stdp/stimulus.csv".to_string();
    let run = |extra: &[String], spikes: &str| {
        let mut args = vec!["run".into(), p("s.fpb"), "--ideal".into(), "--steps".into(), "1220".into()];
        args.extend(["--stimulus".into(), stim.clone(), "--spikes".into(), p(spikes)]);
        args.extend(extra.iter().cloned());
        fpnna(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let out = run(&["--save-state".into(), p("learned.json")], "first.csv");
    assert!(out.status.success(), "{}", stderr(&out));
    let state = std::fs::read_to_string(p("learned.json")).unwrap();
    // A second session from the learned state fires earlier in the pattern
    // than the first did: the learned weights were kept.
    let out = run(&["--load-state".into(), p("learned.json")], "second.csv");
    assert!(out.status.success(), "{}", stderr(&out));
    let first_spike = |f: &str| -> u64 {
        let text = std::fs::read_to_string(p(f)).unwrap();
        text.lines().nth(1).expect("a spike").split(',').next().unwrap().parse().unwrap()
    };
    assert!(first_spike("second.csv") < first_spike("first.csv"));
    // A damaged state file is refused with its name.
    std::fs::write(p("broken.json"), &state[..state.len() / 2]).unwrap();
    let out = run(&["--load-state".into(), p("broken.json")], "third.csv");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("broken.json"), "{}", stderr(&out));
    assert!(!tmp.path().join("third.csv").exists());
}

#[test]
fn parameters_wider_than_the_neuron_registers_are_refused() {
    let tmp = tempdir();
    let arch = tmp.path().join("narrow.toml");
    let text = String::from_utf8(fpnna(&["arch"]).stdout).unwrap().replace("state_bits = 32", "state_bits = 16");
    std::fs::write(&arch, text).unwrap();
    // Threshold 10 is 655360 in Q16: beyond a 16-bit register.
    let out = fpnna(&["compile", "examples/cuba/cuba.fpn", "--arch", arch.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("population `exc`: threshold 10") && err.contains("16-bit"), "{err}");
}

#[test]
fn device_flags_are_named_like_the_figures_and_checked_on_the_command_line() {
    let tmp = tempdir();
    let fpb = compiled_gate(tmp.path());
    let fpb = fpb.to_str().unwrap();
    let base = ["run", fpb, "--steps", "10"];
    let with = |extra: &[&str]| fpnna(&[&base[..], extra].concat());
    // The field names and the old names (hidden aliases) are both accepted.
    for flags in
        [["--d2d-tau-spread", "0.1"], ["--tau-spread", "0.1"], ["--write-verify", "2"], ["--write-verify-max", "2"]]
    {
        let out = with(&flags);
        assert!(out.status.success(), "{flags:?}: {}", stderr(&out));
    }
    // A value out of the figure's range is a command-line error naming the flag.
    for (flags, needle) in [
        (&["--c2c-noise", "1.5"][..], "--c2c-noise"),
        (&["--program-error", "NaN"][..], "--program-error"),
        (&["--drift-nu", "x"][..], "--drift-nu"),
        (&["--stuck-at-min", "0.6", "--stuck-at-max", "0.6"][..], "stuck_at_max"),
    ] {
        let out = with(flags);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{flags:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains(".fpb"), "not an error in the bitstream: {}", stderr(&out));
    }
}

#[test]
fn a_panic_is_reported_as_an_internal_error_with_exit_code_3() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fpnna"))
        .args(["check", "examples/and_gate/and_gate.fpn"])
        .env("FPNNA_TEST_PANIC", "1")
        .current_dir(root())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.starts_with("fpnna: internal error: FPNNA_TEST_PANIC is set at src/panic.rs:"), "{err}");
    assert!(err.contains("this is a bug; please report it with the input that caused it"), "{err}");
    assert!(!err.contains("panicked"), "the default hook spoke too:\n{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn compile_verify_checks_the_bitstream_against_the_network() {
    let tmp = tempdir();
    let out = tmp.path().join("gate.fpb").display().to_string();
    let o = fpnna_ok(&["compile".into(), GATE.into(), "--verify".into(), "-o".into(), out.clone()]);
    assert!(stderr(&o).contains("bytes written to") && o.stdout.is_empty(), "{}", stderr(&o));
    // Verifying without writing writes nothing.
    std::fs::remove_file(&out).unwrap();
    fpnna_ok(&["compile".into(), GATE.into(), "--verify".into()]);
    assert!(!std::path::Path::new(&out).exists());
}

#[test]
fn the_outputs_of_one_command_are_written_together_or_not_at_all() {
    let tmp = tempdir();
    let p = |x: &str| tmp.path().join(x).display().to_string();
    let missing = p("no/such/dir/out");
    let fpb = p("gate.fpb");
    fpnna_ok(&["compile".into(), GATE.into(), "-o".into(), fpb.clone()]);
    let listing = || {
        let mut v: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        v.sort();
        v
    };
    let before = listing();
    // The last output cannot be written: none of the others appears either.
    let cases: Vec<Vec<String>> = vec![
        vec!["compile".into(), GATE.into(), "--report".into(), p("r.json"), "-o".into(), missing.clone()],
        vec![
            "run".into(),
            fpb.clone(),
            "--steps".into(),
            "20".into(),
            "--vcd".into(),
            p("w.vcd"),
            "--spikes".into(),
            p("s.csv"),
            "--stats".into(),
            p("st.json"),
            "--save-state".into(),
            missing.clone(),
        ],
    ];
    for args in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = fpnna(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("no/such/dir/out: cannot write"), "{}", stderr(&out));
        // No summary of work whose outputs were not written.
        assert!(!stderr(&out).contains("compiled `") && !stderr(&out).contains(" steps, "), "{}", stderr(&out));
        assert_eq!(listing(), before, "{args:?}: outputs or temporaries were left behind");
    }
}

#[test]
fn thread_counts_beyond_what_helps_are_command_line_errors() {
    let tmp = tempdir();
    let fpb = tmp.path().join("gate.fpb").display().to_string();
    fpnna_ok(&["compile".into(), GATE.into(), "-o".into(), fpb.clone()]);
    for threads in ["0", "257", "100000"] {
        let out = fpnna(&["run", &fpb, "--steps", "5", "--threads", threads]);
        assert_eq!(out.status.code(), Some(2), "--threads {threads}: {}", stderr(&out));
        assert!(stderr(&out).contains("--threads"), "{}", stderr(&out));
    }
    let out = fpnna(&["run", &fpb, "--steps", "5", "--threads", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_saved_state_is_refused_by_the_same_structure_with_an_edited_threshold() {
    let tmp = tempfile::tempdir().unwrap();
    let fpb = compiled_gate(tmp.path());
    let path = |n: &str| tmp.path().join(n).display().to_string();
    let fpb_s = fpb.display().to_string();
    let ok = |args: &[&str]| {
        let out = fpnna(args);
        assert!(out.status.success(), "{}", stderr(&out));
        out
    };
    ok(&["run", &fpb_s, "--steps", "5", "--save-state", &path("s.json")]);
    // The same configuration (disassembled and assembled again) accepts it.
    let asm = String::from_utf8(ok(&["disasm", &fpb_s]).stdout).unwrap();
    std::fs::write(path("same.fpa"), &asm).unwrap();
    ok(&["asm", &path("same.fpa"), "-o", &path("same.fpb")]);
    ok(&["run", &path("same.fpb"), "--steps", "5", "--load-state", &path("s.json")]);
    // One threshold edited: same structure, another configuration.
    assert_eq!(asm.matches(" threshold 65536 ").count(), 1, "{asm}");
    std::fs::write(path("edited.fpa"), asm.replace(" threshold 65536 ", " threshold 65537 ")).unwrap();
    ok(&["asm", &path("edited.fpa"), "-o", &path("edited.fpb")]);
    let out = fpnna(&["run", &path("edited.fpb"), "--steps", "5", "--load-state", &path("s.json")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(&format!("{}: ", path("s.json"))), "{}", stderr(&out));
    assert!(stderr(&out).contains("saved from another configuration"), "{}", stderr(&out));
}
