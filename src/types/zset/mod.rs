//! The sorted set type. A small set is a listpack (member and score entries alternately, in (score, member)
//! order, one allocation), as in Redis, until a new member is one too many for `zset-max-listpack-entries` or
//! longer than `zset-max-listpack-value`; then, for good, a skip list with spans for order and rank plus a
//! member → score `Dict` for O(1) lookups and SCAN. `ordered::Ordered` lets readers walk either the same way.

mod blocking;
pub mod commands;
pub mod ordered;
mod popping;
#[cfg(test)]
mod props;
pub mod range;
mod rangecmds;
pub mod skiplist;
mod store;
mod table;

use crate::commands::Command;
use crate::db::Dict;
use crate::types::collection::{clone_dict, member_hash, new_dict, PackLimits};
use crate::types::listpack::{safe_to_add, Listpack};
use ordered::{pairs, score_bytes, Ordered};
use skiplist::SkipList;

pub enum ZSet {
    Pack(Listpack),
    Skip(Box<Big>),
}

/// The skiplist encoding: order and ranks, plus the scores by member.
pub struct Big {
    list: SkipList,
    scores: Dict<f64>,
}

impl Big {
    fn new() -> Big {
        Big {
            list: SkipList::new(),
            scores: new_dict(),
        }
    }
}

impl Clone for ZSet {
    fn clone(&self) -> Self {
        match self {
            ZSet::Pack(lp) => ZSet::Pack(lp.clone()),
            ZSet::Skip(b) => ZSet::Skip(Box::new(Big {
                list: b.list.clone(),
                scores: clone_dict(&b.scores),
            })),
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
        ZSet::Pack(Listpack::new())
    }

    fn skiplist() -> Self {
        ZSet::Skip(Box::new(Big::new()))
    }

    /// A ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE result, encoded as Redis encodes one: built as a skiplist and
    /// turned into a listpack only if the whole result fits `limits`, so a big result keeps the sign of every -0.
    pub fn from_items(items: Vec<(Vec<u8>, f64)>, limits: PackLimits) -> ZSet {
        let big =
            items.len() > limits.entries || items.iter().any(|(m, _)| limits.too_long(m.len()));
        let mut zset = if big { ZSet::skiplist() } else { ZSet::new() };
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
        let mut zset = if skiplist_first {
            ZSet::skiplist()
        } else {
            ZSet::new()
        };
        for (m, s) in items {
            zset.insert(&m, s, limits);
        }
        zset
    }

    /// A set read from an RDB value or a RESTORE payload, in the encoding the loader chose; `None` if a member
    /// repeats (a corrupt payload).
    pub fn loaded(mut items: Vec<(Vec<u8>, f64)>, listpack: bool) -> Option<ZSet> {
        let unlimited = PackLimits {
            entries: usize::MAX,
            value: usize::MAX,
        };
        if !listpack {
            let mut zset = ZSet::skiplist();
            for (m, s) in items {
                if zset.insert(&m, s, unlimited).is_some() {
                    return None;
                }
            }
            return Some(zset);
        }
        // Sorted once, then written in one go: loading stays O(n log n) for a big listpack.
        for item in items.iter_mut() {
            if item.1 == 0.0 {
                item.1 = 0.0;
            }
        }
        items.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        let mut seen = std::collections::HashSet::new();
        if !items.iter().all(|(m, _)| seen.insert(&m[..])) {
            return None;
        }
        let scores: Vec<_> = items.iter().map(|(_, s)| score_bytes(*s)).collect();
        let lp = Listpack::from_entries(
            items
                .iter()
                .zip(&scores)
                .flat_map(|((m, _), s)| [&m[..], &s[..]]),
        );
        Some(ZSet::Pack(lp))
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Pack(_) => "listpack",
            ZSet::Skip(_) => "skiplist",
        }
    }

    /// Redis's `zsetConvert(.., OBJ_ENCODING_SKIPLIST)`, which SORT applies to the sets it sorts.
    pub fn to_skiplist(&mut self) {
        if let ZSet::Pack(lp) = self {
            let mut big = Big::new();
            for (_, m, s) in pairs(lp) {
                big.list.insert(s, m);
                big.scores.insert(member_hash(m), m, s);
            }
            *self = ZSet::Skip(Box::new(big));
        }
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self, ZSet::Pack(_))
    }

    pub fn len(&self) -> usize {
        self.list().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The order, to walk by rank or range.
    pub fn list(&self) -> Ordered<'_> {
        match self {
            ZSet::Pack(lp) => Ordered::Pack(lp),
            ZSet::Skip(b) => Ordered::List(&b.list),
        }
    }

    /// The member → score table of the skiplist encoding (a listpack has none).
    pub fn scores(&self) -> Option<&Dict<f64>> {
        match self {
            ZSet::Pack(_) => None,
            ZSet::Skip(b) => Some(&b.scores),
        }
    }

    /// The offset of `member`'s entry in a listpack, and its score.
    fn find(lp: &Listpack, member: &[u8]) -> Option<(usize, f64)> {
        pairs(lp)
            .find(|(_, m, _)| *m == member)
            .map(|(off, _, s)| (off, s))
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(lp) => Self::find(lp, member).map(|(_, s)| s),
            ZSet::Skip(b) => b.scores.get(member_hash(member), member).copied(),
        }
    }

    /// Sets `member`'s score; returns the previous one. As Redis's zsetAdd, only a new member converts the
    /// listpack (before it is added), when it is too long or one too many for `limits`, or would take the
    /// listpack past 1 GiB; an update never does.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: PackLimits) -> Option<f64> {
        if let ZSet::Pack(lp) = self {
            let found = Self::find(lp, member);
            let grows = found.is_none()
                && (limits.too_long(member.len())
                    || lp.len() / 2 + 1 > limits.entries
                    || !safe_to_add(lp, &[member.len(), 8]));
            if grows {
                self.to_skiplist();
            } else {
                return Self::pack_insert(lp, member, score, found);
            }
        }
        match self {
            ZSet::Skip(b) => b.insert(member, score),
            ZSet::Pack(_) => None,
        }
    }

    /// Puts (member, score) at its place in the listpack; `found` is the member's current entry and score.
    fn pack_insert(
        lp: &mut Listpack,
        member: &[u8],
        score: f64,
        found: Option<(usize, f64)>,
    ) -> Option<f64> {
        // A listpack stores -0 as the integer 0, so only a skiplist keeps the sign.
        let score = if score == 0.0 { 0.0 } else { score };
        if let Some((off, old)) = found {
            if old == score {
                return Some(old);
            }
            lp.splice(off, 2, &[]);
        }
        let at = pairs(lp)
            .find(|&(_, m, s)| s > score || (s == score && m > member))
            .map_or(lp.bytes(), |(off, _, _)| off);
        lp.splice(at, 0, &[member, &score_bytes(score)]);
        found.map(|(_, s)| s)
    }

    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(lp) => {
                let (off, score) = Self::find(lp, member)?;
                lp.splice(off, 2, &[]);
                Some(score)
            }
            ZSet::Skip(b) => {
                let (_, score) = b.scores.remove(member_hash(member), member)?;
                b.list.remove(score, member);
                Some(score)
            }
        }
    }

    /// The 0-based rank counting from the lowest (or, `rev`, from the highest).
    pub fn rank(&self, member: &[u8], rev: bool) -> Option<usize> {
        let score = self.score(member)?;
        let rank = self.list().rank(score, member)?;
        Some(if rev { self.len() - rank } else { rank - 1 })
    }
}

impl Big {
    fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        let hash = member_hash(member);
        let old = self.scores.get(hash, member).copied();
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
