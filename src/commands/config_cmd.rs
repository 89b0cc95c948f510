//! CONFIG GET | SET | RESETSTAT | REWRITE | HELP over the parameter table in `crate::config`.

use super::flags::*;
use super::introspection::help_reply;
use super::{Args, Command, Ctx};
use crate::config::{params, Config};
use crate::protocol::Reply;
use std::sync::atomic::Ordering::Relaxed;

const ADMIN_SUB: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

const SUBCOMMANDS: &[Command] = &[
    Command::new("get", -3, ADMIN_SUB, get)
        .doc(
            "server",
            "2.0.0",
            "Get the values of configuration parameters",
        )
        .complexity("O(N) when N is the number of configuration parameters provided"),
    Command::new("set", -4, ADMIN_SUB, set)
        .doc(
            "server",
            "2.0.0",
            "Set configuration parameters to the given values",
        )
        .complexity("O(N) when N is the number of configuration parameters provided"),
    Command::new("resetstat", 2, ADMIN_SUB, resetstat)
        .doc("server", "2.0.0", "Reset the stats returned by INFO")
        .complexity("O(1)"),
    Command::new("rewrite", 2, ADMIN_SUB, rewrite)
        .doc(
            "server",
            "2.8.0",
            "Rewrite the configuration file with the in memory configuration",
        )
        .complexity("O(1)"),
    Command::new("help", 2, LOADING | STALE, help)
        .doc(
            "server",
            "5.0.0",
            "Show helpful text about the different subcommands",
        )
        .complexity("O(1)"),
];

pub const COMMANDS: &[Command] = &[Command::new("config", -2, 0, help)
    .doc(
        "server",
        "2.0.0",
        "A container for server configuration commands",
    )
    .complexity("Depends on subcommand.")
    .subcommands(SUBCOMMANDS)];

fn get(ctx: &mut Ctx, args: Args) -> Reply {
    let patterns: Vec<&[u8]> = args.iter().skip(2).collect();
    Reply::Map(
        ctx.server
            .config
            .matching(&patterns)
            .into_iter()
            .map(|(name, value)| (Reply::bulk(name), Reply::bulk(value)))
            .collect(),
    )
}

/// Redis's prefix for a value it refused, naming the argument as the client spelled it.
fn failed(name: &[u8], reason: &str) -> Reply {
    Reply::err(&format!(
        "CONFIG SET failed (possibly related to argument '{}') - {reason}",
        String::from_utf8_lossy(name)
    ))
}

/// All pairs are checked (known, mutable, not protected, not repeated, valid) before any value changes.
fn set(ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() % 2 == 1 {
        return Reply::syntax_error();
    }
    let allow_protected =
        crate::ops::protected::allowed(ctx.server, &ctx.client.info, "enable-protected-configs");
    let mut changes: Vec<(usize, String)> = Vec::new();
    let mut names: Vec<&[u8]> = Vec::new();
    let loading = ctx.server.persist.loading() || ctx.server.repl.async_loading.load(Relaxed);
    for pair in (2..args.len()).step_by(2) {
        let (name, value) = (args.get(pair), args.get(pair + 1));
        let name_text = String::from_utf8_lossy(name);
        let Some(i) = Config::find(&name_text) else {
            return Reply::err(&format!(
                "Unknown option or number of arguments for CONFIG SET - '{name_text}'"
            ));
        };
        let param = Config::param(i);
        if !param.mutable() {
            return failed(name, "can't set immutable config");
        }
        if param.flags & params::PROTECTED != 0 && !allow_protected {
            return failed(name, "can't set protected config");
        }
        // Redis checks no pair after the first refused one: -LOADING when that one is a DENY_LOADING parameter.
        if loading && param.flags & params::DENY_LOADING != 0 {
            return Reply::error(crate::persist::LOADING);
        }
        // As in Redis, a name and its alias are different entries: only the same spelling twice is refused.
        let same_entry = |n: &&[u8]| {
            Config::find(&String::from_utf8_lossy(n)) == Some(i)
                && alias_of(n, i) == alias_of(name, i)
        };
        if names.iter().any(same_entry) {
            return failed(name, "duplicate parameter");
        }
        changes.push((i, String::from_utf8_lossy(value).into_owned()));
        names.push(name);
    }
    let borrowed: Vec<(usize, &str)> = changes.iter().map(|(i, v)| (*i, v.as_str())).collect();
    let config = &ctx.server.config;
    let _guard = config.set_guard();
    let validated = match config.validate_all(&borrowed) {
        Ok(v) => v,
        Err((pos, reason)) => return failed(names[pos], &reason),
    };
    if let Err(reply) = apply_listen_change(ctx, &validated, &names) {
        return reply;
    }
    if let Err((pos, reason)) = crate::tls::apply_config_change(ctx.server, &validated) {
        return failed(names[pos], reason);
    }
    let appendonly = validated
        .iter()
        .find(|(i, _)| Config::param(*i).name == "appendonly")
        .map(|(_, v)| v == "yes");
    let aof_gc = validated
        .iter()
        .any(|(i, v)| Config::param(*i).name == "aof-disable-auto-gc" && v == "no");
    ctx.server.config.commit(validated);
    if aof_gc {
        crate::persist::aof::rewrite::auto_gc_enabled(ctx.server);
    }
    if let Some(on) = appendonly {
        let in_exec = crate::commands::transaction::in_exec(ctx.client);
        if let Err(e) = crate::persist::aof::config_changed(ctx.server, on, in_exec) {
            return Reply::err(e);
        }
    }
    Reply::Ok
}

/// A new port or bind list takes effect before the values are stored: the new sockets are opened first, and if
/// that fails nothing changes, with Redis's error.
fn apply_listen_change(
    ctx: &Ctx,
    validated: &[(usize, String)],
    names: &[&[u8]],
) -> Result<(), Reply> {
    let config = &ctx.server.config;
    let mut port = config.port();
    let mut binds = config.bind();
    let mut blame = None;
    for (pos, (i, value)) in validated.iter().enumerate() {
        match Config::param(*i).name {
            "port" => {
                let new = value.parse().unwrap_or(port);
                if new != port {
                    port = new;
                    blame.get_or_insert((pos, "Unable to listen on this port"));
                }
            }
            "bind" => {
                let new: Vec<String> = value.split_whitespace().map(str::to_string).collect();
                if new != binds {
                    binds = new;
                    blame = Some((pos, "Failed to bind to specified addresses."));
                }
            }
            _ => {}
        }
    }
    let Some((pos, reason)) = blame else {
        return Ok(());
    };
    crate::server::listener::rebind(ctx.server, &binds, port).map_err(|e| {
        log::warn!("CONFIG SET port/bind: {e}");
        failed(names[pos], reason)
    })
}

/// Whether `name` is parameter `i`'s alias rather than its main name.
fn alias_of(name: &[u8], i: usize) -> bool {
    Config::param(i)
        .alias
        .is_some_and(|a| a.as_bytes().eq_ignore_ascii_case(name))
}

fn resetstat(ctx: &mut Ctx, _args: Args) -> Reply {
    crate::server::stats::reset();
    crate::memory::lazyfree::reset_stats();
    ctx.server.repl.reset_stats();
    Reply::Ok
}

fn rewrite(ctx: &mut Ctx, _args: Args) -> Reply {
    match ctx.server.config.rewrite() {
        Ok(()) => {
            log::warn!("CONFIG REWRITE executed with success.");
            Reply::Ok
        }
        Err(e) => {
            log::warn!("CONFIG REWRITE failed: {e}");
            Reply::err(&e)
        }
    }
}

fn help(_ctx: &mut Ctx, _args: Args) -> Reply {
    help_reply(
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    )
}
