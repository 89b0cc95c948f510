//! ZPOPMIN, ZPOPMAX and ZMPOP: one pop routine (Redis's genericZpopCommand) over the first non-empty key.

use super::commands::{delete_if_empty, resp3, write};
use crate::commands::args::int_arg;
use crate::commands::{Args, Ctx};
use crate::protocol::Reply;
use crate::types::collection::push_pair;
use crate::util::numbers::parse_i64;

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
    let count = if args.len() == 3 {
        match parse_i64(args.get(2)) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return Reply::err("value is out of range, must be positive"),
        }
    } else {
        None
    };
    let key = args.get(1);
    let popped = match pop(ctx, key, max, count.unwrap_or(1)) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let nested = count.is_some() && resp3(ctx);
    let mut out = Vec::new();
    for (m, s) in popped {
        push_pair(&mut out, nested, Reply::Bulk(m), Reply::Double(s));
    }
    Reply::Array(out)
}

/// Pops up to `count` elements from one end of the sorted set at `key`, signalling and deleting as Redis does.
pub(super) fn pop(
    ctx: &mut Ctx,
    key: &[u8],
    max: bool,
    count: usize,
) -> Result<Vec<(Vec<u8>, f64)>, Reply> {
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
        ctx.modified(key);
        ctx.notify('z', if max { "zpopmax" } else { "zpopmin" }, key);
        delete_if_empty(ctx, key);
    }
    Ok(out)
}

/// The numkeys of ZMPOP (`numkeys should be greater than 0`).
fn numkeys(args: Args, at: usize) -> Result<usize, Reply> {
    match parse_i64(args.get(at)) {
        Some(n) if n >= 1 => Ok(n as usize),
        _ => Err(Reply::err("numkeys should be greater than 0")),
    }
}

/// Key positions of ZMPOP: the `numkeys` keys after argument 1, if the MIN|MAX after them is there.
pub fn zmpop_keys(args: Args) -> Vec<usize> {
    match numkeys(args, 1) {
        Ok(n) if n.checked_add(2).is_some_and(|w| w < args.len()) => (2..2 + n).collect(),
        _ => Vec::new(),
    }
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
pub fn zmpop(ctx: &mut Ctx, args: Args) -> Reply {
    let n = match numkeys(args, 1) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let where_idx = n.saturating_add(2);
    if where_idx >= args.len() {
        return Reply::syntax_error();
    }
    let max = match args.get(where_idx) {
        w if w.eq_ignore_ascii_case(b"MIN") => false,
        w if w.eq_ignore_ascii_case(b"MAX") => true,
        _ => return Reply::syntax_error(),
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && j + 1 < args.len() && args.get(j).eq_ignore_ascii_case(b"COUNT") {
            match int_arg(args.get(j + 1)) {
                Ok(c) if c >= 1 => count = Some(c as usize),
                _ => return Reply::err("count should be greater than 0"),
            }
            j += 2;
        } else {
            return Reply::syntax_error();
        }
    }
    for i in 2..where_idx {
        let key = args.get(i);
        match pop(ctx, key, max, count.unwrap_or(1)) {
            Err(e) => return e,
            Ok(p) if p.is_empty() => continue,
            Ok(p) => {
                let pairs = p
                    .into_iter()
                    .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]))
                    .collect();
                return Reply::Array(vec![Reply::bulk(key), Reply::Array(pairs)]);
            }
        }
    }
    Reply::NilArray
}
