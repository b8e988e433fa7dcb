//! Internal errors: a panic anywhere in a command is a bug in fpnna. The
//! hook prints one located line and a request to report it; `main` catches
//! the unwind (so that destructors, such as those removing temporary output
//! files, still run) and exits with `exit::BUG`.

use std::panic::PanicHookInfo;

/// Set (to anything) in the environment, makes `fpnna` panic before doing
/// anything else: the tests' way to reach the internal-error path.
const TEST_TRIGGER: &str = "FPNNA_TEST_PANIC";

/// Replaces the default panic message (a thread name and a backtrace hint,
/// which speak to Rust developers) with fpnna's internal-error report.
pub fn install_hook() {
    std::panic::set_hook(Box::new(|info| eprint!("{}", report(info))));
}

/// The text printed for a panic.
fn report(info: &PanicHookInfo<'_>) -> String {
    let message = info.payload_as_str().unwrap_or("(a panic without a message)");
    let at = info.location().map_or_else(|| "an unknown place".to_string(), |l| l.to_string());
    format!("fpnna: internal error: {message} at {at}\nthis is a bug; please report it with the input that caused it\n")
}

/// Panics if the test trigger is set in the environment.
pub fn test_trigger() {
    if std::env::var_os(TEST_TRIGGER).is_some() {
        panic!("{TEST_TRIGGER} is set");
    }
}
