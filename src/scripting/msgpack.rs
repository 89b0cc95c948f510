//! `cmsgpack`, as Redis builds lua-cmsgpack 0.4.0 into its Lua: `pack`, `unpack`, `unpack_one`, `unpack_limit`.
//!
//! The encoder follows lua_cmsgpack.c choice for choice (which tables are arrays, floats that fit in a float are
//! written as one, tables deeper than 16 become nil, maps in `next` order), so a script gets the bytes Redis
//! gives it. The Rust side returns `result-or-message, failed`; `glue::raising_function` raises the message as
//! `luaL_error` does. Functions with several results return them packed in a table that a line of Lua unpacks.

use mlua::{Function, Lua, MultiValue, Table, Value};

/// Tables nested deeper than this are encoded as nil (lua-cmsgpack's `LUACMSGPACK_MAX_NESTING`).
const MAX_NESTING: usize = 16;

type Out = mlua::Result<(Value, bool)>;

/// The `cmsgpack` table.
pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let pack = lua.create_function(|lua, args: MultiValue| pack(lua, args))?;
    t.raw_set("pack", super::glue::raising_function(lua, pack)?)?;
    let unpack = lua.create_function(|lua, s: Value| unpack_full(lua, &s, 0, 0))?;
    let unpack_one = lua.create_function(|lua, (s, offset): (Value, Option<Value>)| {
        let offset = opt_int(offset.as_ref());
        unpack_full(lua, &s, 1, offset)
    })?;
    let unpack_limit =
        lua.create_function(|lua, (s, limit, offset): (Value, Value, Option<Value>)| {
            let Some(limit) = number(&limit) else {
                return fail(lua, "bad argument #2 to 'unpack_limit' (number expected)");
            };
            unpack_full(lua, &s, limit as i64, opt_int(offset.as_ref()))
        })?;
    for (name, f) in [
        ("unpack", unpack),
        ("unpack_one", unpack_one),
        ("unpack_limit", unpack_limit),
    ] {
        t.raw_set(name, spread(lua, f)?)?;
    }
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

/// Wraps `f` (which returns its results as a table with `n`) so that Lua gets them as multiple results.
pub fn spread(lua: &Lua, f: Function) -> mlua::Result<Function> {
    super::glue::spreading_function(lua, f)
}

/// Packs results for `spread`.
pub fn results(lua: &Lua, values: Vec<Value>) -> Out {
    let t = lua.create_table_with_capacity(values.len(), 1)?;
    let n = values.len();
    for (i, v) in values.into_iter().enumerate() {
        t.raw_set(i + 1, v)?;
    }
    t.raw_set("n", n)?;
    Ok((Value::Table(t), false))
}

pub fn fail(lua: &Lua, msg: &str) -> Out {
    Ok((Value::String(lua.create_string(msg)?), true))
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => crate::util::numbers::parse_f64(&s.as_bytes()),
        _ => None,
    }
}

fn opt_int(v: Option<&Value>) -> i64 {
    v.and_then(number).map_or(0, |n| n as i64)
}

fn pack(lua: &Lua, args: MultiValue) -> Out {
    if args.is_empty() {
        return fail(
            lua,
            "bad argument #0 to 'pack' (MessagePack pack needs input.)",
        );
    }
    let mut buf = Vec::new();
    for v in args.iter() {
        encode(&mut buf, v, 0)?;
    }
    Ok((Value::String(lua.create_string(&buf)?), false))
}

fn encode(buf: &mut Vec<u8>, v: &Value, level: usize) -> mlua::Result<()> {
    match v {
        Value::String(s) => encode_bytes(buf, &s.as_bytes()),
        Value::Boolean(b) => buf.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_int(buf, *i),
        Value::Number(n) => encode_number(buf, *n),
        Value::Table(_) if level == MAX_NESTING => buf.push(0xc0),
        Value::Table(t) => {
            if is_array(t)? {
                let len = t.raw_len();
                encode_len(buf, len as u64, 0x90, 0xdc, 0xdd);
                for j in 1..=len {
                    encode(buf, &t.get::<Value>(j)?, level + 1)?;
                }
            } else {
                // Two passes, as lua-cmsgpack: holding every pair at once would hold a Lua reference per value.
                let mut count = 0u64;
                for pair in t.pairs::<Value, Value>() {
                    pair?;
                    count += 1;
                }
                encode_len(buf, count, 0x80, 0xde, 0xdf);
                for pair in t.pairs::<Value, Value>() {
                    let (k, v) = pair?;
                    encode(buf, &k, level + 1)?;
                    encode(buf, &v, level + 1)?;
                }
            }
        }
        _ => buf.push(0xc0),
    }
    Ok(())
}

/// lua-cmsgpack's `table_is_an_array`: only keys 1..N (positive integers fitting an `int`), no holes.
fn is_array(t: &Table) -> mlua::Result<bool> {
    let (mut count, mut max) = (0i64, 0i64);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(false),
        };
        if n <= 0.0 || n.is_infinite() || n != (n as i32) as f64 {
            return Ok(false);
        }
        max = max.max(n as i64);
        count += 1;
    }
    Ok(max == count)
}

fn encode_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        buf.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        buf.push(0xda);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(0xdb);
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    }
    buf.extend_from_slice(s);
}

fn encode_len(buf: &mut Vec<u8>, n: u64, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        buf.push(fix | n as u8);
    } else if n <= 0xffff {
        buf.push(b16);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        buf.push(b32);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// A Lua 5.1 number: an integer when `(int64_t)n == n`, else a float if it survives the round trip, else a
/// double.
fn encode_number(buf: &mut Vec<u8>, n: f64) {
    let limit = 9_223_372_036_854_775_808.0; // 2^63
    if n.is_finite() && (-limit..limit).contains(&n) && (n as i64) as f64 == n {
        return encode_int(buf, n as i64);
    }
    let f = n as f32;
    if f64::from(f) == n {
        buf.push(0xca);
        buf.extend_from_slice(&f.to_be_bytes());
    } else {
        buf.push(0xcb);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_int(buf: &mut Vec<u8>, n: i64) {
    match n {
        0..=127 => buf.push(n as u8),
        128..=0xff => buf.extend_from_slice(&[0xcc, n as u8]),
        0x100..=0xffff => {
            buf.push(0xcd);
            buf.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            buf.push(0xce);
            buf.extend_from_slice(&(n as u32).to_be_bytes());
        }
        _ if n > 0 => {
            buf.push(0xcf);
            buf.extend_from_slice(&(n as u64).to_be_bytes());
        }
        -32..=-1 => buf.push(n as i8 as u8),
        -128..=-33 => buf.extend_from_slice(&[0xd0, n as i8 as u8]),
        -32768..=-129 => {
            buf.push(0xd1);
            buf.extend_from_slice(&(n as i16).to_be_bytes());
        }
        -2_147_483_648..=-32769 => {
            buf.push(0xd2);
            buf.extend_from_slice(&(n as i32).to_be_bytes());
        }
        _ => {
            buf.push(0xd3);
            buf.extend_from_slice(&n.to_be_bytes());
        }
    }
}

/// Why decoding stopped (lua-cmsgpack's cursor errors).
enum DecodeError {
    Eof,
    BadFormat,
    Lua(mlua::Error),
}

impl From<mlua::Error> for DecodeError {
    fn from(e: mlua::Error) -> Self {
        DecodeError::Lua(e)
    }
}

/// `mp_unpack_full`: `limit` values from `offset` (0 and 0: every value, without the next offset).
fn unpack_full(lua: &Lua, s: &Value, limit: i64, offset: i64) -> Out {
    let bytes = match s {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Integer(_) | Value::Number(_) => super::engine::lua_text(s).unwrap_or_default(),
        _ => return fail(lua, "bad argument #1 to 'unpack' (string expected)"),
    };
    let len = bytes.len();
    if offset < 0 || limit < 0 {
        return fail(
            lua,
            &format!("Invalid request to unpack with offset of {offset} and limit of {len}."),
        );
    }
    if offset as usize > len {
        return fail(
            lua,
            &format!("Start offset {offset} greater than input length {len}."),
        );
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all {
        i64::from(i32::MAX)
    } else {
        limit
    };
    let mut cur = &bytes[offset as usize..];
    let mut values = Vec::new();
    while !cur.is_empty() && (values.len() as i64) < limit {
        match decode(lua, &mut cur) {
            Ok(v) => values.push(v),
            Err(DecodeError::Eof) => return fail(lua, "Missing bytes in input."),
            Err(DecodeError::BadFormat) => return fail(lua, "Bad data format in input."),
            Err(DecodeError::Lua(e)) => return Err(e),
        }
    }
    if !decode_all {
        let next = if cur.is_empty() {
            -1
        } else {
            (len - cur.len()) as i64
        };
        values.insert(0, Value::Number(next as f64));
    }
    results(lua, values)
}

fn take<'a>(cur: &mut &'a [u8], n: usize) -> Result<&'a [u8], DecodeError> {
    if cur.len() < n {
        return Err(DecodeError::Eof);
    }
    let (head, rest) = cur.split_at(n);
    *cur = rest;
    Ok(head)
}

fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b))
}

fn decode(lua: &Lua, cur: &mut &[u8]) -> Result<Value, DecodeError> {
    let Some(&first) = cur.first() else {
        return Err(DecodeError::Eof);
    };
    let num = |n: f64| Ok(Value::Number(n));
    // The header is consumed together with its payload, as lua-cmsgpack's `mp_cur_need` checks both first.
    let sized = |cur: &mut &[u8], head: usize| -> Result<u64, DecodeError> {
        let h = take(cur, head)?;
        Ok(be(&h[1..]))
    };
    match first {
        0xcc..=0xcf => {
            let width = 1 << (first - 0xcc);
            num(sized(cur, 1 + width)? as f64)
        }
        0xd0 => num(f64::from(take(cur, 2)?[1] as i8)),
        0xd1 => {
            let h = take(cur, 3)?;
            num(f64::from(i16::from_be_bytes([h[1], h[2]])))
        }
        0xd2 => {
            let h = take(cur, 5)?;
            num(f64::from(i32::from_be_bytes([h[1], h[2], h[3], h[4]])))
        }
        0xd3 => num(sized(cur, 9)? as i64 as f64),
        0xc0 => {
            take(cur, 1)?;
            Ok(Value::Nil)
        }
        0xc2 | 0xc3 => {
            take(cur, 1)?;
            Ok(Value::Boolean(first == 0xc3))
        }
        0xca => num(f64::from(f32::from_bits(sized(cur, 5)? as u32))),
        0xcb => num(f64::from_bits(sized(cur, 9)?)),
        0xd9 | 0xda => {
            let head = if first == 0xd9 { 2 } else { 3 };
            let l = be(cur.get(1..head).ok_or(DecodeError::Eof)?) as usize;
            let all = take(cur, head + l)?;
            Ok(Value::String(lua.create_string(&all[head..])?))
        }
        0xdb => {
            let l = sized(cur, 5)? as usize;
            Ok(Value::String(lua.create_string(take(cur, l)?)?))
        }
        0xdc => {
            let l = sized(cur, 3)?;
            decode_array(lua, cur, l)
        }
        0xdd => {
            let l = sized(cur, 5)?;
            decode_array(lua, cur, l)
        }
        0xde => {
            let l = sized(cur, 3)?;
            decode_map(lua, cur, l)
        }
        0xdf => {
            let l = sized(cur, 5)?;
            decode_map(lua, cur, l)
        }
        b if b & 0x80 == 0 => {
            take(cur, 1)?;
            num(f64::from(b))
        }
        b if b & 0xe0 == 0xe0 => {
            take(cur, 1)?;
            num(f64::from(b as i8))
        }
        b if b & 0xe0 == 0xa0 => {
            let l = usize::from(b & 0x1f);
            let all = take(cur, 1 + l)?;
            Ok(Value::String(lua.create_string(&all[1..])?))
        }
        b if b & 0xf0 == 0x90 => {
            take(cur, 1)?;
            decode_array(lua, cur, u64::from(b & 0xf))
        }
        b if b & 0xf0 == 0x80 => {
            take(cur, 1)?;
            decode_map(lua, cur, u64::from(b & 0xf))
        }
        _ => Err(DecodeError::BadFormat),
    }
}

fn decode_array(lua: &Lua, cur: &mut &[u8], len: u64) -> Result<Value, DecodeError> {
    let t = lua.create_table()?;
    for i in 1..=len {
        let v = decode(lua, cur)?;
        t.set(i, v)?;
    }
    Ok(Value::Table(t))
}

fn decode_map(lua: &Lua, cur: &mut &[u8], len: u64) -> Result<Value, DecodeError> {
    let t = lua.create_table()?;
    for _ in 0..len {
        let k = decode(lua, cur)?;
        let v = decode(lua, cur)?;
        if !matches!(k, Value::Nil) {
            t.set(k, v)?;
        }
    }
    Ok(Value::Table(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_take_the_smallest_form() {
        let enc = |n: i64| {
            let mut b = Vec::new();
            encode_int(&mut b, n);
            b
        };
        assert_eq!(enc(5), [5]);
        assert_eq!(enc(200), [0xcc, 200]);
        assert_eq!(enc(-1), [0xff]);
        assert_eq!(enc(-100), [0xd0, 0x9c]);
        assert_eq!(
            enc(-1_099_511_627_776),
            [0xd3, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn numbers_that_fit_a_float_are_floats() {
        let mut b = Vec::new();
        encode_number(&mut b, 0.5);
        assert_eq!(b, [0xca, 0x3f, 0, 0, 0]);
        b.clear();
        encode_number(&mut b, 0.1);
        assert_eq!(b[0], 0xcb);
    }
}
