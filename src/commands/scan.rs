//! Commands that walk a whole database: KEYS, SCAN, RANDOMKEY. They hold every shard's read lock, so each sees a
//! consistent snapshot of the database.

use super::args::{scan_cursor, ScanOptions};
use super::flags::*;
use super::{Args, Command, Ctx, Scope};
use crate::db::{Shard, SHARDS, SHARD_BITS};
use crate::protocol::Reply;
use crate::util::glob::glob_match;

pub const COMMANDS: &[Command] = &[
    Command::new("keys", 2, READONLY, keys)
        .scope(Scope::WholeDb)
        .doc(
            "generic",
            "1.0.0",
            "Find all keys matching the given pattern",
        )
        .acl(&["keyspace", "dangerous"])
        .complexity(
            "O(N) with N being the number of keys in the database, under the \
             assumption that the key names in the database and the given pattern \
             have limited length.",
        ),
    Command::new("scan", -2, READONLY, scan)
        .scope(Scope::WholeDb)
        .doc("generic", "2.8.0", "Incrementally iterate the keys space")
        .complexity(
            "O(1) for every call. O(N) for a complete iteration, including enough \
             command calls for the cursor to return back to 0. N is the number of \
             elements inside the collection.",
        ),
    Command::new("randomkey", 1, READONLY, randomkey)
        .scope(Scope::WholeDb)
        .doc("generic", "1.0.0", "Return a random key from the keyspace")
        .complexity("O(1)"),
];

/// The locked shards of the client's database, indexed by shard number (the commands here lock them all; the
/// SCAN cursor names a shard by its number, so a gap would silently skip keys).
fn db_shards<'c>(ctx: &'c Ctx) -> Vec<&'c Shard> {
    let shards: Vec<_> = ctx.keys.shards(ctx.db()).collect();
    assert!(
        shards.len() == SHARDS && shards.iter().enumerate().all(|(i, &(n, _))| i == n),
        "a whole-database command ran without every shard of its database locked"
    );
    shards.into_iter().map(|(_, s)| s).collect()
}

fn keys(ctx: &mut Ctx, args: Args) -> Reply {
    let pattern = args.get(1);
    let all = pattern == b"*";
    let now = ctx.keys.now();
    let mut out = Vec::new();
    for shard in db_shards(ctx) {
        for (key, entry) in shard.dict.iter() {
            if !shard.expired(key, entry, now) && (all || glob_match(pattern, key, false)) {
                out.push(Reply::bulk(key));
            }
        }
    }
    Reply::Array(out)
}

/// SCAN cursor [MATCH pattern] [COUNT n] [TYPE type].
///
/// The cursor packs (dict cursor << SHARD_BITS) | shard: shards are visited in order, each with its dict's
/// reverse-binary cursor, so a key present for the whole scan is returned at least once even if its shard's
/// table grows or shrinks between calls. COUNT bounds the keys looked at per call (before filtering), as Redis.
fn scan(ctx: &mut Ctx, args: Args) -> Reply {
    let cursor = match scan_cursor(args.get(1)) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let opts = match ScanOptions::parse(args, 2, true) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let (now, db) = (ctx.keys.now(), ctx.db());
    let shards = db_shards(ctx);
    let mut shard = (cursor as usize) & (SHARDS - 1);
    let mut dict_cursor = cursor >> SHARD_BITS;
    let lazy = &ctx.keys;
    let matches = |shard: &crate::db::Shard, key: &[u8], entry: &crate::db::Entry| {
        if shard.expired(key, entry, now) {
            // Redis's SCAN deletes the expired keys it visits.
            lazy.note_expired(db, key);
            return false;
        }
        opts.pattern.is_none_or(|p| glob_match(p, key, false))
            && opts
                .type_name
                .is_none_or(|t| t.eq_ignore_ascii_case(entry.value.type_name().as_bytes()))
    };
    let (mut keys, mut visited) = (Vec::new(), 0);
    let mut budget = opts.count.saturating_mul(10);
    let next = loop {
        let Some(s) = shards.get(shard) else {
            break 0;
        };
        if !s.is_empty() {
            dict_cursor = s.dict.scan(dict_cursor, |key, entry| {
                visited += 1;
                if matches(s, key, entry) {
                    keys.push(Reply::bulk(key));
                }
            });
            budget -= 1;
        } else {
            dict_cursor = 0;
        }
        if dict_cursor == 0 {
            shard += 1;
            if shard == SHARDS {
                break 0;
            }
        }
        if budget == 0 || visited >= opts.count {
            break (dict_cursor << SHARD_BITS) | shard as u64;
        }
    };
    Reply::Array(vec![
        Reply::bulk(itoa::Buffer::new().format(next)),
        Reply::Array(keys),
    ])
}

fn randomkey(ctx: &mut Ctx, _args: Args) -> Reply {
    let now = ctx.keys.now();
    let shards = db_shards(ctx);
    let total: usize = shards.iter().map(|s| s.len()).sum();
    if total == 0 {
        return Reply::Nil;
    }
    // Pick a shard in proportion to its size, then a key in it; expired keys are skipped by trying again, and
    // after many misses by taking the first live key (a database of mostly expired keys).
    for _ in 0..100 {
        let mut r = fastrand::usize(..total);
        let Some(shard) = shards.iter().find(|s| {
            let here = r < s.len();
            if !here {
                r -= s.len();
            }
            here
        }) else {
            break;
        };
        if let Some((key, entry)) = shard.dict.random() {
            if !shard.expired(key, entry, now) {
                return Reply::bulk(key);
            }
            // Redis's RANDOMKEY deletes the expired keys it draws.
            ctx.keys.note_expired(ctx.db(), key);
        }
    }
    shards
        .iter()
        .flat_map(|s| s.dict.iter().map(move |(k, e)| (s, k, e)))
        .find(|(s, k, e)| !s.expired(k, e, now))
        .map_or(Reply::Nil, |(_, k, _)| Reply::bulk(k))
}
