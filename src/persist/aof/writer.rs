//! The AOF writer: one thread reads the effects feed and appends it to the current increment file, fsyncing as
//! `appendfsync` says.
//!
//! `always` is a group commit (DESIGN-NOTES §11): a connection thread that appended effects waits, before its
//! replies go out, until the writer has written and fsynced up to the feed offset of its last effect; the writer
//! takes everything appended so far, writes it, fsyncs once and releases every waiting thread together, so many
//! writers share one fsync.
//!
//! With `everysec` and `no`, as in Redis (which writes its AOF buffer before it sends replies), a reply to a write
//! goes out only after its effects were written to the file (not fsynced): a killed process loses nothing it
//! acknowledged. The connection thread writes them itself (with whatever other threads appended meanwhile) under
//! the writer's lock, so no thread hand-off is paid per reply. While another thread holds that lock, its replies
//! are held on the connection instead (`crate::server::held`) and the thread goes back to reading: the write under
//! way, or the writer thread's next turn, releases them. (Sleeping until the other thread's write was done cost a
//! sleep and a wake-up per reply.) `everysec` fsyncs once a second on a
//! background thread (Redis's bio fsync job); while that fsync still runs, writes are postponed for up to 2 s (a
//! write to a file being fsynced can block on a busy disk) and replies go out meanwhile, then the write goes ahead
//! anyway and counts a delayed fsync, as Redis's `aof_flush_postponed_start`. `no` leaves the fsync to the kernel.
//!
//! At a rewrite the writer switches to the new increment file exactly at the feed offset of the snapshot's
//! instant (see `rewrite`).

use std::fs::File;
use std::io::Write;
use std::sync::atomic::{
    AtomicBool, AtomicU64,
    Ordering::{Acquire, Relaxed, Release},
};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::effects::Subscription;
use crate::server::Server;
use crate::util::broadcast::Broadcast;

/// What the connection threads and the writer share about durability.
#[derive(Default)]
pub struct Durable {
    /// Set while an AOF writer runs with `appendfsync always`: replies wait for their effects' fsync.
    always: AtomicBool,
    /// The feed offset written and fsynced (`always`).
    offset: AtomicU64,
    synced: Broadcast,
    /// Set while an AOF writer runs with `everysec` or `no`: replies wait for their effects' write.
    write_first: AtomicBool,
    /// The feed offset written to the file (or postponed, see the module doc).
    written: AtomicU64,
    /// The running writer, which a connection thread locks to write its effects.
    run: parking_lot::RwLock<Option<Arc<Mutex<Run>>>>,
    /// Threads waiting for another's write of their bytes wait here.
    written_event: Broadcast,
}

/// The one durability gate of the process (a process runs one server).
pub static DURABLE: Durable = Durable {
    always: AtomicBool::new(false),
    offset: AtomicU64::new(0),
    synced: Broadcast::new(),
    write_first: AtomicBool::new(false),
    written: AtomicU64::new(0),
    run: parking_lot::RwLock::new(None),
    written_event: Broadcast::new(),
};

impl Durable {
    fn publish(&self, offset: u64) {
        self.offset.fetch_max(offset, Release);
        self.synced.notify_all();
        // Only `always` holds replies for the fsync; with `everysec` and `no` the write released them
        // (`publish_written`), and the fsync can only be behind it.
        if self.always.load(Relaxed) {
            crate::server::held::release(self.offset.load(Acquire));
        }
    }

    fn set_always(&self, on: bool) {
        if self.always.swap(on, Relaxed) != on && !on {
            self.synced.notify_all();
            crate::server::held::release(u64::MAX);
        }
    }
}

/// Whether the running writer's last write failed (its `Shared::write_failed`), for the check before every write
/// command, which must not take the AOF's lock (`super::Aof::write_error`).
static WRITE_FAILED: AtomicBool = AtomicBool::new(false);

pub fn write_failed() -> bool {
    WRITE_FAILED.load(Relaxed)
}

/// `aof-timestamp-enabled`, mirrored by the configuration (read at each write, where a lookup by name costs).
static TIMESTAMPS: AtomicBool = AtomicBool::new(false);

pub fn set_timestamps(on: bool) {
    TIMESTAMPS.store(on, Relaxed);
}

/// Called before a connection writes its replies: with `appendfsync always`, waits until the effects this thread
/// appended are on disk; with `everysec` and `no`, until they are written. Two atomic loads without an AOF.
#[inline]
pub fn wait_durable() {
    if DURABLE.always.load(Relaxed) {
        wait_slow();
    } else if DURABLE.write_first.load(Relaxed) {
        write_slow();
    }
}

/// Writes what the feed holds unless a thread already wrote past this thread's last effect.
#[cold]
///
/// A thread that finds the lock taken does not queue for it: the holder is likely writing this thread's bytes
/// too, and queued threads would be woken one after another only to find their bytes written. It waits for the
/// holder's publication instead, and takes the lock itself only if its bytes are still unwritten then.
fn write_slow() {
    write_until(crate::effects::feed::last_appended());
}

/// With `everysec` and `no`, for a connection thread about to hold its replies: writes the feed if no other
/// thread is writing it. False while another thread writes: its publication (or the writer thread's next turn)
/// releases the held replies.
pub fn try_write() -> bool {
    let guard = DURABLE.run.read();
    let Some(run) = guard.as_ref() else {
        return true;
    };
    let Some(mut run) = run.try_lock() else {
        return false;
    };
    if run.policy != Policy::Always {
        run.flush(false);
        // Replies held while this thread wrote may wait for bytes appended after it took the feed.
        if crate::server::held::any() {
            run.flush(false);
        }
    }
    true
}

/// Writes what the feed holds unless a thread already wrote past `mine` (see [`write_slow`]).
fn write_until(mine: u64) {
    while DURABLE.written.load(Acquire) < mine {
        let guard = DURABLE.run.read();
        let Some(run) = guard.as_ref() else {
            return;
        };
        if let Some(mut run) = run.try_lock() {
            if DURABLE.written.load(Acquire) < mine && run.policy != Policy::Always {
                run.flush(false);
            }
            return;
        }
        drop(guard);
        let seen = DURABLE.written_event.generation();
        if DURABLE.written.load(Acquire) < mine {
            // Bounded: a writer that stops publishes nothing more.
            DURABLE.written_event.wait(seen, Duration::from_millis(1));
        }
    }
}

/// Publishes how far the file is written (or postponed) and wakes the threads waiting for it.
/// With `everysec` and `no` this is what held replies wait for (`crate::server::held`); with `always` they wait
/// for the fsync, published by [`Durable::publish`].
fn publish_written(offset: u64) {
    DURABLE.written.store(offset, Release);
    DURABLE.written_event.notify_all();
    if !DURABLE.always.load(Relaxed) {
        crate::server::held::release(offset);
    }
}

#[cold]
fn wait_slow() {
    wait_synced(crate::effects::feed::last_appended());
}

/// `Some(offset)` while a reply that acknowledges the feed up to `offset` may not go out yet: with `appendfsync
/// always` until the feed is fsynced that far, with `everysec` and `no` until it is written that far.
#[inline]
pub fn unreleased(offset: u64) -> Option<u64> {
    let durable = if DURABLE.always.load(Relaxed) {
        &DURABLE.offset
    } else if DURABLE.write_first.load(Relaxed) {
        &DURABLE.written
    } else {
        return None;
    };
    (durable.load(Acquire) < offset).then_some(offset)
}

/// Whether replies wait for the file's write (`everysec`, `no`) rather than its fsync.
pub fn write_first() -> bool {
    DURABLE.write_first.load(Relaxed)
}

/// Waits until a reply acknowledging the feed up to `until` may go out (see [`unreleased`]).
pub fn wait_released(until: u64) {
    wait_synced(until);
    if DURABLE.write_first.load(Relaxed) {
        write_until(until);
    }
}

/// Waits until the feed is fsynced up to `mine`, or `always` is off.
pub fn wait_synced(mine: u64) {
    loop {
        let seen = DURABLE.synced.generation();
        if DURABLE.offset.load(Acquire) >= mine || !DURABLE.always.load(Relaxed) {
            return;
        }
        DURABLE.synced.wait(seen, Duration::from_millis(100));
    }
}

/// A file to switch to once the feed reaches `at`.
pub struct Switch {
    pub at: u64,
    pub file: File,
}

/// The writer's shared state, for INFO and the rewrite.
#[derive(Default)]
pub struct Shared {
    pub stop: AtomicBool,
    pub switch: Mutex<Option<Switch>>,
    /// Bytes written to the current increment file.
    pub incr_size: AtomicU64,
    /// Bytes written since the AOF was loaded or rewritten (added to `aof_current_size`).
    pub written: AtomicU64,
    /// The last write failed (`aof_last_write_status:err`); writes are refused with -MISCONF.
    pub write_failed: AtomicBool,
    pub last_errno: Mutex<String>,
    /// Set while a rewrite runs, for `no-appendfsync-on-rewrite`.
    pub rewriting: AtomicBool,
    /// fsyncs that `everysec` had to delay, for INFO `aof_delayed_fsync`.
    pub delayed_fsync: AtomicU64,
    /// A background fsync (`everysec`) is running, for INFO `aof_pending_bio_fsync`.
    pub fsync_running: Arc<AtomicBool>,
}

/// A running writer.
pub struct Writer {
    pub shared: Arc<Shared>,
    run: Arc<Mutex<Run>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    /// Starts writing what `sub` reads to `file`.
    pub fn spawn(server: Arc<Server>, sub: Subscription, file: File) -> std::io::Result<Writer> {
        let shared = Arc::new(Shared::default());
        WRITE_FAILED.store(false, Relaxed);
        DURABLE.publish(sub.offset());
        publish_written(sub.offset());
        let mut run = Run {
            server,
            sub,
            file,
            shared: shared.clone(),
            pending: Vec::new(),
            unsynced: false,
            last_fsync: Instant::now(),
            last_ts: 0,
            bio: None,
            postponed_since: None,
            policy: Policy::Everysec,
        };
        run.refresh();
        let run = Arc::new(Mutex::new(run));
        let thread_run = run.clone();
        let handle = std::thread::Builder::new()
            .name("ferredis-aof".into())
            .spawn(move || Run::run(&thread_run))?;
        *DURABLE.run.write() = Some(run.clone());
        Ok(Writer {
            shared,
            run,
            handle: Some(handle),
        })
    }

    /// Writes and fsyncs what the feed holds, then ends the thread (its subscription drops with it).
    pub fn stop(mut self) {
        self.shared.stop.store(true, Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        DURABLE.set_always(false);
        // The gate is this writer's unless a newer one took it over.
        let mut current = DURABLE.run.write();
        if current.as_ref().is_some_and(|r| Arc::ptr_eq(r, &self.run)) {
            DURABLE.write_first.store(false, Relaxed);
            *current = None;
            // Nothing writes the feed any more: what is held goes out.
            crate::server::held::release(u64::MAX);
        }
    }
}

/// The writer's state, under the lock the writer thread and the connection threads write through.
pub struct Run {
    server: Arc<Server>,
    sub: Subscription,
    file: File,
    shared: Arc<Shared>,
    /// Bytes read from the feed but not written yet (after a write error).
    pending: Vec<u8>,
    unsynced: bool,
    last_fsync: Instant,
    /// The second of the last `#TS` annotation.
    last_ts: i64,
    /// The background fsync thread of `everysec`, started at its first fsync.
    bio: Option<std::sync::mpsc::Sender<File>>,
    /// When the writes started to wait for a running background fsync (Redis's `aof_flush_postponed_start`).
    postponed_since: Option<Instant>,
    /// `appendfsync`, read by the writer thread at each turn (not at each write).
    policy: Policy,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Policy {
    Always,
    Everysec,
    No,
}

impl Run {
    fn policy(&self) -> Policy {
        match self.server.config.get("appendfsync").as_deref() {
            Some("always") => Policy::Always,
            Some("no") => Policy::No,
            _ => Policy::Everysec,
        }
    }

    /// Reads the settings the writes follow, and tells the connection threads what to wait for.
    fn refresh(&mut self) {
        self.policy = self.policy();
        DURABLE.set_always(self.policy == Policy::Always);
        DURABLE
            .write_first
            .store(self.policy != Policy::Always, Relaxed);
    }

    /// The writer thread: with `always` it wakes at each append (replies wait for its fsync); otherwise every
    /// few milliseconds, for what no connection thread wrote (Redis's cron-driven flush) and for the fsync.
    fn run(run: &Mutex<Run>) {
        let shared = run.lock().shared.clone();
        loop {
            let stopping = shared.stop.load(Relaxed);
            let always = run.lock().policy == Policy::Always;
            if !stopping && !always {
                std::thread::sleep(Duration::from_millis(2));
            }
            let mut r = run.lock();
            r.refresh();
            let wait = !stopping && r.pending.is_empty() && r.policy == Policy::Always;
            let ok = r.flush(wait);
            if stopping && (r.pending.is_empty() || !ok) {
                r.bio = None;
                let _ = r.file.sync_data();
                DURABLE.publish(r.sub.offset());
                publish_written(r.sub.offset());
                return;
            }
            drop(r);
            if !ok && !stopping {
                // Redis retries a failed write from its cron; here, after a short pause.
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// Takes what the feed holds (waiting up to 100 ms for it if `wait`), writes it unless `everysec` postpones
    /// it, fsyncs as the policy says and publishes how far replies may go. False after a write error.
    fn flush(&mut self, wait: bool) -> bool {
        let policy = self.policy;
        let start = self.sub.offset();
        let bytes = if wait {
            self.sub.read(Duration::from_millis(100))
        } else {
            self.sub.take()
        };
        self.take(start, bytes);
        let stopping = self.shared.stop.load(Relaxed);
        if policy == Policy::Everysec && !stopping && self.postpone() {
            publish_written(self.sub.offset());
            return true;
        }
        let ok = self.write_pending();
        if ok {
            self.sync(policy);
        }
        // After a write error the replies go out too (as Redis's): later writes are refused with -MISCONF.
        publish_written(self.sub.offset());
        ok
    }

    /// Whether to hold the pending bytes back because the last background fsync still runs: for up to 2 s; then
    /// the write goes ahead, counted in `aof_delayed_fsync` with Redis's log line (Redis's `flushAppendOnlyFile`).
    fn postpone(&mut self) -> bool {
        if self.pending.is_empty() || !self.shared.fsync_running.load(Relaxed) {
            self.postponed_since = None;
            return false;
        }
        let Some(since) = self.postponed_since else {
            self.postponed_since = Some(Instant::now());
            return true;
        };
        if since.elapsed() < Duration::from_secs(2) {
            return true;
        }
        self.shared.delayed_fsync.fetch_add(1, Relaxed);
        log::info!(
            "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting \
             for fsync to complete, this may slow down Redis."
        );
        self.postponed_since = None;
        false
    }

    /// Hands the current file to the background fsync thread (started on first use); false if it cannot run.
    fn fsync_in_background(&mut self) -> bool {
        let Ok(file) = self.file.try_clone() else {
            return false;
        };
        if self.bio.is_none() {
            let (tx, rx) = std::sync::mpsc::channel::<File>();
            let running = self.shared.fsync_running.clone();
            let spawned = std::thread::Builder::new()
                .name("ferredis-aof-fsync".into())
                .spawn(move || bio_fsync(rx, &running));
            if spawned.is_err() {
                return false;
            }
            self.bio = Some(tx);
        }
        self.shared.fsync_running.store(true, Relaxed);
        match self.bio.as_ref().map(|tx| tx.send(file)) {
            Some(Ok(())) => true,
            _ => {
                self.shared.fsync_running.store(false, Relaxed);
                self.bio = None;
                false
            }
        }
    }

    /// Adds `bytes` (read from feed offset `start`) to what is to be written, switching to the rewrite's new
    /// increment file where the feed reaches its offset.
    fn take(&mut self, start: u64, bytes: Vec<u8>) {
        let end = start + bytes.len() as u64;
        let due = self
            .shared
            .switch
            .lock()
            .as_ref()
            .is_some_and(|s| s.at <= end);
        if !due {
            self.push(&bytes);
            return;
        }
        let Some(switch) = self.shared.switch.lock().take() else {
            return;
        };
        let split = (switch.at.saturating_sub(start) as usize).min(bytes.len());
        self.push(&bytes[..split]);
        // The old file gets all its bytes (retrying until they are written) before the new one any.
        while !self.write_pending() {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.file.sync_data();
        self.file = switch.file;
        self.shared.incr_size.store(0, Relaxed);
        self.last_ts = 0;
        self.push(&bytes[split..]);
    }

    /// Queues whole units of effects, after a `#TS:<unix time>` annotation when `aof-timestamp-enabled` is on
    /// and the second changed (Redis's `feedAppendOnlyFile`).
    fn push(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if TIMESTAMPS.load(Relaxed) {
            let now = crate::util::time::now_ms() / 1000;
            if now != self.last_ts {
                self.pending
                    .extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
                self.last_ts = now;
            }
        }
        self.pending.extend_from_slice(bytes);
    }

    /// Writes what is pending; false on an error, which is recorded for INFO and the -MISCONF gate.
    fn write_pending(&mut self) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        match self.file.write_all(&self.pending) {
            Ok(()) => {
                let n = self.pending.len() as u64;
                self.shared.incr_size.fetch_add(n, Relaxed);
                self.shared.written.fetch_add(n, Relaxed);
                self.pending.clear();
                self.unsynced = true;
                if self.shared.write_failed.swap(false, Relaxed) {
                    WRITE_FAILED.store(false, Relaxed);
                    log::warn!("AOF write error looks solved, Redis can write again.");
                }
                true
            }
            Err(e) => self.write_error(&e),
        }
    }

    fn write_error(&mut self, e: &std::io::Error) -> bool {
        let text = crate::config::special::strerror(e);
        if self.policy() == Policy::Always {
            log::warn!("Error writing to the AOF file: {text}");
            log::warn!("Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
            log::logger().flush();
            std::process::exit(1);
        }
        *self.shared.last_errno.lock() = text.clone();
        if !self.shared.write_failed.swap(true, Relaxed) {
            WRITE_FAILED.store(true, Relaxed);
            log::warn!("Error writing to the AOF file: {text}");
        }
        false
    }

    /// fsyncs as the policy says, then tells the waiting clients how far the file is durable.
    fn sync(&mut self, policy: Policy) {
        let skip = self.shared.rewriting.load(Relaxed)
            && policy == Policy::Everysec
            && self
                .server
                .config
                .get("no-appendfsync-on-rewrite")
                .as_deref()
                == Some("yes");
        let due = match policy {
            Policy::Always => self.unsynced,
            Policy::Everysec => {
                self.unsynced && self.last_fsync.elapsed() >= Duration::from_secs(1)
            }
            Policy::No => false,
        };
        if due && !skip && policy == Policy::Everysec {
            // No second job while one runs (as Redis): what was written since waits for the next one.
            if self.shared.fsync_running.load(Relaxed) {
                return DURABLE.publish(self.sub.offset());
            }
            if self.fsync_in_background() {
                self.unsynced = false;
                self.last_fsync = Instant::now();
                return DURABLE.publish(self.sub.offset());
            }
        }
        if due && !skip {
            if let Err(e) = self.file.sync_data() {
                if policy == Policy::Always {
                    log::warn!(
                        "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...",
                        crate::config::special::strerror(&e)
                    );
                    log::logger().flush();
                    std::process::exit(1);
                }
                log::warn!(
                    "Fail to fsync the AOF file: {}",
                    crate::config::special::strerror(&e)
                );
            }
            self.unsynced = false;
            self.last_fsync = Instant::now();
        }
        if policy != Policy::Always || !self.unsynced {
            DURABLE.publish(self.sub.offset());
        }
    }
}

/// The background fsync thread of `everysec` (Redis's bio `BIO_AOF_FSYNC` jobs): fsyncs each file handed to it,
/// then clears `running`. Ends when the writer drops its sender.
fn bio_fsync(jobs: std::sync::mpsc::Receiver<File>, running: &AtomicBool) {
    // Test-only hook: a slow disk, each fsync stalled this long.
    let stall = std::env::var("FERREDIS_TEST_FSYNC_STALL_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    for file in jobs {
        if let Some(ms) = stall {
            std::thread::sleep(Duration::from_millis(ms));
        }
        if let Err(e) = file.sync_data() {
            log::warn!(
                "Fail to fsync the AOF file: {}",
                crate::config::special::strerror(&e)
            );
        }
        running.store(false, Relaxed);
    }
}
