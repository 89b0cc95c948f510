//! What hashes, sets and sorted sets share: the compact-encoding thresholds, member hashing, the SCAN family's
//! arguments and loop, and the count argument of the random-member commands.

use std::sync::OnceLock;

use crate::commands::args::ScanOptions;
use crate::db::{Dict, Key};
use crate::protocol::Reply;
use crate::util::glob::glob_match;
use crate::util::numbers::parse_i64;

/// Redis 7.0's compiled-in defaults for `hash-max-listpack-entries` / `-value`, `set-max-intset-entries` and
/// `zset-max-listpack-entries` / `-value` (a server started without a config file; the sample redis.conf says
/// 128 hash entries): past them Redis converts to a hashtable or skiplist for good. To be replaced by the config
/// getters once those parameters exist.
pub const HASH_MAX_LISTPACK_ENTRIES: usize = 512;
pub const HASH_MAX_LISTPACK_VALUE: usize = 64;
pub const SET_MAX_INTSET_ENTRIES: usize = 512;
pub const ZSET_MAX_LISTPACK_ENTRIES: usize = 128;
pub const ZSET_MAX_LISTPACK_VALUE: usize = 64;

/// The hasher of every collection's `Dict`, keyed once per process like the keyspace's.
fn member_hasher() -> &'static ahash::RandomState {
    static STATE: OnceLock<ahash::RandomState> = OnceLock::new();
    STATE.get_or_init(ahash::RandomState::new)
}

/// The hash of a member inside a collection's `Dict`.
pub fn member_hash(member: &[u8]) -> u64 {
    member_hasher().hash_one(member)
}

/// An empty `Dict` for members, hashing as `member_hash` does.
pub fn new_dict<V>() -> Dict<V> {
    Dict::new(member_hasher().clone())
}

/// A copy of a member `Dict` (COPY duplicates collections; `Dict` itself is not `Clone`).
pub fn clone_dict<V: Clone>(dict: &Dict<V>) -> Dict<V> {
    let mut out = new_dict();
    for (k, v) in dict.iter() {
        out.insert_new(member_hash(k), Key::from_slice(k), v.clone());
    }
    out
}

/// Whether a SCAN-family element passes the MATCH pattern, if any.
pub fn scan_matches(opts: &ScanOptions, element: &[u8]) -> bool {
    opts.pattern.is_none_or(|p| glob_match(p, element, false))
}

/// Redis's SCAN loop over a hashtable: buckets until `count` elements were seen or ten times `count` buckets were
/// visited. Returns the next cursor.
pub fn scan_dict<V>(
    dict: &Dict<V>,
    mut cursor: u64,
    count: usize,
    mut visit: impl FnMut(&[u8], &V),
) -> u64 {
    let mut seen = 0usize;
    let mut budget = count.saturating_mul(10);
    loop {
        cursor = dict.scan(cursor, |k, v| {
            seen += 1;
            visit(k, v)
        });
        if cursor == 0 || budget == 0 || seen >= count {
            return cursor;
        }
        budget -= 1;
    }
}

/// `[cursor, [elements...]]`, an array in both protocols.
pub fn scan_reply(cursor: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![Reply::bulk(cursor.to_string()), Reply::Array(items)])
}

/// The count of HRANDFIELD / SRANDMEMBER / ZRANDMEMBER: `(count, distinct)`; a negative count asks for that many
/// picks with repeats. `with_pairs` is WITHVALUES / WITHSCORES, whose reply doubles the count.
pub fn random_count(arg: &[u8], with_pairs: bool) -> Result<(usize, bool), Reply> {
    let n = match parse_i64(arg) {
        Some(n) if n != i64::MIN => n,
        Some(_) => {
            return Err(Reply::err(
                "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ))
        }
        None => return Err(Reply::not_integer()),
    };
    if with_pairs && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n) {
        return Err(Reply::err("value is out of range"));
    }
    Ok((n.unsigned_abs() as usize, n >= 0))
}

/// A pair as the random and range commands answer it with scores or values: nested `[a, b]` in RESP3, two flat
/// elements in RESP2 (the caller flattens).
pub fn push_pair(out: &mut Vec<Reply>, resp3: bool, a: Reply, b: Reply) {
    if resp3 {
        out.push(Reply::Array(vec![a, b]));
    } else {
        out.push(a);
        out.push(b);
    }
}
