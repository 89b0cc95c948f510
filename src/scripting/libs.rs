//! The libraries Redis builds into its Lua that Lua 5.1 lacks: `bit` (LuaBitOp's functions) here, `cjson` in
//! `cjson`, `cmsgpack` in `msgpack`, `struct` in `structlib`.

use mlua::{Lua, Variadic};

/// LuaBitOp's `tobit`: a number reduced to a signed 32-bit integer (rounded, then taken modulo 2^32).
fn tobit(n: f64) -> i32 {
    if !n.is_finite() {
        return 0;
    }
    let r = n.round_ties_even();
    (r.rem_euclid(4_294_967_296.0) as u64 as u32) as i32
}

/// Installs `bit` and `cjson` as globals.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let bit = lua.create_table()?;
    bit.raw_set("tobit", lua.create_function(|_, n: f64| Ok(tobit(n)))?)?;
    bit.raw_set("bnot", lua.create_function(|_, n: f64| Ok(!tobit(n)))?)?;
    let fold = |f: fn(i32, i32) -> i32| {
        move |_: &Lua, (first, rest): (f64, Variadic<f64>)| {
            Ok(rest.iter().fold(tobit(first), |acc, &n| f(acc, tobit(n))))
        }
    };
    bit.raw_set("band", lua.create_function(fold(|a, b| a & b))?)?;
    bit.raw_set("bor", lua.create_function(fold(|a, b| a | b))?)?;
    bit.raw_set("bxor", lua.create_function(fold(|a, b| a ^ b))?)?;
    let shift = |f: fn(i32, u32) -> i32| {
        move |_: &Lua, (x, n): (f64, f64)| Ok(f(tobit(x), (tobit(n) & 31) as u32))
    };
    bit.raw_set(
        "lshift",
        lua.create_function(shift(|x, n| ((x as u32) << n) as i32))?,
    )?;
    bit.raw_set(
        "rshift",
        lua.create_function(shift(|x, n| ((x as u32) >> n) as i32))?,
    )?;
    bit.raw_set("arshift", lua.create_function(shift(|x, n| x >> n))?)?;
    bit.raw_set(
        "rol",
        lua.create_function(shift(|x, n| (x as u32).rotate_left(n) as i32))?,
    )?;
    bit.raw_set(
        "ror",
        lua.create_function(shift(|x, n| (x as u32).rotate_right(n) as i32))?,
    )?;
    bit.raw_set(
        "bswap",
        lua.create_function(|_, n: f64| Ok(tobit(n).swap_bytes()))?,
    )?;
    bit.raw_set(
        "tohex",
        lua.create_function(|_, (x, n): (f64, Option<f64>)| Ok(tohex(x, n)))?,
    )?;
    lua.globals().raw_set("bit", bit)?;
    lua.globals().raw_set("cjson", super::cjson::table(lua)?)?;
    lua.globals()
        .raw_set("cmsgpack", super::msgpack::table(lua)?)?;
    lua.globals()
        .raw_set("struct", super::structlib::table(lua)?)?;
    Ok(())
}

/// `bit.tohex(x [, n])`: the low `|n|` hex digits (default 8), upper case when `n` is negative.
fn tohex(x: f64, n: Option<f64>) -> String {
    let n = n.map(tobit).unwrap_or(8);
    let upper = n < 0;
    let digits = n.unsigned_abs().min(8) as usize;
    let value = tobit(x) as u32 as u64;
    let text = if upper {
        format!("{value:08X}")
    } else {
        format!("{value:08x}")
    };
    text[8 - digits..].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tobit_wraps_like_luabitop() {
        assert_eq!(tobit(4_294_967_295.0), -1);
        assert_eq!(tobit(2_147_483_648.0), i32::MIN);
        assert_eq!(tobit(-1.0), -1);
        assert_eq!(tobit(1.5), 2);
        assert_eq!(tohex(255.0, None), "000000ff");
        assert_eq!(tohex(255.0, Some(-2.0)), "FF");
    }
}
