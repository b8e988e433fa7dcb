//! Any source file: loading and elaboration never panic or hang, and what
//! they accept passes the IR verifier.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("fpnna-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("input.fpn");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(net) = fpnna_dsl::load_file(&path, &fpnna_dsl::Options::default()) {
        assert_eq!(net.verify(), Ok(()));
    }
});
