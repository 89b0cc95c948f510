//! The Lua interpreter: one state for the whole server, its sandbox, and the cache of compiled scripts.
//!
//! Why one state behind a mutex rather than one per connection thread: a script runs holding every shard lock of
//! every database (see `mod.rs`), so no two scripts can run at once anyway; one state keeps SCRIPT LOAD, EVALSHA
//! and SCRIPT FLUSH trivially coherent across connections (one cache, compiled once), and costs one interpreter
//! instead of one per pool thread. The mutex is always taken after the shard locks (EVAL) or with none held
//! (SCRIPT LOAD), and nothing holding it takes a shard lock, so it adds no lock-order cycle.

use std::collections::HashMap;

use mlua::{Function, Lua, LuaOptions, StdLib, Table, Value};

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use super::{glue, libs, ScriptCounts};

/// A compiled script, by the SHA-1 of its body.
pub struct Engine {
    pub lua: Lua,
    /// The `redis` glue table (`glue.call` is set for the length of one script run).
    pub glue: Table,
    /// `__ferredis_run(f)`: `xpcall(f, handler)`, returning `ok, value-or-error-table`.
    pub runner: Function,
    /// Where the globals live behind the protected, empty `_G`.
    globals: Table,
    /// The metatable of `_G`: its `__index` is `globals`, or the library API while FUNCTION LOAD runs a body.
    pub meta: Table,
    /// `proxy(t)`: a read-only view of `t`, as the sandbox protects the libraries.
    pub proxy: Function,
    /// Runs since the last garbage collection (see `after_run`).
    runs: std::cell::Cell<u32>,
    scripts: HashMap<String, Script>,
    /// INFO's figures, updated as scripts are cached (INFO may run inside a script, so it cannot ask us).
    counts: Arc<ScriptCounts>,
}

/// A cached script: its compiled body and what its shebang line declared.
#[derive(Clone)]
pub struct Script {
    pub function: Function,
    pub flags: ShebangFlags,
}

/// The flags of a `#!lua flags=...` line. A script without a shebang runs in EVAL's compatibility mode: it may
/// write (unless run by EVAL_RO, which then refuses its writes one by one).
#[derive(Clone, Copy, Default)]
pub struct ShebangFlags {
    pub shebang: bool,
    pub no_writes: bool,
    pub allow_oom: bool,
    pub allow_stale: bool,
}

/// Why a body did not become a function: the error reply's text (after `ERR `).
pub struct CompileError(pub String);

/// The flags a script body's shebang declares; `None` if the shebang is malformed (running it will say why).
pub fn shebang_flags(body: &[u8]) -> Option<ShebangFlags> {
    shebang(body).ok().map(|(flags, _)| flags)
}

/// Reads the shebang line (`#!lua flags=no-writes,allow-oom`) and returns its flags and its length (the newline
/// stays in the body, so line numbers do not move), with Redis's errors.
fn shebang(body: &[u8]) -> Result<(ShebangFlags, usize), CompileError> {
    if !body.starts_with(b"#!") {
        return Ok((ShebangFlags::default(), 0));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err(CompileError("Invalid script shebang".into()));
    };
    let line = String::from_utf8_lossy(&body[..end]);
    let mut parts = line.split_ascii_whitespace();
    let engine = parts.next().unwrap_or("");
    if engine != "#!lua" {
        return Err(CompileError(format!(
            "Unexpected engine in script shebang: {engine}"
        )));
    }
    let mut flags = ShebangFlags {
        shebang: true,
        no_writes: false,
        allow_oom: false,
        allow_stale: false,
    };
    for part in parts {
        let Some(list) = part.strip_prefix("flags=") else {
            return Err(CompileError(format!("Unknown lua shebang option: {part}")));
        };
        // `flags=` alone declares no flags (Redis splits an empty list into nothing).
        for flag in list.split(',').filter(|_| !list.is_empty()) {
            match flag {
                "no-writes" => flags.no_writes = true,
                "allow-oom" => flags.allow_oom = true,
                "allow-stale" => flags.allow_stale = true,
                "no-cluster" | "allow-cross-slot-keys" => {}
                _ => {
                    return Err(CompileError(format!(
                        "Unexpected flag in script shebang: {flag}"
                    )))
                }
            }
        }
    }
    Ok((flags, end))
}

impl Engine {
    /// `deprecated_api`: `lua-enable-deprecated-api`, which keeps `setfenv`, `getfenv` and `newproxy`.
    pub fn new(
        counts: Arc<ScriptCounts>,
        running: Arc<super::Running>,
        deprecated_api: bool,
    ) -> mlua::Result<Engine> {
        let libs = StdLib::TABLE | StdLib::STRING | StdLib::MATH;
        let lua = Lua::new_with(libs, LuaOptions::default())?;
        let hook_running = running.clone();
        // Every 100,000 instructions, as Redis's count hook: a script SCRIPT KILL stopped raises an error.
        lua.set_hook(
            mlua::HookTriggers::new().every_nth_instruction(100_000),
            move |_, _| {
                hook_running.check_slow();
                if hook_running.load_timed_out() {
                    return Err(mlua::Error::runtime("FUNCTION LOAD timeout"));
                }
                match hook_running.killed() {
                    true => Err(mlua::Error::runtime(
                        "Script killed by user with SCRIPT KILL...",
                    )),
                    false => Ok(mlua::VmState::Continue),
                }
            },
        )?;
        let glue = lua.create_table()?;
        let interrupted = running.clone();
        glue.raw_set(
            "interrupted",
            lua.create_function(move |_, ()| {
                Ok(interrupted.killed() || interrupted.load_timed_out())
            })?,
        )?;
        libs::install(&lua)?;
        let runner = glue::install(&lua, &glue)?;
        let (globals, meta, proxy) = glue::protect_globals(&lua, deprecated_api)?;
        Ok(Engine {
            lua,
            glue,
            runner,
            globals,
            meta,
            proxy,
            runs: std::cell::Cell::new(0),
            scripts: HashMap::new(),
            counts,
        })
    }

    /// Collects garbage every 50 runs, as Redis steps its collector every 50 scripts: each run leaves its
    /// `KEYS`/`ARGV` tables and `redis.call` closure behind, and the incremental collector alone lets the heap
    /// reach twice its live size first.
    pub fn after_run(&self) {
        let runs = self.runs.get() + 1;
        self.runs.set(runs % 50);
        if runs == 50 {
            let _ = self.lua.gc_collect();
        }
    }

    /// The table that holds the globals (the functions' engine builds its library API from it).
    pub fn globals(&self) -> &Table {
        &self.globals
    }

    pub fn contains(&self, sha: &str) -> bool {
        self.scripts.contains_key(sha)
    }

    pub fn get(&self, sha: &str) -> Option<Script> {
        self.scripts.get(sha).cloned()
    }

    /// Compiles `body` under its SHA-1 (a body already known is not compiled again) and returns the SHA.
    pub fn load(&mut self, body: &[u8]) -> Result<String, CompileError> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, skip) = shebang(body)?;
        let function = self
            .lua
            .load(&body[skip..])
            .set_name("@user_script")
            .set_mode(mlua::chunk::ChunkMode::Text)
            .into_function()
            .map_err(|e| {
                CompileError(format!(
                    "Error compiling script (new function): {}",
                    compile_message(&e)
                ))
            })?;
        if flags.shebang {
            self.counts.declared.write().insert(sha.clone(), flags);
        }
        self.scripts.insert(sha.clone(), Script { function, flags });
        self.counts.cached.store(self.scripts.len(), Relaxed);
        self.counts.body_bytes.fetch_add(body.len(), Relaxed);
        Ok(sha)
    }

    /// Sets the `KEYS` and `ARGV` globals (raw, past the global protection).
    pub fn set_arrays(&self, keys: &[&[u8]], argv: &[&[u8]]) -> mlua::Result<()> {
        let (k, a) = self.arrays(keys, argv)?;
        self.globals.raw_set("KEYS", k)?;
        self.globals.raw_set("ARGV", a)
    }

    /// The `KEYS` and `ARGV` tables.
    pub fn arrays(&self, keys: &[&[u8]], argv: &[&[u8]]) -> mlua::Result<(Table, Table)> {
        let make = |items: &[&[u8]]| -> mlua::Result<Table> {
            let t = self.lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, self.lua.create_string(item)?)?;
            }
            Ok(t)
        };
        Ok((make(keys)?, make(argv)?))
    }
}

/// Lua's own message for a syntax error (`user_script:1: unexpected symbol near '+'`).
fn compile_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// Lower-case hex SHA-1, as `redis.sha1hex` and the script cache spell it.
pub fn sha1_hex(body: &[u8]) -> String {
    use sha1::Digest as _;
    sha1::Sha1::digest(body)
        .iter()
        .fold(String::with_capacity(40), |mut hex, b| {
            hex.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
            hex.push(char::from_digit(u32::from(b & 15), 16).unwrap_or('0'));
            hex
        })
}

/// A Lua value as text where Lua would make one (strings and numbers), else `None`.
pub fn lua_text(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(i) => Some(i.to_string().into_bytes()),
        Value::Number(n) => Some(super::convert::lua_number_text(*n).into_bytes()),
        _ => None,
    }
}
