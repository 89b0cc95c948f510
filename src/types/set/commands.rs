//! The set command table and the single-key commands: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP,
//! SRANDMEMBER, SMOVE, SSCAN.

use super::{algebra, Set};
use crate::commands::flags::*;
use crate::commands::keyspec::prelude::*;
use crate::commands::{Args, Command, Ctx, Handler};
use crate::db::Value;
use crate::effects::Change;
use crate::protocol::Reply;
use crate::types::collection::{
    self, intset_limit, parse_random_count, positive_count, random_picks, scan_command,
    scan_matches, RandomCount,
};

const fn s(name: &'static str, arity: i32, flags: u32, handler: Handler) -> Command {
    Command::new(name, arity, flags, handler).keys(1, 1, 1)
}

pub const COMMANDS: &[Command] = &[
    s("sadd", -3, WRITE | DENYOOM | FAST, sadd)
        .key_specs(&[ks(RW | INSERT, Index(1), Range(0, 1, 0))])
        .doc("set", "1.0.0", "Add one or more members to a set")
        .complexity(
            "O(1) for each element added, so O(N) to add N elements when the command is called \
             with multiple arguments.",
        ),
    s("srem", -3, WRITE | FAST, srem)
        .key_specs(&[ks(RW | DELETE, Index(1), Range(0, 1, 0))])
        .doc("set", "1.0.0", "Remove one or more members from a set")
        .complexity("O(N) where N is the number of members to be removed."),
    s("smembers", 2, READONLY, smembers)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc("set", "1.0.0", "Get all the members in a set")
        .complexity("O(N) where N is the set cardinality."),
    s("sismember", 3, READONLY | FAST, sismember)
        .key_specs(&[ks(RO, Index(1), Range(0, 1, 0))])
        .doc(
            "set",
            "1.0.0",
            "Determine if a given value is a member of a set",
        )
        .complexity("O(1)"),
    s("smismember", -3, READONLY | FAST, smismember)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "set",
            "6.2.0",
            "Returns the membership associated with the given elements for a set",
        )
        .complexity("O(N) where N is the number of elements being checked for membership"),
    s("scard", 2, READONLY | FAST, scard)
        .key_specs(&[ks(RO, Index(1), Range(0, 1, 0))])
        .doc("set", "1.0.0", "Get the number of members in a set")
        .complexity("O(1)"),
    s("spop", -2, WRITE | FAST, spop)
        .key_specs(&[ks(RW | ACCESS | DELETE, Index(1), Range(0, 1, 0))])
        .doc(
            "set",
            "1.0.0",
            "Remove and return one or multiple random members from a set",
        )
        .complexity(
            "Without the count argument O(1), otherwise O(N) where N is the value of the passed \
             count.",
        ),
    s("srandmember", -2, READONLY, srandmember)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "set",
            "1.0.0",
            "Get one or multiple random members from a set",
        )
        .complexity(
            "Without the count argument O(1), otherwise O(N) where N is the absolute value of the \
             passed count.",
        ),
    Command::new("smove", 4, WRITE | FAST, smove)
        .key_specs(&[
            ks(RW | ACCESS | DELETE, Index(1), Range(0, 1, 0)),
            ks(RW | INSERT, Index(2), Range(0, 1, 0)),
        ])
        .keys(1, 2, 1)
        .doc("set", "1.0.0", "Move a member from one set to another")
        .complexity("O(1)"),
    s("sscan", -3, READONLY, sscan)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc("set", "2.8.0", "Incrementally iterate Set elements")
        .complexity(
            "O(1) for every call. O(N) for a complete iteration, including enough command calls \
             for the cursor to return back to 0. N is the number of elements inside the \
             collection..",
        ),
    Command::new("sinter", -2, READONLY, algebra::sinter)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(-1, 1, 0))])
        .keys(1, -1, 1)
        .doc("set", "1.0.0", "Intersect multiple sets")
        .complexity(
            "O(N*M) worst case where N is the cardinality of the smallest set and M is the \
                 number of sets.",
        ),
    Command::new("sintercard", -3, READONLY, algebra::sintercard)
        .key_specs(&[ks(RO | ACCESS, Index(1), Keynum(0, 1, 1))])
        .movable(algebra::sintercard_keys)
        .doc(
            "set",
            "7.0.0",
            "Intersect multiple sets and return the cardinality of the result",
        )
        .complexity(
            "O(N*M) worst case where N is the cardinality of the smallest set and M is the \
                 number of sets.",
        ),
    Command::new("sinterstore", -3, WRITE | DENYOOM, algebra::sinterstore)
        .key_specs(&[
            ks(RW | UPDATE, Index(1), Range(0, 1, 0)),
            ks(RO | ACCESS, Index(2), Range(-1, 1, 0)),
        ])
        .keys(1, -1, 1)
        .doc(
            "set",
            "1.0.0",
            "Intersect multiple sets and store the resulting set in a key",
        )
        .complexity(
            "O(N*M) worst case where N is the cardinality of the smallest set and M is the \
                 number of sets.",
        ),
    Command::new("sunion", -2, READONLY, algebra::sunion)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(-1, 1, 0))])
        .keys(1, -1, 1)
        .doc("set", "1.0.0", "Add multiple sets")
        .complexity("O(N) where N is the total number of elements in all given sets."),
    Command::new("sunionstore", -3, WRITE | DENYOOM, algebra::sunionstore)
        .key_specs(&[
            ks(OW | UPDATE, Index(1), Range(0, 1, 0)),
            ks(RO | ACCESS, Index(2), Range(-1, 1, 0)),
        ])
        .keys(1, -1, 1)
        .doc(
            "set",
            "1.0.0",
            "Add multiple sets and store the resulting set in a key",
        )
        .complexity("O(N) where N is the total number of elements in all given sets."),
    Command::new("sdiff", -2, READONLY, algebra::sdiff)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(-1, 1, 0))])
        .keys(1, -1, 1)
        .doc("set", "1.0.0", "Subtract multiple sets")
        .complexity("O(N) where N is the total number of elements in all given sets."),
    Command::new("sdiffstore", -3, WRITE | DENYOOM, algebra::sdiffstore)
        .key_specs(&[
            ks(OW | UPDATE, Index(1), Range(0, 1, 0)),
            ks(RO | ACCESS, Index(2), Range(-1, 1, 0)),
        ])
        .keys(1, -1, 1)
        .doc(
            "set",
            "1.0.0",
            "Subtract multiple sets and store the resulting set in a key",
        )
        .complexity("O(N) where N is the total number of elements in all given sets."),
];

/// The set at `key` for a read command.
pub(crate) fn read<'c>(ctx: &'c Ctx, key: &[u8]) -> Result<Option<&'c Set>, Reply> {
    collection::read(ctx, key)
}

/// The set at `key` for a write command, before it changes anything.
fn peek<'c>(ctx: &'c Ctx, key: &[u8]) -> Result<Option<&'c Set>, Reply> {
    collection::peek(ctx, key)
}

fn write<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c mut Set>, Reply> {
    collection::write(ctx, key)
}

fn delete_if_empty(ctx: &mut Ctx, key: &[u8]) {
    collection::delete_if_empty::<Set>(ctx, key)
}

pub(super) fn members_reply(set: Option<&Set>) -> Reply {
    Reply::Set(set.map_or_else(Vec::new, |s| s.iter().map(Reply::bulk).collect()))
}

fn sadd(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let limit = intset_limit(&ctx.server.config);
    let mut fresh: Option<Set> = None;
    let set: &mut Set = match write(ctx, key) {
        Ok(Some(s)) => s,
        Ok(None) => fresh.insert(Set::for_member(args.get(2))),
        Err(e) => return e,
    };
    let added = args.iter().skip(2).filter(|m| set.add(m, limit)).count();
    if let Some(set) = fresh {
        let db = ctx.db();
        ctx.keys.insert(db, key, Value::Set(set));
    }
    if added > 0 {
        ctx.report(key, Change::new('s', "sadd").dirty(added as u64));
    }
    Reply::Int(added as i64)
}

fn srem(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let set = match write(ctx, key) {
        Ok(Some(s)) => s,
        Ok(None) => return Reply::Int(0),
        Err(e) => return e,
    };
    let removed = args.iter().skip(2).filter(|m| set.remove(m)).count();
    if removed > 0 {
        ctx.report(key, Change::new('s', "srem").dirty(removed as u64));
        delete_if_empty(ctx, key);
    }
    Reply::Int(removed as i64)
}

fn smembers(ctx: &mut Ctx, args: Args) -> Reply {
    match read(ctx, args.get(1)) {
        Ok(s) => members_reply(s),
        Err(e) => e,
    }
}

fn sismember(ctx: &mut Ctx, args: Args) -> Reply {
    match read(ctx, args.get(1)) {
        Ok(s) => Reply::Int(s.is_some_and(|s| s.contains(args.get(2))) as i64),
        Err(e) => e,
    }
}

fn smismember(ctx: &mut Ctx, args: Args) -> Reply {
    match read(ctx, args.get(1)) {
        Ok(s) => Reply::Array(
            args.iter()
                .skip(2)
                .map(|m| Reply::Int(s.is_some_and(|s| s.contains(m)) as i64))
                .collect(),
        ),
        Err(e) => e,
    }
}

fn scard(ctx: &mut Ctx, args: Args) -> Reply {
    match read(ctx, args.get(1)) {
        Ok(s) => Reply::Int(s.map_or(0, |s| s.len() as i64)),
        Err(e) => e,
    }
}

/// `n` distinct members at random; all of them (in iteration order) if `n` covers the set.
fn sample(set: &Set, n: usize) -> Vec<Vec<u8>> {
    let count = RandomCount {
        n,
        distinct: true,
        with_pairs: false,
    };
    let all = || set.iter().map(|m| m.into_owned()).collect();
    random_picks(set.len(), &count, all, || set.random())
}

/// SPOP key [count]
fn spop(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    if args.len() > 3 {
        return Reply::syntax_error();
    }
    let count = match args.len() {
        3 => match positive_count(args.get(2)) {
            Ok(n) => Some(n),
            Err(e) => return e,
        },
        _ => None,
    };
    let limit = intset_limit(&ctx.server.config);
    let set = match write(ctx, key) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return if count.is_some() {
                Reply::Set(vec![])
            } else {
                Reply::Nil
            }
        }
        Err(e) => return e,
    };
    if count == Some(0) {
        return Reply::Set(vec![]);
    }
    let popped = sample(set, count.unwrap_or(1));
    let emptied = popped.len() == set.len();
    for m in &popped {
        set.remove(m);
    }
    // When few members remain (SPOP_MOVE_STRATEGY_MUL times fewer than those popped), Redis moves them to a
    // fresh set instead, which the limit in force re-encodes: a hashtable of a few integers becomes an intset.
    if count.is_some_and(|n| !set.is_empty() && set.len() * 5 <= n) {
        *set = set.rebuilt(limit);
    }
    ctx.report(key, Change::new('s', "spop").dirty(popped.len() as u64));
    delete_if_empty(ctx, key);
    propagate_spop(ctx, key, &popped, count.is_some() && emptied);
    match count {
        None => Reply::bulk_or_nil(popped.into_iter().next()),
        Some(_) => Reply::Set(popped.into_iter().map(Reply::bulk_vec).collect()),
    }
}

/// SPOP's effect, as Redis replicates it: `SREM key member` for each member popped, or `DEL key` when a count
/// took the whole set.
fn propagate_spop(ctx: &mut Ctx, key: &[u8], popped: &[Vec<u8>], whole: bool) {
    if whole {
        ctx.propagate_as(&[b"DEL", key]);
        return;
    }
    match popped {
        [one] => ctx.propagate_as(&[b"SREM", key, one]),
        many => {
            for m in many {
                ctx.also_propagate(&[b"SREM", key, m]);
            }
            ctx.prevent_propagation();
        }
    }
}

/// SRANDMEMBER key [count]: a negative count may repeat members.
fn srandmember(ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() > 3 {
        return Reply::syntax_error();
    }
    let count = match parse_random_count(args, "") {
        Ok(c) => c,
        Err(e) => return e,
    };
    let set = match read(ctx, args.get(1)) {
        Ok(Some(s)) => s,
        Ok(None) if count.is_some() => return Reply::Array(vec![]),
        Ok(None) => return Reply::Nil,
        Err(e) => return e,
    };
    let Some(count) = count else {
        return Reply::bulk_or_nil(set.random());
    };
    let count = count.capped(crate::server::output_limit::reply_cap(ctx.server));
    let all = || set.iter().map(|m| m.into_owned()).collect();
    let picks = random_picks(set.len(), &count, all, || set.random());
    Reply::Array(picks.into_iter().map(Reply::bulk_vec).collect())
}

/// SMOVE source destination member
fn smove(ctx: &mut Ctx, args: Args) -> Reply {
    let (src, dst, member) = (args.get(1), args.get(2), args.get(3));
    let src_set = match peek(ctx, src) {
        Ok(Some(s)) => s,
        Ok(None) => return Reply::Int(0),
        Err(e) => return e,
    };
    let in_src = src_set.contains(member);
    if let Err(e) = peek(ctx, dst) {
        return e;
    }
    if src == dst {
        return Reply::Int(in_src as i64);
    }
    if !in_src {
        return Reply::Int(0);
    }
    if let Ok(Some(s)) = write(ctx, src) {
        s.remove(member);
    }
    ctx.changed(src, 's', "srem");
    delete_if_empty(ctx, src);
    let limit = intset_limit(&ctx.server.config);
    let added = match write(ctx, dst) {
        Ok(Some(s)) => s.add(member, limit),
        _ => {
            let mut set = Set::for_member(member);
            set.add(member, limit);
            let db = ctx.db();
            ctx.keys.insert(db, dst, Value::Set(set));
            true
        }
    };
    if added {
        ctx.changed(dst, 's', "sadd");
    }
    Reply::Int(1)
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn sscan(ctx: &mut Ctx, args: Args) -> Reply {
    scan_command(ctx, args, read, |set: &Set, cursor, opts, out| {
        set.scan(cursor, opts.count, |m| {
            if scan_matches(opts, m) {
                out.push(Reply::bulk(m));
            }
        })
    })
}
