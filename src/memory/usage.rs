//! What one key costs, for MEMORY USAGE and MEMORY STATS: Redis's `objectComputeSize` estimates a collection from
//! a sample of its elements (`SAMPLES`, 5 by default, 0 for all) times its length, plus what each element costs
//! in the structure that holds it.
//!
//! The per-element costs below are those of ferredis's structures as they are today (measured with
//! bench/memory.sh): whoever changes a type's encoding adjusts its row here, and nothing else needs to know.

use crate::db::{Entry, Value};

/// What a stored key costs besides its value: the dict node (next pointer, 16-byte key inline up to 15 bytes, the
/// 32-byte entry with its access stamp: 56 bytes, a 64-byte block).
const KEY_NODE: usize = 64;
/// The longest dict key held inline (`db::Key`).
const KEY_INLINE: usize = 15;
/// Heap bytes a key longer than the node's inline room takes.
const INLINE: usize = 16;
/// One allocation's bookkeeping in glibc malloc.
const MALLOC_OVERHEAD: usize = 8;

/// Bytes a block of `n` bytes really takes: glibc rounds chunks to 16 bytes with an 8-byte header, 32 at least.
pub fn block(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        ((n + MALLOC_OVERHEAD + 15) & !15).max(32)
    }
}

/// Heap bytes of a byte string stored inline up to 16 bytes (keys, short strings and list elements).
fn inline_bytes(n: usize) -> usize {
    if n <= INLINE {
        0
    } else {
        block(n)
    }
}

/// Per-element cost of each structure, beyond the element's own bytes.
mod per_element {
    /// A packed small hash: one (boxed field, vec value) pair, 40 bytes, in a vector.
    pub const HASH_PACK: usize = 40;
    /// A dict node with key and value vector, and its bucket pointer.
    pub const HASH_TABLE: usize = 96;
    /// An intset member: one i64.
    pub const SET_INTS: usize = 8;
    /// A dict node with an inline key (24 bytes, a 32-byte block), and its bucket pointer.
    pub const SET_TABLE: usize = 40;
    /// One skip-list node (member, score, levels) plus the score dict's node.
    pub const ZSET: usize = 160;
    /// A quicklist node's slot in the list's deque (its elements are in the node's listpack).
    pub const LIST_NODE: usize = 24;
    /// A stream entry: its id and field vector in the B-tree.
    pub const STREAM: usize = 64;
}

/// Redis's default for MEMORY USAGE without SAMPLES.
pub const DEFAULT_SAMPLES: usize = 5;

/// What `key` with `entry` costs in all: key node, key bytes and value (`samples` elements sampled, 0 = all).
pub fn key_usage(key: &[u8], entry: &Entry, samples: usize) -> usize {
    let key_heap = if key.len() <= KEY_INLINE {
        0
    } else {
        block(key.len())
    };
    KEY_NODE + key_heap + value_usage(&entry.value, samples)
}

/// The value's own heap bytes, collections estimated from `samples` elements (`usize::MAX` = all).
pub fn value_usage(value: &Value, samples: usize) -> usize {
    let samples = if samples == 0 { usize::MAX } else { samples };
    match value {
        Value::Str(s) if s.spilled() => block(s.capacity()),
        Value::Str(_) => 0,
        Value::List(l) => {
            // By nodes, as Redis's: each node's slot and its listpack's block, or a compressed node's header
            // and compressed bytes.
            let sizes = l
                .node_footprints()
                .take(samples)
                .map(|(bytes, compressed)| {
                    per_element::LIST_NODE + block(bytes) + if compressed { block(24) } else { 0 }
                });
            block(32) + extrapolate(sizes, l.node_count(), 0)
        }
        Value::Hash(h) => {
            let per = if h.is_listpack() {
                per_element::HASH_PACK
            } else {
                per_element::HASH_TABLE
            };
            let sizes = h
                .iter()
                .take(samples)
                .map(|(f, v)| block(f.len()) + block(v.len()));
            block(32) + extrapolate(sizes, h.len(), per)
        }
        Value::Set(s) => {
            let per = if s.encoding() == "intset" {
                per_element::SET_INTS
            } else {
                per_element::SET_TABLE
            };
            let sizes = s.iter().take(samples).map(|m| inline_bytes(m.len()));
            block(32) + extrapolate(sizes, s.len(), per)
        }
        Value::ZSet(z) => {
            let sizes = z
                .list()
                .iter()
                .take(samples)
                .map(|(m, _)| 2 * block(m.len()));
            block(64) + extrapolate(sizes, z.len(), per_element::ZSET)
        }
        Value::Stream(s) => {
            let sizes = s
                .entries()
                .take(samples)
                .map(|(_, f)| f.iter().map(|x| block(x.len()) + 24).sum::<usize>());
            block(128) + extrapolate(sizes, s.len(), per_element::STREAM)
        }
    }
}

/// `len` elements whose sampled heap sizes are `sizes`, each costing `per` in its structure besides.
fn extrapolate(sizes: impl Iterator<Item = usize>, len: usize, per: usize) -> usize {
    let (mut total, mut n) = (0usize, 0usize);
    for s in sizes {
        total += s;
        n += 1;
    }
    let elements = if n == 0 {
        0
    } else if n == len {
        total
    } else {
        (total as f64 / n as f64 * len as f64) as usize
    };
    elements + len * per
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::StrValue;

    #[test]
    fn a_short_string_costs_its_node_a_long_one_its_block_too() {
        let short = Entry::new(Value::Str(StrValue::from_slice(b"v")));
        let long = Entry::new(Value::Str(StrValue::from_slice(&[b'x'; 1000])));
        assert_eq!(key_usage(b"k", &short, 5), KEY_NODE);
        assert_eq!(key_usage(b"k", &long, 5), KEY_NODE + 1008);
    }

    #[test]
    fn blocks_round_like_glibc() {
        assert_eq!(block(1), 32);
        assert_eq!(block(24), 32);
        assert_eq!(block(25), 48);
        assert_eq!(block(1000), 1008);
    }

    #[test]
    fn extrapolates_from_the_sample() {
        assert_eq!(extrapolate([10, 20].into_iter(), 2, 1), 32);
        assert_eq!(extrapolate([10, 20].into_iter(), 10, 0), 150);
        assert_eq!(extrapolate(std::iter::empty(), 0, 5), 0);
    }
}
