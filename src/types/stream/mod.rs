//! The stream type: entries ordered by id, consumer groups, and the stream commands.
//!
//! Entries live in a `BTreeMap` keyed by [`StreamId`], so range queries cost O(log n + k). Redis keeps entries in
//! listpack nodes of `stream-node-max-entries` entries or `stream-node-max-bytes` bytes; the node boundaries are visible through XTRIM `~`, XINFO
//! `radix-tree-keys` and `radix-tree-nodes`, so [`store::Nodes`] models them.
//!
//! Files: `store` (node model, trimming), `group` (consumer groups, PEL, delivery), `commands_basic` (XADD, XRANGE,
//! XDEL, XTRIM, XSETID), `commands_read` (XREAD, XREADGROUP), `waiting` (their BLOCK), `commands_group` (XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM), `info` (XINFO).

mod commands_basic;
mod commands_group;
mod commands_read;
mod group;
mod info;
mod propagate;
mod store;
mod waiting;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use crate::commands::flags::*;
use crate::commands::keyspec::prelude::*;
use crate::commands::Command;
use crate::protocol::Reply;

pub use group::{Consumer, Group, Nack};
pub use store::NodeLimits;

/// An entry id: milliseconds and sequence, compared as the pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// The next id, or None past the last possible one (Redis's `streamIncrID` failing).
    pub fn incr(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    pub fn decr(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// `<ms>-<seq>` as a bulk string, without the formatting machinery of `to_string` (XADD replies with it).
    pub fn reply(self) -> Reply {
        let mut out = crate::protocol::BulkBytes::new();
        out.extend_from_slice(itoa::Buffer::new().format(self.ms).as_bytes());
        out.push(b'-');
        out.extend_from_slice(itoa::Buffer::new().format(self.seq).as_bytes());
        Reply::Bulk(out)
    }

    /// The 16 big-endian bytes Redis uses as the radix-tree key of a node.
    pub fn encode(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.ms.to_be_bytes());
        out[8..].copy_from_slice(&self.seq.to_be_bytes());
        out
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

pub fn invalid_id() -> Reply {
    Reply::err("Invalid stream ID specified as stream command argument")
}

/// Redis's `string2ull`: a canonical signed integer that is not negative, or what `strtoull` accepts over the
/// whole string (so values above `i64::MAX` parse).
fn parse_u64(s: &[u8]) -> Option<u64> {
    if let Some(n) = crate::util::numbers::parse_i64(s) {
        return u64::try_from(n).ok();
    }
    let start = s.iter().position(|c| !c.is_ascii_whitespace())?;
    let digits = match &s[start..] {
        [b'+', rest @ ..] => rest,
        rest => rest,
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// A parsed id argument. `seq_given` is false for `<ms>-*` (XADD only).
#[derive(Clone, Copy)]
pub struct ParsedId {
    pub id: StreamId,
    pub seq_given: bool,
}

/// Redis's `streamGenericParseIDOrReply`: `-`, `+`, `<ms>`, `<ms>-<seq>`, and with `allow_auto_seq` `<ms>-*`.
/// `strict` refuses `-` and `+`; `missing_seq` fills a bare `<ms>`.
pub fn parse_id_generic(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    allow_auto_seq: bool,
) -> Result<ParsedId, Reply> {
    if arg.len() > 127 {
        return Err(invalid_id());
    }
    // C reads the argument as a NUL-terminated string.
    let arg = &arg[..arg.iter().position(|&b| b == 0).unwrap_or(arg.len())];
    match arg {
        b"-" | b"+" if strict => return Err(invalid_id()),
        b"-" => {
            return Ok(ParsedId {
                id: StreamId::MIN,
                seq_given: true,
            })
        }
        b"+" => {
            return Ok(ParsedId {
                id: StreamId::MAX,
                seq_given: true,
            })
        }
        _ => {}
    }
    let (ms_part, seq_part) = match arg.iter().position(|&b| b == b'-') {
        Some(i) => (&arg[..i], Some(&arg[i + 1..])),
        None => (arg, None),
    };
    let ms = parse_u64(ms_part).ok_or_else(invalid_id)?;
    let (seq, seq_given) = match seq_part {
        None => (missing_seq, true),
        Some(b"*") if allow_auto_seq => (0, false),
        Some(s) => (parse_u64(s).ok_or_else(invalid_id)?, true),
    };
    Ok(ParsedId {
        id: StreamId::new(ms, seq),
        seq_given,
    })
}

/// A strict id (no `-`/`+`), missing sequence 0: what most commands take.
pub fn parse_strict_id(arg: &[u8]) -> Result<StreamId, Reply> {
    parse_id_generic(arg, 0, true, false).map(|p| p.id)
}

/// An interval bound (XRANGE, XPENDING, XAUTOCLAIM): `-`, `+`, incomplete ids, and `(` for exclusive. Returns the
/// inclusive bound, erroring as Redis does when `(` steps past the end of the id space.
pub fn parse_range_bound(arg: &[u8], is_start: bool) -> Result<StreamId, Reply> {
    let missing_seq = if is_start { 0 } else { u64::MAX };
    if arg.len() > 1 && arg[0] == b'(' {
        let id = parse_id_generic(&arg[1..], missing_seq, true, false)?.id;
        let stepped = if is_start { id.incr() } else { id.decr() };
        stepped.ok_or_else(|| {
            Reply::err(if is_start {
                "invalid start ID for the interval"
            } else {
                "invalid end ID for the interval"
            })
        })
    } else {
        parse_id_generic(arg, missing_seq, false, false).map(|p| p.id)
    }
}

/// One entry's fields and values, flattened in the order sent (duplicates kept).
pub type Fields = Box<[Vec<u8>]>;

#[derive(Default, Clone)]
pub struct Stream {
    entries: BTreeMap<StreamId, Fields>,
    nodes: store::Nodes,
    /// The id of the last entry ever added (or set by XSETID): new ids must be greater.
    pub last_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
    /// Ordered by name, as Redis's radix tree lists them.
    pub groups: BTreeMap<Vec<u8>, Group>,
}

impl Stream {
    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first entry's id, 0-0 when empty (Redis's `first_id`).
    pub fn first_id(&self) -> StreamId {
        self.entries.keys().next().copied().unwrap_or_default()
    }

    /// The last live entry's id, 0-0 when empty (Redis's `streamLastValidID`).
    pub fn last_valid_id(&self) -> StreamId {
        self.entries.keys().next_back().copied().unwrap_or_default()
    }

    pub fn contains(&self, id: StreamId) -> bool {
        self.entries.contains_key(&id)
    }

    /// Entries with ids in `[start, end]`, forwards or backwards, at most `count` (0 = all).
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        count: usize,
    ) -> Vec<(StreamId, &Fields)> {
        if start > end {
            return Vec::new();
        }
        let limit = if count == 0 { usize::MAX } else { count };
        let it = self.entries.range(start..=end).map(|(k, v)| (*k, v));
        if rev {
            it.rev().take(limit).collect()
        } else {
            it.take(limit).collect()
        }
    }

    /// The id XADD would give: `requested` is the explicit id (with `seq_given` false for `<ms>-*`), None for `*`.
    /// `*` never goes backwards when the clock does. None when the id would not be above the top item.
    pub fn next_id(&self, requested: Option<ParsedId>, now_ms: u64) -> Option<StreamId> {
        let last = self.last_id;
        let id = match requested {
            Some(ParsedId {
                id,
                seq_given: true,
            }) => id,
            Some(ParsedId { id, .. }) if id.ms == last.ms => {
                if last.seq == u64::MAX {
                    return None;
                }
                StreamId::new(last.ms, last.seq + 1)
            }
            Some(ParsedId { id, .. }) => id,
            None if now_ms > last.ms => StreamId::new(now_ms, 0),
            None => last.incr()?,
        };
        (id > last).then_some(id)
    }

    /// Appends an entry whose id the caller checked with `next_id`.
    pub fn append(&mut self, id: StreamId, fields: Fields, limits: store::NodeLimits) {
        self.nodes.append(id, &fields, limits);
        self.entries.insert(id, fields);
        self.last_id = id;
        self.entries_added += 1;
    }

    /// Adds one node of a saved stream (RDB or RESTORE): its master id and fields and its entries in order,
    /// deleted ones flagged. The caller sets `last_id`, `entries_added` and `max_deleted_id` from the save.
    pub fn load_node(
        &mut self,
        master: StreamId,
        master_fields: Fields,
        entries: Vec<(StreamId, Fields, bool)>,
    ) {
        {
            let view: Vec<(StreamId, &Fields, bool)> =
                entries.iter().map(|(id, f, d)| (*id, f, *d)).collect();
            self.nodes.load_node(master, master_fields, &view);
        }
        for (id, fields, deleted) in entries {
            if !deleted {
                self.entries.insert(id, fields);
            }
        }
    }

    /// Deletes one entry (XDEL); true if it was there.
    pub fn delete(&mut self, id: StreamId) -> bool {
        if self.entries.remove(&id).is_none() {
            return false;
        }
        self.nodes.delete(id);
        true
    }

    /// Every entry in id order (what a save walks).
    pub fn entries(&self) -> impl Iterator<Item = (StreamId, &Fields)> + '_ {
        self.entries.iter().map(|(id, f)| (*id, f))
    }

    /// The first id of each modelled listpack node, in order: where a save splits the entries into nodes.
    pub fn node_masters(&self) -> impl Iterator<Item = StreamId> + '_ {
        self.nodes.masters()
    }

    /// Redis's `streamRangeHasTombstones`: whether an XDEL hole may lie in `[start, +]`.
    pub fn range_has_tombstones(&self, start: StreamId) -> bool {
        if self.is_empty() || self.max_deleted_id.is_zero() {
            return false;
        }
        if self.first_id() > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: the entries-read counter `id` stands for, when it can
    /// be known.
    pub fn estimate_entries_read(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.is_empty() && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        let first = self.first_id();
        if self.max_deleted_id.is_zero() || self.max_deleted_id < first {
            let len = self.len() as u64;
            if id < first {
                return Some(self.entries_added.wrapping_sub(len));
            }
            if id == first {
                return Some(self.entries_added.wrapping_sub(len).wrapping_add(1));
            }
        }
        None
    }
}

/// `[id, [field, value, ...]]`, the shape of one entry in every stream reply.
pub fn entry_reply(id: StreamId, fields: &Fields) -> Reply {
    Reply::Array(vec![id.reply(), Reply::bulks(fields.iter())])
}

/// Lines of a HELP reply, as Redis's `addReplyHelp` sends them.
pub fn help_reply(command: &'static str, lines: &[&'static str]) -> Reply {
    let mut out = vec![Reply::Status(
        format!("{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").into(),
    )];
    out.extend(lines.iter().map(|l| Reply::status(l)));
    out.push(Reply::status("HELP"));
    out.push(Reply::status("    Prints this help."));
    Reply::Array(out)
}

const XGROUP_SUBCOMMANDS: &[Command] = &[
    Command::new("create", -5, WRITE | DENYOOM, commands_group::xgroup)
        .key_specs(&[ks(RW | INSERT, Index(2), Range(0, 1, 0))])
        .keys(2, 2, 1)
        .doc("stream", "5.0.0", "Create a consumer group."),
    Command::new("createconsumer", 5, WRITE | DENYOOM, commands_group::xgroup)
        .key_specs(&[ks(RW | INSERT, Index(2), Range(0, 1, 0))])
        .keys(2, 2, 1)
        .doc("stream", "6.2.0", "Create a consumer in a consumer group."),
    Command::new("delconsumer", 5, WRITE, commands_group::xgroup)
        .key_specs(&[ks(RW | DELETE, Index(2), Range(0, 1, 0))])
        .keys(2, 2, 1)
        .doc(
            "stream",
            "5.0.0",
            "Delete a consumer from a consumer group.",
        ),
    Command::new("destroy", 4, WRITE, commands_group::xgroup)
        .key_specs(&[ks(RW | DELETE, Index(2), Range(0, 1, 0))])
        .keys(2, 2, 1)
        .doc("stream", "5.0.0", "Destroy a consumer group."),
    Command::new("help", 2, LOADING | STALE, commands_group::xgroup).doc(
        "stream",
        "5.0.0",
        "Show helpful text about the different subcommands",
    ),
    Command::new("setid", -5, WRITE, commands_group::xgroup)
        .key_specs(&[ks(RW | UPDATE, Index(2), Range(0, 1, 0))])
        .keys(2, 2, 1)
        .doc(
            "stream",
            "5.0.0",
            "Set a consumer group to an arbitrary last delivered ID value.",
        ),
];

const XINFO_SUBCOMMANDS: &[Command] = &[
    Command::new("consumers", 4, READONLY, info::xinfo)
        .key_specs(&[ks(RO | ACCESS, Index(2), Range(0, 1, 0))])
        .keys(2, 2, 1)
        .doc("stream", "5.0.0", "List the consumers in a consumer group"),
    Command::new("groups", 3, READONLY, info::xinfo)
        .key_specs(&[ks(RO | ACCESS, Index(2), Range(0, 1, 0))])
        .keys(2, 2, 1)
        .doc("stream", "5.0.0", "List the consumer groups of a stream"),
    Command::new("help", 2, LOADING | STALE, info::xinfo).doc(
        "stream",
        "5.0.0",
        "Show helpful text about the different subcommands",
    ),
    Command::new("stream", -3, READONLY, info::xinfo)
        .key_specs(&[ks(RO | ACCESS, Index(2), Range(0, 1, 0))])
        .keys(2, 2, 1)
        .doc("stream", "5.0.0", "Get information about a stream"),
];

fn container(_: &mut crate::commands::Ctx, args: crate::commands::Args) -> Reply {
    Reply::wrong_arity(&String::from_utf8_lossy(args.get(0)))
}

pub const COMMANDS: &[Command] = &[
    Command::new("xadd", -5, WRITE | DENYOOM | FAST, commands_basic::xadd)
        .key_specs(&[
            ks(RW | UPDATE, Index(1), Range(0, 1, 0)).notes("UPDATE instead of INSERT because of the optional trimming feature"),
        ])
        .keys(1, 1, 1)
        .doc("stream", "5.0.0", "Appends a new entry to a stream"),
    Command::new("xlen", 2, READONLY | FAST, commands_basic::xlen)
        .key_specs(&[ks(RO, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("stream", "5.0.0", "Return the number of entries in a stream"),
    Command::new("xrange", -4, READONLY, commands_basic::xrange)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("stream", "5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval"),
    Command::new("xrevrange", -4, READONLY, commands_basic::xrevrange)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("stream", "5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE"),
    Command::new("xdel", -3, WRITE | FAST, commands_basic::xdel)
        .key_specs(&[ks(RW | DELETE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("stream", "5.0.0", "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist."),
    Command::new("xtrim", -4, WRITE, commands_basic::xtrim)
        .key_specs(&[ks(RW | DELETE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("stream", "5.0.0", "Trims the stream to (approximately if '~' is passed) a certain size"),
    Command::new("xsetid", -3, WRITE | DENYOOM | FAST, commands_basic::xsetid)
        .key_specs(&[ks(RW | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("stream", "5.0.0", "An internal command for replicating stream values"),
    Command::new("xread", -4, READONLY | BLOCKING, commands_read::xread)
        .key_specs(&[ks(RO | ACCESS, Keyword("STREAMS", 1), Range(-1, 1, 2))])
        .movable(commands_read::xread_keys)
        .doc("stream", "5.0.0", "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block."),
    Command::new("xreadgroup", -7, WRITE | BLOCKING, commands_read::xread)
        .key_specs(&[ks(RO | ACCESS, Keyword("STREAMS", 4), Range(-1, 1, 2))])
        .movable(commands_read::xread_keys)
        .doc("stream", "5.0.0", "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block."),
    Command::new("xgroup", -2, 0, container)
        .doc("stream", "5.0.0", "A container for consumer groups commands")
        .subcommands(XGROUP_SUBCOMMANDS),
    Command::new("xack", -4, WRITE | FAST, commands_group::xack)
        .key_specs(&[ks(RW | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("stream", "5.0.0", "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL."),
    Command::new("xpending", -3, READONLY, commands_group::xpending)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("stream", "5.0.0", "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged."),
    Command::new("xclaim", -6, WRITE | FAST, commands_group::xclaim)
        .key_specs(&[ks(RW | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("stream", "5.0.0", "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer."),
    Command::new("xautoclaim", -6, WRITE | FAST, commands_group::xautoclaim)
        .key_specs(&[ks(RW | DELETE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("stream", "6.2.0", "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer."),
    Command::new("xinfo", -2, 0, container)
        .doc("stream", "5.0.0", "A container for stream introspection commands")
        .subcommands(XINFO_SUBCOMMANDS),
];
