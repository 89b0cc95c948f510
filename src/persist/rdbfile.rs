//! Whole RDB files: writing one atomically from a snapshot, reading one into the keyspace, with Redis's log lines.
//!
//! A save writes `temp-<id>.rdb` in the working directory (`dir`), fsyncs it, renames it over `dbfilename` and
//! fsyncs the directory, so a crash leaves either the old file or the new one, never half of one.

use std::fs::File;
use std::io::{self, BufReader, BufWriter};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use super::rdb::write::{AccessStamps, AuxInfo};
use super::rdb::{read_rdb, Limits, RdbError, RdbItem, RdbOptions, RdbWriter};
use super::snapshot::{self, Encode, EntrySink, SnapshotStats};
use crate::config::special::strerror;
use crate::db::{Entry, KeyLocks, LockPlan};
use crate::replication::rdbinfo;
use crate::server::Server;
use crate::util::time::now_ms;

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
    writer: RdbWriter<BufWriter<File>>,
    cancel: Option<Arc<AtomicBool>>,
    /// `rdb-key-save-delay`: microseconds to wait per key, so tests can catch a save in progress.
    key_delay_us: i64,
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
fn delay(us: i64) {
    if us > 0 {
        std::thread::sleep(std::time::Duration::from_micros(us as u64));
    }
}

/// [`delay`] for a save that can be stopped: it sleeps in slices and ends early once `cancel` is set, so a
/// stopped save with a huge `rdb-key-save-delay` ends at once, as Redis's killed child does.
pub(crate) fn save_delay(us: i64, cancel: Option<&AtomicBool>) {
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

fn int_param(server: &Server, name: &str) -> i64 {
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
        let (enc, delay_us) = (self.writer.entry_encoder(), self.key_delay_us);
        let cancel = self.cancel.clone();
        Arc::new(
            move |out: &mut Vec<u8>, key: &[u8], entry: &Entry, at: Option<i64>| {
                save_delay(delay_us, cancel.as_deref());
                enc.encode(out, key, entry, at)
            },
        )
    }
    fn append(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.check()?;
        self.writer.raw(chunk)
    }
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        self.write_repl_aux()?;
        let file = self
            .writer
            .finish()?
            .into_inner()
            .map_err(|e| e.into_error())?;
        file.sync_all()
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

/// Writes the dataset to `dbfilename` through `temp-<temp_id>.rdb`, logging as Redis's `rdbSave`. `keys` counts
/// the entries written (INFO `current_save_keys_processed`).
pub fn save(
    server: &Server,
    source: Source,
    temp_id: u32,
    cancel: Option<Arc<AtomicBool>>,
    keys: Arc<AtomicU64>,
) -> Result<SnapshotStats, SaveFailed> {
    let tmp = format!("temp-{temp_id}.rdb");
    let file = match File::create(&tmp) {
        Ok(f) => f,
        Err(e) => {
            log::warn!(
                "Failed opening the temp RDB file {tmp} (in server root dir {}) for saving: {}",
                cwd(),
                strerror(&e)
            );
            return Err(SaveFailed);
        }
    };
    let result = write_body(server, source, file, cancel.clone(), keys)
        .and_then(|stats| install(server, &tmp, cancel.as_deref()).map(|()| stats));
    match result {
        Ok(stats) => {
            log::info!("DB saved on disk");
            Ok(stats)
        }
        Err((op, e)) => {
            if !op.is_empty() {
                log::warn!("Write error saving DB on disk({op}): {}", strerror(&e));
            }
            let _ = std::fs::remove_file(&tmp);
            Err(SaveFailed)
        }
    }
}

type Failed = (&'static str, io::Error);

/// An RDB file's sink with its header and AUX fields written (`aof_base` marks an AOF's base file, as Redis's
/// `aof-base` AUX field); the snapshot's entries follow.
pub(crate) fn rdb_sink(
    server: &Server,
    file: File,
    cancel: Option<Arc<AtomicBool>>,
    aof_base: bool,
    repl_aux: Option<crate::replication::rdbinfo::Slot>,
) -> io::Result<Box<dyn EntrySink>> {
    let policy = server.config.get("maxmemory-policy").unwrap_or_default();
    let mut writer = RdbWriter::new(BufWriter::with_capacity(1 << 20, file), options(server))
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
        cancel,
        key_delay_us: int_param(server, "rdb-key-save-delay"),
        repl_aux,
    }))
}

fn write_body(
    server: &Server,
    source: Source,
    file: File,
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
            let sink = rdb_sink(server, file, cancel, false, slot).map_err(rio)?;
            let taken = snapshot::take_with(&server.keyspace, sink, keys, on_start);
            drop(holding);
            taken.map_err(rio)?
        }
        Source::Locked(locks) => {
            // Nothing changes while the caller holds every shard: the fields are those of now.
            let slot = Arc::new(parking_lot::Mutex::new(rdbinfo::save_info(server)));
            let mut sink = rdb_sink(server, file, cancel, false, Some(slot)).map_err(rio)?;
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

/// What a load did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Loaded {
    pub keys: u64,
    pub expired: u64,
}

/// How a load treats the keys already there (DEBUG RELOAD's MERGE).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Duplicates {
    /// A key already present is an error, as Redis's "RDB has duplicated key".
    Refuse,
    Replace,
}

/// Reads `dbfilename` into the keyspace. `Ok(None)` when there is no file (Redis starts empty then); `Err` with
/// the lines Redis logs when the file cannot be read, in which case the dataset is partly loaded.
pub fn load(server: &Server, dups: Duplicates) -> Result<Option<Loaded>, Vec<String>> {
    let filename = server
        .config
        .get("dbfilename")
        .unwrap_or_else(|| "dump.rdb".into());
    let file = match File::open(&filename) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(vec![format!(
                "Fatal error loading the DB: {}. Exiting.",
                strerror(&e)
            )])
        }
    };
    let total = file.metadata().map_or(0, |m| m.len());
    load_from(server, file, total, dups).map(|(l, _)| Some(l))
}

/// Reads an RDB stream into the keyspace (a dump file, or an AOF's RDB base or preamble), with Redis's log
/// lines; returns what was loaded and the file's summary (its length in bytes among it). `total` is the size
/// INFO's loading fields report.
pub fn load_from(
    server: &Server,
    file: impl io::Read,
    total: u64,
    dups: Duplicates,
) -> Result<(Loaded, super::rdb::read::RdbSummary), Vec<String>> {
    let limits = Limits::from_config(&server.config);
    let p = &server.persist;
    p.loading_start.store((now_ms() / 1000) as u64, Relaxed);
    p.loading_total_bytes.store(total, Relaxed);
    p.loading_rdb_used_mem.store(0, Relaxed);
    p.loading_loaded_bytes.store(0, Relaxed);
    let file = Counting {
        inner: file,
        read: p.loading_loaded_bytes.clone(),
        answer_after: int_param(server, "loading-process-events-interval-bytes").max(1) as u64,
        answers: p.loading_answers.clone(),
    };
    let mut loader = Loader {
        server,
        dups,
        now: now_ms(),
        key_delay_us: int_param(server, "key-load-delay"),
        loaded: Loaded::default(),
        refused: None,
        batch: Vec::with_capacity(BATCH),
    };
    let now = loader.now;
    let read = read_rdb(
        BufReader::with_capacity(1 << 20, file),
        &limits,
        now,
        |item| loader.item(item),
    )
    .and_then(|summary| loader.flush().map(|()| summary));
    match read {
        Ok(summary) => {
            let l = loader.loaded;
            if summary.empty_keys_skipped > 0 {
                log::info!(
                    "Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.",
                    l.keys,
                    l.expired,
                    summary.empty_keys_skipped
                );
            } else {
                log::info!(
                    "Done loading RDB, keys loaded: {}, keys expired: {}.",
                    l.keys,
                    l.expired
                );
            }
            Ok((l, summary))
        }
        Err(_) if loader.refused.is_some() => Err(loader.refused.into_iter().collect()),
        Err(e @ (RdbError::WrongSignature | RdbError::Version(_))) => Err(vec![
            e.to_string(),
            "Fatal error loading the DB: Invalid argument. Exiting.".into(),
        ]),
        Err(e) => Err(unreadable(&e)),
    }
}

/// The lines Redis logs when a file it loads at start-up turns out unreadable (`rdbReportError` with a file being
/// loaded): what went wrong, the summary of its built-in `redis-check-rdb` run, and the exit notice.
fn unreadable(e: &RdbError) -> Vec<String> {
    let (first, internal) = match e {
        RdbError::Corrupt { .. } => (None, e.to_string()),
        RdbError::ShortRead => (
            Some(e.to_string()),
            "Internal error in RDB reading offset 0, function at rdb.c:0 -> Unexpected EOF reading RDB file"
                .to_owned(),
        ),
        RdbError::Checksum { .. } => (
            Some(e.to_string()),
            "Internal error in RDB reading offset 0, function at rdb.c:0 -> RDB CRC error".to_owned(),
        ),
        _ => return vec![e.to_string()],
    };
    let mut lines: Vec<String> = first.into_iter().collect();
    lines.push(internal.clone());
    lines.push("--- RDB ERROR DETECTED ---".to_owned());
    lines.push(internal);
    lines.push("Terminating server after rdb file reading failure.".to_owned());
    lines
}

/// A reader that counts the bytes read, for INFO's `loading_loaded_bytes`, and lets clients be answered
/// -LOADING once `answer_after` bytes are read (where Redis's loader first serves them).
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
    answer_after: u64,
    answers: Arc<AtomicBool>,
}

impl<R: io::Read> io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.read.fetch_add(n as u64, Relaxed) + n as u64 >= self.answer_after {
            self.answers.store(true, Relaxed);
        }
        Ok(n)
    }
}

/// Stores what `read_rdb` yields, as Redis's `rdbLoadRio` does for a master.
/// A loaded entry and its deadline (Unix ms), if it has a TTL.
type Batched = (Entry, Option<i64>);

struct Loader<'s> {
    server: &'s Server,
    dups: Duplicates,
    now: i64,
    key_delay_us: i64,
    loaded: Loaded,
    /// Why the load stopped, when the file is readable but its contents cannot be taken.
    refused: Option<String>,
    /// (db, shard, key, entry) read but not stored yet.
    batch: Vec<(usize, usize, Vec<u8>, Batched)>,
}

impl Loader<'_> {
    fn item(&mut self, item: RdbItem) -> Result<(), RdbError> {
        match item {
            RdbItem::Aux { key, value } => {
                if key == b"used-mem" {
                    let mem = String::from_utf8_lossy(&value).parse().unwrap_or(0);
                    self.server.persist.loading_rdb_used_mem.store(mem, Relaxed);
                }
                if key == b"repl-stream-db" {
                    let db = String::from_utf8_lossy(&value).parse().unwrap_or(0);
                    self.server.repl.loaded_stream_db.store(db, Relaxed);
                }
                rdbinfo::on_aux(self.server, &key, &value);
                log_aux(&key, &value, self.now)
            }
            RdbItem::Entry {
                db,
                key,
                entry,
                expire,
            } => self.entry(db, key, entry, expire)?,
            RdbItem::Function(code) => {
                let replace = self.dups == Duplicates::Replace;
                if let Err(e) = self.server.scripts.load_library(&code, replace) {
                    return self.refuse(format!("Failed loading library, {e}"));
                }
            }
            RdbItem::ResizeDb { .. } => {}
        }
        Ok(())
    }

    fn refuse(&mut self, why: String) -> Result<(), RdbError> {
        self.refused = Some(why);
        Err(RdbError::Io(String::new()))
    }

    fn entry(
        &mut self,
        db: usize,
        key: Vec<u8>,
        entry: Entry,
        expire: Option<i64>,
    ) -> Result<(), RdbError> {
        let ks = &self.server.keyspace;
        if db >= ks.db_count() {
            return self.refuse(format!(
                "FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting\n",
                ks.db_count()
            ));
        }
        // A master drops keys that expired while the file sat on disk; a replica keeps them for its master's DEL.
        if !rdbinfo::keeps_expired(self.server) && expire.is_some_and(|at| at < self.now) {
            self.loaded.expired += 1;
            if rdbinfo::feeds_expired(self.server) {
                self.feed_deletion(db, &key);
            }
            return Ok(());
        }
        self.batch
            .push((db, ks.shard_of(&key), key, (entry, expire)));
        if self.batch.len() >= BATCH || self.key_delay_us > 0 {
            self.flush()?;
            delay(self.key_delay_us);
        }
        Ok(())
    }

    /// A master's start-up load tells its replicas about a key it found expired, as Redis's `rdbLoadRio` with
    /// `RDBFLAGS_FEED_REPL` (`DEL`, or `UNLINK` under `lazyfree-lazy-expire`).
    fn feed_deletion(&self, db: usize, key: &[u8]) {
        let verb = crate::effects::deletion(&self.server.config, "lazyfree-lazy-expire");
        let mut buf = Vec::new();
        crate::effects::encode_command(&mut buf, [verb, key].into_iter());
        self.server.feed.append(&buf, &[(db, 0)], false);
    }

    /// Stores the batched entries, taking each shard's lock once for all of its entries: a file's keys come in
    /// hash order, so one lock per key would cost more than the inserts.
    fn flush(&mut self) -> Result<(), RdbError> {
        let ks = &self.server.keyspace;
        let mut batch = std::mem::take(&mut self.batch);
        batch.sort_unstable_by_key(|&(db, shard, ..)| (db, shard));
        let mut entries = batch.into_iter().peekable();
        while let Some((db, shard, key, entry)) = entries.next() {
            let mut plan = LockPlan::new();
            plan.key(ks, db, &key, true);
            let mut keys = KeyLocks::new(self.server, plan.acquire(ks), self.now);
            let mut next = Some((key, entry));
            while let Some((key, entry)) = next.take() {
                let (entry, expire) = entry;
                if keys.insert_entry_at(db, &key, entry, expire).is_some()
                    && self.dups == Duplicates::Refuse
                {
                    let key = String::from_utf8_lossy(&key).into_owned();
                    drop(keys);
                    return self.refuse(format!("RDB has duplicated key '{key}' in DB {db}"));
                }
                self.loaded.keys += 1;
                next = entries
                    .next_if(|e| (e.0, e.1) == (db, shard))
                    .map(|(_, _, k, e)| (k, e));
            }
        }
        self.batch = Vec::with_capacity(BATCH);
        Ok(())
    }
}

/// Entries stored per round of shard locks while loading.
const BATCH: usize = 4096;

/// Redis logs the version, age and memory of the file it loads from its AUX fields.
fn log_aux(key: &[u8], value: &[u8], now: i64) {
    let text = String::from_utf8_lossy(value);
    match key {
        b"redis-ver" => log::info!("Loading RDB produced by version {text}"),
        b"ctime" => {
            let ctime: i64 = text.parse().unwrap_or(0);
            log::info!("RDB age {} seconds", (now / 1000 - ctime).max(0));
        }
        b"used-mem" => {
            let bytes: f64 = text.parse().unwrap_or(0.0);
            log::info!(
                "RDB memory usage when created {:.2} Mb",
                bytes / (1024.0 * 1024.0)
            );
        }
        _ => {}
    }
}

/// How long something took, in Redis's "%.3f seconds".
pub fn seconds_since(start: Instant) -> String {
    format!("{:.3}", start.elapsed().as_secs_f64())
}
