//! Handing data to waiters after a command made their keys ready.
//!
//! Two phases. [`serve_ready`] runs under the command's own locks, so its waiters get the data before any other
//! client can see the key, exactly as Redis serves after the command. A waiter whose serve writes a key the
//! command did not lock for writing (a BLMOVE destination) stops that phase for its key, keeping FIFO order;
//! [`serve_deferred`] then takes the key's shard again together with the shards of every key its waiters write,
//! in the global lock order (taking one more lock while holding others could deadlock).

use std::cell::RefCell;
use std::sync::Arc;

use super::{Serve, State, Waiter};
use crate::commands::Ctx;
use crate::db::{KeyLocks, LockPlan};
use crate::server::clients::ClientState;
use crate::server::Server;
use crate::util::time::now_ms;

thread_local! {
    /// (database, key) pairs with waiters that this thread's commands changed, in the order they changed:
    /// Redis serves ready keys in that order too.
    static READY: RefCell<Vec<(usize, Vec<u8>)>> = const { RefCell::new(Vec::new()) };
}

pub(super) fn mark_ready(db: usize, key: &[u8]) {
    READY.with(|r| {
        let mut r = r.borrow_mut();
        if !r.iter().any(|(d, k)| *d == db && k == key) {
            r.push((db, key.to_vec()));
        }
    });
}

fn next_ready() -> Option<(usize, Vec<u8>)> {
    READY.with(|r| {
        let mut r = r.borrow_mut();
        (!r.is_empty()).then(|| r.remove(0))
    })
}

fn nothing_ready() -> bool {
    READY.with(|r| r.borrow().is_empty())
}

/// Serves, under the locks still held in `ctx`, the clients blocked on keys that the command just run (or a whole
/// EXEC) made ready. Keys it cannot finish stay ready for [`serve_deferred`].
pub fn serve_ready(ctx: &mut Ctx) {
    if nothing_ready() {
        return;
    }
    // The serves judge expiry by the time now, not the command's frozen clock (Redis's `updateCachedTime` in
    // `handleClientsBlockedOnKeys`): a key that expired while an EXEC or a script ran is not served.
    ctx.keys.set_now(now_ms());
    let (own_db, own_cmd) = (ctx.client.db, ctx.cmd);
    let mut deferred = Vec::new();
    while let Some((db, key)) = next_ready() {
        ctx.client.db = db;
        if !ctx.keys.holds_for_write(db, &key) || !offer(ctx, &key) {
            deferred.push((db, key));
        }
    }
    ctx.client.db = own_db;
    ctx.cmd = own_cmd;
    READY.with(|r| *r.borrow_mut() = deferred);
}

/// Serves what [`serve_ready`] left, with no lock held on entry: each key is locked again with the keys its
/// waiters' serves write. `client` ran the command; its database is borrowed for the serves and restored.
pub fn serve_deferred(server: &Server, client: &mut ClientState) {
    if nothing_ready() {
        return;
    }
    let own_db = client.db;
    while let Some((db, key)) = next_ready() {
        serve_key(server, client, db, &key);
    }
    client.db = own_db;
}

/// Offers one key to its waiters under a fresh lock set covering every key they write.
fn serve_key(server: &Server, client: &mut ClientState, db: usize, key: &[u8]) {
    let ks = &server.keyspace;
    loop {
        // Learn, under a read lock, which other keys the waiters' serves write, so they are locked up front.
        let (cmd, extra) = {
            let shard = ks.db(db).shard(ks.shard_of(key)).read();
            let queues = shard.blocked.queues.lock();
            let Some(head) = queues.get(key).and_then(|q| q.front()) else {
                return;
            };
            let mut extra: Vec<Vec<u8>> = Vec::new();
            for w in &queues[key] {
                for k in w.request.extra_keys() {
                    if !extra.contains(k) {
                        extra.push(k.clone());
                    }
                }
            }
            (head.cmd, extra)
        };
        let mut plan = LockPlan::new();
        plan.key(ks, db, key, true);
        for k in &extra {
            plan.key(ks, db, k, true);
        }
        client.db = db;
        let mut ctx = Ctx {
            server,
            client: &mut *client,
            keys: KeyLocks::new(server, plan.acquire(ks), now_ms()),
            cmd,
        };
        if offer(&mut ctx, key) {
            // Keys made ready by these serves (BLMOVE destinations) are served now, under these locks if they
            // can be; the rest come back round in `serve_deferred`.
            serve_ready(&mut ctx);
            return;
        }
        // A waiter that joined in between writes a key we did not lock: go round with the new set.
    }
}

/// Offers `key` (in `ctx.db()`, its shard write-locked) to its waiters in FIFO order, until it runs dry or every
/// waiter was offered it. Returns false if it stopped at a waiter whose serve writes a key not locked for writing.
fn offer(ctx: &mut Ctx, key: &[u8]) -> bool {
    let db = ctx.db();
    let mut i = 0;
    loop {
        let Some(waiter) = queue_at(ctx, db, key, i) else {
            return true;
        };
        let writable = waiter
            .request
            .extra_keys()
            .iter()
            .all(|k| ctx.keys.holds_for_write(db, k));
        let mut state = waiter.state.lock();
        if !matches!(*state, State::Waiting) {
            drop(state);
            remove_at(ctx, db, key, i);
            continue;
        }
        if !writable {
            return false;
        }
        ctx.cmd = waiter.cmd;
        let mark = ctx.keys.pending.begin_call();
        match waiter.request.serve(ctx, key) {
            Serve::Served(reply) => {
                // The served client's effects are a unit of their own, after the command that fed it.
                ctx.keys.pending.end_serve(mark);
                ctx.keys.end_unit();
                *state = State::Answered(reply);
                crate::tracking::served_a_waiter();
                waiter.cond.notify_one();
                drop(state);
                remove_at(ctx, db, key, i);
            }
            Serve::Pass => i += 1,
            Serve::Stop => return true,
        }
    }
}

fn queue_at(ctx: &mut Ctx, db: usize, key: &[u8], i: usize) -> Option<Arc<Waiter>> {
    let shard = ctx.keys.shard_mut(db, key);
    shard.blocked.queues.get_mut().get(key)?.get(i).cloned()
}

fn remove_at(ctx: &mut Ctx, db: usize, key: &[u8], i: usize) {
    let queues = ctx.keys.shard_mut(db, key).blocked.queues.get_mut();
    if let Some(q) = queues.get_mut(key) {
        q.remove(i);
        if q.is_empty() {
            queues.remove(key);
        }
    }
}
