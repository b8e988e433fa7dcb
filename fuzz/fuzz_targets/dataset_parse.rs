//! Any bytes as a dataset file (`.npy`, `.npz` or CSV, chosen by the first
//! byte), then as features and spikes and labels: an error naming the file,
//! or an array whose size matches its shape; never a panic, never an
//! allocation beyond what the bytes justify.
#![no_main]

use fpnna_eval::data::{self, Source};
use fpnna_eval::encode::{Encoding, Inputs};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some((&which, body)) = bytes.split_first() else { return };
    let name = ["x.npy", "x.npz", "x.csv", "x.npz:y"][usize::from(which % 4)];
    let src: Source = name.parse().expect("valid names");
    let Ok(a) = data::parse(&src, body) else { return };
    assert_eq!(a.shape.iter().product::<usize>(), a.values.len());
    let _ = data::labels(name, &a);
    for enc in [Encoding::Bernoulli, Encoding::Spikes] {
        if let Ok(inp) = Inputs::new(name, a.clone(), enc, 8, 1.0, 1) {
            for k in 0..inp.samples.min(4) {
                assert!(inp.spikes(k).iter().all(|&(t, c)| t < 8 && (c as usize) < inp.channels));
            }
        }
    }
});
