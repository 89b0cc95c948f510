//! Handing data to waiters after a command made their keys ready.

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

/// Serves the clients blocked on keys that this thread's last command (or whole EXEC) made ready. Call it after
/// the command's locks are released: it takes each ready key's shard lock again, with the shards the waiters'
/// serves write (BLMOVE destinations), in the global lock order. `client` is the client that ran the command; its
/// database is borrowed for the serves and restored.
pub fn serve_ready(server: &Server, client: &mut ClientState) {
    if READY.with(|r| r.borrow().is_empty()) {
        return;
    }
    let own_db = client.db;
    while let Some((db, key)) = next_ready() {
        serve_key(server, client, db, &key);
    }
    client.db = own_db;
}

/// Offers one key to its waiters, FIFO, until it runs dry or every waiter was offered it.
fn serve_key(server: &Server, client: &mut ClientState, db: usize, key: &[u8]) {
    let ks = &server.keyspace;
    loop {
        // Learn, under a read lock, which other keys the waiters' serves write, so they are locked up front.
        let (cmd, extra) = {
            let shard = ks.db(db).shard(ks.shard_of(key)).read();
            let queues = shard.blocked.queues.lock();
            let Some(queue) = queues.get(key) else {
                return;
            };
            let Some(head) = queue.front() else {
                return;
            };
            let mut extra: Vec<Vec<u8>> = Vec::new();
            for w in queue {
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
            keys: KeyLocks::new(ks, plan.acquire(ks), now_ms()),
            cmd,
        };
        if offer(&mut ctx, key, &extra) {
            return;
        }
        // A waiter that joined in between writes a key we did not lock: go round with the new set.
    }
}

/// Returns false if a waiter needs a key outside `locked_extra` (the caller relocks and retries).
fn offer(ctx: &mut Ctx, key: &[u8], locked_extra: &[Vec<u8>]) -> bool {
    let db = ctx.db();
    let mut i = 0;
    loop {
        let Some(waiter) = queue_at(ctx, key, i) else {
            return true;
        };
        if !waiter
            .request
            .extra_keys()
            .iter()
            .all(|k| locked_extra.contains(k))
        {
            return false;
        }
        let mut state = waiter.state.lock();
        if !matches!(*state, State::Waiting) {
            drop(state);
            remove_at(ctx, db, key, i);
            continue;
        }
        ctx.cmd = waiter.cmd;
        match waiter.request.serve(ctx, key) {
            Serve::Served(reply) => {
                *state = State::Answered(reply);
                waiter.cond.notify_one();
                drop(state);
                remove_at(ctx, db, key, i);
            }
            Serve::Pass => i += 1,
            Serve::Stop => return true,
        }
    }
}

fn queue_at(ctx: &mut Ctx, key: &[u8], i: usize) -> Option<Arc<Waiter>> {
    let db = ctx.db();
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
