//! GET and SET, and the commands that are SET with some switches fixed (Redis's `setGenericCommand`): SETNX,
//! SETEX, PSETEX, GETSET; MSET and MSETNX; GETEX, GETDEL, MGET.

use crate::commands::args::{Cursor, ExpireUnit};
use crate::commands::{Args, Ctx};
use crate::db::{Entry, StrValue, Value};
use crate::effects::Change;
use crate::protocol::Reply;

/// SET's switches (Redis's `OBJ_SET_*` / `OBJ_EX...` flags). The expire time stays raw until every option has
/// parsed, because Redis reports a syntax error before a bad time.
#[derive(Default, Clone, Copy)]
struct SetFlags<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    expire: Option<(ExpireUnit, &'a [u8])>,
}

impl<'a> SetFlags<'a> {
    fn expire(unit: ExpireUnit, raw: &'a [u8]) -> Self {
        SetFlags {
            expire: Some((unit, raw)),
            ..Self::default()
        }
    }

    /// Redis's `parseExtendedStringArgumentsOrReply`. SET takes NX XX GET KEEPTTL and the expire options; GETEX
    /// takes PERSIST and the expire options. An option that contradicts an earlier one is a syntax error, the
    /// same option twice is not.
    fn parse(args: Args<'a>, start: usize, for_set: bool) -> Result<Self, Reply> {
        let mut f = SetFlags::default();
        let mut cur = Cursor::new(args, start);
        while let Some(opt) = cur.next_arg() {
            let is = |k: &str| opt.eq_ignore_ascii_case(k.as_bytes());
            let unit = ExpireUnit::KEYWORDS
                .iter()
                .position(|k| is(k))
                .map(ExpireUnit::from_index);
            if for_set && is("NX") && !f.xx {
                f.nx = true;
            } else if for_set && is("XX") && !f.nx {
                f.xx = true;
            } else if for_set && is("GET") {
                f.get = true;
            } else if for_set && is("KEEPTTL") && !f.persist && f.expire.is_none() {
                f.keep_ttl = true;
            } else if !for_set && is("PERSIST") && !f.keep_ttl && f.expire.is_none() {
                f.persist = true;
            } else if let Some(unit) = unit.filter(|&u| {
                !f.keep_ttl
                    && !f.persist
                    && f.expire.is_none_or(|(prev, _)| prev == u)
                    && !cur.is_done()
            }) {
                f.expire = Some((unit, cur.value()?));
            } else {
                return Err(Reply::syntax_error());
            }
        }
        Ok(f)
    }

    /// The absolute deadline the expire option asks for, validated as Redis does.
    fn deadline(&self, ctx: &Ctx) -> Result<Option<i64>, Reply> {
        self.expire
            .map(|(unit, raw)| unit.deadline(raw, ctx.keys.now(), ctx.cmd.name))
            .transpose()
    }
}

/// Redis's `setGenericCommand`. `ok` is the reply when the value is stored, `aborted` when NX/XX prevents it
/// (SETNX answers 1 and 0 where SET answers OK and nil); with GET the old value is the reply either way.
fn set_generic(
    ctx: &mut Ctx,
    key: &[u8],
    value: &[u8],
    flags: SetFlags,
    ok: Reply,
    aborted: Reply,
) -> Reply {
    let deadline = match flags.deadline(ctx) {
        Ok(d) => d,
        Err(e) => return e,
    };
    let db = ctx.db();
    // With GET this is a read, counted in keyspace_hits/misses as Redis counts it. A plain SET needs no lookup.
    let old = if flags.get {
        ctx.lookup_entry(key)
    } else if flags.nx || flags.xx || flags.keep_ttl {
        ctx.keys.get(db, key)
    } else {
        None
    };
    let old_reply = match (flags.get, old) {
        (false, _) => None,
        (true, None) => Some(Reply::Nil),
        (true, Some(e)) => match e.value.as_str() {
            Ok(s) => Some(Reply::bulk(s)),
            Err(e) => return e,
        },
    };
    let found = old.is_some();
    if (flags.nx && found) || (flags.xx && !found) {
        return old_reply.unwrap_or(aborted);
    }
    let ttl = if !flags.keep_ttl {
        deadline
    } else if found {
        ctx.keys.expire_at(db, key)
    } else {
        None
    };
    let entry = Entry::new(Value::Str(StrValue::from_slice(value)));
    ctx.keys.insert_entry_at(db, key, entry, ttl);
    ctx.changed(key, '$', "set");
    if let Some(at) = deadline {
        ctx.report(key, Change::event_only('g', "expire"));
        // Replicated with an absolute deadline (and without NX, XX, GET), as Redis does.
        if ctx.feeding() {
            let mut ms = itoa::Buffer::new();
            ctx.propagate_as(&[b"SET", key, value, b"PXAT", ms.format(at).as_bytes()]);
        }
    }
    old_reply.unwrap_or(ok)
}

pub fn get(ctx: &mut Ctx, args: Args) -> Reply {
    match ctx.lookup(args.get(1)) {
        None => Reply::Nil,
        Some(v) => v.as_str().map_or_else(|e| e, Reply::bulk),
    }
}

/// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ms-ts | KEEPTTL]
pub fn set(ctx: &mut Ctx, args: Args) -> Reply {
    let flags = match SetFlags::parse(args, 3, true) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let (get, expire) = (flags.get, flags.expire.is_some());
    let reply = set_generic(ctx, args.get(1), args.get(2), flags, Reply::Ok, Reply::Nil);
    // Replicated without GET, which a replica has no use for (with an expiry it was rewritten already).
    if get && !expire && ctx.feeding() {
        let kept: Vec<&[u8]> = (0..args.len())
            .map(|i| args.get(i))
            .enumerate()
            .filter(|(i, a)| *i < 3 || !a.eq_ignore_ascii_case(b"get"))
            .map(|(_, a)| a)
            .collect();
        ctx.propagate_as(&kept);
    }
    reply
}

pub fn setnx(ctx: &mut Ctx, args: Args) -> Reply {
    let flags = SetFlags {
        nx: true,
        ..SetFlags::default()
    };
    set_generic(
        ctx,
        args.get(1),
        args.get(2),
        flags,
        Reply::Int(1),
        Reply::Int(0),
    )
}

pub fn setex(ctx: &mut Ctx, args: Args) -> Reply {
    let flags = SetFlags::expire(ExpireUnit::Ex, args.get(2));
    set_generic(ctx, args.get(1), args.get(3), flags, Reply::Ok, Reply::Nil)
}

pub fn psetex(ctx: &mut Ctx, args: Args) -> Reply {
    let flags = SetFlags::expire(ExpireUnit::Px, args.get(2));
    set_generic(ctx, args.get(1), args.get(3), flags, Reply::Ok, Reply::Nil)
}

pub fn getset(ctx: &mut Ctx, args: Args) -> Reply {
    let flags = SetFlags {
        get: true,
        ..SetFlags::default()
    };
    let reply = set_generic(ctx, args.get(1), args.get(2), flags, Reply::Ok, Reply::Nil);
    ctx.propagate_as(&[b"SET", args.get(1), args.get(2)]);
    reply
}

/// GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST]: as Redis, a missing key or wrong type is
/// reported before a bad time; an absolute deadline already past deletes the key.
pub fn getex(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let flags = match SetFlags::parse(args, 2, false) {
        Ok(f) => f,
        Err(e) => return e,
    };
    let value = match ctx.lookup(key) {
        None => return Reply::Nil,
        Some(v) => match v.as_str() {
            Ok(s) => Reply::bulk(s),
            Err(e) => return e,
        },
    };
    let deadline = match flags.deadline(ctx) {
        Ok(d) => d,
        Err(e) => return e,
    };
    let db = ctx.db();
    if let Some(at) = deadline {
        if at <= ctx.keys.now() {
            ctx.delete(key);
            ctx.changed(key, 'g', "del");
            if ctx.feeding() {
                let del = crate::effects::deletion(&ctx.server.config, "lazyfree-lazy-expire");
                ctx.propagate_as(&[del, key]);
            }
        } else {
            ctx.keys.set_expire(db, key, Some(at));
            ctx.changed(key, 'g', "expire");
            if ctx.feeding() {
                let mut ms = itoa::Buffer::new();
                ctx.propagate_as(&[b"PEXPIREAT", key, ms.format(at).as_bytes()]);
            }
        }
    } else if flags.persist
        && ctx.keys.get(db, key).is_some()
        && ctx.keys.expire_at(db, key).is_some()
    {
        ctx.keys.set_expire(db, key, None);
        ctx.changed(key, 'g', "persist");
        ctx.propagate_as(&[b"PERSIST", key]);
    }
    value
}

pub fn getdel(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let value = match ctx.lookup(key) {
        None => return Reply::Nil,
        Some(v) => match v.as_str() {
            Ok(s) => Reply::bulk(s),
            Err(e) => return e,
        },
    };
    ctx.delete(key);
    ctx.changed(key, 'g', "del");
    let del = crate::effects::deletion(&ctx.server.config, "lazyfree-lazy-user-del");
    ctx.propagate_as(&[del, key]);
    value
}

/// MGET: a key holding another type reads as nil, not as an error.
pub fn mget(ctx: &mut Ctx, args: Args) -> Reply {
    Reply::Array(
        args.iter()
            .skip(1)
            .map(|k| match ctx.lookup(k) {
                Some(Value::Str(s)) => Reply::bulk(s),
                _ => Reply::Nil,
            })
            .collect(),
    )
}

pub fn mset(ctx: &mut Ctx, args: Args) -> Reply {
    mset_generic(ctx, args, false)
}

pub fn msetnx(ctx: &mut Ctx, args: Args) -> Reply {
    mset_generic(ctx, args, true)
}

/// Redis's `msetGenericCommand`: pairs only; with `nx`, nothing is set if any key exists.
fn mset_generic(ctx: &mut Ctx, args: Args, nx: bool) -> Reply {
    if args.len().is_multiple_of(2) {
        return Reply::wrong_arity(ctx.cmd.name);
    }
    let db = ctx.db();
    if nx
        && (1..args.len())
            .step_by(2)
            .any(|i| ctx.keys.contains(db, args.get(i)))
    {
        return Reply::Int(0);
    }
    for i in (1..args.len()).step_by(2) {
        let key = args.get(i);
        ctx.keys
            .insert(db, key, Value::Str(StrValue::from_slice(args.get(i + 1))));
        ctx.changed(key, '$', "set");
    }
    if nx {
        Reply::Int(1)
    } else {
        Reply::Ok
    }
}
