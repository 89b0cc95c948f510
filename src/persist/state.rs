//! What INFO persistence, LASTSAVE, the save points and the MISCONF check need to know about saves and loads.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;

use crate::server::stats::dirty_total;
use crate::util::time::now_ms;

/// Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed BGSAVE, save points wait this long before trying again.
pub const BGSAVE_RETRY_DELAY_SECS: i64 = 5;

/// The persistence state shared by the connection threads, the save-point thread and the background saver.
pub struct Persistence {
    /// Set while the dataset is being loaded: commands without the `loading` flag answer -LOADING.
    pub loading: AtomicBool,
    /// While loading, whether clients are answered (-LOADING) yet, or wait. Redis serves clients during a load
    /// only where its loader processes events: an AOF's first command on, an RDB's first
    /// `loading-process-events-interval-bytes` on. A small RDB loads before anyone can see -LOADING.
    pub loading_answers: Arc<AtomicBool>,
    /// While loading: when it started (Unix seconds), the file's size, the bytes read so far and the `used-mem`
    /// the file was saved with, for INFO's `loading_*` fields.
    pub loading_start: AtomicU64,
    pub loading_total_bytes: AtomicU64,
    pub loading_loaded_bytes: Arc<AtomicU64>,
    pub loading_rdb_used_mem: AtomicU64,
    /// `!status.last_bgsave_ok`, readable by every command without taking the status lock.
    bgsave_failed: AtomicBool,
    /// Keys written by the snapshot in progress (INFO `current_save_keys_processed`).
    pub keys_processed: Arc<AtomicU64>,
    pub keys_total: AtomicU64,
    /// Set to stop the running BGSAVE (FLUSHALL, SHUTDOWN), as Redis kills its child; the saver clears it.
    pub cancel_bgsave: Arc<AtomicBool>,
    /// Held while a save renames its temp file over the RDB file, so a stopped BGSAVE cannot overwrite a newer
    /// file written by the save that stopped it.
    pub rename_lock: Mutex<()>,
    status: Mutex<Status>,
    /// The background saver's thread and writer child while one runs, to stop and wait for.
    bgsave_thread: Mutex<Option<(std::thread::JoinHandle<()>, super::child::Handle)>>,
    /// The append-only file.
    pub aof: super::aof::Aof,
}

/// Redis's `server.lastsave`, `lastbgsave_status`, `dirty_before_bgsave` and friends.
#[derive(Debug, Clone)]
pub struct Status {
    /// `dirty_total()` as of the last successful save: `rdb_changes_since_last_save` counts from here.
    pub dirty_at_save: u64,
    /// `dirty_total()` when the running BGSAVE took its snapshot.
    pub dirty_before_bgsave: u64,
    /// Unix seconds of the last successful save (the start time until one happens).
    pub last_save: i64,
    pub last_bgsave_ok: bool,
    /// Unix seconds of the last BGSAVE attempt.
    pub last_bgsave_try: i64,
    pub last_bgsave_secs: i64,
    /// When the running BGSAVE started.
    pub bgsave_started: Option<Instant>,
    /// The id logged as "Background saving started by pid ...".
    pub bgsave_pid: i64,
    pub bgsave_scheduled: bool,
    pub saves: u64,
    /// `rdb_last_cow_size`: what the last BGSAVE copied because of writes (`snapshot::COPIED`).
    pub last_cow_size: u64,
    pub load_keys_loaded: u64,
    pub load_keys_expired: u64,
}

impl Default for Persistence {
    fn default() -> Self {
        Self::new()
    }
}

impl Persistence {
    pub fn new() -> Self {
        Persistence {
            loading: AtomicBool::new(false),
            loading_answers: Arc::default(),
            bgsave_failed: AtomicBool::new(false),
            loading_start: AtomicU64::new(0),
            loading_total_bytes: AtomicU64::new(0),
            loading_loaded_bytes: Arc::new(AtomicU64::new(0)),
            loading_rdb_used_mem: AtomicU64::new(0),
            keys_processed: Arc::new(AtomicU64::new(0)),
            keys_total: AtomicU64::new(0),
            cancel_bgsave: Arc::new(AtomicBool::new(false)),
            rename_lock: Mutex::new(()),
            status: Mutex::new(Status {
                dirty_at_save: 0,
                dirty_before_bgsave: 0,
                last_save: now_ms() / 1000,
                last_bgsave_ok: true,
                last_bgsave_try: 0,
                last_bgsave_secs: -1,
                bgsave_started: None,
                bgsave_pid: -1,
                bgsave_scheduled: false,
                saves: 0,
                last_cow_size: 0,
                load_keys_loaded: 0,
                load_keys_expired: 0,
            }),
            bgsave_thread: Mutex::new(None),
            aof: super::aof::Aof::default(),
        }
    }

    pub fn status(&self) -> Status {
        self.status.lock().clone()
    }

    pub fn update<R>(&self, f: impl FnOnce(&mut Status) -> R) -> R {
        let mut status = self.status.lock();
        let r = f(&mut status);
        self.bgsave_failed.store(!status.last_bgsave_ok, Relaxed);
        r
    }

    /// Whether the last background save failed (Redis's `lastbgsave_status == C_ERR`).
    #[inline]
    pub fn bgsave_failed(&self) -> bool {
        self.bgsave_failed.load(Relaxed)
    }

    #[inline]
    pub fn loading(&self) -> bool {
        self.loading.load(Relaxed)
    }

    /// Redis's `server.dirty`: changes since the last successful save.
    pub fn changes_since_save(&self) -> u64 {
        dirty_total().saturating_sub(self.status.lock().dirty_at_save)
    }

    pub fn bgsave_in_progress(&self) -> bool {
        self.status.lock().bgsave_started.is_some()
    }

    pub fn set_bgsave_thread(
        &self,
        handle: std::thread::JoinHandle<()>,
        child: super::child::Handle,
    ) {
        *self.bgsave_thread.lock() = Some((handle, child));
    }

    /// Stops a running BGSAVE, as Redis's `killRDBChild`: SIGUSR1 to the writer child; its temp file is removed
    /// and the stop is not counted as a bgsave error. Does not wait, so a caller holding shard locks (FLUSHALL)
    /// cannot deadlock with the saver. Taken under `rename_lock`, so a save that is renaming its file either
    /// finished before or sees the stop.
    pub fn stop_bgsave(&self) {
        let _renaming = self.rename_lock.lock();
        if self.bgsave_in_progress() {
            self.cancel_bgsave.store(true, Relaxed);
            if let Some((_, child)) = &*self.bgsave_thread.lock() {
                child.signal(libc::SIGUSR1);
            }
        }
    }

    /// Waits for the background saver to finish (after `stop_bgsave`, for SHUTDOWN). Only for callers holding no
    /// shard lock.
    pub fn wait_bgsave(&self) {
        let running = self.bgsave_thread.lock().take();
        if let Some((handle, _)) = running {
            let _ = handle.join();
        }
    }
}
