//! The pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB <subcommand>, and MONITOR's
//! table row.

use std::sync::Arc;

use super::hub::Kind;
use super::outbox::{Chunk, Limits, Outbox};
use super::{frame, ClientPubSub};
use crate::commands::flags::*;
use crate::commands::keyspec::prelude::*;
use crate::commands::{chan, transaction, Args, Command, Ctx};
use crate::protocol::{encode, Protocol, Reply};

const SUB: u32 = PUBSUB | NOSCRIPT | LOADING | STALE;

pub const COMMANDS: &[Command] = &[
    Command::new("subscribe", -2, SUB, subscribe)
        .channels(chan::SUBSCRIBE)
        .doc("pubsub", "2.0.0", "Listen for messages published to the given channels")
        .complexity("O(N) where N is the number of channels to subscribe to."),
    Command::new("psubscribe", -2, SUB, psubscribe)
        .channels(chan::SUBSCRIBE | chan::PATTERN)
        .doc("pubsub", "2.0.0", "Listen for messages published to channels matching the given patterns")
        .complexity("O(N) where N is the number of patterns the client is already subscribed to."),
    Command::new("ssubscribe", -2, SUB, ssubscribe)
        .channels(chan::SUBSCRIBE)
        .key_specs(&[ks(NOT_KEY, Index(1), Range(-1, 1, 0))])
        .doc("pubsub", "7.0.0", "Listen for messages published to the given shard channels")
        .complexity("O(N) where N is the number of shard channels to subscribe to."),
    Command::new("unsubscribe", -1, SUB, unsubscribe)
        .doc("pubsub", "2.0.0", "Stop listening for messages posted to the given channels")
        .complexity("O(N) where N is the number of clients already subscribed to a channel."),
    Command::new("punsubscribe", -1, SUB, punsubscribe)
        .doc("pubsub", "2.0.0", "Stop listening for messages posted to channels matching the given patterns")
        .complexity("O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client)."),
    Command::new("sunsubscribe", -1, SUB, sunsubscribe)
        .key_specs(&[ks(NOT_KEY, Index(1), Range(-1, 1, 0))])
        .doc("pubsub", "7.0.0", "Stop listening for messages posted to the given shard channels")
        .complexity("O(N) where N is the number of clients already subscribed to a shard channel."),
    Command::new("publish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, publish)
        .channels(chan::PUBLISH)
        .doc("pubsub", "2.0.0", "Post a message to a channel")
        .complexity("O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client)."),
    Command::new("spublish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, spublish)
        .channels(chan::PUBLISH)
        .key_specs(&[ks(NOT_KEY, Index(1), Range(0, 1, 0))])
        .doc("pubsub", "7.0.0", "Post a message to a shard channel")
        .complexity("O(N) where N is the number of clients subscribed to the receiving shard channel."),
    Command::new("pubsub", -2, 0, pubsub_help)
        .doc("pubsub", "2.8.0", "A container for Pub/Sub commands")
        .complexity("Depends on subcommand.")
        .subcommands(PUBSUB_SUBCOMMANDS),
    Command::new("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE, super::monitor::monitor)
        .doc("server", "1.0.0", "Listen for all requests received by the server in real time")
        .complexity(""),
];

const INTROSPECT: u32 = PUBSUB | LOADING | STALE;

const PUBSUB_SUBCOMMANDS: &[Command] = &[
    Command::new("channels", -2, INTROSPECT, pubsub_channels)
        .doc("pubsub", "2.8.0", "List active channels")
        .complexity("O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)"),
    Command::new("numpat", 2, INTROSPECT, pubsub_numpat)
        .doc("pubsub", "2.8.0", "Get the count of unique patterns pattern subscriptions")
        .complexity("O(1)"),
    Command::new("numsub", -2, INTROSPECT, pubsub_numsub)
        .doc("pubsub", "2.8.0", "Get the count of subscribers for channels")
        .complexity("O(N) for the NUMSUB subcommand, where N is the number of requested channels"),
    Command::new("shardchannels", -2, INTROSPECT, pubsub_shardchannels)
        .doc("pubsub", "7.0.0", "List active shard channels")
        .complexity("O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels)."),
    Command::new("shardnumsub", -2, INTROSPECT, pubsub_shardnumsub)
        .doc("pubsub", "7.0.0", "Get the count of subscribers for shard channels")
        .complexity("O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels"),
    Command::new("help", 2, LOADING | STALE, pubsub_help)
        .doc("pubsub", "6.2.0", "Show helpful text about the different subcommands")
        .acl(&[])
        .complexity("O(1)"),
];

fn subscribe(ctx: &mut Ctx, args: Args) -> Reply {
    subscribe_generic(ctx, args, Kind::Channel)
}
fn psubscribe(ctx: &mut Ctx, args: Args) -> Reply {
    subscribe_generic(ctx, args, Kind::Pattern)
}
fn ssubscribe(ctx: &mut Ctx, args: Args) -> Reply {
    subscribe_generic(ctx, args, Kind::Shard)
}
fn unsubscribe(ctx: &mut Ctx, args: Args) -> Reply {
    unsubscribe_generic(ctx, args, Kind::Channel)
}
fn punsubscribe(ctx: &mut Ctx, args: Args) -> Reply {
    unsubscribe_generic(ctx, args, Kind::Pattern)
}
fn sunsubscribe(ctx: &mut Ctx, args: Args) -> Reply {
    unsubscribe_generic(ctx, args, Kind::Shard)
}

fn confirmation(verb: &'static str, kind: Kind, name: Option<&[u8]>, count: usize) -> Reply {
    let prefix = match kind {
        Kind::Channel => "",
        Kind::Pattern => "p",
        Kind::Shard => "s",
    };
    Reply::Push(vec![
        Reply::bulk(format!("{prefix}{verb}")),
        name.map_or(Reply::Nil, Reply::bulk),
        Reply::Int(count as i64),
    ])
}

/// Where confirmations go: through the outbox, each queued under the hub lock that (un)registers its channel so
/// it keeps its place among that channel's messages; or, inside EXEC or for a client with no outbox, into the
/// command's reply (as Redis, whose EXEC array then holds the frames).
enum Sink {
    Outbox(Arc<Outbox>, Limits, Protocol),
    Inline(Vec<u8>, Protocol),
}

type Queued = Option<(Chunk, usize, Limits)>;

impl Sink {
    fn new(ctx: &Ctx) -> Self {
        let proto = ctx.client.protocol;
        match &ctx.client.ext.pubsub.outbox {
            Some(o) if !transaction::in_exec(ctx.client) => {
                let limits = ctx.server.pubsub.limits(&ctx.server.config);
                Sink::Outbox(o.clone(), limits, proto)
            }
            _ => Sink::Inline(Vec::new(), proto),
        }
    }

    /// Encodes a confirmation: appended to the reply now, or returned for the hub to queue under its lock.
    fn confirm(&mut self, reply: &Reply) -> Queued {
        match self {
            Sink::Inline(buf, proto) => {
                encode(reply, *proto, buf);
                None
            }
            Sink::Outbox(_, limits, proto) => {
                let (chunk, len) = frame(reply, *proto);
                Some((chunk, len, *limits))
            }
        }
    }

    /// Queues a confirmation that no hub change goes with.
    fn push(&self, queued: Queued) {
        if let (Sink::Outbox(o, ..), Some((chunk, len, limits))) = (self, queued) {
            o.push(chunk, len, limits);
        }
    }

    fn reply(self) -> Reply {
        match self {
            Sink::Inline(buf, _) => Reply::Raw(buf),
            Sink::Outbox(..) => Reply::NoReply,
        }
    }
}

fn subscribe_generic(ctx: &mut Ctx, args: Args, kind: Kind) -> Reply {
    let info = ctx.client.info.clone();
    let outbox = ctx.client.ext.pubsub.outbox(&info);
    let mut sink = Sink::new(ctx);
    let hub = &ctx.server.pubsub;
    let ps: &mut ClientPubSub = &mut ctx.client.ext.pubsub;
    for name in args.iter().skip(1) {
        let new = ps.add(kind, name);
        let queued = sink.confirm(&confirmation("subscribe", kind, Some(name), ps.count(kind)));
        if new {
            hub.subscribe(kind, name, &outbox, queued);
        } else {
            sink.push(queued);
        }
    }
    ps.publish_counts(&info);
    sink.reply()
}

fn unsubscribe_generic(ctx: &mut Ctx, args: Args, kind: Kind) -> Reply {
    let mut sink = Sink::new(ctx);
    let hub = &ctx.server.pubsub;
    let ps: &mut ClientPubSub = &mut ctx.client.ext.pubsub;
    let names: Vec<Box<[u8]>> = if args.len() > 1 {
        args.iter().skip(1).map(Box::from).collect()
    } else {
        ps.names(kind)
    };
    if names.is_empty() {
        let queued = sink.confirm(&confirmation("unsubscribe", kind, None, ps.count(kind)));
        sink.push(queued);
    }
    for name in &names {
        let removed = ps.remove(kind, name);
        let queued = sink.confirm(&confirmation(
            "unsubscribe",
            kind,
            Some(name),
            ps.count(kind),
        ));
        match &ps.outbox {
            Some(o) if removed => hub.unsubscribe(kind, name, o, queued),
            _ => sink.push(queued),
        }
    }
    ps.publish_counts(&ctx.client.info);
    sink.reply()
}

fn publish(ctx: &mut Ctx, args: Args) -> Reply {
    publish_generic(ctx, args, Kind::Channel)
}
fn spublish(ctx: &mut Ctx, args: Args) -> Reply {
    publish_generic(ctx, args, Kind::Shard)
}

fn publish_generic(ctx: &mut Ctx, args: Args, kind: Kind) -> Reply {
    let server = ctx.server;
    // A subscriber's (UN)SUBSCRIBE that reached the server before this PUBLISH counts, as in Redis.
    // Not inside EXEC, whose locks a subscriber's command may be waiting for.
    if !transaction::in_exec(ctx.client) {
        let receivers = server.pubsub.receivers(kind, args.get(1));
        crate::server::fence::before_publish(server, &ctx.client.info, receivers);
    }
    let n = server
        .pubsub
        .publish(&server.config, kind, args.get(1), args.get(2));
    Reply::Int(n as i64)
}

/// `addReplySubcommandSyntaxError`: the subcommand exists but not with this many arguments.
fn subcommand_syntax_error(args: Args) -> Reply {
    Reply::err(&format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&args.get(1)[..args.get(1).len().min(128)]),
        String::from_utf8_lossy(args.get(0)).to_ascii_uppercase()
    ))
}

fn channels_generic(ctx: &mut Ctx, args: Args, kind: Kind) -> Reply {
    if args.len() > 3 {
        return subcommand_syntax_error(args);
    }
    let pattern = (args.len() == 3).then(|| args.get(2));
    Reply::bulks(ctx.server.pubsub.channel_names(kind, pattern))
}

fn numsub_generic(ctx: &mut Ctx, args: Args, kind: Kind) -> Reply {
    let hub = &ctx.server.pubsub;
    let mut out = Vec::with_capacity(2 * (args.len() - 2));
    for name in args.iter().skip(2) {
        out.push(Reply::bulk(name));
        out.push(Reply::Int(hub.subscriber_count(kind, name) as i64));
    }
    Reply::Array(out)
}

fn pubsub_channels(ctx: &mut Ctx, args: Args) -> Reply {
    channels_generic(ctx, args, Kind::Channel)
}
fn pubsub_shardchannels(ctx: &mut Ctx, args: Args) -> Reply {
    channels_generic(ctx, args, Kind::Shard)
}
fn pubsub_numsub(ctx: &mut Ctx, args: Args) -> Reply {
    numsub_generic(ctx, args, Kind::Channel)
}
fn pubsub_shardnumsub(ctx: &mut Ctx, args: Args) -> Reply {
    numsub_generic(ctx, args, Kind::Shard)
}
fn pubsub_numpat(ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::Int(ctx.server.pubsub.pattern_count() as i64)
}

fn pubsub_help(_ctx: &mut Ctx, _args: Args) -> Reply {
    const LINES: &[&str] = &[
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    ];
    Reply::Array(LINES.iter().map(|l| Reply::status(l)).collect())
}
