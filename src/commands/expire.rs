//! Key expiry commands: EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT (one routine, Redis's `expireGenericCommand`),
//! TTL / PTTL / EXPIRETIME / PEXPIRETIME (one routine, `ttlGenericCommand`), PERSIST.

use super::flags::*;
use super::{Args, Command, Ctx};
use crate::commands::keyspec::prelude::*;
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

pub const COMMANDS: &[Command] = &[
    Command::new("expire", -3, WRITE | FAST, expire)
        .key_specs(&[ks(RW | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("generic", "1.0.0", "Set a key's time to live in seconds")
        .complexity("O(1)"),
    Command::new("pexpire", -3, WRITE | FAST, pexpire)
        .key_specs(&[ks(RW | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "generic",
            "2.6.0",
            "Set a key's time to live in milliseconds",
        )
        .complexity("O(1)"),
    Command::new("expireat", -3, WRITE | FAST, expireat)
        .key_specs(&[ks(RW | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "generic",
            "1.2.0",
            "Set the expiration for a key as a UNIX timestamp",
        )
        .complexity("O(1)"),
    Command::new("pexpireat", -3, WRITE | FAST, pexpireat)
        .key_specs(&[ks(RW | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "generic",
            "2.6.0",
            "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
        )
        .complexity("O(1)"),
    Command::new("ttl", 2, READONLY | FAST, ttl)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "generic",
            "1.0.0",
            "Get the time to live for a key in seconds",
        )
        .complexity("O(1)"),
    Command::new("pttl", 2, READONLY | FAST, pttl)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "generic",
            "2.6.0",
            "Get the time to live for a key in milliseconds",
        )
        .complexity("O(1)"),
    Command::new("expiretime", 2, READONLY | FAST, expiretime)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "generic",
            "7.0.0",
            "Get the expiration Unix timestamp for a key",
        )
        .complexity("O(1)"),
    Command::new("pexpiretime", 2, READONLY | FAST, pexpiretime)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "generic",
            "7.0.0",
            "Get the expiration Unix timestamp for a key in milliseconds",
        )
        .complexity("O(1)"),
    Command::new("persist", 2, WRITE | FAST, persist)
        .key_specs(&[ks(RW | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("generic", "2.2.0", "Remove the expiration from a key")
        .complexity("O(1)"),
];

fn expire(ctx: &mut Ctx, args: Args) -> Reply {
    let now = ctx.keys.now();
    expire_generic(ctx, args, now, true)
}

fn pexpire(ctx: &mut Ctx, args: Args) -> Reply {
    let now = ctx.keys.now();
    expire_generic(ctx, args, now, false)
}

fn expireat(ctx: &mut Ctx, args: Args) -> Reply {
    expire_generic(ctx, args, 0, true)
}

fn pexpireat(ctx: &mut Ctx, args: Args) -> Reply {
    expire_generic(ctx, args, 0, false)
}

/// The NX / XX / GT / LT switches of the EXPIRE family.
#[derive(Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireFlags {
    /// Redis's `parseExtendedExpireArgumentsOrReply`.
    fn parse(args: Args) -> Result<Self, Reply> {
        let mut f = ExpireFlags::default();
        for opt in args.iter().skip(3) {
            let is = |k: &str| opt.eq_ignore_ascii_case(k.as_bytes());
            if is("NX") {
                f.nx = true;
            } else if is("XX") {
                f.xx = true;
            } else if is("GT") {
                f.gt = true;
            } else if is("LT") {
                f.lt = true;
            } else {
                let shown = opt.split(|&b| b == 0).next().unwrap_or_default();
                return Err(Reply::err(&format!(
                    "Unsupported option {}",
                    String::from_utf8_lossy(shown)
                )));
            }
        }
        if f.nx && (f.xx || f.gt || f.lt) {
            return Err(Reply::err(
                "NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if f.gt && f.lt {
            return Err(Reply::err(
                "GT and LT options at the same time are not compatible",
            ));
        }
        Ok(f)
    }

    /// Whether the condition lets a key whose deadline is `current` get the deadline `when`. No TTL counts as
    /// infinite: GT never beats it, LT always does.
    fn allows(&self, current: Option<i64>, when: i64) -> bool {
        match current {
            Some(cur) => !(self.nx || (self.gt && when <= cur) || (self.lt && when >= cur)),
            None => !self.xx && !self.gt,
        }
    }
}

/// Redis's `expireGenericCommand`: `basetime` is now for the relative forms, 0 for the absolute ones. A
/// deadline already past deletes the key (and still answers 1), except while loading or on a replica.
fn expire_generic(ctx: &mut Ctx, args: Args, basetime: i64, seconds: bool) -> Reply {
    let key = args.get(1);
    let flags = match ExpireFlags::parse(args) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let Some(mut when) = parse_i64(args.get(2)) else {
        return Reply::not_integer();
    };
    let invalid = || ctx.err_for_command("invalid expire time in '{}' command");
    if seconds {
        match when.checked_mul(1000) {
            Some(ms) => when = ms,
            None => return invalid(),
        }
    }
    match when.checked_add(basetime) {
        Some(at) => when = at,
        None => return invalid(),
    }
    let db = ctx.db();
    if ctx.keys.get_mut(db, key).is_none() {
        return Reply::Int(0);
    }
    if !flags.allows(ctx.keys.expire_at(db, key), when) {
        return Reply::Int(0);
    }
    // Redis's `checkAlreadyExpired`: a deadline in the past deletes the key, but not while loading (AOF replay)
    // nor on a replica, which keep the key with its past deadline and wait for an explicit DEL.
    let past =
        when <= ctx.keys.now() && !ctx.server.persist.loading() && !ctx.server.repl.is_replica();
    if past {
        ctx.delete(key);
        ctx.changed(key, 'g', "del");
        if ctx.feeding() {
            let del = crate::effects::deletion(&ctx.server.config, "lazyfree-lazy-expire");
            ctx.propagate_as(&[del, key]);
        }
    } else {
        ctx.keys.set_expire(db, key, Some(when));
        ctx.changed(key, 'g', "expire");
        if ctx.feeding() {
            propagate_expire_at(ctx, args, when);
        }
    }
    Reply::Int(1)
}

/// An EXPIRE family command's effect, as Redis 7.0's: `PEXPIREAT key <absolute ms>` with the command's flags
/// (`NX`, `GT`, ...) kept; a PEXPIREAT is its own effect.
fn propagate_expire_at(ctx: &mut Ctx, args: Args, at: i64) {
    if ctx.cmd.name != "pexpireat" {
        let mut num = itoa::Buffer::new();
        let mut out: Vec<&[u8]> = (0..args.len()).map(|i| args.get(i)).collect();
        out[0] = b"PEXPIREAT";
        out[2] = num.format(at).as_bytes();
        ctx.propagate_as(&out);
    }
}

fn ttl(ctx: &mut Ctx, args: Args) -> Reply {
    ttl_generic(ctx, args, false, false)
}

fn pttl(ctx: &mut Ctx, args: Args) -> Reply {
    ttl_generic(ctx, args, true, false)
}

fn expiretime(ctx: &mut Ctx, args: Args) -> Reply {
    ttl_generic(ctx, args, false, true)
}

fn pexpiretime(ctx: &mut Ctx, args: Args) -> Reply {
    ttl_generic(ctx, args, true, true)
}

/// -2 for no key, -1 for no TTL; else the time left (or the deadline, `absolute`), rounded to seconds unless `ms`.
fn ttl_generic(ctx: &mut Ctx, args: Args, ms: bool, absolute: bool) -> Reply {
    if ctx.peek_entry(args.get(1)).is_none() {
        return Reply::Int(-2);
    }
    let Some(at) = ctx.keys.expire_at(ctx.db(), args.get(1)) else {
        return Reply::Int(-1);
    };
    let t = if absolute { at } else { at - ctx.keys.now() }.max(0);
    // Rounded in unsigned arithmetic, as Redis's compiled code does: a deadline near i64::MAX must not overflow.
    Reply::Int(if ms {
        t
    } else {
        ((t as u64 + 500) / 1000) as i64
    })
}

fn persist(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let db = ctx.db();
    if ctx.keys.get_mut(db, key).is_none() || ctx.keys.expire_at(db, key).is_none() {
        return Reply::Int(0);
    }
    ctx.keys.set_expire(db, key, None);
    ctx.changed(key, 'g', "persist");
    Reply::Int(1)
}
