//! The `redis` table scripts see, the error handler that locates an error in the script, and the sandbox.
//!
//! Most of `redis.*` is a few lines of Lua (argument checks that raise Redis's error tables); what needs the
//! server (`redis.call`) or Rust (`sha1hex`, `log`) is a Rust function stored in the glue table. `glue.call` is
//! set only while a script runs, by `run::run_script`, because it borrows that run's `Ctx`.

use mlua::{Function, Lua, Table, Value};

/// The chunk name of the glue's own functions: the error handler skips their frames.
const GLUE_CHUNK: &str = "=ferredis";

const PRELUDE: &str = r#"
local glue, handler = ...
local select, type, tonumber, tostring, xpcall = select, type, tonumber, tostring, xpcall
local function err(msg) return {err = 'ERR ' .. msg}, true end
local function outside(what)
  if glue.call == nil then return err(what .. ' can only be called inside a script invocation') end
end
local redis, raising = {}, {}
-- Each function of `raising` returns `value, failed`; Rust wraps it in a C function that raises `value` when
-- `failed` (a C function, so `return redis.call(...)` keeps the script's frame for the error's line).
-- call and pcall get their arguments packed in one table (see `packed_trampoline`).
function raising.call(args, n)
  local e, f = outside('redis.call/pcall')
  if e then return e, f end
  return glue.call(args, n)
end
function raising.pcall(args, n)
  local e, f = outside('redis.call/pcall')
  if e then return e, f end
  return (glue.call(args, n)), false
end
-- redis.acl_check_cmd: glue.call in its checking mode (it needs the run's client, as redis.call does).
function raising.acl_check_cmd(...)
  local e, f = outside('redis.acl_check_cmd')
  if e then return e, f end
  return glue.call({...}, select('#', ...), true)
end
function raising.sha1hex(...)
  if select('#', ...) ~= 1 then return err('wrong number of arguments') end
  return glue.sha1hex((...)), false
end
function raising.log(...)
  local n = select('#', ...)
  if n < 2 then return err('redis.log() requires two arguments or more.') end
  local level = tonumber((...))
  if level == nil then return err('First argument must be a number (log level).') end
  if level <= -1 or level >= 4 then return err('Invalid debug level.') end
  local parts = {}
  for i = 2, n do
    local v = select(i, ...)
    if type(v) == 'string' or type(v) == 'number' then parts[#parts + 1] = tostring(v) end
  end
  glue.log(level, table.concat(parts, ' '))
  return nil, false
end
function raising.setresp(...)
  local e, f = outside('redis.setresp')
  if e then return e, f end
  if select('#', ...) ~= 1 then return err('redis.setresp() requires one argument.') end
  local v = tonumber((...)) or 0
  if not (v >= 2 and v < 4) then return err('RESP version must be 2 or 3.') end
  glue.resp = (v >= 3) and 3 or 2
  return nil, false
end
function raising.set_repl(...)
  local e, f = outside('redis.set_repl')
  if e then return e, f end
  if select('#', ...) ~= 1 then return err('redis.set_repl() requires two arguments.') end
  local v = tonumber((...)) or 0
  if v <= -1 or v >= 4 then
    return err('Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.')
  end
  return nil, false
end
function redis.error_reply(...)
  local e = ...
  if select('#', ...) ~= 1 or type(e) ~= 'string' then return {err = 'ERR wrong number or type of arguments'} end
  if e:sub(1, 1) ~= '-' then e = '-' .. e end
  return glue.error_table(e)
end
function redis.status_reply(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then return {err = 'ERR wrong number or type of arguments'} end
  return {ok = s}
end
function redis.replicate_commands() return true end
-- The Lua debugger's hooks: outside a SCRIPT DEBUG session (there is no debugger) a breakpoint is not taken and
-- debug output goes nowhere, as in Redis.
function redis.breakpoint() return false end
function redis.debug() end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.REDIS_VERSION, redis.REDIS_VERSION_NUM = '7.0.15', 0x07000f
rawset(_G, 'redis', redis)
-- Redis 7's pcall: a caught error table with a text `err` is returned as that text, as before 7.0.
local raw_pcall = pcall
local function caught(ok, ...)
  if ok then return ok, ... end
  local e = ...
  -- A script SCRIPT KILL (or FUNCTION KILL) stopped, or a library body past its load time, cannot swallow the
  -- error: Redis switches its hook to fire on every line for that; re-raising here has the same effect.
  if glue.interrupted() then error(e, 0) end
  if type(e) == 'table' then
    local text = rawget(e, 'err')
    if type(text) == 'string' or type(text) == 'number' then e = text end
  end
  return false, e
end
rawset(_G, 'pcall', function(...) return caught(raw_pcall(...)) end)
-- unpack with Redis's bound: stock Lua 5.1 overflows its int count (and crashes) on ranges of 2^31 or more.
local raw_unpack, floor = unpack, math.floor
local function int(v, default)
  v = tonumber(v)
  if v == nil then return default end
  return v >= 0 and floor(v) or -floor(-v)
end
rawset(_G, 'unpack', function(...)
  local t, i, j = ...
  if type(t) == 'table' then
    i, j = int(i, 1), int(j, #t)
    if i <= j and j - i + 1 >= 2147483647 then error('too many results to unpack', 2) end
  end
  -- The same arguments, so the C stack check counts what it counts for a direct call.
  return raw_unpack(...)
end)
local runner = function(f)
  glue.resp = 2
  return xpcall(f, handler)
end
-- A function (FCALL) gets KEYS and ARGV as its two arguments, not as globals.
glue.fn_runner = function(f, keys, argv)
  glue.resp = 2
  return xpcall(function() return f(keys, argv) end, handler)
end
-- A library's body at FUNCTION LOAD runs with no error handler, as Redis's `lua_pcall(lua,0,0,0)`.
glue.loader = function(f) return raw_pcall(f) end
return runner, redis, raising
"#;

/// Loads the `redis` table and returns the runner (`xpcall` of a script with the error handler).
pub fn install(lua: &Lua, glue: &Table) -> mlua::Result<Function> {
    glue.raw_set(
        "error_table",
        lua.create_function(|lua, s: mlua::LuaString| error_table(lua, &s.as_bytes()))?,
    )?;
    glue.raw_set(
        "sha1hex",
        lua.create_function(|_, v: Value| {
            let text = super::engine::lua_text(&v).unwrap_or_default();
            Ok(super::engine::sha1_hex(&text))
        })?,
    )?;
    glue.raw_set(
        "log",
        lua.create_function(|_, (level, msg): (f64, mlua::LuaString)| {
            let msg = String::from_utf8_lossy(&msg.as_bytes()).into_owned();
            match level as i64 {
                3 => log::warn!("{msg}"),
                2 => log::info!("{msg}"),
                1 => log::debug!("{msg}"),
                _ => log::trace!("{msg}"),
            }
            Ok(())
        })?,
    )?;
    let handler = lua.create_function(handler)?;
    let (runner, redis, raising): (Function, Table, Table) = lua
        .load(PRELUDE)
        .set_name(GLUE_CHUNK)
        .call((glue.clone(), handler))?;
    for pair in raising.pairs::<String, Function>() {
        let (name, inner) = pair?;
        let packed = name == "call" || name == "pcall";
        redis.raw_set(name, wrap(lua, inner, packed)?)?;
    }
    Ok(runner)
}

/// Wraps `inner` (returning `value, failed`) in a C function that returns `value`, or raises it when `failed`:
/// a table as it is (Redis's error tables), a string prefixed with the caller's position as `luaL_error` does.
///
/// A C function, not Lua, because Lua turns `return f(...)` into a tail call that drops the script's frame when
/// `f` is a Lua function: the error handler would then not find the script's line.
pub fn raising_function(lua: &Lua, inner: Function) -> mlua::Result<Function> {
    wrap(lua, inner, false)
}

/// As `raising_function`, for an `inner` whose value is a table of results with their count in `n`: the
/// function returns those results (`cmsgpack.unpack`, `struct.unpack`).
pub fn spreading_function(lua: &Lua, inner: Function) -> mlua::Result<Function> {
    with_trampoline(lua, inner, spread_trampoline)
}

fn wrap(lua: &Lua, inner: Function, packed: bool) -> mlua::Result<Function> {
    let body: mlua::ffi::lua_CFunction = if packed {
        packed_trampoline
    } else {
        trampoline
    };
    with_trampoline(lua, inner, body)
}

fn with_trampoline(
    lua: &Lua,
    inner: Function,
    body: mlua::ffi::lua_CFunction,
) -> mlua::Result<Function> {
    // SAFETY: `exec_raw` gives a stack whose top is `inner`; `lua_pushcclosure` pops it into the closure's one
    // upvalue and pushes the closure, which is the single result read back.
    unsafe {
        lua.exec_raw(inner, |state| {
            mlua::ffi::lua_pushcclosure(state, body, 1);
        })
    }
}

/// `trampoline` for redis.call and redis.pcall, which take any number of arguments (Redis's own test passes
/// 8001): a Rust callback cannot receive more than Lua's C stack limit (8000 slots), so the arguments are first
/// packed into one table (a C function always has room for a few pushes past its arguments) and `inner` gets
/// `(table, count)`.
unsafe extern "C-unwind" fn packed_trampoline(
    state: *mut mlua::ffi::lua_State,
) -> std::os::raw::c_int {
    use mlua::ffi;
    let nargs = ffi::lua_gettop(state);
    ffi::lua_createtable(state, nargs, 0);
    for i in 1..=nargs {
        ffi::lua_pushvalue(state, i);
        ffi::lua_rawseti(state, -2, i.into());
    }
    if nargs > 0 {
        ffi::lua_replace(state, 1);
    }
    ffi::lua_settop(state, 1);
    ffi::lua_pushnumber(state, nargs as ffi::lua_Number);
    trampoline(state)
}

/// The body of `spreading_function`; as `trampoline`, it holds no Rust value with a destructor.
unsafe extern "C-unwind" fn spread_trampoline(
    state: *mut mlua::ffi::lua_State,
) -> std::os::raw::c_int {
    use mlua::ffi;
    let nargs = ffi::lua_gettop(state);
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, nargs, 2);
    if ffi::lua_toboolean(state, -1) != 0 {
        return raise(state);
    }
    ffi::lua_settop(state, -2);
    if ffi::lua_type(state, -1) != ffi::LUA_TTABLE {
        return 1;
    }
    let results = ffi::lua_gettop(state);
    ffi::lua_getfield(state, results, c"n".as_ptr());
    let n = ffi::lua_tointeger(state, -1).max(0) as std::os::raw::c_int;
    ffi::lua_settop(state, -2);
    ffi::luaL_checkstack(state, n, c"too many results to unpack".as_ptr());
    for i in 1..=n {
        ffi::lua_rawgeti(state, results, i.into());
    }
    n
}

/// The body of `raising_function`. It holds no Rust value with a destructor, so Lua's `longjmp` out of it (an
/// error from `inner`, or `lua_error`) skips nothing that needed dropping.
unsafe extern "C-unwind" fn trampoline(state: *mut mlua::ffi::lua_State) -> std::os::raw::c_int {
    use mlua::ffi;
    let nargs = ffi::lua_gettop(state);
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, nargs, 2);
    if ffi::lua_toboolean(state, -1) == 0 {
        ffi::lua_settop(state, -2);
        return 1;
    }
    raise(state)
}

/// Raises the value under the top slot (the `failed` flag, dropped here), as `trampoline` explains.
unsafe fn raise(state: *mut mlua::ffi::lua_State) -> std::os::raw::c_int {
    use mlua::ffi;
    ffi::lua_settop(state, -2);
    if ffi::lua_type(state, -1) == ffi::LUA_TSTRING {
        ffi::luaL_where(state, 1);
        ffi::lua_insert(state, -2);
        ffi::lua_concat(state, 2);
    }
    ffi::lua_error(state)
}

/// Redis's error table from an error line `-CODE message` (`luaPushErrorBuff`): a line with no space gets the
/// code `ERR`; trailing and leading CR/LF are trimmed from the message.
pub fn error_table(lua: &Lua, line: &[u8]) -> mlua::Result<Table> {
    let body = line.strip_prefix(b"-").unwrap_or(line);
    let (code, msg): (&[u8], &[u8]) = if line.first() == Some(&b'-') {
        match body.iter().position(|&b| b == b' ') {
            Some(sp) => (&body[..sp], &body[sp + 1..]),
            None => (b"ERR", body),
        }
    } else {
        (b"ERR", line)
    };
    let msg = trim_crlf(msg);
    let mut text = Vec::with_capacity(code.len() + 1 + msg.len());
    text.extend_from_slice(code);
    text.push(b' ');
    text.extend_from_slice(msg);
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(&text)?)?;
    Ok(t)
}

fn trim_crlf(mut s: &[u8]) -> &[u8] {
    while let [b'\r' | b'\n', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b'\r' | b'\n'] = s {
        s = rest;
    }
    s
}

/// The `xpcall` handler: turns any error into an error table and records where in the script it was raised
/// (the first frame that is neither C nor the glue), as Redis's `__redis__err__handler` does.
fn handler(lua: &Lua, err: Value) -> mlua::Result<Table> {
    let table = match err {
        Value::Table(t) => t,
        other => {
            let text = match &other {
                Value::Error(e) => e.to_string(),
                v => String::from_utf8_lossy(&super::engine::lua_text(v).unwrap_or_default())
                    .into_owned(),
            };
            let t = lua.create_table()?;
            t.raw_set("err", format!("ERR {text}"))?;
            t
        }
    };
    for level in 1..64 {
        let frame = lua.inspect_stack(level, |d| {
            let src = d.source();
            let source = src.source.map(|s| s.into_owned()).unwrap_or_default();
            (src.what, source, d.current_line())
        });
        let Some((what, source, line)) = frame else {
            break;
        };
        if what == "C" || source == GLUE_CHUNK {
            continue;
        }
        table.raw_set("source", source)?;
        if let Some(line) = line {
            table.raw_set("line", line)?;
        }
        break;
    }
    Ok(table)
}

/// Redis's global protection, as far as stock Lua 5.1 allows: reading a missing global and writing any global
/// are errors; the libraries (`redis`, `cjson`, `bit`, `string`, ...) are read-only proxies; the metatables of
/// `_G` and of strings cannot be read back for writing nor replaced; binary chunks do not load; and the globals a
/// script must not reach (files, modules, the debug library, environment tricks) are removed.
///
/// Returns the table that now holds the globals (`KEYS` and `ARGV` are set there), the metatable of `_G` (whose
/// `__index` FUNCTION LOAD points at the library API for the length of a load) and the read-only `proxy` maker.
/// `deprecated_api` (`lua-enable-deprecated-api`) keeps Redis's deprecated builtins.
pub fn protect_globals(lua: &Lua, deprecated_api: bool) -> mlua::Result<(Table, Table, Function)> {
    let globals = lua.globals();
    let removed = [
        "print", "dofile", "loadfile", "module", "require", "package", "debug", "os", "io",
    ];
    for name in removed {
        globals.raw_set(name, Value::Nil)?;
    }
    // Redis's `lua_builtins_deprecated`.
    if !deprecated_api {
        for name in ["newproxy", "setfenv", "getfenv"] {
            globals.raw_set(name, Value::Nil)?;
        }
    }
    lua.load(PROTECT).set_name(GLUE_CHUNK).call(())
}

const PROTECT: &str = r#"
local G = _G
local error, tostring, type, rawget, rawset, setmetatable = error, tostring, type, rawget, rawset, setmetatable
local protected = setmetatable({}, {__mode = 'k'})
local function readonly() error('Attempt to modify a readonly table', 2) end
local function proxy(real)
  local p = setmetatable({}, {__index = real, __newindex = readonly, __metatable = false})
  protected[p] = true
  return p
end
for _, name in ipairs({'redis', 'cjson', 'cmsgpack', 'struct', 'bit', 'string', 'math', 'table', 'coroutine'}) do
  rawset(G, name, proxy(rawget(G, name)))
end
local string_meta = getmetatable('')
string_meta.__metatable = proxy(string_meta)
local raw_load, raw_loadstring = load, loadstring
rawset(G, 'loadstring', function(s, ...)
  if type(s) == 'string' and s:byte(1) == 27 then return nil, 'binary chunks are not allowed' end
  return raw_loadstring(s, ...)
end)
rawset(G, 'load', function(f, ...)
  if type(f) == 'string' and f:byte(1) == 27 then return nil, 'binary chunks are not allowed' end
  return raw_load(f, ...)
end)
-- Redis raises these two from C without a position.
rawset(G, 'setmetatable', function(t, mt)
  if protected[t] then error('Attempt to modify a readonly table', 0) end
  return setmetatable(t, mt)
end)
rawset(G, 'rawset', function(t, k, v)
  if protected[t] then error('Attempt to modify a readonly table', 0) end
  return rawset(t, k, v)
end)
-- The globals move to `real`, behind an empty `_G`: every assignment to a global, existing or not, then reaches
-- `__newindex`; a read falls through to `real`, and from there a missing name to the error.
local real = {}
for k, v in next, G do real[k] = v end
for k in next, real do rawset(G, k, nil) end
setmetatable(real, {__index = function(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end})
local meta = {__index = real, __newindex = readonly}
meta.__metatable = proxy(meta)
setmetatable(G, meta)
protected[G] = true
return real, meta, proxy
"#;
