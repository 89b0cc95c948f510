//! Server statistics for INFO, without a counter that every request writes from every thread.
//!
//! Per-request counters live in a per-thread block that only its own thread writes (plain load + store, no
//! contended cache line); INFO sums the blocks of all threads. Rare events (connections, expiries) use one global
//! block of atomics.

use std::cell::OnceCell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

#[derive(Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds from the owning thread only: a load and a store, no locked instruction.
    #[inline]
    pub fn add_local(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
    pub fn reset(&self) {
        self.0.store(0, Relaxed);
    }
}

#[derive(Default)]
pub struct CommandCounters {
    pub calls: Counter,
    pub usec: Counter,
    pub rejected: Counter,
    pub failed: Counter,
}

/// The counters one pool thread keeps.
pub struct ThreadStats {
    pub commands: Box<[CommandCounters]>,
    pub total_commands: Counter,
    pub net_input_bytes: Counter,
    pub net_output_bytes: Counter,
    pub keyspace_hits: Counter,
    pub keyspace_misses: Counter,
    pub total_error_replies: Counter,
    /// Changes to the keyspace (Redis's `server.dirty`), added when an execution unit ends. Never reset: INFO's
    /// `rdb_changes_since_last_save` and the save points subtract the total at the last save.
    pub dirty: Counter,
    /// Error replies by code (`ERR`, `WRONGTYPE`, ...), for INFO errorstats. Only this thread writes it, so the
    /// lock is never contended; errors are rare enough that a small map is fine.
    errors: Mutex<Vec<(Box<str>, u64)>>,
}

impl ThreadStats {
    /// Counts an error reply in `total_error_replies` and under its code (the text up to the first space).
    pub fn count_error(&self, reply: &crate::protocol::Reply) {
        self.total_error_replies.add_local(1);
        let crate::protocol::Reply::Error(text) = reply else {
            return;
        };
        let code = text.split(' ').next().unwrap_or("");
        tally(&mut self.errors.lock(), code, 1);
    }

    /// The counters CONFIG RESETSTAT zeroes besides the per-command ones (not `dirty`, which is never reset).
    fn resettable(&self) -> [&Counter; 6] {
        [
            &self.total_commands,
            &self.net_input_bytes,
            &self.net_output_bytes,
            &self.keyspace_hits,
            &self.keyspace_misses,
            &self.total_error_replies,
        ]
    }

    fn new(commands: usize) -> Self {
        ThreadStats {
            commands: (0..commands).map(|_| CommandCounters::default()).collect(),
            total_commands: Counter::default(),
            net_input_bytes: Counter::default(),
            net_output_bytes: Counter::default(),
            keyspace_hits: Counter::default(),
            keyspace_misses: Counter::default(),
            total_error_replies: Counter::default(),
            dirty: Counter::default(),
            errors: Mutex::new(Vec::new()),
        }
    }

    /// Adds `other`'s counts to these: a thread that ends leaves its counts in the registry's retired block.
    /// Called with the registry's lock held, the only writers of that block.
    fn absorb(&self, other: &ThreadStats) {
        for (mine, theirs) in self.commands.iter().zip(other.commands.iter()) {
            mine.calls.add_local(theirs.calls.get());
            mine.usec.add_local(theirs.usec.get());
            mine.rejected.add_local(theirs.rejected.get());
            mine.failed.add_local(theirs.failed.get());
        }
        for (mine, theirs) in self.resettable().into_iter().zip(other.resettable()) {
            mine.add_local(theirs.get());
        }
        self.dirty.add_local(other.dirty.get());
        let mut errors = self.errors.lock();
        for (code, n) in other.errors.lock().iter() {
            tally(&mut errors, code, *n);
        }
    }

    fn reset(&self) {
        for c in self.commands.iter() {
            c.calls.reset();
            c.usec.reset();
            c.rejected.reset();
            c.failed.reset();
        }
        for c in self.resettable() {
            c.reset();
        }
        self.errors.lock().clear();
    }
}

/// Adds `n` errors under `code` to a block's error counts.
fn tally(errors: &mut Vec<(Box<str>, u64)>, code: &str, n: u64) {
    match errors.iter_mut().find(|(c, _)| &**c == code) {
        Some((_, total)) => *total += n,
        None => errors.push((code.into(), n)),
    }
}

/// Counters for rare, server-wide events; atomics are fine here.
#[derive(Default)]
pub struct GlobalStats {
    pub total_connections: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub expired_keys: AtomicU64,
    pub evicted_keys: AtomicU64,
    /// Clients closed for `maxmemory-clients`.
    pub evicted_clients: AtomicU64,
    pub pubsub_messages: AtomicU64,
    /// Clients closed for going over `client-query-buffer-limit`.
    pub query_buffer_limit_disconnections: AtomicU64,
}

struct Registry {
    /// The live threads' blocks, and first the retired block, which holds the counts of threads that ended (a
    /// thread made per subscriber or per snapshot must not leave its block behind for good).
    threads: Mutex<Vec<Arc<ThreadStats>>>,
    command_count: OnceLock<usize>,
    global: GlobalStats,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry {
        threads: Mutex::new(Vec::new()),
        command_count: OnceLock::new(),
        global: GlobalStats::default(),
    })
}

/// Sizes the per-command arrays; called once the command table exists.
pub fn init(command_count: usize) {
    let _ = registry().command_count.set(command_count);
}

pub fn global() -> &'static GlobalStats {
    &registry().global
}

/// A thread's block, handed to the retired block when the thread ends.
struct Local(OnceCell<Arc<ThreadStats>>);

impl Drop for Local {
    fn drop(&mut self) {
        if let Some(stats) = self.0.get() {
            retire(stats);
        }
    }
}

thread_local! {
    static LOCAL: Local = const { Local(OnceCell::new()) };
}

fn new_block() -> Arc<ThreadStats> {
    Arc::new(ThreadStats::new(
        registry().command_count.get().copied().unwrap_or(0),
    ))
}

/// Runs `f` with this thread's counters, registering them on first use.
#[inline]
pub fn with_local<R>(f: impl FnOnce(&ThreadStats) -> R) -> R {
    LOCAL.with(|local| {
        let stats = local.0.get_or_init(|| {
            let stats = new_block();
            let mut threads = registry().threads.lock();
            if threads.is_empty() {
                threads.push(new_block());
            }
            threads.push(stats.clone());
            stats
        });
        f(stats)
    })
}

/// Folds an ending thread's counts into the retired block and drops its own.
fn retire(stats: &Arc<ThreadStats>) {
    let mut threads = registry().threads.lock();
    let Some(at) = threads.iter().position(|t| Arc::ptr_eq(t, stats)) else {
        return;
    };
    threads.swap_remove(at);
    if let Some(retired) = threads.first() {
        retired.absorb(stats);
    }
}

/// Sums one counter over every thread.
pub fn sum(f: impl Fn(&ThreadStats) -> u64) -> u64 {
    registry().threads.lock().iter().map(|t| f(t)).sum()
}

/// Every change to the keyspace since the start, over all threads (see [`ThreadStats::dirty`]).
pub fn dirty_total() -> u64 {
    sum(|t| t.dirty.get())
}

/// Error replies by code, summed over threads, sorted by code.
pub fn error_totals() -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = Vec::new();
    for t in registry().threads.lock().iter() {
        for (code, n) in t.errors.lock().iter() {
            match out.iter_mut().find(|(c, _)| c.as_str() == &**code) {
                Some((_, total)) => *total += n,
                None => out.push((code.to_string(), *n)),
            }
        }
    }
    out.sort();
    out
}

/// (calls, usec, rejected, failed) of one command, summed over threads.
pub fn command_totals(id: usize) -> (u64, u64, u64, u64) {
    registry()
        .threads
        .lock()
        .iter()
        .fold((0, 0, 0, 0), |acc, t| match t.commands.get(id) {
            Some(c) => (
                acc.0 + c.calls.get(),
                acc.1 + c.usec.get(),
                acc.2 + c.rejected.get(),
                acc.3 + c.failed.get(),
            ),
            None => acc,
        })
}

/// CONFIG RESETSTAT.
pub fn reset() {
    crate::ops::histogram::reset();
    for t in registry().threads.lock().iter() {
        t.reset();
    }
    let g = global();
    for c in [
        &g.total_connections,
        &g.rejected_connections,
        &g.expired_keys,
        &g.evicted_keys,
        &g.evicted_clients,
        &g.pubsub_messages,
        &g.query_buffer_limit_disconnections,
    ] {
        c.store(0, Relaxed);
    }
}

/// What the once-a-second housekeeping samples, as Redis's `serverCron` does: the memory peak and the rates
/// behind `instantaneous_*`.
#[derive(Default)]
struct Sampler {
    peak_memory: u64,
    /// (ms, commands, input bytes, output bytes), newest last, at most `SAMPLES`.
    samples: std::collections::VecDeque<(i64, u64, u64, u64)>,
}

/// About two seconds of samples: close to Redis's 1.6 s window for `instantaneous_*`.
const SAMPLES: usize = 3;

fn sampler() -> &'static Mutex<Sampler> {
    static SAMPLER: OnceLock<Mutex<Sampler>> = OnceLock::new();
    SAMPLER.get_or_init(Mutex::default)
}

/// Bytes the server holds (INFO `used_memory`, see `crate::memory`).
pub fn allocated_bytes() -> u64 {
    crate::memory::used()
}

/// Records one sample; called once a second.
pub fn sample() {
    let used = allocated_bytes();
    let now = crate::util::time::now_ms();
    let row = (
        now,
        sum(|t| t.total_commands.get()),
        sum(|t| t.net_input_bytes.get()),
        sum(|t| t.net_output_bytes.get()),
    );
    let mut s = sampler().lock();
    s.peak_memory = s.peak_memory.max(used);
    if s.samples.len() == SAMPLES {
        s.samples.pop_front();
    }
    s.samples.push_back(row);
}

/// The highest allocation seen by the samples (or now, if higher).
pub fn peak_memory(now_used: u64) -> u64 {
    let mut s = sampler().lock();
    s.peak_memory = s.peak_memory.max(now_used);
    s.peak_memory
}

/// Per-second rates over the sampled window: (ops/sec, input KB/s, output KB/s).
pub fn instantaneous() -> (u64, f64, f64) {
    let s = sampler().lock();
    let (Some(first), Some(last)) = (s.samples.front(), s.samples.back()) else {
        return (0, 0.0, 0.0);
    };
    let secs = (last.0 - first.0) as f64 / 1000.0;
    if secs <= 0.0 {
        return (0, 0.0, 0.0);
    }
    let rate = |a: u64, b: u64| b.saturating_sub(a) as f64 / secs;
    (
        rate(first.1, last.1).round() as u64,
        rate(first.2, last.2) / 1024.0,
        rate(first.3, last.3) / 1024.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads made and ended one after another (a writer per subscriber) leave their counts, not their blocks.
    #[test]
    fn an_ended_thread_leaves_its_counts_and_frees_its_block() {
        let before = registry().threads.lock().len();
        let bytes_before = sum(|t| t.net_output_bytes.get());
        for _ in 0..50 {
            std::thread::spawn(|| with_local(|s| s.net_output_bytes.add_local(3)))
                .join()
                .expect("counting thread panicked");
        }
        let after = registry().threads.lock().len();
        // Other tests' threads may come and go meanwhile, but not fifty of them.
        assert!(after < before + 25, "{before} blocks before, {after} after");
        assert!(sum(|t| t.net_output_bytes.get()) >= bytes_before + 150);
    }
}
