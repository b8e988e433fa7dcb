//! The temporary files outputs are written to before they are put in place
//! (`io::AtomicFile`): named so that they are recognisable
//! (`.NAME.fpnna-tmp.PID` beside the target, `fpnna-tmp.PID.N` in the
//! system's temporary directory for a stream), removed when the command
//! is interrupted (SIGINT, SIGTERM, SIGHUP), and swept by the next command
//! that writes beside them when the process that made them is gone (a
//! SIGKILL leaves them; nothing can catch it). docs/cli.md, "Streams".

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The temporaries this process created and has not yet removed or put in place.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Numbers the temporaries of streamed outputs.
static STREAMS: AtomicUsize = AtomicUsize::new(0);

/// What marks a temporary's name, before the id of the process that made it.
const MARK: &str = "fpnna-tmp.";

/// The exit code of a command ended by a signal (128 + SIGINT, as shells do).
const INTERRUPTED: i32 = 130;

/// Removes every live temporary and exits when the process is interrupted.
pub fn remove_on_signal() {
    // Only fails when a handler is already set (never: main calls it once).
    let _ = ctrlc::set_handler(|| {
        for tmp in LIVE.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = std::fs::remove_file(tmp);
        }
        eprintln!("fpnna: interrupted; no output was written");
        std::process::exit(INTERRUPTED);
    });
}

/// A new temporary for the file `name` of `dir` (beside it, so that a
/// rename puts it in place), after sweeping the temporaries of that file
/// left by processes that are gone.
pub fn beside(dir: &Path, name: &str) -> PathBuf {
    let prefix = format!(".{name}.{MARK}");
    sweep(dir, &prefix);
    created(dir.join(format!("{prefix}{}", std::process::id())))
}

/// A new temporary in the system's temporary directory (for a stream).
pub fn for_stream() -> PathBuf {
    let dir = std::env::temp_dir();
    sweep(&dir, MARK);
    let n = STREAMS.fetch_add(1, Ordering::Relaxed);
    created(dir.join(format!("{MARK}{}.{n}", std::process::id())))
}

/// Notes a temporary as live.
fn created(tmp: PathBuf) -> PathBuf {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).push(tmp.clone());
    tmp
}

/// Notes that a temporary was removed or put in place.
pub fn gone(tmp: &Path) {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).retain(|t| t != tmp);
}

/// Removes the files of `dir` named `PREFIX PID[.N]` whose process is gone.
/// Only where `/proc` tells which processes live (Linux); elsewhere nothing.
fn sweep(dir: &Path, prefix: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(prefix)).and_then(owner) else { continue };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The process id at the start of a temporary's tail (`PID` or `PID.N`).
fn owner(tail: &str) -> Option<u32> {
    tail.split('.').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_of_a_gone_process_is_swept_and_a_live_ones_kept() {
        let dir = std::env::temp_dir().join(format!("fpnna-sweep-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // No process has an id above the kernel's pid_max (at most 2^22).
        let dead = dir.join(format!(".out.csv.{MARK}{}", u32::MAX - 1));
        let mine = dir.join(format!(".out.csv.{MARK}{}", std::process::id()));
        let other = dir.join(format!(".other.csv.{MARK}{}", u32::MAX - 1));
        for f in [&dead, &mine, &other] {
            std::fs::write(f, "x").unwrap();
        }
        let tmp = beside(&dir, "out.csv");
        assert_eq!(tmp, mine);
        assert!(!dead.exists(), "the gone process's temporary stays");
        assert!(mine.exists() && other.exists(), "swept what is not its own");
        assert!(LIVE.lock().unwrap().contains(&tmp));
        gone(&tmp);
        assert!(!LIVE.lock().unwrap().contains(&tmp));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn owners_are_read_from_the_tail() {
        assert_eq!(owner("123"), Some(123));
        assert_eq!(owner("123.4"), Some(123));
        assert_eq!(owner("x"), None);
    }
}
