//! Any bytes as a NIR file, then imported: an error naming the HDF5 path
//! or the node, or a source; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(graph) = fpnna_nir::read(bytes) else { return };
    if let Ok(im) = fpnna_nir::import(&graph, "fuzz", 1.0) {
        assert!(im.source.starts_with("// Imported"));
    }
});
