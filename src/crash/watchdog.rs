//! The software watchdog (`watchdog-period <ms>`, Redis's `watchdogSignalHandler`): when one command has run
//! longer than the period, the log gets `--- WATCHDOG TIMER EXPIRED ---` and the stack trace of the thread
//! running it, then `--------`, and the command goes on.
//!
//! Redis has one thread, so a SIGALRM timer that its cron keeps re-arming fires only when a command stalls the
//! event loop. Here each connection has its thread, so:
//! - a connection thread marks when its command started ([`command_running`], one atomic load when the watchdog
//!   is off) in a slot the monitor can see, with its kernel thread id;
//! - a monitor thread (started the first time the watchdog is enabled) looks every 100 ms (or half the period)
//!   for a command older than the period, once per command, and sends SIGALRM to that thread alone (`tgkill`);
//! - the handler, on the stuck thread, only records the interrupted instruction and the return addresses of its
//!   stack into static atomics and returns. It allocates nothing and takes no lock: the stuck thread may hold
//!   the allocator's or a shard's lock. Walking the stack uses the system unwinder (`_Unwind_Backtrace`, through
//!   `backtrace::trace_unsynchronized`), what glibc's `backtrace()` that Redis calls from its handler does; the
//!   monitor is the only sender and waits for one answer at a time, so nothing else walks in parallel;
//! - the monitor then names the frames (`backtrace::resolve`, which allocates, on its own thread) and writes the
//!   report with `write(2)` as the crash report does.
//!
//! A thread that does not answer within a second (its signal blocked) gets the header and a line saying so.
//! As in Redis the period is at least two cron ticks (`2 * (1000 / hz)` ms, 200 with the default `hz 10`).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicUsize, Ordering::*};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::rawlog::LogFd;
use crate::util::time::now_ms;

/// `watchdog-period` as set (0: off).
static PERIOD_MS: AtomicI64 = AtomicI64::new(0);
/// `hz`, for the shortest period.
static HZ: AtomicI64 = AtomicI64::new(10);
/// The slots of the connection threads that ran a command while the watchdog was on.
static SLOTS: Mutex<Vec<Arc<Slot>>> = Mutex::new(Vec::new());
static MONITOR: Once = Once::new();

/// One connection thread: its kernel id and when its current command started.
struct Slot {
    tid: libc::pid_t,
    /// `now_ms()` when the running command started; 0 between commands.
    started_ms: AtomicI64,
    /// This command has been reported (once per command, as Redis's timer fires once per stall).
    reported: AtomicBool,
}

/// The calling thread's slot, registered on first use and removed when the thread ends.
struct Registered(Arc<Slot>);

impl Registered {
    fn new() -> Registered {
        // SAFETY: gettid(2) cannot fail.
        let tid = unsafe { libc::syscall(libc::SYS_gettid) } as libc::pid_t;
        let slot = Arc::new(Slot {
            tid,
            started_ms: AtomicI64::new(0),
            reported: AtomicBool::new(false),
        });
        SLOTS.lock().push(slot.clone());
        Registered(slot)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        // Under the lock the monitor signals with: once removed, this thread is never signalled again.
        SLOTS.lock().retain(|s| !Arc::ptr_eq(s, &self.0));
    }
}

thread_local! {
    static SLOT: Registered = Registered::new();
}

/// `watchdog-period` and `hz` as they take their values.
pub fn apply_config(name: &str, v: &str) {
    let num = v.parse::<i64>().unwrap_or(0);
    match name {
        "watchdog-period" => {
            PERIOD_MS.store(num.max(0), Relaxed);
            if num > 0 && super::INSTALLED.load(Relaxed) {
                on_install();
            }
        }
        "hz" => HZ.store(num.clamp(1, 500), Relaxed),
        _ => {}
    }
}

/// The period in force: at least two cron ticks, as Redis's `applyWatchdogPeriod`; 0 when off.
fn period_ms() -> i64 {
    match PERIOD_MS.load(Relaxed) {
        0 => 0,
        p => p.max(1000 / HZ.load(Relaxed).max(1) * 2),
    }
}

/// Marks the calling thread as running a command until the guard drops.
#[inline]
pub fn command_running() -> Running {
    if PERIOD_MS.load(Relaxed) == 0 {
        return Running(false);
    }
    let marked = SLOT
        .try_with(|r| {
            r.0.reported.store(false, Relaxed);
            r.0.started_ms.store(now_ms().max(1), Release);
        })
        .is_ok();
    Running(marked)
}

/// While alive, the command counts as running (see [`command_running`]).
pub struct Running(bool);

impl Drop for Running {
    fn drop(&mut self) {
        if self.0 {
            let _ = SLOT.try_with(|r| r.0.started_ms.store(0, Release));
        }
    }
}

/// Starts the monitor if the watchdog is on (at start-up, once the crash handlers are installed, and on the
/// first CONFIG SET that enables it).
pub fn on_install() {
    if PERIOD_MS.load(Relaxed) > 0 {
        MONITOR.call_once(start_monitor);
    }
}

fn start_monitor() {
    install_handler();
    let spawned = std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(monitor);
    if let Err(e) = spawned {
        log::warn!("Can't start the watchdog thread: {e}");
    }
}

fn monitor() {
    loop {
        let period = period_ms();
        let tick = if period == 0 {
            100
        } else {
            (period / 2).clamp(1, 100)
        };
        std::thread::sleep(Duration::from_millis(tick as u64));
        if period == 0 || super::signals::reporting() {
            continue;
        }
        let now = now_ms();
        // The signal goes out under the lock a thread leaves its slot with, so it reaches a live thread; the
        // wait and the naming of the frames happen after the lock is released.
        let asked = SLOTS
            .lock()
            .iter()
            .filter(|s| {
                let started = s.started_ms.load(Acquire);
                started != 0 && now - started >= period && !s.reported.swap(true, Relaxed)
            })
            .map(|s| ask(s.tid))
            .next();
        if let Some(sent) = asked {
            report(sent);
        }
    }
}

// ---- the handler and what it leaves for the monitor ----

const MAX_FRAMES: usize = 100;
const IDLE: u8 = 0;
const ASKED: u8 = 1;
const CAPTURING: u8 = 2;
const TAKEN: u8 = 3;

/// The capture protocol: the monitor sets ASKED and signals; the handler fills the frames and sets TAKEN.
static STATE: AtomicU8 = AtomicU8::new(IDLE);
static FRAMES: [AtomicUsize; MAX_FRAMES] = [const { AtomicUsize::new(0) }; MAX_FRAMES];
static FRAME_COUNT: AtomicUsize = AtomicUsize::new(0);
static EIP: AtomicUsize = AtomicUsize::new(0);

fn install_handler() {
    // SAFETY: a zeroed sigaction with an empty mask and an SA_SIGINFO handler of the right signature.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        libc::sigemptyset(&mut act.sa_mask);
        act.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        act.sa_sigaction = on_signal as *const () as usize;
        libc::sigaction(libc::SIGALRM, &act, std::ptr::null_mut());
    }
}

/// On the stuck thread: records the interrupted instruction and the stack's return addresses, nothing else.
extern "C" fn on_signal(_: libc::c_int, _: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    if STATE
        .compare_exchange(ASKED, CAPTURING, Acquire, Relaxed)
        .is_err()
    {
        return; // Not asked for (a stray SIGALRM).
    }
    // SAFETY: errno is thread-local; the unwinder may set it, the interrupted code must not see that.
    let saved_errno = unsafe { *libc::__errno_location() };
    EIP.store(
        super::signals::instruction_pointer(uc).unwrap_or(0),
        Relaxed,
    );
    let mut n = 0;
    // SAFETY: no other thread walks a stack with this crate's unsynchronized walker while we do (the monitor
    // asks one thread at a time); the closure only stores integers.
    unsafe {
        backtrace::trace_unsynchronized(|frame| {
            FRAMES[n].store(frame.ip() as usize, Relaxed);
            n += 1;
            n < MAX_FRAMES
        });
    }
    FRAME_COUNT.store(n, Relaxed);
    STATE.store(TAKEN, Release);
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved_errno };
}

/// Asks thread `tid` for its stack; false if the signal could not be sent.
fn ask(tid: libc::pid_t) -> bool {
    STATE.store(ASKED, Release);
    // SAFETY: tgkill(2) to a thread of this process (its slot is registered, so it has not ended).
    unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, libc::SIGALRM) == 0 }
}

/// Waits for the asked thread's stack (if the signal went out) and writes the watchdog's report.
fn report(sent: bool) {
    // A second for the thread to take the signal; once its handler runs, up to five for the walk to end.
    let start = Instant::now();
    while sent && STATE.load(Acquire) != TAKEN {
        let waited = start.elapsed();
        let capturing = STATE.load(Acquire) == CAPTURING;
        if waited > Duration::from_secs(5) || (!capturing && waited > Duration::from_secs(1)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let taken = STATE.swap(IDLE, Acquire) == TAKEN;
    let log = LogFd::open();
    log.line(format_args!("\n--- WATCHDOG TIMER EXPIRED ---"));
    if taken {
        let frames: Vec<usize> = (0..FRAME_COUNT.load(Relaxed))
            .map(|i| FRAMES[i].load(Relaxed))
            .collect();
        log.raw(stack_text(EIP.load(Relaxed), &frames).as_bytes());
    } else {
        log.line(format_args!(
            "Sorry: the thread running the command did not give its stack trace."
        ));
    }
    log.line(format_args!("--------\n"));
}

/// Redis's `logStackTrace` sections: the interrupted instruction, then the frames from the interrupted one on
/// (the handler's own frames and the signal trampoline left out).
fn stack_text(eip: usize, frames: &[usize]) -> String {
    let from = frames
        .iter()
        .position(|&ip| ip == eip)
        .unwrap_or_else(|| frames.len().min(2));
    let mut out = String::from("\n------ STACK TRACE ------\n");
    if eip != 0 {
        out.push_str("EIP:\n");
        out.push_str(&describe(eip));
    }
    out.push_str("\nBacktrace:\n");
    // The outermost frame's return address is 0 (the end of the chain).
    for &ip in frames[from.min(frames.len())..]
        .iter()
        .filter(|&&ip| ip != 0)
    {
        out.push_str(&describe(ip));
    }
    out
}

/// One frame: `name [0xaddress] at file:line`, one line per function inlined at that address.
fn describe(ip: usize) -> String {
    let mut lines = String::new();
    backtrace::resolve(ip as *mut std::ffi::c_void, |sym| {
        // `{:#}`: the demangled name without its hash.
        let name = sym
            .name()
            .map_or_else(|| "??".to_string(), |n| format!("{n:#}"));
        lines.push_str(&format!("{name} [{ip:#x}]"));
        if let (Some(file), Some(line)) = (sym.filename(), sym.lineno()) {
            lines.push_str(&format!(" at {}:{line}", file.display()));
        }
        lines.push('\n');
    });
    if lines.is_empty() {
        lines = format!("?? [{ip:#x}]\n");
    }
    lines
}
