//! Loading at start-up, the gates persistence puts before commands (-LOADING, -MISCONF) and INFO persistence.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use super::rdbfile::{self, Duplicates};
use crate::commands::{flags, Command};
use crate::protocol::Reply;
use crate::server::stats::dirty_total;
use crate::server::Server;

/// Loads `dir/dbfilename` before the server is ready, as Redis's `loadDataFromDisk`. Clients may connect
/// meanwhile and get -LOADING. A file that cannot be read stops start-up: the lines before the last are logged
/// here, the last is returned for `main` to log before exiting non-zero.
/// Whether start-up has a dataset to load (an AOF to replay, or the RDB file): only then do clients that connect
/// meanwhile get -LOADING, as Redis sets `loading` only when it starts to load something.
pub fn anything_to_load(server: &Server) -> bool {
    let dbfilename = server
        .config
        .get("dbfilename")
        .unwrap_or_else(|| "dump.rdb".into());
    let aof = server.config.get("appendonly").as_deref() == Some("yes");
    // An AOF to replay answers at once (Redis's loader serves clients from its first command); an RDB file after
    // its first interval of bytes. With `appendonly yes` and no AOF, start-up still holds commands back (the
    // AOF's first files are created before the writes they log) but nobody is answered -LOADING.
    server
        .persist
        .loading_answers
        .store(aof && aof_to_load(server), Relaxed);
    aof || std::path::Path::new(&dbfilename).exists()
}

pub fn load_at_startup(server: &Server) -> Result<(), String> {
    let p = &server.persist;
    p.loading.store(anything_to_load(server), Relaxed);
    let start = Instant::now();
    if server.config.get("appendonly").as_deref() == Some("yes") {
        return load_aof_at_startup(server);
    }
    crate::replication::rdbinfo::begin_startup_load(server);
    let result = rdbfile::load(server, Duplicates::Refuse);
    crate::replication::rdbinfo::end_startup_load(server, matches!(result, Ok(Some(_))));
    let outcome = match result {
        Ok(Some(loaded)) => {
            log::info!(
                "DB loaded from disk: {} seconds",
                rdbfile::seconds_since(start)
            );
            p.update(|s| {
                s.load_keys_loaded = loaded.keys;
                s.load_keys_expired = loaded.expired;
            });
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(mut lines) => {
            let last = lines.pop().unwrap_or_default();
            lines.iter().for_each(|l| log::warn!("{l}"));
            Err(last)
        }
    };
    // Loading is not a change: what was just read is what is on disk.
    p.update(|s| s.dirty_at_save = dirty_total());
    p.loading.store(false, Relaxed);
    outcome
}

/// With `appendonly yes` the AOF is loaded instead of the RDB file, then opened for appending.
fn load_aof_at_startup(server: &Server) -> Result<(), String> {
    let p = &server.persist;
    let mut outcome = super::aof::load_at_startup(server);
    p.update(|s| s.dirty_at_save = dirty_total());
    if outcome.is_ok() {
        outcome = match server.arc() {
            Some(arc) => super::aof::open_on_start(&arc),
            None => Err("no server".into()),
        };
    }
    p.loading.store(false, Relaxed);
    outcome
}

/// The refusal of a command (or a configuration change) while the dataset loads.
pub const LOADING: &str = "LOADING Redis is loading the dataset in memory";

const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// Redis's `processCommand` checks that belong to persistence, in its order: writes (and PING) are refused
/// (and EXEC of a queue holding a write: `cmd_flags` is `transaction::effective_flags`) after a failed BGSAVE or
/// AOF write while `stop-writes-on-bgsave-error` is on and save points are set; while the dataset loads, commands
/// wait until the loader serves clients, then those without the `loading` flag are refused.
#[inline]
pub fn gate(server: &Server, cmd: &Command, cmd_flags: u32) -> Option<Reply> {
    let p = &server.persist;
    if cmd_flags & flags::WRITE != 0 || cmd.name == "ping" {
        if let Some(e) = disk_error(server) {
            return Some(Reply::Error(e.into()));
        }
    }
    // While a replica loads its master's RDB asynchronously, commands that would disturb the load are refused.
    if cmd_flags & flags::NO_ASYNC_LOADING != 0 && server.repl.async_loading.load(Relaxed) {
        return Some(Reply::error(LOADING));
    }
    if p.loading() {
        // Until the loader would serve clients (`loading_answers`) every command waits, as a client of Redis
        // waits for a loader that has not reached its next event point: no -LOADING Redis never sends, and no
        // command with the `loading` flag sees half a dataset.
        while p.loading() && !p.loading_answers.load(Relaxed) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        if p.loading() && !cmd.has(flags::LOADING) {
            return Some(Reply::error(LOADING));
        }
    }
    None
}

/// Whether `appendonly yes` has an AOF to load: a manifest, or a Redis < 7 AOF in the working directory.
fn aof_to_load(server: &Server) -> bool {
    let (filename, dir) = super::aof::paths(server);
    dir.join(format!("{filename}.manifest")).exists() || std::path::Path::new(&filename).exists()
}

/// Redis's `writeCommandsDeniedByDiskError` with its message: why writes are refused after a failed BGSAVE (while
/// `stop-writes-on-bgsave-error` is on and save points are set) or a failed AOF write, if they are.
pub fn disk_error(server: &Server) -> Option<String> {
    let p = &server.persist;
    if p.bgsave_failed() && misconf_applies(server) {
        return Some(MISCONF.to_string());
    }
    if p.aof.enabled() {
        if let Some(e) = p.aof.write_error() {
            return Some(format!("MISCONF Errors writing to the AOF file: {e}"));
        }
    }
    None
}

fn misconf_applies(server: &Server) -> bool {
    server.config.get("stop-writes-on-bgsave-error").as_deref() == Some("yes")
        && !super::save::save_points(server).is_empty()
}

/// INFO persistence with Redis 7.0's fields in its order. The copy-on-write fields count what the snapshot copied
/// because of writes (`snapshot::COPIED`), the counterpart of a forked child's copied pages.
pub fn info_section(server: &Server, out: &mut String) {
    let p = &server.persist;
    let s = p.status();
    let loading = p.loading() as u8;
    let bool_status = |ok: bool| if ok { "ok" } else { "err" };
    let current = s
        .bgsave_started
        .map_or(-1, |t| t.elapsed().as_secs() as i64);
    let (processed, total) = if s.bgsave_started.is_some() {
        (p.keys_processed.load(Relaxed), p.keys_total.load(Relaxed))
    } else {
        (0, 0)
    };
    // While a child runs, what its snapshot copied because of writes (Redis: the child's copy-on-write) and how
    // far the save is.
    let (aof_cow, rewriting) = {
        let inner = p.aof.inner.lock();
        (inner.last_cow_size, inner.rewrite_started.is_some())
    };
    let cow = if s.bgsave_started.is_some() || rewriting {
        super::snapshot::COPIED.load(Relaxed)
    } else {
        0
    };
    let perc = if total > 0 {
        processed as f64 * 100.0 / total as f64
    } else {
        0.0
    };
    let mut rows: Vec<(&str, String)> = vec![
        ("loading", loading.to_string()),
        (
            "async_loading",
            u8::from(server.repl.async_loading.load(Relaxed)).to_string(),
        ),
        ("current_cow_peak", cow.to_string()),
        ("current_cow_size", cow.to_string()),
        ("current_cow_size_age", "0".into()),
        ("current_fork_perc", format!("{perc:.2}")),
        ("current_save_keys_processed", processed.to_string()),
        ("current_save_keys_total", total.to_string()),
        (
            "rdb_changes_since_last_save",
            p.changes_since_save().to_string(),
        ),
        (
            "rdb_bgsave_in_progress",
            ((s.bgsave_started.is_some() || server.repl.syncs_running.load(Relaxed) > 0) as u8)
                .to_string(),
        ),
        ("rdb_last_save_time", s.last_save.to_string()),
        (
            "rdb_last_bgsave_status",
            bool_status(s.last_bgsave_ok).into(),
        ),
        ("rdb_last_bgsave_time_sec", s.last_bgsave_secs.to_string()),
        ("rdb_current_bgsave_time_sec", current.to_string()),
        ("rdb_saves", s.saves.to_string()),
        ("rdb_last_cow_size", s.last_cow_size.to_string()),
        (
            "rdb_last_load_keys_expired",
            s.load_keys_expired.to_string(),
        ),
        ("rdb_last_load_keys_loaded", s.load_keys_loaded.to_string()),
    ];
    rows.extend(super::aof::info_rows(server));
    rows.extend([
        ("aof_last_cow_size", aof_cow.to_string()),
        ("module_fork_in_progress", "0".into()),
        ("module_fork_last_cow_size", "0".into()),
    ]);
    out.push_str("# Persistence\r\n");
    for (k, v) in rows {
        let _ = write!(out, "{k}:{v}\r\n");
    }
    super::aof::info_enabled(server, out);
    if loading == 1 {
        loading_fields(p, out);
    }
}

/// The progress of a load, computed as Redis computes it.
fn loading_fields(p: &super::Persistence, out: &mut String) {
    let start = p.loading_start.load(Relaxed) as i64;
    let total = p.loading_total_bytes.load(Relaxed);
    let used_mem = p.loading_rdb_used_mem.load(Relaxed);
    let loaded = p.loading_loaded_bytes.load(Relaxed);
    let (perc, remaining) = if total > 0 {
        (
            loaded as f64 / total as f64 * 100.0,
            total.saturating_sub(loaded),
        )
    } else if used_mem > 0 {
        let perc = (loaded as f64 / used_mem as f64 * 100.0).min(99.99);
        (perc, used_mem.saturating_sub(loaded).max(1))
    } else {
        (0.0, 1)
    };
    let elapsed = crate::util::time::now_ms() / 1000 - start;
    let eta = if elapsed == 0 {
        1
    } else {
        elapsed * remaining as i64 / (loaded as i64 + 1)
    };
    let _ = write!(
        out,
        "loading_start_time:{start}\r\nloading_total_bytes:{total}\r\nloading_rdb_used_mem:{used_mem}\r\n\
         loading_loaded_bytes:{loaded}\r\nloading_loaded_perc:{perc:.2}\r\nloading_eta_seconds:{eta}\r\n"
    );
}
