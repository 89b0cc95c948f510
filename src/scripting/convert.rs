//! Values across the border: a command's reply into Lua (`redis.call`'s result) and a script's result into a
//! reply, both as Redis 7.0 converts them.
//!
//! Like Redis, a command's reply is first encoded as the protocol the script asked for (`redis.setresp`) and
//! then parsed into Lua values: every reply kind a handler can build gets the conversion its wire form gets.

use std::borrow::Cow;

use mlua::{Lua, Table, Value};

use crate::protocol::Reply;

/// Tables nested deeper than this are answered with Redis's stack-limit error instead of recursing further.
const MAX_DEPTH: usize = 200;

/// Parses one encoded reply into the Lua value Redis gives a script (`redisProtocolToLuaType`).
pub fn resp_to_lua(lua: &Lua, buf: &[u8]) -> mlua::Result<Value> {
    Ok(parse(lua, buf)?.0)
}

fn parse<'b>(lua: &Lua, buf: &'b [u8]) -> mlua::Result<(Value, &'b [u8])> {
    let (kind, line, rest) = split_line(buf)?;
    let value = match kind {
        b'+' => single(lua, "ok", Value::String(lua.create_string(line)?))?,
        b'-' => {
            let mut full = Vec::with_capacity(line.len() + 1);
            full.push(b'-');
            full.extend_from_slice(line);
            Value::Table(super::glue::error_table(lua, &full)?)
        }
        b':' => Value::Number(int(line)? as f64),
        b'$' | b'=' => return bulk(lua, kind, line, rest),
        b'*' | b'~' | b'%' | b'>' => return aggregate(lua, kind, line, rest),
        b'|' => {
            // An attribute map: Redis's script parser skips it and reads the reply that follows.
            let mut rest = rest;
            for _ in 0..int(line)?.max(0) * 2 {
                rest = parse(lua, rest)?.1;
            }
            return parse(lua, rest);
        }
        b'_' => Value::Nil,
        b'#' => Value::Boolean(line == b"t"),
        b',' => {
            let text = String::from_utf8_lossy(line);
            let d = crate::util::numbers::parse_f64(line).unwrap_or(match text.as_ref() {
                "nan" => f64::NAN,
                _ => 0.0,
            });
            single(lua, "double", Value::Number(d))?
        }
        b'(' => single(lua, "big_number", Value::String(lua.create_string(line)?))?,
        _ => return Err(mlua::Error::runtime("unknown reply type")),
    };
    Ok((value, rest))
}

fn bulk<'b>(lua: &Lua, kind: u8, line: &[u8], rest: &'b [u8]) -> mlua::Result<(Value, &'b [u8])> {
    let n = int(line)?;
    if n < 0 {
        return Ok((Value::Boolean(false), rest));
    }
    let n = n as usize;
    let data = rest.get(..n).ok_or_else(short)?;
    let rest = rest.get(n + 2..).ok_or_else(short)?;
    if kind == b'=' && n >= 4 {
        let t = lua.create_table()?;
        t.raw_set("format", lua.create_string(&data[..3])?)?;
        t.raw_set("string", lua.create_string(&data[4..])?)?;
        return Ok((single(lua, "verbatim_string", Value::Table(t))?, rest));
    }
    Ok((Value::String(lua.create_string(data)?), rest))
}

fn aggregate<'b>(
    lua: &Lua,
    kind: u8,
    line: &[u8],
    mut rest: &'b [u8],
) -> mlua::Result<(Value, &'b [u8])> {
    let n = int(line)?;
    if n < 0 {
        return Ok((Value::Boolean(false), rest));
    }
    let t = lua.create_table()?;
    for i in 0..n {
        let (item, after) = parse(lua, rest)?;
        rest = after;
        match kind {
            b'%' => {
                let (value, after) = parse(lua, rest)?;
                rest = after;
                t.raw_set(item, value)?;
            }
            b'~' => t.raw_set(item, true)?,
            _ => t.raw_set(i + 1, item)?,
        }
    }
    let value = match kind {
        b'%' => single(lua, "map", Value::Table(t))?,
        b'~' => single(lua, "set", Value::Table(t))?,
        _ => Value::Table(t),
    };
    Ok((value, rest))
}

/// A one-field table, as Redis wraps statuses (`ok`), maps, sets and doubles.
fn single(lua: &Lua, field: &str, value: Value) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.raw_set(field, value)?;
    Ok(Value::Table(t))
}

fn split_line(buf: &[u8]) -> mlua::Result<(u8, &[u8], &[u8])> {
    let end = memchr::memchr(b'\r', buf).ok_or_else(short)?;
    let kind = *buf.first().ok_or_else(short)?;
    Ok((kind, &buf[1..end], buf.get(end + 2..).ok_or_else(short)?))
}

fn int(line: &[u8]) -> mlua::Result<i64> {
    crate::util::numbers::parse_i64(line).ok_or_else(short)
}

fn short() -> mlua::Error {
    mlua::Error::runtime("malformed reply")
}

/// A script's result as the reply Redis sends (`luaReplyToRedisReply`); `resp` is the script's `setresp`.
pub fn lua_to_reply(value: &Value, resp: u8) -> Reply {
    to_reply(value, resp, 0)
}

fn to_reply(value: &Value, resp: u8, depth: usize) -> Reply {
    match value {
        Value::String(s) => Reply::bulk(&*s.as_bytes()),
        Value::Boolean(b) if resp == 3 => Reply::Bool(*b),
        Value::Boolean(true) => Reply::Int(1),
        Value::Integer(i) => Reply::Int(*i),
        Value::Number(n) => Reply::Int(c_long_long(*n)),
        Value::Table(t) if depth >= MAX_DEPTH => {
            let _ = t;
            Reply::error("ERR reached lua stack limit")
        }
        Value::Table(t) => table_reply(t, resp, depth),
        _ => Reply::Nil,
    }
}

fn table_reply(t: &Table, resp: u8, depth: usize) -> Reply {
    if let Ok(Value::String(e)) = t.raw_get::<Value>("err") {
        return Reply::Error(Cow::Owned(one_line(&e.as_bytes())));
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("ok") {
        return Reply::Status(Cow::Owned(one_line(&s.as_bytes())));
    }
    if let Ok(Value::Number(d)) = t.raw_get::<Value>("double") {
        return Reply::Double(d);
    }
    if let Ok(Value::Integer(d)) = t.raw_get::<Value>("double") {
        return Reply::Double(d as f64);
    }
    if let Ok(Value::String(b)) = t.raw_get::<Value>("big_number") {
        return Reply::BigNumber(one_line(&b.as_bytes()));
    }
    if let Ok(Value::Table(v)) = t.raw_get::<Value>("verbatim_string") {
        if let (Ok(Value::String(text)), Ok(Value::String(format))) =
            (v.raw_get::<Value>("string"), v.raw_get::<Value>("format"))
        {
            // Redis sends the format's first three bytes; the two formats Redis itself produces are kept.
            let format = match &format.as_bytes()[..] {
                b"mkd" => "mkd",
                _ => "txt",
            };
            return Reply::Verbatim(format, text.as_bytes().to_vec());
        }
    }
    if let Ok(Value::Table(m)) = t.raw_get::<Value>("map") {
        let pairs = m
            .pairs::<Value, Value>()
            .filter_map(Result::ok)
            .map(|(k, v)| (to_reply(&k, resp, depth + 1), to_reply(&v, resp, depth + 1)))
            .collect();
        return Reply::Map(pairs);
    }
    if let Ok(Value::Table(s)) = t.raw_get::<Value>("set") {
        let items = s
            .pairs::<Value, Value>()
            .filter_map(Result::ok)
            .map(|(k, _)| to_reply(&k, resp, depth + 1))
            .collect();
        return Reply::Set(items);
    }
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(to_reply(&v, resp, depth + 1)),
        }
    }
    Reply::Array(items)
}

/// C's `(long long)` cast as x86-64 performs it: out of range (or NaN) gives the "integer indefinite" value.
fn c_long_long(n: f64) -> i64 {
    let limit = i64::MAX as f64; // 2^63
    if n.is_nan() || !(-limit..limit).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// Status and error lines cannot hold CR or LF: Redis replaces them with spaces.
fn one_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace(['\r', '\n'], " ")
}

/// C's `printf("%.*g", precision, n)`: Lua prints numbers with 14 digits, Redis passes them to commands with 17.
pub fn format_g(n: f64, precision: usize) -> String {
    let mut buf = [0u8; 64];
    let fmt = format!("%.{precision}g\0");
    // SAFETY: the buffer is 64 bytes and snprintf writes at most that many, NUL included; the format string is
    // NUL-terminated and takes exactly one double.
    let len = unsafe {
        libc::snprintf(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            fmt.as_ptr() as *const libc::c_char,
            n,
        )
    };
    let len = (len.max(0) as usize).min(buf.len() - 1);
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

/// How Lua 5.1 turns a number into a string (`LUA_NUMBER_FMT`, `%.14g`).
pub fn lua_number_text(n: f64) -> String {
    format_g(n, 14)
}
