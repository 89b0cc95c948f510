//! DEBUG's ways of ending the server, as Redis 7.0's `debugCommand`: SEGFAULT (a real invalid write, reported by
//! the fatal-signal handler), PANIC and ASSERT (a report, then abort), OOM (an allocation that cannot succeed, then
//! Redis's out-of-memory report), RESTART and CRASH-AND-RECOVER (the same binary executed again in this process).

use std::os::unix::process::CommandExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::commands::{Args, Ctx};
use crate::protocol::Reply;
use crate::server::Server;
use crate::util::numbers::parse_i64;

/// DEBUG SEGFAULT: writes to a read-only page, as Redis does, so the crash is a real SIGSEGV.
pub fn segfault() -> Reply {
    // SAFETY: a fresh private anonymous page mapped read-only; writing to it faults on purpose. MAP_FAILED is
    // checked so the write never goes to an address that happens to be writable.
    unsafe {
        let page = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if page != libc::MAP_FAILED {
            std::ptr::write_volatile(page.cast::<u8>(), b'x');
        }
        libc::raise(libc::SIGSEGV);
    }
    Reply::Ok
}

/// DEBUG PANIC: Redis's `serverPanic("DEBUG PANIC called at Unix time %lld")`.
pub fn panic() -> ! {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::crash::panic_and_die(
        &format!("DEBUG PANIC called at Unix time {now}"),
        &format!("{}:{}", file!(), line!()),
    )
}

/// DEBUG ASSERT: Redis's `serverAssertWithInfo(c, argv[0], 1 == 2)`: the client's context, then the assertion.
pub fn assert(ctx: &Ctx, args: Args) -> ! {
    let mut lines = vec![
        "=== ASSERTION FAILED CLIENT CONTEXT ===".to_string(),
        format!(
            "client->conn = id={} addr={}",
            ctx.client.id(),
            ctx.client.info.addr
        ),
        format!("client->argc = {}", args.len()),
    ];
    for (i, arg) in args.iter().enumerate() {
        lines.push(format!(
            "client->argv[{i}] = \"{}\" (refcount: 1)",
            String::from_utf8_lossy(arg)
        ));
    }
    lines.push("=== ASSERTION FAILED ===".to_string());
    lines.push(format!("==> {}:{} '1 == 2' is not true", file!(), line!()));
    crate::crash::die(&lines)
}

/// DEBUG OOM: an allocation of half the address space fails, and is reported as Redis's
/// `redisOutOfMemoryHandler` reports it.
pub fn oom() -> Reply {
    let size = usize::MAX / 2;
    if Vec::<u8>::new().try_reserve_exact(size).is_ok() {
        return Reply::Ok;
    }
    log::warn!("Out Of Memory allocating {size} bytes!");
    crate::crash::panic_and_die(
        &format!("Redis aborting for OUT OF MEMORY. Allocating {size} bytes!"),
        &format!("{}:{}", file!(), line!()),
    )
}

/// DEBUG RESTART / CRASH-AND-RECOVER [milliseconds]: Redis's `restartServer`. RESTART rewrites the config file
/// (if there is one) and shuts down as SHUTDOWN would (saving where save points are set); CRASH-AND-RECOVER does
/// neither. Then, after the delay (other clients held as by DEBUG SLEEP), the same binary is executed again with
/// the same arguments in this process (same pid); every descriptor is closed by the exec. A reply only on failure.
pub fn restart(ctx: &mut Ctx, args: Args, graceful: bool) -> Reply {
    let delay = match args.len() {
        2 => 0,
        _ => match parse_i64(args.get(2)) {
            Some(ms) => ms.max(0) as u64,
            None => return Reply::err("value is not an integer or out of range"),
        },
    };
    let why = try_restart(ctx.server, graceful, Duration::from_millis(delay));
    log::warn!("Can't restart: {why}");
    Reply::err("failed to restart the server. Check server logs.")
}

/// Returns only on failure, with what went wrong.
fn try_restart(server: &Server, graceful: bool, delay: Duration) -> String {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return format!("this process cannot find its executable: {e}"),
    };
    let runnable = std::ffi::CString::new(exe.as_os_str().as_encoded_bytes())
        // SAFETY: access(2) with a NUL-terminated path.
        .is_ok_and(|path| unsafe { libc::access(path.as_ptr(), libc::X_OK) } == 0);
    if !runnable {
        return format!(
            "this process has no permissions to execute {}",
            exe.display()
        );
    }
    if graceful {
        if server.config.file().is_some() {
            if let Err(e) = server.config.rewrite() {
                return format!("configuration rewrite process failed: {e}");
            }
        }
        let flags = crate::persist::save::ShutdownFlags::default();
        if crate::persist::save::prepare_shutdown(server, flags).is_err() {
            return "error preparing for shutdown".to_string();
        }
    }
    close_on_exec_from(3);
    if !delay.is_zero() {
        crate::ops::pause::stall_for(delay);
    }
    let mut argv = std::env::args_os();
    let argv0 = argv.next().unwrap_or_else(|| exe.clone().into_os_string());
    let err = std::process::Command::new(&exe)
        .arg0(argv0)
        .args(argv)
        .exec();
    // Past the shutdown there is no server to go back to: Redis exits too.
    log::warn!("Can't restart: exec of {} failed: {err}", exe.display());
    // SAFETY: _exit(2) ends the process at once.
    unsafe { libc::_exit(1) }
}

/// Marks every descriptor from `first` on close-on-exec: the listeners, clients and files go with the exec, and
/// threads still using them meanwhile are not handed a closed (or reused) descriptor.
fn close_on_exec_from(first: libc::c_int) {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<libc::c_int> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd >= first)
        .collect();
    for fd in fds {
        // SAFETY: fcntl on a descriptor number; an already closed one fails harmlessly.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}
