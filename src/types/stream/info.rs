//! XINFO STREAM [FULL [COUNT n]] | GROUPS | CONSUMERS | HELP, with Redis 7.0's fields (maps in RESP3).

use super::commands_basic::read_stream;
use super::{entry_reply, help_reply, Group, Stream, StreamId};
use crate::commands::args::int_arg;
use crate::commands::{Args, Ctx};
use crate::protocol::Reply;

const XINFO_HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

fn field(name: &'static str, value: Reply) -> (Reply, Reply) {
    (Reply::bulk(name), value)
}

fn opt_int(v: Option<u64>) -> Reply {
    v.map_or(Reply::Nil, |n| Reply::Int(n as i64))
}

pub fn xinfo(ctx: &mut Ctx, args: Args) -> Reply {
    let sub = args.get(1).to_ascii_uppercase();
    if sub == b"HELP" {
        return help_reply("XINFO", XINFO_HELP);
    }
    let key = args.get(2);
    // STREAM's options are checked before the key, as Redis does.
    let mut full = None;
    if sub == b"STREAM" && args.len() > 3 {
        let syntax = || {
            Reply::err(&format!(
                "unknown subcommand or wrong number of arguments for '{}'. Try XINFO HELP.",
                String::from_utf8_lossy(args.get(1))
            ))
        };
        if !args.get(3).eq_ignore_ascii_case(b"FULL") {
            return syntax();
        }
        let mut count = 10;
        if args.len() > 4 {
            if args.len() != 6 || !args.get(4).eq_ignore_ascii_case(b"COUNT") {
                return syntax();
            }
            count = match int_arg(args.get(5)) {
                Ok(n) if n < 0 => 10,
                Ok(n) => n as usize,
                Err(e) => return e,
            };
        }
        full = Some(count);
    }
    let now = ctx.keys.now();
    let s = match read_stream(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::no_such_key(),
        Ok(Some(s)) => s,
    };
    match sub.as_slice() {
        b"CONSUMERS" => {
            let group = args.get(3);
            let Some(g) = s.groups.get(group) else {
                return Reply::error(format!(
                    "NOGROUP No such consumer group '{}' for key name '{}'",
                    String::from_utf8_lossy(group),
                    String::from_utf8_lossy(key)
                ));
            };
            Reply::Array(
                g.consumers
                    .iter()
                    .map(|(name, c)| {
                        Reply::Map(vec![
                            field("name", Reply::bulk(name)),
                            field("pending", Reply::Int(c.pel.len() as i64)),
                            field("idle", Reply::Int(now.wrapping_sub(c.seen_time).max(0))),
                        ])
                    })
                    .collect(),
            )
        }
        b"GROUPS" => Reply::Array(
            s.groups
                .iter()
                .map(|(name, g)| {
                    Reply::Map(vec![
                        field("name", Reply::bulk(name)),
                        field("consumers", Reply::Int(g.consumers.len() as i64)),
                        field("pending", Reply::Int(g.pel.len() as i64)),
                        field("last-delivered-id", g.last_id.reply()),
                        field("entries-read", opt_int(g.entries_read)),
                        field("lag", g.lag(s).map_or(Reply::Nil, Reply::Int)),
                    ])
                })
                .collect(),
        ),
        _ => stream_info(s, full),
    }
}

/// XINFO STREAM: the summary, or with FULL (`Some(count)`, 0 = everything) the entries and every group's PEL.
fn stream_info(s: &Stream, full: Option<usize>) -> Reply {
    let mut out = vec![
        field("length", Reply::Int(s.len() as i64)),
        field("radix-tree-keys", Reply::Int(s.node_count() as i64)),
        field("radix-tree-nodes", Reply::Int(s.rax_node_count() as i64)),
        field("last-generated-id", s.last_id.reply()),
        field("max-deleted-entry-id", s.max_deleted_id.reply()),
        field("entries-added", Reply::Int(s.entries_added as i64)),
        field("recorded-first-entry-id", s.first_id().reply()),
    ];
    let Some(count) = full else {
        let edge = |rev: bool| {
            s.range(StreamId::MIN, StreamId::MAX, rev, 1)
                .first()
                .map_or(Reply::Nil, |(id, f)| entry_reply(*id, f))
        };
        out.push(field("groups", Reply::Int(s.groups.len() as i64)));
        out.push(field("first-entry", edge(false)));
        out.push(field("last-entry", edge(true)));
        return Reply::Map(out);
    };
    let entries = s
        .range(StreamId::MIN, StreamId::MAX, false, count)
        .into_iter()
        .map(|(id, f)| entry_reply(id, f))
        .collect();
    out.push(field("entries", Reply::Array(entries)));
    let groups = s
        .groups
        .iter()
        .map(|(name, g)| group_full(s, name, g, count))
        .collect();
    out.push(field("groups", Reply::Array(groups)));
    Reply::Map(out)
}

fn group_full(s: &Stream, name: &[u8], g: &Group, count: usize) -> Reply {
    let limit = if count == 0 { usize::MAX } else { count };
    let pending = g
        .pel
        .iter()
        .take(limit)
        .map(|(id, n)| {
            Reply::Array(vec![
                id.reply(),
                Reply::bulk(&n.consumer),
                Reply::Int(n.delivery_time),
                Reply::Int(n.delivery_count as i64),
            ])
        })
        .collect();
    let consumers = g
        .consumers
        .iter()
        .map(|(cname, c)| {
            let pending = c
                .pel
                .iter()
                .take(limit)
                .filter_map(|id| {
                    let n = g.pel.get(id)?;
                    Some(Reply::Array(vec![
                        id.reply(),
                        Reply::Int(n.delivery_time),
                        Reply::Int(n.delivery_count as i64),
                    ]))
                })
                .collect();
            Reply::Map(vec![
                field("name", Reply::bulk(cname)),
                field("seen-time", Reply::Int(c.seen_time)),
                field("pel-count", Reply::Int(c.pel.len() as i64)),
                field("pending", Reply::Array(pending)),
            ])
        })
        .collect();
    Reply::Map(vec![
        field("name", Reply::bulk(name)),
        field("last-delivered-id", g.last_id.reply()),
        field("entries-read", opt_int(g.entries_read)),
        field("lag", g.lag(s).map_or(Reply::Nil, Reply::Int)),
        field("pel-count", Reply::Int(g.pel.len() as i64)),
        field("pending", Reply::Array(pending)),
        field("consumers", Reply::Array(consumers)),
    ])
}
