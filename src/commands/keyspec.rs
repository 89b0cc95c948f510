//! Key specs: where a command's keys are and how it touches each, as Redis 7.0's command files (`src/commands/
//! *.json`) describe them. The table rows carry them (`.key_specs(&[...])`); COMMAND INFO shows them and COMMAND
//! GETKEYS / GETKEYSANDFLAGS find keys with them, as Redis's `getKeysUsingKeySpecs` does. The dispatcher's locks
//! still come from the rows' key positions (`.keys(..)`, `.movable(..)`), which cover the same arguments.

use super::{Args, Command};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

/// Key-spec flags, in the order Redis prints them.
pub mod flags {
    pub const RO: u16 = 1 << 0;
    pub const RW: u16 = 1 << 1;
    pub const OW: u16 = 1 << 2;
    pub const RM: u16 = 1 << 3;
    pub const ACCESS: u16 = 1 << 4;
    pub const UPDATE: u16 = 1 << 5;
    pub const INSERT: u16 = 1 << 6;
    pub const DELETE: u16 = 1 << 7;
    pub const NOT_KEY: u16 = 1 << 8;
    pub const INCOMPLETE: u16 = 1 << 9;
    pub const VARIABLE_FLAGS: u16 = 1 << 10;

    pub const NAMES: &[(u16, &str)] = &[
        (RO, "RO"),
        (RW, "RW"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// What table rows import to write their key specs: `ks(RW | ACCESS | DELETE, Index(1), Range(0, 1, 0))`.
pub mod prelude {
    pub use super::flags::{
        ACCESS, DELETE, INCOMPLETE, INSERT, NOT_KEY, OW, RM, RO, RW, UPDATE, VARIABLE_FLAGS,
    };
    pub use super::ks;
    pub use super::Begin::{Index, Keyword};
    pub use super::Find::{Keynum, Range};
    pub use super::{Begin, Find};
}

/// Where the search for a spec's keys begins.
#[derive(Clone, Copy, Debug)]
pub enum Begin {
    /// At this argument.
    Index(i32),
    /// After this keyword, searched from `startfrom` (negative: from the end, backwards).
    Keyword(&'static str, i32),
    /// Not described by a spec: the keys derive from the arguments' content (SORT's BY/GET, its STORE anywhere);
    /// the command's own key finder (`Command::find_keys`) gives them.
    Unknown,
}

/// Which arguments from the beginning are keys.
#[derive(Clone, Copy, Debug)]
pub enum Find {
    /// `lastkey` (relative to the first key; negative counts from the end), `keystep`, `limit` (a negative
    /// `lastkey` with a limit takes 1/limit of the remaining arguments).
    Range(i32, i32, i32),
    /// The count is at `keynumidx` (relative), the keys start at `firstkey` (relative), every `keystep`.
    Keynum(i32, i32, i32),
    /// See `Begin::Unknown`.
    Unknown,
}

#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    pub flags: u16,
    pub begin: Begin,
    pub find: Find,
    pub notes: &'static str,
}

/// A key spec, as a row writes it.
pub const fn ks(flags: u16, begin: Begin, find: Find) -> KeySpec {
    KeySpec {
        flags,
        begin,
        find,
        notes: "",
    }
}

impl KeySpec {
    pub const fn notes(mut self, notes: &'static str) -> Self {
        self.notes = notes;
        self
    }

    /// The argument indexes of this spec's keys in `args` (the command name at 0); `None` where Redis's
    /// `getKeysUsingKeySpecs` finds the spec invalid for these arguments (bad key count, out of bounds,
    /// incomplete). A missing keyword gives no keys.
    fn keys(&self, args: Args) -> Option<Vec<usize>> {
        let argc = args.len() as i64;
        let first = match self.begin {
            Begin::Index(i) => i64::from(i),
            Begin::Keyword(word, from) => match keyword(args, word, from) {
                Some(i) => i + 1,
                None => return Some(Vec::new()),
            },
            Begin::Unknown => return None,
        };
        let (first, last, step) = match self.find {
            Find::Range(lastkey, step, limit) => {
                let last = match (lastkey >= 0, limit) {
                    (true, _) => first + i64::from(lastkey),
                    (false, 0) => argc + i64::from(lastkey),
                    (false, limit) => {
                        first + ((argc - first) / i64::from(limit) + i64::from(lastkey))
                    }
                };
                (first, last, i64::from(step))
            }
            Find::Keynum(numidx, firstkey, step) => {
                let at = first + i64::from(numidx);
                if numidx as i64 >= argc || at >= argc {
                    return None;
                }
                let n = parse_i64(args.get(at as usize)).filter(|&n| n >= 0)?;
                let first = first + i64::from(firstkey);
                (first, first + n - 1, i64::from(step))
            }
            Find::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc || self.flags & flags::INCOMPLETE != 0 {
            return None;
        }
        let step = step.max(1) as usize;
        Some((first as usize..=last as usize).step_by(step).collect())
    }
}

/// Where `word` is (any case), searching from `from` towards the end, or from the end backwards if negative.
fn keyword(args: Args, word: &str, from: i32) -> Option<i64> {
    let argc = args.len() as i64;
    let is = |i: i64| args.get(i as usize).eq_ignore_ascii_case(word.as_bytes());
    if from > 0 {
        (i64::from(from)..argc).find(|&i| is(i))
    } else {
        (1..=argc + i64::from(from)).rev().find(|&i| is(i))
    }
}

/// Redis's `doesCommandHaveKeys`: a spec for a real key, or key positions in the row.
pub fn has_keys(cmd: &Command) -> bool {
    // Cheapest first: every row that has keys at fixed positions says so with `first_key`.
    cmd.first_key > 0
        || cmd.find_keys.is_some()
        || cmd.key_specs.iter().any(|s| s.flags & flags::NOT_KEY == 0)
}

/// The keys of a full command and their flags, as Redis's `getKeysFromCommandWithSpecs`: from the specs when
/// their flags hold for every call, otherwise from the row's key positions with the flags the command decides
/// per call (Redis's getkeys callbacks). Specs that do not fit the arguments (a bad key count) give no keys: the
/// callbacks of the commands that have such specs find none either.
pub fn keys_and_flags(cmd: &Command, args: Args) -> Vec<(usize, u16)> {
    let real = || {
        cmd.key_specs
            .iter()
            .filter(|s| s.flags & flags::NOT_KEY == 0)
    };
    let variable = cmd
        .key_specs
        .iter()
        .any(|s| s.flags & flags::VARIABLE_FLAGS != 0);
    // A spec Redis cannot describe leaves the keys to the command's own finder, as its getkeys callbacks do.
    // So does an INCOMPLETE spec (MIGRATE's KEYS), as Redis's `getKeysUsingKeySpecs` gives up on one.
    let unknown = cmd
        .key_specs
        .iter()
        .any(|s| matches!(s.begin, Begin::Unknown) || s.flags & flags::INCOMPLETE != 0);
    if real().next().is_some() && !variable && !unknown {
        let found: Option<Vec<(usize, u16)>> = real().try_fold(Vec::new(), |mut all, spec| {
            all.extend(spec.keys(args)?.into_iter().map(|i| (i, spec.flags)));
            Some(all)
        });
        return found.unwrap_or_default();
    }
    let flags = call_flags(cmd, args);
    cmd.key_indexes(args)
        .into_iter()
        .filter(|&i| i < args.len())
        .map(|i| match cmd.name {
            // Redis's sortGetKeys: the sorted key is read, the STORE destination overwritten.
            "sort" if i > 1 => (i, flags::OW | flags::UPDATE),
            _ => (i, flags),
        })
        .collect()
}

/// The flags of a key whose access depends on the arguments: Redis's `setGetKeys` (SET ... GET reads the old
/// value); otherwise the first spec's.
fn call_flags(cmd: &Command, args: Args) -> u16 {
    use flags::*;
    if cmd.name == "set" {
        let get = args.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get"));
        return if get {
            RW | ACCESS | UPDATE
        } else {
            OW | UPDATE
        };
    }
    if cmd.name == "bitfield" {
        return if bitfield_read_only(args) {
            RO | ACCESS
        } else {
            RW | ACCESS | UPDATE
        };
    }
    cmd.key_specs
        .first()
        .map_or(RW | UPDATE, |s| s.flags & !VARIABLE_FLAGS)
}

/// Redis's `bitfieldGetKeys`: only GET (and OVERFLOW) operations, well formed, read the key without writing.
fn bitfield_read_only(args: Args) -> bool {
    let mut i = 2;
    while i < args.len() {
        let rest = args.len() - i - 1;
        let arg = args.get(i);
        if arg.eq_ignore_ascii_case(b"get") && rest >= 2 {
            i += 3;
        } else if arg.eq_ignore_ascii_case(b"overflow") && rest >= 1 {
            i += 2;
        } else {
            return false;
        }
    }
    true
}

/// The flags as COMMAND INFO and GETKEYSANDFLAGS print them: a set of status strings.
pub fn flags_reply(bits: u16) -> Reply {
    Reply::Set(
        flags::NAMES
            .iter()
            .filter(|(b, _)| bits & b != 0)
            .map(|(_, n)| Reply::status(n))
            .collect(),
    )
}

fn pair(k: &'static str, v: Reply) -> (Reply, Reply) {
    (Reply::bulk(k), v)
}

fn typed(kind: &'static str, spec: Vec<(Reply, Reply)>) -> Reply {
    Reply::Map(vec![
        pair("type", Reply::bulk(kind)),
        pair("spec", Reply::Map(spec)),
    ])
}

/// COMMAND INFO's first key, last key and step: Redis's `populateCommandLegacyRangeSpec`, the span of the
/// consecutive plain index/range specs (others make the keys movable and are left out); the row's own key
/// positions for a command without specs.
/// Redis's `CMD_MOVABLE_KEYS` (populateCommandLegacyRangeSpec): the legacy (first, last, step) range does not
/// cover every key, because a spec is not a plain index/range, has a step other than 1, is not consecutive to
/// the previous one, or is incomplete. COMMAND INFO lists it as the `movablekeys` flag.
pub fn movable(cmd: &Command) -> bool {
    if cmd.key_specs.is_empty() {
        return cmd.find_keys.is_some();
    }
    let mut prev_last = 0i32;
    let mut found = false;
    let mut movable = false;
    for spec in cmd.key_specs {
        let single = cmd.key_specs.len() == 1;
        match (spec.begin, spec.find) {
            (Begin::Index(pos), Find::Range(lastkey, step, _)) => {
                if !single && (step != 1 || (prev_last != 0 && prev_last != pos - 1)) {
                    movable = true;
                    continue;
                }
                movable |= spec.flags & flags::INCOMPLETE != 0;
                found = true;
                let abs = if lastkey >= 0 { lastkey + pos } else { lastkey };
                prev_last = (prev_last as u32).max(abs as u32) as i32;
            }
            _ => movable = true,
        }
    }
    movable || !found
}

pub fn legacy_range(cmd: &Command) -> (i32, i32, i32) {
    if cmd.key_specs.is_empty() {
        return (cmd.first_key, cmd.last_key, cmd.key_step);
    }
    if let [KeySpec {
        begin: Begin::Index(first),
        find: Find::Range(last, step, _),
        ..
    }] = cmd.key_specs
    {
        return (*first, if *last < 0 { *last } else { first + last }, *step);
    }
    let (mut first, mut last, mut prev_last) = (i32::MAX, 0i32, 0i32);
    for spec in cmd.key_specs {
        let (Begin::Index(pos), Find::Range(lastkey, 1, _)) = (spec.begin, spec.find) else {
            continue;
        };
        if prev_last != 0 && prev_last != pos - 1 {
            continue;
        }
        first = first.min(pos);
        let abs = if lastkey >= 0 { lastkey + pos } else { lastkey };
        // Redis compares as unsigned, so a negative (from the end) last key wins.
        last = (last as u32).max(abs as u32) as i32;
        prev_last = last;
    }
    if first == i32::MAX {
        return (0, 0, 0);
    }
    (first, last, 1)
}

/// COMMAND INFO's key specs: Redis's `addReplyCommandKeySpecs`.
pub fn specs_reply(cmd: &Command) -> Reply {
    let int = |n: i32| Reply::Int(i64::from(n));
    Reply::Set(
        cmd.key_specs
            .iter()
            .map(|s| {
                let mut fields = Vec::with_capacity(4);
                if !s.notes.is_empty() {
                    fields.push(pair("notes", Reply::bulk(s.notes)));
                }
                fields.push(pair("flags", flags_reply(s.flags)));
                let begin = match s.begin {
                    Begin::Index(i) => typed("index", vec![pair("index", int(i))]),
                    Begin::Keyword(word, from) => typed(
                        "keyword",
                        vec![
                            pair("keyword", Reply::bulk(word)),
                            pair("startfrom", int(from)),
                        ],
                    ),
                    Begin::Unknown => typed("unknown", Vec::new()),
                };
                let find = match s.find {
                    Find::Range(last, step, limit) => typed(
                        "range",
                        vec![
                            pair("lastkey", int(last)),
                            pair("keystep", int(step)),
                            pair("limit", int(limit)),
                        ],
                    ),
                    Find::Keynum(idx, first, step) => typed(
                        "keynum",
                        vec![
                            pair("keynumidx", int(idx)),
                            pair("firstkey", int(first)),
                            pair("keystep", int(step)),
                        ],
                    ),
                    Find::Unknown => typed("unknown", Vec::new()),
                };
                fields.push(pair("begin_search", begin));
                fields.push(pair("find_keys", find));
                Reply::Map(fields)
            })
            .collect(),
    )
}
