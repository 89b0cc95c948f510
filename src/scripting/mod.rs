//! Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, as Redis 7.0 runs them.
//!
//! # Where things live
//! - `mod.rs` (here): the command rows and handlers: argument checks, the script cache, SCRIPT's subcommands.
//! - `engine`: the one Lua 5.1 state (through `mlua`), its libraries and the cache of compiled scripts by SHA-1.
//! - `glue`: the `redis` table (`call`, `pcall`, `error_reply`, `log`, `setresp`, ...), the error handler that
//!   says where in the script an error happened, and the sandbox (global protection).
//! - `run`: one script run: `KEYS`/`ARGV`, `redis.call` bridged to the dispatcher, the result as a reply.
//! - `convert`: replies into Lua values and Lua values into replies.
//! - `libs` and `cjson`: `bit` and `cjson`, which Redis builds into its Lua and Lua 5.1 itself lacks.
//!
//! # Atomicity
//! EVAL locks every shard of every database before the script starts (its lock plan is `all_dbs`, for writing;
//! EVAL_RO's for reading) and releases them when the script ends, so no client sees the keyspace half way
//! through a script. `redis.call` runs commands through `dispatch::call` under those locks, exactly as EXEC
//! runs its queue: it never locks again, so a script cannot deadlock (see `run`).

mod cjson;
mod convert;
mod engine;
mod glue;
mod libs;
mod run;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::commands::flags::*;
use crate::commands::keyspec::prelude::*;
use crate::commands::{args::keys_after_numkeys, Args, Command, Ctx, Scope};
use crate::db::{Keyspace, LockPlan};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;
use engine::Engine;

/// The server's scripting state: one Lua interpreter and its script cache.
pub struct Scripts {
    engine: Mutex<Option<Engine>>,
    /// The running script, read by other clients without the engine's mutex (SCRIPT KILL, BUSY).
    running: Arc<Running>,
    /// INFO's figures, kept outside the mutex: a script may call INFO while it holds the engine.
    counts: Arc<ScriptCounts>,
}

/// The script running now, if any. A script holds every shard lock, so other clients cannot run commands on
/// keys meanwhile; these atomics let SCRIPT KILL (which takes no lock) stop it, and let other clients be told
/// `-BUSY` once it has run past `busy-reply-threshold`, as Redis does, instead of waiting without a word.
#[derive(Default)]
pub struct Running {
    /// `now_ms()` when the running script started; 0 when none runs.
    since_ms: AtomicI64,
    /// The script called a write command: killing it would leave half its effects, so SCRIPT KILL refuses.
    wrote: AtomicBool,
    /// SCRIPT KILL asked the script to stop: the interpreter's count hook raises an error until it ends (a
    /// `pcall` in the script cannot swallow it for good).
    kill: AtomicBool,
}

impl Running {
    fn start(&self) {
        self.wrote.store(false, Relaxed);
        self.kill.store(false, Relaxed);
        self.since_ms
            .store(crate::util::time::now_ms().max(1), Relaxed);
    }

    fn end(&self) {
        self.since_ms.store(0, Relaxed);
        self.kill.store(false, Relaxed);
    }

    /// Called by `redis.call` for a write command.
    pub(crate) fn wrote(&self) {
        self.wrote.store(true, Relaxed);
    }

    pub(crate) fn killed(&self) -> bool {
        self.kill.load(Relaxed)
    }
}

/// The `-BUSY` refusal of a command that may not run while a script is past `busy-reply-threshold` (Redis's
/// `ALLOW_BUSY` commands still run: SCRIPT KILL, SHUTDOWN, AUTH, ...). One atomic load when no script runs.
pub fn busy(server: &crate::server::Server, cmd: &Command) -> Option<Reply> {
    let since = server.scripts.running.since_ms.load(Relaxed);
    if since == 0 || cmd.has(ALLOW_BUSY) {
        return None;
    }
    let threshold = server
        .config
        .get("busy-reply-threshold")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(5000);
    (crate::util::time::now_ms() - since > threshold).then(|| {
        Reply::error(
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
        )
    })
}

/// What INFO memory reports about scripting, refreshed after each use of the engine.
#[derive(Default)]
pub struct ScriptCounts {
    pub cached: AtomicUsize,
    pub body_bytes: AtomicUsize,
    pub lua_bytes: AtomicUsize,
}

impl Scripts {
    pub fn new() -> Self {
        Scripts {
            engine: Mutex::new(None),
            running: Arc::default(),
            counts: Arc::new(ScriptCounts::default()),
        }
    }

    pub(crate) fn running(&self) -> &Running {
        &self.running
    }

    /// Scripts cached, their bodies' bytes and the interpreter's memory, for INFO memory.
    pub fn counts(&self) -> (usize, usize, usize) {
        let c = &self.counts;
        (
            c.cached.load(Relaxed),
            c.body_bytes.load(Relaxed),
            c.lua_bytes.load(Relaxed),
        )
    }

    /// Runs `f` on the engine, creating it on first use (a server that runs no script builds no Lua state).
    fn with<R>(&self, f: impl FnOnce(&mut Engine) -> R) -> Result<R, Reply> {
        let mut guard = self.engine.lock();
        if guard.is_none() {
            let engine = Engine::new(self.counts.clone(), self.running.clone())
                .map_err(|e| Reply::err(&format!("Failed to start the Lua engine: {e}")))?;
            *guard = Some(engine);
        }
        let Some(engine) = guard.as_mut() else {
            return Err(Reply::err("Lua engine unavailable"));
        };
        let out = f(engine);
        self.counts
            .lua_bytes
            .store(engine.lua.used_memory(), Relaxed);
        Ok(out)
    }

    /// SCRIPT FLUSH: drops the interpreter and every cached script; the next script starts a fresh state.
    fn flush(&self) {
        *self.engine.lock() = None;
        self.counts.cached.store(0, Relaxed);
        self.counts.body_bytes.store(0, Relaxed);
        self.counts.lua_bytes.store(0, Relaxed);
    }
}

impl Default for Scripts {
    fn default() -> Self {
        Self::new()
    }
}

/// Redis's JSON gives EVAL `MAY_REPLICATE` too, but its COMMAND INFO does not show it; ferredis answers the same.
const EVAL_FLAGS: u32 = NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE;
const EVAL_RO_FLAGS: u32 = NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | READONLY;

pub const COMMANDS: &[Command] = &[
    eval_row(
        "eval",
        EVAL_FLAGS,
        eval,
        "2.6.0",
        "Execute a Lua script server side",
    )
    .key_specs(&[ks(RW | ACCESS | UPDATE, Index(2), Keynum(0, 1, 1))
        .notes("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")]),
    eval_row(
        "evalsha",
        EVAL_FLAGS,
        evalsha,
        "2.6.0",
        "Execute a Lua script server side",
    )
    .key_specs(&[ks(RW | ACCESS | UPDATE, Index(2), Keynum(0, 1, 1))]),
    eval_row(
        "eval_ro",
        EVAL_RO_FLAGS,
        eval_ro,
        "7.0.0",
        "Execute a read-only Lua script server side",
    )
    .key_specs(&[ks(RO | ACCESS, Index(2), Keynum(0, 1, 1))
        .notes("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")]),
    eval_row(
        "evalsha_ro",
        EVAL_RO_FLAGS,
        evalsha_ro,
        "7.0.0",
        "Execute a read-only Lua script server side",
    )
    .key_specs(&[ks(RO | ACCESS, Index(2), Keynum(0, 1, 1))]),
    Command::new("script", -2, 0, |_, _| Reply::Nil)
        .doc(
            "scripting",
            "2.6.0",
            "A container for Lua scripts management commands",
        )
        .complexity("Depends on subcommand.")
        .subcommands(SCRIPT_SUBCOMMANDS),
];

const SCRIPT_SUBCOMMANDS: &[Command] = &[
    Command::new("exists", -3, NOSCRIPT, script_exists)
        .doc("scripting", "2.6.0", "Check existence of scripts in the script cache.")
        .complexity("O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation)."),
    Command::new("flush", -2, NOSCRIPT, script_flush)
        .doc("scripting", "2.6.0", "Remove all the scripts from the script cache.")
        .complexity("O(N) with N being the number of scripts in cache"),
    Command::new("help", 2, LOADING | STALE, script_help)
        .doc("scripting", "5.0.0", "Show helpful text about the different subcommands")
        .complexity("O(1)"),
    Command::new("kill", 2, NOSCRIPT | ALLOW_BUSY, script_kill)
        .doc("scripting", "2.6.0", "Kill the script currently in execution.")
        .complexity("O(1)"),
    Command::new("load", 3, NOSCRIPT | STALE, script_load)
        .doc("scripting", "2.6.0", "Load the specified Lua script into the script cache.")
        .complexity("O(N) with N being the length in bytes of the script body."),
];

const fn eval_row(
    name: &'static str,
    flags: u32,
    handler: crate::commands::Handler,
    since: &'static str,
    summary: &'static str,
) -> Command {
    Command::new(name, -3, flags, handler)
        .movable(eval_keys)
        .scope(Scope::Custom(eval_locks))
        .doc("scripting", since, summary)
        .complexity("Depends on the script that is executed.")
}

/// EVAL's declared keys: `numkeys` at 2, the keys after it.
fn eval_keys(args: Args) -> Vec<usize> {
    keys_after_numkeys(args, 2)
}

/// Every shard of every database: a script may touch any key (declared or not, in any database after SELECT),
/// and must run as one unit. Read locks suffice for the read-only variants, which refuse writes.
fn eval_locks(args: Args, _db: usize, ks: &Keyspace, plan: &mut LockPlan) {
    let read_only = args.get(0).to_ascii_lowercase().ends_with(b"_ro");
    plan.all_dbs(ks, !read_only);
}

fn eval(ctx: &mut Ctx, args: Args) -> Reply {
    eval_generic(ctx, args, false, false)
}

fn evalsha(ctx: &mut Ctx, args: Args) -> Reply {
    eval_generic(ctx, args, true, false)
}

fn eval_ro(ctx: &mut Ctx, args: Args) -> Reply {
    eval_generic(ctx, args, false, true)
}

fn evalsha_ro(ctx: &mut Ctx, args: Args) -> Reply {
    eval_generic(ctx, args, true, true)
}

/// `EVAL script numkeys [key ...] [arg ...]` and its three siblings.
fn eval_generic(ctx: &mut Ctx, args: Args, by_sha: bool, read_only: bool) -> Reply {
    let Some(numkeys) = parse_i64(args.get(2)) else {
        return Reply::not_integer();
    };
    if numkeys > (args.len() - 3) as i64 {
        return Reply::err("Number of keys can't be greater than number of args");
    }
    if numkeys < 0 {
        return Reply::err("Number of keys can't be negative");
    }
    let split = 3 + numkeys as usize;
    let keys: Vec<&[u8]> = (3..split).map(|i| args.get(i)).collect();
    let argv: Vec<&[u8]> = (split..args.len()).map(|i| args.get(i)).collect();
    let body = args.get(1);
    let server = ctx.server;
    let outcome = server.scripts.with(|engine| {
        let sha = if by_sha {
            String::from_utf8_lossy(body).to_ascii_lowercase()
        } else {
            match engine.load(body) {
                Ok(sha) => sha,
                Err(e) => return compile_error(e),
            }
        };
        let Some(script) = engine.get(&sha) else {
            return Reply::error("NOSCRIPT No matching script. Please use EVAL.");
        };
        if read_only && script.flags.shebang && !script.flags.no_writes {
            return Reply::err("Can not execute a script with write flag using *_ro command.");
        }
        let read_only = read_only || script.flags.no_writes;
        let running = ctx.server.scripts.running.clone();
        running.start();
        let reply = run::run_script(engine, ctx, &script.function, &sha, &keys, &argv, read_only);
        running.end();
        reply
    });
    outcome.unwrap_or_else(|e| e)
}

fn compile_error(e: engine::CompileError) -> Reply {
    Reply::err(&e.0)
}

fn script_load(ctx: &mut Ctx, args: Args) -> Reply {
    let body = args.get(2);
    let outcome = ctx.server.scripts.with(|engine| match engine.load(body) {
        Ok(sha) => Reply::bulk(sha),
        Err(e) => compile_error(e),
    });
    outcome.unwrap_or_else(|e| e)
}

fn script_exists(ctx: &mut Ctx, args: Args) -> Reply {
    let outcome = ctx.server.scripts.with(|engine| {
        let found = (2..args.len()).map(|i| {
            let sha = String::from_utf8_lossy(args.get(i)).to_ascii_lowercase();
            Reply::Int(engine.contains(&sha) as i64)
        });
        Reply::Array(found.collect())
    });
    outcome.unwrap_or_else(|e| e)
}

fn script_flush(ctx: &mut Ctx, args: Args) -> Reply {
    let mode_ok = match args.len() {
        2 => true,
        3 => {
            args.get(2).eq_ignore_ascii_case(b"sync") || args.get(2).eq_ignore_ascii_case(b"async")
        }
        _ => false,
    };
    if !mode_ok {
        return Reply::err("SCRIPT FLUSH only support SYNC|ASYNC option");
    }
    ctx.server.scripts.flush();
    Reply::Ok
}

/// Scripts run holding every shard, so no client can reach the server while one runs: there is never a script
/// in execution to kill from here.
/// SCRIPT KILL: takes no lock (SCRIPT has no keys), so it runs while the script holds every shard.
fn script_kill(ctx: &mut Ctx, _args: Args) -> Reply {
    let running = &ctx.server.scripts.running;
    if running.since_ms.load(Relaxed) == 0 {
        return Reply::error("NOTBUSY No scripts in execution right now.");
    }
    if running.wrote.load(Relaxed) {
        return Reply::error(
            "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either \
             wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
        );
    }
    running.kill.store(true, Relaxed);
    Reply::Ok
}

fn script_help(_ctx: &mut Ctx, _args: Args) -> Reply {
    crate::commands::introspection::help_reply(
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    )
}
