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

/// Runs a compiled script with its `KEYS` and `ARGV` and returns the reply for the client.
pub fn run_script(
    engine: &Engine,
    ctx: &mut Ctx,
    function: &Function,
    sha: &str,
    keys: &[&[u8]],
    argv: &[&[u8]],
    read_only: bool,
) -> Reply {
    if let Err(e) = engine.set_arrays(keys, argv) {
        return Reply::err(&format!("Error running script {sha}, {e}"));
    }
    // A script never blocks (as inside EXEC), and SELECT inside it moves only the script.
    let was_executing = transaction::in_exec(ctx.client);
    transaction::set_executing(ctx.client, true);
    let db = ctx.client.db;
    let cmd = ctx.cmd;
    let lua = &engine.lua;
    let outcome = lua.scope(|scope| {
        let call = scope.create_function_mut(|lua, (args, n): (Table, usize)| {
            let args: Vec<Value> = (1..=n)
                .map(|i| args.raw_get(i))
                .collect::<mlua::Result<_>>()?;
            call_from_script(lua, ctx, &engine.glue, read_only, args)
        })?;
        engine.glue.raw_set("call", call)?;
        let outcome = engine.runner.call::<(bool, Value)>(function.clone());
        engine.glue.raw_set("call", Value::Nil)?;
        outcome
    });
    let resp = engine.glue.raw_get::<u8>("resp").unwrap_or(2);
    ctx.client.select(db);
    ctx.cmd = cmd;
    // Redis 7.0 replicates a script's effects, never the script: the commands it called are in the unit's
    // effects already (wrapped in MULTI/EXEC when there are several), so EVAL itself is not propagated.
    ctx.prevent_propagation();
    transaction::set_executing(ctx.client, was_executing);
    match outcome {
        Ok((true, value)) => lua_to_reply(&value, resp),
        Ok((false, Value::Table(err))) => script_error(&err, sha),
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
/// (`redis.call` raises it, `redis.pcall` returns it).
fn call_from_script(
    lua: &Lua,
    ctx: &mut Ctx,
    glue: &Table,
    read_only: bool,
    args: Vec<Value>,
) -> mlua::Result<(Value, bool)> {
    let fail = |msg: &str| -> mlua::Result<(Value, bool)> {
        Ok((Value::Table(error_table(lua, msg.as_bytes())?), true))
    };
    if args.is_empty() {
        return fail("Please specify at least one argument for this redis lib call");
    }
    let mut data = Vec::new();
    let mut spans = Vec::with_capacity(args.len());
    for arg in args.iter() {
        let start = data.len();
        match arg {
            Value::String(s) => data.extend_from_slice(&s.as_bytes()),
            Value::Integer(i) => data.extend_from_slice(i.to_string().as_bytes()),
            Value::Number(n) => data.extend_from_slice(format_g(*n, 17).as_bytes()),
            _ => return fail("Lua redis lib command arguments must be strings or integers"),
        }
        spans.push((start, data.len()));
    }
    let frame = Frame::new(&data, &spans);
    let table = table::get();
    let id = match dispatch::resolve(table, frame) {
        Resolved::Command(id) => id,
        Resolved::Rejected(Reply::Error(e)) if e.starts_with("ERR wrong number") => {
            return fail("Wrong number of args calling Redis command from script")
        }
        Resolved::Rejected(_) => return fail("Unknown Redis command called from script"),
    };
    let cmd = table.get(id);
    if cmd.has(flags::NOSCRIPT) {
        return fail("This Redis command is not allowed from script");
    }
    if read_only && cmd.has(flags::WRITE | flags::MAY_REPLICATE) {
        return fail("Write commands are not allowed from read-only scripts.");
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
    let reply = dispatch::call(ctx, id, frame);
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
    Ok((value, out[0] == b'-'))
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
