//! DEBUG DIGEST and DIGEST-VALUE: the same 40-hex signature of a dataset (or of values) that redis-server gives
//! for the same data, so a test can compare the two servers, or one server before and after a reload.
//!
//! Redis's scheme (debug.c): a SHA-1 based digest where unordered things (keys, set members, hash fields, sorted
//! set members) are combined by xor, so their order does not matter, and ordered ones (list elements, stream
//! entries) are "mixed" (`digest = SHA1(digest xor SHA1(data))`), so it does. Values are digested as Redis sees
//! them decoded (an integer-encoded string or set member as its decimal text), scores as `%.17g`.

use sha1::{Digest as _, Sha1};

use crate::db::{Entry, Value};
use crate::types::stream::StreamId;
use crate::util::numbers::format_double;

/// 20 bytes, all zero for "nothing".
pub type Digest = [u8; 20];

/// `digest ^= SHA1(data)`.
pub fn xor(digest: &mut Digest, data: &[u8]) {
    let hash = Sha1::digest(data);
    for (d, h) in digest.iter_mut().zip(hash.iter()) {
        *d ^= h;
    }
}

/// `digest = SHA1(digest ^ SHA1(data))`: order-preserving.
fn mix(digest: &mut Digest, data: &[u8]) {
    xor(digest, data);
    let hash = Sha1::digest(&digest[..]);
    digest.copy_from_slice(&hash);
}

/// Redis's object type numbers (OBJ_STRING ... OBJ_STREAM), mixed in big-endian.
fn type_code(value: &Value) -> u32 {
    match value {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// A (field, value) or (member, score) pair digested on its own, then xored in: Redis's `eledigest`.
fn xor_pair(digest: &mut Digest, a: &[u8], b: &[u8]) {
    let mut pair = [0u8; 20];
    mix(&mut pair, a);
    mix(&mut pair, b);
    xor(digest, &pair);
}

/// Redis's `xorObjectDigest`: mixes `entry`'s type, value and whether it has a TTL into `digest`.
pub fn object_digest(digest: &mut Digest, entry: &Entry) {
    let value = &entry.value;
    mix(digest, &type_code(value).to_be_bytes());
    match value {
        Value::Str(s) => mix(digest, s),
        Value::List(l) => l.iter().for_each(|item| mix(digest, &item)),
        Value::Set(s) => s.iter().for_each(|member| xor(digest, &member)),
        Value::ZSet(z) => {
            for (member, score) in z.list().iter() {
                xor_pair(digest, member, format_double(score).as_bytes());
            }
        }
        Value::Hash(h) => h.iter().for_each(|(f, v)| xor_pair(digest, f, v)),
        Value::Stream(s) => {
            let all = s.range(
                StreamId::new(0, 0),
                StreamId::new(u64::MAX, u64::MAX),
                false,
                0,
            );
            for (id, fields) in all {
                mix(digest, format!("{}.{}", id.ms, id.seq).as_bytes());
                fields.iter().for_each(|f| mix(digest, f));
            }
        }
    }
    if entry.has_ttl() {
        xor(digest, b"!!expire!!");
    }
}

/// One key-value pair's digest; the dataset digest xors in its SHA-1 (`xor`), as Redis's `xorDigest` does.
pub fn key_digest(key: &[u8], entry: &Entry) -> Digest {
    let mut digest = [0u8; 20];
    mix(&mut digest, key);
    object_digest(&mut digest, entry);
    digest
}

/// Redis's `computeDatasetDigest` for one database, given the xor of its keys' hashed digests: the database number is
/// mixed into the running total first, so the same data in another database digests differently.
pub fn add_database(total: &mut Digest, db: usize, keys_xor: &Digest) {
    mix(total, &(db as u32).to_be_bytes());
    for (t, k) in total.iter_mut().zip(keys_xor.iter()) {
        *t ^= k;
    }
}

pub fn hex(digest: &Digest) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_digest_is_forty_zeros() {
        assert_eq!(hex(&[0; 20]), "0".repeat(40));
    }

    #[test]
    fn mixing_depends_on_order_and_xoring_does_not() {
        let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
        mix(&mut a, b"x");
        mix(&mut a, b"y");
        mix(&mut b, b"y");
        mix(&mut b, b"x");
        assert_ne!(a, b);
        let (mut c, mut d) = ([0u8; 20], [0u8; 20]);
        xor(&mut c, b"x");
        xor(&mut c, b"y");
        xor(&mut d, b"y");
        xor(&mut d, b"x");
        assert_eq!(c, d);
    }
}
