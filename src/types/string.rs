//! The string type and its commands.

use crate::commands::args::{parse_expiry, Condition, Cursor, ExpiryOption};
use crate::commands::flags::*;
use crate::commands::{Args, Command, Ctx};
use crate::db::{Entry, Value};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

/// The encoding Redis would give a string with these contents: `int` for a 64-bit integer in canonical form,
/// `embstr` up to 44 bytes, `raw` beyond.
pub fn encoding_of(s: &[u8]) -> &'static str {
    if s.len() <= 20 && parse_i64(s).is_some() {
        "int"
    } else if s.len() <= 44 {
        "embstr"
    } else {
        "raw"
    }
}

pub const COMMANDS: &[Command] = &[
    Command::new("get", 2, READONLY | FAST, get)
        .keys(1, 1, 1)
        .doc("string", "1.0.0", "Get the value of a key"),
    Command::new("incr", 2, WRITE | DENYOOM | FAST, incr)
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Increment the integer value of a key by one",
        ),
    Command::new("set", -3, WRITE | DENYOOM, set)
        .keys(1, 1, 1)
        .doc("string", "1.0.0", "Set the string value of a key"),
];

fn get(ctx: &mut Ctx, args: Args) -> Reply {
    match ctx.lookup(args.get(1)) {
        None => Reply::Nil,
        Some(Value::Str(s)) => Reply::bulk(s),
        Some(_) => Reply::wrong_type(),
    }
}

/// SET key value [NX | XX] [GET] [EX seconds | PX ms | EXAT ts | PXAT ms-ts | KEEPTTL]
fn set(ctx: &mut Ctx, args: Args) -> Reply {
    let (key, value) = (args.get(1), args.get(2));
    let mut cur = Cursor::new(args, 3);
    let mut condition = Condition::Always;
    let mut expiry = None;
    let mut get_old = false;
    while !cur.is_done() {
        if cur.eat("NX") && condition != Condition::Xx {
            condition = Condition::Nx;
        } else if cur.eat("XX") && condition != Condition::Nx {
            condition = Condition::Xx;
        } else if cur.eat("GET") {
            get_old = true;
        } else if expiry.is_none() && cur.eat("KEEPTTL") {
            expiry = Some(ExpiryOption::KeepTtl);
        } else if expiry.is_none() {
            match parse_expiry(&mut cur, ctx.keys.now(), "set") {
                Ok(Some(e)) => expiry = Some(e),
                Ok(None) => return Reply::syntax_error(),
                Err(e) => return e,
            }
        } else {
            return Reply::syntax_error();
        }
    }
    let db = ctx.db();
    let old = ctx.keys.get(db, key);
    let old_reply = match (get_old, old.map(|e| &e.value)) {
        (false, _) => None,
        (true, None) => Some(Reply::Nil),
        (true, Some(Value::Str(s))) => Some(Reply::bulk(s)),
        (true, Some(_)) => return Reply::wrong_type(),
    };
    let exists = old.is_some();
    let old_ttl = old.and_then(Entry::expire_at);
    let blocked = match condition {
        Condition::Nx => exists,
        Condition::Xx => !exists,
        _ => false,
    };
    if blocked {
        return old_reply.unwrap_or(Reply::Nil);
    }
    let mut entry = Entry::new(Value::Str(value.to_vec()));
    let ttl = match expiry {
        Some(ExpiryOption::At(at)) => Some(at),
        Some(ExpiryOption::KeepTtl) => old_ttl,
        _ => None,
    };
    ctx.keys
        .insert_entry(db, key, Entry::new(Value::Str(Vec::new())));
    entry.value = Value::Str(value.to_vec());
    ctx.keys.insert_entry(db, key, entry);
    if let Some(at) = ttl {
        ctx.keys.set_expire(db, key, Some(at));
    }
    ctx.modified(key);
    ctx.notify('$', "set", key);
    old_reply.unwrap_or(Reply::Ok)
}

fn incr(ctx: &mut Ctx, args: Args) -> Reply {
    incr_by(ctx, args.get(1), 1)
}

/// The INCR family: the current value must be a canonical 64-bit integer and the sum must not overflow.
fn incr_by(ctx: &mut Ctx, key: &[u8], delta: i64) -> Reply {
    let current = match ctx.lookup_mut(key) {
        None => 0,
        Some(Value::Str(s)) => match parse_i64(s) {
            Some(n) => n,
            None => return Reply::not_integer(),
        },
        Some(_) => return Reply::wrong_type(),
    };
    let Some(next) = current.checked_add(delta) else {
        return Reply::err("increment or decrement would overflow");
    };
    let text = itoa::Buffer::new().format(next).as_bytes().to_vec();
    match ctx.lookup_mut(key) {
        Some(Value::Str(s)) => *s = text,
        _ => {
            let db = ctx.db();
            ctx.keys.insert(db, key, Value::Str(text));
        }
    }
    ctx.modified(key);
    ctx.notify('$', "incrby", key);
    Reply::Int(next)
}
