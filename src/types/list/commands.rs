//! The non-blocking list commands, each validating all of its arguments before it changes anything.

use std::borrow::Cow;

use super::{list_mut, list_ref, move_one, pop_from, propagate_pop, push_to, shrunk, End, List};
use crate::commands::args::int_arg;
use crate::commands::{Args, Ctx, Cursor};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

pub fn lpush(ctx: &mut Ctx, args: Args) -> Reply {
    push_generic(ctx, args, End::Left, false)
}

pub fn rpush(ctx: &mut Ctx, args: Args) -> Reply {
    push_generic(ctx, args, End::Right, false)
}

pub fn lpushx(ctx: &mut Ctx, args: Args) -> Reply {
    push_generic(ctx, args, End::Left, true)
}

pub fn rpushx(ctx: &mut Ctx, args: Args) -> Reply {
    push_generic(ctx, args, End::Right, true)
}

/// [L|R]PUSH[X] key element [element ...]; the X forms do nothing to a missing key.
fn push_generic(ctx: &mut Ctx, args: Args, end: End, only_existing: bool) -> Reply {
    let items: Vec<&[u8]> = args.iter().skip(2).collect();
    match push_to(ctx, args.get(1), end, &items, only_existing) {
        Ok(len) => Reply::Int(len as i64),
        Err(e) => e,
    }
}

pub fn lpop(ctx: &mut Ctx, args: Args) -> Reply {
    pop_generic(ctx, args, End::Left)
}

pub fn rpop(ctx: &mut Ctx, args: Args) -> Reply {
    pop_generic(ctx, args, End::Right)
}

/// [L|R]POP key [count]: with a count the reply is always an array (`*-1` for a missing key).
fn pop_generic(ctx: &mut Ctx, args: Args, end: End) -> Reply {
    if args.len() > 3 {
        return Reply::wrong_arity(ctx.cmd.name);
    }
    let count = match args.len() {
        3 => match parse_i64(args.get(2)) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => return Reply::err("value is out of range, must be positive"),
        },
        _ => None,
    };
    match (pop_from(ctx, args.get(1), end, count.unwrap_or(1)), count) {
        (Err(e), _) => e,
        (Ok(None), Some(_)) => Reply::NilArray,
        (Ok(None), None) => Reply::Nil,
        (Ok(Some(items)), Some(_)) => Reply::bulks(items),
        (Ok(Some(items)), None) => Reply::bulk_or_nil(items.into_iter().next()),
    }
}

pub fn llen(ctx: &mut Ctx, args: Args) -> Reply {
    match list_ref(ctx, args.get(1)) {
        Err(e) => e,
        Ok(l) => Reply::Int(l.map_or(0, List::len) as i64),
    }
}

pub fn lrange(ctx: &mut Ctx, args: Args) -> Reply {
    let (start, stop) = match (int_arg(args.get(2)), int_arg(args.get(3))) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    match list_ref(ctx, args.get(1)) {
        Err(e) => e,
        Ok(None) => Reply::Array(Vec::new()),
        Ok(Some(l)) => match l.window(start, stop) {
            None => Reply::Array(Vec::new()),
            Some((a, b)) => Reply::bulks(l.range(a, b)),
        },
    }
}

pub fn lindex(ctx: &mut Ctx, args: Args) -> Reply {
    let list = match list_ref(ctx, args.get(1)) {
        Err(e) => return e,
        Ok(None) => return Reply::Nil,
        Ok(Some(l)) => l,
    };
    let index = match int_arg(args.get(2)) {
        Ok(i) => i,
        Err(e) => return e,
    };
    Reply::bulk_or_nil(resolve_index(list, index).and_then(|i| list.get(i)))
}

/// A Redis index (negative counts from the tail) as a position in the list, if it is in range.
fn resolve_index(list: &List, index: i64) -> Option<usize> {
    let len = list.len() as i64;
    let i = if index < 0 { index + len } else { index };
    (0..len).contains(&i).then_some(i as usize)
}

pub fn lset(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let list = match list_mut(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::no_such_key(),
        Ok(Some(l)) => l,
    };
    let index = match int_arg(args.get(2)) {
        Ok(i) => i,
        Err(e) => return e,
    };
    let Some(i) = resolve_index(list, index) else {
        return Reply::out_of_range();
    };
    list.set(i, args.get(3));
    ctx.changed(key, 'l', "lset");
    Reply::Ok
}

pub fn linsert(ctx: &mut Ctx, args: Args) -> Reply {
    let after = if args.get(2).eq_ignore_ascii_case(b"after") {
        true
    } else if args.get(2).eq_ignore_ascii_case(b"before") {
        false
    } else {
        return Reply::syntax_error();
    };
    let key = args.get(1);
    let list = match list_mut(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Int(0),
        Ok(Some(l)) => l,
    };
    let (pivot, element) = (args.get(3), args.get(4));
    let Some(at) = list.iter().position(|e| e == pivot) else {
        return Reply::Int(-1);
    };
    list.insert(at, element, after);
    let len = list.len();
    ctx.changed(key, 'l', "linsert");
    Reply::Int(len as i64)
}

/// LREM key count element: count > 0 removes from the head, < 0 from the tail, 0 removes all.
pub fn lrem(ctx: &mut Ctx, args: Args) -> Reply {
    let count = match int_arg(args.get(2)) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let key = args.get(1);
    let list = match list_mut(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Int(0),
        Ok(Some(l)) => l,
    };
    let element = args.get(3);
    let limit = if count == 0 {
        usize::MAX
    } else {
        count.unsigned_abs().try_into().unwrap_or(usize::MAX)
    };
    let len = list.len();
    let is_match = |(_, e): &(usize, Cow<[u8]>)| *e == element;
    let mut doomed: Vec<usize> = if count < 0 {
        let from_tail = list.iter().rev().enumerate().filter(is_match);
        from_tail.map(|(i, _)| len - 1 - i).take(limit).collect()
    } else {
        let from_head = list.iter().enumerate().filter(is_match);
        from_head.map(|(i, _)| i).take(limit).collect()
    };
    if doomed.is_empty() {
        return Reply::Int(0);
    }
    doomed.sort_unstable();
    let removed = doomed.len();
    let (mut index, mut next) = (0, doomed.into_iter().peekable());
    list.retain(|_, _| {
        let drop_it = next.next_if_eq(&index).is_some();
        index += 1;
        !drop_it
    });
    let now_empty = list.is_empty();
    shrunk(ctx, key, "lrem", now_empty, removed);
    Reply::Int(removed as i64)
}

pub fn ltrim(ctx: &mut Ctx, args: Args) -> Reply {
    let (start, stop) = match (int_arg(args.get(2)), int_arg(args.get(3))) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let key = args.get(1);
    let list = match list_mut(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Ok,
        Ok(Some(l)) => l,
    };
    let before = list.len();
    match list.window(start, stop) {
        None => list.remove_range(0, before),
        Some((a, b)) => {
            list.remove_range(b + 1, before - (b + 1));
            list.remove_range(0, a);
        }
    }
    let (now_empty, removed) = (list.is_empty(), before - list.len());
    shrunk(ctx, key, "ltrim", now_empty, removed);
    Reply::Ok
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
pub fn lpos(ctx: &mut Ctx, args: Args) -> Reply {
    let mut rank: i64 = 1;
    let mut count: Option<i64> = None;
    let mut maxlen: i64 = 0;
    let mut cur = Cursor::new(args, 3);
    while let Some(opt) = cur.next_arg() {
        let has_value = !cur.is_done();
        let nonneg = |cur: &mut Cursor, msg: &str| match cur.next_arg().and_then(parse_i64) {
            Some(n) if n >= 0 => Ok(n),
            _ => Err(Reply::err(msg)),
        };
        let parsed = if opt.eq_ignore_ascii_case(b"RANK") && has_value {
            cur.int().and_then(|r| {
                if r == 0 {
                    Err(Reply::err(
                        "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or \
                         use negative to start from the end of the list",
                    ))
                } else {
                    rank = r;
                    Ok(())
                }
            })
        } else if opt.eq_ignore_ascii_case(b"COUNT") && has_value {
            nonneg(&mut cur, "COUNT can't be negative").map(|n| count = Some(n))
        } else if opt.eq_ignore_ascii_case(b"MAXLEN") && has_value {
            nonneg(&mut cur, "MAXLEN can't be negative").map(|n| maxlen = n)
        } else {
            Err(Reply::syntax_error())
        };
        if let Err(e) = parsed {
            return e;
        }
    }
    let list = match list_ref(ctx, args.get(1)) {
        Err(e) => return e,
        Ok(None) if count.is_some() => return Reply::Array(Vec::new()),
        Ok(None) => return Reply::Nil,
        Ok(Some(l)) => l,
    };
    let element = args.get(2);
    // As Redis: a negative rank searches from the tail; C's -LONG_MIN stays negative, so every match qualifies.
    let from_tail = rank < 0;
    let rank = if from_tail { rank.wrapping_neg() } else { rank };
    let len = list.len();
    let mut found = Vec::new();
    let mut matches: i64 = 0;
    let walk: Box<dyn Iterator<Item = Cow<[u8]>>> = if from_tail {
        Box::new(list.iter().rev())
    } else {
        Box::new(list.iter())
    };
    for (step, item) in walk.enumerate() {
        if maxlen != 0 && step as i64 >= maxlen {
            break;
        }
        let index = if from_tail { len - 1 - step } else { step };
        if item != element {
            continue;
        }
        matches += 1;
        if matches >= rank {
            found.push(Reply::Int(index as i64));
            match count {
                None => break,
                // Wrapping as C's long arithmetic does for that same LONG_MIN rank.
                Some(c) if c != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= c => break,
                _ => {}
            }
        }
    }
    match count {
        Some(_) => Reply::Array(found),
        None => found.pop().unwrap_or(Reply::Nil),
    }
}

pub fn lmove(ctx: &mut Ctx, args: Args) -> Reply {
    match (End::parse(args.get(3)), End::parse(args.get(4))) {
        (Ok(from), Ok(to)) => lmove_generic(ctx, args.get(1), args.get(2), from, to),
        (Err(e), _) | (_, Err(e)) => e,
    }
}

pub fn rpoplpush(ctx: &mut Ctx, args: Args) -> Reply {
    lmove_generic(ctx, args.get(1), args.get(2), End::Right, End::Left)
}

/// LMOVE after argument parsing: nil for a missing source, WRONGTYPE for either key holding another type.
pub(super) fn lmove_generic(ctx: &mut Ctx, src: &[u8], dst: &[u8], from: End, to: End) -> Reply {
    match list_mut(ctx, src) {
        Err(e) => e,
        Ok(None) => Reply::Nil,
        Ok(Some(_)) => move_one(ctx, src, dst, from, to),
    }
}

/// LMPOP's and BLMPOP's arguments after the timeout: numkeys, the keys, LEFT|RIGHT, [COUNT count].
pub(super) struct MpopArgs<'a> {
    pub keys: Vec<&'a [u8]>,
    pub end: End,
    pub count: usize,
}

/// Parses from `numkeys_at` as Redis's `lmpopGenericCommand`, with its error texts and order.
pub(super) fn parse_mpop<'a>(args: Args<'a>, numkeys_at: usize) -> Result<MpopArgs<'a>, Reply> {
    let numkeys = match parse_i64(args.get(numkeys_at)) {
        Some(n) if n > 0 => n as usize,
        _ => return Err(Reply::err("numkeys should be greater than 0")),
    };
    let where_at = numkeys_at.saturating_add(numkeys).saturating_add(1);
    if where_at >= args.len() {
        return Err(Reply::syntax_error());
    }
    let end = End::parse(args.get(where_at))?;
    let mut count = None;
    let mut cur = Cursor::new(args, where_at + 1);
    while !cur.is_done() {
        if count.is_none() && cur.remaining() >= 2 && cur.eat("COUNT") {
            match cur.next_arg().and_then(parse_i64) {
                Some(n) if n > 0 => count = Some(n as usize),
                _ => return Err(Reply::err("count should be greater than 0")),
            }
        } else {
            return Err(Reply::syntax_error());
        }
    }
    Ok(MpopArgs {
        keys: (numkeys_at + 1..where_at).map(|i| args.get(i)).collect(),
        end,
        count: count.unwrap_or(1),
    })
}

/// Pops from the first non-empty list of `keys`: `Ok(None)` if all are empty, WRONGTYPE on the first
/// non-list key met before one with data.
pub(super) fn mpop_first(
    ctx: &mut Ctx,
    keys: &[&[u8]],
    end: End,
    count: usize,
) -> Result<Option<Reply>, Reply> {
    for key in keys {
        if let Some(items) = pop_from(ctx, key, end, count)? {
            propagate_pop(ctx, key, end, Some(items.len()));
            return Ok(Some(Reply::Array(vec![
                Reply::bulk(key),
                Reply::bulks(items),
            ])));
        }
    }
    Ok(None)
}

pub fn lmpop(ctx: &mut Ctx, args: Args) -> Reply {
    let parsed = match parse_mpop(args, 1) {
        Ok(p) => p,
        Err(e) => return e,
    };
    match mpop_first(ctx, &parsed.keys, parsed.end, parsed.count) {
        Ok(Some(reply)) => reply,
        Ok(None) => Reply::NilArray,
        Err(e) => e,
    }
}
