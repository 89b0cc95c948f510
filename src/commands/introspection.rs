//! COMMAND and its subcommands, generated from the command table in Redis 7.0's reply shapes.

use super::flags::*;
use super::table::{self, CommandTable};
use super::{keyspec, Args, Command, Ctx};
use crate::protocol::Reply;
use crate::util::glob::glob_match;

const SUB: u32 = LOADING | STALE;

const SUBCOMMANDS: &[Command] = &[
    sub(
        "count",
        2,
        count,
        "2.8.13",
        "Get total number of Redis commands",
    )
    .complexity("O(1)"),
    sub(
        "info",
        -2,
        info,
        "2.8.13",
        "Get array of specific Redis command details, or all when no argument is given.",
    )
    .complexity("O(N) where N is the number of commands to look up"),
    sub(
        "docs",
        -2,
        docs,
        "7.0.0",
        "Get array of specific Redis command documentation",
    )
    .complexity("O(N) where N is the number of commands to look up"),
    sub(
        "getkeys",
        -4,
        getkeys,
        "2.8.13",
        "Extract keys given a full Redis command",
    )
    .complexity("O(N) where N is the number of arguments to the command"),
    sub(
        "getkeysandflags",
        -4,
        getkeys,
        "7.0.0",
        "Extract keys and access flags given a full Redis command",
    )
    .complexity("O(N) where N is the number of arguments to the command"),
    sub(
        "list",
        -2,
        list,
        "7.0.0",
        "Get an array of Redis command names",
    )
    .complexity("O(N) where N is the total number of Redis commands"),
    sub(
        "help",
        2,
        help,
        "5.0.0",
        "Show helpful text about the different subcommands",
    )
    .complexity("O(1)"),
];

const fn sub(
    name: &'static str,
    arity: i32,
    handler: super::Handler,
    since: &'static str,
    summary: &'static str,
) -> Command {
    Command::new(name, arity, SUB, handler)
        .doc("server", since, summary)
        .acl(&["connection"])
}

pub const COMMANDS: &[Command] = &[Command::new("command", -1, SUB, all)
    .doc("server", "2.8.13", "Get array of Redis command details")
    .complexity("O(N) where N is the total number of Redis commands")
    .acl(&["connection"])
    .subcommands(SUBCOMMANDS)];

/// Redis's `addReplyHelp`: a header naming the command, the given lines, then HELP; all status replies.
pub fn help_reply(command: &str, lines: &[&'static str]) -> Reply {
    let mut out = Vec::with_capacity(lines.len() + 3);
    out.push(Reply::Status(
        format!("{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").into(),
    ));
    out.extend(lines.iter().map(|l| Reply::status(l)));
    out.push(Reply::status("HELP"));
    out.push(Reply::status("    Prints this help."));
    Reply::Array(out)
}

/// ACL categories in the order Redis lists them, with the command group (its COMMAND DOCS spelling) that implies
/// each: the one place a group's docs form (`sorted-set`) meets its ACL form (`sortedset`).
pub const CATEGORIES: &[(&str, Option<&str>)] = &[
    ("keyspace", Some("generic")),
    ("read", None),
    ("write", None),
    ("set", Some("set")),
    ("sortedset", Some("sorted-set")),
    ("list", Some("list")),
    ("hash", Some("hash")),
    ("string", Some("string")),
    ("bitmap", Some("bitmap")),
    ("hyperloglog", Some("hyperloglog")),
    ("geo", Some("geo")),
    ("stream", Some("stream")),
    ("pubsub", None),
    ("admin", None),
    ("fast", None),
    ("slow", None),
    ("blocking", None),
    ("dangerous", None),
    ("connection", Some("connection")),
    ("transaction", Some("transactions")),
    ("scripting", Some("scripting")),
];

/// The categories Redis's `setImplicitACLCategories` derives from the flags, plus those of the command's file:
/// the ones its row lists, or else the one its group implies (containers such as CLIENT carry none).
pub fn categories(cmd: &Command) -> Vec<&'static str> {
    let container = !cmd.subcommands.is_empty();
    let listed = |name: &str, group: Option<&str>| match cmd.acl {
        Some(list) => list.contains(&name),
        None => !container && group.is_some_and(|g| g == cmd.group),
    };
    CATEGORIES
        .iter()
        .filter(|&&(name, group)| match name {
            // Redis leaves scripting commands out of @read (setImplicitACLCategories).
            "read" => cmd.has(READONLY) && cmd.group != "scripting",
            "write" => cmd.has(WRITE),
            "pubsub" => cmd.has(PUBSUB) || listed(name, Some("pubsub")),
            "admin" => cmd.has(ADMIN) || listed(name, None),
            "dangerous" => cmd.has(ADMIN) || listed(name, None),
            "fast" => cmd.has(FAST),
            "slow" => !cmd.has(FAST),
            "blocking" => cmd.has(BLOCKING),
            _ => listed(name, group),
        })
        .map(|(name, _)| *name)
        .collect()
}

fn status_set(items: &[&'static str]) -> Reply {
    Reply::Set(items.iter().map(|s| Reply::status(s)).collect())
}

fn pair(k: &'static str, v: Reply) -> (Reply, Reply) {
    (Reply::bulk(k), v)
}

/// One COMMAND INFO entry: name, arity, flags, first/last/step, categories, tips, key specs, subcommands.
fn info_entry(t: &CommandTable, id: usize) -> Reply {
    let cmd = t.get(id);
    let (first, last, step) = keyspec::legacy_range(cmd);
    let mut flags: Vec<&'static str> = NAMES
        .iter()
        .filter(|(f, _)| cmd.has(*f))
        .map(|(_, n)| *n)
        .collect();
    if keyspec::movable(cmd) {
        // Redis lists it after no_multi and before allow_busy.
        let at = flags.len() - usize::from(cmd.has(ALLOW_BUSY));
        flags.insert(at, "movablekeys");
    }
    Reply::Array(vec![
        Reply::bulk(t.full_name(id)),
        Reply::Int(cmd.arity as i64),
        status_set(&flags),
        Reply::Int(first as i64),
        Reply::Int(last as i64),
        Reply::Int(step as i64),
        Reply::Set(
            categories(cmd)
                .iter()
                .map(|c| Reply::Status(format!("@{c}").into()))
                .collect(),
        ),
        Reply::Set(
            super::docs::tips(t.full_name(id))
                .iter()
                .map(Reply::bulk)
                .collect(),
        ),
        keyspec::specs_reply(cmd),
        Reply::Set(t.subcommand_ids(id).map(|s| info_entry(t, s)).collect()),
    ])
}

fn all(_ctx: &mut Ctx, _args: Args) -> Reply {
    let t = table::get();
    Reply::Array(t.top_level().map(|id| info_entry(t, id)).collect())
}

fn count(_ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::Int(table::get().top_level().count() as i64)
}

/// A command by name, `parent|sub` included.
pub fn lookup_full(t: &CommandTable, name: &[u8]) -> Option<usize> {
    match name.iter().position(|&b| b == b'|') {
        Some(bar) => {
            let parent = t.lookup(&name[..bar])?;
            t.lookup_sub(parent, &name[bar + 1..])
        }
        None => t.lookup(name),
    }
}

fn info(_ctx: &mut Ctx, args: Args) -> Reply {
    let t = table::get();
    if args.len() == 2 {
        return all(_ctx, args);
    }
    Reply::Array(
        args.iter()
            .skip(2)
            .map(|name| lookup_full(t, name).map_or(Reply::Nil, |id| info_entry(t, id)))
            .collect(),
    )
}

fn docs_entry(t: &CommandTable, id: usize) -> Reply {
    let cmd = t.get(id);
    let mut fields = vec![];
    if !cmd.summary.is_empty() {
        fields.push(pair("summary", Reply::bulk(cmd.summary)));
    }
    fields.push(pair("since", Reply::bulk(cmd.since)));
    fields.push(pair("group", Reply::bulk(cmd.group)));
    // Redis's own text where it has one (rows shared by several commands, as EVAL's and FCALL's, carry one).
    let complexity = match super::docs::complexity(t.full_name(id)) {
        "" => cmd.complexity,
        redis => redis,
    };
    if !complexity.is_empty() {
        fields.push(pair("complexity", Reply::bulk(complexity)));
    }
    fields.extend(super::docs::extras(t.full_name(id)));
    if !cmd.subcommands.is_empty() {
        let subs = t
            .subcommand_ids(id)
            .map(|s| (Reply::bulk(t.full_name(s)), docs_entry(t, s)))
            .collect();
        fields.push(pair("subcommands", Reply::Map(subs)));
    }
    Reply::Map(fields)
}

fn docs(_ctx: &mut Ctx, args: Args) -> Reply {
    let t = table::get();
    let ids: Vec<usize> = if args.len() == 2 {
        t.top_level().collect()
    } else {
        args.iter()
            .skip(2)
            .filter_map(|n| lookup_full(t, n))
            .collect()
    };
    Reply::Map(
        ids.into_iter()
            .map(|id| (Reply::bulk(t.full_name(id)), docs_entry(t, id)))
            .collect(),
    )
}

/// COMMAND GETKEYS and GETKEYSANDFLAGS: the keys the table's key positions pick out of a full command.
fn getkeys(_ctx: &mut Ctx, args: Args) -> Reply {
    let t = table::get();
    let with_flags = args.get(1).eq_ignore_ascii_case(b"getkeysandflags");
    let Some(mut id) = t.lookup(args.get(2)) else {
        return Reply::err("Invalid command specified");
    };
    if !t.get(id).subcommands.is_empty() && args.len() > 3 {
        match t.lookup_sub(id, args.get(3)) {
            Some(s) => id = s,
            None => return Reply::err("Invalid command specified"),
        }
    }
    let cmd = t.get(id);
    if !keyspec::has_keys(cmd) {
        return Reply::err("The command has no key arguments");
    }
    let inner = args.len() - 2;
    if !cmd.arity_ok(inner) {
        return Reply::err("Invalid number of arguments specified for command");
    }
    let frame_args: Vec<&[u8]> = args.iter().skip(2).collect();
    let spans: Vec<(usize, usize)> = {
        let mut pos = 0;
        frame_args
            .iter()
            .map(|a| {
                let s = (pos, pos + a.len());
                pos += a.len();
                s
            })
            .collect()
    };
    let data: Vec<u8> = frame_args.concat();
    let frame = crate::protocol::Frame::new(&data, &spans);
    let keys = keyspec::keys_and_flags(cmd, frame);
    if keys.is_empty() {
        return if cmd.has(NO_MANDATORY_KEYS) {
            Reply::Array(Vec::new())
        } else {
            Reply::err("Invalid arguments specified for command")
        };
    }
    Reply::Array(
        keys.into_iter()
            .map(|(i, flags)| {
                let key = Reply::bulk(frame.get(i));
                if with_flags {
                    Reply::Array(vec![key, keyspec::flags_reply(flags)])
                } else {
                    key
                }
            })
            .collect(),
    )
}

fn list(_ctx: &mut Ctx, args: Args) -> Reply {
    let t = table::get();
    let filter: Box<dyn Fn(usize) -> bool> = match args.len() {
        2 => Box::new(|_| true),
        5 if args.get(2).eq_ignore_ascii_case(b"filterby") => {
            let (kind, value) = (args.get(3).to_ascii_lowercase(), args.get(4).to_vec());
            match kind.as_slice() {
                b"module" => Box::new(|_| false),
                b"aclcat" => {
                    let cat = String::from_utf8_lossy(&value).to_ascii_lowercase();
                    Box::new(move |id| categories(t.get(id)).contains(&cat.as_str()))
                }
                b"pattern" => {
                    Box::new(move |id| glob_match(&value, t.full_name(id).as_bytes(), true))
                }
                _ => return Reply::syntax_error(),
            }
        }
        _ => return Reply::syntax_error(),
    };
    Reply::Array(
        (0..t.len())
            .filter(|&id| filter(id))
            .map(|id| Reply::bulk(t.full_name(id)))
            .collect(),
    )
}

fn help(_ctx: &mut Ctx, _args: Args) -> Reply {
    help_reply(
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    )
}
