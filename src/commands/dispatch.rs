//! From a parsed request to a reply: look the command up, check arity, lock what it touches, run it, count it.

use super::table::{self, CommandTable};
use super::{flags, transaction, Args, Command, Ctx, Scope};
use crate::db::{KeyLocks, Keyspace, LockPlan};
use crate::protocol::Reply;
use crate::server::clients::ClientState;
use crate::server::{stats, Server};
use crate::util::time::{monotonic_us, now_ms};

/// Why a request was refused before running; also what MULTI records to abort EXEC.
pub enum Resolved {
    Command(usize),
    Rejected(Reply),
    /// A known command (or subcommand) with the wrong number of arguments: Redis counts it as that command's
    /// rejected call (`rejectCommand` once `c->cmd` is set; `scriptCall` in scripts).
    WrongArity(usize),
}

/// Finds the command (or subcommand) a request names and checks its arity, with Redis's error texts.
pub fn resolve(table: &CommandTable, args: Args) -> Resolved {
    let Some(mut id) = table.lookup(args.get(0)) else {
        return Resolved::Rejected(unknown_command(args));
    };
    let cmd = table.get(id);
    if !cmd.subcommands.is_empty() && args.len() >= 2 {
        match table.lookup_sub(id, args.get(1)) {
            Some(sub) => id = sub,
            None => {
                return Resolved::Rejected(Reply::err(&format!(
                    "unknown subcommand '{}'. Try {} HELP.",
                    c_string(args.get(1), 128),
                    cmd.name.to_ascii_uppercase()
                )))
            }
        }
    }
    if !table.get(id).arity_ok(args.len()) {
        return Resolved::WrongArity(id);
    }
    Resolved::Command(id)
}

/// Runs one request from a client and returns its reply.
pub fn execute(server: &Server, client: &mut ClientState, args: Args) -> Reply {
    let table = table::get();
    let id = match resolve(table, args) {
        Resolved::Command(id) => id,
        Resolved::Rejected(reply) => {
            let reply = transaction::on_rejected(server, client, args, reply);
            stats::with_local(|s| s.count_error(&reply));
            return reply;
        }
        Resolved::WrongArity(id) => {
            let reply = Reply::wrong_arity(table.full_name(id));
            return reject(server, client, args, id, reply);
        }
    };
    if table.get(id).has(flags::PROTECTED) {
        let top = table.parent(id).unwrap_or(id);
        if let Some(reply) =
            crate::ops::protected::refuse_command(server, &client.info, table.full_name(top))
        {
            return reject(server, client, args, id, reply);
        }
    }
    if !client.authenticated
        && !table.get(id).has(flags::NO_AUTH)
        && crate::acl::acl().auth_required()
    {
        let reply = Reply::error("NOAUTH Authentication required.");
        return reject(server, client, args, id, reply);
    }
    // ACL: one comparison for a user that may run anything.
    if !client.ext.acl.allows_all() {
        if let Some(reply) = crate::acl::check_command(client, id, args) {
            return reject(server, client, args, id, reply);
        }
    }
    // Redis's order: the maxmemory refusal (after evicting what the policy allows), the disk-error and loading
    // refusals, the pub/sub context check, MULTI queueing, the call.
    let cmd_flags = transaction::effective_flags(server, client, table.get(id), args);
    let refused = crate::memory::gate(server, client, table.get(id), cmd_flags);
    // Keys evicted for this command are invalidated before its reply.
    crate::tracking::deliver_before_reply(server, client);
    if let Some(reply) = refused {
        return reject(server, client, args, id, reply);
    }
    if let Some(reply) = crate::persist::gate(server, table.get(id), cmd_flags) {
        return reject(server, client, args, id, reply);
    }
    if let Some(reply) = crate::replication::gate(server, client, cmd_flags) {
        return reject(server, client, args, id, reply);
    }
    if let Some(reply) = crate::scripting::busy(server, client, table.get(id)) {
        return reject(server, client, args, id, reply);
    }
    if let Some(reply) = crate::pubsub::gate(client, id, cmd_flags) {
        return reply;
    }
    if let Some(reply) = transaction::queue_if_multi(client, id, args) {
        return reply;
    }
    let reply = run(server, client, id, args);
    crate::replication::after_command(server, client, table.get(id), args);
    reply
}

/// A resolved command refused before it ran: it aborts the client's transaction and counts as rejected.
fn reject(server: &Server, client: &mut ClientState, args: Args, id: usize, reply: Reply) -> Reply {
    let reply = transaction::on_rejected(server, client, args, reply);
    stats::with_local(|s| {
        s.commands[id].rejected.add_local(1);
        s.count_error(&reply);
    });
    reply
}

/// Runs a resolved command under the locks it needs.
pub fn run(server: &Server, client: &mut ClientState, id: usize, args: Args) -> Reply {
    let cmd = table::get().get(id);
    // Whoever sent a command before this one runs it first, as in Redis: blocked clients queue in the order
    // they asked, and a write finds blocked the clients that asked before it.
    let cmd_flags = transaction::effective_flags(server, client, cmd, args);
    if cmd_flags & flags::BLOCKING != 0 {
        crate::server::fence::before_blocking(server, &client.info);
    } else if cmd_flags & (flags::WRITE | flags::ORDERED) != 0
        || cmd_flags & (flags::MAY_REPLICATE | flags::PUBSUB) == flags::MAY_REPLICATE
    {
        // Scripts may write too; PUBLISH touches no key and takes its own fence (against subscribers).
        crate::server::fence::before_write(server, &client.info);
    }
    crate::tracking::command_starts(server, client.info.id);
    let plan = lock_plan(&server.keyspace, client.db, cmd, args);
    let locks = plan.acquire(&server.keyspace);
    let mut ctx = Ctx {
        server,
        client,
        keys: KeyLocks::new(server, locks, now_ms()),
        cmd,
    };
    if ctx.client.ext.repl.is_master {
        ctx.keys.for_master_link();
    }
    let reply = call(&mut ctx, id, args);
    // The command's effects go to the feed first, then those of the clients it serves, each its own unit.
    ctx.keys.end_unit();
    // Clients blocked on keys this command made ready are served before anyone else sees the keys; those whose
    // serve writes a key not locked here (a BLMOVE destination) once the locks are released.
    crate::blocking::serve_ready(&mut ctx);
    let lazy = ctx.keys.take_lazy();
    drop(ctx);
    crate::blocking::serve_deferred(server, client);
    crate::db::expire_lazily(server, lazy);
    if server.tracking.active() {
        crate::tracking::after_command(server, client, id);
    }
    reply
}

/// Calls the handler with locks already held (by `run`, or by EXEC for a whole transaction) and counts the call.
pub fn call(ctx: &mut Ctx, id: usize, args: Args) -> Reply {
    let cmd = table::get().get(id);
    let outer = std::mem::replace(&mut ctx.cmd, cmd);
    // CLIENT NO-TOUCH: the client's lookups leave keys' access stamps alone, except in TOUCH.
    let no_touch = ctx
        .client
        .info
        .no_touch
        .load(std::sync::atomic::Ordering::Relaxed);
    ctx.keys.set_touch(!no_touch || cmd.name == "touch");
    if cmd.has(flags::WRITE) && matches!(cmd.scope, Scope::Keys) {
        let db = ctx.client.db;
        cmd.for_each_key(args, |i| ctx.keys.expire_if_needed(db, args.get(i)));
    }
    let start = monotonic_us();
    ctx.client.redacted = 0;
    let mark = ctx.keys.pending.begin_call();
    let reply = (cmd.handler)(ctx, args);
    let dirty = ctx.keys.pending.end_call(mark, ctx.client.db, args);
    if ctx.client.ext.tracking.on() {
        let in_script = !std::ptr::eq(outer, cmd) && ctx.server.scripts.in_progress();
        crate::tracking::after_call(ctx.server, ctx.client, cmd, args, in_script);
    }
    if ctx.server.pubsub.monitoring() {
        crate::pubsub::feed_monitors(ctx, cmd, args);
    }
    let usec = monotonic_us().saturating_sub(start);
    stats::with_local(|s| {
        let c = &s.commands[id];
        c.calls.add_local(1);
        c.usec.add_local(usec);
        s.total_commands.add_local(1);
        if dirty != 0 {
            s.dirty.add_local(dirty);
        }
        if reply.is_error() {
            c.failed.add_local(1);
            // A script's error raised from `redis.call` was counted when that call failed.
            if !crate::scripting::take_error_counted() {
                s.count_error(&reply);
            }
        }
    });
    ctx.client
        .info
        .last_cmd
        .store(id as u32, std::sync::atomic::Ordering::Relaxed);
    crate::server::fence::note_command(ctx.server, ctx.client, cmd);
    crate::ops::after_call(ctx, id, args, usec);
    reply
}

/// The EXEC path: runs a transaction's queue as one atomic unit and returns EXEC's reply.
///
/// One lock plan covers every queued command (each in the database it will run in: a queued SELECT moves the
/// later commands) and every watched key; it is taken once, then the watches are checked and dropped, the commands
/// run one after another on one `Ctx` and one clock, clients blocked on keys the transaction fed are served, and
/// only then are the locks released, so no other client sees the state between two queued commands.
///
/// Why this cannot deadlock: the caller (EXEC's own `run`) holds no shard lock, since EXEC declares no keys, and
/// `LockPlan::acquire` takes the whole set in ascending (db, shard) order, as every other acquisition in the
/// server does. A thread only ever waits for a lock greater than all the locks it holds, so no cycle of waiting
/// threads can form. Nothing run under the plan locks again: queued commands use the plan's `KeyLocks` (a
/// queued UNWATCH finds no watches left), and a queued blocking command does not block while `in_exec`.
pub fn exec(outer: &mut Ctx, queue: &[transaction::Queued], doomed: bool) -> Reply {
    let server = outer.server;
    let ks = &server.keyspace;
    let table = table::get();
    let mut plan = LockPlan::new();
    transaction::lock_watched(ks, outer.client, &mut plan);
    if !doomed {
        let mut db = outer.client.db;
        for queued in queue {
            let (cmd, args) = (table.get(queued.id), queued.args());
            plan.merge(&lock_plan(ks, db, cmd, args));
            if table.full_name(queued.id) == "select" {
                db = selected_db(ks, args).unwrap_or(db);
            }
        }
    }
    let mut ctx = Ctx {
        server,
        client: &mut *outer.client,
        keys: KeyLocks::new(server, plan.acquire(ks), now_ms()),
        cmd: outer.cmd,
    };
    if ctx.client.ext.repl.is_master {
        ctx.keys.for_master_link();
    }
    let clean = transaction::end_watch(&mut ctx.keys, ctx.client);
    if doomed {
        return Reply::error("EXECABORT Transaction discarded because of previous errors.");
    }
    if !clean {
        return Reply::NilArray;
    }
    transaction::set_executing(ctx.client, true);
    let replies = queue
        .iter()
        .map(|queued| {
            // The rules may have changed since the command was queued: Redis checks again.
            let refused = match ctx.client.ext.acl.allows_all() {
                true => None,
                false => crate::acl::check_queued(ctx.client, queued.id, queued.args()),
            };
            refused.unwrap_or_else(|| call(&mut ctx, queued.id, queued.args()))
        })
        .collect();
    transaction::set_executing(ctx.client, false);
    // The transaction's effects are one unit: in MULTI ... EXEC if there are several, bare if only one, as in
    // Redis 7.0.
    ctx.keys.end_unit();
    // Clients blocked on keys the transaction fed are served once, after all of it and before anyone else sees
    // those keys; serves writing keys outside the plan are left to EXEC's own `run`, after the plan is released.
    crate::blocking::serve_ready(&mut ctx);
    outer.keys.extend_lazy(ctx.keys.take_lazy());
    Reply::Array(replies)
}

/// The database a queued `SELECT` will switch to, if it will succeed.
fn selected_db(ks: &Keyspace, args: Args) -> Option<usize> {
    let db = crate::util::numbers::parse_i64(args.get(1))?;
    usize::try_from(db).ok().filter(|&db| db < ks.db_count())
}

/// The shards a command needs, from its key positions or its scope.
pub fn lock_plan(ks: &Keyspace, db: usize, cmd: &Command, args: Args) -> LockPlan {
    let write = cmd.has(flags::WRITE);
    let mut plan = LockPlan::new();
    match cmd.scope {
        Scope::Keys => cmd.for_each_key(args, |i| plan.key(ks, db, args.get(i), write)),
        Scope::WholeDb => plan.whole_db(db, write),
        Scope::AllDbs => plan.all_dbs(ks, write),
        Scope::Custom(f) => f(args, db, ks, &mut plan),
    }
    plan
}

/// Redis 7.0's text: `unknown command 'foo', with args beginning with: 'a' 'b' `.
fn unknown_command(args: Args) -> Reply {
    let mut listed = String::new();
    for arg in args.iter().skip(1) {
        if listed.len() >= 128 {
            break;
        }
        let room = 128 - listed.len();
        listed.push('\'');
        listed.push_str(&c_string(arg, room));
        listed.push_str("' ");
    }
    Reply::err(&format!(
        "unknown command '{}', with args beginning with: {listed}",
        c_string(args.get(0), 128)
    ))
}

/// How C's `%.Ns` prints bytes: up to the first NUL, at most `max` bytes.
fn c_string(bytes: &[u8], max: usize) -> String {
    let end = bytes
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(bytes.len())
        .min(max);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}
