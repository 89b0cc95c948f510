//! SAVE, BGSAVE, the save points, FLUSHALL's save and SHUTDOWN's: when a save runs and what it changes in the
//! persistence state, as Redis's `rdbSave`, `rdbSaveBackground`, `backgroundSaveDoneHandlerDisk`, the save-point
//! check of `serverCron` and `finishShutdown`.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::child;
use super::rdbfile::{self, SaveFailed, Source, Writer};
use super::snapshot::SnapshotStats;
use super::state::BGSAVE_RETRY_DELAY_SECS;
use crate::server::stats::dirty_total;
use crate::server::Server;
use crate::util::time::now_ms;

fn now_secs() -> i64 {
    now_ms() / 1000
}

/// Zeroes INFO's save progress and records the number of keys to save. A `Locked` source is counted through its
/// own locks: taking the shards' read locks again would deadlock on the write locks it holds.
fn reset_progress(server: &Server, source: &Source) {
    let p = &server.persist;
    p.keys_processed.store(0, Relaxed);
    let ks = &server.keyspace;
    let total: usize = match source {
        Source::Snapshot => (0..ks.db_count()).map(|db| ks.db_sizes(db).0).sum(),
        Source::Locked(l) => (0..ks.db_count())
            .flat_map(|db| l.shards(db).map(|(_, s)| s.len()))
            .sum(),
    };
    p.keys_total.store(total as u64, Relaxed);
}

/// A save on the calling thread (SAVE, SHUTDOWN, FLUSHALL, DEBUG RELOAD). With `Source::Snapshot` the caller must
/// hold no shard lock. On success the changes counted so far are saved and the last status is ok.
pub fn save_now(server: &Server, source: Source) -> Result<(), SaveFailed> {
    if matches!(source, Source::Snapshot) {
        // One snapshot at a time: a foreground save (DEBUG RELOAD, FLUSHALL's) waits for a running BGSAVE.
        server.persist.wait_bgsave();
    }
    let dirty = dirty_total();
    reset_progress(server, &source);
    rdbfile::save(
        server,
        source,
        Writer::Here,
        None,
        server.persist.keys_processed.clone(),
    )?;
    server.persist.update(|s| {
        s.dirty_at_save = dirty;
        s.last_save = now_secs();
        s.last_bgsave_ok = true;
    });
    Ok(())
}

/// Why a BGSAVE did not start.
#[derive(Debug, PartialEq, Eq)]
pub enum BgsaveRefused {
    InProgress,
    NoThread,
}

/// Starts a background save, as `rdbSaveBackground`: a thread takes the snapshot and streams it to a writer
/// child process (`persist::child::start_job`), whose pid is logged and names the temp file.
pub fn bgsave(server: &Server) -> Result<(), BgsaveRefused> {
    let arc = server.arc().ok_or(BgsaveRefused::NoThread)?;
    let p = &server.persist;
    p.update(|s| {
        if s.bgsave_started.is_some() {
            return Err(BgsaveRefused::InProgress);
        }
        s.saves += 1;
        s.dirty_before_bgsave = dirty_total();
        s.last_bgsave_try = now_secs();
        s.bgsave_started = Some(Instant::now());
        Ok(())
    })?;
    reset_progress(server, &Source::Snapshot);
    let spec = child::JobSpec {
        thread: "ferredis-bgsave",
        title: "redis-rdb-bgsave",
        prefix: "temp-",
        suffix: ".rdb",
        on_end_early: p.cancel_bgsave.clone(),
    };
    let started = child::start_job(spec, move |input, child| {
        let cancel = arc.persist.cancel_bgsave.clone();
        let keys = arc.persist.keys_processed.clone();
        // A panic fails this save, as a crashed Redis child would.
        let result = crate::crash::job_or(
            || {
                rdbfile::save(
                    &arc,
                    Source::Snapshot,
                    Writer::Child(input),
                    Some(cancel),
                    keys,
                )
            },
            SaveFailed,
        );
        if let Ok(stats) = &result {
            log_snapshot_cost(stats);
        }
        bgsave_done(&arc, result.is_ok(), child.wait());
    });
    match started {
        Ok((thread, child)) => {
            let pid = child.pid();
            p.update(|s| s.bgsave_pid = i64::from(pid));
            log::info!("Background saving started by pid {pid}");
            p.set_bgsave_thread(thread, child);
            Ok(())
        }
        Err(e) => {
            log::warn!("Can't save in background: fork: {e}");
            p.update(|s| {
                s.bgsave_started = None;
                s.last_bgsave_ok = false;
            });
            Err(BgsaveRefused::NoThread)
        }
    }
}

/// Where Redis reports the child's copy-on-write: the cost of a snapshot without fork().
fn log_snapshot_cost(stats: &SnapshotStats) {
    log::info!(
        "Snapshot of {} keys: all shards locked for {} us at the start, a shard held at most {} us for saving, {} segments saved by writers, {} KB encoded ahead at most",
        stats.keys,
        stats.start_pause.as_micros(),
        stats.longest_shard.as_micros(),
        stats.saved_by_writers,
        stats.peak_buffered / 1024
    );
}

/// `backgroundSaveDoneHandlerDisk`, from how the save and its writer child ended. A child stopped with SIGUSR1
/// (FLUSHALL, SHUTDOWN: `stop_bgsave`) is not an error; one killed by another signal is.
fn bgsave_done(server: &Server, ok: bool, end: child::End) {
    let p = &server.persist;
    let cancelled = p.cancel_bgsave.swap(false, Relaxed);
    p.update(|s| {
        match end {
            _ if ok => {
                log::info!("Background saving terminated with success");
                s.dirty_at_save = s.dirty_before_bgsave;
                s.last_save = now_secs();
                s.last_bgsave_ok = true;
            }
            child::End::Signal(sig) => {
                log::warn!("Background saving terminated by signal {sig}");
                if sig != libc::SIGUSR1 {
                    s.last_bgsave_ok = false;
                }
            }
            // The stop came as the child finished: the file was not installed.
            child::End::Exited(0) if cancelled => {
                log::warn!("Background saving terminated by signal {}", libc::SIGUSR1)
            }
            child::End::Exited(_) => {
                log::warn!("Background saving error");
                s.last_bgsave_ok = false;
            }
        }
        s.last_bgsave_secs = s
            .bgsave_started
            .map_or(-1, |t| t.elapsed().as_secs() as i64);
        s.last_cow_size = super::snapshot::COPIED.load(Relaxed);
        s.bgsave_started = None;
        s.bgsave_pid = -1;
    });
}

/// The `save` parameter as (seconds, changes) pairs.
pub fn save_points(server: &Server) -> Vec<(i64, u64)> {
    let text = server.config.get("save").unwrap_or_default();
    let nums: Vec<i64> = text
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    nums.chunks_exact(2)
        .map(|p| (p[0], p[1].max(0) as u64))
        .collect()
}

/// One pass of `serverCron`'s persistence part: a save point that is due, or a scheduled BGSAVE, starts a
/// BGSAVE, unless the last one failed less than 5 seconds ago.
pub fn cron_tick(server: &Server) {
    let p = &server.persist;
    if p.loading() || p.bgsave_in_progress() {
        return;
    }
    let s = p.status();
    let now = now_secs();
    let may_retry = now - s.last_bgsave_try > BGSAVE_RETRY_DELAY_SECS || s.last_bgsave_ok;
    if !may_retry {
        return;
    }
    let dirty = p.changes_since_save();
    let due = save_points(server)
        .into_iter()
        .find(|&(secs, changes)| dirty >= changes && now - s.last_save > secs);
    if let Some((secs, changes)) = due {
        log::info!("{changes} changes in {secs} seconds. Saving...");
        let _ = bgsave(server);
    } else if s.bgsave_scheduled && bgsave(server).is_ok() {
        p.update(|s| s.bgsave_scheduled = false);
    }
}

/// Runs `cron_tick` every 100 ms, as Redis's serverCron at its default `hz`.
pub fn spawn_cron(server: Arc<Server>) {
    let spawned = std::thread::Builder::new()
        .name("ferredis-savepoints".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_millis(100));
            cron_tick(&server);
        });
    if let Err(e) = spawned {
        log::warn!("could not start the save-point thread: {e}");
    }
}

/// After FLUSHALL emptied every database (its locks still held; it stopped any BGSAVE first): with save points
/// set, save the empty dataset from those locks.
pub fn after_flushall(ctx: &crate::commands::Ctx) {
    let server = ctx.server;
    if !save_points(server).is_empty() && save_now(server, Source::Locked(&ctx.keys)).is_ok() {
        // The flush's own changes reach the thread's stats after the command: the file has them already.
        let flushed = ctx.keys.uncounted_dirty();
        server.persist.update(|s| s.dirty_at_save += flushed);
    }
}

/// What SHUTDOWN (or SIGTERM / SIGINT) asked for.
#[derive(Clone, Copy, Default)]
pub struct ShutdownFlags {
    pub save: bool,
    pub nosave: bool,
    pub force: bool,
}

/// Redis's `prepareForShutdown` / `finishShutdown` for persistence: stop a running BGSAVE, then save if asked or
/// if save points are set. Err when the save failed and FORCE was not given: the server keeps running.
pub fn prepare_shutdown(server: &Server, mut flags: ShutdownFlags) -> Result<(), SaveFailed> {
    log::warn!("User requested shutdown...");
    let p = &server.persist;
    if p.loading() {
        flags.save = false;
        flags.nosave = true;
    }
    if p.bgsave_in_progress() {
        log::warn!("There is a child saving an .rdb. Killing it!");
        p.stop_bgsave();
        p.wait_bgsave();
    }
    if (!save_points(server).is_empty() && !flags.nosave) || flags.save {
        log::info!("Saving the final RDB snapshot before exiting.");
        if save_now(server, Source::Snapshot).is_err() {
            if flags.force {
                log::warn!("Error trying to save the DB. Exit anyway.");
            } else {
                log::warn!("Error trying to save the DB, can't exit.");
                log::warn!(
                    "Errors trying to shut down the server. Check the logs for more information."
                );
                return Err(SaveFailed);
            }
        }
    }
    if server.persist.aof.enabled() {
        log::info!("Calling fsync() on the AOF file.");
        super::aof::stop(server);
    }
    Ok(())
}
