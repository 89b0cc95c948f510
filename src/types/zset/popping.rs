//! ZPOPMIN, ZPOPMAX and ZMPOP: one pop routine (Redis's genericZpopCommand) over the first non-empty key.

use super::commands::{delete_if_empty, resp3, write};
use crate::commands::args::int_arg;
use crate::commands::{Args, Ctx};
use crate::effects::Change;
use crate::protocol::Reply;
use crate::types::collection::{positive_count, push_pair};
use crate::util::numbers::parse_i64;

/// Members and scores taken from a sorted set, in pop order.
pub(super) type Popped = Vec<(Vec<u8>, f64)>;

pub fn zpopmin(ctx: &mut Ctx, args: Args) -> Reply {
    zpop_command(ctx, args, false)
}

pub fn zpopmax(ctx: &mut Ctx, args: Args) -> Reply {
    zpop_command(ctx, args, true)
}

/// ZPOPMIN|ZPOPMAX key [count]: with a count the reply is a list of pairs (nested in RESP3), without it one pair.
fn zpop_command(ctx: &mut Ctx, args: Args, max: bool) -> Reply {
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
    let key = args.get(1);
    let popped = match pop(ctx, key, max, count.unwrap_or(1)) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let nested = count.is_some() && resp3(ctx);
    let mut out = Vec::new();
    for (m, s) in popped {
        push_pair(&mut out, nested, Reply::Bulk(m.into()), Reply::Double(s));
    }
    Reply::Array(out)
}

/// Pops up to `count` elements from one end of the sorted set at `key`, signalling and deleting as Redis does.
pub(super) fn pop(ctx: &mut Ctx, key: &[u8], max: bool, count: usize) -> Result<Popped, Reply> {
    let Some(zset) = write(ctx, key)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    while out.len() < count {
        let list = zset.list();
        let Some(id) = (if max { list.last() } else { list.first() }) else {
            break;
        };
        let (m, s) = (list.member(id).to_vec(), list.score(id));
        zset.remove(&m);
        out.push((m, s));
    }
    if !out.is_empty() {
        let event = if max { "zpopmax" } else { "zpopmin" };
        ctx.report(key, Change::new('z', event).dirty(out.len() as u64));
        delete_if_empty(ctx, key);
    }
    Ok(out)
}

/// A blocking or multi-key pop's effect, as Redis replicates it: `ZPOPMIN key`, or with a count (ZMPOP, BZMPOP)
/// `ZPOPMIN key n`, n being how many it popped.
pub(super) fn propagate_pop(ctx: &mut Ctx, key: &[u8], max: bool, count: Option<usize>) {
    let name: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
    match count {
        None => ctx.propagate_as(&[name, key]),
        Some(n) => {
            let mut num = itoa::Buffer::new();
            ctx.propagate_as(&[name, key, num.format(n).as_bytes()]);
        }
    }
}

/// The numkeys of ZMPOP / BZMPOP (`numkeys should be greater than 0`).
fn numkeys(args: Args, at: usize) -> Result<usize, Reply> {
    match parse_i64(args.get(at)) {
        Some(n) if n >= 1 => Ok(n as usize),
        _ => Err(Reply::err("numkeys should be greater than 0")),
    }
}

/// Key positions of `[B]ZMPOP`: the `numkeys` keys after argument `at`, if the MIN|MAX after them is there.
pub(super) fn mpop_keys(args: Args, at: usize) -> Vec<usize> {
    match numkeys(args, at) {
        Ok(n) if n.checked_add(at + 1).is_some_and(|w| w < args.len()) => {
            (at + 1..at + 1 + n).collect()
        }
        _ => Vec::new(),
    }
}

pub fn zmpop_keys(args: Args) -> Vec<usize> {
    mpop_keys(args, 1)
}

/// The parsed tail of `[B]ZMPOP`: `numkeys key [key ...] MIN|MAX [COUNT count]`.
pub(super) struct Mpop<'a> {
    pub keys: Vec<&'a [u8]>,
    pub max: bool,
    pub count: usize,
}

/// Parses `numkeys` at `at` and what follows, with Redis's errors in its order.
pub(super) fn parse_mpop<'a>(args: Args<'a>, at: usize) -> Result<Mpop<'a>, Reply> {
    let n = numkeys(args, at)?;
    let where_idx = n.saturating_add(at + 1);
    if where_idx >= args.len() {
        return Err(Reply::syntax_error());
    }
    let max = match args.get(where_idx) {
        w if w.eq_ignore_ascii_case(b"MIN") => false,
        w if w.eq_ignore_ascii_case(b"MAX") => true,
        _ => return Err(Reply::syntax_error()),
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && j + 1 < args.len() && args.get(j).eq_ignore_ascii_case(b"COUNT") {
            match int_arg(args.get(j + 1)) {
                Ok(c) if c >= 1 => count = Some(c as usize),
                _ => return Err(Reply::err("count should be greater than 0")),
            }
            j += 2;
        } else {
            return Err(Reply::syntax_error());
        }
    }
    Ok(Mpop {
        keys: (at + 1..where_idx).map(|i| args.get(i)).collect(),
        max,
        count: count.unwrap_or(1),
    })
}

/// `[key, [[member, score], ...]]`, nested in both protocols, as ZMPOP answers.
pub(super) fn mpop_reply(key: &[u8], popped: Popped) -> Reply {
    let pairs = popped
        .into_iter()
        .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m.into()), Reply::Double(s)]))
        .collect();
    Reply::Array(vec![Reply::bulk(key), Reply::Array(pairs)])
}

/// Pops from the first key of `keys` that holds a non-empty sorted set; `Ok(None)` if none does.
pub(super) fn pop_first(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    max: bool,
    count: usize,
) -> Result<Option<(Vec<u8>, Popped)>, Reply> {
    for key in keys {
        let popped = pop(ctx, key, max, count)?;
        if !popped.is_empty() {
            return Ok(Some((key.to_vec(), popped)));
        }
    }
    Ok(None)
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
pub fn zmpop(ctx: &mut Ctx, args: Args) -> Reply {
    let Mpop { keys, max, count } = match parse_mpop(args, 1) {
        Ok(m) => m,
        Err(e) => return e,
    };
    match pop_first(ctx, &keys, max, count) {
        Ok(Some((key, popped))) => {
            propagate_pop(ctx, &key, max, Some(popped.len()));
            mpop_reply(&key, popped)
        }
        Ok(None) => Reply::NilArray,
        Err(e) => e,
    }
}
