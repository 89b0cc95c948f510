//! The sections of Redis's bug report, in its order and with its headers (operators and Redis's test suite look
//! for them): START, the cause, `------ STACK TRACE ------`, `------ INFO OUTPUT ------`,
//! `------ CLIENT LIST OUTPUT ------`, `------ CURRENT CLIENT INFO ------`, `------ FAST MEMORY TEST ------`, END.

use std::sync::{Arc, OnceLock, Weak};

use super::rawlog::LogFd;
use crate::server::Server;

/// The server whose INFO and CLIENT LIST a report shows (set once it exists).
static SERVER: OnceLock<Weak<Server>> = OnceLock::new();

pub fn attach(server: &Arc<Server>) {
    let _ = SERVER.set(Arc::downgrade(server));
}

pub fn start(log: &LogFd) {
    log.raw(b"\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===\n");
}

pub fn end(log: &LogFd) {
    log.raw(
        b"\n=== REDIS BUG REPORT END. Make sure to include from START to END. ===\n\n\
          \x20      Please report the crash to ferredis's developers with this log.\n\n",
    );
}

/// The calling thread's stack, symbolised by std (line tables are in release builds too: `debug = 1`).
pub fn stack_trace(log: &LogFd) {
    log.raw(b"\n------ STACK TRACE ------\n\nBacktrace:\n");
    let trace = std::backtrace::Backtrace::force_capture();
    log.raw(format!("{trace}\n").as_bytes());
}

/// INFO (every section but keyspace, which needs shard locks) and CLIENT LIST, as Redis's `logServerInfo`.
pub fn server_state(log: &LogFd) {
    let Some(server) = SERVER.get().and_then(Weak::upgrade) else {
        return;
    };
    log.raw(b"\n------ INFO OUTPUT ------\n");
    log.raw(crate::commands::info::report_text(&server).as_bytes());
    log.raw(b"\n------ CLIENT LIST OUTPUT ------\n");
    log.raw(client_list(&server).as_bytes());
}

/// What Redis's `printCrashReport` writes after INFO and CLIENT LIST: the current client, then the memory test.
pub fn after_state(log: &LogFd) {
    super::current::log_current_client(log);
    memory_test(log);
}

/// Redis's `doFastMemoryTest` (with `crash-memcheck-enabled yes`) stops the other threads and tests every
/// anonymous mapping in place. ferredis cannot stop its connection threads from a crash report, and testing
/// memory they are using would report their writes as errors, so the section says the test was not done.
fn memory_test(log: &LogFd) {
    if !super::MEMCHECK.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    log.raw(
        b"\n------ FAST MEMORY TEST ------\n\
          Fast memory test skipped: ferredis cannot stop its other threads to test memory in place. \
          Run a memory test (memtester, or redis-server --test-memory) for several hours if possible.\n",
    );
}

fn client_list(server: &Server) -> String {
    let nobody = crate::commands::client::Running {
        id: 0,
        cmd: "",
        argv_mem: 0,
        argc: 0,
    };
    let mut out = String::new();
    for c in server.clients.all() {
        out.push_str(&crate::commands::client::describe(&c, &nobody));
        out.push('\n');
    }
    out
}
