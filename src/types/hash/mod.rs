//! The hash type. Small hashes keep their fields in insertion order, as Redis's listpack does, so HGETALL,
//! HKEYS and HSCAN answer in the same order as Redis; past `hash-max-listpack-entries` fields or
//! `hash-max-listpack-value` bytes the hash becomes, for good, a `Dict` (for HSCAN's cursor guarantee).

mod commands;

use crate::db::Dict;
use crate::types::collection::{clone_dict, member_hash, new_dict, scan_dict, PackLimits};

pub enum Hash {
    Pack(Vec<(Box<[u8]>, Vec<u8>)>),
    Table(Dict<Vec<u8>>),
}

impl Clone for Hash {
    fn clone(&self) -> Self {
        match self {
            Hash::Pack(v) => Hash::Pack(v.clone()),
            Hash::Table(d) => Hash::Table(clone_dict(d)),
        }
    }
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Pack(Vec::new())
    }
}

impl Hash {
    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Pack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self, Hash::Pack(_))
    }

    pub fn len(&self) -> usize {
        match self {
            Hash::Pack(v) => v.len(),
            Hash::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Pack(v) => v.iter().find(|(f, _)| **f == *field).map(|(_, v)| &v[..]),
            Hash::Table(d) => d.get(member_hash(field), field).map(|v| &v[..]),
        }
    }

    /// Sets `field`; true if it is new. As Redis's hashTypeSet, a field or value too long for `limits` converts
    /// the listpack first, and so does a listpack left with too many fields, even by an update (after
    /// `hash-max-listpack-entries` was lowered).
    pub fn set(&mut self, field: &[u8], value: Vec<u8>, limits: PackLimits) -> bool {
        if let Hash::Pack(v) = self {
            if limits.too_long(field.len()) || limits.too_long(value.len()) {
                self.convert();
            } else {
                let added = match v.iter_mut().find(|(f, _)| **f == *field) {
                    Some(slot) => {
                        slot.1 = value;
                        false
                    }
                    None => {
                        v.push((field.into(), value));
                        true
                    }
                };
                if v.len() > limits.entries {
                    self.convert();
                }
                return added;
            }
        }
        match self {
            Hash::Table(d) => d.insert(member_hash(field), field, value).is_none(),
            Hash::Pack(_) => false,
        }
    }

    fn convert(&mut self) {
        if let Hash::Pack(v) = self {
            let mut d = new_dict();
            for (f, val) in v.drain(..) {
                d.insert(member_hash(&f), &f, val);
            }
            *self = Hash::Table(d);
        }
    }

    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Pack(v) => match v.iter().position(|(f, _)| **f == *field) {
                Some(i) => {
                    v.remove(i);
                    true
                }
                None => false,
            },
            Hash::Table(d) => d.remove(member_hash(field), field).is_some(),
        }
    }

    /// Field-value pairs in Redis's order (insertion order while small).
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match self {
            Hash::Pack(v) => Box::new(v.iter().map(|(f, v)| (&f[..], &v[..]))),
            Hash::Table(d) => Box::new(d.iter().map(|(f, v)| (f, &v[..]))),
        }
    }

    /// A pair chosen at random.
    pub fn random(&self) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Pack(v) if v.is_empty() => None,
            Hash::Pack(v) => v
                .get(fastrand::usize(..v.len()))
                .map(|(f, v)| (&f[..], &v[..])),
            Hash::Table(d) => d.random().map(|(f, v)| (f, &v[..])),
        }
    }

    /// One HSCAN step: a listpack answers whole with cursor 0, as in Redis.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            Hash::Pack(v) => {
                v.iter().for_each(|(f, v)| visit(f, v));
                0
            }
            Hash::Table(d) => scan_dict(d, cursor, count, |f, v| visit(f, v)),
        }
    }
}

crate::types::collection::impl_collection!(Hash, Hash);

pub const COMMANDS: &[crate::commands::Command] = commands::COMMANDS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_follows_the_limits_in_force_one_way() {
        let limits = PackLimits {
            entries: 4,
            value: 8,
        };
        let mut h = Hash::default();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v".to_vec(), limits);
        }
        assert_eq!(h.encoding(), "listpack");
        assert_eq!(
            h.iter().next().map(|(f, _)| f),
            Some(&b"f0"[..]),
            "insertion order"
        );
        let lowered = PackLimits {
            entries: 3,
            ..limits
        };
        assert!(!h.set(b"f0", b"w".to_vec(), lowered), "an update...");
        assert_eq!(h.encoding(), "hashtable", "...converts a too-big listpack");
        h.remove(b"f0");
        assert_eq!(h.encoding(), "hashtable", "no conversion back, as in Redis");
        let mut small = Hash::default();
        small.set(b"f", vec![b'x'; 8], limits);
        assert!(!small.set(b"f", vec![b'y'; 8], limits));
        assert_eq!(small.encoding(), "listpack");
        assert!(!small.set(b"f", vec![b'x'; 9], limits));
        assert_eq!(small.encoding(), "hashtable");
        assert_eq!(small.get(b"f").map(<[u8]>::len), Some(9));
        let mut long_field = Hash::default();
        assert!(long_field.set(&[b'k'; 9], b"v".to_vec(), limits));
        assert_eq!(long_field.encoding(), "hashtable");
    }
}
