//! Any bytes as the weight file of `dense("w...")` or `sparse("w...")`
//! (the DSL's `file("...")` weights): the first byte picks the format
//! (CSV or `.npy`) and the connector, the next two the sizes of the
//! populations (1 to 16), the rest is the file. Loading never panics, and
//! what it accepts passes the IR verifier with no more synapses than the
//! populations allow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [pick, a, b, file @ ..] = data else { return };
    let ext = if pick & 1 == 0 { "csv" } else { "npy" };
    let connector = if pick & 2 == 0 { "dense" } else { "sparse" };
    let (a, b) = (u32::from(a % 16) + 1, u32::from(b % 16) + 1);
    let dir = std::env::temp_dir().join(format!("fpnna-fuzz-weights-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    if std::fs::write(dir.join(format!("w.{ext}")), file).is_err() {
        return;
    }
    let source = format!(
        "network w {{\n    input x[{a}];\n    population y[{b}] : lif {{ tau_m = 5, threshold = 1.0 }};\n    \
         connect x -> y : {connector}(\"w.{ext}\");\n    output y;\n}}\n"
    );
    // Data paths are relative to the source's name.
    let name = dir.join("fuzz.fpn").display().to_string();
    let Ok(net) = fpnna_dsl::load_text(&name, source, &dir, &fpnna_dsl::Options::default()) else { return };
    assert_eq!(net.verify(), Ok(()));
    if connector == "dense" {
        assert!(net.synapse_count() <= u64::from(a * b), "more synapses than a dense matrix holds");
    }
});
