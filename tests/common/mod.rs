//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (tests run from it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `fpnna` with owned arguments; panics with its stderr unless it succeeds.
pub fn fpnna_ok(args: &[String]) -> Output {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = fpnna(&refs);
    assert!(out.status.success(), "fpnna {}: {}", args.join(" "), stderr(&out));
    out
}

/// Runs the `fpnna` binary with `args` from the repository root.
pub fn fpnna(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fpnna")).args(args).current_dir(root()).output().expect("run fpnna")
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Compares `actual` with the golden file at `path` (relative to the root);
/// `UPDATE_GOLDEN=1` rewrites it (see `fpnna_testkit::golden`).
pub fn check_golden(path: &Path, actual: &str) {
    fpnna_testkit::golden::check(&root().join(path), actual);
}

/// An example directory's settings (examples/NAME/example.toml).
#[derive(Debug)]
pub struct Example {
    pub name: String,
    pub dir: PathBuf,
    pub source: PathBuf,
    pub steps: u64,
    pub stimulus: Option<PathBuf>,
    /// Architecture preset it is compiled and simulated for.
    pub preset: String,
}

impl Example {
    /// `--steps N [--stimulus FILE] --preset P` as arguments.
    pub fn run_args(&self) -> Vec<String> {
        let mut v = vec!["--steps".to_string(), self.steps.to_string()];
        if let Some(s) = &self.stimulus {
            v.extend(["--stimulus".to_string(), s.display().to_string()]);
        }
        v
    }
}

/// Every example, sorted by name.
pub fn examples() -> Vec<Example> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root().join("examples")).unwrap() {
        let dir = e.unwrap().path();
        let Ok(text) = std::fs::read_to_string(dir.join("example.toml")) else { continue };
        let t: toml::Table = text.parse().unwrap();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let rel = PathBuf::from("examples").join(&name);
        out.push(Example {
            source: rel.join(format!("{name}.fpn")),
            steps: t["steps"].as_integer().unwrap() as u64,
            stimulus: t.get("stimulus").map(|s| rel.join(s.as_str().unwrap())),
            preset: t.get("preset").map_or("default", |p| p.as_str().unwrap()).to_string(),
            dir: rel,
            name,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(out.len() >= 7, "examples/ should hold at least 7 examples");
    out
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// A JSON document fpnna wrote, without its leading `provenance` object
/// (which records the command line, and so the paths of a test's temporary
/// files): the part that must be reproducible and match goldens.
pub fn json_body(doc: &str) -> String {
    let mut lines = doc.lines();
    let mut out = String::new();
    match lines.next() {
        Some("{") => out.push_str("{\n"),
        other => panic!("not a JSON object: {other:?}"),
    }
    let first = lines.next().unwrap_or_default();
    assert_eq!(first, "  \"provenance\": {", "a JSON output starts with its provenance");
    for l in lines.by_ref() {
        if l == "  }," {
            break;
        }
    }
    out.push_str(&lines.collect::<Vec<_>>().join("\n"));
    if doc.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The and-gate example's source (relative to the root).
pub const GATE: &str = "examples/and_gate/and_gate.fpn";

/// The and-gate example, compiled into `dir/gate.fpb` (its path).
pub fn compiled_gate(dir: &Path) -> PathBuf {
    let fpb = dir.join("gate.fpb");
    fpnna_ok(&["compile".into(), GATE.into(), "-o".into(), fpb.display().to_string()]);
    fpb
}
