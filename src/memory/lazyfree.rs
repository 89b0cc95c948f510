//! Freeing big values on a background thread, as Redis's `lazyfree.c`: UNLINK hands a value whose freeing
//! costs more than [`THRESHOLD`] allocations to the `lazyfree` thread instead of dropping it under the shard's
//! write lock. INFO shows `lazyfree_pending_objects` (handed over, not freed yet) and `lazyfreed_objects`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};

use crate::db::Value;

/// Redis's `LAZYFREE_THRESHOLD`: below this effort freeing at once is cheaper than handing over.
const THRESHOLD: usize = 64;

static PENDING: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);

/// INFO memory `lazyfree_pending_objects`.
pub fn pending() -> u64 {
    PENDING.load(Relaxed)
}

/// INFO stats `lazyfreed_objects`.
pub fn freed() -> u64 {
    FREED.load(Relaxed)
}

/// CONFIG RESETSTAT.
pub fn reset_stats() {
    FREED.store(0, Relaxed);
}

/// Redis's `lazyfreeGetFreeEffort`: how many allocations freeing `value` takes (1 for a packed value).
pub fn effort(value: &Value) -> usize {
    match value {
        Value::List(l) => l.node_count(),
        Value::Hash(h) if h.encoding() == "hashtable" => h.len(),
        Value::Set(s) if s.encoding() == "hashtable" => s.len(),
        Value::ZSet(z) if z.encoding() == "skiplist" => z.len(),
        Value::Stream(s) => {
            // Every node is an allocation, and so is every group with its PEL (the first group's size stands for
            // all of them, as Redis estimates).
            let pel = s.groups.values().next().map_or(0, |g| g.pel.len());
            s.node_count() + s.groups.len() * (1 + pel)
        }
        _ => 1,
    }
}

/// Frees `value` here, or on the background thread if that is cheaper for the caller (UNLINK, the lazyfree-lazy-*
/// options).
pub fn free(value: Value) {
    if effort(&value) <= THRESHOLD {
        return;
    }
    PENDING.fetch_add(1, Relaxed);
    match sender() {
        Some(tx) => {
            if let Err(e) = tx.send(value) {
                drop(e.0);
                done();
            }
        }
        None => done(),
    }
}

fn done() {
    PENDING.fetch_sub(1, Relaxed);
    FREED.fetch_add(1, Relaxed);
}

fn sender() -> Option<Sender<Value>> {
    static TX: OnceLock<Option<Mutex<Sender<Value>>>> = OnceLock::new();
    let tx = TX.get_or_init(|| {
        let (tx, rx) = channel::<Value>();
        std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || {
                for value in rx {
                    drop(value);
                    done();
                }
            })
            .ok()
            .map(|_| Mutex::new(tx))
    });
    tx.as_ref()?.lock().ok().map(|t| t.clone())
}
