//! Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, as Redis 7.0 runs them.
//!
//! # Where things live
//! - `mod.rs` (here): the command rows and handlers: argument checks, the script cache, SCRIPT's subcommands.
//! - `engine`: the one Lua 5.1 state (through `mlua`), its libraries and the cache of compiled scripts by SHA-1.
//! - `glue`: the `redis` table (`call`, `pcall`, `error_reply`, `log`, `setresp`, ...), the error handler that
//!   says where in the script an error happened, and the sandbox (global protection).
//! - `run`: one script run: `KEYS`/`ARGV`, `redis.call` bridged to the dispatcher, the result as a reply.
//! - `convert`: replies into Lua values and Lua values into replies.
//! - `libs`, `cjson`, `msgpack` and `structlib`: `bit`, `cjson`, `cmsgpack` and `struct`, which Redis builds into
//!   its Lua and Lua 5.1 itself lacks.
//! - `functions`: FUNCTION and FCALL, with their own Lua state and the libraries.
//!
//! # Atomicity
//! EVAL locks every shard of every database before the script starts (its lock plan is `all_dbs`, for writing;
//! EVAL_RO's for reading) and releases them when the script ends, so no client sees the keyspace half way
//! through a script. `redis.call` runs commands through `dispatch::call` under those locks, exactly as EXEC
//! runs its queue: it never locks again, so a script cannot deadlock (see `run`).

mod cjson;
mod convert;
mod engine;
mod flags;
pub use flags::command_flags;
pub mod functions;
mod glue;
mod libs;
mod msgpack;
mod run;
pub use run::take_error_counted;
mod structlib;

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
pub use run::in_script;

/// The server's scripting state: EVAL's Lua interpreter and its script cache, and the functions' interpreter and
/// libraries. One mutex holds both, so at most one script or function runs at a time (which `Running` assumes).
pub struct Scripts {
    engine: Mutex<State>,
    /// What the libraries are, for readers that must not wait for a running function (RDB save, STATS, INFO).
    published: parking_lot::RwLock<functions::Published>,
    /// The running script, read by other clients without the engine's mutex (SCRIPT KILL, BUSY).
    running: Arc<Running>,
    /// INFO's figures, kept outside the mutex: a script may call INFO while it holds the engine.
    counts: Arc<ScriptCounts>,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may call commands flagged `noscript` (Redis's test hook).
    deny_disabled: AtomicBool,
    /// `lua-enable-deprecated-api` (fixed at start-up): scripts keep `setfenv`, `getfenv` and `newproxy`.
    deprecated_api: bool,
}

/// Redis's `slowevalerr` and `slowscripterr`: the refusals while an EVAL script, or a function, is busy.
const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

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
    /// The running script came from EVAL (not FCALL): SCRIPT KILL and FUNCTION KILL each stop only their own.
    is_eval: AtomicBool,
    /// `now_ms()` after which a FUNCTION LOAD body is stopped; 0 outside FUNCTION LOAD.
    load_deadline_ms: AtomicI64,
    /// The running function's name and the command that called it, for FUNCTION STATS.
    function: Mutex<Option<(String, Vec<Vec<u8>>)>>,
    /// The script may use memory when the server is out of it (shebang `allow-oom` or `no-writes`).
    allow_oom: AtomicBool,
    /// `busy-reply-threshold` when the script started, and whether its "Slow script detected" line is logged.
    slow_after_ms: AtomicI64,
    slow_logged: AtomicBool,
    /// The script's name in that line: `f_<sha>` for EVAL, the function's name for FCALL.
    label: Mutex<String>,
}

impl Running {
    /// Whether a `denyoom` command called now is refused with `-OOM`, as Redis's `scriptVerifyOOM`: the server
    /// was out of memory when the script started, the script has not written yet, and it did not declare
    /// `allow-oom`.
    pub(crate) fn refuses_oom(&self) -> bool {
        !self.allow_oom.load(Relaxed)
            && !self.wrote.load(Relaxed)
            && crate::memory::pre_command_oom()
    }

    fn start(&self) {
        self.slow_logged.store(false, Relaxed);
        self.is_eval.store(true, Relaxed);
        self.wrote.store(false, Relaxed);
        self.kill.store(false, Relaxed);
        self.since_ms
            .store(crate::util::time::now_ms().max(1), Relaxed);
    }

    fn end(&self) {
        self.since_ms.store(0, Relaxed);
        self.kill.store(false, Relaxed);
        *self.function.lock() = None;
    }

    /// Starts a function run (FCALL): as `start`, and remembers what FUNCTION STATS shows.
    fn start_function(&self, name: &str, command: Vec<Vec<u8>>) {
        *self.function.lock() = Some((name.to_string(), command));
        self.start();
        self.is_eval.store(false, Relaxed);
    }

    /// Whether the running script or function may use memory when the server is out of it.
    pub(crate) fn set_allow_oom(&self, allow: bool) {
        self.allow_oom.store(allow, Relaxed);
    }

    /// Names the run for its "Slow script detected" line, logged once it passes `busy-reply-threshold`.
    fn watch_slow(&self, server: &crate::server::Server, label: String) {
        let threshold = server
            .config
            .get("busy-reply-threshold")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(5000);
        self.slow_after_ms.store(threshold, Relaxed);
        *self.label.lock() = label;
    }

    /// Called from the interpreter's count hook: Redis's `scriptInterrupt` logs once, when the running script
    /// passes `busy-reply-threshold` (from then on other clients get -BUSY, or -LOADING while loading).
    pub(crate) fn check_slow(&self) {
        let since = self.since_ms.load(Relaxed);
        if since == 0 || self.slow_logged.load(Relaxed) {
            return;
        }
        let elapsed = crate::util::time::now_ms() - since;
        if elapsed < self.slow_after_ms.load(Relaxed) || self.slow_logged.swap(true, Relaxed) {
            return;
        }
        let kill = if self.is_eval.load(Relaxed) {
            "SCRIPT KILL"
        } else {
            "FUNCTION KILL"
        };
        log::warn!(
            "Slow script detected: still in execution after {elapsed} milliseconds. You can try killing the \
             script using the {kill} command. Script name is: {}.",
            self.label.lock()
        );
    }

    pub(crate) fn set_load_deadline(&self, ms: i64) {
        self.load_deadline_ms.store(ms, Relaxed);
    }

    /// A FUNCTION LOAD body has run past its time.
    pub(crate) fn load_timed_out(&self) -> bool {
        let deadline = self.load_deadline_ms.load(Relaxed);
        deadline != 0 && crate::util::time::now_ms() > deadline
    }

    fn busy_error(&self) -> Reply {
        Reply::error(if self.is_eval.load(Relaxed) {
            BUSY_EVAL
        } else {
            BUSY_FUNCTION
        })
    }

    /// SCRIPT KILL (`eval`) or FUNCTION KILL, with Redis's `scriptKill` answers.
    fn kill(&self, eval: bool) -> Reply {
        if self.since_ms.load(Relaxed) == 0 {
            return Reply::error("NOTBUSY No scripts in execution right now.");
        }
        if self.wrote.load(Relaxed) {
            return Reply::error(
                "UNKILLABLE Sorry the script already executed write commands against the dataset. You can \
                 either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE \
                 command.",
            );
        }
        if eval != self.is_eval.load(Relaxed) {
            return Reply::error(if eval { BUSY_FUNCTION } else { BUSY_EVAL });
        }
        self.kill.store(true, Relaxed);
        Reply::Ok
    }

    /// Called by `redis.call` for a write command.
    pub(crate) fn wrote(&self) {
        self.wrote.store(true, Relaxed);
    }

    pub(crate) fn has_written(&self) -> bool {
        self.wrote.load(Relaxed)
    }

    pub(crate) fn killed(&self) -> bool {
        self.kill.load(Relaxed)
    }
}

/// The `-BUSY` refusal of a command that may not run while a script is past `busy-reply-threshold` (Redis's
/// `ALLOW_BUSY` commands still run: SCRIPT KILL, SHUTDOWN, AUTH, ...). One atomic load when no script runs.
///
/// Our master's stream is never refused: as Redis, which leaves the master link unread while a script is busy,
/// it waits for the script to end (an error sent back to a master is a replica gone wrong, see
/// `propagation-error-behavior`).
pub fn busy(
    server: &crate::server::Server,
    client: &crate::server::clients::ClientState,
    cmd: &Command,
) -> Option<Reply> {
    let since = server.scripts.running.since_ms.load(Relaxed);
    if since == 0 || cmd.has(ALLOW_BUSY) {
        return None;
    }
    if client.ext.repl.is_master {
        while server.scripts.running.since_ms.load(Relaxed) != 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        return None;
    }
    let threshold = server
        .config
        .get("busy-reply-threshold")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(5000);
    (crate::util::time::now_ms() - since > threshold).then(|| server.scripts.running.busy_error())
}

/// What INFO memory reports about scripting, refreshed after each use of the engine.
#[derive(Default)]
pub struct ScriptCounts {
    pub cached: AtomicUsize,
    pub body_bytes: AtomicUsize,
    pub lua_bytes: AtomicUsize,
    /// The functions' Lua heap.
    pub function_lua_bytes: AtomicUsize,
    /// The shebang flags of the cached scripts that have a shebang, by SHA-1: the gates judge an EVALSHA by
    /// them before it runs (Redis's `evalGetCommandFlags`), and must not wait for the engine a script holds.
    pub declared: parking_lot::RwLock<std::collections::HashMap<String, engine::ShebangFlags>>,
}

impl Scripts {
    pub fn new(deprecated_api: bool) -> Self {
        Scripts {
            engine: Mutex::new(State::default()),
            published: Default::default(),
            deny_disabled: AtomicBool::new(false),
            running: Arc::default(),
            counts: Arc::new(ScriptCounts::default()),
            deprecated_api,
        }
    }

    fn new_engine(&self) -> mlua::Result<Engine> {
        Engine::new(
            self.counts.clone(),
            self.running.clone(),
            self.deprecated_api,
        )
    }

    pub fn set_deny_disabled(&self, on: bool) {
        self.deny_disabled.store(on, Relaxed);
    }

    pub(crate) fn deny_disabled(&self) -> bool {
        self.deny_disabled.load(Relaxed)
    }

    /// Whether a script is running now (its `redis.call`s go through `dispatch::call`).
    pub fn in_progress(&self) -> bool {
        self.running.since_ms.load(Relaxed) != 0
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
        let mut state = self.engine.lock();
        let guard = &mut state.eval;
        if guard.is_none() {
            let engine = self
                .new_engine()
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
        self.engine.lock().eval = None;
        self.counts.cached.store(0, Relaxed);
        self.counts.body_bytes.store(0, Relaxed);
        self.counts.lua_bytes.store(0, Relaxed);
        self.counts.declared.write().clear();
    }
}

/// What the scripting mutex guards.
#[derive(Default)]
struct State {
    /// EVAL's interpreter, started on first use and dropped by SCRIPT FLUSH.
    eval: Option<Engine>,
    /// The functions' interpreter and libraries, started on first use.
    functions: Option<functions::Store>,
}

impl Default for Scripts {
    fn default() -> Self {
        Self::new(false)
    }
}

/// As Redis's JSON, with `MAY_REPLICATE` (COMMAND INFO hides it, as Redis does): a script without a shebang may
/// write, so CLIENT PAUSE WRITE holds it and a MONITOR client may not run it (`command_flags` judges one with a
/// shebang by its flags).
const EVAL_FLAGS: u32 = NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | MAY_REPLICATE;
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
    Command::new("debug", 3, NOSCRIPT, script_debug)
        .doc("scripting", "3.2.0", "Set the debug mode for executed scripts.")
        .complexity("O(1)"),
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
    feed_monitors(ctx, args);
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
        let allow_oom = script.flags.allow_oom || script.flags.no_writes;
        // A script with flags is `denyoom` unless it allows it, as Redis's `evalGetCommandFlags`.
        if script.flags.shebang && !allow_oom && crate::memory::pre_command_oom() {
            return crate::memory::oom_error();
        }
        let running = ctx.server.scripts.running.clone();
        running.start();
        running.watch_slow(ctx.server, format!("f_{sha}"));
        running.set_allow_oom(allow_oom);
        let reply = run::run_script(
            engine,
            ctx,
            &script.function,
            &sha,
            &keys,
            &argv,
            read_only,
            run::Mode::Eval,
        );
        running.end();
        reply
    });
    outcome.unwrap_or_else(|e| e)
}

/// The hook for Redis's OOM refusal of scripts (`scriptPrepareForRun`): a script or function that may write
/// (no `no-writes`) and did not declare `allow-oom` is refused with `-OOM allow-oom flag is not set on the script,
/// can not run it when used memory > 'maxmemory'` while used memory is over `maxmemory`. ferredis does not
/// enforce `maxmemory` yet, so nothing is over it and this answers `None`; the memory check goes here.
pub(crate) fn oom_refusal(
    _server: &crate::server::Server,
    may_write: bool,
    allow_oom: bool,
) -> Option<Reply> {
    let _over_maxmemory = may_write && !allow_oom;
    None
}

/// EVAL and FCALL are flagged skip_monitor: they show themselves to MONITOR before the commands their script
/// runs, as Redis does.
fn feed_monitors(ctx: &mut Ctx, args: Args) {
    if ctx.server.pubsub.monitoring() {
        crate::pubsub::feed_line(ctx, args);
    }
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

/// SCRIPT KILL: takes no lock (SCRIPT has no keys), so it runs while the script holds every shard.
fn script_kill(ctx: &mut Ctx, _args: Args) -> Reply {
    ctx.server.scripts.running.kill(true)
}

/// SCRIPT DEBUG: `NO` is what a client without the debugger already has; the Lua debugger itself (`YES`,
/// `SYNC`) is not built, and is refused rather than pretended.
fn script_debug(_ctx: &mut Ctx, args: Args) -> Reply {
    match args.get(2).to_ascii_lowercase().as_slice() {
        b"no" => Reply::Ok,
        b"yes" | b"sync" => {
            Reply::err("SCRIPT DEBUG YES and SYNC are not supported: ferredis has no Lua debugger")
        }
        _ => Reply::err("Use SCRIPT DEBUG YES/SYNC/NO"),
    }
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
