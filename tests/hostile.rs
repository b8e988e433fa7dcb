//! Hostile inputs, one directory per case under `tests/hostile/` (docs/testing.md):
//! the input files, `cmd` (fpnna's arguments on one line, split at
//! whitespace, paths relative to the case directory), `exit` (the expected
//! exit code), `stderr` (substrings that must appear in standard error,
//! one per line) and optionally `timeout` (seconds, instead of 60). Every
//! case runs in a temporary copy of its directory, so whatever it writes
//! stays there; none may panic, abort or hang.

mod common;
use common::*;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Fewer cases than this and the suite fails: a directory emptied or
/// renamed by mistake cannot pass.
const MIN_CASES: usize = 40;

/// The longest a case may take before it counts as a hang.
const TIMEOUT: Duration = Duration::from_secs(60);

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Runs one case; returns what is wrong with it, if anything.
fn run_case(case: &Path) -> Result<(), String> {
    let read = |name: &str| {
        std::fs::read_to_string(case.join(name)).map_err(|e| format!("{}: {e}", case.join(name).display()))
    };
    let cmd = read("cmd")?;
    let args: Vec<&str> = cmd.split_whitespace().collect();
    let exit: i32 = read("exit")?.trim().parse().map_err(|e| format!("exit: {e}"))?;
    let wanted = read("stderr")?;
    // An optional `timeout` (seconds) holds a case to a tighter bound.
    let timeout = match std::fs::read_to_string(case.join("timeout")) {
        Ok(t) => Duration::from_secs(t.trim().parse().map_err(|e| format!("timeout: {e}"))?),
        Err(_) => TIMEOUT,
    };
    let tmp = tempdir();
    let dir = tmp.path().join("case");
    copy_dir(case, &dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_fpnna"))
        .args(&args)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    // Drained while it runs, so that a long message cannot fill the pipe.
    let drain = |mut from: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = from.read_to_end(&mut bytes);
            bytes
        })
    };
    let out_thread = drain(Box::new(child.stdout.take().unwrap()));
    let err_thread = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("fpnna {}: still running after {timeout:?}", cmd.trim()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = out_thread.join();
    let err = String::from_utf8_lossy(&err_thread.join().unwrap()).into_owned();
    let mut wrong = Vec::new();
    if status.code() != Some(exit) {
        wrong.push(format!("exit status {status:?}, expected {exit}"));
    }
    if err.contains("panicked") || err.contains("overflowed its stack") {
        wrong.push("a panic or abort".to_string());
    }
    for line in wanted.lines().filter(|l| !l.trim().is_empty()) {
        if !err.contains(line) {
            wrong.push(format!("no `{line}` in standard error"));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        let shown: String = err.chars().take(4000).collect();
        Err(format!("fpnna {}: {}\n--- stderr:\n{shown}", cmd.trim(), wrong.join("; ")))
    }
}

/// A FIFO cannot be checked in: this case makes one.
#[test]
fn an_include_of_a_fifo_is_refused_without_blocking() {
    let tmp = tempdir();
    let fifo = tmp.path().join("pipe.fpn");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let case = tmp.path().join("case");
    std::fs::create_dir(&case).unwrap();
    let source = format!("include {:?};\nnetwork n {{ input a[1]; }}\n", fifo.display().to_string());
    std::fs::write(case.join("net.fpn"), source).unwrap();
    std::fs::write(case.join("cmd"), "check net.fpn").unwrap();
    std::fs::write(case.join("exit"), "1").unwrap();
    std::fs::write(case.join("stderr"), "pipe.fpn`\nnot a regular file\n").unwrap();
    std::fs::write(case.join("timeout"), "20").unwrap();
    // A reader left waiting is killed at the timeout.
    run_case(&case).unwrap();
}

#[test]
fn a_weight_file_that_is_a_fifo_is_refused_without_blocking() {
    let tmp = tempdir();
    let case = tmp.path().join("case");
    std::fs::create_dir(&case).unwrap();
    let fifo = tmp.path().join("w.csv");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let source = format!(
        "network n {{ input a[2]; population b[2] : lif {{ }}; connect a -> b : dense({:?}); }}\n",
        fifo.display().to_string()
    );
    std::fs::write(case.join("net.fpn"), source).unwrap();
    std::fs::write(case.join("cmd"), "check net.fpn").unwrap();
    std::fs::write(case.join("exit"), "1").unwrap();
    std::fs::write(case.join("stderr"), "w.csv\nnot a regular file\n").unwrap();
    std::fs::write(case.join("timeout"), "20").unwrap();
    run_case(&case).unwrap();
}

#[test]
fn every_hostile_input_is_refused_cleanly() {
    let mut cases: Vec<_> = std::fs::read_dir(root().join("tests/hostile"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= MIN_CASES, "only {} hostile cases in tests/hostile", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| run_case(c).err().map(|e| format!("{}: {e}", c.file_name().unwrap().to_string_lossy())))
        .collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}
