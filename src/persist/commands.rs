//! SAVE, BGSAVE, LASTSAVE and DEBUG RELOAD.

use crate::commands::flags::*;
use crate::commands::{Args, Command, Ctx};
use crate::db::LockPlan;
use crate::protocol::Reply;

use super::rdbfile::{self, Duplicates, Source};
use super::save::{bgsave, save_now, BgsaveRefused};

pub const COMMANDS: &[Command] = &[
    Command::new(
        "save",
        1,
        NO_ASYNC_LOADING | ADMIN | NOSCRIPT | NO_MULTI,
        save,
    )
    .doc("server", "1.0.0", "Synchronously save the dataset to disk")
    .complexity("O(N) where N is the total number of keys in all databases"),
    Command::new(
        "bgsave",
        -1,
        NO_ASYNC_LOADING | ADMIN | NOSCRIPT,
        bgsave_cmd,
    )
    .doc("server", "1.0.0", "Asynchronously save the dataset to disk")
    .complexity("O(1)"),
    Command::new("lastsave", 1, LOADING | STALE | FAST, lastsave)
        .acl(&["admin", "dangerous"])
        .doc(
            "server",
            "1.0.0",
            "Get the UNIX time stamp of the last successful save to disk",
        )
        .complexity("O(1)"),
];

const IN_PROGRESS: &str = "Background save already in progress";

/// SAVE: a snapshot written on this thread; clients keep running meanwhile (they cannot change what it saves).
fn save(ctx: &mut Ctx, _args: Args) -> Reply {
    let p = &ctx.server.persist;
    if p.bgsave_in_progress() {
        return Reply::err(IN_PROGRESS);
    }
    p.update(|s| s.saves += 1);
    match save_now(ctx.server, Source::Snapshot) {
        Ok(()) => Reply::Ok,
        // Redis answers a failed SAVE with its bare shared error.
        Err(_) => Reply::error("ERR"),
    }
}

/// BGSAVE [SCHEDULE]. Inside MULTI it is scheduled, as Redis does while a transaction runs.
fn bgsave_cmd(ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() > 1 && !(args.len() == 2 && args.get(1).eq_ignore_ascii_case(b"schedule")) {
        return Reply::syntax_error();
    }
    let p = &ctx.server.persist;
    if p.bgsave_in_progress() {
        return Reply::err(IN_PROGRESS);
    }
    if crate::commands::transaction::in_exec(ctx.client) {
        p.update(|s| s.bgsave_scheduled = true);
        return Reply::status("Background saving scheduled");
    }
    match bgsave(ctx.server) {
        Ok(()) => Reply::status("Background saving started"),
        Err(BgsaveRefused::InProgress) => Reply::err(IN_PROGRESS),
        Err(BgsaveRefused::NoThread) => Reply::error("ERR"),
    }
}

fn lastsave(ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::Int(ctx.server.persist.status().last_save)
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty every database, load the file back.
pub fn debug_reload(ctx: &mut Ctx, args: Args) -> Reply {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for opt in args.iter().skip(2) {
        match opt.to_ascii_lowercase().as_slice() {
            b"merge" => merge = true,
            b"noflush" => flush = false,
            b"nosave" => save = false,
            _ => {
                return Reply::err(
                    "DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
                )
            }
        }
    }
    // A transaction holds shard locks the save and the load would wait for.
    if crate::commands::transaction::in_exec(ctx.client) {
        return Reply::err("DEBUG RELOAD is not supported inside MULTI");
    }
    let server = ctx.server;
    if save && save_now(server, Source::Snapshot).is_err() {
        return Reply::error("ERR");
    }
    if flush {
        empty_all(server);
    }
    let dups = if merge {
        Duplicates::Replace
    } else {
        Duplicates::Refuse
    };
    match rdbfile::load(server, dups) {
        Ok(_) => {
            log::warn!("DB reloaded by DEBUG RELOAD");
            Reply::Ok
        }
        Err(lines) => {
            lines.iter().for_each(|l| log::warn!("{l}"));
            Reply::err("Error trying to load the RDB dump")
        }
    }
}

/// Empties every database under all the shard locks at once (Redis's `emptyData`); watchers see the change.
/// The function libraries go too, as `emptyData` drops them (FLUSHALL keeps them; it does not come here).
pub fn empty_all(server: &crate::server::Server) {
    server.scripts.flush_functions();
    let ks = &server.keyspace;
    let mut plan = LockPlan::new();
    plan.all_dbs(ks, true);
    let mut keys = crate::db::KeyLocks::new(server, plan.acquire(ks), crate::util::time::now_ms());
    for db in 0..ks.db_count() {
        drop(keys.flush_db(db));
    }
}
