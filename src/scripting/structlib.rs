//! `struct`, as Redis builds Roberto Ierusalimschy's lua_struct.c into its Lua: `pack`, `unpack`, `size`.
//!
//! Formats as lua_struct.c reads them on x86-64 Linux: `b/B` 1 byte, `h/H` 2, `l/L` and `T` 8, `i/I[n]` n (default
//! 4, at most 32), `f` float, `d` double, `c[n]` n chars (`c0` takes the size from the previous result on unpack,
//! the whole string on pack), `s` zero-terminated string, `x` a pad byte, `<`/`>` endianness, `![n]` alignment,
//! spaces ignored. Errors carry lua_struct.c's texts.

use mlua::{Lua, MultiValue, Table, Value};

use super::msgpack::{fail, results, spread};

type Out = mlua::Result<(Value, bool)>;

const MAXINTSIZE: usize = 32;
/// `MAXALIGN` of lua_struct.c on x86-64: the padding before a double in a struct.
const MAXALIGN: usize = 8;

/// The `struct` table.
pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let pack = lua.create_function(|lua, args: MultiValue| {
        let args: Vec<Value> = args.into_iter().collect();
        wrap(lua, "pack", pack(lua, &args))
    })?;
    t.raw_set("pack", super::glue::raising_function(lua, pack)?)?;
    let unpack = lua.create_function(|lua, args: MultiValue| {
        let args: Vec<Value> = args.into_iter().collect();
        match unpack(lua, &args) {
            Ok(values) => results(lua, values),
            Err(e) => wrap(lua, "unpack", Err(e)),
        }
    })?;
    t.raw_set("unpack", spread(lua, unpack)?)?;
    let size = lua.create_function(|lua, args: MultiValue| {
        let args: Vec<Value> = args.into_iter().collect();
        wrap(lua, "size", size(&args))
    })?;
    t.raw_set("size", super::glue::raising_function(lua, size)?)?;
    Ok(t)
}

/// Why a call failed: `luaL_error`'s plain message, or `luaL_argerror`'s argument and message.
enum Failure {
    Plain(String),
    Arg(usize, String),
}

fn wrap(lua: &Lua, name: &str, r: Result<Value, Failure>) -> Out {
    match r {
        Ok(v) => Ok((v, false)),
        Err(Failure::Plain(m)) => fail(lua, &m),
        Err(Failure::Arg(n, m)) => fail(lua, &format!("bad argument #{n} to '{name}' ({m})")),
    }
}

struct Header {
    little: bool,
    align: usize,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            little: true,
            align: 1,
        }
    }
}

/// A format string, read one option at a time.
struct Format<'f> {
    fmt: &'f [u8],
    pos: usize,
}

impl Format<'_> {
    fn next(&mut self) -> Option<u8> {
        let c = *self.fmt.get(self.pos)?;
        self.pos += 1;
        Some(c)
    }

    fn num(&mut self, default: usize) -> Result<usize, Failure> {
        if !self.fmt.get(self.pos).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: usize = 0;
        while let Some(d) = self.fmt.get(self.pos).filter(|d| d.is_ascii_digit()) {
            let d = usize::from(d - b'0');
            if a > (i32::MAX as usize) / 10 || a * 10 > i32::MAX as usize - d {
                return Err(Failure::Plain("integral size overflow".into()));
            }
            a = a * 10 + d;
            self.pos += 1;
        }
        Ok(a)
    }

    fn size(&mut self, opt: u8) -> Result<usize, Failure> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'x' => 1,
            b'c' => self.num(1)?,
            b'i' | b'I' => {
                let sz = self.num(4)?;
                if sz > MAXINTSIZE {
                    return Err(Failure::Plain(format!(
                        "integral size {sz} is larger than limit of {MAXINTSIZE}"
                    )));
                }
                sz
            }
            _ => 0,
        })
    }

    fn control(&mut self, opt: u8, h: &mut Header) -> Result<(), Failure> {
        match opt {
            b' ' => {}
            b'>' => h.little = false,
            b'<' => h.little = true,
            b'!' => {
                let a = self.num(MAXALIGN)?;
                if a == 0 || a & (a - 1) != 0 {
                    return Err(Failure::Plain(format!("alignment {a} is not a power of 2")));
                }
                h.align = a;
            }
            _ => {
                return Err(Failure::Arg(
                    1,
                    format!("invalid format option '{}'", opt as char),
                ))
            }
        }
        Ok(())
    }
}

fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

fn fmt_arg(args: &[Value]) -> Result<Vec<u8>, Failure> {
    args.first()
        .and_then(super::engine::lua_text)
        .ok_or_else(|| Failure::Arg(1, "string expected".into()))
}

fn num_arg(args: &[Value], i: usize) -> Result<f64, Failure> {
    let n = match args.get(i - 1) {
        Some(Value::Integer(n)) => Some(*n as f64),
        Some(Value::Number(n)) => Some(*n),
        Some(Value::String(s)) => crate::util::numbers::parse_f64(&s.as_bytes()),
        _ => None,
    };
    n.ok_or_else(|| Failure::Arg(i, "number expected".into()))
}

fn pack(lua: &Lua, args: &[Value]) -> Result<Value, Failure> {
    let fmt = fmt_arg(args)?;
    let mut f = Format { fmt: &fmt, pos: 0 };
    let mut h = Header::default();
    let mut arg = 2;
    let mut out: Vec<u8> = Vec::new();
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        let pad = to_align(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = num_arg(args, arg)?;
                arg += 1;
                let value = if n < 0.0 { n as i64 as u64 } else { n as u64 };
                let bytes: Vec<u8> = (0..size)
                    .map(|i| if i < 8 { (value >> (8 * i)) as u8 } else { 0 })
                    .collect();
                extend_ordered(&mut out, &bytes, h.little);
            }
            b'x' => out.push(0),
            b'f' => {
                let v = num_arg(args, arg)? as f32;
                arg += 1;
                extend_ordered(&mut out, &v.to_le_bytes(), h.little);
            }
            b'd' => {
                let v = num_arg(args, arg)?;
                arg += 1;
                extend_ordered(&mut out, &v.to_le_bytes(), h.little);
            }
            b'c' | b's' => {
                let s = args
                    .get(arg - 1)
                    .and_then(super::engine::lua_text)
                    .ok_or_else(|| Failure::Arg(arg, "string expected".into()))?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    return Err(Failure::Arg(arg, "string too short".into()));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => f.control(opt, &mut h)?,
        }
    }
    let s = lua
        .create_string(&out)
        .map_err(|e| Failure::Plain(e.to_string()))?;
    Ok(Value::String(s))
}

/// Appends little-endian `bytes` in the header's byte order.
fn extend_ordered(out: &mut Vec<u8>, bytes: &[u8], little: bool) {
    if little {
        out.extend_from_slice(bytes);
    } else {
        out.extend(bytes.iter().rev());
    }
}

fn unpack(lua: &Lua, args: &[Value]) -> Result<Vec<Value>, Failure> {
    let fmt = fmt_arg(args)?;
    let data = args
        .get(1)
        .and_then(super::engine::lua_text)
        .ok_or_else(|| Failure::Arg(2, "string expected".into()))?;
    let start = match args.get(2) {
        None | Some(Value::Nil) => 1.0,
        Some(_) => num_arg(args, 3)?,
    };
    if start < 1.0 {
        return Err(Failure::Arg(3, "offset must be 1 or greater".into()));
    }
    let ld = data.len();
    let mut pos = start as usize - 1;
    let mut f = Format { fmt: &fmt, pos: 0 };
    let mut h = Header::default();
    let mut out: Vec<Value> = Vec::new();
    let short = || Failure::Arg(2, "data string too short".into());
    let text = |b: &[u8]| -> Result<Value, Failure> {
        lua.create_string(b)
            .map(Value::String)
            .map_err(|e| Failure::Plain(e.to_string()))
    };
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        pos += to_align(pos, &h, opt, size);
        if size > ld || pos > ld - size {
            return Err(short());
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.is_ascii_lowercase();
                out.push(Value::Number(get_integer(
                    &data[pos..pos + size],
                    h.little,
                    signed,
                )));
            }
            b'x' => {}
            b'f' => {
                let v = f32::from_le_bytes(little_endian(&data[pos..pos + 4], h.little));
                out.push(Value::Number(f64::from(v)));
            }
            b'd' => {
                let v = f64::from_le_bytes(little_endian(&data[pos..pos + 8], h.little));
                out.push(Value::Number(v));
            }
            b'c' => {
                if size == 0 {
                    let prev = match out.last() {
                        Some(Value::Number(n)) => Some(*n),
                        Some(Value::String(s)) => crate::util::numbers::parse_f64(&s.as_bytes()),
                        _ => None,
                    };
                    let Some(prev) = prev else {
                        return Err(Failure::Plain("format 'c0' needs a previous size".into()));
                    };
                    out.pop();
                    size = prev as usize;
                    if size > ld || pos > ld - size {
                        return Err(short());
                    }
                }
                out.push(text(&data[pos..pos + size])?);
            }
            b's' => {
                let Some(end) = memchr::memchr(0, &data[pos..]) else {
                    return Err(Failure::Plain("unfinished string in data".into()));
                };
                size = end + 1;
                out.push(text(&data[pos..pos + end])?);
            }
            _ => f.control(opt, &mut h)?,
        }
        pos += size;
    }
    out.push(Value::Number((pos + 1) as f64));
    Ok(out)
}

/// `N` bytes in the header's byte order, as little-endian.
fn little_endian<const N: usize>(bytes: &[u8], little: bool) -> [u8; N] {
    let mut b = [0u8; N];
    b.copy_from_slice(bytes);
    if !little {
        b.reverse();
    }
    b
}

/// lua_struct.c's `getinteger` with a 64-bit `long`: bytes past the eighth shift out.
fn get_integer(bytes: &[u8], little: bool, signed: bool) -> f64 {
    let ordered: Vec<u8> = if little {
        bytes.iter().rev().copied().collect()
    } else {
        bytes.to_vec()
    };
    let l = ordered
        .iter()
        .fold(0u64, |acc, &b| acc.wrapping_shl(8) | u64::from(b));
    if !signed {
        return l as f64;
    }
    let size = bytes.len();
    let shift = (size * 8).wrapping_sub(1);
    let mask = if shift >= 64 { 0 } else { u64::MAX << shift };
    let l = if l & mask != 0 { l | mask } else { l };
    l as i64 as f64
}

fn size(args: &[Value]) -> Result<Value, Failure> {
    let fmt = fmt_arg(args)?;
    let mut f = Format { fmt: &fmt, pos: 0 };
    let mut h = Header::default();
    let mut pos = 0usize;
    while let Some(opt) = f.next() {
        let size = f.size(opt)?;
        pos += to_align(pos, &h, opt, size);
        if opt == b's' {
            return Err(Failure::Arg(1, "option 's' has no fixed size".into()));
        }
        if opt == b'c' && size == 0 {
            return Err(Failure::Arg(1, "option 'c0' has no fixed size".into()));
        }
        if !opt.is_ascii_alphanumeric() {
            f.control(opt, &mut h)?;
        }
        pos += size;
    }
    Ok(Value::Number(pos as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_back_signed_and_unsigned() {
        assert_eq!(get_integer(&[0xff, 0xff], true, true), -1.0);
        assert_eq!(get_integer(&[0xff, 0xff], true, false), 65535.0);
        assert_eq!(get_integer(&[0x01, 0x00], false, false), 256.0);
    }

    #[test]
    fn alignment_pads_to_the_smaller_of_size_and_align() {
        let h = Header {
            little: true,
            align: 4,
        };
        assert_eq!(to_align(1, &h, b'i', 4), 3);
        assert_eq!(to_align(1, &h, b'd', 8), 3);
        assert_eq!(to_align(1, &h, b'c', 8), 0);
    }
}
