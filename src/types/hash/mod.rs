//! The hash type. Small hashes keep their fields in insertion order, as Redis's listpack does, so HGETALL,
//! HKEYS and HSCAN answer in the same order as Redis; past `hash-max-listpack-entries` fields or
//! `hash-max-listpack-value` bytes the hash becomes, for good, a `Dict` (for HSCAN's cursor guarantee).

mod commands;

use crate::db::{Dict, StrValue};
use crate::types::collection::{clone_dict, member_hash, new_dict, scan_dict, PackLimits};
use crate::types::listpack::{safe_to_add, Listpack};

/// A listpack holds the fields and values alternately: field, value, field, value...
/// The table is boxed so that a small hash costs only its listpack.
pub enum Hash {
    Pack(Listpack),
    /// Values are inline up to 16 bytes, as most are: a short field-value pair is one allocation.
    Table(Box<Dict<StrValue>>),
}

impl Clone for Hash {
    fn clone(&self) -> Self {
        match self {
            Hash::Pack(v) => Hash::Pack(v.clone()),
            Hash::Table(d) => Hash::Table(Box::new(clone_dict(d))),
        }
    }
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Pack(Listpack::new())
    }
}

/// The offset of `field`'s entry in a hash listpack.
fn find(lp: &Listpack, field: &[u8]) -> Option<usize> {
    let mut at = lp.first();
    while let Some(off) = at {
        let value = lp.next(off)?;
        if lp.get(off) == field {
            return Some(off);
        }
        at = lp.next(value);
    }
    None
}

/// Field-value pairs of a hash listpack, in order.
fn pairs(lp: &Listpack) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
    let mut entries = lp.iter();
    std::iter::from_fn(move || Some((entries.next()?, entries.next()?)))
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
            Hash::Pack(v) => v.len() / 2,
            Hash::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Pack(lp) => find(lp, field)
                .and_then(|off| lp.next(off))
                .map(|v| lp.get(v)),
            Hash::Table(d) => d.get(member_hash(field), field).map(|v| &v[..]),
        }
    }

    /// Sets `field`; true if it is new. As Redis's hashTypeSet, a field or value too long for `limits`, or one
    /// that would take the listpack past its safety size, converts the listpack first, and so does a listpack
    /// left with too many fields, even by an update (after `hash-max-listpack-entries` was lowered).
    pub fn set(&mut self, field: &[u8], value: Vec<u8>, limits: PackLimits) -> bool {
        if let Hash::Pack(lp) = self {
            if limits.too_long(field.len())
                || limits.too_long(value.len())
                || !safe_to_add(lp, &[field.len(), value.len()])
            {
                self.convert();
            } else {
                let added = match find(lp, field).and_then(|off| lp.next(off)) {
                    Some(v) => {
                        lp.splice(v, 1, &[&value]);
                        false
                    }
                    None => {
                        lp.push(&[field, &value]);
                        true
                    }
                };
                if lp.len() / 2 > limits.entries {
                    self.convert();
                }
                return added;
            }
        }
        match self {
            Hash::Table(d) => d
                .insert(member_hash(field), field, StrValue::from_vec(value))
                .is_none(),
            Hash::Pack(_) => false,
        }
    }

    fn convert(&mut self) {
        if let Hash::Pack(lp) = self {
            let mut d = new_dict();
            for (f, val) in pairs(lp) {
                d.insert(member_hash(f), f, StrValue::from_slice(val));
            }
            *self = Hash::Table(Box::new(d));
        }
    }

    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Pack(lp) => match find(lp, field) {
                Some(off) => {
                    lp.splice(off, 2, &[]);
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
            Hash::Pack(lp) => Box::new(pairs(lp)),
            Hash::Table(d) => Box::new(d.iter().map(|(f, v)| (f, &v[..]))),
        }
    }

    /// A pair chosen at random.
    pub fn random(&self) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Pack(lp) if lp.is_empty() => None,
            Hash::Pack(lp) => pairs(lp).nth(fastrand::usize(..lp.len() / 2)),
            Hash::Table(d) => d.random().map(|(f, v)| (f, &v[..])),
        }
    }

    /// One HSCAN step: a listpack answers whole with cursor 0, as in Redis.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            Hash::Pack(lp) => {
                pairs(lp).for_each(|(f, v)| visit(f, v));
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

#[cfg(test)]
mod props {
    use super::*;

    /// Random sets and removes of binary fields against an insertion-ordered model, under random limits: the
    /// contents always match, the order matches while packed, and the encoding is the listpack exactly until a
    /// write sees a field, a value or a count past the limits.
    #[test]
    fn random_operations_match_an_ordered_model() {
        fastrand::seed(1919);
        for _ in 0..200 {
            let limits = PackLimits {
                entries: fastrand::usize(1..20),
                value: fastrand::usize(1..12),
            };
            let mut h = Hash::default();
            let mut model: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            let mut packed = true;
            for _ in 0..60 {
                let field: Vec<u8> = (0..fastrand::usize(0..4))
                    .map(|_| fastrand::u8(..4))
                    .collect();
                let value: Vec<u8> = (0..fastrand::usize(0..14))
                    .map(|_| fastrand::u8(..))
                    .collect();
                if fastrand::u8(..3) == 0 {
                    let at = model.iter().position(|(f, _)| *f == field);
                    assert_eq!(h.remove(&field), at.is_some());
                    if let Some(i) = at {
                        model.remove(i);
                    }
                } else {
                    let at = model.iter().position(|(f, _)| *f == field);
                    let too_long = field.len() > limits.value || value.len() > limits.value;
                    assert_eq!(h.set(&field, value.clone(), limits), at.is_none());
                    match at {
                        Some(i) => model[i].1 = value,
                        None => model.push((field, value)),
                    }
                    packed &= !too_long && model.len() <= limits.entries;
                }
                assert_eq!(h.is_listpack(), packed);
                assert_eq!(h.len(), model.len());
                for (f, v) in &model {
                    assert_eq!(h.get(f), Some(&v[..]));
                }
                if packed {
                    let got: Vec<(Vec<u8>, Vec<u8>)> =
                        h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
                    assert_eq!(got, model);
                }
            }
        }
    }
}
