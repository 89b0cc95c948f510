//! DEBUG: the testing and introspection command, refused unless `enable-debug-command` allows it.
//!
//! Subcommands are not rows of the command table (Redis's DEBUG is a plain command whose first argument picks a
//! branch), so its lock plan is worked out here from that argument: the keys OBJECT and DIGEST-VALUE inspect,
//! every database for DIGEST, the client's database for POPULATE. RELOAD takes the locks it needs itself.

mod crash;
mod digest;
mod inspect;

use std::sync::atomic::Ordering::Relaxed;

use super::flags::*;
use super::{Args, Command, Ctx, Scope};
use crate::db::{Keyspace, LockPlan, Value};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

pub use digest::{key_digest, Digest};

pub const COMMANDS: &[Command] = &[
    // PROTECTED: refused by the dispatcher unless `enable-debug-command` allows it (`ops::protected`).
    Command::new(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED,
        debugCommand,
    )
    .scope(Scope::Custom(debug_locks))
    .doc("server", "1.0.0", "A container for debugging commands")
    .complexity("Depends on subcommand."),
];

/// The shards a DEBUG subcommand reads or writes.
fn debug_locks(args: Args, db: usize, ks: &Keyspace, plan: &mut LockPlan) {
    let sub = args.get(1).to_ascii_lowercase();
    match sub.as_slice() {
        b"digest" if args.len() == 2 => plan.all_dbs(ks, false),
        b"digest-value" => (2..args.len()).for_each(|i| plan.key(ks, db, args.get(i), false)),
        b"object" | b"sdslen" | b"listpack" | b"quicklist" | b"htstats-key" if args.len() >= 3 => {
            plan.key(ks, db, args.get(2), false)
        }
        b"populate" => plan.whole_db(db, true),
        _ => {}
    }
}

/// DEBUG's handler, named as Redis's: stack traces (the watchdog's during DEBUG SLEEP, a crash report's during
/// DEBUG SEGFAULT) show this frame under the name operators and Redis's test suite look for.
#[allow(non_snake_case)]
fn debugCommand(ctx: &mut Ctx, args: Args) -> Reply {
    let sub = args.get(1).to_ascii_lowercase();
    let n = args.len();
    match (sub.as_slice(), n) {
        (b"help", 2) => help(),
        (b"digest", 2) => whole_digest(ctx),
        (b"digest-value", _) => digest_values(ctx, args),
        (b"object", 3) => inspect::object(ctx, args.get(2)),
        (b"sdslen", 3) => inspect::sdslen(ctx, args.get(2)),
        (b"listpack", 3) => inspect::listpack(ctx, args.get(2)),
        (b"quicklist", 3 | 4) => inspect::quicklist(ctx, args.get(2)),
        (b"segfault", _) => crash::segfault(),
        (b"panic", _) => crash::panic(),
        (b"assert", _) => crash::assert(ctx, args),
        (b"oom", _) => crash::oom(),
        (b"restart", _) => crash::restart(ctx, args, true),
        (b"crash-and-recover", _) => crash::restart(ctx, args, false),
        (b"reload", _) => crate::persist::debug_reload(ctx, args),
        (b"loadaof", 2) => crate::persist::aof::commands::debug_loadaof(ctx, args),
        (b"populate", 3..=5) => populate(ctx, args),
        (b"sleep", 3) => sleep(args.get(2)),
        (b"replicate", 3..) => {
            crate::replication::debug_replicate(ctx.server, args);
            Reply::Ok
        }
        (b"set-active-expire", 3) => {
            crate::db::expiry::set_active(atoi(args.get(2)) != 0);
            Reply::Ok
        }
        (b"quicklist-packed-threshold", 3) => packed_threshold(args.get(2)),
        (b"protocol", 3) => protocol(ctx, args.get(2)),
        (b"error", 3) => {
            let text = String::from_utf8_lossy(args.get(2)).replace(['\r', '\n'], " ");
            Reply::error(text)
        }
        (b"log", 3) => {
            log::warn!("DEBUG LOG: {}", String::from_utf8_lossy(args.get(2)));
            Reply::Ok
        }
        (b"change-repl-id", 2) => {
            // Redis's changeReplicationId + clearReplicationId2: replicas can no longer continue partially.
            log::warn!("Changing replication IDs after receiving DEBUG change-repl-id");
            let mut st = ctx.server.repl.state();
            st.replid = crate::replication::new_replid();
            st.replid2 = "0".repeat(40);
            st.second_offset = -1;
            Reply::Ok
        }
        (b"drop-cluster-packet-filter", 3) => match parse_i64(args.get(2)) {
            Some(_) => Reply::Ok,
            None => Reply::err("value is not an integer or out of range"),
        },
        (b"replybuffer", 4) => replybuffer(args),
        (b"clusterlink", 5) if is(args.get(2), "kill") => {
            Reply::err("Debug option only available for cluster mode enabled setup!")
        }
        (b"structsize", 2) => Reply::bulk(
            "bits:64 robj:16 dictentry:24 sdshdr5:1 sdshdr8:3 sdshdr16:5 sdshdr32:9 sdshdr64:17 ",
        ),
        (b"set-disable-deny-scripts", 3) => {
            let on = crate::util::numbers::parse_i64(args.get(2)).unwrap_or(0) != 0;
            ctx.server.scripts.set_deny_disabled(on);
            Reply::Ok
        }
        // Switches of Redis internals ferredis does not have: accepted, as tests set them.
        (b"set-skip-checksum-validation", 3) => {
            crate::persist::rdb::set_skip_checksum(atoi(args.get(2)) != 0);
            Reply::Ok
        }
        (b"aof-flush-sleep" | b"pause-cron" | b"leak", 3) | (b"stringmatch-test", 2) => Reply::Ok,
        _ => Reply::err(&format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(&args.get(1)[..args.get(1).len().min(128)])
        )),
    }
}

fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// C's `atoi`: leading digits with an optional sign, 0 when there are none.
fn atoi(arg: &[u8]) -> i64 {
    let text = String::from_utf8_lossy(arg);
    let text = text.trim_start();
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(text.len(), |(i, _)| i);
    text[..end].parse().unwrap_or(0)
}

/// DEBUG DIGEST: every database, each key's digest xored in, as `computeDatasetDigest`.
fn whole_digest(ctx: &mut Ctx) -> Reply {
    let mut total: Digest = [0; 20];
    for db in 0..ctx.server.keyspace.db_count() {
        let mut keys: Digest = [0; 20];
        let mut any = false;
        for (_, shard) in ctx.keys.shards(db) {
            for (key, entry) in shard.dict.iter() {
                digest::xor(&mut keys, &key_digest(key, entry));
                any = true;
            }
        }
        if any {
            digest::add_database(&mut total, db, &keys);
        }
    }
    Reply::Status(digest::hex(&total).into())
}

/// DEBUG DIGEST-VALUE key...: each value's digest, zeros for a missing key; expired keys count (as in Redis).
fn digest_values(ctx: &mut Ctx, args: Args) -> Reply {
    let db = ctx.db();
    let replies = (2..args.len())
        .map(|i| {
            let mut d: Digest = [0; 20];
            if let Some(entry) = inspect::raw_entry(ctx, db, args.get(i)) {
                digest::object_digest(&mut d, entry);
            }
            Reply::Status(digest::hex(&d).into())
        })
        .collect();
    Reply::Array(replies)
}

/// DEBUG POPULATE count [prefix] [size]: `prefix:N` = `value:N` (zero-padded or cut to `size`), skipping keys that
/// exist.
fn populate(ctx: &mut Ctx, args: Args) -> Reply {
    const POSITIVE: &str = "value is out of range, must be positive";
    // Redis's `getPositiveLongFromObjectOrReply` words a non-number and a negative number alike.
    let positive = |arg: &[u8]| {
        parse_i64(arg)
            .filter(|&n| n >= 0)
            .ok_or_else(|| Reply::err(POSITIVE))
    };
    let count = match positive(args.get(2)) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let size = match args.len() {
        5 => match positive(args.get(4)) {
            Ok(n) => n as usize,
            Err(e) => return e,
        },
        _ => 0,
    };
    let prefix = if args.len() >= 4 { args.get(3) } else { b"key" };
    for j in 0..count {
        let mut key = prefix.to_vec();
        key.extend_from_slice(format!(":{j}").as_bytes());
        if ctx.keys.peek(ctx.db(), &key).is_some() {
            continue;
        }
        let mut value = format!("value:{j}").into_bytes();
        if size > 0 {
            value.resize(size, 0);
        }
        ctx.store(&key, Value::Str(value.into()));
    }
    Reply::Ok
}

/// DEBUG SLEEP seconds: C's `strtod`, so junk sleeps 0. Only this client waits; nothing is locked.
fn sleep(arg: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(arg);
    let secs = leading_float(text.trim_start());
    if secs > 0.0 && secs.is_finite() {
        // Redis's whole server sleeps: other clients' next commands wait too.
        crate::ops::pause::stall_for(std::time::Duration::from_secs_f64(secs));
    }
    Reply::Ok
}

/// The longest prefix of `s` that parses as a float, 0 if none (what `strtod` reads).
fn leading_float(s: &str) -> f64 {
    (1..=s.len())
        .rev()
        .filter(|&i| s.is_char_boundary(i))
        .find_map(|i| s[..i].parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// Redis's `quicklistisSetPackedThreshold`: a memory value up to 4 GB minus 1 MB (0 restores the default). List
/// elements of at least that size are kept in nodes of their own from then on.
fn packed_threshold(arg: &[u8]) -> Reply {
    let size = std::str::from_utf8(arg)
        .ok()
        .and_then(crate::config::params::parse_memory)
        .and_then(|sz| usize::try_from(sz).ok())
        .filter(|&sz| sz <= (1 << 32) - (1 << 20));
    match size {
        Some(sz) => {
            crate::types::list::set_packed_threshold(sz);
            Reply::Ok
        }
        None => Reply::err("argument must be a memory value bigger than 1 and smaller than 4gb"),
    }
}

/// DEBUG REPLYBUFFER PEAK-RESET-TIME <never|reset|ms> and RESIZING <0|1>: the reply buffer's resizing in the
/// clients cron (`crate::server::bufmodel`), as Redis's debug.c sets it.
fn replybuffer(args: Args) -> Reply {
    use crate::server::bufmodel;
    let value = args.get(3);
    if is(args.get(2), "peak-reset-time") {
        if is(value, "never") {
            bufmodel::set_peak_reset_time(Some(-1));
        } else if is(value, "reset") {
            bufmodel::set_peak_reset_time(None);
        } else {
            match parse_i64(value) {
                Some(ms) => bufmodel::set_peak_reset_time(Some(ms)),
                None => return Reply::err("value is not an integer or out of range"),
            }
        }
        Reply::Ok
    } else if is(args.get(2), "resizing") {
        bufmodel::set_resizing(atoi(value) != 0);
        Reply::Ok
    } else {
        Reply::err(&format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(&args.get(1)[..args.get(1).len().min(128)])
        ))
    }
}

/// DEBUG PROTOCOL type: one sample reply of each RESP kind, lowered to RESP2 as Redis lowers it.
// Redis's sample double is the literal 3.141, not pi.
#[allow(clippy::approx_constant)]
fn protocol(ctx: &mut Ctx, name: &[u8]) -> Reply {
    let resp3 = ctx.client.info.resp.load(Relaxed) >= 3;
    let ints = || (0..3).map(Reply::Int).collect::<Vec<_>>();
    match name.to_ascii_lowercase().as_slice() {
        b"string" => Reply::bulk("Hello World"),
        b"integer" => Reply::Int(12345),
        b"double" => Reply::Double(3.141),
        b"bignum" => Reply::BigNumber("1234567999999999999999999999999999999".into()),
        b"null" => Reply::Nil,
        b"array" => Reply::Array(ints()),
        b"set" => Reply::Set(ints()),
        b"map" => Reply::Map((0..3).map(|j| (Reply::Int(j), Reply::Bool(j == 1))).collect()),
        b"attrib" if resp3 => Reply::Raw(
            b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n".to_vec(),
        ),
        b"attrib" => Reply::bulk("Some real reply following the attribute"),
        b"push" if resp3 => Reply::Raw(
            b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n".to_vec(),
        ),
        b"push" => Reply::err("RESP2 is not supported by this command"),
        b"true" => Reply::Bool(true),
        b"false" => Reply::Bool(false),
        b"verbatim" => Reply::Verbatim("txt", b"This is a verbatim\nstring".to_vec()),
        _ => Reply::err("Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"),
    }
}

fn help() -> Reply {
    super::introspection::help_reply("DEBUG", inspect::HELP_LINES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_reads_leading_digits_like_c() {
        assert_eq!(atoi(b"1"), 1);
        assert_eq!(atoi(b"0"), 0);
        assert_eq!(atoi(b"12abc"), 12);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"abc"), 0);
    }

    #[test]
    fn strtod_prefix() {
        assert_eq!(leading_float("0.5s"), 0.5);
        assert_eq!(leading_float("junk"), 0.0);
        assert_eq!(leading_float("2"), 2.0);
    }
}
