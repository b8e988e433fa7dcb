//! The one proptest configuration of the project's property tests: a fixed
//! ChaCha seed (CI runs the same cases every time) and failures kept in a
//! `proptest-regressions` file beside the test source.

use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, RngSeed};

/// `cases` cases drawn from `seed`; `source_file` is the caller's `file!()`.
pub fn fixed(cases: u32, seed: u64, source_file: &'static str) -> Config {
    Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed),
        source_file: Some(source_file),
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel("proptest-regressions"))),
        ..Config::default()
    }
}
