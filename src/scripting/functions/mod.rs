//! Redis 7.0 functions: FUNCTION LOAD | DELETE | FLUSH | LIST | DUMP | RESTORE | KILL | STATS | HELP, FCALL and
//! FCALL_RO.
//!
//! # Where things live
//! - `mod.rs` (here): the command rows and handlers, and the [`Store`] (the functions' Lua state and libraries)
//!   kept in the scripting mutex beside EVAL's interpreter.
//! - `engine`: the functions' Lua state, FUNCTION LOAD's run of a library body (`redis.register_function`) and
//!   Redis's rules for creating a library.
//! - `library`: the set of libraries, their metadata line, and how two sets join (RESTORE, RDB load).
//!
//! # Atomicity
//! FCALL locks as EVAL does (every shard, for writing; FCALL_RO for reading) and runs the callback through the
//! same `run::run_script`, so the reasoning of `scripting/mod.rs` holds: no client sees half a function, and a
//! function cannot deadlock. FUNCTION LOAD and the other subcommands take no shard lock, only the scripting
//! mutex, which nothing holding it ever waits on a shard for.

mod engine;
pub mod library;

use std::sync::atomic::Ordering::Relaxed;

use crate::commands::flags::*;
use crate::commands::keyspec::prelude::*;
use crate::commands::{Args, Command, Ctx};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;
use engine::{create, Compiler, LOAD_TIMEOUT_MS};
use library::{Libraries, ALLOW_OOM, FLAG_NAMES, NO_WRITES};

use super::run::{run_script, Mode};
use super::Scripts;

/// The functions' Lua state and the current libraries.
pub struct Store {
    compiler: Compiler,
    libs: Libraries,
}

/// A copy of what the libraries are, refreshed after each change: the RDB writer, FUNCTION STATS and INFO read it
/// without waiting for the scripting mutex (which a long function holds).
#[derive(Default, Clone)]
pub struct Published {
    generation: u64,
    pub codes: Vec<Vec<u8>>,
    pub libraries: usize,
    pub functions: usize,
    /// Every function's declared flags by its lower-cased name: the gates judge an FCALL by them before it runs
    /// (Redis's `fcallGetCommandFlags`, see `scripting::flags`).
    pub flags: std::collections::HashMap<String, u8>,
}

impl Scripts {
    /// Runs `f` on the functions' store, creating it on first use, and republishes the libraries if `f` changed
    /// them.
    fn with_functions<R>(&self, f: impl FnOnce(&mut Store) -> R) -> Result<R, Reply> {
        let mut state = self.engine.lock();
        if state.functions.is_none() {
            let started = self
                .new_engine()
                .and_then(|e| Compiler::new(e, self.running.clone()))
                .map_err(|e| Reply::err(&format!("Failed to start the Lua engine: {e}")))?;
            state.functions = Some(Store {
                compiler: started,
                libs: Libraries::default(),
            });
        }
        let Some(store) = state.functions.as_mut() else {
            return Err(Reply::err("Lua engine unavailable"));
        };
        let out = f(store);
        self.counts
            .function_lua_bytes
            .store(store.compiler.engine.lua.used_memory(), Relaxed);
        if store.libs.generation != self.published.read().generation {
            *self.published.write() = Published {
                generation: store.libs.generation,
                codes: store.libs.codes(),
                libraries: store.libs.len(),
                functions: store.libs.function_count(),
                flags: store
                    .libs
                    .iter()
                    .flat_map(|lib| lib.functions.iter())
                    .map(|f| (f.name.to_ascii_lowercase(), f.flags))
                    .collect(),
            };
        }
        Ok(out)
    }

    /// The flags function `name` declared, if it exists.
    pub fn function_flags(&self, name: &[u8]) -> Option<u8> {
        let key = String::from_utf8_lossy(name).to_ascii_lowercase();
        self.published.read().flags.get(&key).copied()
    }

    /// INFO memory's functions figures: (functions, bytes of library code, the functions' Lua heap).
    pub fn function_counts(&self) -> (usize, usize, usize) {
        let published = self.published.read();
        let code: usize = published.codes.iter().map(Vec::len).sum();
        let vm = self.counts.function_lua_bytes.load(Relaxed);
        (published.functions, code, vm)
    }

    /// The libraries' code, for the RDB (FUNCTION2 opcodes).
    pub fn library_codes(&self) -> Vec<Vec<u8>> {
        self.published.read().codes.clone()
    }

    /// Adds a library read from an RDB file (`replace`: DEBUG RELOAD MERGE); Redis's message on failure.
    pub fn load_library(&self, code: &[u8], replace: bool) -> Result<(), String> {
        self.with_functions(|store| {
            create(&store.compiler, &mut store.libs, code, replace, 0).map(drop)
        })
        .unwrap_or_else(|e| Err(reply_text(&e)))
    }

    /// Compiles a library read from a swapdb full sync's RDB into `libs`, beside the current ones (see
    /// `persist::rdbfile::Beside`); Redis's message on failure.
    pub fn compile_library(&self, libs: &mut Libraries, code: &[u8]) -> Result<(), String> {
        self.with_functions(|store| create(&store.compiler, libs, code, true, 0).map(drop))
            .unwrap_or_else(|e| Err(reply_text(&e)))
    }

    /// Puts `libs` in place of every current library (a swapdb full sync's, as Redis's
    /// `functionsLibCtxSwapWithCurrent`).
    pub fn install_libraries(&self, libs: Libraries) {
        let _ = self.with_functions(|store| {
            store.libs.clear();
            store.libs.join(libs, false)
        });
    }

    /// Drops every library (FLUSHALL does not; emptying the dataset for a reload or a full sync does).
    pub fn flush_functions(&self) {
        let _ = self.with_functions(|store| store.libs.clear());
    }
}

fn reply_text(reply: &Reply) -> String {
    match reply {
        Reply::Error(e) => e.to_string(),
        _ => String::new(),
    }
}

pub const COMMANDS: &[Command] = &[
    super::eval_row(
        "fcall",
        NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | MAY_REPLICATE,
        fcall,
        "7.0.0",
        "Invoke a function",
    )
    .complexity("Depends on the function that is executed.")
    .key_specs(&[ks(RW | ACCESS | UPDATE, Index(2), Keynum(0, 1, 1))
        .notes("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")]),
    super::eval_row(
        "fcall_ro",
        NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | READONLY,
        fcall_ro,
        "7.0.0",
        "Invoke a read-only function",
    )
    .complexity("Depends on the function that is executed.")
    .key_specs(&[ks(RO | ACCESS, Index(2), Keynum(0, 1, 1))
        .notes("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")]),
    Command::new("function", -2, 0, |_, _| Reply::Nil)
        .doc("scripting", "7.0.0", "A container for function commands")
        .complexity("Depends on subcommand.")
        .subcommands(SUBCOMMANDS),
];

const SUBCOMMANDS: &[Command] = &[
    Command::new("delete", 3, NOSCRIPT | WRITE, function_delete)
        .doc("scripting", "7.0.0", "Delete a function by name")
        .complexity("O(1)"),
    Command::new("dump", 2, NOSCRIPT, function_dump)
        .doc(
            "scripting",
            "7.0.0",
            "Dump all functions into a serialized binary payload",
        )
        .complexity("O(N) where N is the number of functions"),
    Command::new("flush", -2, NOSCRIPT | WRITE, function_flush)
        .doc("scripting", "7.0.0", "Deleting all functions")
        .complexity("O(N) where N is the number of functions deleted"),
    Command::new("help", 2, LOADING | STALE, function_help)
        .doc(
            "scripting",
            "7.0.0",
            "Show helpful text about the different subcommands",
        )
        .complexity("O(1)"),
    Command::new("kill", 2, NOSCRIPT | ALLOW_BUSY, function_kill)
        .doc(
            "scripting",
            "7.0.0",
            "Kill the function currently in execution.",
        )
        .complexity("O(1)"),
    Command::new("list", -2, NOSCRIPT, function_list)
        .doc(
            "scripting",
            "7.0.0",
            "List information about all the functions",
        )
        .complexity("O(N) where N is the number of functions"),
    Command::new("load", -3, NOSCRIPT | WRITE | DENYOOM, function_load)
        .doc(
            "scripting",
            "7.0.0",
            "Create a function with the given arguments (name, code, description)",
        )
        .complexity("O(1) (considering compilation time is redundant)"),
    Command::new("restore", -3, NOSCRIPT | WRITE | DENYOOM, function_restore)
        .doc(
            "scripting",
            "7.0.0",
            "Restore all the functions on the given payload",
        )
        .complexity("O(N) where N is the number of functions on the payload"),
    Command::new("stats", 2, NOSCRIPT | ALLOW_BUSY, function_stats)
        .doc(
            "scripting",
            "7.0.0",
            "Return information about the function currently running (name, description, duration)",
        )
        .complexity("O(1)"),
];

fn syntax_error(args: Args) -> Reply {
    Reply::err(&format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
        String::from_utf8_lossy(args.get(1))
    ))
}

/// `FUNCTION LOAD [REPLACE] code`
fn function_load(ctx: &mut Ctx, args: Args) -> Reply {
    let mut replace = false;
    let mut pos = 2;
    while pos < args.len() - 1 {
        let opt = args.get(pos);
        pos += 1;
        if opt.eq_ignore_ascii_case(b"replace") {
            replace = true;
            continue;
        }
        return Reply::err(&format!(
            "Unknown option given: {}",
            String::from_utf8_lossy(opt)
        ));
    }
    let code = args.get(pos);
    let outcome = ctx.server.scripts.with_functions(|store| {
        create(
            &store.compiler,
            &mut store.libs,
            code,
            replace,
            LOAD_TIMEOUT_MS,
        )
    });
    match outcome {
        Ok(Ok(name)) => {
            ctx.count_dirty(1);
            Reply::bulk(name.into_bytes())
        }
        Ok(Err(e)) => Reply::err(&e),
        Err(reply) => reply,
    }
}

fn function_delete(ctx: &mut Ctx, args: Args) -> Reply {
    let name = String::from_utf8_lossy(args.get(2)).into_owned();
    let outcome = ctx
        .server
        .scripts
        .with_functions(|store| store.libs.unlink(&name).is_some());
    match outcome {
        Ok(true) => {
            ctx.count_dirty(1);
            Reply::Ok
        }
        Ok(false) => Reply::err("Library not found"),
        Err(reply) => reply,
    }
}

fn function_flush(ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() > 3 {
        return syntax_error(args);
    }
    if args.len() == 3
        && !args.get(2).eq_ignore_ascii_case(b"sync")
        && !args.get(2).eq_ignore_ascii_case(b"async")
    {
        return Reply::err("FUNCTION FLUSH only supports SYNC|ASYNC option");
    }
    ctx.server.scripts.flush_functions();
    ctx.count_dirty(1);
    Reply::Ok
}

/// `FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]`
fn function_list(ctx: &mut Ctx, args: Args) -> Reply {
    let (mut with_code, mut pattern) = (false, None);
    let mut i = 2;
    while i < args.len() {
        let arg = args.get(i);
        if !with_code && arg.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && arg.eq_ignore_ascii_case(b"libraryname") {
            if i + 1 >= args.len() {
                return Reply::err("library name argument was not given");
            }
            i += 1;
            pattern = Some(args.get(i));
        } else {
            let text = String::from_utf8_lossy(arg).replace(['\r', '\n'], " ");
            return Reply::err(&format!("Unknown argument {text}"));
        }
        i += 1;
    }
    let outcome = ctx.server.scripts.with_functions(|store| {
        let libs = store.libs.iter().filter(|lib| {
            pattern.is_none_or(|p| crate::util::glob::glob_match(p, lib.name.as_bytes(), true))
        });
        Reply::Array(libs.map(|lib| library_reply(lib, with_code)).collect())
    });
    outcome.unwrap_or_else(|e| e)
}

fn library_reply(lib: &library::Library, with_code: bool) -> Reply {
    let functions = lib.functions.iter().map(|f| {
        let flags = FLAG_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| f.flags & (1 << i) != 0)
            .map(|(_, name)| Reply::Status((*name).into()))
            .collect();
        Reply::Map(vec![
            (Reply::bulk(&b"name"[..]), Reply::bulk(f.name.as_bytes())),
            (
                Reply::bulk(&b"description"[..]),
                f.desc.as_deref().map_or(Reply::Nil, Reply::bulk),
            ),
            (Reply::bulk(&b"flags"[..]), Reply::Set(flags)),
        ])
    });
    let mut fields = vec![
        (
            Reply::bulk(&b"library_name"[..]),
            Reply::bulk(lib.name.as_bytes()),
        ),
        (Reply::bulk(&b"engine"[..]), Reply::bulk(&b"LUA"[..])),
        (
            Reply::bulk(&b"functions"[..]),
            Reply::Array(functions.collect()),
        ),
    ];
    if with_code {
        fields.push((
            Reply::bulk(&b"library_code"[..]),
            Reply::bulk(&lib.code[..]),
        ));
    }
    Reply::Map(fields)
}

fn function_dump(ctx: &mut Ctx, _args: Args) -> Reply {
    let server = ctx.server;
    let compress = server.config.get("rdbcompression").as_deref() != Some("no");
    let codes = server.scripts.library_codes();
    Reply::bulk(crate::persist::rdb::payload::dump_functions(
        &codes, compress,
    ))
}

/// `FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]`
fn function_restore(ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() > 4 {
        return syntax_error(args);
    }
    let policy = match args.len() {
        4 => args.get(3).to_ascii_lowercase(),
        _ => b"append".to_vec(),
    };
    if !matches!(policy.as_slice(), b"append" | b"replace" | b"flush") {
        return Reply::err(
            "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
        );
    }
    let codes = match crate::persist::rdb::payload::function_codes(args.get(2)) {
        Ok(codes) => codes,
        Err(e) => return Reply::err(&e),
    };
    let outcome = ctx.server.scripts.with_functions(|store| {
        let mut restored = Libraries::default();
        for code in &codes {
            create(&store.compiler, &mut restored, code, false, 0)?;
        }
        if policy == b"flush" {
            store.libs.clear();
        }
        store.libs.join(restored, policy == b"replace")
    });
    match outcome {
        Ok(Ok(())) => {
            ctx.count_dirty(1);
            Reply::Ok
        }
        Ok(Err(e)) => Reply::err(&e),
        Err(reply) => reply,
    }
}

fn function_kill(ctx: &mut Ctx, _args: Args) -> Reply {
    ctx.server.scripts.running.kill(false)
}

/// FUNCTION STATS: answered without the scripting mutex, so it works while a function runs.
fn function_stats(ctx: &mut Ctx, _args: Args) -> Reply {
    let scripts = &ctx.server.scripts;
    let running = &scripts.running;
    let since = running.since_ms.load(Relaxed);
    if since != 0 && running.is_eval.load(Relaxed) {
        return Reply::error(super::BUSY_EVAL);
    }
    let current = running.function.lock().clone();
    let running_script = match current {
        Some((name, command)) if since != 0 => Reply::Map(vec![
            (Reply::bulk(&b"name"[..]), Reply::bulk(name.into_bytes())),
            (
                Reply::bulk(&b"command"[..]),
                Reply::Array(command.into_iter().map(Reply::bulk).collect()),
            ),
            (
                Reply::bulk(&b"duration_ms"[..]),
                Reply::Int(crate::util::time::now_ms() - since),
            ),
        ]),
        _ => Reply::Nil,
    };
    let published = scripts.published.read().clone();
    let lua = Reply::Map(vec![
        (
            Reply::bulk(&b"libraries_count"[..]),
            Reply::Int(published.libraries as i64),
        ),
        (
            Reply::bulk(&b"functions_count"[..]),
            Reply::Int(published.functions as i64),
        ),
    ]);
    Reply::Map(vec![
        (Reply::bulk(&b"running_script"[..]), running_script),
        (
            Reply::bulk(&b"engines"[..]),
            Reply::Map(vec![(Reply::bulk(&b"LUA"[..]), lua)]),
        ),
    ])
}

fn fcall(ctx: &mut Ctx, args: Args) -> Reply {
    fcall_generic(ctx, args, false)
}

fn fcall_ro(ctx: &mut Ctx, args: Args) -> Reply {
    fcall_generic(ctx, args, true)
}

/// `FCALL name numkeys [key ...] [arg ...]`, with Redis's checks in Redis's order.
fn fcall_generic(ctx: &mut Ctx, args: Args, ro: bool) -> Reply {
    super::feed_monitors(ctx, args);
    let server = ctx.server;
    let outcome = server.scripts.with_functions(|store| {
        let Some(f) = store.libs.find(args.get(1)).cloned() else {
            return Reply::err("Function not found");
        };
        // A function is `denyoom` unless it allows it (Redis's `scriptFlagsToCmdFlags`), so the refusal comes
        // before FCALL's own argument checks, as from `processCommand`.
        let allow_oom = f.flags & (ALLOW_OOM | NO_WRITES) != 0;
        if !allow_oom && crate::memory::pre_command_oom() {
            return crate::memory::oom_error();
        }
        let Some(numkeys) = parse_i64(args.get(2)) else {
            return Reply::err("Bad number of keys provided");
        };
        if numkeys > (args.len() - 3) as i64 {
            return Reply::err("Number of keys can't be greater than number of args");
        }
        if numkeys < 0 {
            return Reply::err("Number of keys can't be negative");
        }
        if ro && f.flags & NO_WRITES == 0 {
            return Reply::err("Can not execute a script with write flag using *_ro command.");
        }
        let may_write = f.flags & NO_WRITES == 0;
        if let Some(refused) = super::oom_refusal(server, may_write, f.flags & ALLOW_OOM != 0) {
            return refused;
        }
        let split = 3 + numkeys as usize;
        let keys: Vec<&[u8]> = (3..split).map(|i| args.get(i)).collect();
        let argv: Vec<&[u8]> = (split..args.len()).map(|i| args.get(i)).collect();
        let command = args.iter().map(|a| a.to_vec()).collect();
        let running = server.scripts.running.clone();
        running.start_function(&f.name, command);
        running.watch_slow(server, f.name.clone());
        running.set_allow_oom(allow_oom);
        let read_only = ro || f.flags & NO_WRITES != 0;
        let reply = run_script(
            &store.compiler.engine,
            ctx,
            &f.callback,
            &f.name,
            &keys,
            &argv,
            read_only,
            Mode::Function,
        );
        running.end();
        reply
    });
    outcome.unwrap_or_else(|e| e)
}

fn function_help(_ctx: &mut Ctx, _args: Args) -> Reply {
    crate::commands::introspection::help_reply(
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION \
             RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ],
    )
}
