//! Whole RDB files: writing one atomically from a snapshot, reading one into the keyspace, with Redis's log lines.
//!
//! A save writes `temp-<id>.rdb` in the working directory (`dir`), fsyncs it, renames it over `dbfilename` and
//! fsyncs the directory, so a crash leaves either the old file or the new one, never half of one.

use std::fs::File;
use std::io::{self, BufWriter};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use super::child::{self, Dest};
use super::rdb::write::{AccessStamps, AuxInfo};
use super::rdb::{Limits, RdbOptions, RdbWriter};
use super::snapshot::{self, Encode, EntrySink, SnapshotStats};
use crate::config::special::strerror;
use crate::db::{Entry, KeyLocks};
use crate::replication::rdbinfo;
use crate::server::Server;
use crate::util::time::now_ms;

pub use super::rdbload::{load, load_beside, load_from, Beside, Duplicates, Loaded};

/// A save that did not produce a file; why is in the log, as Redis reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveFailed;

/// What a save writes: a snapshot taken now (the caller holds no shard lock), or a keyspace the caller holds
/// entirely locked (FLUSHALL).
pub enum Source<'a, 'k> {
    Snapshot,
    Locked(&'a KeyLocks<'k>),
}

/// An RDB stream into a buffered file, as a snapshot sink. `cancel` stops a BGSAVE that FLUSHALL or SHUTDOWN
/// interrupted: every later write fails, so the save ends quickly and leaves no file behind.
struct FileSink {
    writer: RdbWriter<BufWriter<Dest>>,
    cancel: Option<Arc<AtomicBool>>,
    key_delay: KeyDelay,
    /// Replication's AUX fields as of the snapshot's instant, written before the first database.
    repl_aux: Option<crate::replication::rdbinfo::Slot>,
}

impl FileSink {
    fn write_repl_aux(&mut self) -> io::Result<()> {
        let Some(info) = self.repl_aux.take().and_then(|slot| slot.lock().take()) else {
            return Ok(());
        };
        for (key, value) in crate::replication::rdbinfo::aux_fields(&info) {
            self.writer.aux(key, &value)?;
        }
        Ok(())
    }
}

/// Redis's `debugDelay` for the `*-delay` testing knobs (positive values only).
pub(super) fn delay(us: i64) {
    if us > 0 {
        std::thread::sleep(std::time::Duration::from_micros(us as u64));
    }
}

/// [`delay`] for a save that can be stopped: it sleeps in slices and ends early once `cancel` is set, so a
/// stopped save with a huge `rdb-key-save-delay` ends at once, as Redis's killed child does.
fn save_delay(us: i64, cancel: Option<&AtomicBool>) {
    if us <= 0 {
        // The usual case, once per key saved: no clock read (two per key were 5% of a BGSAVE's CPU).
        return;
    }
    let Some(cancel) = cancel else {
        return delay(us);
    };
    let end = Instant::now() + std::time::Duration::from_micros(us.max(0) as u64);
    while !cancel.load(Relaxed) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(std::time::Duration::from_millis(10)));
    }
}

/// `rdb-key-save-delay` (microseconds per key, for tests to catch a save in progress), paid as Redis's child
/// pays it: by the thread that takes the snapshot, not by clients. Encoding a key only counts it; the snapshot's
/// thread sleeps for the keys counted so far when it appends to the sink ([`KeyDelay::pay`]), where it holds no
/// shard lock, and for any rest at the end ([`KeyDelay::settle`]). Sleeping while encoding would hold a shard
/// lock and stall every client writing to it, and writers saving a shard ahead of the snapshot (save before
/// mutate) would sleep in their own commands.
pub(crate) struct KeyDelay {
    us: i64,
    cancel: Option<Arc<AtomicBool>>,
    /// The thread that takes the snapshot: the sink is made on it.
    serializer: std::thread::ThreadId,
    owed: Arc<AtomicU64>,
}

impl KeyDelay {
    /// To be made on the thread that takes the snapshot.
    pub(crate) fn new(us: i64, cancel: Option<Arc<AtomicBool>>) -> Self {
        KeyDelay {
            us,
            cancel,
            serializer: std::thread::current().id(),
            owed: Arc::default(),
        }
    }

    /// What the sink's encoder calls once per key.
    pub(crate) fn counter(&self) -> impl Fn() + Send + Sync + 'static {
        let (on, owed) = (self.us > 0, self.owed.clone());
        move || {
            if on {
                owed.fetch_add(1, Relaxed);
            }
        }
    }

    /// At each append: the snapshot's thread sleeps for the keys encoded so far; a writer appending leaves them.
    pub(crate) fn pay(&self) {
        if self.us > 0 && std::thread::current().id() == self.serializer {
            self.settle();
        }
    }

    /// Pays whatever is owed, at the end of the snapshot.
    pub(crate) fn settle(&self) {
        let owed = self.owed.swap(0, Relaxed) as i64;
        save_delay(self.us.saturating_mul(owed), self.cancel.as_deref());
    }
}

pub(super) fn int_param(server: &Server, name: &str) -> i64 {
    server
        .config
        .get(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl FileSink {
    fn check(&self) -> io::Result<()> {
        match &self.cancel {
            Some(c) if c.load(Relaxed) => Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "Background save stopped",
            )),
            _ => Ok(()),
        }
    }
}

impl EntrySink for FileSink {
    fn select_db(&mut self, db: usize, keys: u64, expires: u64) -> io::Result<()> {
        self.check()?;
        self.write_repl_aux()?;
        self.writer.select_db(db, keys, expires)
    }
    fn encoder(&self) -> Encode {
        let (enc, count) = (self.writer.entry_encoder(), self.key_delay.counter());
        Arc::new(
            move |out: &mut Vec<u8>, key: &[u8], entry: &Entry, at: Option<i64>| {
                count();
                enc.encode(out, key, entry, at)
            },
        )
    }
    fn append(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.key_delay.pay();
        self.check()?;
        self.writer.raw(chunk)
    }
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.key_delay.settle();
        self.check()?;
        self.write_repl_aux()?;
        let dest = self
            .writer
            .finish()?
            .into_inner()
            .map_err(|e| e.into_error())?;
        dest.complete()
    }
}

fn cwd() -> String {
    std::env::current_dir().map_or_else(|_| "unknown".into(), |d| d.display().to_string())
}

fn options(server: &Server) -> RdbOptions {
    let yes = |name: &str| server.config.get(name).as_deref() != Some("no");
    RdbOptions {
        compression: yes("rdbcompression"),
        checksum: yes("rdbchecksum"),
    }
}

/// Who writes a save's temp file: this thread (SAVE, SHUTDOWN) or a writer child (BGSAVE).
pub enum Writer {
    Here,
    Child(child::Input),
}

/// Writes the dataset to `dbfilename` through `temp-<pid>.rdb` (this process's pid, or the writer child's),
/// logging as Redis's `rdbSave`. `keys` counts the entries written (INFO `current_save_keys_processed`).
pub fn save(
    server: &Server,
    source: Source,
    writer: Writer,
    cancel: Option<Arc<AtomicBool>>,
    keys: Arc<AtomicU64>,
) -> Result<SnapshotStats, SaveFailed> {
    let (tmp, dest, handle) = match writer {
        Writer::Here => {
            let tmp = format!("temp-{}.rdb", std::process::id());
            match File::create(&tmp) {
                Ok(f) => (tmp, Dest::File(f), None),
                Err(e) => {
                    log_open_failed(&tmp, &e);
                    return Err(SaveFailed);
                }
            }
        }
        Writer::Child(input) => {
            let handle = input.handle().clone();
            (
                handle.file("temp-", ".rdb"),
                Dest::Child(input),
                Some(handle),
            )
        }
    };
    let result = write_body(server, source, dest, cancel.clone(), keys)
        .and_then(|stats| install(server, &tmp, cancel.as_deref()).map(|()| stats));
    match result {
        Ok(stats) => {
            log::info!("DB saved on disk");
            Ok(stats)
        }
        Err((op, e)) => {
            let child_failed = handle.as_ref().and_then(child::Handle::failure);
            match child_failed {
                Some((child::Step::Open, msg)) => log_open_failed(&tmp, &io::Error::other(msg)),
                Some((step, msg)) => {
                    let op = if step == child::Step::Fsync {
                        "fsync"
                    } else {
                        "rdbSaveRio"
                    };
                    log::warn!("Write error saving DB on disk({op}): {msg}");
                }
                None if !op.is_empty() && handle.is_none() => {
                    log::warn!("Write error saving DB on disk({op}): {}", strerror(&e))
                }
                None => {}
            }
            // A child that may still be creating the file is waited for first.
            if let Some(h) = &handle {
                h.wait();
            }
            let _ = std::fs::remove_file(&tmp);
            Err(SaveFailed)
        }
    }
}

fn log_open_failed(tmp: &str, e: &io::Error) {
    log::warn!(
        "Failed opening the temp RDB file {tmp} (in server root dir {}) for saving: {}",
        cwd(),
        strerror(e)
    );
}

type Failed = (&'static str, io::Error);

/// An RDB file's sink with its header and AUX fields written (`aof_base` marks an AOF's base file, as Redis's
/// `aof-base` AUX field); the snapshot's entries follow.
pub(crate) fn rdb_sink(
    server: &Server,
    dest: Dest,
    cancel: Option<Arc<AtomicBool>>,
    aof_base: bool,
    repl_aux: Option<crate::replication::rdbinfo::Slot>,
) -> io::Result<Box<dyn EntrySink>> {
    let policy = server.config.get("maxmemory-policy").unwrap_or_default();
    let mut writer = RdbWriter::new(BufWriter::with_capacity(1 << 20, dest), options(server))
        .with_limits(Limits::from_config(&server.config))
        .with_access_stamps(AccessStamps::for_policy(&policy), now_ms());
    writer.header()?;
    writer.standard_aux(AuxInfo {
        used_mem: crate::server::stats::allocated_bytes(),
        aof_base,
        ctime: now_ms() / 1000,
    })?;
    // Redis writes the function libraries after the AUX fields, before the databases.
    for code in server.scripts.library_codes() {
        writer.function(&code)?;
    }
    Ok(Box::new(FileSink {
        writer,
        key_delay: KeyDelay::new(int_param(server, "rdb-key-save-delay"), cancel.clone()),
        cancel,
        repl_aux,
    }))
}

fn write_body(
    server: &Server,
    source: Source,
    dest: Dest,
    cancel: Option<Arc<AtomicBool>>,
    keys: Arc<AtomicU64>,
) -> Result<SnapshotStats, Failed> {
    let rio = |e| ("rdbSaveRio", e);
    let (sink, stats) = match source {
        Source::Snapshot => {
            // Replication's fields are taken at the snapshot's instant (see `rdbinfo`).
            let (slot, on_start, holding) = match rdbinfo::at_instant(server) {
                Some((slot, f, h)) => (Some(slot), Some(f), Some(h)),
                None => (None, None, None),
            };
            let sink = rdb_sink(server, dest, cancel, false, slot).map_err(rio)?;
            let taken = snapshot::take_with(&server.keyspace, sink, keys, on_start);
            drop(holding);
            taken.map_err(rio)?
        }
        Source::Locked(locks) => {
            // Nothing changes while the caller holds every shard: the fields are those of now.
            let slot = Arc::new(parking_lot::Mutex::new(rdbinfo::save_info(server)));
            let mut sink = rdb_sink(server, dest, cancel, false, Some(slot)).map_err(rio)?;
            let n = snapshot::save_locked(locks, sink.as_mut()).map_err(rio)?;
            keys.store(n, Relaxed);
            let stats = SnapshotStats {
                keys: n,
                ..SnapshotStats::default()
            };
            (sink, stats)
        }
    };
    sink.finish().map_err(|e| ("fsync", e))?;
    Ok(stats)
}

/// Renames the finished temp file over `dbfilename` and fsyncs the directory. A stopped BGSAVE renames nothing:
/// the check and the rename happen under `rename_lock`, which the stopping side takes too.
fn install(server: &Server, tmp: &str, cancel: Option<&AtomicBool>) -> Result<(), Failed> {
    let filename = server
        .config
        .get("dbfilename")
        .unwrap_or_else(|| "dump.rdb".into());
    let _renaming = server.persist.rename_lock.lock();
    if cancel.is_some_and(|c| c.load(Relaxed)) {
        return Err(("", io::Error::from(io::ErrorKind::Interrupted)));
    }
    if let Err(e) = std::fs::rename(tmp, &filename) {
        log::warn!(
            "Error moving temp DB file {tmp} on the final destination {filename} (in server root dir {}): {}",
            cwd(),
            strerror(&e)
        );
        return Err(("", e));
    }
    let dir = std::path::Path::new(&filename)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ("fsyncFileDir", e))
}

/// How long something took, in Redis's "%.3f seconds".
pub fn seconds_since(start: Instant) -> String {
    format!("{:.3}", start.elapsed().as_secs_f64())
}
