//! XGROUP, XACK, XPENDING, XCLAIM and XAUTOCLAIM.

use super::commands_basic::{read_stream, write_stream};
use super::{entry_reply, help_reply, parse_range_bound, parse_strict_id, Group, Stream, StreamId};
use crate::commands::args::int_arg;
use crate::commands::{Args, Ctx};
use crate::db::Value;
use crate::protocol::Reply;

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn nogroup_for_key(group: &[u8], key: &[u8]) -> Reply {
    Reply::error(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        lossy(group),
        lossy(key)
    ))
}

fn nogroup_key_or_group(key: &[u8], group: &[u8]) -> Reply {
    Reply::error(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        lossy(key),
        lossy(group)
    ))
}

fn subcommand_syntax_error(args: Args) -> Reply {
    Reply::err(&format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        lossy(&args.get(1)[..args.get(1).len().min(128)]),
        lossy(args.get(0)).to_ascii_uppercase()
    ))
}

const XGROUP_HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

/// Every XGROUP subcommand, dispatched on its name as Redis's `xgroupCommand` does, with its checks in its order.
pub fn xgroup(ctx: &mut Ctx, args: Args) -> Reply {
    let opt = args.get(1).to_ascii_uppercase();
    let argc = args.len();
    if opt == b"HELP" {
        return help_reply("XGROUP", XGROUP_HELP);
    }
    let (key, group) = (args.get(2), args.get(3));
    let create = opt == b"CREATE";
    let setid = opt == b"SETID";
    let mut mkstream = false;
    let mut entries_read: i64 = -1;
    let mut i = 5;
    while i < argc {
        if create && args.get(i).eq_ignore_ascii_case(b"MKSTREAM") {
            mkstream = true;
            i += 1;
        } else if (create || setid)
            && args.get(i).eq_ignore_ascii_case(b"ENTRIESREAD")
            && i + 1 < argc
        {
            entries_read = match int_arg(args.get(i + 1)) {
                Ok(n) => n,
                Err(e) => return e,
            };
            if entries_read < -1 {
                return Reply::err("value for ENTRIESREAD must be positive or -1");
            }
            i += 2;
        } else {
            return subcommand_syntax_error(args);
        }
    }
    let (exists, has_group, last_id) = match write_stream(ctx, key) {
        Err(e) => return e,
        Ok(None) => (false, false, StreamId::MIN),
        Ok(Some(s)) => (true, s.groups.contains_key(group), s.last_id),
    };
    if !mkstream {
        if !exists {
            return Reply::err("The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
        }
        if !has_group && (setid || opt == b"CREATECONSUMER" || opt == b"DELCONSUMER") {
            return nogroup_for_key(group, key);
        }
    }
    let entries_read = u64::try_from(entries_read).ok();
    let now = ctx.keys.now();
    match opt.as_slice() {
        b"CREATE" if (5..=8).contains(&argc) => {
            let id = if args.get(4) == b"$" {
                last_id
            } else {
                match parse_strict_id(args.get(4)) {
                    Ok(id) => id,
                    Err(e) => return e,
                }
            };
            if !exists {
                ctx.store(key, Value::Stream(Box::default()));
            }
            let Ok(Some(s)) = write_stream(ctx, key) else {
                return Reply::wrong_type();
            };
            if s.groups.contains_key(group) {
                return Reply::error("BUSYGROUP Consumer Group name already exists");
            }
            s.groups
                .insert(group.to_vec(), Group::new(id, entries_read));
            ctx.notify('t', "xgroup-create", key);
            Reply::Ok
        }
        b"SETID" if argc == 5 || argc == 7 => {
            let id = if args.get(4) == b"$" {
                last_id
            } else {
                match super::parse_id_generic(args.get(4), 0, false, false) {
                    Ok(p) => p.id,
                    Err(e) => return e,
                }
            };
            let Some(g) = group_mut(ctx, key, group) else {
                return nogroup_for_key(group, key);
            };
            g.last_id = id;
            g.entries_read = entries_read;
            ctx.notify('t', "xgroup-setid", key);
            Reply::Ok
        }
        b"DESTROY" if argc == 4 => {
            let Ok(Some(s)) = write_stream(ctx, key) else {
                return Reply::Int(0);
            };
            if s.groups.remove(group).is_none() {
                return Reply::Int(0);
            }
            // XREADGROUPs blocked on the group get NOGROUP; WATCH does not see a change, as in Redis.
            ctx.ready(key);
            ctx.notify('t', "xgroup-destroy", key);
            Reply::Int(1)
        }
        b"CREATECONSUMER" if argc == 5 => {
            let Some(g) = group_mut(ctx, key, group) else {
                return nogroup_for_key(group, key);
            };
            let created = g.create_consumer(args.get(4), now);
            if created {
                ctx.notify('t', "xgroup-createconsumer", key);
            }
            Reply::Int(created as i64)
        }
        b"DELCONSUMER" if argc == 5 => {
            let Some(g) = group_mut(ctx, key, group) else {
                return nogroup_for_key(group, key);
            };
            let pending = g.delete_consumer(args.get(4));
            ctx.notify('t', "xgroup-delconsumer", key);
            Reply::Int(pending as i64)
        }
        _ => subcommand_syntax_error(args),
    }
}

fn group_mut<'c>(ctx: &'c mut Ctx, key: &[u8], group: &[u8]) -> Option<&'c mut Group> {
    match write_stream(ctx, key) {
        Ok(Some(s)) => s.groups.get_mut(group),
        _ => None,
    }
}

/// The stream, if it exists and has `group`: Ok(None) when either is missing, Err(WRONGTYPE) for another type.
fn stream_and_group<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
    group: &[u8],
) -> Result<Option<&'c mut Stream>, Reply> {
    match write_stream(ctx, key)? {
        Some(s) if s.groups.contains_key(group) => Ok(Some(s)),
        _ => Ok(None),
    }
}

/// XACK key group id [id ...]: all ids are parsed before any is acknowledged.
pub fn xack(ctx: &mut Ctx, args: Args) -> Reply {
    let (key, group) = (args.get(1), args.get(2));
    match read_stream(ctx, key) {
        Err(e) => return e,
        Ok(s) if s.is_none_or(|s| !s.groups.contains_key(group)) => return Reply::Int(0),
        Ok(_) => {}
    }
    let mut ids = Vec::with_capacity(args.len() - 3);
    for i in 3..args.len() {
        match parse_strict_id(args.get(i)) {
            Ok(id) => ids.push(id),
            Err(e) => return e,
        }
    }
    let Some(g) = group_mut(ctx, key, group) else {
        return Reply::Int(0);
    };
    let acked = ids.into_iter().filter(|id| g.ack(*id)).count();
    Reply::Int(acked as i64)
}

/// XPENDING key group [[IDLE min-idle] start end count [consumer]]
pub fn xpending(ctx: &mut Ctx, args: Args) -> Reply {
    let (key, group) = (args.get(1), args.get(2));
    let argc = args.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return Reply::syntax_error();
    }
    let mut range = None;
    if argc >= 6 {
        let mut start_idx = 3;
        let mut min_idle = 0;
        if args.get(3).eq_ignore_ascii_case(b"IDLE") {
            min_idle = match int_arg(args.get(4)) {
                Ok(n) => n,
                Err(e) => return e,
            };
            if argc < 8 {
                return Reply::syntax_error();
            }
            start_idx += 2;
        }
        let count = match int_arg(args.get(start_idx + 2)) {
            Ok(n) => n.max(0) as usize,
            Err(e) => return e,
        };
        let start = match parse_range_bound(args.get(start_idx), true) {
            Ok(id) => id,
            Err(e) => return e,
        };
        let end = match parse_range_bound(args.get(start_idx + 1), false) {
            Ok(id) => id,
            Err(e) => return e,
        };
        let consumer = (start_idx + 3 < argc).then(|| args.get(start_idx + 3));
        range = Some((min_idle, start, end, count, consumer));
    }
    let now = ctx.keys.now();
    let s = match read_stream(ctx, key) {
        Err(e) => return e,
        Ok(s) => s,
    };
    let Some(g) = s.and_then(|s| s.groups.get(group)) else {
        return nogroup_key_or_group(key, group);
    };
    let Some((min_idle, start, end, count, consumer)) = range else {
        let (Some(first), Some(last)) = (g.pel.keys().next(), g.pel.keys().next_back()) else {
            return Reply::Array(vec![Reply::Int(0), Reply::Nil, Reply::Nil, Reply::NilArray]);
        };
        let owners = g
            .consumers
            .iter()
            .filter(|(_, c)| !c.pel.is_empty())
            .map(|(name, c)| {
                Reply::Array(vec![
                    Reply::bulk(name),
                    Reply::bulk(c.pel.len().to_string()),
                ])
            })
            .collect();
        return Reply::Array(vec![
            Reply::Int(g.pel.len() as i64),
            first.reply(),
            last.reply(),
            Reply::Array(owners),
        ]);
    };
    if start > end {
        return Reply::Array(Vec::new());
    }
    let ids: Vec<StreamId> = match consumer {
        Some(name) => match g.consumers.get(name) {
            None => return Reply::Array(Vec::new()),
            Some(c) => c.pel.range(start..=end).copied().collect(),
        },
        None => g.pel.range(start..=end).map(|(id, _)| *id).collect(),
    };
    let mut out = Vec::new();
    for id in ids {
        if out.len() >= count {
            break;
        }
        let Some(nack) = g.pel.get(&id) else { continue };
        let idle = now.wrapping_sub(nack.delivery_time);
        if min_idle != 0 && idle < min_idle {
            continue;
        }
        out.push(Reply::Array(vec![
            id.reply(),
            Reply::bulk(&nack.consumer),
            Reply::Int(idle.max(0)),
            Reply::Int(nack.delivery_count as i64),
        ]));
    }
    Reply::Array(out)
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-ms] [RETRYCOUNT n] [FORCE] [JUSTID]
/// [LASTID id]
pub fn xclaim(ctx: &mut Ctx, args: Args) -> Reply {
    let (key, group, consumer) = (args.get(1), args.get(2), args.get(3));
    match read_stream(ctx, key) {
        Err(e) => return e,
        Ok(s) if s.is_none_or(|s| !s.groups.contains_key(group)) => {
            return nogroup_key_or_group(key, group)
        }
        Ok(_) => {}
    }
    let min_idle = match int_arg(args.get(4)) {
        Ok(n) => n.max(0),
        Err(_) => return Reply::err("Invalid min-idle-time argument for XCLAIM"),
    };
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match parse_strict_id(args.get(j)) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let now = ctx.keys.now();
    let (mut force, mut justid) = (false, false);
    let mut retry: Option<i64> = None;
    let mut delivery: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        let numeric = |j: usize, what: &str| {
            int_arg(args.get(j))
                .map_err(|_| Reply::err(&format!("Invalid {what} option argument for XCLAIM")))
        };
        if opt.eq_ignore_ascii_case(b"FORCE") {
            force = true;
        } else if opt.eq_ignore_ascii_case(b"JUSTID") {
            justid = true;
        } else if opt.eq_ignore_ascii_case(b"IDLE") && more > 0 {
            j += 1;
            match numeric(j, "IDLE") {
                Ok(n) => delivery = Some(now.wrapping_sub(n)),
                Err(e) => return e,
            }
        } else if opt.eq_ignore_ascii_case(b"TIME") && more > 0 {
            j += 1;
            match numeric(j, "TIME") {
                Ok(n) => delivery = Some(n),
                Err(e) => return e,
            }
        } else if opt.eq_ignore_ascii_case(b"RETRYCOUNT") && more > 0 {
            j += 1;
            match numeric(j, "RETRYCOUNT") {
                Ok(n) => retry = Some(n),
                Err(e) => return e,
            }
        } else if opt.eq_ignore_ascii_case(b"LASTID") && more > 0 {
            j += 1;
            match parse_strict_id(args.get(j)) {
                Ok(id) => last_id = id,
                Err(e) => return e,
            }
        } else {
            return Reply::err(&format!("Unrecognized XCLAIM option '{}'", lossy(opt)));
        }
        j += 1;
    }
    // A bogus delivery time (negative or in the future) becomes now, as in Redis.
    let delivery = match delivery {
        Some(t) if (0..=now).contains(&t) => t,
        _ => now,
    };
    let Ok(Some(s)) = stream_and_group(ctx, key, group) else {
        return nogroup_key_or_group(key, group);
    };
    let mut created = false;
    if let Some(g) = s.groups.get_mut(group) {
        if last_id > g.last_id {
            g.last_id = last_id;
        }
    }
    let mut out = Vec::new();
    for id in ids {
        let exists = s.contains(id);
        let Some(g) = s.groups.get_mut(group) else {
            break;
        };
        let pending_since = g.pel.get(&id).map(|n| n.delivery_time);
        if !exists {
            // Pending entries deleted from the stream leave the PEL.
            g.ack(id);
            continue;
        }
        match pending_since {
            None if !force => continue,
            Some(t) if min_idle != 0 && now.wrapping_sub(t) < min_idle => continue,
            _ => {}
        }
        if g.touch_consumer(consumer, now) {
            created = true;
        }
        let nack = g.assign(id, consumer);
        nack.delivery_time = delivery;
        match retry {
            Some(n) if n >= 0 => nack.delivery_count = n as u64,
            _ if !justid => nack.delivery_count = nack.delivery_count.wrapping_add(1),
            _ => {}
        }
        out.push(claimed_reply(s, id, justid));
    }
    if created {
        ctx.notify('t', "xgroup-createconsumer", key);
    }
    Reply::Array(out)
}

fn claimed_reply(s: &Stream, id: StreamId, justid: bool) -> Reply {
    if justid {
        return id.reply();
    }
    match s.range(id, id, false, 1).first() {
        Some((id, fields)) => entry_reply(*id, fields),
        None => Reply::Nil,
    }
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]: claims idle pending entries from
/// `start`, at most COUNT and after at most 10×COUNT PEL entries looked at; replies the next cursor, the claimed
/// entries and the ids it dropped because their entries were deleted.
pub fn xautoclaim(ctx: &mut Ctx, args: Args) -> Reply {
    let (key, group, consumer) = (args.get(1), args.get(2), args.get(3));
    let min_idle = match int_arg(args.get(4)) {
        Ok(n) => n.max(0),
        Err(_) => return Reply::err("Invalid min-idle-time argument for XAUTOCLAIM"),
    };
    let start = match parse_range_bound(args.get(5), true) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let mut count: u64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if args.get(j).eq_ignore_ascii_case(b"COUNT") && more > 0 {
            let max = (i64::MAX / 16) as u64;
            match int_arg(args.get(j + 1)) {
                Ok(n) if n >= 1 && (n as u64) <= max => count = n as u64,
                _ => return Reply::err("COUNT must be > 0"),
            }
            j += 1;
        } else if args.get(j).eq_ignore_ascii_case(b"JUSTID") {
            justid = true;
        } else {
            return Reply::syntax_error();
        }
        j += 1;
    }
    let now = ctx.keys.now();
    // Redis reads the key here (a counted lookup) although the command writes.
    if let Err(e) = read_stream(ctx, key) {
        return e;
    }
    let s = match stream_and_group(ctx, key, group) {
        Err(e) => return e,
        Ok(None) => return nogroup_key_or_group(key, group),
        Ok(Some(s)) => s,
    };
    let mut attempts = count * 10;
    let mut cursor = Some(start);
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut created = false;
    while attempts > 0 && count > 0 {
        attempts -= 1;
        let Some(from) = cursor else { break };
        let Some(g) = s.groups.get(group) else { break };
        let Some((id, since)) = g
            .pel
            .range(from..)
            .next()
            .map(|(id, n)| (*id, n.delivery_time))
        else {
            cursor = None;
            break;
        };
        let idle = now.wrapping_sub(since);
        cursor = id.incr();
        let exists = s.contains(id);
        let Some(g) = s.groups.get_mut(group) else {
            break;
        };
        if !exists {
            g.ack(id);
            deleted.push(id.reply());
            count -= 1;
            continue;
        }
        if min_idle != 0 && idle < min_idle {
            continue;
        }
        if g.touch_consumer(consumer, now) {
            created = true;
        }
        let nack = g.assign(id, consumer);
        nack.delivery_time = now;
        if !justid {
            nack.delivery_count = nack.delivery_count.wrapping_add(1);
        }
        count -= 1;
        claimed.push(claimed_reply(s, id, justid));
    }
    let next = cursor
        .and_then(|c| {
            s.groups
                .get(group)?
                .pel
                .range(c..)
                .next()
                .map(|(id, _)| *id)
        })
        .unwrap_or(StreamId::MIN);
    if created {
        ctx.notify('t', "xgroup-createconsumer", key);
    }
    Reply::Array(vec![
        next.reply(),
        Reply::Array(claimed),
        Reply::Array(deleted),
    ])
}
