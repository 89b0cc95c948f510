//! The quicklist's sequence of listpack nodes. Most lists are small and never need a second node, so one node
//! sits inline (no separate allocation for a deque of one); a second node turns the sequence into a `VecDeque`
//! (O(1) pushes and pops at both ends, as Redis's linked quicklist), and shrinking back to one node returns to
//! the inline form.

use std::collections::VecDeque;
use std::ops::{Index, Range};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering::Relaxed};

use super::node::{compress_depth, Node};
use crate::types::listpack::Listpack;

#[derive(Clone)]
pub enum Nodes {
    /// No node or one (never an empty one: an empty list has `None`).
    Few(Option<Node>),
    /// Two nodes or more.
    Many(VecDeque<Node>),
}

impl Default for Nodes {
    fn default() -> Self {
        Nodes::Few(None)
    }
}

impl Nodes {
    pub fn len(&self) -> usize {
        match self {
            Nodes::Few(n) => n.is_some() as usize,
            Nodes::Many(d) => d.len(),
        }
    }

    /// The nodes as up to two slices, in order (a deque's two halves).
    fn slices(&self) -> (&[Node], &[Node]) {
        match self {
            Nodes::Few(n) => (n.as_slice(), &[]),
            Nodes::Many(d) => d.as_slices(),
        }
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Node> + '_ {
        let (a, b) = self.slices();
        a.iter().chain(b)
    }

    /// The first node's listpack (decompressed if it was compressed).
    pub fn front_mut(&mut self) -> Option<&mut Listpack> {
        match self {
            Nodes::Few(n) => n.as_mut(),
            Nodes::Many(d) => d.front_mut(),
        }
        .map(Node::unpack)
    }

    /// The last node's listpack (decompressed if it was compressed).
    pub fn back_mut(&mut self) -> Option<&mut Listpack> {
        match self {
            Nodes::Few(n) => n.as_mut(),
            Nodes::Many(d) => d.back_mut(),
        }
        .map(Node::unpack)
    }

    /// Node `i`'s listpack (in range), decompressed in place for a change; `settle` compresses it again.
    pub fn get_mut(&mut self, i: usize) -> &mut Listpack {
        match self {
            Nodes::Few(n) => &mut n.as_mut_slice()[i],
            Nodes::Many(d) => &mut d[i],
        }
        .unpack()
    }

    /// The deque form, converting an inline node into one.
    fn many(&mut self) -> &mut VecDeque<Node> {
        if let Nodes::Few(n) = self {
            *self = Nodes::Many(n.take().into_iter().collect());
        }
        match self {
            Nodes::Many(d) => d,
            Nodes::Few(_) => unreachable!("converted above"),
        }
    }

    /// Back to the inline form once one node (or none) is left.
    fn inline(&mut self) {
        if let Nodes::Many(d) = self {
            if d.len() <= 1 {
                *self = Nodes::Few(d.pop_front());
            }
        }
    }

    pub fn push_front(&mut self, node: Listpack) {
        let node = Node::Packed(node);
        match self {
            Nodes::Few(n @ None) => *n = Some(node),
            _ => self.many().push_front(node),
        }
    }

    pub fn push_back(&mut self, node: Listpack) {
        let node = Node::Packed(node);
        match self {
            Nodes::Few(n @ None) => *n = Some(node),
            _ => self.many().push_back(node),
        }
    }

    pub fn pop_front(&mut self) -> Option<Node> {
        let node = match self {
            Nodes::Few(n) => n.take(),
            Nodes::Many(d) => d.pop_front(),
        };
        self.inline();
        node
    }

    pub fn pop_back(&mut self) -> Option<Node> {
        let node = match self {
            Nodes::Few(n) => n.take(),
            Nodes::Many(d) => d.pop_back(),
        };
        self.inline();
        node
    }

    /// Inserts `node` at position `i` (at most the length).
    pub fn insert(&mut self, i: usize, node: Listpack) {
        let node = Node::Packed(node);
        match self {
            Nodes::Few(n @ None) => *n = Some(node),
            _ => self.many().insert(i, node),
        }
    }

    /// Removes the node at position `i` (in range).
    pub fn remove(&mut self, i: usize) -> Option<Node> {
        let node = match self {
            Nodes::Few(n) if i == 0 => n.take(),
            Nodes::Few(_) => None,
            Nodes::Many(d) => d.remove(i),
        };
        self.inline();
        node
    }

    /// After nodes came or went at either end, or nodes `touched` were changed: keeps the `list-compress-depth`
    /// nodes at each end packed (they are where pushes and pops go), and compresses the nodes just beyond them and
    /// the changed ones among the rest, as Redis's `__quicklistCompress`. With a depth of 0 nothing changes, and
    /// nodes compressed under an earlier depth stay so until a change reaches them.
    pub fn settle(&mut self, touched: Range<usize>) {
        let Nodes::Many(d) = self else {
            return;
        };
        let depth = compress_depth();
        if depth == 0 {
            return;
        }
        let len = d.len();
        for i in 0..depth.min(len) {
            d[i].unpack();
            d[len - 1 - i].unpack();
        }
        if len <= 2 * depth {
            return;
        }
        let changed = touched.start.max(depth)..touched.end.min(len - depth);
        if !changed.is_empty() {
            d.range_mut(changed).for_each(Node::compress);
        }
        d[depth].compress();
        d[len - 1 - depth].compress();
    }
}

impl Index<usize> for Nodes {
    type Output = Node;
    fn index(&self, i: usize) -> &Node {
        match self {
            Nodes::Few(n) => &n.as_slice()[i],
            Nodes::Many(d) => &d[i],
        }
    }
}

/// `list-max-listpack-size`, clamped as Redis's quicklistSetFill: negative -1..-5 = nodes of at most 4, 8, 16,
/// 32 or 64 KB; positive = at most that many entries a node (and 8 KB). Process-wide and read at each insertion
/// (Redis stamps it into a list when it creates it, so after CONFIG SET its old lists keep the old size).
static FILL: AtomicI64 = AtomicI64::new(-2);

/// Redis's FILL_MAX.
const FILL_MAX: i64 = (1 << 15) - 1;
/// Redis's optimization_level: the node sizes of fills -1..-5.
const LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Redis's SIZE_SAFETY_LIMIT: no node of a positive fill grows past it.
const SAFETY: usize = 8192;
/// Redis counts a node's listpack header and end byte (7) and estimates an entry as its length plus 8.
const HEADER: usize = 7;
const ENTRY_ESTIMATE: usize = 8;

pub fn set_fill(fill: i64) {
    FILL.store(fill.clamp(-5, FILL_MAX), Relaxed);
}

pub fn fill() -> i64 {
    FILL.load(Relaxed)
}

/// The byte limit of a negative fill.
fn level(fill: i64) -> usize {
    LEVELS[(fill.unsigned_abs().clamp(1, 5) - 1) as usize]
}

/// Redis's default `packed_threshold`: 1 GB.
const DEFAULT_PACKED_THRESHOLD: usize = 1 << 30;
/// Redis's `packed_threshold` (DEBUG QUICKLIST-PACKED-THRESHOLD): an element of at least this many bytes is kept
/// in a node of its own (Redis's plain node), which takes no other element.
static PACKED_THRESHOLD: AtomicUsize = AtomicUsize::new(DEFAULT_PACKED_THRESHOLD);

/// Sets the threshold (0: back to the default), as Redis's `quicklistisSetPackedThreshold`.
pub fn set_packed_threshold(bytes: usize) {
    let bytes = if bytes == 0 {
        DEFAULT_PACKED_THRESHOLD
    } else {
        bytes
    };
    PACKED_THRESHOLD.store(bytes, Relaxed);
}

/// Whether an element of `len` bytes goes in a node of its own (Redis's `isLargeElement`).
pub fn is_large(len: usize) -> bool {
    len >= PACKED_THRESHOLD.load(Relaxed)
}

/// Whether `node` is a plain node: one large element (large elements are always alone), which takes nothing
/// more. Only a node at least that big is looked into.
pub fn is_plain(node: &Node) -> bool {
    node.len() == 1 && is_large(node.bytes()) && is_large(node.get(0).len())
}

/// [`is_plain`] for a node already unpacked for a change (a push at either end).
pub fn is_plain_packed(node: &Listpack) -> bool {
    node.len() == 1 && is_large(node.bytes()) && node.iter().all(|e| is_large(e.len()))
}

/// Whether a node of `bytes` and `count` entries takes one more of `len` bytes under `fill` (Redis's
/// `_quicklistNodeAllowInsert`); an empty node takes anything, and a large element only an empty node.
pub fn allows(fill: i64, bytes: usize, count: usize, len: usize) -> bool {
    if count == 0 {
        return true;
    }
    if is_large(len) {
        return false;
    }
    let new_size = bytes + HEADER + len + ENTRY_ESTIMATE;
    if fill < 0 {
        new_size <= level(fill)
    } else {
        new_size <= SAFETY && (count as i64) < fill
    }
}

/// Whether nodes `a` and `b` may be merged into one under `fill` (Redis's `_quicklistNodeAllowMerge`, which
/// estimates the merged size as both listpacks less one header and end byte, and 4 bytes more).
pub fn allows_merge(fill: i64, a: &Node, b: &Node) -> bool {
    let merged = a.bytes() + b.bytes() + 2 * HEADER - 11;
    if fill < 0 {
        merged <= level(fill)
    } else {
        merged <= SAFETY && (a.len() + b.len()) as i64 <= fill
    }
}
