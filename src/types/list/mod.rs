//! The list type and its commands.
//!
//! A quicklist, as Redis's: a sequence (`nodes::Nodes`) of listpack nodes of up to 8 KB each (Redis's default
//! `list-max-listpack-size -2`), so an element costs its bytes plus two, not a slot and an allocation. Push and
//! pop at both ends touch one node; indexing skips whole nodes by their counts. With `list-compress-depth`, nodes
//! beyond that many from either end are kept LZF-compressed (`node`), so reads yield `Cow`s: borrowed from a
//! packed node, copied out of a compressed one. Commands are in `commands` (the plain ones) and `blocking`
//! (BLPOP and family, built on `crate::blocking`); the pop/move routines they share are here, and the list
//! structure itself in `quicklist`.

mod blocking;
mod commands;
mod node;
mod nodes;
#[cfg(test)]
mod props;
mod quicklist;

use crate::commands::flags::*;
use crate::commands::keyspec::prelude::*;
use crate::commands::{Args, Command, Ctx};
use crate::db::{StrValue, Value};
use crate::effects::Change;
use crate::protocol::Reply;
pub use node::set_compress_depth;
use nodes::Nodes;
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
