//! Generic key commands: DEL, UNLINK, EXISTS, TYPE, TOUCH, RENAME, RENAMENX, COPY, MOVE, SWAPDB, FLUSHDB,
//! FLUSHALL. Expiry commands are in `expire`, whole-keyspace walks (KEYS, SCAN, RANDOMKEY) in `scan`, OBJECT in
//! `object`.

use super::args::int_arg;
use super::flags::*;
use super::{Args, Command, Ctx, Cursor, Scope};
use crate::commands::keyspec::prelude::*;
use crate::db::{Dict, Entry, Keyspace, LockPlan};
use crate::effects::Change;
use crate::protocol::Reply;

pub const COMMANDS: &[Command] = &[
    Command::new("del", -2, WRITE, del)
        .key_specs(&[ks(RM | DELETE, Index(1), Range(-1, 1, 0))])
        .keys(1, -1, 1)
        .doc("generic", "1.0.0", "Delete a key")
.complexity("O(N) where N is the number of keys that will be removed. When a key to \
remove holds a value other than a string, the individual complexity \
for this key is O(M) where M is the number of elements in the list, \
set, sorted set or hash. Removing a single key that holds a string \
value is O(1)."),
    Command::new("unlink", -2, WRITE | FAST, unlink)
        .key_specs(&[ks(RM | DELETE, Index(1), Range(-1, 1, 0))])
        .keys(1, -1, 1)
        .doc(
            "generic",
            "4.0.0",
            "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
        )
.complexity("O(1) for each key removed regardless of its size. Then the command \
does O(N) work in a different thread in order to reclaim memory, where \
N is the number of allocations the deleted objects where composed of."),
    Command::new("exists", -2, READONLY | FAST, exists)
        .key_specs(&[ks(RO, Index(1), Range(-1, 1, 0))])
        .keys(1, -1, 1)
        .doc("generic", "1.0.0", "Determine if a key exists")
.complexity("O(N) where N is the number of keys to check."),
    Command::new("type", 2, READONLY | FAST, type_cmd)
        .key_specs(&[ks(RO, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("generic", "1.0.0", "Determine the type stored at key")
.complexity("O(1)"),
    // Read-only for the client, but it updates the keys' access time, so it takes write locks.
    Command::new("touch", -2, READONLY | FAST, touch)
        .key_specs(&[ks(RO, Index(1), Range(-1, 1, 0))])
        .keys(1, -1, 1)
        .scope(Scope::Custom(touch_locks))
        .doc(
            "generic",
            "3.2.1",
            "Alters the last access time of a key(s). Returns the number of existing keys specified.",
        )
.complexity("O(N) where N is the number of keys that will be touched."),
    Command::new("rename", 3, WRITE, rename)
        .key_specs(&[
            ks(RW | ACCESS | DELETE, Index(1), Range(0, 1, 0)),
            ks(OW | UPDATE, Index(2), Range(0, 1, 0)),
        ])
        .keys(1, 2, 1)
        .doc("generic", "1.0.0", "Rename a key")
.complexity("O(1)"),
    Command::new("renamenx", 3, WRITE | FAST, renamenx)
        .key_specs(&[
            ks(RW | ACCESS | DELETE, Index(1), Range(0, 1, 0)),
            ks(OW | INSERT, Index(2), Range(0, 1, 0)),
        ])
        .keys(1, 2, 1)
        .doc("generic", "1.0.0", "Rename a key, only if the new key does not exist")
.complexity("O(1)"),
    Command::new("copy", -3, WRITE | DENYOOM, copy)
        .key_specs(&[
            ks(RO | ACCESS, Index(1), Range(0, 1, 0)),
            ks(OW | UPDATE, Index(2), Range(0, 1, 0)),
        ])
        .keys(1, 2, 1)
        .scope(Scope::Custom(copy_locks))
        .doc("generic", "6.2.0", "Copy a key")
.complexity("O(N) worst case for collections, where N is the number of nested \
items. O(1) for string values."),
    Command::new("move", 3, WRITE | FAST, move_cmd)
        .key_specs(&[ks(RW | ACCESS | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .scope(Scope::Custom(move_locks))
        .doc("generic", "1.0.0", "Move a key to another database")
.complexity("O(1)"),
    Command::new("swapdb", 3, WRITE | FAST, swapdb)
        .scope(Scope::AllDbs)
        .doc("server", "4.0.0", "Swaps two Redis databases")
        .acl(&["keyspace", "dangerous"])
.complexity("O(N) where N is the count of clients watching or blocking on keys from \
both databases."),
    Command::new("flushdb", -1, WRITE, flushdb)
        .scope(Scope::WholeDb)
        .doc("server", "1.0.0", "Remove all keys from the current database")
        .acl(&["keyspace", "dangerous"])
.complexity("O(N) where N is the number of keys in the selected database"),
    Command::new("flushall", -1, WRITE, flushall)
        .scope(Scope::AllDbs)
        .doc("server", "1.0.0", "Remove all keys from all databases")
        .acl(&["keyspace", "dangerous"])
.complexity("O(N) where N is the total number of keys in all databases"),
];

/// DEL and UNLINK: freeing is cheap enough here that UNLINK needs no thread of its own.
fn del(ctx: &mut Ctx, args: Args) -> Reply {
    let mut n = 0;
    for key in args.iter().skip(1) {
        if ctx.delete(key) {
            ctx.changed(key, 'g', "del");
            n += 1;
        }
    }
    Reply::Int(n)
}

/// DEL whose big values are freed on the lazy-free thread (Redis's `dbAsyncDelete`).
fn unlink(ctx: &mut Ctx, args: Args) -> Reply {
    let mut n = 0;
    let db = ctx.db();
    for key in args.iter().skip(1) {
        if let Some(entry) = ctx.keys.remove(db, key) {
            ctx.changed(key, 'g', "del");
            crate::memory::lazyfree::free(entry.value);
            n += 1;
        }
    }
    Reply::Int(n)
}

/// A key named twice counts twice, as in Redis.
fn exists(ctx: &mut Ctx, args: Args) -> Reply {
    Reply::Int(
        args.iter()
            .skip(1)
            .filter(|k| ctx.peek_entry(k).is_some())
            .count() as i64,
    )
}

fn type_cmd(ctx: &mut Ctx, args: Args) -> Reply {
    Reply::status(
        ctx.peek_entry(args.get(1))
            .map_or("none", |e| e.value.type_name()),
    )
}

fn touch_locks(args: Args, db: usize, ks: &Keyspace, plan: &mut LockPlan) {
    for key in args.iter().skip(1) {
        plan.key(ks, db, key, true);
    }
}

fn touch(ctx: &mut Ctx, args: Args) -> Reply {
    let mut n = 0;
    for key in args.iter().skip(1) {
        // The lookup is the touch: it stamps the key as used.
        if ctx.lookup(key).is_some() {
            n += 1;
        }
    }
    Reply::Int(n)
}

fn rename(ctx: &mut Ctx, args: Args) -> Reply {
    rename_generic(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx, args: Args) -> Reply {
    rename_generic(ctx, args, true)
}

/// Redis's `renameGenericCommand`: the value moves with its TTL; renaming a key to itself only checks it exists.
fn rename_generic(ctx: &mut Ctx, args: Args, nx: bool) -> Reply {
    let (src, dst) = (args.get(1), args.get(2));
    let db = ctx.db();
    if ctx.keys.get_mut(db, src).is_none() {
        return Reply::no_such_key();
    }
    if src == dst {
        return if nx { Reply::Int(0) } else { Reply::Ok };
    }
    if nx && ctx.keys.get_mut(db, dst).is_some() {
        return Reply::Int(0);
    }
    let Some((entry, at)) = ctx.keys.remove_with_ttl(db, src) else {
        return Reply::no_such_key();
    };
    // Redis deletes the destination and adds the key anew: a `new` event even over an existing key.
    ctx.keys.remove(db, dst);
    ctx.keys.insert_entry_at(db, dst, entry, at);
    // One change for Redis's dirty counter, two keys for WATCH and the events.
    ctx.report(src, Change::new('g', "rename_from").dirty(0));
    ctx.changed(dst, 'g', "rename_to");
    if nx {
        Reply::Int(1)
    } else {
        Reply::Ok
    }
}

/// A database number argument, with the errors of Redis's `getIntFromObjectOrReply` and then `ERR DB index is
/// out of range` unless it names a database.
fn db_index(arg: &[u8], dbs: usize) -> Result<usize, Reply> {
    let n = int_arg(arg)?;
    if i32::try_from(n).is_err() {
        return Err(Reply::err(
            "value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    usize::try_from(n)
        .ok()
        .filter(|&n| n < dbs)
        .ok_or_else(|| Reply::err("DB index is out of range"))
}

/// COPY's options: the target database (the current one by default) and REPLACE.
fn copy_options(args: Args, db: usize, dbs: usize) -> Result<(usize, bool), Reply> {
    let (mut target, mut replace) = (db, false);
    let mut cur = Cursor::new(args, 3);
    while !cur.is_done() {
        if cur.eat("REPLACE") {
            replace = true;
        } else if cur.remaining() >= 2 && cur.eat("DB") {
            target = db_index(cur.value()?, dbs)?;
        } else {
            return Err(Reply::syntax_error());
        }
    }
    Ok((target, replace))
}

/// COPY locks the source in the current database and the destination in the target one; when the options are
/// invalid it locks only the current database, since the handler then fails before touching the other.
fn copy_locks(args: Args, db: usize, ks: &Keyspace, plan: &mut LockPlan) {
    let target = copy_options(args, db, ks.db_count()).map_or(db, |(t, _)| t);
    plan.key(ks, db, args.get(1), false);
    plan.key(ks, target, args.get(2), true);
}

fn copy(ctx: &mut Ctx, args: Args) -> Reply {
    let (src, dst) = (args.get(1), args.get(2));
    let db = ctx.db();
    let (target, replace) = match copy_options(args, db, ctx.server.keyspace.db_count()) {
        Ok(o) => o,
        Err(e) => return e,
    };
    if target == db && src == dst {
        return Reply::err("source and destination objects are the same");
    }
    if ctx.lookup_entry(src).is_none() || (!replace && ctx.keys.get_mut(target, dst).is_some()) {
        return Reply::Int(0);
    }
    // Cloned only once the copy is sure to happen: the value may be large.
    let Some(copied) = ctx.keys.peek(db, src).map(|e| {
        let mut copy = Entry::new(e.value.clone());
        copy.str_encoding = e.str_encoding;
        copy
    }) else {
        return Reply::Int(0);
    };
    let at = ctx.keys.expire_at(db, src);
    // As Redis, REPLACE deletes the destination and adds the copy anew (a `new` event).
    ctx.keys.remove(target, dst);
    ctx.keys.insert_entry_at(target, dst, copied, at);
    ctx.keys.report(target, dst, Change::new('g', "copy_to"));
    Reply::Int(1)
}

fn move_locks(args: Args, db: usize, ks: &Keyspace, plan: &mut LockPlan) {
    plan.key(ks, db, args.get(1), true);
    if let Ok(target) = db_index(args.get(2), ks.db_count()) {
        plan.key(ks, target, args.get(1), true);
    }
}

/// MOVE key db: only if the key is absent there; the TTL moves along.
fn move_cmd(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let db = ctx.db();
    let target = match db_index(args.get(2), ctx.server.keyspace.db_count()) {
        Ok(t) => t,
        Err(e) => return e,
    };
    if target == db {
        return Reply::err("source and destination objects are the same");
    }
    if ctx.keys.get_mut(db, key).is_none() || ctx.keys.get_mut(target, key).is_some() {
        return Reply::Int(0);
    }
    let Some((entry, at)) = ctx.keys.remove_with_ttl(db, key) else {
        return Reply::Int(0);
    };
    ctx.keys.insert_entry_at(target, key, entry, at);
    ctx.report(key, Change::new('g', "move_from").dirty(0));
    ctx.keys.report(target, key, Change::new('g', "move_to"));
    Reply::Int(1)
}

fn swapdb(ctx: &mut Ctx, args: Args) -> Reply {
    let index = |arg: &[u8], what: &str| {
        crate::util::numbers::parse_i64(arg)
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| Reply::err(&format!("invalid {what} DB index")))
    };
    let (a, b) = match (index(args.get(1), "first"), index(args.get(2), "second")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let dbs = ctx.server.keyspace.db_count() as i64;
    if [a, b].iter().any(|&n| n < 0 || i64::from(n) >= dbs) {
        return Reply::err("DB index is out of range");
    }
    ctx.keys.swap_dbs(a as usize, b as usize);
    Reply::Ok
}

/// `[ASYNC | SYNC]`, Redis's `getFlushCommandFlags`: true for ASYNC.
fn flush_mode(args: Args) -> Result<bool, Reply> {
    match args.len() {
        1 => Ok(false),
        2 if args.get(1).eq_ignore_ascii_case(b"SYNC") => Ok(false),
        2 if args.get(1).eq_ignore_ascii_case(b"ASYNC") => Ok(true),
        _ => Err(Reply::syntax_error()),
    }
}

fn flushdb(ctx: &mut Ctx, args: Args) -> Reply {
    let db = ctx.db();
    flush(ctx, args, db..db + 1)
}

/// FLUSHALL also stops a running BGSAVE and, when save points are set, saves the now empty dataset, as Redis
/// 7.0's `flushAllDataAndResetRDB`.
fn flushall(ctx: &mut Ctx, args: Args) -> Reply {
    let dbs = ctx.server.keyspace.db_count();
    if flush_mode(args).is_ok() {
        // Stopped first, so the flush does not spend time saving shards for a file nobody will keep.
        ctx.server.persist.stop_bgsave();
    }
    let reply = flush(ctx, args, 0..dbs);
    if reply == Reply::Ok {
        crate::persist::save::after_flushall(ctx);
    }
    reply
}

/// Empties the databases in `dbs`. ASYNC frees the old contents on a background thread, so the client gets its
/// reply (and the locks are released) without waiting for millions of frees.
fn flush(ctx: &mut Ctx, args: Args, dbs: std::ops::Range<usize>) -> Reply {
    let lazy = match flush_mode(args) {
        Ok(lazy) => lazy,
        Err(e) => return e,
    };
    let mut detached: Vec<Dict<Entry>> = Vec::new();
    for db in dbs {
        let contents = ctx.keys.flush_db(db);
        if lazy {
            detached.extend(contents);
        }
    }
    // Replicated even when there was nothing to remove, as in Redis.
    ctx.force_propagation();
    if !detached.is_empty() {
        let spawned = std::thread::Builder::new()
            .name("ferredis-lazyfree".into())
            .spawn(move || drop(detached));
        if let Err(e) = spawned {
            log::warn!("could not start a lazy free thread: {e}");
        }
    }
    Reply::Ok
}
