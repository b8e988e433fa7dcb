//! What a command says on standard error besides its errors: summaries,
//! detail (`-v`) and progress bars, under one verbosity set by the global
//! `-q`/`-v` flags (docs/cli.md, "Streams").
//!
//! Progress bars are drawn by `indicatif` (the common Rust choice: rate
//! limited, thread-safe, cleans its line) and only on a terminal: when
//! standard error is a file or a pipe, or with `-q`, nothing is drawn.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};

/// 0: quiet, 1: normal, 2 and more: verbose.
static LEVEL: AtomicU8 = AtomicU8::new(1);

/// Sets the verbosity from the global flags.
pub fn set(quiet: bool, verbose: u8) {
    LEVEL.store(if quiet { 0 } else { 1 + verbose }, Ordering::Relaxed);
}

/// Whether summaries are printed (not `-q`).
pub fn summaries() -> bool {
    LEVEL.load(Ordering::Relaxed) >= 1
}

/// Whether detail is printed (`-v`).
pub fn verbose() -> bool {
    LEVEL.load(Ordering::Relaxed) >= 2
}

/// A summary line on standard error, unless `-q`.
macro_rules! summary {
    ($($t:tt)*) => {
        if $crate::ui::summaries() {
            eprintln!($($t)*);
        }
    };
}

/// A detail line on standard error, with `-v` only.
macro_rules! detail {
    ($($t:tt)*) => {
        if $crate::ui::verbose() {
            eprintln!($($t)*);
        }
    };
}

pub(crate) use {detail, summary};

/// Where bars draw: standard error if it is a terminal and not `-q`.
fn target() -> ProgressDrawTarget {
    if summaries() && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// A bar over `len` units of `what` (steps, samples).
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let style = ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what} ({{per_sec}}, eta {{eta}})"))
        .expect("a valid template");
    ProgressBar::with_draw_target(Some(len), target()).with_style(style)
}

/// A spinner with a message, for work of unknown length (placement
/// temperatures, routing iterations).
pub fn spinner() -> ProgressBar {
    let style = ProgressStyle::with_template("{spinner} {msg}").expect("a valid template");
    ProgressBar::with_draw_target(None, target()).with_style(style)
}
