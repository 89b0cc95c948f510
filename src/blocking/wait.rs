//! The blocked client's side: sleeping on its own `Condvar`, timing out, noticing a vanished peer, leaving.

use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Blocked, State, Waiter};
use crate::commands::{flags, Args, Command, Ctx};
use crate::db::LockPlan;
use crate::protocol::Reply;
use crate::server::clients::{ClientInfo, ClientState};
use crate::server::Server;
use crate::util::numbers::parse_i64;

/// How often a sleeping waiter checks that its client is still there (CLIENT KILL, a closed socket).
const SLICE: Duration = Duration::from_millis(100);

/// Publishes the waiter on the client's shared info, where CLIENT UNBLOCK and CLIENT KILL (other threads) find it.
pub(super) fn register(info: &ClientInfo, waiter: &Arc<Waiter>) {
    *info.waiter.lock() = Some(waiter.clone());
}

impl Drop for Blocked {
    /// Also runs if the connection dies before [`wait`] (a failed flush): the waiter is then marked gone so no
    /// serve hands it an element; the serving thread drops it from the queues when it meets it.
    fn drop(&mut self) {
        let mut state = self.waiter.state.lock();
        if matches!(*state, State::Waiting) {
            *state = State::Left;
        }
        drop(state);
        let mut published = self.info.waiter.lock();
        if published
            .as_ref()
            .is_some_and(|w| Arc::ptr_eq(w, &self.waiter))
        {
            *published = None;
        }
    }
}

/// Waits, with no lock held and the client's earlier replies already written, until the client is served, times
/// out, is unblocked or disconnects; returns the reply to send (`NoReply`, and the client marked for closing, if
/// it disconnected).
pub fn wait(server: &Server, client: &mut ClientState, stream: &TcpStream) -> Reply {
    let Some(blocked) = client.ext.blocked.take() else {
        return Reply::NoReply;
    };
    client.info.blocked.store(true, Relaxed);
    let reply = sleep(&blocked, &client.info, stream);
    leave_queues(server, &blocked.waiter);
    drop(blocked);
    crate::tracking::hold_until_replied(server, &client.info);
    client.info.blocked.store(false, Relaxed);
    if let Some(reply) = reply.as_ref().filter(|r| r.is_error()) {
        count_failed(&client.info, reply);
    }
    reply.unwrap_or_else(|| {
        client.close_after_reply = true;
        Reply::NoReply
    })
}

thread_local! {
    /// Whether this thread's last [`wait`] ended with an answer (served or unblocked), not a timeout or a gone
    /// client: the slow log and the latency histogram count only those, as Redis's `updateStatsOnUnblock`.
    static SERVED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// See [`SERVED`].
pub fn was_served() -> bool {
    SERVED.with(std::cell::Cell::get)
}

/// An error answered to a blocked client (NOGROUP after XGROUP DESTROY, `UNBLOCKED`) counts as its command's
/// failure in INFO commandstats and errorstats, as Redis's `updateStatsOnUnblock`: the call was counted when it
/// blocked, its outcome only now.
fn count_failed(info: &ClientInfo, reply: &Reply) {
    let id = info.last_cmd.load(Relaxed) as usize;
    crate::server::stats::with_local(|s| {
        if let Some(c) = s.commands.get(id) {
            c.failed.add_local(1);
        }
        s.count_error(reply);
    });
}

/// `None` if the client went away.
fn sleep(blocked: &Blocked, info: &ClientInfo, stream: &TcpStream) -> Option<Reply> {
    let w = &blocked.waiter;
    SERVED.with(|s| s.set(false));
    loop {
        {
            let mut state = w.state.lock();
            loop {
                if matches!(*state, State::Left) {
                    // Killed (see `client_killed`).
                    return None;
                }
                if matches!(*state, State::Answered(_)) {
                    if let State::Answered(reply) = std::mem::replace(&mut *state, State::Left) {
                        SERVED.with(|s| s.set(true));
                        return Some(reply);
                    }
                }
                let now = Instant::now();
                let slice = match blocked.deadline {
                    Some(d) if d <= now => {
                        *state = State::Left;
                        return Some(w.request.timeout_reply());
                    }
                    Some(d) => SLICE.min(d - now),
                    None => SLICE,
                };
                if w.cond.wait_for(&mut state, slice).timed_out() {
                    break;
                }
            }
        }
        if info.killed.load(Relaxed) || peer_closed(stream) {
            let mut state = w.state.lock();
            // Served in the same instant: the element went to a client that is gone, as in Redis.
            *state = State::Left;
            return None;
        }
    }
}

/// Whether the peer closed its end (or the socket was shut down), without consuming pipelined input.
pub(crate) fn peer_closed(stream: &TcpStream) -> bool {
    let mut byte = 0u8;
    // SAFETY: a valid socket descriptor and a one-byte buffer that outlives the call.
    let n = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    match n {
        0 => true,
        n if n > 0 => false,
        _ => {
            let err = std::io::Error::last_os_error().kind();
            !matches!(
                err,
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
            )
        }
    }
}

/// Removes the waiter from the queue of every key it joined (registries need only read locks).
fn leave_queues(server: &Server, waiter: &Arc<Waiter>) {
    let ks = &server.keyspace;
    let mut plan = LockPlan::new();
    for key in &waiter.keys {
        plan.key(ks, waiter.db, key, false);
    }
    let locks = crate::db::KeyLocks::new(server, plan.acquire(ks), 0);
    for key in &waiter.keys {
        locks.shard(waiter.db, key).blocked.remove(key, waiter);
    }
}

/// The `CLIENT UNBLOCK` row, for the CLIENT container's subcommand table.
pub const CLIENT_UNBLOCK: Command = Command::new(
    "unblock",
    -3,
    flags::ADMIN | flags::NOSCRIPT | flags::LOADING | flags::STALE | flags::ORDERED,
    client_unblock,
)
.doc(
    "connection",
    "5.0.0",
    "Unblock a client blocked in a blocking command from a different connection",
);

/// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]: `:1` if that client was blocked (it is answered now), `:0` if not.
pub fn client_unblock(ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() > 4 {
        return Reply::err(&format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(args.get(1))
        ));
    }
    let error = match (args.len() == 4).then(|| args.get(3)) {
        None => false,
        Some(r) if r.eq_ignore_ascii_case(b"timeout") => false,
        Some(r) if r.eq_ignore_ascii_case(b"error") => true,
        Some(_) => return Reply::err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
    };
    match parse_i64(args.get(2)) {
        None => Reply::not_integer(),
        Some(id) => {
            Reply::Int(u64::try_from(id).is_ok_and(|id| unblock(ctx.server, id, error)) as i64)
        }
    }
}

/// Whether the client is blocked, for INFO's `blocked_clients`: one whose peer has closed is released now
/// rather than at its thread's next look at the socket (up to [`SLICE`] later). Redis sees the close at once,
/// and the suite's `wait_for_blocked_client` would otherwise count a client it has just closed.
pub fn still_blocked(info: &ClientInfo) -> bool {
    if !info.blocked.load(Relaxed) {
        return false;
    }
    if peer_closed(info.stream()) {
        client_killed(info);
        return false;
    }
    true
}

/// Called by CLIENT KILL: a blocked client stops waiting at once, taking nothing, instead of at its next check
/// of the socket.
pub fn client_killed(info: &ClientInfo) {
    let Some(w) = info.waiter.lock().clone() else {
        return;
    };
    let mut state = w.state.lock();
    if matches!(*state, State::Waiting) {
        *state = State::Left;
        w.cond.notify_one();
    }
}

/// `CLIENT UNBLOCK id [TIMEOUT|ERROR]`: answers a blocked client as if it timed out, or with Redis's
/// `-UNBLOCKED` error. False if that client is not blocked.
pub fn unblock(server: &Server, client_id: u64, error: bool) -> bool {
    let error = error.then(|| Reply::error("UNBLOCKED client unblocked via CLIENT UNBLOCK"));
    unblock_with(server, client_id, error)
}

/// Answers a blocked client with `reply`, or as if it timed out when `None`. False if it is not blocked.
pub fn unblock_with(server: &Server, client_id: u64, reply: Option<Reply>) -> bool {
    let Some(w) = server
        .clients
        .get(client_id)
        .and_then(|info| info.waiter.lock().clone())
    else {
        return false;
    };
    let mut state = w.state.lock();
    if !matches!(*state, State::Waiting) {
        return false;
    }
    *state = State::Answered(reply.unwrap_or_else(|| w.request.timeout_reply()));
    w.cond.notify_one();
    true
}
