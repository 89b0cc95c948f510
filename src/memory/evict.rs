//! `maxmemory`: Redis's `performEvictions`. Before a command runs (and once per housekeeping period), if the
//! server holds more than `maxmemory`, keys are evicted by the policy until it does not.
//!
//! Candidates come as in Redis: for the LRU, LFU and TTL policies, `maxmemory-samples` keys are sampled in every
//! database (from all keys or from those with a TTL) into a small pool ordered by how good a victim each is
//! (idle time, 255 - LFU counter, nearness of the TTL), and the best one still there goes; the random policies
//! take one random key, visiting the databases in turn. A victim is deleted through the one write path
//! (`KeyLocks` of its shard): WATCH sees it, it emits `evicted`, it counts in INFO `evicted_keys`, and its `DEL`
//! (`UNLINK` under lazyfree-lazy-eviction) is its own unit in the effects feed.
//!
//! No shard lock is held by the caller, and each step takes one shard lock at a time, so eviction cannot
//! deadlock with commands. One thread evicts at a time; the others over the limit wait for it.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use super::Policy;
use crate::db::{Key, KeyLocks, LockPlan, SHARDS};
use crate::effects::Change;
use crate::server::{stats, Server};
use crate::util::time::now_ms;

/// Redis's EVICT_OK / EVICT_RUNNING / EVICT_FAIL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Under the limit (or back under it).
    Ok,
    /// Over the limit, still evicting (another thread, or the time budget ran out): commands go on.
    Running,
    /// Over the limit and nothing can be evicted: `denyoom` commands are refused.
    Fail,
}

/// Redis's EVPOOL_SIZE.
const POOL_SIZE: usize = 16;

/// One eviction candidate: higher `score` goes first.
struct Candidate {
    score: u64,
    db: usize,
    shard: usize,
    key: Key,
}

static EVICTING: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
/// The database the random policies look at next (Redis's `next_db`).
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// Redis's `evictionTimeLimitUs`: how long one call may evict, from `maxmemory-eviction-tenacity`.
fn time_limit() -> Option<Duration> {
    let t = super::tenacity();
    match t {
        0..=10 => Some(Duration::from_micros(50 * u64::from(t))),
        11..=99 => Some(Duration::from_micros(
            (500.0 * 1.15f64.powi(t as i32 - 10)) as u64,
        )),
        _ => None,
    }
}

/// Bytes over the limit now, leaving out what replicas' output buffers hold (Redis's
/// `freeMemoryGetNotCountedMemory`); 0 when under it or when there is no limit.
fn excess(server: &Server) -> u64 {
    match super::maxmemory() {
        0 => 0,
        // The replicas' part takes locks: only looked at when over the limit without it.
        max => match super::used().saturating_sub(max) {
            0 => 0,
            over => over.saturating_sub(super::not_counted_for_evict(server)),
        },
    }
}

/// Evicts until used memory is under `maxmemory`; see [`Outcome`]. Callers over the limit wait for each other
/// here: a write load cannot outrun the eviction by running beside it.
pub fn perform(server: &Server) -> Outcome {
    if excess(server) == 0 {
        return Outcome::Ok;
    }
    let policy = super::policy();
    if policy == Policy::NoEviction {
        return Outcome::Fail;
    }
    let _turn = EVICTING.lock();
    let start = Instant::now();
    let limit = time_limit();
    let mut targets = Targets::collect(server, policy.volatile());
    let mut evicted = 0u64;
    while excess(server) > 0 {
        if !evict_one(server, policy, &mut targets) {
            return Outcome::Fail;
        }
        evicted += 1;
        // Redis checks its time limit every 16 keys.
        if evicted.is_multiple_of(16) && limit.is_some_and(|l| start.elapsed() >= l) {
            return if excess(server) > 0 {
                Outcome::Running
            } else {
                Outcome::Ok
            };
        }
    }
    Outcome::Ok
}

/// The periodic step: evicts while over the limit, as Redis's eviction time proc keeps doing after a command
/// ran out of time (and after CONFIG SET maxmemory lowered the limit).
/// Clients go first, as before a command (Redis's `beforeSleep` evicts clients too).
pub fn background(server: &Server) {
    super::clients::evict(server, 0);
    if super::maxmemory() != 0 {
        perform(server);
    }
}

/// The shards holding keys the policy may evict, by database: found once per eviction run, not per key.
struct Targets {
    dbs: Vec<(usize, Vec<usize>)>,
    volatile: bool,
}

impl Targets {
    fn collect(server: &Server, volatile: bool) -> Targets {
        let dbs = (0..server.keyspace.db_count())
            .map(|db| (db, shards_with_keys(server, db, volatile)))
            .filter(|(_, shards)| !shards.is_empty())
            .collect();
        Targets { dbs, volatile }
    }
}

/// Evicts one key by `policy`; false when no key can be evicted.
fn evict_one(server: &Server, policy: Policy, targets: &mut Targets) -> bool {
    // A candidate can vanish between sampling and locking (another client deleted it), and shards empty out:
    // try again, looking the shards up anew once.
    for attempt in 0..8 {
        if attempt == 4 {
            *targets = Targets::collect(server, targets.volatile);
        }
        let candidate = match policy {
            Policy::AllkeysRandom | Policy::VolatileRandom => random_candidate(server, targets),
            _ => best_candidate(server, policy, targets),
        };
        match candidate {
            Some(c) if delete(server, policy, &c) => return true,
            Some(_) => {}
            None if attempt >= 4 => return false,
            None => {}
        }
    }
    false
}

/// The shard indexes of `db` holding keys the policy may evict.
fn shards_with_keys(server: &Server, db: usize, volatile: bool) -> Vec<usize> {
    (0..SHARDS)
        .filter(|&i| {
            let shard = server.keyspace.db(db).shard(i).read();
            if volatile {
                shard.volatile_len() > 0
            } else {
                !shard.is_empty()
            }
        })
        .collect()
}

/// Samples `maxmemory-samples` keys of every database into a pool and returns the best victim.
fn best_candidate(server: &Server, policy: Policy, targets: &Targets) -> Option<Candidate> {
    let now = now_ms();
    let mut pool: Vec<Candidate> = Vec::with_capacity(POOL_SIZE + 1);
    for (db, shards) in &targets.dbs {
        let db = *db;
        for _ in 0..super::samples() {
            let shard_index = shards[fastrand::usize(..shards.len())];
            let shard = server.keyspace.db(db).shard(shard_index).read();
            let Some((key, entry)) = sample(&shard, policy.volatile()) else {
                continue;
            };
            let Some(score) = score(policy, &shard, key, entry, now) else {
                continue;
            };
            if pool.iter().any(|c| c.db == db && *c.key == *key) {
                continue;
            }
            let at = pool.partition_point(|c| c.score >= score);
            if at < POOL_SIZE {
                pool.insert(
                    at,
                    Candidate {
                        score,
                        db,
                        shard: shard_index,
                        key: Key::from_slice(key),
                    },
                );
                pool.truncate(POOL_SIZE);
            }
        }
    }
    (!pool.is_empty()).then(|| pool.swap_remove(0))
}

/// How good an eviction candidate `key` is (higher goes first), under `policy`.
fn score(
    policy: Policy,
    shard: &crate::db::Shard,
    key: &[u8],
    entry: &crate::db::Entry,
    now: i64,
) -> Option<u64> {
    Some(match policy {
        Policy::AllkeysLfu | Policy::VolatileLfu => {
            255 - u64::from(entry.access().lfu_counter(now))
        }
        Policy::VolatileTtl => u64::MAX - shard.expire_at(key, entry).unwrap_or(i64::MAX) as u64,
        _ => entry.access().idle_secs(now),
    })
}

/// A random key of the shard (one with a TTL for the volatile policies) and its entry.
fn sample(shard: &crate::db::Shard, volatile: bool) -> Option<(&[u8], &crate::db::Entry)> {
    if volatile {
        let key = shard.random_volatile()?;
        let hash = shard.hash_of(key);
        shard.dict.get(hash, key).map(|e| (key, e))
    } else {
        shard.dict.random()
    }
}

/// One random key, looking at the databases in turn from where the last call stopped.
fn random_candidate(server: &Server, targets: &Targets) -> Option<Candidate> {
    let n = targets.dbs.len();
    for _ in 0..n {
        let (db, shards) = &targets.dbs[NEXT_DB.fetch_add(1, Relaxed) % n];
        let db = *db;
        let shard_index = shards[fastrand::usize(..shards.len())];
        let shard = server.keyspace.db(db).shard(shard_index).read();
        if let Some((key, _)) = sample(&shard, targets.volatile) {
            return Some(Candidate {
                score: 0,
                db,
                shard: shard_index,
                key: Key::from_slice(key),
            });
        }
    }
    None
}

/// Deletes the candidate if it is still there (and still has a TTL under a volatile policy); true if it went.
fn delete(server: &Server, policy: Policy, c: &Candidate) -> bool {
    let mut plan = LockPlan::new();
    plan.shard(c.db, c.shard, true);
    let mut keys = KeyLocks::new(server, plan.acquire(&server.keyspace), now_ms());
    // Redis propagates each eviction on its own, never inside MULTI/EXEC.
    keys.pending.set_no_multi();
    let evictable = keys
        .peek(c.db, &c.key)
        .is_some_and(|e| !policy.volatile() || e.has_ttl());
    if !evictable || keys.remove(c.db, &c.key).is_none() {
        return false;
    }
    stats::global().evicted_keys.fetch_add(1, Relaxed);
    keys.report(c.db, &c.key, Change::evicted());
    if keys.pending.feeding() {
        let del = crate::effects::deletion(&server.config, "lazyfree-lazy-eviction");
        keys.pending.also(c.db, [del, &c.key[..]].into_iter());
    }
    // Dropping the locks frees the value and appends the DEL to the feed.
    drop(keys);
    true
}
