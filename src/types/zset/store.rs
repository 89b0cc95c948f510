//! ZUNION, ZINTER, ZDIFF (and their STORE forms) and ZINTERCARD: Redis's zunionInterDiffGenericCommand. Inputs
//! may be sorted sets or plain sets (every member scoring 1).

use std::collections::HashMap;

use super::commands::resp3;
use super::rangecmds::store_result;
use super::ZSet;
use crate::commands::{Args, Ctx};
use crate::db::Value;
use crate::protocol::Reply;
use crate::types::collection::{push_pair, PackLimits};
use crate::types::set::Set;
use crate::util::numbers::{parse_f64, parse_i64};

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// One input: a sorted set, a plain set, or a missing key (empty).
#[derive(Clone, Copy)]
enum Src<'a> {
    Missing,
    Z(&'a ZSet),
    S(&'a Set),
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::Missing => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Src::Missing => None,
            Src::Z(z) => z.score(member),
            Src::S(s) => s.contains(member).then_some(1.0),
        }
    }

    fn items(&self) -> Vec<(Vec<u8>, f64)> {
        match self {
            Src::Missing => Vec::new(),
            Src::Z(z) => z.list().iter().map(|(m, s)| (m.to_vec(), s)).collect(),
            Src::S(s) => s.iter().map(|m| (m.into_owned(), 1.0)).collect(),
        }
    }

    fn same(&self, other: &Src) -> bool {
        match (self, other) {
            (Src::Z(a), Src::Z(b)) => std::ptr::eq(*a, *b),
            (Src::S(a), Src::S(b)) => std::ptr::eq(*a, *b),
            _ => false,
        }
    }
}

/// Redis's zunionInterAggregate: a NaN sum (inf + -inf) counts as 0.
fn aggregate(target: &mut f64, value: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += value;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => *target = target.min(value),
        Aggregate::Max => *target = target.max(value),
    }
}

/// `numkeys` at `at`: a count of at least 1 that the arguments can hold.
fn numkeys(ctx: &Ctx, args: Args, at: usize) -> Result<usize, Reply> {
    let n = parse_i64(args.get(at)).ok_or_else(Reply::not_integer)?;
    if n < 1 {
        return Err(ctx.err_for_command("at least 1 input key is needed for '{}' command"));
    }
    if n as u64 > args.len().saturating_sub(at + 1) as u64 {
        return Err(Reply::syntax_error());
    }
    Ok(n as usize)
}

/// Key positions of ZUNION / ZINTER / ZDIFF / ZINTERCARD.
pub fn numkeys_at_1(args: Args) -> Vec<usize> {
    crate::commands::args::keys_after_numkeys(args, 1)
}

/// Key positions of the STORE forms: the destination, then the inputs.
pub fn numkeys_at_2(args: Args) -> Vec<usize> {
    let mut keys = vec![1];
    keys.extend(crate::commands::args::keys_after_numkeys(args, 2));
    keys
}

/// Where the result goes.
enum Output<'a> {
    Reply,
    Card,
    Store(&'a [u8]),
}

fn generic(ctx: &mut Ctx, args: Args, at: usize, op: Op, output: Output) -> Reply {
    let n = match numkeys(ctx, args, at) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let result: Vec<(Vec<u8>, f64)>;
    let mut withscores = false;
    let mut limit = 0usize;
    {
        let mut srcs = Vec::with_capacity(n);
        for i in at + 1..at + 1 + n {
            srcs.push(match ctx.lookup(args.get(i)) {
                None => Src::Missing,
                Some(Value::ZSet(z)) => Src::Z(z),
                Some(Value::Set(s)) => Src::S(s),
                Some(_) => return Reply::wrong_type(),
            });
        }
        let mut weights = vec![1.0; n];
        let mut how = Aggregate::Sum;
        let (store, card) = (
            matches!(output, Output::Store(_)),
            matches!(output, Output::Card),
        );
        let mut j = at + 1 + n;
        while j < args.len() {
            let a = args.get(j);
            let left = args.len() - j;
            if op != Op::Diff && !card && left > n && a.eq_ignore_ascii_case(b"WEIGHTS") {
                for w in weights.iter_mut() {
                    j += 1;
                    match parse_f64(args.get(j)) {
                        Some(v) => *w = v,
                        None => return Reply::err("weight value is not a float"),
                    }
                }
            } else if op != Op::Diff && !card && left >= 2 && a.eq_ignore_ascii_case(b"AGGREGATE") {
                j += 1;
                how = match args.get(j) {
                    x if x.eq_ignore_ascii_case(b"SUM") => Aggregate::Sum,
                    x if x.eq_ignore_ascii_case(b"MIN") => Aggregate::Min,
                    x if x.eq_ignore_ascii_case(b"MAX") => Aggregate::Max,
                    _ => return Reply::syntax_error(),
                };
            } else if !store && !card && a.eq_ignore_ascii_case(b"WITHSCORES") {
                withscores = true;
            } else if card && left >= 2 && a.eq_ignore_ascii_case(b"LIMIT") {
                j += 1;
                match parse_i64(args.get(j)) {
                    Some(l) if l >= 0 => limit = l as usize,
                    _ => return Reply::err("LIMIT can't be negative"),
                }
            } else {
                return Reply::syntax_error();
            }
            j += 1;
        }
        let mut srcs: Vec<(Src, f64)> = srcs.into_iter().zip(weights).collect();
        result = match op {
            Op::Union => union(&mut srcs, how),
            Op::Inter => inter(&mut srcs, how, if card { limit } else { 0 }),
            Op::Diff => diff(&srcs),
        };
    }
    match output {
        Output::Card => Reply::Int(result.len() as i64),
        Output::Store(dst) => {
            let event = match op {
                Op::Union => "zunionstore",
                Op::Inter => "zinterstore",
                Op::Diff => "zdiffstore",
            };
            let limits = PackLimits::zset(&ctx.server.config);
            store_result(ctx, dst, ZSet::from_items(result, limits), event)
        }
        Output::Reply => {
            // Redis answers from an unconverted skiplist: (score, member) order, -0 kept as it is.
            let mut result = result;
            result.sort_by(|a, b| {
                let by_score = a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal);
                by_score.then_with(|| a.0.cmp(&b.0))
            });
            let resp3 = resp3(ctx);
            let mut out = Vec::new();
            for (m, s) in result {
                if withscores {
                    push_pair(&mut out, resp3, Reply::Bulk(m.into()), Reply::Double(s));
                } else {
                    out.push(Reply::Bulk(m.into()));
                }
            }
            Reply::Array(out)
        }
    }
}

fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

fn union(srcs: &mut [(Src, f64)], how: Aggregate) -> Vec<(Vec<u8>, f64)> {
    srcs.sort_by_key(|(s, _)| s.len());
    let mut acc: HashMap<Vec<u8>, f64> = HashMap::new();
    for (src, w) in srcs.iter() {
        for (m, s) in src.items() {
            let v = weighted(s, *w);
            acc.entry(m)
                .and_modify(|t| aggregate(t, v, how))
                .or_insert(v);
        }
    }
    acc.into_iter().collect()
}

/// Members of the smallest input found in every other, stopping at `limit` (0: none) for ZINTERCARD.
fn inter(srcs: &mut [(Src, f64)], how: Aggregate, limit: usize) -> Vec<(Vec<u8>, f64)> {
    srcs.sort_by_key(|(s, _)| s.len());
    let (first, w0) = srcs[0];
    let mut out = Vec::new();
    'members: for (m, s) in first.items() {
        let mut score = weighted(s, w0);
        for (src, w) in &srcs[1..] {
            let value = if src.same(&first) {
                Some(s)
            } else {
                src.score(&m)
            };
            match value {
                Some(v) => aggregate(&mut score, v * w, how),
                None => continue 'members,
            }
        }
        out.push((m, score));
        if limit > 0 && out.len() >= limit {
            break;
        }
    }
    out
}

fn diff(srcs: &[(Src, f64)]) -> Vec<(Vec<u8>, f64)> {
    let (first, _) = srcs[0];
    first
        .items()
        .into_iter()
        .filter(|(m, _)| {
            !srcs[1..]
                .iter()
                .any(|(s, _)| s.same(&first) || s.score(m).is_some())
        })
        .collect()
}

pub fn zunion(ctx: &mut Ctx, args: Args) -> Reply {
    generic(ctx, args, 1, Op::Union, Output::Reply)
}

pub fn zinter(ctx: &mut Ctx, args: Args) -> Reply {
    generic(ctx, args, 1, Op::Inter, Output::Reply)
}

pub fn zdiff(ctx: &mut Ctx, args: Args) -> Reply {
    generic(ctx, args, 1, Op::Diff, Output::Reply)
}

pub fn zintercard(ctx: &mut Ctx, args: Args) -> Reply {
    generic(ctx, args, 1, Op::Inter, Output::Card)
}

pub fn zunionstore(ctx: &mut Ctx, args: Args) -> Reply {
    generic(ctx, args, 2, Op::Union, Output::Store(args.get(1)))
}

pub fn zinterstore(ctx: &mut Ctx, args: Args) -> Reply {
    generic(ctx, args, 2, Op::Inter, Output::Store(args.get(1)))
}

pub fn zdiffstore(ctx: &mut Ctx, args: Args) -> Reply {
    generic(ctx, args, 2, Op::Diff, Output::Store(args.get(1)))
}
