//! The range commands: ZRANGE in all its forms (and its older spellings ZRANGEBYSCORE, ZREVRANGE, ...),
//! ZRANGESTORE, and ZREMRANGEBYRANK / BYSCORE / BYLEX. One selection routine serves them all, as Redis's
//! zrangeGenericCommand does.

use super::commands::{delete_if_empty, read, resp3, write};
use super::ordered::Ordered;
use super::range::{Bounds, LexRange, ScoreRange};
use super::skiplist::NodeId;
use super::ZSet;
use crate::commands::args::int_arg;
use crate::commands::{Args, Ctx};
use crate::db::Value;
use crate::effects::Change;
use crate::protocol::Reply;
use crate::types::collection::{push_pair, PackLimits};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Rank,
    Score,
    Lex,
}

/// A parsed range of any kind.
pub(super) enum Spec {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

impl Spec {
    fn parse(kind: Kind, min: &[u8], max: &[u8]) -> Result<Spec, Reply> {
        Ok(match kind {
            Kind::Rank => Spec::Rank(int_arg(min)?, int_arg(max)?),
            Kind::Score => Spec::Score(ScoreRange::parse(min, max)?),
            Kind::Lex => Spec::Lex(LexRange::parse(min, max)?),
        })
    }
}

/// The nodes a range selects, in reply order. `offset`/`limit` are LIMIT's (limit < 0: no limit), for score and
/// lex ranges only.
pub(super) fn select(zset: &ZSet, spec: &Spec, rev: bool, offset: i64, limit: i64) -> Vec<NodeId> {
    let list = zset.list();
    let len = zset.len() as i64;
    match spec {
        Spec::Rank(start, end) => {
            let start = if *start < 0 {
                (len + start).max(0)
            } else {
                *start
            };
            let end = if *end < 0 {
                len + end
            } else {
                (*end).min(len - 1)
            };
            if start > end || start >= len {
                return Vec::new();
            }
            let first = if rev {
                list.by_rank((len - start) as usize)
            } else {
                list.by_rank(start as usize + 1)
            };
            walk(list, first, rev, (end - start + 1) as usize, |_| true)
        }
        Spec::Score(r) => by_bounds(list, r, rev, offset, limit),
        Spec::Lex(r) => by_bounds(list, r, rev, offset, limit),
    }
}

fn by_bounds(
    list: Ordered<'_>,
    range: &impl Bounds,
    rev: bool,
    offset: i64,
    limit: i64,
) -> Vec<NodeId> {
    // Redis skips with `while (ln && offset--)`: a negative offset skips everything.
    if range.is_empty() || offset < 0 || offset >= list.len() as i64 {
        return Vec::new();
    }
    let mut node = if rev {
        list.last_in(range)
    } else {
        list.first_in(range)
    };
    for _ in 0..offset {
        node = node.and_then(|id| step(list, id, rev));
    }
    let limit = if limit < 0 {
        usize::MAX
    } else {
        limit as usize
    };
    walk(list, node, rev, limit, |id| {
        let (s, m) = (list.score(id), list.member(id));
        if rev {
            range.gte_min(s, m)
        } else {
            range.lte_max(s, m)
        }
    })
}

fn step(list: Ordered<'_>, id: NodeId, rev: bool) -> Option<NodeId> {
    if rev {
        list.prev(id)
    } else {
        list.next(id)
    }
}

/// Up to `n` nodes from `first` while `inside` holds.
fn walk(
    list: Ordered<'_>,
    first: Option<NodeId>,
    rev: bool,
    n: usize,
    inside: impl Fn(NodeId) -> bool,
) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut node = first;
    while let Some(id) = node {
        if out.len() >= n || !inside(id) {
            break;
        }
        out.push(id);
        node = step(list, id, rev);
    }
    out
}

/// zrangeGenericCommand. `first` is the index of the source key; `store` names the destination (ZRANGESTORE);
/// `kind`/`rev` are fixed by the older commands and left to the options (None) for ZRANGE.
fn range_generic(
    ctx: &mut Ctx,
    args: Args,
    first: usize,
    store: bool,
    kind: Option<Kind>,
    rev: Option<bool>,
) -> Reply {
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let (mut kind_opt, mut rev_opt) = (kind, rev);
    let mut j = first + 3;
    while j < args.len() {
        let a = args.get(j);
        let left = args.len() - j - 1;
        if !store && a.eq_ignore_ascii_case(b"WITHSCORES") {
            withscores = true;
        } else if a.eq_ignore_ascii_case(b"LIMIT") && left >= 2 {
            match (int_arg(args.get(j + 1)), int_arg(args.get(j + 2))) {
                (Ok(o), Ok(l)) => (offset, limit) = (o, l),
                (Err(e), _) | (_, Err(e)) => return e,
            }
            j += 2;
        } else if rev.is_none() && rev_opt.is_none() && a.eq_ignore_ascii_case(b"REV") {
            rev_opt = Some(true);
        } else if kind.is_none() && kind_opt.is_none() && a.eq_ignore_ascii_case(b"BYLEX") {
            kind_opt = Some(Kind::Lex);
        } else if kind.is_none() && kind_opt.is_none() && a.eq_ignore_ascii_case(b"BYSCORE") {
            kind_opt = Some(Kind::Score);
        } else {
            return Reply::syntax_error();
        }
        j += 1;
    }
    let kind = kind_opt.unwrap_or(Kind::Rank);
    let rev = rev_opt.unwrap_or(false);
    // Redis tests only the count: `LIMIT 5 -1` passes (and is ignored) on a rank range.
    if limit != -1 && kind == Kind::Rank {
        return Reply::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
    }
    if withscores && kind == Kind::Lex {
        return Reply::err("syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    let (mut min, mut max) = (args.get(first + 1), args.get(first + 2));
    if rev && kind != Kind::Rank {
        std::mem::swap(&mut min, &mut max);
    }
    let spec = match Spec::parse(kind, min, max) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let picked: Vec<(Vec<u8>, f64)> = match read(ctx, args.get(first)) {
        Err(e) => return e,
        Ok(None) => Vec::new(),
        Ok(Some(z)) => select(z, &spec, rev, offset, limit)
            .into_iter()
            .map(|id| (z.list().member(id).to_vec(), z.list().score(id)))
            .collect(),
    };
    if store {
        let limits = PackLimits::zset(&ctx.server.config);
        // Redis's zrangeResultBeginStore knows the length of a rank range only.
        let skiplist_first = kind == Kind::Rank && picked.len() > limits.entries;
        let result = ZSet::added_one_by_one(picked, limits, skiplist_first);
        return store_result(ctx, args.get(1), result, "zrangestore");
    }
    let resp3 = resp3(ctx);
    let mut out = Vec::with_capacity(picked.len());
    for (m, s) in picked {
        if withscores {
            push_pair(&mut out, resp3, Reply::Bulk(m.into()), Reply::Double(s));
        } else {
            out.push(Reply::Bulk(m.into()));
        }
    }
    Reply::Array(out)
}

/// Stores a computed sorted set at `dst` (replacing whatever is there) and answers its size; an empty result
/// deletes `dst` instead, as Redis never stores empty collections.
pub(super) fn store_result(ctx: &mut Ctx, dst: &[u8], result: ZSet, event: &str) -> Reply {
    let n = result.len();
    if n == 0 {
        if ctx.delete(dst) {
            ctx.changed(dst, 'g', "del");
        }
        return Reply::Int(0);
    }
    ctx.store(dst, Value::ZSet(result));
    ctx.changed(dst, 'z', event);
    Reply::Int(n as i64)
}

pub fn zrange(ctx: &mut Ctx, args: Args) -> Reply {
    range_generic(ctx, args, 1, false, None, None)
}

pub fn zrangestore(ctx: &mut Ctx, args: Args) -> Reply {
    range_generic(ctx, args, 2, true, None, None)
}

pub fn zrevrange(ctx: &mut Ctx, args: Args) -> Reply {
    range_generic(ctx, args, 1, false, Some(Kind::Rank), Some(true))
}

pub fn zrangebyscore(ctx: &mut Ctx, args: Args) -> Reply {
    range_generic(ctx, args, 1, false, Some(Kind::Score), Some(false))
}

pub fn zrevrangebyscore(ctx: &mut Ctx, args: Args) -> Reply {
    range_generic(ctx, args, 1, false, Some(Kind::Score), Some(true))
}

pub fn zrangebylex(ctx: &mut Ctx, args: Args) -> Reply {
    range_generic(ctx, args, 1, false, Some(Kind::Lex), Some(false))
}

pub fn zrevrangebylex(ctx: &mut Ctx, args: Args) -> Reply {
    range_generic(ctx, args, 1, false, Some(Kind::Lex), Some(true))
}

pub fn zremrangebyrank(ctx: &mut Ctx, args: Args) -> Reply {
    remrange_generic(ctx, args, Kind::Rank, "zremrangebyrank")
}

pub fn zremrangebyscore(ctx: &mut Ctx, args: Args) -> Reply {
    remrange_generic(ctx, args, Kind::Score, "zremrangebyscore")
}

pub fn zremrangebylex(ctx: &mut Ctx, args: Args) -> Reply {
    remrange_generic(ctx, args, Kind::Lex, "zremrangebylex")
}

fn remrange_generic(ctx: &mut Ctx, args: Args, kind: Kind, event: &str) -> Reply {
    let key = args.get(1);
    let spec = match Spec::parse(kind, args.get(2), args.get(3)) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let zset = match write(ctx, key) {
        Ok(Some(z)) => z,
        Ok(None) => return Reply::Int(0),
        Err(e) => return e,
    };
    let doomed: Vec<Vec<u8>> = select(zset, &spec, false, 0, -1)
        .into_iter()
        .map(|id| zset.list().member(id).to_vec())
        .collect();
    for m in &doomed {
        zset.remove(m);
    }
    if !doomed.is_empty() {
        ctx.report(key, Change::new('z', event).dirty(doomed.len() as u64));
        delete_if_empty(ctx, key);
    }
    Reply::Int(doomed.len() as i64)
}
