//! One value, both ways: the type byte and body a key's value has in a file and in a DUMP payload.
//!
//! Writing picks the form from the value's own encoding (what OBJECT ENCODING reports), so a value saved and
//! loaded keeps its encoding: strings are int-encoded, LZF-compressed or raw; lists are quicklists of listpack
//! nodes; sets intsets or plain sets; hashes and sorted sets listpacks or plain (binary scores); streams listpack
//! nodes with their groups. Reading takes every form 7.0 and older versions write, builds ferredis's structures,
//! and re-checks their size against the thresholds in force as Redis's `rdbLoadObject` does.

use std::io::Read;

use super::listpack::{self, ListpackBuilder, LpValue};
use super::string::{put_double, put_len, put_string, Input};
use super::{intset, stream, types, ziplist, RdbError};
use crate::config::{Config, Threshold};
use crate::db::{StrValue, Value};
use crate::types::collection::{intset_limit, PackLimits};
use crate::types::hash::Hash;
use crate::types::list::{End, List};
use crate::types::set::Set;
use crate::types::stream::NodeLimits;
use crate::types::zset::ZSet;
use crate::util::numbers::format_double;

/// The encoding thresholds that shape values: where lists split into nodes and streams into listpacks when
/// writing, and which encoding a loaded value gets.
#[derive(Clone, Copy)]
pub struct Limits {
    pub hash: PackLimits,
    pub zset: PackLimits,
    pub intset: usize,
    pub stream: NodeLimits,
}

impl Default for Limits {
    /// Redis's defaults.
    fn default() -> Self {
        let pack = PackLimits {
            entries: 128,
            value: 64,
        };
        Limits {
            hash: pack,
            zset: pack,
            intset: 512,
            stream: NodeLimits::default(),
        }
    }
}

impl Limits {
    pub fn from_config(config: &Config) -> Self {
        let u = |t: Threshold| u64::try_from(config.threshold(t)).unwrap_or(0);
        Limits {
            hash: PackLimits::hash(config),
            zset: PackLimits::zset(config),
            intset: intset_limit(config),
            stream: NodeLimits {
                entries: u(Threshold::StreamNodeMaxEntries),
                bytes: u(Threshold::StreamNodeMaxBytes),
            },
        }
    }
}

/// How values are written.
#[derive(Clone, Copy)]
pub struct Encoder {
    pub compress: bool,
    pub limits: Limits,
}

/// The type byte `value` is written with.
pub fn type_of(value: &Value) -> u8 {
    match value {
        Value::Str(_) => types::STRING,
        Value::List(_) => types::LIST_QUICKLIST_2,
        Value::Set(s) if s.encoding() == "intset" => types::SET_INTSET,
        Value::Set(_) => types::SET,
        Value::Hash(h) if h.is_listpack() => types::HASH_LISTPACK,
        Value::Hash(_) => types::HASH,
        Value::ZSet(z) if z.is_listpack() => types::ZSET_LISTPACK,
        Value::ZSet(_) => types::ZSET_2,
        Value::Stream(_) => types::STREAM_LISTPACKS_2,
    }
}

/// Appends the body of `value` (what follows the type byte and, in a file, the key).
pub fn put_body(out: &mut Vec<u8>, value: &Value, enc: &Encoder) {
    let c = enc.compress;
    match value {
        Value::Str(s) => put_string(out, s, c),
        Value::List(l) => put_list(out, l, enc),
        Value::Set(s) => match s {
            Set::Ints(v) => put_string(out, &intset::build(&v.to_vec()), c),
            Set::Table(_) => {
                put_len(out, s.len() as u64);
                s.iter().for_each(|m| put_string(out, &m, c));
            }
        },
        Value::Hash(h) if h.is_listpack() => {
            let lp = listpack::build(h.iter().flat_map(|(f, v)| [f, v]));
            put_string(out, &lp, c);
        }
        Value::Hash(h) => {
            put_len(out, h.len() as u64);
            for (f, v) in h.iter() {
                put_string(out, f, c);
                put_string(out, v, c);
            }
        }
        Value::ZSet(z) if z.is_listpack() => {
            let mut lp = ListpackBuilder::new();
            for (m, s) in z.list().iter() {
                lp.push(m);
                lp.push(format_double(s).as_bytes());
            }
            put_string(out, &lp.finish(), c);
        }
        Value::ZSet(z) => {
            // Highest first, as Redis writes them (its loader then inserts each at the head).
            put_len(out, z.len() as u64);
            let items: Vec<(&[u8], f64)> = z.list().iter().collect();
            for (m, s) in items.into_iter().rev() {
                put_string(out, m, c);
                put_double(out, s);
            }
        }
        Value::Stream(s) => stream::put_stream(out, s, enc),
    }
}

/// The list's quicklist nodes as they are in memory, as Redis writes its own: a plain node (one large element)
/// as it is, the others as listpacks.
fn put_list(out: &mut Vec<u8>, list: &List, enc: &Encoder) {
    put_len(out, list.node_count() as u64);
    for (plain, mut items) in list.saved_nodes() {
        if plain {
            let item = items.next().unwrap_or_default();
            put_len(out, QUICKLIST_PLAIN);
            put_string(out, &item, enc.compress);
        } else {
            let mut node = ListpackBuilder::new();
            items.for_each(|item| node.push(&item));
            put_len(out, QUICKLIST_PACKED);
            put_string(out, &node.finish(), enc.compress);
        }
    }
}

/// Redis's quicklist node containers: a plain node holds one large element as it is, a packed node a listpack.
const QUICKLIST_PLAIN: u64 = 1;
const QUICKLIST_PACKED: u64 = 2;

/// Reads the body of a value of type `ty`. Empty collections are `RdbError::EmptyKey`.
pub fn read_body<R: Read>(
    input: &mut Input<R>,
    ty: u8,
    limits: &Limits,
) -> Result<Value, RdbError> {
    let value = match ty {
        types::STRING => Value::Str(StrValue::from_vec(input.string()?)),
        types::LIST => {
            let n = input.length()?;
            let mut list = List::default();
            for _ in 0..n {
                list.push(End::Right, &input.string()?);
            }
            Value::List(Box::new(list))
        }
        types::LIST_ZIPLIST => {
            let blob = input.string()?;
            let items = ziplist::parse(&blob)
                .ok_or_else(|| input.corrupt("List ziplist integrity check failed."))?;
            Value::List(Box::new(list_of(items)))
        }
        types::LIST_QUICKLIST | types::LIST_QUICKLIST_2 => read_quicklist(input, ty)?,
        types::SET => read_set(input, limits)?,
        types::SET_INTSET => read_intset(input, limits)?,
        types::HASH => read_hash(input, limits)?,
        types::HASH_ZIPMAP | types::HASH_ZIPLIST | types::HASH_LISTPACK => {
            read_packed_hash(input, ty, limits)?
        }
        types::ZSET | types::ZSET_2 => read_zset(input, ty, limits)?,
        types::ZSET_ZIPLIST | types::ZSET_LISTPACK => read_packed_zset(input, ty, limits)?,
        types::STREAM_LISTPACKS | types::STREAM_LISTPACKS_2 => {
            Value::Stream(Box::new(stream::read_stream(input, ty)?))
        }
        types::MODULE | types::MODULE_2 => return Err(module_error(input)?),
        other => return Err(input.corrupt(format!("Unknown RDB encoding type {other}"))),
    };
    if is_empty(&value) {
        return Err(RdbError::EmptyKey);
    }
    Ok(value)
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Str(_) | Value::Stream(_) => false,
        Value::List(l) => l.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::Hash(h) => h.is_empty(),
        Value::ZSet(z) => z.is_empty(),
    }
}

/// The value of a module type: refused, naming the type as Redis does.
fn module_error<R: Read>(input: &mut Input<R>) -> Result<RdbError, RdbError> {
    let name = module_name(input.length()?);
    Ok(input.corrupt(format!(
        "The RDB file contains module data I can't load: no matching module type '{name}'"
    )))
}

/// Redis names a module type by 9 characters packed 6 bits each above the 10-bit encoding version of its id.
pub fn module_name(id: u64) -> String {
    const CHARSET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut id = id >> 10;
    let mut name = [0u8; 9];
    for slot in name.iter_mut().rev() {
        *slot = CHARSET[(id & 63) as usize];
        id >>= 6;
    }
    String::from_utf8_lossy(&name).into_owned()
}

fn list_of(items: Vec<LpValue<'_>>) -> List {
    let mut list = List::default();
    for v in items {
        list.push(End::Right, &v.to_vec());
    }
    list
}

fn read_quicklist<R: Read>(input: &mut Input<R>, ty: u8) -> Result<Value, RdbError> {
    let nodes = input.length()?;
    let mut list = List::default();
    for _ in 0..nodes {
        let container = match ty {
            types::LIST_QUICKLIST_2 => input.length()?,
            _ => QUICKLIST_PACKED,
        };
        let blob = input.string()?;
        if blob.is_empty() {
            // Redis refuses a zero-length node of either container without a log line of its own.
            return Err(RdbError::ShortRead);
        }
        match container {
            QUICKLIST_PLAIN => list.push(End::Right, &blob),
            QUICKLIST_PACKED => {
                let items = match ty {
                    types::LIST_QUICKLIST => ziplist::parse(&blob),
                    _ => listpack::parse(&blob),
                };
                // An empty node is skipped, as Redis does; a list left empty is an empty key.
                let items = items.ok_or_else(|| {
                    input.corrupt(match ty {
                        types::LIST_QUICKLIST => "Ziplist integrity check failed.",
                        _ => "Listpack integrity check failed.",
                    })
                })?;
                items
                    .into_iter()
                    .for_each(|v| list.push(End::Right, &v.to_vec()));
            }
            _ => return Err(input.corrupt("Quicklist integrity check failed.")),
        }
    }
    Ok(Value::List(Box::new(list)))
}

fn read_set<R: Read>(input: &mut Input<R>, limits: &Limits) -> Result<Value, RdbError> {
    let n = input.length()?;
    // Past the intset limit Redis starts with a hashtable; under it, an intset until a member is not an integer.
    let big = n > limits.intset as u64;
    let mut set: Option<Set> = None;
    for _ in 0..n {
        let m = input.string()?;
        let s = set.get_or_insert_with(|| match big {
            true => Set::table(),
            false => Set::for_member(&m),
        });
        if !s.add(&m, limits.intset) {
            return Err(input.corrupt("Duplicate set members detected"));
        }
    }
    Ok(Value::Set(set.unwrap_or_default()))
}

fn read_intset<R: Read>(input: &mut Input<R>, limits: &Limits) -> Result<Value, RdbError> {
    let blob = input.string()?;
    let members =
        intset::parse(&blob).ok_or_else(|| input.corrupt("Intset integrity check failed."))?;
    let mut set = Set::Ints(crate::types::set::intset::IntSet::from_sorted(&members));
    if set.len() > limits.intset {
        set = set.rebuilt(0);
    }
    Ok(Value::Set(set))
}

fn read_hash<R: Read>(input: &mut Input<R>, limits: &Limits) -> Result<Value, RdbError> {
    let n = input.length()?;
    let mut lim = limits.hash;
    if n > lim.entries as u64 {
        lim.entries = 0;
    }
    let mut hash = Hash::default();
    for _ in 0..n {
        let f = input.string()?;
        let v = input.string()?;
        if !hash.set(&f, v, lim) {
            return Err(input.corrupt("Duplicate hash fields detected"));
        }
    }
    Ok(Value::Hash(hash))
}

fn read_packed_hash<R: Read>(
    input: &mut Input<R>,
    ty: u8,
    limits: &Limits,
) -> Result<Value, RdbError> {
    let blob = input.string()?;
    // Redis's words for each encoding's failed validation (a ziplist's includes duplicate fields).
    let invalid = match ty {
        types::HASH_ZIPMAP => "Zipmap integrity check failed.",
        types::HASH_ZIPLIST => "Hash ziplist integrity check failed.",
        _ => "Hash listpack integrity check failed.",
    };
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = match ty {
        types::HASH_ZIPMAP => ziplist::parse_zipmap(&blob).map(|p| {
            p.into_iter()
                .map(|(f, v)| (f.to_vec(), v.to_vec()))
                .collect()
        }),
        types::HASH_ZIPLIST => ziplist::parse(&blob).and_then(pairs_of),
        _ => listpack::parse(&blob).and_then(pairs_of),
    }
    .ok_or_else(|| input.corrupt(invalid))?;
    // A listpack or ziplist stays a listpack unless it has too many fields; a zipmap also converts for a long one.
    let longest = pairs
        .iter()
        .map(|(f, v)| f.len().max(v.len()))
        .max()
        .unwrap_or(0);
    let too_long = ty == types::HASH_ZIPMAP && limits.hash.too_long(longest);
    let mut lim = PackLimits {
        entries: usize::MAX,
        value: usize::MAX,
    };
    if pairs.len() > limits.hash.entries || too_long {
        lim.entries = 0;
    }
    let mut hash = Hash::default();
    for (f, v) in pairs {
        let flen = f.len();
        if !hash.set(&f, v, lim) {
            return Err(input.corrupt(&match ty {
                types::HASH_ZIPMAP => {
                    format!("Hash zipmap with dup elements, or big length ({flen})")
                }
                types::HASH_ZIPLIST => invalid.to_owned(),
                _ => "Hash with dup elements".to_owned(),
            }));
        }
    }
    Ok(Value::Hash(hash))
}

/// Consecutive elements as pairs; `None` for an odd count.
fn pairs_of(items: Vec<LpValue<'_>>) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if !items.len().is_multiple_of(2) {
        return None;
    }
    Some(
        items
            .chunks_exact(2)
            .map(|p| (p[0].to_vec(), p[1].to_vec()))
            .collect(),
    )
}

fn read_zset<R: Read>(input: &mut Input<R>, ty: u8, limits: &Limits) -> Result<Value, RdbError> {
    let n = input.length()?;
    let mut items = Vec::new();
    for _ in 0..n {
        let m = input.string()?;
        let score = match ty {
            types::ZSET_2 => input.double()?,
            _ => input.string_double()?,
        };
        if score.is_nan() {
            return Err(input.corrupt("Zset with NAN score detected"));
        }
        items.push((m, score));
    }
    // Loaded as a skiplist, turned into a listpack if it fits (Redis's rdbLoadObject).
    let fits = items.len() <= limits.zset.entries
        && items.iter().all(|(m, _)| !limits.zset.too_long(m.len()));
    let zset =
        ZSet::loaded(items, fits).ok_or_else(|| input.corrupt("Duplicate zset fields detected"))?;
    Ok(Value::ZSet(zset))
}

fn read_packed_zset<R: Read>(
    input: &mut Input<R>,
    ty: u8,
    limits: &Limits,
) -> Result<Value, RdbError> {
    let blob = input.string()?;
    let parsed = match ty {
        types::ZSET_ZIPLIST => ziplist::parse(&blob),
        _ => listpack::parse(&blob),
    };
    let corrupt = || {
        input.corrupt(match ty {
            types::ZSET_ZIPLIST => "Zset ziplist integrity check failed.",
            _ => "Zset listpack integrity check failed.",
        })
    };
    let parsed = parsed
        .filter(|p| p.len().is_multiple_of(2))
        .ok_or_else(corrupt)?;
    let mut items = Vec::with_capacity(parsed.len() / 2);
    for pair in parsed.chunks_exact(2) {
        let score = match pair[1] {
            LpValue::Int(n) => n as f64,
            LpValue::Str(s) => crate::util::numbers::parse_f64(s)
                .filter(|f| !f.is_nan())
                .ok_or_else(corrupt)?,
        };
        items.push((pair[0].to_vec(), score));
    }
    let fits = items.len() <= limits.zset.entries;
    let zset = ZSet::loaded(items, fits).ok_or_else(corrupt)?;
    Ok(Value::ZSet(zset))
}
