//! The sorted set type: a skip list with spans for order and rank, plus a member → score `Dict` for O(1) lookups
//! and SCAN. Redis keeps small sets in a listpack; here the structure is always the same and `small` only records
//! what encoding Redis would report (and how ZSCAN and ZRANDMEMBER answer, which depends on it).

mod blocking;
mod commands;
mod popping;
pub mod range;
mod rangecmds;
pub mod skiplist;
mod store;
mod table;

use crate::commands::Command;
use crate::db::Dict;
use crate::types::collection::{clone_dict, member_hash, new_dict, PackLimits};
use skiplist::SkipList;

pub struct ZSet {
    list: SkipList,
    scores: Dict<f64>,
    /// Whether Redis would have converted this set to a skiplist (a one-way change, as in Redis).
    big: bool,
}

impl Clone for ZSet {
    fn clone(&self) -> Self {
        ZSet {
            list: self.list.clone(),
            scores: clone_dict(&self.scores),
            big: self.big,
        }
    }
}

impl Default for ZSet {
    fn default() -> Self {
        Self::new()
    }
}

impl ZSet {
    pub fn new() -> Self {
        ZSet {
            list: SkipList::new(),
            scores: new_dict(),
            big: false,
        }
    }

    /// A ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE result, encoded as Redis encodes one: built as a skiplist and
    /// turned into a listpack only if the whole result fits `limits`, so a big result keeps the sign of every -0.
    pub fn from_items(items: Vec<(Vec<u8>, f64)>, limits: PackLimits) -> ZSet {
        let mut zset = ZSet::new();
        zset.big =
            items.len() > limits.entries || items.iter().any(|(m, _)| limits.too_long(m.len()));
        for (m, s) in items {
            zset.insert(&m, s, limits);
        }
        zset
    }

    /// A ZRANGESTORE result: Redis adds its members one by one as ZADD does, to a skiplist if `skiplist_first`
    /// (a rank range longer than `zset-max-listpack-entries`), else to a listpack that converts when a member
    /// does not fit, so the -0 scores added before that lose their sign.
    pub fn added_one_by_one(
        items: Vec<(Vec<u8>, f64)>,
        limits: PackLimits,
        skiplist_first: bool,
    ) -> ZSet {
        let mut zset = ZSet::new();
        zset.big = skiplist_first;
        for (m, s) in items {
            zset.insert(&m, s, limits);
        }
        zset
    }

    /// A set read from an RDB value or a RESTORE payload, in the encoding the loader chose; `None` if a member
    /// repeats (a corrupt payload).
    pub fn loaded(items: Vec<(Vec<u8>, f64)>, listpack: bool) -> Option<ZSet> {
        let mut zset = ZSet::new();
        zset.big = !listpack;
        let unlimited = PackLimits {
            entries: usize::MAX,
            value: usize::MAX,
        };
        for (m, s) in items {
            if zset.insert(&m, s, unlimited).is_some() {
                return None;
            }
        }
        Some(zset)
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        if self.big {
            "skiplist"
        } else {
            "listpack"
        }
    }

    pub fn is_listpack(&self) -> bool {
        !self.big
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn list(&self) -> &SkipList {
        &self.list
    }

    pub fn scores(&self) -> &Dict<f64> {
        &self.scores
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member_hash(member), member).copied()
    }

    /// Sets `member`'s score; returns the previous one. As Redis's zsetAdd, only a new member converts the
    /// listpack (before it is added), when it is too long or one too many for `limits`; an update never does.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: PackLimits) -> Option<f64> {
        let hash = member_hash(member);
        let old = self.scores.get(hash, member).copied();
        if old.is_none() && (limits.too_long(member.len()) || self.len() + 1 > limits.entries) {
            self.big = true;
        }
        // A listpack stores -0 as the integer 0, so only a skiplist keeps the sign.
        let score = if score == 0.0 && !self.big {
            0.0
        } else {
            score
        };
        match old {
            Some(o) if o == score => return old,
            Some(o) => {
                self.list.remove(o, member);
            }
            None => {}
        }
        self.list.insert(score, member);
        self.scores.insert(hash, member, score);
        old
    }

    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let (_, score) = self.scores.remove(member_hash(member), member)?;
        self.list.remove(score, member);
        Some(score)
    }

    /// The 0-based rank counting from the lowest (or, `rev`, from the highest).
    pub fn rank(&self, member: &[u8], rev: bool) -> Option<usize> {
        let score = self.score(member)?;
        let rank = self.list.rank(score, member)?;
        Some(if rev { self.len() - rank } else { rank - 1 })
    }
}

crate::types::collection::impl_collection!(ZSet, ZSet);

pub const COMMANDS: &[Command] = table::COMMANDS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_until_one_member_too_many_or_too_long() {
        let limits = PackLimits {
            entries: 4,
            value: 8,
        };
        let mut z = ZSet::new();
        for i in 0..4 {
            z.insert(format!("m{i}").as_bytes(), i as f64, limits);
        }
        assert_eq!(z.encoding(), "listpack");
        let lowered = PackLimits {
            entries: 2,
            ..limits
        };
        z.insert(b"m0", 1000.0, lowered);
        assert_eq!(z.encoding(), "listpack", "an update adds nothing");
        assert_eq!(z.rank(b"m0", false), Some(3));
        assert_eq!(z.rank(b"m0", true), Some(0));
        z.insert(b"extra", 0.5, limits);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.remove(b"extra"), Some(0.5));
        assert_eq!(z.encoding(), "skiplist");
        let mut w = ZSet::new();
        w.insert(&[b'x'; 8], 1.0, limits);
        assert_eq!(w.encoding(), "listpack");
        w.insert(&[b'x'; 9], 1.0, limits);
        assert_eq!(w.encoding(), "skiplist");
    }

    #[test]
    fn computed_results_follow_their_redis_builders() {
        let limits = PackLimits {
            entries: 2,
            value: 8,
        };
        let items = || {
            vec![
                (b"a".to_vec(), -0.0),
                (b"b".to_vec(), -0.0),
                (b"c".to_vec(), -0.0),
            ]
        };
        let whole = ZSet::from_items(items(), limits);
        assert_eq!(whole.encoding(), "skiplist");
        assert!(whole.score(b"a").is_some_and(|s| s.is_sign_negative()));
        let ranked = ZSet::added_one_by_one(items(), limits, false);
        assert_eq!(ranked.encoding(), "skiplist");
        assert!(ranked.score(b"a").is_some_and(|s| s.is_sign_positive()));
        assert!(ranked.score(b"c").is_some_and(|s| s.is_sign_negative()));
        let fits = ZSet::from_items(items()[..2].to_vec(), limits);
        assert_eq!(fits.encoding(), "listpack");
    }
}
