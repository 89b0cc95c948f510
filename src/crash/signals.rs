//! The fatal-signal handler (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT), installed as Redis installs it
//! (`SA_NODEFER | SA_RESETHAND | SA_SIGINFO`, only while `crash-log-enabled` is yes).
//!
//! Why it cannot deadlock the process: the first lines (START, `crashed by signal`, the address, the sender) are
//! written with `write(2)` from a stack buffer. Before anything that allocates or locks (the stack trace, INFO,
//! CLIENT LIST: the crashed thread may hold the allocator's or a shard's lock), `alarm(2)` arms a deadline; if
//! the report is not done by then, the SIGALRM handler ends the report with a short note and END and kills the
//! process with the original signal. Either way the process dies of the signal it got (default action
//! re-raised), so a supervisor sees the real cause and a core is dumped where enabled.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering::SeqCst};

use super::rawlog::LogFd;
use super::report;

/// The signals Redis reports on.
pub const FATAL: [libc::c_int; 5] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGABRT,
];

/// Seconds the full report may take before it is cut short (symbolising the stack trace of a debug build on a
/// loaded machine takes a few).
const DEADLINE_SECS: u32 = 15;

/// Set by the first thread that starts a report: a second crashing thread waits for the first to end the process.
static REPORTING: AtomicBool = AtomicBool::new(false);
/// The signal being reported, for the deadline handler to re-raise.
static CRASH_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Installs the handler on every fatal signal (`crash-log-enabled yes`).
pub fn install() {
    for sig in FATAL {
        set_action(
            sig,
            on_fatal_signal as *const () as usize,
            libc::SA_NODEFER | libc::SA_RESETHAND | libc::SA_SIGINFO,
        );
    }
}

/// Back to the default actions (`crash-log-enabled no`, and before `abort()` after a panic report, so the abort
/// does not report twice).
pub fn remove() {
    for sig in FATAL {
        set_action(sig, libc::SIG_DFL, libc::SA_NODEFER | libc::SA_RESETHAND);
    }
}

fn set_action(sig: libc::c_int, handler: usize, flags: libc::c_int) {
    // SAFETY: a zeroed sigaction with an empty mask is valid; the handler has the SA_SIGINFO signature or is
    // SIG_DFL. sigaction is async-signal-safe.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        libc::sigemptyset(&mut act.sa_mask);
        act.sa_flags = flags;
        act.sa_sigaction = handler;
        libc::sigaction(sig, &act, std::ptr::null_mut());
    }
}

/// Whether a crash report is being written (the watchdog then sends no SIGALRM: the report's deadline uses it).
pub fn reporting() -> bool {
    REPORTING.load(SeqCst)
}

/// Claims the report; false when another thread is already writing one.
pub fn claim_report() -> bool {
    !REPORTING.swap(true, SeqCst)
}

/// From here on, the process ends with `sig` within the deadline, whatever the report does.
pub fn arm_deadline(sig: libc::c_int) {
    CRASH_SIGNAL.store(sig, SeqCst);
    set_action(
        libc::SIGALRM,
        on_deadline as *const () as usize,
        libc::SA_SIGINFO,
    );
    // SAFETY: alarm(2) is async-signal-safe.
    unsafe { libc::alarm(DEADLINE_SECS) };
}

/// Dies of `sig` with its default action.
pub fn reraise(sig: libc::c_int) -> ! {
    set_action(sig, libc::SIG_DFL, libc::SA_NODEFER | libc::SA_RESETHAND);
    // SAFETY: unblock and raise the signal; if it somehow returns, exit with the shell's code for it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
        libc::kill(libc::getpid(), sig);
        libc::_exit(128 + sig)
    }
}

extern "C" fn on_fatal_signal(sig: libc::c_int, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    if !claim_report() {
        // Another thread is reporting; it ends the process.
        loop {
            // SAFETY: pause(2) is async-signal-safe.
            unsafe { libc::pause() };
        }
    }
    let log = LogFd::open();
    report::start(&log);
    // SAFETY: the kernel passes a valid siginfo_t with SA_SIGINFO.
    let info = unsafe { &*info };
    log.line(format_args!(
        "Redis {} crashed by signal: {sig}, si_code: {}",
        crate::logging::REDIS_VERSION,
        info.si_code
    ));
    if sig == libc::SIGSEGV || sig == libc::SIGBUS {
        // SAFETY: si_addr is meaningful for these two signals.
        log.line(format_args!("Accessing address: {:p}", unsafe {
            info.si_addr()
        }));
    }
    // SAFETY: si_pid/si_uid are set for signals sent by kill(2) (SI_USER).
    let (pid, uid) = unsafe { (info.si_pid(), info.si_uid()) };
    if info.si_code == libc::SI_USER && pid != -1 {
        log.line(format_args!("Killed by PID: {pid}, UID: {uid}"));
    }
    if let Some(ip) = instruction_pointer(uc) {
        log.line(format_args!("Crashed running the instruction at: {ip:#x}"));
    }
    arm_deadline(sig);
    if super::crash_log_enabled() {
        report::stack_trace(&log);
        report::server_state(&log);
        report::after_state(&log);
    }
    report::end(&log);
    reraise(sig)
}

/// The deadline passed: the report is stuck (a lock the crashed thread holds). End it and die of the signal.
extern "C" fn on_deadline(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    let log = LogFd::open();
    log.raw(b"\n------ CRASH REPORT CUT SHORT: not done within the deadline ------\n");
    report::end(&log);
    reraise(CRASH_SIGNAL.load(SeqCst))
}

/// The faulting instruction, where the platform's context has it.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub(super) fn instruction_pointer(uc: *mut libc::c_void) -> Option<usize> {
    if uc.is_null() {
        return None;
    }
    // SAFETY: with SA_SIGINFO the third argument is the interrupted context.
    let uc = unsafe { &*(uc as *const libc::ucontext_t) };
    Some(uc.uc_mcontext.gregs[libc::REG_RIP as usize] as usize)
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
pub(super) fn instruction_pointer(_: *mut libc::c_void) -> Option<usize> {
    None
}
