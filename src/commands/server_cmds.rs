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

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`: saves first where Redis would (SAVE, or save points set and
/// no NOSAVE); if that save fails the server keeps running and answers an error, unless FORCE says to exit anyway.
fn shutdown(ctx: &mut Ctx, args: Args) -> Reply {
    let mut flags = crate::persist::save::ShutdownFlags::default();
    let (mut abort, mut any_flag) = (false, false);
    for arg in args.iter().skip(1) {
        let lower = arg.to_ascii_lowercase();
        match lower.as_slice() {
            b"nosave" => flags.nosave = true,
            b"save" => flags.save = true,
            b"now" => {}
            b"force" => flags.force = true,
            b"abort" => abort = true,
            _ => return Reply::syntax_error(),
        }
        any_flag |= lower.as_slice() != b"abort";
    }
    if (abort && any_flag) || (flags.nosave && flags.save) {
        return Reply::syntax_error();
    }
    if abort {
        return Reply::err("No shutdown in progress.");
    }
    if crate::persist::save::prepare_shutdown(ctx.server, flags).is_err() {
        return Reply::err("Errors trying to SHUTDOWN. Check logs.");
    }
    ctx.server.shutdown()
}
