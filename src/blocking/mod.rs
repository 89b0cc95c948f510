//! Clients blocked on keys (BLPOP family, BZPOPMIN family, XREAD/XREADGROUP BLOCK), waiting on `Condvar`s.
//!
//! # The model
//! A blocking command that finds nothing to return registers a [`Waiter`] in the per-shard registry
//! ([`BlockedKeys`], one FIFO queue per key) of every key it watches, while it still holds the shard locks it
//! checked the keys under, so no push can slip in between "nothing there" and "registered". The handler then
//! answers [`Reply::NoReply`]; the connection loop sees [`pending`], flushes earlier pipelined replies and calls
//! [`wait`], which sleeps on the waiter's own `Condvar` with no lock held.
//!
//! Every write ends in the "key changed" hook (`KeyLocks::report` → [`BlockedKeys::key_changed`]).
//! When the key has waiters, the hook records it in a per-thread "ready" list. After the handler returns,
//! `dispatch::run` calls [`serve_ready`] while the command's locks are still held: the ready keys are offered to
//! their waiters in FIFO order through [`Request::serve`], so waiters get the data before any other client sees
//! the key, as Redis serves after each command (and once after EXEC, which therefore hands out pushes made inside
//! the transaction only when it ends). A served waiter gets its reply in its own slot and only its thread wakes.
//! Pushes done by a serve (BLMOVE's destination) make their keys ready in turn and the same loop serves them.
//!
//! A serve may write a key the command did not lock (a served BLMOVE's destination); taking one more shard lock
//! while holding others could deadlock. Such a key is left ready, and after the locks are released `dispatch::run`
//! calls [`serve_deferred`], which locks the key again together with every key its waiters write, in the global
//! order. Code that runs commands outside `dispatch::run` must call both, the same way.
//!
//! A waiter's slot (`Mutex<State>`) is the single point of decision: the serving thread fills it only while it is
//! `Waiting`, and a waiter that times out, is unblocked or disconnects marks it `Left` under the same mutex, so an
//! element is either handed to exactly one waiter or stays in the key. A waiter that leaves (served or not)
//! removes itself from every queue it joined.
//!
//! # Reusing it (sorted sets, streams)
//! Implement [`Request`] for the blocked command's parameters and call [`block`] from the handler:
//!
//! ```ignore
//! struct BzPop { max: bool }
//! impl blocking::Request for BzPop {
//!     fn serve(&self, ctx: &mut Ctx, key: &[u8]) -> blocking::Serve {
//!         // Runs under the key's write lock, with ctx.db() = the waiter's database.
//!         match ctx.lookup_mut(key) {
//!             Some(Value::ZSet(z)) => { /* pop, ctx.changed(key, 'z', "zpopmin"), ctx.propagate_as(..) */
//!                 blocking::Serve::Served(reply) }
//!             _ => blocking::Serve::Stop, // nothing here for anyone behind this waiter either
//!         }
//!     }
//! }
//!
//! fn bzpopmin(ctx: &mut Ctx, args: Args) -> Reply {
//!     let timeout = match blocking::parse_timeout(args.get(args.len() - 1), blocking::Unit::Seconds) { .. };
//!     // ... try every key; if one has data, pop and answer at once ...
//!     if transaction::in_exec(ctx.client) { return Reply::NilArray; }
//!     blocking::block(ctx, keys, timeout, BzPop { max: false })
//! }
//! ```
//!
//! Streams: `serve` returns `Served` for every waiter whose ID the new entries satisfy, without consuming
//! anything (every XREAD waiter gets the entry) and `Pass` for the others; a deleted stream or group makes
//! `serve` answer XREADGROUP waiters with `Served(Reply::error(..))`, since deletes signal the key too. Override
//! [`Request::timeout_reply`] if a timeout is not `*-1`. [`block`] needs only read locks on the keys, so
//! read-only commands (XREAD) may block.

mod serve;
mod wait;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::commands::{Command, Ctx};
use crate::protocol::Reply;
use crate::server::clients::ClientState;

pub use serve::{serve_deferred, serve_ready};
pub(crate) use wait::peer_closed;
pub use wait::{
    client_killed, client_unblock, still_blocked, unblock, unblock_with, wait, was_served,
    CLIENT_UNBLOCK,
};

/// What a blocked command does when one of its keys changes.
pub trait Request: Send + Sync + 'static {
    /// Offers `key` (one of the waiter's keys, just changed) to this waiter. Runs with the write locks of `key`
    /// and of [`Request::extra_keys`] held and `ctx.db()` set to the waiter's database; must call
    /// `ctx.changed`/`ctx.report` for what it writes, as a handler does, and `ctx.propagate_as` (or
    /// `ctx.also_propagate`) for its effect: a served client's command is not its own effect (BLPOP is
    /// replicated as the LPOP it did). The effects of each served client are a unit of their own.
    fn serve(&self, ctx: &mut Ctx, key: &[u8]) -> Serve;

    /// Keys the serve writes besides the one it is offered (BLMOVE's destination), so their shards get locked.
    fn extra_keys(&self) -> &[Vec<u8>] {
        &[]
    }

    /// The reply on timeout and on `CLIENT UNBLOCK id TIMEOUT`: Redis answers `*-1` for lists, zsets, streams.
    fn timeout_reply(&self) -> Reply {
        Reply::NilArray
    }
}

/// The outcome of offering a key to one waiter.
pub enum Serve {
    /// The waiter is answered with this reply and wakes.
    Served(Reply),
    /// This waiter cannot use the key now; offer it to the next one (a stream read waiting for a later ID).
    Pass,
    /// Nothing left for anyone (the list is empty or gone): stop offering this key.
    Stop,
}

/// The units of a blocking timeout argument.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// BLPOP, BZPOPMIN...: a float number of seconds.
    Seconds,
    /// XREAD BLOCK: an integer number of milliseconds.
    Millis,
}

/// Parses a timeout as Redis 7.0's `getTimeoutFromObjectOrReply`: `None` = block forever (0), with Redis's error
/// texts.
pub fn parse_timeout(arg: &[u8], unit: Unit) -> Result<Option<Duration>, Reply> {
    let ms = match unit {
        Unit::Seconds => {
            let secs = crate::util::numbers::parse_f64(arg)
                .ok_or_else(|| Reply::err("timeout is not a float or out of range"))?;
            let ms = secs * 1000.0;
            // C's (long long) cast of an out-of-range value gives LLONG_MIN on x86: Redis then says "negative".
            if !ms.is_finite() || ms >= i64::MAX as f64 || ms <= i64::MIN as f64 {
                i64::MIN
            } else {
                ms as i64
            }
        }
        Unit::Millis => crate::util::numbers::parse_i64(arg)
            .ok_or_else(|| Reply::err("timeout is not an integer or out of range"))?,
    };
    if ms < 0 {
        return Err(Reply::err("timeout is negative"));
    }
    // Redis 7.0 has no upper bound: a timeout of 292 million years simply blocks.
    Ok((ms > 0).then(|| Duration::from_millis(ms as u64)))
}

/// Registers the client as waiting on `keys` (in the client's database) and answers `NoReply`; the connection
/// loop then calls [`wait`]. Call it with the keys' shard locks held (read locks suffice), after finding no data.
pub fn block(
    ctx: &mut Ctx,
    mut keys: Vec<Vec<u8>>,
    timeout: Option<Duration>,
    request: impl Request,
) -> Reply {
    let db = ctx.db();
    // A key named twice is waited on once, as in Redis.
    let mut seen = std::collections::HashSet::new();
    keys.retain(|k| seen.insert(k.clone()));
    let waiter = Arc::new(Waiter {
        db,
        keys,
        cmd: ctx.cmd,
        request: Box::new(request),
        state: Mutex::new(State::Waiting),
        cond: Condvar::new(),
    });
    for key in &waiter.keys {
        ctx.keys.shard(db, key).blocked.add(key, &waiter);
    }
    wait::register(&ctx.client.info, &waiter);
    ctx.client.ext.blocked = Some(Blocked {
        info: ctx.client.info.clone(),
        waiter,
        // A deadline beyond what `Instant` can hold is as good as forever.
        deadline: timeout.and_then(|t| Instant::now().checked_add(t)),
    });
    Reply::NoReply
}

/// Whether the last command left the client waiting (its handler called [`block`]).
pub fn pending(client: &ClientState) -> bool {
    client.ext.blocked.is_some()
}

/// The per-client blocking state, kept in `ClientExt` between [`block`] and [`wait`].
pub struct Blocked {
    info: Arc<crate::server::clients::ClientInfo>,
    waiter: Arc<Waiter>,
    deadline: Option<Instant>,
}

/// One blocked client: its keys, what to do when they change, and the slot its answer goes into.
pub struct Waiter {
    db: usize,
    keys: Vec<Vec<u8>>,
    /// The blocked command, for the handler context of its serve.
    cmd: &'static Command,
    request: Box<dyn Request>,
    state: Mutex<State>,
    cond: Condvar,
}

enum State {
    Waiting,
    /// Answered (served, or unblocked by CLIENT UNBLOCK); the waiter thread takes the reply.
    Answered(Reply),
    /// Timed out or disconnected: nobody may serve it any more.
    Left,
}

/// The waiters of one shard, one FIFO queue per key. Behind its own mutex so that registering needs only a
/// shard read lock; the hook and the server, holding the write lock, reach it without locking.
#[derive(Default)]
pub struct BlockedKeys {
    queues: Mutex<HashMap<Vec<u8>, VecDeque<Arc<Waiter>>>>,
}

impl BlockedKeys {
    /// Called by the "key changed" hook for every write: a key with waiters is recorded for [`serve_ready`].
    pub fn key_changed(&mut self, db: usize, key: &[u8]) {
        let queues = self.queues.get_mut();
        if !queues.is_empty() && queues.contains_key(key) {
            serve::mark_ready(db, key);
        }
    }

    /// Every key with waiters may have new contents (SWAPDB): all of them are offered to their waiters.
    pub fn mark_all_ready(&mut self, db: usize) {
        for key in self.queues.get_mut().keys() {
            serve::mark_ready(db, key);
        }
    }

    fn add(&self, key: &[u8], waiter: &Arc<Waiter>) {
        self.queues
            .lock()
            .entry(key.to_vec())
            .or_default()
            .push_back(waiter.clone());
    }

    fn remove(&self, key: &[u8], waiter: &Arc<Waiter>) {
        let mut queues = self.queues.lock();
        if let Some(q) = queues.get_mut(key) {
            q.retain(|w| !Arc::ptr_eq(w, waiter));
            if q.is_empty() {
                queues.remove(key);
            }
        }
    }

    /// Number of clients waiting on `key`.
    pub fn waiting(&self, key: &[u8]) -> usize {
        self.queues.lock().get(key).map_or(0, VecDeque::len)
    }
}

#[cfg(test)]
mod tests;
