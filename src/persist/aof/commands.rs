//! BGREWRITEAOF and DEBUG LOADAOF.

use crate::commands::flags::*;
use crate::commands::{Args, Command, Ctx};
use crate::protocol::Reply;
use crate::server::stats::dirty_total;

use super::load::{self, Outcome};
use super::manifest::{self, Names};
use super::rewrite::{self, Refused};
use super::{paths, AofState};

pub const COMMANDS: &[Command] = &[Command::new(
    "bgrewriteaof",
    1,
    NO_ASYNC_LOADING | ADMIN | NOSCRIPT,
    bgrewriteaof,
)
.doc(
    "server",
    "1.0.0",
    "Asynchronously rewrite the append-only file",
)
.complexity("O(1)")];

fn bgrewriteaof(ctx: &mut Ctx, _args: Args) -> Reply {
    // Inside EXEC it is scheduled, as Redis does while a transaction runs.
    if crate::commands::transaction::in_exec(ctx.client) {
        let mut inner = ctx.server.persist.aof.inner.lock();
        if inner.rewrite_started.is_some() {
            return Reply::err("Background append only file rewriting already in progress");
        }
        inner.rewrite_scheduled = true;
        inner.consecutive_failures = 0;
        return Reply::status("Background append only file rewriting scheduled");
    }
    match rewrite::bgrewriteaof(ctx.server) {
        Ok(()) => Reply::status("Background append only file rewriting started"),
        Err(Refused::InProgress) => {
            Reply::err("Background append only file rewriting already in progress")
        }
        Err(Refused::Scheduled) => Reply::status("Background append only file rewriting scheduled"),
        Err(Refused::Failed) => Reply::err(
            "Can't execute an AOF background rewriting. Please check the server logs for more information.",
        ),
    }
}

/// DEBUG LOADAOF: the AOF written out and fsynced, every database emptied, the AOF loaded back from disk. A file
/// that cannot be loaded stops the server, as in Redis.
pub fn debug_loadaof(ctx: &mut Ctx, _args: Args) -> Reply {
    if crate::commands::transaction::in_exec(ctx.client) {
        return Reply::err("DEBUG LOADAOF is not supported inside MULTI");
    }
    let server = ctx.server;
    let aof = &server.persist.aof;
    // The writer stops (flushing what it has) so that the replay is not appended to the file again.
    let (was_on, writer) = {
        let mut inner = aof.inner.lock();
        let on = inner.state == AofState::On;
        (on, if on { inner.writer.take() } else { None })
    };
    if let Some(w) = writer {
        w.stop();
    }
    crate::persist::commands::empty_all(server);
    let (filename, dir) = paths(server);
    let names = Names {
        filename: &filename,
    };
    let am = match manifest::load(&dir, &names) {
        Ok(am) => am,
        Err(lines) => {
            lines.iter().for_each(|l| log::warn!("{l}"));
            exit_now();
        }
    };
    // Other clients are answered -LOADING meanwhile, as Redis's startLoading makes them.
    server
        .persist
        .loading
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let loaded = load::load_files(server, &dir, &am);
    server
        .persist
        .loading
        .store(false, std::sync::atomic::Ordering::Relaxed);
    if !matches!(
        loaded.outcome,
        Outcome::Ok | Outcome::Empty | Outcome::NotExist
    ) {
        exit_now();
    }
    {
        let mut inner = aof.inner.lock();
        inner.manifest = am;
        inner.size_at_start = loaded.total_size;
        inner.base_size = loaded.base_size;
    }
    if was_on {
        let Some(arc) = server.arc() else {
            return Reply::error("ERR");
        };
        if let Err(e) = super::open_on_start(&arc) {
            log::warn!("{e}");
            exit_now();
        }
    }
    // Prevent AOF / replication, as Redis's `server.dirty = 0`.
    server.persist.update(|s| s.dirty_at_save = dirty_total());
    log::warn!("Append Only File loaded by DEBUG LOADAOF");
    Reply::Ok
}

fn exit_now() -> ! {
    log::logger().flush();
    std::process::exit(1)
}
