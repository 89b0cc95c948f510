//! Crash reports, as Redis 7.0 writes them to its log: on a fatal signal (`signals`), on a Rust panic (the panic
//! hook), and for DEBUG PANIC / ASSERT / OOM (`die`). Each is one block between
//! `=== REDIS BUG REPORT START ...` and `=== REDIS BUG REPORT END ...`, with the cause, a STACK TRACE section,
//! INFO and CLIENT LIST (`report`).
//!
//! What follows a report differs from Redis in one place: a panic in a command handler is caught by the
//! connection (its client is closed, the server goes on; see `server::connection`), so its report is written and
//! the server keeps running. DEBUG PANIC / ASSERT / OOM and fatal signals end the process as in Redis: SIGABRT
//! (or exit 1 with `use-exit-on-panic yes`), or the signal itself re-raised with its default action.
//!
//! `crash-log-enabled no` leaves fatal signals to their default action and keeps panic reports to their first
//! lines, as Redis does. After INFO and CLIENT LIST come the crashing command's client (`current`) and, with
//! `crash-memcheck-enabled yes`, the FAST MEMORY TEST section, which says the test is skipped (see
//! `report::memory_test`).
//!
//! `watchdog` is Redis's software watchdog (`watchdog-period`): the stack trace of a thread stuck in one command.

mod current;
mod rawlog;
mod report;
mod signals;
#[cfg(test)]
mod tests;
mod watchdog;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::mpsc;
use std::time::Duration;

use rawlog::LogFd;

pub use current::command_running;
pub use report::attach;
pub use watchdog::Running as WatchdogBusy;

/// Marks the calling thread busy for the watchdog, as a long command, until the guard drops: a replica loading
/// its master's RDB, which Redis does on its main thread (integration/replication expects the watchdog's report,
/// and the EINTR it causes to be survived, while a replica loads from the socket).
pub fn watchdog_busy() -> WatchdogBusy {
    watchdog::command_running()
}

static CRASH_LOG: AtomicBool = AtomicBool::new(true);
static EXIT_ON_PANIC: AtomicBool = AtomicBool::new(false);
/// `crash-memcheck-enabled`: the report says where Redis's fast memory test would be.
static MEMCHECK: AtomicBool = AtomicBool::new(true);
/// Set once `install` ran (the server binary): until then `crash-log-enabled` changes no signal disposition, so
/// unit tests building a `Config` do not install handlers in the test process.
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// Held while a panic report is written, so two panicking threads do not interleave their reports.
static PANIC_REPORT: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
/// How long a panic report waits for INFO and CLIENT LIST (built on another thread, since the panicking one may
/// hold a lock they need).
const STATE_WAIT: Duration = Duration::from_secs(3);

fn crash_log_enabled() -> bool {
    CRASH_LOG.load(Relaxed)
}

/// Installs the fatal-signal handlers (with `crash-log-enabled yes`) and the panic hook. `logfile` is where the
/// reports go (stdout when empty).
pub fn install(logfile: &str) {
    rawlog::init(logfile);
    INSTALLED.store(true, Relaxed);
    if crash_log_enabled() {
        signals::install();
    }
    install_panic_hook();
    watchdog::on_install();
}

/// Reports every panic (after the default hook's one line on stderr).
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        on_panic(info);
    }));
}

/// `crash-log-enabled`, `use-exit-on-panic` (called for every parameter as it takes its value).
pub fn apply_config(name: &str, v: &str) {
    match name {
        "crash-log-enabled" => {
            CRASH_LOG.store(v == "yes", Relaxed);
            if INSTALLED.load(Relaxed) {
                if v == "yes" {
                    signals::install();
                } else {
                    signals::remove();
                }
            }
        }
        "use-exit-on-panic" => EXIT_ON_PANIC.store(v == "yes", Relaxed),
        "crash-memcheck-enabled" => MEMCHECK.store(v == "yes", Relaxed),
        _ => watchdog::apply_config(name, v),
    }
}

/// A panic anywhere: Redis's `serverPanic` lines, then the stack trace and the server's state.
fn on_panic(info: &std::panic::PanicHookInfo) {
    // Another thread's report goes first; a panic inside the report itself gives up after the wait.
    let Some(_one_at_a_time) = PANIC_REPORT.try_lock_for(STATE_WAIT * 2) else {
        return;
    };
    let message = panic_message(info.payload());
    let place = info
        .location()
        .map_or_else(String::new, |l| format!("{}:{}", l.file(), l.line()));
    let log = LogFd::open();
    report::start(&log);
    for line in guru_meditation(&message, &place) {
        log.line(format_args!("{line}"));
    }
    if crash_log_enabled() {
        report::stack_trace(&log);
        state_within(&log, STATE_WAIT);
        report::after_state(&log);
    }
    report::end(&log);
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Redis's `serverPanic` lines.
fn guru_meditation(message: &str, place: &str) -> [String; 3] {
    [
        "------------------------------------------------".to_string(),
        "!!! Software Failure. Press left mouse button to continue".to_string(),
        format!("Guru Meditation: {message} #{place}"),
    ]
}

/// INFO and CLIENT LIST built on a helper thread, written if they come within `wait`.
fn state_within(log: &LogFd, wait: Duration) {
    let (tx, rx) = mpsc::channel();
    let helper = std::thread::Builder::new()
        .name("crash-report".into())
        .spawn(move || {
            let log = LogFd::open();
            report::server_state(&log);
            let _ = tx.send(());
        });
    if helper.is_ok() && rx.recv_timeout(wait).is_err() {
        log.raw(b"\n------ INFO and CLIENT LIST not available: a lock they need is held ------\n");
    }
}

/// What DEBUG PANIC, DEBUG ASSERT and DEBUG OOM (and an out-of-memory) do: the report with `lines` as its cause,
/// then the end of the process as Redis's `bugReportEnd(0, 0)`: `_exit(1)` with `use-exit-on-panic yes`,
/// otherwise `abort()` (the handlers removed first, so the abort does not report again).
pub fn die(lines: &[String]) -> ! {
    if !signals::claim_report() {
        loop {
            std::thread::park();
        }
    }
    signals::arm_deadline(libc::SIGABRT);
    let log = LogFd::open();
    report::start(&log);
    for line in lines {
        log.line(format_args!("{line}"));
    }
    if crash_log_enabled() {
        report::stack_trace(&log);
        report::server_state(&log);
        report::after_state(&log);
    }
    signals::remove();
    report::end(&log);
    if EXIT_ON_PANIC.load(Relaxed) {
        // SAFETY: _exit(2) ends the process at once, as Redis's does (no destructors, no atexit).
        unsafe { libc::_exit(1) }
    }
    std::process::abort()
}

/// Runs a background job (a save, a rewrite, a full sync's snapshot) so that a panic in it (reported by the
/// panic hook) ends as the job's failure, `failed`, rather than leaving the job in progress forever, with
/// whatever waits for it waiting too.
pub fn job_or<T, E>(job: impl FnOnce() -> Result<T, E>, failed: E) -> Result<T, E> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).unwrap_or(Err(failed))
}

/// Redis's `serverPanic`: the Guru Meditation lines, then `die`.
pub fn panic_and_die(message: &str, place: &str) -> ! {
    die(&guru_meditation(message, place))
}
