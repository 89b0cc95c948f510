//! OBJECT ENCODING | REFCOUNT | IDLETIME | FREQ | HELP: a container command whose subcommands are rows of the
//! table, so arity errors and COMMAND INFO name them as Redis does (`object|encoding`).

use super::flags::*;
use super::{Args, Command, Ctx};
use crate::commands::keyspec::prelude::*;
use crate::db::{lru_clock, Value};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

const SUBCOMMANDS: &[Command] = &[
    Command::new("encoding", 3, READONLY, encoding)
        .key_specs(&[ks(RO, Index(2), Range(0, 1, 0))])
        .keys(2, 2, 1)
        .doc(
            "generic",
            "2.2.3",
            "Inspect the internal encoding of a Redis object",
        )
        .complexity("O(1)"),
    Command::new("freq", 3, READONLY, freq)
        .key_specs(&[ks(RO, Index(2), Range(0, 1, 0))])
        .keys(2, 2, 1)
        .doc(
            "generic",
            "4.0.0",
            "Get the logarithmic access frequency counter of a Redis object",
        )
        .complexity("O(1)"),
    Command::new("help", 2, LOADING | STALE, help)
        .doc(
            "generic",
            "6.2.0",
            "Show helpful text about the different subcommands",
        )
        .complexity("O(1)"),
    Command::new("idletime", 3, READONLY, idletime)
        .key_specs(&[ks(RO, Index(2), Range(0, 1, 0))])
        .keys(2, 2, 1)
        .doc(
            "generic",
            "2.2.3",
            "Get the time since a Redis object was last accessed",
        )
        .complexity("O(1)"),
    Command::new("refcount", 3, READONLY, refcount)
        .key_specs(&[ks(RO, Index(2), Range(0, 1, 0))])
        .keys(2, 2, 1)
        .doc(
            "generic",
            "2.2.3",
            "Get the number of references to the value of the key",
        )
        .complexity("O(1)"),
];

pub const COMMANDS: &[Command] = &[Command::new("object", -2, 0, container)
    .subcommands(SUBCOMMANDS)
    .doc(
        "generic",
        "2.2.3",
        "A container for object introspection commands",
    )
    .complexity("Depends on subcommand.")];

/// Never reached: the dispatcher resolves every OBJECT call to a subcommand or refuses it.
fn container(_ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::syntax_error()
}

/// Shared integers (0..10000) report this refcount in Redis (`OBJ_SHARED_REFCOUNT`).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
const SHARED_INTEGERS: i64 = 10000;

/// Whether `maxmemory-policy` is an LFU one: the key's access stamp then holds a frequency, not a time.
fn lfu_policy() -> bool {
    crate::db::access_policy::lfu()
}

fn encoding(ctx: &mut Ctx, args: Args) -> Reply {
    ctx.peek_entry(args.get(2))
        .map_or(Reply::Nil, |e| Reply::bulk(e.encoding()))
}

fn refcount(ctx: &mut Ctx, args: Args) -> Reply {
    ctx.peek_entry(args.get(2))
        .map_or(Reply::Nil, |e| Reply::Int(refcount_of(e)))
}

/// The refcount Redis reports for a value (OBJECT REFCOUNT, DEBUG OBJECT): it shares the objects of the integers
/// 0..9999 when it stores them int-encoded.
pub fn refcount_of(entry: &crate::db::Entry) -> i64 {
    match &entry.value {
        Value::Str(s)
            if crate::memory::shares_integers()
                && entry.encoding() == "int"
                && parse_i64(s).is_some_and(|n| (0..SHARED_INTEGERS).contains(&n)) =>
        {
            SHARED_REFCOUNT
        }
        _ => 1,
    }
}

fn idletime(ctx: &mut Ctx, args: Args) -> Reply {
    let Some(entry) = ctx.peek_entry(args.get(2)) else {
        return Reply::Nil;
    };
    let lru = entry.lru.get();
    if lfu_policy() {
        return Reply::err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    Reply::Int(i64::from(lru_clock().saturating_sub(lru)))
}

/// The access frequency Redis keeps under an LFU policy: a logarithmic counter that decays with idle minutes.
fn freq(ctx: &mut Ctx, args: Args) -> Reply {
    let Some(entry) = ctx.peek_entry(args.get(2)) else {
        return Reply::Nil;
    };
    if !lfu_policy() {
        return Reply::err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
    }
    Reply::Int(i64::from(entry.lru.lfu_counter(ctx.keys.now())))
}

fn help(_ctx: &mut Ctx, _args: Args) -> Reply {
    const LINES: &[&str] = &[
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ];
    Reply::Array(LINES.iter().map(|l| Reply::status(l)).collect())
}
