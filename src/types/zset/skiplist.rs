//! Redis's `zskiplist`: a skip list ordered by (score, member) whose links carry spans (how many elements a link
//! jumps over), so the rank of an element and the element at a rank are found in O(log n), not by walking.
//!
//! Nodes live in one arena `Vec` addressed by `u32` indexes (slot 0 is the header), which keeps the structure free
//! of `unsafe` and of reference counting; freed slots are reused.

use smallvec::SmallVec;

use super::range::Bounds;
use crate::db::Key;

const MAX_LEVEL: usize = 32;
const NIL: u32 = u32::MAX;
const HEAD: u32 = 0;

#[derive(Clone, Copy)]
struct Level {
    next: u32,
    span: u32,
}

#[derive(Clone)]
struct Node {
    /// Inline up to 16 bytes, as most members are: no allocation of its own.
    member: Key,
    score: f64,
    back: u32,
    /// Three nodes in four have one level and fifteen in sixteen at most two (1/4 per level, as Redis):
    /// those levels live inline.
    levels: SmallVec<[Level; 2]>,
}

#[derive(Clone)]
pub struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
    tail: u32,
    len: usize,
    level: usize,
}

/// A position in the list; valid until the list is next changed.
pub type NodeId = u32;

impl Default for SkipList {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether (score, member) of `a` sorts before `b`'s.
fn before(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> bool {
    a_score < b_score || (a_score == b_score && a_member < b_member)
}

/// Redis's zslRandomLevel: each level with probability 1/4.
fn random_level() -> usize {
    let mut level = 1;
    while level < MAX_LEVEL && fastrand::u32(..4) == 0 {
        level += 1;
    }
    level
}

impl SkipList {
    pub fn new() -> Self {
        let head = Node {
            member: Key::new(),
            score: 0.0,
            back: NIL,
            levels: smallvec::smallvec![Level { next: NIL, span: 0 }; MAX_LEVEL],
        };
        SkipList {
            nodes: vec![head],
            free: Vec::new(),
            tail: NIL,
            len: 0,
            level: 1,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn score(&self, id: NodeId) -> f64 {
        self.nodes[id as usize].score
    }

    pub fn member(&self, id: NodeId) -> &[u8] {
        &self.nodes[id as usize].member
    }

    fn link(&self, id: u32, level: usize) -> Level {
        self.nodes[id as usize].levels[level]
    }

    fn link_mut(&mut self, id: u32, level: usize) -> &mut Level {
        &mut self.nodes[id as usize].levels[level]
    }

    fn some(id: u32) -> Option<NodeId> {
        (id != NIL && id != HEAD).then_some(id)
    }

    pub fn first(&self) -> Option<NodeId> {
        Self::some(self.link(HEAD, 0).next)
    }

    pub fn last(&self) -> Option<NodeId> {
        Self::some(self.tail)
    }

    pub fn next(&self, id: NodeId) -> Option<NodeId> {
        Self::some(self.link(id, 0).next)
    }

    pub fn prev(&self, id: NodeId) -> Option<NodeId> {
        Self::some(self.nodes[id as usize].back)
    }

    /// For each level, the last node before (score, member), and the rank of that node.
    fn predecessors(&self, score: f64, member: &[u8]) -> ([u32; MAX_LEVEL], [u32; MAX_LEVEL]) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i + 1 == self.level { 0 } else { rank[i + 1] };
            loop {
                let l = self.link(x, i);
                if l.next == NIL {
                    break;
                }
                let n = &self.nodes[l.next as usize];
                if !before(n.score, &n.member, score, member) {
                    break;
                }
                rank[i] += l.span;
                x = l.next;
            }
            update[i] = x;
        }
        (update, rank)
    }

    /// Inserts an element the caller knows is absent.
    pub fn insert(&mut self, score: f64, member: &[u8]) {
        let (mut update, mut rank) = self.predecessors(score, member);
        let level = random_level();
        if level > self.level {
            for i in self.level..level {
                rank[i] = 0;
                update[i] = HEAD;
                self.link_mut(HEAD, i).span = self.len as u32;
            }
            self.level = level;
        }
        let node = Node {
            member: Key::from_slice(member),
            score,
            back: if update[0] == HEAD { NIL } else { update[0] },
            levels: smallvec::smallvec![Level { next: NIL, span: 0 }; level],
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = node;
                id
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        for i in 0..level {
            let prev = self.link(update[i], i);
            let skipped = rank[0] - rank[i];
            *self.link_mut(id, i) = Level {
                next: prev.next,
                span: prev.span - skipped,
            };
            *self.link_mut(update[i], i) = Level {
                next: id,
                span: skipped + 1,
            };
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(level) {
            self.link_mut(u, i).span += 1;
        }
        match self.link(id, 0).next {
            NIL => self.tail = id,
            next => self.nodes[next as usize].back = id,
        }
        self.len += 1;
    }

    /// Removes (score, member); false if it is not there.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        let (update, _) = self.predecessors(score, member);
        let x = self.link(update[0], 0).next;
        if x == NIL
            || self.nodes[x as usize].score != score
            || *self.nodes[x as usize].member != *member
        {
            return false;
        }
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let ul = self.link(u, i);
            if ul.next == x {
                let xl = self.link(x, i);
                *self.link_mut(u, i) = Level {
                    next: xl.next,
                    span: ul.span + xl.span - 1,
                };
            } else {
                self.link_mut(u, i).span -= 1;
            }
        }
        let back = self.nodes[x as usize].back;
        match self.link(x, 0).next {
            NIL => self.tail = back,
            next => self.nodes[next as usize].back = back,
        }
        while self.level > 1 && self.link(HEAD, self.level - 1).next == NIL {
            self.level -= 1;
        }
        let node = &mut self.nodes[x as usize];
        node.member = Key::new();
        node.levels = SmallVec::new();
        self.free.push(x);
        self.len -= 1;
        self.compact_if_sparse();
        true
    }

    /// Rebuilds the arena once three quarters of it are free slots, so a set that shrank gives its memory back.
    /// Amortized O(log n) per removal; any `NodeId` held across a removal is invalid anyway.
    fn compact_if_sparse(&mut self) {
        if self.nodes.len() < 64 || self.free.len() * 4 < self.nodes.len() * 3 {
            return;
        }
        let mut fresh = SkipList::new();
        let mut id = self.first();
        while let Some(x) = id {
            let node = &mut self.nodes[x as usize];
            fresh.insert(node.score, &std::mem::take(&mut node.member));
            id = self.next(x);
        }
        *self = fresh;
    }

    /// The 1-based rank of (score, member), if present.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut x = HEAD;
        let mut rank = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.link(x, i);
                if l.next == NIL {
                    break;
                }
                let n = &self.nodes[l.next as usize];
                if before(score, member, n.score, &n.member) {
                    break;
                }
                rank += l.span as usize;
                x = l.next;
            }
            if x != HEAD
                && self.nodes[x as usize].score == score
                && *self.nodes[x as usize].member == *member
            {
                return Some(rank);
            }
        }
        None
    }

    /// The node at 1-based `rank`.
    pub fn by_rank(&self, rank: usize) -> Option<NodeId> {
        if rank == 0 || rank > self.len {
            return None;
        }
        let mut x = HEAD;
        let mut traversed = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let l = self.link(x, i);
                if l.next == NIL || traversed + l.span as usize > rank {
                    break;
                }
                traversed += l.span as usize;
                x = l.next;
            }
            if traversed == rank {
                return Self::some(x);
            }
        }
        None
    }

    /// The first element inside `range` (score or lex).
    pub fn first_in(&self, range: &impl Bounds) -> Option<NodeId> {
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.link(x, i).next;
                if next == NIL {
                    break;
                }
                let n = &self.nodes[next as usize];
                if range.gte_min(n.score, &n.member) {
                    break;
                }
                x = next;
            }
        }
        let x = self.next_of(x)?;
        let n = &self.nodes[x as usize];
        range.lte_max(n.score, &n.member).then_some(x)
    }

    /// The last element inside `range`.
    pub fn last_in(&self, range: &impl Bounds) -> Option<NodeId> {
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            loop {
                let next = self.link(x, i).next;
                if next == NIL {
                    break;
                }
                let n = &self.nodes[next as usize];
                if !range.lte_max(n.score, &n.member) {
                    break;
                }
                x = next;
            }
        }
        let x = Self::some(x)?;
        let n = &self.nodes[x as usize];
        range.gte_min(n.score, &n.member).then_some(x)
    }

    fn next_of(&self, id: u32) -> Option<NodeId> {
        Self::some(self.link(id, 0).next)
    }

    /// The 1-based rank of a node.
    pub fn rank_of(&self, id: NodeId) -> usize {
        let n = &self.nodes[id as usize];
        self.rank(n.score, &n.member).unwrap_or(0)
    }

    /// Elements in order from the first.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        std::iter::successors(self.first(), move |&id| self.next(id))
            .map(move |id| (self.member(id), self.score(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::range::{LexRange, ScoreRange};
    use super::*;

    /// The model: a Vec sorted by (score, member).
    fn model_sorted(model: &mut [(f64, Vec<u8>)]) {
        model.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    }

    #[test]
    fn ranks_and_ranges_match_a_sorted_vec_over_random_operations() {
        fastrand::seed(7);
        let mut list = SkipList::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        for step in 0..10_000 {
            let member = format!("m{}", fastrand::u32(..300)).into_bytes();
            let score = fastrand::i32(-20..20) as f64;
            let existing = model.iter().position(|(_, m)| *m == member);
            match (fastrand::u8(..3), existing) {
                (0, Some(i)) => {
                    let (s, m) = model.remove(i);
                    assert!(list.remove(s, &m));
                }
                (_, Some(i)) => {
                    let (s, m) = model.remove(i);
                    assert!(list.remove(s, &m));
                    list.insert(score, &member);
                    model.push((score, member));
                }
                (_, None) => {
                    list.insert(score, &member);
                    model.push((score, member));
                }
            }
            model_sorted(&mut model);
            assert_eq!(list.len(), model.len());
            if step % 50 != 0 {
                continue;
            }
            let got: Vec<(f64, Vec<u8>)> = list.iter().map(|(m, s)| (s, m.to_vec())).collect();
            assert_eq!(got, model);
            for (i, (s, m)) in model.iter().enumerate() {
                assert_eq!(list.rank(*s, m), Some(i + 1));
                let id = list.by_rank(i + 1).unwrap();
                assert_eq!((list.score(id), list.member(id)), (*s, &m[..]));
            }
            assert_eq!(list.by_rank(model.len() + 1), None);
            let (lo, hi) = (fastrand::i32(-25..25) as f64, fastrand::i32(-25..25) as f64);
            let (minex, maxex) = (fastrand::bool(), fastrand::bool());
            let r = ScoreRange {
                min: lo,
                max: hi,
                minex,
                maxex,
            };
            let inside: Vec<usize> = (0..model.len())
                .filter(|&i| {
                    r.gte_min(model[i].0, &model[i].1) && r.lte_max(model[i].0, &model[i].1)
                })
                .collect();
            let first = list.first_in(&r).map(|id| list.rank_of(id) - 1);
            let last = list.last_in(&r).map(|id| list.rank_of(id) - 1);
            assert_eq!(first, inside.first().copied(), "{lo} {hi} {minex} {maxex}");
            assert_eq!(last, inside.last().copied());
        }
    }

    #[test]
    fn a_shrunk_list_gives_its_arena_back() {
        let mut list = SkipList::new();
        for i in 0..1000 {
            list.insert(i as f64, format!("m{i}").as_bytes());
        }
        for i in 0..990 {
            assert!(list.remove(i as f64, format!("m{i}").as_bytes()));
        }
        assert!(
            list.nodes.len() < 100,
            "{} slots for 10 elements",
            list.nodes.len()
        );
        let got: Vec<Vec<u8>> = list.iter().map(|(m, _)| m.to_vec()).collect();
        let want: Vec<Vec<u8>> = (990..1000).map(|i| format!("m{i}").into_bytes()).collect();
        assert_eq!(got, want);
        assert_eq!(list.rank(995.0, b"m995"), Some(6));
    }

    #[test]
    fn lex_ranges_on_equal_scores() {
        let mut list = SkipList::new();
        for m in ["a", "b", "c", "d"] {
            list.insert(0.0, m.as_bytes());
        }
        let r = LexRange::parse(b"(a", b"[c").unwrap();
        assert_eq!(list.member(list.first_in(&r).unwrap()), b"b");
        assert_eq!(list.member(list.last_in(&r).unwrap()), b"c");
        let r = LexRange::parse(b"-", b"+").unwrap();
        assert_eq!(list.member(list.last_in(&r).unwrap()), b"d");
        assert!(list
            .first_in(&LexRange::parse(b"(d", b"+").unwrap())
            .is_none());
    }
}
