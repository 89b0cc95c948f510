//! BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP: the non-blocking path first, then a waiter in `crate::blocking`.

use super::commands::{mpop_first, parse_mpop};
use super::{list_mut, move_one, pop_from, propagate_pop, End};
use crate::blocking::{self, Request, Serve, Unit};
use crate::commands::transaction::in_exec;
use crate::commands::{Args, Ctx};
use crate::protocol::Reply;

/// What a blocked list client does with the first list that gets data.
struct ListWaiter {
    from: End,
    kind: Kind,
}

enum Kind {
    /// BLPOP/BRPOP: `[key, element]`.
    Pop,
    /// BLMPOP: `[key, [element...]]`, up to this many.
    MultiPop(usize),
    /// BLMOVE/BRPOPLPUSH: the element, pushed to `dst` first.
    Move { dst: Vec<u8>, to: End },
}

impl Request for ListWaiter {
    fn serve(&self, ctx: &mut Ctx, key: &[u8]) -> Serve {
        match list_mut(ctx, key) {
            Ok(Some(list)) if !list.is_empty() => {}
            // Gone or replaced by another type: nothing for anyone queued behind either.
            _ => return Serve::Stop,
        }
        Serve::Served(match &self.kind {
            Kind::Pop => pop_reply(ctx, key, self.from, None),
            Kind::MultiPop(count) => pop_reply(ctx, key, self.from, Some(*count)),
            // A destination of another type answers WRONGTYPE and moves nothing, as Redis does.
            Kind::Move { dst, to } => {
                let reply = move_one(ctx, key, dst, self.from, *to);
                if matches!(reply, Reply::Bulk(_)) {
                    // Replicated with the ends spelled out, or as RPOPLPUSH for a BRPOPLPUSH.
                    if ctx.cmd.name == "brpoplpush" {
                        ctx.propagate_as(&[b"RPOPLPUSH", key, dst]);
                    } else {
                        ctx.propagate_as(&[b"LMOVE", key, dst, self.from.name(), to.name()]);
                    }
                }
                reply
            }
        })
    }

    fn extra_keys(&self) -> &[Vec<u8>] {
        match &self.kind {
            Kind::Move { dst, .. } => std::slice::from_ref(dst),
            _ => &[],
        }
    }
}

/// Pops from a list known to exist: `[key, element]`, or with a count (BLMPOP) `[key, [element...]]`.
fn pop_reply(ctx: &mut Ctx, key: &[u8], end: End, count: Option<usize>) -> Reply {
    let items = match pop_from(ctx, key, end, count.unwrap_or(1)) {
        Ok(items) => items.unwrap_or_default(),
        Err(e) => return e,
    };
    propagate_pop(ctx, key, end, count.map(|_| items.len()));
    let popped = match count {
        Some(_) => Reply::bulks(items),
        None => Reply::bulk_or_nil(items.into_iter().next()),
    };
    Reply::Array(vec![Reply::bulk(key), popped])
}

pub fn blpop(ctx: &mut Ctx, args: Args) -> Reply {
    bpop_generic(ctx, args, End::Left)
}

pub fn brpop(ctx: &mut Ctx, args: Args) -> Reply {
    bpop_generic(ctx, args, End::Right)
}

/// B[L|R]POP key [key ...] timeout
fn bpop_generic(ctx: &mut Ctx, args: Args, end: End) -> Reply {
    let timeout = match blocking::parse_timeout(args.get(args.len() - 1), Unit::Seconds) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let keys: Vec<&[u8]> = (1..args.len() - 1).map(|i| args.get(i)).collect();
    for key in &keys {
        match list_mut(ctx, key) {
            Err(e) => return e,
            Ok(None) => continue,
            Ok(Some(_)) => return pop_reply(ctx, key, end, None),
        }
    }
    if in_exec(ctx.client) {
        return Reply::NilArray;
    }
    let waiter = ListWaiter {
        from: end,
        kind: Kind::Pop,
    };
    blocking::block(ctx, owned(&keys), timeout, waiter)
}

pub fn blmove(ctx: &mut Ctx, args: Args) -> Reply {
    match (End::parse(args.get(3)), End::parse(args.get(4))) {
        (Ok(from), Ok(to)) => blmove_generic(ctx, args, from, to, 5),
        (Err(e), _) | (_, Err(e)) => e,
    }
}

pub fn brpoplpush(ctx: &mut Ctx, args: Args) -> Reply {
    blmove_generic(ctx, args, End::Right, End::Left, 3)
}

fn blmove_generic(ctx: &mut Ctx, args: Args, from: End, to: End, timeout_at: usize) -> Reply {
    let timeout = match blocking::parse_timeout(args.get(timeout_at), Unit::Seconds) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let (src, dst) = (args.get(1), args.get(2));
    let exists = match list_mut(ctx, src) {
        Err(e) => return e,
        Ok(l) => l.is_some(),
    };
    match exists {
        true => {
            let reply = move_one(ctx, src, dst, from, to);
            // Replicated as the non-blocking command.
            if ctx.cmd.name == "brpoplpush" {
                ctx.propagate_as(&[b"RPOPLPUSH", src, dst]);
            } else {
                ctx.propagate_as(&[b"LMOVE", src, dst, args.get(3), args.get(4)]);
            }
            reply
        }
        // Redis answers a plain nil here, not the null array of a timeout.
        false if in_exec(ctx.client) => Reply::Nil,
        false => {
            let waiter = ListWaiter {
                from,
                kind: Kind::Move {
                    dst: dst.to_vec(),
                    to,
                },
            };
            blocking::block(ctx, vec![src.to_vec()], timeout, waiter)
        }
    }
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]: the timeout is checked after the rest.
pub fn blmpop(ctx: &mut Ctx, args: Args) -> Reply {
    let parsed = match parse_mpop(args, 2) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let timeout = match blocking::parse_timeout(args.get(1), Unit::Seconds) {
        Ok(t) => t,
        Err(e) => return e,
    };
    match mpop_first(ctx, &parsed.keys, parsed.end, parsed.count) {
        Ok(Some(reply)) => reply,
        Err(e) => e,
        Ok(None) if in_exec(ctx.client) => Reply::NilArray,
        Ok(None) => {
            let waiter = ListWaiter {
                from: parsed.end,
                kind: Kind::MultiPop(parsed.count),
            };
            blocking::block(ctx, owned(&parsed.keys), timeout, waiter)
        }
    }
}

fn owned(keys: &[&[u8]]) -> Vec<Vec<u8>> {
    keys.iter().map(|k| k.to_vec()).collect()
}
