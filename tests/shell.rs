//! The shell around the commands: completion scripts and man pages made
//! from the clap definitions, and the global `-q`/`-v` verbosity.

mod common;
use common::*;

/// Every subcommand a user can type.
const COMMANDS: [&str; 15] = [
    "check",
    "sim",
    "arch",
    "compile",
    "decompile",
    "disasm",
    "asm",
    "inspect",
    "run",
    "device",
    "eval",
    "sweep",
    "completions",
    "man",
    "help",
];

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

#[test]
fn the_bash_completion_parses_and_offers_every_command_and_runs_options() {
    let out = fpnna_ok(&["completions".into(), "bash".into()]);
    let script = stdout(&out);
    let tmp = tempdir();
    let path = tmp.path().join("fpnna.bash");
    std::fs::write(&path, &script).unwrap();
    // `bash -n` parses without running: a syntax error fails it.
    let check = std::process::Command::new("bash").arg("-n").arg(&path).output().expect("bash");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    for c in COMMANDS {
        assert!(script.contains(&format!(" {c} ")) || script.contains(&format!(" {c}\"")), "no `{c}`");
    }
    for opt in ["--steps", "--stimulus", "--vcd", "--device-readonly", "--quiet"] {
        assert!(script.contains(opt), "no `{opt}`");
    }
}

#[test]
fn zsh_and_fish_completions_name_the_commands() {
    for shell in ["zsh", "fish"] {
        let script = stdout(&fpnna_ok(&["completions".into(), shell.into()]));
        for c in ["compile", "run", "eval", "device"] {
            assert!(script.contains(c), "{shell}: no `{c}`");
        }
    }
    let out = fpnna(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid value 'tcsh'"), "{}", stderr(&out));
}

#[test]
fn man_writes_a_page_per_command_with_its_options() {
    let tmp = tempdir();
    fpnna_ok(&["man".into(), "--dir".into(), tmp.path().display().to_string()]);
    let top = std::fs::read_to_string(tmp.path().join("fpnna.1")).unwrap();
    assert!(top.starts_with(".ie") && top.contains(".TH fpnna 1"), "{}", &top[..200.min(top.len())]);
    for c in COMMANDS.iter().filter(|&&c| c != "help") {
        let page = std::fs::read_to_string(tmp.path().join(format!("fpnna-{c}.1")))
            .unwrap_or_else(|e| panic!("fpnna-{c}.1: {e}"));
        assert!(page.contains(&format!(".TH fpnna-{c} 1")), "{c}");
        assert!(page.contains(".SH OPTIONS"), "{c}");
    }
    let run = std::fs::read_to_string(tmp.path().join("fpnna-run.1")).unwrap();
    assert!(run.contains(r"\-\-steps") && run.contains("Timesteps to run"));
    // Without --dir: the top page on standard output.
    assert_eq!(stdout(&fpnna_ok(&["man".into()])), top);
}

#[test]
fn quiet_silences_summaries_and_verbose_names_the_stages() {
    let tmp = tempdir();
    let b = tmp.path().join("g.fpb").display().to_string();
    let compile = |flag: &str| {
        let mut args = vec!["compile".to_string(), "examples/and_gate/and_gate.fpn".into(), "-o".into(), b.clone()];
        if !flag.is_empty() {
            args.insert(0, flag.into());
        }
        stderr(&fpnna_ok(&args))
    };
    let verbose = compile("-v");
    for stage in ["quantize", "partition", "place", "route", "bitgen"] {
        assert!(verbose.contains(&format!("  {stage}...")), "{verbose}");
    }
    assert!(!compile("").contains("quantize..."));
    let run = |flag: &str| {
        let mut args = vec!["run".to_string(), b.clone(), "--steps".into(), "20".into(), "--ideal".into()];
        if !flag.is_empty() {
            args.push(flag.into());
        }
        stderr(&fpnna_ok(&args))
    };
    assert!(run("").contains("20 steps"), "the summary is on by default");
    // The flag is global: after the subcommand too.
    assert_eq!(run("-q"), "");
    let out = fpnna(&["-q", "-v", "check", "examples/and_gate/and_gate.fpn"]);
    assert_eq!(out.status.code(), Some(2), "-q and -v conflict");
}
