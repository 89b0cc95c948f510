//! DUMP and RESTORE: a key's value as a self-checking RDB payload, and back.

use crate::commands::flags::*;
use crate::commands::keyspec::prelude::*;
use crate::commands::{Args, Command, Ctx};
use crate::db::Entry;
use crate::persist::rdb::payload::{self, PayloadError};
use crate::persist::rdb::value::{Encoder, Limits};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

pub const COMMANDS: &[Command] = &[
    Command::new("dump", 2, READONLY, dump)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("generic", "2.6.0", "Return a serialized version of the value stored at the specified key.")
        .complexity("O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1)."),
    Command::new("restore", -4, WRITE | DENYOOM, restore)
        .acl(&["keyspace", "dangerous"])
        .key_specs(&[ks(OW | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("generic", "2.6.0", "Create a key using the provided serialized value, previously obtained using DUMP.")
        .complexity("O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N))."),
];

/// `rdbcompression` and the thresholds in force, as Redis's `createDumpPayload` reads them.
pub fn encoder(ctx: &Ctx) -> Encoder {
    let config = &ctx.server.config;
    Encoder {
        compress: config.get("rdbcompression").as_deref() != Some("no"),
        limits: Limits::from_config(config),
    }
}

fn dump(ctx: &mut Ctx, args: Args) -> Reply {
    let enc = encoder(ctx);
    match ctx.lookup(args.get(1)) {
        None => Reply::Nil,
        Some(value) => Reply::bulk(payload::dump(value, &enc)),
    }
}

/// RESTORE's options after the payload.
#[derive(Default)]
struct RestoreOptions {
    replace: bool,
    absttl: bool,
    idle: Option<u64>,
    freq: Option<u8>,
}

/// Parses the options as Redis does: IDLETIME and FREQ exclude each other (the second is a syntax error).
fn restore_options(args: Args) -> Result<RestoreOptions, Reply> {
    let mut o = RestoreOptions::default();
    let mut j = 4;
    while j < args.len() {
        let arg = args.get(j);
        let has_value = j + 1 < args.len();
        if arg.eq_ignore_ascii_case(b"replace") {
            o.replace = true;
        } else if arg.eq_ignore_ascii_case(b"absttl") {
            o.absttl = true;
        } else if arg.eq_ignore_ascii_case(b"idletime") && has_value && o.freq.is_none() {
            j += 1;
            let n = parse_i64(args.get(j)).ok_or_else(Reply::not_integer)?;
            o.idle = Some(
                u64::try_from(n).map_err(|_| Reply::err("Invalid IDLETIME value, must be >= 0"))?,
            );
        } else if arg.eq_ignore_ascii_case(b"freq") && has_value && o.idle.is_none() {
            j += 1;
            let n = parse_i64(args.get(j)).ok_or_else(Reply::not_integer)?;
            let f = u8::try_from(n)
                .map_err(|_| Reply::err("Invalid FREQ value, must be >= 0 and <= 255"))?;
            o.freq = Some(f);
        } else {
            return Err(Reply::syntax_error());
        }
        j += 1;
    }
    Ok(o)
}

fn restore(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let o = match restore_options(args) {
        Ok(o) => o,
        Err(e) => return e,
    };
    if !o.replace && ctx.keys.get_value(ctx.db(), key).is_some() {
        return Reply::Error("BUSYKEY Target key name already exists.".into());
    }
    let Some(ttl) = parse_i64(args.get(2)) else {
        return Reply::not_integer();
    };
    if ttl < 0 {
        return Reply::err("Invalid TTL value, must be >= 0");
    }
    let value = match payload::restore(args.get(3), &encoder(ctx).limits) {
        Ok(v) => v,
        Err(PayloadError::VersionOrChecksum) => {
            return Reply::err("DUMP payload version or checksum are wrong")
        }
        Err(PayloadError::BadFormat) => return Reply::err("Bad data format"),
    };
    let deleted = o.replace && ctx.delete(key);
    let now = ctx.keys.now();
    let at = match ttl {
        0 => None,
        t if o.absttl => Some(t),
        t => Some(t.saturating_add(now)),
    };
    if at.is_some_and(|at| at <= now) {
        if deleted {
            // Redis propagates a RESTORE whose TTL is already past as the DEL it amounts to.
            ctx.changed(key, 'g', "del");
            ctx.propagate_as(&[b"DEL", key]);
        }
        return Reply::Ok;
    }
    let entry = Entry::new(value);
    entry.lru.restore(o.idle, o.freq, now);
    let db = ctx.db();
    ctx.keys.insert_entry_at(db, key, entry, at);
    ctx.changed(key, 'g', "restore");
    Reply::Ok
}
