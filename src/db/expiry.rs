//! Active expiry: a background cycle that deletes expired keys nobody reads, as Redis's `activeExpireCycle`.
//!
//! Every `1000/hz` ms it walks the shards' indexes of volatile keys with a resumable cursor, 20 keys at a time,
//! staying on a shard while more than a quarter of what it checks has expired, and stops when a quarter of the
//! period is spent. Lazy expiry (reads treat an expired key as absent) keeps correctness; this keeps memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{Key, KeyLocks, LockPlan, SHARDS};
use crate::server::Server;
use crate::util::time::now_ms;

const KEYS_PER_STEP: usize = 20;

/// DEBUG SET-ACTIVE-EXPIRE 0 stops the cycle (lazy expiry still applies), as Redis's `active_expire_enabled`.
static ACTIVE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

pub fn set_active(on: bool) {
    ACTIVE.store(on, Ordering::Relaxed);
}

/// Runs one cycle with the given time budget; returns how many keys it deleted.
pub fn run_cycle(server: &Server, budget: Duration, next_slot: &AtomicUsize) -> usize {
    // A replica waits for its master's DELs (Redis 7.0): it hides expired keys but never deletes them itself.
    // Nor does anything expire while the dataset loads (Redis's loading blocks its cron).
    if server.repl.is_replica() || server.persist.loading() {
        return 0;
    }
    let ks = &server.keyspace;
    let start = Instant::now();
    let slots = ks.db_count() * SHARDS;
    let mut deleted = 0;
    for _ in 0..slots {
        let slot = next_slot.fetch_add(1, Ordering::Relaxed) % slots;
        let (db, shard) = (slot / SHARDS, slot % SHARDS);
        if ks.db(db).shard(shard).read().volatile_len() == 0 {
            continue;
        }
        let mut plan = LockPlan::new();
        plan.shard(db, shard, true);
        let mut keys = KeyLocks::new(server, plan.acquire(ks), now_ms());
        // Redis propagates the active expiry's DELs one by one, never in MULTI/EXEC.
        keys.pending.set_no_multi();
        loop {
            keys.set_now(now_ms());
            let (checked, expired) = expire_step(&mut keys, db, shard);
            deleted += expired;
            if checked == 0 || expired * 4 < checked || start.elapsed() >= budget {
                break;
            }
        }
        // Dropping the locks appends the DELs to the effects feed.
        drop(keys);
        crate::tracking::deliver(server, None);
        if start.elapsed() >= budget {
            break;
        }
    }
    deleted
}

/// Checks up to [`KEYS_PER_STEP`] volatile keys from the shard's cursor; returns (checked, deleted).
fn expire_step(keys: &mut KeyLocks, db: usize, index: usize) -> (usize, usize) {
    let shard = keys.shard_at_mut(db, index);
    let mut candidates: Vec<Key> = Vec::with_capacity(KEYS_PER_STEP);
    let mut cursor = shard.expire_cursor;
    loop {
        cursor = shard
            .volatile
            .scan(cursor, |k, _| candidates.push(k.into()));
        if cursor == 0 || candidates.len() >= KEYS_PER_STEP {
            break;
        }
    }
    shard.expire_cursor = cursor;
    let deleted = candidates
        .iter()
        .filter(|key| keys.delete_if_expired(db, key))
        .count();
    (candidates.len(), deleted)
}

/// Deleted keys after which, once a wave of expiry is over, free memory is handed back to the system.
const TRIM_AFTER: usize = 10_000;

/// glibc keeps freed small blocks in its arenas; after a mass expiry (a million keys with `PX 100`) the server
/// would keep its peak RSS for ever. `malloc_trim` returns the free pages, as jemalloc's purging does for Redis.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases memory the allocator already considers free.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Starts the cycle on its own thread; `hz` is read each period so CONFIG SET hz takes effect.
pub fn spawn(server: std::sync::Arc<crate::server::Server>) {
    let spawned = std::thread::Builder::new()
        .name("ferredis-expiry".into())
        .spawn(move || {
            let next_slot = AtomicUsize::new(0);
            let mut untrimmed = 0;
            loop {
                let hz = server.config.hz().clamp(1, 500);
                let period = Duration::from_millis(1000 / hz as u64);
                std::thread::sleep(period);
                // Redis's eviction timer: keys go even while no command arrives (CONFIG SET maxmemory lower);
                // nothing is evicted or expires while clients are paused (CLIENT PAUSE), as in Redis.
                if !crate::ops::pause::paused() {
                    crate::memory::evict::background(&server);
                }
                if !ACTIVE.load(Ordering::Relaxed) || crate::ops::pause::paused() {
                    continue;
                }
                let started = Instant::now();
                let deleted = run_cycle(&server, period / 4, &next_slot);
                let ms = started.elapsed().as_millis() as u64;
                crate::ops::latency::add_sample_if_needed("expire-cycle", ms);
                untrimmed += deleted;
                if deleted == 0 && untrimmed >= TRIM_AFTER {
                    release_free_memory();
                    untrimmed = 0;
                }
            }
        });
    if let Err(e) = spawned {
        log::warn!("could not start the active expiry thread: {e}");
    }
}
