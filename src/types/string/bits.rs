//! Bitmaps: strings read and written bit by bit, as Redis's `bitops.c`. SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP.
//!
//! Bit 0 is the most significant bit of byte 0 (the order SETBIT, BITPOS and BITFIELD share). Offsets are limited
//! by `proto-max-bulk-len` (a string may not grow past it), ranges follow Redis's clamping, and a string grown to
//! reach a high offset is zero-filled in one allocation.

use crate::commands::args::int_arg;
use crate::commands::{Args, Ctx};
use crate::db::{StrEncoding, Value};
use crate::protocol::Reply;

const BAD_OFFSET: &str = "bit offset is not an integer or out of range";

/// Redis's `getBitOffsetFromArgument`: a bit offset, below `proto-max-bulk-len` bytes. With `hash_bits` (BITFIELD),
/// `#N` means the N-th field of that width.
pub(super) fn bit_offset(
    arg: &[u8],
    max_bytes: usize,
    hash_bits: Option<u32>,
) -> Result<u64, Reply> {
    let (digits, scale) = match (arg.first(), hash_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], bits as i64),
        _ => (arg, 1),
    };
    // Redis multiplies in a long long that wraps on overflow (`#2305843009213693952` of u8 is offset 0 there), so
    // the product wraps here too.
    let offset = int_arg(digits)
        .map_err(|_| Reply::err(BAD_OFFSET))?
        .wrapping_mul(scale);
    if offset < 0 || (offset >> 3) as u64 >= max_bytes as u64 {
        return Err(Reply::err(BAD_OFFSET));
    }
    Ok(offset as u64)
}

/// Redis's `lookupStringForBitCommand`: runs `f` on the string at `key`, created or zero-padded (in one
/// allocation) so that bit `max_bit` exists, and tells it whether that already changed the value. The value
/// becomes `raw`, as Redis unshares it before writing. WRONGTYPE for another type.
pub(super) fn with_bits_mut<R>(
    ctx: &mut Ctx,
    key: &[u8],
    max_bit: u64,
    f: impl FnOnce(&mut [u8], bool) -> R,
) -> Result<R, Reply> {
    let len = (max_bit >> 3) as usize + 1;
    let db = ctx.db();
    // Peeked first so that an existing key is looked up (and counted as used) once.
    if ctx.keys.peek(db, key).is_none() {
        let mut bytes = vec![0; len];
        let result = f(&mut bytes, true);
        super::store_raw(ctx, key, bytes);
        return Ok(result);
    }
    let Some(entry) = ctx.keys.get_mut(db, key) else {
        return Err(Reply::wrong_type());
    };
    let Value::Str(s) = &mut entry.value else {
        return Err(Reply::wrong_type());
    };
    entry.str_encoding = StrEncoding::Raw;
    let grown = s.len() < len;
    if grown {
        s.resize(len, 0);
    }
    Ok(f(s, grown))
}

/// The bit at `offset` (0 past the end).
fn bit_at(s: &[u8], offset: u64) -> bool {
    s.get((offset >> 3) as usize)
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

/// SETBIT key offset 0|1: answers the previous bit.
pub fn setbit(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let max = ctx.server.config.proto_max_bulk_len();
    let offset = match bit_offset(args.get(2), max, None) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let on = match int_arg(args.get(3)) {
        Ok(v @ (0 | 1)) => v == 1,
        _ => return Reply::err("bit is not an integer or out of range"),
    };
    let written = with_bits_mut(ctx, key, offset, |s, grown| {
        let old = bit_at(s, offset);
        let byte = &mut s[(offset >> 3) as usize];
        let mask = 0x80u8 >> (offset & 7);
        if on {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
        (old, grown || old != on)
    });
    match written {
        Ok((old, changed)) => {
            if changed {
                ctx.changed(key, '$', "setbit");
            }
            Reply::Int(old as i64)
        }
        Err(e) => e,
    }
}

/// GETBIT key offset
pub fn getbit(ctx: &mut Ctx, args: Args) -> Reply {
    let max = ctx.server.config.proto_max_bulk_len();
    let offset = match bit_offset(args.get(2), max, None) {
        Ok(o) => o,
        Err(e) => return e,
    };
    match ctx.lookup(args.get(1)).map(Value::as_str) {
        None => Reply::Int(0),
        Some(Ok(s)) => Reply::Int(bit_at(s, offset) as i64),
        Some(Err(e)) => e,
    }
}

/// A byte range of a string with the bits outside a BIT range masked off at both ends: what BITCOUNT and BITPOS
/// look at. `first_out`/`last_out` are the masks of the bits of the first/last byte that lie outside the range.
pub(super) struct Span {
    start: i64,
    end: i64,
    first_out: u8,
    last_out: u8,
}

/// Redis's index arithmetic for BITCOUNT and BITPOS: negative indexes count from the end, both ends are clamped,
/// and a BIT range becomes a byte range plus edge masks. `start > end` afterwards means an empty range.
pub(super) fn span(len: i64, start: i64, end: i64, bits: bool) -> Span {
    let total = if bits { len << 3 } else { len };
    let start = if start < 0 { total + start } else { start }.max(0);
    let end = if end < 0 { total + end } else { end }
        .max(0)
        .min(total - 1);
    if bits && start <= end {
        return Span {
            start: start >> 3,
            end: end >> 3,
            first_out: !(0xffu8 >> (start & 7)),
            last_out: ((1u16 << (7 - (end & 7))) - 1) as u8,
        };
    }
    Span {
        start,
        end,
        first_out: 0,
        last_out: 0,
    }
}

/// `BYTE` or `BIT` (any case); anything else is a syntax error.
fn unit_is_bit(arg: &[u8]) -> Result<bool, Reply> {
    if arg.eq_ignore_ascii_case(b"bit") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"byte") {
        Ok(false)
    } else {
        Err(Reply::syntax_error())
    }
}

fn popcount(s: &[u8]) -> u64 {
    let mut chunks = s.chunks_exact(8);
    let mut n: u64 = chunks
        .by_ref()
        .map(|c| {
            u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]).count_ones() as u64
        })
        .sum();
    n += chunks
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>();
    n
}

/// BITCOUNT key [start end [BYTE|BIT]]
pub fn bitcount(ctx: &mut Ctx, args: Args) -> Reply {
    let s = match ctx.lookup(args.get(1)).map(Value::as_str) {
        None => return Reply::Int(0),
        Some(Ok(s)) => s,
        Some(Err(e)) => return e,
    };
    let sp = match args.len() {
        2 => span(s.len() as i64, 0, -1, false),
        4 | 5 => {
            let (start, end) = match (int_arg(args.get(2)), int_arg(args.get(3))) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => return e,
            };
            if start < 0 && end < 0 && start > end {
                return Reply::Int(0);
            }
            let bits = match args.len() {
                5 => match unit_is_bit(args.get(4)) {
                    Ok(b) => b,
                    Err(e) => return e,
                },
                _ => false,
            };
            span(s.len() as i64, start, end, bits)
        }
        _ => return Reply::syntax_error(),
    };
    Reply::Int(count_set_bits(s, &sp))
}

/// The set bits of `s` within `sp`.
pub(super) fn count_set_bits(s: &[u8], sp: &Span) -> i64 {
    if sp.start > sp.end {
        return 0;
    }
    let (start, end) = (sp.start as usize, sp.end as usize);
    let outside = (s[start] & sp.first_out).count_ones() + (s[end] & sp.last_out).count_ones();
    (popcount(&s[start..=end]) - outside as u64) as i64
}

/// Redis's `redisBitpos` over `s[start..=end]`, the bits outside the range (`first_out` of the first byte,
/// `last_out` of the last) set to what is not searched for, so they are never found: the position of the first
/// `bit` from `start`; for a 1 that is absent, -1; for a 0 that is absent, the bit just past the range (the
/// string counts as zero-padded on the right). Reads in place: a range may span the whole 512 MB.
fn first_bit(s: &[u8], sp: &Span, bit: bool) -> i64 {
    let bytes = &s[sp.start as usize..=sp.end as usize];
    let skip = if bit { 0x00 } else { 0xff };
    let hide = |b: u8, mask: u8| if bit { b & !mask } else { b | mask };
    let last = bytes.len() - 1;
    let at = |i: usize| {
        let b = if i == 0 {
            hide(bytes[0], sp.first_out)
        } else {
            bytes[i]
        };
        if i == last {
            hide(b, sp.last_out)
        } else {
            b
        }
    };
    let found = if at(0) != skip {
        Some(0)
    } else if last == 0 {
        None
    } else {
        first_other_than(&bytes[1..last], skip)
            .map(|p| p + 1)
            .or_else(|| (at(last) != skip).then_some(last))
    };
    match found {
        Some(i) => {
            let b = if bit { at(i) } else { !at(i) };
            (i as i64) * 8 + b.leading_zeros() as i64
        }
        None if bit => -1,
        None => bytes.len() as i64 * 8,
    }
}

/// The index of the first byte of `bytes` that is not `skip`, skipping 32 bytes at a time where it can (a BITPOS
/// over a 512 MB string of zeroes reads it at memory speed, as Redis's word loop does).
fn first_other_than(bytes: &[u8], skip: u8) -> Option<usize> {
    let word = u64::from_ne_bytes([skip; 8]);
    let mut chunks = bytes.chunks_exact(32);
    let mut base = 0;
    for c in chunks.by_ref() {
        let w = |i: usize| {
            u64::from_ne_bytes([
                c[i],
                c[i + 1],
                c[i + 2],
                c[i + 3],
                c[i + 4],
                c[i + 5],
                c[i + 6],
                c[i + 7],
            ])
        };
        if (w(0) ^ word) | (w(8) ^ word) | (w(16) ^ word) | (w(24) ^ word) != 0 {
            break;
        }
        base += 32;
    }
    bytes[base..]
        .iter()
        .position(|&b| b != skip)
        .map(|p| p + base)
}

/// BITPOS key bit [start [end [BYTE|BIT]]]
pub fn bitpos(ctx: &mut Ctx, args: Args) -> Reply {
    let bit = match int_arg(args.get(2)) {
        Ok(b @ (0 | 1)) => b == 1,
        Ok(_) => return Reply::err("The bit argument must be 1 or 0."),
        Err(e) => return e,
    };
    let s = match ctx.lookup(args.get(1)).map(Value::as_str) {
        None => return Reply::Int(if bit { -1 } else { 0 }),
        Some(Ok(s)) => s,
        Some(Err(e)) => return e,
    };
    let len = s.len() as i64;
    let (sp, end_given) = match args.len() {
        3 => (span(len, 0, -1, false), false),
        4..=6 => match bitpos_range(args, len) {
            Ok(r) => r,
            Err(e) => return e,
        },
        _ => return Reply::syntax_error(),
    };
    Reply::Int(position(s, &sp, bit, end_given))
}

/// BITPOS's answer for a range: the first `bit` in it, or -1; when looking for a 0 with no explicit end, the bit
/// just past the string if the range has none.
pub(super) fn position(s: &[u8], sp: &Span, bit: bool, end_given: bool) -> i64 {
    if sp.start > sp.end {
        return -1;
    }
    let pos = first_bit(s, sp, bit);
    // With an explicit end, a clear bit past the range is not "in" it.
    if end_given && !bit && pos == (sp.end - sp.start + 1) * 8 {
        return -1;
    }
    if pos == -1 {
        -1
    } else {
        pos + sp.start * 8
    }
}

/// BITPOS's optional `start [end [BYTE|BIT]]`, parsed in Redis's order (the unit before the end).
fn bitpos_range(args: Args, len: i64) -> Result<(Span, bool), Reply> {
    let start = int_arg(args.get(3))?;
    let bits = if args.len() == 6 {
        unit_is_bit(args.get(5))?
    } else {
        false
    };
    let (end, given) = if args.len() >= 5 {
        (int_arg(args.get(4))?, true)
    } else if bits {
        ((len << 3) + 7, false)
    } else {
        (len - 1, false)
    };
    Ok((span(len, start, end, bits), given))
}

#[derive(Clone, Copy)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]: stores the result (as long as the longest source, shorter ones
/// zero-padded) or deletes `destkey` when every source is empty; answers the result's length.
pub fn bitop(ctx: &mut Ctx, args: Args) -> Reply {
    let op = match args.get(1).to_ascii_lowercase().as_slice() {
        b"and" => BitOp::And,
        b"or" => BitOp::Or,
        b"xor" => BitOp::Xor,
        b"not" => BitOp::Not,
        _ => return Reply::syntax_error(),
    };
    if matches!(op, BitOp::Not) && args.len() != 4 {
        return Reply::err("BITOP NOT must be called with a single source key.");
    }
    let mut sources: Vec<&[u8]> = Vec::with_capacity(args.len() - 3);
    for i in 3..args.len() {
        match ctx.lookup(args.get(i)).map(Value::as_str) {
            None => sources.push(&[]),
            Some(Ok(s)) => sources.push(s),
            Some(Err(e)) => return e,
        }
    }
    let result = combine(op, &sources);
    let dest = args.get(2);
    if result.is_empty() {
        if ctx.delete(dest) {
            ctx.changed(dest, 'g', "del");
        }
        return Reply::Int(0);
    }
    let len = result.len();
    super::store_raw(ctx, dest, result);
    ctx.changed(dest, '$', "set");
    Reply::Int(len as i64)
}

/// The byte-wise combination of `sources`, as long as the longest.
fn combine(op: BitOp, sources: &[&[u8]]) -> Vec<u8> {
    let len = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![0u8; len];
    let Some((first, rest)) = sources.split_first() else {
        return out;
    };
    out[..first.len()].copy_from_slice(first);
    for src in rest {
        let padded = src.iter().copied().chain(std::iter::repeat(0));
        match op {
            BitOp::And => out.iter_mut().zip(padded).for_each(|(o, b)| *o &= b),
            BitOp::Or => out.iter_mut().zip(padded).for_each(|(o, b)| *o |= b),
            BitOp::Xor => out.iter_mut().zip(padded).for_each(|(o, b)| *o ^= b),
            BitOp::Not => {}
        }
    }
    if matches!(op, BitOp::Not) {
        out.iter_mut().for_each(|o| *o = !*o);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bit_follows_redis_bitpos() {
        let whole = |s: &[u8], bit| first_bit(s, &span(s.len() as i64, 0, -1, false), bit);
        assert_eq!(whole(&[0x00, 0x10], true), 11);
        assert_eq!(whole(&[0x00, 0x00, 0x00], true), -1);
        assert_eq!(whole(&[0xff, 0xf0], false), 12);
        assert_eq!(whole(&[0xff, 0xff, 0xff], false), 24);
        let edges = span(3, 1, 22, true);
        assert_eq!(first_bit(&[0x80, 0, 0x01], &edges, true), -1);
        assert_eq!(first_bit(&[0x7f, 0xff, 0xfd], &edges, false), 22);
        assert_eq!(first_bit(&[0x7f, 0xff, 0xff], &edges, false), 24);
    }

    #[test]
    fn spans_mask_the_edges_of_bit_ranges() {
        let s = span(2, 3, 9, true);
        assert_eq!(
            (s.start, s.end, s.first_out, s.last_out),
            (0, 1, 0xe0, 0x3f)
        );
        let s = span(2, -1, -1, false);
        assert_eq!((s.start, s.end), (1, 1));
        let s = span(0, 0, -1, true);
        assert!(s.start > s.end);
    }

    #[test]
    fn offsets_obey_the_limit_and_hash_form() {
        assert_eq!(bit_offset(b"7", 1, None).ok(), Some(7));
        assert!(bit_offset(b"8", 1, None).is_err());
        assert!(bit_offset(b"-1", 100, None).is_err());
        assert_eq!(bit_offset(b"#3", 100, Some(8)).ok(), Some(24));
        assert!(bit_offset(b"#3", 100, None).is_err());
        assert!(bit_offset(b"#1152921504606846976", usize::MAX, Some(8)).is_err());
        assert_eq!(
            bit_offset(b"#2305843009213693953", 100, Some(8)).ok(),
            Some(8)
        );
    }
}
