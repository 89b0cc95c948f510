//! The single-key sorted-set commands: ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE,
//! ZRANK, ZREVRANK, ZCOUNT, ZLEXCOUNT, ZRANDMEMBER, ZSCAN.

use super::range::{Bounds, LexRange, ScoreRange};
use super::ZSet;
use crate::commands::{Args, Ctx, Cursor};
use crate::db::Value;
use crate::effects::Change;
use crate::protocol::{Protocol, Reply};
use crate::types::collection::{
    self, parse_random_count, push_pair, random_picks, scan_command, scan_dict, scan_matches,
    PackLimits,
};
use crate::util::numbers::{format_double, parse_f64};

/// The sorted set at `key` for a read command.
pub(super) fn read<'c>(ctx: &'c Ctx, key: &[u8]) -> Result<Option<&'c ZSet>, Reply> {
    collection::read(ctx, key)
}

pub(super) fn write<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c mut ZSet>, Reply> {
    collection::write(ctx, key)
}

pub(super) fn resp3(ctx: &Ctx) -> bool {
    ctx.client.protocol == Protocol::Resp3
}

pub(super) fn delete_if_empty(ctx: &mut Ctx, key: &[u8]) {
    collection::delete_if_empty::<ZSet>(ctx, key)
}

/// ZADD's flags, shared with ZINCRBY and GEOADD.
#[derive(Default, Clone, Copy)]
pub struct AddFlags {
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
    pub ch: bool,
    pub incr: bool,
}

pub(super) fn zadd(ctx: &mut Ctx, args: Args) -> Reply {
    let mut cur = Cursor::new(args, 2);
    let mut f = AddFlags::default();
    loop {
        match cur.eat_any(&["NX", "XX", "GT", "LT", "CH", "INCR"]) {
            Some(0) => f.nx = true,
            Some(1) => f.xx = true,
            Some(2) => f.gt = true,
            Some(3) => f.lt = true,
            Some(4) => f.ch = true,
            Some(_) => f.incr = true,
            None => break,
        }
    }
    add_generic(ctx, args, cur.position(), f)
}

/// ZINCRBY key increment member: ZADD INCR with one pair.
pub(super) fn zincrby(ctx: &mut Ctx, args: Args) -> Reply {
    let f = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    add_generic(ctx, args, 2, f)
}

/// Redis's zaddGenericCommand: validate flags and every score, then apply pair by pair.
fn add_generic(ctx: &mut Ctx, args: Args, first: usize, f: AddFlags) -> Reply {
    let key = args.get(1);
    let elements = args.len() - first;
    if elements == 0 || !elements.is_multiple_of(2) {
        return Reply::syntax_error();
    }
    if f.nx && f.xx {
        return Reply::err("XX and NX options at the same time are not compatible");
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Reply::err("GT, LT, and/or NX options at the same time are not compatible");
    }
    if f.incr && elements > 2 {
        return Reply::err("INCR option supports a single increment-element pair");
    }
    let mut pairs = Vec::with_capacity(elements / 2);
    for i in (first..args.len()).step_by(2) {
        match parse_f64(args.get(i)) {
            Some(score) => pairs.push((score, args.get(i + 1))),
            None => return Reply::not_float(),
        }
    }
    add_pairs(ctx, key, pairs, f)
}

/// ZADD's effect, once its flags and scores are valid: GEOADD comes here with the scores it computed.
pub fn add_pairs(ctx: &mut Ctx, key: &[u8], pairs: Vec<(f64, &[u8])>, f: AddFlags) -> Reply {
    let limits = PackLimits::zset(&ctx.server.config);
    let mut fresh: Option<ZSet> = None;
    let zset: &mut ZSet = match write(ctx, key) {
        Err(e) => return e,
        Ok(Some(z)) => z,
        Ok(None) if f.xx => return if f.incr { Reply::Nil } else { Reply::Int(0) },
        Ok(None) => fresh.insert(ZSet::default()),
    };
    let (mut added, mut updated, mut processed) = (0, 0, 0);
    let mut result = 0.0;
    let mut nan = false;
    for (score, member) in pairs {
        let current = zset.score(member);
        let mut score = score;
        match current {
            Some(_) if f.nx => continue,
            None if f.xx => continue,
            Some(cur) => {
                if f.incr {
                    score += cur;
                    if score.is_nan() {
                        nan = true;
                        break;
                    }
                }
                if (f.lt && score >= cur) || (f.gt && score <= cur) {
                    continue;
                }
                if score != cur {
                    zset.insert(member, score, limits);
                    updated += 1;
                }
            }
            None => {
                zset.insert(member, score, limits);
                added += 1;
            }
        }
        result = score;
        processed += 1;
    }
    if let Some(z) = fresh.filter(|z| !z.is_empty()) {
        let db = ctx.db();
        ctx.keys.insert(db, key, Value::ZSet(z));
    }
    if added + updated > 0 {
        let event = if f.incr { "zincr" } else { "zadd" };
        ctx.report(key, Change::new('z', event).dirty((added + updated) as u64));
    }
    if nan {
        return Reply::err("resulting score is not a number (NaN)");
    }
    match (f.incr, processed) {
        (true, 0) => Reply::Nil,
        (true, _) => Reply::Double(result),
        _ => Reply::Int(if f.ch { added + updated } else { added }),
    }
}

pub(super) fn zrem(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let zset = match write(ctx, key) {
        Ok(Some(z)) => z,
        Ok(None) => return Reply::Int(0),
        Err(e) => return e,
    };
    let removed = args
        .iter()
        .skip(2)
        .filter(|m| zset.remove(m).is_some())
        .count();
    if removed > 0 {
        ctx.report(key, Change::new('z', "zrem").dirty(removed as u64));
        delete_if_empty(ctx, key);
    }
    Reply::Int(removed as i64)
}

pub(super) fn zcard(ctx: &mut Ctx, args: Args) -> Reply {
    match read(ctx, args.get(1)) {
        Ok(z) => Reply::Int(z.map_or(0, |z| z.len() as i64)),
        Err(e) => e,
    }
}

pub(super) fn zscore(ctx: &mut Ctx, args: Args) -> Reply {
    match read(ctx, args.get(1)) {
        Ok(z) => z
            .and_then(|z| z.score(args.get(2)))
            .map_or(Reply::Nil, Reply::Double),
        Err(e) => e,
    }
}

pub(super) fn zmscore(ctx: &mut Ctx, args: Args) -> Reply {
    match read(ctx, args.get(1)) {
        Ok(z) => Reply::Array(
            args.iter()
                .skip(2)
                .map(|m| z.and_then(|z| z.score(m)).map_or(Reply::Nil, Reply::Double))
                .collect(),
        ),
        Err(e) => e,
    }
}

pub(super) fn zrank(ctx: &mut Ctx, args: Args) -> Reply {
    rank_generic(ctx, args, false)
}

pub(super) fn zrevrank(ctx: &mut Ctx, args: Args) -> Reply {
    rank_generic(ctx, args, true)
}

fn rank_generic(ctx: &mut Ctx, args: Args, rev: bool) -> Reply {
    match read(ctx, args.get(1)) {
        Ok(z) => z
            .and_then(|z| z.rank(args.get(2), rev))
            .map_or(Reply::Nil, |r| Reply::Int(r as i64)),
        Err(e) => e,
    }
}

pub(super) fn zcount(ctx: &mut Ctx, args: Args) -> Reply {
    match ScoreRange::parse(args.get(2), args.get(3)) {
        Ok(range) => count_in(ctx, args.get(1), &range),
        Err(e) => e,
    }
}

pub(super) fn zlexcount(ctx: &mut Ctx, args: Args) -> Reply {
    match LexRange::parse(args.get(2), args.get(3)) {
        Ok(range) => count_in(ctx, args.get(1), &range),
        Err(e) => e,
    }
}

/// Elements inside a range, from the ranks of its first and last element: O(log n).
fn count_in(ctx: &mut Ctx, key: &[u8], range: &impl Bounds) -> Reply {
    let zset = match read(ctx, key) {
        Ok(Some(z)) => z,
        Ok(None) => return Reply::Int(0),
        Err(e) => return e,
    };
    let list = zset.list();
    if range.is_empty() {
        return Reply::Int(0);
    }
    match (list.first_in(range), list.last_in(range)) {
        (Some(a), Some(b)) => {
            Reply::Int((list.rank_of(b) + 1).saturating_sub(list.rank_of(a)) as i64)
        }
        _ => Reply::Int(0),
    }
}

/// ZRANDMEMBER key [count [WITHSCORES]]
pub(super) fn zrandmember(ctx: &mut Ctx, args: Args) -> Reply {
    let resp3 = resp3(ctx);
    let count = match parse_random_count(args, "WITHSCORES") {
        Ok(c) => c,
        Err(e) => return e,
    };
    let zset = match read(ctx, args.get(1)) {
        Err(e) => return e,
        Ok(None) if count.is_some() => return Reply::Array(vec![]),
        Ok(None) => return Reply::Nil,
        Ok(Some(z)) => z,
    };
    let list = zset.list();
    let random = || list.by_rank(fastrand::usize(1..=zset.len()));
    let Some(count) = count else {
        return Reply::bulk_or_nil(random().map(|id| list.member(id)));
    };
    let count = count.capped(crate::server::output_limit::reply_cap(ctx.server));
    // The whole set comes from the highest score down, as Redis answers it.
    let all = || std::iter::successors(list.last(), |&id| list.prev(id)).collect();
    let mut out = Vec::new();
    for id in random_picks(zset.len(), &count, all, random) {
        if count.with_pairs {
            push_pair(
                &mut out,
                resp3,
                Reply::bulk(list.member(id)),
                Reply::Double(list.score(id)),
            );
        } else {
            out.push(Reply::bulk(list.member(id)));
        }
    }
    Reply::Array(out)
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]: a small set answers whole with cursor 0, as a listpack does.
pub(super) fn zscan(ctx: &mut Ctx, args: Args) -> Reply {
    scan_command(ctx, args, read, |zset: &ZSet, cursor, opts, out| {
        let mut emit = |m: &[u8], s: f64| {
            if scan_matches(opts, m) {
                out.push(Reply::bulk(m));
                out.push(Reply::bulk(format_double(s)));
            }
        };
        match zset.scores() {
            Some(scores) => scan_dict(scores, cursor, opts.count, |m, s| emit(m, *s)),
            None => {
                zset.list().iter().for_each(|(m, s)| emit(m, s));
                0
            }
        }
    })
}
