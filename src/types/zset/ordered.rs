//! A read-only view of a sorted set's order, whichever its encoding: the skip list, or the listpack of a small
//! set (member and score entries alternately, sorted by (score, member), as Redis's zset listpack). Range,
//! rank and pop code walks either through the same `NodeId` positions: a skip list node, or the byte offset of a
//! member entry in the listpack (valid until the set next changes). On a listpack the rank lookups walk, O(n) as
//! in Redis, which the `zset-max-listpack-entries` bound keeps short.

use super::range::Bounds;
use super::skiplist::{NodeId, SkipList};
use crate::types::listpack::Listpack;

#[derive(Clone, Copy)]
pub enum Ordered<'a> {
    Pack(&'a Listpack),
    List(&'a SkipList),
}

/// A score as a listpack entry holds it. As Redis's listpack stores an integral score as a small integer, an
/// integral score of at most 2^53 in magnitude takes only the bytes its zigzag form needs (0 to 7, little-endian);
/// any other score, the 8 bytes of the double. The length tells them apart.
#[derive(Clone, Copy)]
pub struct ScoreBytes {
    buf: [u8; 8],
    len: u8,
}

impl std::ops::Deref for ScoreBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }
}

/// Integral scores up to this magnitude are exact as `i64` and as `f64` both.
const EXACT: f64 = 9_007_199_254_740_992.0;

pub fn score_bytes(score: f64) -> ScoreBytes {
    if score.fract() == 0.0 && score.abs() <= EXACT && !(score == 0.0 && score.is_sign_negative()) {
        let n = score as i64;
        let zigzag = ((n << 1) ^ (n >> 63)) as u64;
        let len = (64 - zigzag.leading_zeros()).div_ceil(8) as u8;
        return ScoreBytes {
            buf: zigzag.to_le_bytes(),
            len,
        };
    }
    ScoreBytes {
        buf: score.to_le_bytes(),
        len: 8,
    }
}

/// The score in a listpack entry written by `score_bytes`.
pub fn score_of(entry: &[u8]) -> f64 {
    let mut buf = [0u8; 8];
    let len = entry.len().min(8);
    buf[..len].copy_from_slice(&entry[..len]);
    if entry.len() == 8 {
        return f64::from_le_bytes(buf);
    }
    let zigzag = u64::from_le_bytes(buf);
    (((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64)) as f64
}

/// Offsets are `u32` node ids: a listpack is converted long before 4 GiB (see `ZSet::insert`).
fn id(off: usize) -> NodeId {
    off as NodeId
}

/// (member offset, member, score) of each pair of a zset listpack, in order.
pub fn pairs(lp: &Listpack) -> impl Iterator<Item = (usize, &[u8], f64)> + '_ {
    let mut entries = lp.entries();
    std::iter::from_fn(move || {
        let (off, member) = entries.next()?;
        let (_, score) = entries.next()?;
        Some((off, member, score_of(score)))
    })
}

impl<'a> Ordered<'a> {
    pub fn len(self) -> usize {
        match self {
            Ordered::Pack(lp) => lp.len() / 2,
            Ordered::List(l) => l.len(),
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    pub fn score(self, id: NodeId) -> f64 {
        match self {
            Ordered::Pack(lp) => lp
                .next(id as usize)
                .map_or(f64::NAN, |s| score_of(lp.get(s))),
            Ordered::List(l) => l.score(id),
        }
    }

    pub fn member(self, id: NodeId) -> &'a [u8] {
        match self {
            Ordered::Pack(lp) => lp.get(id as usize),
            Ordered::List(l) => l.member(id),
        }
    }

    pub fn first(self) -> Option<NodeId> {
        match self {
            Ordered::Pack(lp) => lp.first().map(id),
            Ordered::List(l) => l.first(),
        }
    }

    pub fn last(self) -> Option<NodeId> {
        match self {
            Ordered::Pack(lp) => lp.last().and_then(|s| lp.prev(s)).map(id),
            Ordered::List(l) => l.last(),
        }
    }

    pub fn next(self, at: NodeId) -> Option<NodeId> {
        match self {
            Ordered::Pack(lp) => lp.next(at as usize).and_then(|s| lp.next(s)).map(id),
            Ordered::List(l) => l.next(at),
        }
    }

    pub fn prev(self, at: NodeId) -> Option<NodeId> {
        match self {
            Ordered::Pack(lp) => lp.prev(at as usize).and_then(|s| lp.prev(s)).map(id),
            Ordered::List(l) => l.prev(at),
        }
    }

    /// The 1-based rank of (score, member), if present.
    pub fn rank(self, score: f64, member: &[u8]) -> Option<usize> {
        match self {
            Ordered::Pack(lp) => pairs(lp)
                .position(|(_, m, s)| s == score && m == member)
                .map(|i| i + 1),
            Ordered::List(l) => l.rank(score, member),
        }
    }

    /// The element at 1-based `rank`.
    pub fn by_rank(self, rank: usize) -> Option<NodeId> {
        match self {
            Ordered::Pack(lp) if rank == 0 || rank > lp.len() / 2 => None,
            Ordered::Pack(lp) => Some(id(lp.skip(0, 2 * (rank - 1)))),
            Ordered::List(l) => l.by_rank(rank),
        }
    }

    /// The first element inside `range` (score or lex).
    pub fn first_in(self, range: &impl Bounds) -> Option<NodeId> {
        match self {
            Ordered::Pack(lp) => pairs(lp)
                .find(|&(_, m, s)| range.gte_min(s, m))
                .filter(|&(_, m, s)| range.lte_max(s, m))
                .map(|(off, _, _)| id(off)),
            Ordered::List(l) => l.first_in(range),
        }
    }

    /// The last element inside `range`.
    pub fn last_in(self, range: &impl Bounds) -> Option<NodeId> {
        match self {
            Ordered::Pack(_) => {
                let mut at = self.last();
                while let Some(x) = at {
                    let (s, m) = (self.score(x), self.member(x));
                    if range.lte_max(s, m) {
                        return range.gte_min(s, m).then_some(x);
                    }
                    at = self.prev(x);
                }
                None
            }
            Ordered::List(l) => l.last_in(range),
        }
    }

    /// The 1-based rank of an element.
    pub fn rank_of(self, at: NodeId) -> usize {
        match self {
            Ordered::Pack(lp) => pairs(lp)
                .position(|(off, _, _)| off == at as usize)
                .map_or(0, |i| i + 1),
            Ordered::List(l) => l.rank_of(at),
        }
    }

    /// Elements in order from the first.
    pub fn iter(self) -> Box<dyn Iterator<Item = (&'a [u8], f64)> + 'a> {
        match self {
            Ordered::Pack(lp) => Box::new(pairs(lp).map(|(_, m, s)| (m, s))),
            Ordered::List(l) => Box::new(l.iter()),
        }
    }
}
