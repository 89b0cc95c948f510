//! Server commands without a module of their own: DBSIZE, TIME, SHUTDOWN.
//! INFO, CONFIG and COMMAND live in `info`, `config_cmd` and `introspection`.

use super::flags::*;
use super::{Args, Command, Ctx, Scope};
use crate::protocol::Reply;
use crate::util::time::now_us;

pub const COMMANDS: &[Command] = &[
    Command::new("dbsize", 1, READONLY | FAST, dbsize)
        .scope(Scope::WholeDb)
        .doc(
            "server",
            "1.0.0",
            "Return the number of keys in the selected database",
        )
        .acl(&["keyspace"])
    .complexity("O(1)"),
    Command::new("time", 1, LOADING | STALE | FAST, time).doc(
        "server",
        "2.6.0",
        "Return the current server time",
    )
    .complexity("O(1)"),
    Command::new(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        shutdown,
    )
    .doc(
        "server",
        "1.0.0",
        "Synchronously save the dataset to disk and then shut down the server",
    )
    .complexity("O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)"),
];

fn dbsize(ctx: &mut Ctx, _args: Args) -> Reply {
    let db = ctx.db();
    Reply::Int(ctx.keys.shards(db).map(|(_, s)| s.len()).sum::<usize>() as i64)
}

fn time(_ctx: &mut Ctx, _args: Args) -> Reply {
    let us = now_us();
    Reply::Array(vec![
        Reply::bulk(us.div_euclid(1_000_000).to_string()),
        Reply::bulk(us.rem_euclid(1_000_000).to_string()),
    ])
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`. ferredis keeps nothing on disk, so wherever Redis would save
/// (SAVE, or save points configured without NOSAVE) the save fails, and it answers as Redis does when a save
/// fails: an error, and the server keeps running, unless FORCE says to exit anyway.
fn shutdown(ctx: &mut Ctx, args: Args) -> Reply {
    let (mut nosave, mut save, mut force, mut abort, mut any_flag) =
        (false, false, false, false, false);
    for arg in args.iter().skip(1) {
        let lower = arg.to_ascii_lowercase();
        match lower.as_slice() {
            b"nosave" => nosave = true,
            b"save" => save = true,
            b"now" => {}
            b"force" => force = true,
            b"abort" => abort = true,
            _ => return Reply::syntax_error(),
        }
        any_flag |= lower.as_slice() != b"abort";
    }
    if (abort && any_flag) || (nosave && save) {
        return Reply::syntax_error();
    }
    if abort {
        return Reply::err("No shutdown in progress.");
    }
    let save_points = !ctx.server.config.get("save").unwrap_or_default().is_empty();
    if save || (save_points && !nosave) {
        log::warn!("Error trying to save the DB: ferredis has no persistence");
        if !force {
            log::warn!(
                "Errors trying to shut down the server. Check the logs for more information."
            );
            return Reply::err("Errors trying to SHUTDOWN. Check logs.");
        }
    }
    ctx.server.shutdown("SHUTDOWN command")
}
