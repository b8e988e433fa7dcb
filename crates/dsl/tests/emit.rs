//! Emitting a network as source and elaborating that source gives back the
//! same network, on every example.

use fpnna_dsl::{Options, emit, load_file};
use fpnna_ir::Network;
use std::path::Path;

fn same(a: &Network, b: &Network) -> Result<(), String> {
    if (a.name.as_str(), a.dt_ms) != (b.name.as_str(), b.dt_ms) {
        return Err(format!("header {} {} vs {} {}", a.name, a.dt_ms, b.name, b.dt_ms));
    }
    let pa: Vec<_> = a.pops().map(|(_, p)| p.clone()).collect();
    let pb: Vec<_> = b.pops().map(|(_, p)| p.clone()).collect();
    if pa != pb {
        let k = pa.iter().zip(&pb).position(|(x, y)| x != y);
        return Err(format!("populations differ at {k:?} ({} vs {})", pa.len(), pb.len()));
    }
    let ja: Vec<_> = a.projs().map(|(id, p)| (a.endpoints(id), p.clone())).collect();
    let jb: Vec<_> = b.projs().map(|(id, p)| (b.endpoints(id), p.clone())).collect();
    if ja != jb {
        let k = ja.iter().zip(&jb).position(|(x, y)| x != y);
        return Err(format!("projections differ at {k:?}"));
    }
    Ok(())
}

#[test]
fn every_example_survives_emit_and_reelaboration() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let tmp = tempfile::tempdir().unwrap();
    let mut n = 0;
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let src = dir.join(format!("{name}.fpn"));
        if !src.exists() {
            continue;
        }
        let net = load_file(&src, &Options::default()).unwrap_or_else(|d| panic!("{name}: {}", d.short()));
        let text = emit(&net, &format!("emitted from {name}")).unwrap();
        let out = tmp.path().join(format!("{name}.fpn"));
        std::fs::write(&out, &text).unwrap();
        let back = load_file(&out, &Options::default()).unwrap_or_else(|d| panic!("{name}: {}\n{text}", d.short()));
        same(&net, &back).unwrap_or_else(|e| panic!("{name}: {e}"));
        n += 1;
    }
    assert!(n >= 7);
}
