//! What hashes, sets and sorted sets share: the compact-encoding thresholds in force, member hashing, the SCAN
//! family's arguments and loop, and the count argument of the random-member commands.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::commands::args::{scan_cursor, ScanOptions};
use crate::commands::{Args, Ctx};
use crate::config::{Config, Threshold};
use crate::db::{Dict, Key, Value};
use crate::protocol::Reply;
use crate::util::glob::glob_match;
use crate::util::numbers::parse_i64;

/// The listpack thresholds of hashes (`hash-max-listpack-entries` / `-value`) or sorted sets
/// (`zset-max-listpack-*`), read once per command from the configuration. As in Redis, the values in force when a
/// write runs decide whether it converts the key; a conversion is for good, and CONFIG SET by itself converts no
/// key either way (a listpack left over a lowered limit converts at its next qualifying write).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackLimits {
    /// More members than this leave the listpack.
    pub entries: usize,
    /// A longer field, value or member (in bytes) leaves the listpack.
    pub value: usize,
}

impl PackLimits {
    pub fn hash(config: &Config) -> PackLimits {
        PackLimits {
            entries: threshold(config, Threshold::HashMaxListpackEntries),
            value: threshold(config, Threshold::HashMaxListpackValue),
        }
    }

    pub fn zset(config: &Config) -> PackLimits {
        PackLimits {
            entries: threshold(config, Threshold::ZsetMaxListpackEntries),
            value: threshold(config, Threshold::ZsetMaxListpackValue),
        }
    }

    /// Whether an element of `len` bytes is too long for a listpack.
    pub fn too_long(&self, len: usize) -> bool {
        len > self.value
    }
}

/// `set-max-intset-entries`: an intset growing past it becomes a hashtable. Capped at 2^30 members whatever
/// the setting, as Redis caps it ("due to intset internals"; here, the packed value's `u32` length).
pub fn intset_limit(config: &Config) -> usize {
    threshold(config, Threshold::SetMaxIntsetEntries).min(1 << 30)
}

/// The parameters are validated as 0 ..= i64::MAX, so every value fits a `usize` on the 64-bit targets we build.
fn threshold(config: &Config, t: Threshold) -> usize {
    usize::try_from(config.threshold(t)).unwrap_or(usize::MAX)
}

/// A collection type stored in a `Value`: what the shared lookups below need to find it and to know when it is
/// empty (Redis never keeps an empty collection).
pub trait Collection: Sized {
    fn of(value: &Value) -> Option<&Self>;
    fn of_mut(value: &mut Value) -> Option<&mut Self>;
    fn is_empty(&self) -> bool;
}

/// Implements [`Collection`] for a type held in `Value::$variant` that has a `len()`.
macro_rules! impl_collection {
    ($ty:ty, $variant:ident) => {
        impl $crate::types::collection::Collection for $ty {
            fn of(value: &$crate::db::Value) -> Option<&Self> {
                match value {
                    $crate::db::Value::$variant(x) => Some(x),
                    _ => None,
                }
            }
            fn of_mut(value: &mut $crate::db::Value) -> Option<&mut Self> {
                match value {
                    $crate::db::Value::$variant(x) => Some(x),
                    _ => None,
                }
            }
            fn is_empty(&self) -> bool {
                self.len() == 0
            }
        }
    };
}
pub(crate) use impl_collection;

fn typed<T: Collection>(value: Option<&Value>) -> Result<Option<&T>, Reply> {
    value
        .map(|v| T::of(v).ok_or_else(Reply::wrong_type))
        .transpose()
}

/// The collection at `key` for a read command (counted in keyspace hits and misses): `Ok(None)` if missing,
/// WRONGTYPE if another type.
pub fn read<'c, T: Collection>(ctx: &'c Ctx, key: &[u8]) -> Result<Option<&'c T>, Reply> {
    typed(ctx.lookup(key))
}

/// The collection at `key` as a write command sees it before changing anything: not counted in keyspace hits
/// and misses, as Redis's lookupKeyWrite.
pub fn peek<'c, T: Collection>(ctx: &'c Ctx, key: &[u8]) -> Result<Option<&'c T>, Reply> {
    typed(ctx.keys.get_value(ctx.db(), key))
}

pub fn write<'c, T: Collection>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c mut T>, Reply> {
    ctx.lookup_mut(key)
        .map(|v| T::of_mut(v).ok_or_else(Reply::wrong_type))
        .transpose()
}

/// Deletes `key` (with its `del` event) if the command just left its collection empty.
pub fn delete_if_empty<T: Collection>(ctx: &mut Ctx, key: &[u8]) {
    if ctx
        .lookup_mut(key)
        .and_then(T::of_mut)
        .is_some_and(|c| c.is_empty())
    {
        ctx.delete(key);
        // The removal that emptied it was reported (and counted) already.
        ctx.report(key, crate::effects::Change::event_only('g', "del"));
    }
}

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

/// HSCAN, SSCAN and ZSCAN: the cursor, then the key (WRONGTYPE, or an empty page when missing), then MATCH/COUNT,
/// in Redis's order of errors; `scan` walks one page from the cursor, pushing the reply elements of what matches,
/// and returns the next cursor.
pub fn scan_command<T>(
    ctx: &Ctx,
    args: Args,
    read: impl for<'c> FnOnce(&'c Ctx, &[u8]) -> Result<Option<&'c T>, Reply>,
    scan: impl FnOnce(&T, u64, &ScanOptions, &mut Vec<Reply>) -> u64,
) -> Reply {
    let cursor = match scan_cursor(args.get(2)) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let value = match read(ctx, args.get(1)) {
        Ok(Some(v)) => v,
        Ok(None) => return scan_reply(0, vec![]),
        Err(e) => return e,
    };
    let opts = match ScanOptions::parse(args, 3, false) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let mut out = Vec::new();
    let next = scan(value, cursor, &opts, &mut out);
    scan_reply(next, out)
}

/// `[cursor, [elements...]]`, an array in both protocols.
pub fn scan_reply(cursor: u64, items: Vec<Reply>) -> Reply {
    Reply::Array(vec![Reply::bulk(cursor.to_string()), Reply::Array(items)])
}

/// The count of SPOP / ZPOPMIN / ZPOPMAX (Redis's getPositiveLongFromObjectOrReply).
pub fn positive_count(arg: &[u8]) -> Result<usize, Reply> {
    match parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n as usize),
        _ => Err(Reply::err("value is out of range, must be positive")),
    }
}

/// The count of HRANDFIELD / SRANDMEMBER / ZRANDMEMBER and whether WITHVALUES / WITHSCORES follows it.
pub struct RandomCount {
    pub n: usize,
    /// False for a negative count, which asks for `n` picks that may repeat.
    pub distinct: bool,
    pub with_pairs: bool,
}

impl RandomCount {
    /// Picks that may repeat (a negative count) limited to `cap` (`crate::server::output_limit::reply_cap`):
    /// more could only make a reply the client is closed for.
    pub fn capped(mut self, cap: usize) -> Self {
        if !self.distinct {
            self.n = self.n.min(cap);
        }
        self
    }
}

/// Parses `[count [keyword]]` after the key, in Redis's order: the count's own errors first, then a syntax error
/// for anything else, then the range a paired reply allows. `Ok(None)` without a count.
pub fn parse_random_count(args: Args, keyword: &str) -> Result<Option<RandomCount>, Reply> {
    if args.len() < 3 {
        return Ok(None);
    }
    let n = match parse_i64(args.get(2)) {
        Some(n) if n != i64::MIN => n,
        Some(_) => {
            return Err(Reply::err(
                "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ))
        }
        None => return Err(Reply::not_integer()),
    };
    let with_pairs = args.len() == 4;
    if args.len() > 4 || (with_pairs && !args.get(3).eq_ignore_ascii_case(keyword.as_bytes())) {
        return Err(Reply::syntax_error());
    }
    if with_pairs && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n) {
        return Err(Reply::err("value is out of range"));
    }
    Ok(Some(RandomCount {
        n: n.unsigned_abs() as usize,
        distinct: n >= 0,
        with_pairs,
    }))
}

/// The elements a random command answers, chosen as Redis does: `n` independent picks for a negative count;
/// else the whole collection (in `all`'s order) when `n` covers it, a shuffled copy cut to `n` when `n` is more
/// than a third of it, and distinct random picks otherwise.
pub fn random_picks<T: Clone + Eq + std::hash::Hash>(
    len: usize,
    count: &RandomCount,
    all: impl FnOnce() -> Vec<T>,
    mut one: impl FnMut() -> Option<T>,
) -> Vec<T> {
    let n = count.n;
    if !count.distinct {
        return (0..n).map_while(|_| one()).collect();
    }
    if n >= len {
        return all();
    }
    if n.saturating_mul(3) > len {
        let mut every = all();
        fastrand::shuffle(&mut every);
        every.truncate(n);
        return every;
    }
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        match one() {
            Some(x) => {
                if seen.insert(x.clone()) {
                    out.push(x);
                }
            }
            None => break,
        }
    }
    out
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
