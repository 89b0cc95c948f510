//! The client whose command the calling thread is running, for the crash report's `CURRENT CLIENT INFO`
//! section (Redis's `logCurrentClient`: its CLIENT LIST line, then each argument, at most 128 bytes of it, as
//! `sdscatrepr` writes it).
//!
//! The connection thread records it in a thread-local for the length of each command ([`command_running`]):
//! a crash report is written on the thread that crashed (the fatal-signal handler, the panic hook, DEBUG PANIC
//! and ASSERT), while that command's stack frame, and so the client and the request it points at, is still
//! alive. The thread-local is a `const` one without a destructor, so reading it from a signal handler runs no
//! lazy initialisation. Redis also shows the object under the first argument's key; that needs a shard lock the
//! crashed thread may hold, so it is left out.

use std::cell::Cell;
use std::sync::Arc;

use super::rawlog::LogFd;
use crate::commands::{table, Args};
use crate::server::clients::ClientInfo;

thread_local! {
    /// The running command's client and request; `None` between commands.
    static CURRENT: Cell<Option<(*const ClientInfo, Args<'static>)>> = const { Cell::new(None) };
}

/// Marks `frame` from `info`'s client as running on this thread (for the crash report and the watchdog) until
/// the guard drops.
#[inline]
pub fn command_running(info: &Arc<ClientInfo>, frame: Args) -> Running {
    // SAFETY: only the lifetime is widened; the guard clears the cell before `frame`'s buffer can change or
    // go (the connection loop keeps both for as long as the guard lives), and readers use it only meanwhile.
    let frame: Args<'static> = unsafe { std::mem::transmute::<Args<'_>, Args<'static>>(frame) };
    CURRENT.set(Some((Arc::as_ptr(info), frame)));
    Running {
        _watchdog: super::watchdog::command_running(),
    }
}

/// While alive, the thread's command is the current one.
pub struct Running {
    _watchdog: super::watchdog::Running,
}

impl Drop for Running {
    fn drop(&mut self) {
        CURRENT.set(None);
    }
}

/// Writes `------ CURRENT CLIENT INFO ------` for the command this thread is running, if any.
pub fn log_current_client(log: &LogFd) {
    let Some((info, frame)) = CURRENT.get() else {
        return;
    };
    // SAFETY: set from a live `Arc<ClientInfo>` that the connection holds while the guard lives, and this runs
    // on that same thread, inside the command.
    let info = unsafe { &*info };
    let t = table::get();
    let cmd = match crate::commands::dispatch::resolve(t, frame) {
        crate::commands::dispatch::Resolved::Command(id) => t.full_name(id).to_string(),
        _ => "NULL".to_string(),
    };
    let argv_mem = frame.iter().map(<[u8]>::len).sum();
    let running = crate::commands::client::Running {
        id: info.id,
        cmd: &cmd,
        argv_mem,
        argc: frame.len(),
    };
    let mut out = b"\n------ CURRENT CLIENT INFO ------\n".to_vec();
    out.extend_from_slice(crate::commands::client::describe(info, &running).as_bytes());
    out.push(b'\n');
    for (i, arg) in frame.iter().enumerate() {
        out.extend_from_slice(format!("argv[{i}]: '").as_bytes());
        crate::pubsub::repr(&arg[..arg.len().min(128)], &mut out);
        out.extend_from_slice(b"'\n");
    }
    log.raw(&out);
}
