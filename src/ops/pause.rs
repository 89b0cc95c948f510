//! CLIENT PAUSE / CLIENT UNPAUSE: clients whose next command the pause covers wait before running it (counted
//! in `blocked_clients`), as Redis postpones them; the active expiry holds off while any pause lasts.
//!
//! The connection loop asks [`holds`] before each command (one atomic load when no pause is on), flushes the
//! replies it has, and sleeps in [`wait`] on one server-wide `Condvar` until the pause ends, is lifted, or the
//! client goes away. A pause covers: everything (ALL), or under WRITE the commands that write or may replicate
//! (PUBLISH, PFCOUNT, a script or function without `no-writes`) and an EXEC whose queue holds one; errors found before running
//! (unknown command, arity, authentication) are answered at once.

use std::net::TcpStream;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering::Relaxed};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::commands::dispatch::{resolve, Resolved};
use crate::commands::{flags, table, transaction, Args};
use crate::server::clients::ClientState;
use crate::server::Server;
use crate::util::time::now_ms;

/// Redis's `pause_type`, in order of strength.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Kind {
    None = 0,
    Write = 1,
    All = 2,
}

struct State {
    kind: Kind,
    end_ms: i64,
}

static STATE: Mutex<State> = Mutex::new(State {
    kind: Kind::None,
    end_ms: 0,
});
static CHANGED: Condvar = Condvar::new();
/// `STATE.kind` for the lock-free check on every command.
static KIND: AtomicU8 = AtomicU8::new(0);

/// DEBUG SLEEP's end (ms), 0 when none: Redis's whole server sleeps then, so every other client's next command
/// waits for it, whatever it is (kept apart from CLIENT PAUSE, which it must not lengthen or lift).
static STALL_END: AtomicI64 = AtomicI64::new(0);

/// DEBUG SLEEP: holds every other client's next command for `duration`, while the caller sleeps.
pub fn stall_for(duration: Duration) {
    let end = now_ms() + duration.as_millis() as i64;
    STALL_END.fetch_max(end, Relaxed);
    std::thread::sleep(duration);
    let _st = STATE.lock();
    if STALL_END.load(Relaxed) <= now_ms() {
        STALL_END.store(0, Relaxed);
    }
    CHANGED.notify_all();
}

fn stalled() -> bool {
    let end = STALL_END.load(Relaxed);
    end != 0 && now_ms() < end
}

/// Whether DEBUG SLEEP has the server asleep: background work that Redis's event loop would do (replication
/// keepalives, streaming to replicas, a replica's reads and ACKs) holds off too.
pub fn asleep() -> bool {
    stalled()
}

/// Sleeps until DEBUG SLEEP's end; true if there was one to wait for.
pub fn sleep_through() -> bool {
    let mut slept = false;
    while stalled() {
        slept = true;
        std::thread::sleep(Duration::from_millis(10));
    }
    slept
}

/// How often a paused client checks that it is still connected.
const SLICE: Duration = Duration::from_millis(100);

/// Redis's `pauseClients`: the stronger kind and the later end of this pause and any current one.
pub fn pause(kind: Kind, end_ms: i64) {
    let mut st = STATE.lock();
    st.kind = st.kind.max(kind);
    st.end_ms = st.end_ms.max(end_ms);
    KIND.store(st.kind as u8, Relaxed);
}

/// CLIENT UNPAUSE: every paused client goes on.
pub fn unpause() {
    let mut st = STATE.lock();
    lift(&mut st);
}

fn lift(st: &mut State) {
    st.kind = Kind::None;
    st.end_ms = 0;
    KIND.store(0, Relaxed);
    CHANGED.notify_all();
}

/// The pause in force now (one past its end is lifted here, as Redis's `checkClientPauseTimeoutAndReturnIfPaused`).
fn current() -> Kind {
    if KIND.load(Relaxed) == 0 {
        return Kind::None;
    }
    let mut st = STATE.lock();
    if st.kind != Kind::None && now_ms() >= st.end_ms {
        lift(&mut st);
    }
    st.kind
}

/// Whether clients are paused: the active expiry (and eviction) hold off.
pub fn paused() -> bool {
    current() != Kind::None
}

/// Whether the pause in force holds `args` back (before it runs, from the connection loop).
pub fn holds(server: &Server, client: &ClientState, args: Args) -> bool {
    if stalled() {
        return true;
    }
    match current() {
        Kind::None => false,
        kind => covers(server, kind, client, args),
    }
}

fn covers(server: &Server, kind: Kind, client: &ClientState, args: Args) -> bool {
    let t = table::get();
    let Resolved::Command(id) = resolve(t, args) else {
        return false;
    };
    let cmd = t.get(id);
    if !client.authenticated && !cmd.has(flags::NO_AUTH) {
        return false;
    }
    if kind == Kind::All {
        return true;
    }
    // EXEC by what it queued; EVAL, EVALSHA and FCALL by their script's declared flags (Redis's processCommand
    // with `getCommandFlags`).
    let judged = transaction::effective_flags(server, client, cmd, args);
    judged & (flags::WRITE | flags::MAY_REPLICATE) != 0
}

/// Sleeps while the pause holds `args` back; false if the client went away meanwhile (close it).
pub fn wait(server: &Server, client: &mut ClientState, args: Args, stream: &TcpStream) -> bool {
    let info = client.info.clone();
    info.blocked.store(true, Relaxed);
    let mut gone = false;
    loop {
        {
            let mut st = STATE.lock();
            let stall_left = STALL_END.load(Relaxed) - now_ms();
            let left = if stall_left > 0 {
                stall_left
            } else if st.kind == Kind::None || !covers(server, st.kind, client, args) {
                break;
            } else {
                st.end_ms - now_ms()
            };
            if left <= 0 {
                lift(&mut st);
                break;
            }
            let slice = SLICE.min(Duration::from_millis(left as u64));
            CHANGED.wait_for(&mut st, slice);
        }
        if info.killed.load(Relaxed) || crate::blocking::peer_closed(stream) {
            gone = true;
            break;
        }
    }
    info.blocked.store(false, Relaxed);
    !gone
}
