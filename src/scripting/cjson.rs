//! `cjson.encode` / `cjson.decode` with lua-cjson's defaults as Redis ships them: numbers printed with `%.14g`,
//! `/` escaped, an empty table encoded as `{}`, arrays detected by their keys, `null` decoded to `cjson.null`.
//!
//! The Rust side returns `result-or-message, failed`; `glue::raising_function` raises the message at the
//! caller's line, so errors read `user_script:1: Cannot serialise ...` as lua-cjson's `luaL_error` makes them.

use mlua::{LightUserData, Lua, Table, Value};

use super::convert::format_g;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

/// lua-cjson's settings that scripts can change (`cjson.encode_max_depth(n)`, ...): they last for the life of
/// the Lua state, as in Redis.
struct Settings {
    encode_max_depth: AtomicUsize,
    decode_max_depth: AtomicUsize,
    encode_invalid_numbers: AtomicBool,
}

/// One call's copy of the settings.
#[derive(Clone, Copy)]
struct Limits {
    encode_max_depth: usize,
    decode_max_depth: usize,
    invalid_numbers: bool,
}

impl Settings {
    fn limits(&self) -> Limits {
        Limits {
            encode_max_depth: self.encode_max_depth.load(Relaxed),
            decode_max_depth: self.decode_max_depth.load(Relaxed),
            invalid_numbers: self.encode_invalid_numbers.load(Relaxed),
        }
    }
}

fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// The `cjson` table.
pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let settings = Arc::new(Settings {
        encode_max_depth: AtomicUsize::new(1000),
        decode_max_depth: AtomicUsize::new(1000),
        encode_invalid_numbers: AtomicBool::new(false),
    });
    let cjson = lua.create_table()?;
    let s = settings.clone();
    let encode = lua.create_function(move |lua, v: Value| {
        let mut out = Vec::new();
        Ok(match encode_value(&v, 1, &mut out, s.limits()) {
            Ok(()) => (Value::String(lua.create_string(&out)?), false),
            Err(msg) => (Value::String(lua.create_string(msg)?), true),
        })
    })?;
    let s = settings.clone();
    let decode = lua.create_function(move |lua, text: mlua::LuaString| {
        let bytes = text.as_bytes();
        let mut p = Parser {
            lua,
            s: &bytes,
            pos: 0,
            max_depth: s.limits().decode_max_depth,
        };
        Ok(match p.document() {
            Ok(v) => (v, false),
            Err(msg) => (Value::String(lua.create_string(msg)?), true),
        })
    })?;
    settings_functions(lua, &cjson, &settings)?;
    cjson.raw_set("encode", super::glue::raising_function(lua, encode)?)?;
    cjson.raw_set("decode", super::glue::raising_function(lua, decode)?)?;
    cjson.raw_set("null", null())?;
    Ok(cjson)
}

/// `encode_max_depth`, `decode_max_depth`, `encode_invalid_numbers` (each returns the value now in force) and
/// `encode_keep_buffer` (accepted; buffers are not kept here).
fn settings_functions(lua: &Lua, cjson: &Table, settings: &Arc<Settings>) -> mlua::Result<()> {
    for (name, pick) in [("encode_max_depth", 0usize), ("decode_max_depth", 1)] {
        let s = settings.clone();
        let f = lua.create_function(move |_, n: Option<f64>| {
            let cell = if pick == 0 {
                &s.encode_max_depth
            } else {
                &s.decode_max_depth
            };
            if let Some(n) = n.filter(|n| *n >= 1.0) {
                cell.store(n as usize, Relaxed);
            }
            Ok(cell.load(Relaxed))
        })?;
        cjson.raw_set(name, f)?;
    }
    let s = settings.clone();
    let f = lua.create_function(move |_, on: Option<bool>| {
        if let Some(on) = on {
            s.encode_invalid_numbers.store(on, Relaxed);
        }
        Ok(s.encode_invalid_numbers.load(Relaxed))
    })?;
    cjson.raw_set("encode_invalid_numbers", f)?;
    cjson.raw_set(
        "encode_keep_buffer",
        lua.create_function(|_, on: Option<bool>| Ok(on.unwrap_or(true)))?,
    )?;
    Ok(())
}

fn encode_value(v: &Value, depth: usize, out: &mut Vec<u8>, limits: Limits) -> Result<(), String> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(i) => out.extend_from_slice(format_g(*i as f64, 14).as_bytes()),
        Value::Number(n) if !n.is_finite() && !limits.invalid_numbers => {
            return Err("Cannot serialise number: must not be NaN or Inf".into())
        }
        Value::Number(n) => out.extend_from_slice(format_g(*n, 14).as_bytes()),
        Value::String(s) => escape(&s.as_bytes(), out),
        Value::Table(t) => encode_table(t, depth, out, limits)?,
        other => {
            return Err(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            ))
        }
    }
    Ok(())
}

fn encode_table(t: &Table, depth: usize, out: &mut Vec<u8>, limits: Limits) -> Result<(), String> {
    if depth > limits.encode_max_depth {
        return Err(format!("Cannot serialise, excessive nesting ({depth})"));
    }
    let pairs: Vec<(Value, Value)> = t.pairs().filter_map(Result::ok).collect();
    match array_length(&pairs) {
        Some(max) if max > pairs.len() * 2 && max > 10 => {
            Err("Cannot serialise table: excessively sparse array".into())
        }
        Some(max) => {
            out.push(b'[');
            for i in 1..=max {
                if i > 1 {
                    out.push(b',');
                }
                let item: Value = t.raw_get(i).map_err(|e| e.to_string())?;
                encode_value(&item, depth + 1, out, limits)?;
            }
            out.push(b']');
            Ok(())
        }
        None => encode_object(&pairs, depth, out, limits),
    }
}

/// The array length when every key is a positive integer (and there is at least one), else `None`.
fn array_length(pairs: &[(Value, Value)]) -> Option<usize> {
    let mut max = 0usize;
    for (k, _) in pairs {
        let n = match k {
            Value::Integer(i) => *i as f64,
            Value::Number(n) => *n,
            _ => return None,
        };
        if n < 1.0 || n.fract() != 0.0 {
            return None;
        }
        max = max.max(n as usize);
    }
    (max > 0).then_some(max)
}

fn encode_object(
    pairs: &[(Value, Value)],
    depth: usize,
    out: &mut Vec<u8>,
    limits: Limits,
) -> Result<(), String> {
    out.push(b'{');
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match k {
            Value::String(s) => escape(&s.as_bytes(), out),
            Value::Integer(_) | Value::Number(_) => {
                let n = match k {
                    Value::Integer(i) => *i as f64,
                    Value::Number(n) => *n,
                    _ => 0.0,
                };
                out.push(b'"');
                out.extend_from_slice(format_g(n, 14).as_bytes());
                out.push(b'"');
            }
            other => {
                return Err(format!(
                    "Cannot serialise {}: table key must be a number or string",
                    other.type_name()
                ))
            }
        }
        out.push(b':');
        encode_value(v, depth + 1, out, limits)?;
    }
    out.push(b'}');
    Ok(())
}

/// lua-cjson's escapes: quotes, backslash, slash, the short forms, `\u00XX` for other control bytes and DEL.
fn escape(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

struct Parser<'a> {
    lua: &'a Lua,
    s: &'a [u8],
    pos: usize,
    max_depth: usize,
}

impl Parser<'_> {
    fn document(&mut self) -> Result<Value, String> {
        let v = self.value(1)?;
        self.skip_ws();
        if self.pos < self.s.len() {
            return Err(self.unexpected("the end"));
        }
        Ok(v)
    }

    fn skip_ws(&mut self) {
        while self.s.get(self.pos).is_some_and(|b| b" \t\r\n".contains(b)) {
            self.pos += 1;
        }
    }

    fn unexpected(&self, wanted: &str) -> String {
        let found = if self.pos >= self.s.len() {
            "T_END"
        } else {
            "invalid token"
        };
        format!(
            "Expected {wanted} but found {found} at character {}",
            self.pos + 1
        )
    }

    fn lua_err(e: mlua::Error) -> String {
        e.to_string()
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        self.skip_ws();
        let Some(&b) = self.s.get(self.pos) else {
            return Err(self.unexpected("value"));
        };
        match b {
            b'{' | b'[' if depth > self.max_depth => Err(format!(
                "Found too many nested data structures ({depth}) at character {}",
                self.pos + 1
            )),
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => {
                let s = self.string()?;
                Ok(Value::String(
                    self.lua.create_string(s).map_err(Self::lua_err)?,
                ))
            }
            b't' => self.literal(b"true", Value::Boolean(true)),
            b'f' => self.literal(b"false", Value::Boolean(false)),
            b'n' => self.literal(b"null", null()),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(self.unexpected("value")),
        }
    }

    fn literal(&mut self, word: &[u8], v: Value) -> Result<Value, String> {
        if self.s[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.unexpected("value"))
        }
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        while self
            .s
            .get(self.pos)
            .is_some_and(|b| b"+-.eE0123456789".contains(b))
        {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
        match text.parse::<f64>() {
            Ok(n) => Ok(Value::Number(n)),
            Err(_) => {
                self.pos = start;
                Err(self.unexpected("value"))
            }
        }
    }

    fn string(&mut self) -> Result<Vec<u8>, String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&b) = self.s.get(self.pos) else {
                self.pos = start;
                return Err(self.unexpected("value"));
            };
            self.pos += 1;
            match b {
                b'"' => return Ok(out),
                b'\\' => self.escape(&mut out, start)?,
                _ => out.push(b),
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<u8>, start: usize) -> Result<(), String> {
        let b = self.s.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        let c = match b {
            b'"' | b'\\' | b'/' => b as char,
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode().ok_or_else(|| {
                self.pos = start;
                self.unexpected("value")
            })?,
            _ => {
                self.pos = start;
                return Err(self.unexpected("value"));
            }
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.s.get(self.pos..self.pos + 4)?;
        let v = u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()?;
        self.pos += 4;
        Some(v)
    }

    fn unicode(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        if (0xd800..0xdc00).contains(&hi) && self.s.get(self.pos..self.pos + 2) == Some(b"\\u") {
            self.pos += 2;
            let lo = self.hex4()?;
            return char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo.checked_sub(0xdc00)?));
        }
        char::from_u32(hi)
    }

    fn array(&mut self, depth: usize) -> Result<Value, String> {
        self.pos += 1;
        let t = self.lua.create_table().map_err(Self::lua_err)?;
        self.skip_ws();
        if self.s.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Value::Table(t));
        }
        for i in 1.. {
            let v = self.value(depth + 1)?;
            t.raw_set(i, v).map_err(Self::lua_err)?;
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.unexpected("comma or array end")),
            }
        }
        Ok(Value::Table(t))
    }

    fn object(&mut self, depth: usize) -> Result<Value, String> {
        self.pos += 1;
        let t = self.lua.create_table().map_err(Self::lua_err)?;
        self.skip_ws();
        if self.s.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Value::Table(t));
        }
        loop {
            self.skip_ws();
            if self.s.get(self.pos) != Some(&b'"') {
                return Err(self.unexpected("object key string"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.s.get(self.pos) != Some(&b':') {
                return Err(self.unexpected("colon"));
            }
            self.pos += 1;
            let v = self.value(depth + 1)?;
            let key = self.lua.create_string(key).map_err(Self::lua_err)?;
            t.raw_set(key, v).map_err(Self::lua_err)?;
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.unexpected("comma or object end")),
            }
        }
        Ok(Value::Table(t))
    }
}
