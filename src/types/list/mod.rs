//! The list type and its commands.
//!
//! A quicklist, as Redis's: a sequence (`nodes::Nodes`) of listpack nodes of up to 8 KB each (Redis's default
//! `list-max-listpack-size -2`), so an element costs its bytes plus two, not a slot and an allocation. Push and
//! pop at both ends touch one node; indexing skips whole nodes by their counts. With `list-compress-depth`, nodes
//! beyond that many from either end are kept LZF-compressed (`node`), so reads yield `Cow`s: borrowed from a
//! packed node, copied out of a compressed one. Commands are in `commands` (the plain ones) and `blocking`
//! (BLPOP and family, built on `crate::blocking`); the pop/move routines they share are here.

mod blocking;
mod commands;
mod node;
mod nodes;
#[cfg(test)]
mod props;

use std::borrow::Cow;

use crate::commands::flags::*;
use crate::commands::keyspec::prelude::*;
use crate::commands::{Args, Command, Ctx};
use crate::db::{StrValue, Value};
use crate::effects::Change;
use crate::protocol::Reply;
use crate::types::listpack::{entry_size, Listpack};
pub use node::set_compress_depth;
use nodes::{allows, fill, holds_large, is_large, within, Nodes};
pub use nodes::{set_fill, set_packed_threshold};

#[derive(Default, Clone)]
pub struct List {
    nodes: Nodes,
    len: usize,
}

/// Which end of a list: Redis's `LIST_HEAD` (LEFT) and `LIST_TAIL` (RIGHT).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum End {
    Left,
    Right,
}

impl End {
    /// LEFT or RIGHT, any case; `ERR syntax error` otherwise (Redis's `getListPositionFromObjectOrReply`).
    pub fn parse(arg: &[u8]) -> Result<End, Reply> {
        if arg.eq_ignore_ascii_case(b"left") {
            Ok(End::Left)
        } else if arg.eq_ignore_ascii_case(b"right") {
            Ok(End::Right)
        } else {
            Err(Reply::syntax_error())
        }
    }

    /// The keyspace event a pop from this end fires.
    fn pop_event(self) -> &'static str {
        match self {
            End::Left => "lpop",
            End::Right => "rpop",
        }
    }

    fn push_event(self) -> &'static str {
        match self {
            End::Left => "lpush",
            End::Right => "rpush",
        }
    }

    /// The command a pop from this end replicates as.
    fn pop_command(self) -> &'static [u8] {
        match self {
            End::Left => b"LPOP",
            End::Right => b"RPOP",
        }
    }

    /// The argument naming this end, as a served BLMOVE replicates it (Redis's shared `left` / `right`).
    fn name(self) -> &'static [u8] {
        match self {
            End::Left => b"left",
            End::Right => b"right",
        }
    }
}

/// A blocking or multi-key pop's effect: the plain `LPOP key` / `RPOP key`, or with a count (LMPOP, BLMPOP) `LPOP
/// key n`, n being how many it popped, as Redis replicates them.
fn propagate_pop(ctx: &mut Ctx, key: &[u8], end: End, count: Option<usize>) {
    match count {
        None => ctx.propagate_as(&[end.pop_command(), key]),
        Some(n) => {
            let mut num = itoa::Buffer::new();
            ctx.propagate_as(&[end.pop_command(), key, num.format(n).as_bytes()]);
        }
    }
}

impl List {
    pub fn len(&self) -> usize {
        self.len
    }

    /// Listpack nodes in the quicklist (what Redis's lazy free counts as its effort).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Each node's bytes as kept (compressed or not) and whether it is compressed (MEMORY USAGE).
    pub fn node_footprints(&self) -> impl Iterator<Item = (usize, bool)> + '_ {
        self.nodes
            .iter()
            .map(|n| (n.compressed_bytes(), n.is_compressed()))
    }

    /// Each node as an RDB file holds it: whether it is plain (one large element), and its elements.
    pub fn saved_nodes(&self) -> impl Iterator<Item = (bool, node::Items<'_>)> + '_ {
        self.nodes.iter().map(|n| (nodes::is_plain(n), n.items()))
    }

    /// Each node's entries and uncompressed bytes (DEBUG OBJECT's quicklist fields).
    pub fn node_sizes(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.nodes.iter().map(|n| (n.len(), n.bytes()))
    }

    /// A list of `items`, in order.
    pub fn from_items<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> List {
        let items: Vec<&[u8]> = items.into_iter().collect();
        let mut list = List::default();
        list.push_all(End::Right, &items);
        list
    }

    /// Pushes `items` one after the other at `end` (LPUSH a b c leaves c first), filling each node with one
    /// exactly-sized reallocation rather than one per element.
    pub fn push_all(&mut self, end: End, items: &[&[u8]]) {
        let fill = fill();
        let nodes_before = self.nodes.len();
        let mut rest = items;
        while !rest.is_empty() {
            let node = match end {
                End::Left => self.nodes.front_mut(),
                End::Right => self.nodes.back_mut(),
            };
            let open = node.filter(|n| Self::fits(fill, n, rest[0].len()));
            let (bytes, count) = open.as_ref().map_or((0, 0), |n| (n.bytes(), n.len()));
            let take = Self::batch(fill, bytes, count, rest);
            let mut batch: Vec<&[u8]> = rest[..take].to_vec();
            if end == End::Left {
                batch.reverse();
            }
            match (open, end) {
                (Some(n), End::Left) => n.splice(0, 0, &batch),
                (Some(n), End::Right) => n.push(&batch),
                (None, End::Left) => self.nodes.push_front(Listpack::from_entries(batch)),
                (None, End::Right) => self.nodes.push_back(Listpack::from_entries(batch)),
            }
            self.len += take;
            rest = &rest[take..];
        }
        let added = self.nodes.len() - nodes_before;
        if added > 0 {
            let new = match end {
                End::Left => 0..added,
                End::Right => nodes_before..self.nodes.len(),
            };
            self.nodes.settle(new);
        }
    }

    /// How many of `items` (at least one) a node of `bytes` bytes that takes the first of them can take.
    fn batch(fill: i64, mut bytes: usize, count: usize, items: &[&[u8]]) -> usize {
        let mut take = 0;
        for item in items {
            // A large element takes a node of its own, alone.
            if take > 0
                && (is_large(items[0].len()) || !allows(fill, bytes, count + take, item.len()))
            {
                break;
            }
            bytes += entry_size(item.len());
            take += 1;
        }
        take
    }

    /// Whether `node` can take one more element of `len` bytes (`list-max-listpack-size`; a plain node takes
    /// none).
    fn fits(fill: i64, node: &Listpack, len: usize) -> bool {
        allows(fill, node.bytes(), node.len(), len) && !holds_large(node)
    }

    pub fn push(&mut self, end: End, item: &[u8]) {
        let node = match end {
            End::Left => self.nodes.front_mut(),
            End::Right => self.nodes.back_mut(),
        };
        match node {
            Some(n) if Self::fits(fill(), n, item.len()) => match end {
                End::Left => n.splice(0, 0, &[item]),
                End::Right => n.push(&[item]),
            },
            _ => {
                let n = Listpack::from_entries([item]);
                match end {
                    End::Left => self.nodes.push_front(n),
                    End::Right => self.nodes.push_back(n),
                }
                self.nodes.settle(0..0);
            }
        }
        self.len += 1;
    }

    pub fn pop(&mut self, end: End) -> Option<StrValue> {
        let node = match end {
            End::Left => self.nodes.front_mut()?,
            End::Right => self.nodes.back_mut()?,
        };
        let at = match end {
            End::Left => node.first()?,
            End::Right => node.last()?,
        };
        let item = StrValue::from_slice(node.get(at));
        node.splice(at, 1, &[]);
        if node.is_empty() {
            match end {
                End::Left => self.nodes.pop_front(),
                End::Right => self.nodes.pop_back(),
            };
            self.nodes.settle(0..0);
        }
        self.len -= 1;
        Some(item)
    }

    /// The node holding element `i`, and `i`'s position in it.
    fn locate(&self, mut i: usize) -> Option<(usize, usize)> {
        if i >= self.len {
            return None;
        }
        if i < self.len / 2 {
            for (n, node) in self.nodes.iter().enumerate() {
                if i < node.len() {
                    return Some((n, i));
                }
                i -= node.len();
            }
            None
        } else {
            let mut from_end = self.len - 1 - i;
            for n in (0..self.nodes.len()).rev() {
                let node = &self.nodes[n];
                if from_end < node.len() {
                    return Some((n, node.len() - 1 - from_end));
                }
                from_end -= node.len();
            }
            None
        }
    }

    pub fn get(&self, i: usize) -> Option<Cow<'_, [u8]>> {
        let (n, at) = self.locate(i)?;
        Some(self.nodes[n].get(at))
    }

    /// Replaces element `i` (LSET); false if out of range.
    pub fn set(&mut self, i: usize, item: &[u8]) -> bool {
        let Some((n, at)) = self.locate(i) else {
            return false;
        };
        let node = self.nodes.get_mut(n);
        node.splice(node.skip(0, at), 1, &[item]);
        self.split_and_settle(n);
        true
    }

    /// Inserts `item` before element `i` (`i` may be the length: at the end).
    pub fn insert(&mut self, i: usize, item: &[u8]) {
        if i == self.len {
            return self.push(End::Right, item);
        }
        let Some((n, at)) = self.locate(i) else {
            return;
        };
        let node = self.nodes.get_mut(n);
        node.splice(node.skip(0, at), 0, &[item]);
        self.len += 1;
        self.split_and_settle(n);
    }

    /// After a change to node `n`: splits it if it grew too big, then compresses what should be.
    fn split_and_settle(&mut self, n: usize) {
        let before = self.nodes.len();
        self.split_if_big(n);
        let added = self.nodes.len() - before;
        self.nodes.settle(n..n + 1 + added);
    }

    /// Splits node `n` (packed) in halves, and those again, until each is within the node size or holds one
    /// element.
    fn split_if_big(&mut self, n: usize) {
        let node = self.nodes.get_mut(n);
        if within(fill(), node.bytes(), node.len()) && (node.len() < 2 || !holds_large(node)) {
            return;
        }
        let tail = node.split_off(node.skip(0, node.len() / 2));
        self.nodes.insert(n + 1, tail);
        self.split_if_big(n + 1);
        self.split_if_big(n);
    }

    /// Removes `count` elements from position `start` on (in range), dropping whole nodes where it can.
    pub fn remove_range(&mut self, start: usize, count: usize) {
        let mut skip = start;
        let mut left = count;
        let mut n = 0;
        // The nodes changed in place (empty until one is).
        let mut touched = 0..0;
        while left > 0 && n < self.nodes.len() {
            let len = self.nodes[n].len();
            if skip >= len {
                skip -= len;
                n += 1;
                continue;
            }
            let take = left.min(len - skip);
            if take == len {
                self.nodes.remove(n);
            } else {
                let node = self.nodes.get_mut(n);
                node.splice(node.skip(0, skip), take, &[]);
                // Nodes removed later come after this one, so its index stays.
                touched = if touched.is_empty() { n } else { touched.start }..n + 1;
                n += 1;
            }
            self.len -= take;
            left -= take;
            skip = 0;
        }
        self.nodes.settle(touched);
    }

    /// Keeps only the elements for which `keep(index, element)` holds (LREM).
    pub fn retain(&mut self, mut keep: impl FnMut(usize, &[u8]) -> bool) {
        let mut index = 0;
        let kept: Vec<Cow<[u8]>> = self
            .iter()
            .filter(|e| {
                index += 1;
                keep(index - 1, e)
            })
            .collect();
        *self = List::from_items(kept.iter().map(|e| &e[..]));
    }

    /// Elements in order (either way).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Cow<'_, [u8]>> + '_ {
        self.nodes.iter().flat_map(|n| n.items())
    }

    /// Elements `a..=b` (in range), skipping whole nodes up to `a`.
    pub fn range(&self, a: usize, b: usize) -> impl Iterator<Item = Cow<'_, [u8]>> + '_ {
        let (first, at) = self.locate(a).unwrap_or((self.nodes.len(), 0));
        self.nodes
            .iter()
            .skip(first)
            .flat_map(|n| n.items())
            .skip(at)
            .take((b + 1).saturating_sub(a))
    }

    /// The encoding OBJECT ENCODING reports: Redis 7.0 keeps every list in a quicklist, whatever its size
    /// (the listpack encoding for small lists came with 7.2).
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Resolves Redis's `start`/`stop` (negative counts from the end) to an inclusive in-range window, if any.
    pub fn window(&self, start: i64, stop: i64) -> Option<(usize, usize)> {
        let len = self.len as i64;
        let start = if start < 0 {
            (start + len).max(0)
        } else {
            start
        };
        let stop = if stop < 0 { stop + len } else { stop };
        if start > stop || start >= len {
            return None;
        }
        Some((start as usize, stop.min(len - 1) as usize))
    }
}

/// The list at `key` for writing: `Ok(None)` if there is none, WRONGTYPE if the key holds something else.
fn list_mut<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c mut List>, Reply> {
    match ctx.lookup_mut(key) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(Reply::wrong_type()),
    }
}

/// The list at `key` for reading (counted as a keyspace hit or miss).
fn list_ref<'c>(ctx: &'c Ctx, key: &[u8]) -> Result<Option<&'c List>, Reply> {
    match ctx.lookup(key) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(Reply::wrong_type()),
    }
}

/// WRONGTYPE if `key` exists and is not a list.
fn check_list(ctx: &mut Ctx, key: &[u8]) -> Result<(), Reply> {
    list_mut(ctx, key).map(|_| ())
}

/// Pops up to `count` elements from the list at `key`, firing Redis's events and deleting the key once empty, as
/// every pop path does. `Ok(None)` if there is no such key (an existing list is never empty), WRONGTYPE if the
/// key holds another type.
fn pop_from(
    ctx: &mut Ctx,
    key: &[u8],
    end: End,
    count: usize,
) -> Result<Option<Vec<StrValue>>, Reply> {
    let Some(list) = list_mut(ctx, key)? else {
        return Ok(None);
    };
    let n = count.min(list.len());
    let out: Vec<StrValue> = (0..n).filter_map(|_| list.pop(end)).collect();
    let now_empty = list.is_empty();
    if !out.is_empty() {
        shrunk(ctx, key, end.pop_event(), now_empty, out.len());
    }
    Ok(Some(out))
}

/// What follows taking `removed` elements out of the list at `key`: deleting the key once the list is empty (a
/// list never exists empty), its event, and `del` if it went.
fn shrunk(ctx: &mut Ctx, key: &[u8], event: &str, now_empty: bool, removed: usize) {
    if now_empty {
        ctx.delete(key);
    }
    ctx.report(key, Change::new('l', event).dirty(removed as u64));
    if now_empty {
        ctx.report(key, Change::event_only('g', "del"));
    }
}

/// Pushes `items` in order at `end` of the list at `key`, creating it unless `only_existing` (LPUSHX). Returns the
/// new length (0 if nothing was pushed), or WRONGTYPE. One lookup on the hot path.
fn push_to(
    ctx: &mut Ctx,
    key: &[u8],
    end: End,
    items: &[&[u8]],
    only_existing: bool,
) -> Result<usize, Reply> {
    let len = match list_mut(ctx, key)? {
        Some(list) => {
            list.push_all(end, items);
            list.len()
        }
        None if only_existing => return Ok(0),
        None => {
            let mut list = List::default();
            list.push_all(end, items);
            let len = list.len();
            ctx.store(key, Value::List(Box::new(list)));
            len
        }
    };
    ctx.report(
        key,
        Change::new('l', end.push_event()).dirty(items.len() as u64),
    );
    Ok(len)
}

/// LMOVE's core, shared by RPOPLPUSH and served BLMOVE/BRPOPLPUSH: moves one element from `src` to `dst`
/// (nil if `src` is missing). WRONGTYPE (and nothing moved) if either holds another type. In Redis's order: the
/// push (and its event) first, then the pop's event, so rotating a one-element list (`src` = `dst`) never deletes
/// the key.
fn move_one(ctx: &mut Ctx, src: &[u8], dst: &[u8], from: End, to: End) -> Reply {
    if let Err(e) = check_list(ctx, dst) {
        return e;
    }
    let item = match list_mut(ctx, src) {
        Ok(list) => list.and_then(|l| l.pop(from)),
        Err(e) => return e,
    };
    let Some(item) = item else {
        return Reply::Nil;
    };
    // The destination's type was checked above, under the same locks.
    let _ = push_to(ctx, dst, to, &[item.as_slice()], false);
    let now_empty = matches!(list_mut(ctx, src), Ok(Some(l)) if l.is_empty());
    // The push counted the move's one change.
    shrunk(ctx, src, from.pop_event(), now_empty, 0);
    Reply::bulk(&item)
}

/// The argument indexes of LMPOP's (`numkeys_at` = 1) and BLMPOP's (2) keys; none if numkeys is unusable (the
/// handler then answers the error before touching any key).
fn mpop_keys(args: Args, numkeys_at: usize) -> Vec<usize> {
    let n = crate::util::numbers::parse_i64(args.get(numkeys_at)).unwrap_or(0);
    if n <= 0 || n.saturating_add(numkeys_at as i64 + 1) >= args.len() as i64 {
        return Vec::new();
    }
    (numkeys_at + 1..=numkeys_at + n as usize).collect()
}

fn lmpop_keys(args: Args) -> Vec<usize> {
    mpop_keys(args, 1)
}

fn blmpop_keys(args: Args) -> Vec<usize> {
    mpop_keys(args, 2)
}

const fn list_cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: crate::commands::Handler,
    since: &'static str,
    summary: &'static str,
) -> Command {
    Command::new(name, arity, flags, handler)
        .keys(1, 1, 1)
        .doc("list", since, summary)
}

pub const COMMANDS: &[Command] = &[
    list_cmd(
        "lpush",
        -3,
        WRITE | DENYOOM | FAST,
        commands::lpush,
        "1.0.0",
        "Prepend one or multiple elements to a list",
    )
        .key_specs(&[ks(RW | INSERT, Index(1), Range(0, 1, 0))]),
    list_cmd(
        "rpush",
        -3,
        WRITE | DENYOOM | FAST,
        commands::rpush,
        "1.0.0",
        "Append one or multiple elements to a list",
    )
        .key_specs(&[ks(RW | INSERT, Index(1), Range(0, 1, 0))]),
    list_cmd(
        "lpushx",
        -3,
        WRITE | DENYOOM | FAST,
        commands::lpushx,
        "2.2.0",
        "Prepend an element to a list, only if the list exists",
    )
        .key_specs(&[ks(RW | INSERT, Index(1), Range(0, 1, 0))]),
    list_cmd(
        "rpushx",
        -3,
        WRITE | DENYOOM | FAST,
        commands::rpushx,
        "2.2.0",
        "Append an element to a list, only if the list exists",
    )
        .key_specs(&[ks(RW | INSERT, Index(1), Range(0, 1, 0))]),
    list_cmd(
        "lpop",
        -2,
        WRITE | FAST,
        commands::lpop,
        "1.0.0",
        "Remove and get the first elements in a list",
    )
        .key_specs(&[ks(RW | ACCESS | DELETE, Index(1), Range(0, 1, 0))]),
    list_cmd(
        "rpop",
        -2,
        WRITE | FAST,
        commands::rpop,
        "1.0.0",
        "Remove and get the last elements in a list",
    )
        .key_specs(&[ks(RW | ACCESS | DELETE, Index(1), Range(0, 1, 0))]),
    list_cmd(
        "llen",
        2,
        READONLY | FAST,
        commands::llen,
        "1.0.0",
        "Get the length of a list",
    )
        .key_specs(&[ks(RO, Index(1), Range(0, 1, 0))]),
    list_cmd(
        "lrange",
        4,
        READONLY,
        commands::lrange,
        "1.0.0",
        "Get a range of elements from a list",
    )
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))]),
    list_cmd(
        "lindex",
        3,
        READONLY,
        commands::lindex,
        "1.0.0",
        "Get an element from a list by its index",
    )
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))]),
    list_cmd(
        "lset",
        4,
        WRITE | DENYOOM,
        commands::lset,
        "1.0.0",
        "Set the value of an element in a list by its index",
    )
        .key_specs(&[ks(RW | UPDATE, Index(1), Range(0, 1, 0))]),
    list_cmd(
        "linsert",
        5,
        WRITE | DENYOOM,
        commands::linsert,
        "2.2.0",
        "Insert an element before or after another element in a list",
    )
        .key_specs(&[ks(RW | INSERT, Index(1), Range(0, 1, 0))]),
    list_cmd(
        "lrem",
        4,
        WRITE,
        commands::lrem,
        "1.0.0",
        "Remove elements from a list",
    )
        .key_specs(&[ks(RW | DELETE, Index(1), Range(0, 1, 0))]),
    list_cmd(
        "ltrim",
        4,
        WRITE,
        commands::ltrim,
        "1.0.0",
        "Trim a list to the specified range",
    )
        .key_specs(&[ks(RW | DELETE, Index(1), Range(0, 1, 0))]),
    list_cmd(
        "lpos",
        -3,
        READONLY,
        commands::lpos,
        "6.0.6",
        "Return the index of matching elements on a list",
    )
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))]),
    list_cmd(
        "lmove",
        5,
        WRITE | DENYOOM,
        commands::lmove,
        "6.2.0",
        "Pop an element from a list, push it to another list and return it",
    )
        .key_specs(&[
            ks(RW | ACCESS | DELETE, Index(1), Range(0, 1, 0)),
            ks(RW | INSERT, Index(2), Range(0, 1, 0)),
        ])
    .keys(1, 2, 1),
    list_cmd(
        "rpoplpush",
        3,
        WRITE | DENYOOM,
        commands::rpoplpush,
        "1.2.0",
        "Remove the last element in a list, prepend it to another list and return it",
    )
        .key_specs(&[
            ks(RW | ACCESS | DELETE, Index(1), Range(0, 1, 0)),
            ks(RW | INSERT, Index(2), Range(0, 1, 0)),
        ])
    .keys(1, 2, 1),
    list_cmd(
        "lmpop",
        -4,
        WRITE,
        commands::lmpop,
        "7.0.0",
        "Pop elements from a list",
    )
        .key_specs(&[ks(RW | ACCESS | DELETE, Index(1), Keynum(0, 1, 1))])
    .keys(0, 0, 0)
    .movable(lmpop_keys),
    list_cmd(
        "blpop",
        -3,
        WRITE | NOSCRIPT | BLOCKING,
        blocking::blpop,
        "2.0.0",
        "Remove and get the first element in a list, or block until one is available",
    )
        .key_specs(&[ks(RW | ACCESS | DELETE, Index(1), Range(-2, 1, 0))])
    .keys(1, -2, 1),
    list_cmd(
        "brpop",
        -3,
        WRITE | NOSCRIPT | BLOCKING,
        blocking::brpop,
        "2.0.0",
        "Remove and get the last element in a list, or block until one is available",
    )
        .key_specs(&[ks(RW | ACCESS | DELETE, Index(1), Range(-2, 1, 0))])
    .keys(1, -2, 1),
    list_cmd(
        "blmove",
        6,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        blocking::blmove,
        "6.2.0",
        "Pop an element from a list, push it to another list and return it; or block until one is available",
    )
        .key_specs(&[
            ks(RW | ACCESS | DELETE, Index(1), Range(0, 1, 0)),
            ks(RW | INSERT, Index(2), Range(0, 1, 0)),
        ])
    .keys(1, 2, 1),
    list_cmd(
        "brpoplpush",
        4,
        WRITE | DENYOOM | NOSCRIPT | BLOCKING,
        blocking::brpoplpush,
        "2.2.0",
        "Pop an element from a list, push it to another list and return it; or block until one is available",
    )
        .key_specs(&[
            ks(RW | ACCESS | DELETE, Index(1), Range(0, 1, 0)),
            ks(RW | INSERT, Index(2), Range(0, 1, 0)),
        ])
    .keys(1, 2, 1),
    list_cmd(
        "blmpop",
        -5,
        WRITE | BLOCKING,
        blocking::blmpop,
        "7.0.0",
        "Pop elements from a list, or block until one is available",
    )
        .key_specs(&[ks(RW | ACCESS | DELETE, Index(2), Keynum(0, 1, 1))])
    .keys(0, 0, 0)
    .movable(blmpop_keys),
];
