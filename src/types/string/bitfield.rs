//! BITFIELD and BITFIELD_RO: signed and unsigned integers of 1 to 64 bits at any bit offset of a string, as
//! Redis's `bitfieldGeneric`. Every operation is parsed and checked before any is run, so an error changes
//! nothing; the string grows once, to the farthest bit any write reaches.

use super::bits::{bit_offset, with_bits_mut};
use crate::commands::args::int_arg;
use crate::commands::{Args, Ctx};
use crate::db::Value;
use crate::protocol::Reply;

const BAD_TYPE: &str =
    "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// What an INCRBY or SET does when the result does not fit.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Get,
    Set,
    IncrBy,
}

#[derive(Clone, Copy)]
struct Op {
    kind: Kind,
    offset: u64,
    bits: u32,
    signed: bool,
    value: i64,
    overflow: Overflow,
}

/// `i1`..`i64` or `u1`..`u63`: (signed, bits).
fn field_type(arg: &[u8]) -> Result<(bool, u32), Reply> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(Reply::err(BAD_TYPE)),
    };
    let limit = if signed { 64 } else { 63 };
    match int_arg(&arg[1..]) {
        Ok(bits) if (1..=limit).contains(&bits) => Ok((signed, bits as u32)),
        _ => Err(Reply::err(BAD_TYPE)),
    }
}

/// Parses every operation, in Redis's order of checks. OVERFLOW applies to the operations after it.
fn parse(args: Args, max_bytes: usize) -> Result<Vec<Op>, Reply> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let (name, left) = (args.get(j), args.len() - j - 1);
        let is = |k: &str| name.eq_ignore_ascii_case(k.as_bytes());
        let kind = if is("get") && left >= 2 {
            Kind::Get
        } else if is("set") && left >= 3 {
            Kind::Set
        } else if is("incrby") && left >= 3 {
            Kind::IncrBy
        } else if is("overflow") && left >= 1 {
            let mode = args.get(j + 1);
            let is = |k: &str| mode.eq_ignore_ascii_case(k.as_bytes());
            overflow = if is("wrap") {
                Overflow::Wrap
            } else if is("sat") {
                Overflow::Sat
            } else if is("fail") {
                Overflow::Fail
            } else {
                return Err(Reply::err("Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(Reply::syntax_error());
        };
        let (signed, bits) = field_type(args.get(j + 1))?;
        let offset = bit_offset(args.get(j + 2), max_bytes, Some(bits))?;
        let value = if kind == Kind::Get {
            0
        } else {
            int_arg(args.get(j + 3))?
        };
        ops.push(Op {
            kind,
            offset,
            bits,
            signed,
            value,
            overflow,
        });
        j += if kind == Kind::Get { 3 } else { 4 };
    }
    Ok(ops)
}

/// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL]
pub fn bitfield(ctx: &mut Ctx, args: Args) -> Reply {
    run(ctx, args, false)
}

/// BITFIELD_RO key [GET type offset ...]
pub fn bitfield_ro(ctx: &mut Ctx, args: Args) -> Reply {
    run(ctx, args, true)
}

fn run(ctx: &mut Ctx, args: Args, read_only: bool) -> Reply {
    let key = args.get(1);
    let ops = match parse(args, ctx.server.config.proto_max_bulk_len()) {
        Ok(ops) => ops,
        Err(e) => return e,
    };
    let highest = ops
        .iter()
        .filter(|op| op.kind != Kind::Get)
        .map(|op| op.offset + op.bits as u64 - 1)
        .max();
    let Some(highest) = highest else {
        // Only reads: a missing key reads as zeroes.
        let s = match ctx.lookup(key).map(Value::as_str) {
            None => &[][..],
            Some(Ok(s)) => s,
            Some(Err(e)) => return e,
        };
        return Reply::Array(ops.iter().map(|op| get_reply(s, op)).collect());
    };
    if read_only {
        return Reply::err("BITFIELD_RO only supports the GET subcommand");
    }
    let done = with_bits_mut(ctx, key, highest, |s, grown| {
        let mut changes = 0;
        let replies = ops
            .iter()
            .map(|op| match op.kind {
                Kind::Get => get_reply(s, op),
                _ => {
                    let (reply, changed) = write(s, op);
                    // Redis counts a write that happened (not refused by FAIL) on a grown or changed string.
                    if (grown || changed) && !matches!(reply, Reply::Nil) {
                        changes += 1;
                    }
                    reply
                }
            })
            .collect();
        (replies, changes)
    });
    match done {
        Ok((replies, changes)) => {
            if changes > 0 {
                ctx.changed(key, '$', "setbit");
            }
            Reply::Array(replies)
        }
        Err(e) => e,
    }
}

fn get_reply(s: &[u8], op: &Op) -> Reply {
    let raw = get_unsigned(s, op.offset, op.bits);
    Reply::Int(if op.signed {
        sign_extend(raw, op.bits)
    } else {
        raw as i64
    })
}

/// Runs one SET or INCRBY: its reply (the old value for SET, the new one for INCRBY, nil when OVERFLOW FAIL
/// refuses) and whether the stored bits changed.
fn write(s: &mut [u8], op: &Op) -> (Reply, bool) {
    let old = get_unsigned(s, op.offset, op.bits);
    let result = if op.signed {
        let old = sign_extend(old, op.bits);
        let (value, incr) = match op.kind {
            Kind::IncrBy => (old, op.value),
            _ => (op.value, 0),
        };
        signed_result(value, incr, op.bits, op.overflow).map(|new| {
            let reply = if op.kind == Kind::IncrBy { new } else { old };
            (reply, new as u64, new != old)
        })
    } else {
        let (value, incr) = match op.kind {
            Kind::IncrBy => (old, op.value),
            _ => (op.value as u64, 0),
        };
        unsigned_result(value, incr, op.bits, op.overflow).map(|new| {
            let reply = if op.kind == Kind::IncrBy { new } else { old };
            (reply as i64, new, new != old)
        })
    };
    match result {
        Some((reply, new, changed)) => {
            set_unsigned(s, op.offset, op.bits, new);
            (Reply::Int(reply), changed)
        }
        None => (Reply::Nil, false),
    }
}

/// `value + incr` as an unsigned field of `bits` bits under `overflow`; None when FAIL refuses. Redis's
/// `checkUnsignedBitfieldOverflow`.
pub fn unsigned_result(value: u64, incr: i64, bits: u32, overflow: Overflow) -> Option<u64> {
    let max = (1u64 << bits) - 1;
    let (max_incr, min_incr) = (
        max.wrapping_sub(value) as i64,
        (value as i64).wrapping_neg(),
    );
    let over = value > max || (incr > 0 && incr > max_incr);
    let under = !over && incr < 0 && incr < min_incr;
    match overflow {
        _ if !over && !under => Some(value.wrapping_add(incr as u64)),
        Overflow::Wrap => Some(value.wrapping_add(incr as u64) & max),
        Overflow::Sat => Some(if over { max } else { 0 }),
        Overflow::Fail => None,
    }
}

/// `value + incr` as a signed field of `bits` bits under `overflow`; None when FAIL refuses. Redis's
/// `checkSignedBitfieldOverflow`, whose 64-bit case is the one that needs care.
pub fn signed_result(value: i64, incr: i64, bits: u32, overflow: Overflow) -> Option<i64> {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let over = value > max
        || (bits != 64 && incr > max_incr)
        || (value >= 0 && incr > 0 && incr > max_incr);
    let under = !over
        && (value < min
            || (bits != 64 && incr < min_incr)
            || (value < 0 && incr < 0 && incr < min_incr));
    match overflow {
        _ if !over && !under => Some(value.wrapping_add(incr)),
        Overflow::Wrap => Some(sign_extend((value as u64).wrapping_add(incr as u64), bits)),
        Overflow::Sat => Some(if over { max } else { min }),
        Overflow::Fail => None,
    }
}

/// The low `bits` bits of `raw` as a two's complement number.
pub fn sign_extend(raw: u64, bits: u32) -> i64 {
    if bits == 64 {
        return raw as i64;
    }
    let shift = 64 - bits;
    ((raw << shift) as i64) >> shift
}

/// `bits` bits from bit `offset`, most significant first; bits past the end of `s` read as 0.
pub fn get_unsigned(s: &[u8], offset: u64, bits: u32) -> u64 {
    (offset..offset + bits as u64).fold(0u64, |v, at| {
        let byte = s.get((at >> 3) as usize).copied().unwrap_or(0);
        (v << 1) | ((byte >> (7 - (at & 7))) & 1) as u64
    })
}

/// Writes the low `bits` bits of `value` at bit `offset`; `s` must be long enough.
pub fn set_unsigned(s: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..bits as u64 {
        let on = (value >> (bits as u64 - 1 - j)) & 1 == 1;
        let at = offset + j;
        let mask = 0x80u8 >> (at & 7);
        let byte = &mut s[(at >> 3) as usize];
        *byte = if on { *byte | mask } else { *byte & !mask };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_rules_match_redis() {
        assert_eq!(unsigned_result(250, 10, 8, Overflow::Wrap), Some(4));
        assert_eq!(unsigned_result(250, 10, 8, Overflow::Sat), Some(255));
        assert_eq!(unsigned_result(5, -10, 8, Overflow::Sat), Some(0));
        assert_eq!(unsigned_result(5, -10, 8, Overflow::Fail), None);
        assert_eq!(unsigned_result(u64::MAX, 0, 8, Overflow::Wrap), Some(255));
        assert_eq!(signed_result(127, 1, 8, Overflow::Wrap), Some(-128));
        assert_eq!(signed_result(-128, -1, 8, Overflow::Sat), Some(-128));
        assert_eq!(
            signed_result(i64::MAX, 1, 64, Overflow::Wrap),
            Some(i64::MIN)
        );
        assert_eq!(
            signed_result(i64::MIN, -1, 64, Overflow::Sat),
            Some(i64::MIN)
        );
        assert_eq!(signed_result(300, 0, 8, Overflow::Wrap), Some(44));
    }

    #[test]
    fn fields_round_trip_across_byte_edges() {
        let mut s = [0u8; 9];
        set_unsigned(&mut s, 5, 64, 0x0123_4567_89ab_cdef);
        assert_eq!(get_unsigned(&s, 5, 64), 0x0123_4567_89ab_cdef);
        assert_eq!(sign_extend(get_unsigned(&[0xf0], 0, 4), 4), -1);
        assert_eq!(get_unsigned(&[0xff], 4, 8), 0xf0);
    }
}
