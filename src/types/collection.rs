//! What hashes, sets and sorted sets share: the compact-encoding thresholds, member hashing, the SCAN family's
//! arguments and loop, and the count argument of the random-member commands.

use std::sync::OnceLock;

use crate::commands::{Args, Cursor};
use crate::db::Dict;
use crate::protocol::Reply;
use crate::util::glob::glob_match;
use crate::util::numbers::parse_i64;

/// Redis 7.0's defaults for `hash-max-listpack-entries` / `-value`, `set-max-intset-entries` and
/// `zset-max-listpack-entries` / `-value`: past them Redis converts to a hashtable or skiplist for good.
pub const HASH_MAX_LISTPACK_ENTRIES: usize = 128;
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

/// A SCAN-family cursor as Redis reads it (`strtoull`: an optional sign, a leading `-` wraps around).
pub fn parse_cursor(arg: &[u8]) -> Result<u64, Reply> {
    let invalid = || Reply::err("invalid cursor");
    let (neg, digits) = match arg.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as u64))
            .ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// The MATCH and COUNT options of HSCAN / SSCAN / ZSCAN.
pub struct ScanOptions<'a> {
    pattern: Option<&'a [u8]>,
    pub count: usize,
}

impl<'a> ScanOptions<'a> {
    /// Parses the options from argument `start` on, with Redis's errors (`COUNT` below 1 is a syntax error).
    pub fn parse(args: Args<'a>, start: usize) -> Result<Self, Reply> {
        let mut cur = Cursor::new(args, start);
        let mut opts = ScanOptions {
            pattern: None,
            count: 10,
        };
        while !cur.is_done() {
            if cur.remaining() >= 2 && cur.eat("COUNT") {
                let n = cur.int()?;
                if n < 1 {
                    return Err(Reply::syntax_error());
                }
                opts.count = n as usize;
            } else if cur.remaining() >= 2 && cur.eat("MATCH") {
                let p = cur.value()?;
                opts.pattern = (p != b"*").then_some(p);
            } else {
                return Err(Reply::syntax_error());
            }
        }
        Ok(opts)
    }

    pub fn matches(&self, member: &[u8]) -> bool {
        self.pattern.is_none_or(|p| glob_match(p, member, false))
    }
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
