//! SLOWLOG, LATENCY, MODULE, LOLWUT and CLIENT PAUSE/UNPAUSE: their table rows and handlers.

use super::{histogram, latency, pause, slowlog};
use crate::commands::flags::*;
use crate::commands::introspection::help_reply;
use crate::commands::table::{self, CommandTable};
use crate::commands::{Args, Command, Ctx};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

const ADMIN_SUB: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const HELP_SUB: u32 = LOADING | STALE;

const fn sub(
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: crate::commands::Handler,
    since: &'static str,
    summary: &'static str,
) -> Command {
    Command::new(name, arity, flags, handler).doc("server", since, summary)
}

const fn container(name: &'static str, since: &'static str, summary: &'static str) -> Command {
    Command::new(name, -2, 0, no_subcommand)
        .doc("server", since, summary)
        .complexity("Depends on subcommand.")
}

#[rustfmt::skip]
const SLOWLOG: &[Command] = &[
    sub("get", -2, ADMIN | LOADING | STALE, slowlog_get, "2.2.12", "Get the slow log's entries").complexity("O(N) where N is the number of entries returned"),
    sub("len", 2, ADMIN | LOADING | STALE, slowlog_len, "2.2.12", "Get the slow log's length").complexity("O(1)"),
    sub("reset", 2, ADMIN | LOADING | STALE, slowlog_reset, "2.2.12", "Clear all entries from the slow log").complexity("O(N) where N is the number of entries in the slowlog"),
    sub("help", 2, HELP_SUB, slowlog_help, "6.2.0", "Show helpful text about the different subcommands").complexity("O(1)"),
];

#[rustfmt::skip]
const LATENCY: &[Command] = &[
    sub("latest", 2, ADMIN_SUB, latency_latest, "2.8.13", "Return the latest latency samples for all events.").complexity("O(1)"),
    sub("history", 3, ADMIN_SUB, latency_history, "2.8.13", "Return timestamp-latency samples for the event.").complexity("O(1)"),
    sub("reset", -2, ADMIN_SUB, latency_reset, "2.8.13", "Reset latency data for one or more events.").complexity("O(1)"),
    sub("graph", 3, ADMIN_SUB, latency_graph, "2.8.13", "Return a latency graph for the event.").complexity("O(1)"),
    sub("doctor", 2, ADMIN_SUB, latency_doctor, "2.8.13", "Return a human readable latency analysis report.").complexity("O(1)"),
    sub("histogram", -2, ADMIN_SUB, latency_histogram, "7.0.0", "Return the cumulative distribution of latencies of a subset of commands or all.").complexity("O(N) where N is the number of commands with latency information being retrieved."),
    sub("help", 2, HELP_SUB, latency_help, "2.8.13", "Show helpful text about the different subcommands.").complexity("O(1)"),
];

const MODULE_LOAD: u32 = NO_ASYNC_LOADING | ADMIN | NOSCRIPT | PROTECTED;

#[rustfmt::skip]
const MODULE: &[Command] = &[
    sub("list", 2, ADMIN | NOSCRIPT, module_list, "4.0.0", "List all modules loaded by the server").complexity("O(N) where N is the number of loaded modules."),
    sub("load", -3, MODULE_LOAD, module_load, "4.0.0", "Load a module").complexity("O(1)"),
    sub("loadex", -3, MODULE_LOAD, module_load, "7.0.0", "Load a module with extended parameters").complexity("O(1)"),
    sub("unload", 3, MODULE_LOAD, module_unload, "4.0.0", "Unload a module").complexity("O(1)"),
    sub("help", 2, HELP_SUB, module_help, "5.0.0", "Show helpful text about the different subcommands").complexity("O(1)"),
];

pub const COMMANDS: &[Command] = &[
    container("slowlog", "2.2.12", "A container for slow log commands").subcommands(SLOWLOG),
    container(
        "latency",
        "2.8.13",
        "A container for latency diagnostics commands",
    )
    .subcommands(LATENCY),
    container("module", "4.0.0", "A container for module commands").subcommands(MODULE),
    Command::new("lolwut", -1, READONLY | FAST, super::lolwut::lolwut).doc(
        "server",
        "5.0.0",
        "Display some computer art and the Redis version",
    ),
];

const PAUSE_FLAGS: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

/// CLIENT PAUSE, a row of CLIENT's table.
pub const CLIENT_PAUSE: Command = Command::new("pause", -3, PAUSE_FLAGS, client_pause)
    .doc(
        "connection",
        "2.9.50",
        "Stop processing commands from clients for some time",
    )
    .complexity("O(1)");

/// CLIENT UNPAUSE, a row of CLIENT's table.
pub const CLIENT_UNPAUSE: Command = Command::new("unpause", 2, PAUSE_FLAGS, client_unpause)
    .doc(
        "connection",
        "6.2.0",
        "Resume processing of clients that were paused",
    )
    .complexity("O(N) Where N is the number of paused clients");

/// A container named alone: Redis's arity error for it.
fn no_subcommand(ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::wrong_arity(ctx.cmd.name)
}

/// Redis's `addReplySubcommandSyntaxError`.
fn subcommand_syntax_error(args: Args) -> Reply {
    Reply::err(&format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(args.get(1)),
        String::from_utf8_lossy(args.get(0)).to_ascii_uppercase()
    ))
}

fn slowlog_get(_ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() > 3 {
        return subcommand_syntax_error(args);
    }
    let mut count = 10usize;
    if args.len() == 3 {
        match parse_i64(args.get(2)) {
            Some(-1) => count = usize::MAX,
            Some(n) if n >= 0 => count = n as usize,
            _ => return Reply::err("count should be greater than or equal to -1"),
        }
    }
    slowlog::get(count)
}

fn slowlog_len(_ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::Int(slowlog::len() as i64)
}

fn slowlog_reset(_ctx: &mut Ctx, _args: Args) -> Reply {
    slowlog::reset();
    Reply::Ok
}

fn slowlog_help(_ctx: &mut Ctx, _args: Args) -> Reply {
    help_reply(
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    )
}

fn latency_latest(_ctx: &mut Ctx, _args: Args) -> Reply {
    latency::with_events(|events| {
        Reply::Array(
            events
                .iter()
                .map(|(name, ts)| {
                    let last = ts.last();
                    Reply::Array(vec![
                        Reply::bulk(name),
                        Reply::Int(last.time),
                        Reply::Int(last.latency as i64),
                        Reply::Int(ts.max as i64),
                    ])
                })
                .collect(),
        )
    })
}

fn latency_history(_ctx: &mut Ctx, args: Args) -> Reply {
    latency::with_events(|events| {
        let Some((_, ts)) = events.iter().find(|(e, _)| e.as_bytes() == args.get(2)) else {
            return Reply::Array(Vec::new());
        };
        Reply::Array(
            ts.history()
                .map(|s| Reply::Array(vec![Reply::Int(s.time), Reply::Int(s.latency as i64)]))
                .collect(),
        )
    })
}

fn latency_reset(_ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() == 2 {
        return Reply::Int(latency::reset(None) as i64);
    }
    let n: usize = args.iter().skip(2).map(|e| latency::reset(Some(e))).sum();
    Reply::Int(n as i64)
}

fn latency_graph(_ctx: &mut Ctx, args: Args) -> Reply {
    latency::with_events(
        |events| match events.iter().find(|(e, _)| e.as_bytes() == args.get(2)) {
            Some((name, ts)) => Reply::Verbatim("txt", latency::graph(name, ts).into_bytes()),
            None => Reply::err(&format!(
                "No samples available for event '{}'",
                String::from_utf8_lossy(args.get(2))
            )),
        },
    )
}

fn latency_doctor(ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::Verbatim("txt", super::doctor::report(ctx.server).into_bytes())
}

/// One command's `calls` and `histogram_usec`, as Redis's `fillCommandCDF`.
fn cdf_reply(h: &histogram::Histogram) -> Reply {
    let buckets = h
        .cdf()
        .into_iter()
        .map(|(usec, n)| (Reply::Int(usec as i64), Reply::Int(n as i64)))
        .collect();
    Reply::Map(vec![
        (Reply::bulk("calls"), Reply::Int(h.total as i64)),
        (Reply::bulk("histogram_usec"), Reply::Map(buckets)),
    ])
}

/// The command and its subcommands that have a histogram, as (full name, CDF) pairs.
fn histograms_of(t: &CommandTable, id: usize, out: &mut Vec<(Reply, Reply)>) {
    if let Some(h) = histogram::snapshot(id) {
        out.push((Reply::bulk(t.full_name(id)), cdf_reply(&h)));
    }
    for sub in t.subcommand_ids(id) {
        if let Some(h) = histogram::snapshot(sub) {
            out.push((Reply::bulk(t.full_name(sub)), cdf_reply(&h)));
        }
    }
}

fn latency_histogram(_ctx: &mut Ctx, args: Args) -> Reply {
    let t = table::get();
    let mut out = Vec::new();
    if args.len() == 2 {
        for id in t.top_level() {
            histograms_of(t, id, &mut out);
        }
    } else {
        for name in args.iter().skip(2) {
            if let Some(id) = crate::commands::introspection::lookup_full(t, name) {
                histograms_of(t, id, &mut out);
            }
        }
    }
    Reply::Map(out)
}

fn latency_help(_ctx: &mut Ctx, _args: Args) -> Reply {
    help_reply(
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    )
}

fn module_list(_ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::Array(Vec::new())
}

/// ferredis loads no modules: the load fails as a module that cannot be opened does in Redis.
fn module_load(_ctx: &mut Ctx, args: Args) -> Reply {
    log::warn!(
        "Module {} failed to load: this server does not support modules",
        String::from_utf8_lossy(args.get(2))
    );
    Reply::err("Error loading the extension. Please check the server logs.")
}

fn module_unload(_ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::err("Error unloading module: no such module with that name")
}

fn module_help(_ctx: &mut Ctx, _args: Args) -> Reply {
    help_reply(
        "MODULE",
        &[
            "LIST",
            "    Return a list of loaded modules.",
            "LOAD <path> [<arg> ...]",
            "    Load a module library from <path>, passing to it any optional arguments.",
            "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
            "    Load a module library from <path>, while passing it module configurations and optional arguments.",
            "UNLOAD <name>",
            "    Unload a module.",
        ],
    )
}

fn client_pause(_ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() > 4 {
        return subcommand_syntax_error(args);
    }
    let mut kind = pause::Kind::All;
    if args.len() == 4 {
        kind = match args.get(3).to_ascii_lowercase().as_slice() {
            b"write" => pause::Kind::Write,
            b"all" => pause::Kind::All,
            _ => return Reply::err("CLIENT PAUSE mode must be WRITE or ALL"),
        };
    }
    let Some(ms) = parse_i64(args.get(2)) else {
        return Reply::err("timeout is not an integer or out of range");
    };
    if ms < 0 {
        return Reply::err("timeout is negative");
    }
    // Redis adds without an overflow check: a timeout past the end of time wraps into the past and the pause
    // ends at once.
    pause::pause(kind, ms.wrapping_add(crate::util::time::now_ms()));
    Reply::Ok
}

fn client_unpause(_ctx: &mut Ctx, _args: Args) -> Reply {
    pause::unpause();
    Reply::Ok
}
