//! SORT and SORT_RO: the elements of a list, set or sorted set, sorted numerically or as strings, by themselves
//! or by weights read from other keys (`BY weight_*`, `BY h_*->field`), optionally replaced by values of other
//! keys (`GET #`, `GET data_*`), limited, and returned or stored as a list (SORT ... STORE).
//!
//! # Locks
//! BY and GET patterns name keys that are not in the arguments: which ones depends on the elements. So a request
//! with a pattern that can look a key up takes every shard of the database (`Scope::Custom(sort_locks)`), read
//! locked, plus the source and the STORE destination locked for writing; a request without one takes just those
//! two keys. The plan comes from `Request::parse`, the very parser the handler runs, so the handler can never
//! look up a key the plan left out: a pattern that makes it read other keys (`reads_other_keys`) is exactly one
//! that made the plan take the whole database, and a request that does not parse touches nothing. (The lock plan
//! hook only gets the arguments, so the handler parses them a second time, with the same function; parsing is a
//! walk over the arguments with no lookups.) All locks are then taken in one ascending order by
//! `LockPlan::acquire`, as for every command, so the wide plan cannot deadlock with anything.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::flags::*;
use super::{Args, Command, Ctx, Scope};
use crate::commands::keyspec::prelude::*;
use crate::db::{Keyspace, LockPlan, Value};
use crate::protocol::Reply;
use crate::types::list::{End, List};
use crate::util::numbers::parse_i64;
use crate::util::pqsort::partial_sort;

pub const COMMANDS: &[Command] = &[
    Command::new("sort", -2, WRITE | DENYOOM, sort)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0)), ks(RO | ACCESS, Begin::Unknown, Find::Unknown).notes("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"), ks(OW | UPDATE, Begin::Unknown, Find::Unknown).notes("For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array")])
        .keys(1, 1, 1)
        .movable(sort_keys)
        .scope(Scope::Custom(sort_locks))
        .acl(ACL)
        .doc(
            "generic",
            "1.0.0",
            "Sort the elements in a list, set or sorted set",
        )
        .complexity(COMPLEXITY),
    Command::new("sort_ro", -2, READONLY, sort_ro)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0)), ks(RO | ACCESS, Begin::Unknown, Find::Unknown).notes("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort")])
        .keys(1, 1, 1)
        .scope(Scope::Custom(sort_ro_locks))
        .acl(ACL)
        .doc(
            "generic",
            "7.0.0",
            "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
        )
        .complexity(COMPLEXITY),
];

const ACL: &[&str] = &["set", "sortedset", "list", "dangerous"];

const COMPLEXITY: &str =
    "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M \
the number of returned elements. When the elements are not sorted, complexity is O(N).";

/// A parsed SORT request.
struct Request<'a> {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    store: Option<&'a [u8]>,
    by: Option<&'a [u8]>,
    /// `BY` a pattern without `*` (`BY nosort`): elements keep their order. Like Redis, a later BY with a `*`
    /// does not undo it.
    dont_sort: bool,
    gets: Vec<&'a [u8]>,
}

impl<'a> Request<'a> {
    /// Redis's option loop: ASC, DESC, ALPHA, LIMIT offset count, STORE key (SORT only), BY pattern, GET pattern,
    /// in any order and number; the first bad one decides the error. Without `all_keys` (the user may not read
    /// every key) BY with a pattern and GET are refused, as Redis refuses them.
    fn parse(args: Args<'a>, store_allowed: bool, all_keys: bool) -> Result<Self, Reply> {
        let mut r = Request {
            desc: false,
            alpha: false,
            limit: None,
            store: None,
            by: None,
            dont_sort: false,
            gets: Vec::new(),
        };
        let mut i = 2;
        while i < args.len() {
            let left = args.len() - i - 1;
            let arg = args.get(i);
            let is = |name: &str| arg.eq_ignore_ascii_case(name.as_bytes());
            if is("asc") {
                r.desc = false;
            } else if is("desc") {
                r.desc = true;
            } else if is("alpha") {
                r.alpha = true;
            } else if is("limit") && left >= 2 {
                let offset = parse_i64(args.get(i + 1)).ok_or_else(Reply::not_integer)?;
                let count = parse_i64(args.get(i + 2)).ok_or_else(Reply::not_integer)?;
                r.limit = Some((offset, count));
                i += 2;
            } else if is("store") && left >= 1 && store_allowed {
                r.store = Some(args.get(i + 1));
                i += 1;
            } else if is("by") && left >= 1 {
                let pattern = args.get(i + 1);
                r.by = Some(pattern);
                if star(pattern).is_none() {
                    r.dont_sort = true;
                } else if !all_keys {
                    return Err(Reply::err(
                        "BY option of SORT denied due to insufficient ACL permissions.",
                    ));
                }
                i += 1;
            } else if is("get") && left >= 1 {
                if !all_keys {
                    return Err(Reply::err(
                        "GET option of SORT denied due to insufficient ACL permissions.",
                    ));
                }
                r.gets.push(args.get(i + 1));
                i += 1;
            } else {
                return Err(Reply::syntax_error());
            }
            i += 1;
        }
        Ok(r)
    }

    /// Whether running this request may look up keys named by patterns (see the module doc).
    fn reads_other_keys(&self) -> bool {
        self.by
            .into_iter()
            .chain(self.gets.iter().copied())
            .any(|p| star(p).is_some())
    }
}

/// Where the `*` of a pattern is, as C's `strchr` finds it (not past a NUL byte).
fn star(pattern: &[u8]) -> Option<usize> {
    c_str(pattern).iter().position(|&b| b == b'*')
}

/// The bytes C string functions see: up to the first NUL.
fn c_str(bytes: &[u8]) -> &[u8] {
    bytes
        .iter()
        .position(|&b| b == 0)
        .map_or(bytes, |n| &bytes[..n])
}

/// SORT's key positions for COMMAND GETKEYS: the source, and the key after the last STORE, skipping the arguments
/// of LIMIT, GET and BY (Redis's `sortGetKeys`).
fn sort_keys(args: Args) -> Vec<usize> {
    let mut keys = vec![1];
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let arg = args.get(i);
        if arg.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if arg.eq_ignore_ascii_case(b"get") || arg.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if arg.eq_ignore_ascii_case(b"store") && i + 1 < args.len() {
            store = Some(i + 1);
            i += 1;
        }
        i += 1;
    }
    keys.extend(store);
    keys
}

fn sort_locks(args: Args, db: usize, ks: &Keyspace, plan: &mut LockPlan) {
    plan_locks(args, db, ks, plan, true)
}

fn sort_ro_locks(args: Args, db: usize, ks: &Keyspace, plan: &mut LockPlan) {
    plan_locks(args, db, ks, plan, false)
}

/// The source is locked for writing even by SORT_RO: Redis turns a small sorted set it sorts into a skiplist.
fn plan_locks(args: Args, db: usize, ks: &Keyspace, plan: &mut LockPlan, store_allowed: bool) {
    plan.key(ks, db, args.get(1), true);
    if let Ok(request) = Request::parse(args, store_allowed, true) {
        if request.reads_other_keys() {
            plan.whole_db(db, false);
        }
        if let Some(dest) = request.store {
            plan.key(ks, db, dest, true);
        }
    }
}

fn sort(ctx: &mut Ctx, args: Args) -> Reply {
    generic(ctx, args, true)
}

fn sort_ro(ctx: &mut Ctx, args: Args) -> Reply {
    generic(ctx, args, false)
}

/// One element being sorted (borrowed from the source where it can be): itself, and what it sorts by.
struct Item<'a> {
    element: Cow<'a, [u8]>,
    score: f64,
    /// ALPHA BY: the weight value, if the weight key (or hash field) exists.
    weight: Option<Vec<u8>>,
}

/// What a SORT produces before anything is written: a reply, or the list to store and where.
enum Output<'a> {
    Reply(Reply),
    Store(&'a [u8], List),
}

fn generic(ctx: &mut Ctx, args: Args, store_allowed: bool) -> Reply {
    let all_keys = crate::acl::may_read_all_keys(ctx.client, args);
    let mut r = match Request::parse(args, store_allowed, all_keys) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let key = args.get(1);
    let kind = match prepare(ctx, key, &mut r) {
        Ok(kind) => kind,
        Err(e) => return e,
    };
    let output = match sorted(ctx, key, kind, &r) {
        Ok(output) => output,
        Err(e) => return e,
    };
    match output {
        Output::Reply(reply) => reply,
        Output::Store(dest, list) => store(ctx, dest, list),
    }
}

/// Sorts (unless BY nosort) and cuts the window, reading the source and pattern keys without changing anything.
fn sorted<'a>(
    ctx: &Ctx,
    key: &[u8],
    kind: Option<Kind>,
    r: &Request<'a>,
) -> Result<Output<'a>, Reply> {
    let elements = load(ctx, key, kind, r);
    let (mut items, start, end) = window(elements, kind, r);
    let mut not_a_number = false;
    if !r.dont_sort {
        for item in &mut items {
            not_a_number |= weigh(ctx, r, item);
        }
        let by_pattern = r.by.is_some();
        let store = r.store.is_some();
        let order = |a: &Item, b: &Item| {
            let ord = compare(a, b, r.alpha, by_pattern, store);
            if r.desc {
                ord.reverse()
            } else {
                ord
            }
        };
        // As Redis: a partial quicksort when sorting BY a pattern for part of the elements, else glibc's qsort,
        // a merge sort, which is stable.
        if by_pattern && (start != 0 || end != items.len() as i64 - 1) {
            partial_sort(&mut items, start, end, order);
        } else {
            items.sort_by(order);
        }
    }
    if not_a_number {
        return Err(Reply::err(
            "One or more scores can't be converted into double",
        ));
    }
    let chosen = match (usize::try_from(start), usize::try_from(end)) {
        (Ok(start), Ok(end)) if start <= end => &items[start..=end],
        _ => &[],
    };
    Ok(match r.store {
        None => Output::Reply(reply(ctx, r, chosen)),
        Some(dest) => Output::Store(dest, stored_list(ctx, r, chosen)),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Set,
    ZSet,
}

/// Looks the source up (once: one use of the key) and checks its type; `None` for a missing key, an empty list
/// to Redis. Applies Redis's rules that depend on the type: a set sorted BY nosort into a STORE is sorted as
/// strings instead (its order would differ between a master and its replicas), and a small sorted set becomes a
/// skiplist, as Redis converts it for SORT.
fn prepare(ctx: &mut Ctx, key: &[u8], r: &mut Request) -> Result<Option<Kind>, Reply> {
    let kind = match ctx.lookup(key) {
        None => return Ok(None),
        Some(Value::List(_)) => Kind::List,
        Some(Value::Set(_)) => Kind::Set,
        Some(Value::ZSet(_)) => Kind::ZSet,
        Some(_) => return Err(Reply::wrong_type()),
    };
    if r.dont_sort && kind == Kind::Set && (r.store.is_some() || crate::scripting::in_script()) {
        r.dont_sort = false;
        r.alpha = true;
        r.by = None;
    }
    if kind == Kind::ZSet {
        let db = ctx.db();
        if let Some(Value::ZSet(zset)) = ctx.keys.peek_mut(db, key).map(|e| &mut e.value) {
            zset.to_skiplist();
        }
    }
    Ok(Some(kind))
}

/// The elements to sort, in the order Redis loads them: a list's order, a set's iteration order, a sorted set's
/// order (BY nosort) or its dictionary's order.
fn load<'c>(ctx: &'c Ctx, key: &[u8], kind: Option<Kind>, r: &Request) -> Vec<Cow<'c, [u8]>> {
    if kind.is_none() {
        return Vec::new();
    }
    match ctx.keys.peek(ctx.db(), key).map(|e| &e.value) {
        Some(Value::List(list)) => list.iter().collect(),
        Some(Value::Set(set)) => set.iter().collect(),
        Some(Value::ZSet(zset)) if r.dont_sort => {
            zset.list().iter().map(|(m, _)| Cow::Borrowed(m)).collect()
        }
        Some(Value::ZSet(zset)) => zset
            .scores()
            .into_iter()
            .flat_map(|d| d.iter())
            .map(|(m, _)| Cow::Borrowed(m))
            .collect(),
        _ => Vec::new(),
    }
}

/// Applies LIMIT as Redis does: clamps the window to the elements; when nothing is sorted (BY nosort on a list or
/// sorted set) the window is cut out now, DESC reading from the end. Returns the items and the inclusive window
/// (`end < start` when empty), which always lies within the items when not empty.
fn window<'c>(
    elements: Vec<Cow<'c, [u8]>>,
    kind: Option<Kind>,
    r: &Request,
) -> (Vec<Item<'c>>, i64, i64) {
    let n = elements.len() as i64;
    let (offset, count) = r.limit.unwrap_or((0, -1));
    let mut start = offset.max(0).min(n);
    let count = count.max(-1).min(n);
    let mut end = if count < 0 { n - 1 } else { start + count - 1 };
    if start >= n {
        start = n - 1;
        end = n - 2;
    }
    end = end.min(n - 1);
    let mut elements = elements;
    if kind != Some(Kind::Set) && r.dont_sort {
        if r.desc {
            elements.reverse();
        }
        let kept = if end >= start {
            elements
                .into_iter()
                .skip(start as usize)
                .take((end - start + 1) as usize)
                .collect()
        } else {
            Vec::new()
        };
        elements = kept;
        if end >= start {
            end -= start;
            start = 0;
        }
    }
    let items = elements
        .into_iter()
        .map(|element| Item {
            element,
            score: 0.0,
            weight: None,
        })
        .collect();
    (items, start, end)
}

/// Sets what `item` sorts by: its weight (BY) or itself. Returns true if a numeric weight is not a number.
fn weigh(ctx: &Ctx, r: &Request, item: &mut Item) -> bool {
    let mut number = |value: &[u8]| match strtod_weight(value) {
        Some(score) => {
            item.score = score;
            false
        }
        None => true,
    };
    match r.by {
        // ALPHA without BY compares the elements themselves.
        None if r.alpha => false,
        None => number(&item.element),
        Some(pattern) => match lookup_pattern(ctx, pattern, &item.element) {
            None => false,
            Some(value) if r.alpha => {
                item.weight = Some(value);
                false
            }
            Some(value) => number(&value),
        },
    }
}

/// A numeric weight as SORT reads it: C's `strtod` over the value up to its first NUL, all of it consumed
/// (leading spaces and an empty string, which is 0, are fine), no overflow or underflow, not NaN.
fn strtod_weight(value: &[u8]) -> Option<f64> {
    let text = c_str(value);
    // Most weights are short: copied NUL-terminated onto the stack rather than into an allocation.
    let mut stack = [0u8; 64];
    let heap;
    let start: *const libc::c_char = if text.len() < stack.len() {
        stack[..text.len()].copy_from_slice(text);
        stack.as_ptr().cast()
    } else {
        heap = std::ffi::CString::new(text).ok()?;
        heap.as_ptr()
    };
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `start` points at `text` followed by a NUL, alive for the call; strtod only writes `end` (inside
    // that string) and errno.
    let (v, rest, erange) = unsafe {
        *libc::__errno_location() = 0;
        let v = libc::strtod(start, &mut end);
        (v, *end, *libc::__errno_location() == libc::ERANGE)
    };
    (rest == 0 && !erange && !v.is_nan()).then_some(v)
}

/// Redis's `sortCompare`: numbers by value, ties by the elements' bytes; strings by `strcoll` (byte order up to a
/// NUL in the C locales), or by their full bytes when storing; a missing ALPHA weight sorts first.
fn compare(a: &Item, b: &Item, alpha: bool, by_pattern: bool, store: bool) -> Ordering {
    let strings = |x: &[u8], y: &[u8]| {
        if store {
            x.cmp(y)
        } else {
            c_str(x).cmp(c_str(y))
        }
    };
    if !alpha {
        return match a.score.partial_cmp(&b.score) {
            Some(Ordering::Equal) | None => a.element.cmp(&b.element),
            Some(o) => o,
        };
    }
    if !by_pattern {
        return strings(&a.element, &b.element);
    }
    match (&a.weight, &b.weight) {
        (Some(x), Some(y)) => strings(x, y),
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
}

/// Redis's `lookupKeyByPattern`: `#` is the element itself; otherwise the first `*` is replaced by the element
/// and the key read, a string, or with `->field` after the `*`, a field of a hash. Nothing for a pattern without
/// `*`, a missing key or field, or a key of another type.
fn lookup_pattern(ctx: &Ctx, pattern: &[u8], element: &[u8]) -> Option<Vec<u8>> {
    if c_str(pattern) == b"#" {
        return Some(element.to_vec());
    }
    let star_at = star(pattern)?;
    let c_pattern = c_str(pattern);
    let arrow = c_pattern[star_at + 1..]
        .windows(2)
        .position(|w| w == b"->")
        .map(|p| star_at + 1 + p)
        .filter(|&p| p + 2 < c_pattern.len());
    let key_end = arrow.unwrap_or(pattern.len());
    let mut key = Vec::with_capacity(key_end + element.len());
    key.extend_from_slice(&pattern[..star_at]);
    key.extend_from_slice(element);
    key.extend_from_slice(&pattern[star_at + 1..key_end]);
    match (ctx.lookup(&key)?, arrow) {
        (Value::Hash(hash), Some(a)) => hash.get(&pattern[a + 2..]).map(<[u8]>::to_vec),
        (Value::Str(s), None) => Some(s.to_vec()),
        _ => None,
    }
}

/// The window as a reply: each element, or for each the results of its GET patterns (null where missing).
fn reply(ctx: &Ctx, r: &Request, chosen: &[Item]) -> Reply {
    if r.gets.is_empty() {
        return Reply::bulks(chosen.iter().map(|item| &item.element));
    }
    let mut out = Vec::with_capacity(chosen.len() * r.gets.len());
    for item in chosen {
        for pattern in &r.gets {
            out.push(Reply::bulk_or_nil(lookup_pattern(
                ctx,
                pattern,
                &item.element,
            )));
        }
    }
    Reply::Array(out)
}

/// The list SORT ... STORE writes: the window, or its GET results with `""` where missing.
fn stored_list(ctx: &Ctx, r: &Request, chosen: &[Item]) -> List {
    let mut list = List::default();
    for item in chosen {
        if r.gets.is_empty() {
            list.push(End::Right, &item.element);
        }
        for pattern in &r.gets {
            let value = lookup_pattern(ctx, pattern, &item.element).unwrap_or_default();
            list.push(End::Right, &value);
        }
    }
    list
}

/// Stores the list at `dest`, replacing what was there; an empty one deletes `dest`. Replies with its length.
fn store(ctx: &mut Ctx, dest: &[u8], list: List) -> Reply {
    let n = list.len();
    if n == 0 {
        if ctx.delete(dest) {
            ctx.changed(dest, 'g', "del");
        }
    } else {
        ctx.store(dest, Value::List(Box::new(list)));
        ctx.changed(dest, 'l', "sortstore");
    }
    Reply::Int(n as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_parse_as_strtod() {
        assert_eq!(strtod_weight(b""), Some(0.0));
        assert_eq!(strtod_weight(b" 12"), Some(12.0));
        assert_eq!(strtod_weight(b"1.5\0junk"), Some(1.5));
        assert_eq!(strtod_weight(b"0x10"), Some(16.0));
        assert_eq!(strtod_weight(b"12a"), None);
        assert_eq!(strtod_weight(b"nan"), None);
        assert_eq!(strtod_weight(b"1e999"), None);
    }

    #[test]
    fn patterns_without_a_star_read_nothing() {
        assert_eq!(star(b"nosort"), None);
        assert_eq!(star(b"w_*"), Some(2));
        assert_eq!(star(b"w_\0*"), None);
        assert_eq!(c_str(b"ab\0cd"), b"ab");
    }
}
