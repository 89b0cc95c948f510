//! A chained hash table with power-of-two buckets, like Redis's `dict`.
//!
//! Why not `HashMap`: SCAN promises that a key present for the whole iteration is returned at least once even if
//! the table grows or shrinks in between. Redis gets that from chaining (a key lives in bucket `hash & mask`) plus a
//! cursor that counts in reverse-bit order, so that buckets split by a resize are visited in an order that never
//! skips one. Open addressing (hashbrown) moves keys along probe sequences and cannot offer it.
//!
//! The caller supplies the hash for lookups (the keyspace computes it once to choose the shard, too); the dict
//! keeps the same hasher to place keys again when it resizes. Memory: a node is one allocation with the key
//! inline when it is short (most keys are) and no cached hash, so a key costs about one node and a bucket
//! pointer, less than Redis's dictEntry + robj + sds.

pub use super::key::Key;

pub struct Dict<V> {
    buckets: Vec<Option<Box<Node<V>>>>,
    len: usize,
    hasher: ahash::RandomState,
}

struct Node<V> {
    next: Option<Box<Node<V>>>,
    key: Key,
    value: V,
}

const MIN_BUCKETS: usize = 4;

/// Segments a table is split into for snapshots (one bit each in a `u64`).
pub const SEGMENTS: usize = 64;

impl<V> Dict<V> {
    /// An empty dict hashing with `hasher` (which must be the one callers hash their lookups with).
    pub fn new(hasher: ahash::RandomState) -> Self {
        Dict {
            buckets: Vec::new(),
            len: 0,
            hasher,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The hash this dict files `key` under.
    pub fn hash_of(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    pub fn get(&self, hash: u64, key: &[u8]) -> Option<&V> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut node = self.buckets[hash as usize & self.mask()].as_deref();
        while let Some(n) = node {
            if &*n.key == key {
                return Some(&n.value);
            }
            node = n.next.as_deref();
        }
        None
    }

    pub fn get_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut V> {
        if self.buckets.is_empty() {
            return None;
        }
        let mask = self.mask();
        let mut node = self.buckets[hash as usize & mask].as_deref_mut();
        while let Some(n) = node {
            if &*n.key == key {
                return Some(&mut n.value);
            }
            node = n.next.as_deref_mut();
        }
        None
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, hash: u64, key: &[u8], value: V) -> Option<V> {
        if let Some(slot) = self.get_mut(hash, key) {
            return Some(std::mem::replace(slot, value));
        }
        self.insert_new(hash, Key::from_slice(key), value);
        None
    }

    /// Inserts a key known to be absent.
    pub fn insert_new(&mut self, hash: u64, key: Key, value: V) {
        if self.len >= self.buckets.len() {
            self.resize((self.len + 1).next_power_of_two().max(MIN_BUCKETS));
        }
        let idx = hash as usize & self.mask();
        let next = self.buckets[idx].take();
        self.buckets[idx] = Some(Box::new(Node { next, key, value }));
        self.len += 1;
    }

    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<(Key, V)> {
        if self.buckets.is_empty() {
            return None;
        }
        let idx = hash as usize & self.mask();
        let mut link = &mut self.buckets[idx];
        loop {
            match link {
                None => return None,
                Some(n) if &*n.key == key => {
                    let mut node = link.take()?;
                    *link = node.next.take();
                    self.len -= 1;
                    self.maybe_shrink();
                    return Some((node.key, node.value));
                }
                Some(n) => link = &mut n.next,
            }
        }
    }

    /// Shrinks when at most 1/8 full, so memory is returned after mass deletion or expiry.
    fn maybe_shrink(&mut self) {
        if self.len == 0 {
            self.buckets = Vec::new();
        } else if self.buckets.len() > MIN_BUCKETS && self.len * 8 <= self.buckets.len() {
            {
                self.resize(self.len.next_power_of_two().max(MIN_BUCKETS));
            }
        }
    }

    fn resize(&mut self, size: usize) {
        let mut buckets: Vec<Option<Box<Node<V>>>> = Vec::with_capacity(size);
        buckets.resize_with(size, || None);
        let mask = size - 1;
        for mut chain in std::mem::take(&mut self.buckets) {
            while let Some(mut node) = chain {
                chain = node.next.take();
                let idx = self.hasher.hash_one(&*node.key) as usize & mask;
                node.next = buckets[idx].take();
                buckets[idx] = Some(node);
            }
        }
        self.buckets = buckets;
    }

    /// Moves the contents out, leaving an empty dict with the same hasher (FLUSHALL ASYNC frees them elsewhere).
    pub fn take(&mut self) -> Self {
        let empty = Dict::new(self.hasher.clone());
        std::mem::replace(self, empty)
    }

    pub fn clear(&mut self) {
        // Dropped iteratively: a long chain dropped recursively could overflow a small thread stack.
        for mut chain in std::mem::take(&mut self.buckets) {
            while let Some(mut node) = chain {
                chain = node.next.take();
            }
        }
        self.len = 0;
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        self.buckets
            .iter()
            .flat_map(|b| ChainIter { node: b.as_deref() })
    }

    /// Which of [`SEGMENTS`] runs of buckets holds `hash`: a snapshot saves a shard segment by segment, so a writer
    /// saves only the segment it changes. Stable as long as the table does not resize.
    pub fn segment_of(&self, hash: u64) -> u32 {
        let n = self.buckets.len();
        if n == 0 {
            return 0;
        }
        ((hash as usize & self.mask()) / (n / SEGMENTS).max(1)) as u32
    }

    /// The entries of segment `seg` (see `segment_of`).
    pub fn segment(&self, seg: u32) -> impl Iterator<Item = (&[u8], &V)> {
        let n = self.buckets.len();
        let per = (n / SEGMENTS).max(1);
        let start = (seg as usize * per).min(n);
        let end = (start + per).min(n);
        self.buckets[start..end]
            .iter()
            .flat_map(|b| ChainIter { node: b.as_deref() })
    }

    /// Whether inserting a new key resizes the table (which moves keys between segments).
    pub fn grows_on_insert(&self) -> bool {
        self.len >= self.buckets.len()
    }

    /// Whether removing a key resizes the table.
    pub fn shrinks_on_remove(&self) -> bool {
        let left = self.len.saturating_sub(1);
        left == 0 || (self.buckets.len() > MIN_BUCKETS && left * 8 <= self.buckets.len())
    }

    /// Visits the bucket at `cursor` and returns the next cursor (0 when the scan is complete).
    /// Reverse-binary increment, exactly as Redis's `dictScan`.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(&[u8], &V)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = self.mask() as u64;
        for (k, v) in (ChainIter {
            node: self.buckets[(cursor & mask) as usize].as_deref(),
        }) {
            visit(k, v);
        }
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// A key-value pair chosen uniformly at random (SRANDMEMBER, SPOP, HRANDFIELD, RANDOMKEY, eviction sampling).
    ///
    /// Picking a bucket and then a node of its chain favours the nodes of short chains (the SRANDMEMBER
    /// histogram test of Redis's suite saw it). Instead, each try takes a random bucket and a random slot below a
    /// bound on chain lengths, and keeps the node in that slot if there is one: every node is then equally likely.
    /// The bound starts at a length chains rarely exceed and grows to any longer chain met (which restarts the
    /// draw), so a try succeeds with probability about `len / (buckets * bound)`.
    pub fn random(&self) -> Option<(&[u8], &V)> {
        if self.len == 0 {
            return None;
        }
        let mut bound = 4;
        loop {
            let idx = fastrand::usize(..self.buckets.len());
            let chain = ChainIter {
                node: self.buckets[idx].as_deref(),
            };
            let len = chain.clone().count();
            if len > bound {
                bound = len;
                continue;
            }
            if let Some(pair) = chain.clone().nth(fastrand::usize(..bound)) {
                return Some(pair);
            }
        }
    }
}

impl<V> Drop for Dict<V> {
    fn drop(&mut self) {
        self.clear();
    }
}

struct ChainIter<'a, V> {
    node: Option<&'a Node<V>>,
}

// Not derived: a derive would require `V: Clone`, and only the reference is copied.
impl<V> Clone for ChainIter<'_, V> {
    fn clone(&self) -> Self {
        ChainIter { node: self.node }
    }
}

impl<'a, V> Iterator for ChainIter<'a, V> {
    type Item = (&'a [u8], &'a V);
    fn next(&mut self) -> Option<Self::Item> {
        let n = self.node?;
        self.node = n.next.as_deref();
        Some((&n.key, &n.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn hasher() -> ahash::RandomState {
        ahash::RandomState::with_seeds(1, 2, 3, 4)
    }

    fn h(k: &[u8]) -> u64 {
        hasher().hash_one(k)
    }

    #[test]
    fn insert_get_remove() {
        let mut d = Dict::new(hasher());
        for i in 0..1000u32 {
            let k = i.to_string();
            assert!(d.insert(h(k.as_bytes()), k.as_bytes(), i).is_none());
        }
        assert_eq!(d.len(), 1000);
        assert_eq!(d.get(h(b"42"), b"42"), Some(&42));
        assert_eq!(d.insert(h(b"42"), b"42", 7), Some(42));
        for i in 0..1000u32 {
            let k = i.to_string();
            assert!(d.remove(h(k.as_bytes()), k.as_bytes()).is_some());
        }
        assert!(d.is_empty());
        assert_eq!(d.bucket_count(), 0);
    }

    #[test]
    fn scan_survives_growth_and_shrink() {
        let mut d = Dict::new(hasher());
        for i in 0..500u32 {
            let k = format!("k{i}");
            d.insert(h(k.as_bytes()), k.as_bytes(), ());
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = d.scan(cursor, |k, _| {
                seen.insert(k.to_vec());
            });
            step += 1;
            if step == 50 {
                for i in 500..5000u32 {
                    let k = format!("k{i}");
                    d.insert(h(k.as_bytes()), k.as_bytes(), ());
                }
            }
            if step == 200 {
                for i in 1000..5000u32 {
                    let k = format!("k{i}");
                    d.remove(h(k.as_bytes()), k.as_bytes());
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..500u32 {
            assert!(seen.contains(format!("k{i}").as_bytes()), "k{i} missed");
        }
    }
}
