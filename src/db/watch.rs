//! WATCH bookkeeping inside each shard: which clients watch which keys.
//!
//! Lives in the shard so that the "key changed" hook, which runs under the shard's write lock, can mark watchers
//! dirty without any other lock. Filled in by the transactions work; until then nobody watches.

#[derive(Default)]
pub struct WatchedKeys {}

impl WatchedKeys {
    /// Key `key` was written: every client watching it must fail its EXEC.
    pub fn touch(&mut self, _key: &[u8]) {}

    /// The whole shard changed (FLUSHDB, SWAPDB): every watcher here must fail its EXEC.
    pub fn touch_all(&mut self) {}
}
