//! INCR, DECR, INCRBY, DECRBY (one routine, Redis's `incrDecrCommand`) and INCRBYFLOAT.

use super::update_string;
use crate::commands::args::int_arg;
use crate::commands::{Args, Ctx};
use crate::db::StrEncoding;
use crate::protocol::Reply;
use crate::util::numbers::{long_double_add, parse_i64, LongDoubleError};

pub fn incr(ctx: &mut Ctx, args: Args) -> Reply {
    incr_decr(ctx, args.get(1), 1)
}

pub fn decr(ctx: &mut Ctx, args: Args) -> Reply {
    incr_decr(ctx, args.get(1), -1)
}

pub fn incrby(ctx: &mut Ctx, args: Args) -> Reply {
    match int_arg(args.get(2)) {
        Ok(n) => incr_decr(ctx, args.get(1), n),
        Err(e) => e,
    }
}

pub fn decrby(ctx: &mut Ctx, args: Args) -> Reply {
    match int_arg(args.get(2)) {
        // Its negation does not exist; Redis words this case apart.
        Ok(i64::MIN) => Reply::err("decrement would overflow"),
        Ok(n) => incr_decr(ctx, args.get(1), -n),
        Err(e) => e,
    }
}

/// Adds `delta` to the integer at `key` (0 if missing). The value must be a canonical 64-bit integer and the sum
/// must fit; the key keeps its TTL.
fn incr_decr(ctx: &mut Ctx, key: &[u8], delta: i64) -> Reply {
    let mut next = 0;
    let updated = update_string(ctx, key, StrEncoding::FromContents, |current| {
        let current = match current {
            None => 0,
            Some(s) => parse_i64(s).ok_or_else(Reply::not_integer)?,
        };
        next = current
            .checked_add(delta)
            .ok_or_else(|| Reply::err("increment or decrement would overflow"))?;
        Ok(itoa::Buffer::new().format(next).as_bytes().to_vec())
    });
    if let Err(e) = updated {
        return e;
    }
    ctx.changed(key, '$', "incrby");
    Reply::Int(next)
}

/// INCRBYFLOAT: the sum is done in C long double and printed as Redis prints it, so the text matches.
pub fn incrbyfloat(ctx: &mut Ctx, args: Args) -> Reply {
    let (key, incr) = (args.get(1), args.get(2));
    let mut text = Vec::new();
    // Redis stores the sum as a new string object: embstr (raw past 44 bytes), even when it reads as an integer.
    let updated = update_string(ctx, key, StrEncoding::Embstr, |current| {
        text = long_double_add(current.unwrap_or(b"0"), incr).map_err(|e| match e {
            LongDoubleError::Base | LongDoubleError::Increment => Reply::not_float(),
            LongDoubleError::NotFinite => Reply::err("increment would produce NaN or Infinity"),
        })?;
        Ok(text.clone())
    });
    if let Err(e) = updated {
        return e;
    }
    ctx.changed(key, '$', "incrbyfloat");
    // Replicated as the value it produced, so float arithmetic cannot differ on a replica; the TTL stays.
    ctx.propagate_as(&[b"SET", key, &text, b"KEEPTTL"]);
    Reply::Bulk(text.into())
}
