//! INCR, DECR, INCRBY, DECRBY (one routine, Redis's `incrDecrCommand`) and INCRBYFLOAT.

use super::{as_string, put_string};
use crate::commands::args::int_arg;
use crate::commands::{Args, Ctx};
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
    let current = match ctx.lookup_mut(key) {
        None => 0,
        Some(v) => match as_string(v).map(|s| parse_i64(s)) {
            Ok(Some(n)) => n,
            Ok(None) => return Reply::not_integer(),
            Err(e) => return e,
        },
    };
    let Some(next) = current.checked_add(delta) else {
        return Reply::err("increment or decrement would overflow");
    };
    put_string(
        ctx,
        key,
        itoa::Buffer::new().format(next).as_bytes().to_vec(),
    );
    ctx.notify('$', "incrby", key);
    Reply::Int(next)
}

/// INCRBYFLOAT: the sum is done in C long double and printed as Redis prints it, so the text matches.
pub fn incrbyfloat(ctx: &mut Ctx, args: Args) -> Reply {
    let (key, incr) = (args.get(1), args.get(2));
    let sum = match ctx.lookup_mut(key) {
        None => long_double_add(b"0", incr),
        Some(v) => match as_string(v) {
            Ok(s) => long_double_add(s, incr),
            Err(e) => return e,
        },
    };
    let text = match sum {
        Ok(text) => text,
        Err(LongDoubleError::Base | LongDoubleError::Increment) => return Reply::not_float(),
        Err(LongDoubleError::NotFinite) => {
            return Reply::err("increment would produce NaN or Infinity")
        }
    };
    put_string(ctx, key, text.clone());
    ctx.notify('$', "incrbyfloat", key);
    Reply::Bulk(text)
}
