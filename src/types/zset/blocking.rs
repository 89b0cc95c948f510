//! BZPOPMIN, BZPOPMAX and BZMPOP: the non-blocking pop first, then a waiter in `crate::blocking` that pops for
//! the client when one of its keys gets members.

use super::popping::{
    mpop_keys, mpop_reply, parse_mpop, pop, pop_first, propagate_pop, Mpop, Popped,
};
use crate::blocking::{self, Request, Serve, Unit};
use crate::commands::transaction::in_exec;
use crate::commands::{Args, Ctx};
use crate::db::Value;
use crate::protocol::Reply;

/// What a blocked client pops from the first of its keys that gets members.
struct ZPopWaiter {
    max: bool,
    /// BZMPOP's count and reply shape; `None` for BZPOPMIN/BZPOPMAX.
    multi: Option<usize>,
}

impl Request for ZPopWaiter {
    fn serve(&self, ctx: &mut Ctx, key: &[u8]) -> Serve {
        match ctx.lookup(key) {
            Some(Value::ZSet(z)) if !z.is_empty() => {}
            // Gone or replaced by another type: nothing for anyone queued behind either.
            _ => return Serve::Stop,
        }
        match pop(ctx, key, self.max, self.multi.unwrap_or(1)) {
            Ok(popped) => {
                propagate_pop(ctx, key, self.max, self.multi.map(|_| popped.len()));
                Serve::Served(self.reply(key, popped))
            }
            Err(e) => Serve::Served(e),
        }
    }
}

impl ZPopWaiter {
    fn reply(&self, key: &[u8], popped: Popped) -> Reply {
        match self.multi {
            Some(_) => mpop_reply(key, popped),
            None => {
                let mut out = vec![Reply::bulk(key)];
                for (m, s) in popped {
                    out.push(Reply::Bulk(m.into()));
                    out.push(Reply::Double(s));
                }
                Reply::Array(out)
            }
        }
    }
}

pub fn bzpopmin(ctx: &mut Ctx, args: Args) -> Reply {
    bzpop(ctx, args, false)
}

pub fn bzpopmax(ctx: &mut Ctx, args: Args) -> Reply {
    bzpop(ctx, args, true)
}

/// BZPOPMIN|BZPOPMAX key [key ...] timeout: `[key, member, score]`.
fn bzpop(ctx: &mut Ctx, args: Args, max: bool) -> Reply {
    let timeout = match blocking::parse_timeout(args.get(args.len() - 1), Unit::Seconds) {
        Ok(t) => t,
        Err(e) => return e,
    };
    let keys: Vec<&[u8]> = (1..args.len() - 1).map(|i| args.get(i)).collect();
    block_or_pop(ctx, keys, timeout, ZPopWaiter { max, multi: None })
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]: the timeout is checked after the rest, as Redis.
pub fn bzmpop(ctx: &mut Ctx, args: Args) -> Reply {
    let Mpop { keys, max, count } = match parse_mpop(args, 2) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let timeout = match blocking::parse_timeout(args.get(1), Unit::Seconds) {
        Ok(t) => t,
        Err(e) => return e,
    };
    block_or_pop(
        ctx,
        keys,
        timeout,
        ZPopWaiter {
            max,
            multi: Some(count),
        },
    )
}

/// Pops at once from the first non-empty key, or (outside a transaction, where Redis answers a null array)
/// blocks the client on all of them.
fn block_or_pop(
    ctx: &mut Ctx,
    keys: Vec<&[u8]>,
    timeout: Option<std::time::Duration>,
    waiter: ZPopWaiter,
) -> Reply {
    match pop_first(ctx, &keys, waiter.max, waiter.multi.unwrap_or(1)) {
        Err(e) => e,
        Ok(Some((key, popped))) => {
            propagate_pop(ctx, &key, waiter.max, waiter.multi.map(|_| popped.len()));
            waiter.reply(&key, popped)
        }
        Ok(None) if in_exec(ctx.client) => Reply::NilArray,
        Ok(None) => blocking::block(
            ctx,
            keys.iter().map(|k| k.to_vec()).collect(),
            timeout,
            waiter,
        ),
    }
}

pub fn bzmpop_keys(args: Args) -> Vec<usize> {
    mpop_keys(args, 2)
}
