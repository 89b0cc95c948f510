//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! MULTI starts queuing: every later command, except the few that steer the transaction, is copied into the
//! client's queue and answered `+QUEUED`. EXEC runs the queue atomically (`dispatch::exec`): one lock plan covering
//! every key of every queued command and every watched key, taken once in the global order.
//!
//! WATCH registers the client in the registry of each watched key's shard (`db::watch`); any write to one of those
//! keys sets the client's [`WatchFlag`], which EXEC reads with those shards locked. Registrations are added and
//! removed only under their shard's write lock, so WATCH, UNWATCH, DISCARD, EXEC and a disconnect all lock the
//! shards of the watched keys. A client that watches nothing never locks anything for it.

use std::sync::atomic::Ordering::Relaxed;

use super::flags::*;
use super::{dispatch, table, Args, Command, Ctx, Scope};
use crate::commands::keyspec::prelude::*;
use crate::db::watch;
use crate::db::{KeyLocks, Keyspace, LockPlan};
use crate::protocol::{Frame, Reply};
use crate::server::clients::{ClientInfo, ClientState};
use crate::server::{stats, Server};
use crate::util::time::now_ms;

pub const COMMANDS: &[Command] = &[
    Command::new(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        multi,
    )
    .doc(
        "transactions",
        "1.2.0",
        "Mark the start of a transaction block",
    )
    .complexity("O(1)"),
    Command::new("exec", 1, NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG, exec)
        .doc(
            "transactions",
            "1.2.0",
            "Execute all commands issued after MULTI",
        )
        .complexity("Depends on commands in the transaction"),
    Command::new(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        discard,
    )
    .doc(
        "transactions",
        "2.0.0",
        "Discard all commands issued after MULTI",
    )
    .complexity("O(N), when N is the number of queued commands"),
    Command::new(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        watch,
    )
    .key_specs(&[ks(RO, Index(1), Range(-1, 1, 0))])
    .keys(1, -1, 1)
    .scope(Scope::Custom(watch_locks))
    .doc(
        "transactions",
        "2.2.0",
        "Watch the given keys to determine execution of the MULTI/EXEC block",
    )
    .complexity("O(1) for every key."),
    Command::new(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        unwatch,
    )
    .doc("transactions", "2.2.0", "Forget about all watched keys")
    .complexity("O(1)"),
];

/// A client's transaction state (in `ClientExt`).
#[derive(Default)]
pub struct MultiState {
    /// The queued commands; `Some` exactly while the client is inside MULTI.
    queue: Option<Vec<Queued>>,
    /// An unknown command, a wrong arity or a refused command while queuing: EXEC answers EXECABORT.
    doomed: bool,
    /// While EXEC runs the queue.
    executing: bool,
    /// (db, key) pairs this client watches, each registered in its shard under the client's
    /// `ClientInfo::watch_dirty` flag.
    watched: Vec<(usize, Box<[u8]>)>,
}

/// One queued command with owned copies of its arguments (the request buffer is reused by the next read).
pub struct Queued {
    pub id: usize,
    data: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

impl Queued {
    fn copy(id: usize, args: Args) -> Self {
        let mut data = Vec::with_capacity(args.iter().map(<[u8]>::len).sum());
        let mut spans = Vec::with_capacity(args.len());
        for arg in args.iter() {
            spans.push((data.len(), data.len() + arg.len()));
            data.extend_from_slice(arg);
        }
        Queued { id, data, spans }
    }

    pub fn args(&self) -> Args<'_> {
        Frame::new(&self.data, &self.spans)
    }
}

/// Called for every resolved command before it runs: inside MULTI, queues it and answers `+QUEUED`. Outside
/// MULTI (the hot path) this is one inlined test.
#[inline]
pub fn queue_if_multi(client: &mut ClientState, id: usize, args: Args) -> Option<Reply> {
    client.ext.multi.queue.as_ref()?;
    queue(client, id, args)
}

#[cold]
fn queue(client: &mut ClientState, id: usize, args: Args) -> Option<Reply> {
    let state = &mut client.ext.multi;
    let queue = state.queue.as_mut()?;
    let table = table::get();
    let cmd = table.get(id);
    if cmd.has(NO_MULTI) {
        state.doomed = true;
        let reply = Reply::err("Command not allowed inside a transaction");
        stats::with_local(|s| {
            s.commands[id].rejected.add_local(1);
            s.count_error(&reply);
        });
        return Some(reply);
    }
    // Redis's list of commands that act at once inside MULTI.
    let steers = table.parent(id).is_none()
        && matches!(
            cmd.name,
            "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
        );
    if steers {
        return None;
    }
    // As Redis: a transaction that can only fail does not keep growing.
    if !state.doomed && !client.info.watch_dirty.is_dirty() {
        let queued = Queued::copy(id, args);
        let mem = queued.data.len() + std::mem::size_of::<usize>() * queued.spans.len();
        client.info.multi_mem.fetch_add(mem, Relaxed);
        queue.push(queued);
        client.info.multi_len.store(queue.len() as i64, Relaxed);
    }
    Some(Reply::status("QUEUED"))
}

/// Called when a request is refused before running (unknown command, wrong arity). Inside MULTI this dooms the
/// EXEC. A refused EXEC itself discards the transaction, even outside MULTI, and says why, as Redis does.
pub fn on_rejected(server: &Server, client: &mut ClientState, args: Args, reply: Reply) -> Reply {
    if args.get(0).eq_ignore_ascii_case(b"exec") {
        discard_transaction(server, client);
        let why = match &reply {
            Reply::Error(e) => e.strip_prefix("ERR ").unwrap_or(e),
            _ => "",
        };
        return Reply::Error(format!("EXECABORT Transaction discarded because of: {why}").into());
    }
    if client.ext.multi.queue.is_some() {
        client.ext.multi.doomed = true;
    }
    reply
}

/// The flags of every queued command together (Redis's `mstate.cmd_flags`): EXEC of a transaction holding a
/// `denyoom` command is refused when out of memory.
pub fn queued_flags(server: &Server, client: &ClientState) -> u32 {
    let table = table::get();
    client.ext.multi.queue.iter().flatten().fold(0, |f, q| {
        f | crate::scripting::command_flags(server, table.get(q.id), q.args())
    })
}

/// Whether the client is inside MULTI (queuing).
pub fn in_multi(client: &ClientState) -> bool {
    client.ext.multi.queue.is_some()
}

/// The flags the server's gates judge `cmd` by (Redis's `getCommandFlags`): its own, a script's declared ones
/// (`scripting::command_flags`), and for EXEC also those of every command it queued, as Redis's
/// `processCommand` treats an EXEC of writes as a write.
#[inline]
pub fn effective_flags(server: &Server, client: &ClientState, cmd: &Command, args: Args) -> u32 {
    if cmd.name == "exec" {
        cmd.flags | queued_flags(server, client)
    } else {
        crate::scripting::command_flags(server, cmd, args)
    }
}

/// True while a transaction's queued commands run: blocking commands then act as their non-blocking forms.
pub fn in_exec(client: &ClientState) -> bool {
    client.ext.multi.executing
}

/// Leaves MULTI (dropping the queue) and drops every WATCH: DISCARD, a refused EXEC, RESET, and a client that
/// disconnects. Must be called with no shard lock held.
pub fn discard_transaction(server: &Server, client: &mut ClientState) {
    let state = &mut client.ext.multi;
    state.queue = None;
    state.doomed = false;
    client.info.multi_len.store(-1, Relaxed);
    client.info.multi_mem.store(0, Relaxed);
    unwatch_all(server, client);
}

/// Adds write locks on the shards of every watched key: EXEC checks and drops the watches under them.
pub(super) fn lock_watched(ks: &Keyspace, client: &ClientState, plan: &mut LockPlan) {
    for (db, key) in &client.ext.multi.watched {
        plan.key(ks, *db, key, true);
    }
}

/// EXEC's watch step, with every watched shard locked: whether the transaction may run (no watched key written,
/// deleted or expired since WATCH). The watches end either way.
pub(super) fn end_watch(keys: &mut KeyLocks, client: &mut ClientState) -> bool {
    let flag = &client.info.watch_dirty;
    let state = &mut client.ext.multi;
    let clean = !flag.is_dirty()
        && !state
            .watched
            .iter()
            .any(|(db, key)| watch::expired_since_watch(keys, *db, key, flag));
    unwatch_locked(keys, state, &client.info);
    clean
}

pub(crate) fn set_executing(client: &mut ClientState, executing: bool) {
    client.ext.multi.executing = executing;
}

/// Drops every watch of the client, taking the locks of their shards.
fn unwatch_all(server: &Server, client: &mut ClientState) {
    let state = &mut client.ext.multi;
    if state.watched.is_empty() {
        // Always the case inside EXEC (it unwatches before running the queue), so a queued UNWATCH never
        // takes a lock while EXEC holds its own.
        return;
    }
    // The caller holds no shard lock (UNWATCH and DISCARD declare no keys, a rejected request and a disconnect
    // hold none), so this ordered acquisition is the thread's only one and cannot deadlock.
    let ks = &server.keyspace;
    let mut plan = LockPlan::new();
    lock_watched(ks, client, &mut plan);
    let mut keys = KeyLocks::new(server, plan.acquire(ks), now_ms());
    unwatch_locked(&mut keys, &mut client.ext.multi, &client.info);
}

fn unwatch_locked(keys: &mut KeyLocks, state: &mut MultiState, info: &ClientInfo) {
    let flag = &info.watch_dirty;
    for (db, key) in state.watched.drain(..) {
        watch::unwatch(keys, db, &key, flag);
    }
    flag.set_watched(0);
    // No registry holds the flag any more, so no writer can set it again.
    flag.clear();
}

fn multi(ctx: &mut Ctx, _args: Args) -> Reply {
    let state = &mut ctx.client.ext.multi;
    if state.queue.is_some() {
        return Reply::err("MULTI calls can not be nested");
    }
    state.queue = Some(Vec::new());
    ctx.client.info.multi_len.store(0, Relaxed);
    Reply::Ok
}

fn exec(ctx: &mut Ctx, _args: Args) -> Reply {
    let state = &mut ctx.client.ext.multi;
    let Some(queue) = state.queue.take() else {
        return Reply::err("EXEC without MULTI");
    };
    let doomed = std::mem::take(&mut state.doomed);
    let reply = dispatch::exec(ctx, &queue, doomed);
    ctx.client.info.multi_len.store(-1, Relaxed);
    ctx.client.info.multi_mem.store(0, Relaxed);
    reply
}

fn discard(ctx: &mut Ctx, _args: Args) -> Reply {
    if ctx.client.ext.multi.queue.is_none() {
        return Reply::err("DISCARD without MULTI");
    }
    discard_transaction(ctx.server, ctx.client);
    Reply::Ok
}

/// WATCH changes the registries of its keys' shards, so it locks them for writing although it is no write.
fn watch_locks(args: Args, db: usize, ks: &Keyspace, plan: &mut LockPlan) {
    for key in args.iter().skip(1) {
        plan.key(ks, db, key, true);
    }
}

fn watch(ctx: &mut Ctx, args: Args) -> Reply {
    let state = &mut ctx.client.ext.multi;
    if state.queue.is_some() {
        return Reply::err("WATCH inside MULTI is not allowed");
    }
    let db = ctx.client.db;
    for key in args.iter().skip(1) {
        if state.watched.iter().any(|(d, k)| *d == db && **k == *key) {
            continue;
        }
        watch::watch(&mut ctx.keys, db, key, &ctx.client.info.watch_dirty);
        state.watched.push((db, key.into()));
        ctx.client.info.watch_dirty.set_watched(state.watched.len());
    }
    Reply::Ok
}

fn unwatch(ctx: &mut Ctx, _args: Args) -> Reply {
    unwatch_all(ctx.server, ctx.client);
    Reply::Ok
}
