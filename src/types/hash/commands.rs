//! The hash commands: HSET, HSETNX, HMSET, HGET, HMGET, HDEL, HEXISTS, HLEN, HSTRLEN, HKEYS, HVALS, HGETALL,
//! HINCRBY, HINCRBYFLOAT, HRANDFIELD, HSCAN.

use super::Hash;
use crate::commands::flags::*;
use crate::commands::keyspec::prelude::*;
use crate::commands::{Args, Command, Ctx, Handler};
use crate::db::Value;
use crate::effects::Change;
use crate::protocol::{Protocol, Reply};
use crate::types::collection::{
    self, parse_random_count, push_pair, random_picks, scan_command, scan_matches, PackLimits,
};
use crate::util::numbers::{long_double_add, long_double_check, parse_i64, LongDoubleError};

const fn h(name: &'static str, arity: i32, flags: u32, handler: Handler) -> Command {
    Command::new(name, arity, flags, handler).keys(1, 1, 1)
}

pub const COMMANDS: &[Command] = &[
    h("hset", -4, WRITE | DENYOOM | FAST, hset)
        .key_specs(&[ks(RW | UPDATE, Index(1), Range(0, 1, 0))])
        .doc("hash", "2.0.0", "Set the string value of a hash field")
        .complexity(
            "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the \
             command is called with multiple field/value pairs.",
        ),
    h("hsetnx", 4, WRITE | DENYOOM | FAST, hsetnx)
        .key_specs(&[ks(RW | INSERT, Index(1), Range(0, 1, 0))])
        .doc(
            "hash",
            "2.0.0",
            "Set the value of a hash field, only if the field does not exist",
        )
        .complexity("O(1)"),
    h("hmset", -4, WRITE | DENYOOM | FAST, hmset)
        .key_specs(&[ks(RW | UPDATE, Index(1), Range(0, 1, 0))])
        .doc(
            "hash",
            "2.0.0",
            "Set multiple hash fields to multiple values",
        )
        .complexity("O(N) where N is the number of fields being set."),
    h("hget", 3, READONLY | FAST, hget)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc("hash", "2.0.0", "Get the value of a hash field")
        .complexity("O(1)"),
    h("hmget", -3, READONLY | FAST, hmget)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "hash",
            "2.0.0",
            "Get the values of all the given hash fields",
        )
        .complexity("O(N) where N is the number of fields being requested."),
    h("hdel", -3, WRITE | FAST, hdel)
        .key_specs(&[ks(RW | DELETE, Index(1), Range(0, 1, 0))])
        .doc("hash", "2.0.0", "Delete one or more hash fields")
        .complexity("O(N) where N is the number of fields to be removed."),
    h("hexists", 3, READONLY | FAST, hexists)
        .key_specs(&[ks(RO, Index(1), Range(0, 1, 0))])
        .doc("hash", "2.0.0", "Determine if a hash field exists")
        .complexity("O(1)"),
    h("hlen", 2, READONLY | FAST, hlen)
        .key_specs(&[ks(RO, Index(1), Range(0, 1, 0))])
        .doc("hash", "2.0.0", "Get the number of fields in a hash")
        .complexity("O(1)"),
    h("hstrlen", 3, READONLY | FAST, hstrlen)
        .key_specs(&[ks(RO, Index(1), Range(0, 1, 0))])
        .doc(
            "hash",
            "3.2.0",
            "Get the length of the value of a hash field",
        )
        .complexity("O(1)"),
    h("hkeys", 2, READONLY, hkeys)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc("hash", "2.0.0", "Get all the fields in a hash")
        .complexity("O(N) where N is the size of the hash."),
    h("hvals", 2, READONLY, hvals)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc("hash", "2.0.0", "Get all the values in a hash")
        .complexity("O(N) where N is the size of the hash."),
    h("hgetall", 2, READONLY, hgetall)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc("hash", "2.0.0", "Get all the fields and values in a hash")
        .complexity("O(N) where N is the size of the hash."),
    h("hincrby", 4, WRITE | DENYOOM | FAST, hincrby)
        .key_specs(&[ks(RW | ACCESS | UPDATE, Index(1), Range(0, 1, 0))])
        .doc(
            "hash",
            "2.0.0",
            "Increment the integer value of a hash field by the given number",
        )
        .complexity("O(1)"),
    h("hincrbyfloat", 4, WRITE | DENYOOM | FAST, hincrbyfloat)
        .key_specs(&[ks(RW | ACCESS | UPDATE, Index(1), Range(0, 1, 0))])
        .doc(
            "hash",
            "2.6.0",
            "Increment the float value of a hash field by the given amount",
        )
        .complexity("O(1)"),
    h("hrandfield", -2, READONLY, hrandfield)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "hash",
            "6.2.0",
            "Get one or multiple random fields from a hash",
        )
        .complexity("O(N) where N is the number of fields returned"),
    h("hscan", -3, READONLY, hscan)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "hash",
            "2.8.0",
            "Incrementally iterate hash fields and associated values",
        )
        .complexity(
            "O(1) for every call. O(N) for a complete iteration, including enough command calls \
             for the cursor to return back to 0. N is the number of elements inside the \
             collection..",
        ),
];

/// The hash at `key` for a read command.
fn read<'c>(ctx: &'c Ctx, key: &[u8]) -> Result<Option<&'c Hash>, Reply> {
    collection::read(ctx, key)
}

/// The hash at `key` for a write command, before it changes anything.
fn peek<'c>(ctx: &'c Ctx, key: &[u8]) -> Result<Option<&'c Hash>, Reply> {
    collection::peek(ctx, key)
}

fn write<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c mut Hash>, Reply> {
    collection::write(ctx, key)
}

/// Sets fields on the hash at `key` (created if missing); returns how many were new.
fn set_fields(ctx: &mut Ctx, key: &[u8], pairs: &[(&[u8], &[u8])]) -> Result<usize, Reply> {
    let limits = PackLimits::hash(&ctx.server.config);
    let mut fresh: Option<Hash> = None;
    let hash: &mut Hash = match write(ctx, key)? {
        Some(h) => h,
        None => fresh.insert(Hash::default()),
    };
    let mut added = 0;
    for (f, v) in pairs {
        added += hash.set(f, v.to_vec(), limits) as usize;
    }
    if let Some(h) = fresh {
        let db = ctx.db();
        ctx.keys.insert(db, key, Value::Hash(h));
    }
    Ok(added)
}

fn hset(ctx: &mut Ctx, args: Args) -> Reply {
    set_pairs(ctx, args).map_or_else(|e| e, |added| Reply::Int(added as i64))
}

/// HMSET: HSET answering OK.
fn hmset(ctx: &mut Ctx, args: Args) -> Reply {
    set_pairs(ctx, args).map_or_else(|e| e, |_| Reply::Ok)
}

/// HSET and HMSET: field-value pairs (an odd count is an arity error); the count of new fields.
fn set_pairs(ctx: &mut Ctx, args: Args) -> Result<usize, Reply> {
    if args.len() % 2 == 1 {
        return Err(Reply::wrong_arity(ctx.cmd.name));
    }
    let key = args.get(1);
    let pairs: Vec<(&[u8], &[u8])> = (2..args.len())
        .step_by(2)
        .map(|i| (args.get(i), args.get(i + 1)))
        .collect();
    let added = set_fields(ctx, key, &pairs)?;
    ctx.report(key, Change::new('h', "hset").dirty(pairs.len() as u64));
    Ok(added)
}

fn hsetnx(ctx: &mut Ctx, args: Args) -> Reply {
    let (key, field) = (args.get(1), args.get(2));
    match peek(ctx, key) {
        Err(e) => return e,
        Ok(Some(h)) if h.get(field).is_some() => return Reply::Int(0),
        Ok(_) => {}
    }
    match set_fields(ctx, key, &[(field, args.get(3))]) {
        Ok(_) => {
            ctx.changed(key, 'h', "hset");
            Reply::Int(1)
        }
        Err(e) => e,
    }
}

fn hget(ctx: &mut Ctx, args: Args) -> Reply {
    match read(ctx, args.get(1)) {
        Ok(h) => Reply::bulk_or_nil(h.and_then(|h| h.get(args.get(2)))),
        Err(e) => e,
    }
}

fn hmget(ctx: &mut Ctx, args: Args) -> Reply {
    match read(ctx, args.get(1)) {
        Ok(h) => Reply::Array(
            args.iter()
                .skip(2)
                .map(|f| Reply::bulk_or_nil(h.and_then(|h| h.get(f))))
                .collect(),
        ),
        Err(e) => e,
    }
}

fn hdel(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let hash = match write(ctx, key) {
        Ok(Some(h)) => h,
        Ok(None) => return Reply::Int(0),
        Err(e) => return e,
    };
    let removed = args.iter().skip(2).filter(|f| hash.remove(f)).count();
    if removed > 0 {
        ctx.report(key, Change::new('h', "hdel").dirty(removed as u64));
        collection::delete_if_empty::<Hash>(ctx, key);
    }
    Reply::Int(removed as i64)
}

fn hexists(ctx: &mut Ctx, args: Args) -> Reply {
    match read(ctx, args.get(1)) {
        Ok(h) => Reply::Int(h.is_some_and(|h| h.get(args.get(2)).is_some()) as i64),
        Err(e) => e,
    }
}

fn hlen(ctx: &mut Ctx, args: Args) -> Reply {
    match read(ctx, args.get(1)) {
        Ok(h) => Reply::Int(h.map_or(0, |h| h.len() as i64)),
        Err(e) => e,
    }
}

fn hstrlen(ctx: &mut Ctx, args: Args) -> Reply {
    match read(ctx, args.get(1)) {
        Ok(h) => Reply::Int(
            h.and_then(|h| h.get(args.get(2)))
                .map_or(0, |v| v.len() as i64),
        ),
        Err(e) => e,
    }
}

/// What HKEYS, HVALS and HGETALL return.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    Keys,
    Values,
    Both,
}

fn get_all(ctx: &mut Ctx, args: Args, part: Part) -> Reply {
    let hash = match read(ctx, args.get(1)) {
        Ok(h) => h,
        Err(e) => return e,
    };
    let pairs = hash.into_iter().flat_map(|h| h.iter());
    match part {
        Part::Keys => Reply::Array(pairs.map(|(f, _)| Reply::bulk(f)).collect()),
        Part::Values => Reply::Array(pairs.map(|(_, v)| Reply::bulk(v)).collect()),
        Part::Both => Reply::Map(
            pairs
                .map(|(f, v)| (Reply::bulk(f), Reply::bulk(v)))
                .collect(),
        ),
    }
}

fn hkeys(ctx: &mut Ctx, args: Args) -> Reply {
    get_all(ctx, args, Part::Keys)
}

fn hvals(ctx: &mut Ctx, args: Args) -> Reply {
    get_all(ctx, args, Part::Values)
}

fn hgetall(ctx: &mut Ctx, args: Args) -> Reply {
    get_all(ctx, args, Part::Both)
}

fn hincrby(ctx: &mut Ctx, args: Args) -> Reply {
    let (key, field) = (args.get(1), args.get(2));
    let Some(incr) = parse_i64(args.get(3)) else {
        return Reply::not_integer();
    };
    let current = match peek(ctx, key) {
        Err(e) => return e,
        Ok(h) => match h.and_then(|h| h.get(field)) {
            None => 0,
            Some(v) => match parse_i64(v) {
                Some(n) => n,
                None => return Reply::err("hash value is not an integer"),
            },
        },
    };
    let Some(next) = current.checked_add(incr) else {
        return Reply::err("increment or decrement would overflow");
    };
    if let Err(e) = set_fields(ctx, key, &[(field, next.to_string().as_bytes())]) {
        return e;
    }
    ctx.changed(key, 'h', "hincrby");
    Reply::Int(next)
}

/// HINCRBYFLOAT adds in long double, as Redis does, with its three errors in its order.
fn hincrbyfloat(ctx: &mut Ctx, args: Args) -> Reply {
    let (key, field, incr) = (args.get(1), args.get(2), args.get(3));
    match long_double_check(incr) {
        None => return Reply::not_float(),
        Some(true) => return Reply::err("value is NaN or Infinity"),
        Some(false) => {}
    }
    let base = match peek(ctx, key) {
        Err(e) => return e,
        Ok(h) => h
            .and_then(|h| h.get(field))
            .map_or_else(|| b"0".to_vec(), <[u8]>::to_vec),
    };
    let sum = match long_double_add(&base, incr) {
        Ok(s) => s,
        Err(LongDoubleError::Base) => return Reply::err("hash value is not a float"),
        Err(LongDoubleError::Increment) => return Reply::not_float(),
        Err(LongDoubleError::NotFinite) => {
            return Reply::err("increment would produce NaN or Infinity")
        }
    };
    if let Err(e) = set_fields(ctx, key, &[(field, &sum)]) {
        return e;
    }
    ctx.changed(key, 'h', "hincrbyfloat");
    // Replicated as the value it produced, as Redis does.
    ctx.propagate_as(&[b"HSET", key, field, &sum]);
    Reply::Bulk(sum.into())
}

/// HRANDFIELD key [count [WITHVALUES]]
fn hrandfield(ctx: &mut Ctx, args: Args) -> Reply {
    let resp3 = ctx.client.protocol == Protocol::Resp3;
    let count = match parse_random_count(args, "WITHVALUES") {
        Ok(c) => c,
        Err(e) => return e,
    };
    let hash = match read(ctx, args.get(1)) {
        Err(e) => return e,
        Ok(None) if count.is_some() => return Reply::Array(vec![]),
        Ok(None) => return Reply::Nil,
        Ok(Some(h)) => h,
    };
    let Some(count) = count else {
        return Reply::bulk_or_nil(hash.random().map(|(f, _)| f));
    };
    let count = count.capped(crate::server::output_limit::reply_cap(ctx.server));
    let picks = random_picks(
        hash.len(),
        &count,
        || hash.iter().collect(),
        || hash.random(),
    );
    let mut out = Vec::new();
    for (f, v) in picks {
        if count.with_pairs {
            push_pair(&mut out, resp3, Reply::bulk(f), Reply::bulk(v));
        } else {
            out.push(Reply::bulk(f));
        }
    }
    Reply::Array(out)
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
fn hscan(ctx: &mut Ctx, args: Args) -> Reply {
    scan_command(ctx, args, read, |hash: &Hash, cursor, opts, out| {
        hash.scan(cursor, opts.count, |f, v| {
            if scan_matches(opts, f) {
                out.push(Reply::bulk(f));
                out.push(Reply::bulk(v));
            }
        })
    })
}
