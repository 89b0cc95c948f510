//! XREAD and XREADGROUP: option parsing, their movable keys, and serving the streams that have data.

use std::time::Duration;

use super::commands_basic::read_stream;
use super::group::{read_group, ReadFrom};
use super::propagate;
use super::waiting::{StreamWait, WaitKey};
use super::{entry_reply, parse_strict_id, StreamId};
use crate::blocking;
use crate::commands::args::int_arg;
use crate::commands::{transaction, Args, Ctx};
use crate::db::Value;
use crate::protocol::{Protocol, Reply};

/// The key positions of XREAD/XREADGROUP (Redis's `xreadGetKeys`): the first half of what follows STREAMS, found
/// by skipping the options before it. Empty on a malformed command (the handler then reports the error).
pub fn xread_keys(args: Args) -> Vec<usize> {
    let mut i = 1;
    let mut streams_pos = None;
    while i < args.len() {
        let a = args.get(i);
        if a.eq_ignore_ascii_case(b"BLOCK") || a.eq_ignore_ascii_case(b"COUNT") {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"GROUP") {
            i += 3;
        } else if a.eq_ignore_ascii_case(b"NOACK") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"STREAMS") {
            streams_pos = Some(i);
            break;
        } else {
            break;
        }
    }
    let Some(pos) = streams_pos else {
        return Vec::new();
    };
    let rest = args.len() - pos - 1;
    if rest == 0 || !rest.is_multiple_of(2) {
        return Vec::new();
    }
    (pos + 1..pos + 1 + rest / 2).collect()
}

/// The parsed form of an XREAD / XREADGROUP request.
pub struct ReadRequest<'a> {
    /// Milliseconds; None without BLOCK, Some(0) for forever.
    pub block: Option<u64>,
    pub count: usize,
    pub noack: bool,
    /// (group, consumer) for XREADGROUP.
    pub group: Option<(&'a [u8], &'a [u8])>,
    pub keys: Vec<&'a [u8]>,
    /// Per key: the id entries must be above, or None for `>`.
    pub ids: Vec<Option<StreamId>>,
}

/// Parses XREAD/XREADGROUP and resolves ids against the keyspace (`$`), with Redis's errors in Redis's order.
fn parse_read<'a>(ctx: &Ctx, args: Args<'a>) -> Result<ReadRequest<'a>, Reply> {
    let xreadgroup = args.get(0).len() == 10;
    let mut req = ReadRequest {
        block: None,
        count: 0,
        noack: false,
        group: None,
        keys: Vec::new(),
        ids: Vec::new(),
    };
    let mut streams_arg = 0;
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = args.get(i);
        if o.eq_ignore_ascii_case(b"BLOCK") && more > 0 {
            i += 1;
            let t = int_arg(args.get(i))
                .map_err(|_| Reply::err("timeout is not an integer or out of range"))?;
            if t < 0 {
                return Err(Reply::err("timeout is negative"));
            }
            req.block = Some(t as u64);
        } else if o.eq_ignore_ascii_case(b"COUNT") && more > 0 {
            i += 1;
            req.count = int_arg(args.get(i))?.max(0) as usize;
        } else if o.eq_ignore_ascii_case(b"STREAMS") && more > 0 {
            streams_arg = i + 1;
            if !(args.len() - streams_arg).is_multiple_of(2) {
                return Err(Reply::err(
                    "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            break;
        } else if o.eq_ignore_ascii_case(b"GROUP") && more >= 2 {
            if !xreadgroup {
                return Err(Reply::err(
                    "The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            req.group = Some((args.get(i + 1), args.get(i + 2)));
            i += 2;
        } else if o.eq_ignore_ascii_case(b"NOACK") {
            if !xreadgroup {
                return Err(Reply::err(
                    "The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            req.noack = true;
        } else {
            return Err(Reply::syntax_error());
        }
        i += 1;
    }
    if streams_arg == 0 {
        return Err(Reply::syntax_error());
    }
    if xreadgroup && req.group.is_none() {
        return Err(Reply::err("Missing GROUP option for XREADGROUP"));
    }
    let n = (args.len() - streams_arg) / 2;
    for k in 0..n {
        let key = args.get(streams_arg + k);
        let id_arg = args.get(streams_arg + n + k);
        let s = read_stream(ctx, key)?;
        if let Some((group, _)) = req.group {
            if s.is_none_or(|s| !s.groups.contains_key(group)) {
                return Err(no_group_error(key, group));
            }
        }
        let id = if id_arg == b"$" {
            if xreadgroup {
                return Err(Reply::err("The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."));
            }
            Some(s.map_or(StreamId::MIN, |s| s.last_id))
        } else if id_arg == b">" {
            if !xreadgroup {
                return Err(Reply::err("The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."));
            }
            None
        } else {
            Some(parse_strict_id(id_arg)?)
        };
        req.keys.push(key);
        req.ids.push(id);
    }
    Ok(req)
}

pub fn no_group_error(key: &[u8], group: &[u8]) -> Reply {
    Reply::error(format!(
        "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

/// XREAD [COUNT n] [BLOCK ms] STREAMS key ... id ... and
/// XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS key ... id ...
pub fn xread(ctx: &mut Ctx, args: Args) -> Reply {
    let req = match parse_read(ctx, args) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let served = serve_read(ctx, &req);
    // XREADGROUP's effects are the XCLAIMs and SETIDs `serve_read` recorded, never the command itself.
    ctx.prevent_propagation();
    if !served.is_empty() {
        return read_reply(ctx.client.protocol, served);
    }
    // Nothing to serve: without BLOCK, or where blocking is not allowed (inside EXEC), answer as a timeout.
    let Some(ms) = req.block else {
        return Reply::NilArray;
    };
    if transaction::in_exec(ctx.client) {
        return Reply::NilArray;
    }
    let db = ctx.db();
    let keys = req.keys.iter().zip(&req.ids).map(|(k, id)| {
        let added = match ctx.keys.get_value(db, k) {
            Some(Value::Stream(s)) => s.entries_added,
            _ => 0,
        };
        WaitKey {
            key: k.to_vec(),
            after: id.unwrap_or(StreamId::MAX),
            added,
        }
    });
    let wait = StreamWait {
        keys: keys.collect(),
        group: req.group.map(|(g, c)| (g.to_vec(), c.to_vec())),
        count: req.count,
        noack: req.noack,
        protocol: ctx.client.protocol,
    };
    let timeout = (ms > 0).then(|| Duration::from_millis(ms));
    let keys = wait.keys.iter().map(|w| w.key.clone()).collect();
    blocking::block(ctx, keys, timeout, wait)
}

/// Serves every stream of the request that has something for it; returns (key, entries) in request order.
pub fn serve_read(ctx: &mut Ctx, req: &ReadRequest) -> Vec<(Vec<u8>, Reply)> {
    let now = ctx.keys.now();
    let db = ctx.db();
    let mut out = Vec::new();
    for (k, key) in req.keys.iter().enumerate() {
        // Redis looks every key up again here, so keyspace_hits/misses count each key twice; so do we.
        ctx.lookup(key);
        let Some((group, consumer)) = req.group else {
            // XREAD holds read locks only.
            let Some(Value::Stream(s)) = ctx.keys.get_value(db, key) else {
                continue;
            };
            let after = req.ids[k].unwrap_or(StreamId::MAX);
            let Some(start) = after.incr() else { continue };
            if s.is_empty() || s.last_valid_id() < start {
                continue;
            }
            let entries = s.range(start, StreamId::MAX, false, req.count);
            let reply = Reply::Array(
                entries
                    .into_iter()
                    .map(|(id, f)| entry_reply(id, f))
                    .collect(),
            );
            out.push((key.to_vec(), reply));
            continue;
        };
        let Some(Value::Stream(s)) = ctx.keys.get_value_mut(db, key) else {
            continue;
        };
        let valid_last = s.last_valid_id();
        let has_entries = !s.is_empty();
        let Some(g) = s.groups.get_mut(group) else {
            continue;
        };
        // History reads always answer; `>` only when the stream has entries past the group's last id.
        let from = match req.ids[k] {
            Some(id) => Some(ReadFrom::History(id)),
            None => (has_entries && valid_last > g.last_id).then_some(ReadFrom::New),
        };
        // Redis 7.0 creates (or refreshes) the consumer only when the stream is served.
        let Some(from) = from else { continue };
        let created = g.touch_consumer(consumer, now);
        // Delivering moves entries into the PEL, which Redis does not count as a change for WATCH.
        let (reply, delivered) = read_group(s, group, consumer, from, req.count, req.noack, now);
        let read = propagate::GroupRead::after(
            s, key, group, consumer, created, req.noack, delivered, now,
        );
        propagate::group_read(ctx, read);
        out.push((key.to_vec(), reply));
    }
    out
}

/// RESP2: an array of [key, entries] pairs; RESP3: a map from key to entries.
pub fn read_reply(protocol: Protocol, served: Vec<(Vec<u8>, Reply)>) -> Reply {
    match protocol {
        Protocol::Resp2 => Reply::Array(
            served
                .into_iter()
                .map(|(k, r)| Reply::Array(vec![Reply::Bulk(k.into()), r]))
                .collect(),
        ),
        Protocol::Resp3 => Reply::Map(
            served
                .into_iter()
                .map(|(k, r)| (Reply::Bulk(k.into()), r))
                .collect(),
        ),
    }
}
