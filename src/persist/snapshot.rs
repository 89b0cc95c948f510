//! A point-in-time snapshot of the whole keyspace without fork(): for BGSAVE and SAVE now, and for the AOF
//! rewrite and a replica's full sync later.
//!
//! # How (Dragonfly's "save before mutate", at the granularity of a dict segment)
//! 1. [`Keyspace::begin_snapshot`] write-locks every shard of every database at once, marks all segments of each
//!    non-empty shard pending (a shard's dict is split into 64 runs of buckets, `Dict::segment`) and installs the
//!    job. That instant, T, is the snapshot's point in time. The pause is O(shards) (1,024 lock acquisitions with
//!    16 databases), whatever the number of keys.
//! 2. The serializer (the thread calling [`take`]) walks the shards in order and saves the segments still
//!    pending, taking the shard's read lock once per segment, so a writer never waits for more than one segment.
//! 3. A writer about to change a shard holds its write lock; `KeyLocks` (the one door to every change: commands,
//!    lazy expiry, FLUSHALL, SWAPDB) and the active expiry cycle call `Keyspace::save_before_write` first, which
//!    saves the segment of the key about to change if it is still pending: the whole shard when the change is not
//!    about one key (FLUSHALL, SWAPDB) or would resize the dict (a resize moves keys between segments).
//!
//! # Why the result is consistent
//! Between T and the moment a segment is saved nobody changed it: every change needs the shard's write lock and
//! passes through `save_before_write`, which saves the pending segment the change touches before it happens, and
//! the segments stay where they are until the dict resizes, which saves every pending segment first. A pending
//! bit is cleared by whoever saves it, under the shard's lock (a writer's write lock or the serializer's read
//! lock, which exclude each other), so each segment is saved exactly once, with its contents at T. Keys expired
//! but not yet deleted at T are saved with their TTL, as Redis's `rdbSaveRio` does: a master loading the file
//! drops and counts them (INFO `rdb_last_load_keys_expired`), a replica keeps them until its master's DEL. After
//! the walk every segment has been saved: the
//! serializer either saved it or waited for the shard's lock held by the writer that did. The RDB format allows
//! several SELECTDB sections for one database, so chunks may reach the sink in any order.
//!
//! # Cost
//! Whoever saves a segment encodes it into a buffer of its own, under the shard's lock only, and queues the
//! buffer; the serializer appends queued buffers to the sink between shards, holding no shard lock. So a writer
//! never waits for the file (or for other writers' appends) while it holds its shard: under back-to-back BGSAVE
//! with 50 writers, nearly every segment is saved by a writer, and before this queue they took turns at the sink
//! holding their shards (bench/bgsave_writes.sh). A writer first to change a segment pays for encoding that
//! segment (1/64 of a shard: about 250 keys with a million keys in one database) before its own change. The extra
//! memory is the queued chunks, bounded by `QUEUE_LIMIT` (past it a writer appends itself, as before);
//! `SnapshotStats::peak_buffered` reports the peak (about 16 MB of a 30 MB file in that benchmark). The sink's
//! and the queue's mutexes are the last locks anyone takes (leaves), so they cannot join a deadlock cycle.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::db::{Entry, Keyspace, Shard, ShardSaver, SEGMENTS, SHARDS};

/// How a sink turns one entry into bytes. Called by whichever thread saves a shard, without the sink's lock,
/// so writers that each save a shard encode in parallel and hold the sink only to append their bytes.
/// Encodes one key: its name, entry and deadline (Unix ms) if it has a TTL.
pub type Encode = Arc<dyn Fn(&mut Vec<u8>, &[u8], &Entry, Option<i64>) + Send + Sync>;

/// Where a snapshot's entries go (an RDB file, a replica's socket, an in-memory check in tests).
pub trait EntrySink: Send {
    fn encoder(&self) -> Encode;
    /// The chunks that follow belong to database `db`, which held `keys` keys (`expires` with a TTL) at the
    /// snapshot's instant. A database may be selected several times, its entries interleaved with others'.
    fn select_db(&mut self, db: usize, keys: u64, expires: u64) -> io::Result<()>;
    /// Entries of the selected database, as `encoder` wrote them.
    fn append(&mut self, chunk: &[u8]) -> io::Result<()>;
    /// Called once after the last entry (a file sink writes its trailer and syncs).
    fn finish(self: Box<Self>) -> io::Result<()> {
        Ok(())
    }
}

/// What a finished snapshot reports.
#[derive(Debug, Default, Clone, Copy)]
pub struct SnapshotStats {
    pub keys: u64,
    /// How long every shard was locked at once to mark the start.
    pub start_pause: Duration,
    /// The longest time one shard was held to be saved (by the serializer or a writer).
    pub longest_shard: Duration,
    /// Dict segments a writer saved before changing them (64 per shard).
    pub saved_by_writers: u64,
    /// The most encoded bytes held at once before reaching the sink: the snapshot's extra memory.
    pub peak_buffered: u64,
}

/// The sink and the database its last entries went to.
struct Output {
    sink: Box<dyn EntrySink>,
    db: Option<usize>,
    error: Option<io::Error>,
}

struct Job {
    encode: Encode,
    out: Mutex<Option<Output>>,
    /// Chunks encoded by writers (and the serializer) that the serializer has not appended yet: (db, bytes,
    /// entries). A writer only pushes here, so it never waits for the sink (file I/O, other writers' appends)
    /// while it holds its shard's write lock.
    queue: Mutex<Vec<(usize, Vec<u8>, u64)>>,
    /// Encoded bytes waiting to be appended (each shard being saved holds one chunk), and their peak: the extra
    /// memory the snapshot costs.
    buffered: AtomicU64,
    peak_buffered: AtomicU64,
    /// (keys, keys with a TTL) per database at T, for the sink's size hints; set while every shard is locked.
    sizes: OnceLock<Vec<(u64, u64)>>,
    keys: Arc<AtomicU64>,
    longest_shard_us: AtomicU64,
    saved_by_writers: AtomicU64,
    serializer: std::thread::ThreadId,
    /// Run once at T, while every shard is locked (the AOF rewrite notes the feed's offset there).
    at_start: Mutex<Option<OnStart>>,
}

/// What [`take_with`] runs at the snapshot's instant.
pub type OnStart = Box<dyn FnOnce() + Send>;

impl Job {
    /// Encodes the entries live at T of the shard's dict segments in `segments`; returns the bytes and how many
    /// entries they hold.
    fn encode_segments(&self, shard: &Shard, segments: u64) -> (Vec<u8>, u64) {
        let mut chunk = Vec::new();
        let mut n = 0;
        let mut add = |key: &[u8], entry: &Entry| {
            (self.encode)(&mut chunk, key, entry, shard.expire_at(key, entry));
            n += 1;
        };
        if segments == u64::MAX {
            shard.dict.iter().for_each(|(k, e)| add(k, e));
        } else {
            (0..SEGMENTS as u32)
                .filter(|s| segments & (1 << s) != 0)
                .for_each(|s| shard.dict.segment(s).for_each(|(k, e)| add(k, e)));
        }
        (chunk, n)
    }

    fn append(&self, out: &mut Output, db: usize, chunk: &[u8]) -> io::Result<()> {
        if out.db != Some(db) {
            let sizes = self.sizes.get().and_then(|s| s.get(db));
            let (keys, expires) = sizes.copied().unwrap_or_default();
            out.sink.select_db(db, keys, expires)?;
            out.db = Some(db);
        }
        out.sink.append(chunk)
    }
}

impl ShardSaver for Job {
    fn started(&self, sizes: Vec<(u64, u64)>) {
        // Every shard is locked here: no writer has saved anything ahead of this snapshot yet.
        COPIED.store(0, Relaxed);
        let _ = self.sizes.set(sizes);
        if let Some(f) = self.at_start.lock().take() {
            f();
        }
    }

    fn save_segments(&self, db: usize, shard: &Shard, segments: u64) {
        if shard.is_empty() {
            return;
        }
        let started = Instant::now();
        if std::thread::current().id() != self.serializer {
            self.saved_by_writers
                .fetch_add(u64::from(segments.count_ones()), Relaxed);
        }
        // A bug in an encoder fails this snapshot, never the writer's connection or the server: an unwinding
        // serializer would leave the snapshot installed and every later BGSAVE or full sync waiting for it.
        let encoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.encode_segments(shard, segments)
        }));
        let Ok((chunk, n)) = encoded else {
            self.fail(io::Error::other("a key could not be encoded"));
            return;
        };
        if std::thread::current().id() != self.serializer {
            COPIED.fetch_add(chunk.len() as u64, Relaxed);
        }
        let held = self.buffered.fetch_add(chunk.len() as u64, Relaxed) + chunk.len() as u64;
        self.peak_buffered.fetch_max(held, Relaxed);
        if held <= QUEUE_LIMIT {
            self.queue.lock().push((db, chunk, n));
        } else {
            // Over the bound the writer appends itself (and waits for the sink): memory stays bounded.
            self.write_out(db, &chunk, n);
        }
        let us = started.elapsed().as_micros() as u64;
        self.longest_shard_us.fetch_max(us, Relaxed);
    }
}

/// Bytes that writers encoded ahead of the running (or last) snapshot, because they were about to change what
/// it had not saved yet: the memory a snapshot costs because of writes, where a forked child's cost is its
/// copy-on-write pages. INFO reports it as `current_cow_size` and `rdb_last_cow_size`. Reset as a snapshot
/// starts (one runs at a time).
pub static COPIED: AtomicU64 = AtomicU64::new(0);

/// The most encoded bytes the queue holds before writers append for themselves (the snapshot's extra memory).
const QUEUE_LIMIT: u64 = 64 << 20;

impl Job {
    /// Appends one chunk to the sink (the first error is kept and ends the save).
    fn write_out(&self, db: usize, chunk: &[u8], n: u64) {
        {
            let mut out = self.out.lock();
            if let Some(out) = out.as_mut().filter(|o| o.error.is_none()) {
                match self.append(out, db, chunk) {
                    Ok(()) => {
                        self.keys.fetch_add(n, Relaxed);
                    }
                    Err(e) => out.error = Some(e),
                }
            }
        }
        self.buffered.fetch_sub(chunk.len() as u64, Relaxed);
    }

    /// Ends the save with `e` (the first error is kept).
    fn fail(&self, e: io::Error) {
        if let Some(out) = self.out.lock().as_mut() {
            out.error.get_or_insert(e);
        }
    }

    /// The serializer's turn at the sink: every queued chunk, appended with no shard lock held.
    fn drain(&self) {
        let chunks = std::mem::take(&mut *self.queue.lock());
        for (db, chunk, n) in chunks {
            self.write_out(db, &chunk, n);
        }
    }
}

/// Writes the whole keyspace as of one instant to `sink`, serializing on the calling thread while clients keep
/// reading and writing; returns the sink (to finish the file) and the figures. `keys` counts entries written so
/// far, for INFO's `current_save_keys_processed`.
///
/// The caller must hold no shard lock (it waits for all of them).
pub fn take(
    ks: &Keyspace,
    sink: Box<dyn EntrySink>,
    keys: Arc<AtomicU64>,
) -> io::Result<(Box<dyn EntrySink>, SnapshotStats)> {
    take_with(ks, sink, keys, None)
}

/// [`take`], running `at_start` at the snapshot's instant, while every shard is locked: nothing that happened
/// before it is missing from the snapshot and nothing after it is in.
pub fn take_with(
    ks: &Keyspace,
    sink: Box<dyn EntrySink>,
    keys: Arc<AtomicU64>,
    at_start: Option<OnStart>,
) -> io::Result<(Box<dyn EntrySink>, SnapshotStats)> {
    let job = Job {
        at_start: Mutex::new(at_start),
        encode: sink.encoder(),
        buffered: AtomicU64::new(0),
        peak_buffered: AtomicU64::new(0),
        out: Mutex::new(Some(Output {
            sink,
            db: None,
            error: None,
        })),
        queue: Mutex::new(Vec::new()),
        sizes: OnceLock::new(),
        keys,
        longest_shard_us: AtomicU64::new(0),
        saved_by_writers: AtomicU64::new(0),
        serializer: std::thread::current().id(),
    };
    let started = Instant::now();
    let job = Arc::new(job);
    if !ks.begin_snapshot(job.clone()) {
        return Err(io::Error::other("another snapshot is in progress"));
    }

    // Uninstalled however the walk ends, a panic included: a snapshot left installed would refuse every later one.
    let installed = Installed(ks);
    let start_pause = started.elapsed();
    for db in 0..ks.db_count() {
        for shard in 0..SHARDS {
            ks.save_pending(db, shard);
            job.drain();
        }
    }
    drop(installed);
    // Writers that saved a segment before `end_snapshot` have queued it by now (they did so under the shard lock
    // that `save_pending` waited for).
    job.drain();
    let out = job.out.lock().take();
    let Some(out) = out else {
        return Err(io::Error::other("snapshot output lost"));
    };
    if let Some(e) = out.error {
        return Err(e);
    }
    let stats = SnapshotStats {
        keys: job.keys.load(Relaxed),
        start_pause,
        longest_shard: Duration::from_micros(job.longest_shard_us.load(Relaxed)),
        saved_by_writers: job.saved_by_writers.load(Relaxed),
        peak_buffered: job.peak_buffered.load(Relaxed),
    };
    log::debug!(
        "Snapshot of {} keys: start pause {:?}, longest shard {:?}, {} shards saved by writers",
        stats.keys,
        stats.start_pause,
        stats.longest_shard,
        stats.saved_by_writers
    );
    Ok((out.sink, stats))
}

/// Saves a keyspace the caller already holds entirely (every shard of every database locked, as FLUSHALL does):
/// nothing can change meanwhile, so a plain walk is a point-in-time snapshot.
pub fn save_locked(locks: &crate::db::KeyLocks, sink: &mut dyn EntrySink) -> io::Result<u64> {
    let encode = sink.encoder();
    let mut written = 0;
    for db in 0..locks.keyspace().db_count() {
        let (keys, expires) = locks.shards(db).fold((0, 0), |(k, e), (_, s)| {
            (k + s.len() as u64, e + s.volatile_len() as u64)
        });
        if keys == 0 {
            continue;
        }
        sink.select_db(db, keys, expires)?;
        for (_, shard) in locks.shards(db) {
            let mut chunk = Vec::new();
            for (key, entry) in shard.dict.iter() {
                encode(&mut chunk, key, entry, shard.expire_at(key, entry));
                written += 1;
            }
            sink.append(&chunk)?;
        }
    }
    Ok(written)
}

/// The running snapshot, uninstalled on drop.
struct Installed<'a>(&'a Keyspace);

impl Drop for Installed<'_> {
    fn drop(&mut self) {
        self.0.end_snapshot();
    }
}
