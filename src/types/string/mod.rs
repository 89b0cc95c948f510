//! The string type and its commands, as Redis's `t_string.c`.
//!
//! A string is a `Value::Str(StrValue)` (inline up to 16 bytes); integers are kept as their decimal text (Redis's `int` encoding is a
//! memory optimisation that no reply can observe, except OBJECT ENCODING, which [`encoding_of`] answers).
//! - `setget`: GET, SET and every command that is a SET with fixed switches (SETNX, SETEX, PSETEX, GETSET, MSET,
//!   MSETNX), GETEX, GETDEL, MGET.
//! - `numeric`: INCR/DECR/INCRBY/DECRBY (one routine) and INCRBYFLOAT.
//! - `range`: APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE, LCS.
//! - `bits` and `bitfield`: the bitmap commands (Redis's `bitmap` group) on the same strings.

mod bitfield;
mod bits;
#[cfg(test)]
mod bits_props;
mod numeric;
mod range;
mod setget;

use crate::commands::flags::*;
use crate::commands::keyspec::prelude::*;
use crate::commands::Command;
use crate::db::Value;
use crate::db::{Entry, StrEncoding, StrValue};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

/// The encoding Redis would give a string with these contents: `int` for a 64-bit integer in canonical form,
/// `embstr` up to 44 bytes, `raw` beyond.
pub fn encoding_of(s: &[u8]) -> &'static str {
    if s.len() <= 20 && parse_i64(s).is_some() {
        "int"
    } else if s.len() <= 44 {
        "embstr"
    } else {
        "raw"
    }
}

/// Redis's `checkStringLength`: a string may not grow beyond `proto-max-bulk-len`.
fn check_length(max: usize, size: u64, append: u64) -> Result<(), Reply> {
    match size.checked_add(append) {
        Some(total) if total <= max as u64 => Ok(()),
        _ => Err(Reply::err(
            "string exceeds maximum allowed size (proto-max-bulk-len)",
        )),
    }
}

const WRITE_OOM: u32 = WRITE | DENYOOM;

pub const COMMANDS: &[Command] = &[
    Command::new("get", 2, READONLY | FAST, setget::get)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("string", "1.0.0", "Get the value of a key")
        .complexity("O(1)"),
    Command::new("set", -3, WRITE_OOM, setget::set)
        .key_specs(&[ks(
            RW | ACCESS | UPDATE | VARIABLE_FLAGS,
            Index(1),
            Range(0, 1, 0),
        )
        .notes("RW and ACCESS due to the optional `GET` argument")])
        .keys(1, 1, 1)
        .doc("string", "1.0.0", "Set the string value of a key")
        .complexity("O(1)"),
    Command::new("setnx", 3, WRITE_OOM | FAST, setget::setnx)
        .key_specs(&[ks(OW | INSERT, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Set the value of a key, only if the key does not exist",
        )
        .complexity("O(1)"),
    Command::new("setex", 4, WRITE_OOM, setget::setex)
        .key_specs(&[ks(OW | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("string", "2.0.0", "Set the value and expiration of a key")
        .complexity("O(1)"),
    Command::new("psetex", 4, WRITE_OOM, setget::psetex)
        .key_specs(&[ks(OW | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "string",
            "2.6.0",
            "Set the value and expiration in milliseconds of a key",
        )
        .complexity("O(1)"),
    Command::new("getset", 3, WRITE_OOM | FAST, setget::getset)
        .key_specs(&[ks(RW | ACCESS | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Set the string value of a key and return its old value",
        )
        .complexity("O(1)"),
    Command::new("getdel", 2, WRITE | FAST, setget::getdel)
        .key_specs(&[ks(RW | ACCESS | DELETE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "string",
            "6.2.0",
            "Get the value of a key and delete the key",
        )
        .complexity("O(1)"),
    Command::new("getex", -2, WRITE | FAST, setget::getex)
        .key_specs(&[ks(RW | ACCESS | UPDATE, Index(1), Range(0, 1, 0))
            .notes("RW and UPDATE because it changes the TTL")])
        .keys(1, 1, 1)
        .doc(
            "string",
            "6.2.0",
            "Get the value of a key and optionally set its expiration",
        )
        .complexity("O(1)"),
    Command::new("mget", -2, READONLY | FAST, setget::mget)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(-1, 1, 0))])
        .keys(1, -1, 1)
        .doc("string", "1.0.0", "Get the values of all the given keys")
        .complexity("O(N) where N is the number of keys to retrieve."),
    Command::new("mset", -3, WRITE_OOM, setget::mset)
        .key_specs(&[ks(OW | UPDATE, Index(1), Range(-1, 2, 0))])
        .keys(1, -1, 2)
        .doc("string", "1.0.1", "Set multiple keys to multiple values")
        .complexity("O(N) where N is the number of keys to set."),
    Command::new("msetnx", -3, WRITE_OOM, setget::msetnx)
        .key_specs(&[ks(OW | INSERT, Index(1), Range(-1, 2, 0))])
        .keys(1, -1, 2)
        .doc(
            "string",
            "1.0.1",
            "Set multiple keys to multiple values, only if none of the keys exist",
        )
        .complexity("O(N) where N is the number of keys to set."),
    Command::new("incr", 2, WRITE_OOM | FAST, numeric::incr)
        .key_specs(&[ks(RW | ACCESS | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Increment the integer value of a key by one",
        )
        .complexity("O(1)"),
    Command::new("decr", 2, WRITE_OOM | FAST, numeric::decr)
        .key_specs(&[ks(RW | ACCESS | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Decrement the integer value of a key by one",
        )
        .complexity("O(1)"),
    Command::new("incrby", 3, WRITE_OOM | FAST, numeric::incrby)
        .key_specs(&[ks(RW | ACCESS | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Increment the integer value of a key by the given amount",
        )
        .complexity("O(1)"),
    Command::new("decrby", 3, WRITE_OOM | FAST, numeric::decrby)
        .key_specs(&[ks(RW | ACCESS | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Decrement the integer value of a key by the given number",
        )
        .complexity("O(1)"),
    Command::new("incrbyfloat", 3, WRITE_OOM | FAST, numeric::incrbyfloat)
        .key_specs(&[ks(RW | ACCESS | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "string",
            "2.6.0",
            "Increment the float value of a key by the given amount",
        )
        .complexity("O(1)"),
    Command::new("append", 3, WRITE_OOM | FAST, range::append)
        .key_specs(&[ks(RW | INSERT, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("string", "2.0.0", "Append a value to a key")
        .complexity(
            "O(1). The amortized time complexity is O(1) assuming the appended \
             value is small and the already present value is of any size, since the \
             dynamic string library used by Redis will double the free space \
             available on every reallocation.",
        ),
    Command::new("strlen", 2, READONLY | FAST, range::strlen)
        .key_specs(&[ks(RO, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "string",
            "2.2.0",
            "Get the length of the value stored in a key",
        )
        .complexity("O(1)"),
    Command::new("getrange", 4, READONLY, range::getrange)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "string",
            "2.4.0",
            "Get a substring of the string stored at a key",
        )
        .complexity(
            "O(N) where N is the length of the returned string. The complexity is \
             ultimately determined by the returned length, but because creating a \
             substring from an existing string is very cheap, it can be considered \
             O(1) for small strings.",
        ),
    Command::new("substr", 4, READONLY, range::getrange)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "string",
            "1.0.0",
            "Get a substring of the string stored at a key",
        )
        .complexity(
            "O(N) where N is the length of the returned string. The complexity is \
             ultimately determined by the returned length, but because creating a \
             substring from an existing string is very cheap, it can be considered \
             O(1) for small strings.",
        ),
    Command::new("setrange", 4, WRITE_OOM, range::setrange)
        .key_specs(&[ks(RW | UPDATE, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "string",
            "2.2.0",
            "Overwrite part of a string at key starting at the specified offset",
        )
        .complexity(
            "O(1), not counting the time taken to copy the new string in place. \
             Usually, this string is very small so the amortized complexity is \
             O(1). Otherwise, complexity is O(M) with M being the length of the \
             value argument.",
        ),
    Command::new("lcs", -3, READONLY, range::lcs)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(1, 1, 0))])
        .keys(1, 2, 1)
        .doc("string", "7.0.0", "Find longest common substring")
        .complexity("O(N*M) where N and M are the lengths of s1 and s2, respectively"),
];

/// The bitmap group: strings addressed bit by bit.
pub const BITMAP_COMMANDS: &[Command] = &[
    Command::new("setbit", 4, WRITE_OOM, bits::setbit)
        .keys(1, 1, 1)
        .key_specs(&[ks(RW | ACCESS | UPDATE, Index(1), Range(0, 1, 0))])
        .doc(
            "bitmap",
            "2.2.0",
            "Sets or clears the bit at offset in the string value stored at key",
        )
        .complexity("O(1)"),
    Command::new("getbit", 3, READONLY | FAST, bits::getbit)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "bitmap",
            "2.2.0",
            "Returns the bit value at offset in the string value stored at key",
        )
        .complexity("O(1)"),
    Command::new("bitcount", -2, READONLY, bits::bitcount)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("bitmap", "2.6.0", "Count set bits in a string")
        .complexity("O(N)"),
    Command::new("bitpos", -3, READONLY, bits::bitpos)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc("bitmap", "2.8.7", "Find first bit set or clear in a string")
        .complexity("O(N)"),
    Command::new("bitop", -4, WRITE_OOM, bits::bitop)
        .keys(2, -1, 1)
        .key_specs(&[
            ks(OW | UPDATE, Index(2), Range(0, 1, 0)),
            ks(RO | ACCESS, Index(3), Range(-1, 1, 0)),
        ])
        .doc("bitmap", "2.6.0", "Perform bitwise operations between strings")
        .complexity("O(N)"),
    Command::new("bitfield", -2, WRITE_OOM, bitfield::bitfield)
        .keys(1, 1, 1)
        .key_specs(&[ks(RW | ACCESS | UPDATE | VARIABLE_FLAGS, Index(1), Range(0, 1, 0))
        .notes("This command allows both access and modification of the key")])
        .doc(
            "bitmap",
            "3.2.0",
            "Perform arbitrary bitfield integer operations on strings",
        )
        .complexity("O(1) for each subcommand specified"),
    Command::new("bitfield_ro", -2, READONLY | FAST, bitfield::bitfield_ro)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .keys(1, 1, 1)
        .doc(
            "bitmap",
            "6.0.0",
            "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
        )
        .complexity("O(1) for each subcommand specified"),
];

/// Stores `bytes` at `key` (dropping any TTL) as a `raw` string, the encoding Redis gives a string it built
/// itself (BITOP's result, a string SETBIT or PFADD created). The caller signals the change.
pub fn store_raw(ctx: &mut crate::commands::Ctx, key: &[u8], bytes: Vec<u8>) {
    let mut entry = Entry::new(Value::Str(StrValue::from_vec(bytes)));
    entry.str_encoding = StrEncoding::Raw;
    let db = ctx.db();
    ctx.keys.insert_entry(db, key, entry);
}

/// Read-modify-write of the string at `key` (None when missing): `f` returns the new contents, which replace the
/// old ones in place, so the key keeps its TTL (INCR and friends change a value, not the key), stored with the
/// encoding Redis would give the new object. One lookup for an existing key, the common case. The caller reports
/// the change.
fn update_string(
    ctx: &mut crate::commands::Ctx,
    key: &[u8],
    encoding: StrEncoding,
    f: impl FnOnce(Option<&[u8]>) -> Result<Vec<u8>, Reply>,
) -> Result<(), Reply> {
    let db = ctx.db();
    match ctx.keys.get_mut(db, key) {
        Some(entry) => match &mut entry.value {
            Value::Str(s) => {
                *s = StrValue::from_vec(f(Some(s))?);
                entry.str_encoding = encoding;
            }
            _ => return Err(Reply::wrong_type()),
        },
        None => {
            let mut entry = Entry::new(Value::Str(StrValue::from_vec(f(None)?)));
            entry.str_encoding = encoding;
            ctx.keys.insert_entry(db, key, entry);
        }
    }
    Ok(())
}
