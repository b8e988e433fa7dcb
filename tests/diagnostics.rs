//! Rendered diagnostics of malformed sources, one golden `.stderr` file per
//! `tests/diagnostics/*.fpn` (regenerate with UPDATE_GOLDEN=1, review the
//! diff). Each must name file:line:col, exit 1, and never panic.

mod common;
use common::*;

#[test]
fn every_malformed_source_gets_a_located_diagnostic() {
    let mut files: Vec<_> = std::fs::read_dir(root().join("tests/diagnostics"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "fpn"))
        .collect();
    files.sort();
    assert!(files.len() >= 25, "only {} malformed sources", files.len());
    for f in files {
        let rel = f.strip_prefix(root()).unwrap().to_path_buf();
        let out = fpnna(&["check", rel.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{}: exit code, stderr:\n{err}", rel.display());
        assert!(!err.contains("panicked"), "{}: panic:\n{err}", rel.display());
        let located = format!("[{}:", rel.display());
        assert!(err.contains(&located), "{}: no file:line:col in\n{err}", rel.display());
        assert!(out.stdout.is_empty(), "{}: printed a summary despite errors", rel.display());
        check_golden(&rel.with_extension("stderr"), &err);
    }
}

#[test]
fn several_errors_are_reported_in_one_run() {
    let out = fpnna(&["check", "tests/diagnostics/several_errors.fpn"]);
    let err = stderr(&out);
    assert!(err.matches('×').count() >= 3, "{err}");
    assert!(err.contains("4 error(s)"), "{err}");
}

#[test]
fn a_missing_source_file_is_named() {
    let out = fpnna(&["check", "no/such/file.fpn"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no/such/file.fpn"), "{}", stderr(&out));
}
