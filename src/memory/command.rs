//! MEMORY USAGE | STATS | DOCTOR | MALLOC-STATS | PURGE | HELP: a container command whose subcommands are rows
//! of the table, with Redis's replies and errors.

use crate::commands::flags::*;
use crate::commands::keyspec::prelude::*;
use crate::commands::{Args, Command, Ctx};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

const SUBCOMMANDS: &[Command] = &[
    Command::new("doctor", 2, 0, doctor)
        .doc("server", "4.0.0", "Outputs memory problems report")
        .complexity("O(1)"),
    Command::new("help", 2, LOADING | STALE, help)
        .doc(
            "server",
            "4.0.0",
            "Show helpful text about the different subcommands",
        )
        .complexity("O(1)"),
    Command::new("malloc-stats", 2, 0, malloc_stats)
        .doc("server", "4.0.0", "Show allocator internal stats")
        .complexity("Depends on how much memory is allocated, could be slow"),
    Command::new("purge", 2, 0, purge)
        .doc("server", "4.0.0", "Ask the allocator to release memory")
        .complexity("Depends on how much memory is allocated, could be slow"),
    Command::new("stats", 2, 0, stats)
        .doc("server", "4.0.0", "Show memory usage details")
        .complexity("O(1)"),
    Command::new("usage", -3, READONLY, usage)
        .key_specs(&[ks(RO, Index(2), Range(0, 1, 0))])
        .keys(2, 2, 1)
        .doc("server", "4.0.0", "Estimate the memory usage of a key")
        .complexity("O(N) where N is the number of samples."),
];

pub const COMMANDS: &[Command] = &[Command::new("memory", -2, 0, container)
    .subcommands(SUBCOMMANDS)
    .doc(
        "server",
        "4.0.0",
        "A container for memory diagnostics commands",
    )
    .complexity("Depends on subcommand.")];

/// Never reached: the dispatcher resolves every MEMORY call to a subcommand or refuses it.
fn container(_ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::syntax_error()
}

/// MEMORY USAGE key [SAMPLES count]: the key's cost, nil if there is no such key.
fn usage(ctx: &mut Ctx, args: Args) -> Reply {
    let mut samples = super::usage::DEFAULT_SAMPLES;
    let mut i = 3;
    while i < args.len() {
        if !(args.get(i).eq_ignore_ascii_case(b"samples") && i + 1 < args.len()) {
            return Reply::syntax_error();
        }
        let Some(n) = parse_i64(args.get(i + 1)) else {
            return Reply::not_integer();
        };
        if n < 0 {
            return Reply::syntax_error();
        }
        samples = usize::try_from(n).unwrap_or(usize::MAX);
        i += 2;
    }
    let key = args.get(2);
    // Redis looks the key up without touching it and without counting a hit or a miss.
    match ctx.keys.peek(ctx.db(), key) {
        Some(entry) => Reply::Int(super::usage::key_usage(key, entry, samples) as i64),
        None => Reply::Nil,
    }
}

fn stats(ctx: &mut Ctx, _args: Args) -> Reply {
    super::overhead::stats_reply(ctx.server)
}

fn doctor(ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::Verbatim(
        "txt",
        super::overhead::doctor_report(ctx.server).into_bytes(),
    )
}

/// Redis answers this without jemalloc.
fn malloc_stats(_ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::bulk("Stats not supported for the current allocator")
}

/// Hands free memory back to the system (glibc's `malloc_trim`), as Redis's jemalloc purge.
fn purge(_ctx: &mut Ctx, _args: Args) -> Reply {
    crate::db::expiry::release_free_memory();
    Reply::Ok
}

fn help(_ctx: &mut Ctx, _args: Args) -> Reply {
    const LINES: &[&str] = &[
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Prints this help.",
    ];
    Reply::Array(LINES.iter().map(|l| Reply::status(l)).collect())
}
