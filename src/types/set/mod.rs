//! The set type. Like Redis 7.0, a set of integers stays a sorted `intset` (so SMEMBERS answers in numeric
//! order, byte for byte as Redis) until a non-integer member or more than `set-max-intset-entries` members turn
//! it, for good, into a hashtable (a `Dict`, for SSCAN's cursor guarantee).

mod algebra;
mod commands;
pub mod intset;

use std::borrow::Cow;

use crate::db::{Dict, Key};
use crate::types::collection::{clone_dict, member_hash, new_dict, scan_dict};
use crate::util::numbers::{format_i64, parse_i64};
use intset::IntSet;

/// The table is boxed so that a small set (an intset) costs only its integers.
pub enum Set {
    Ints(IntSet),
    Table(Box<Dict<()>>),
}

impl Clone for Set {
    fn clone(&self) -> Self {
        match self {
            Set::Ints(v) => Set::Ints(v.clone()),
            Set::Table(d) => Set::Table(Box::new(clone_dict(d))),
        }
    }
}

impl Default for Set {
    fn default() -> Self {
        Set::Ints(IntSet::default())
    }
}

impl Set {
    /// The empty set Redis's setTypeCreate picks for a first member: an intset if it is an integer.
    pub fn for_member(member: &[u8]) -> Set {
        if parse_i64(member).is_some() {
            Set::Ints(IntSet::default())
        } else {
            Set::table()
        }
    }

    /// An empty hashtable set.
    pub fn table() -> Set {
        Set::Table(Box::new(new_dict()))
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Ints(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Ints(v) => v.len(),
            Set::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::Ints(v) => parse_i64(member).is_some_and(|n| v.contains(n)),
            Set::Table(d) => d.get(member_hash(member), member).is_some(),
        }
    }

    /// Adds `member`; false if it was there. As Redis's setTypeAdd, an intset converts when a non-integer
    /// arrives or an addition leaves it with more than `intset_limit` (`set-max-intset-entries`) members; a
    /// member already present converts nothing, even past a lowered limit.
    pub fn add(&mut self, member: &[u8], intset_limit: usize) -> bool {
        if let Set::Ints(v) = self {
            match parse_i64(member) {
                Some(n) => {
                    if !v.insert(n) {
                        return false;
                    }
                    if v.len() > intset_limit {
                        self.convert();
                    }
                    return true;
                }
                None => self.convert(),
            }
        }
        match self {
            Set::Table(d) => {
                let hash = member_hash(member);
                if d.get(hash, member).is_some() {
                    return false;
                }
                d.insert_new(hash, Key::from_slice(member), ());
                true
            }
            Set::Ints(_) => false,
        }
    }

    /// The same members in a set built afresh, as Redis's setTypeCreate and setTypeAdd would build it.
    pub fn rebuilt(&self, intset_limit: usize) -> Set {
        let mut fresh: Option<Set> = None;
        for m in self.iter() {
            fresh
                .get_or_insert_with(|| Set::for_member(&m))
                .add(&m, intset_limit);
        }
        fresh.unwrap_or_default()
    }

    fn convert(&mut self) {
        if let Set::Ints(v) = self {
            let mut d = new_dict();
            for n in v.iter() {
                let s = format_i64(n);
                d.insert(member_hash(s.as_bytes()), s.as_bytes(), ());
            }
            *self = Set::Table(Box::new(d));
        }
    }

    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Ints(v) => parse_i64(member).is_some_and(|n| v.remove(n)),
            Set::Table(d) => d.remove(member_hash(member), member).is_some(),
        }
    }

    /// Members in Redis's iteration order (numeric for an intset).
    pub fn iter(&self) -> Box<dyn Iterator<Item = Cow<'_, [u8]>> + '_> {
        match self {
            Set::Ints(v) => Box::new(v.iter().map(|n| Cow::Owned(format_i64(n).into_bytes()))),
            Set::Table(d) => Box::new(d.iter().map(|(k, _)| Cow::Borrowed(k))),
        }
    }

    /// A member chosen at random.
    pub fn random(&self) -> Option<Vec<u8>> {
        match self {
            Set::Ints(v) if v.is_empty() => None,
            Set::Ints(v) => Some(format_i64(v.get(fastrand::usize(..v.len()))).into_bytes()),
            Set::Table(d) => d.random().map(|(k, _)| k.to_vec()),
        }
    }

    /// One SSCAN step: an intset answers whole with cursor 0, as Redis does for its compact encodings.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8])) -> u64 {
        match self {
            Set::Ints(v) => {
                v.iter().for_each(|n| visit(format_i64(n).as_bytes()));
                0
            }
            Set::Table(d) => scan_dict(d, cursor, count, |k, _| visit(k)),
        }
    }
}

crate::types::collection::impl_collection!(Set, Set);

pub const COMMANDS: &[crate::commands::Command] = commands::COMMANDS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_until_a_string_or_too_many_members() {
        let mut s = Set::for_member(b"1");
        for i in (0..4).rev() {
            assert!(s.add(i.to_string().as_bytes(), 4));
        }
        assert_eq!(s.encoding(), "intset");
        assert_eq!(s.iter().next().as_deref(), Some(&b"0"[..]), "numeric order");
        assert!(!s.contains(b"01"), "not the canonical form of 1");
        assert!(!s.add(b"3", 2), "a member already there...");
        assert_eq!(s.encoding(), "intset", "...converts nothing");
        assert!(s.add(b"4", 4));
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"3") && s.contains(b"4"));
        let mut t = Set::for_member(b"a");
        assert_eq!(t.encoding(), "hashtable");
        let mut u = Set::for_member(b"7");
        u.add(b"7", 4);
        u.add(b"x", 4);
        assert_eq!(u.encoding(), "hashtable");
        assert!(u.remove(b"7") && !t.remove(b"7"));
        t.add(b"a", 4);
        assert_eq!(t.len(), 1);
        let mut zero = Set::for_member(b"1");
        zero.add(b"1", 0);
        assert_eq!(zero.encoding(), "hashtable", "set-max-intset-entries 0");
        let mut ints = Set::for_member(b"a");
        ints.add(b"1", 4);
        ints.add(b"2", 4);
        assert_eq!(ints.rebuilt(4).encoding(), "intset");
        assert_eq!(ints.rebuilt(1).encoding(), "hashtable");
        ints.add(b"a", 4);
        assert_eq!(ints.rebuilt(4).encoding(), "hashtable");
    }
}
