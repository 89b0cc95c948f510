//! One script run, and `redis.call` / `redis.pcall` bridged to the dispatcher.
//!
//! Why a script cannot deadlock or be seen half done: EVAL's own `dispatch::run` took every shard of every
//! database (its lock plan is `all_dbs`) before this runs, in the one global order, while holding no other shard
//! lock. Each `redis.call` goes to `dispatch::call` with those locks, through the `Ctx` of EVAL, as EXEC's queued
//! commands do: nothing run from a script acquires a shard lock, so the script's thread never waits for a lock
//! while holding one, and every other client waits until the whole script is over.
//!
//! Effects: commands called from a script go through the same `dispatch::call` as EXEC's queued commands, so
//! the write path records each one's effect in EVAL's unit, which wraps several in one MULTI ... EXEC block as
//! Redis 7.0 propagates a script's writes; EVAL itself is not propagated.

use mlua::{Function, Lua, Table, Value};

use super::convert::{format_g, lua_to_reply, resp_to_lua};
use super::engine::Engine;
use super::glue::error_table;
use crate::commands::dispatch::{self, Resolved};
use crate::commands::{flags, table, transaction, Ctx};
use crate::protocol::{encode, Frame, Protocol, Reply};

/// How the script gets its keys and arguments: EVAL's as the `KEYS` and `ARGV` globals, a function's (FCALL) as
/// its two arguments.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Eval,
    Function,
}

thread_local! {
    /// A script runs on its client's thread, and the commands it calls run there too: this says whether the
    /// command running now came from a script (Redis's `CLIENT_SCRIPT`, which SORT BY <constant> looks at).
    static IN_SCRIPT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the thread as running a script's command until dropped (also when the command panics).
struct ScriptCall;

impl ScriptCall {
    fn enter() -> ScriptCall {
        IN_SCRIPT.with(|s| s.set(true));
        ScriptCall
    }
}

impl Drop for ScriptCall {
    fn drop(&mut self) {
        IN_SCRIPT.with(|s| s.set(false));
    }
}

/// Whether the command running on this thread was called by a script.
pub fn in_script() -> bool {
    IN_SCRIPT.with(|s| s.get())
}

/// Runs a compiled script with its `KEYS` and `ARGV` and returns the reply for the client. `sha` is the name
/// errors give (the script's SHA-1, or the function's name).
#[allow(clippy::too_many_arguments)]
pub fn run_script(
    engine: &Engine,
    ctx: &mut Ctx,
    function: &Function,
    sha: &str,
    keys: &[&[u8]],
    argv: &[&[u8]],
    read_only: bool,
    mode: Mode,
) -> Reply {
    let arrays = match mode {
        Mode::Eval => engine.set_arrays(keys, argv).map(|()| None),
        Mode::Function => engine.arrays(keys, argv).map(Some),
    };
    let arrays = match arrays {
        Ok(a) => a,
        Err(e) => return Reply::err(&format!("Error running script {sha}, {e}")),
    };
    // A script never blocks (as inside EXEC), and SELECT inside it moves only the script.
    let was_executing = transaction::in_exec(ctx.client);
    transaction::set_executing(ctx.client, true);
    let db = ctx.client.db;
    let cmd = ctx.cmd;
    let lua = &engine.lua;
    let outcome = lua.scope(|scope| {
        let call = scope.create_function_mut(
            |lua, (args, n, acl_check): (Table, usize, Option<bool>)| {
                let args: Vec<Value> = (1..=n)
                    .map(|i| args.raw_get(i))
                    .collect::<mlua::Result<_>>()?;
                if acl_check == Some(true) {
                    return acl_check_cmd(lua, ctx, args);
                }
                call_from_script(lua, ctx, &engine.glue, (read_only, cmd.name), args)
            },
        )?;
        engine.glue.raw_set("call", call)?;
        let outcome = match &arrays {
            None => engine.runner.call::<(bool, Value)>(function.clone()),
            Some((k, a)) => {
                let runner: Function = engine.glue.raw_get("fn_runner")?;
                runner.call::<(bool, Value)>((function.clone(), k.clone(), a.clone()))
            }
        };
        engine.glue.raw_set("call", Value::Nil)?;
        outcome
    });
    engine.after_run();
    let resp = engine.glue.raw_get::<u8>("resp").unwrap_or(2);
    ctx.client.select(db);
    ctx.cmd = cmd;
    // Redis 7.0 replicates a script's effects, never the script: the commands it called are in the unit's
    // effects already (wrapped in MULTI/EXEC when there are several), so EVAL itself is not propagated.
    ctx.prevent_propagation();
    transaction::set_executing(ctx.client, was_executing);
    match outcome {
        Ok((true, value)) => {
            // An error table returned as the result (`return redis.pcall(...)`) is the same counted error.
            let reply = lua_to_reply(&value, resp);
            if let (true, Value::Table(t)) = (reply.is_error(), &value) {
                let counted = t.raw_get::<bool>(COUNTED).unwrap_or(false);
                ERROR_COUNTED.with(|c| c.set(counted));
            }
            reply
        }
        Ok((false, Value::Table(err))) => {
            let counted = err.raw_get::<bool>(COUNTED).unwrap_or(false);
            ERROR_COUNTED.with(|c| c.set(counted));
            script_error(&err, sha)
        }
        Ok((false, other)) => Reply::err(&format!("Error running script {sha}, {other:?}")),
        Err(e) => Reply::err(&format!("Error running script {sha}, {e}")),
    }
}

/// A failed script's reply: the error table's text, then where it was raised (`script: <sha>, on source:line.`).
fn script_error(err: &mlua::Table, sha: &str) -> Reply {
    let text = |field: &str| -> Option<String> {
        let v = err.raw_get::<Value>(field).ok()?;
        let bytes = super::engine::lua_text(&v)?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    };
    let mut msg = text("err").unwrap_or_else(|| "ERR unknown error".to_string());
    // An error raised from Rust (the SCRIPT KILL hook) reaches Lua as mlua's "runtime error: <text>".
    if let Some(rest) = msg.strip_prefix("ERR runtime error: ") {
        msg = format!("ERR {rest}");
    }
    if let (Some(source), Some(line)) = (text("source"), text("line")) {
        msg.push_str(&format!(" script: {sha}, on {source}:{line}."));
    }
    Reply::error(msg.replace(['\r', '\n'], " "))
}

/// `glue.call`: runs one command for the script; returns the reply as a Lua value and whether it is an error
/// (`redis.call` raises it, `redis.pcall` returns it). `script` is the running script command (EVAL, EVALSHA).
fn call_from_script(
    lua: &Lua,
    ctx: &mut Ctx,
    glue: &Table,
    (read_only, script): (bool, &str),
    args: Vec<Value>,
) -> mlua::Result<(Value, bool)> {
    let fail = |msg: &str| failed(lua, msg);
    let (data, spans) = match frame_of(&args) {
        Ok(parts) => parts,
        Err(msg) => return fail(msg),
    };
    let frame = Frame::new(&data, &spans);
    let table = table::get();
    let id = match dispatch::resolve(table, frame) {
        Resolved::Command(id) => id,
        Resolved::WrongArity(id) => {
            return rejected(
                lua,
                id,
                "Wrong number of args calling Redis command from script",
            )
        }
        Resolved::Rejected(_) => return fail("Unknown Redis command called from script"),
    };
    let cmd = table.get(id);
    if cmd.has(flags::NOSCRIPT) && !ctx.server.scripts.deny_disabled() {
        return fail("This Redis command is not allowed from script");
    }
    if !ctx.client.ext.acl.allows_all() {
        if let Some(msg) = crate::acl::check_script(ctx.client, id, frame, script) {
            return fail(&msg);
        }
    }
    if read_only && cmd.has(flags::WRITE | flags::MAY_REPLICATE) {
        return rejected(
            lua,
            id,
            "Write commands are not allowed from read-only scripts.",
        );
    }
    if cmd.has(flags::WRITE) {
        if let Some(msg) = write_refusal(ctx) {
            return rejected(lua, id, &msg);
        }
    }
    if cmd.has(flags::DENYOOM) && ctx.server.scripts.running().refuses_oom() {
        return rejected(
            lua,
            id,
            "-OOM command not allowed when used memory > 'maxmemory'.",
        );
    }
    if blocking_stream_read(table.full_name(id), frame) {
        let name = String::from_utf8_lossy(frame.get(0)).into_owned();
        return fail(&format!(
            "{name} command is not allowed with BLOCK option from scripts"
        ));
    }
    if cmd.has(flags::WRITE) {
        // From here on SCRIPT KILL refuses: stopping now would leave half the script's writes.
        ctx.server.scripts.running().wrote();
    }
    let reply = {
        let _marked = ScriptCall::enter();
        dispatch::call(ctx, id, frame)
    };
    let resp = match glue.raw_get::<u8>("resp") {
        Ok(3) => Protocol::Resp3,
        _ => Protocol::Resp2,
    };
    let mut out = Vec::new();
    encode(&reply, resp, &mut out);
    if out.is_empty() {
        return Ok((Value::Boolean(false), false));
    }
    let value = resp_to_lua(lua, &out)?;
    let is_error = out[0] == b'-';
    if let (true, Value::Table(t)) = (is_error, &value) {
        // The command's own call counted this error; raised out of the script it is not counted again.
        t.raw_set(COUNTED, true)?;
    }
    Ok((value, is_error))
}

/// The error-table field saying the error is already in INFO errorstats (Redis's
/// `ERR_REPLY_FLAG_NO_STATS_UPDATE` for errors raised from `redis.call`).
const COUNTED: &str = "counted";

/// A command the script may not run here (read-only script, replica, OOM): counted as that command's rejected
/// call and as an error reply now, as Redis's `scriptCall` does, so the script's own error does not count again.
/// Redis's `scriptVerifyWriteCommandAllow`: why the server's state refuses a write command to the script. Once
/// the script has written, nothing is refused: failing it halfway would leave half its writes.
fn write_refusal(ctx: &Ctx) -> Option<String> {
    let server = ctx.server;
    if server.scripts.running().has_written() {
        return None;
    }
    if crate::replication::refuses_writes(server, ctx.client) {
        return Some("-READONLY You can't write against a read only replica.".into());
    }
    if let Some(e) = crate::persist::startup::disk_error(server) {
        return Some(format!("-{e}"));
    }
    if !server.repl.is_replica() && !crate::replication::enough_good_replicas(server) {
        return Some("-NOREPLICAS Not enough good replicas to write.".into());
    }
    None
}

fn rejected(lua: &Lua, id: usize, msg: &str) -> mlua::Result<(Value, bool)> {
    let t = error_table(lua, msg.as_bytes())?;
    let text = t.raw_get::<mlua::LuaString>("err")?;
    let reply = Reply::error(String::from_utf8_lossy(&text.as_bytes()).into_owned());
    crate::server::stats::with_local(|s| {
        if let Some(c) = s.commands.get(id) {
            c.rejected.add_local(1);
        }
        s.count_error(&reply);
    });
    t.raw_set(COUNTED, true)?;
    Ok((Value::Table(t), true))
}

thread_local! {
    /// The reply being returned by a script is an error already counted in errorstats.
    static ERROR_COUNTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the error reply the script just returned was counted already (and forgets it).
pub fn take_error_counted() -> bool {
    ERROR_COUNTED.with(|c| c.replace(false))
}

/// `redis.acl_check_cmd(...)`: whether the script's caller may run the command (a boolean), without running it.
fn acl_check_cmd(lua: &Lua, ctx: &mut Ctx, args: Vec<Value>) -> mlua::Result<(Value, bool)> {
    let fail = |msg: &str| failed(lua, msg);
    let (data, spans) = match frame_of(&args) {
        Ok(parts) => parts,
        Err(msg) => return fail(msg),
    };
    let frame = Frame::new(&data, &spans);
    match crate::acl::lookup_command(frame) {
        Some(id) => Ok((
            Value::Boolean(crate::acl::allowed(ctx.client, id, frame)),
            false,
        )),
        None => fail("Invalid command passed to redis.acl_check_cmd()"),
    }
}

/// What `glue.call` returns for an error Redis raises with `msg`.
fn failed(lua: &Lua, msg: &str) -> mlua::Result<(Value, bool)> {
    Ok((Value::Table(error_table(lua, msg.as_bytes())?), true))
}

/// A command's arguments: one buffer and the span of each argument in it.
type FrameParts = (Vec<u8>, Vec<(usize, usize)>);

/// A script's command arguments as one buffer and the spans of each, or Redis's error text.
fn frame_of(args: &[Value]) -> Result<FrameParts, &'static str> {
    if args.is_empty() {
        return Err("Please specify at least one argument for this redis lib call");
    }
    let mut data = Vec::new();
    let mut spans = Vec::with_capacity(args.len());
    for arg in args {
        let start = data.len();
        match arg {
            Value::String(s) => data.extend_from_slice(&s.as_bytes()),
            Value::Integer(i) => data.extend_from_slice(i.to_string().as_bytes()),
            Value::Number(n) => data.extend_from_slice(format_g(*n, 17).as_bytes()),
            _ => return Err("Lua redis lib command arguments must be strings or integers"),
        }
        spans.push((start, data.len()));
    }
    Ok((data, spans))
}

/// XREAD / XREADGROUP with BLOCK, which Redis refuses from scripts (other blocking commands simply do not block).
fn blocking_stream_read(name: &str, args: Frame) -> bool {
    (name == "xread" || name == "xreadgroup")
        && args
            .iter()
            .skip(1)
            .take_while(|a| !a.eq_ignore_ascii_case(b"streams"))
            .any(|a| a.eq_ignore_ascii_case(b"block"))
}
