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
use crate::types::collection::{
    clone_dict, member_hash, new_dict, ZSET_MAX_LISTPACK_ENTRIES, ZSET_MAX_LISTPACK_VALUE,
};
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

    /// A computed result (ZUNIONSTORE, ZRANGESTORE...), encoded as Redis encodes one: built as a skiplist and
    /// turned into a listpack only if the whole result fits one, so a big result keeps the sign of every -0.
    pub fn from_items(items: Vec<(Vec<u8>, f64)>) -> ZSet {
        let mut zset = ZSet::new();
        zset.big = items.len() > ZSET_MAX_LISTPACK_ENTRIES
            || items.iter().any(|(m, _)| m.len() > ZSET_MAX_LISTPACK_VALUE);
        for (m, s) in items {
            zset.insert(&m, s);
        }
        zset
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

    /// Sets `member`'s score; returns the previous one.
    pub fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        let hash = member_hash(member);
        let old = self.scores.get(hash, member).copied();
        // Redis converts before adding a member that does not fit a listpack.
        if old.is_none()
            && (member.len() > ZSET_MAX_LISTPACK_VALUE
                || self.len() + 1 > ZSET_MAX_LISTPACK_ENTRIES)
        {
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

impl crate::types::collection::Collection for ZSet {
    fn of(value: &crate::db::Value) -> Option<&Self> {
        match value {
            crate::db::Value::ZSet(x) => Some(x),
            _ => None,
        }
    }
    fn of_mut(value: &mut crate::db::Value) -> Option<&mut Self> {
        match value {
            crate::db::Value::ZSet(x) => Some(x),
            _ => None,
        }
    }
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub const COMMANDS: &[Command] = table::COMMANDS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_until_129_members_or_a_65_byte_member() {
        let mut z = ZSet::new();
        for i in 0..ZSET_MAX_LISTPACK_ENTRIES {
            z.insert(format!("m{i}").as_bytes(), i as f64);
        }
        assert_eq!(z.encoding(), "listpack");
        z.insert(b"m0", 1000.0);
        assert_eq!(z.encoding(), "listpack", "an update adds nothing");
        assert_eq!(z.rank(b"m0", false), Some(ZSET_MAX_LISTPACK_ENTRIES - 1));
        assert_eq!(z.rank(b"m0", true), Some(0));
        z.insert(b"extra", 0.5);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.remove(b"extra"), Some(0.5));
        assert_eq!(z.encoding(), "skiplist");
        let mut w = ZSet::new();
        w.insert(&[b'x'; ZSET_MAX_LISTPACK_VALUE], 1.0);
        assert_eq!(w.encoding(), "listpack");
        w.insert(&[b'x'; ZSET_MAX_LISTPACK_VALUE + 1], 1.0);
        assert_eq!(w.encoding(), "skiplist");
    }
}
