//! The append-only file: Redis 7.0's multi-part AOF (a directory with a base file, increment files and a
//! manifest), fed by the effects feed.
//!
//! # Where things live
//! - `manifest`: the manifest's format, read and written atomically.
//! - `load`: loading the files at start-up and for DEBUG LOADAOF, replayed by a fake client through the normal
//!   command path.
//! - `writer`: the thread that appends the feed to the current increment file, and the `appendfsync always`
//!   group commit every connection's replies wait on.
//! - `rewrite`: BGREWRITEAOF, the automatic rewrite and `CONFIG SET appendonly yes`: a new base from a
//!   point-in-time snapshot, a new increment file from the snapshot's instant on, the manifest switched.
//! - `commands`: BGREWRITEAOF and DEBUG LOADAOF.
//! - here: the AOF's state (Redis's `aof_state`, statuses and sizes), start-up, turning it on and off, INFO.

pub mod commands;
pub mod load;
pub mod manifest;
pub mod rewrite;
pub mod writer;

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use crate::server::Server;
use load::Outcome;
use manifest::{Manifest, Names};
use writer::Writer;

pub use writer::{try_write, unreleased, wait_durable, wait_released, write_first};

/// Redis's `aof_state`: off, on, or waiting for the rewrite that turns it on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AofState {
    Off,
    On,
    WaitRewrite,
}

/// The AOF's state, shared by the connection threads, the writer and the rewrite.
pub struct Aof {
    /// `aof_state != AOF_OFF`, readable without the lock.
    enabled: AtomicBool,
    pub(crate) inner: Mutex<Inner>,
    /// Set to stop the running rewrite (CONFIG SET appendonly no, FLUSHALL, SHUTDOWN).
    pub(crate) cancel: Arc<AtomicBool>,
    pub(crate) rewrite_thread:
        Mutex<Option<(std::thread::JoinHandle<()>, crate::persist::child::Handle)>>,
}

/// What the lock guards.
pub(crate) struct Inner {
    pub state: AofState,
    pub manifest: Manifest,
    pub writer: Option<Writer>,
    pub rewrite_started: Option<Instant>,
    pub rewrite_scheduled: bool,
    pub last_rewrite_secs: i64,
    pub last_bgrewrite_ok: bool,
    pub rewrites: u64,
    pub consecutive_failures: u64,
    /// `aof_last_cow_size`: what the last rewrite's snapshot copied because of writes.
    pub last_cow_size: u64,
    /// The back-off of automatic and scheduled rewrites after repeated failures.
    pub limit: rewrite::Limit,
    /// `aof_rewrite_base_size`: the AOF's size after the last rewrite (or the base's at load).
    pub base_size: u64,
    /// The AOF's size when the writer started; `aof_current_size` adds what it wrote since.
    pub size_at_start: u64,
}

impl Default for Aof {
    fn default() -> Self {
        Aof {
            enabled: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                state: AofState::Off,
                manifest: Manifest::default(),
                writer: None,
                rewrite_started: None,
                rewrite_scheduled: false,
                last_rewrite_secs: -1,
                last_bgrewrite_ok: true,
                rewrites: 0,
                consecutive_failures: 0,
                last_cow_size: 0,
                limit: rewrite::Limit::default(),
                base_size: 0,
                size_at_start: 0,
            }),
            cancel: Arc::new(AtomicBool::new(false)),
            rewrite_thread: Mutex::new(None),
        }
    }
}

impl Aof {
    #[inline]
    pub fn enabled(&self) -> bool {
        self.enabled.load(Relaxed)
    }

    pub(crate) fn set_state(&self, inner: &mut Inner, state: AofState) {
        inner.state = state;
        self.enabled.store(state != AofState::Off, Relaxed);
    }

    /// The error text of the last failed write while the AOF is on and its last write failed (Redis's
    /// `aof_last_write_status == C_ERR`).
    pub fn write_error(&self) -> Option<String> {
        // Before every write command: the lock only once a write failed.
        if !self.enabled() || !writer::write_failed() {
            return None;
        }
        let inner = self.inner.lock();
        let shared = &inner.writer.as_ref()?.shared;
        shared
            .write_failed
            .load(Relaxed)
            .then(|| shared.last_errno.lock().clone())
    }

    pub(crate) fn current_size(inner: &Inner) -> u64 {
        inner.size_at_start
            + inner
                .writer
                .as_ref()
                .map_or(0, |w| w.shared.written.load(Relaxed))
    }
}

/// `appendfilename` and `appenddirname`.
pub(crate) fn paths(server: &Server) -> (String, PathBuf) {
    let filename = server
        .config
        .get("appendfilename")
        .unwrap_or_else(|| "appendonly.aof".into());
    let dir = server
        .config
        .get("appenddirname")
        .unwrap_or_else(|| "appendonlydir".into());
    (filename, PathBuf::from(dir))
}

/// Loads the AOF at start-up when `appendonly` is on (instead of the RDB file), as Redis's `loadDataFromDisk`;
/// `Err` with the last line to log before exiting non-zero.
pub fn load_at_startup(server: &Server) -> Result<(), String> {
    let (filename, dir) = paths(server);
    let names = Names {
        filename: &filename,
    };
    let mut am = manifest::load(&dir, &names).map_err(fail_lines)?;
    upgrade_if_needed(&dir, &names, &mut am)?;
    let start = Instant::now();
    let loaded = load::load_files(server, &dir, &am);
    let aof = &server.persist.aof;
    let mut inner = aof.inner.lock();
    inner.manifest = am;
    match loaded.outcome {
        Outcome::Failed | Outcome::OpenErr => return Err(String::new()),
        Outcome::NotExist | Outcome::Empty => {}
        Outcome::Ok | Outcome::Truncated => log::info!(
            "DB loaded from append only file: {} seconds",
            crate::persist::rdbfile::seconds_since(start)
        ),
    }
    inner.size_at_start = loaded.total_size;
    inner.base_size = loaded.base_size;
    Ok(())
}

fn fail_lines(mut lines: Vec<String>) -> String {
    let last = lines.pop().unwrap_or_default();
    lines.iter().for_each(|l| log::warn!("{l}"));
    last
}

/// Redis's `aofUpgradePrepare`: an `appendfilename` in the working directory (from Redis < 7) becomes the base
/// of a new manifest and moves into the AOF directory.
fn upgrade_if_needed(
    dir: &std::path::Path,
    names: &Names,
    am: &mut Manifest,
) -> Result<(), String> {
    let old = std::path::Path::new(names.filename);
    if !old.is_file() {
        return Ok(());
    }
    let only_old_base = am.incrs.is_empty()
        && am.base.as_ref().is_some_and(|b| b.name == names.filename)
        && !dir.join(names.filename).exists();
    let empty = am.base.is_none() && am.incrs.is_empty();
    if dir.is_dir() && !empty && !only_old_base {
        return Ok(());
    }
    if let Err(e) = std::fs::create_dir_all(dir) {
        return Err(format!(
            "Can't open or create append-only dir {}: {}",
            dir.display(),
            crate::config::special::strerror(&e)
        ));
    }
    am.base = Some(manifest::AofFile {
        name: names.filename.to_string(),
        seq: 1,
        kind: b'b',
    });
    am.base_seq = 1;
    am.persist(dir, names).map_err(|_| String::new())?;
    if let Err(e) = std::fs::rename(old, dir.join(names.filename)) {
        return Err(format!(
            "Error trying to move the old AOF file {} into dir {}: {}",
            names.filename,
            dir.display(),
            crate::config::special::strerror(&e)
        ));
    }
    log::info!(
        "Successfully migrated an old-style AOF file ({}) into the AOF directory ({}).",
        names.filename,
        dir.display()
    );
    Ok(())
}

/// Redis's `aofOpenIfNeededOnServerStart`: with an empty AOF a base file is written first; the last increment
/// file is opened for appending (or a first one created), the manifest persisted and the writer started.
pub fn open_on_start(server: &Arc<Server>) -> Result<(), String> {
    let (filename, dir) = paths(server);
    let names = Names {
        filename: &filename,
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        format!(
            "Can't open or create append-only dir {}: {}",
            dir.display(),
            crate::config::special::strerror(&e)
        )
    })?;
    let aof = &server.persist.aof;
    let mut am = aof.inner.lock().manifest.clone();
    if am.base.is_none() && am.incrs.is_empty() {
        let rdb = server.config.get("aof-use-rdb-preamble").as_deref() != Some("no");
        let base = am.new_base(&names, rdb);
        let size =
            rewrite::write_base_file(server, &dir.join(&base), rdb).map_err(|_| String::new())?;
        aof.inner.lock().base_size = size;
        aof.inner.lock().size_at_start = size;
        log::info!("Creating AOF base file {base} on server start");
    }
    let existed = !am.incrs.is_empty();
    if !existed {
        am.new_incr(&names);
    }
    let incr = am.incrs.last().map(|f| f.name.clone()).unwrap_or_default();
    let file = open_append(&dir.join(&incr)).map_err(|e| {
        format!(
            "Can't open the append-only file {incr}: {}",
            crate::config::special::strerror(&e)
        )
    })?;
    am.persist(&dir, &names).map_err(|_| String::new())?;
    let sub = server.feed.subscribe();
    let writer = Writer::spawn(server.clone(), sub, file).map_err(|e| e.to_string())?;
    writer.shared.incr_size.store(
        std::fs::metadata(dir.join(&incr)).map_or(0, |m| m.len()),
        Relaxed,
    );
    let mut inner = aof.inner.lock();
    inner.manifest = am;
    inner.writer = Some(writer);
    aof.set_state(&mut inner, AofState::On);
    drop(inner);
    if existed {
        log::info!("Opening AOF incr file {incr} on server start");
    } else {
        log::info!("Creating AOF incr file {incr} on server start");
    }
    Ok(())
}

pub(crate) fn open_append(path: &std::path::Path) -> std::io::Result<File> {
    OpenOptions::new().append(true).create(true).open(path)
}

/// Redis's `stopAppendOnly`: the writer flushes and fsyncs what it has, a running rewrite is stopped.
pub fn stop(server: &Server) {
    let aof = &server.persist.aof;
    let writer = {
        let mut inner = aof.inner.lock();
        aof.set_state(&mut inner, AofState::Off);
        inner.rewrite_scheduled = false;
        inner.writer.take()
    };
    if let Some(w) = writer {
        w.stop();
    }
    rewrite::kill(server);
}

/// `CONFIG SET appendonly`: Redis's `updateAppendonly`. Err with the CONFIG SET error text.
pub fn config_changed(server: &Server, on: bool, in_exec: bool) -> Result<(), &'static str> {
    let state = server.persist.aof.inner.lock().state;
    match (on, state) {
        (true, AofState::Off) => rewrite::start_enable(server, in_exec)
            .map_err(|()| "Unable to turn on AOF. Check server logs."),
        (false, AofState::On | AofState::WaitRewrite) => {
            stop(server);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// INFO persistence's AOF rows, as Redis 7.0 orders them.
pub fn info_rows(server: &Server) -> Vec<(&'static str, String)> {
    let inner = server.persist.aof.inner.lock();
    let write_ok = inner
        .writer
        .as_ref()
        .is_none_or(|w| !w.shared.write_failed.load(Relaxed));
    let status = |ok: bool| if ok { "ok" } else { "err" }.to_string();
    vec![
        (
            "aof_enabled",
            u8::from(inner.state != AofState::Off).to_string(),
        ),
        (
            "aof_rewrite_in_progress",
            u8::from(inner.rewrite_started.is_some()).to_string(),
        ),
        (
            "aof_rewrite_scheduled",
            u8::from(inner.rewrite_scheduled).to_string(),
        ),
        (
            "aof_last_rewrite_time_sec",
            inner.last_rewrite_secs.to_string(),
        ),
        (
            "aof_current_rewrite_time_sec",
            inner
                .rewrite_started
                .map_or(-1, |t| t.elapsed().as_secs() as i64)
                .to_string(),
        ),
        ("aof_last_bgrewrite_status", status(inner.last_bgrewrite_ok)),
        ("aof_rewrites", inner.rewrites.to_string()),
        (
            "aof_rewrites_consecutive_failures",
            inner.consecutive_failures.to_string(),
        ),
        ("aof_last_write_status", status(write_ok)),
    ]
}

/// The rows INFO adds while the AOF is on.
pub fn info_enabled(server: &Server, out: &mut String) {
    let inner = server.persist.aof.inner.lock();
    if inner.state == AofState::Off {
        return;
    }
    let (delayed, pending_fsync) = inner.writer.as_ref().map_or((0, false), |w| {
        (
            w.shared.delayed_fsync.load(Relaxed),
            w.shared.fsync_running.load(Relaxed),
        )
    });
    let _ = write!(
        out,
        "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:0\r\n\
         aof_pending_bio_fsync:{}\r\naof_delayed_fsync:{delayed}\r\n",
        Aof::current_size(&inner),
        inner.base_size,
        u8::from(inner.rewrite_scheduled),
        u8::from(pending_fsync),
    );
}
