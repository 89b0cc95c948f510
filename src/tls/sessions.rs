//! The TLS 1.2 session-id cache (`tls-session-cache-size`): what a client resuming by session id finds again.
//!
//! rustls's `ServerSessionMemoryCache` reserves room for every session it may hold when it is made: 2.1 MB of
//! `used_memory` for Redis's default of 20480 sessions, on a server no client has resumed on. This one grows
//! with the sessions it holds, as OpenSSL's cache does, and drops the oldest once it holds `limit`.

use std::collections::{BTreeMap, HashMap};

use parking_lot::Mutex;
use rustls::server::StoresServerSessions;

#[derive(Debug)]
pub struct SessionCache {
    limit: usize,
    inner: Mutex<Inner>,
}

/// Sessions by id, each with the sequence number it was stored under; `order` gives the ids oldest first, so
/// the oldest goes in O(log n) and a taken session leaves no trace behind.
#[derive(Debug, Default)]
struct Inner {
    sessions: HashMap<Vec<u8>, (u64, Vec<u8>)>,
    order: BTreeMap<u64, Vec<u8>>,
    next: u64,
}

impl SessionCache {
    /// A cache of at most `limit` sessions (at least one).
    pub fn new(limit: usize) -> SessionCache {
        SessionCache {
            limit: limit.max(1),
            inner: Mutex::default(),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        let inner = self.inner.lock();
        debug_assert_eq!(inner.sessions.len(), inner.order.len());
        inner.sessions.len()
    }
}

impl StoresServerSessions for SessionCache {
    /// Stores `value` under `key`; a session stored again keeps its place in the order, as in rustls's cache.
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        let mut inner = self.inner.lock();
        if let Some(entry) = inner.sessions.get_mut(&key) {
            entry.1 = value;
            return true;
        }
        let seq = inner.next;
        inner.next += 1;
        inner.order.insert(seq, key.clone());
        inner.sessions.insert(key, (seq, value));
        while inner.sessions.len() > self.limit {
            match inner.order.pop_first() {
                Some((_, oldest)) => inner.sessions.remove(&oldest),
                None => break,
            };
        }
        true
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.inner.lock().sessions.get(key).map(|(_, v)| v.clone())
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let mut inner = self.inner.lock();
        let (seq, value) = inner.sessions.remove(key)?;
        inner.order.remove(&seq);
        Some(value)
    }

    fn can_cache(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(c: &SessionCache, k: &str, v: &str) {
        assert!(c.put(k.into(), v.into()));
    }

    #[test]
    fn keeps_the_newest_limit_sessions() {
        let c = SessionCache::new(3);
        for (k, v) in [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")] {
            put(&c, k, v);
        }
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(b"a"), None);
        assert_eq!(c.get(b"b"), Some(b"2".to_vec()));
        assert_eq!(c.get(b"d"), Some(b"4".to_vec()));
    }

    #[test]
    fn a_session_stored_again_is_replaced_in_place() {
        let c = SessionCache::new(2);
        put(&c, "a", "1");
        put(&c, "b", "2");
        put(&c, "a", "3");
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(b"a"), Some(b"3".to_vec()));
        // "a" is still the oldest: the next new session pushes it out.
        put(&c, "c", "4");
        assert_eq!(c.get(b"a"), None);
        assert_eq!(c.get(b"b"), Some(b"2".to_vec()));
    }

    #[test]
    fn take_removes_the_session_and_its_place() {
        let c = SessionCache::new(2);
        put(&c, "a", "1");
        put(&c, "b", "2");
        assert_eq!(c.take(b"a"), Some(b"1".to_vec()));
        assert_eq!(c.take(b"a"), None);
        assert_eq!(c.len(), 1);
        // Room for one more without losing "b".
        put(&c, "c", "3");
        assert_eq!(c.get(b"b"), Some(b"2".to_vec()));
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn a_limit_of_zero_still_keeps_the_last_session() {
        let c = SessionCache::new(0);
        put(&c, "a", "1");
        put(&c, "b", "2");
        assert_eq!((c.len(), c.get(b"b")), (1, Some(b"2".to_vec())));
    }
}
