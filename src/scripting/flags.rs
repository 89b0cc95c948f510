//! The flags the server's gates judge a script command by, before it runs: Redis's `getCommandFlags`
//! (`evalGetCommandFlags`, `fcallGetCommandFlags`, then `scriptFlagsToCmdFlags`).
//!
//! A script that declared flags (`#!lua flags=...`, or a function's `register_function` flags) is a write unless
//! it says `no-writes`, `denyoom` unless `allow-oom` or `no-writes`, `stale` only with `allow-stale`, and no longer
//! "may replicate". A script without a shebang (EVAL's compatibility mode), an EVALSHA of a SHA not cached and
//! an FCALL of an unknown function keep their row's flags (EVAL and FCALL carry `MAY_REPLICATE`, so CLIENT PAUSE
//! WRITE holds them). Every gate asks this one function: CLIENT PAUSE, the OOM refusal, -MISCONF, -READONLY,
//! -NOREPLICAS, the write fence, and EXEC's judgement of its queue.
//!
//! The lookups read what the engine published (`ScriptCounts::declared`, the functions' `Published`) and never
//! the engine itself, which a running script holds.

use crate::commands::flags::{DENYOOM, MAY_REPLICATE, SKIP_MONITOR, STALE, WRITE};
use crate::commands::{Args, Command};
use crate::server::Server;

use super::engine::{self, ShebangFlags};
use super::functions::library::{ALLOW_OOM, ALLOW_STALE, NO_WRITES};

/// Redis's `getCommandFlags`: `cmd`'s row flags, or for a script command those its script declares.
#[inline]
pub fn command_flags(server: &Server, cmd: &Command, args: Args) -> u32 {
    // Only the script commands are flagged `skip_monitor`: one test for every other command.
    if cmd.flags & SKIP_MONITOR == 0 || args.len() < 2 {
        return cmd.flags;
    }
    match declared(server, cmd, args.get(1)) {
        Some(script) => script_flags_to_cmd_flags(cmd.flags, script),
        None => cmd.flags,
    }
}

/// The flags the script or function named by `target` declared; `None` when it declared none or is unknown.
fn declared(server: &Server, cmd: &Command, target: &[u8]) -> Option<ShebangFlags> {
    match cmd.name {
        // Redis looks the body's SHA up in the cache first; a cached body's flags are its shebang's anyway.
        "eval" | "eval_ro" => target
            .starts_with(b"#!")
            .then(|| engine::shebang_flags(target))
            .flatten(),
        "evalsha" | "evalsha_ro" if target.len() == 40 => {
            let sha = String::from_utf8_lossy(target).to_ascii_lowercase();
            server.scripts.counts.declared.read().get(&sha).copied()
        }
        "fcall" | "fcall_ro" => server.scripts.function_flags(target).map(|f| ShebangFlags {
            shebang: true,
            no_writes: f & NO_WRITES != 0,
            allow_oom: f & ALLOW_OOM != 0,
            allow_stale: f & ALLOW_STALE != 0,
        }),
        _ => None,
    }
}

/// Redis's `scriptFlagsToCmdFlags`.
fn script_flags_to_cmd_flags(cmd_flags: u32, script: ShebangFlags) -> u32 {
    let mut flags = cmd_flags & !(STALE | DENYOOM | WRITE | MAY_REPLICATE);
    if !script.no_writes {
        flags |= WRITE;
        if !script.allow_oom {
            flags |= DENYOOM;
        }
    }
    if script.allow_stale {
        flags |= STALE;
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::flags::{NOSCRIPT, READONLY};

    #[test]
    fn declared_flags_replace_the_rows_as_redis_maps_them() {
        let row = NOSCRIPT | SKIP_MONITOR | STALE | MAY_REPLICATE;
        let none = ShebangFlags {
            shebang: true,
            ..Default::default()
        };
        assert_eq!(
            script_flags_to_cmd_flags(row, none),
            NOSCRIPT | SKIP_MONITOR | WRITE | DENYOOM
        );
        let ro = ShebangFlags {
            no_writes: true,
            ..none
        };
        assert_eq!(
            script_flags_to_cmd_flags(row | READONLY, ro),
            NOSCRIPT | SKIP_MONITOR | READONLY
        );
        let oom_stale = ShebangFlags {
            allow_oom: true,
            allow_stale: true,
            ..none
        };
        assert_eq!(
            script_flags_to_cmd_flags(row, oom_stale),
            NOSCRIPT | SKIP_MONITOR | WRITE | STALE
        );
    }
}
