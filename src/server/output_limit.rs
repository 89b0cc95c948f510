//! `client-output-buffer-limit normal`: a connection whose unsent replies pass the limit is closed, as Redis
//! closes it, instead of its replies piling up without bound.
//!
//! A connection writes without blocking, keeps what the socket did not take (`super::unsent`), and goes on
//! reading and running the client's commands. With a limit set, the unsent bytes (CLIENT LIST `omem`) are
//! checked against it after every reply, with the pubsub class's rule (`crate::pubsub::over_limits`). A batch
//! of pipelined replies is then written once whole, so a reply that alone passes the hard limit is never sent,
//! as in Redis.

use std::io;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use super::clients::ClientInfo;
use crate::pubsub::{over_limits, Limits};

static HARD: AtomicU64 = AtomicU64::new(0);
static SOFT: AtomicU64 = AtomicU64::new(0);
static SOFT_SECS: AtomicU64 = AtomicU64::new(0);

/// Mirrors the normal class of `client-output-buffer-limit` (the whole canonical value) from `Config`.
pub fn apply_config(value: &str) {
    let [normal, _, _] = crate::config::special::parse_buffer_limits(value);
    HARD.store(normal.hard, Relaxed);
    SOFT.store(normal.soft, Relaxed);
    SOFT_SECS.store(normal.soft_seconds, Relaxed);
}

/// The normal class's limits; `None` when there are none (the usual case, one load per call).
#[inline]
pub fn limits() -> Option<Limits> {
    let (hard, soft) = (HARD.load(Relaxed), SOFT.load(Relaxed));
    (hard != 0 || soft != 0).then(|| Limits {
        hard,
        soft,
        soft_secs: SOFT_SECS.load(Relaxed),
    })
}

thread_local! {
    /// When this thread's connection went over the soft limit (each connection has its thread while it lives).
    static SOFT_SINCE: AtomicI64 = const { AtomicI64::new(0) };
}

thread_local! {
    /// Bytes past which this thread's current reply is over the hard limit (0: no hard limit applies to it).
    static REPLY_BUDGET: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The connection loop, before each command: whether the hard limit will be checked on its reply.
pub fn set_reply_budget(limits: Option<Limits>) {
    let budget = limits.map_or(0, |l| (l.hard as usize).saturating_add(FIXED_BUFFER));
    REPLY_BUDGET.with(|b| b.set(budget));
}

/// At most how many elements a reply of unbounded length (HRANDFIELD, SRANDMEMBER, ZRANDMEMBER with a negative
/// count) needs to hold: a reply with more is over the hard limit (every element takes 6 bytes at least), so the
/// client is closed and none of it is sent. Redis stops such a loop once the client is scheduled to close; this
/// stops it before it builds more than the limit in memory. Unbounded when no hard limit applies to the reply
/// (a script's call: its reply goes to the script).
pub fn reply_cap(server: &super::Server) -> usize {
    let budget = REPLY_BUDGET.with(|b| b.get());
    if budget == 0 || server.scripts.in_progress() {
        return usize::MAX;
    }
    budget / 6 + 1
}

/// A connection starts on this thread.
pub fn begin() {
    SOFT_SINCE.with(|s| s.store(0, Relaxed));
}

/// Redis's fixed reply buffer (`PROTO_REPLY_CHUNK_BYTES`): replies go there first, and only what overflows it
/// into the reply list counts against the limits and in `omem`.
const FIXED_BUFFER: usize = 16 * 1024;

/// What one 16 kB block of Redis's reply list costs besides its payload: the allocation's slack (a 16 kB block
/// plus its 16-byte header is served from jemalloc's 20 kB class, all of it counted in `reply_bytes`), its list
/// node and block header (`getClientOutputBufferMemoryUsage`).
const BLOCK_OVERHEAD: usize = 20_480 - 16_384 + 24;

/// What of `pending` unsent bytes Redis would count (see [`FIXED_BUFFER`]): the overflow, in 16 kB blocks of the
/// reply list with their overhead.
pub fn counted(pending: usize) -> usize {
    let over = pending.saturating_sub(FIXED_BUFFER);
    over + over.div_ceil(FIXED_BUFFER) * BLOCK_OVERHEAD
}

/// Checks `pending` unsent bytes against `limits`: over them, the client is closed (an error the connection loop
/// returns), with Redis's log line.
pub fn check(info: &ClientInfo, pending: usize, limits: Limits) -> io::Result<()> {
    let pending = counted(pending);
    let over = SOFT_SINCE.with(|s| over_limits(pending as u64, limits, s));
    if over {
        // Gone for the other threads before its reply is counted: the reply is never sent, so client eviction
        // must not weigh it (Redis takes a client scheduled to close out of eviction's buckets).
        info.killed.store(true, Relaxed);
    }
    info.omem.store(pending, Relaxed);
    if !over {
        return Ok(());
    }
    log_closing(info);
    Err(io::Error::other(
        "closed for overcoming output buffer limits",
    ))
}

/// Another thread left `left` bytes queued on `info`'s connection (an invalidation message its socket did not
/// take, see `super::stream::Stream::push`): with them, is its output over the normal class's limits? Then it is
/// closed, with Redis's log line, as Redis closes a client whose reply list grew past them.
pub fn check_pushed(info: &ClientInfo, left: usize) {
    let Some(limits) = limits() else {
        return;
    };
    let pending = counted(left) + info.omem.load(Relaxed);
    if over_limits(pending as u64, limits, &info.pushed_soft_since) && !info.killed.load(Relaxed) {
        log_closing(info);
        info.kill();
    }
}

/// Redis's log line for a client closed for its output buffer (a normal client, a subscriber, a replica).
pub fn log_closing(info: &ClientInfo) {
    let described = crate::commands::client::describe(
        info,
        &crate::commands::client::Running {
            id: 0,
            cmd: "",
            argv_mem: 0,
            argc: 0,
        },
    );
    log::warn!(
        "Client {described} scheduled to be closed ASAP for overcoming of output buffer limits."
    );
}
