//! The functions' Lua state: FUNCTION LOAD runs a library's body there with only the library API in sight
//! (`redis.register_function`, `redis.log`, the version), as Redis's `function_lua.c` does, and FCALL runs the
//! registered callbacks there with the full `redis` API.
//!
//! Why a state of its own (not EVAL's): SCRIPT FLUSH throws EVAL's state away, and must not take the libraries
//! with it; and Redis keeps the two apart, so what a library leaves in its state is not visible to EVAL.

use std::sync::Arc;

use mlua::{Function, Lua, MultiValue, Table, Value};
use parking_lot::Mutex;

use super::library::{valid_name, FunctionDef, Libraries, Library, BAD_NAME, FLAG_NAMES};
use crate::scripting::engine::Engine;
use crate::scripting::glue::{error_table, raising_function};
use crate::scripting::Running;

/// How long a library's body may run at FUNCTION LOAD (Redis's `LOAD_TIMEOUT_MS`).
pub const LOAD_TIMEOUT_MS: i64 = 500;

/// The functions registered by the body running now; `None` outside FUNCTION LOAD.
type Slot = Arc<Mutex<Option<Vec<FunctionDef>>>>;

const LOAD_API: &str = r#"
local register, redis, proxy = ...
local error, tostring, setmetatable = error, tostring, setmetatable
local function strict(t)
  return setmetatable(t, {__index = function(_, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end})
end
local lib = strict({
  register_function = register, log = redis.log,
  LOG_DEBUG = redis.LOG_DEBUG, LOG_VERBOSE = redis.LOG_VERBOSE,
  LOG_NOTICE = redis.LOG_NOTICE, LOG_WARNING = redis.LOG_WARNING,
  REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
})
return strict({redis = proxy(lib)})
"#;

/// The Lua state of the functions and what FUNCTION LOAD needs to run a body in it.
pub struct Compiler {
    pub engine: Engine,
    slot: Slot,
    /// The globals a body sees while it loads.
    api: Table,
    running: Arc<Running>,
}

impl Compiler {
    pub fn new(engine: Engine, running: Arc<Running>) -> mlua::Result<Compiler> {
        let slot: Slot = Arc::default();
        let inner_slot = slot.clone();
        let register = engine
            .lua
            .create_function(move |lua, args: MultiValue| register(lua, &inner_slot, args))?;
        let register = raising_function(&engine.lua, register)?;
        let redis: Table = engine.globals().raw_get("redis")?;
        let api = engine.lua.load(LOAD_API).set_name("=ferredis").call((
            register,
            redis,
            engine.proxy.clone(),
        ))?;
        Ok(Compiler {
            engine,
            slot,
            api,
            running,
        })
    }

    /// Compiles `body` and runs it so that it registers its functions (Redis's `luaEngineCreate`).
    pub fn compile(&self, body: &[u8], timeout_ms: i64) -> Result<Vec<FunctionDef>, String> {
        let meta = &self.engine.meta;
        let _ = meta.raw_set("__index", self.api.clone());
        let outcome = self.run_body(body, timeout_ms);
        let _ = meta.raw_set("__index", self.engine.globals().clone());
        self.running.set_load_deadline(0);
        let defs = self.slot.lock().take().unwrap_or_default();
        outcome.map(|()| defs)
    }

    fn run_body(&self, body: &[u8], timeout_ms: i64) -> Result<(), String> {
        let lua = &self.engine.lua;
        let function = lua
            .load(body)
            .set_name("@user_function")
            .set_mode(mlua::chunk::ChunkMode::Text)
            .into_function()
            .map_err(|e| format!("Error compiling function: {}", syntax_message(&e)))?;
        *self.slot.lock() = Some(Vec::new());
        if timeout_ms > 0 {
            self.running
                .set_load_deadline(crate::util::time::now_ms() + timeout_ms);
        }
        let loader: Function = self
            .engine
            .glue
            .raw_get("loader")
            .map_err(|e| e.to_string())?;
        match loader.call::<(bool, Value)>(function) {
            Ok((true, _)) => Ok(()),
            Ok((false, err)) => Err(format!("Error registering functions: {}", error_text(&err))),
            Err(e) => Err(format!("Error registering functions: ERR {e}")),
        }
    }
}

/// Redis's `luaExtractErrorInformation` message: a string error gets `ERR `, a table gives its `err`.
fn error_text(err: &Value) -> String {
    match err {
        Value::Table(t) => t
            .raw_get::<mlua::LuaString>("err")
            .map(|s| String::from_utf8_lossy(&s.as_bytes()).into_owned())
            .unwrap_or_default(),
        Value::Error(e) => {
            let text = e.to_string();
            format!(
                "ERR {}",
                text.strip_prefix("runtime error: ").unwrap_or(&text)
            )
        }
        other => {
            let text = crate::scripting::engine::lua_text(other).unwrap_or_default();
            format!("ERR {}", String::from_utf8_lossy(&text))
        }
    }
}

fn syntax_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// `redis.register_function(name, callback)` or `redis.register_function{function_name=..., callback=...,
/// flags={...}, description=...}`; returns `value, failed` for the raising wrapper.
fn register(lua: &Lua, slot: &Slot, args: MultiValue) -> mlua::Result<(Value, bool)> {
    let fail = |msg: &str| Ok((Value::Table(error_table(lua, msg.as_bytes())?), true));
    let mut guard = slot.lock();
    let Some(defs) = guard.as_mut() else {
        return fail("redis.register_function can only be called on FUNCTION LOAD command");
    };
    let args: Vec<Value> = args.into_iter().collect();
    let parsed = match args.as_slice() {
        [named] => named_args(named),
        [name, callback] => positional_args(name, callback),
        _ => Err("wrong number of arguments to redis.register_function"),
    };
    let def = match parsed {
        Ok(def) => def,
        Err(msg) => return fail(msg),
    };
    if !valid_name(def.name.as_bytes()) {
        return fail(BAD_NAME);
    }
    if defs.iter().any(|d| d.name == def.name) {
        return fail("Function already exists in the library");
    }
    defs.push(def);
    Ok((Value::Nil, false))
}

/// Lua's `lua_isstring`: strings and numbers, as text.
fn as_text(v: &Value) -> Option<Vec<u8>> {
    crate::scripting::engine::lua_text(v)
}

fn positional_args(name: &Value, callback: &Value) -> Result<FunctionDef, &'static str> {
    let name = as_text(name).ok_or("first argument to redis.register_function must be a string")?;
    let Value::Function(callback) = callback else {
        return Err("second argument to redis.register_function must be a function");
    };
    Ok(FunctionDef {
        name: String::from_utf8_lossy(&name).into_owned(),
        desc: None,
        flags: 0,
        callback: callback.clone(),
    })
}

fn named_args(arg: &Value) -> Result<FunctionDef, &'static str> {
    let Value::Table(t) = arg else {
        return Err("calling redis.register_function with a single argument is only applicable to Lua table \
                    (representing named arguments).");
    };
    let (mut name, mut desc, mut callback, mut flags) = (None, None, None, 0u8);
    for pair in t.pairs::<Value, Value>() {
        let Ok((key, value)) = pair else {
            return Err("named argument key given to redis.register_function is not a string");
        };
        let key = as_text(&key)
            .ok_or("named argument key given to redis.register_function is not a string")?;
        match key.to_ascii_lowercase().as_slice() {
            b"function_name" => {
                name = Some(as_text(&value).ok_or(
                    "function_name argument given to redis.register_function must be a string",
                )?)
            }
            b"description" => {
                desc = Some(as_text(&value).ok_or(
                    "description argument given to redis.register_function must be a string",
                )?)
            }
            b"callback" => match value {
                Value::Function(f) => callback = Some(f),
                _ => {
                    return Err(
                        "callback argument given to redis.register_function must be a function",
                    )
                }
            },
            b"flags" => flags = read_flags(&value)?,
            _ => return Err("unknown argument given to redis.register_function"),
        }
    }
    let name = name.ok_or("redis.register_function must get a function name argument")?;
    let callback = callback.ok_or("redis.register_function must get a callback argument")?;
    Ok(FunctionDef {
        name: String::from_utf8_lossy(&name).into_owned(),
        desc,
        flags,
        callback,
    })
}

/// The `flags` table: a list of flag names, case-insensitive.
fn read_flags(value: &Value) -> Result<u8, &'static str> {
    let Value::Table(t) = value else {
        return Err(
            "flags argument to redis.register_function must be a table representing function flags",
        );
    };
    let mut flags = 0;
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) => break,
            Ok(v) => {
                flags |= flag_bit(&as_text(&v).unwrap_or_default()).ok_or("unknown flag given")?
            }
            Err(_) => return Err("unknown flag given"),
        }
    }
    Ok(flags)
}

/// The bit of a flag name (`no-writes` is 1, then Redis's order).
pub fn flag_bit(name: &[u8]) -> Option<u8> {
    FLAG_NAMES
        .iter()
        .position(|f| f.as_bytes().eq_ignore_ascii_case(name))
        .map(|i| 1 << i)
}

/// Redis's `functionsCreateWithLibraryCtx`: parses the metadata, runs the body and adds the library to `libs`
/// (replacing one of the same name when `replace`); on any error `libs` is as it was. Returns the library name.
pub fn create(
    compiler: &Compiler,
    libs: &mut Libraries,
    code: &[u8],
    replace: bool,
    timeout_ms: i64,
) -> Result<String, String> {
    let md = super::library::metadata(code)?;
    if !valid_name(&md.name) {
        return Err(BAD_NAME.into());
    }
    if !md.engine.eq_ignore_ascii_case(b"lua") {
        return Err(format!(
            "Engine '{}' not found",
            String::from_utf8_lossy(&md.engine)
        ));
    }
    let name = String::from_utf8_lossy(&md.name).into_owned();
    if libs.contains(&name) && !replace {
        return Err(format!("Library '{name}' already exists"));
    }
    let old = libs.unlink(&name);
    let restore = |libs: &mut Libraries, err: String| {
        if let Some(lib) = old {
            libs.link(lib);
        }
        Err(err)
    };
    let functions = match compiler.compile(&code[md.body_start..], timeout_ms) {
        Ok(f) => f,
        Err(e) => return restore(libs, e),
    };
    if functions.is_empty() {
        return restore(libs, "No functions registered".into());
    }
    let lib = Library {
        name: name.clone(),
        code: code.to_vec(),
        functions,
    };
    if let Some(f) = libs.collision(&lib) {
        let err = format!("Function {f} already exists");
        return restore(libs, err);
    }
    libs.link(lib);
    Ok(name)
}
