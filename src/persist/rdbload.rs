//! Reading an RDB stream into the keyspace (a dump file, an AOF's base, a full sync's payload), with Redis's log
//! lines; a swapdb full sync reads one beside the live dataset ([`Beside`]).

use std::fs::File;
use std::io::{self, BufReader};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use super::rdb::{read_rdb, Limits, RdbError, RdbItem};
use super::rdbfile::{delay, int_param};
use crate::config::special::strerror;
use crate::db::{Entry, KeyLocks, LockPlan};
use crate::replication::rdbinfo;
use crate::server::Server;
use crate::util::time::now_ms;

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
    load_into(server, None, file, total, dups)
}

/// Where a swapdb full sync loads while the live dataset stays as it is: a keyspace beside the live one
/// (`Keyspace::shadow`) and the function libraries compiled for it, swapped in once the whole RDB is read
/// (Redis's temp databases and functions context).
pub struct Beside {
    pub keyspace: crate::db::Keyspace,
    pub libraries: crate::scripting::functions::library::Libraries,
}

impl Beside {
    pub fn new(server: &Server) -> Beside {
        Beside {
            keyspace: server.keyspace.shadow(),
            libraries: Default::default(),
        }
    }
}

/// [`load_from`], into `beside` (see [`Beside`]): no client sees a key of it until it is swapped in.
pub fn load_beside(
    server: &Server,
    beside: &mut Beside,
    file: impl io::Read,
    total: u64,
) -> Result<Loaded, Vec<String>> {
    load_into(server, Some(beside), file, total, Duplicates::Replace).map(|(l, _)| l)
}

fn load_into(
    server: &Server,
    beside: Option<&mut Beside>,
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
        beside,
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
    /// Where the entries and libraries go when not into the live dataset.
    beside: Option<&'s mut Beside>,
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
                let scripts = &self.server.scripts;
                let loaded = match self.beside.as_deref_mut() {
                    Some(beside) => scripts.compile_library(&mut beside.libraries, &code),
                    None => scripts.load_library(&code, replace),
                };
                if let Err(e) = loaded {
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
        let mut batch = std::mem::take(&mut self.batch);
        batch.sort_unstable_by_key(|&(db, shard, ..)| (db, shard));
        if let Some(beside) = self.beside.as_deref() {
            self.loaded.keys += store_unseen(&beside.keyspace, batch, self.now);
            self.batch = Vec::with_capacity(BATCH);
            return Ok(());
        }
        let ks = &self.server.keyspace;
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

/// Stores a sorted batch in a keyspace no client sees (see [`Beside`]), each shard locked once; returns how many
/// entries it stored. A key stored twice keeps its last value, as a replica's load replaces.
fn store_unseen(
    ks: &crate::db::Keyspace,
    batch: Vec<(usize, usize, Vec<u8>, Batched)>,
    now: i64,
) -> u64 {
    let stored = batch.len() as u64;
    let mut entries = batch.into_iter().peekable();
    while let Some((db, shard, key, (entry, at))) = entries.next() {
        let mut locked = ks.db(db).shard(shard).write();
        locked.insert_unseen(ks.hash(&key), &key, entry, at, now);
        while let Some((_, _, key, (entry, at))) = entries.next_if(|e| (e.0, e.1) == (db, shard)) {
            locked.insert_unseen(ks.hash(&key), &key, entry, at, now);
        }
    }
    stored
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
