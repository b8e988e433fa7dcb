//! How outputs are put in place: through symbolic links, keeping an
//! existing file's permissions, and never leaving a temporary behind
//! (removed on SIGTERM, swept at the next command when its process is gone).

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Runs the and gate's bitstream for `steps` with `extra` outputs.
fn run(fpb: &Path, steps: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["-q", "run"];
    let fpb = s(fpb);
    args.extend([fpb.as_str(), "--steps", steps]);
    args.extend(extra);
    fpnna(&args)
}

/// The names in `dir` that look like an fpnna temporary.
fn temporaries(dir: &Path) -> Vec<String> {
    let names = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned());
    names.filter(|n| n.contains("fpnna-tmp")).collect()
}

#[test]
fn an_output_is_written_through_a_link_and_keeps_its_permissions() {
    let tmp = tempdir();
    let fpb = compiled_gate(tmp.path());
    let plain = tmp.path().join("plain.csv");
    assert!(run(&fpb, "10", &["--spikes", &s(&plain)]).status.success());
    // A link: its target gets the spikes, the link stays a link.
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    let real = tmp.path().join("sub/real.csv");
    std::fs::write(&real, "old").unwrap();
    let link = tmp.path().join("link.csv");
    std::os::unix::fs::symlink("sub/real.csv", &link).unwrap();
    let out = run(&fpb, "10", &["--spikes", &s(&link)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
    assert_eq!(std::fs::read(&real).unwrap(), std::fs::read(&plain).unwrap());
    // A file's mode is kept (0640 here, where a new file gets 0644 or so).
    let kept = tmp.path().join("kept.csv");
    std::fs::write(&kept, "old").unwrap();
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert!(run(&fpb, "10", &["--spikes", &s(&kept)]).status.success());
    assert_eq!(std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777, 0o640);
    assert_eq!(std::fs::read(&kept).unwrap(), std::fs::read(&plain).unwrap());
    assert!(temporaries(tmp.path()).is_empty() && temporaries(&tmp.path().join("sub")).is_empty());
}

#[test]
fn a_temporary_left_by_a_killed_process_is_swept_by_the_next_command() {
    let tmp = tempdir();
    let fpb = compiled_gate(tmp.path());
    // What a SIGKILL leaves: a temporary named for a process that is gone
    // (no process id reaches 2^32 - 2) and one of another output.
    let left = tmp.path().join(format!(".spikes.csv.fpnna-tmp.{}", u32::MAX - 1));
    let other = tmp.path().join(format!(".other.csv.fpnna-tmp.{}", u32::MAX - 1));
    std::fs::write(&left, "half").unwrap();
    std::fs::write(&other, "half").unwrap();
    assert!(run(&fpb, "10", &["--spikes", &s(&tmp.path().join("spikes.csv"))]).status.success());
    assert!(!left.exists(), "the stale temporary of spikes.csv stays");
    assert!(other.exists(), "a temporary of another output was swept before its own command");
}

#[test]
fn sigterm_during_a_run_removes_its_temporaries_and_writes_nothing() {
    let tmp = tempdir();
    let fpb = compiled_gate(tmp.path());
    let vcd = tmp.path().join("trace.vcd");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_fpnna"))
        .args(["-q", "run", &s(&fpb), "--steps", "100000000", "--vcd", &s(&vcd)])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (a bounded while) for the VCD's temporary, let the run go on a
    // little, then stop it.
    let started = (0..3000).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        !temporaries(tmp.path()).is_empty()
    });
    assert!(started, "the run never started writing its VCD");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    assert!(!vcd.exists(), "a VCD was put in place");
    assert_eq!(temporaries(tmp.path()), Vec::<String>::new());
}

#[test]
fn a_vcd_is_bounded_by_its_window_and_its_size_limit() {
    let tmp = tempdir();
    let fpb = compiled_gate(tmp.path());
    let stim = "examples/and_gate/stimulus.csv";
    let vcd = tmp.path().join("w.vcd");
    let windowed = ["--stimulus", stim, "--vcd", &s(&vcd), "--vcd-from", "20", "--vcd-to", "40"];
    let out = run(&fpb, "60", &windowed);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&vcd).unwrap();
    let times: Vec<u64> = text.lines().filter_map(|l| l.strip_prefix('#')?.parse().ok()).collect();
    assert_eq!((times.first(), times.last()), (Some(&0), Some(&40)), "{times:?}");
    assert!(times[1..].iter().all(|t| (20..=40).contains(t)), "a change outside the window: {times:?}");
    // From a saved state the window counts from the run's first step, as
    // the spike file does; the VCD's time goes on from the state's step.
    let state = tmp.path().join("state.json");
    assert!(run(&fpb, "30", &["--save-state", &s(&state)]).status.success());
    let late = tmp.path().join("late.csv");
    std::fs::write(&late, "step,population,index\n25,a,0\n25,b,0\n").unwrap();
    let (late, state, vcd_path) = (s(&late), s(&state), s(&vcd));
    let resumed =
        ["--stimulus", &late, "--load-state", &state, "--vcd", &vcd_path, "--vcd-from", "20", "--vcd-to", "40"];
    let out = run(&fpb, "60", &resumed);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&vcd).unwrap();
    let times: Vec<u64> = text.lines().filter_map(|l| l.strip_prefix('#')?.parse().ok()).collect();
    assert_eq!(times.last(), Some(&70), "{times:?}");
    assert!(times.contains(&55), "the stimulus of run step 25 is at emulator step 55: {times:?}");
    assert!(times[1..].iter().all(|t| (50..=70).contains(t)), "a change outside the window: {times:?}");
    // The size limit: reached while writing, the command fails naming the
    // VCD and writes nothing; foreseeable from the traced neurons, it is
    // refused before the run as a command-line error.
    let small = tmp.path().join("small.vcd");
    let out = run(&fpb, "60", &["--vcd", &s(&small), "--vcd-max-bytes", "100"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("{}: the VCD reached --vcd-max-bytes 100", s(&small))), "{}", stderr(&out));
    let out = run(&fpb, "60000000", &["--vcd", &s(&small), "--trace", "y"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("raise --vcd-max-bytes"), "{}", stderr(&out));
    let out = run(&fpb, "60", &["--vcd", &s(&small), "--vcd-from", "50", "--vcd-to", "70"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!small.exists() && temporaries(tmp.path()).is_empty());
}
