//! `run --checkpoint` and `run --resume`: a run killed with SIGKILL and
//! resumed ends in the same bytes as a run that was never stopped, and a
//! checkpoint resumes only the run it was taken of (docs/cli.md,
//! "Checkpoints").

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The outputs every run here writes, by file name.
const OUTPUTS: [&str; 4] = ["spikes.csv", "stats.json", "run.vcd", "state.json"];

/// The CUBA example compiled into `dir` (long enough a run to kill).
fn compiled_cuba(dir: &Path) -> String {
    let fpb = dir.join("cuba.fpb");
    let fpb = fpb.display().to_string();
    fpnna_ok(&s(&["-q", "compile", "examples/cuba/cuba.fpn", "--preset", "large", "-o", &fpb]));
    fpb
}

fn s(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// A checkpointed run of `fpb` in `dir` writing all of [`OUTPUTS`], on two
/// threads with non-ideal devices.
fn run_in(dir: &Path, fpb: &str, steps: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fpnna"));
    c.current_dir(dir).args(["-q", "run", fpb, "--steps", steps, "--threads", "2", "--seed", "7"]);
    c.args(["--spikes", "spikes.csv", "--stats", "stats.json", "--save-state", "state.json"]);
    c.args(["--vcd", "run.vcd", "--trace", "exc[0..3]", "--trace", "inh[5]"]);
    c.args(["--checkpoint", "ck.json", "--checkpoint-every", "250"]);
    c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

/// Runs `fpnna run --resume ck.json` in `dir`.
fn resume_in(dir: &Path) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fpnna"));
    c.current_dir(dir).args(["-q", "run", "--resume", "ck.json"]);
    c.output().unwrap()
}

#[test]
fn a_run_killed_mid_way_and_resumed_writes_the_bytes_of_an_uninterrupted_one() {
    let tmp = tempdir();
    let fpb = compiled_cuba(tmp.path());
    let (whole, killed) = (tmp.path().join("whole"), tmp.path().join("killed"));
    std::fs::create_dir_all(&whole).unwrap();
    std::fs::create_dir_all(&killed).unwrap();
    let steps = "6000";
    let out = run_in(&whole, &fpb, steps).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!whole.join("ck.json").exists(), "a finished run leaves its checkpoint");

    // Killed once its first checkpoint is on the disk, long before its end.
    let mut child = run_in(&killed, &fpb, steps).spawn().unwrap();
    let t = Instant::now();
    while !killed.join("ck.json").exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before its first checkpoint");
        assert!(t.elapsed() < Duration::from_secs(60), "no checkpoint after a minute");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for name in OUTPUTS {
        assert!(!killed.join(name).exists(), "{name}: the run finished before the kill; lengthen it");
    }
    assert!(killed.join(".spikes.csv.fpnna-part").exists() && killed.join(".run.vcd.fpnna-part").exists());

    let out = resume_in(&killed);
    assert!(out.status.success(), "{}", stderr(&out));
    for name in OUTPUTS {
        let (a, b) = (std::fs::read(whole.join(name)).unwrap(), std::fs::read(killed.join(name)).unwrap());
        assert!(a == b, "{name} differs after the resume");
    }
    let left: Vec<_> = std::fs::read_dir(&killed).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), OUTPUTS.len(), "the checkpoint or a part file stays: {left:?}");
}

/// Runs the and gate in `dir`, checkpointed every step, with its state
/// saved into `sub/` (missing: the run fails after its last checkpoint,
/// which stays).
fn failed_gate_run(dir: &Path) -> std::process::Output {
    let fpb = compiled_gate(dir);
    let mut c = Command::new(env!("CARGO_BIN_EXE_fpnna"));
    c.current_dir(dir).args(["-q", "run", &fpb.display().to_string(), "--steps", "60"]);
    c.args(["--stimulus", &root().join("examples/and_gate/stimulus.csv").display().to_string()]);
    c.args(["--spikes", "spikes.csv", "--save-state", "sub/state.json", "--checkpoint", "ck.json"]);
    c.args(["--checkpoint-every", "1"]);
    c.output().unwrap()
}

#[test]
fn a_run_that_fails_at_its_end_resumes_from_its_last_checkpoint() {
    let tmp = tempdir();
    let out = failed_gate_run(tmp.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(tmp.path().join("ck.json").exists() && !tmp.path().join("spikes.csv").exists());
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    let out = resume_in(tmp.path());
    assert!(out.status.success(), "{}", stderr(&out));
    // The same as a run that never stopped.
    let gate = compiled_gate(tmp.path()).display().to_string();
    let stim = root().join("examples/and_gate/stimulus.csv").display().to_string();
    let whole = tmp.path().join("whole.csv").display().to_string();
    fpnna_ok(&s(&["-q", "run", &gate, "--steps", "60", "--stimulus", &stim, "--spikes", &whole]));
    let spikes = std::fs::read_to_string(tmp.path().join("spikes.csv")).unwrap();
    assert!(spikes.lines().count() > 1, "no spikes: the test proves nothing");
    assert_eq!(spikes, std::fs::read_to_string(&whole).unwrap());
    assert!(tmp.path().join("sub/state.json").exists() && !tmp.path().join("ck.json").exists());
}

#[test]
fn a_checkpoint_is_refused_by_a_bitstream_with_an_edited_threshold() {
    let tmp = tempdir();
    let out = failed_gate_run(tmp.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // The same structure, one threshold edited.
    let fpb = tmp.path().join("gate.fpb");
    let asm = String::from_utf8(fpnna_ok(&s(&["disasm", &fpb.display().to_string()])).stdout).unwrap();
    let edited = asm.replacen(" threshold 65536 ", " threshold 65537 ", 1);
    assert_ne!(edited, asm, "no threshold to edit");
    let fpa = tmp.path().join("edited.fpa");
    std::fs::write(&fpa, edited).unwrap();
    fpnna_ok(&s(&["asm", &fpa.display().to_string(), "-o", &fpb.display().to_string()]));
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    let out = resume_in(tmp.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("ck.json: the bitstream") && err.contains("changed since the checkpoint"), "{err}");
    assert!(!tmp.path().join("spikes.csv").exists(), "a refused resume wrote its output");
}
