//! Every JSON document a command writes carries its provenance and matches
//! its schema in docs/schemas (the schemas are the documented contract:
//! a field that changes without its schema fails here).

mod common;
use common::*;
use serde_json::Value;

fn schema(name: &str) -> jsonschema::Validator {
    let path = root().join("docs/schemas").join(format!("{name}.schema.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Checks `doc` against the provenance schema and `format`'s schema, and
/// that its provenance names `format`, the arguments and `seeds`.
fn check(format: &str, doc: &str, args: &[String], seeds: Value) {
    let v: Value = serde_json::from_str(doc).unwrap_or_else(|e| panic!("{format}: {e}"));
    for (name, part) in [("provenance", &v["provenance"]), (format, &v)] {
        let errors: Vec<String> =
            schema(name).iter_errors(part).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{format} against {name}.schema.json:\n{}", errors.join("\n"));
    }
    let p = &v["provenance"];
    assert_eq!(p["format"], format);
    assert_eq!(p["fpnna_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(p["command"], serde_json::json!(args), "{format}");
    assert_eq!(p["seeds"], seeds, "{format}");
    // The provenance comes first, before the body.
    assert!(doc.trim_start().starts_with("{\n  \"provenance\""), "{format}");
}

fn run(args: &[String]) -> String {
    String::from_utf8(fpnna_ok(args).stdout).unwrap()
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_json_output_has_its_provenance_and_matches_its_schema() {
    let tmp = tempdir();
    let t = |n: &str| tmp.path().join(n).display().to_string();
    let (fpb, chip) = (t("d.fpb"), t("chip.state"));
    let read = |p: &str| std::fs::read_to_string(p).unwrap();

    let args = strings(&["compile", "examples/digits/digits.fpn", "--seed", "7", "--report", &t("r.json"), "-o", &fpb]);
    run(&args);
    check("compile-report", &read(&t("r.json")), &args, serde_json::json!({"seed": 7}));

    run(&strings(&["device", "new", "--preset", "large", "--stuck-rate", "0.01", "-o", &chip]));
    let args = strings(&[
        "compile",
        "examples/digits/digits.fpn",
        "--device",
        &chip,
        "--report",
        &t("rc.json"),
        "-o",
        &t("c.fpb"),
    ]);
    run(&args);
    let rc = read(&t("rc.json"));
    check("compile-report", &rc, &args, serde_json::json!({"seed": 1}));
    assert!(rc.contains("\"chip\""), "compiled for a chip, the report has its chip section");

    let stim = "examples/digits/stimulus.csv";
    let on_chip = t("c.fpb");
    for (b, extra) in [(&fpb, &["--ideal"][..]), (&on_chip, &["--seed", "3", "--device", &chip])] {
        let mut args = strings(&["run", b, "--steps", "300", "--stimulus", stim, "--stats", &t("s.json")]);
        args.extend(strings(extra));
        run(&args);
        let seed = if extra[0] == "--ideal" { 1 } else { 3 };
        check("run-stats", &read(&t("s.json")), &args, serde_json::json!({"seed": seed}));
    }

    let args = strings(&["inspect", &fpb, "--json"]);
    check("inspect", &run(&args), &args, serde_json::json!({}));
    let args = strings(&["device", "inspect", &chip, "--json"]);
    check("device-inspect", &run(&args), &args, serde_json::json!({}));

    let task = ["--data", "examples/digits/test_x.npy", "--labels", "examples/digits/test_y.npy", "--input", "pixels"];
    let task = [&task[..], &["--output", "class", "--steps-per-sample", "10", "--input-seed", "5"]].concat();
    for file in [fpb.as_str(), "examples/digits/digits.fpn"] {
        let mut args = strings(&["eval", file]);
        args.extend(strings(&task));
        args.extend(strings(&["--report", &t("e.json")]));
        run(&args);
        check("eval-report", &read(&t("e.json")), &args, serde_json::json!({"seed": 1, "input_seed": 5}));
    }

    let mut args = strings(&["sweep", &fpb]);
    args.extend(strings(&task));
    args.extend(strings(&["--vary", "stuck-rate=0,0.1", "--seeds", "2", "-o", &t("w.json")]));
    run(&args);
    check("sweep", &read(&t("w.json")), &args, serde_json::json!({"seeds": [1, 2], "input_seed": 5}));
}

#[test]
fn a_schema_catches_a_field_that_changed() {
    // The schemas are not vacuous: a document without a required field, or
    // with one of another type, is refused.
    let tmp = tempdir();
    let fpb = tmp.path().join("g.fpb").display().to_string();
    let r = tmp.path().join("r.json");
    run(&strings(&["compile", "examples/and_gate/and_gate.fpn", "--report", r.to_str().unwrap(), "-o", &fpb]));
    let good: Value = serde_json::from_str(&std::fs::read_to_string(&r).unwrap()).unwrap();
    let v = schema("compile-report");
    assert!(v.is_valid(&good));
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("tiles_used");
    assert!(!v.is_valid(&missing));
    let mut retyped = good.clone();
    retyped["neurons"] = Value::from("many");
    assert!(!v.is_valid(&retyped));
    let mut bad = good["provenance"].clone();
    bad["format_version"] = Value::from(0);
    assert!(!schema("provenance").is_valid(&bad));
}
